use std::time::Duration;

use serde_json::json;

use crate::mesh::{
    build_graph, ErrorSplit, GraphOptions, GraphType, Health, LatencyQuantiles, MeshGraph,
    MeshNode, NodeKey, NodeKind, Protocol, ServiceEdge,
};
use crate::source::demo::{DemoMesh, DemoOptions};

use super::{to_dot, to_json, ExportMeta};

fn meta() -> ExportMeta {
    ExportMeta {
        graph_type: GraphType::VersionedApp,
        time_unix_s: 1_795_557_600.0,
        window: Duration::from_secs(60),
        namespaces: vec!["shop".into(), "bookinfo".into()],
    }
}

fn node(key: &str, kind: NodeKind, namespace: &str, name: &str) -> MeshNode {
    MeshNode {
        key: NodeKey(key.into()),
        kind,
        cluster: "Kubernetes".into(),
        namespace: namespace.into(),
        name: name.into(),
        app: None,
        version: None,
        workload: None,
        sidecar: Some(true),
        outside: false,
        inaccessible: false,
        root: false,
        parent: None,
        idle: false,
        inbound: ErrorSplit::default(),
        outbound: ErrorSplit::default(),
        health: Health::Healthy,
    }
}

fn http_edge(total: f64, server_5xx: f64, health: Health) -> ServiceEdge {
    ServiceEdge {
        protocol: Protocol::Http,
        requests: ErrorSplit {
            total,
            server_5xx,
            ..ErrorSplit::default()
        },
        latency: Some(LatencyQuantiles {
            p50_ms: 12.5,
            p95_ms: 40.0,
            p99_ms: 90.0,
        }),
        tcp_bytes_per_s: 0.0,
        mtls_share: Some(1.0),
        health,
    }
}

fn tcp_edge(bytes_per_s: f64) -> ServiceEdge {
    ServiceEdge {
        protocol: Protocol::Tcp,
        requests: ErrorSplit::default(),
        latency: None,
        tcp_bytes_per_s: bytes_per_s,
        mtls_share: Some(0.0),
        health: Health::Healthy,
    }
}

fn add(graph: &mut MeshGraph, node: MeshNode) -> petgraph::stable_graph::NodeIndex {
    let key = node.key.clone();
    graph.upsert_node(key, || node)
}

/// An ingress gateway calling productpage over HTTP, which talks plain-text TCP to a
/// database. Nodes are added in reverse id order to show the export sorts them.
fn small_graph() -> MeshGraph {
    let mut graph = MeshGraph::default();
    let database = add(
        &mut graph,
        node(
            "wl/Kubernetes/bookinfo/mysql",
            NodeKind::Workload,
            "bookinfo",
            "mysql",
        ),
    );
    let page = add(
        &mut graph,
        MeshNode {
            app: Some("productpage".into()),
            version: Some("v1".into()),
            health: Health::Degraded,
            ..node(
                "va/Kubernetes/bookinfo/productpage-v1",
                NodeKind::VersionedApp,
                "bookinfo",
                "productpage",
            )
        },
    );
    let gateway = add(
        &mut graph,
        MeshNode {
            root: true,
            outside: true,
            ..node(
                "wl/Kubernetes/istio-system/istio-ingressgateway",
                NodeKind::IngressGateway,
                "istio-system",
                "istio-ingressgateway",
            )
        },
    );
    graph.graph.add_edge(page, database, tcp_edge(1250.0));
    graph
        .graph
        .add_edge(gateway, page, http_edge(10.0, 0.5, Health::Degraded));
    graph
}

