//! Builds a [`MeshGraph`] from traffic samples and the inventory, by Kiali's rules.
//!
//! A hop between two proxies is reported twice, by the client (`reporter="source"`) and by
//! the server (`reporter="destination"`). As Kiali does, an edge adds up the distinct series
//! of both reporters, where a series is (metric, source, destination, response code, response
//! flags, destination host): a series both proxies reported counts once, with the server's
//! value (Kiali reads the server's reports first), and a series only one of them saw counts
//! too — requests the client's proxy rejected itself (circuit breaker `UO`, fault injection
//! `FI`, `NR`) and requests from callers without a sidecar. Peers compare with `""` and
//! `unknown` taken as the same (a gateway's own reports carry no version, the server writes
//! `unknown`). Latency is read from the client's buckets when it reported any, else the
//! server's; mTLS from the server's reports, the only ones that know it.

use std::hash::{Hash, Hasher};

use petgraph::stable_graph::NodeIndex;

use super::boxes::box_by_app;
use super::graph::{GraphType, MeshGraph, MeshNode, NodeKey, NodeKind, ServiceEdge};
// Every map here sees every sample: std's SipHash was the largest cost of a large build.
use super::hashing::{FastMap as HashMap, FastSet as HashSet};
use super::health::{Health, HealthThresholds};
use super::inventory::{GatewayRole, Inventory, InventoryIndex};
use super::sanitize::sanitize;
use super::traffic::{
    ErrorSplit, LatencyQuantiles, PeerLabels, Protocol, Quantile, Reporter, ResponseClass,
    SampleKind, SampleLabels, SecurityPolicy, TrafficSample, UNKNOWN,
};

/// How to turn samples into a graph.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GraphOptions {
    pub graph_type: GraphType,
    /// Put a service node between callers and the workloads behind it (Kiali's "service
    /// nodes" display option). Off, an edge goes straight to the workload; requests no
    /// workload answered keep their service node either way. The service graph ignores it.
    pub inject_service_nodes: bool,
    pub thresholds: HealthThresholds,
    /// Which TCP byte counters a TCP edge's rate adds up.
    pub tcp_rate: TcpRate,
    /// The namespaces the graph was asked for (Kiali's `namespaces` parameter): nodes
    /// elsewhere are marked `outside`. Empty: the graph was asked for everything.
    pub namespaces: Vec<String>,
    /// Add the services and workloads of the inventory that had no traffic, marked `idle`
    /// (Kiali's "idle nodes" display option, off by default as there).
    pub idle_nodes: bool,
}

impl GraphOptions {
    /// What Kiali's namespace graph does by default: no injected service nodes, the TCP
    /// rate of bytes sent by the client. Kiali's health thresholds are ours by default.
    pub fn kiali(graph_type: GraphType) -> Self {
        GraphOptions {
            graph_type,
            inject_service_nodes: false,
            thresholds: HealthThresholds::default(),
            tcp_rate: TcpRate::Sent,
            namespaces: Vec::new(),
            idle_nodes: false,
        }
    }
}

/// The TCP traffic an edge shows (Kiali's `rateTcp`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TcpRate {
    /// Bytes the client sent (request direction): `istio_tcp_received_bytes_total`.
    Sent,
    /// Bytes the client received (response direction): `istio_tcp_sent_bytes_total`.
    Received,
    /// Both directions together.
    #[default]
    Total,
}

impl TcpRate {
    fn counts(self, kind: SampleKind) -> bool {
        matches!(
            (self, kind),
            (TcpRate::Sent | TcpRate::Total, SampleKind::TcpReceivedBytes)
                | (TcpRate::Received | TcpRate::Total, SampleKind::TcpSentBytes)
        )
    }
}

/// A label value in a key. Samples decoded together share their strings, so two values are
/// nearly always the very same string: that is checked before the bytes.
#[derive(Debug, Clone, Copy, Eq)]
struct KeyText<'i>(&'i str);

impl PartialEq for KeyText<'_> {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.0, other.0) || self.0 == other.0
    }
}

impl Hash for KeyText<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

/// A peer as a series names it, with `""` and `unknown` the same: not known. Kept as a
/// reference: a key of five strings was 80 bytes to move and hash for every series.
#[derive(Debug, Clone, Copy)]
struct PeerKey<'i>(&'i PeerLabels);

fn normalized(value: &str) -> &str {
    if known(value) {
        value
    } else {
        UNKNOWN
    }
}

