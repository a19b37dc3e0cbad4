//! `update(&mut State, Msg) -> Outcome`: the only place state changes.

use std::collections::BTreeSet;

use super::access_log;
use super::action::Action;
use super::edge_table::{self, EdgeTableState};
use super::effect::Effect;
use super::format;
use super::forms::{self, TextKey};
use super::navigate;
use super::state::{FindState, Overlay, State, DEFAULT_FOCUS_HOPS, FOOTER_ROWS, HEADER_ROWS};
use super::topology::TopologyView;
use super::views::View;
use crate::layout::{neighbour_in_direction, Direction};
use crate::mesh::sanitize::sanitize;
use crate::mesh::{build_graph, NodeKey};
use crate::source::logs::LogEvent;
use crate::source::operations::{OperationsError, OperationsQuery, OperationsReport};
use crate::source::write::WriteEvent;
use crate::source::{MeshSnapshot, SourceCommand, SourceEvent, SourceHealth};

/// Keys that edit the find query; they bypass the keymap while a find is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindKey {
    Char(char),
    Backspace,
    /// Keep the selection and close the find line.
    Accept,
    /// Restore the selection from before the find.
    Cancel,
    NextMatch,
    PreviousMatch,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    Action(Action),
    Find(FindKey),
    /// Typing into a rule form, the form menu or the `:` command line.
    Text(TextKey),
    Source(SourceEvent),
    /// The rule writer's answer to an [`Effect::Write`].
    Write(WriteEvent),
    /// The answer to an [`Effect::QueryOperations`].
    Operations {
        query: OperationsQuery,
        result: Result<OperationsReport, OperationsError>,
    },
    /// News of the log followed since [`Effect::FollowLog`] with this id.
    Log {
        id: u64,
        event: LogEvent,
    },
    /// The clock moved; `now_unix_s` is the new time.
    Tick {
        now_unix_s: f64,
    },
    Resize {
        width: u16,
        height: u16,
    },
}

/// What an update asks for: effects to run, and whether the screen must be redrawn.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    pub effects: Vec<Effect>,
    pub redraw: bool,
}

impl Outcome {
    pub(crate) fn redraw() -> Self {
        Outcome {
            effects: Vec::new(),
            redraw: true,
        }
    }

    /// An effect alone changes nothing on screen; its result arrives as a message later.
    fn effect(effect: Effect) -> Self {
        Outcome {
            effects: vec![effect],
            redraw: false,
        }
    }
}

/// How far one pan step moves, in cells.
const PAN_STEP_COLUMNS: i32 = 8;
const PAN_STEP_ROWS: i32 = 4;

pub fn update(state: &mut State, msg: Msg) -> Outcome {
    // Keys, commands and new data can change the view on screen (or its pods): what its
    // tabs fetch follows.
    let may_change_view = matches!(
        msg,
        Msg::Action(_) | Msg::Text(_) | Msg::Source(SourceEvent::Snapshot(_))
    );
    let mut outcome = on_message(state, msg);
    if may_change_view {
        let started = navigate::sync_tab_views(state);
        if !started.is_empty() {
            outcome.effects.extend(started);
            outcome.redraw = true;
        }
    }
    outcome
}

