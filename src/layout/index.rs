//! Per-row and per-column indexes built once per layout, so drawing a window costs about the
//! window's size, not the canvas's.

use super::{ArrowDir, EdgeRoute, NodeBox, Rect, DOWN, LEFT, RIGHT, UP};

/// One canvas cell with the lines of every route through it merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MergedCell {
    pub x: u32,
    pub y: u32,
    pub dirs: u8,
    /// The route drawn on top (for colouring): the highest route index through the cell.
    pub route: usize,
    /// Set on a route's arrowhead cell.
    pub arrow: Option<ArrowDir>,
}

/// Cells `from..=to` along a row (or column) `across`, all with the same mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Run {
    across: u32,
    from: u32,
    to: u32,
    dirs: u8,
    route: usize,
    arrow: Option<ArrowDir>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct LayerBoxes {
    x: u32,
    right: u32,
    /// Node indices, top to bottom.
    boxes: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct CellIndex {
    /// Horizontal runs and single cells (corners, ends, arrowheads), by row then x.
    rows: Buckets,
    /// Vertical runs, by column then row; runs in one column never overlap.
    columns: Buckets,
    layers: Vec<LayerBoxes>,
}

const HORIZONTAL: u8 = LEFT | RIGHT;
const VERTICAL: u8 = UP | DOWN;

impl CellIndex {
    pub fn build(boxes: &[NodeBox], routes: &[EdgeRoute], width: u32, height: u32) -> Self {
        let mut rows = Vec::new();
        let mut columns = Vec::new();
        for (route, r) in routes.iter().enumerate() {
            let arrow_at = |i: usize| {
                let c = r.cells[i];
                r.arrow
                    .filter(|&(x, y, _)| (x, y) == (c.x, c.y))
                    .map(|(_, _, d)| d)
            };
            let mut i = 0;
            while i < r.cells.len() {
                let c = r.cells[i];
                let arrow = arrow_at(i);
                let mut j = i;
                if arrow.is_none() && (c.dirs == HORIZONTAL || c.dirs == VERTICAL) {
                    while let Some(n) = r.cells.get(j + 1) {
                        let p = r.cells[j];
                        let continues = n.dirs == c.dirs
                            && arrow_at(j + 1).is_none()
                            && if c.dirs == HORIZONTAL {
                                n.y == p.y && p.x.checked_add(1) == Some(n.x)
                            } else {
                                n.x == p.x && n.y.abs_diff(p.y) == 1
                            };
                        if !continues {
                            break;
                        }
                        j += 1;
                    }
                }
                let end = r.cells[j];
                if c.dirs == VERTICAL && arrow.is_none() {
                    columns.push(Run {
                        across: c.x,
                        from: c.y.min(end.y),
                        to: c.y.max(end.y),
                        dirs: c.dirs,
                        route,
                        arrow,
                    });
                } else {
                    rows.push(Run {
                        across: c.y,
                        from: c.x,
                        to: end.x,
                        dirs: c.dirs,
                        route,
                        arrow,
                    });
                }
                i = j + 1;
            }
        }
        let rows = Buckets::new(rows, height);
        let columns = Buckets::new(columns, width);

        let layer_count = boxes.iter().map(|b| b.layer + 1).max().unwrap_or(0);
        let mut layers = vec![
            LayerBoxes {
                x: u32::MAX,
                right: 0,
                boxes: Vec::new(),
            };
            layer_count
        ];
        for (i, b) in boxes.iter().enumerate() {
            let layer = &mut layers[b.layer];
            layer.x = layer.x.min(b.x);
            layer.right = layer.right.max(b.rect().right());
            layer.boxes.push(i);
        }
        for layer in &mut layers {
            layer.boxes.sort_by_key(|&i| boxes[i].y);
        }
        Self {
            rows,
            columns,
            layers,
        }
    }

    pub fn edge_cells_in(&self, window: Rect, width: u32, height: u32) -> Vec<MergedCell> {
        let (x0, x1) = (window.x.min(width), window.right().min(width));
        let (y0, y1) = (window.y.min(height), window.bottom().min(height));
        if x0 >= x1 || y0 >= y1 {
            return Vec::new();
        }
        let w = (x1 - x0) as usize;
        let mut grid: Vec<(u8, usize, Option<ArrowDir>)> =
            vec![(0, 0, None); w * (y1 - y0) as usize];
        let mut mark = |x: u32, y: u32, run: &Run| {
            let cell = &mut grid[(y - y0) as usize * w + (x - x0) as usize];
            if cell.0 == 0 || run.route > cell.1 {
                cell.1 = run.route;
            }
            cell.0 |= run.dirs;
            if run.arrow.is_some() {
                cell.2 = run.arrow;
            }
        };
        for (y, runs) in self.rows.between(y0, y1) {
            for run in runs {
                if run.to < x0 || run.from >= x1 {
                    continue;
                }
                for x in run.from.max(x0)..=run.to.min(x1 - 1) {
                    mark(x, y, run);
                }
            }
        }
        for (x, runs) in self.columns.between(x0, x1) {
            let first = runs.partition_point(|r| r.to < y0);
            for run in runs[first..].iter().take_while(|r| r.from < y1) {
                for y in run.from.max(y0)..=run.to.min(y1 - 1) {
                    mark(x, y, run);
                }
            }
        }
        let mut cells = Vec::new();
        for (i, &(dirs, route, arrow)) in grid.iter().enumerate() {
            if dirs != 0 {
                cells.push(MergedCell {
                    x: x0 + (i % w) as u32,
                    y: y0 + (i / w) as u32,
                    dirs,
                    route,
                    arrow,
                });
            }
        }
        cells
    }

    pub fn nodes_in(&self, window: Rect, boxes: &[NodeBox]) -> Vec<usize> {
        let mut found = Vec::new();
        for layer in &self.layers {
            if layer.right <= window.x || layer.x >= window.right() {
                continue;
            }
            // Boxes of a layer do not overlap, so their bottoms are sorted like their tops.
            let first = layer
                .boxes
                .partition_point(|&i| boxes[i].rect().bottom() <= window.y);
            for &i in layer.boxes[first..]
                .iter()
                .take_while(|&&i| boxes[i].y < window.bottom())
            {
                if boxes[i].rect().intersects(&window) {
                    found.push(i);
                }
            }
        }
        found
    }
}

/// Runs grouped by `across`, keeping only the rows (or columns) that have any: memory follows
/// the number of runs, not the canvas size.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Buckets {
    runs: Vec<Run>,
    /// Distinct `across` values, ascending.
    keys: Vec<u32>,
    /// `runs[start[i]..start[i + 1]]` have `across == keys[i]`.
    start: Vec<usize>,
}

impl Buckets {
    fn new(mut runs: Vec<Run>, size: u32) -> Self {
        runs.retain(|r| r.across < size);
        runs.sort_unstable_by_key(|r| (r.across, r.from, r.route));
        let mut keys = Vec::new();
        let mut start = Vec::new();
        for (i, r) in runs.iter().enumerate() {
            if keys.last() != Some(&r.across) {
                keys.push(r.across);
                start.push(i);
            }
        }
        start.push(runs.len());
        Self { runs, keys, start }
    }

    /// Each `across` value in `lo..hi` that has runs, with its runs.
    fn between(&self, lo: u32, hi: u32) -> impl Iterator<Item = (u32, &[Run])> {
        let first = self.keys.partition_point(|&k| k < lo);
        self.keys[first..]
            .iter()
            .take_while(move |&&k| k < hi)
            .enumerate()
            .map(move |(i, &k)| {
                (
                    k,
                    &self.runs[self.start[first + i]..self.start[first + i + 1]],
                )
            })
    }
}
