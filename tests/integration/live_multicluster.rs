//! One graph across two clusters through the real binary: two Kubernetes API emulators
//! behind one kubeconfig (`--context ctx-east=east,ctx-west=west`) and a real Prometheus
//! holding both clusters' Istio metrics, one hop crossing from east to west.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::support::kube_emulator::KubeEmulator;
use crate::support::prometheus::RealPrometheus;
use crate::support::tmux::{meshtui_binary, Tmux};
use crate::support::two_clusters::{east_objects, kubeconfig, openmetrics, west_objects};

const CONTEXTS: &str = "ctx-east=east,ctx-west=west";

struct TwoClusters {
    east: KubeEmulator,
    west: KubeEmulator,
    kubeconfig: PathBuf,
    prometheus: RealPrometheus,
    /// An instant inside the metrics, on a sample.
    time_unix_s: u64,
    runtime: tokio::runtime::Runtime,
}

/// Both API servers and a Prometheus whose data runs from ten minutes before now to ten
/// minutes after, so that a live session reading "now" finds it too.
fn two_clusters() -> TwoClusters {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let east = runtime.block_on(KubeEmulator::with_objects(east_objects()));
    let west = runtime.block_on(KubeEmulator::with_objects(west_objects()));
    let kubeconfig = kubeconfig(&[("ctx-east", &east.url()), ("ctx-west", &west.url())]);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let time_unix_s = now - now % 15;
    let prometheus =
        RealPrometheus::start_with_openmetrics(&openmetrics(time_unix_s - 600, time_unix_s + 600));
    TwoClusters {
        east,
        west,
        kubeconfig,
        prometheus,
        time_unix_s,
        runtime,
    }
}

impl TwoClusters {
    fn graph(&self, extra: &[&str]) -> Output {
        let url = self.prometheus.url();
        let time = self.time_unix_s.to_string();
        let mut args = vec![
            "graph",
            "--context",
            CONTEXTS,
            "--prometheus",
            &url,
            "--time",
            &time,
            "--window",
            "5m",
            "--graph-type",
            "workload",
        ];
        args.extend_from_slice(extra);
        Command::new(meshtui_binary())
            .args(&args)
            .env("KUBECONFIG", &self.kubeconfig)
            .output()
            .expect("run meshtui")
    }
}

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "meshtui failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("meshtui graph prints JSON")
}

fn node<'g>(graph: &'g Value, id: &str) -> &'g Value {
    graph["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == id)
        .unwrap_or_else(|| panic!("no node {id} in {graph:#}"))
}

