use std::collections::HashMap;
use std::time::Duration;

use tokio::sync::mpsc;

use super::*;
use crate::mesh::traffic::ResponseClass;
use crate::mesh::traffic::UNKNOWN;
use crate::mesh::{ErrorSplit, Protocol, Reporter, SampleKind, SampleLabels, SecurityPolicy};

const REVIEWS: &str = "reviews.bookinfo.svc.cluster.local";

/// A mesh whose proxies all label operations, as its series are modelled.
fn labelled_everywhere(options: DemoOptions) -> DemoMesh {
    let store = super::telemetry::labelled_everywhere(options.seed, options.start_unix_s);
    DemoMesh::with_store(options, store)
}

fn options(seed: u64) -> DemoOptions {
    DemoOptions {
        seed,
        ..DemoOptions::default()
    }
}

fn stepped(options: DemoOptions, steps: usize) -> DemoMesh {
    let mut mesh = DemoMesh::new(options);
    for _ in 0..steps {
        mesh.step();
    }
    mesh
}

fn requests(snapshot: &MeshSnapshot) -> impl Iterator<Item = (&SampleLabels, f64)> {
    snapshot
        .samples
        .iter()
        .filter(|s| s.kind == SampleKind::Requests)
        .map(|s| (&s.labels, s.value))
}

/// Request rate reported by `reporter` from `source` to `destination` workloads.
fn edge_rate(snapshot: &MeshSnapshot, reporter: Reporter, source: &str, destination: &str) -> f64 {
    requests(snapshot)
        .filter(|(l, _)| {
            l.reporter == reporter
                && l.source.workload == source
                && l.destination.workload == destination
        })
        .map(|(_, rate)| rate)
        .sum()
}

fn errors_to(snapshot: &MeshSnapshot, reporter: Reporter, service_name: &str) -> ErrorSplit {
    let mut split = ErrorSplit::default();
    for (labels, rate) in requests(snapshot) {
        if labels.reporter == reporter && labels.destination_service_name == service_name {
            split.add(
                ResponseClass::of(labels.protocol, labels.response_code, labels.grpc_status),
                rate,
            );
        }
    }
    split
}

#[test]
fn the_same_seed_gives_identical_snapshots_after_many_steps() {
    let a = stepped(options(7), 25).snapshot();
    let b = stepped(options(7), 25).snapshot();
    assert_eq!(a, b);
    assert!(!a.samples.is_empty());
}

#[test]
fn different_seeds_give_different_traffic() {
    let a = stepped(options(7), 5).snapshot();
    let b = stepped(options(8), 5).snapshot();
    assert_ne!(a.samples, b.samples);
}

#[test]
fn simulated_time_starts_at_the_fixed_instant_and_advances_by_one_tick_per_step() {
    let mut mesh = DemoMesh::new(options(1));
    assert_eq!(mesh.snapshot().taken_at_unix_s, DEMO_START_UNIX_S);
    mesh.step();
    let snapshot = mesh.snapshot();
    assert_eq!(snapshot.taken_at_unix_s, DEMO_START_UNIX_S + 2.0);
    assert_eq!(snapshot.window, Duration::from_secs(60));
}

