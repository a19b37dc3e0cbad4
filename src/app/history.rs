//! Recent traffic, kept per node and per edge across snapshots for the sparklines: a
//! bounded ring each, dropped when its node or edge leaves the data.

use std::collections::{HashMap, VecDeque};

use super::edge_table::EdgeIdentity;
use crate::mesh::{MeshGraph, NodeKey};

/// Snapshots kept per series.
pub const HISTORY_LEN: usize = 60;

/// The last [`HISTORY_LEN`] rates of one node or edge, oldest first. Rates only: at 10k
/// workloads the history holds some 40k trends.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trend {
    /// Requests (or TCP bytes) per second.
    pub rate: VecDeque<f32>,
    /// The snapshot that last recorded a value.
    seen: u64,
}

impl Trend {
    fn push(&mut self, rate: f64, generation: u64) {
        if self.seen == generation {
            return;
        }
        if self.rate.len() == HISTORY_LEN {
            self.rate.pop_front();
        }
        self.rate.push_back(rate as f32);
        self.seen = generation;
    }
}

#[derive(Debug, Clone, Default)]
pub struct TrafficHistory {
    nodes: HashMap<NodeKey, Trend>,
    edges: HashMap<EdgeIdentity, Trend>,
    generation: u64,
}

impl TrafficHistory {
    /// Starts a snapshot's recording: values recorded until [`Self::prune`] belong to it.
    pub fn begin(&mut self) {
        self.generation += 1;
    }

    /// Every node's inbound traffic and every edge's, from the snapshot's graph.
    pub fn record_graph(&mut self, graph: &MeshGraph) {
        let generation = self.generation;
        for (_, node) in graph.nodes() {
            let traffic = if node.inbound.total > 0.0 {
                &node.inbound
            } else {
                &node.outbound
            };
            // A lookup first: cloning the key for `entry` would allocate for every node.
            match self.nodes.get_mut(&node.key) {
                Some(trend) => trend.push(traffic.total, generation),
                None => {
                    let mut trend = Trend::default();
                    trend.push(traffic.total, generation);
                    self.nodes.insert(node.key.clone(), trend);
                }
            }
        }
        for (_, from, to, edge) in graph.edges() {
            let (Some(from), Some(to)) = (graph.node(from), graph.node(to)) else {
                continue;
            };
            self.record_edge(
                &(from.key.clone(), to.key.clone(), edge.protocol),
                edge.rate(),
            );
        }
    }

    /// One edge's values, for edges a view computed outside the main graph.
    pub fn record_edge(&mut self, identity: &EdgeIdentity, rate: f64) {
        let generation = self.generation;
        match self.edges.get_mut(identity) {
            Some(trend) => trend.push(rate, generation),
            None => {
                let mut trend = Trend::default();
                trend.push(rate, generation);
                self.edges.insert(identity.clone(), trend);
            }
        }
    }

    /// Forgets nodes and edges this snapshot did not record: memory follows the mesh.
    pub fn prune(&mut self) {
        let generation = self.generation;
        self.nodes.retain(|_, t| t.seen == generation);
        self.edges.retain(|_, t| t.seen == generation);
    }

    pub fn node(&self, key: &NodeKey) -> Option<&Trend> {
        self.nodes.get(key)
    }

    pub fn edge(&self, identity: &EdgeIdentity) -> Option<&Trend> {
        self.edges.get(identity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesh::Protocol;

    fn identity() -> EdgeIdentity {
        (NodeKey("a".into()), NodeKey("b".into()), Protocol::Http)
    }

    #[test]
    fn a_trend_keeps_the_last_sixty_snapshots_oldest_first() {
        let mut history = TrafficHistory::default();
        for i in 0..75 {
            history.begin();
            history.record_edge(&identity(), f64::from(i));
            history.prune();
        }
        let trend = history.edge(&identity()).unwrap();
        assert_eq!(trend.rate.len(), HISTORY_LEN);
        assert_eq!(trend.rate.front(), Some(&15.0));
        assert_eq!(trend.rate.back(), Some(&74.0));
    }

    #[test]
    fn an_edge_gone_from_a_snapshot_is_forgotten() {
        let mut history = TrafficHistory::default();
        history.begin();
        history.record_edge(&identity(), 1.0);
        history.prune();
        history.begin();
        history.prune();
        assert!(history.edge(&identity()).is_none());
    }
}
