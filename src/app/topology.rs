//! The part of the graph on screen (namespace filter, focus) and its cached layout.

use std::collections::{HashSet, VecDeque};

use petgraph::stable_graph::{EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction as EdgeDirection;
use unicode_width::UnicodeWidthStr;

use crate::layout::{self, EdgeSpec, Layout, LayoutParams, NodeSpec};
use crate::mesh::traffic::UNKNOWN;
use crate::mesh::{MeshGraph, MeshNode, NodeKey, Protocol};

/// Widest box, in cells, so that one long name cannot push the graph off screen.
pub const MAX_BOX_WIDTH: u16 = 28;
/// Narrowest box: room for the kind tag in the border.
pub const MIN_BOX_WIDTH: u16 = 12;
/// Cells reserved after each outgoing port for the edge label (`12/s 0.4%`).
pub const EDGE_LABEL_WIDTH: u16 = 12;

/// Which nodes to show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VisibleFilter {
    /// Nodes of this namespace and their direct peers.
    pub namespace: Option<String>,
    /// Only nodes within `hops` of this node (edges in either direction).
    pub focus: Option<(NodeKey, usize)>,
}

/// Identity of a drawing: the node keys and edges it was laid out from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Signature {
    nodes: Vec<NodeKey>,
    edges: Vec<(usize, usize, Protocol)>,
}

/// The laid-out visible part of the graph.
#[derive(Debug, Clone, Default)]
pub struct TopologyView {
    /// Graph node of each layout node, in layout order.
    pub nodes: Vec<NodeIndex>,
    /// Graph edge of each layout edge.
    pub edges: Vec<EdgeIndex>,
    pub specs: Vec<NodeSpec>,
    pub layout: Layout,
    /// The graph holds nodes of several clusters: boxes, header and table name each one's.
    pub show_clusters: bool,
    signature: Signature,
}

/// The text inside a node's box: name and version.
pub fn node_label(node: &MeshNode) -> String {
    match &node.version {
        // Workload names usually end in their version (`reviews-v2`): say it once.
        Some(version) if !node.name.ends_with(version.as_str()) => {
            format!("{} {}", node.name, version)
        }
        _ => node.name.clone(),
    }
}

/// The tag drawn in the box's top border: the kind, and the cluster when several show.
pub fn box_tag(node: &MeshNode, show_cluster: bool) -> String {
    if show_cluster && !node.cluster.is_empty() && node.cluster != UNKNOWN {
        format!("{}@{}", kind_tag(node), node.cluster)
    } else {
        kind_tag(node).to_owned()
    }
}

/// What the topology says under a node's name: its namespace, and whether that namespace is
/// outside the chosen ones or one the user may not read. Unknown callers and hosts outside
/// the mesh have no namespace to read, so they carry no mark.
pub fn place_line(node: &MeshNode) -> String {
    use crate::mesh::NodeKind::{External, UnknownSource};
    let readable_kind = !matches!(node.kind, UnknownSource | External);
    if readable_kind && node.inaccessible {
        format!("{} no access", node.namespace)
    } else if node.outside {
        format!("{} outside", node.namespace)
    } else {
        node.namespace.clone()
    }
}

/// A node as the edge table names it: namespace and label, after the cluster when
/// several show.
pub fn qualified_name(node: &MeshNode, show_cluster: bool) -> String {
    if show_cluster && !node.cluster.is_empty() && node.cluster != UNKNOWN {
        format!("{}/{}/{}", node.cluster, node.namespace, node_label(node))
    } else {
        format!("{}/{}", node.namespace, node_label(node))
    }
}

/// Short tag for the node's kind.
pub fn kind_tag(node: &MeshNode) -> &'static str {
    use crate::mesh::NodeKind::*;
    match node.kind {
        Workload => "wl",
        Service => "svc",
        App => "app",
        VersionedApp => "app",
        UnknownSource => "unknown",
        IngressGateway => "ingress",
        EgressGateway => "egress",
        External => "ext",
    }
}

fn box_width(node: &MeshNode, show_cluster: bool) -> u16 {
    // Border, health mark and a space on the left, border on the right; the tag sits in the
    // top border between two corners and a rule each side.
    let label = UnicodeWidthStr::width(node_label(node).as_str()) + 4;
    let tag = UnicodeWidthStr::width(box_tag(node, show_cluster).as_str()) + 4;
    (label.max(tag).min(MAX_BOX_WIDTH as usize) as u16).max(MIN_BOX_WIDTH)
}

