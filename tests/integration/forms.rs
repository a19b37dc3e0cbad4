//! Rule forms as a user meets them, on the demo mesh (seed 1, frozen clock): keys pressed
//! through the real keymap, what the forms ask the writer for, what comes back, and every
//! form drawn at 120x40 in a valid and an error state (insta), with buffer assertions for
//! the colours of errors and of the diff.

use crate::support::screen::{render, text};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use meshtui::app::forms::{Phase, WriteAccess};
use meshtui::app::{update, Effect, Msg, State};
use meshtui::config::{ColorChoice, LoadedConfig, Slot};
use meshtui::mesh::inventory::{IstioConfigInfo, IstioKind, RouteDestination};
use meshtui::mesh::rules::model::{RuleChange, Split, Target, Version};
use meshtui::mesh::rules::render::ObjectChange;
use meshtui::mesh::rules::Violation;
use meshtui::runtime::translate_key;
use meshtui::source::write::{
    Applied, FieldOwner, PlannedObject, Preview, RuleRequest, WriteCommand, WriteError, WriteEvent,
};
use meshtui::source::SourceEvent;
use ratatui::buffer::Buffer;
use serde_json::json;

use crate::support::demo::{config, demo_state};

/// A session at 120x40 whose writer may write (as the demo's or the cluster's would).
fn writable() -> (State, LoadedConfig) {
    let mut state = demo_state(120, 40);
    state.rules.writes = WriteAccess::Enabled;
    (state, config("dark", ColorChoice::TrueColor))
}

fn key_event(notation: &str) -> KeyEvent {
    let (modifiers, name) = match notation.split_once('-') {
        Some(("C", rest)) => (KeyModifiers::CONTROL, rest),
        Some(("S", rest)) => (KeyModifiers::SHIFT, rest),
        _ => (KeyModifiers::NONE, notation),
    };
    let code = match name {
        "tab" => KeyCode::Tab,
        "backtab" => KeyCode::BackTab,
        "enter" => KeyCode::Enter,
        "esc" => KeyCode::Esc,
        "left" => KeyCode::Left,
        "right" => KeyCode::Right,
        "up" => KeyCode::Up,
        "down" => KeyCode::Down,
        "backspace" => KeyCode::Backspace,
        "space" => KeyCode::Char(' '),
        one => KeyCode::Char(one.chars().next().unwrap()),
    };
    KeyEvent::new(code, modifiers)
}

/// Presses keys (space separated; `"x"` a character) and returns the effects asked for.
fn press(state: &mut State, config: &LoadedConfig, keys: &str) -> Vec<Effect> {
    let mut effects = Vec::new();
    for notation in keys.split(' ').filter(|k| !k.is_empty()) {
        if let Some(msg) = translate_key(state, &config.keymap, &key_event(notation)) {
            effects.extend(update(state, msg).effects);
        }
    }
    effects
}

/// Types text, one character at a time.
fn type_text(state: &mut State, config: &LoadedConfig, text: &str) -> Vec<Effect> {
    let mut effects = Vec::new();
    for c in text.chars() {
        let event = KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        if let Some(msg) = translate_key(state, &config.keymap, &event) {
            effects.extend(update(state, msg).effects);
        }
    }
    effects
}

fn writes(effects: Vec<Effect>) -> Vec<WriteCommand> {
    effects
        .into_iter()
        .filter_map(|e| match e {
            Effect::Write(command) => Some(*command),
            _ => None,
        })
        .collect()
}

/// Selects the reviews app with find, as a user would.
fn select_reviews(state: &mut State, config: &LoadedConfig) {
    press(state, config, "/");
    type_text(state, config, "reviews v");
    press(state, config, "enter");
}

/// Opens a form on reviews from the `e` menu and answers the access check.
fn open_on_reviews(state: &mut State, config: &LoadedConfig, menu_key: &str) {
    select_reviews(state, config);
    press(state, config, "e");
    let asked = writes(press(state, config, menu_key));
    let form = state.rules.form.as_ref().expect("the form is open");
    assert_eq!(form.target.service, "reviews");
    if let [WriteCommand::CheckAccess { id, namespace }] = asked.as_slice() {
        assert_eq!(namespace, "bookinfo");
        update(
            state,
            Msg::Write(WriteEvent::Access {
                id: *id,
                result: Ok(()),
            }),
        );
    }
}

