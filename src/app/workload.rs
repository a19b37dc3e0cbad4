//! The workload view: its pods, labels and services, its inbound and outbound traffic, and
//! the tabs the interfaces and access-log views plug into.

use petgraph::Direction;

use std::sync::Arc;

use super::detail::{
    graph_of_samples, same_cluster, traffic_rows, workload_node, LastAnswer, TrafficRow,
};
use super::views::{ListCursor, ObjectId};
use crate::mesh::inventory::{PodPhase, WorkloadKind};
use crate::mesh::{GraphOptions, Health, Inventory, MeshGraph, TrafficSample};

/// The workload view's tabs, in the order Tab walks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum WorkloadTab {
    #[default]
    Pods,
    Inbound,
    Outbound,
    /// The per-operation table (`State::interfaces`, asked for while the tab shows).
    Interfaces,
    /// The chosen pod's proxy log (`State::logs`, followed while the tab shows).
    Logs,
}

impl WorkloadTab {
    pub const ALL: [WorkloadTab; 5] = [
        WorkloadTab::Pods,
        WorkloadTab::Inbound,
        WorkloadTab::Outbound,
        WorkloadTab::Interfaces,
        WorkloadTab::Logs,
    ];

    pub fn label(self) -> &'static str {
        match self {
            WorkloadTab::Pods => "pods",
            WorkloadTab::Inbound => "inbound",
            WorkloadTab::Outbound => "outbound",
            WorkloadTab::Interfaces => "interfaces",
            WorkloadTab::Logs => "logs",
        }
    }

    fn position(self) -> usize {
        Self::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }

    pub fn next(self) -> Self {
        Self::ALL[(self.position() + 1) % Self::ALL.len()]
    }

    pub fn previous(self) -> Self {
        Self::ALL[(self.position() + Self::ALL.len() - 1) % Self::ALL.len()]
    }
}

#[derive(Debug, Clone)]
pub struct WorkloadView {
    pub id: ObjectId,
    pub tab: WorkloadTab,
    pub cursor: ListCursor,
    /// The pod the logs tab follows: the one chosen with Enter in the pods tab, else the
    /// first.
    pub chosen_pod: Option<String>,
    pub detail: WorkloadDetail,
}

impl WorkloadView {
    pub fn new(id: ObjectId, detail: WorkloadDetail) -> Self {
        WorkloadView {
            id,
            tab: WorkloadTab::default(),
            cursor: ListCursor::default(),
            chosen_pod: None,
            detail,
        }
    }

    /// Indices of the current tab's rows that pass the filter.
    pub fn visible_rows(&self) -> Vec<usize> {
        match self.tab {
            WorkloadTab::Pods => self.cursor.visible(&self.detail.pods, |p| {
                vec![p.name.as_str(), p.node.as_deref().unwrap_or_default()]
            }),
            WorkloadTab::Inbound => self
                .cursor
                .visible(&self.detail.inbound, |r| vec![r.peer.as_str()]),
            WorkloadTab::Outbound => self
                .cursor
                .visible(&self.detail.outbound, |r| vec![r.peer.as_str()]),
            WorkloadTab::Interfaces | WorkloadTab::Logs => Vec::new(),
        }
    }

    /// The traffic rows of the current tab, if it shows traffic.
    pub fn traffic(&self) -> Option<&[TrafficRow]> {
        match self.tab {
            WorkloadTab::Inbound => Some(&self.detail.inbound),
            WorkloadTab::Outbound => Some(&self.detail.outbound),
            _ => None,
        }
    }

    /// The pod whose log the logs tab shows.
    pub fn log_pod(&self) -> Option<&PodRow> {
        let chosen = self.chosen_pod.as_deref();
        self.detail
            .pods
            .iter()
            .find(|p| Some(p.name.as_str()) == chosen)
            .or_else(|| self.detail.pods.first())
    }
}

/// One pod as the pods table shows it; strings sanitized by the source.
#[derive(Debug, Clone, PartialEq)]
pub struct PodRow {
    pub name: String,
    pub phase: PodPhase,
    pub ready: bool,
    pub restarts: u32,
    pub started_at_unix_s: Option<f64>,
    pub node: Option<String>,
    pub ip: Option<String>,
    pub sidecar_injected: bool,
    pub proxy_version: Option<String>,
}

