//! Recent traffic, kept per node and per edge across snapshots for the sparklines: a
//! bounded ring each, dropped when its node or edge leaves the data.

use std::collections::{HashMap, VecDeque};

use super::edge_table::EdgeIdentity;
use crate::mesh::{MeshGraph, NodeKey};

/// Snapshots kept per series.
pub const HISTORY_LEN: usize = 60;

/// The last [`HISTORY_LEN`] values of one node or edge, oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trend {
    /// Requests (or TCP bytes) per second.
    pub rate: VecDeque<f32>,
    /// Error percentage.
    pub errors: VecDeque<f32>,
    /// The snapshot that last recorded a value.
    seen: u64,
}

impl Trend {
    fn push(&mut self, rate: f64, error_pct: f64, generation: u64) {
        if self.seen == generation {
            return;
        }
        for (ring, value) in [(&mut self.rate, rate), (&mut self.errors, error_pct)] {
            if ring.len() == HISTORY_LEN {
                ring.pop_front();
            }
            ring.push_back(value as f32);
        }
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
            self.nodes.entry(node.key.clone()).or_default().push(
                traffic.total,
                traffic.error_pct(),
                generation,
            );
        }
        for (_, from, to, edge) in graph.edges() {
            let (Some(from), Some(to)) = (graph.node(from), graph.node(to)) else {
                continue;
            };
            let rate = if edge.protocol == crate::mesh::Protocol::Tcp {
                edge.tcp_bytes_per_s
            } else {
                edge.rps()
            };
            self.record_edge(
                &(from.key.clone(), to.key.clone(), edge.protocol),
                rate,
                edge.requests.error_pct(),
            );
        }
    }

    /// One edge's values, for edges a view computed outside the main graph.
    pub fn record_edge(&mut self, identity: &EdgeIdentity, rate: f64, error_pct: f64) {
        let generation = self.generation;
        match self.edges.get_mut(identity) {
            Some(trend) => trend.push(rate, error_pct, generation),
            None => {
                let mut trend = Trend::default();
                trend.push(rate, error_pct, generation);
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
            history.record_edge(&identity(), f64::from(i), 0.0);
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
        history.record_edge(&identity(), 1.0, 0.0);
        history.prune();
        history.begin();
        history.prune();
        assert!(history.edge(&identity()).is_none());
    }
}