#[test]
fn the_json_export_of_a_small_graph_is_exactly_the_documented_shape() {
    let expected = json!({
        "schema": "meshtui.graph/v1",
        "graphType": "versionedApp",
        "time": 1_795_557_600.0,
        "window_s": 60.0,
        "namespaces": ["bookinfo", "shop"],
        "nodes": [
            {
                "id": "va/Kubernetes/bookinfo/productpage-v1", "kind": "versioned-app",
                "cluster": "Kubernetes", "namespace": "bookinfo", "name": "productpage",
                "app": "productpage", "version": "v1", "health": "degraded",
                "outside": false, "inaccessible": false, "root": false, "parent": null,
                "idle": false
            },
            {
                "id": "wl/Kubernetes/bookinfo/mysql", "kind": "workload",
                "cluster": "Kubernetes", "namespace": "bookinfo", "name": "mysql",
                "app": null, "version": null, "health": "healthy",
                "outside": false, "inaccessible": false, "root": false, "parent": null,
                "idle": false
            },
            {
                "id": "wl/Kubernetes/istio-system/istio-ingressgateway",
                "kind": "ingress-gateway", "cluster": "Kubernetes",
                "namespace": "istio-system", "name": "istio-ingressgateway",
                "app": null, "version": null, "health": "healthy",
                "outside": true, "inaccessible": false, "root": true, "parent": null,
                "idle": false
            }
        ],
        "boxes": [],
        "edges": [
            {
                "source": "va/Kubernetes/bookinfo/productpage-v1",
                "target": "wl/Kubernetes/bookinfo/mysql",
                "protocol": "tcp", "rps": 0.0,
                "error_rates": {"client_4xx": 0.0, "server_5xx": 0.0, "no_response": 0.0, "error_pct": 0.0},
                "latency_ms": null, "bytes_per_s": 1250.0, "mtls_share": 0.0, "health": "healthy"
            },
            {
                "source": "wl/Kubernetes/istio-system/istio-ingressgateway",
                "target": "va/Kubernetes/bookinfo/productpage-v1",
                "protocol": "http", "rps": 10.0,
                "error_rates": {"client_4xx": 0.0, "server_5xx": 0.5, "no_response": 0.0, "error_pct": 5.0},
                "latency_ms": {"p50": 12.5, "p95": 40.0, "p99": 90.0},
                "bytes_per_s": 0.0, "mtls_share": 1.0, "health": "degraded"
            }
        ]
    });
    assert_eq!(to_json(&small_graph(), &meta()), expected);
}

#[test]
fn the_dot_export_of_a_small_graph_draws_shapes_colours_and_dashed_plain_text() {
    let expected = concat!(
        "digraph mesh {\n",
        "  rankdir=LR;\n",
        "  node [fontname=\"sans-serif\"];\n",
        "  edge [fontname=\"sans-serif\", fontsize=10];\n",
        "  \"va/Kubernetes/bookinfo/productpage-v1\" [label=\"productpage\\nv1\", shape=box, color=\"darkorange\"];\n",
        "  \"wl/Kubernetes/bookinfo/mysql\" [label=\"mysql\", shape=ellipse, color=\"forestgreen\"];\n",
        "  \"wl/Kubernetes/istio-system/istio-ingressgateway\" [label=\"istio-ingressgateway\", shape=house, color=\"forestgreen\"];\n",
        "  \"va/Kubernetes/bookinfo/productpage-v1\" -> \"wl/Kubernetes/bookinfo/mysql\" [label=\"1.2KB/s\", color=\"forestgreen\", style=dashed];\n",
        "  \"wl/Kubernetes/istio-system/istio-ingressgateway\" -> \"va/Kubernetes/bookinfo/productpage-v1\" [label=\"10/s 5.0%\", color=\"darkorange\"];\n",
        "}\n",
    );
    assert_eq!(to_dot(&small_graph()), expected);
}

