//! Live mode through the real binary: a real Prometheus (backfilled, or scraping the demo's
//! /metrics), and the Kubernetes API emulator behind a kubeconfig.

use std::process::{Command, Output};
use std::time::Duration;

use meshtui::source::demo::{DemoOptions, DemoSource};
use meshtui::source::MeshSource;
use serde_json::Value;

use crate::support::kube_emulator::{bookinfo_objects, KubeEmulator};
use crate::support::prometheus::{unique_dir, RealPrometheus, FIXTURE_END_UNIX_S};
use crate::support::tmux::{meshtui_binary, Tmux};

fn meshtui(args: &[&str], kubeconfig: Option<&std::path::Path>) -> Output {
    let mut command = Command::new(meshtui_binary());
    command.args(args).env_remove("KUBECONFIG");
    if let Some(file) = kubeconfig {
        command.env("KUBECONFIG", file);
    }
    command.output().expect("run meshtui")
}

fn graph_json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "meshtui failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("meshtui graph prints JSON")
}

/// The edge between the nodes with these names.
fn edge<'g>(graph: &'g Value, from: &str, to: &str) -> &'g Value {
    let id_of = |name: &str| {
        graph["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["name"] == name)
            .unwrap_or_else(|| panic!("no node {name} in {graph}"))["id"]
            .clone()
    };
    let (source, target) = (id_of(from), id_of(to));
    graph["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["source"] == source && e["target"] == target)
        .unwrap_or_else(|| panic!("no edge {from} -> {to}"))
}

#[test]
fn meshtui_graph_replays_a_real_prometheus_at_a_past_instant() {
    let prometheus = RealPrometheus::start_with_bookinfo();
    let url = prometheus.url();
    let time = FIXTURE_END_UNIX_S.to_string();
    let out = meshtui(
        &[
            "graph",
            "--prometheus",
            &url,
            "--metrics-only",
            "--time",
            &time,
            "--window",
            "5m",
            "--graph-type",
            "workload",
        ],
        None,
    );
    let graph = graph_json(&out);
    let gateway = edge(&graph, "istio-ingressgateway", "productpage-v1");
    assert!(
        (gateway["rps"].as_f64().unwrap() - 10.2).abs() < 1e-6,
        "{gateway}"
    );
    assert!(
        (gateway["error_rates"]["server_5xx"].as_f64().unwrap() - 0.2).abs() < 1e-6,
        "{gateway}"
    );
    let overflow = edge(&graph, "productpage-v1", "reviews-v2");
    assert!(
        (overflow["rps"].as_f64().unwrap() - 3.6).abs() < 1e-6,
        "{overflow}"
    );
    assert_eq!(graph["time"].as_f64(), Some(FIXTURE_END_UNIX_S));
}

#[test]
fn a_live_session_without_prometheus_says_what_it_needs() {
    let out = meshtui(&["--metrics-only"], None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("--prometheus") && stderr.contains("meshtui demo"),
        "{stderr}"
    );
}

#[test]
fn meshtui_graph_joins_what_the_api_server_lets_the_user_read() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let emulator = runtime.block_on(KubeEmulator::with_objects(bookinfo_objects()));
    let kubeconfig = emulator.write_kubeconfig(&unique_dir("kubeconfig"));
    let prometheus = RealPrometheus::start_with_bookinfo();
    let url = prometheus.url();
    let time = FIXTURE_END_UNIX_S.to_string();
    let args = [
        "graph",
        "--prometheus",
        &url,
        "--time",
        &time,
        "--window",
        "5m",
        "-n",
        "default",
    ];
    let productpage = |graph: &Value| {
        graph["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["name"] == "productpage")
            .cloned()
            .unwrap()
    };

    let readable = graph_json(&meshtui(&args, Some(&kubeconfig)));
    assert_eq!(productpage(&readable)["inaccessible"], false, "{readable}");

    emulator.forbid_namespace("default");
    let forbidden = graph_json(&meshtui(&args, Some(&kubeconfig)));
    assert_eq!(
        productpage(&forbidden)["inaccessible"],
        true,
        "the API server refused 'default'"
    );
    drop(runtime);
}

#[test]
fn the_live_tui_draws_the_demo_mesh_as_a_real_prometheus_scraped_it() {
    // The demo serves its proxies' metrics; a real Prometheus scrapes them every second.
    let options = DemoOptions {
        seed: 11,
        tick: Duration::from_millis(500),
        serve_metrics: Some("127.0.0.1:0".parse().unwrap()),
        ..DemoOptions::default()
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let demo = runtime
        .block_on(async { DemoSource::bind(options) })
        .unwrap();
    let exporter = demo.metrics_addr().expect("bound");
    let (events, mut received) = tokio::sync::mpsc::channel(4);
    let (_commands, command_rx) = tokio::sync::mpsc::channel(4);
    runtime.spawn(Box::new(demo).run(events, command_rx));
    runtime.spawn(async move { while received.recv().await.is_some() {} });
    let prometheus = RealPrometheus::start_scraping(exporter);

    let tmux = Tmux::start(120, 40);
    tmux.type_line(&format!(
        "{} --prometheus {} --metrics-only --every 1s --window 1m",
        meshtui_binary().display(),
        prometheus.url()
    ));
    let screen = tmux.wait_for("the scraped mesh", Duration::from_secs(60), |s| {
        s.contains("productpage") && s.contains("reviews")
    });
    assert!(
        !screen.contains("DEMO"),
        "live data is not labelled DEMO:\n{screen}"
    );
    assert!(
        screen.contains(&prometheus.address.to_string()),
        "the status bar names the source:\n{screen}"
    );
    tmux.keys(&["q"]);
    tmux.wait_for("meshtui to exit", Duration::from_secs(15), |_| {
        tmux.current_command() == "sh"
    });
    drop(runtime);
}

#[test]
fn when_prometheus_fails_the_tui_keeps_answering_says_why_and_recovers_by_itself() {
    use crate::support::fake_prometheus::{Behaviour, FakePrometheus};
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let fake = runtime.block_on(FakePrometheus::start("/api/v1/query", Behaviour::Answer));
    let tmux = Tmux::start(120, 40);
    tmux.type_line(&format!(
        "{} --prometheus {} --metrics-only --every 1s --timeout 2s",
        meshtui_binary().display(),
        fake.url()
    ));
    let patience = Duration::from_secs(30);
    tmux.wait_for("the graph", patience, |s| {
        s.contains("productpage") && s.contains("reviews")
    });

    for (behaviour, says) in [
        (Behaviour::ServerError, "answered 500"),
        (Behaviour::MalformedJson, "not JSON"),
        (Behaviour::Slow, "took longer than 2s"),
    ] {
        fake.set(behaviour);
        let screen = tmux.wait_for(says, patience, |s| s.contains(says));
        assert!(
            screen.contains("productpage"),
            "the last graph stays on screen:\n{screen}"
        );
        assert!(
            screen.contains("updated"),
            "with the age of its data:\n{screen}"
        );
        tmux.keys(&["?"]);
        tmux.wait_for("help while the source fails", patience, |s| {
            s.contains("Quit meshtui")
        });
        tmux.keys(&["Escape"]);
        tmux.wait_for("help to close", patience, |s| !s.contains("Quit meshtui"));
        fake.set(Behaviour::Answer);
        tmux.wait_for("recovery", patience, |s| {
            !s.contains(says) && s.contains("updated 0s ago")
        });
    }
    tmux.keys(&["q"]);
    tmux.wait_for("meshtui to exit", patience, |_| {
        tmux.current_command() == "sh"
    });
    drop(runtime);
}
