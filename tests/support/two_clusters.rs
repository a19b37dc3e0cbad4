//! A mesh over two clusters, `east` and `west`, for the multi-cluster tests: each cluster's
//! API server is a Kubernetes API emulator holding Bookinfo (so both hold the same names),
//! east adds an ingress gateway whose name does not say so, and Istio's metrics of both
//! clusters (written by hand, OpenMetrics for `promtool` to backfill) carry
//! `source_cluster`/`destination_cluster` as Istio writes them, one hop crossing over.

use std::fmt::Write as _;
use std::path::PathBuf;

use serde_json::{json, Value};

use super::kube_emulator::bookinfo_objects;
use super::prometheus::unique_dir;

/// One hop and its steady rate, as the destination's proxy reports it.
pub struct Hop {
    pub source: (&'static str, &'static str, &'static str),
    pub destination: (&'static str, &'static str, &'static str),
    pub rps: f64,
}

/// (cluster, namespace, workload) → (cluster, namespace, workload) at a rate.
pub const HOPS: [Hop; 5] = [
    Hop {
        source: ("east", "istio-system", "edge"),
        destination: ("east", "bookinfo", "productpage-v1"),
        rps: 4.0,
    },
    Hop {
        source: ("east", "bookinfo", "productpage-v1"),
        destination: ("east", "bookinfo", "reviews-v1"),
        rps: 3.0,
    },
    // Across clusters: east's productpage reaching west's reviews-v2.
    Hop {
        source: ("east", "bookinfo", "productpage-v1"),
        destination: ("west", "bookinfo", "reviews-v2"),
        rps: 2.0,
    },
    Hop {
        source: ("west", "bookinfo", "productpage-v1"),
        destination: ("west", "bookinfo", "reviews-v1"),
        rps: 1.0,
    },
    Hop {
        source: ("west", "bookinfo", "reviews-v2"),
        destination: ("west", "bookinfo", "ratings-v1"),
        rps: 0.5,
    },
];

/// Samples every 15 s from `start_unix_s` to `end_unix_s`, counters growing at each hop's
/// rate, in OpenMetrics with its `# EOF`.
pub fn openmetrics(start_unix_s: u64, end_unix_s: u64) -> String {
    let mut out = String::from(
        "# HELP istio_requests Requests handled by an Istio proxy (test data).\n\
         # TYPE istio_requests counter\n",
    );
    for hop in &HOPS {
        let labels = labels(hop);
        let mut t = start_unix_s;
        while t <= end_unix_s {
            let count = hop.rps * (t - start_unix_s) as f64;
            let _ = writeln!(out, "istio_requests_total{{{labels}}} {count} {t}");
            t += 15;
        }
    }
    out.push_str("# EOF\n");
    out
}

fn labels(hop: &Hop) -> String {
    let (source_cluster, source_namespace, source_workload) = hop.source;
    let (destination_cluster, destination_namespace, destination_workload) = hop.destination;
    let app_version = |workload: &str| -> (String, String) {
        match workload.rsplit_once('-') {
            Some((app, version)) if version.starts_with('v') => (app.into(), version.into()),
            _ => (workload.into(), String::new()),
        }
    };
    let (source_app, source_version) = app_version(source_workload);
    let (destination_app, destination_version) = app_version(destination_workload);
    let service = destination_app.clone();
    [
        ("reporter", "destination".to_owned()),
        ("source_cluster", source_cluster.into()),
        ("source_workload_namespace", source_namespace.into()),
        ("source_workload", source_workload.into()),
        ("source_app", source_app),
        ("source_version", source_version),
        ("destination_cluster", destination_cluster.into()),
        (
            "destination_workload_namespace",
            destination_namespace.into(),
        ),
        ("destination_workload", destination_workload.into()),
        ("destination_app", destination_app),
        ("destination_version", destination_version),
        (
            "destination_service",
            format!("{service}.{destination_namespace}.svc.cluster.local"),
        ),
        ("destination_service_name", service),
        (
            "destination_service_namespace",
            destination_namespace.into(),
        ),
        ("request_protocol", "http".into()),
        ("connection_security_policy", "mutual_tls".into()),
        ("response_code", "200".into()),
        ("response_flags", "-".into()),
        ("grpc_response_status", String::new()),
    ]
    .iter()
    .map(|(name, value)| format!("{name}=\"{value}\""))
    .collect::<Vec<_>>()
    .join(",")
}

/// What east's API server holds: Bookinfo, and an ingress gateway deployment called `edge`
/// (a name Istio's default gateway names would not give away).
pub fn east_objects() -> Vec<Value> {
    let mut objects = bookinfo_objects();
    let mut edge = objects
        .iter()
        .find(|o| o["kind"] == "Deployment" && o["metadata"]["name"] == "istio-ingressgateway")
        .cloned()
        .expect("Bookinfo has an ingress gateway deployment");
    edge["metadata"]["name"] = json!("edge");
    objects.push(edge);
    objects
}

/// What west's API server holds: Bookinfo, with reviews-v1's pod running without a sidecar
/// (as after `sidecar.istio.io/inject: "false"`).
pub fn west_objects() -> Vec<Value> {
    let mut objects = bookinfo_objects();
    for object in &mut objects {
        let labels = &object["metadata"]["labels"];
        if object["kind"] != "Pod" || labels["app"] != "reviews" || labels["version"] != "v1" {
            continue;
        }
        if let Some(annotations) = object["metadata"]["annotations"].as_object_mut() {
            annotations.remove("sidecar.istio.io/status");
        }
        if let Some(containers) = object["spec"]["containers"].as_array_mut() {
            containers.retain(|c| c["name"] != "istio-proxy");
        }
        object["spec"]["initContainers"] = json!([]);
    }
    objects
}

/// A kubeconfig with a context per (context, server URL), the first one current.
pub fn kubeconfig(contexts: &[(&str, &str)]) -> PathBuf {
    let dir = unique_dir("kubeconfig-clusters");
    let file = dir.join("config");
    let mut clusters = String::new();
    let mut context_list = String::new();
    for (name, server) in contexts {
        let _ = write!(
            clusters,
            "- name: {name}\n  cluster:\n    server: {server}\n"
        );
        let _ = write!(
            context_list,
            "- name: {name}\n  context:\n    cluster: {name}\n    user: tester\n"
        );
    }
    let current = contexts.first().map(|(name, _)| *name).unwrap_or_default();
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n{clusters}contexts:\n{context_list}\
         current-context: {current}\nusers:\n- name: tester\n  user:\n    token: test-token\n"
    );
    std::fs::write(&file, text).expect("write the kubeconfig");
    file
}
