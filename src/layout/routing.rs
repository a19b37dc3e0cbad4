//! Edge routing: track columns in each channel, then every edge as a path of cells.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet};

use super::layering::LayeredGraph;
use super::placement::{Column, Ports};
use super::{
    ArrowDir, EdgeRoute, LabelSlot, LayoutParams, NodeSpec, RouteCell, DOWN, LEFT, RIGHT, UP,
};

/// How a segment crosses its channel. Tracks count from the channel's first track column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    Straight,
    Bent {
        track: u32,
    },
    /// Two verticals joined on a row no other segment uses; needed when segments swap rows
    /// pairwise (A from row p to q, B from q to p), which one vertical each cannot draw
    /// without two horizontals sharing a row.
    Dogleg {
        first: u32,
        middle_row: u32,
        second: u32,
    },
}

pub(super) struct Plan {
    /// Per segment.
    pub shapes: Vec<Shape>,
    /// Per channel (the channel right of layer `l` is `l`): how many track columns it needs.
    pub tracks: Vec<u32>,
}

pub(super) fn plan(g: &LayeredGraph, ports: &Ports, rows: &[u32]) -> Plan {
    let source: Vec<u32> = g
        .segments
        .iter()
        .enumerate()
        .map(|(s, seg)| rows[seg.left].saturating_add(ports.out_row[s]))
        .collect();
    let target: Vec<u32> = g
        .segments
        .iter()
        .enumerate()
        .map(|(s, seg)| rows[seg.right].saturating_add(ports.in_row[s]))
        .collect();
    let mut by_channel = vec![Vec::new(); g.layer_count];
    for (s, seg) in g.segments.iter().enumerate() {
        by_channel[g.layer_of[seg.left]].push(s);
    }
    let mut shapes = vec![Shape::Straight; g.segments.len()];
    let tracks = by_channel
        .iter()
        .map(|segs| plan_channel(segs, &source, &target, &mut shapes))
        .collect();
    Plan { shapes, tracks }
}

/// Placement order among ready pieces: downward segments first, lowest source first; then
/// upward ones, highest source first. Overlapping pieces in this order do not cross each other.
type Priority = (bool, i64, usize);

/// A vertical run to place on a track: rows `lo..=hi`.
struct Piece {
    lo: u32,
    hi: u32,
    priority: Priority,
}

/// Assigns tracks to the bent segments of one channel; returns the number of tracks used.
///
/// Rules: vertical runs on one track keep a blank row between them, and when segment A's left
/// run shares a row with segment B's right run, A's track is left of B's so the runs do not meet.
fn plan_channel(segs: &[usize], source: &[u32], target: &[u32], shapes: &mut [Shape]) -> u32 {
    let bent: Vec<usize> = segs
        .iter()
        .copied()
        .filter(|&s| source[s] != target[s])
        .collect();
    if bent.is_empty() {
        return 0;
    }
    // Rows are unique per side (one port row per segment), so "the segment whose right run is
    // on my left run's row" is a function; its cycles are the row swaps that need a dogleg.
    let by_target: HashMap<u32, usize> = bent
        .iter()
        .enumerate()
        .map(|(i, &s)| (target[s], i))
        .collect();
    let successor: Vec<Option<usize>> = bent
        .iter()
        .map(|&s| by_target.get(&source[s]).copied())
        .collect();
    let dogleg = cycle_breakers(&successor, &bent);

    let mut used: HashSet<u32> = segs.iter().flat_map(|&s| [source[s], target[s]]).collect();
    let mut pieces = Vec::new();
    let mut left_piece = vec![0; bent.len()];
    let mut right_piece = vec![0; bent.len()];
    let mut middle = vec![0; bent.len()];
    let mut precedes: Vec<(usize, usize)> = Vec::new();
    for (i, &s) in bent.iter().enumerate() {
        let (from, to) = (source[s], target[s]);
        let priority = if from < to {
            (false, -i64::from(from), s)
        } else {
            (true, i64::from(from), s)
        };
        let piece = |a: u32, b: u32| Piece {
            lo: a.min(b),
            hi: a.max(b),
            priority,
        };
        left_piece[i] = pieces.len();
        if dogleg[i] {
            let row = free_row(from, to, &used);
            used.insert(row);
            middle[i] = row;
            pieces.push(piece(from, row));
            precedes.push((pieces.len() - 1, pieces.len()));
            pieces.push(piece(row, to));
        } else {
            pieces.push(piece(from, to));
        }
        right_piece[i] = pieces.len() - 1;
    }
    for (i, next) in successor.iter().enumerate() {
        if let Some(j) = *next {
            precedes.push((left_piece[i], right_piece[j]));
        }
    }
    let (track_of, count) = assign_tracks(&pieces, &precedes);
    for (i, &s) in bent.iter().enumerate() {
        shapes[s] = if dogleg[i] {
            Shape::Dogleg {
                first: track_of[left_piece[i]],
                middle_row: middle[i],
                second: track_of[right_piece[i]],
            }
        } else {
            Shape::Bent {
                track: track_of[left_piece[i]],
            }
        };
    }
    count
}

