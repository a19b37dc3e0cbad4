//! Kiali's service graph: the workload graph with service nodes, folded so that services call
//! services.
//!
//! A service's outgoing edges are the calls of the workloads behind it (those its edges reach
//! in the workload graph), added up per (destination, protocol). Workloads disappear, except
//! the traffic sources (the unknown caller, an ingress gateway), which keep their edges to
//! services only; a source left without one disappears too. What a node received and whether
//! it is a source are judged on the workload graph, as Kiali marks them before folding.

use std::collections::{HashMap, HashSet};

use petgraph::stable_graph::NodeIndex;

use super::{node_health, usable, Builder, EdgeAccumulator};
use crate::mesh::graph::{MeshGraph, NodeKind};
use crate::mesh::traffic::{ErrorSplit, Protocol, SampleLabels, TrafficSample};
use crate::mesh::GraphOptions;

/// The service graph's edges, to replace the workload graph's once that is finished.
pub(super) struct Folded<'i> {
    edges: HashMap<(NodeIndex, NodeIndex, Protocol), EdgeAccumulator<'i>>,
}

fn is_service(graph: &MeshGraph, index: NodeIndex) -> bool {
    graph
        .node(index)
        .is_some_and(|n| matches!(n.kind, NodeKind::Service | NodeKind::External))
}

impl<'i> Builder<'i> {
    /// Once every sample is in the workload graph, reads the samples again and adds each to
    /// the service graph's edge it belongs on: from each service in front of its caller, and
    /// from the caller itself when that is a traffic source.
    pub(super) fn fold_to_services(&mut self, samples: &'i [TrafficSample]) -> Folded<'i> {
        let mut fronted_by: HashMap<NodeIndex, Vec<NodeIndex>> = HashMap::new();
        let mut receivers = HashSet::new();
        for &(from, to, _) in self.edges.keys() {
            receivers.insert(to);
            if is_service(&self.graph, from) && !is_service(&self.graph, to) {
                let services = fronted_by.entry(to).or_default();
                // A service reaching a workload over two protocols still fronts it once.
                if !services.contains(&from) {
                    services.push(from);
                }
            }
        }
        let mut edges: HashMap<_, EdgeAccumulator<'i>> = HashMap::new();
        for sample in samples.iter().filter(|s| usable(s)) {
            let labels = &sample.labels;
            let caller = self.source_node(&labels.source);
            let hop = self.first_hop(labels);
            if !is_service(&self.graph, hop) {
                continue;
            }
            let protocol = labels.protocol;
            if !receivers.contains(&caller) {
                edges
                    .entry((caller, hop, protocol))
                    .or_default()
                    .add(sample);
            }
            for &service in fronted_by.get(&caller).into_iter().flatten() {
                edges
                    .entry((service, hop, protocol))
                    .or_default()
                    .add(sample);
            }
        }
        Folded { edges }
    }

    /// Where the workload graph sends a sample first: its service, else the workload that
    /// answered, else the unknown destination (as [`Builder::add`] does with service nodes).
    fn first_hop(&mut self, labels: &'i SampleLabels) -> NodeIndex {
        if let Some(service) = self.service_node(labels) {
            return service;
        }
        match self.destination_node(labels) {
            Some(workload) => workload,
            None => self.unknown_destination(),
        }
    }
}

impl Folded<'_> {
    /// Replaces the finished workload graph's edges by the service graph's and drops the
    /// nodes that have no place in it. Inbound rates and the source marks stay as the
    /// workload graph gave them; outbound rates and health follow the new edges.
    pub(super) fn apply(self, graph: &mut MeshGraph, options: &GraphOptions) {
        let senders: HashSet<NodeIndex> = self.edges.keys().map(|&(from, _, _)| from).collect();
        graph.graph.clear_edges();
        let dropped: Vec<NodeIndex> = graph
            .nodes()
            .filter(|&(index, _)| !is_service(graph, index) && !senders.contains(&index))
            .map(|(index, _)| index)
            .collect();
        for index in dropped {
            graph.remove_node(index);
        }
        for node in graph.graph.node_weights_mut() {
            node.outbound = ErrorSplit::default();
        }
        // Sort so that edge indices do not depend on hash order.
        let mut edges: Vec<_> = self.edges.into_iter().collect();
        edges.sort_by_key(|(key, _)| *key);
        for ((from, to, protocol), accumulator) in edges {
            let edge = accumulator.finish(protocol, &options.thresholds, options.tcp_rate);
            if let Some(node) = graph.graph.node_weight_mut(from) {
                node.outbound.merge(&edge.requests);
            }
            graph.graph.add_edge(from, to, edge);
        }
        for node in graph.graph.node_weights_mut() {
            node.health = node_health(node, &options.thresholds);
        }
    }
}
