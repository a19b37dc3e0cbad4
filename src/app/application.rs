//! The app view: an app's versions side by side, with their pods, traffic and health.

use petgraph::Direction;

use std::sync::Arc;

use super::detail::{graph_of_samples, same_cluster, workload_node, LastAnswer};
use super::views::{ListCursor, ObjectId};
use super::workload::Sources;
use crate::mesh::{Health, MeshGraph, NodeKey, TrafficSample};

#[derive(Debug, Clone)]
pub struct AppView {
    pub id: ObjectId,
    pub cursor: ListCursor,
    pub detail: AppDetail,
}

impl AppView {
    pub fn new(id: ObjectId, detail: AppDetail) -> Self {
        AppView {
            id,
            cursor: ListCursor::default(),
            detail,
        }
    }

    pub fn visible_rows(&self) -> Vec<usize> {
        self.cursor.visible(&self.detail.versions, |v| {
            vec![
                v.workload.as_str(),
                v.version.as_deref().unwrap_or_default(),
            ]
        })
    }
}

/// One version of the app: a workload.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionRow {
    pub workload: String,
    pub version: Option<String>,
    pub pods_ready: u32,
    pub pods_desired: u32,
    /// Requests/s it received.
    pub rps_in: f64,
    pub error_pct: f64,
    /// The highest p95 among the edges into it: the slowest its callers see it.
    pub p95_ms: Option<f64>,
    pub health: Health,
    /// Its node in the graph on screen, whose history the trend shows.
    pub node: Option<NodeKey>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct AppDetail {
    pub versions: Vec<VersionRow>,
}

impl AppDetail {
    pub fn build(id: &ObjectId, from: &Sources<'_>) -> Self {
        let several = from.several_clusters;
        let mut versions: Vec<VersionRow> = from
            .inventory
            .workloads
            .iter()
            .filter(|w| {
                w.namespace == id.namespace
                    && w.app.as_deref() == Some(id.name.as_str())
                    && same_cluster(&w.cluster, &id.cluster, several)
            })
            .map(|w| VersionRow {
                workload: w.name.clone(),
                version: w.version.clone(),
                pods_ready: w.pods_ready,
                pods_desired: w.pods_desired,
                rps_in: 0.0,
                error_pct: 0.0,
                p95_ms: None,
                health: Health::NoTraffic,
                node: None,
            })
            .collect();
        // The graph on screen has a node per workload unless it is an app or service
        // graph; then a workload graph of the app's own traffic stands in.
        let on_screen = versions.first().is_some_and(|v| {
            workload_node(from.graph, &with_name(id, &v.workload), several).is_some()
        });
        let own;
        let graph: &MeshGraph = if on_screen {
            from.graph
        } else {
            let mut last = LastAnswer::default();
            let touches = |s: &TrafficSample| {
                let d = &s.labels.destination;
                last.check(Arc::as_ptr(d) as usize, || {
                    d.app == id.name && d.namespace == id.namespace
                })
            };
            own = graph_of_samples(from.samples, from.inventory, from.options, touches);
            &own
        };
        if versions.is_empty() {
            // Metrics only: the traffic names the versions.
            versions = graph
                .nodes()
                .filter(|(_, n)| {
                    n.app.as_deref() == Some(id.name.as_str()) && n.namespace == id.namespace
                })
                .filter_map(|(_, n)| {
                    Some(VersionRow {
                        workload: n.workload.clone()?,
                        version: n.version.clone(),
                        pods_ready: 0,
                        pods_desired: 0,
                        rps_in: 0.0,
                        error_pct: 0.0,
                        p95_ms: None,
                        health: Health::NoTraffic,
                        node: None,
                    })
                })
                .collect();
        }
        for row in &mut versions {
            let Some(index) = workload_node(graph, &with_name(id, &row.workload), several) else {
                continue;
            };
            let Some(node) = graph.node(index) else {
                continue;
            };
            row.rps_in = node.inbound.total;
            row.error_pct = node.inbound.error_pct();
            row.health = node.health;
            row.node = on_screen.then(|| node.key.clone());
            row.p95_ms = graph
                .graph
                .edges_directed(index, Direction::Incoming)
                .filter_map(|e| e.weight().latency.map(|l| l.p95_ms))
                .reduce(f64::max);
        }
        versions.sort_by(|a, b| (&a.version, &a.workload).cmp(&(&b.version, &b.workload)));
        AppDetail { versions }
    }
}

fn with_name(id: &ObjectId, name: &str) -> ObjectId {
    ObjectId::new(&id.cluster, &id.namespace, name)
}
