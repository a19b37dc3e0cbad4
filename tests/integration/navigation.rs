//! What the keys do, as a user sees it: focus, namespace filter, find, the edge table's
//! order, a layout that holds still when only numbers change, and the detail views Enter
//! opens, Esc leaves and `:` commands jump to.

use std::collections::BTreeSet;

use meshtui::app::edge_table::SortKey;
use meshtui::app::topology::node_label;
use meshtui::app::update::table_rows;
use meshtui::app::workload::WorkloadTab;
use meshtui::app::{update, Action, FindKey, Msg, State, View};
use meshtui::mesh::{GraphType, NodeKind};
use meshtui::source::demo::DemoMesh;

use crate::support::demo::options;
use meshtui::source::SourceEvent;

fn demo_state() -> State {
    crate::support::demo::demo_state(120, 40)
}

fn visible_labels(state: &State) -> BTreeSet<String> {
    state
        .view
        .nodes
        .iter()
        .map(|n| node_label(state.graph.node(*n).unwrap()))
        .collect()
}

fn selected_label(state: &State) -> String {
    let key = state.selection.as_ref().expect("a node is selected");
    node_label(
        state
            .graph
            .node(state.graph.node_index(key).unwrap())
            .unwrap(),
    )
}

fn act(state: &mut State, actions: &[Action]) {
    for action in actions {
        update(state, Msg::Action(*action));
    }
}

use crate::detail_screens::command;

/// What a key press becomes through the default keymap.
fn pressed(
    state: &State,
    config: &meshtui::config::LoadedConfig,
    code: crossterm::event::KeyCode,
) -> Msg {
    let event = crossterm::event::KeyEvent::new(code, crossterm::event::KeyModifiers::NONE);
    meshtui::runtime::translate_key(state, &config.keymap, &event).expect("the key is bound")
}

fn find(state: &mut State, text: &str) {
    act(state, &[Action::Find]);
    for c in text.chars() {
        update(state, Msg::Find(FindKey::Char(c)));
    }
    update(state, Msg::Find(FindKey::Accept));
}

#[test]
fn the_view_opens_on_the_busiest_entry_point() {
    assert_eq!(selected_label(&demo_state()), "istio-ingressgateway");
}

#[test]
fn find_jumps_to_the_first_match_and_escape_returns_to_where_you_were() {
    let mut state = demo_state();
    act(&mut state, &[Action::Find]);
    for c in "ratin".chars() {
        update(&mut state, Msg::Find(FindKey::Char(c)));
    }
    assert_eq!(selected_label(&state), "ratings v1");
    update(&mut state, Msg::Find(FindKey::Cancel));
    assert_eq!(selected_label(&state), "istio-ingressgateway");
    assert!(state.find.is_none());
}

#[test]
fn arrow_keys_follow_the_drawing() {
    let mut state = demo_state();
    act(&mut state, &[Action::SelectRight]);
    let right_of_gateway = selected_label(&state);
    assert!(
        ["productpage v1", "frontend v1"].contains(&right_of_gateway.as_str()),
        "right of the gateway is one of the apps it calls, got {right_of_gateway}"
    );
    act(&mut state, &[Action::SelectLeft]);
    assert!(
        ["istio-ingressgateway", "unknown"].contains(&selected_label(&state).as_str()),
        "left goes back to a caller, got {}",
        selected_label(&state)
    );
}

#[test]
fn focus_shows_the_neighbourhood_of_the_selection_and_widens_by_a_hop() {
    let mut state = demo_state();
    find(&mut state, "productpage");
    act(&mut state, &[Action::ToggleFocus]);
    let one_hop = visible_labels(&state);
    for near in [
        "productpage v1",
        "details v1",
        "reviews v1",
        "reviews v2",
        "reviews v3",
        "istio-ingressgateway",
    ] {
        assert!(
            one_hop.contains(near),
            "{near} is one hop from productpage: {one_hop:?}"
        );
    }
    for far in ["ratings v1", "frontend v1", "cart v1"] {
        assert!(!one_hop.contains(far), "{far} is further away: {one_hop:?}");
    }
    act(&mut state, &[Action::WidenFocus]);
    assert!(
        visible_labels(&state).contains("ratings v1"),
        "two hops reach ratings"
    );
    act(&mut state, &[Action::Back]);
    assert!(
        visible_labels(&state).contains("cart v1"),
        "Esc leaves focus"
    );
    assert_eq!(state.focus_hops, None);
}

