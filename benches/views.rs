//! Prints the figures issue 5 asks for: opening each detail view (building it from the
//! state and drawing its first frame) on a demo mesh of about 10k workloads. Run with
//! `cargo bench --bench views`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use meshtui::app::forms::TextKey;
use meshtui::app::{update, Action, Effect, Msg, State};
use meshtui::config::{self, ColorChoice, ConfigOptions, LoadedConfig};
use meshtui::mesh::NodeKind;
use meshtui::source::demo::{proxy_log_lines, DemoMesh, DemoOptions};
use meshtui::source::logs::{parse_lines, LogEvent};
use meshtui::source::SourceEvent;
use meshtui::ui::{self, Chrome};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

/// Target from issue 5.
const TARGET: Duration = Duration::from_millis(50);
const RUNS: usize = 15;

fn config() -> LoadedConfig {
    let options = ConfigOptions {
        config_dir: Some(std::env::temp_dir().join("meshtui-bench-no-user-config")),
        theme: Some("dark".into()),
        keymap: None,
        color: Some(ColorChoice::TrueColor),
        ascii: Some(false),
    };
    config::load(&options, &|_| None).unwrap()
}

fn options() -> DemoOptions {
    DemoOptions {
        seed: 7,
        services: Some(6000),
        ..DemoOptions::default()
    }
}

fn command(state: &mut State, line: &str) {
    update(state, Msg::Action(Action::CommandLine));
    for c in line.chars() {
        update(state, Msg::Text(TextKey::Char(c)));
    }
    update(state, Msg::Text(TextKey::Enter));
}

fn draw(terminal: &mut Terminal<TestBackend>, state: &State, config: &LoadedConfig) {
    let chrome = Chrome {
        theme: &config.theme,
        keymap: &config.keymap,
        ascii: config.ascii,
    };
    terminal
        .draw(|frame| ui::draw(frame, state, &chrome))
        .unwrap();
}

/// A way to open a view, with what the bench calls it.
type Opening<'a> = (String, Box<dyn Fn(&mut State) + 'a>);

/// Median time of opening a view with `open` and drawing it, then going back.
fn open_and_draw(
    state: &mut State,
    terminal: &mut Terminal<TestBackend>,
    config: &LoadedConfig,
    open: &dyn Fn(&mut State),
) -> Duration {
    let mut samples: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            open(state);
            draw(terminal, state, config);
            let took = start.elapsed();
            assert!(!state.views.is_at_root(), "the view opened");
            update(state, Msg::Action(Action::Back));
            took
        })
        .collect();
    samples.sort();
    samples[samples.len() / 2]
}

fn verdict(took: Duration) -> &'static str {
    if took <= TARGET {
        "ok"
    } else {
        "OVER TARGET"
    }
}

