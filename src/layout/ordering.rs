//! Crossing reduction: barycenter sweeps, then adjacent swaps that strictly reduce crossings.

use super::layering::{Adjacency, LayeredGraph};

/// Full down/up sweep pairs at most; small graphs settle in two or three.
const MAX_SWEEPS: usize = 12;
/// Vertex visits allowed across all sweeps: huge graphs (tens of thousands of dummies) get fewer
/// sweeps, trading a few crossings for staying within the time a redraw can afford.
const SWEEP_BUDGET: usize = 400_000;
const MIN_SWEEPS: usize = 4;
/// Transpose passes at most; each pass that changes anything strictly reduces crossings.
const MAX_TRANSPOSE_PASSES: usize = 64;

/// Vertices of each layer, top to bottom.
pub(super) type Orders = Vec<Vec<usize>>;

struct Neighbours {
    left: Adjacency,
    right: Adjacency,
}

impl Neighbours {
    fn of(g: &LayeredGraph) -> Self {
        let n = g.vertex_count();
        let segs = g.segments.iter();
        Self {
            left: Adjacency::build(n, segs.clone().map(|s| (s.right, s.left))),
            right: Adjacency::build(n, segs.map(|s| (s.left, s.right))),
        }
    }
}

/// Orders every layer from scratch. Ties keep the current order, which starts as id (key) order.
pub(super) fn order(g: &LayeredGraph) -> Orders {
    let nb = Neighbours::of(g);
    let mut layers = initial_layers(g);
    let mut pos = positions(g, &layers);
    let mut best = layers.clone();
    let mut best_crossings = total_crossings(&layers, &pos, &nb);
    let mut stale = 0;
    let mut scratch = Scratch::default();
    let sweeps = (SWEEP_BUDGET / g.vertex_count().max(1)).clamp(MIN_SWEEPS, MAX_SWEEPS);
    for _ in 0..sweeps {
        if best_crossings == 0 {
            break;
        }
        for layer in layers.iter_mut().skip(1) {
            sort_by_barycenter(layer, &nb.left, &mut pos, &mut scratch);
        }
        for layer in layers.iter_mut().rev().skip(1) {
            sort_by_barycenter(layer, &nb.right, &mut pos, &mut scratch);
        }
        let crossings = total_crossings(&layers, &pos, &nb);
        if crossings < best_crossings {
            best_crossings = crossings;
            best.clone_from(&layers);
            stale = 0;
        } else {
            stale += 1;
            if stale >= 2 {
                break;
            }
        }
    }
    let mut pos = positions(g, &best);
    transpose(&mut best, &mut pos, &nb);
    best
}

/// Orders layers starting from `seeds` (a row per vertex, e.g. where it was drawn last time) and
/// only makes local improvements, so a small change of the graph moves few vertices. Vertices
/// without a seed go to the barycenter of their left neighbours (or right ones, or the bottom).
pub(super) fn refine(g: &LayeredGraph, seeds: &[Option<f64>]) -> Orders {
    let nb = Neighbours::of(g);
    let mut layers = initial_layers(g);
    let mut key = vec![f64::INFINITY; g.vertex_count()];
    for layer in &mut layers {
        for &v in layer.iter() {
            key[v] = match seeds.get(v).copied().flatten() {
                Some(seed) => seed,
                None => mean(nb.left[v].iter().map(|&u| key[u]))
                    .or_else(|| {
                        mean(
                            nb.right[v]
                                .iter()
                                .filter_map(|&w| seeds.get(w).copied().flatten()),
                        )
                    })
                    .unwrap_or(f64::INFINITY),
            };
        }
        layer.sort_by(|&a, &b| key[a].total_cmp(&key[b]).then(a.cmp(&b)));
    }
    let mut pos = positions(g, &layers);
    transpose(&mut layers, &mut pos, &nb);
    layers
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, count) = values.fold((0.0, 0usize), |(s, c), v| (s + v, c + 1));
    (count > 0).then(|| sum / count as f64)
}

fn initial_layers(g: &LayeredGraph) -> Orders {
    let mut layers = vec![Vec::new(); g.layer_count];
    for v in 0..g.vertex_count() {
        layers[g.layer_of[v]].push(v);
    }
    layers
}

fn positions(g: &LayeredGraph, layers: &Orders) -> Vec<usize> {
    let mut pos = vec![0; g.vertex_count()];
    for layer in layers {
        for (i, &v) in layer.iter().enumerate() {
            pos[v] = i;
        }
    }
    pos
}

/// Sorts the vertices that have neighbours by the mean position of those neighbours; vertices
/// without neighbours keep their slots. Equal barycenters keep their current order.
fn sort_by_barycenter(
    layer: &mut [usize],
    neighbours: &Adjacency,
    pos: &mut [usize],
    scratch: &mut Scratch,
) {
    scratch.movable.clear();
    scratch.slots.clear();
    for (i, &v) in layer.iter().enumerate() {
        let ns = &neighbours[v];
        if !ns.is_empty() {
            let sum: usize = ns.iter().map(|&u| pos[u]).sum();
            scratch.movable.push((sum as f64 / ns.len() as f64, i, v));
            scratch.slots.push(i);
        }
    }
    scratch
        .movable
        .sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    for (&slot, &(_, _, v)) in scratch.slots.iter().zip(&scratch.movable) {
        layer[slot] = v;
    }
    for (i, &v) in layer.iter().enumerate() {
        pos[v] = i;
    }
}