fn on_message(state: &mut State, msg: Msg) -> Outcome {
    match msg {
        Msg::Action(action) => on_action(state, action),
        Msg::Find(key) => match state.interfaces.as_mut().filter(|v| v.filtering) {
            Some(view) => view.on_filter_key(key),
            None => on_find_key(state, key),
        },
        Msg::Text(key) => on_text(state, key),
        Msg::Write(event) => {
            let answered = match state.interfaces.as_mut() {
                Some(view) => view.on_write_event(&mut state.rules, &event),
                None => None,
            };
            // The interfaces tab may have been left while its Telemetry was applied.
            answered
                .or_else(|| super::interfaces::record_telemetry_applied(&mut state.rules, &event))
                .unwrap_or_else(|| forms::on_write_event(state, event))
        }
        Msg::Operations { query, result } => match state.interfaces.as_mut() {
            Some(view) => view.on_report(&query, result),
            None => Outcome::default(),
        },
        Msg::Log { id, event } => Outcome {
            effects: Vec::new(),
            redraw: state.logs.on_event(id, event),
        },
        Msg::Source(SourceEvent::Snapshot(snapshot)) => {
            apply_snapshot(state, snapshot);
            // An open interfaces view follows every refresh.
            let effects = state
                .interfaces
                .as_ref()
                .map(|view| view.query(state.window, state.data_taken_at))
                .into_iter()
                .collect();
            Outcome {
                effects,
                redraw: true,
            }
        }
        Msg::Source(SourceEvent::Status(health)) => {
            let changed = state.source_health != health;
            state.notice = match &health {
                SourceHealth::Ok => None,
                SourceHealth::Failing(message) => Some(sanitize(message)),
            };
            state.source_health = health;
            Outcome {
                effects: Vec::new(),
                redraw: changed,
            }
        }
        Msg::Tick { now_unix_s } => {
            // Redraw only when an age the status bar shows actually changes.
            let ages = |state: &State| {
                (
                    state.data_age_s().map(format::age),
                    state.inventory_age_s().map(format::age),
                    state
                        .interfaces
                        .as_ref()
                        .and_then(|v| v.data_age_s(state.now_unix_s))
                        .map(format::age),
                )
            };
            let before = ages(state);
            state.now_unix_s = now_unix_s;
            let after = ages(state);
            Outcome {
                effects: Vec::new(),
                redraw: before != after,
            }
        }
        Msg::Resize { width, height } => {
            state.screen_width = width;
            state.screen_height = height;
            state.viewport.width = width;
            state.viewport.height = height.saturating_sub(HEADER_ROWS + FOOTER_ROWS);
            clamp_viewport(state);
            reveal_selection(state);
            Outcome::redraw()
        }
    }
}

/// Text keys: a command line's Enter runs a navigation command when it names one; the
/// rule commands and everything else go to the forms.
fn on_text(state: &mut State, key: TextKey) -> Outcome {
    if key == TextKey::Enter {
        if let Some(line) = state.rules.command.clone() {
            let before = state.rules.command.take();
            if let Some(outcome) = navigate::run_command(state, &line) {
                return outcome;
            }
            state.rules.command = before;
        }
    }
    forms::on_form_text(state, key)
}

/// Folds a new snapshot into the state: rebuilds the graph, keeps the selection and the
/// layout where it can, and records the data's time.
pub fn apply_snapshot(state: &mut State, snapshot: Box<MeshSnapshot>) {
    state.data_taken_at = Some(snapshot.taken_at_unix_s);
    state.window = snapshot.window;
    state.source_health = SourceHealth::Ok;
    state.notice = None;
    // With several clusters a namespace's name alone does not say which one refused it.
    let inventory = &snapshot.inventory;
    let several_clusters = inventory.clusters().len() > 1;
    state.several_clusters = several_clusters;
    state.inaccessible_namespaces = inventory
        .inaccessible_namespaces
        .iter()
        .map(|n| {
            if several_clusters {
                sanitize(&format!("{}/{}", n.cluster, n.name))
            } else {
                sanitize(&n.name)
            }
        })
        .collect();
    let mut namespaces: BTreeSet<String> = snapshot
        .inventory
        .namespaces
        .iter()
        .map(|n| sanitize(&n.name))
        .collect();
    state.snapshot = Some(snapshot);
    build_graph_and_layout(state);
    state.history.begin();
    state.history.record_graph(&state.graph);
    navigate::refresh_current(state, true);
    state.history.prune();
    namespaces.extend(
        state
            .graph
            .nodes()
            .map(|(_, n)| n.namespace.clone())
            .filter(|n| n != "unknown"),
    );
    state.namespaces = namespaces.into_iter().collect();
}

/// Builds the graph from the kept snapshot with the current options, lays it out, and
/// brings the detail view on screen up to date.
pub(crate) fn rebuild_graph(state: &mut State) {
    build_graph_and_layout(state);
    navigate::refresh_current(state, false);
}