#[test]
fn every_sample_carries_labels_a_real_proxy_would_write() {
    let mut mesh = labelled_everywhere(options(3));
    for _ in 0..10 {
        mesh.step();
    }
    let snapshot = mesh.snapshot();
    let mut buckets: HashMap<&SampleLabels, Vec<(f64, f64)>> = HashMap::new();
    let mut request_rates: HashMap<&SampleLabels, f64> = HashMap::new();
    for sample in &snapshot.samples {
        let labels = &sample.labels;
        assert!(
            sample.value.is_finite() && sample.value >= 0.0,
            "{sample:?}"
        );
        match labels.reporter {
            Reporter::Source => assert_eq!(labels.security, SecurityPolicy::Unknown, "{labels:?}"),
            Reporter::Destination => {
                assert_ne!(labels.security, SecurityPolicy::Unknown, "{labels:?}");
                assert!(!labels.destination.is_unknown(), "{labels:?}");
            }
            Reporter::Waypoint => panic!("the demo has no waypoints: {labels:?}"),
        }
        if labels.source.is_unknown() {
            assert_eq!(labels.reporter, Reporter::Destination, "{labels:?}");
            assert_eq!(labels.security, SecurityPolicy::None, "{labels:?}");
        }
        if ["UO", "FI", "UC"].contains(&labels.response_flags.as_str()) {
            assert_eq!(labels.reporter, Reporter::Source, "{labels:?}");
        }
        match labels.protocol {
            Protocol::Http => assert_eq!(labels.grpc_status, None, "{labels:?}"),
            Protocol::Grpc => assert!(labels.grpc_status.is_some(), "{labels:?}"),
            Protocol::Tcp => assert_eq!(labels.operation, None, "{labels:?}"),
        }
        if labels.protocol != Protocol::Tcp {
            assert!(labels.operation.is_some(), "{labels:?}");
        }
        match sample.kind {
            SampleKind::Requests => {
                request_rates.insert(labels, sample.value);
            }
            SampleKind::DurationBucket { le_ms } => {
                buckets
                    .entry(labels)
                    .or_default()
                    .push((le_ms, sample.value));
            }
            SampleKind::TcpSentBytes | SampleKind::TcpReceivedBytes => {
                assert_eq!(labels.protocol, Protocol::Tcp);
            }
            SampleKind::LatencyQuantile { .. } => panic!("the demo sends buckets, not percentiles"),
        }
    }
    assert!(!request_rates.is_empty());
    for (labels, rate) in &request_rates {
        let series = &buckets[labels];
        assert_eq!(series.len(), 20, "{labels:?}");
        assert!(
            series
                .windows(2)
                .all(|p| p[0].0 < p[1].0 && p[0].1 <= p[1].1),
            "{series:?}"
        );
        let (le, inf) = series[series.len() - 1];
        assert_eq!(le, f64::INFINITY);
        assert!((inf - rate).abs() < 1e-9, "{labels:?}");
    }
}

#[test]
fn bookinfo_edges_exist_with_their_protocols_and_reporters() {
    let snapshot = stepped(options(1), 3).snapshot();
    let edges = [
        (Reporter::Source, "istio-ingressgateway", "productpage-v1"),
        (
            Reporter::Destination,
            "istio-ingressgateway",
            "productpage-v1",
        ),
        (Reporter::Source, "productpage-v1", "details-v1"),
        (Reporter::Source, "productpage-v1", "reviews-v1"),
        (Reporter::Source, "productpage-v1", "reviews-v2"),
        (Reporter::Source, "productpage-v1", "reviews-v3"),
        (Reporter::Source, "reviews-v2", "ratings-v1"),
        (Reporter::Destination, "reviews-v3", "ratings-v1"),
        (Reporter::Destination, UNKNOWN, "productpage-v1"),
    ];
    for (reporter, source, destination) in edges {
        assert!(
            edge_rate(&snapshot, reporter, source, destination) > 0.0,
            "{source} -> {destination}"
        );
    }
    assert_eq!(
        edge_rate(&snapshot, Reporter::Source, UNKNOWN, "productpage-v1"),
        0.0
    );
    assert_eq!(
        edge_rate(&snapshot, Reporter::Source, "reviews-v1", "ratings-v1"),
        0.0
    );
    assert!(requests(&snapshot)
        .filter(|(l, _)| l.destination_service_namespace == "bookinfo")
        .all(|(l, _)| l.protocol == Protocol::Http));
    // The gateway has no version label: empty on its own series, `unknown` to its peer.
    let from_gateway = |reporter: Reporter| {
        requests(&snapshot)
            .find(|(l, _)| l.reporter == reporter && l.source.workload == "istio-ingressgateway")
            .map(|(l, _)| l.source.version.clone())
    };
    assert_eq!(from_gateway(Reporter::Source).as_deref(), Some(""));
    assert_eq!(
        from_gateway(Reporter::Destination).as_deref(),
        Some(UNKNOWN)
    );
}

