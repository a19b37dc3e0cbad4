//! The workload, service and app views at 120x40 on the demo mesh (seed 1, frozen clock):
//! insta snapshots for the text, buffer assertions for the health colours.

use meshtui::app::{update, Action, Effect, Msg, State};
use meshtui::config::{ColorChoice, LoadedConfig, Slot};
use meshtui::mesh::rules::model::{RuleChange, Split, Target, Version};
use meshtui::source::demo::DemoMesh;
use meshtui::source::write::RuleRequest;
use meshtui::source::SourceEvent;
use ratatui::buffer::Buffer;

use crate::support::demo::{config, demo_state, options};
use crate::support::screen::{render, text};

/// Runs a `:` command as typed.
pub fn command(state: &mut State, line: &str) {
    use meshtui::app::forms::TextKey;
    update(state, Msg::Action(Action::CommandLine));
    for c in line.chars() {
        update(state, Msg::Text(TextKey::Char(c)));
    }
    update(state, Msg::Text(TextKey::Enter));
}

/// The demo after `steps` more snapshots, each folded into the state, so the sparklines
/// have a history; `prepare` changes the mesh first (e.g. applies a rule).
pub fn state_after(steps: usize, prepare: impl FnOnce(&DemoMesh)) -> State {
    let mut state = demo_state(120, 40);
    let mut mesh = DemoMesh::new(options());
    prepare(&mesh);
    for _ in 0..steps {
        mesh.step();
        update(
            &mut state,
            Msg::Source(SourceEvent::Snapshot(Box::new(mesh.snapshot()))),
        );
    }
    state
}

/// Shifts reviews to 80% v1, 20% v3 through the demo's own writer, as a form would.
pub fn shift_reviews(mesh: &DemoMesh) {
    let writer = mesh.writer();
    let request = RuleRequest {
        target: Target {
            namespace: "bookinfo".into(),
            service: "reviews".into(),
        },
        versions: ["v1", "v2", "v3"]
            .iter()
            .map(|v| Version::new(v, "version"))
            .collect(),
        change: RuleChange::Shift(Split {
            weights: vec![("v1".into(), 80), ("v3".into(), 20)],
        }),
    };
    let preview = writer.preview(&request).unwrap();
    writer.apply(&preview).unwrap();
}

/// Where `needle` starts on screen, as (column, row).
fn find_text(buffer: &Buffer, needle: &str) -> (u16, u16) {
    text(buffer)
        .lines()
        .enumerate()
        .find_map(|(row, line)| {
            let byte = line.find(needle)?;
            Some((line[..byte].chars().count() as u16, row as u16))
        })
        .unwrap_or_else(|| panic!("{needle:?} is on screen:\n{}", text(buffer)))
}

fn assert_colour(buffer: &Buffer, needle: &str, config: &LoadedConfig, slot: Slot) {
    let (x, y) = find_text(buffer, needle);
    assert_eq!(
        Some(buffer[(x, y)].fg),
        config.theme.style(slot).fg,
        "colour of {needle:?}"
    );
}

#[test]
fn the_workload_view_lists_the_pods_of_reviews_v2() {
    let mut state = demo_state(120, 40);
    command(&mut state, "wl reviews-v2");
    let config = config("dark", ColorChoice::TrueColor);
    let buffer = render(&state, &config);
    let screen = text(&buffer);
    insta::assert_snapshot!("workload_pods_120x40", screen);
    assert!(
        screen
            .lines()
            .next()
            .unwrap()
            .contains("topology › bookinfo › reviews-v2 › pods"),
        "{screen}"
    );
    // The first row is selected; the second, still starting, is drawn as a warning.
    assert_colour(&buffer, "Pending", &config, Slot::HealthWarn);
}

#[test]
fn the_workload_view_shows_inbound_traffic_with_sparklines_of_its_history() {
    let mut state = state_after(12, |_| {});
    command(&mut state, "wl reviews-v2");
    update(&mut state, Msg::Action(Action::NextTab));
    let config = config("dark", ColorChoice::TrueColor);
    let buffer = render(&state, &config);
    let screen = text(&buffer);
    insta::assert_snapshot!("workload_inbound_120x40", screen);
    let (_, y) = find_text(&buffer, "bookinfo/productpage");
    // The sparkline ends at the right edge of the productpage row, in the trend slot.
    let last = &buffer[(119, y)];
    assert!(
        "▁▂▃▄▅▆▇█".contains(last.symbol()),
        "a sparkline bar at the row's end: {:?}",
        last.symbol()
    );
    assert_eq!(Some(last.fg), config.theme.style(Slot::Trend).fg);
}

