//! Builds a [`MeshGraph`] from traffic samples and the inventory.
//!
//! Series reported by both proxies of a hop are counted once: samples that agree on every
//! label but `reporter` and `connection_security_policy` are one observation, and the
//! client's report wins because only it sees requests rejected locally (circuit breaker,
//! fault injection). mTLS is read from the server's reports, the only ones that know it.

use std::collections::{HashMap, HashSet};

use petgraph::stable_graph::NodeIndex;

use super::graph::{GraphType, MeshGraph, MeshNode, NodeKey, NodeKind, ServiceEdge};
use super::health::{Health, HealthThresholds};
use super::inventory::{GatewayRole, Inventory, WorkloadInfo};
use super::sanitize::sanitize;
use super::traffic::{
    ErrorSplit, LatencyQuantiles, PeerLabels, Protocol, Reporter, ResponseClass, SampleKind,
    SampleLabels, SecurityPolicy, TrafficSample, UNKNOWN,
};

/// How to turn samples into a graph.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct GraphOptions {
    pub graph_type: GraphType,
    /// Put a service node between callers and the workloads behind it (Kiali's "service
    /// nodes" display option). Off, an edge goes straight to the workload; the service
    /// graph and requests no workload answered keep their service nodes either way.
    pub inject_service_nodes: bool,
    pub thresholds: HealthThresholds,
}

/// One observation after de-duplication across reporters.
#[derive(Debug, Clone, Copy, Default)]
struct Observation {
    source_reported: f64,
    destination_reported: f64,
    destination_mtls: f64,
    seen_by_source: bool,
    seen_by_destination: bool,
}

impl Observation {
    fn value(&self) -> f64 {
        if self.seen_by_source {
            self.source_reported
        } else {
            self.destination_reported
        }
    }
}

/// Every label that identifies an observation, borrowed from the sample.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ObservationKey<'a> {
    kind: KindKey,
    source: &'a PeerLabels,
    destination: &'a PeerLabels,
    destination_service: &'a str,
    destination_service_name: &'a str,
    destination_service_namespace: &'a str,
    protocol: Protocol,
    response_code: u16,
    grpc_status: Option<u32>,
    response_flags: &'a str,
    operation: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum KindKey {
    Requests,
    Bucket(u64),
    TcpSent,
    TcpReceived,
}

impl KindKey {
    fn of(kind: SampleKind) -> Self {
        match kind {
            SampleKind::Requests => KindKey::Requests,
            SampleKind::DurationBucket { le_ms } => KindKey::Bucket(le_ms.to_bits()),
            SampleKind::TcpSentBytes => KindKey::TcpSent,
            SampleKind::TcpReceivedBytes => KindKey::TcpReceived,
        }
    }
}

#[derive(Debug, Default)]
struct EdgeAccumulator {
    requests: ErrorSplit,
    /// Cumulative bucket rates keyed by the bits of `le` (exact bounds repeat across series).
    buckets: HashMap<u64, f64>,
    tcp_bytes_per_s: f64,
    destination_total: f64,
    destination_mtls: f64,
}

impl EdgeAccumulator {
    fn add(&mut self, key: &ObservationKey<'_>, observation: &Observation) {
        let value = observation.value();
        match key.kind {
            KindKey::Requests => {
                let class = ResponseClass::of(key.protocol, key.response_code, key.grpc_status);
                self.requests.add(class, value);
            }
            KindKey::Bucket(bits) => *self.buckets.entry(bits).or_default() += value,
            KindKey::TcpSent | KindKey::TcpReceived => self.tcp_bytes_per_s += value,
        }
        if matches!(
            key.kind,
            KindKey::Requests | KindKey::TcpSent | KindKey::TcpReceived
        ) {
            self.destination_total += observation.destination_reported;
            self.destination_mtls += observation.destination_mtls;
        }
    }

