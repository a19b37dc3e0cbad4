//! Moving between views: Enter opens the selection's detail view, Esc goes back, Tab
//! walks a workload's tabs, `/` filters a detail view's list, and the `:ns`, `:wl`,
//! `:svc`, `:app` and `:graph` commands jump.

use super::application::{AppDetail, AppView};
use super::detail::target_of;
use super::forms::RuleNotice;
use super::interfaces::InterfacesState;
use super::service::{ServiceDetail, ServiceView};
use super::state::{FindState, State};
use super::update::{table_rows, Outcome};
use super::views::{DetailTarget, ObjectId, View};
use super::workload::{Sources, WorkloadDetail, WorkloadTab, WorkloadView};
use super::{Action, Effect};
use crate::mesh::operations::WorkloadRef;
use crate::mesh::{GraphType, Inventory};
use crate::source::logs::PodRef;

static EMPTY_INVENTORY: std::sync::OnceLock<Inventory> = std::sync::OnceLock::new();

fn sources(state: &State) -> Sources<'_> {
    let (inventory, samples) = match &state.snapshot {
        Some(snapshot) => (&snapshot.inventory, snapshot.samples.as_slice()),
        None => (EMPTY_INVENTORY.get_or_init(Inventory::default), &[][..]),
    };
    Sources {
        inventory,
        graph: &state.graph,
        samples,
        options: &state.graph_options,
        show_clusters: state.view.show_clusters,
        several_clusters: state.several_clusters,
    }
}

/// A detail view of `target`, built from the state's data.
fn build_view(state: &State, target: DetailTarget) -> View {
    let from = sources(state);
    match target {
        DetailTarget::Workload(id) => {
            let detail = WorkloadDetail::build(&id, &from);
            View::Workload(Box::new(WorkloadView::new(id, detail)))
        }
        DetailTarget::Service(id) => {
            let detail =
                ServiceDetail::build(&id, from.inventory, from.samples, from.several_clusters);
            View::Service(Box::new(ServiceView::new(id, detail)))
        }
        DetailTarget::App(id) => {
            let detail = AppDetail::build(&id, &from);
            View::App(Box::new(AppView::new(id, detail)))
        }
    }
}

/// Opens the view of `target` on top of the stack.
pub fn open(state: &mut State, target: DetailTarget) -> Outcome {
    let view = build_view(state, target);
    state.views.push(view);
    state.find = None;
    opened(state)
}

/// A view or tab was just shown. The interfaces and logs tabs fetch their own data:
/// [`sync_tab_views`] starts that after every action.
fn opened(_state: &mut State) -> Outcome {
    Outcome::redraw()
}

/// Opens or closes what the workload view's interfaces and logs tabs show, so that it
/// matches the view on screen: the operations of the workload whose interfaces tab is
/// shown (asked for at once), the followed log of the pod whose logs tab is shown (and
/// no follow once that tab is left). Returns the effects that start or stop them.
pub fn sync_tab_views(state: &mut State) -> Vec<Effect> {
    let mut wanted_operations = None;
    let mut wanted_log = None;
    if let View::Workload(view) = state.views.current() {
        match view.tab {
            WorkloadTab::Interfaces => {
                // With one cluster Istio's labels rarely carry the inventory's name for it.
                let cluster = if state.several_clusters {
                    view.id.cluster.clone()
                } else {
                    String::new()
                };
                wanted_operations = Some(WorkloadRef {
                    cluster,
                    namespace: view.id.namespace.clone(),
                    name: view.id.name.clone(),
                });
            }
            WorkloadTab::Logs => {
                wanted_log = view
                    .log_pod()
                    .map(|pod| PodRef::proxy(&view.id.cluster, &view.id.namespace, &pod.name));
            }
            WorkloadTab::Pods | WorkloadTab::Inbound | WorkloadTab::Outbound => {}
        }
    }
    let mut effects = Vec::new();
    if state.interfaces.as_ref().map(|v| &v.workload) != wanted_operations.as_ref() {
        state.interfaces = None;
        if let Some(workload) = wanted_operations {
            let (view, query) = InterfacesState::open(
                workload,
                &state.operation_label,
                state.window,
                state.data_taken_at,
            );
            state.interfaces = Some(view);
            effects.push(query);
        }
    }
    if state.logs.open.as_ref().map(|log| &log.pod) != wanted_log.as_ref() {
        effects.extend(state.logs.close());
        if let Some(pod) = wanted_log {
            effects.push(state.logs.open(pod));
        }
    }
    effects
}