fn build_graph_and_layout(state: &mut State) {
    if let Some(snapshot) = &state.snapshot {
        state.graph = build_graph(&snapshot.samples, &snapshot.inventory, &state.graph_options);
    }
    if state
        .selection
        .as_ref()
        .is_some_and(|key| state.graph.node_index(key).is_none())
    {
        state.selection = None;
        state.focus_hops = None;
    }
    relayout(state);
}

pub(crate) fn relayout(state: &mut State) {
    let filter = state.visible_filter();
    state.view = TopologyView::build(&state.graph, &filter, Some(&state.view));
    if state.selected_index().is_none() {
        state.selection = busiest_entry_point(state);
    }
    follow_selected_edge(state);
    clamp_viewport(state);
    reveal_selection(state);
}

/// Where a user starts: the first-column node sending the most requests (usually the
/// ingress gateway), so the view opens on the way traffic enters the mesh.
fn busiest_entry_point(state: &State) -> Option<NodeKey> {
    let layout = &state.view.layout;
    (0..state.view.nodes.len())
        .filter(|i| layout.nodes.get(*i).is_some_and(|b| b.layer == 0))
        .filter_map(|i| state.graph.node(*state.view.nodes.get(i)?))
        .max_by(|a, b| {
            a.outbound
                .total
                .total_cmp(&b.outbound.total)
                .then_with(|| b.key.cmp(&a.key))
        })
        .map(|node| node.key.clone())
}

fn clamp_viewport(state: &mut State) {
    let (w, h) = (state.view.layout.width, state.view.layout.height);
    state.viewport.pan(0, 0, w, h);
}

fn reveal_selection(state: &mut State) {
    if let Some(rect) = state.selected_index().and_then(|i| state.node_rect(i)) {
        let (w, h) = (state.view.layout.width, state.view.layout.height);
        state.viewport.ensure_visible(rect, w, h);
    }
}

fn select_index(state: &mut State, index: usize) {
    if let Some(node) = state
        .view
        .nodes
        .get(index)
        .and_then(|n| state.graph.node(*n))
    {
        state.selection = Some(node.key.clone());
        if state.focus_hops.is_some() {
            relayout(state);
        } else {
            reveal_selection(state);
        }
    }
}