/// One member of every cycle of `successor` (the one with the lowest segment id).
fn cycle_breakers(successor: &[Option<usize>], bent: &[usize]) -> Vec<bool> {
    let mut walk = vec![0usize; successor.len()];
    let mut breaker = vec![false; successor.len()];
    for start in 0..successor.len() {
        if walk[start] != 0 {
            continue;
        }
        let id = start + 1;
        let mut cur = start;
        loop {
            walk[cur] = id;
            match successor[cur] {
                Some(next) if walk[next] == 0 => cur = next,
                Some(next) if walk[next] == id => {
                    let mut best = next;
                    let mut member = successor[next];
                    while let Some(m) = member {
                        if m == next {
                            break;
                        }
                        if bent[m] < bent[best] {
                            best = m;
                        }
                        member = successor[m];
                    }
                    breaker[best] = true;
                    break;
                }
                _ => break,
            }
        }
    }
    breaker
}

/// The unused row closest to the middle of `from..to`.
fn free_row(from: u32, to: u32, used: &HashSet<u32>) -> u32 {
    let mid = from.min(to) + from.abs_diff(to) / 2;
    for distance in 0..=u32::try_from(used.len()).unwrap_or(u32::MAX) {
        for row in [mid.checked_add(distance), mid.checked_sub(distance)]
            .into_iter()
            .flatten()
        {
            if !used.contains(&row) {
                return row;
            }
        }
    }
    // Unreachable in practice: `used.len() + 1` candidates below `mid` cannot all be used.
    mid.saturating_add(u32::try_from(used.len()).unwrap_or(u32::MAX))
}

/// Places pieces in precedence order (ties by priority) on the leftmost track that respects
/// their predecessors and has room. Returns each piece's track and the number of tracks.
fn assign_tracks(pieces: &[Piece], precedes: &[(usize, usize)]) -> (Vec<u32>, u32) {
    let mut after = vec![Vec::new(); pieces.len()];
    let mut waiting = vec![0usize; pieces.len()];
    for &(a, b) in precedes {
        after[a].push(b);
        waiting[b] += 1;
    }
    let mut ready: BinaryHeap<Reverse<(Priority, usize)>> = pieces
        .iter()
        .enumerate()
        .filter(|(i, _)| waiting[*i] == 0)
        .map(|(i, p)| Reverse((p.priority, i)))
        .collect();
    let mut lowest = vec![0usize; pieces.len()];
    let mut track_of = vec![0u32; pieces.len()];
    let mut tracks: Vec<BTreeMap<u32, u32>> = Vec::new();
    while let Some(Reverse((_, i))) = ready.pop() {
        let p = &pieces[i];
        let mut t = lowest[i];
        loop {
            if t == tracks.len() {
                tracks.push(BTreeMap::new());
            }
            if has_room(&tracks[t], p.lo, p.hi) {
                tracks[t].insert(p.lo, p.hi);
                break;
            }
            t += 1;
        }
        track_of[i] = u32::try_from(t).unwrap_or(u32::MAX);
        for &b in &after[i] {
            lowest[b] = lowest[b].max(t + 1);
            waiting[b] -= 1;
            if waiting[b] == 0 {
                ready.push(Reverse((pieces[b].priority, b)));
            }
        }
    }
    (track_of, u32::try_from(tracks.len()).unwrap_or(u32::MAX))
}

/// Whether `lo..=hi` fits on a track with a blank row to its neighbours (runs are disjoint, so
/// only the last run starting at or above `hi + 1` can come too close).
fn has_room(track: &BTreeMap<u32, u32>, lo: u32, hi: u32) -> bool {
    match track.range(..=hi.saturating_add(1)).next_back() {
        Some((_, &end)) => end.saturating_add(1) < lo,
        None => true,
    }
}

pub(super) struct Geometry<'a> {
    pub nodes: &'a [NodeSpec],
    pub ports: &'a Ports,
    pub rows: &'a [u32],
    pub columns: &'a [Column],
    pub plan: &'a Plan,
    pub params: &'a LayoutParams,
}

