//! The PromQL sent for one refresh: a fixed handful of queries whatever the number of
//! namespaces (Kiali sends six per namespace, one after another).
//!
//! Namespaces are matched with one regular expression per selector: traffic leaving a
//! chosen namespace, `or` traffic entering one from elsewhere. Prometheus's cost follows
//! the series it reads, not the number of queries, so no series is read twice.

use std::time::Duration;

use thiserror::Error;

use crate::mesh::Quantile;

/// What a query's answer measures; the decoder turns each answer into samples of that kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryKind {
    Requests,
    /// p50, p95 and p99 per hop, each series carrying a `quantile` label.
    LatencyQuantiles,
    TcpSentBytes,
    TcpReceivedBytes,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedQuery {
    pub kind: QueryKind,
    pub promql: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PlanOptions {
    /// Namespaces to show; empty means every namespace.
    pub namespaces: Vec<String>,
    /// The rate window, e.g. one minute for `rate(...[60s])`.
    pub window: Duration,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum PlanError {
    #[error(
        "{0:?} is not a Kubernetes namespace name (lower-case letters, digits and '-', at most 63)"
    )]
    BadNamespace(String),
    #[error("the time window must be between 1 second and 1 day, got {0:?}")]
    BadWindow(Duration),
}

/// Labels that identify a hop: who called whom, through which service, how.
const HOP_LABELS: &[&str] = &[
    "reporter",
    "source_cluster",
    "source_workload_namespace",
    "source_workload",
    "source_app",
    "source_version",
    "destination_cluster",
    "destination_workload_namespace",
    "destination_workload",
    "destination_app",
    "destination_version",
    "destination_service",
    "destination_service_name",
    "destination_service_namespace",
    "request_protocol",
    "connection_security_policy",
];

/// Labels that classify the outcome of a request.
const OUTCOME_LABELS: &[&str] = &["response_code", "grpc_response_status", "response_flags"];

const ONE_DAY: Duration = Duration::from_secs(24 * 3600);

/// The queries for one refresh. Their number does not depend on `namespaces`.
pub fn plan(options: &PlanOptions) -> Result<Vec<PlannedQuery>, PlanError> {
    for namespace in &options.namespaces {
        if !is_namespace_name(namespace) {
            return Err(PlanError::BadNamespace(namespace.clone()));
        }
    }
    if options.window < Duration::from_secs(1) || options.window > ONE_DAY {
        return Err(PlanError::BadWindow(options.window));
    }
    let window = format!("{}s", options.window.as_secs());
    let hop = HOP_LABELS.join(",");
    let with_outcome = format!("{hop},{}", OUTCOME_LABELS.join(","));
    let query = |kind, metric: &str, by: &str| PlannedQuery {
        kind,
        promql: rate_sum(metric, by, &window, &options.namespaces, "> 0"),
    };
    Ok(vec![
        query(QueryKind::Requests, "istio_requests_total", &with_outcome),
        PlannedQuery {
            kind: QueryKind::LatencyQuantiles,
            promql: latency_quantiles(&hop, &window, &options.namespaces),
        },
        query(QueryKind::TcpSentBytes, "istio_tcp_sent_bytes_total", &hop),
        query(
            QueryKind::TcpReceivedBytes,
            "istio_tcp_received_bytes_total",
            &hop,
        ),
    ])
}

/// `sum by (...) (rate(metric{...}[window])) > 0`, over the namespaces when some are chosen.
/// p50, p95 and p99 of every hop, computed by Prometheus: three series per hop instead of
/// every bucket (about forty with both reporters), which is what lets a mesh of tens of
/// thousands of edges refresh. Empty buckets stay in: dropping them would change where
/// `histogram_quantile` interpolates.
fn latency_quantiles(hop: &str, window: &str, namespaces: &[String]) -> String {
    let buckets = rate_sum(
        "istio_request_duration_milliseconds_bucket",
        &format!("{hop},le"),
        window,
        namespaces,
        "",
    );
    Quantile::ALL
        .iter()
        .map(|q| {
            let fraction = q.label();
            format!(
                "label_replace(histogram_quantile({fraction}, {buckets}), \"quantile\", \"{fraction}\", \"\", \"\")"
            )
        })
        .collect::<Vec<_>>()
        .join(" or ")
}

