//! A workload's inbound traffic by operation (method and path, or gRPC method): rates,
//! errors by class and p95, and whether the mesh reports operations at all.

use std::collections::BTreeMap;

use super::traffic::{histogram_quantile, ErrorSplit, Reporter, ResponseClass, SampleKind};
use super::TrafficSample;

/// The label Istio's metrics carry the operation in when a Telemetry resource adds it.
pub const DEFAULT_OPERATION_LABEL: &str = "request_operation";

/// The workload whose operations are asked for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WorkloadRef {
    /// Empty when the mesh has one cluster and does not say which.
    pub cluster: String,
    pub namespace: String,
    pub name: String,
}

impl std::fmt::Display for WorkloadRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// One operation's numbers over the window.
#[derive(Debug, Clone, PartialEq)]
pub struct OperationStats {
    pub operation: String,
    /// Requests per second by response class; `errors.total` is the request rate.
    pub errors: ErrorSplit,
    /// The 95th percentile of the request duration, when the histogram had requests.
    pub p95_ms: Option<f64>,
}

impl OperationStats {
    pub fn rps(&self) -> f64 {
        self.errors.total
    }
}

/// What the data says about a workload's operations.
#[derive(Debug, Clone, PartialEq)]
pub enum OperationsOutcome {
    /// At least one series carries a non-empty operation label.
    Operations {
        rows: Vec<OperationStats>,
        /// Requests per second whose series carry no operation (proxies not configured).
        unlabelled_rps: f64,
    },
    /// The workload receives requests, but no series carries the label: the mesh does not
    /// report it.
    NotReported { rps: f64 },
    /// No requests reached the workload in the window.
    NoTraffic,
}

/// Adds rates up per operation; an empty or missing operation counts as unlabelled.
#[derive(Debug, Clone, Default)]
pub struct OperationTally {
    operations: BTreeMap<String, Tally>,
    unlabelled_rps: f64,
}

#[derive(Debug, Clone, Default)]
struct Tally {
    errors: ErrorSplit,
    buckets: Vec<(f64, f64)>,
    p95_ms: Option<f64>,
}

impl OperationTally {
    /// `rate` requests per second of `operation` answered in `class`.
    pub fn add_requests(&mut self, operation: Option<&str>, class: ResponseClass, rate: f64) {
        if !rate.is_finite() || rate < 0.0 {
            return;
        }
        match operation.filter(|o| !o.is_empty()) {
            Some(operation) => self.entry(operation).errors.add(class, rate),
            None => self.unlabelled_rps += rate,
        }
    }

    /// A cumulative duration bucket of `operation`, to compute its p95 from.
    pub fn add_bucket(&mut self, operation: &str, le_ms: f64, rate: f64) {
        if operation.is_empty() || !rate.is_finite() {
            return;
        }
        let buckets = &mut self.entry(operation).buckets;
        match buckets.iter_mut().find(|(le, _)| *le == le_ms) {
            Some((_, total)) => *total += rate,
            None => buckets.push((le_ms, rate)),
        }
    }

    /// A p95 computed elsewhere (by Prometheus); wins over buckets.
    pub fn set_p95(&mut self, operation: &str, p95_ms: f64) {
        if !operation.is_empty() && p95_ms.is_finite() {
            self.entry(operation).p95_ms = Some(p95_ms);
        }
    }

    fn entry(&mut self, operation: &str) -> &mut Tally {
        self.operations.entry(operation.to_owned()).or_default()
    }

    pub fn finish(self) -> OperationsOutcome {
        let rows: Vec<OperationStats> = self
            .operations
            .into_iter()
            .filter(|(_, tally)| tally.errors.total > 0.0)
            .map(|(operation, tally)| OperationStats {
                p95_ms: tally
                    .p95_ms
                    .or_else(|| histogram_quantile(0.95, &tally.buckets)),
                operation,
                errors: tally.errors,
            })
            .collect();
        if !rows.is_empty() {
            OperationsOutcome::Operations {
                rows,
                unlabelled_rps: self.unlabelled_rps,
            }
        } else if self.unlabelled_rps > 0.0 {
            OperationsOutcome::NotReported {
                rps: self.unlabelled_rps,
            }
        } else {
            OperationsOutcome::NoTraffic
        }
    }
}

/// The inbound operations of `workload` in samples shaped like Istio's metrics. Only what
/// the workload's own proxy reported counts (`reporter="destination"`), as Kiali reads a
/// workload's inbound traffic: the client's proxy also sees requests that never arrived
/// (injected aborts, open circuit breakers), and counting both would count twice.
pub fn inbound_operations(samples: &[TrafficSample], workload: &WorkloadRef) -> OperationsOutcome {
    let mut tally = OperationTally::default();
    for sample in samples {
        let labels = &sample.labels;
        let destination = &labels.destination;
        if labels.reporter != Reporter::Destination
            || destination.workload != workload.name
            || destination.namespace != workload.namespace
            || (!workload.cluster.is_empty() && destination.cluster != workload.cluster)
        {
            continue;
        }
        let operation = labels.operation.as_ref().map(|o| o.as_str());
        match sample.kind {
            SampleKind::Requests => {
                let class =
                    ResponseClass::of(labels.protocol, labels.response_code, labels.grpc_status);
                tally.add_requests(operation, class, sample.value);
            }
            SampleKind::DurationBucket { le_ms } => {
                if let Some(operation) = operation {
                    tally.add_bucket(operation, le_ms, sample.value);
                }
            }
            _ => {}
        }
    }
    tally.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labelled_requests_become_rows_with_their_errors_and_p95() {
        let mut tally = OperationTally::default();
        tally.add_requests(Some("GET /a"), ResponseClass::Success, 9.0);
        tally.add_requests(Some("GET /a"), ResponseClass::ServerError, 1.0);
        tally.add_requests(Some("POST /b"), ResponseClass::ClientError, 2.0);
        tally.add_bucket("GET /a", 10.0, 5.0);
        tally.add_bucket("GET /a", 20.0, 10.0);
        tally.add_bucket("GET /a", f64::INFINITY, 10.0);
        let OperationsOutcome::Operations {
            rows,
            unlabelled_rps,
        } = tally.finish()
        else {
            panic!("operations expected")
        };
        assert_eq!(unlabelled_rps, 0.0);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].operation, "GET /a");
        assert_eq!(rows[0].rps(), 10.0);
        assert_eq!(rows[0].errors.server_error_pct(), 10.0);
        assert!((rows[0].p95_ms.unwrap() - 19.0).abs() < 1e-9);
        assert_eq!(rows[1].errors.client_error_pct(), 100.0);
        assert_eq!(rows[1].p95_ms, None);
    }

    #[test]
    fn requests_without_a_label_are_not_reported_and_none_at_all_is_no_traffic() {
        let mut tally = OperationTally::default();
        tally.add_requests(None, ResponseClass::Success, 3.0);
        tally.add_requests(Some(""), ResponseClass::Success, 1.0);
        assert_eq!(tally.finish(), OperationsOutcome::NotReported { rps: 4.0 });
        assert_eq!(
            OperationTally::default().finish(),
            OperationsOutcome::NoTraffic
        );
    }
}