#[test]
fn every_exported_edge_of_the_demo_mesh_references_an_exported_node() {
    let snapshot = DemoMesh::new(DemoOptions::default()).snapshot();
    for graph_type in [
        GraphType::VersionedApp,
        GraphType::App,
        GraphType::Workload,
        GraphType::Service,
    ] {
        let options = GraphOptions {
            inject_service_nodes: true,
            ..GraphOptions::kiali(graph_type)
        };
        let graph = build_graph(&snapshot.samples, &snapshot.inventory, &options);
        let exported = to_json(&graph, &meta());
        let ids: Vec<&str> = exported["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|n| n["id"].as_str())
            .collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(ids, sorted, "{graph_type:?}: node ids sorted and unique");
        let edges = exported["edges"].as_array().cloned().unwrap_or_default();
        assert_eq!(edges.len(), graph.edge_count(), "{graph_type:?}");
        for edge in &edges {
            for end in ["source", "target"] {
                let id = edge[end].as_str().unwrap_or_default();
                assert!(ids.contains(&id), "{graph_type:?}: {end} {id} is no node");
            }
        }
    }
}

#[test]
fn the_same_graph_exports_the_same_text_whatever_order_it_was_built_in() {
    let forward = small_graph();
    let mut backward = MeshGraph::default();
    let mut nodes: Vec<MeshNode> = forward.nodes().map(|(_, n)| n.clone()).collect();
    nodes.reverse();
    for node in nodes {
        add(&mut backward, node);
    }
    let mut edges: Vec<_> = forward
        .edges()
        .filter_map(|(_, from, to, edge)| {
            Some((
                forward.node(from)?.key.clone(),
                forward.node(to)?.key.clone(),
                edge.clone(),
            ))
        })
        .collect();
    edges.reverse();
    for (from, to, edge) in edges {
        if let (Some(from), Some(to)) = (backward.node_index(&from), backward.node_index(&to)) {
            backward.graph.add_edge(from, to, edge);
        }
    }
    assert_eq!(
        to_json(&forward, &meta()).to_string(),
        to_json(&backward, &meta()).to_string()
    );
    assert_eq!(to_dot(&forward), to_dot(&backward));
}

#[test]
fn figures_that_are_not_finite_are_written_as_null() {
    let mut graph = MeshGraph::default();
    let a = add(&mut graph, node("a", NodeKind::Workload, "ns", "a"));
    let b = add(&mut graph, node("b", NodeKind::Workload, "ns", "b"));
    let mut edge = http_edge(f64::NAN, 0.0, Health::Healthy);
    edge.latency = Some(LatencyQuantiles {
        p50_ms: 1.0,
        p95_ms: f64::INFINITY,
        p99_ms: f64::NAN,
    });
    edge.mtls_share = Some(f64::NAN);
    graph.graph.add_edge(a, b, edge);
    let exported = to_json(
        &graph,
        &ExportMeta {
            time_unix_s: f64::NAN,
            ..meta()
        },
    );
    let text = serde_json::to_string(&exported).unwrap_or_default();
    let read_back: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    assert_eq!(read_back, exported, "the text is valid JSON: {text}");
    let edge = &exported["edges"][0];
    assert_eq!(edge["rps"], json!(null));
    assert_eq!(
        edge["latency_ms"],
        json!({"p50": 1.0, "p95": null, "p99": null})
    );
    assert_eq!(edge["mtls_share"], json!(null));
    assert_eq!(exported["time"], json!(null));
    assert!(to_dot(&graph).contains("label=\"?/s 0.0%\""));
}

#[test]
fn an_empty_graph_exports_no_nodes_and_no_edges() {
    let exported = to_json(&MeshGraph::default(), &meta());
    assert_eq!(exported["nodes"], json!([]));
    assert_eq!(exported["edges"], json!([]));
    assert_eq!(exported["schema"], json!("meshtui.graph/v1"));
    let dot = to_dot(&MeshGraph::default());
    assert!(dot.starts_with("digraph mesh {\n") && dot.ends_with("}\n"));
    assert!(!dot.contains("->"));
}

#[test]
fn dot_escapes_quotes_backslashes_and_line_breaks_in_ids_and_names() {
    let mut graph = MeshGraph::default();
    add(
        &mut graph,
        node(
            "ext/say \"hi\"\\now",
            NodeKind::External,
            "ns",
            "say \"hi\"\\now\nthen",
        ),
    );
    let dot = to_dot(&graph);
    assert!(
        dot.contains(
            "  \"ext/say \\\"hi\\\"\\\\now\" [label=\"say \\\"hi\\\"\\\\now\\nthen\", shape=diamond"
        ),
        "{dot}"
    );
}

#[test]
fn the_versioned_app_export_boxes_the_versions_of_an_app() {
    let snapshot = DemoMesh::new(DemoOptions::default()).snapshot();
    let graph = build_graph(
        &snapshot.samples,
        &snapshot.inventory,
        &GraphOptions::kiali(GraphType::VersionedApp),
    );
    let exported = to_json(&graph, &meta());
    let reviews = "box/Kubernetes/bookinfo/reviews";
    let boxes = exported["boxes"].as_array().unwrap();
    assert!(
        boxes.contains(&json!({
            "id": reviews, "kind": "app", "cluster": "Kubernetes",
            "namespace": "bookinfo", "app": "reviews"
        })),
        "{boxes:?}"
    );
    let nodes = exported["nodes"].as_array().unwrap();
    let members: Vec<&str> = nodes
        .iter()
        .filter(|n| n["parent"] == json!(reviews))
        .filter_map(|n| n["id"].as_str())
        .collect();
    assert_eq!(
        members,
        [
            "va/Kubernetes/bookinfo/reviews-v1",
            "va/Kubernetes/bookinfo/reviews-v2",
            "va/Kubernetes/bookinfo/reviews-v3"
        ]
    );
    let productpage = nodes
        .iter()
        .find(|n| n["id"] == json!("va/Kubernetes/bookinfo/productpage-v1"))
        .unwrap();
    assert_eq!(productpage["parent"], json!(null), "one version: no box");
    assert!(to_dot(&graph).contains(concat!(
        "  subgraph \"cluster_box/Kubernetes/bookinfo/reviews\" {\n",
        "    label=\"reviews\";\n",
        "    \"va/Kubernetes/bookinfo/reviews-v1\";\n",
        "    \"va/Kubernetes/bookinfo/reviews-v2\";\n",
        "    \"va/Kubernetes/bookinfo/reviews-v3\";\n",
        "  }\n",
    )));

    let workload_graph = build_graph(
        &snapshot.samples,
        &snapshot.inventory,
        &GraphOptions::kiali(GraphType::Workload),
    );
    assert_eq!(
        to_json(&workload_graph, &meta())["boxes"],
        json!([]),
        "Kiali boxes apps in the app graphs only"
    );
}

#[test]
fn idle_nodes_are_exported_as_idle_and_dotted() {
    let snapshot = DemoMesh::new(DemoOptions::default()).snapshot();
    let options = GraphOptions {
        idle_nodes: true,
        inject_service_nodes: true,
        ..GraphOptions::kiali(GraphType::VersionedApp)
    };
    let graph = build_graph(&snapshot.samples, &snapshot.inventory, &options);
    let exported = to_json(&graph, &meta());
    let idle: Vec<&str> = exported["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["idle"] == json!(true))
        .filter_map(|n| n["id"].as_str())
        .collect();
    assert!(
        idle.contains(&"svc/Kubernetes/bookinfo/mysqldb"),
        "the demo's unused database: {idle:?}"
    );
    assert!(!idle.contains(&"svc/Kubernetes/bookinfo/reviews"));
    assert!(to_dot(&graph).contains(
        "  \"svc/Kubernetes/bookinfo/mysqldb\" [label=\"mysqldb\", shape=triangle, color=\"gray50\", style=dotted];\n"
    ));
}

#[test]
fn dot_boxes_each_clusters_nodes_when_the_graph_spans_several_clusters() {
    let mut graph = small_graph();
    let remote = add(
        &mut graph,
        MeshNode {
            cluster: "west \"2\"".into(),
            ..node(
                "wl/west/bookinfo/reviews-v2",
                NodeKind::Workload,
                "bookinfo",
                "reviews-v2",
            )
        },
    );
    let outsider = add(
        &mut graph,
        MeshNode {
            cluster: "unknown".into(),
            ..node(
                "ext/api.example.com",
                NodeKind::External,
                "unknown",
                "api.example.com",
            )
        },
    );
    let page = graph
        .node_index(&NodeKey("va/Kubernetes/bookinfo/productpage-v1".into()))
        .unwrap();
    graph
        .graph
        .add_edge(page, remote, http_edge(2.0, 0.0, Health::Healthy));
    graph
        .graph
        .add_edge(remote, outsider, http_edge(1.0, 0.0, Health::Healthy));
    let expected = concat!(
        "digraph mesh {\n",
        "  rankdir=LR;\n",
        "  node [fontname=\"sans-serif\"];\n",
        "  edge [fontname=\"sans-serif\", fontsize=10];\n",
        "  subgraph cluster_0 {\n",
        "    label=\"Kubernetes\";\n",
        "    \"va/Kubernetes/bookinfo/productpage-v1\" [label=\"productpage\\nv1\", shape=box, color=\"darkorange\"];\n",
        "    \"wl/Kubernetes/bookinfo/mysql\" [label=\"mysql\", shape=ellipse, color=\"forestgreen\"];\n",
        "    \"wl/Kubernetes/istio-system/istio-ingressgateway\" [label=\"istio-ingressgateway\", shape=house, color=\"forestgreen\"];\n",
        "  }\n",
        "  subgraph cluster_1 {\n",
        "    label=\"west \\\"2\\\"\";\n",
        "    \"wl/west/bookinfo/reviews-v2\" [label=\"reviews-v2\", shape=ellipse, color=\"forestgreen\"];\n",
        "  }\n",
        "  \"ext/api.example.com\" [label=\"api.example.com\", shape=diamond, color=\"forestgreen\"];\n",
    );
    let dot = to_dot(&graph);
    assert!(dot.starts_with(expected), "{dot}");
    assert!(dot.contains(
        "  \"va/Kubernetes/bookinfo/productpage-v1\" -> \"wl/west/bookinfo/reviews-v2\" [label=\"2.00/s 0.0%\""
    ));
    // One cluster: no boxes, as before.
    assert!(!to_dot(&small_graph()).contains("subgraph"));
}
