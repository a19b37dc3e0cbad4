//! The interfaces view on the demo mesh (seed 1, frozen clock): the operations table, the
//! "not reported" state, sorting and filtering, and enabling the label with one key
//! through the demo's writer, then undoing it.

use meshtui::app::interfaces::workload_of;
use meshtui::app::{update, Action, Effect, FindKey, Msg, State};
use meshtui::config::ColorChoice;
use meshtui::source::demo::{DemoMesh, DemoWriter};
use meshtui::source::write::WriteCommand;

use crate::support::demo::{config, demo_state, options};
use crate::support::screen::{render, text};

/// Selects the graph node of `namespace/workload` and opens its interfaces; the query the
/// view sends is answered by `mesh`.
fn open(state: &mut State, mesh: &DemoMesh, namespace: &str, workload: &str) {
    let key = state
        .graph
        .nodes()
        .map(|(_, node)| node)
        .find(|node| {
            workload_of(node).is_some_and(|w| w.namespace == namespace && w.name == workload)
        })
        .map(|node| node.key.clone())
        .expect("the workload is on the graph");
    state.selection = Some(key);
    let outcome = update(state, Msg::Action(Action::ShowInterfaces));
    answer(state, mesh, outcome.effects);
}

/// Carries out the view's queries against `mesh`.
fn answer(state: &mut State, mesh: &DemoMesh, effects: Vec<Effect>) {
    for effect in effects {
        if let Effect::QueryOperations(query) = effect {
            let result = Ok(mesh.operations_report(query.clone()));
            update(state, Msg::Operations { query, result });
        }
    }
}

/// Carries out the view's writes with `writer`; returns whether there was one.
fn write(state: &mut State, writer: &DemoWriter, effects: Vec<Effect>) -> bool {
    let mut wrote = false;
    for effect in effects {
        if let Effect::Write(command) = effect {
            let event = writer.answer(*command);
            update(state, Msg::Write(event));
            wrote = true;
        }
    }
    wrote
}

fn screen(state: &State) -> String {
    text(&render(state, &config("dark", ColorChoice::TrueColor)))
}

#[test]
fn productpages_operations_at_120x40() {
    let mesh = DemoMesh::new(options());
    let mut state = demo_state(120, 40);
    open(&mut state, &mesh, "bookinfo", "productpage-v1");
    let screen = screen(&state);
    insta::assert_snapshot!("interfaces_productpage_120x40", screen);
    for operation in [
        "GET /productpage",
        "GET /api/v1/products",
        "GET /api/v1/products/{id}/reviews",
        "POST /login",
    ] {
        assert!(screen.contains(operation), "{operation}: {screen}");
    }
    // Busiest first: GET /productpage is the first row under the header.
    let first = screen
        .lines()
        .skip_while(|l| !l.contains("OPERATION"))
        .nth(1)
        .unwrap();
    assert!(first.contains("GET /productpage"), "{first}");
}

#[test]
fn a_workload_whose_namespace_does_not_report_operations_says_so_at_120x40() {
    let mesh = DemoMesh::new(options());
    let mut state = demo_state(120, 40);
    open(&mut state, &mesh, "shop", "frontend-v1");
    let screen = screen(&state);
    insta::assert_snapshot!("interfaces_not_reported_120x40", screen);
    assert!(screen.contains("The mesh does not report request_operation here."));
    assert!(screen.contains("Press E to enable it"), "{screen}");
}

#[test]
fn sorting_and_filtering_change_the_rows_shown() {
    let mesh = DemoMesh::new(options());
    let mut state = demo_state(120, 40);
    open(&mut state, &mesh, "bookinfo", "productpage-v1");
    let all = state.interfaces.as_ref().unwrap().rows.len();
    let rows = |state: &State| -> Vec<String> {
        let view = state.interfaces.as_ref().unwrap();
        view.visible_rows()
            .iter()
            .map(|r| r.operation.clone())
            .collect()
    };
    // By name, then reversed.
    for _ in 0..3 {
        update(&mut state, Msg::Action(Action::CycleSort));
    }
    let by_name = rows(&state);
    let mut sorted = by_name.clone();
    sorted.sort();
    assert_eq!(by_name, sorted);
    update(&mut state, Msg::Action(Action::ReverseSort));
    sorted.reverse();
    assert_eq!(rows(&state), sorted);
    assert!(screen(&state).contains("by operation ↑"));

    update(&mut state, Msg::Action(Action::Find));
    for c in "API".chars() {
        update(&mut state, Msg::Find(FindKey::Char(c)));
    }
    update(&mut state, Msg::Find(FindKey::Accept));
    let filtered = rows(&state);
    assert_eq!(filtered.len(), 2, "{filtered:?}");
    assert!(filtered.iter().all(|o| o.contains("/api/")));
    // Esc clears the filter first, then leaves the view.
    update(&mut state, Msg::Action(Action::Back));
    assert_eq!(rows(&state).len(), all);
    update(&mut state, Msg::Action(Action::Back));
    assert!(state.interfaces.is_none());
}