#[test]
fn the_outbound_tab_of_productpage_shows_every_callee_with_errors_by_class() {
    let mut state = state_after(3, |_| {});
    command(&mut state, "wl productpage-v1");
    update(&mut state, Msg::Action(Action::NextTab));
    update(&mut state, Msg::Action(Action::NextTab));
    let config = config("dark", ColorChoice::TrueColor);
    let screen = text(&render(&state, &config));
    insta::assert_snapshot!("workload_outbound_120x40", screen);
    for peer in [
        "bookinfo/details",
        "bookinfo/reviews",
        "4XX",
        "5XX",
        "P99",
        "mTLS",
    ] {
        assert!(screen.contains(peer), "{peer}: {screen}");
    }
    // With the selection moved off it, the degraded edge to details shows its colour
    // on its mark and its 5xx share; a share of 0% stays plain.
    update(&mut state, Msg::Action(Action::SelectDown));
    let buffer = render(&state, &config);
    let (x, y) = find_text(&buffer, "bookinfo/details");
    let warn = config.theme.style(Slot::HealthWarn).fg;
    assert_eq!(
        Some(buffer[(x - 2, y)].fg),
        warn,
        "the degraded edge's mark"
    );
    let line = text(&buffer).lines().nth(y as usize).unwrap().to_owned();
    let five = line.find("3.9%").expect("details answers 3.9% 5xx");
    assert_eq!(
        Some(buffer[(line[..five].chars().count() as u16, y)].fg),
        warn
    );
    let four = line.find("0%").unwrap();
    assert_eq!(
        Some(buffer[(line[..four].chars().count() as u16, y)].fg),
        config.theme.style(Slot::Text).fg
    );
}

#[test]
fn the_interfaces_tab_asks_for_the_operations_and_the_logs_tab_follows_the_pod_while_shown() {
    let mut state = demo_state(120, 40);
    command(&mut state, "wl reviews-v2");
    let mut effects = Vec::new();
    for _ in 0..3 {
        effects = update(&mut state, Msg::Action(Action::NextTab)).effects;
    }
    let [Effect::QueryOperations(query)] = effects.as_slice() else {
        panic!("the interfaces tab asks for the operations: {effects:?}");
    };
    assert_eq!(
        (
            query.workload.namespace.as_str(),
            query.workload.name.as_str()
        ),
        ("bookinfo", "reviews-v2")
    );
    let config = config("dark", ColorChoice::TrueColor);
    let screen = text(&render(&state, &config));
    assert!(
        screen.contains("Operations of bookinfo/reviews-v2"),
        "{screen}"
    );

    let effects = update(&mut state, Msg::Action(Action::NextTab)).effects;
    let [Effect::FollowLog { pod, .. }] = effects.as_slice() else {
        panic!("the logs tab follows a pod: {effects:?}");
    };
    assert_eq!(
        (pod.pod.as_str(), pod.container.as_str()),
        ("reviews-v2-0", "istio-proxy")
    );
    assert!(
        state.interfaces.is_none(),
        "the operations are no longer asked for"
    );
    let screen = text(&render(&state, &config));
    assert!(screen.contains("reviews-v2-0"), "{screen}");

    let effects = update(&mut state, Msg::Action(Action::NextTab)).effects;
    assert_eq!(
        effects,
        vec![Effect::StopLog],
        "leaving the tab stops the follow"
    );
}

#[test]
fn the_service_view_sets_the_configured_split_against_the_observed_one() {
    let mut state = state_after(40, shift_reviews);
    command(&mut state, "svc reviews");
    let config = config("dark", ColorChoice::TrueColor);
    let buffer = render(&state, &config);
    let screen = text(&buffer);
    insta::assert_snapshot!("service_reviews_120x40", screen);
    for needle in [
        "http 9080",
        "selector app=reviews",
        "kind: VirtualService",
        "kind: DestinationRule",
        "5 ready, 1 not ready",
    ] {
        assert!(screen.contains(needle), "{needle}: {screen}");
    }
    // The configured 80/20 split is what the traffic follows.
    let row = |version: &str| {
        screen
            .lines()
            .find(|l| l.starts_with(&format!(" {version} ")))
            .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>())
            .unwrap()
    };
    assert_eq!(row("v1"), ["v1", "80%", "80%"]);
    assert_eq!(row("v3"), ["v3", "20%", "20%"]);
    assert_colour(&buffer, "not ready reviews-v2-1", &config, Slot::HealthFail);
    let (x, y) = find_text(&buffer, "kind: VirtualService");
    let style = |slot| config.theme.style(slot).fg;
    assert_eq!(Some(buffer[(x, y)].fg), style(Slot::YamlKey), "a key");
    assert_eq!(
        Some(buffer[(x + 6, y)].fg),
        style(Slot::YamlString),
        "a string"
    );
    let (x, y) = find_text(&buffer, "weight: 80");
    assert_eq!(
        Some(buffer[(x + 8, y)].fg),
        style(Slot::YamlLiteral),
        "a number"
    );
}