fn main() {
    let config = config();
    let started = Instant::now();
    let mut mesh = DemoMesh::new(options());
    let mut state = meshtui::runtime::first_demo_state(options(), &config, 120, 40);
    let snapshot = state.snapshot.as_ref().unwrap();
    println!(
        "views at {} workloads, {} pods, {} services, {} samples (set-up {:.1} s):",
        snapshot.inventory.workloads.len(),
        snapshot.inventory.pods.len(),
        snapshot.inventory.services.len(),
        snapshot.samples.len(),
        started.elapsed().as_secs_f64()
    );
    // The busiest workload the gateway calls, and its service and app.
    let (workload, service, app) = {
        let node = state
            .graph
            .nodes()
            .map(|(_, n)| n)
            .filter(|n| n.kind == NodeKind::VersionedApp && n.workload.is_some())
            .max_by(|a, b| a.inbound.total.total_cmp(&b.inbound.total))
            .unwrap();
        let workload = node.workload.clone().unwrap();
        let app = node.app.clone().unwrap();
        (
            format!("{}/{workload}", node.namespace),
            format!("{}/{app}", node.namespace),
            format!("{}/{app}", node.namespace),
        )
    };
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    let cases: Vec<Opening<'_>> = vec![
        (
            format!("workload view ({workload}), pods tab"),
            Box::new(|s: &mut State| command(s, &format!("wl {workload}"))),
        ),
        (
            "workload view, inbound tab with sparklines".into(),
            Box::new(|s: &mut State| {
                command(s, &format!("wl {workload}"));
                update(s, Msg::Action(Action::NextTab));
            }),
        ),
        (
            format!("service view ({service})"),
            Box::new(|s: &mut State| command(s, &format!("svc {service}"))),
        ),
        (
            format!("app view ({app})"),
            Box::new(|s: &mut State| command(s, &format!("app {app}"))),
        ),
        (
            "Enter on the selected topology node".into(),
            Box::new(|s: &mut State| {
                update(s, Msg::Action(Action::OpenDetail));
            }),
        ),
    ];
    for (label, open) in &cases {
        let took = open_and_draw(&mut state, &mut terminal, &config, open.as_ref());
        println!(
            "  {label:<58} {:>7.2} ms  (target <= {} ms: {})",
            took.as_secs_f64() * 1000.0,
            TARGET.as_millis(),
            verdict(took)
        );
    }

    // The tabs that fetch their own data: the time runs from the key to the first frame
    // showing the answer, the answer computed as the demo's reader and log follower do
    // (from the running mesh, and from the snapshot the source already sent).
    {
        let proxies = mesh.proxy_traffic();
        let tabs: Vec<Opening<'_>> = vec![
            (
                "workload view, interfaces tab (operations answered)".into(),
                Box::new(|s: &mut State| {
                    command(s, &format!("wl {workload}"));
                    let mut effects = Vec::new();
                    for _ in 0..3 {
                        effects = update(s, Msg::Action(Action::NextTab)).effects;
                    }
                    for effect in effects {
                        if let Effect::QueryOperations(query) = effect {
                            let result = Ok(mesh.operations_report(query.clone()));
                            update(s, Msg::Operations { query, result });
                        }
                    }
                }),
            ),
            (
                "workload view, logs tab (30 s of a pod's log)".into(),
                Box::new(|s: &mut State| {
                    command(s, &format!("wl {workload}"));
                    let effects = update(s, Msg::Action(Action::PreviousTab)).effects;
                    for effect in effects {
                        if let Effect::FollowLog { id, pod } = effect {
                            let now = proxies.taken_at_unix_s;
                            let lines = proxy_log_lines(&proxies, &pod, now - 30.0, 30.0, 1);
                            let event = LogEvent::Lines(parse_lines(lines));
                            update(s, Msg::Log { id, event });
                        }
                    }
                }),
            ),
            (
                "tree navigator (T), opened at the selection".into(),
                Box::new(|s: &mut State| {
                    update(s, Msg::Action(Action::ShowTree));
                }),
            ),
        ];
        for (label, open) in &tabs {
            let took = open_and_draw(&mut state, &mut terminal, &config, open.as_ref());
            println!(
                "  {label:<58} {:>7.2} ms  (target <= {} ms: {})",
                took.as_secs_f64() * 1000.0,
                TARGET.as_millis(),
                verdict(took)
            );
        }
    }

    // In the service graph no node stands for the workload: its edges come from its own
    // samples.
    command(&mut state, "graph service");
    let open: Box<dyn Fn(&mut State)> = Box::new(|s: &mut State| {
        command(s, &format!("wl {workload}"));
        update(s, Msg::Action(Action::NextTab));
    });
    let took = open_and_draw(&mut state, &mut terminal, &config, open.as_ref());
    println!(
        "  {:<58} {:>7.2} ms  (target <= {} ms: {})",
        "workload view in the service graph (own workload graph)",
        took.as_secs_f64() * 1000.0,
        TARGET.as_millis(),
        verdict(took)
    );
    command(&mut state, "graph versioned");

    // A refresh rebuilds the graph and lays it out, records every node's and edge's
    // history, and rebuilds the view on screen: the last two are this part.
    let mut refresh = |state: &mut State| {
        let mut samples = Vec::new();
        for _ in 0..3 {
            mesh.step();
            let snapshot = Box::new(mesh.snapshot());
            let start = Instant::now();
            update(state, Msg::Source(SourceEvent::Snapshot(snapshot)));
            samples.push(start.elapsed());
        }
        samples.sort();
        samples[samples.len() / 2].as_secs_f64() * 1000.0
    };
    let at_root = refresh(&mut state);
    command(&mut state, &format!("wl {workload}"));
    update(&mut state, Msg::Action(Action::NextTab));
    let in_view = refresh(&mut state);
    println!(
        "  {:<58} {:>7.2} ms  (on the topology: {at_root:.2} ms)",
        "a refresh with the workload view open", in_view
    );
    let start = Instant::now();
    let mut history = meshtui::app::history::TrafficHistory::default();
    history.begin();
    history.record_graph(&state.graph);
    history.prune();
    println!(
        "  {:<58} {:>7.2} ms  ({} nodes, {} edges)",
        "of which recording the history of every node and edge",
        start.elapsed().as_secs_f64() * 1000.0,
        state.graph.node_count(),
        state.graph.edge_count()
    );
}
