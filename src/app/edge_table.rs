//! The edge table: every visible edge as a sortable row, for meshes too large to draw.

use std::cmp::Ordering;

use petgraph::stable_graph::EdgeIndex;

use super::topology::{qualified_name, TopologyView};
use crate::mesh::{Health, MeshGraph, NodeKey, Protocol};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    Rate,
    Errors,
    Latency,
    Name,
}

impl SortKey {
    pub fn next(self) -> Self {
        match self {
            SortKey::Rate => SortKey::Errors,
            SortKey::Errors => SortKey::Latency,
            SortKey::Latency => SortKey::Name,
            SortKey::Name => SortKey::Rate,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SortKey::Rate => "rate",
            SortKey::Errors => "errors",
            SortKey::Latency => "p95",
            SortKey::Name => "name",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EdgeTableState {
    pub sort: SortKey,
    /// Largest first (rate, errors, latency) unless reversed; names A to Z unless reversed.
    pub reversed: bool,
    /// Row of the selection in the current order.
    pub selected: usize,
    /// The selected edge itself, so the selection follows it when a refresh re-sorts rows.
    pub selected_edge: Option<EdgeIdentity>,
}

/// An edge as a user knows it across refreshes: its two nodes and protocol.
pub type EdgeIdentity = (NodeKey, NodeKey, Protocol);

/// One row, with the numbers the table shows.
#[derive(Debug, Clone, PartialEq)]
pub struct EdgeRow {
    pub edge: EdgeIndex,
    pub identity: EdgeIdentity,
    pub source: String,
    pub destination: String,
    pub protocol: Protocol,
    /// Requests/s, or bytes/s for TCP.
    pub rate: f64,
    pub error_pct: f64,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub mtls_share: Option<f64>,
    pub health: Health,
}

/// Rows of the visible edges, sorted as the table state says.
pub fn rows(graph: &MeshGraph, view: &TopologyView, state: &EdgeTableState) -> Vec<EdgeRow> {
    let mut rows: Vec<EdgeRow> = view
        .edges
        .iter()
        .filter_map(|&edge| {
            let (from, to) = graph.graph.edge_endpoints(edge)?;
            let weight = graph.graph.edge_weight(edge)?;
            let name = |n: petgraph::stable_graph::NodeIndex| {
                qualified_name(&graph.graph[n], view.show_clusters)
            };
            Some(EdgeRow {
                edge,
                identity: (
                    graph.graph[from].key.clone(),
                    graph.graph[to].key.clone(),
                    weight.protocol,
                ),
                source: name(from),
                destination: name(to),
                protocol: weight.protocol,
                rate: weight.rate(),
                error_pct: weight.requests.error_pct(),
                p50_ms: weight.latency.map(|l| l.p50_ms),
                p95_ms: weight.latency.map(|l| l.p95_ms),
                p99_ms: weight.latency.map(|l| l.p99_ms),
                mtls_share: weight.mtls_share,
                health: weight.health,
            })
        })
        .collect();
    let by_name = |a: &EdgeRow, b: &EdgeRow| {
        (&a.source, &a.destination, a.protocol).cmp(&(&b.source, &b.destination, b.protocol))
    };
    rows.sort_by(|a, b| {
        let primary = match state.sort {
            // Requests/s and bytes/s don't compare: request edges first, then TCP by bytes.
            SortKey::Rate => (a.protocol == Protocol::Tcp)
                .cmp(&(b.protocol == Protocol::Tcp))
                .then_with(|| b.rate.total_cmp(&a.rate)),
            SortKey::Errors => b.error_pct.total_cmp(&a.error_pct),
            SortKey::Latency => b
                .p95_ms
                .unwrap_or(-1.0)
                .total_cmp(&a.p95_ms.unwrap_or(-1.0)),
            SortKey::Name => Ordering::Equal,
        };
        let ordered = primary.then_with(|| by_name(a, b));
        if state.reversed {
            ordered.reverse()
        } else {
            ordered
        }
    });
    rows
}