impl PartialEq for PeerKey<'_> {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.0, other.0);
        let same = |x: &str, y: &str| normalized(x) == normalized(y);
        // Samples decoded together share their peers' labels.
        std::ptr::eq(a, b)
            || (same(&a.workload, &b.workload)
                && same(&a.namespace, &b.namespace)
                && same(&a.cluster, &b.cluster)
                && same(&a.app, &b.app)
                && same(&a.version, &b.version))
    }
}

impl Eq for PeerKey<'_> {}

impl Hash for PeerKey<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Namespace and workload tell peers apart well enough (equal keys still hash
        // alike), and hashing the other three cost a tenth of a large build.
        normalized(&self.0.namespace).hash(state);
        normalized(&self.0.workload).hash(state);
    }
}

impl<'i> PeerKey<'i> {
    fn of(peer: &'i PeerLabels) -> Self {
        PeerKey(peer)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Counter {
    Requests,
    TcpSentBytes,
    TcpReceivedBytes,
}

/// One series as Kiali tells series apart when it drops the duplicates of the other proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct SeriesKey<'i> {
    counter: Counter,
    source: PeerKey<'i>,
    destination: PeerKey<'i>,
    response_code: u16,
    grpc_status: Option<u32>,
    flags: KeyText<'i>,
    host: KeyText<'i>,
}

/// A series' rate as each side reported it (summed over what the key does not tell apart,
/// e.g. operations).
#[derive(Debug, Default)]
struct SeriesRates {
    client: Option<f64>,
    server: Option<f64>,
}

impl SeriesRates {
    fn rate(&self) -> f64 {
        self.server.or(self.client).unwrap_or(0.0)
    }
}

#[derive(Debug, Default)]
struct EdgeAccumulator<'i> {
    series: HashMap<SeriesKey<'i>, SeriesRates>,
    /// Cumulative bucket rates keyed by the bits of `le` (exact bounds repeat across series).
    client_buckets: HashMap<u64, f64>,
    server_buckets: HashMap<u64, f64>,
    /// Percentiles Prometheus computed, per side, in `Quantile::ALL` order.
    client_quantiles: [Option<f64>; 3],
    server_quantiles: [Option<f64>; 3],
    /// Traffic the servers' proxies saw, and the part of it that arrived over mutual TLS.
    server_traffic: f64,
    server_mtls: f64,
}

impl<'i> EdgeAccumulator<'i> {
    fn add(&mut self, sample: &'i TrafficSample) {
        let labels = &sample.labels;
        let rate = sample.value;
        // A waypoint stands where the server's proxy would in ambient mode.
        let server = labels.reporter != Reporter::Source;
        let counter = match sample.kind {
            SampleKind::DurationBucket { le_ms } => {
                let buckets = if server {
                    &mut self.server_buckets
                } else {
                    &mut self.client_buckets
                };
                *buckets.entry(le_ms.to_bits()).or_default() += rate;
                return;
            }
            SampleKind::LatencyQuantile { quantile } => {
                let quantiles = if server {
                    &mut self.server_quantiles
                } else {
                    &mut self.client_quantiles
                };
                let slot = Quantile::ALL
                    .iter()
                    .position(|q| *q == quantile)
                    .and_then(|i| quantiles.get_mut(i));
                if let Some(slot) = slot {
                    // Percentiles of several series cannot be merged exactly; the slowest
                    // is an upper bound that never hides a slow part of the edge.
                    *slot = Some(slot.map_or(rate, |seen| seen.max(rate)));
                }
                return;
            }
            SampleKind::Requests => Counter::Requests,
            SampleKind::TcpSentBytes => Counter::TcpSentBytes,
            SampleKind::TcpReceivedBytes => Counter::TcpReceivedBytes,
        };
        let key = SeriesKey {
            counter,
            source: PeerKey::of(&labels.source),
            destination: PeerKey::of(&labels.destination),
            response_code: labels.response_code,
            grpc_status: labels.grpc_status,
            flags: KeyText(&labels.response_flags),
            host: KeyText(&labels.destination_service),
        };
        let rates = self.series.entry(key).or_default();
        let side = if server {
            &mut rates.server
        } else {
            &mut rates.client
        };
        *side.get_or_insert(0.0) += rate;
        if server {
            self.server_traffic += rate;
            if labels.security == SecurityPolicy::MutualTls {
                self.server_mtls += rate;
            }
        }
    }