/// Where `needle` starts on screen, as (column, row).
fn find_text(buffer: &Buffer, needle: &str) -> Option<(u16, u16)> {
    text(buffer).lines().enumerate().find_map(|(row, line)| {
        let byte = line.find(needle)?;
        Some((line[..byte].chars().count() as u16, row as u16))
    })
}

fn assert_coloured(buffer: &Buffer, config: &LoadedConfig, needle: &str, slot: Slot) {
    let (x, y) = find_text(buffer, needle).unwrap_or_else(|| panic!("{needle:?} on screen"));
    assert_eq!(
        Some(buffer[(x, y)].fg),
        config.theme.style(slot).fg,
        "{needle:?} is drawn as {}",
        slot.name()
    );
}

fn weights(state: &State) -> Vec<(String, String)> {
    let form = state.rules.form.as_ref().unwrap();
    form.draft
        .split()
        .unwrap()
        .weights
        .iter()
        .map(|w| (w.version.clone(), w.text.clone()))
        .collect()
}

/// Focuses the weight of `version` and types `value` over it.
fn set_weight(state: &mut State, config: &LoadedConfig, version: &str, value: &str) {
    for _ in 0..10 {
        let form = state.rules.form.as_ref().unwrap();
        let at = form.rows()[form.focus];
        let label = match at {
            meshtui::mesh::rules::validate::Field::Weight(i) => weights(state)[i].0.clone(),
            _ => String::new(),
        };
        if label == version {
            break;
        }
        press(state, config, "tab");
    }
    press(state, config, "backspace backspace backspace");
    type_text(state, config, value);
}

#[test]
fn setting_v1_to_80_and_v3_to_20_enables_apply_and_enter_asks_for_a_preview() {
    let (mut state, config) = writable();
    open_on_reviews(&mut state, &config, "s");
    assert_eq!(
        weights(&state),
        [
            ("v1".into(), "34".into()),
            ("v2".into(), "33".into()),
            ("v3".into(), "33".into())
        ],
        "the demo's traffic, split evenly without rules"
    );
    set_weight(&mut state, &config, "v1", "80");
    set_weight(&mut state, &config, "v3", "20");
    assert_eq!(
        weights(&state),
        [
            ("v1".into(), "80".into()),
            ("v2".into(), "0".into()),
            ("v3".into(), "20".into())
        ]
    );
    assert_eq!(state.rules.apply_blocker(), None);
    let screen = text(&render(&state, &config));
    assert!(screen.contains("Ready: preview the change"), "{screen}");

    let asked = writes(press(&mut state, &config, "enter"));
    let [WriteCommand::Preview { request, .. }] = asked.as_slice() else {
        panic!("one preview is asked for: {asked:?}");
    };
    assert_eq!(
        request.target,
        Target {
            namespace: "bookinfo".into(),
            service: "reviews".into()
        }
    );
    assert_eq!(
        request.change,
        RuleChange::Shift(Split {
            weights: vec![("v1".into(), 80), ("v2".into(), 0), ("v3".into(), 20)]
        })
    );
    assert_eq!(
        request.versions,
        ["v1", "v2", "v3"].map(|v| Version::new(v, "version"))
    );
}

#[test]
fn weights_not_adding_up_to_100_are_refused_with_the_reason_and_nothing_is_sent() {
    let (mut state, config) = writable();
    open_on_reviews(&mut state, &config, "s");
    set_weight(&mut state, &config, "v1", "100");
    press(&mut state, &config, "space");
    set_weight(&mut state, &config, "v2", "5");
    let screen = text(&render(&state, &config));
    assert!(
        screen.contains("✖ the weights add up to 105; they must add up to 100"),
        "{screen}"
    );
    assert!(
        screen.contains("Apply disabled: fix the problem shown first"),
        "{screen}"
    );
    assert!(writes(press(&mut state, &config, "enter")).is_empty());
    assert_eq!(state.rules.form.as_ref().unwrap().phase, Phase::Editing);
}

