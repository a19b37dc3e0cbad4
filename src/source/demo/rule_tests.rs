//! The demo's traffic under rules applied through its writer, as the graph shows it.

use std::time::Duration;

use super::*;
use crate::mesh::inventory::IstioKind;
use crate::mesh::rules::model::{
    Abort, Breaker, Canary, CanaryRule, Delay, Fault, RequestMatch, RuleChange, Split, StringMatch,
    Target, Timeouts, Version,
};
use crate::mesh::{build_graph, GraphOptions, GraphType, MeshGraph, NodeKey, Reporter, SampleKind};
use crate::source::demo::model::CLUSTER;
use crate::source::write::{Applied, RuleRequest};

const PRODUCTPAGE: &str = "wl/Kubernetes/bookinfo/productpage-v1";
const REVIEWS_SERVICE: &str = "svc/Kubernetes/bookinfo/reviews";

fn wl(name: &str) -> String {
    format!("wl/Kubernetes/bookinfo/{name}")
}

pub(super) fn mesh_with_window(window_s: u64) -> DemoMesh {
    DemoMesh::new(DemoOptions {
        seed: 3,
        window: Duration::from_secs(window_s),
        ..DemoOptions::default()
    })
}

pub(super) fn versions(names: &[&str]) -> Vec<Version> {
    names.iter().map(|n| Version::new(n, "version")).collect()
}

pub(super) fn request(service: &str, change: RuleChange) -> RuleRequest {
    RuleRequest {
        target: Target {
            namespace: "bookinfo".into(),
            service: service.into(),
        },
        versions: versions(&["v1", "v2", "v3"]),
        change,
    }
}

/// Previews and applies, as a form does.
pub(super) fn apply(mesh: &DemoMesh, service: &str, change: RuleChange) -> Applied {
    let writer = mesh.writer();
    let preview = writer.preview(&request(service, change)).unwrap();
    writer.apply(&preview).unwrap()
}

pub(super) fn steps(mesh: &mut DemoMesh, count: usize) {
    for _ in 0..count {
        mesh.step();
    }
}

fn graph(mesh: &DemoMesh) -> MeshGraph {
    let snapshot = mesh.snapshot();
    build_graph(
        &snapshot.samples,
        &snapshot.inventory,
        &GraphOptions::kiali(GraphType::Workload),
    )
}

fn edge<'g>(graph: &'g MeshGraph, from: &str, to: &str) -> Option<&'g crate::mesh::ServiceEdge> {
    let from = graph.node_index(&NodeKey(from.into()))?;
    let to = graph.node_index(&NodeKey(to.into()))?;
    let index = graph.graph.find_edge(from, to)?;
    graph.graph.edge_weight(index)
}

fn rps(graph: &MeshGraph, from: &str, to: &str) -> f64 {
    edge(graph, from, to).map_or(0.0, |e| e.rps())
}

/// Each reviews version's share of productpage's calls to reviews, as the graph shows them.
fn reviews_split(mesh: &DemoMesh) -> [f64; 3] {
    let graph = graph(mesh);
    let to = ["reviews-v1", "reviews-v2", "reviews-v3"].map(|v| rps(&graph, PRODUCTPAGE, &wl(v)));
    let total: f64 = to.iter().sum();
    to.map(|rate| rate / total)
}

pub(super) fn shift(weights: &[(&str, u32)]) -> RuleChange {
    RuleChange::Shift(Split {
        weights: weights.iter().map(|(v, w)| (v.to_string(), *w)).collect(),
    })
}

#[test]
fn shifting_reviews_to_80_20_splits_its_traffic_80_20_over_the_window() {
    let mut mesh = mesh_with_window(60);
    apply(&mesh, "reviews", shift(&[("v1", 80), ("v3", 20)]));
    steps(&mut mesh, 30);
    let [v1, v2, v3] = reviews_split(&mesh);
    assert!((v1 - 0.8).abs() < 0.03, "v1 {v1}");
    assert!((v3 - 0.2).abs() < 0.03, "v3 {v3}");
    assert_eq!(v2, 0.0);
}

