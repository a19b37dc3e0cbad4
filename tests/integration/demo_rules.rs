//! The demo mesh's rule writer through the `RuleWriter` interface, as the app drives it:
//! preview, apply, see the graph's split change in the next snapshots, undo, see it return.

use std::time::Duration;

use meshtui::mesh::rules::model::{RuleChange, Split, Target, Version};
use meshtui::mesh::{build_graph, GraphOptions, GraphType, NodeKey};
use meshtui::source::demo::{DemoOptions, DemoSource};
use meshtui::source::write::{RuleRequest, WriteCommand, WriteError, WriteEvent};
use meshtui::source::{MeshSnapshot, MeshSource, SourceEvent};
use tokio::sync::mpsc;

const VERSIONS: [&str; 3] = ["reviews-v1", "reviews-v2", "reviews-v3"];

/// Each reviews version's share of productpage's calls, as the workload graph shows it.
fn reviews_split(snapshot: &MeshSnapshot) -> [f64; 3] {
    let graph = build_graph(
        &snapshot.samples,
        &snapshot.inventory,
        &GraphOptions::kiali(GraphType::Workload),
    );
    let node = |name: &str| graph.node_index(&NodeKey(format!("wl/Kubernetes/bookinfo/{name}")));
    let rate = |version: &str| -> f64 {
        let (Some(from), Some(to)) = (node("productpage-v1"), node(version)) else {
            return 0.0;
        };
        graph
            .graph
            .find_edge(from, to)
            .and_then(|e| graph.graph.edge_weight(e))
            .map_or(0.0, |e| e.rps())
    };
    let rates = VERSIONS.map(rate);
    let total: f64 = rates.iter().sum();
    rates.map(|r| r / total)
}

/// Reads snapshots until one's split is within `tolerance` of `want`; gives up after a
/// hundred, naming the last split seen.
async fn split_becomes(events: &mut mpsc::Receiver<SourceEvent>, want: [f64; 3], tolerance: f64) {
    let mut last = [0.0; 3];
    for _ in 0..100 {
        match events.recv().await {
            Some(SourceEvent::Snapshot(snapshot)) => {
                last = reviews_split(&snapshot);
                if last
                    .iter()
                    .zip(want)
                    .all(|(got, want)| (got - want).abs() <= tolerance)
                {
                    return;
                }
            }
            Some(SourceEvent::Status(status)) => panic!("the demo failed: {status:?}"),
            None => panic!("the demo stopped"),
        }
    }
    panic!("the split never became {want:?}: last {last:?}");
}

async fn answer(events: &mut mpsc::Receiver<WriteEvent>) -> WriteEvent {
    events.recv().await.expect("the writer answers")
}

fn shift_request() -> RuleRequest {
    RuleRequest {
        target: Target {
            namespace: "bookinfo".into(),
            service: "reviews".into(),
        },
        versions: ["v1", "v2", "v3"]
            .iter()
            .map(|v| Version::new(v, "version"))
            .collect(),
        change: RuleChange::Shift(Split {
            weights: vec![("v1".into(), 80), ("v3".into(), 20)],
        }),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_applied_through_the_demo_writer_changes_the_next_snapshots_and_undo_takes_it_back()
{
    let source = DemoSource::new(DemoOptions {
        seed: 5,
        tick: Duration::from_millis(20),
        // Four steps: the graph soon shows only what the current rules did.
        window: Duration::from_millis(80),
        ..DemoOptions::default()
    });
    let writer = source.writer(false);
    let (snapshots_tx, mut snapshots) = mpsc::channel(4);
    let (_source_commands, source_commands) = mpsc::channel(4);
    tokio::spawn(Box::new(source).run(snapshots_tx, source_commands));
    let (writes_tx, mut writes) = mpsc::channel(4);
    let (commands, commands_rx) = mpsc::channel(4);
    tokio::spawn(writer.run(writes_tx, commands_rx));

    split_becomes(&mut snapshots, [1.0 / 3.0; 3], 0.05).await;
    commands
        .send(WriteCommand::CheckAccess {
            id: 1,
            namespace: "bookinfo".into(),
        })
        .await
        .unwrap();
    assert_eq!(
        answer(&mut writes).await,
        WriteEvent::Access {
            id: 1,
            result: Ok(())
        }
    );

    commands
        .send(WriteCommand::Preview {
            id: 2,
            request: shift_request(),
        })
        .await
        .unwrap();
    let WriteEvent::Previewed {
        id: 2,
        result: Ok(preview),
    } = answer(&mut writes).await
    else {
        panic!("no preview");
    };
    let kinds: Vec<&str> = preview
        .objects
        .iter()
        .filter_map(|o| o.after.as_ref()?["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["VirtualService", "DestinationRule"]);
    assert!(preview.objects.iter().all(|o| o.before.is_none()));

    commands
        .send(WriteCommand::Apply {
            id: 3,
            preview: preview.clone(),
            force: false,
        })
        .await
        .unwrap();
    let WriteEvent::Applied {
        id: 3,
        result: Ok(applied),
    } = answer(&mut writes).await
    else {
        panic!("not applied");
    };
    let stored = applied.objects[0].after.as_ref().unwrap();
    assert_eq!(stored["spec"]["http"][0]["route"][0]["weight"], 80);
    assert!(stored["metadata"]["resourceVersion"].as_str().is_some());
    split_becomes(&mut snapshots, [0.8, 0.0, 0.2], 0.05).await;

    // The preview is stale now: applying it again is refused.
    commands
        .send(WriteCommand::Apply {
            id: 4,
            preview,
            force: false,
        })
        .await
        .unwrap();
    assert!(matches!(
        answer(&mut writes).await,
        WriteEvent::Applied {
            id: 4,
            result: Err(WriteError::Changed { .. })
        }
    ));

    commands
        .send(WriteCommand::Undo { id: 5, applied })
        .await
        .unwrap();
    assert_eq!(
        answer(&mut writes).await,
        WriteEvent::Undone {
            id: 5,
            result: Ok(())
        }
    );
    split_becomes(&mut snapshots, [1.0 / 3.0; 3], 0.05).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_writer_of_a_read_only_session_refuses_to_write() {
    let source = DemoSource::new(DemoOptions::default());
    let writer = source.writer(true);
    let (writes_tx, mut writes) = mpsc::channel(4);
    let (commands, commands_rx) = mpsc::channel(4);
    tokio::spawn(writer.run(writes_tx, commands_rx));
    commands
        .send(WriteCommand::CheckAccess {
            id: 1,
            namespace: "bookinfo".into(),
        })
        .await
        .unwrap();
    assert_eq!(
        answer(&mut writes).await,
        WriteEvent::Access {
            id: 1,
            result: Err(WriteError::ReadOnly)
        }
    );
}