#[test]
fn a_bad_duration_is_refused_next_to_its_field_in_the_error_colour() {
    let (mut state, config) = writable();
    open_on_reviews(&mut state, &config, "f");
    type_text(&mut state, &config, "5");
    press(&mut state, &config, "tab");
    type_text(&mut state, &config, "10");
    let buffer = render(&state, &config);
    let screen = text(&buffer);
    let (_, delay_row) = find_text(&buffer, "Delay   ").unwrap();
    let (_, error_row) = find_text(&buffer, "✖ \"5\" is not a duration").expect(&screen);
    assert_eq!(
        error_row,
        delay_row + 1,
        "the error is right under the delay"
    );
    assert_coloured(
        &buffer,
        &config,
        "✖ \"5\" is not a duration",
        Slot::FormError,
    );
    assert_coloured(&buffer, &config, "✖ Apply disabled", Slot::Danger);
    assert!(writes(press(&mut state, &config, "enter")).is_empty());

    // Fixed, the form is ready.
    press(&mut state, &config, "backtab");
    type_text(&mut state, &config, "s");
    assert_eq!(state.rules.apply_blocker(), None);
}

fn preview_of(request: &RuleRequest) -> Preview {
    let after = json!({
        "apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
        "metadata": {"name": "reviews", "namespace": "bookinfo", "resourceVersion": "8",
                     "labels": {"app.kubernetes.io/managed-by": "meshtui"}},
        "spec": {"hosts": ["reviews"], "http": [{"name": "meshtui-default", "route": [
            {"destination": {"host": "reviews.bookinfo.svc.cluster.local", "subset": "v1"}, "weight": 80},
            {"destination": {"host": "reviews.bookinfo.svc.cluster.local", "subset": "v3"}, "weight": 20}]}]}
    });
    let mut before = after.clone();
    before["metadata"]["resourceVersion"] = json!("7");
    before["spec"]["http"][0]["route"] = json!([
        {"destination": {"host": "reviews.bookinfo.svc.cluster.local", "subset": "v2"}}
    ]);
    Preview {
        request: request.clone(),
        objects: vec![PlannedObject {
            change: ObjectChange::Apply(after.clone()),
            before: Some(before),
            after: Some(after),
        }],
    }
}

/// Opens the shift form, sets 80/20 and answers the preview; returns the preview.
fn at_the_diff(state: &mut State, config: &LoadedConfig) -> Preview {
    open_on_reviews(state, config, "s");
    set_weight(state, config, "v1", "80");
    set_weight(state, config, "v3", "20");
    let asked = writes(press(state, config, "enter"));
    let [WriteCommand::Preview { id, request }] = asked.as_slice() else {
        panic!("{asked:?}");
    };
    let preview = preview_of(request);
    update(
        state,
        Msg::Write(WriteEvent::Previewed {
            id: *id,
            result: Ok(preview.clone()),
        }),
    );
    preview
}

#[test]
fn the_preview_shows_a_coloured_diff_then_enter_applies_and_u_undoes() {
    let (mut state, config) = writable();
    let preview = at_the_diff(&mut state, &config);
    let buffer = render(&state, &config);
    insta::assert_snapshot!("forms_diff_120x40", text(&buffer));
    assert_coloured(&buffer, &config, "+        - destination:", Slot::DiffAdded);
    assert_coloured(
        &buffer,
        &config,
        "-            subset: v2",
        Slot::DiffRemoved,
    );
    assert_coloured(&buffer, &config, "@@ ", Slot::DiffHunk);
    assert!(
        !text(&buffer).contains("resourceVersion"),
        "server fields are left out"
    );

    let asked = writes(press(&mut state, &config, "enter"));
    let [WriteCommand::Apply {
        id,
        preview: sent,
        force,
    }] = asked.as_slice()
    else {
        panic!("{asked:?}");
    };
    assert_eq!((sent, *force), (&preview, false));
    let applied = Applied {
        objects: preview.objects.clone(),
    };
    update(
        &mut state,
        Msg::Write(WriteEvent::Applied {
            id: *id,
            result: Ok(applied.clone()),
        }),
    );
    assert!(state.rules.form.is_none(), "the form closes");
    let screen = text(&render(&state, &config));
    assert!(
        screen.contains("applied Gray release on reviews.bookinfo: 1 object changed; u undoes it"),
        "{screen}"
    );

    let asked = writes(press(&mut state, &config, "u"));
    let [WriteCommand::Undo {
        id,
        applied: undone,
    }] = asked.as_slice()
    else {
        panic!("{asked:?}");
    };
    assert_eq!(undone, &applied);
    update(
        &mut state,
        Msg::Write(WriteEvent::Undone {
            id: *id,
            result: Ok(()),
        }),
    );
    let screen = text(&render(&state, &config));
    assert!(
        screen.contains("undid Gray release on reviews.bookinfo"),
        "{screen}"
    );
    assert!(
        writes(press(&mut state, &config, "u")).is_empty(),
        "nothing left"
    );
}

