//! `meshtui graph`: a mesh graph as JSON (schema `meshtui.graph/v1`, see docs/graph-schema.md) and as Graphviz DOT. Imports `mesh` only.
//!
//! Both are pure functions of the graph, ordered by node id so that two exports of the same
//! mesh diff cleanly.

mod dot;
mod json;

#[cfg(test)]
mod tests;

use std::time::Duration;

use crate::mesh::{GraphType, Health, MeshGraph, MeshNode, NodeKind, ServiceEdge};

pub use dot::to_dot;
pub use json::{to_json, SCHEMA};

/// What the JSON export says about the data besides the graph itself.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportMeta {
    pub graph_type: GraphType,
    /// When the data was taken, in seconds since the Unix epoch.
    pub time_unix_s: f64,
    /// The window rates were computed over.
    pub window: Duration,
    /// The namespaces the graph was asked for; empty when it was asked for all of them.
    pub namespaces: Vec<String>,
}

/// Graph type names as Kiali spells them in its API (`graphType`).
fn graph_type_name(graph_type: GraphType) -> &'static str {
    match graph_type {
        GraphType::Workload => "workload",
        GraphType::App => "app",
        GraphType::VersionedApp => "versionedApp",
        GraphType::Service => "service",
    }
}

fn kind_name(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Workload => "workload",
        NodeKind::App => "app",
        NodeKind::VersionedApp => "versioned-app",
        NodeKind::Service => "service",
        NodeKind::UnknownSource => "unknown",
        NodeKind::IngressGateway => "ingress-gateway",
        NodeKind::EgressGateway => "egress-gateway",
        NodeKind::External => "external",
    }
}

fn health_name(health: Health) -> &'static str {
    match health {
        Health::NoTraffic => "no-traffic",
        Health::Healthy => "healthy",
        Health::Degraded => "degraded",
        Health::Failure => "failure",
    }
}

/// Below this share of mutual TLS an edge counts as plain text, as on the topology screen:
/// a share computed from rates is rarely exactly 1.
const MTLS_FULL_SHARE: f64 = 0.999;

/// Nodes sorted by id and edges by (source, target, protocol), so exports diff cleanly.
fn sorted(graph: &MeshGraph) -> (Vec<&MeshNode>, Vec<(&str, &str, &ServiceEdge)>) {
    let mut nodes: Vec<&MeshNode> = graph.nodes().map(|(_, node)| node).collect();
    nodes.sort_by(|a, b| a.key.cmp(&b.key));
    let mut edges: Vec<(&str, &str, &ServiceEdge)> = graph
        .edges()
        .filter_map(|(_, from, to, edge)| {
            Some((
                graph.node(from)?.key.0.as_str(),
                graph.node(to)?.key.0.as_str(),
                edge,
            ))
        })
        .collect();
    edges.sort_by(|a, b| (a.0, a.1, a.2.protocol).cmp(&(b.0, b.1, b.2.protocol)));
    (nodes, edges)
}
