//! One workload's inbound operations from Prometheus: two instant queries (requests by
//! operation and response code; p95 by operation), sent together at an explicit time.
//!
//! Inbound traffic of a workload is read as Kiali reads it: `reporter="destination"` on
//! `destination_workload`. The server's proxy counts each request that reached the
//! workload once; the client's proxy (`reporter="source"`) also counts requests it failed
//! itself (an injected abort, an open breaker) that never arrived, and counting both
//! reporters would count arrived requests twice.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::client::PrometheusClient;
use super::decode::VectorSample;
use super::error::PrometheusError;
use crate::mesh::operations::{OperationTally, OperationsOutcome, WorkloadRef};
use crate::mesh::traffic::{Protocol, ResponseClass, UNKNOWN};
use crate::source::operations::{
    is_label_name, OperationsError, OperationsFuture, OperationsQuery, OperationsReader,
    OperationsReport,
};

/// Reads operations through a Prometheus client (its timeout and endpoint).
#[derive(Debug, Clone)]
pub struct PrometheusOperations {
    client: PrometheusClient,
}

impl PrometheusOperations {
    pub fn new(client: PrometheusClient) -> Self {
        PrometheusOperations { client }
    }
}

impl OperationsReader for PrometheusOperations {
    fn read(&self, query: OperationsQuery) -> OperationsFuture {
        let client = self.client.clone();
        Box::pin(async move { fetch_operations(&client, query).await })
    }
}

/// The two queries: requests by operation and outcome, and p95 by operation.
pub fn operations_promql(
    workload: &WorkloadRef,
    label: &str,
    window: Duration,
) -> Result<[String; 2], OperationsError> {
    if !is_label_name(label) {
        return Err(OperationsError::BadLabel(label.to_owned()));
    }
    let mut selector = format!(
        "reporter=\"destination\",destination_workload_namespace=\"{}\",destination_workload=\"{}\"",
        escape(&workload.namespace),
        escape(&workload.name)
    );
    if !workload.cluster.is_empty() && workload.cluster != UNKNOWN {
        selector.push_str(&format!(
            ",destination_cluster=\"{}\"",
            escape(&workload.cluster)
        ));
    }
    let window = format!("{}s", window.as_secs().max(1));
    Ok([
        format!(
            "sum by ({label},response_code,grpc_response_status,request_protocol) \
             (rate(istio_requests_total{{{selector}}}[{window}]))"
        ),
        format!(
            "histogram_quantile(0.95, sum by ({label},le) \
             (rate(istio_request_duration_milliseconds_bucket{{{selector}}}[{window}])))"
        ),
    ])
}

/// A PromQL double-quoted string's content: the label values come from the cluster.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

pub async fn fetch_operations(
    client: &PrometheusClient,
    query: OperationsQuery,
) -> Result<OperationsReport, OperationsError> {
    let [requests, latency] = operations_promql(&query.workload, &query.label, query.window)?;
    let time = query.at_unix_s.unwrap_or_else(now_unix_s);
    let failed = |e: PrometheusError| OperationsError::Source(e.to_string());
    let (requests, latency) = tokio::try_join!(
        client.instant_query(&requests, time),
        client.instant_query(&latency, time),
    )
    .map_err(failed)?;
    Ok(OperationsReport {
        outcome: outcome(&query.label, &requests, &latency),
        query,
        taken_at_unix_s: time,
    })
}

/// The table from the two answers. A series without the label, or with it empty, is
/// traffic the mesh did not label.
pub fn outcome(
    label: &str,
    requests: &[VectorSample],
    latency: &[VectorSample],
) -> OperationsOutcome {
    let mut tally = OperationTally::default();
    for sample in requests {
        let get = |name: &str| sample.labels.get(name).map(String::as_str);
        let protocol = Protocol::from_label(get("request_protocol").unwrap_or("http"));
        // Istio always writes a code; one that is not a number is no response Istio knows.
        let code = get("response_code")
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let grpc = get("grpc_response_status").and_then(|s| s.parse().ok());
        let class = ResponseClass::of(protocol, code, grpc);
        tally.add_requests(get(label), class, sample.value);
    }
    for sample in latency {
        if let Some(operation) = sample.labels.get(label) {
            // histogram_quantile answers NaN for an operation without requests.
            tally.set_p95(operation, sample.value);
        }
    }
    tally.finish()
}