#[test]
fn a_conflict_shows_the_owners_and_forces_only_after_a_second_yes() {
    let (mut state, config) = writable();
    let preview = at_the_diff(&mut state, &config);
    let asked = writes(press(&mut state, &config, "enter"));
    let [WriteCommand::Apply { id, .. }] = asked.as_slice() else {
        panic!("{asked:?}");
    };
    update(
        &mut state,
        Msg::Write(WriteEvent::Applied {
            id: *id,
            result: Err(WriteError::Conflict {
                object: "VirtualService bookinfo/reviews".into(),
                owners: vec![FieldOwner {
                    field: ".spec.http".into(),
                    manager: "kubectl-client-side-apply".into(),
                }],
                message: "Apply failed with 1 conflict".into(),
            }),
        }),
    );
    let buffer = render(&state, &config);
    insta::assert_snapshot!("forms_conflict_120x40", text(&buffer));
    assert!(
        writes(press(&mut state, &config, "enter")).is_empty(),
        "Enter does not force"
    );
    press(&mut state, &config, "F");
    let screen = text(&render(&state, &config));
    assert!(screen.contains("Force the apply?"), "{screen}");
    let asked = writes(press(&mut state, &config, "enter"));
    let [WriteCommand::Apply {
        preview: sent,
        force,
        ..
    }] = asked.as_slice()
    else {
        panic!("{asked:?}");
    };
    assert_eq!((sent, *force), (&preview, true));
}

#[test]
fn the_servers_422_is_shown_next_to_the_field_it_names() {
    let (mut state, config) = writable();
    open_on_reviews(&mut state, &config, "f");
    type_text(&mut state, &config, "2s");
    press(&mut state, &config, "tab");
    type_text(&mut state, &config, "10");
    let asked = writes(press(&mut state, &config, "enter"));
    let [WriteCommand::Preview { id, .. }] = asked.as_slice() else {
        panic!("{asked:?}");
    };
    update(
        &mut state,
        Msg::Write(WriteEvent::Previewed {
            id: *id,
            result: Err(WriteError::Invalid {
                object: "VirtualService bookinfo/reviews".into(),
                causes: vec![Violation {
                    path: "spec.http[0].fault.delay.fixedDelay".into(),
                    message: "Invalid value: \"2s\": must be at most 1s here".into(),
                }],
            }),
        }),
    );
    let buffer = render(&state, &config);
    let (_, delay_row) = find_text(&buffer, "Delay   ").unwrap();
    let (_, error_row) = find_text(&buffer, "✖ Invalid value: \"2s\"").expect("shown");
    assert_eq!(error_row, delay_row + 1);
    assert!(state.rules.apply_blocker().is_some(), "until the next edit");
}

#[test]
fn read_only_sessions_check_forms_but_never_send_a_write() {
    let (mut state, config) = writable();
    state.rules.writes = meshtui::runtime::write_access(true, true);
    select_reviews(&mut state, &config);
    press(&mut state, &config, "e");
    let asked = writes(press(&mut state, &config, "s"));
    assert!(asked.is_empty(), "not even an access check: {asked:?}");
    let screen = text(&render(&state, &config));
    assert!(
        screen.contains("Apply disabled: meshtui runs read-only (--readonly): nothing is written"),
        "{screen}"
    );
    assert!(writes(press(&mut state, &config, "enter")).is_empty());
    press(&mut state, &config, "esc");
    assert!(writes(press(&mut state, &config, "u")).is_empty());
}

