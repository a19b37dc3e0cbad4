//! Screens at fixed sizes, rendered through ratatui's TestBackend from the demo mesh (seed 1,
//! frozen clock): insta snapshots for the text, buffer assertions for the colours.

use crate::support::screen::{render, text};
use meshtui::app::{update, Action, FindKey, Msg, State};
use meshtui::config::{ColorChoice, LoadedConfig, Slot};

use crate::support::demo::{config, demo_state};
use meshtui::mesh::{Health, NodeKind};
use meshtui::ui::glyphs::health_mark;
use ratatui::buffer::Buffer;
use ratatui::style::Modifier;

/// Every drawn node's health mark has its health's colour; returns the healths seen.
fn assert_health_marks_are_coloured(
    state: &State,
    buffer: &Buffer,
    config: &LoadedConfig,
) -> Vec<Health> {
    let mut seen = Vec::new();
    let (vx, vy) = (state.viewport.x, state.viewport.y);
    for (index, node_box) in state.view.layout.nodes.iter().enumerate() {
        let node = state.graph.node(state.view.nodes[index]).unwrap();
        let (mx, my) = (node_box.x + 1, node_box.y + 1);
        if mx < vx || my < vy {
            continue;
        }
        let (sx, sy) = ((mx - vx) as u16, (my - vy) as u16 + 1);
        if sx >= buffer.area.width || sy + 1 >= buffer.area.height {
            continue;
        }
        let cell = &buffer[(sx, sy)];
        assert_eq!(
            cell.symbol(),
            health_mark(node.health, false),
            "mark of {}",
            node.name
        );
        let slot = match node.health {
            Health::NoTraffic => Slot::HealthNone,
            Health::Healthy => Slot::HealthOk,
            Health::Degraded => Slot::HealthWarn,
            Health::Failure => Slot::HealthFail,
        };
        assert_eq!(
            Some(cell.fg),
            config.theme.style(slot).fg,
            "colour of {}'s mark",
            node.name
        );
        seen.push(node.health);
    }
    seen
}

#[test]
fn the_topology_at_80x24() {
    let state = demo_state(80, 24);
    let config = config("dark", ColorChoice::TrueColor);
    let buffer = render(&state, &config);
    insta::assert_snapshot!("topology_80x24", text(&buffer));
    assert!(!assert_health_marks_are_coloured(&state, &buffer, &config).is_empty());
}

#[test]
fn the_topology_at_160x48_shows_every_health_in_its_colour() {
    let state = demo_state(160, 48);
    let config = config("dark", ColorChoice::TrueColor);
    let buffer = render(&state, &config);
    let screen = text(&buffer);
    insta::assert_snapshot!("topology_160x48", screen);
    for name in ["productpage", "reviews", "ratings", "DEMO"] {
        assert!(screen.contains(name), "{name} is on screen");
    }
    let seen = assert_health_marks_are_coloured(&state, &buffer, &config);
    for health in [Health::Healthy, Health::Degraded, Health::Failure] {
        assert!(seen.contains(&health), "a {health:?} node is on screen");
    }
}

#[test]
fn without_colour_the_selection_stays_visible_as_reverse_video() {
    let state = demo_state(120, 40);
    let config = config("dark", ColorChoice::Never);
    let buffer = render(&state, &config);
    let selected = state.selected_index().unwrap();
    let node_box = &state.view.layout.nodes[selected];
    let (sx, sy) = (
        (node_box.x + 3 - state.viewport.x) as u16,
        (node_box.y + 1 - state.viewport.y) as u16 + 1,
    );
    let cell = &buffer[(sx, sy)];
    assert!(
        cell.modifier.contains(Modifier::REVERSED),
        "selected label is reversed: {cell:?}"
    );
    let coloured = buffer
        .content
        .iter()
        .filter(|c| c.fg != ratatui::style::Color::Reset || c.bg != ratatui::style::Color::Reset);
    assert_eq!(coloured.count(), 0, "no colour at all");
}

#[test]
fn the_edge_table_sorted_by_errors() {
    let mut state = demo_state(120, 40);
    update(&mut state, Msg::Action(Action::ToggleEdgeTable));
    update(&mut state, Msg::Action(Action::CycleSort));
    let config = config("dark", ColorChoice::TrueColor);
    let screen = text(&render(&state, &config));
    insta::assert_snapshot!("edge_table_by_errors_120x40", screen);
}