#[derive(Default)]
struct Scratch {
    movable: Vec<(f64, usize, usize)>,
    slots: Vec<usize>,
}

fn total_crossings(layers: &Orders, pos: &[usize], nb: &Neighbours) -> u64 {
    layers
        .iter()
        .map(|layer| {
            let mut pairs: Vec<(usize, usize)> = layer
                .iter()
                .flat_map(|&v| nb.right[v].iter().map(move |&w| (v, w)))
                .map(|(v, w)| (pos[v], pos[w]))
                .collect();
            crossings_between(&mut pairs)
        })
        .sum()
}

/// Crossings among straight segments given as (left position, right position): the number of
/// pairs ordered one way on the left and the other way on the right. Sort plus a Fenwick tree.
fn crossings_between(pairs: &mut [(usize, usize)]) -> u64 {
    pairs.sort_unstable();
    let size = pairs.iter().map(|p| p.1 + 1).max().unwrap_or(0);
    let mut tree = vec![0u64; size + 1];
    let mut crossings = 0;
    for (inserted, &(_, right)) in pairs.iter().enumerate() {
        // Already inserted segments that end strictly lower than this one cross it.
        let mut not_greater = 0;
        let mut i = right + 1;
        while i > 0 {
            not_greater += tree[i];
            i &= i - 1;
        }
        crossings += inserted as u64 - not_greater;
        let mut i = right + 1;
        while i <= size {
            tree[i] += 1;
            i += i & i.wrapping_neg();
        }
    }
    crossings
}

/// Swaps adjacent vertices while that strictly reduces the crossings they take part in. A layer
/// is looked at again only when it or a neighbouring layer changed, since nothing else can alter
/// its swap decisions.
fn transpose(layers: &mut Orders, pos: &mut [usize], nb: &Neighbours) {
    let mut a = Vec::new();
    let mut b = Vec::new();
    let mut dirty = vec![true; layers.len()];
    for _ in 0..MAX_TRANSPOSE_PASSES {
        let mut next = vec![false; layers.len()];
        let mut improved = false;
        for (l, layer) in layers.iter_mut().enumerate() {
            if !dirty[l] {
                continue;
            }
            let mut changed = false;
            for j in 0..layer.len().saturating_sub(1) {
                let (u, v) = (layer[j], layer[j + 1]);
                let (l_uv, l_vu) = pair_crossings(&nb.left[u], &nb.left[v], pos, &mut a, &mut b);
                let (r_uv, r_vu) = pair_crossings(&nb.right[u], &nb.right[v], pos, &mut a, &mut b);
                if l_vu + r_vu < l_uv + r_uv {
                    layer.swap(j, j + 1);
                    pos[u] = j + 1;
                    pos[v] = j;
                    changed = true;
                }
            }
            if changed {
                improved = true;
                for k in l.saturating_sub(1)..(l + 2).min(next.len()) {
                    next[k] = true;
                }
            }
        }
        if !improved {
            break;
        }
        dirty = next;
    }
}

/// Crossings between the segments of `u` and of `v` (to one neighbouring layer) with `u` above
/// `v`, and with `v` above `u`.
fn pair_crossings(
    nu: &[usize],
    nv: &[usize],
    pos: &[usize],
    a: &mut Vec<usize>,
    b: &mut Vec<usize>,
) -> (u64, u64) {
    match (nu, nv) {
        ([], _) | (_, []) => return (0, 0),
        // The common case (dummies): one segment each.
        ([x], [y]) => {
            let (x, y) = (pos[*x], pos[*y]);
            return (u64::from(x > y), u64::from(y > x));
        }
        _ => {}
    }
    a.clear();
    a.extend(nu.iter().map(|&x| pos[x]));
    a.sort_unstable();
    b.clear();
    b.extend(nv.iter().map(|&x| pos[x]));
    b.sort_unstable();
    (count_greater_pairs(a, b), count_greater_pairs(b, a))
}

/// Number of pairs (x in `a`, y in `b`) with x > y; both sorted.
fn count_greater_pairs(a: &[usize], b: &[usize]) -> u64 {
    let mut count = 0;
    let mut j = 0;
    for &x in a {
        while j < b.len() && b[j] < x {
            j += 1;
        }
        count += j as u64;
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crossing_count_matches_counting_every_pair() {
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..50 {
            let pairs: Vec<(usize, usize)> = (0..40)
                .map(|_| {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    ((rng % 9) as usize, ((rng >> 20) % 11) as usize)
                })
                .collect();
            let mut brute = 0;
            for (i, a) in pairs.iter().enumerate() {
                for b in &pairs[i + 1..] {
                    if (a.0 < b.0 && a.1 > b.1) || (a.0 > b.0 && a.1 < b.1) {
                        brute += 1;
                    }
                }
            }
            assert_eq!(crossings_between(&mut pairs.clone()), brute);
        }
    }

    #[test]
    fn pair_crossings_count_both_orders() {
        let pos = [0, 1, 2, 3];
        let (mut a, mut b) = (Vec::new(), Vec::new());
        // u reaches 2 and 3, v reaches 0: with u above v, both of u's segments cross v's.
        assert_eq!(pair_crossings(&[2, 3], &[0], &pos, &mut a, &mut b), (2, 0));
        assert_eq!(pair_crossings(&[1], &[1], &pos, &mut a, &mut b), (0, 0));
    }
}