#[test]
fn fault_injected_aborts_only_show_on_the_client_side() {
    let snapshot = stepped(options(1), 3).snapshot();
    let faults = |reporter: Reporter| -> f64 {
        requests(&snapshot)
            .filter(|(l, _)| l.reporter == reporter && l.response_flags == "FI")
            .map(|(l, rate)| {
                assert_eq!(l.source.workload, "reviews-v3");
                assert_eq!(l.response_code, 500);
                rate
            })
            .sum()
    };
    assert!(faults(Reporter::Source) > 0.0);
    assert_eq!(faults(Reporter::Destination), 0.0);
}

#[test]
fn the_shop_has_grpc_tcp_external_and_passthrough_traffic() {
    let snapshot = stepped(options(1), 3).snapshot();
    let tcp_bytes: Vec<_> = snapshot
        .samples
        .iter()
        .filter(|s| s.kind == SampleKind::TcpSentBytes && s.value > 0.0)
        .map(|s| s.labels.destination_service_name.as_str())
        .collect();
    assert!(tcp_bytes.contains(&"redis-cart") && tcp_bytes.contains(&"postgres"));
    let grpc = requests(&snapshot)
        .filter(|(l, _)| l.protocol == Protocol::Grpc && l.grpc_status == Some(0))
        .count();
    assert!(grpc > 10);
    let external: Vec<_> = requests(&snapshot)
        .filter(|(l, _)| l.destination_service == "api.payments.example.com")
        .collect();
    assert!(!external.is_empty());
    assert!(external
        .iter()
        .all(|(l, _)| l.reporter == Reporter::Source && l.destination.workload == UNKNOWN));
    assert!(requests(&snapshot).any(|(l, _)| l.destination_service_name == "PassthroughCluster"));
    let plain_text = requests(&snapshot)
        .filter(|(l, _)| l.reporter == Reporter::Destination && l.security == SecurityPolicy::None)
        .filter(|(l, _)| !l.source.is_unknown())
        .count();
    assert!(plain_text > 0);
    assert!(
        requests(&snapshot).any(|(l, _)| l.reporter == Reporter::Destination
            && l.source.is_unknown()
            && l.destination.workload == "frontend-v1")
    );
}

#[test]
fn health_varies_from_service_to_service() {
    let snapshot = stepped(options(5), 5).snapshot();
    let details = errors_to(&snapshot, Reporter::Source, "details");
    assert!(details.server_error_pct() > 0.0 && details.server_error_pct() < 10.0);
    assert!(errors_to(&snapshot, Reporter::Destination, "ad").server_error_pct() >= 10.0);
    assert!(errors_to(&snapshot, Reporter::Destination, "shipping").server_error_pct() >= 10.0);
    let frontend = errors_to(&snapshot, Reporter::Destination, "frontend");
    assert!(
        (10.0..20.0).contains(&frontend.client_error_pct()),
        "{frontend:?}"
    );
    assert!(frontend.no_response > 0.0);
    assert!(errors_to(&snapshot, Reporter::Destination, "productpage").error_pct() < 1e-9);
}

#[test]
fn every_http_request_carries_one_of_several_operations() {
    let snapshot = stepped(options(1), 1).snapshot();
    let mut operations: Vec<&str> = requests(&snapshot)
        .filter(|(l, _)| l.destination_service_name == "productpage")
        .filter_map(|(l, _)| l.operation.as_deref())
        .collect();
    operations.sort_unstable();
    operations.dedup();
    assert!(operations.len() >= 3, "{operations:?}");
    assert!(operations.contains(&"GET /productpage"));
}

#[test]
fn rates_stay_positive_and_bounded_over_a_thousand_steps() {
    let mut mesh = DemoMesh::new(options(11));
    let first: f64 = requests(&mesh.snapshot()).map(|(_, r)| r).sum();
    for step in 1..=1000 {
        mesh.step();
        if step % 50 == 0 {
            let snapshot = mesh.snapshot();
            assert!(snapshot
                .samples
                .iter()
                .all(|s| s.value.is_finite() && s.value >= 0.0));
            let total: f64 = requests(&snapshot).map(|(_, r)| r).sum();
            assert!(
                total > first * 0.5 && total < first * 2.0,
                "step {step}: {total} vs {first}"
            );
        }
    }
}

