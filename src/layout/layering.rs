//! Cycle breaking, longest-path layering and dummy nodes for edges that span several layers.

use super::{EdgeSpec, NodeSpec};

/// The graph as the later stages see it. Vertices `0..input_of.len()` are real nodes numbered in
/// key order (so every "lowest id first" tie-break is a key tie-break, independent of input order);
/// the rest are dummies, numbered in chain order.
#[derive(Debug)]
pub(super) struct LayeredGraph {
    /// Real vertex id -> index into the input nodes.
    pub input_of: Vec<usize>,
    pub layer_of: Vec<usize>,
    pub layer_count: usize,
    pub segments: Vec<Segment>,
    /// Per vertex: segments leaving to the right (next layer), in chain order.
    pub outgoing: Adjacency,
    /// Per vertex: segments arriving from the left (previous layer), in chain order.
    pub incoming: Adjacency,
    pub chains: Vec<Chain>,
}

/// A piece of an edge between two adjacent layers; `left` is in the lower layer.
#[derive(Debug, Clone, Copy)]
pub(super) struct Segment {
    pub left: usize,
    pub right: usize,
    pub chain: usize,
}

/// One routed input edge, as the segments it is drawn with, left to right.
#[derive(Debug)]
pub(super) struct Chain {
    pub edge: usize,
    pub reversed: bool,
    pub segments: Vec<usize>,
}

/// Per vertex, a list of numbers (segments, or vertices at their other ends), stored flat:
/// graphs can have tens of thousands of dummies, and one allocation each would dominate.
#[derive(Debug)]
pub(super) struct Adjacency {
    start: Vec<usize>,
    ends: Vec<usize>,
}

impl Adjacency {
    pub fn build(vertices: usize, pairs: impl Iterator<Item = (usize, usize)> + Clone) -> Self {
        let mut start = vec![0; vertices + 1];
        for (v, _) in pairs.clone() {
            start[v + 1] += 1;
        }
        for i in 1..start.len() {
            start[i] += start[i - 1];
        }
        let mut fill = start.clone();
        let mut ends = vec![0; start[vertices]];
        for (v, w) in pairs {
            ends[fill[v]] = w;
            fill[v] += 1;
        }
        Self { start, ends }
    }
}

impl std::ops::Index<usize> for Adjacency {
    type Output = [usize];

    fn index(&self, v: usize) -> &[usize] {
        &self.ends[self.start[v]..self.start[v + 1]]
    }
}

impl LayeredGraph {
    pub fn vertex_count(&self) -> usize {
        self.layer_of.len()
    }

    pub fn is_real(&self, v: usize) -> bool {
        v < self.input_of.len()
    }
}

pub(super) fn build(nodes: &[NodeSpec], edges: &[EdgeSpec]) -> LayeredGraph {
    let n = nodes.len();
    let mut input_of: Vec<usize> = (0..n).collect();
    input_of.sort_by(|&a, &b| nodes[a].key.cmp(&nodes[b].key).then(a.cmp(&b)));
    let mut vertex_of = vec![0; n];
    for (v, &input) in input_of.iter().enumerate() {
        vertex_of[input] = v;
    }

    // (from, to, input edge) sorted, so chain order depends on keys, not on node input order.
    let mut valid: Vec<(usize, usize, usize)> = edges
        .iter()
        .enumerate()
        .filter(|(_, e)| e.from < n && e.to < n && e.from != e.to)
        .map(|(i, e)| (vertex_of[e.from], vertex_of[e.to], i))
        .collect();
    valid.sort_unstable();

    let reversed = back_edges(n, &valid);
    let dag: Vec<(usize, usize)> = valid
        .iter()
        .zip(&reversed)
        .map(|(&(f, t, _), &r)| if r { (t, f) } else { (f, t) })
        .collect();
    let mut layer_of = longest_path_layers(n, &dag);
    let layer_count = layer_of.iter().max().map_or(0, |&m| m + 1);

    let mut segments = Vec::new();
    let mut chains = Vec::with_capacity(valid.len());
    for (c, (&(left, right), &(_, _, edge))) in dag.iter().zip(&valid).enumerate() {
        let mut chain = Chain {
            edge,
            reversed: reversed[c],
            segments: Vec::new(),
        };
        let mut prev = left;
        for l in layer_of[left] + 1..layer_of[right] {
            let dummy = layer_of.len();
            layer_of.push(l);
            chain.segments.push(segments.len());
            segments.push(Segment {
                left: prev,
                right: dummy,
                chain: c,
            });
            prev = dummy;
        }
        chain.segments.push(segments.len());
        segments.push(Segment {
            left: prev,
            right,
            chain: c,
        });
        chains.push(chain);
    }

    let ends = segments.iter().enumerate();
    let outgoing = Adjacency::build(layer_of.len(), ends.clone().map(|(s, seg)| (seg.left, s)));
    let incoming = Adjacency::build(layer_of.len(), ends.map(|(s, seg)| (seg.right, s)));
    LayeredGraph {
        input_of,
        layer_of,
        layer_count,
        segments,
        outgoing,
        incoming,
        chains,
    }
}