impl TopologyView {
    /// Lays out the visible part of `graph`, reusing `previous`'s layout when only numbers
    /// changed and starting from its order when the topology changed (so little moves).
    pub fn build(
        graph: &MeshGraph,
        filter: &VisibleFilter,
        previous: Option<&TopologyView>,
    ) -> Self {
        let show_clusters = graph.spans_clusters();
        let visible = visible_nodes(graph, filter);
        let mut nodes: Vec<NodeIndex> = visible.iter().copied().collect();
        nodes.sort_by(|a, b| graph.graph[*a].key.cmp(&graph.graph[*b].key));
        let position: std::collections::HashMap<NodeIndex, usize> =
            nodes.iter().enumerate().map(|(i, n)| (*n, i)).collect();
        let mut edges: Vec<(EdgeIndex, usize, usize, Protocol)> = graph
            .edges()
            .filter_map(|(e, from, to, edge)| {
                Some((e, *position.get(&from)?, *position.get(&to)?, edge.protocol))
            })
            .collect();
        edges.sort_by_key(|(_, from, to, protocol)| (*from, *to, *protocol));
        let signature = Signature {
            nodes: nodes.iter().map(|n| graph.graph[*n].key.clone()).collect(),
            edges: edges.iter().map(|(_, f, t, p)| (*f, *t, *p)).collect(),
        };
        let specs: Vec<NodeSpec> = nodes
            .iter()
            .map(|n| {
                let node = &graph.graph[*n];
                NodeSpec {
                    key: node.key.0.clone(),
                    width: box_width(node, show_clusters),
                    min_height: 3,
                }
            })
            .collect();
        let edge_indices = edges.iter().map(|(e, ..)| *e).collect();
        if let Some(previous) = previous {
            if previous.signature == signature && previous.specs == specs {
                return TopologyView {
                    nodes,
                    edges: edge_indices,
                    show_clusters,
                    ..previous.clone()
                };
            }
        }
        let edge_specs: Vec<EdgeSpec> = edges
            .iter()
            .map(|(_, from, to, _)| EdgeSpec {
                from: *from,
                to: *to,
            })
            .collect();
        let params = LayoutParams {
            label_width: EDGE_LABEL_WIDTH,
            row_gap: 1,
        };
        let layout = layout::layout(&specs, &edge_specs, &params, previous.map(|p| &p.layout));
        TopologyView {
            nodes,
            edges: edge_indices,
            specs,
            layout,
            show_clusters,
            signature,
        }
    }

    pub fn index_of(&self, graph: &MeshGraph, key: &NodeKey) -> Option<usize> {
        let node = graph.node_index(key)?;
        self.nodes.iter().position(|n| *n == node)
    }

    /// Layout nodes in reading order: by column, then top to bottom.
    pub fn reading_order(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.nodes.len()).collect();
        order.sort_by_key(|i| {
            let b = &self.layout.nodes[*i];
            (b.layer, b.y)
        });
        order
    }
}

fn visible_nodes(graph: &MeshGraph, filter: &VisibleFilter) -> HashSet<NodeIndex> {
    let mut visible: HashSet<NodeIndex> = match &filter.namespace {
        None => graph.nodes().map(|(i, _)| i).collect(),
        Some(namespace) => {
            let mut set = HashSet::new();
            for (index, node) in graph.nodes() {
                if node.namespace == *namespace {
                    set.insert(index);
                    set.extend(graph.graph.neighbors_undirected(index));
                }
            }
            set
        }
    };
    if let Some((key, hops)) = &filter.focus {
        if let Some(start) = graph.node_index(key) {
            let near = neighbourhood(graph, start, *hops);
            visible.retain(|n| near.contains(n));
            visible.insert(start);
        }
    }
    visible
}

/// Nodes within `hops` edges of `start`, ignoring edge direction.
pub fn neighbourhood(graph: &MeshGraph, start: NodeIndex, hops: usize) -> HashSet<NodeIndex> {
    let mut seen = HashSet::from([start]);
    let mut queue = VecDeque::from([(start, 0usize)]);
    while let Some((node, depth)) = queue.pop_front() {
        if depth == hops {
            continue;
        }
        let neighbours = graph
            .graph
            .edges_directed(node, EdgeDirection::Outgoing)
            .map(|e| e.target())
            .chain(
                graph
                    .graph
                    .edges_directed(node, EdgeDirection::Incoming)
                    .map(|e| e.source()),
            );
        for next in neighbours {
            if seen.insert(next) {
                queue.push_back((next, depth + 1));
            }
        }
    }
    seen
}