#[test]
fn undoing_a_shift_returns_to_the_prior_split() {
    let mut mesh = mesh_with_window(60);
    let applied = apply(&mesh, "reviews", shift(&[("v1", 80), ("v3", 20)]));
    steps(&mut mesh, 30);
    mesh.writer().undo(&applied).unwrap();
    steps(&mut mesh, 30);
    for share in reviews_split(&mesh) {
        assert!((share - 1.0 / 3.0).abs() < 0.03, "{share}");
    }
}

#[test]
fn a_header_canary_sends_exactly_the_matching_share_to_v2() {
    let mut mesh = mesh_with_window(60);
    let canary = RuleChange::Canary(Canary {
        rules: vec![CanaryRule {
            matcher: RequestMatch::Header {
                name: "end-user".into(),
                how: StringMatch::Exact,
                value: "jason".into(),
            },
            version: "v2".into(),
        }],
        split: Split {
            weights: vec![("v1".into(), 100)],
        },
    });
    apply(&mesh, "reviews", canary);
    steps(&mut mesh, 30);
    let [v1, v2, v3] = reviews_split(&mesh);
    // jason is a tenth of the demo's users (see `requests`).
    assert!((v2 - 0.10).abs() < 1e-6, "v2 {v2}");
    assert!((v1 - 0.90).abs() < 1e-6, "v1 {v1}");
    assert_eq!(v3, 0.0);
}

#[test]
fn aborting_every_request_shows_fi_errors_that_only_the_client_reports() {
    let mut mesh = mesh_with_window(60);
    let fault = RuleChange::Fault(Fault {
        delay: None,
        abort: Some(Abort {
            http_status: 503,
            percent: 100.0,
        }),
        only: None,
    });
    apply(&mesh, "reviews", fault);
    steps(&mut mesh, 30);
    let graph = graph(&mesh);
    // No version answered: the requests end at the service.
    let aborted = edge(&graph, PRODUCTPAGE, REVIEWS_SERVICE).unwrap();
    assert!((aborted.requests.server_error_pct() - 100.0).abs() < 1e-9);
    assert!(aborted.rps() > 15.0, "{}", aborted.rps());
    for version in ["reviews-v1", "reviews-v2", "reviews-v3"] {
        assert_eq!(rps(&graph, PRODUCTPAGE, &wl(version)), 0.0);
    }
    let snapshot = mesh.snapshot();
    let fi: Vec<_> = snapshot
        .samples
        .iter()
        .filter(|s| s.kind == SampleKind::Requests && s.value > 0.0)
        .filter(|s| {
            s.labels.response_flags == "FI" && s.labels.destination_service_name == "reviews"
        })
        .collect();
    assert!(!fi.is_empty());
    assert!(fi
        .iter()
        .all(|s| s.labels.reporter == Reporter::Source && s.labels.response_code == 503));
}

#[test]
fn a_delay_raises_the_median_latency_of_that_edge() {
    let mut mesh = mesh_with_window(60);
    let before = edge(&graph(&mesh), PRODUCTPAGE, &wl("reviews-v1"))
        .and_then(|e| e.latency)
        .unwrap();
    let fault = RuleChange::Fault(Fault {
        delay: Some(Delay {
            fixed: "2s".into(),
            percent: 100.0,
        }),
        abort: None,
        only: None,
    });
    apply(&mesh, "reviews", fault);
    steps(&mut mesh, 30);
    let graph = graph(&mesh);
    let after = edge(&graph, PRODUCTPAGE, &wl("reviews-v1"))
        .and_then(|e| e.latency)
        .unwrap();
    assert!(before.p50_ms < 25.0, "{before:?}");
    // Every request waits 2 s; the histogram's bucket (1 s, 2.5 s] holds them all.
    assert!(after.p50_ms > 1000.0 && after.p50_ms <= 2500.0, "{after:?}");
    // productpage waits for reviews: its callers wait too.
    let page = edge(
        &graph,
        "wl/Kubernetes/istio-system/istio-ingressgateway",
        PRODUCTPAGE,
    )
    .and_then(|e| e.latency)
    .unwrap();
    assert!(page.p50_ms > 1000.0, "{page:?}");
}