#[test]
fn the_namespace_filter_shows_one_namespace_with_its_direct_peers() {
    let mut state = demo_state();
    act(&mut state, &[Action::CycleNamespace]);
    assert_eq!(state.namespace_filter.as_deref(), Some("bookinfo"));
    let labels = visible_labels(&state);
    assert!(
        labels.contains("ratings v1") && labels.contains("istio-ingressgateway"),
        "{labels:?}"
    );
    assert!(
        !labels.contains("frontend v1") && !labels.contains("cart v1"),
        "{labels:?}"
    );
    for node in state
        .view
        .nodes
        .iter()
        .map(|n| state.graph.node(*n).unwrap())
    {
        let in_namespace = node.namespace == "bookinfo";
        let peer = state
            .graph
            .graph
            .neighbors_undirected(state.graph.node_index(&node.key).unwrap())
            .any(|n| state.graph.node(n).unwrap().namespace == "bookinfo");
        assert!(
            in_namespace || peer,
            "{} is neither in bookinfo nor its peer",
            node.name
        );
    }
    let mut seen = vec![state.namespace_filter.clone()];
    for _ in 0..state.namespaces.len() {
        act(&mut state, &[Action::CycleNamespace]);
        seen.push(state.namespace_filter.clone());
    }
    assert_eq!(
        seen.last(),
        Some(&None),
        "cycling ends back at all namespaces: {seen:?}"
    );
}

#[test]
fn the_edge_table_sorts_by_rate_then_errors_then_latency() {
    let mut state = demo_state();
    act(&mut state, &[Action::ToggleEdgeTable]);
    let rows = table_rows(&state);
    assert_eq!(rows.len(), state.view.edges.len());
    let is_tcp = |r: &meshtui::app::edge_table::EdgeRow| r.protocol == meshtui::mesh::Protocol::Tcp;
    let first_tcp = rows
        .iter()
        .position(is_tcp)
        .expect("the demo has TCP edges");
    assert!(first_tcp > 0, "the demo has request edges");
    assert!(
        rows[first_tcp..].iter().all(is_tcp),
        "request edges first, TCP (bytes/s) after"
    );
    for part in [&rows[..first_tcp], &rows[first_tcp..]] {
        assert!(
            part.windows(2).all(|w| w[0].rate >= w[1].rate),
            "largest rate first"
        );
    }
    act(&mut state, &[Action::CycleSort]);
    assert_eq!(state.table.sort, SortKey::Errors);
    let rows = table_rows(&state);
    assert!(
        rows.windows(2).all(|w| w[0].error_pct >= w[1].error_pct),
        "largest error share first"
    );
    assert!(
        rows[0].error_pct >= 10.0,
        "the failing edge leads: {:?}",
        rows[0]
    );
    act(&mut state, &[Action::CycleSort]);
    let rows = table_rows(&state);
    let p95: Vec<f64> = rows.iter().map(|r| r.p95_ms.unwrap_or(-1.0)).collect();
    assert!(
        p95.windows(2).all(|w| w[0] >= w[1]),
        "slowest p95 first: {p95:?}"
    );
    act(&mut state, &[Action::ReverseSort]);
    let rows = table_rows(&state);
    let p95: Vec<f64> = rows.iter().map(|r| r.p95_ms.unwrap_or(-1.0)).collect();
    assert!(
        p95.windows(2).all(|w| w[0] <= w[1]),
        "reversed: fastest first: {p95:?}"
    );
}

#[test]
fn a_refresh_in_which_only_numbers_change_moves_no_box() {
    let mut mesh = DemoMesh::new(options());
    let mut state = demo_state();
    let boxes_before = state.view.layout.nodes.clone();
    let viewport_before = state.viewport;
    let mut numbers_changed = false;
    for _ in 0..5 {
        let before = state.graph.edges().map(|(_, _, _, e)| e.rps()).sum::<f64>();
        mesh.step();
        update(
            &mut state,
            Msg::Source(SourceEvent::Snapshot(Box::new(mesh.snapshot()))),
        );
        let after = state.graph.edges().map(|(_, _, _, e)| e.rps()).sum::<f64>();
        numbers_changed |= (before - after).abs() > 1e-9;
        assert_eq!(state.view.layout.nodes, boxes_before);
        assert_eq!(state.viewport, viewport_before);
    }
    assert!(numbers_changed, "the traffic did change between refreshes");
}

