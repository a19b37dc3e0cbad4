//! The series a real proxy pair would export for each route: which reporters see which
//! outcomes, and the Istio labels they carry. Built once, so steps never touch strings.

use std::sync::Arc;

use crate::mesh::{LabelValue, PeerLabels, Protocol, Reporter, SampleLabels, SecurityPolicy};

use super::latency::{BucketShares, LatencyProfile, DURATION_BOUNDS_MS};
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

/// One label set of one lane (a route's backend), with how its share is worked out.
#[derive(Debug, Clone)]
pub struct Series {
    pub labels: SampleLabels,
    /// Position in the route's errors; `None` for success.
    pub outcome: Option<usize>,
    /// Fraction of the lane's requests that carry this operation.
    pub operation_share: f64,
    pub bucket_shares: BucketShares,
    pub mean_ms: f64,
    pub counters: SeriesCounters,
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

/// Every series of one lane, in a fixed order: reporter, outcome, operation.
pub fn lane_series(model: &MeshModel, route: &Route, backend: usize) -> Vec<Series> {
    let (Some(client), Some(server_backend), Some(service)) = (
        model.workloads.get(route.client),
        route.backends.get(backend),
        model.services.get(route.service),
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
    let (service_name, service_namespace): (LabelValue, LabelValue) = match service.kind {
        ServiceKind::Kubernetes | ServiceKind::ServiceEntry => {
            ((&service.name).into(), (&service.namespace).into())
        }
        ServiceKind::Passthrough => ("PassthroughCluster".into(), "unknown".into()),
    };
    let host = LabelValue::from(&service.host);
    let outcomes: Vec<Option<usize>> = if route.protocol == Protocol::Tcp {
        vec![None]
    } else {
        std::iter::once(None)
            .chain((0..route.errors.len()).map(Some))
            .filter(|&o| outcome_possible(route, o, client.sidecar))
            .collect()
    };
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

    let mut series = Vec::new();
    for &reporter in &reporters {
        let (source, destination, security, latency) = match reporter {
            Reporter::Destination => {
                let security = if client.sidecar && route.mtls {
                    SecurityPolicy::MutualTls
                } else {
                    SecurityPolicy::None
                };
                (
                    Arc::new(peer_labels(client)),
                    Arc::new(own_labels(server)),
                    security,
                    server_backend.latency,
                )
            }
            _ => (
                Arc::new(own_labels(client)),
                Arc::new(peer_labels(server)),
                SecurityPolicy::Unknown,
                // The client also waits for both proxies and the network.
                server_backend.latency.scaled(1.05).plus_ms(0.6),
            ),
        };
        for &outcome in &outcomes {
            let error = outcome.and_then(|o| route.errors.get(o));
            if reporter == Reporter::Destination && error.is_some_and(|e| e.source_only) {
                continue;
            }
            let (response_code, grpc_status, flags): (u16, Option<u32>, LabelValue) =
                match (route.protocol, error) {
                    (Protocol::Tcp, _) => (0, None, "-".into()),
                    (Protocol::Grpc, None) => (200, Some(0), "-".into()),
                    (Protocol::Http, None) => (200, None, "-".into()),
                    (Protocol::Grpc, Some(e)) => {
                        (e.response_code, e.grpc_status, (&e.flags).into())
                    }
                    (Protocol::Http, Some(e)) => (e.response_code, None, (&e.flags).into()),
                };
            let outcome_latency: LatencyProfile =
                latency.scaled(error.map_or(1.0, |e| e.latency_factor));
            for (operation, operation_share) in &operations {
                series.push(Series {
                    labels: SampleLabels {
                        reporter,
                        source: source.clone(),
                        destination: destination.clone(),
                        destination_service: host.clone(),
                        destination_service_name: service_name.clone(),
                        destination_service_namespace: service_namespace.clone(),
                        protocol: route.protocol,
                        response_code,
                        grpc_status,
                        response_flags: flags.clone(),
                        security,
                        operation: operation.clone(),
                    },
                    outcome,
                    operation_share: *operation_share,
                    bucket_shares: outcome_latency.bucket_shares(),
                    mean_ms: outcome_latency.mean_ms(),
                    counters: SeriesCounters::default(),
                });
            }
        }
    }
    series
}
