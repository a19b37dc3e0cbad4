//! The drill-down in the release binary in tmux, as a person would: from the topology,
//! Enter on reviews, its interfaces tab, back with Esc, the tree, and a jump to ratings.

use std::time::Duration;

use crate::support::tmux::{meshtui_binary, Tmux};

const PATIENCE: Duration = Duration::from_secs(15);

/// The first line: breadcrumbs in a detail view, the graph and its selection otherwise.
fn header(screen: &str) -> &str {
    screen.lines().next().unwrap_or_default()
}

#[test]
fn enter_on_reviews_then_interfaces_esc_the_tree_and_a_jump_to_ratings() {
    let tmux = Tmux::start(120, 40);
    tmux.type_line(&format!("{} demo --seed 1", meshtui_binary().display()));
    tmux.wait_for("the Bookinfo topology", PATIENCE, |s| {
        s.contains("productpage") && s.contains("reviews")
    });

    tmux.keys(&["/"]);
    tmux.type_line("reviews v2");
    tmux.wait_for("reviews v2 to be selected", PATIENCE, |s| {
        header(s).contains("reviews") && header(s).contains("v2")
    });
    tmux.keys(&["Enter"]);
    let workload = tmux.wait_for("the workload view of reviews-v2", PATIENCE, |s| {
        header(s).contains("topology › bookinfo › reviews-v2 › pods")
    });
    assert!(
        workload.contains("reviews-v2-0") && workload.contains("Running"),
        "its pods are listed:\n{workload}"
    );

    // pods → inbound → outbound → interfaces
    tmux.keys(&["Tab", "Tab", "Tab"]);
    let interfaces = tmux.wait_for("reviews-v2's operations", PATIENCE, |s| {
        header(s).ends_with("interfaces") || header(s).contains("› interfaces")
    });
    let interfaces = if interfaces.contains("GET /reviews/{id}") {
        interfaces
    } else {
        tmux.wait_for("the operations table", PATIENCE, |s| {
            s.contains("GET /reviews/{id}")
        })
    };
    assert!(
        interfaces.contains("OPERATION") && interfaces.contains("/s"),
        "a table of operations with their rates:\n{interfaces}"
    );

    tmux.keys(&["Escape"]);
    let topology = tmux.wait_for("the topology again", PATIENCE, |s| {
        header(s).contains("meshtui topology ·")
    });
    assert!(
        header(&topology).contains("reviews"),
        "the selection is still reviews v2:\n{topology}"
    );

    tmux.keys(&["T"]);
    let tree = tmux.wait_for("the tree", PATIENCE, |s| {
        header(s).contains("topology › tree") && s.contains("clusters › namespaces")
    });
    assert!(
        tree.contains("reviews-v2") && tree.contains("bookinfo"),
        "the tree opens at reviews-v2:\n{tree}"
    );
    tmux.keys(&["/"]);
    tmux.type_line("ratings-v1");
    tmux.wait_for("the tree filtered to ratings", PATIENCE, |s| {
        s.contains("/ratings-v1") && !s.contains("reviews-v2")
    });
    tmux.keys(&["Enter"]);
    let jumped = tmux.wait_for("ratings selected in the graph", PATIENCE, |s| {
        header(s).contains("meshtui topology ·") && header(s).contains("ratings")
    });
    assert!(
        jumped.contains("ratings v1"),
        "ratings is on screen:\n{jumped}"
    );

    tmux.keys(&["q"]);
    tmux.wait_for("meshtui to quit", PATIENCE, |_| {
        tmux.foreground_pids().is_empty()
    });
}