#[test]
fn a_new_split_shows_in_the_traffic_within_two_steps() {
    let mut mesh = DemoMesh::new(DemoOptions {
        window: Duration::from_secs(4),
        ..options(2)
    });
    mesh.set_split(REVIEWS, &[("v1".to_string(), 80), ("v3".to_string(), 20)])
        .unwrap();
    mesh.step();
    mesh.step();
    let snapshot = mesh.snapshot();
    let to = |workload: &str| edge_rate(&snapshot, Reporter::Source, "productpage-v1", workload);
    let total = to("reviews-v1") + to("reviews-v2") + to("reviews-v3");
    assert!((to("reviews-v1") / total - 0.8).abs() < 0.05);
    assert!(to("reviews-v2") / total < 0.01);
    // reviews-v2 no longer calls ratings.
    assert!(edge_rate(&snapshot, Reporter::Source, "reviews-v2", "ratings-v1") < 1e-9);
    let route = mesh
        .routes()
        .iter()
        .find(|r| r.service_host == REVIEWS)
        .unwrap();
    let weights: Vec<u32> = route.backends.iter().map(|b| b.weight).collect();
    assert_eq!(weights, [80, 0, 20]);
}

#[test]
fn a_split_accepts_workload_names_as_well_as_versions() {
    let mut mesh = DemoMesh::new(options(1));
    assert!(mesh
        .set_split(REVIEWS, &[("reviews-v2".to_string(), 1)])
        .is_ok());
}

#[test]
fn a_split_of_an_unknown_service_or_version_is_refused() {
    let mut mesh = DemoMesh::new(options(1));
    let weights = [("v1".to_string(), 100)];
    assert_eq!(
        mesh.set_split("nope.bookinfo.svc.cluster.local", &weights),
        Err(DemoError::UnknownService(
            "nope.bookinfo.svc.cluster.local".into()
        ))
    );
    assert!(matches!(
        mesh.set_split(REVIEWS, &[("v9".to_string(), 100)]),
        Err(DemoError::UnknownBackend { .. })
    ));
    assert!(matches!(
        mesh.set_split(REVIEWS, &[("v1".to_string(), 0)]),
        Err(DemoError::ZeroWeights(_))
    ));
}

#[test]
fn counters_only_grow_and_agree_with_the_window_rates() {
    let mut mesh = labelled_everywhere(options(4));
    let before: HashMap<SampleLabels, SeriesCounters> =
        mesh.counters().map(|(l, c)| (l.clone(), *c)).collect();
    for _ in 0..30 {
        mesh.step();
    }
    let snapshot = mesh.snapshot();
    let rates: HashMap<&SampleLabels, f64> = requests(&snapshot).collect();
    for (labels, now) in mesh.counters() {
        let then = before.get(labels).copied().unwrap_or_default();
        assert!(now.requests >= then.requests);
        assert!(now
            .duration_buckets
            .iter()
            .zip(then.duration_buckets)
            .all(|(n, t)| *n >= t));
        if labels.protocol != Protocol::Tcp {
            let from_counters = (now.requests - then.requests) / 60.0;
            assert!(
                (from_counters - rates[labels]).abs() < 1e-6 * (1.0 + from_counters),
                "{labels:?}"
            );
        }
    }
}

#[test]
fn the_inventory_lists_namespaces_services_and_workloads() {
    let inventory = DemoMesh::new(options(1)).inventory();
    let namespaces: Vec<_> = inventory
        .namespaces
        .iter()
        .map(|n| (n.name.as_str(), n.injection_enabled))
        .collect();
    for expected in [("istio-system", false), ("bookinfo", true), ("shop", true)] {
        assert!(namespaces.contains(&expected), "{namespaces:?}");
    }
    assert!(
        inventory
            .services
            .iter()
            .filter(|s| s.namespace == "shop")
            .count()
            >= 10
    );
    let external = inventory
        .service_by_host("api.payments.example.com")
        .unwrap();
    assert!(external.external);
    let reviews_v2 = inventory
        .workload("Kubernetes", "bookinfo", "reviews-v2")
        .unwrap();
    assert_eq!((reviews_v2.pods_ready, reviews_v2.pods_desired), (1, 2));
    let gateway = inventory
        .workload("Kubernetes", "istio-system", "istio-ingressgateway")
        .unwrap();
    assert!(gateway.gateway.is_some());
    assert!(
        !inventory
            .workload("Kubernetes", "shop", "loadgenerator")
            .unwrap()
            .sidecar_injected
    );
}

