//! The interfaces view's numbers through a real Prometheus, backfilled with the
//! `request_operation` fixture: they equal the ground truth the fixture's generator
//! computed from the counters it wrote (tests/fixtures/prometheus/ORIGIN.md).

use std::process::Command;
use std::time::Duration;

use meshtui::app::interfaces::{InterfacesState, InterfacesStatus};
use meshtui::mesh::operations::{OperationsOutcome, WorkloadRef};
use meshtui::source::operations::{OperationsQuery, OperationsReader};
use meshtui::source::prometheus::{PrometheusClient, PrometheusOperations, PrometheusSettings};
use serde_json::Value;

use crate::support::prometheus::{RealPrometheus, FIXTURE_END_UNIX_S};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/prometheus/bookinfo-operations.om.gz"
);
const EXPECTED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/prometheus/bookinfo-operations.expected.json"
);

fn openmetrics() -> String {
    let out = Command::new("gzip")
        .arg("-dc")
        .arg(FIXTURE)
        .output()
        .expect("run gzip");
    assert!(out.status.success(), "gzip -dc {FIXTURE} failed");
    String::from_utf8(out.stdout).expect("the fixture is UTF-8")
}

fn query(name: &str) -> OperationsQuery {
    OperationsQuery {
        workload: WorkloadRef {
            cluster: "Kubernetes".into(),
            namespace: "bookinfo".into(),
            name: name.into(),
        },
        label: "request_operation".into(),
        window: Duration::from_secs(300),
        at_unix_s: Some(FIXTURE_END_UNIX_S),
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * (1.0 + b.abs())
}

#[tokio::test]
async fn the_interface_table_equals_the_fixtures_ground_truth_through_a_real_prometheus() {
    let prometheus = RealPrometheus::start_with_openmetrics(&openmetrics());
    let settings = PrometheusSettings::new(prometheus.url().parse().unwrap());
    let reader = PrometheusOperations::new(PrometheusClient::new(&settings, None).unwrap());
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(EXPECTED).unwrap()).unwrap();
    assert_eq!(expected["eval_time"].as_f64(), Some(FIXTURE_END_UNIX_S));

    // The table as the view shows it, from the reader's report.
    let report = reader.read(query("productpage-v1")).await.unwrap();
    let (mut view, _) = InterfacesState::open(
        report.query.workload.clone(),
        "request_operation",
        Duration::from_secs(300),
        Some(FIXTURE_END_UNIX_S),
    );
    let asked = report.query.clone();
    view.on_report(&asked, Ok(report));
    assert_eq!(
        view.status,
        InterfacesStatus::Ready {
            unlabelled_rps: 0.0
        }
    );
    let truth = expected["operations"].as_object().unwrap();
    let rows = view.visible_rows();
    assert_eq!(rows.len(), truth.len(), "{rows:?}");
    for row in rows {
        let want = &truth[&row.operation];
        let number = |key: &str| want[key].as_f64().unwrap();
        assert!(
            close(row.rps, number("rps")),
            "{}: rps {}",
            row.operation,
            row.rps
        );
        assert!(
            close(row.client_error_pct, number("error_4xx_pct")),
            "{}: 4xx {}",
            row.operation,
            row.client_error_pct
        );
        assert!(
            close(row.server_error_pct, number("error_5xx_pct")),
            "{}: 5xx {}",
            row.operation,
            row.server_error_pct
        );
        let p95 = row.p95_ms.expect("a p95");
        assert!(close(p95, number("p95_ms")), "{}: p95 {p95}", row.operation);
    }
    // The gateway's own report of an injected abort is not productpage's inbound traffic.
    assert!(view.rows.iter().all(|r| r.server_error_pct < 10.0));

    // details-v1 has requests, none with the label.
    let details = reader.read(query("details-v1")).await.unwrap();
    let want = expected["not_reported"]["rps"].as_f64().unwrap();
    match details.outcome {
        OperationsOutcome::NotReported { rps } => assert!(close(rps, want), "{rps}"),
        other => panic!("details-v1 does not report operations: {other:?}"),
    }
    // And a workload without requests is no traffic, not "not reported".
    let nobody = reader.read(query("ratings-v1")).await.unwrap();
    assert_eq!(nobody.outcome, OperationsOutcome::NoTraffic);
}