/// Opens the view of the workload a pod belongs to on its logs tab, following that pod's
/// proxy log (`:wl`, then Enter on the pod, does the same by hand).
pub fn open_pod_log(state: &mut State, pod: &PodRef) -> Outcome {
    let workload = sources(state)
        .inventory
        .pods
        .iter()
        .find(|p| p.namespace == pod.namespace && p.name == pod.pod)
        .and_then(|p| p.workload.clone());
    let Some(workload) = workload else {
        return say(state, format!("no pod {} in {}", pod.pod, pod.namespace));
    };
    let mut outcome = open(
        state,
        DetailTarget::Workload(ObjectId::new(&pod.cluster, &pod.namespace, &workload)),
    );
    if let View::Workload(view) = state.views.current_mut() {
        view.chosen_pod = Some(pod.pod.clone());
        view.tab = WorkloadTab::Logs;
    }
    outcome.effects.extend(sync_tab_views(state));
    outcome
}

/// Opens the workload view of the selected node on its interfaces tab.
pub fn open_interfaces(state: &mut State) -> Outcome {
    let target = state
        .selection
        .as_ref()
        .and_then(|k| state.graph.node_index(k))
        .and_then(|i| state.graph.node(i))
        .and_then(target_of);
    let target = match (state.views.current().target(), target) {
        (Some(DetailTarget::Workload(id)), _) => DetailTarget::Workload(id),
        (_, Some(DetailTarget::Workload(id))) if state.views.is_at_root() => {
            DetailTarget::Workload(id)
        }
        _ => return say(state, "select a workload to see its operations".into()),
    };
    if !matches!(state.views.current(), View::Workload(_)) {
        let _ = open(state, target);
    }
    if let View::Workload(view) = state.views.current_mut() {
        view.tab = WorkloadTab::Interfaces;
        view.cursor = Default::default();
    }
    state.find = None;
    Outcome::redraw()
}

/// Rebuilds the current detail view from the latest data, keeping its tab, selection and
/// filter. With `record`, rows computed apart from the graph add to the history.
pub fn refresh_current(state: &mut State, record: bool) {
    if matches!(state.views.current(), View::Tree(_)) {
        super::tree_view::refresh_tree(state);
        return;
    }
    let Some(target) = state.views.current().target() else {
        return;
    };
    let fresh = build_view(state, target);
    if record {
        if let View::Workload(view) = &fresh {
            if view.detail.own_traffic {
                for row in view.detail.inbound.iter().chain(&view.detail.outbound) {
                    state.history.record_edge(&row.identity, row.rate);
                }
            }
        }
    }
    match (state.views.current_mut(), fresh) {
        (View::Workload(old), View::Workload(new)) => old.detail = new.detail,
        (View::Service(old), View::Service(new)) => old.detail = new.detail,
        (View::App(old), View::App(new)) => old.detail = new.detail,
        _ => {}
    }
}

/// Esc in a detail view: back to the view below, brought up to date.
pub fn back(state: &mut State) -> bool {
    if state.views.pop().is_none() {
        return false;
    }
    state.find = None;
    refresh_current(state, false);
    true
}

/// Enter: the selected node's, edge's or row's view.
pub fn open_selected(state: &mut State) -> Outcome {
    let target = match state.views.current() {
        // The tree takes Enter itself (it shows the entry in the graph).
        View::Tree(_) => return Outcome::default(),
        View::Topology => {
            let node = state
                .selection
                .as_ref()
                .and_then(|k| state.graph.node_index(k))
                .and_then(|i| state.graph.node(i));
            match node {
                Some(node) => match target_of(node) {
                    Some(target) => target,
                    None => return say(state, format!("{} has no view of its own", node.name)),
                },
                None => return Outcome::default(),
            }
        }
        View::EdgeTable => {
            let rows = table_rows(state);
            let Some(row) = rows.get(state.table.selected) else {
                return Outcome::default();
            };
            let node = state
                .graph
                .graph
                .edge_endpoints(row.edge)
                .and_then(|(_, to)| state.graph.node(to));
            match node.and_then(target_of) {
                Some(target) => target,
                None => return say(state, format!("{} has no view of its own", row.destination)),
            }
        }
        View::Workload(view) => {
            let visible = view.visible_rows();
            let Some(&row) = visible.get(view.cursor.clamped(visible.len())) else {
                return Outcome::default();
            };
            match view.tab {
                WorkloadTab::Pods => {
                    let pod = view.detail.pods.get(row).map(|p| p.name.clone());
                    if let View::Workload(view) = state.views.current_mut() {
                        view.chosen_pod = pod;
                        view.tab = WorkloadTab::Logs;
                        view.cursor.selected = 0;
                        view.cursor.filter.clear();
                    }
                    return opened(state);
                }
                WorkloadTab::Inbound | WorkloadTab::Outbound => {
                    let target = view
                        .traffic()
                        .and_then(|rows| rows.get(row)?.target.clone());
                    match target {
                        Some(target) => target,
                        None => return say(state, "that peer has no view of its own".into()),
                    }
                }
                WorkloadTab::Interfaces | WorkloadTab::Logs => return Outcome::default(),
            }
        }
        View::Service(view) => {
            let visible = view.visible_rows();
            let endpoint = visible
                .get(view.cursor.clamped(visible.len()))
                .and_then(|&row| view.detail.endpoints.get(row));
            match endpoint.and_then(|e| e.workload.as_deref()) {
                Some(workload) => DetailTarget::Workload(ObjectId::new(
                    &view.id.cluster,
                    &view.id.namespace,
                    workload,
                )),
                None => return Outcome::default(),
            }
        }
        View::App(view) => {
            let visible = view.visible_rows();
            match visible
                .get(view.cursor.clamped(visible.len()))
                .and_then(|&row| view.detail.versions.get(row))
            {
                Some(version) => DetailTarget::Workload(ObjectId::new(
                    &view.id.cluster,
                    &view.id.namespace,
                    &version.workload,
                )),
                None => return Outcome::default(),
            }
        }
    };
    open(state, target)
}

