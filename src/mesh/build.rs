//! Builds a [`MeshGraph`] from traffic samples and the inventory.
//!
//! A hop between two proxies is reported twice, by the client (`reporter="source"`) and by
//! the server (`reporter="destination"`), and the two reports need not agree label for label
//! (a gateway has no version label of its own; the server fills in `unknown`). So the choice
//! is made per edge, as Kiali does: when the client reported anything on an edge, its reports
//! alone count — only it sees requests it rejected itself (circuit breaker, fault injection);
//! otherwise (a caller without a sidecar) the server's reports count. mTLS is read from the
//! server's reports, the only ones that know it.

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

/// What one side of a hop (the clients' proxies or the servers') reported on an edge.
#[derive(Debug, Default)]
struct Reports {
    requests: ErrorSplit,
    /// Cumulative bucket rates keyed by the bits of `le` (exact bounds repeat across series).
    buckets: HashMap<u64, f64>,
    tcp_bytes_per_s: f64,
    any: bool,
}

impl Reports {
    fn add(&mut self, sample: &TrafficSample) {
        let labels = &sample.labels;
        let rate = sample.rate_per_s;
        match sample.kind {
            SampleKind::Requests => {
                let class =
                    ResponseClass::of(labels.protocol, labels.response_code, labels.grpc_status);
                self.requests.add(class, rate);
            }
            SampleKind::DurationBucket { le_ms } => {
                *self.buckets.entry(le_ms.to_bits()).or_default() += rate
            }
            SampleKind::TcpSentBytes | SampleKind::TcpReceivedBytes => self.tcp_bytes_per_s += rate,
        }
        self.any = true;
    }
}

#[derive(Debug, Default)]
struct EdgeAccumulator {
    client: Reports,
    server: Reports,
    /// Traffic the servers' proxies saw, and the part of it that arrived over mutual TLS.
    server_traffic: f64,
    server_mtls: f64,
}

impl EdgeAccumulator {
    fn add(&mut self, sample: &TrafficSample) {
        match sample.labels.reporter {
            Reporter::Source => self.client.add(sample),
            // A waypoint stands where the server's proxy would in ambient mode.
            Reporter::Destination | Reporter::Waypoint => {
                self.server.add(sample);
                if !matches!(sample.kind, SampleKind::DurationBucket { .. }) {
                    self.server_traffic += sample.rate_per_s;
                    if sample.labels.security == SecurityPolicy::MutualTls {
                        self.server_mtls += sample.rate_per_s;
                    }
                }
            }
        }
    }

    fn finish(self, protocol: Protocol, thresholds: &HealthThresholds) -> ServiceEdge {
        let reports = if self.client.any {
            self.client
        } else {
            self.server
        };
        let buckets: Vec<(f64, f64)> = reports
            .buckets
            .into_iter()
            .map(|(bits, rate)| (f64::from_bits(bits), rate))
            .collect();
        let health = if protocol == Protocol::Tcp {
            if reports.tcp_bytes_per_s > 0.0 {
                Health::Healthy
            } else {
                Health::NoTraffic
            }
        } else {
            thresholds.judge(&reports.requests)
        };
        ServiceEdge {
            protocol,
            requests: reports.requests,
            latency: LatencyQuantiles::from_buckets(&buckets),
            tcp_bytes_per_s: reports.tcp_bytes_per_s,
            mtls_share: (self.server_traffic > 0.0)
                .then(|| (self.server_mtls / self.server_traffic).clamp(0.0, 1.0)),
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
        service_nodes: HashMap::new(),
        graph_type: options.graph_type,
        inject_service_nodes: options.inject_service_nodes,
        edges: HashMap::new(),
    };
    for sample in samples {
        // A malformed rate changes nothing rather than poisoning every sum it joins.
        if sample.rate_per_s.is_finite() && sample.rate_per_s >= 0.0 {
            builder.add(sample);
        }
    }
    builder.finish(&options.thresholds)
}

type ServiceIdentity<'i> = (&'i str, &'i str, &'i str, &'i str, bool);

struct Builder<'i> {
    graph: MeshGraph,
    /// Inventory indexes, built once so that each observation costs a hash lookup.
    workloads: HashMap<(&'i str, &'i str), &'i WorkloadInfo>,
    external_hosts: HashSet<&'i str>,
    /// Nodes already made for a peer's labels: most observations repeat a peer.
    peer_nodes: HashMap<&'i PeerLabels, NodeIndex>,
    /// The same for the service side: (host, name, namespace, cluster, workload known).
    service_nodes: HashMap<ServiceIdentity<'i>, Option<NodeIndex>>,
    graph_type: GraphType,
    inject_service_nodes: bool,
    edges: HashMap<(NodeIndex, NodeIndex, Protocol), EdgeAccumulator>,
}

impl<'i> Builder<'i> {
    fn add(&mut self, sample: &'i TrafficSample) {
        let labels = &sample.labels;
        let source = self.source_node(&labels.source);
        let destination = self.destination_node(labels);
        if let (Some(destination), false) = (destination, self.inject_service_nodes) {
            self.accumulate(source, destination, sample);
            return;
        }
        let service = self.service_node(labels);
        match (service, destination) {
            (Some(service), Some(destination)) if service != destination => {
                self.accumulate(source, service, sample);
                self.accumulate(service, destination, sample);
            }
            (Some(only), _) | (None, Some(only)) => self.accumulate(source, only, sample),
            (None, None) => {
                let unknown = self.unknown_destination();
                self.accumulate(source, unknown, sample);
            }
        }
    }

    fn accumulate(&mut self, from: NodeIndex, to: NodeIndex, sample: &TrafficSample) {
        let protocol = sample.labels.protocol;
        self.edges
            .entry((from, to, protocol))
            .or_default()
            .add(sample);
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
            app: has_app.then(|| sanitize(&peer.app)),
            version: (known(&peer.version)
                && matches!(kind, NodeKind::VersionedApp | NodeKind::Workload))
            .then(|| sanitize(&peer.version)),
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
    fn destination_node(&mut self, labels: &'i SampleLabels) -> Option<NodeIndex> {
        if self.graph_type == GraphType::Service || !known(&labels.destination.workload) {
            return None;
        }
        Some(self.workload_side_node(&labels.destination))
    }

    /// The service or external host the requests were addressed to.
    fn service_node(&mut self, labels: &'i SampleLabels) -> Option<NodeIndex> {
        let identity = (
            labels.destination_service.as_str(),
            labels.destination_service_name.as_str(),
            labels.destination_service_namespace.as_str(),
            labels.destination.cluster.as_str(),
            known(&labels.destination.workload),
        );
        if let Some(&node) = self.service_nodes.get(&identity) {
            return node;
        }
        let node = self.make_service_node(identity);
        self.service_nodes.insert(identity, node);
        node
    }

    fn make_service_node(&mut self, identity: ServiceIdentity<'_>) -> Option<NodeIndex> {
        let (host, name, namespace, cluster, workload_known) = identity;
        let passthrough = matches!(name, "PassthroughCluster" | "BlackHoleCluster");
        let external = passthrough
            || self.external_hosts.contains(host)
            || (!workload_known && known(host) && !host.ends_with(".svc.cluster.local"));
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
        if !known(name) || !known(namespace) {
            return None;
        }
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