    fn finish(self, protocol: Protocol, thresholds: &HealthThresholds) -> ServiceEdge {
        let buckets: Vec<(f64, f64)> = self
            .buckets
            .into_iter()
            .map(|(bits, rate)| (f64::from_bits(bits), rate))
            .collect();
        let health = if protocol == Protocol::Tcp {
            if self.tcp_bytes_per_s > 0.0 {
                Health::Healthy
            } else {
                Health::NoTraffic
            }
        } else {
            thresholds.judge(&self.requests)
        };
        ServiceEdge {
            protocol,
            requests: self.requests,
            latency: LatencyQuantiles::from_buckets(&buckets),
            tcp_bytes_per_s: self.tcp_bytes_per_s,
            mtls_share: (self.destination_total > 0.0)
                .then(|| (self.destination_mtls / self.destination_total).clamp(0.0, 1.0)),
            health,
        }
    }
}

/// Builds the graph of the given type from one snapshot's samples.
pub fn build_graph(
    samples: &[TrafficSample],
    inventory: &Inventory,
    options: &GraphOptions,
) -> MeshGraph {
    let observations = deduplicate(samples);
    let mut builder = Builder {
        graph: MeshGraph::default(),
        workloads: inventory
            .workloads
            .iter()
            .map(|w| ((w.namespace.as_str(), w.name.as_str()), w))
            .collect(),
        external_hosts: inventory
            .services
            .iter()
            .filter(|s| s.external)
            .map(|s| s.host.as_str())
            .collect(),
        peer_nodes: HashMap::new(),
        graph_type: options.graph_type,
        inject_service_nodes: options.inject_service_nodes,
        edges: HashMap::new(),
    };
    for (key, observation) in &observations {
        builder.add(key, observation);
    }
    builder.finish(&options.thresholds)
}

fn deduplicate(samples: &[TrafficSample]) -> HashMap<ObservationKey<'_>, Observation> {
    let mut observations: HashMap<ObservationKey<'_>, Observation> =
        HashMap::with_capacity(samples.len());
    for sample in samples {
        if !sample.rate_per_s.is_finite() || sample.rate_per_s < 0.0 {
            continue;
        }
        let labels = &sample.labels;
        let key = ObservationKey {
            kind: KindKey::of(sample.kind),
            source: &labels.source,
            destination: &labels.destination,
            destination_service: &labels.destination_service,
            destination_service_name: &labels.destination_service_name,
            destination_service_namespace: &labels.destination_service_namespace,
            protocol: labels.protocol,
            response_code: labels.response_code,
            grpc_status: labels.grpc_status,
            response_flags: &labels.response_flags,
            operation: labels.operation.as_deref(),
        };
        let entry = observations.entry(key).or_default();
        match labels.reporter {
            Reporter::Source => {
                entry.source_reported += sample.rate_per_s;
                entry.seen_by_source = true;
            }
            // A waypoint stands where the server's proxy would in ambient mode.
            Reporter::Destination | Reporter::Waypoint => {
                entry.destination_reported += sample.rate_per_s;
                entry.seen_by_destination = true;
                if labels.security == SecurityPolicy::MutualTls {
                    entry.destination_mtls += sample.rate_per_s;
                }
            }
        }
    }
    observations
}

struct Builder<'i> {
    graph: MeshGraph,
    /// Inventory indexes, built once so that each observation costs a hash lookup.
    workloads: HashMap<(&'i str, &'i str), &'i WorkloadInfo>,
    external_hosts: HashSet<&'i str>,
    /// Nodes already made for a peer's labels: most observations repeat a peer.
    peer_nodes: HashMap<&'i PeerLabels, NodeIndex>,
    graph_type: GraphType,
    inject_service_nodes: bool,
    edges: HashMap<(NodeIndex, NodeIndex, Protocol), EdgeAccumulator>,
}

impl<'i> Builder<'i> {
    fn add(&mut self, key: &ObservationKey<'i>, observation: &Observation) {
        let source = self.source_node(key.source);
        let destination = self.destination_node(key);
        if let (Some(destination), false) = (destination, self.inject_service_nodes) {
            self.accumulate(source, destination, key, observation);
            return;
        }
        let service = self.service_node(key);
        match (service, destination) {
            (Some(service), Some(destination)) if service != destination => {
                self.accumulate(source, service, key, observation);
                self.accumulate(service, destination, key, observation);
            }
            (Some(only), _) | (None, Some(only)) => self.accumulate(source, only, key, observation),
            (None, None) => {
                let unknown = self.unknown_destination();
                self.accumulate(source, unknown, key, observation);
            }
        }
    }

