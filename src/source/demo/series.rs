//! The series a real proxy pair would export for each route: which reporters see which
//! outcomes, and the Istio labels they carry. Made when a flow first needs them, so steps
//! never touch strings.

use std::sync::Arc;

use crate::mesh::{LabelValue, PeerLabels, Protocol, Reporter, SampleLabels, SecurityPolicy};

use super::latency::{LatencyProfile, DURATION_BOUNDS_MS};
use super::model::{MeshModel, Route, ServiceKind, WorkloadSpec, CLUSTER};

/// Monotonic totals since the simulation began, as the proxy would export them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SeriesCounters {
    /// `istio_requests_total` (and the histogram's `_count`); exchanges for TCP series.
    pub requests: f64,
    /// `istio_request_duration_milliseconds_bucket` for each finite bound of
    /// [`DURATION_BOUNDS_MS`]; `+Inf` is `requests`.
    pub duration_buckets: [f64; DURATION_BOUNDS_MS.len()],
    pub duration_sum_ms: f64,
    pub tcp_sent_bytes: f64,
    pub tcp_received_bytes: f64,
}

/// One label set of one route, with its share of the requests of the flows that feed it.
#[derive(Debug, Clone)]
pub struct Series {
    pub labels: SampleLabels,
    /// Fraction of a flow's requests that carry this operation.
    pub operation_share: f64,
    pub counters: SeriesCounters,
}

/// What tells a route's series apart, the operation aside.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SeriesKey {
    pub reporter: Reporter,
    /// The workload (model index) that answered; `None` when the client's proxy answered
    /// before picking one (an injected abort, a full connection pool, no route).
    pub destination: Option<usize>,
    pub response_code: u16,
    pub grpc_status: Option<u32>,
    pub flags: String,
}

/// A way the requests of one lane end as one reporter sees them, before any rule.
#[derive(Debug, Clone)]
pub struct BaseFlow {
    pub key: SeriesKey,
    /// Position in the route's errors; `None` for success.
    pub outcome: Option<usize>,
    pub latency: LatencyProfile,
}

/// What the proxy running inside `workload` writes about itself: missing pod labels stay empty.
fn own_labels(workload: &WorkloadSpec) -> PeerLabels {
    PeerLabels {
        cluster: CLUSTER.into(),
        namespace: workload.namespace.clone(),
        workload: workload.name.clone(),
        app: workload.app.clone().unwrap_or_default(),
        version: workload.version.clone().unwrap_or_default(),
    }
}

/// What the other proxy learns through metadata exchange: nothing without a proxy, and
/// `unknown` for missing pod labels.
fn peer_labels(workload: &WorkloadSpec) -> PeerLabels {
    if !workload.sidecar {
        return PeerLabels::unknown();
    }
    let unknown = || crate::mesh::traffic::UNKNOWN.to_string();
    PeerLabels {
        cluster: CLUSTER.into(),
        namespace: workload.namespace.clone(),
        workload: workload.name.clone(),
        app: workload.app.clone().unwrap_or_else(unknown),
        version: workload.version.clone().unwrap_or_else(unknown),
    }
}

/// Whether a client without a proxy can meet this outcome: faults and circuit breakers
/// live in the client's proxy, so without one they never happen.
pub fn outcome_possible(route: &Route, outcome: Option<usize>, client_has_proxy: bool) -> bool {
    match outcome.and_then(|o| route.errors.get(o)) {
        Some(error) => client_has_proxy || !error.source_only,
        None => true,
    }
}

/// The latency a reporter measures for requests the server answers within `server`: the
/// client also waits for both proxies and the network.
pub fn reported_latency(server: LatencyProfile, reporter: Reporter) -> LatencyProfile {
    match reporter {
        Reporter::Destination => server,
        _ => server.scaled(1.05).plus_ms(0.6),
    }
}

/// The response code, gRPC status and flags of a route's outcome.
pub fn outcome_labels(route: &Route, outcome: Option<usize>) -> (u16, Option<u32>, String) {
    let error = outcome.and_then(|o| route.errors.get(o));
    match (route.protocol, error) {
        (Protocol::Tcp, _) => (0, None, "-".to_string()),
        (Protocol::Grpc, None) => (200, Some(0), "-".to_string()),
        (Protocol::Http, None) => (200, None, "-".to_string()),
        (Protocol::Grpc, Some(e)) => (e.response_code, e.grpc_status, e.flags.clone()),
        (Protocol::Http, Some(e)) => (e.response_code, None, e.flags.clone()),
    }
}