    fn finish(
        self,
        protocol: Protocol,
        thresholds: &HealthThresholds,
        tcp_rate: TcpRate,
    ) -> ServiceEdge {
        let mut requests = ErrorSplit::default();
        let mut tcp_bytes_per_s = 0.0;
        for (key, rates) in &self.series {
            match key.counter {
                Counter::Requests => requests.add(
                    ResponseClass::of(protocol, key.response_code, key.grpc_status),
                    rates.rate(),
                ),
                Counter::TcpSentBytes if tcp_rate.counts(SampleKind::TcpSentBytes) => {
                    tcp_bytes_per_s += rates.rate()
                }
                Counter::TcpReceivedBytes if tcp_rate.counts(SampleKind::TcpReceivedBytes) => {
                    tcp_bytes_per_s += rates.rate()
                }
                Counter::TcpSentBytes | Counter::TcpReceivedBytes => {}
            }
        }
        let bucket_rates = if self.client_buckets.is_empty() {
            self.server_buckets
        } else {
            self.client_buckets
        };
        let buckets: Vec<(f64, f64)> = bucket_rates
            .into_iter()
            .map(|(bits, rate)| (f64::from_bits(bits), rate))
            .collect();
        // Buckets when the source sent them (exact); else the percentiles Prometheus
        // computed, the client's when it reported them, as with buckets.
        let latency = LatencyQuantiles::from_buckets(&buckets).or_else(|| {
            let quantiles = if self.client_quantiles.iter().any(Option::is_some) {
                self.client_quantiles
            } else {
                self.server_quantiles
            };
            match quantiles {
                [Some(p50_ms), Some(p95_ms), Some(p99_ms)] => Some(LatencyQuantiles {
                    p50_ms,
                    p95_ms,
                    p99_ms,
                }),
                _ => None,
            }
        });
        let health = if protocol == Protocol::Tcp {
            if tcp_bytes_per_s > 0.0 {
                Health::Healthy
            } else {
                Health::NoTraffic
            }
        } else {
            thresholds.judge(&requests)
        };
        ServiceEdge {
            protocol,
            requests,
            latency,
            tcp_bytes_per_s,
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
    let service_graph = options.graph_type == GraphType::Service;
    let index = inventory.index();
    let mut builder = Builder {
        graph: MeshGraph::default(),
        inventory: &index,
        external_hosts: inventory
            .services
            .iter()
            .filter(|s| s.external)
            .map(|s| s.host.as_str())
            .collect(),
        peer_nodes: HashMap::default(),
        peer_addresses: HashMap::default(),
        service_nodes: HashMap::default(),
        graph_type: options.graph_type,
        // Kiali builds the service graph from the workload graph with service nodes.
        inject_service_nodes: options.inject_service_nodes || service_graph,
        edges: HashMap::default(),
        accumulators: Vec::new(),
    };
    for sample in samples.iter().filter(|s| usable(s)) {
        builder.add(sample);
    }
    if options.idle_nodes {
        builder.add_idle_nodes(inventory, &options.namespaces);
    }
    let folded = service_graph.then(|| builder.fold_to_services(samples));
    let mut graph = builder.finish(options);
    if let Some(folded) = folded {
        folded.apply(&mut graph, options);
    }
    mark_outsiders(&mut graph, options, &index);
    if matches!(options.graph_type, GraphType::App | GraphType::VersionedApp) {
        box_by_app(&mut graph);
    }
    graph
}

/// A malformed rate changes nothing rather than poisoning every sum it joins.
fn usable(sample: &TrafficSample) -> bool {
    sample.value.is_finite() && sample.value >= 0.0
}

/// Kiali's outsider finalizer: a node outside the namespaces asked for is `outside`, and
/// `inaccessible` too when the cluster did not list its namespace or refused to show it; the
/// unknown caller, and
/// services in no known namespace or outside the mesh, are always `inaccessible`.
fn mark_outsiders(graph: &mut MeshGraph, options: &GraphOptions, inventory: &InventoryIndex) {
    let requested: HashSet<&str> = options.namespaces.iter().map(String::as_str).collect();
    for node in graph.graph.node_weights_mut() {
        let namespace_known = known(&node.namespace);
        node.outside = !requested.is_empty()
            && namespace_known
            && !requested.contains(node.namespace.as_str());
        node.inaccessible = match node.kind {
            NodeKind::UnknownSource | NodeKind::External => true,
            NodeKind::Service if !namespace_known => true,
            // Outside and never listed, or a namespace the user may not read (RBAC).
            _ => {
                (node.outside && !inventory.lists_namespace(&node.cluster, &node.namespace))
                    || !inventory.is_accessible(&node.cluster, &node.namespace)
            }
        };
    }
}

/// What a node on the workload side of a hop stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Identity {
    Workload,
    App,
    VersionedApp,
}

type ServiceIdentity<'i> = (&'i str, &'i str, &'i str, &'i str, bool);

struct Builder<'i> {
    graph: MeshGraph,
    /// Inventory indexes, built once so that each observation costs a hash lookup.
    inventory: &'i InventoryIndex<'i>,
    external_hosts: HashSet<&'i str>,
    /// Nodes already made for a peer's labels: most observations repeat a peer.
    peer_nodes: HashMap<&'i PeerLabels, NodeIndex>,
    /// The same by the address of the labels: samples decoded together share their peers'
    /// labels, so this finds a node without hashing five strings.
    peer_addresses: HashMap<usize, NodeIndex>,
    /// The same for the service side: (host, name, namespace, cluster, workload known).
    service_nodes: HashMap<ServiceIdentity<'i>, Option<NodeIndex>>,
    graph_type: GraphType,
    inject_service_nodes: bool,
    /// Where each edge's accumulator is in `accumulators`: an accumulator is large, and a
    /// map moves its values as it grows.
    edges: HashMap<(NodeIndex, NodeIndex, Protocol), usize>,
    accumulators: Vec<EdgeAccumulator<'i>>,
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