#[test]
fn pausing_and_refreshing_are_sent_to_the_source() {
    use meshtui::app::Effect;
    use meshtui::source::SourceCommand;
    let mut state = demo_state();
    let paused = update(&mut state, Msg::Action(Action::TogglePause));
    assert_eq!(
        paused.effects,
        vec![Effect::Source(SourceCommand::SetPaused(true))]
    );
    assert!(state.paused);
    let refresh = update(&mut state, Msg::Action(Action::Refresh));
    assert_eq!(
        refresh.effects,
        vec![Effect::Source(SourceCommand::RefreshNow)]
    );
}

#[test]
fn the_gateways_traffic_on_screen_equals_what_the_gateway_reported() {
    let mesh = DemoMesh::new(options());
    let snapshot = mesh.snapshot();
    let reported: f64 = snapshot
        .samples
        .iter()
        .filter(|s| {
            s.kind == meshtui::mesh::SampleKind::Requests
                && s.labels.reporter == meshtui::mesh::Reporter::Source
                && s.labels.source.workload == "istio-ingressgateway"
        })
        .map(|s| s.value)
        .sum();
    let state = demo_state();
    let gateway = state
        .graph
        .nodes()
        .find(|(_, n)| n.name == "istio-ingressgateway")
        .map(|(_, n)| n.outbound.total)
        .unwrap();
    assert!(reported > 0.0);
    assert!(
        (gateway - reported).abs() < 1e-6,
        "graph {gateway} vs reported {reported}"
    );
}

#[test]
fn the_edge_table_selection_stays_on_its_edge_when_a_refresh_reorders_rows() {
    let mut mesh = DemoMesh::new(options());
    let mut state = demo_state();
    act(&mut state, &[Action::ToggleEdgeTable]);
    act(
        &mut state,
        &[Action::SelectDown, Action::SelectDown, Action::SelectDown],
    );
    let chosen = table_rows(&state)[state.table.selected].identity.clone();
    let first_row = state.table.selected;
    let mut moved = false;
    for _ in 0..30 {
        mesh.step();
        update(
            &mut state,
            Msg::Source(SourceEvent::Snapshot(Box::new(mesh.snapshot()))),
        );
        let rows = table_rows(&state);
        assert_eq!(rows[state.table.selected].identity, chosen);
        moved |= state.table.selected != first_row;
    }
    assert!(
        moved,
        "the refreshes did reorder the rows, so following the edge was needed"
    );
    act(&mut state, &[Action::CycleSort]);
    assert_eq!(
        table_rows(&state)[state.table.selected].identity,
        chosen,
        "and across a new sort"
    );
}

#[test]
fn help_scrolling_stops_at_its_last_line() {
    let mut state = demo_state();
    act(&mut state, &[Action::ShowHelp]);
    let limit = state.help_scroll_limit();
    assert!(limit > 0, "at 120x40 the help is longer than the screen");
    for _ in 0..200 {
        update(&mut state, Msg::Action(Action::SelectDown));
    }
    assert_eq!(
        state.overlay,
        Some(meshtui::app::Overlay::Help { scroll: limit })
    );
    let back = update(&mut state, Msg::Action(Action::SelectUp));
    assert!(back.redraw, "one key up moves the help at once");
}

#[test]
fn keys_that_change_nothing_do_not_redraw() {
    let mut state = demo_state();
    assert_eq!((state.viewport.x, state.viewport.y), (0, 0));
    let cases = [
        ("panning left at the left edge", Action::PanLeft),
        ("panning up at the top", Action::PanUp),
        ("narrowing focus when focus is off", Action::NarrowFocus),
        (
            "asking for a refresh (the new data redraws)",
            Action::Refresh,
        ),
    ];
    for (name, action) in cases {
        assert!(!update(&mut state, Msg::Action(action)).redraw, "{name}");
    }
    assert!(
        update(&mut state, Msg::Action(Action::PanRight)).redraw,
        "a real pan redraws"
    );
}