#[test]
fn the_help_overlay_lists_the_live_keymap() {
    let mut state = demo_state(120, 40);
    update(&mut state, Msg::Action(Action::ShowHelp));
    let config = config("dark", ColorChoice::TrueColor);
    let screen = text(&render(&state, &config));
    insta::assert_snapshot!("help_120x40", screen);
}

#[test]
fn a_terminal_below_80x24_gets_a_clear_message() {
    let state = demo_state(60, 20);
    let config = config("dark", ColorChoice::TrueColor);
    let screen = text(&render(&state, &config));
    assert!(screen.contains("needs at least 80x24"), "{screen}");
    assert!(screen.contains("60x20"), "{screen}");
}

#[test]
fn ascii_mode_draws_no_box_drawing_characters() {
    let state = demo_state(120, 40);
    let mut config = config("dark", ColorChoice::TrueColor);
    config.ascii = true;
    let screen = text(&render(&state, &config));
    assert!(screen.is_ascii(), "{screen}");
    assert!(screen.contains("productpage"));
}

#[test]
fn ascii_mode_keeps_the_help_overlay_ascii_too() {
    let mut state = demo_state(120, 40);
    update(&mut state, Msg::Action(Action::ShowHelp));
    let mut config = config("dark", ColorChoice::TrueColor);
    config.ascii = true;
    let screen = text(&render(&state, &config));
    assert!(
        screen.contains("o healthy ! degraded x failure - no traffic"),
        "{screen}"
    );
    assert!(screen.is_ascii(), "{screen}");
}

#[test]
fn every_built_in_key_description_fits_the_help_overlay() {
    let config = config("dark", ColorChoice::TrueColor);
    for context in meshtui::config::KeyContext::ALL {
        for binding in config.keymap.bindings(context) {
            // The overlay is 76 cells wide: border, two spaces, an 18-cell key column.
            assert!(
                binding.description.chars().count() <= 54,
                "{:?}: {:?} is too long for the help overlay",
                binding.action,
                binding.description
            );
        }
    }
}

#[test]
fn a_failing_inventory_shows_its_age_and_the_namespaces_the_cluster_refused() {
    use meshtui::source::{SourceEvent, SourceHealth};
    let mut state = demo_state(120, 40);
    let config = config("dark", ColorChoice::TrueColor);
    let mut snapshot = state.snapshot.clone().unwrap();
    let taken_at = snapshot.taken_at_unix_s;
    snapshot.inventory_stale_since_unix_s = Some(taken_at - 42.0);
    snapshot.inventory.inaccessible_namespaces = vec![meshtui::mesh::inventory::NamespaceRef::new(
        "Kubernetes",
        "legacy\u{1b}[2J",
    )];
    update(&mut state, Msg::Source(SourceEvent::Snapshot(snapshot)));
    update(
        &mut state,
        Msg::Source(SourceEvent::Status(SourceHealth::Failing(
            "Kubernetes: pods: cannot reach the API server".into(),
        ))),
    );
    let buffer = render(&state, &config);
    let screen = text(&buffer);
    let status = screen.lines().last().unwrap();
    assert!(status.contains("updated 0s ago"), "{status}");
    assert!(status.contains("inventory 42s old"), "{status}");
    assert!(status.contains("no access: legacy "), "{status}");
    assert!(screen.contains("cannot reach the API server"), "{screen}");
    let column = status.find("inventory").unwrap();
    let column = status[..column].chars().count() as u16;
    assert_eq!(
        buffer[(column, state.screen_height - 1)].fg,
        config.theme.style(Slot::Danger).fg.unwrap(),
        "the inventory's age is shown as a danger"
    );

    // The age goes on counting with the clock.
    update(
        &mut state,
        Msg::Tick {
            now_unix_s: taken_at + 60.0,
        },
    );
    let status = text(&render(&state, &config));
    assert!(
        status.lines().last().unwrap().contains("inventory 1m old"),
        "{status}"
    );

    // The next snapshot with a current inventory and a healthy source clears both.
    let mut snapshot = state.snapshot.clone().unwrap();
    snapshot.inventory_stale_since_unix_s = None;
    snapshot.inventory.inaccessible_namespaces.clear();
    update(&mut state, Msg::Source(SourceEvent::Snapshot(snapshot)));
    let status = text(&render(&state, &config));
    let status = status.lines().last().unwrap();
    assert!(
        !status.contains("inventory") && !status.contains("no access"),
        "{status}"
    );
}

