//! What the detail views share: which view a graph node opens, the node that stands for
//! a workload, and a node's edges as rows of peers with their numbers.

use std::collections::HashSet;

use petgraph::stable_graph::NodeIndex;
use petgraph::visit::EdgeRef;
use petgraph::Direction;

use super::edge_table::EdgeIdentity;
use super::topology::qualified_name;
use super::views::{DetailTarget, ObjectId};
use crate::mesh::{
    build_graph, GraphOptions, GraphType, Health, Inventory, MeshGraph, MeshNode, NodeKind,
    Protocol, TrafficSample,
};

/// The view Enter opens on a node: a workload's, a service's or an app's; nothing for
/// callers outside the mesh and external hosts.
pub fn target_of(node: &MeshNode) -> Option<DetailTarget> {
    let id = |name: &str| ObjectId::new(&node.cluster, &node.namespace, name);
    match node.kind {
        NodeKind::Service => Some(DetailTarget::Service(id(&node.name))),
        NodeKind::App => Some(DetailTarget::App(id(node.app.as_deref()?))),
        NodeKind::Workload
        | NodeKind::VersionedApp
        | NodeKind::IngressGateway
        | NodeKind::EgressGateway => match (&node.workload, &node.app) {
            (Some(workload), _) => Some(DetailTarget::Workload(id(workload))),
            (None, Some(app)) => Some(DetailTarget::App(id(app))),
            (None, None) => None,
        },
        NodeKind::UnknownSource | NodeKind::External => None,
    }
}

/// Whether a name of the data's cluster stands for the view's: with one cluster, Istio's
/// labels often say `Kubernetes` whatever the inventory calls it.
pub fn same_cluster(a: &str, b: &str, several_clusters: bool) -> bool {
    !several_clusters || a == b
}

/// The graph node that stands for exactly this workload (workload and versioned app
/// graphs); `None` in the app and service graphs.
pub fn workload_node(
    graph: &MeshGraph,
    id: &ObjectId,
    several_clusters: bool,
) -> Option<NodeIndex> {
    graph
        .nodes()
        .find(|(_, n)| {
            n.workload.as_deref() == Some(id.name.as_str())
                && n.namespace == id.namespace
                && same_cluster(&n.cluster, &id.cluster, several_clusters)
        })
        .map(|(index, _)| index)
}

/// One edge of a node, seen from that node: the peer at its other end and the numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct TrafficRow {
    /// `namespace/name` of the peer (cluster too when several show); sanitized.
    pub peer: String,
    /// The view Enter on the row opens.
    pub target: Option<DetailTarget>,
    pub protocol: Protocol,
    /// Requests/s, or bytes/s for TCP.
    pub rate: f64,
    pub client_error_pct: f64,
    pub server_error_pct: f64,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub mtls_share: Option<f64>,
    pub health: Health,
    /// The edge's key in the traffic history.
    pub identity: EdgeIdentity,
}

/// The node's edges in one direction, busiest first.
pub fn traffic_rows(
    graph: &MeshGraph,
    node: NodeIndex,
    direction: Direction,
    show_clusters: bool,
) -> Vec<TrafficRow> {
    let mut rows: Vec<TrafficRow> = graph
        .graph
        .edges_directed(node, direction)
        .filter_map(|edge| {
            let (from, to) = (edge.source(), edge.target());
            let peer = graph.node(if direction == Direction::Incoming {
                from
            } else {
                to
            })?;
            let weight = edge.weight();
            Some(TrafficRow {
                peer: qualified_name(peer, show_clusters),
                target: target_of(peer),
                protocol: weight.protocol,
                rate: weight.rate(),
                client_error_pct: weight.requests.client_error_pct(),
                server_error_pct: weight.requests.server_error_pct(),
                p50_ms: weight.latency.map(|l| l.p50_ms),
                p95_ms: weight.latency.map(|l| l.p95_ms),
                p99_ms: weight.latency.map(|l| l.p99_ms),
                mtls_share: weight.mtls_share,
                health: weight.health,
                identity: (
                    graph.node(from)?.key.clone(),
                    graph.node(to)?.key.clone(),
                    weight.protocol,
                ),
            })
        })
        .collect();
    rows.sort_by(|a, b| {
        (a.protocol == Protocol::Tcp)
            .cmp(&(b.protocol == Protocol::Tcp))
            .then_with(|| b.rate.total_cmp(&a.rate))
            .then_with(|| a.peer.cmp(&b.peer))
    });
    rows
}

/// A workload graph of only the traffic `touches` keeps: for views whose subject has no
/// node of its own in the graph on screen (the app and service graphs).
pub fn graph_of_samples(
    samples: &[TrafficSample],
    inventory: &Inventory,
    options: &GraphOptions,
    mut touches: impl FnMut(&TrafficSample) -> bool,
) -> MeshGraph {
    let kept: Vec<TrafficSample> = samples.iter().filter(|s| touches(s)).cloned().collect();
    // Only the namespaces the traffic names: indexing the whole inventory of a large mesh
    // would cost more than the graph itself.
    let namespaces: HashSet<&str> = kept
        .iter()
        .flat_map(|s| {
            [
                s.labels.source.namespace.as_str(),
                s.labels.destination.namespace.as_str(),
                s.labels.destination_service_namespace.as_str(),
            ]
        })
        .collect();
    let inventory = inventory.within(&namespaces);
    let options = GraphOptions {
        graph_type: GraphType::Workload,
        inject_service_nodes: false,
        idle_nodes: false,
        ..options.clone()
    };
    build_graph(&kept, &inventory, &options)
}

/// The answer for the last label allocation asked about. A snapshot's samples come in runs
/// that share their labels' allocations, so a scan of a million samples mostly compares
/// addresses instead of reading labels scattered over memory.
#[derive(Debug)]
pub struct LastAnswer<K> {
    last: Option<(K, bool)>,
}

impl<K> Default for LastAnswer<K> {
    fn default() -> Self {
        LastAnswer { last: None }
    }
}

impl<K: PartialEq> LastAnswer<K> {
    /// `address` identifies the allocation (e.g. `Arc::as_ptr`); `compute` reads it.
    pub fn check(&mut self, address: K, compute: impl FnOnce() -> bool) -> bool {
        match &self.last {
            Some((seen, answer)) if *seen == address => *answer,
            _ => {
                let answer = compute();
                self.last = Some((address, answer));
                answer
            }
        }
    }
}