    fn accumulate(
        &mut self,
        from: NodeIndex,
        to: NodeIndex,
        key: &ObservationKey<'_>,
        observation: &Observation,
    ) {
        self.edges
            .entry((from, to, key.protocol))
            .or_default()
            .add(key, observation);
    }

    fn source_node(&mut self, peer: &'i PeerLabels) -> NodeIndex {
        if peer.is_unknown() {
            return self
                .graph
                .upsert_node(NodeKey("unknown".into()), || MeshNode {
                    kind: NodeKind::UnknownSource,
                    ..blank_node("unknown", UNKNOWN, UNKNOWN, UNKNOWN)
                });
        }
        self.workload_side_node(peer)
    }

    /// The node for the workload side of a peer, according to the graph type.
    fn workload_side_node(&mut self, peer: &'i PeerLabels) -> NodeIndex {
        if let Some(&index) = self.peer_nodes.get(peer) {
            return index;
        }
        let index = self.make_workload_side_node(peer);
        self.peer_nodes.insert(peer, index);
        index
    }

    fn make_workload_side_node(&mut self, peer: &PeerLabels) -> NodeIndex {
        let gateway = self.gateway_role(peer);
        let has_app = known(&peer.app);
        let (key, kind, name) = match (self.graph_type, gateway) {
            (_, Some(role)) => (
                format!("wl/{}/{}/{}", peer.cluster, peer.namespace, peer.workload),
                match role {
                    GatewayRole::Ingress => NodeKind::IngressGateway,
                    GatewayRole::Egress => NodeKind::EgressGateway,
                },
                peer.workload.clone(),
            ),
            (GraphType::VersionedApp, None) if has_app => (
                format!(
                    "va/{}/{}/{}/{}",
                    peer.cluster, peer.namespace, peer.app, peer.version
                ),
                NodeKind::VersionedApp,
                peer.app.clone(),
            ),
            (GraphType::App | GraphType::Service, None) if has_app => (
                format!("app/{}/{}/{}", peer.cluster, peer.namespace, peer.app),
                NodeKind::App,
                peer.app.clone(),
            ),
            _ => (
                format!("wl/{}/{}/{}", peer.cluster, peer.namespace, peer.workload),
                NodeKind::Workload,
                peer.workload.clone(),
            ),
        };
        let graph_type = self.graph_type;
        let sidecar = self
            .workloads
            .get(&(peer.namespace.as_str(), peer.workload.as_str()))
            .map(|w| w.sidecar_injected);
        self.graph.upsert_node(NodeKey(key.clone()), || MeshNode {
            kind,
            app: has_app.then(|| peer.app.clone()),
            version: (known(&peer.version)
                && matches!(kind, NodeKind::VersionedApp | NodeKind::Workload))
            .then(|| peer.version.clone()),
            sidecar: if graph_type == GraphType::Workload || kind != NodeKind::App {
                sidecar
            } else {
                None
            },
            ..blank_node(&key, &peer.cluster, &peer.namespace, &name)
        })
    }

    fn gateway_role(&self, peer: &PeerLabels) -> Option<GatewayRole> {
        if let Some(workload) = self
            .workloads
            .get(&(peer.namespace.as_str(), peer.workload.as_str()))
        {
            return workload.gateway;
        }
        // Without inventory (metrics only), Istio's default gateway names still tell.
        if peer.workload.contains("ingressgateway") {
            Some(GatewayRole::Ingress)
        } else if peer.workload.contains("egressgateway") {
            Some(GatewayRole::Egress)
        } else {
            None
        }
    }

    /// The workload that served the requests, or `None` when no proxy there knew it.
    fn destination_node(&mut self, key: &ObservationKey<'i>) -> Option<NodeIndex> {
        if self.graph_type == GraphType::Service || !known(&key.destination.workload) {
            return None;
        }
        Some(self.workload_side_node(key.destination))
    }