    fn accumulate(&mut self, from: NodeIndex, to: NodeIndex, sample: &'i TrafficSample) {
        let protocol = sample.labels.protocol;
        let next = self.accumulators.len();
        let index = *self.edges.entry((from, to, protocol)).or_insert(next);
        if index == next {
            self.accumulators.push(EdgeAccumulator::default());
        }
        if let Some(accumulator) = self.accumulators.get_mut(index) {
            accumulator.add(sample);
        }
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
        // The samples outlive the build, so no other labels can take this address.
        let address = std::ptr::from_ref(peer).addr();
        if let Some(&index) = self.peer_addresses.get(&address) {
            return index;
        }
        let index = match self.peer_nodes.get(peer) {
            Some(&index) => index,
            None => {
                let index = self.make_workload_side_node(peer);
                self.peer_nodes.insert(peer, index);
                index
            }
        };
        self.peer_addresses.insert(address, index);
        index
    }

    fn make_workload_side_node(&mut self, peer: &PeerLabels) -> NodeIndex {
        let gateway = self.gateway_role(peer);
        let has_app = known(&peer.app);
        let has_workload = known(&peer.workload);
        // Kiali's rules: the service graph starts as the workload graph; a versioned-app node
        // is one workload of an app (two workloads labelled alike stay two nodes), or the
        // app's version when no proxy named the workload; else the app stands for itself.
        let identity = match self.graph_type {
            GraphType::VersionedApp if has_app && (has_workload || known(&peer.version)) => {
                Identity::VersionedApp
            }
            GraphType::App | GraphType::VersionedApp if has_app => Identity::App,
            _ => Identity::Workload,
        };
        let (key, name) = match identity {
            Identity::Workload => (
                format!("wl/{}/{}/{}", peer.cluster, peer.namespace, peer.workload),
                &peer.workload,
            ),
            Identity::App => (
                format!("app/{}/{}/{}", peer.cluster, peer.namespace, peer.app),
                &peer.app,
            ),
            // Keyed by workload, a gateway's own reports (no version) and the server's
            // (`unknown`) land on one node.
            Identity::VersionedApp if has_workload => (
                format!("va/{}/{}/{}", peer.cluster, peer.namespace, peer.workload),
                &peer.app,
            ),
            Identity::VersionedApp => (
                format!(
                    "va/{}/{}/{}/{}",
                    peer.cluster, peer.namespace, peer.app, peer.version
                ),
                &peer.app,
            ),
        };
        let kind = match (gateway, identity) {
            (Some(GatewayRole::Ingress), _) => NodeKind::IngressGateway,
            (Some(GatewayRole::Egress), _) => NodeKind::EgressGateway,
            (None, Identity::Workload) => NodeKind::Workload,
            (None, Identity::App) => NodeKind::App,
            (None, Identity::VersionedApp) => NodeKind::VersionedApp,
        };
        let sidecar = self
            .inventory
            .workload(&peer.cluster, &peer.namespace, &peer.workload)
            .map(|w| w.sidecar_injected);
        self.graph.upsert_node(NodeKey(key.clone()), || MeshNode {
            kind,
            app: has_app.then(|| sanitize(&peer.app)),
            // An app node stands for all its versions.
            version: (known(&peer.version) && identity != Identity::App)
                .then(|| sanitize(&peer.version)),
            workload: match identity {
                Identity::Workload => Some(sanitize(&peer.workload)),
                Identity::VersionedApp => has_workload.then(|| sanitize(&peer.workload)),
                Identity::App => None,
            },
            sidecar: if identity == Identity::App {
                None
            } else {
                sidecar
            },
            ..blank_node(&key, &peer.cluster, &peer.namespace, name)
        })
    }

