//! The real binary in a real terminal, driven as a person would.

use std::time::Duration;

use crate::support::tmux::{meshtui_binary, Tmux};

const PATIENCE: Duration = Duration::from_secs(15);

/// The selected node's name as the header shows it (`▸ ● name …`).
fn selected_in_header(screen: &str) -> String {
    let header = screen.lines().next().unwrap_or_default();
    header
        .split('▸')
        .nth(1)
        .unwrap_or_default()
        .trim()
        .to_owned()
}

#[test]
fn the_demo_shows_bookinfo_moves_the_selection_opens_help_and_quits_cleanly() {
    let tmux = Tmux::start(120, 40);
    tmux.type_line(&format!("{} demo --seed 1", meshtui_binary().display()));
    let screen = tmux.wait_for("the Bookinfo topology", PATIENCE, |s| {
        s.contains("productpage") && s.contains("reviews")
    });
    assert!(
        screen.contains("DEMO"),
        "the demo is labelled DEMO:\n{screen}"
    );
    // ratings sits right of column 120: finding it scrolls it into view.
    tmux.keys(&["/"]);
    tmux.type_line("ratings");
    let screen = tmux.wait_for("ratings to be found and shown", PATIENCE, |s| {
        selected_in_header(s).contains("ratings") && s.contains("ratings v1")
    });
    assert!(
        screen.contains("reviews"),
        "the reviews that call ratings stay in view:\n{screen}"
    );

    let before = selected_in_header(&screen);
    assert!(
        !before.is_empty(),
        "a node is selected from the start:\n{screen}"
    );
    tmux.keys(&["Right"]);
    let moved = tmux.wait_for("the selection to move right", PATIENCE, |s| {
        selected_in_header(s) != before
    });
    let after_right = selected_in_header(&moved);
    tmux.keys(&["j"]);
    tmux.wait_for("the selection to move down", PATIENCE, |s| {
        selected_in_header(s) != after_right
    });

    tmux.keys(&["?"]);
    let help = tmux.wait_for("the help overlay", PATIENCE, |s| s.contains("Keys"));
    assert!(
        help.contains("Quit meshtui"),
        "help lists the bindings with descriptions:\n{help}"
    );
    tmux.keys(&["Escape"]);
    tmux.wait_for("help to close", PATIENCE, |s| !s.contains("Quit meshtui"));

    tmux.keys(&["q"]);
    tmux.wait_for("meshtui to exit", PATIENCE, |_| {
        tmux.current_command() != "meshtui"
    });
    assert_eq!(
        tmux.current_command(),
        "sh",
        "the process is gone and the shell is back"
    );

    assert_shell_is_usable(&tmux, "demo --seed 1");
}

/// The terminal is back to what the shell expects: canonical mode, echo, main screen.
fn assert_shell_is_usable(tmux: &Tmux, typed: &str) {
    tmux.type_line("stty -a | tr ' ' '\\n' | grep -x -e icanon -e echo | tr '\\n' ' '; echo shell-ok-$((40+2))");
    let shell = tmux.wait_for("the shell to answer", PATIENCE, |s| {
        s.contains("shell-ok-42")
    });
    assert!(
        shell.contains("icanon echo"),
        "the tty is out of raw mode:\n{shell}"
    );
    assert!(
        shell.contains(typed),
        "the alternate screen was left:\n{shell}"
    );
}

#[test]
fn sigterm_and_sighup_end_the_session_and_restore_the_terminal() {
    for (signal, seed) in [("-TERM", "4242"), ("-HUP", "4343")] {
        let tmux = Tmux::start(100, 30);
        let command = format!("{} demo --seed {seed}", meshtui_binary().display());
        tmux.type_line(&command);
        tmux.wait_for("the demo to draw", PATIENCE, |s| {
            s.contains("DEMO") && s.contains("productpage")
        });
        let pids = tmux.foreground_pids();
        assert_eq!(pids.len(), 1, "the shell runs meshtui alone: {pids:?}");
        let sent = std::process::Command::new("kill")
            .args([signal, &pids[0].to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "{signal} reached meshtui");
        tmux.wait_for("meshtui to exit", PATIENCE, |_| {
            tmux.current_command() == "sh"
        });
        assert_shell_is_usable(&tmux, &format!("demo --seed {seed}"));
    }
}
