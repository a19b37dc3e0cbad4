//! Graph -> terminal cells: layering, crossing reduction, placement, routing, viewport. Pure; imports nothing in the crate.

// The pipeline is Sugiyama-style, left to right: `layering` breaks cycles and assigns layers (long
// edges get one-row dummy nodes), `ordering` reduces crossings, `placement` sizes boxes, gives every
// edge its own port rows and picks rows and columns, `routing` draws each edge as a polyline through
// its channel, and `index` answers "what is inside this window" quickly.

mod glyph;
mod index;
mod layering;
mod memory;
mod navigate;
mod ordering;
mod placement;
mod routing;
mod viewport;

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod tests;

pub use glyph::{arrow_glyph, glyph};
pub use index::MergedCell;
pub use navigate::{neighbour_in_direction, Direction};
pub use viewport::Viewport;

/// Direction bits of a [`RouteCell`]: the sides of the cell the line leaves through.
pub const UP: u8 = 1;
pub const DOWN: u8 = 2;
pub const LEFT: u8 = 4;
pub const RIGHT: u8 = 8;

/// One node to lay out. `width` includes the border columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSpec {
    pub key: String,
    pub width: u16,
    pub min_height: u16,
}

/// A directed edge between two indices of the node list; invalid indices and self loops are not routed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EdgeSpec {
    pub from: usize,
    pub to: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayoutParams {
    /// Cells reserved on each edge's first horizontal run for its label.
    pub label_width: u16,
    /// Blank rows between two boxes of the same layer.
    pub row_gap: u16,
}

impl Default for LayoutParams {
    fn default() -> Self {
        Self {
            label_width: 12,
            row_gap: 1,
        }
    }
}

/// Where a node's box goes. `order` is the box's rank among the boxes of its layer, top to bottom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeBox {
    pub x: u32,
    pub y: u32,
    pub width: u16,
    pub height: u16,
    pub layer: usize,
    pub order: usize,
}

impl NodeBox {
    pub fn rect(&self) -> Rect {
        Rect {
            x: self.x,
            y: self.y,
            width: u32::from(self.width),
            height: u32::from(self.height),
        }
    }
}

/// A rectangle of canvas cells; right and bottom are exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rect {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

impl Rect {
    pub fn right(&self) -> u32 {
        self.x.saturating_add(self.width)
    }

    pub fn bottom(&self) -> u32 {
        self.y.saturating_add(self.height)
    }

    pub fn contains(&self, x: u32, y: u32) -> bool {
        x >= self.x && x < self.right() && y >= self.y && y < self.bottom()
    }

    pub fn intersects(&self, other: &Rect) -> bool {
        self.x < other.right()
            && other.x < self.right()
            && self.y < other.bottom()
            && other.y < self.bottom()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteCell {
    pub x: u32,
    pub y: u32,
    /// [`UP`] | [`DOWN`] | [`LEFT`] | [`RIGHT`]; the end cells also point into their boxes.
    pub dirs: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArrowDir {
    Left,
    Right,
}

/// Where the caller writes an edge's label; the cells are part of the edge's horizontal run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabelSlot {
    pub x: u32,
    pub y: u32,
    pub width: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeRoute {
    /// Index into the `edges` given to [`layout`].
    pub edge: usize,
    /// The path from the cell right of the left box to the cell left of the right box, in order.
    pub cells: Vec<RouteCell>,
    /// The arrowhead cell; it is also one of `cells`.
    pub arrow: Option<(u32, u32, ArrowDir)>,
    /// `None` when `label_width` is 0.
    pub label: Option<LabelSlot>,
    /// True when the edge closes a cycle and is drawn right to left (arrowhead at the left end).
    pub reversed: bool,
}

/// The geometry of a whole graph. Carries what a later call needs to keep boxes where they were.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Layout {
    /// Same indices as the input nodes.
    pub nodes: Vec<NodeBox>,
    /// One per routed edge, in input edge order.
    pub routes: Vec<EdgeRoute>,
    pub width: u32,
    pub height: u32,
    index: index::CellIndex,
    memory: memory::Memory,
}

impl Layout {
    /// Every edge cell in `window`, route masks merged per cell, row by row.
    pub fn edge_cells_in(&self, window: Rect) -> Vec<MergedCell> {
        self.index.edge_cells_in(window, self.width, self.height)
    }

    /// Indices of the boxes that intersect `window`.
    pub fn nodes_in(&self, window: Rect) -> Vec<usize> {
        self.index.nodes_in(window, &self.nodes)
    }
}

/// Lays the graph out. With `previous` (an earlier result for a similar graph), nodes keep their
/// relative order where they can and only local improvements are made, so small changes move few boxes.
pub fn layout(
    nodes: &[NodeSpec],
    edges: &[EdgeSpec],
    params: &LayoutParams,
    previous: Option<&Layout>,
) -> Layout {
    let graph = layering::build(nodes, edges);
    let orders = match previous {
        Some(prev) => {
            let seeds = prev.memory.seeds(&graph, nodes, edges, &prev.nodes);
            ordering::refine(&graph, &seeds)
        }
        None => ordering::order(&graph),
    };
    let ports = placement::ports(&graph, &orders, nodes);
    let rows = placement::rows(&graph, &orders, &ports, params.row_gap);
    let plan = routing::plan(&graph, &ports, &rows);
    let columns = placement::columns(&graph, nodes, &plan.tracks, params.label_width);
    let geometry = routing::Geometry {
        nodes,
        ports: &ports,
        rows: &rows,
        columns: &columns,
        plan: &plan,
        params,
    };
    let routes = routing::draw(&graph, &geometry);

    let mut boxes = vec![
        NodeBox {
            x: 0,
            y: 0,
            width: 0,
            height: 0,
            layer: 0,
            order: 0,
        };
        nodes.len()
    ];
    for layer in &orders {
        let mut order = 0;
        for &v in layer {
            let Some(&input) = graph.input_of.get(v) else {
                continue;
            };
            let l = graph.layer_of[v];
            boxes[input] = NodeBox {
                x: columns[l].x,
                y: rows[v],
                width: nodes[input].width,
                height: u16::try_from(ports.height[v]).unwrap_or(u16::MAX),
                layer: l,
                order,
            };
            order += 1;
        }
    }

    let width = columns.last().map_or(0, |c| c.x.saturating_add(c.width));
    // Every route row is a vertex's row or a dogleg's middle row.
    let height = rows
        .iter()
        .zip(&ports.height)
        .map(|(&y, &h)| y.saturating_add(h))
        .chain(plan.shapes.iter().filter_map(|shape| match shape {
            routing::Shape::Dogleg { middle_row, .. } => Some(middle_row.saturating_add(1)),
            _ => None,
        }))
        .max()
        .unwrap_or(0);
    let index = index::CellIndex::build(&boxes, &routes, width, height);
    let memory = memory::Memory::record(nodes, edges, &graph, &rows);
    Layout {
        nodes: boxes,
        routes,
        width,
        height,
        index,
        memory,
    }
}