fn say(state: &mut State, text: String) -> Outcome {
    state.rules.notice = Some(RuleNotice::error(text));
    Outcome::redraw()
}

/// Tab and Shift-Tab in the workload view.
pub fn switch_tab(state: &mut State, forward: bool) -> Outcome {
    let View::Workload(view) = state.views.current_mut() else {
        return Outcome::default();
    };
    view.tab = if forward {
        view.tab.next()
    } else {
        view.tab.previous()
    };
    view.cursor.selected = 0;
    view.cursor.filter.clear();
    state.find = None;
    opened(state)
}

fn visible_count(view: &View) -> usize {
    match view {
        View::Workload(v) => v.visible_rows().len(),
        View::Service(v) => v.visible_rows().len(),
        View::App(v) => v.visible_rows().len(),
        View::Tree(navigator) => navigator.rows().len(),
        View::Topology | View::EdgeTable => 0,
    }
}

/// Up, down and the page keys in a detail view; the page keys scroll the service's YAML.
pub fn move_row(state: &mut State, action: Action) -> Outcome {
    let page = usize::from(state.screen_height / 3).max(1);
    let view = state.views.current_mut();
    if let View::Service(service) = view {
        if matches!(action, Action::PageUp | Action::PageDown) {
            let lines: usize = service.detail.config.iter().map(|d| d.yaml.len() + 1).sum();
            let before = service.cursor.scroll;
            let step = page as u16;
            service.cursor.scroll = if action == Action::PageDown {
                before
                    .saturating_add(step)
                    .min(lines.saturating_sub(1) as u16)
            } else {
                before.saturating_sub(step)
            };
            return Outcome {
                effects: Vec::new(),
                redraw: service.cursor.scroll != before,
            };
        }
    }
    let count = visible_count(view);
    let Some(cursor) = view.cursor_mut() else {
        return Outcome::default();
    };
    if count == 0 {
        return Outcome::default();
    }
    let selected = cursor.clamped(count);
    let next = match action {
        Action::SelectUp => selected.saturating_sub(1),
        Action::SelectDown => (selected + 1).min(count - 1),
        Action::PageUp => selected.saturating_sub(page),
        Action::PageDown => (selected + page).min(count - 1),
        _ => selected,
    };
    let changed = next != cursor.selected;
    cursor.selected = next;
    Outcome {
        effects: Vec::new(),
        redraw: changed,
    }
}

/// `/` in a detail view: the find line edits the list's filter.
pub fn start_filter(state: &mut State) -> Outcome {
    let query = match state.views.current() {
        View::Tree(navigator) => navigator.filter.clone(),
        view => match view.cursor() {
            Some(cursor) => cursor.filter.clone(),
            None => return Outcome::default(),
        },
    };
    state.find = Some(FindState {
        query,
        before: None,
    });
    Outcome::redraw()
}

/// The find line's text changed: the list shows only the rows that contain it.
pub fn set_filter(state: &mut State, query: Option<String>) {
    if super::tree_view::set_tree_filter(state, query.as_deref().unwrap_or_default()) {
        return;
    }
    if let Some(cursor) = state.views.current_mut().cursor_mut() {
        cursor.filter = query.unwrap_or_default();
        cursor.selected = 0;
    }
}

/// Rows the current detail view's filter lets through (the find line counts them).
pub fn filtered_rows(state: &State) -> usize {
    visible_count(state.views.current())
}

