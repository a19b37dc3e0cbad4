//! What a layout remembers so the next one can keep boxes (and long edges) where they were.

use std::collections::HashMap;

use super::layering::LayeredGraph;
use super::{EdgeSpec, NodeBox, NodeSpec};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct Memory {
    /// Node keys by input index, matching `Layout::nodes`.
    keys: Vec<String>,
    dummies: Vec<DummyRow>,
}

/// The row of one dummy of a long edge; the edge is named by its end keys (indices into `keys`)
/// and which of the parallel edges between them it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DummyRow {
    from: usize,
    to: usize,
    occurrence: usize,
    layer: usize,
    row: u32,
}

impl Memory {
    pub fn record(nodes: &[NodeSpec], edges: &[EdgeSpec], g: &LayeredGraph, rows: &[u32]) -> Self {
        let occurrence = occurrences(g, edges);
        let mut dummies = Vec::new();
        for (c, chain) in g.chains.iter().enumerate() {
            let e = edges[chain.edge];
            for &s in chain.segments.iter().skip(1) {
                let dummy = g.segments[s].left;
                dummies.push(DummyRow {
                    from: e.from,
                    to: e.to,
                    occurrence: occurrence[c],
                    layer: g.layer_of[dummy],
                    row: rows[dummy],
                });
            }
        }
        Self {
            keys: nodes.iter().map(|n| n.key.clone()).collect(),
            dummies,
        }
    }

    /// Per vertex of `g`: the row it was drawn at last time (a box's middle row), if it existed.
    pub fn seeds(
        &self,
        g: &LayeredGraph,
        nodes: &[NodeSpec],
        edges: &[EdgeSpec],
        boxes: &[NodeBox],
    ) -> Vec<Option<f64>> {
        let mut seeds = vec![None; g.vertex_count()];
        let mut centre_of: HashMap<&str, f64> = HashMap::new();
        for (key, b) in self.keys.iter().zip(boxes) {
            let centre = f64::from(b.y) + (f64::from(b.height) - 1.0) / 2.0;
            centre_of.entry(key.as_str()).or_insert(centre);
        }
        for (v, &input) in g.input_of.iter().enumerate() {
            seeds[v] = centre_of.get(nodes[input].key.as_str()).copied();
        }

        let row_of: HashMap<(&str, &str, usize, usize), u32> = self
            .dummies
            .iter()
            .filter_map(|d| {
                let from = self.keys.get(d.from)?.as_str();
                let to = self.keys.get(d.to)?.as_str();
                Some(((from, to, d.occurrence, d.layer), d.row))
            })
            .collect();
        let occurrence = occurrences(g, edges);
        for (c, chain) in g.chains.iter().enumerate() {
            let e = edges[chain.edge];
            let (from, to) = (nodes[e.from].key.as_str(), nodes[e.to].key.as_str());
            for &s in chain.segments.iter().skip(1) {
                let dummy = g.segments[s].left;
                let key = (from, to, occurrence[c], g.layer_of[dummy]);
                seeds[dummy] = row_of.get(&key).map(|&row| f64::from(row));
            }
        }
        seeds
    }
}

/// Per chain: how many earlier chains join the same two nodes the same way. Chains are sorted by
/// their ends, so parallel edges are numbered in input edge order.
fn occurrences(g: &LayeredGraph, edges: &[EdgeSpec]) -> Vec<usize> {
    let mut seen: HashMap<(usize, usize), usize> = HashMap::new();
    g.chains
        .iter()
        .map(|chain| {
            let e = edges[chain.edge];
            let count = seen.entry((e.from, e.to)).or_insert(0);
            *count += 1;
            *count - 1
        })
        .collect()
}
