//! The Telemetry that makes a namespace's proxies label operations, written through the
//! real `kube::Client` against the emulator as the interfaces view's one key asks: preview
//! (nothing stored), server-side apply as `meshtui`, undo deleting it.

use serde_json::json;
use tokio::sync::mpsc;

use meshtui::mesh::operations::DEFAULT_OPERATION_LABEL;
use meshtui::mesh::rules::model::{RuleChange, Target};
use meshtui::source::kube::KubeWriter;
use meshtui::source::write::{RuleRequest, RuleWriter, WriteCommand, WriteEvent};

use crate::support::kube_emulator::{bookinfo_objects, KubeEmulator};

fn report_operations(namespace: &str) -> RuleRequest {
    RuleRequest {
        target: Target {
            namespace: namespace.into(),
            service: String::new(),
        },
        versions: Vec::new(),
        change: RuleChange::ReportOperations {
            label: DEFAULT_OPERATION_LABEL.into(),
        },
    }
}

#[tokio::test]
async fn enabling_operations_applies_a_telemetry_as_meshtui_and_undo_deletes_it() {
    let emulator = KubeEmulator::with_objects(bookinfo_objects()).await;
    let (commands, receiver) = mpsc::channel(4);
    let (sender, mut events) = mpsc::channel(4);
    tokio::spawn(Box::new(KubeWriter::new(emulator.client())).run(sender, receiver));
    let stored = || {
        emulator.object(
            "telemetry.istio.io/v1",
            "Telemetry",
            "bookinfo",
            "meshtui-request-operation",
        )
    };

    let version = emulator.resource_version();
    commands
        .send(WriteCommand::Preview {
            id: 1,
            request: report_operations("bookinfo"),
        })
        .await
        .unwrap();
    let Some(WriteEvent::Previewed { id: 1, result }) = events.recv().await else {
        panic!("a preview answer");
    };
    let preview = result.unwrap();
    assert_eq!(
        emulator.resource_version(),
        version,
        "a preview stores nothing"
    );
    assert_eq!(stored(), None);
    assert_eq!(preview.objects.len(), 1);
    assert_eq!(preview.objects[0].before, None);
    let after = preview.objects[0].after.as_ref().unwrap();
    assert_eq!(after["kind"], "Telemetry");

    commands
        .send(WriteCommand::Apply {
            id: 2,
            preview,
            force: false,
        })
        .await
        .unwrap();
    let Some(WriteEvent::Applied { id: 2, result }) = events.recv().await else {
        panic!("an apply answer");
    };
    let applied = result.unwrap();
    let object = stored().expect("the Telemetry is stored");
    assert_eq!(object["apiVersion"], "telemetry.istio.io/v1");
    assert_eq!(
        object["metadata"]["labels"],
        json!({"app.kubernetes.io/managed-by": "meshtui"})
    );
    let expression = "request.method + \" \" + request.url_path";
    assert_eq!(
        object["spec"],
        json!({"metrics": [{
            "providers": [{"name": "prometheus"}],
            "overrides": [
                {"match": {"metric": "REQUEST_COUNT", "mode": "CLIENT_AND_SERVER"},
                 "tagOverrides": {"request_operation": {"operation": "UPSERT", "value": expression}}},
                {"match": {"metric": "REQUEST_DURATION", "mode": "CLIENT_AND_SERVER"},
                 "tagOverrides": {"request_operation": {"operation": "UPSERT", "value": expression}}},
            ],
        }]})
    );
    let managers: Vec<&str> = object["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["manager"].as_str().unwrap())
        .collect();
    assert_eq!(managers, ["meshtui"]);

    commands
        .send(WriteCommand::Undo { id: 3, applied })
        .await
        .unwrap();
    let Some(WriteEvent::Undone { id: 3, result }) = events.recv().await else {
        panic!("an undo answer");
    };
    result.unwrap();
    assert_eq!(stored(), None, "undo deletes what the apply created");
}

#[tokio::test]
async fn a_namespace_that_has_its_own_namespace_wide_telemetry_is_not_given_a_second() {
    let mut objects = bookinfo_objects();
    objects.push(json!({
        "apiVersion": "telemetry.istio.io/v1", "kind": "Telemetry",
        "metadata": {"name": "namespace-logging", "namespace": "bookinfo"},
        "spec": {"accessLogging": [{"providers": [{"name": "envoy"}]}]},
    }));
    let emulator = KubeEmulator::with_objects(objects).await;
    let (commands, receiver) = mpsc::channel(4);
    let (sender, mut events) = mpsc::channel(4);
    tokio::spawn(Box::new(KubeWriter::new(emulator.client())).run(sender, receiver));
    let version = emulator.resource_version();
    commands
        .send(WriteCommand::Preview {
            id: 1,
            request: report_operations("bookinfo"),
        })
        .await
        .unwrap();
    let Some(WriteEvent::Previewed { id: 1, result }) = events.recv().await else {
        panic!("a preview answer");
    };
    let why = result.expect_err("refused").to_string();
    assert!(
        why.contains("namespace-logging") && why.contains("only one per namespace"),
        "{why}"
    );
    assert_eq!(emulator.resource_version(), version, "nothing is written");
}