#[test]
fn the_graph_type_key_switches_what_a_node_stands_for() {
    let mut state = demo_state();
    assert!(
        visible_labels(&state).contains("reviews v2"),
        "versioned app graph first"
    );
    act(&mut state, &[Action::CycleGraphType]);
    let app = visible_labels(&state);
    assert!(
        app.contains("reviews") && !app.contains("reviews v2"),
        "app graph: {app:?}"
    );
    act(&mut state, &[Action::CycleGraphType]);
    assert!(
        visible_labels(&state).contains("reviews-v2"),
        "workload graph names workloads"
    );
    act(&mut state, &[Action::CycleGraphType]);
    let kinds: Vec<(String, NodeKind)> = state
        .view
        .nodes
        .iter()
        .map(|n| state.graph.node(*n).unwrap())
        .map(|n| (n.name.clone(), n.kind))
        .collect();
    let reviews_services = kinds
        .iter()
        .filter(|(name, kind)| name == "reviews" && *kind == NodeKind::Service);
    assert_eq!(
        reviews_services.count(),
        1,
        "service graph: one reviews service: {kinds:?}"
    );
    assert!(
        kinds
            .iter()
            .all(|(_, kind)| !matches!(kind, NodeKind::Workload | NodeKind::VersionedApp)),
        "no workloads or versions in the service graph: {kinds:?}"
    );
    act(&mut state, &[Action::CycleGraphType]);
    assert!(visible_labels(&state).contains("reviews v2"), "and back");
    assert_eq!(
        selected_label(&state),
        "istio-ingressgateway",
        "the gateway stays selected"
    );
}

/// What the screen's top line says: the breadcrumbs of a detail view.
fn header(state: &State) -> String {
    let config = crate::support::demo::config("dark", meshtui::config::ColorChoice::TrueColor);
    let screen = crate::support::screen::text(&crate::support::screen::render(state, &config));
    screen.lines().next().unwrap_or_default().to_owned()
}

/// The subject of the view on screen, as `kind namespace/name`.
fn current_view(state: &State) -> String {
    match state.views.current() {
        View::Topology => "topology".into(),
        View::EdgeTable => "edges".into(),
        View::Workload(v) => format!("workload {}/{}", v.id.namespace, v.id.name),
        View::Service(v) => format!("service {}/{}", v.id.namespace, v.id.name),
        View::App(v) => format!("app {}/{}", v.id.namespace, v.id.name),
        View::Tree(_) => "tree".into(),
    }
}

fn notice(state: &State) -> String {
    state
        .rules
        .notice
        .as_ref()
        .map(|n| n.text.clone())
        .unwrap_or_default()
}

#[test]
fn enter_on_a_workload_opens_its_view_and_escape_returns_to_the_same_node() {
    let mut state = demo_state();
    find(&mut state, "reviews v2");
    act(&mut state, &[Action::OpenDetail]);
    assert_eq!(current_view(&state), "workload bookinfo/reviews-v2");
    assert!(
        header(&state).contains("topology › bookinfo › reviews-v2 › pods"),
        "{}",
        header(&state)
    );
    act(&mut state, &[Action::Back]);
    assert_eq!(current_view(&state), "topology");
    assert_eq!(selected_label(&state), "reviews v2");
}

#[test]
fn the_keymap_sends_enter_tab_and_escape_to_the_views() {
    use crossterm::event::KeyCode;
    let config = crate::support::demo::config("dark", meshtui::config::ColorChoice::TrueColor);
    let key = |state: &State, code| pressed(state, &config, code);
    let mut state = demo_state();
    find(&mut state, "ratings");
    let enter = key(&state, KeyCode::Enter);
    update(&mut state, enter);
    assert_eq!(current_view(&state), "workload bookinfo/ratings-v1");
    let tab = key(&state, KeyCode::Tab);
    assert_eq!(tab, Msg::Action(Action::NextTab));
    update(&mut state, tab);
    assert!(header(&state).ends_with("inbound") || header(&state).contains("› inbound"));
    let escape = key(&state, KeyCode::Esc);
    update(&mut state, escape);
    assert_eq!(current_view(&state), "topology");
}

#[test]
fn an_app_node_opens_the_app_and_a_version_opens_its_workload_two_levels_deep() {
    let mut state = demo_state();
    command(&mut state, "graph app");
    find(&mut state, "reviews");
    act(&mut state, &[Action::OpenDetail]);
    assert_eq!(current_view(&state), "app bookinfo/reviews");
    act(&mut state, &[Action::SelectDown, Action::OpenDetail]);
    assert_eq!(current_view(&state), "workload bookinfo/reviews-v2");
    assert!(
        header(&state).contains("topology › bookinfo › reviews (app) › reviews-v2 › pods"),
        "{}",
        header(&state)
    );
    act(&mut state, &[Action::Back]);
    assert_eq!(current_view(&state), "app bookinfo/reviews");
    act(&mut state, &[Action::Back, Action::Back]);
    assert_eq!(current_view(&state), "topology");
}

