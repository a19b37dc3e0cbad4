//! Rule editing in the real binary on the demo mesh, driven as a person would: the graph
//! follows what the form applies, and undo brings the old split back.

use std::time::Duration;

use crate::support::tmux::{meshtui_binary, Tmux};

const PATIENCE: Duration = Duration::from_secs(15);
/// The demo refreshes every 2 s; its 4 s window is two refreshes.
const TWO_REFRESHES_AND_SLACK: Duration = Duration::from_secs(6);

/// productpage's rate to each reviews version as the edge table shows it (0 when the edge
/// is gone), as shares of their sum.
fn reviews_split(screen: &str) -> Option<[f64; 3]> {
    let mut rates = [0.0; 3];
    for line in screen.lines() {
        if !line.contains("bookinfo/productpage v1") {
            continue;
        }
        for (i, version) in ["v1", "v2", "v3"].iter().enumerate() {
            if line.contains(&format!("bookinfo/reviews {version} ")) {
                let rate = line
                    .split_whitespace()
                    .find_map(|word| word.strip_suffix("/s"))?;
                rates[i] = rate.parse().ok()?;
            }
        }
    }
    let total: f64 = rates.iter().sum();
    (total > 0.0).then(|| rates.map(|r| r / total))
}

fn close_to(split: Option<[f64; 3]>, expected: [f64; 3]) -> bool {
    split.is_some_and(|split| {
        split
            .iter()
            .zip(expected)
            .all(|(got, want)| (got - want).abs() <= 0.05)
    })
}

#[test]
fn a_gray_release_applied_in_the_form_shows_on_the_graph_and_undo_brings_the_old_split_back() {
    let tmux = Tmux::start(120, 40);
    tmux.type_line(&format!(
        "{} demo --seed 1 --window 4s",
        meshtui_binary().display()
    ));
    tmux.wait_for("the Bookinfo topology", PATIENCE, |s| s.contains("reviews"));
    tmux.keys(&["/"]);
    tmux.type_line("reviews");
    tmux.wait_for("reviews to be selected", PATIENCE, |s| {
        s.lines().next().unwrap_or_default().contains("reviews")
    });

    tmux.keys(&["e"]);
    tmux.wait_for("the rule menu", PATIENCE, |s| s.contains("Gray release"));
    tmux.keys(&["s"]);
    tmux.wait_for("the shift form", PATIENCE, |s| {
        s.contains("A weight per version")
    });
    tmux.keys(&["BSpace", "BSpace", "BSpace", "8", "0", "Tab", "Tab"]);
    tmux.keys(&["BSpace", "BSpace", "BSpace", "2", "0"]);
    // The untouched form (v1 at 100) is complete and ready too: wait for the typed weights.
    let form = tmux.wait_for("v1=80 and v3=20, ready", PATIENCE, |s| {
        s.contains(" 80 %") && s.contains("total 100 %") && s.contains("Ready")
    });
    assert!(form.contains(" 80 %") && form.contains("20"), "{form}");

    tmux.keys(&["Enter"]);
    let preview = tmux.wait_for("the diff", PATIENCE, |s| s.contains("Preview:"));
    assert!(preview.contains("+          weight: 80"), "{preview}");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the apply to be confirmed", PATIENCE, |s| {
        s.contains("applied Gray release on reviews")
    });

    tmux.keys(&["t"]);
    let table = tmux.wait_for(
        "productpage's calls to reviews to split 80/20 within two refreshes",
        TWO_REFRESHES_AND_SLACK,
        |s| close_to(reviews_split(s), [0.8, 0.0, 0.2]),
    );
    assert!(table.contains("meshtui edges"), "{table}");

    tmux.keys(&["u"]);
    tmux.wait_for("the undo to be confirmed", PATIENCE, |s| {
        s.contains("undid Gray release on reviews")
    });
    tmux.wait_for(
        "the split to return to a third each within two refreshes",
        TWO_REFRESHES_AND_SLACK,
        |s| close_to(reviews_split(s), [1.0 / 3.0; 3]),
    );
    tmux.keys(&["q"]);
}