/// Every flow of one lane without rules, in a fixed order: reporter, then outcome.
pub fn base_flows(model: &MeshModel, route: &Route, backend: usize) -> Vec<BaseFlow> {
    let (Some(client), Some(server_backend)) = (
        model.workloads.get(route.client),
        route.backends.get(backend),
    ) else {
        return Vec::new();
    };
    let Some(server) = model.workloads.get(server_backend.index) else {
        return Vec::new();
    };
    let mut reporters = Vec::with_capacity(2);
    if client.sidecar {
        reporters.push(Reporter::Source);
    }
    if server.sidecar {
        reporters.push(Reporter::Destination);
    }
    let outcomes: Vec<Option<usize>> = if route.protocol == Protocol::Tcp {
        vec![None]
    } else {
        std::iter::once(None)
            .chain((0..route.errors.len()).map(Some))
            .filter(|&o| outcome_possible(route, o, client.sidecar))
            .collect()
    };
    let mut flows = Vec::new();
    for &reporter in &reporters {
        let latency = reported_latency(server_backend.latency, reporter);
        for &outcome in &outcomes {
            let error = outcome.and_then(|o| route.errors.get(o));
            if reporter == Reporter::Destination && error.is_some_and(|e| e.source_only) {
                continue;
            }
            let (response_code, grpc_status, flags) = outcome_labels(route, outcome);
            flows.push(BaseFlow {
                key: SeriesKey {
                    reporter,
                    destination: Some(server_backend.index),
                    response_code,
                    grpc_status,
                    flags,
                },
                outcome,
                latency: latency.scaled(error.map_or(1.0, |e| e.latency_factor)),
            });
        }
    }
    flows
}

/// The series of one key on a route, one per operation.
pub fn series_for(model: &MeshModel, route: &Route, key: &SeriesKey) -> Vec<Series> {
    let (Some(client), Some(service)) = (
        model.workloads.get(route.client),
        model.services.get(route.service),
    ) else {
        return Vec::new();
    };
    let server = key.destination.and_then(|w| model.workloads.get(w));
    let (service_name, service_namespace): (LabelValue, LabelValue) = match service.kind {
        ServiceKind::Kubernetes | ServiceKind::ServiceEntry => {
            ((&service.name).into(), (&service.namespace).into())
        }
        ServiceKind::Passthrough => ("PassthroughCluster".into(), "unknown".into()),
    };
    let host = LabelValue::from(&service.host);
    let flags = LabelValue::from(&key.flags);
    let (source, destination, security) = match (key.reporter, server) {
        (Reporter::Destination, Some(server)) => {
            let security = if client.sidecar && route.mtls {
                SecurityPolicy::MutualTls
            } else {
                SecurityPolicy::None
            };
            (peer_labels(client), own_labels(server), security)
        }
        (_, Some(server)) => (
            own_labels(client),
            peer_labels(server),
            SecurityPolicy::Unknown,
        ),
        // No host was picked: the proxy knows the service (from its cluster), not who
        // would have answered.
        (_, None) => (
            own_labels(client),
            PeerLabels {
                cluster: CLUSTER.into(),
                ..PeerLabels::unknown()
            },
            SecurityPolicy::Unknown,
        ),
    };
    let (source, destination) = (Arc::new(source), Arc::new(destination));
    let weight_sum: f64 = route.operations.iter().map(|o| f64::from(o.weight)).sum();
    let operations: Vec<(Option<LabelValue>, f64)> =
        if route.protocol == Protocol::Tcp || route.operations.is_empty() || weight_sum <= 0.0 {
            vec![(None, 1.0)]
        } else {
            route
                .operations
                .iter()
                .map(|o| (Some((&o.name).into()), f64::from(o.weight) / weight_sum))
                .collect()
        };
    operations
        .into_iter()
        .map(|(operation, operation_share)| Series {
            labels: SampleLabels {
                reporter: key.reporter,
                source: source.clone(),
                destination: destination.clone(),
                destination_service: host.clone(),
                destination_service_name: service_name.clone(),
                destination_service_namespace: service_namespace.clone(),
                protocol: route.protocol,
                response_code: key.response_code,
                grpc_status: key.grpc_status,
                response_flags: flags.clone(),
                security,
                operation,
            },
            operation_share,
            counters: SeriesCounters::default(),
        })
        .collect()
}