/// One route per chain, in input edge order.
pub(super) fn draw(g: &LayeredGraph, geo: &Geometry) -> Vec<EdgeRoute> {
    let mut routes: Vec<EdgeRoute> = g
        .chains
        .iter()
        .map(|chain| {
            let mut points = Vec::with_capacity(chain.segments.len() * 4);
            let mut label = None;
            for (k, &s) in chain.segments.iter().enumerate() {
                let seg = g.segments[s];
                let l = g.layer_of[seg.left];
                let (Some(col), Some(next)) = (geo.columns.get(l), geo.columns.get(l + 1)) else {
                    continue;
                };
                let start = match g.input_of.get(seg.left) {
                    Some(&input) => col.x.saturating_add(u32::from(geo.nodes[input].width)),
                    None => col.x,
                };
                let from = geo.rows[seg.left].saturating_add(geo.ports.out_row[s]);
                let to = geo.rows[seg.right].saturating_add(geo.ports.in_row[s]);
                let label_x = col.channel_start().saturating_add(1);
                let first_track = label_x.saturating_add(u32::from(geo.params.label_width));
                points.push((start, from));
                match geo.plan.shapes[s] {
                    Shape::Straight => {}
                    Shape::Bent { track } => {
                        let x = first_track.saturating_add(track);
                        points.extend([(x, from), (x, to)]);
                    }
                    Shape::Dogleg {
                        first,
                        middle_row,
                        second,
                    } => {
                        let (x1, x2) = (
                            first_track.saturating_add(first),
                            first_track.saturating_add(second),
                        );
                        points.extend([(x1, from), (x1, middle_row), (x2, middle_row), (x2, to)]);
                    }
                }
                points.push((next.x.saturating_sub(1), to));
                if k == 0 && geo.params.label_width > 0 {
                    label = Some(LabelSlot {
                        x: label_x,
                        y: from,
                        width: geo.params.label_width,
                    });
                }
            }
            let cells = rasterize(&points);
            let end = if chain.reversed {
                cells.first().map(|c| (c.x, c.y, ArrowDir::Left))
            } else {
                cells.last().map(|c| (c.x, c.y, ArrowDir::Right))
            };
            EdgeRoute {
                edge: chain.edge,
                cells,
                arrow: end,
                label,
                reversed: chain.reversed,
            }
        })
        .collect();
    routes.sort_by_key(|r| r.edge);
    routes
}

/// The cells along a polyline of axis-aligned steps, with the sides each cell connects through;
/// the first cell also opens to the left and the last to the right (into their boxes).
fn rasterize(points: &[(u32, u32)]) -> Vec<RouteCell> {
    let Some(&(x, y)) = points.first() else {
        return Vec::new();
    };
    let length: u32 = points
        .windows(2)
        .map(|p| p[0].0.abs_diff(p[1].0) + p[0].1.abs_diff(p[1].1))
        .sum();
    let mut cells = Vec::with_capacity(length as usize + 1);
    cells.push(RouteCell { x, y, dirs: LEFT });
    let (mut cx, mut cy) = (x, y);
    for &(x, y) in &points[1..] {
        while (cx, cy) != (x, y) {
            // Horizontal first, so a diagonal pair of points still gives a connected path.
            let (dir, back) = if x > cx {
                cx += 1;
                (RIGHT, LEFT)
            } else if x < cx {
                cx -= 1;
                (LEFT, RIGHT)
            } else if y > cy {
                cy += 1;
                (DOWN, UP)
            } else {
                cy -= 1;
                (UP, DOWN)
            };
            if let Some(last) = cells.last_mut() {
                last.dirs |= dir;
            }
            cells.push(RouteCell {
                x: cx,
                y: cy,
                dirs: back,
            });
        }
    }
    if let Some(last) = cells.last_mut() {
        last.dirs |= RIGHT;
    }
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rasterizing_a_step_gives_corner_masks() {
        let cells = rasterize(&[(0, 0), (2, 0), (2, 2), (3, 2)]);
        let masks: Vec<u8> = cells.iter().map(|c| c.dirs).collect();
        assert_eq!(
            masks,
            vec![
                LEFT | RIGHT,
                LEFT | RIGHT,
                LEFT | DOWN,
                UP | DOWN,
                UP | RIGHT,
                LEFT | RIGHT
            ]
        );
    }

    #[test]
    fn two_segments_swapping_rows_get_one_dogleg() {
        let source = [1, 5];
        let target = [5, 1];
        let mut shapes = vec![Shape::Straight; 2];
        let tracks = plan_channel(&[0, 1], &source, &target, &mut shapes);
        let doglegs = shapes
            .iter()
            .filter(|s| matches!(s, Shape::Dogleg { .. }))
            .count();
        assert_eq!(doglegs, 1);
        assert!(tracks >= 2);
    }

    #[test]
    fn a_left_run_sharing_a_row_with_a_right_run_gets_the_left_track() {
        // Segment 0 leaves on row 4, where segment 1 arrives: 0 must turn before 1 does.
        let source = [4, 0];
        let target = [8, 4];
        let mut shapes = vec![Shape::Straight; 2];
        plan_channel(&[0, 1], &source, &target, &mut shapes);
        let (Shape::Bent { track: a }, Shape::Bent { track: b }) = (shapes[0], shapes[1]) else {
            panic!("expected two bent segments, got {shapes:?}");
        };
        assert!(a < b);
    }

    #[test]
    fn runs_on_one_track_keep_a_blank_row_between_them() {
        let mut track = BTreeMap::new();
        track.insert(2, 5);
        assert!(!has_room(&track, 6, 9));
        assert!(has_room(&track, 7, 9));
        assert!(!has_room(&track, 0, 1));
        assert!(has_room(&track, 0, 0));
    }
}