#[test]
fn the_app_view_puts_the_versions_of_reviews_side_by_side() {
    let mut state = state_after(12, |_| {});
    command(&mut state, "app reviews");
    let config = config("dark", ColorChoice::TrueColor);
    let buffer = render(&state, &config);
    let screen = text(&buffer);
    insta::assert_snapshot!("app_reviews_120x40", screen);
    for version in ["reviews-v1", "reviews-v2", "reviews-v3"] {
        assert!(screen.contains(version), "{version}: {screen}");
    }
    let version = state
        .views
        .current()
        .target()
        .map(|_| ())
        .and_then(|_| match state.views.current() {
            meshtui::app::View::App(view) => Some(view.detail.versions.clone()),
            _ => None,
        })
        .unwrap();
    for row in version {
        let slot = match row.health {
            meshtui::mesh::Health::NoTraffic => Slot::HealthNone,
            meshtui::mesh::Health::Healthy => Slot::HealthOk,
            meshtui::mesh::Health::Degraded => Slot::HealthWarn,
            meshtui::mesh::Health::Failure => Slot::HealthFail,
        };
        let (x, y) = find_text(&buffer, &row.workload);
        let mark = &buffer[(x, y + 1)];
        assert_eq!(
            Some(mark.fg),
            config.theme.style(slot).fg,
            "{}",
            row.workload
        );
    }
}

/// The screen column of the first `needle` in a line (as cells, not bytes).
fn column_of(line: &str, needle: &str) -> Option<u16> {
    line.find(needle)
        .map(|at| line[..at].chars().count() as u16)
}

#[test]
fn the_tree_at_120x40_marks_each_entry_with_its_health() {
    let mut state = demo_state(120, 40);
    update(&mut state, Msg::Action(Action::Find));
    for c in "frontend".chars() {
        update(&mut state, Msg::Find(meshtui::app::FindKey::Char(c)));
    }
    update(&mut state, Msg::Find(meshtui::app::FindKey::Accept));
    // The tree opens at the selection; right opens it to show its pods.
    update(&mut state, Msg::Action(Action::ShowTree));
    update(&mut state, Msg::Action(Action::SelectRight));
    let config = config("dark", ColorChoice::TrueColor);
    let buffer = render(&state, &config);
    let screen = text(&buffer);
    insta::assert_snapshot!("tree_at_frontend_120x40", screen);

    let colour_of_mark = |label: &str| {
        let (y, line) = screen
            .lines()
            .enumerate()
            .find(|(_, l)| l.contains(&format!(" {label} ")))
            .unwrap_or_else(|| panic!("no line for {label}: {screen}"));
        let x = column_of(line, label).unwrap() - 2;
        buffer[(x, y as u16)].fg
    };
    let style = |slot| config.theme.style(slot).fg.unwrap_or_default();
    // The shop's frontend answers some 4xx and 5xx: degraded (its workload's row is the
    // selected one, drawn in the selection's colours). Its namespace takes the worst of
    // its apps: the ad service fails.
    assert_eq!(colour_of_mark("frontend"), style(Slot::HealthWarn));
    assert_eq!(colour_of_mark("payment"), style(Slot::HealthWarn));
    assert_eq!(colour_of_mark("ad"), style(Slot::HealthFail));
    assert_eq!(colour_of_mark("shop"), style(Slot::HealthFail));
    // The cart is healthy, and the frontend's pods run and are ready.
    assert_eq!(colour_of_mark("cart"), style(Slot::HealthOk));
    assert_eq!(colour_of_mark("frontend-v1-0"), style(Slot::HealthOk));
}