fn on_action(state: &mut State, action: Action) -> Outcome {
    let help_limit = state.help_scroll_limit();
    if let Some(Overlay::Help { scroll }) = &mut state.overlay {
        let before = *scroll;
        match action {
            Action::Back | Action::ShowHelp => {
                state.overlay = None;
                return Outcome::redraw();
            }
            Action::SelectDown | Action::PanDown => *scroll = scroll.saturating_add(1),
            Action::SelectUp | Action::PanUp => *scroll = scroll.saturating_sub(1),
            Action::PageDown => *scroll = scroll.saturating_add(10),
            Action::PageUp => *scroll = scroll.saturating_sub(10),
            Action::Quit => return Outcome::effect(Effect::Quit),
            _ => return Outcome::default(),
        }
        *scroll = (*scroll).min(help_limit);
        return Outcome {
            effects: Vec::new(),
            redraw: *scroll != before,
        };
    }
    if let Some(outcome) = forms::on_form_action(state, action) {
        return outcome;
    }
    if let Some(outcome) = super::tree_view::on_tree_action(state, action) {
        return outcome;
    }
    // The workload view's interfaces and logs tabs take their own keys first; what they
    // leave (Esc with nothing of theirs to close, Tab, quit ...) goes on to the view.
    if let Some(outcome) = on_access_log_action(state, action) {
        return outcome;
    }
    if let Some(view) = state.interfaces.as_mut() {
        if let Some(outcome) = view.on_action(&mut state.rules, action) {
            return outcome;
        }
    }
    match action {
        Action::ShowInterfaces => navigate::open_interfaces(state),
        Action::ShowTree => super::tree_view::open_tree(state),
        Action::EnableOperations => Outcome::default(),
        Action::Quit => Outcome::effect(Effect::Quit),
        Action::EditRules => forms::open_menu(state),
        Action::CommandLine => {
            state.rules.command = Some(String::new());
            Outcome::redraw()
        }
        Action::UndoRule => forms::undo_last(state),
        // Keys of an open form; with none open they do nothing.
        Action::NextField
        | Action::PreviousField
        | Action::Decrease
        | Action::Increase
        | Action::DecreaseMore
        | Action::IncreaseMore
        | Action::ToggleLock
        | Action::AddRule
        | Action::RemoveRule
        | Action::MoveRuleUp
        | Action::MoveRuleDown
        | Action::Submit
        | Action::ForceApply
        // Keys of the access log; with none open they do nothing.
        | Action::ToggleFollow
        | Action::CycleStatusFilter => Outcome::default(),
        Action::ShowHelp => {
            state.overlay = Some(Overlay::Help { scroll: 0 });
            Outcome::redraw()
        }
        Action::Back => {
            if navigate::back(state) {
                return Outcome::redraw();
            }
            if state.focus_hops.is_some() {
                state.focus_hops = None;
                relayout(state);
            } else if matches!(state.views.current(), View::EdgeTable) {
                state.views.set_root(View::Topology);
            } else if state.namespace_filter.is_some() {
                state.namespace_filter = None;
                relayout(state);
            } else {
                return Outcome::default();
            }
            Outcome::redraw()
        }
        Action::Refresh => Outcome::effect(Effect::Source(SourceCommand::RefreshNow)),
        Action::TogglePause => {
            state.paused = !state.paused;
            Outcome {
                effects: vec![Effect::Source(SourceCommand::SetPaused(state.paused))],
                redraw: true,
            }
        }
        Action::ToggleEdgeTable => {
            let root = match state.views.current() {
                View::Topology => View::EdgeTable,
                View::EdgeTable => View::Topology,
                // The graph's two faces swap only while one of them is on screen.
                _ => return Outcome::default(),
            };
            state.views.set_root(root);
            Outcome::redraw()
        }
        Action::OpenDetail => navigate::open_selected(state),
        Action::NextTab => navigate::switch_tab(state, true),
        Action::PreviousTab => navigate::switch_tab(state, false),
        Action::CycleGraphType => {
            state.graph_options.graph_type = state.graph_options.graph_type.next();
            rebuild_graph(state);
            Outcome::redraw()
        }
        Action::ToggleServiceNodes => {
            state.graph_options.inject_service_nodes = !state.graph_options.inject_service_nodes;
            rebuild_graph(state);
            Outcome::redraw()
        }
        Action::ToggleIdleNodes => {
            state.graph_options.idle_nodes = !state.graph_options.idle_nodes;
            rebuild_graph(state);
            Outcome::redraw()
        }
        Action::CycleNamespace => {
            state.namespace_filter =
                next_namespace(&state.namespaces, state.namespace_filter.as_deref());
            relayout(state);
            Outcome::redraw()
        }
        Action::Find if !state.views.is_at_root() => navigate::start_filter(state),
        Action::Find => {
            state.find = Some(FindState {
                query: String::new(),
                before: state.selection.clone(),
            });
            Outcome::redraw()
        }
        Action::ToggleFocus => {
            let before = state.focus_hops;
            state.focus_hops = match state.focus_hops {
                Some(_) => None,
                None if state.selection.is_some() => Some(DEFAULT_FOCUS_HOPS),
                None => None,
            };
            if state.focus_hops == before {
                return Outcome::default();
            }
            relayout(state);
            Outcome::redraw()
        }
        Action::WidenFocus | Action::NarrowFocus => {
            let Some(hops) = state.focus_hops else {
                return Outcome::default();
            };
            let wanted = if action == Action::WidenFocus {
                hops.saturating_add(1).min(9)
            } else {
                hops.saturating_sub(1).max(1)
            };
            if wanted == hops {
                return Outcome::default();
            }
            state.focus_hops = Some(wanted);
            relayout(state);
            Outcome::redraw()
        }
        Action::CycleSort => {
            state.table.sort = state.table.sort.next();
            follow_selected_edge(state);
            Outcome::redraw()
        }
        Action::ReverseSort => {
            state.table.reversed = !state.table.reversed;
            follow_selected_edge(state);
            Outcome::redraw()
        }
        Action::SelectUp | Action::SelectDown | Action::PageUp | Action::PageDown
            if !state.views.is_at_root() =>
        {
            navigate::move_row(state, action)
        }
        Action::SelectLeft | Action::SelectRight => {
            if !state.views.is_at_root() {
                return navigate::switch_tab(state, action == Action::SelectRight);
            }
            if matches!(state.views.current(), View::EdgeTable) {
                return Outcome::default();
            }
            move_selection(state, action)
        }
        Action::SelectUp | Action::SelectDown => {
            if matches!(state.views.current(), View::EdgeTable) {
                return move_table_selection(state, action);
            }
            move_selection(state, action)
        }
        Action::PageUp | Action::PageDown => {
            if matches!(state.views.current(), View::EdgeTable) {
                return move_table_selection(state, action);
            }
            let rows = i32::from(state.viewport.height.max(1));
            pan(
                state,
                0,
                if action == Action::PageDown {
                    rows
                } else {
                    -rows
                },
            )
        }
        Action::PanLeft => pan(state, -PAN_STEP_COLUMNS, 0),
        Action::PanRight => pan(state, PAN_STEP_COLUMNS, 0),
        Action::PanUp => pan(state, 0, -PAN_STEP_ROWS),
        Action::PanDown => pan(state, 0, PAN_STEP_ROWS),
        Action::CenterSelection => {
            if let Some(rect) = state.selected_index().and_then(|i| state.node_rect(i)) {
                let (w, h) = (state.view.layout.width, state.view.layout.height);
                state.viewport.center_on(rect, w, h);
            }
            Outcome::redraw()
        }
    }
}