/// Where `needle` starts on screen, as (column, row).
fn find_text(buffer: &Buffer, needle: &str) -> Option<(u16, u16)> {
    text(buffer).lines().enumerate().find_map(|(row, line)| {
        let byte = line.find(needle)?;
        let column = line[..byte].chars().count();
        Some((column as u16, row as u16))
    })
}

#[test]
fn the_idle_key_brings_in_the_idle_service_drawn_muted() {
    let mut state = demo_state(160, 48);
    let config = config("dark", ColorChoice::TrueColor);
    update(&mut state, Msg::Action(Action::ToggleServiceNodes));
    let before = text(&render(&state, &config));
    assert!(!before.contains("mysqldb"), "idle nodes are off by default");

    update(&mut state, Msg::Action(Action::ToggleIdleNodes));
    // Idle nodes have no edges: they sit apart, and find is the way to them.
    update(&mut state, Msg::Action(Action::Find));
    for c in "mysqldb".chars() {
        update(&mut state, Msg::Find(FindKey::Char(c)));
    }
    update(&mut state, Msg::Find(FindKey::Accept));
    update(&mut state, Msg::Action(Action::CenterSelection));
    let buffer = render(&state, &config);
    let screen = text(&buffer);
    let header = screen.lines().next().unwrap_or_default();
    assert!(
        header.contains("mysqldb bookinfo idle: no traffic"),
        "the header says the selected service is idle: {header}"
    );
    let selected = state.graph.node_index(state.selection.as_ref().unwrap());
    let service = state.graph.node(selected.unwrap()).unwrap();
    assert_eq!((service.kind, service.idle), (NodeKind::Service, true));

    // The service's workload, idle too and not selected, is drawn in the muted style.
    let (x, y) = find_text(&buffer, "mysqldb v1").expect("the idle workload is on screen");
    let muted = config.theme.style(Slot::Muted).fg;
    assert_ne!(muted, config.theme.style(Slot::Text).fg);
    assert_eq!(buffer[(x, y)].fg, muted.unwrap(), "label of an idle node");
    assert_eq!(
        buffer[(x - 3, y)].fg,
        muted.unwrap(),
        "frame of an idle node"
    );

    update(&mut state, Msg::Action(Action::ToggleIdleNodes));
    let after = text(&render(&state, &config));
    assert!(!after.contains("mysqldb"), "and the key hides them again");
}

#[test]
fn nodes_outside_the_chosen_namespaces_and_in_refused_ones_say_so() {
    use meshtui::mesh::inventory::NamespaceRef;
    use meshtui::source::SourceEvent;
    let mut state = demo_state(160, 48);
    let config = config("dark", ColorChoice::TrueColor);
    let mut snapshot = state.snapshot.clone().unwrap();
    state.graph_options.namespaces = vec!["bookinfo".into()];
    update(
        &mut state,
        Msg::Source(SourceEvent::Snapshot(snapshot.clone())),
    );
    let buffer = render(&state, &config);
    let screen = text(&buffer);
    let header = screen.lines().next().unwrap_or_default();
    assert!(
        header.contains("istio-ingressgateway istio-system outside"),
        "{header}"
    );
    let (x, y) = find_text(&buffer, "shop outs")
        .expect("a box of the shop namespace says it is outside the chosen namespaces");
    assert_eq!(
        buffer[(x - 3, y)].fg,
        config.theme.style(Slot::Muted).fg.unwrap(),
        "its frame recedes"
    );
    assert!(!screen.contains("bookinfo outside"));

    snapshot.inventory.inaccessible_namespaces =
        vec![NamespaceRef::new("Kubernetes", "istio-system")];
    update(&mut state, Msg::Source(SourceEvent::Snapshot(snapshot)));
    update(&mut state, Msg::Action(Action::Find));
    for c in "ingressgateway".chars() {
        update(&mut state, Msg::Find(FindKey::Char(c)));
    }
    update(&mut state, Msg::Find(FindKey::Accept));
    let screen = text(&render(&state, &config));
    let header = screen.lines().next().unwrap_or_default();
    assert!(
        header.contains("istio-system no access"),
        "the header says the user may not read its namespace: {header}"
    );
    assert!(screen.contains("no access: istio-system"), "{screen}");
}