#[test]
fn without_a_writer_the_forms_say_this_source_cannot_write() {
    let mut state = demo_state(120, 40);
    let config = config("dark", ColorChoice::TrueColor);
    select_reviews(&mut state, &config);
    press(&mut state, &config, ":");
    type_text(&mut state, &config, "breaker");
    press(&mut state, &config, "enter");
    let screen = text(&render(&state, &config));
    assert!(
        screen.contains("Circuit breaking · reviews (bookinfo)"),
        "{screen}"
    );
    assert!(
        screen.contains("Apply disabled: this source cannot write rules"),
        "{screen}"
    );
}

#[test]
fn a_command_names_the_form_and_the_service() {
    let (mut state, config) = writable();
    press(&mut state, &config, ":");
    type_text(&mut state, &config, "canary shop/cart");
    let screen = text(&render(&state, &config));
    assert!(screen.contains(":canary shop/cart_"), "{screen}");
    let asked = writes(press(&mut state, &config, "enter"));
    let form = state.rules.form.as_ref().expect("open");
    assert_eq!(
        (form.target.namespace.as_str(), form.target.service.as_str()),
        ("shop", "cart")
    );
    assert!(
        matches!(asked.as_slice(), [WriteCommand::CheckAccess { namespace, .. }] if namespace == "shop")
    );

    press(&mut state, &config, "esc");
    press(&mut state, &config, ":");
    type_text(&mut state, &config, "split");
    press(&mut state, &config, "enter");
    let screen = text(&render(&state, &config));
    assert!(
        screen.contains("unknown command :split; try :shift"),
        "{screen}"
    );
}

#[test]
fn a_closed_form_keeps_its_draft_for_next_time() {
    let (mut state, config) = writable();
    open_on_reviews(&mut state, &config, "t");
    type_text(&mut state, &config, "3s");
    press(&mut state, &config, "esc");
    assert!(state.rules.form.is_none());
    press(&mut state, &config, "e t");
    let screen = text(&render(&state, &config));
    assert!(screen.contains("3s_"), "{screen}");
}

/// (menu key, keys and text that leave the form valid, that make it invalid).
type FormSteps = (&'static str, &'static str, &'static [Step], &'static [Step]);