#[test]
fn one_key_previews_the_telemetry_enter_applies_it_and_u_undoes_it() {
    let mut mesh = DemoMesh::new(options());
    let writer = mesh.writer();
    let mut state = demo_state(120, 40);
    state.rules.writes = meshtui::app::forms::WriteAccess::Enabled;
    open(&mut state, &mesh, "shop", "frontend-v1");

    let outcome = update(&mut state, Msg::Action(Action::EnableOperations));
    assert!(
        write(&mut state, &writer, outcome.effects),
        "a preview is asked for"
    );
    let shown = screen(&state);
    assert!(
        shown.contains("Preview: report request_operation in shop"),
        "{shown}"
    );
    assert!(shown.contains("+kind: Telemetry"), "{shown}");
    for _ in 0..20 {
        update(&mut state, Msg::Action(Action::SelectDown));
    }
    let shown = screen(&state);
    assert!(
        shown.contains(r#"value: "request.method + \" \" + request.url_path""#),
        "{shown}"
    );

    let outcome = update(&mut state, Msg::Action(Action::Submit));
    assert!(
        write(&mut state, &writer, outcome.effects),
        "the apply is sent"
    );
    assert_eq!(state.rules.undo.len(), 1);
    let telemetry = meshtui::source::demo::ObjectKey {
        kind: "Telemetry".into(),
        namespace: "shop".into(),
        name: "meshtui-request-operation".into(),
    };
    assert!(writer.store().lock().get(&telemetry).is_some());

    // The next refresh asks again, and the shop's operations are there.
    mesh.step();
    let outcome = update(
        &mut state,
        Msg::Source(meshtui::source::SourceEvent::Snapshot(Box::new(
            mesh.snapshot(),
        ))),
    );
    answer(&mut state, &mesh, outcome.effects);
    let shown = screen(&state);
    assert!(shown.contains("POST /cart/checkout"), "{shown}");

    let outcome = update(&mut state, Msg::Action(Action::UndoRule));
    assert!(matches!(
        outcome.effects.first(),
        Some(Effect::Write(command)) if matches!(**command, WriteCommand::Undo { .. })
    ));
    write(&mut state, &writer, outcome.effects);
    assert!(
        writer.store().lock().get(&telemetry).is_none(),
        "undo deleted it"
    );
}

#[test]
fn a_telemetry_applied_while_the_user_left_the_tab_can_still_be_undone() {
    let mesh = DemoMesh::new(options());
    let writer = mesh.writer();
    let mut state = demo_state(120, 40);
    state.rules.writes = meshtui::app::forms::WriteAccess::Enabled;
    open(&mut state, &mesh, "shop", "frontend-v1");
    let outcome = update(&mut state, Msg::Action(Action::EnableOperations));
    write(&mut state, &writer, outcome.effects);

    // Enter sends the apply; the user leaves the workload before the answer comes.
    let apply = update(&mut state, Msg::Action(Action::Submit)).effects;
    update(&mut state, Msg::Action(Action::Back));
    assert!(state.interfaces.is_none(), "the tab is gone");
    assert!(write(&mut state, &writer, apply), "the apply is answered");

    assert_eq!(state.rules.undo.len(), 1, "the undo is kept");
    let notice = state.rules.notice.as_ref().map(|n| n.text.clone());
    assert!(
        notice.as_deref().is_some_and(|n| n.contains("u undoes it")),
        "{notice:?}"
    );
    let telemetry = meshtui::source::demo::ObjectKey {
        kind: "Telemetry".into(),
        namespace: "shop".into(),
        name: "meshtui-request-operation".into(),
    };
    let outcome = update(&mut state, Msg::Action(Action::UndoRule));
    write(&mut state, &writer, outcome.effects);
    assert!(
        writer.store().lock().get(&telemetry).is_none(),
        "undo deleted it"
    );
}

#[test]
fn a_late_failure_for_the_workload_shown_before_does_not_land_on_this_one() {
    let mesh = DemoMesh::new(options());
    let mut state = demo_state(120, 40);
    open(&mut state, &mesh, "bookinfo", "productpage-v1");
    let shown = state.interfaces.as_ref().expect("the tab is open");
    let mut before = meshtui::source::operations::OperationsQuery {
        workload: shown.workload.clone(),
        label: shown.label.clone(),
        window: std::time::Duration::from_secs(60),
        at_unix_s: None,
    };
    before.workload.name = "reviews-v2".into();
    let result = Err(meshtui::source::operations::OperationsError::Source(
        "connection refused".into(),
    ));
    update(
        &mut state,
        Msg::Operations {
            query: before,
            result,
        },
    );
    let screen = screen(&state);
    assert!(!screen.contains("connection refused"), "{screen}");
    assert!(screen.contains("GET /productpage"), "{screen}");
}