/// The navigation commands, or `None` for a line that is not one of them (the rule
/// commands take it then).
pub fn run_command(state: &mut State, line: &str) -> Option<Outcome> {
    let mut words = line.split_whitespace();
    let verb = words.next()?;
    if !matches!(verb, "ns" | "wl" | "svc" | "app" | "graph") {
        return None;
    }
    let argument = words.next();
    if words.next().is_some() {
        return Some(say(state, format!(":{verb} takes one name")));
    }
    Some(match (verb, argument) {
        ("ns", name) => namespace_command(state, name),
        ("graph", Some(kind)) => match graph_type_named(kind) {
            Some(graph_type) => {
                state.graph_options.graph_type = graph_type;
                state.views.pop_to_root();
                super::update::rebuild_graph(state);
                Outcome::redraw()
            }
            None => say(
                state,
                format!("unknown graph {kind}; try app, workload, versioned or service"),
            ),
        },
        (_, None) => say(state, format!(":{verb} needs a name, e.g. :{verb} reviews")),
        (_, Some(name)) => match resolve(state, verb, name) {
            Some(target) => open(state, target),
            None => {
                let what = match verb {
                    "wl" => "workload",
                    "svc" => "service",
                    _ => "app",
                };
                say(state, format!("no {what} named {name}"))
            }
        },
    })
}

fn graph_type_named(name: &str) -> Option<GraphType> {
    match name {
        "app" => Some(GraphType::App),
        "workload" | "wl" => Some(GraphType::Workload),
        "versioned" | "versioned-app" | "versionedapp" => Some(GraphType::VersionedApp),
        "service" | "svc" => Some(GraphType::Service),
        _ => None,
    }
}

fn namespace_command(state: &mut State, name: Option<&str>) -> Outcome {
    let filter = match name {
        None | Some("all" | "*") => None,
        Some(name) if state.namespaces.iter().any(|n| n == name) => Some(name.to_owned()),
        Some(name) => return say(state, format!("no namespace {name} in the data")),
    };
    state.namespace_filter = filter;
    state.views.pop_to_root();
    super::update::relayout(state);
    Outcome::redraw()
}

/// The namespace a name without one is looked for first: the current view's, else the
/// namespace filter's.
fn preferred_namespace(state: &State) -> Option<String> {
    match state.views.current().target() {
        Some(DetailTarget::Workload(id) | DetailTarget::Service(id) | DetailTarget::App(id)) => {
            Some(id.namespace)
        }
        None => state.namespace_filter.clone(),
    }
}

/// `name` or `namespace/name` as a workload, service or app the data knows.
fn resolve(state: &State, verb: &str, name: &str) -> Option<DetailTarget> {
    let (namespace, name) = match name.split_once('/') {
        Some((namespace, name)) => (Some(namespace.to_owned()), name),
        None => (None, name),
    };
    let preferred = namespace.clone().or_else(|| preferred_namespace(state));
    let inventory = sources(state).inventory;
    // (cluster, namespace) of every match, from the inventory, else from the graph.
    let mut found: Vec<(String, String)> = match verb {
        "wl" => inventory
            .workloads
            .iter()
            .filter(|w| w.name == name)
            .map(|w| (w.cluster.clone(), w.namespace.clone()))
            .collect(),
        "svc" => inventory
            .services
            .iter()
            .filter(|s| s.name == name)
            .map(|s| (s.cluster.clone(), s.namespace.clone()))
            .collect(),
        _ => inventory
            .workloads
            .iter()
            .filter(|w| w.app.as_deref() == Some(name))
            .map(|w| (w.cluster.clone(), w.namespace.clone()))
            .collect(),
    };
    if found.is_empty() {
        found = state
            .graph
            .nodes()
            .filter_map(|(_, node)| match target_of(node)? {
                DetailTarget::Workload(id) if verb == "wl" && id.name == name => Some(id),
                DetailTarget::Service(id) if verb == "svc" && id.name == name => Some(id),
                DetailTarget::App(id) if verb == "app" && id.name == name => Some(id),
                _ => None,
            })
            .map(|id| (id.cluster, id.namespace))
            .collect();
        found.sort();
    }
    let (cluster, namespace) = match (&namespace, &preferred) {
        (Some(wanted), _) => found.into_iter().find(|(_, ns)| ns == wanted)?,
        (None, Some(preferred)) => {
            let first = found.first().cloned();
            found
                .into_iter()
                .find(|(_, ns)| ns == preferred)
                .or(first)?
        }
        (None, None) => found.into_iter().next()?,
    };
    let id = ObjectId::new(&cluster, &namespace, name);
    Some(match verb {
        "wl" => DetailTarget::Workload(id),
        "svc" => DetailTarget::Service(id),
        _ => DetailTarget::App(id),
    })
}