    /// The service or external host the requests were addressed to.
    fn service_node(&mut self, key: &ObservationKey<'_>) -> Option<NodeIndex> {
        let name = key.destination_service_name;
        let host = key.destination_service;
        let passthrough = matches!(name, "PassthroughCluster" | "BlackHoleCluster");
        let external = passthrough
            || self.external_hosts.contains(host)
            || (!known(&key.destination.workload)
                && known(host)
                && !host.ends_with(".svc.cluster.local"));
        if external {
            let label = if passthrough { name } else { host };
            let node_key = format!("ext/{label}");
            return Some(
                self.graph
                    .upsert_node(NodeKey(node_key.clone()), || MeshNode {
                        kind: NodeKind::External,
                        ..blank_node(&node_key, UNKNOWN, UNKNOWN, label)
                    }),
            );
        }
        if !known(name) || !known(key.destination_service_namespace) {
            return None;
        }
        let cluster = &key.destination.cluster;
        let namespace = key.destination_service_namespace;
        let node_key = format!("svc/{cluster}/{namespace}/{name}");
        Some(
            self.graph
                .upsert_node(NodeKey(node_key.clone()), || MeshNode {
                    kind: NodeKind::Service,
                    ..blank_node(&node_key, cluster, namespace, name)
                }),
        )
    }

    fn unknown_destination(&mut self) -> NodeIndex {
        self.graph
            .upsert_node(NodeKey("unknown-destination".into()), || MeshNode {
                kind: NodeKind::External,
                ..blank_node("unknown-destination", UNKNOWN, UNKNOWN, UNKNOWN)
            })
    }

    fn finish(mut self, thresholds: &HealthThresholds) -> MeshGraph {
        // Sort so that edge indices do not depend on hash order.
        let mut edges: Vec<_> = self.edges.into_iter().collect();
        edges.sort_by_key(|(key, _)| *key);
        for ((from, to, protocol), accumulator) in edges {
            let edge = accumulator.finish(protocol, thresholds);
            if let Some(node) = self.graph.graph.node_weight_mut(from) {
                node.outbound.merge(&edge.requests);
            }
            if let Some(node) = self.graph.graph.node_weight_mut(to) {
                node.inbound.merge(&edge.requests);
            }
            self.graph.graph.add_edge(from, to, edge);
        }
        for node in self.graph.graph.node_weights_mut() {
            node.health = if node.inbound.total > 0.0 {
                thresholds.judge(&node.inbound)
            } else {
                thresholds.judge(&node.outbound)
            };
        }
        self.graph
    }
}

fn known(value: &str) -> bool {
    !value.is_empty() && value != UNKNOWN
}

fn blank_node(key: &str, cluster: &str, namespace: &str, name: &str) -> MeshNode {
    MeshNode {
        key: NodeKey(key.to_owned()),
        kind: NodeKind::Workload,
        // Labels come from proxies and the cluster: never let them drive the terminal.
        cluster: sanitize(cluster),
        namespace: sanitize(namespace),
        name: sanitize(name),
        app: None,
        version: None,
        idle: false,
        sidecar: None,
        inbound: ErrorSplit::default(),
        outbound: ErrorSplit::default(),
        health: Health::NoTraffic,
    }
}

/// Labels for tests and fixtures: a request from `source` to `destination` workloads.
impl SampleLabels {
    pub fn between(source: PeerLabels, destination: PeerLabels, service_host: &str) -> Self {
        let service_name = service_host
            .split('.')
            .next()
            .unwrap_or(service_host)
            .to_owned();
        let service_namespace = service_host.split('.').nth(1).unwrap_or(UNKNOWN).to_owned();
        SampleLabels {
            reporter: Reporter::Source,
            source,
            destination,
            destination_service: service_host.to_owned(),
            destination_service_name: service_name,
            destination_service_namespace: service_namespace,
            protocol: Protocol::Http,
            response_code: 200,
            grpc_status: None,
            response_flags: "-".into(),
            security: SecurityPolicy::Unknown,
            operation: None,
        }
    }
}

impl PeerLabels {
    pub fn workload(namespace: &str, app: &str, version: &str) -> Self {
        PeerLabels {
            cluster: "Kubernetes".into(),
            namespace: namespace.into(),
            workload: format!("{app}-{version}"),
            app: app.into(),
            version: version.into(),
        }
    }
}

#[cfg(test)]
#[path = "build_tests.rs"]
mod tests;
