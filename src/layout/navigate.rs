//! Arrow-key movement between boxes.

use super::{Layout, NodeBox};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Left,
    Right,
    Up,
    Down,
}

/// The node a user expects when pressing an arrow key with `from` selected: the nearest box whose
/// centre lies in that direction within a ±45° cone, preferring boxes aligned with the axis.
/// Left/Right fall back to the nearest box (by row) in the closest layer that way with an
/// eligible box. `eligible` filters nodes (e.g. hidden by a filter).
pub fn neighbour_in_direction(
    layout: &Layout,
    from: usize,
    dir: Direction,
    eligible: &dyn Fn(usize) -> bool,
) -> Option<usize> {
    let origin = layout.nodes.get(from)?;
    let (ox, oy) = centre(origin);
    let candidates = || {
        layout
            .nodes
            .iter()
            .enumerate()
            .filter(move |&(i, _)| i != from && eligible(i))
    };
    let in_cone = candidates()
        .filter_map(|(i, b)| {
            let (x, y) = centre(b);
            // A cell is about twice as tall as it is wide, so rows count double.
            let (dx, dy) = (x - ox, 2 * (y - oy));
            let (along, across) = match dir {
                Direction::Right => (dx, dy),
                Direction::Left => (-dx, dy),
                Direction::Down => (dy, dx),
                Direction::Up => (-dy, dx),
            };
            (along > 0 && across.abs() <= along).then_some((along + 2 * across.abs(), i))
        })
        .min()
        .map(|(_, i)| i);
    if in_cone.is_some() {
        return in_cone;
    }
    let step_right = match dir {
        Direction::Right => true,
        Direction::Left => false,
        Direction::Up | Direction::Down => return None,
    };
    // The closest layer that way holding an eligible box, then the box nearest by row.
    candidates()
        .filter(|(_, b)| {
            if step_right {
                b.layer > origin.layer
            } else {
                b.layer < origin.layer
            }
        })
        .map(|(i, b)| (b.layer.abs_diff(origin.layer), (centre(b).1 - oy).abs(), i))
        .min()
        .map(|(_, _, i)| i)
}

/// Twice the centre, so it stays an integer.
fn centre(b: &NodeBox) -> (i64, i64) {
    (
        2 * i64::from(b.x) + i64::from(b.width),
        2 * i64::from(b.y) + i64::from(b.height),
    )
}