#[test]
fn a_timeout_ends_slower_requests_as_504_ut_for_the_client() {
    let mut mesh = mesh_with_window(60);
    let timeouts = RuleChange::Timeouts(Timeouts {
        timeout: Some("10ms".into()),
        ..Timeouts::default()
    });
    apply(&mesh, "reviews", timeouts);
    steps(&mut mesh, 30);
    let graph = graph(&mesh);
    let slow = edge(&graph, PRODUCTPAGE, &wl("reviews-v3")).unwrap();
    let fast = edge(&graph, PRODUCTPAGE, &wl("reviews-v1")).unwrap();
    // reviews-v3 (about 12 ms) mostly misses 10 ms; reviews-v1 (about 6 ms) mostly makes it.
    assert!(
        slow.requests.server_error_pct() > 30.0,
        "{:?}",
        slow.requests
    );
    assert!(fast.requests.server_error_pct() < slow.requests.server_error_pct() / 2.0);
    let snapshot = mesh.snapshot();
    let flagged = |flags: &str| {
        snapshot
            .samples
            .iter()
            .filter(|s| s.kind == SampleKind::Requests && s.value > 0.0)
            .filter(|s| s.labels.response_flags == flags)
            .map(|s| (s.labels.reporter, s.labels.response_code))
            .collect::<Vec<_>>()
    };
    let timed_out = flagged("UT");
    assert!(!timed_out.is_empty());
    assert!(timed_out.iter().all(|&r| r == (Reporter::Source, 504)));
    // The server saw its client hang up.
    assert!(flagged("DC").contains(&(Reporter::Destination, 0)));
}

#[test]
fn retries_are_attempts_the_server_counts_and_the_client_does_not() {
    let mut mesh = mesh_with_window(60);
    let retries = RuleChange::Timeouts(Timeouts {
        attempts: Some(3),
        retry_on: vec!["5xx".into()],
        ..Timeouts::default()
    });
    apply(&mesh, "details", retries);
    steps(&mut mesh, 30);
    let snapshot = mesh.snapshot();
    let rate = |reporter: Reporter, failed: bool| -> f64 {
        snapshot
            .samples
            .iter()
            .filter(|s| s.kind == SampleKind::Requests && s.labels.reporter == reporter)
            .filter(|s| s.labels.destination_service_name == "details")
            .filter(|s| !failed || s.labels.response_code == 503)
            .map(|s| s.value)
            .sum()
    };
    let client = rate(Reporter::Source, false);
    let server = rate(Reporter::Destination, false);
    // details fails 4 % of calls: each is tried again, and the server sees each try.
    assert!(
        server > client * 1.02 && server < client * 1.08,
        "{server} vs {client}"
    );
    assert!(rate(Reporter::Source, true) < client * 1e-4);
    assert!(rate(Reporter::Destination, true) > client * 0.02);
}

#[test]
fn a_full_connection_pool_rejects_requests_as_uo_on_the_client_only() {
    let mut mesh = mesh_with_window(60);
    // ratings now answers in 3 s: reviews v2 and v3 hold their connections that long.
    let slow_ratings = RuleChange::Fault(Fault {
        delay: Some(Delay {
            fixed: "3s".into(),
            percent: 100.0,
        }),
        abort: None,
        only: None,
    });
    apply(&mesh, "ratings", slow_ratings);
    let pool = RuleChange::Breaker(Breaker {
        max_connections: Some(1),
        max_pending_requests: Some(1),
        ..Breaker::default()
    });
    apply(&mesh, "reviews", pool);
    steps(&mut mesh, 30);
    let graph = graph(&mesh);
    let rejected = edge(&graph, PRODUCTPAGE, REVIEWS_SERVICE).unwrap();
    let answered: f64 = ["reviews-v1", "reviews-v2", "reviews-v3"]
        .iter()
        .map(|v| rps(&graph, PRODUCTPAGE, &wl(v)))
        .sum();
    assert!((rejected.requests.server_error_pct() - 100.0).abs() < 1e-9);
    assert!(
        rejected.rps() > answered,
        "{} rejected, {answered} answered",
        rejected.rps()
    );
    let snapshot = mesh.snapshot();
    let overflowed: Vec<_> = snapshot
        .samples
        .iter()
        .filter(|s| s.kind == SampleKind::Requests && s.labels.response_flags == "UO")
        .collect();
    assert!(!overflowed.is_empty());
    assert!(overflowed
        .iter()
        .all(|s| s.labels.reporter == Reporter::Source));
}