/// Opens the interfaces view on the selected node's workload; nothing when the node
/// stands for no single workload (a service, an app of several versions).
fn pan(state: &mut State, dx: i32, dy: i32) -> Outcome {
    let (w, h) = (state.view.layout.width, state.view.layout.height);
    let before = state.viewport;
    state.viewport.pan(dx, dy, w, h);
    Outcome {
        effects: Vec::new(),
        redraw: state.viewport != before,
    }
}

fn move_selection(state: &mut State, action: Action) -> Outcome {
    let Some(from) = state.selected_index() else {
        if let Some(first) = state.view.reading_order().first().copied() {
            select_index(state, first);
        }
        return Outcome::redraw();
    };
    let direction = match action {
        Action::SelectLeft => Direction::Left,
        Action::SelectRight => Direction::Right,
        Action::SelectUp => Direction::Up,
        _ => Direction::Down,
    };
    match neighbour_in_direction(&state.view.layout, from, direction, &|_| true) {
        Some(next) => {
            select_index(state, next);
            Outcome::redraw()
        }
        None => Outcome::default(),
    }
}

fn move_table_selection(state: &mut State, action: Action) -> Outcome {
    let rows = table_rows(state);
    if rows.is_empty() {
        return Outcome::default();
    }
    let page = usize::from(state.viewport.height.saturating_sub(1).max(1));
    let selected = state.table.selected.min(rows.len() - 1);
    let next = match action {
        Action::SelectUp => selected.saturating_sub(1),
        Action::SelectDown => (selected + 1).min(rows.len() - 1),
        Action::PageUp => selected.saturating_sub(page),
        Action::PageDown => (selected + page).min(rows.len() - 1),
        _ => selected,
    };
    let changed = next != state.table.selected;
    state.table.selected = next;
    state.table.selected_edge = rows.get(next).map(|r| r.identity.clone());
    Outcome {
        effects: Vec::new(),
        redraw: changed,
    }
}

