//! The service graph: nodes and edges on petgraph, built from traffic samples plus inventory.

use std::collections::{BTreeSet, HashMap};

use petgraph::stable_graph::{EdgeIndex, NodeIndex, StableDiGraph};

use super::health::Health;
use super::traffic::{ErrorSplit, LatencyQuantiles, Protocol, UNKNOWN};

/// Which identity a node stands for (Kiali's graph types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum GraphType {
    Workload,
    App,
    #[default]
    VersionedApp,
    Service,
}

impl GraphType {
    /// The next type in the order a user cycles through them.
    pub fn next(self) -> Self {
        match self {
            GraphType::VersionedApp => GraphType::App,
            GraphType::App => GraphType::Workload,
            GraphType::Workload => GraphType::Service,
            GraphType::Service => GraphType::VersionedApp,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NodeKind {
    Workload,
    Service,
    App,
    VersionedApp,
    /// Requests from outside the mesh (a caller without a sidecar).
    UnknownSource,
    IngressGateway,
    EgressGateway,
    /// A host outside the mesh: a ServiceEntry, PassthroughCluster or BlackHoleCluster.
    External,
}

impl NodeKind {
    pub fn label(self) -> &'static str {
        match self {
            NodeKind::Workload => "workload",
            NodeKind::Service => "service",
            NodeKind::App => "app",
            NodeKind::VersionedApp => "versioned app",
            NodeKind::UnknownSource => "unknown",
            NodeKind::IngressGateway => "ingress gateway",
            NodeKind::EgressGateway => "egress gateway",
            NodeKind::External => "external",
        }
    }
}

/// A node's stable identity across refreshes, e.g. `wl/Kubernetes/bookinfo/reviews-v2`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeKey(pub String);

impl std::fmt::Display for NodeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct MeshNode {
    pub key: NodeKey,
    pub kind: NodeKind,
    pub cluster: String,
    pub namespace: String,
    /// What the node is called on screen: workload, app, service or host name.
    pub name: String,
    pub app: Option<String>,
    pub version: Option<String>,
    /// The workload the node stands for, when it stands for exactly one (workload identity).
    pub workload: Option<String>,
    /// Sidecar injected, when the inventory knows.
    pub sidecar: Option<bool>,
    /// In a namespace the graph was not asked for (Kiali's `isOutside`).
    pub outside: bool,
    /// In a namespace the cluster did not list, or unknown (Kiali's `isInaccessible`).
    pub inaccessible: bool,
    /// Sends traffic and receives none: a traffic generator (Kiali's `isRoot`).
    pub root: bool,
    /// The app box the node is drawn in, when its app has several nodes (Kiali's `parent`).
    pub parent: Option<NodeKey>,
    /// Known to the inventory but without traffic in the window (Kiali's `isIdle`); only
    /// with [`GraphOptions::idle_nodes`](super::GraphOptions::idle_nodes).
    pub idle: bool,
    /// Requests received, by class (HTTP and gRPC).
    pub inbound: ErrorSplit,
    /// Requests sent, by class (HTTP and gRPC).
    pub outbound: ErrorSplit,
    pub health: Health,
}

/// One directed edge per (source node, destination node, protocol).
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceEdge {
    pub protocol: Protocol,
    /// Requests per second by class; zero for TCP.
    pub requests: ErrorSplit,
    pub latency: Option<LatencyQuantiles>,
    /// TCP bytes per second, both directions together; zero for HTTP and gRPC.
    pub tcp_bytes_per_s: f64,
    /// Share (0..=1) of the traffic the destination proxy saw arrive over mutual TLS;
    /// `None` when no destination proxy reported (e.g. an external destination).
    pub mtls_share: Option<f64>,
    pub health: Health,
}

impl ServiceEdge {
    pub fn rps(&self) -> f64 {
        self.requests.total
    }

    /// What the edge's traffic is measured in: bytes per second for TCP, requests per
    /// second otherwise.
    pub fn rate(&self) -> f64 {
        if self.protocol == Protocol::Tcp {
            self.tcp_bytes_per_s
        } else {
            self.rps()
        }
    }
}

/// Kiali's app box: the nodes of one app (its versions) grouped, in the app and versioned-app
/// graphs, when the app has more than one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppBox {
    /// `box/<cluster>/<namespace>/<app>`; members name it as their `parent`.
    pub key: NodeKey,
    pub cluster: String,
    pub namespace: String,
    pub app: String,
}

/// The topology at one moment. Node indices stay valid for the life of the value.
#[derive(Debug, Clone, Default)]
pub struct MeshGraph {
    pub graph: StableDiGraph<MeshNode, ServiceEdge>,
    /// App boxes, sorted by key; empty in the workload and service graphs.
    pub boxes: Vec<AppBox>,
    index: HashMap<NodeKey, NodeIndex>,
}

impl MeshGraph {
    pub fn node_index(&self, key: &NodeKey) -> Option<NodeIndex> {
        self.index.get(key).copied()
    }

    pub fn node(&self, index: NodeIndex) -> Option<&MeshNode> {
        self.graph.node_weight(index)
    }

    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    pub fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }

    pub fn nodes(&self) -> impl Iterator<Item = (NodeIndex, &MeshNode)> {
        self.graph
            .node_indices()
            .filter_map(|i| self.graph.node_weight(i).map(|n| (i, n)))
    }

    pub fn edges(&self) -> impl Iterator<Item = (EdgeIndex, NodeIndex, NodeIndex, &ServiceEdge)> {
        self.graph.edge_indices().filter_map(|e| {
            let (from, to) = self.graph.edge_endpoints(e)?;
            Some((e, from, to, self.graph.edge_weight(e)?))
        })
    }

    /// Removes a node and its edges; the other nodes keep their indices.
    pub fn remove_node(&mut self, index: NodeIndex) -> Option<MeshNode> {
        let node = self.graph.remove_node(index)?;
        self.index.remove(&node.key);
        Some(node)
    }

    /// The clusters the nodes are in, sorted; callers and hosts of no known cluster left out.
    pub fn clusters(&self) -> BTreeSet<&str> {
        self.graph
            .node_weights()
            .map(|n| n.cluster.as_str())
            .filter(|c| !c.is_empty() && *c != UNKNOWN)
            .collect()
    }

    /// Whether nodes of several clusters appear, so that views must say which is which.
    pub fn spans_clusters(&self) -> bool {
        let mut clusters = self
            .graph
            .node_weights()
            .map(|n| n.cluster.as_str())
            .filter(|c| !c.is_empty() && *c != UNKNOWN);
        clusters
            .next()
            .is_some_and(|first| clusters.any(|other| other != first))
    }

    /// Finds a node by key, adding it from `make` when absent.
    pub fn upsert_node(&mut self, key: NodeKey, make: impl FnOnce() -> MeshNode) -> NodeIndex {
        if let Some(&index) = self.index.get(&key) {
            return index;
        }
        let index = self.graph.add_node(make());
        self.index.insert(key, index);
        index
    }
}
