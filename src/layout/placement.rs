//! Box heights, port rows, the row of every vertex and the column of every layer.

use super::layering::LayeredGraph;
use super::ordering::Orders;
use super::NodeSpec;

/// Down/up placement sweeps before the final downward one.
const SWEEPS: usize = 4;
/// Segment weights for pulling rows together: long edges (dummy to dummy) straighten first.
const WEIGHT_REAL: f64 = 1.0;
const WEIGHT_ONE_DUMMY: f64 = 2.0;
const WEIGHT_TWO_DUMMIES: f64 = 8.0;
/// A vertex with no neighbour on the side looked at barely resists being pushed.
const WEIGHT_NONE: f64 = 0.001;

pub(super) struct Ports {
    /// Per vertex, in rows; dummies are one row tall.
    pub height: Vec<u32>,
    /// Per segment: its row on the left vertex, counted from the vertex's top row.
    pub out_row: Vec<u32>,
    /// Per segment: its row on the right vertex, counted from the vertex's top row.
    pub in_row: Vec<u32>,
}

/// Gives every segment its own row on each real box, ordered by where the other end sits so that
/// edges leaving or entering one box do not cross there. Ports are centred on the box side.
pub(super) fn ports(g: &LayeredGraph, orders: &Orders, nodes: &[NodeSpec]) -> Ports {
    let mut pos = vec![0; g.vertex_count()];
    for layer in orders {
        for (i, &v) in layer.iter().enumerate() {
            pos[v] = i;
        }
    }
    let mut ports = Ports {
        height: vec![1; g.vertex_count()],
        out_row: vec![0; g.segments.len()],
        in_row: vec![0; g.segments.len()],
    };
    let mut sorted = Vec::new();
    for (v, &input) in g.input_of.iter().enumerate() {
        let (outs, ins) = (&g.outgoing[v], &g.incoming[v]);
        let most = u32::try_from(outs.len().max(ins.len())).unwrap_or(u32::MAX);
        let height = u32::from(nodes[input].min_height).max(most.saturating_add(2));
        ports.height[v] = height;

        sorted.clear();
        sorted.extend_from_slice(outs);
        sorted.sort_by_key(|&s| (pos[g.segments[s].right], g.segments[s].chain));
        assign_rows(&sorted, height, &mut ports.out_row);
        sorted.clear();
        sorted.extend_from_slice(ins);
        sorted.sort_by_key(|&s| (pos[g.segments[s].left], g.segments[s].chain));
        assign_rows(&sorted, height, &mut ports.in_row);
    }
    ports
}

fn assign_rows(segments: &[usize], height: u32, rows: &mut [u32]) {
    let count = u32::try_from(segments.len()).unwrap_or(u32::MAX);
    let first = 1 + height.saturating_sub(2).saturating_sub(count) / 2;
    for (i, &s) in segments.iter().enumerate() {
        rows[s] = first.saturating_add(u32::try_from(i).unwrap_or(u32::MAX));
    }
}

/// Per vertex and side, what pulls its top row: for each segment, the other end and the shift
/// that makes the segment straight (`top = y[other] + shift`), with a weight. Flat arrays, since
/// placement walks every vertex several times.
struct Pulls {
    start: Vec<usize>,
    pulls: Vec<(usize, i64, f64)>,
}

impl Pulls {
    fn build(g: &LayeredGraph, ports: &Ports, toward_left: bool) -> Self {
        let mut start = Vec::with_capacity(g.vertex_count() + 1);
        let mut pulls = Vec::with_capacity(g.segments.len());
        start.push(0);
        for v in 0..g.vertex_count() {
            let segments = if toward_left {
                &g.incoming[v]
            } else {
                &g.outgoing[v]
            };
            for &s in segments {
                let seg = g.segments[s];
                let (other, other_row, own_row) = if toward_left {
                    (seg.left, ports.out_row[s], ports.in_row[s])
                } else {
                    (seg.right, ports.in_row[s], ports.out_row[s])
                };
                let shift = i64::from(other_row) - i64::from(own_row);
                pulls.push((other, shift, weight(g, v, other)));
            }
            start.push(pulls.len());
        }
        Self { start, pulls }
    }

    /// Weight and weighted mean of the tops that would straighten `v`'s segments on this side.
    fn desired_top(&self, v: usize, y: &[i64]) -> Option<(f64, f64)> {
        let (mut total, mut sum) = (0.0, 0.0);
        for &(other, shift, w) in &self.pulls[self.start[v]..self.start[v + 1]] {
            total += w;
            sum += w * (y[other] + shift) as f64;
        }
        (total > 0.0).then(|| (total, sum / total))
    }
}

