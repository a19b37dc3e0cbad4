//! The access-log view at 120x40 on a demo pod's log (seed 1, frozen clock): an insta
//! snapshot of the text, and buffer assertions for the colours of 5xx and 4xx rows.

use meshtui::app::navigate::open_pod_log;
use meshtui::app::{update, Action, Effect, FindKey, Msg, State};
use meshtui::config::{ColorChoice, Slot};
use meshtui::source::demo::{proxy_log_lines, DemoMesh, DEMO_START_UNIX_S};
use meshtui::source::logs::{parse_lines, LogEvent, PodRef};
use ratatui::buffer::Buffer;

use crate::support::demo::{config, demo_state, options};
use crate::support::screen::{render, text};

/// The demo state with the shop frontend's log open (404s from it, 5xx from the ad
/// service it calls): the last 30 simulated seconds of it.
fn state_with_log() -> State {
    let mut state = demo_state(120, 40);
    let pod = PodRef::proxy("Kubernetes", "shop", "frontend-v1-0");
    let outcome = open_pod_log(&mut state, &pod);
    let [Effect::FollowLog { id, .. }] = outcome.effects.as_slice() else {
        panic!("opening the log follows it: {:?}", outcome.effects);
    };
    let id = *id;
    // What the proxies saw: their logs show every request's path, labelled by a metric or not.
    let snapshot = DemoMesh::new(options()).proxy_traffic();
    let lines = proxy_log_lines(&snapshot, &pod, DEMO_START_UNIX_S - 30.0, 30.0, 1);
    update(
        &mut state,
        Msg::Log {
            id,
            event: LogEvent::Connected,
        },
    );
    update(
        &mut state,
        Msg::Log {
            id,
            event: LogEvent::Lines(parse_lines(lines)),
        },
    );
    state
}

/// Each table row's screen row and the code in its STATUS column.
fn statuses(screen: &str) -> Vec<(usize, u16)> {
    let lines: Vec<Vec<char>> = screen.lines().map(|l| l.chars().collect()).collect();
    let (header_y, header) = lines
        .iter()
        .enumerate()
        .find(|(_, l)| {
            let l: String = l.iter().collect();
            l.contains("STATUS") && l.contains("UPSTREAM")
        })
        .expect("the table's header");
    let header: String = header.iter().collect();
    let column = header.find("STATUS").unwrap();
    lines
        .iter()
        .enumerate()
        .skip(header_y + 1)
        .filter_map(|(y, line)| {
            let cell: String = line.get(column..column + 6)?.iter().collect();
            Some((y, cell.trim().parse().ok()?))
        })
        .collect()
}

/// Rows of the table whose status is in `codes`.
fn rows_with_status(screen: &str, codes: std::ops::RangeInclusive<u16>) -> Vec<usize> {
    statuses(screen)
        .into_iter()
        .filter(|(_, code)| codes.contains(code))
        .map(|(y, _)| y)
        .collect()
}

fn row_colour(buffer: &Buffer, y: usize) -> Option<ratatui::style::Color> {
    Some(buffer[(0, u16::try_from(y).ok()?)].fg)
}

#[test]
fn the_access_log_at_120x40() {
    let state = state_with_log();
    let config = config("dark", ColorChoice::TrueColor);
    let buffer = render(&state, &config);
    let screen = text(&buffer);
    insta::assert_snapshot!("access_log_120x40", screen);
    assert!(
        screen.contains("access log Kubernetes/shop/frontend-v1-0"),
        "{screen}"
    );
    assert!(screen.contains("following"), "{screen}");

    // A 5xx row (not the selected one, whose colours are the selection's) is drawn in
    // the danger colour; a 2xx row in the text colour.
    let selected = 39 - 2;
    let failing: Vec<usize> = rows_with_status(&screen, 500..=599)
        .into_iter()
        .filter(|y| *y != selected)
        .collect();
    assert!(!failing.is_empty(), "the demo log has 5xx rows:\n{screen}");
    for y in failing {
        assert_eq!(
            row_colour(&buffer, y),
            config.theme.style(Slot::Danger).fg,
            "row {y}"
        );
    }
    let warned: Vec<usize> = rows_with_status(&screen, 400..=499)
        .into_iter()
        .filter(|y| *y != selected)
        .collect();
    assert!(!warned.is_empty(), "the demo log has 4xx rows:\n{screen}");
    for y in warned {
        assert_eq!(
            row_colour(&buffer, y),
            config.theme.style(Slot::HealthWarn).fg,
            "row {y}"
        );
    }
    let fine = rows_with_status(&screen, 200..=299);
    assert!(!fine.is_empty());
    assert_eq!(
        row_colour(&buffer, fine[0]),
        config.theme.style(Slot::Text).fg
    );
}

#[test]
fn only_5xx_rows_remain_under_the_5xx_filter_and_the_path_filter_narrows_them() {
    let mut state = state_with_log();
    for _ in 0..4 {
        update(&mut state, Msg::Action(Action::CycleStatusFilter));
    }
    let config = config("dark", ColorChoice::TrueColor);
    let screen = text(&render(&state, &config));
    assert!(screen.contains("status 5xx"), "{screen}");
    let codes = statuses(&screen);
    assert!(!codes.is_empty(), "{screen}");
    for (y, code) in codes {
        assert!((500..=599).contains(&code), "row {y} has status {code}");
    }
    update(&mut state, Msg::Action(Action::Find));
    for c in "/nothing-like-this".chars() {
        update(&mut state, Msg::Find(FindKey::Char(c)));
    }
    update(&mut state, Msg::Find(FindKey::Accept));
    let screen = text(&render(&state, &config));
    assert!(screen.contains("path /nothing-like-this"), "{screen}");
    assert!(screen.contains(" 0 of "), "{screen}");
}

#[test]
fn esc_leaves_the_workload_view_and_stops_following_its_log() {
    let mut state = state_with_log();
    let outcome = update(&mut state, Msg::Action(Action::Back));
    assert_eq!(outcome.effects, vec![Effect::StopLog]);
    assert!(state.logs.open.is_none());
    let screen = text(&render(&state, &config("dark", ColorChoice::TrueColor)));
    assert!(!screen.contains("access log"), "{screen}");
    let again = update(&mut state, Msg::Action(Action::Back));
    assert_eq!(again.effects, Vec::new(), "nothing more to stop");
}