/// What the inventory knows of the workload itself.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadFacts {
    pub kind: WorkloadKind,
    pub app: Option<String>,
    pub version: Option<String>,
    pub pods_ready: u32,
    pub pods_desired: u32,
    pub sidecar_injected: bool,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct WorkloadDetail {
    /// `None` when the inventory does not list the workload (metrics only, or gone).
    pub facts: Option<WorkloadFacts>,
    pub labels: Vec<(String, String)>,
    /// Names of the services whose selector picks its pods.
    pub services: Vec<String>,
    pub pods: Vec<PodRow>,
    pub inbound: Vec<TrafficRow>,
    pub outbound: Vec<TrafficRow>,
    pub health: Health,
    /// The rows were computed apart from the graph on screen (which has no node for the
    /// workload), so the history must record them itself.
    pub own_traffic: bool,
}

/// What the workload view reads; borrowed from the state.
pub struct Sources<'a> {
    pub inventory: &'a Inventory,
    pub graph: &'a MeshGraph,
    pub samples: &'a [TrafficSample],
    pub options: &'a GraphOptions,
    pub show_clusters: bool,
    pub several_clusters: bool,
}

impl WorkloadDetail {
    pub fn build(id: &ObjectId, from: &Sources<'_>) -> Self {
        let inventory = from.inventory;
        let several = from.several_clusters;
        let workload = inventory.workloads.iter().find(|w| {
            w.namespace == id.namespace
                && w.name == id.name
                && same_cluster(&w.cluster, &id.cluster, several)
        });
        let mut detail = WorkloadDetail::default();
        if let Some(w) = workload {
            detail.facts = Some(WorkloadFacts {
                kind: w.kind,
                app: w.app.clone(),
                version: w.version.clone(),
                pods_ready: w.pods_ready,
                pods_desired: w.pods_desired,
                sidecar_injected: w.sidecar_injected,
            });
            detail.labels = w
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            detail.services = inventory.services_of(w).map(|s| s.name.clone()).collect();
            detail.pods = inventory
                .pods
                .iter()
                .filter(|p| {
                    p.namespace == w.namespace
                        && p.workload.as_deref() == Some(w.name.as_str())
                        && p.cluster == w.cluster
                })
                .map(|p| PodRow {
                    name: p.name.clone(),
                    phase: p.phase,
                    ready: p.ready,
                    restarts: p.restarts,
                    started_at_unix_s: p.started_at_unix_s,
                    node: p.node.clone(),
                    ip: p.ip.clone(),
                    sidecar_injected: p.sidecar_injected,
                    proxy_version: p.proxy_version.clone(),
                })
                .collect();
        }
        match workload_node(from.graph, id, several) {
            Some(node) => {
                detail.health = from.graph.node(node).map(|n| n.health).unwrap_or_default();
                detail.inbound =
                    traffic_rows(from.graph, node, Direction::Incoming, from.show_clusters);
                detail.outbound =
                    traffic_rows(from.graph, node, Direction::Outgoing, from.show_clusters);
            }
            None => {
                let is = |p: &crate::mesh::PeerLabels| {
                    p.workload == id.name && p.namespace == id.namespace
                };
                let (mut source, mut destination) = (LastAnswer::default(), LastAnswer::default());
                let touches = |s: &TrafficSample| {
                    let (from, to) = (&s.labels.source, &s.labels.destination);
                    source.check(Arc::as_ptr(from) as usize, || is(from))
                        || destination.check(Arc::as_ptr(to) as usize, || is(to))
                };
                let graph = graph_of_samples(from.samples, inventory, from.options, touches);
                if let Some(node) = workload_node(&graph, id, several) {
                    detail.health = graph.node(node).map(|n| n.health).unwrap_or_default();
                    detail.inbound =
                        traffic_rows(&graph, node, Direction::Incoming, from.show_clusters);
                    detail.outbound =
                        traffic_rows(&graph, node, Direction::Outgoing, from.show_clusters);
                }
                detail.own_traffic = true;
            }
        }
        detail
    }
}

#[cfg(test)]
mod tests {
    use super::WorkloadTab;

    #[test]
    fn tabs_go_round_in_both_directions() {
        assert_eq!(WorkloadTab::Logs.next(), WorkloadTab::Pods);
        assert_eq!(WorkloadTab::Pods.previous(), WorkloadTab::Logs);
        assert_eq!(WorkloadTab::Inbound.next(), WorkloadTab::Outbound);
    }
}