#[derive(Debug)]
enum Step {
    Keys(&'static str),
    Type(&'static str),
}

fn run(state: &mut State, config: &LoadedConfig, steps: &[Step]) {
    for step in steps {
        match step {
            Step::Keys(keys) => {
                press(state, config, keys);
            }
            Step::Type(text) => {
                type_text(state, config, text);
            }
        }
    }
}

#[test]
fn every_form_in_a_valid_and_an_error_state() {
    use Step::{Keys, Type};
    let forms: [FormSteps; 5] = [
        (
            "shift",
            "s",
            &[
                Keys("backspace backspace"),
                Type("70"),
                Keys("tab backspace backspace"),
                Type("20"),
                Keys("tab"),
            ],
            &[Keys("tab space tab space backtab backtab backspace")],
        ),
        (
            "canary",
            "c",
            &[
                Keys("tab tab"),
                Type("jason"),
                Keys("tab left C-n right right right right"),
            ],
            &[
                Keys("tab"),
                Type(" space"),
                Keys("tab"),
                Type("x"),
                Keys("C-n right right right right C-up"),
            ],
        ),
        (
            "fault",
            "f",
            &[
                Type("1.5s"),
                Keys("tab"),
                Type("10"),
                Keys("tab"),
                Type("503"),
                Keys("tab"),
                Type("0.5"),
            ],
            &[
                Type("5"),
                Keys("tab tab"),
                Type("600"),
                Keys("tab"),
                Type("101"),
                Keys("tab right tab"),
                Type("x user"),
            ],
        ),
        (
            "breaker",
            "b",
            &[
                Type("100"),
                Keys("tab tab tab"),
                Type("5"),
                Keys("tab"),
                Type("10s"),
                Keys("tab"),
                Type("30s"),
                Keys("tab"),
                Type("50"),
            ],
            &[
                Type("0"),
                Keys("tab tab tab tab"),
                Type("10"),
                Keys("tab tab"),
                Type("150"),
            ],
        ),
        (
            "timeouts",
            "t",
            &[
                Type("10s"),
                Keys("tab"),
                Type("3"),
                Keys("tab"),
                Type("2s"),
                Keys("tab"),
                Type("5xx,connect-failure"),
            ],
            &[Type("0.5ms"), Keys("tab tab tab"), Type("5xx,sometimes")],
        ),
    ];
    for (name, menu_key, valid, invalid) in forms {
        for (state_name, steps, ready) in [("valid", valid, true), ("error", invalid, false)] {
            let (mut state, config) = writable();
            open_on_reviews(&mut state, &config, menu_key);
            run(&mut state, &config, steps);
            let buffer = render(&state, &config);
            insta::assert_snapshot!(format!("forms_{name}_{state_name}_120x40"), text(&buffer));
            let blocker = state.rules.apply_blocker();
            assert_eq!(blocker.is_none(), ready, "{name} {state_name}: {blocker:?}");
            if !ready {
                let form = state.rules.form.as_ref().unwrap();
                let first = &form.verdict.as_ref().unwrap_err()[0];
                let shown = format!("✖ {first}");
                let shown: String = shown.chars().take(40).collect();
                assert_coloured(&buffer, &config, &shown, Slot::FormError);
                assert!(writes(press(&mut state, &config, "enter")).is_empty());
            }
        }
    }
}

/// A VirtualService the inventory lists for reviews, written by someone else.
fn listed_virtual_service(name: &str, host: &str) -> IstioConfigInfo {
    IstioConfigInfo {
        cluster: "Kubernetes".into(),
        namespace: "bookinfo".into(),
        name: name.into(),
        kind: IstioKind::VirtualService,
        hosts: vec![host.into()],
        default_route: Vec::new(),
        spec: None,
    }
}

#[test]
fn reset_in_a_valid_state_and_with_two_virtual_services_for_the_host() {
    let (mut state, config) = writable();
    open_on_reviews(&mut state, &config, "r");
    insta::assert_snapshot!("forms_reset_valid_120x40", text(&render(&state, &config)));
    assert_eq!(state.rules.apply_blocker(), None);
    press(&mut state, &config, "esc");

    let mut snapshot = state.snapshot.clone().unwrap();
    snapshot.inventory.istio_config = vec![
        listed_virtual_service("reviews", "reviews"),
        listed_virtual_service("reviews-canary", "reviews.bookinfo.svc.cluster.local"),
    ];
    update(&mut state, Msg::Source(SourceEvent::Snapshot(snapshot)));
    press(&mut state, &config, "e r");
    let buffer = render(&state, &config);
    insta::assert_snapshot!("forms_reset_error_120x40", text(&buffer));
    assert_coloured(
        &buffer,
        &config,
        "✖ IST0109: The VirtualServices",
        Slot::FormError,
    );
    assert!(state.rules.apply_blocker().is_some());
    press(&mut state, &config, "esc");

    // A second VirtualService bound only to an ingress gateway routes the gateway's
    // traffic, not the sidecars': no conflict.
    let mut snapshot = state.snapshot.clone().unwrap();
    let at_the_gateway = IstioConfigInfo {
        spec: Some(std::sync::Arc::new(serde_json::json!({
            "hosts": ["reviews.bookinfo.svc.cluster.local"],
            "gateways": ["bookinfo-gateway"],
            "http": [{"route": [{"destination": {"host": "reviews"}}]}],
        }))),
        ..listed_virtual_service("reviews-ingress", "reviews.bookinfo.svc.cluster.local")
    };
    snapshot.inventory.istio_config =
        vec![listed_virtual_service("reviews", "reviews"), at_the_gateway];
    update(&mut state, Msg::Source(SourceEvent::Snapshot(snapshot)));
    press(&mut state, &config, "e r");
    let screen = text(&render(&state, &config));
    assert!(!screen.contains("IST0109"), "{screen}");
    assert_eq!(state.rules.apply_blocker(), None);
}

/// A VirtualService the inventory lists for reviews whose catch-all route splits it.
fn splitting_virtual_service(weights: &[(&str, u32)]) -> IstioConfigInfo {
    IstioConfigInfo {
        default_route: weights
            .iter()
            .map(|(subset, weight)| RouteDestination {
                host: "reviews.bookinfo.svc.cluster.local".into(),
                subset: Some((*subset).into()),
                weight: *weight,
            })
            .collect(),
        ..listed_virtual_service("reviews", "reviews")
    }
}

#[test]
fn the_shift_form_starts_at_the_split_the_virtual_service_configures_else_the_traffic_seen() {
    let (mut state, config) = writable();
    let observed = state.snapshot.clone().unwrap();
    let cases: [(&str, Vec<IstioConfigInfo>, [&str; 3]); 3] = [
        (
            "the VirtualService's weights",
            vec![splitting_virtual_service(&[("v1", 80), ("v3", 20)])],
            ["80", "0", "20"],
        ),
        (
            "a route to the whole service: the traffic seen",
            vec![IstioConfigInfo {
                default_route: vec![RouteDestination {
                    host: "reviews".into(),
                    subset: None,
                    weight: 100,
                }],
                ..listed_virtual_service("reviews", "reviews")
            }],
            ["34", "33", "33"],
        ),
        (
            "a subset the service lacks: the traffic seen",
            vec![splitting_virtual_service(&[("v1", 50), ("v9", 50)])],
            ["34", "33", "33"],
        ),
    ];
    for (name, listed, want) in cases {
        let mut snapshot = observed.clone();
        snapshot.inventory.istio_config = listed;
        update(&mut state, Msg::Source(SourceEvent::Snapshot(snapshot)));
        state.rules.drafts.clear();
        open_on_reviews(&mut state, &config, "s");
        let texts: Vec<String> = weights(&state).into_iter().map(|(_, w)| w).collect();
        assert_eq!(texts, want, "{name}");
        press(&mut state, &config, "esc");
    }

    // No traffic and no VirtualService: everything to the first version.
    let mut quiet = observed.clone();
    quiet.samples.clear();
    quiet.inventory.istio_config.clear();
    // Idle nodes keep reviews on screen to be selected.
    state.graph_options.idle_nodes = true;
    update(&mut state, Msg::Source(SourceEvent::Snapshot(quiet)));
    state.rules.drafts.clear();
    open_on_reviews(&mut state, &config, "s");
    let texts: Vec<String> = weights(&state).into_iter().map(|(_, w)| w).collect();
    assert_eq!(texts, ["100", "0", "0"]);
}

#[test]
fn the_form_menu_lists_every_form() {
    let (mut state, config) = writable();
    select_reviews(&mut state, &config);
    press(&mut state, &config, "e down");
    insta::assert_snapshot!("forms_menu_120x40", text(&render(&state, &config)));
    press(&mut state, &config, "enter");
    assert_eq!(
        state.rules.form.as_ref().map(|f| f.kind),
        Some(meshtui::app::forms::FormKind::Canary)
    );
}

#[test]
fn a_gateway_has_no_rules_to_edit_and_says_so() {
    let (mut state, config) = writable();
    // The view opens on the ingress gateway.
    press(&mut state, &config, "e");
    assert!(state.rules.menu.is_none());
    let screen = text(&render(&state, &config));
    assert!(
        screen.contains("ingress gateway is not a service or an app"),
        "{screen}"
    );
}

#[test]
fn at_80x24_in_ascii_every_form_and_its_diff_still_draw_in_ascii() {
    let mut state = demo_state(80, 24);
    state.rules.writes = WriteAccess::Enabled;
    let mut config = config("dark", ColorChoice::TrueColor);
    config.ascii = true;
    for key in ["s", "c", "f", "b", "t", "r"] {
        open_on_reviews(&mut state, &config, key);
        type_text(&mut state, &config, "x");
        let screen = text(&render(&state, &config));
        if std::env::var("PEEK").is_ok() {
            eprintln!("{screen}");
        }
        assert!(screen.is_ascii(), "{screen}");
        assert!(screen.contains("reviews (bookinfo)"), "{screen}");
        press(&mut state, &config, "esc");
    }
    let mut state = demo_state(80, 24);
    state.rules.writes = WriteAccess::Enabled;
    at_the_diff(&mut state, &config);
    let screen = text(&render(&state, &config));
    assert!(screen.is_ascii(), "{screen}");
    assert!(screen.contains("+          weight: 80"), "{screen}");
}