fn now_unix_s() -> f64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    // Milliseconds are all the HTTP API keeps.
    (now.as_millis() as f64) / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn workload() -> WorkloadRef {
        WorkloadRef {
            cluster: "Kubernetes".into(),
            namespace: "bookinfo".into(),
            name: "productpage-v1".into(),
        }
    }

    fn sample(pairs: &[(&str, &str)], value: f64) -> VectorSample {
        VectorSample {
            labels: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
            timestamp_s: 0.0,
            value,
        }
    }

    #[test]
    fn the_queries_read_what_the_workloads_own_proxy_reported_by_the_chosen_label() {
        let [requests, latency] =
            operations_promql(&workload(), "my_op", Duration::from_secs(300)).unwrap();
        let selector = "reporter=\"destination\",destination_workload_namespace=\"bookinfo\",\
                        destination_workload=\"productpage-v1\",destination_cluster=\"Kubernetes\"";
        assert!(requests.contains(selector), "{requests}");
        assert!(
            requests.starts_with("sum by (my_op,response_code,"),
            "{requests}"
        );
        assert!(requests.contains("[300s]"), "{requests}");
        assert!(latency.starts_with("histogram_quantile(0.95, sum by (my_op,le)"));
        assert!(latency.contains(selector), "{latency}");
    }

    #[test]
    fn names_from_the_cluster_cannot_break_out_of_the_selector_and_bad_labels_are_refused() {
        let mut odd = workload();
        odd.name = "a\"}or vector(1)".into();
        let [requests, _] = operations_promql(&odd, "op", Duration::from_secs(60)).unwrap();
        assert!(requests.contains("destination_workload=\"a\\\"}or vector(1)\""));
        assert_eq!(
            operations_promql(&workload(), "op\"}", Duration::from_secs(60)),
            Err(OperationsError::BadLabel("op\"}".into()))
        );
    }

    #[test]
    fn unlabelled_series_say_the_mesh_does_not_report_the_label() {
        let requests = [sample(&[("response_code", "200")], 5.0)];
        assert_eq!(
            outcome("request_operation", &requests, &[]),
            OperationsOutcome::NotReported { rps: 5.0 }
        );
        assert_eq!(
            outcome("request_operation", &[], &[]),
            OperationsOutcome::NoTraffic
        );
    }

    #[test]
    fn codes_classify_errors_and_p95_comes_from_prometheus() {
        let op = "request_operation";
        let requests = [
            sample(&[(op, "GET /a"), ("response_code", "200")], 8.0),
            sample(&[(op, "GET /a"), ("response_code", "503")], 2.0),
            sample(&[(op, "GET /a"), ("response_code", "404")], 1.0),
            sample(&[("response_code", "200")], 0.5),
        ];
        let latency = [
            sample(&[(op, "GET /a")], 42.0),
            sample(&[(op, "GET /b")], f64::NAN),
        ];
        let OperationsOutcome::Operations {
            rows,
            unlabelled_rps,
        } = outcome(op, &requests, &latency)
        else {
            panic!("rows expected");
        };
        assert_eq!(unlabelled_rps, 0.5);
        assert_eq!(rows.len(), 1, "GET /b had no requests");
        assert_eq!(rows[0].rps(), 11.0);
        assert_eq!(rows[0].errors.server_5xx, 2.0);
        assert_eq!(rows[0].errors.client_4xx, 1.0);
        assert_eq!(rows[0].p95_ms, Some(42.0));
    }
}