fn rps(graph: &Value, source: &str, target: &str) -> f64 {
    let edge = graph["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["source"] == source && e["target"] == target)
        .unwrap_or_else(|| panic!("no edge {source} -> {target} in {graph:#}"));
    edge["rps"].as_f64().unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

const EAST_PRODUCTPAGE: &str = "wl/east/bookinfo/productpage-v1";
const WEST_PRODUCTPAGE: &str = "wl/west/bookinfo/productpage-v1";
const EAST_REVIEWS_V1: &str = "wl/east/bookinfo/reviews-v1";
const WEST_REVIEWS_V1: &str = "wl/west/bookinfo/reviews-v1";
const WEST_REVIEWS_V2: &str = "wl/west/bookinfo/reviews-v2";
const EAST_EDGE: &str = "wl/east/istio-system/edge";

#[test]
fn meshtui_graph_draws_each_clusters_nodes_and_the_edge_between_clusters() {
    let mesh = two_clusters();
    // West's user may not read bookinfo; east's may.
    mesh.west.forbid_namespace("bookinfo");
    let graph = json(&mesh.graph(&["-n", "bookinfo,istio-system"]));

    for (id, cluster) in [
        (EAST_PRODUCTPAGE, "east"),
        (WEST_PRODUCTPAGE, "west"),
        (EAST_REVIEWS_V1, "east"),
        (WEST_REVIEWS_V1, "west"),
        (WEST_REVIEWS_V2, "west"),
        (EAST_EDGE, "east"),
    ] {
        assert_eq!(node(&graph, id)["cluster"], cluster, "{id}");
    }
    assert!(close(rps(&graph, EAST_PRODUCTPAGE, WEST_REVIEWS_V2), 2.0));
    assert!(close(rps(&graph, EAST_PRODUCTPAGE, EAST_REVIEWS_V1), 3.0));
    assert!(close(rps(&graph, WEST_PRODUCTPAGE, WEST_REVIEWS_V1), 1.0));
    assert!(close(rps(&graph, EAST_EDGE, EAST_PRODUCTPAGE), 4.0));
    // Only east's inventory knows `edge` for a gateway.
    assert_eq!(node(&graph, EAST_EDGE)["kind"], "ingress-gateway");
    // The forbidden namespace is west's alone.
    for id in [WEST_PRODUCTPAGE, WEST_REVIEWS_V1, WEST_REVIEWS_V2] {
        assert_eq!(node(&graph, id)["inaccessible"], true, "{id}");
    }
    for id in [EAST_PRODUCTPAGE, EAST_REVIEWS_V1] {
        assert_eq!(node(&graph, id)["inaccessible"], false, "{id}");
    }

    let dot = mesh.graph(&["-n", "bookinfo,istio-system", "-o", "dot"]);
    assert!(dot.status.success());
    let dot = String::from_utf8_lossy(&dot.stdout);
    assert!(
        dot.contains("subgraph cluster_0 {\n    label=\"east\";")
            && dot.contains("subgraph cluster_1 {\n    label=\"west\";"),
        "each cluster boxed:\n{dot}"
    );
    drop(mesh.runtime);
}

#[test]
fn contexts_named_otherwise_than_the_metrics_clusters_get_a_hint_to_map_them() {
    let mesh = two_clusters();
    let url = mesh.prometheus.url();
    let time = mesh.time_unix_s.to_string();
    let graph = |contexts: &str| {
        Command::new(meshtui_binary())
            .args(["graph", "--context", contexts, "--prometheus", &url])
            .args(["--time", &time, "--window", "5m"])
            .env("KUBECONFIG", &mesh.kubeconfig)
            .output()
            .expect("run meshtui")
    };
    let unmapped = graph("ctx-east,ctx-west=west");
    assert!(unmapped.status.success());
    let stderr = String::from_utf8_lossy(&unmapped.stderr);
    assert!(
        stderr.contains("the metrics name clusters east that no context is named as")
            && stderr.contains("no metrics name ctx-east")
            && stderr.contains("--context CONTEXT=CLUSTER"),
        "{stderr}"
    );
    let mapped = graph(CONTEXTS);
    assert!(mapped.status.success());
    assert!(
        !String::from_utf8_lossy(&mapped.stderr).contains("CONTEXT=CLUSTER"),
        "no hint once they match"
    );
    drop(mesh.runtime);
}

#[test]
fn meshtui_graph_with_one_clusters_api_down_names_it_and_still_reads_the_other() {
    let mesh = two_clusters();
    mesh.west.go_down();
    let out = mesh.graph(&[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let graph = json(&out);
    assert!(
        stderr.contains("cluster west") && stderr.contains("cannot reach the API server"),
        "{stderr}"
    );
    assert!(!stderr.contains("cluster east"), "{stderr}");
    assert_eq!(node(&graph, EAST_EDGE)["kind"], "ingress-gateway");
    assert!(close(rps(&graph, EAST_PRODUCTPAGE, WEST_REVIEWS_V2), 2.0));

    // With every cluster down there is nothing to join: that is an error.
    mesh.east.go_down();
    let out = mesh.graph(&[]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cluster east") && stderr.contains("cluster west"),
        "{stderr}"
    );
    drop(mesh.runtime);
}

#[test]
fn the_live_tui_names_the_clusters_and_shows_one_clusters_outage_while_the_graph_stays() {
    let mesh = two_clusters();
    let tmux = Tmux::start(160, 48);
    tmux.type_line(&format!(
        "KUBECONFIG={} {} --context {CONTEXTS} --prometheus {} --every 1s --graph-type workload",
        mesh.kubeconfig.display(),
        meshtui_binary().display(),
        mesh.prometheus.url()
    ));
    let patience = Duration::from_secs(60);
    tmux.wait_for("nodes of both clusters", patience, |s| {
        s.contains("@east") && s.contains("@west") && s.contains("productpage")
    });

    mesh.west.go_down();
    let screen = tmux.wait_for("west's outage", patience, |s| s.contains("cluster west"));
    assert!(
        screen.contains("@east") && screen.contains("productpage"),
        "the graph stays:\n{screen}"
    );
    assert!(!screen.contains("cluster east"), "{screen}");

    mesh.runtime.block_on(mesh.west.come_back());
    tmux.wait_for("recovery", patience, |s| {
        !s.contains("cluster west") && s.contains("@west")
    });
    tmux.keys(&["q"]);
    tmux.wait_for("meshtui to exit", patience, |_| {
        tmux.current_command() == "sh"
    });
    drop(mesh.runtime);
}