/// Puts the table's selection back on the selected edge after rows moved (a refresh, a new
/// sort); the first row when that edge is gone.
fn follow_selected_edge(state: &mut State) {
    // Nothing chosen yet: the top row, without building every row on each refresh.
    let Some(edge) = state.table.selected_edge.as_ref() else {
        state.table.selected = 0;
        return;
    };
    let rows = table_rows(state);
    let found = rows.iter().position(|r| r.identity == *edge);
    state.table.selected = found.unwrap_or(0).min(rows.len().saturating_sub(1));
    state.table.selected_edge = rows.get(state.table.selected).map(|r| r.identity.clone());
}

fn next_namespace(namespaces: &[String], current: Option<&str>) -> Option<String> {
    match current {
        None => namespaces.first().cloned(),
        Some(current) => {
            let position = namespaces.iter().position(|n| n == current)?;
            namespaces.get(position + 1).cloned()
        }
    }
}

fn on_find_key(state: &mut State, key: FindKey) -> Outcome {
    if let Some(log) = state.logs.open.as_mut().filter(|log| log.editing_filter) {
        return Outcome {
            effects: Vec::new(),
            redraw: log.on_filter_key(key),
        };
    }
    if !state.views.is_at_root() {
        return on_filter_key(state, key);
    }
    let Some(find) = &mut state.find else {
        return Outcome::default();
    };
    match key {
        FindKey::Char(c) => find.query.push(c),
        FindKey::Backspace => {
            find.query.pop();
        }
        FindKey::Accept => {
            state.find = None;
            return Outcome::redraw();
        }
        FindKey::Cancel => {
            let before = find.before.clone();
            state.find = None;
            if let Some(index) = before.and_then(|key| state.view.index_of(&state.graph, &key)) {
                select_index(state, index);
            }
            return Outcome::redraw();
        }
        FindKey::NextMatch | FindKey::PreviousMatch => {
            let matches = state.find_matches();
            if matches.is_empty() {
                return Outcome::default();
            }
            let current = state
                .selected_index()
                .and_then(|s| matches.iter().position(|m| *m == s));
            let next = match (key, current) {
                (FindKey::NextMatch, Some(i)) => (i + 1) % matches.len(),
                (FindKey::PreviousMatch, Some(i)) => (i + matches.len() - 1) % matches.len(),
                _ => 0,
            };
            select_index(state, matches[next]);
            return Outcome::redraw();
        }
    }
    if let Some(first) = state.find_matches().first().copied() {
        select_index(state, first);
    }
    Outcome::redraw()
}

/// The open access log's keys; `None` for keys it leaves to the rest (quit, help ...).
fn on_access_log_action(state: &mut State, action: Action) -> Option<Outcome> {
    let page = usize::from(access_log::page_rows(state.screen_height));
    let log = state.logs.open.as_mut()?;
    log.on_action(action, page).map(|redraw| Outcome {
        effects: Vec::new(),
        redraw,
    })
}

/// The find line in a detail view edits the list's filter as it is typed.
fn on_filter_key(state: &mut State, key: FindKey) -> Outcome {
    let Some(find) = &mut state.find else {
        return Outcome::default();
    };
    match key {
        FindKey::Char(c) if !c.is_control() => find.query.push(c),
        FindKey::Char(_) => return Outcome::default(),
        FindKey::Backspace => {
            find.query.pop();
        }
        FindKey::Accept => {
            state.find = None;
            return Outcome::redraw();
        }
        FindKey::Cancel => {
            state.find = None;
            navigate::set_filter(state, None);
            return Outcome::redraw();
        }
        FindKey::NextMatch => return navigate::move_row(state, Action::SelectDown),
        FindKey::PreviousMatch => return navigate::move_row(state, Action::SelectUp),
    }
    let query = find.query.clone();
    navigate::set_filter(state, Some(query));
    Outcome::redraw()
}

/// The edge table's rows as the table state sorts them.
pub fn table_rows(state: &State) -> Vec<edge_table::EdgeRow> {
    edge_table::rows(&state.graph, &state.view, &state.table)
}

impl EdgeTableState {
    pub fn sort_label(&self, ascii: bool) -> String {
        super::format::sort_label(self.sort.label(), self.reversed, ascii)
    }
}
