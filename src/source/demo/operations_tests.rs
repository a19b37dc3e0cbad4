//! The demo's operations: which proxies label them (its Telemetry resources), what the
//! interfaces view reads, and the Telemetry written through the demo's writer.

use super::rule_tests::{apply, mesh_with_window, steps};
use super::*;
use crate::mesh::operations::{OperationsOutcome, WorkloadRef, DEFAULT_OPERATION_LABEL};
use crate::mesh::rules::model::{Abort, Fault, RuleChange, Target};
use crate::mesh::{Reporter, SampleKind};
use crate::source::write::RuleRequest;

fn workload(namespace: &str, name: &str) -> WorkloadRef {
    WorkloadRef {
        cluster: String::new(),
        namespace: namespace.into(),
        name: name.into(),
    }
}

/// The workload's inbound requests per second as its own proxy reported them.
fn inbound_rps(mesh: &DemoMesh, namespace: &str, name: &str) -> f64 {
    mesh.snapshot()
        .samples
        .iter()
        .filter(|s| s.kind == SampleKind::Requests && s.labels.reporter == Reporter::Destination)
        .filter(|s| {
            s.labels.destination.workload == name && s.labels.destination.namespace == namespace
        })
        .map(|s| s.value)
        .sum()
}

fn enable_operations(mesh: &DemoMesh, namespace: &str) -> crate::source::write::Applied {
    let writer = mesh.writer();
    let request = RuleRequest {
        target: Target {
            namespace: namespace.into(),
            service: String::new(),
        },
        versions: Vec::new(),
        change: RuleChange::ReportOperations {
            label: DEFAULT_OPERATION_LABEL.into(),
        },
    };
    let preview = writer.preview(&request).unwrap();
    assert_eq!(preview.objects.len(), 1);
    assert_eq!(preview.objects[0].before, None, "created, not changed");
    writer.apply(&preview).unwrap()
}

#[test]
fn productpage_reports_its_operations_and_they_split_its_traffic() {
    let mesh = mesh_with_window(60);
    let page = workload("bookinfo", "productpage-v1");
    let OperationsOutcome::Operations {
        rows,
        unlabelled_rps,
    } = mesh.inbound_operations(&page, DEFAULT_OPERATION_LABEL)
    else {
        panic!("bookinfo reports operations");
    };
    let names: Vec<&str> = rows.iter().map(|r| r.operation.as_str()).collect();
    for expected in [
        "GET /productpage",
        "GET /api/v1/products",
        "GET /api/v1/products/{id}/reviews",
    ] {
        assert!(names.contains(&expected), "{names:?}");
    }
    assert_eq!(unlabelled_rps, 0.0);
    let sum: f64 = rows.iter().map(|r| r.rps()).sum();
    let total = inbound_rps(&mesh, "bookinfo", "productpage-v1");
    assert!(total > 10.0, "{total}");
    assert!((sum - total).abs() < 1e-9 * total, "{sum} != {total}");
    let busiest = rows
        .iter()
        .max_by(|a, b| a.rps().total_cmp(&b.rps()))
        .unwrap();
    assert_eq!(busiest.operation, "GET /productpage");
    assert!(rows.iter().all(|r| r.p95_ms.is_some_and(|p| p > 0.0)));
}

#[test]
fn another_label_than_the_one_the_proxies_write_is_not_reported() {
    let mesh = mesh_with_window(60);
    let page = workload("bookinfo", "productpage-v1");
    assert!(matches!(
        mesh.inbound_operations(&page, "my_operation"),
        OperationsOutcome::NotReported { rps } if rps > 10.0
    ));
    assert_eq!(
        mesh.inbound_operations(&workload("bookinfo", "nobody"), DEFAULT_OPERATION_LABEL),
        OperationsOutcome::NoTraffic
    );
}

#[test]
fn the_shop_starts_without_operations_and_reports_them_from_the_step_after_the_telemetry_is_applied(
) {
    let mut mesh = mesh_with_window(60);
    let frontend = workload("shop", "frontend-v1");
    assert!(matches!(
        mesh.inbound_operations(&frontend, DEFAULT_OPERATION_LABEL),
        OperationsOutcome::NotReported { rps } if rps > 10.0
    ));
    let metrics = render_metrics(&mesh);
    assert!(!metrics
        .lines()
        .any(|l| l.contains("destination_workload=\"frontend-v1\"")
            && l.contains("request_operation")));
    assert!(metrics
        .lines()
        .any(|l| l.contains("destination_workload=\"productpage-v1\"")
            && l.contains("request_operation")));

    let applied = enable_operations(&mesh, "shop");
    steps(&mut mesh, 1);
    let OperationsOutcome::Operations { rows, .. } =
        mesh.inbound_operations(&frontend, DEFAULT_OPERATION_LABEL)
    else {
        panic!("the shop reports operations once the Telemetry is applied");
    };
    assert!(rows.iter().any(|r| r.operation == "POST /cart/checkout"));
    assert!(render_metrics(&mesh)
        .lines()
        .any(|l| l.contains("destination_workload=\"frontend-v1\"")
            && l.contains("request_operation")));

    mesh.writer().undo(&applied).unwrap();
    steps(&mut mesh, 1);
    assert!(matches!(
        mesh.inbound_operations(&frontend, DEFAULT_OPERATION_LABEL),
        OperationsOutcome::NotReported { .. }
    ));
}

#[test]
fn an_injected_abort_shows_as_errors_of_the_callers_operation() {
    let mut mesh = mesh_with_window(60);
    let ratings_errors = |mesh: &DemoMesh| -> f64 {
        mesh.snapshot()
            .samples
            .iter()
            .filter(|s| s.kind == SampleKind::Requests && s.labels.reporter == Reporter::Source)
            .filter(|s| {
                s.labels
                    .operation
                    .as_ref()
                    .is_some_and(|o| o == "GET /ratings/{id}")
            })
            .filter(|s| s.labels.response_code >= 500)
            .map(|s| s.value)
            .sum()
    };
    let before = ratings_errors(&mesh);
    let abort = RuleChange::Fault(Fault {
        delay: None,
        abort: Some(Abort {
            http_status: 503,
            percent: 50.0,
        }),
        only: None,
    });
    apply(&mesh, "ratings", abort);
    steps(&mut mesh, 30);
    let after = ratings_errors(&mesh);
    assert!(after > before + 1.0, "{before} -> {after}");
}

#[test]
fn a_series_carries_the_operation_when_the_namespace_of_the_proxy_that_reported_it_labels_it() {
    let snapshot = mesh_with_window(60).snapshot();
    let mut seen = [false; 2];
    for sample in &snapshot.samples {
        let labels = &sample.labels;
        if labels.protocol == crate::mesh::Protocol::Tcp {
            continue;
        }
        let proxy = match labels.reporter {
            Reporter::Source => &labels.source.namespace,
            _ => &labels.destination.namespace,
        };
        // The demo's Telemetry resources: every namespace but the shop and istio-system.
        let labelled = proxy != "shop" && proxy != "istio-system";
        assert_eq!(labels.operation.is_some(), labelled, "{labels:?}");
        seen[usize::from(labelled)] = true;
    }
    assert_eq!(seen, [true, true]);
}