#[test]
fn a_service_node_opens_the_service_and_an_endpoint_opens_its_pods_workload() {
    let mut state = demo_state();
    command(&mut state, "graph service");
    find(&mut state, "ratings");
    act(&mut state, &[Action::OpenDetail]);
    assert_eq!(current_view(&state), "service bookinfo/ratings");
    act(&mut state, &[Action::OpenDetail]);
    assert_eq!(current_view(&state), "workload bookinfo/ratings-v1");
}

#[test]
fn enter_on_a_callers_row_opens_the_callers_workload() {
    let mut state = demo_state();
    command(&mut state, "wl reviews-v1");
    act(&mut state, &[Action::NextTab, Action::OpenDetail]);
    assert_eq!(current_view(&state), "workload bookinfo/productpage-v1");
}

#[test]
fn enter_on_a_pod_chooses_it_for_the_logs_tab() {
    let mut state = demo_state();
    command(&mut state, "wl reviews-v1");
    act(&mut state, &[Action::SelectDown, Action::OpenDetail]);
    let View::Workload(view) = state.views.current() else {
        panic!("still the workload view");
    };
    assert_eq!(view.tab, WorkloadTab::Logs);
    assert_eq!(view.log_pod().unwrap().name, "reviews-v1-1");
}

#[test]
fn commands_open_views_filter_namespaces_switch_graphs_and_name_their_mistakes() {
    let mut state = demo_state();
    command(&mut state, "svc ratings");
    assert_eq!(current_view(&state), "service bookinfo/ratings");
    command(&mut state, "app reviews");
    assert_eq!(current_view(&state), "app bookinfo/reviews");
    assert_eq!(state.views.depth(), 2);

    command(&mut state, "ns shop");
    assert_eq!(current_view(&state), "topology");
    assert_eq!(state.namespace_filter.as_deref(), Some("shop"));
    command(&mut state, "ns all");
    assert_eq!(state.namespace_filter, None);

    command(&mut state, "graph workload");
    assert_eq!(state.graph_options.graph_type, GraphType::Workload);
    assert!(visible_labels(&state).contains("reviews-v2"));

    command(&mut state, "wl no-such-workload");
    assert_eq!(current_view(&state), "topology");
    assert_eq!(notice(&state), "no workload named no-such-workload");
    command(&mut state, "ns nowhere");
    assert_eq!(notice(&state), "no namespace nowhere in the data");
    command(&mut state, "graph spiral");
    assert!(
        notice(&state).contains("unknown graph spiral"),
        "{}",
        notice(&state)
    );
    // The rule commands still reach the forms.
    command(&mut state, "shfit");
    assert!(
        notice(&state).contains("unknown command :shfit"),
        "{}",
        notice(&state)
    );
}

#[test]
fn in_the_app_and_service_graphs_the_workload_view_still_shows_its_traffic() {
    let mut state = demo_state();
    command(&mut state, "wl reviews-v2");
    let View::Workload(view) = state.views.current() else {
        panic!()
    };
    let on_graph = view.detail.inbound.clone();
    command(&mut state, "graph service");
    command(&mut state, "wl reviews-v2");
    let View::Workload(view) = state.views.current() else {
        panic!()
    };
    assert!(view.detail.own_traffic);
    let rates = |rows: &[meshtui::app::detail::TrafficRow]| {
        rows.iter()
            .map(|r| (r.target.clone(), (r.rate * 1000.0).round()))
            .collect::<Vec<_>>()
    };
    assert_eq!(rates(&view.detail.inbound), rates(&on_graph));
}

#[test]
fn slash_filters_a_detail_views_list_and_escape_clears_the_filter() {
    let mut state = demo_state();
    command(&mut state, "wl productpage-v1");
    act(&mut state, &[Action::NextTab, Action::NextTab]);
    let rows = |state: &State| match state.views.current() {
        View::Workload(view) => view
            .visible_rows()
            .iter()
            .map(|&i| view.detail.outbound[i].peer.clone())
            .collect::<Vec<_>>(),
        _ => panic!("the workload view"),
    };
    assert_eq!(rows(&state).len(), 4, "{:?}", rows(&state));
    act(&mut state, &[Action::Find]);
    for c in "REV".chars() {
        update(&mut state, Msg::Find(FindKey::Char(c)));
    }
    assert_eq!(
        rows(&state),
        [
            "bookinfo/reviews v1",
            "bookinfo/reviews v2",
            "bookinfo/reviews v3"
        ]
    );
    update(&mut state, Msg::Find(FindKey::Accept));
    assert_eq!(rows(&state).len(), 3, "Enter keeps the filter");
    act(&mut state, &[Action::Find]);
    update(&mut state, Msg::Find(FindKey::Cancel));
    assert_eq!(rows(&state).len(), 4);
    assert_eq!(
        current_view(&state),
        "workload bookinfo/productpage-v1",
        "Esc in the filter leaves the view open"
    );
}

