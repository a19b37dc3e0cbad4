//! The tree navigator as a view: opening it, its keys, and showing the chosen entry in
//! the graph.

use super::state::{State, FOOTER_ROWS, HEADER_ROWS};
use super::tree::{graph_node_for, TreeNavigator, TreeTarget};
use super::update::{relayout, Outcome};
use super::views::View;
use super::Action;
use crate::mesh::Inventory;

/// Rows the tree's frame and hint line take from the body.
const TREE_CHROME_ROWS: u16 = 3;

fn visible_rows(state: &State) -> usize {
    usize::from(
        state
            .screen_height
            .saturating_sub(HEADER_ROWS + FOOTER_ROWS + TREE_CHROME_ROWS),
    )
}

/// Opens the tree on top of the current view, at the graph's selection.
pub fn open_tree(state: &mut State) -> Outcome {
    if matches!(state.views.current(), View::Tree(_)) {
        return Outcome::default();
    }
    let empty = Inventory::default();
    let inventory = state
        .snapshot
        .as_ref()
        .map_or(&empty, |snapshot| &snapshot.inventory);
    let mut navigator = TreeNavigator::new(inventory, &state.graph, state.selection.as_ref());
    navigator.keep_selection_visible(visible_rows(state));
    state.views.push(View::Tree(Box::new(navigator)));
    state.find = None;
    Outcome::redraw()
}

/// New data: the tree is rebuilt, keeping what is open and selected.
pub fn refresh_tree(state: &mut State) {
    let rows = visible_rows(state);
    let Some(snapshot) = &state.snapshot else {
        return;
    };
    if let View::Tree(navigator) = state.views.current_mut() {
        navigator.refresh(&snapshot.inventory, &state.graph);
        navigator.keep_selection_visible(rows);
    }
}

/// The tree's keys; `None` for the ones it leaves to the rest (Esc, `/`, quit ...).
pub fn on_tree_action(state: &mut State, action: Action) -> Option<Outcome> {
    let rows = visible_rows(state);
    let View::Tree(navigator) = state.views.current_mut() else {
        return None;
    };
    let before = (
        navigator.selected.clone(),
        navigator.open.len(),
        navigator.offset,
    );
    let page = rows.max(1) as isize;
    match action {
        Action::SelectUp => navigator.move_selection(-1, rows),
        Action::SelectDown => navigator.move_selection(1, rows),
        Action::PageUp => navigator.move_selection(-page, rows),
        Action::PageDown => navigator.move_selection(page, rows),
        Action::SelectLeft => navigator.collapse(rows),
        Action::SelectRight => navigator.expand(rows),
        Action::OpenDetail => return Some(show_in_graph(state)),
        _ => return None,
    }
    let after = (
        navigator.selected.clone(),
        navigator.open.len(),
        navigator.offset,
    );
    Some(Outcome {
        effects: Vec::new(),
        redraw: before != after,
    })
}

/// Enter: leaves the tree for the topology, with the entry's namespace shown or its node
/// selected; says so when the graph has no node for it.
fn show_in_graph(state: &mut State) -> Outcome {
    let View::Tree(navigator) = state.views.current() else {
        return Outcome::default();
    };
    let Some(target) = navigator.selected_target().cloned() else {
        return Outcome::default();
    };
    let label = navigator
        .entry(&navigator.selected)
        .map(|e| e.label.clone())
        .unwrap_or_default();
    state.views.pop_to_root();
    state.views.set_root(View::Topology);
    state.find = None;
    match &target {
        TreeTarget::Cluster => state.namespace_filter = None,
        TreeTarget::Namespace { namespace } => {
            state.namespace_filter = state
                .namespaces
                .iter()
                .any(|n| n == namespace)
                .then(|| namespace.clone());
        }
        TreeTarget::App { .. } | TreeTarget::Workload { .. } => {
            match graph_node_for(&state.graph, &target, !state.several_clusters) {
                Some(key) => {
                    let namespace = state
                        .graph
                        .node_index(&key)
                        .and_then(|i| state.graph.node(i))
                        .map(|n| n.namespace.clone());
                    if state.namespace_filter.is_some() && state.namespace_filter != namespace {
                        state.namespace_filter = None;
                    }
                    state.selection = Some(key);
                }
                None => {
                    state.notice = Some(format!(
                        "{label} has no node in this graph (no traffic in the window; i shows idle nodes)"
                    ));
                }
            }
        }
    }
    relayout(state);
    Outcome::redraw()
}

/// `/` in the tree: the find line filters the entries.
pub fn set_tree_filter(state: &mut State, query: &str) -> bool {
    let rows = visible_rows(state);
    let View::Tree(navigator) = state.views.current_mut() else {
        return false;
    };
    navigator.filter = query.to_owned();
    if let Some(first) = navigator.rows().into_iter().find(|row| {
        navigator
            .entry(&row.path)
            .is_some_and(|e| e.label.to_lowercase().contains(&query.to_lowercase()))
    }) {
        navigator.selected = first.path;
    }
    navigator.keep_selection_visible(rows);
    true
}