    fn gateway_role(&self, peer: &PeerLabels) -> Option<GatewayRole> {
        if let Some(workload) =
            self.inventory
                .workload(&peer.cluster, &peer.namespace, &peer.workload)
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
        if !known(&labels.destination.workload) {
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

    fn finish(mut self, options: &GraphOptions) -> MeshGraph {
        let thresholds = &options.thresholds;
        let mut edges: Vec<_> = std::mem::take(&mut self.edges).into_iter().collect();
        // Accumulators are finished in the order they lie in memory: in key order, finishing
        // them jumped about memory long out of the caches.
        let mut protocols = vec![Protocol::Http; self.accumulators.len()];
        for ((_, _, protocol), index) in &edges {
            if let Some(slot) = protocols.get_mut(*index) {
                *slot = *protocol;
            }
        }
        let mut finished: Vec<Option<ServiceEdge>> = std::mem::take(&mut self.accumulators)
            .into_iter()
            .zip(protocols)
            .map(|(accumulator, protocol)| {
                Some(accumulator.finish(protocol, thresholds, options.tcp_rate))
            })
            .collect();
        // Sort so that edge indices do not depend on hash order.
        edges.sort_unstable_by_key(|(key, _)| *key);
        let mut receivers = HashSet::default();
        for ((from, to, _), index) in edges {
            let Some(edge) = finished.get_mut(index).and_then(Option::take) else {
                continue;
            };
            receivers.insert(to);
            if let Some(node) = self.graph.graph.node_weight_mut(from) {
                node.root = true;
            }
            if let Some(node) = self.graph.graph.node_weight_mut(from) {
                node.outbound.merge(&edge.requests);
            }
            if let Some(node) = self.graph.graph.node_weight_mut(to) {
                node.inbound.merge(&edge.requests);
            }
            self.graph.graph.add_edge(from, to, edge);
        }
        for index in receivers {
            if let Some(node) = self.graph.graph.node_weight_mut(index) {
                node.root = false;
            }
        }
        for node in self.graph.graph.node_weights_mut() {
            node.health = node_health(node, thresholds);
        }
        self.graph
    }
}

/// A node is judged by what it receives, or by what it sends when it receives nothing.
fn node_health(node: &MeshNode, thresholds: &HealthThresholds) -> Health {
    if node.inbound.total > 0.0 {
        thresholds.judge(&node.inbound)
    } else {
        thresholds.judge(&node.outbound)
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
        workload: None,
        sidecar: None,
        outside: false,
        inaccessible: false,
        root: false,
        parent: None,
        idle: false,
        inbound: ErrorSplit::default(),
        outbound: ErrorSplit::default(),
        health: Health::NoTraffic,
    }
}

/// Labels for tests and fixtures: a request from `source` to `destination` workloads.
impl SampleLabels {
    pub fn between(source: PeerLabels, destination: PeerLabels, service_host: &str) -> Self {
        let service_name = service_host.split('.').next().unwrap_or(service_host);
        let service_namespace = service_host.split('.').nth(1).unwrap_or(UNKNOWN);
        SampleLabels {
            reporter: Reporter::Source,
            source: source.into(),
            destination: destination.into(),
            destination_service: service_host.into(),
            destination_service_name: service_name.into(),
            destination_service_namespace: service_namespace.into(),
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

#[path = "idle_nodes.rs"]
mod idle_nodes;
#[path = "service_graph.rs"]
mod service_graph;

#[cfg(test)]
#[path = "build_tests.rs"]
mod tests;