#[test]
fn a_synthetic_mesh_of_a_thousand_services_hangs_together() {
    let mesh = DemoMesh::new(DemoOptions {
        services: Some(1000),
        ..options(9)
    });
    let inventory = mesh.inventory();
    assert!(inventory.workloads.len() >= 1000);
    assert!(inventory.namespaces.len() >= 50);
    let snapshot = mesh.snapshot();
    let mut reached: Vec<&str> = snapshot
        .samples
        .iter()
        .filter(|s| s.value > 0.0)
        .map(|s| s.labels.destination.workload.as_str())
        .collect();
    reached.sort_unstable();
    reached.dedup();
    // Everything but the gateway receives traffic.
    assert!(
        reached.len() + 1 >= inventory.workloads.len() * 95 / 100,
        "{} of {}",
        reached.len(),
        inventory.workloads.len()
    );
    let cross_namespace = requests(&snapshot)
        .filter(|(l, _)| {
            l.reporter == Reporter::Source && l.source.namespace != l.destination.namespace
        })
        .count();
    assert!(cross_namespace > 0);
    for protocol in [Protocol::Http, Protocol::Grpc] {
        assert!(requests(&snapshot).any(|(l, _)| l.protocol == protocol));
    }
    assert!(snapshot
        .samples
        .iter()
        .any(|s| s.kind == SampleKind::TcpSentBytes));
}

fn current_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

fn fast_source() -> Box<DemoSource> {
    Box::new(DemoSource::new(DemoOptions {
        tick: Duration::from_millis(5),
        ..options(1)
    }))
}

#[test]
fn the_demo_source_describes_itself_as_the_demo() {
    let description = fast_source().describe();
    assert_eq!(description.label, "DEMO");
    assert!(description.is_demo);
}

#[test]
fn the_demo_source_sends_a_snapshot_at_once_and_stops_when_nobody_listens() {
    current_thread_runtime().block_on(async {
        let (events_tx, mut events) = mpsc::channel(4);
        let (_commands, commands_rx) = mpsc::channel(4);
        let task = tokio::spawn(fast_source().run(events_tx, commands_rx));
        let Some(SourceEvent::Snapshot(first)) = events.recv().await else {
            panic!("the first event is not a snapshot");
        };
        assert_eq!(first.taken_at_unix_s, DEMO_START_UNIX_S);
        let Some(SourceEvent::Snapshot(second)) = events.recv().await else {
            panic!("the second event is not a snapshot");
        };
        assert_eq!(second.taken_at_unix_s, DEMO_START_UNIX_S + 0.005);
        drop(events);
        task.await.unwrap();
    });
}

#[test]
fn a_paused_demo_source_only_answers_refresh_requests() {
    current_thread_runtime().block_on(async {
        let (events_tx, mut events) = mpsc::channel(4);
        let (commands, commands_rx) = mpsc::channel(4);
        commands.send(SourceCommand::SetPaused(true)).await.unwrap();
        let task = tokio::spawn(fast_source().run(events_tx, commands_rx));
        let Some(SourceEvent::Snapshot(first)) = events.recv().await else {
            panic!("the first event is not a snapshot");
        };
        // Let several ticks pass: a paused source must not step.
        tokio::time::sleep(Duration::from_millis(30)).await;
        commands.send(SourceCommand::RefreshNow).await.unwrap();
        let Some(SourceEvent::Snapshot(refreshed)) = events.recv().await else {
            panic!("no snapshot after RefreshNow");
        };
        assert_eq!(refreshed.taken_at_unix_s, first.taken_at_unix_s);
        commands
            .send(SourceCommand::SetPaused(false))
            .await
            .unwrap();
        let Some(SourceEvent::Snapshot(resumed)) = events.recv().await else {
            panic!("no snapshot after resuming");
        };
        assert!(resumed.taken_at_unix_s > first.taken_at_unix_s);
        drop(events);
        task.await.unwrap();
    });
}