#[test]
fn outlier_detection_ejects_a_failing_version_and_takes_it_back_after_the_ejection_time() {
    // A short window: the graph shows the last two steps.
    let mut mesh = mesh_with_window(4);
    let breaker = RuleChange::Breaker(Breaker {
        consecutive_5xx_errors: Some(5),
        interval: Some("10s".into()),
        base_ejection_time: Some("30s".into()),
        max_ejection_percent: Some(100),
        ..Breaker::default()
    });
    apply(&mesh, "reviews", breaker);
    // reviews-v3 mostly misses a 10 ms timeout, the others mostly make it.
    let timeouts = apply(
        &mesh,
        "reviews",
        RuleChange::Timeouts(Timeouts {
            timeout: Some("10ms".into()),
            ..Timeouts::default()
        }),
    );
    let v3 = |mesh: &DemoMesh| rps(&graph(mesh), PRODUCTPAGE, &wl("reviews-v3"));
    let v1 = |mesh: &DemoMesh| rps(&graph(mesh), PRODUCTPAGE, &wl("reviews-v1"));
    let v1_before = v1(&mesh);
    let mut ejected_after = None;
    for step in 1..=10 {
        mesh.step();
        if v3(&mesh) == 0.0 {
            ejected_after = Some(step);
            break;
        }
    }
    let ejected_after = ejected_after.expect("reviews-v3 is ejected within 20 s");
    // Its third of the traffic went to the other two.
    assert!(v1(&mesh) > 1.3 * v1_before, "{} vs {v1_before}", v1(&mesh));
    // It no longer fails; it still stays out for the ejection time.
    mesh.writer().undo(&timeouts).unwrap();
    steps(&mut mesh, 12);
    assert_eq!(v3(&mesh), 0.0, "ejected at step {ejected_after}");
    steps(&mut mesh, 10);
    let [_, _, v3_share] = reviews_split(&mesh);
    assert!((v3_share - 1.0 / 3.0).abs() < 0.05, "{v3_share}");
}

#[test]
fn a_fault_spares_clients_without_a_proxy_and_the_ingress_gateway() {
    let mut mesh = mesh_with_window(60);
    let fault = RuleChange::Fault(Fault {
        delay: None,
        abort: Some(Abort {
            http_status: 500,
            percent: 100.0,
        }),
        only: None,
    });
    apply(&mesh, "productpage", fault);
    steps(&mut mesh, 30);
    let graph = graph(&mesh);
    // The outside client has no proxy to inject faults; the gateway ignores the mesh's
    // VirtualService.
    let outside = edge(&graph, "unknown", &wl("productpage-v1")).unwrap();
    assert_eq!(outside.requests.server_error_pct(), 0.0);
    let gateway = "wl/Kubernetes/istio-system/istio-ingressgateway";
    assert_eq!(
        edge(&graph, gateway, &wl("productpage-v1"))
            .unwrap()
            .requests
            .server_error_pct(),
        0.0
    );
}

#[test]
fn the_same_seed_and_the_same_writes_give_identical_snapshots() {
    let run = || {
        let mut mesh = mesh_with_window(60);
        apply(&mesh, "reviews", shift(&[("v1", 50), ("v2", 50)]));
        steps(&mut mesh, 7);
        apply(
            &mesh,
            "reviews",
            RuleChange::Timeouts(Timeouts {
                timeout: Some("8ms".into()),
                attempts: Some(2),
                retry_on: vec!["5xx".into()],
                ..Timeouts::default()
            }),
        );
        steps(&mut mesh, 9);
        mesh.snapshot()
    };
    assert_eq!(run(), run());
}