#[test]
fn a_new_snapshot_refreshes_the_open_view_and_keeps_its_tab_and_selection() {
    let mut state = demo_state();
    command(&mut state, "wl productpage-v1");
    act(
        &mut state,
        &[Action::NextTab, Action::NextTab, Action::SelectDown],
    );
    let mut mesh = DemoMesh::new(options());
    mesh.step();
    update(
        &mut state,
        Msg::Source(SourceEvent::Snapshot(Box::new(mesh.snapshot()))),
    );
    let View::Workload(view) = state.views.current() else {
        panic!()
    };
    assert_eq!((view.tab, view.cursor.selected), (WorkloadTab::Outbound, 1));
    let history = state
        .history
        .edge(&view.detail.outbound[0].identity)
        .unwrap();
    assert_eq!(history.rate.len(), 2, "the first snapshot and this one");
}

#[test]
fn the_tree_opens_at_the_selection_and_enter_on_a_workload_selects_it_in_the_graph() {
    use crossterm::event::KeyCode;
    let config = crate::support::demo::config("dark", meshtui::config::ColorChoice::TrueColor);
    let key = |state: &State, code| pressed(state, &config, code);
    let mut state = demo_state();
    find(&mut state, "reviews v2");
    let open = key(&state, KeyCode::Char('T'));
    assert_eq!(open, Msg::Action(Action::ShowTree));
    update(&mut state, open);
    assert_eq!(current_view(&state), "tree");
    let screen = crate::support::screen::text(&crate::support::screen::render(&state, &config));
    let selected_line = screen
        .lines()
        .find(|l| l.contains("reviews-v2") && l.contains("ready"))
        .unwrap_or_default();
    assert!(
        !selected_line.is_empty(),
        "the tree opens at reviews-v2: {screen}"
    );

    // `/` narrows the tree to ratings; Enter shows it in the graph.
    let slash = key(&state, KeyCode::Char('/'));
    update(&mut state, slash);
    for c in "ratings-v1".chars() {
        let typed = key(&state, KeyCode::Char(c));
        update(&mut state, typed);
    }
    let accept = key(&state, KeyCode::Enter);
    update(&mut state, accept);
    let enter = key(&state, KeyCode::Enter);
    assert_eq!(enter, Msg::Action(Action::OpenDetail));
    update(&mut state, enter);
    assert_eq!(current_view(&state), "topology");
    assert_eq!(selected_label(&state), "ratings v1");
}

#[test]
fn choosing_a_namespace_in_the_tree_filters_the_graph_to_it() {
    let mut state = demo_state();
    act(&mut state, &[Action::ShowTree]);
    find(&mut state, "shop");
    act(&mut state, &[Action::OpenDetail]);
    assert_eq!(current_view(&state), "topology");
    assert_eq!(state.namespace_filter.as_deref(), Some("shop"));
}

#[test]
fn escape_leaves_the_tree_for_the_view_it_was_opened_from() {
    let mut state = demo_state();
    command(&mut state, "svc ratings");
    act(
        &mut state,
        &[Action::ShowTree, Action::SelectDown, Action::Back],
    );
    assert_eq!(current_view(&state), "service bookinfo/ratings");
}

#[test]
fn rule_forms_opened_in_a_service_app_or_workload_view_edit_that_service() {
    let cases = [
        ("svc ratings", "shift", "ratings"),
        ("app details", "fault", "details"),
        ("wl reviews-v2", "shift", "reviews"),
    ];
    for (view, form, service) in cases {
        let mut state = demo_state();
        command(&mut state, view);
        command(&mut state, form);
        let target = state.rules.form.as_ref().map(|f| f.target.clone());
        assert_eq!(
            target.map(|t| (t.namespace, t.service)),
            Some(("bookinfo".to_owned(), service.to_owned())),
            "{view} then :{form}"
        );
        update(&mut state, Msg::Action(Action::Back));
        update(&mut state, Msg::Action(Action::EditRules));
        assert!(state.rules.menu.is_some(), "{view}: e opens the rule menu");
    }
}