/// Marks the edges that close a cycle, found by a depth-first search that starts from the sources
/// (so sources stay sources) and then from any vertex left, in id order.
fn back_edges(n: usize, edges: &[(usize, usize, usize)]) -> Vec<bool> {
    let mut out = vec![Vec::new(); n];
    let mut has_incoming = vec![false; n];
    for (i, &(f, t, _)) in edges.iter().enumerate() {
        out[f].push(i);
        has_incoming[t] = true;
    }
    const NEW: u8 = 0;
    const ON_STACK: u8 = 1;
    const DONE: u8 = 2;
    let mut state = vec![NEW; n];
    let mut reversed = vec![false; edges.len()];
    let mut stack: Vec<(usize, usize)> = Vec::new();
    let roots = (0..n).filter(|&v| !has_incoming[v]).chain(0..n);
    for root in roots {
        if state[root] != NEW {
            continue;
        }
        state[root] = ON_STACK;
        stack.push((root, 0));
        while let Some(top) = stack.last_mut() {
            let (v, next) = *top;
            match out[v].get(next) {
                Some(&e) => {
                    top.1 += 1;
                    let t = edges[e].1;
                    match state[t] {
                        NEW => {
                            state[t] = ON_STACK;
                            stack.push((t, 0));
                        }
                        ON_STACK => reversed[e] = true,
                        _ => {}
                    }
                }
                None => {
                    state[v] = DONE;
                    stack.pop();
                }
            }
        }
    }
    reversed
}

/// Each vertex's layer is the length of the longest path reaching it, so sources are in layer 0.
fn longest_path_layers(n: usize, dag: &[(usize, usize)]) -> Vec<usize> {
    let mut out = vec![Vec::new(); n];
    let mut pending = vec![0usize; n];
    for &(f, t) in dag {
        out[f].push(t);
        pending[t] += 1;
    }
    let mut layer = vec![0; n];
    let mut ready: Vec<usize> = (0..n).filter(|&v| pending[v] == 0).collect();
    while let Some(v) = ready.pop() {
        for &t in &out[v] {
            layer[t] = layer[t].max(layer[v] + 1);
            pending[t] -= 1;
            if pending[t] == 0 {
                ready.push(t);
            }
        }
    }
    layer
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specs(n: usize) -> Vec<NodeSpec> {
        (0..n)
            .map(|i| NodeSpec {
                key: format!("n{i:03}"),
                width: 10,
                min_height: 3,
            })
            .collect()
    }

    fn edges(pairs: &[(usize, usize)]) -> Vec<EdgeSpec> {
        pairs
            .iter()
            .map(|&(from, to)| EdgeSpec { from, to })
            .collect()
    }

    #[test]
    fn a_cycle_is_broken_by_reversing_exactly_one_edge() {
        let g = build(&specs(3), &edges(&[(0, 1), (1, 2), (2, 0)]));
        let reversed: Vec<_> = g.chains.iter().filter(|c| c.reversed).collect();
        assert_eq!(reversed.len(), 1);
        assert_eq!(reversed[0].edge, 2);
    }

    #[test]
    fn an_edge_spanning_three_layers_gets_two_dummies() {
        let g = build(&specs(4), &edges(&[(0, 1), (1, 2), (2, 3), (0, 3)]));
        assert_eq!(g.layer_count, 4);
        assert_eq!(g.vertex_count(), 6);
        let long = g.chains.iter().find(|c| c.edge == 3).unwrap();
        assert_eq!(long.segments.len(), 3);
    }

    #[test]
    fn self_loops_and_out_of_range_edges_are_dropped() {
        let g = build(&specs(2), &edges(&[(0, 0), (0, 7), (9, 1), (0, 1)]));
        assert_eq!(g.chains.len(), 1);
        assert_eq!(g.chains[0].edge, 3);
    }

    #[test]
    fn real_vertices_are_numbered_in_key_order() {
        let mut nodes = specs(3);
        nodes.reverse();
        let g = build(&nodes, &[]);
        assert_eq!(g.input_of, vec![2, 1, 0]);
    }
}