#[test]
fn window_rates_agree_with_the_counters_across_a_rule_change() {
    let options = DemoOptions {
        seed: 3,
        window: Duration::from_secs(60),
        ..DemoOptions::default()
    };
    let store = super::telemetry::labelled_everywhere(options.seed, options.start_unix_s);
    let mut mesh = DemoMesh::with_store(options, store);
    steps(&mut mesh, 30);
    let before: std::collections::HashMap<_, _> = mesh
        .counters()
        .map(|(l, c)| (l.clone(), c.requests))
        .collect();
    apply(&mesh, "reviews", shift(&[("v1", 90), ("v3", 10)]));
    steps(&mut mesh, 10);
    apply(
        &mesh,
        "reviews",
        RuleChange::Fault(Fault {
            delay: None,
            abort: Some(Abort {
                http_status: 503,
                percent: 25.0,
            }),
            only: None,
        }),
    );
    steps(&mut mesh, 20);
    let snapshot = mesh.snapshot();
    let rates: std::collections::HashMap<_, _> = snapshot
        .samples
        .iter()
        .filter(|s| s.kind == SampleKind::Requests)
        .map(|s| (&s.labels, s.value))
        .collect();
    for (labels, now) in mesh.counters() {
        if labels.protocol == crate::mesh::Protocol::Tcp {
            continue;
        }
        let then = before.get(labels).copied().unwrap_or(0.0);
        let from_counters = (now.requests - then) / 60.0;
        let rate = rates.get(labels).copied().unwrap_or(0.0);
        assert!(
            (from_counters - rate).abs() < 1e-6 * (1.0 + rate),
            "{labels:?}: {from_counters} vs {rate}"
        );
    }
}

#[test]
fn undoing_a_reset_makes_again_what_it_deleted() {
    let mut mesh = mesh_with_window(60);
    let shifted = apply(&mesh, "reviews", shift(&[("v1", 80), ("v3", 20)]));
    let reset = apply(&mesh, "reviews", RuleChange::Reset);
    let store = mesh.writer().store().clone();
    assert!(store.lock().list("VirtualService").is_empty());
    mesh.writer().undo(&reset).unwrap();
    let virtual_services = store.lock().list("VirtualService");
    let before = shifted.objects[0].after.as_ref().unwrap();
    assert_eq!(virtual_services.len(), 1);
    assert_eq!(virtual_services[0]["spec"], before["spec"]);
    assert_ne!(
        virtual_services[0]["metadata"]["uid"],
        before["metadata"]["uid"]
    );
    steps(&mut mesh, 30);
    let [v1, _, v3] = reviews_split(&mesh);
    assert!(
        (v1 - 0.8).abs() < 0.03 && (v3 - 0.2).abs() < 0.03,
        "{v1} {v3}"
    );
}

#[test]
fn the_inventory_lists_the_rules_applied_with_their_spec_and_forgets_them_on_undo() {
    let mut mesh = mesh_with_window(60);
    assert!(mesh.snapshot().inventory.istio_config.is_empty());
    let applied = apply(&mesh, "reviews", shift(&[("v1", 80), ("v3", 20)]));
    mesh.step();
    let inventory = mesh.snapshot().inventory;
    let kinds: Vec<_> = inventory
        .istio_config
        .iter()
        .map(|c| (c.kind, c.name.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            (IstioKind::VirtualService, "reviews"),
            (IstioKind::DestinationRule, "reviews")
        ]
    );
    let reviews = inventory.service(CLUSTER, "bookinfo", "reviews").unwrap();
    assert_eq!(inventory.routing_config_of(reviews).count(), 2);
    let spec = inventory.istio_config[0].spec.as_deref().unwrap();
    assert_eq!(
        spec.pointer("/http/0/route/0/weight"),
        Some(&serde_json::json!(80))
    );
    mesh.writer().undo(&applied).unwrap();
    mesh.step();
    assert!(mesh.snapshot().inventory.istio_config.is_empty());
}

#[test]
fn the_inventory_has_endpoints_for_every_pod_behind_a_service() {
    let inventory = mesh_with_window(60).snapshot().inventory;
    let reviews = inventory.service(CLUSTER, "bookinfo", "reviews").unwrap();
    let pods = inventory
        .pods
        .iter()
        .filter(|p| p.app.as_deref() == Some("reviews"));
    let endpoints: Vec<_> = inventory.endpoints_of(reviews).collect();
    assert_eq!(endpoints.len(), pods.clone().count());
    for pod in pods {
        let endpoint = endpoints
            .iter()
            .find(|e| e.pod.as_deref() == Some(pod.name.as_str()))
            .unwrap();
        assert_eq!(endpoint.ready, pod.ready, "{}", pod.name);
        assert_eq!(endpoint.addresses, [pod.ip.clone().unwrap()]);
    }
    assert_eq!(inventory.workloads_of(reviews).count(), 3);
}
