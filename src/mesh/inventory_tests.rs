use super::*;
use crate::mesh::build::{build_graph, GraphOptions};
use crate::mesh::graph::{GraphType, MeshGraph, NodeKey, NodeKind};
use crate::mesh::traffic::{PeerLabels, SampleKind, SampleLabels, TrafficSample};

fn namespace(cluster: &str, name: &str) -> NamespaceInfo {
    NamespaceInfo {
        cluster: cluster.into(),
        name: name.into(),
        injection_enabled: true,
    }
}

fn workload(cluster: &str, namespace: &str, name: &str, sidecar: bool) -> WorkloadInfo {
    WorkloadInfo {
        cluster: cluster.into(),
        namespace: namespace.into(),
        name: name.into(),
        kind: WorkloadKind::Deployment,
        app: None,
        version: None,
        version_label: None,
        sidecar_injected: sidecar,
        gateway: None,
        pods_ready: 1,
        pods_desired: 1,
        labels: Default::default(),
    }
}

/// A cluster running Bookinfo's productpage and reviews-v1, with or without sidecars.
fn cluster(name: &str, sidecars: bool) -> Inventory {
    Inventory {
        namespaces: vec![namespace(name, "bookinfo")],
        workloads: vec![
            workload(name, "bookinfo", "productpage-v1", sidecars),
            workload(name, "bookinfo", "reviews-v1", sidecars),
        ],
        ..Inventory::default()
    }
}

fn peer(cluster: &str, workload: &str) -> PeerLabels {
    let (app, version) = workload.rsplit_once('-').unwrap();
    PeerLabels {
        cluster: cluster.into(),
        ..PeerLabels::workload("bookinfo", app, version)
    }
}

/// productpage calling reviews-v1 in its own cluster, in east and in west.
fn samples() -> Vec<TrafficSample> {
    ["east", "west"]
        .into_iter()
        .map(|cluster| TrafficSample {
            kind: SampleKind::Requests,
            labels: SampleLabels::between(
                peer(cluster, "productpage-v1"),
                peer(cluster, "reviews-v1"),
                "reviews.bookinfo.svc.cluster.local",
            ),
            value: 1.0,
        })
        .collect()
}

fn workload_graph(inventory: &Inventory, namespaces: &[&str]) -> MeshGraph {
    let options = GraphOptions {
        graph_type: GraphType::Workload,
        namespaces: namespaces.iter().map(|n| (*n).to_owned()).collect(),
        ..GraphOptions::default()
    };
    build_graph(&samples(), inventory, &options)
}

fn node<'g>(graph: &'g MeshGraph, key: &str) -> &'g crate::mesh::MeshNode {
    let index = graph
        .node_index(&NodeKey(key.into()))
        .unwrap_or_else(|| panic!("no node {key}"));
    &graph.graph[index]
}

#[test]
fn merging_keeps_the_same_names_of_two_clusters_apart() {
    let merged = Inventory::merged([&cluster("east", true), &cluster("west", false)]);
    assert_eq!(merged.workloads.len(), 4);
    assert_eq!(
        merged.clusters().into_iter().collect::<Vec<_>>(),
        ["east", "west"]
    );
    let sidecar = |cluster: &str| {
        merged
            .workload(cluster, "bookinfo", "reviews-v1")
            .map(|w| w.sidecar_injected)
    };
    assert_eq!(
        (sidecar("east"), sidecar("west"), sidecar("south")),
        (Some(true), Some(false), None)
    );
    let index = merged.index();
    assert!(index
        .workload("east", "bookinfo", "reviews-v1")
        .is_some_and(|w| w.sidecar_injected));
    assert!(index
        .workload("west", "bookinfo", "reviews-v1")
        .is_some_and(|w| !w.sidecar_injected));
    assert!(index.workload("south", "bookinfo", "reviews-v1").is_none());
    assert!(index.lists_namespace("west", "bookinfo"));
    assert!(!index.lists_namespace("south", "bookinfo"));
}

#[test]
fn each_clusters_nodes_take_their_sidecar_from_their_own_cluster() {
    let merged = Inventory::merged([&cluster("east", true), &cluster("west", false)]);
    let graph = workload_graph(&merged, &[]);
    assert_eq!(
        node(&graph, "wl/east/bookinfo/reviews-v1").sidecar,
        Some(true)
    );
    assert_eq!(
        node(&graph, "wl/west/bookinfo/reviews-v1").sidecar,
        Some(false)
    );
    assert!(graph.spans_clusters());
    assert_eq!(
        graph.clusters().into_iter().collect::<Vec<_>>(),
        ["east", "west"]
    );
}

#[test]
fn a_namespace_forbidden_in_one_cluster_marks_only_that_clusters_nodes() {
    let mut west = cluster("west", true);
    west.inaccessible_namespaces = vec![NamespaceRef::new("west", "bookinfo")];
    let merged = Inventory::merged([&cluster("east", true), &west]);
    assert!(merged.is_accessible("east", "bookinfo"));
    assert!(!merged.is_accessible("west", "bookinfo"));
    let graph = workload_graph(&merged, &["bookinfo"]);
    for key in [
        "wl/west/bookinfo/productpage-v1",
        "wl/west/bookinfo/reviews-v1",
    ] {
        assert!(node(&graph, key).inaccessible, "{key}");
    }
    for key in [
        "wl/east/bookinfo/productpage-v1",
        "wl/east/bookinfo/reviews-v1",
    ] {
        assert!(!node(&graph, key).inaccessible, "{key}");
    }
}

#[test]
fn one_clusters_inventory_answers_whatever_cluster_the_metrics_name() {
    // The kubeconfig context is called `prod`; Istio's labels say `east` and `west`.
    let prod = cluster("prod", false);
    let graph = workload_graph(&prod, &[]);
    for key in ["wl/east/bookinfo/reviews-v1", "wl/west/bookinfo/reviews-v1"] {
        assert_eq!(node(&graph, key).sidecar, Some(false), "{key}");
    }
    // With two clusters the names must match: `prod` is neither.
    let merged = Inventory::merged([&prod, &cluster("staging", true)]);
    let graph = workload_graph(&merged, &[]);
    assert_eq!(node(&graph, "wl/east/bookinfo/reviews-v1").sidecar, None);
}

#[test]
fn a_gateway_is_known_by_its_own_clusters_inventory() {
    let mut east = cluster("east", true);
    east.workloads[0].gateway = Some(GatewayRole::Ingress);
    let merged = Inventory::merged([&east, &cluster("west", true)]);
    let graph = workload_graph(&merged, &[]);
    assert_eq!(
        node(&graph, "wl/east/bookinfo/productpage-v1").kind,
        NodeKind::IngressGateway
    );
    assert_eq!(
        node(&graph, "wl/west/bookinfo/productpage-v1").kind,
        NodeKind::Workload
    );
}
