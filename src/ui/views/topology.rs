//! The service graph: boxes, routed edges with labels, the selection.

use std::collections::HashSet;

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::Frame;

use super::health_style;
use crate::app::format;
use crate::app::topology::{box_tag, node_label, place_line};
use crate::app::State;
use crate::config::Slot;
use crate::layout::{arrow_glyph, glyph, Rect as CanvasRect, DOWN, LEFT, RIGHT, UP};
use crate::mesh::{Protocol, ServiceEdge};
use crate::ui::canvas::{truncate, Canvas};
use crate::ui::glyphs::{box_chars, dashed, health_mark};
use crate::ui::Chrome;

/// The text on an edge: rate and error share, or bytes for TCP.
pub fn edge_label(edge: &ServiceEdge) -> String {
    if edge.protocol == Protocol::Tcp {
        return format::bytes_rate(edge.tcp_bytes_per_s);
    }
    let errors = edge.requests.error_pct();
    if errors > 0.0 {
        format!("{} {}", format::rate(edge.rps()), format::percent(errors))
    } else {
        format::rate(edge.rps())
    }
}

pub fn topology(frame: &mut Frame, area: Rect, state: &State, chrome: &Chrome) {
    let theme = chrome.theme;
    if state.view.nodes.is_empty() {
        let message = if state.data_taken_at.is_none() {
            "Waiting for the first data…"
        } else {
            "No traffic in this view. Esc clears filters; n picks another namespace."
        };
        frame.buffer_mut().set_stringn(
            area.x + 1,
            area.y + 1,
            message,
            usize::from(area.width.saturating_sub(2)),
            theme.style(Slot::Muted),
        );
        return;
    }
    let window = CanvasRect {
        x: state.viewport.x,
        y: state.viewport.y,
        width: u32::from(area.width),
        height: u32::from(area.height),
    };
    let selected = state.selected_index();
    let selected_graph_node = selected.and_then(|i| state.view.nodes.get(i)).copied();
    let matches: HashSet<usize> = state.find_matches().into_iter().collect();
    let mut canvas = Canvas {
        buffer: frame.buffer_mut(),
        area,
        window,
    };

    // Edges first, so boxes and labels sit on top of any line that grazes them.
    let edge_style = |route: usize| -> (Style, Option<&ServiceEdge>, bool) {
        let graph_edge = state
            .view
            .layout
            .routes
            .get(route)
            .and_then(|r| state.view.edges.get(r.edge));
        let Some(&edge_index) = graph_edge else {
            return (Style::default(), None, false);
        };
        let weight = state.graph.graph.edge_weight(edge_index);
        let touches_selection = state
            .graph
            .graph
            .edge_endpoints(edge_index)
            .is_some_and(|(a, b)| Some(a) == selected_graph_node || Some(b) == selected_graph_node);
        let mut style = weight
            .map(|w| health_style(theme, w.health))
            .unwrap_or_default();
        if touches_selection {
            style = style.add_modifier(Modifier::BOLD);
        }
        (style, weight, touches_selection)
    };
    for cell in state.view.layout.edge_cells_in(window) {
        let (style, weight, _) = edge_style(cell.route);
        let mut ch = glyph(cell.dirs, chrome.ascii);
        let straight = cell.dirs == (LEFT | RIGHT) || cell.dirs == (UP | DOWN);
        let plain = weight
            .and_then(|w| w.mtls_share)
            .is_some_and(|share| share < 0.999);
        if straight && plain {
            ch = dashed(ch, chrome.ascii);
        }
        canvas.put(cell.x, cell.y, ch, style);
    }
    for (route_index, route) in state.view.layout.routes.iter().enumerate() {
        let (style, weight, _) = edge_style(route_index);
        if let Some((x, y, direction)) = route.arrow {
            canvas.put(x, y, arrow_glyph(direction, chrome.ascii), style);
        }
        if let (Some(slot), Some(weight)) = (route.label, weight) {
            if slot.width >= 3 {
                let text = truncate(
                    &edge_label(weight),
                    usize::from(slot.width) - 2,
                    chrome.ascii,
                );
                canvas.text(slot.x + 1, slot.y, &text, u32::from(slot.width) - 2, style);
            }
        }
    }

    for index in state.view.layout.nodes_in(window) {
        let (Some(node_box), Some(node)) = (
            state.view.layout.nodes.get(index),
            state
                .view
                .nodes
                .get(index)
                .and_then(|n| state.graph.node(*n)),
        ) else {
            continue;
        };
        let is_selected = Some(index) == selected;
        let chars = box_chars(is_selected, chrome.ascii);
        // Idle nodes (known, no traffic) and nodes outside the chosen namespaces recede.
        let border = if is_selected {
            theme.style(Slot::Selection)
        } else if node.idle || node.outside {
            theme.style(Slot::Muted)
        } else {
            theme.style(Slot::Border)
        };
        let (x, y) = (node_box.x, node_box.y);
        let (w, h) = (u32::from(node_box.width), u32::from(node_box.height));
        if w < 2 || h < 2 {
            continue;
        }
        for dx in 1..w - 1 {
            canvas.put(x + dx, y, chars.horizontal, border);
            canvas.put(x + dx, y + h - 1, chars.horizontal, border);
        }
        for dy in 1..h - 1 {
            canvas.put(x, y + dy, chars.vertical, border);
            canvas.put(x + w - 1, y + dy, chars.vertical, border);
            for dx in 1..w - 1 {
                canvas.put(x + dx, y + dy, ' ', Style::default());
            }
        }
        canvas.put(x, y, chars.top_left, border);
        canvas.put(x + w - 1, y, chars.top_right, border);
        canvas.put(x, y + h - 1, chars.bottom_left, border);
        canvas.put(x + w - 1, y + h - 1, chars.bottom_right, border);
        canvas.text(
            x + 2,
            y,
            &box_tag(node, state.view.show_clusters),
            w.saturating_sub(4),
            theme.style(Slot::Muted),
        );

        let inner = w.saturating_sub(4);
        let mark = health_mark(node.health, chrome.ascii);
        canvas.text(x + 1, y + 1, mark, 1, health_style(theme, node.health));
        let label = truncate(&node_label(node), inner as usize, chrome.ascii);
        let label_style = if is_selected {
            theme.style(Slot::Selection)
        } else if matches.contains(&index) {
            theme.style(Slot::Match)
        } else if node.idle {
            theme.style(Slot::Muted)
        } else {
            theme.style(Slot::Text)
        };
        canvas.text(x + 3, y + 1, &label, inner, label_style);
        if h >= 4 {
            let namespace = truncate(&place_line(node), inner as usize, chrome.ascii);
            canvas.text(x + 3, y + 2, &namespace, inner, theme.style(Slot::Muted));
        }
    }
}