fn rate_sum(metric: &str, by: &str, window: &str, namespaces: &[String], filter: &str) -> String {
    let term = |selector: &str| {
        format!("sum by ({by}) (rate({metric}{{{selector}}}[{window}])) {filter}")
            .trim_end()
            .to_owned()
    };
    if namespaces.is_empty() {
        return term("");
    }
    let pattern = namespaces.join("|");
    // Leaving a chosen namespace, or entering one from elsewhere. The two selectors are
    // disjoint so that Prometheus reads each series once: its cost follows the series read.
    format!(
        "({} or {})",
        term(&format!("source_workload_namespace=~\"{pattern}\"")),
        term(&format!(
            "destination_service_namespace=~\"{pattern}\",source_workload_namespace!~\"{pattern}\""
        ))
    )
}

/// RFC 1123 labels, as Kubernetes requires of namespace names; nothing in them needs
/// escaping inside a PromQL string or regular expression.
fn is_namespace_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(namespaces: usize) -> PlanOptions {
        PlanOptions {
            namespaces: (0..namespaces).map(|i| format!("ns-{i}")).collect(),
            window: Duration::from_secs(60),
        }
    }

    #[test]
    fn the_number_of_queries_does_not_grow_with_namespaces() {
        for namespaces in [0, 1, 10, 100] {
            assert_eq!(
                plan(&options(namespaces)).unwrap().len(),
                4,
                "{namespaces} namespaces"
            );
        }
    }

    #[test]
    fn each_query_reads_one_metric_over_the_window() {
        let queries = plan(&options(0)).unwrap();
        let expected = [
            (QueryKind::Requests, "istio_requests_total"),
            (
                QueryKind::LatencyQuantiles,
                "istio_request_duration_milliseconds_bucket",
            ),
            (QueryKind::TcpSentBytes, "istio_tcp_sent_bytes_total"),
            (
                QueryKind::TcpReceivedBytes,
                "istio_tcp_received_bytes_total",
            ),
        ];
        for (query, (kind, metric)) in queries.iter().zip(expected) {
            assert_eq!(query.kind, kind);
            assert!(
                query.promql.contains(&format!("rate({metric}{{}}[60s])")),
                "{}",
                query.promql
            );
        }
        assert!(
            queries[0].promql.starts_with("sum by (reporter,"),
            "{}",
            queries[0].promql
        );
        assert!(queries[0]
            .promql
            .contains("response_code,grpc_response_status,response_flags"));
    }

    #[test]
    fn latency_is_three_percentiles_per_hop_computed_by_prometheus() {
        let latency = &plan(&options(2)).unwrap()[1].promql;
        for fraction in ["0.5", "0.95", "0.99"] {
            assert!(
                latency.contains(&format!("histogram_quantile({fraction}, ")),
                "{latency}"
            );
            assert!(
                latency.contains(&format!("\"quantile\", \"{fraction}\"")),
                "{latency}"
            );
        }
        assert!(
            latency.contains(",le)"),
            "grouped by bucket bound: {latency}"
        );
        assert!(
            !latency.contains("> 0"),
            "empty buckets must stay: {latency}"
        );
        assert!(
            latency.contains("source_workload_namespace=~\"ns-0|ns-1\""),
            "{latency}"
        );
    }
    #[test]
    fn chosen_namespaces_select_traffic_leaving_or_entering_them() {
        let queries = plan(&options(2)).unwrap();
        let requests = &queries[0].promql;
        assert!(
            requests.contains("source_workload_namespace=~\"ns-0|ns-1\""),
            "{requests}"
        );
        assert!(requests.contains(" or "), "{requests}");
        assert!(
            requests.contains(
                "destination_service_namespace=~\"ns-0|ns-1\",source_workload_namespace!~\"ns-0|ns-1\""
            ),
            "entering from elsewhere, so no series is read twice: {requests}"
        );
    }

    #[test]
    fn names_that_could_inject_promql_are_refused() {
        for bad in [
            "",
            "Bookinfo",
            "a\"}",
            "a|b",
            "x.*",
            "-a",
            "a-",
            &"a".repeat(64),
        ] {
            let options = PlanOptions {
                namespaces: vec![bad.to_string()],
                window: Duration::from_secs(60),
            };
            assert_eq!(
                plan(&options),
                Err(PlanError::BadNamespace(bad.to_string())),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn windows_outside_a_second_to_a_day_are_refused() {
        for seconds in [0, 86_401] {
            let options = PlanOptions {
                namespaces: vec![],
                window: Duration::from_secs(seconds),
            };
            assert!(matches!(plan(&options), Err(PlanError::BadWindow(_))));
        }
    }
}