/// The top row of every vertex. Each layer keeps its order and gaps, and is pulled toward the
/// port rows its segments connect to in a neighbouring layer (weighted least squares, solved
/// exactly per layer by isotonic regression), so most edges come out straight or short.
pub(super) fn rows(g: &LayeredGraph, orders: &Orders, ports: &Ports, row_gap: u16) -> Vec<u32> {
    let mut y = vec![0i64; g.vertex_count()];
    let mut offsets = vec![0i64; g.vertex_count()];
    for layer in orders {
        let mut next = 0i64;
        for (i, &v) in layer.iter().enumerate() {
            if i > 0 {
                next += gap(g, layer[i - 1], v, row_gap);
            }
            offsets[v] = next;
            y[v] = next;
            next += i64::from(ports.height[v]);
        }
    }
    let left = Pulls::build(g, ports, true);
    let right = Pulls::build(g, ports, false);
    let mut blocks = Vec::new();
    for _ in 0..SWEEPS {
        for layer in orders.iter().skip(1) {
            place_layer(layer, &offsets, (&left, &right), &mut y, &mut blocks);
        }
        for layer in orders.iter().rev().skip(1) {
            place_layer(layer, &offsets, (&right, &left), &mut y, &mut blocks);
        }
    }
    for layer in orders.iter().skip(1) {
        place_layer(layer, &offsets, (&left, &right), &mut y, &mut blocks);
    }
    let top = y.iter().copied().min().unwrap_or(0);
    y.iter()
        .map(|&row| u32::try_from(row - top).unwrap_or(u32::MAX))
        .collect()
}

/// Two long edges may run in adjacent rows; anything next to a box keeps the gap.
fn gap(g: &LayeredGraph, a: usize, b: usize, row_gap: u16) -> i64 {
    if g.is_real(a) || g.is_real(b) {
        i64::from(row_gap)
    } else {
        0
    }
}

fn weight(g: &LayeredGraph, a: usize, b: usize) -> f64 {
    match (g.is_real(a), g.is_real(b)) {
        (true, true) => WEIGHT_REAL,
        (false, false) => WEIGHT_TWO_DUMMIES,
        _ => WEIGHT_ONE_DUMMY,
    }
}

/// Moves one layer toward `pulls.0` (or `pulls.1` for vertices with nothing on that side).
fn place_layer(
    layer: &[usize],
    offsets: &[i64],
    pulls: (&Pulls, &Pulls),
    y: &mut [i64],
    blocks: &mut Vec<(f64, f64, usize)>,
) {
    // With offset_i the packed position of vertex i, z_i = y_i - offset_i must not decrease:
    // that is exactly "keep the order and the gaps". Least squares under that constraint is an
    // isotonic regression, solved by pooling adjacent violators.
    blocks.clear();
    for &v in layer {
        let offset = offsets[v] as f64;
        let (w, top) = pulls
            .0
            .desired_top(v, y)
            .or_else(|| pulls.1.desired_top(v, y))
            .unwrap_or((WEIGHT_NONE, y[v] as f64));
        blocks.push((w, w * (top - offset), 1));
        while blocks.len() >= 2 {
            let (w2, s2, c2) = blocks[blocks.len() - 1];
            let (w1, s1, c1) = blocks[blocks.len() - 2];
            if s1 / w1 <= s2 / w2 {
                break;
            }
            blocks.pop();
            let last = blocks.len() - 1;
            blocks[last] = (w1 + w2, s1 + s2, c1 + c2);
        }
    }
    let mut i = 0;
    for &(w, s, count) in blocks.iter() {
        let z = (s / w).round() as i64;
        for &v in &layer[i..i + count] {
            y[v] = z + offsets[v];
        }
        i += count;
    }
}

/// A layer's column: where its boxes start and how wide the widest is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Column {
    pub x: u32,
    pub width: u32,
}

impl Column {
    /// First cell of the channel to the right of this column.
    pub fn channel_start(&self) -> u32 {
        self.x.saturating_add(self.width)
    }
}

/// Channel cells between two layers: one lead cell (room for a reversed edge's arrowhead), the
/// label, the track columns, one gap cell and the arrowhead cell.
pub(super) fn channel_width(label_width: u16, tracks: u32) -> u32 {
    tracks.saturating_add(u32::from(label_width) + 3)
}

pub(super) fn columns(
    g: &LayeredGraph,
    nodes: &[NodeSpec],
    tracks: &[u32],
    label_width: u16,
) -> Vec<Column> {
    let mut widths = vec![0u32; g.layer_count];
    for (v, &input) in g.input_of.iter().enumerate() {
        let w = &mut widths[g.layer_of[v]];
        *w = (*w).max(u32::from(nodes[input].width));
    }
    let mut x = 0u32;
    widths
        .iter()
        .enumerate()
        .map(|(l, &width)| {
            let column = Column { x, width };
            let channel = channel_width(label_width, tracks.get(l).copied().unwrap_or(0));
            x = x.saturating_add(width).saturating_add(channel);
            column
        })
        .collect()
}
