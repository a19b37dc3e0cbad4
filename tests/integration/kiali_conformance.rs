//! Kiali conformance: from the Prometheus answers Kiali's own graph tests feed in
//! (tests/fixtures/kiali-graph, see ORIGIN.md), meshtui's workload, app, versioned-app and
//! service graphs must have the nodes, edges and rates of Kiali's goldens, at the precision
//! Kiali prints them.
//!
//! Compared: the node set by (nodeType, cluster, namespace, workload, app, version, service)
//! with isOutside / isInaccessible / isRoot; node request rates in and out (HTTP and gRPC
//! together, as meshtui's nodes keep them) by class, and TCP bytes in and out; the app boxes
//! (Kiali's `box` nodes) and which node each holds; the edge set (source, destination,
//! protocol) with every rate Kiali prints on an edge. Not compared: the per-code/flags/host
//! shares of `traffic.responses` (meshtui keeps no such breakdown) and `destServices`.

use std::collections::{BTreeMap, BTreeSet};

use meshtui::mesh::{
    build_graph, GraphOptions, GraphType, Inventory, IstioMetric, MeshGraph, MeshNode,
    NamespaceInfo, NodeKind, Protocol, Reporter, TrafficSample,
};
use serde_json::Value;

const PROM_MOCK: &str = include_str!("../fixtures/kiali-graph/prom_mock_bookinfo.json");
const WORKLOAD_GOLDEN: &str =
    include_str!("../fixtures/kiali-graph/test_workload_graph.expected.json");
const APP_GOLDEN: &str = include_str!("../fixtures/kiali-graph/test_app_graph.expected.json");
const VERSIONED_APP_GOLDEN: &str =
    include_str!("../fixtures/kiali-graph/test_versioned_app_graph.expected.json");
const SERVICE_GOLDEN: &str =
    include_str!("../fixtures/kiali-graph/test_service_graph.expected.json");

/// (nodeType, cluster, namespace, workload, app, version, service); absent fields are "".
type NodeAttrs = (String, String, String, String, String, String, String);
/// (isOutside, isInaccessible, isRoot)
type Marks = (bool, bool, bool);
type Rates = BTreeMap<String, String>;
type EdgeId = (NodeAttrs, NodeAttrs, String);
/// An app box: (cluster, namespace, app).
type BoxAttrs = (String, String, String);

/// The samples of every mocked query meshtui can read, and how many it skipped (the gRPC
/// message counters, which only Kiali's non-default `grpc=sent|received|total` rates use).
fn fixture_samples() -> (Vec<TrafficSample>, usize) {
    let mock: Value = serde_json::from_str(PROM_MOCK).unwrap();
    let mut samples = Vec::new();
    let mut skipped = 0;
    for query in mock["queries"].as_array().unwrap() {
        let text = query["query"].as_str().unwrap();
        let metric_name = text
            .split("rate(")
            .nth(1)
            .and_then(|rest| rest.split('{').next())
            .unwrap();
        let reporter = if text.contains(r#"reporter="source""#) {
            Reporter::Source
        } else if text.contains(r#"reporter="destination""#) {
            Reporter::Destination
        } else {
            panic!("no reporter in {text}")
        };
        let results = query["result"].as_array().unwrap();
        let Some(metric) = IstioMetric::from_name(metric_name) else {
            assert!(metric_name.ends_with("_messages_total"), "{metric_name}");
            skipped += results.len();
            continue;
        };
        for result in results {
            let labels: BTreeMap<String, String> = result["metric"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect();
            let rate = sample_value(&result["value"]);
            samples.push(TrafficSample::from_prometheus(metric, &labels, reporter, rate).unwrap());
        }
    }
    (samples, skipped)
}

/// A bare number as transcribed, or Prometheus' `[time, "value"]`.
fn sample_value(value: &Value) -> f64 {
    match value {
        Value::Number(n) => n.as_f64().unwrap(),
        Value::String(s) => s.parse().unwrap(),
        Value::Array(pair) => sample_value(&pair[1]),
        other => panic!("not a sample value: {other}"),
    }
}

/// Kiali's fake cluster "east" knows the namespaces bookinfo and tutorial only.
fn east_inventory() -> Inventory {
    Inventory {
        namespaces: ["bookinfo", "tutorial"]
            .map(|name| NamespaceInfo {
                cluster: "east".into(),
                name: name.into(),
                injection_enabled: true,
            })
            .to_vec(),
        ..Default::default()
    }
}

fn meshtui_graph(graph_type: GraphType) -> MeshGraph {
    let (samples, _) = fixture_samples();
    let options = GraphOptions {
        namespaces: vec!["bookinfo".into()],
        ..GraphOptions::kiali(graph_type)
    };
    build_graph(&samples, &east_inventory(), &options)
}

fn two(value: f64) -> String {
    format!("{value:.2}")
}

fn one(value: f64) -> String {
    format!("{value:.1}")
}

/// Kiali prints only the rates that are not zero.
fn put(rates: &mut Rates, key: &str, value: f64, format: fn(f64) -> String) {
    if value > 0.0 {
        rates.insert(key.to_owned(), format(value));
    }
}

// ---- Kiali's side --------------------------------------------------------------------

struct Golden {
    nodes: BTreeMap<NodeAttrs, (Marks, Rates)>,
    edges: BTreeMap<EdgeId, Rates>,
    /// Each app box with the nodes it holds.
    boxes: BTreeMap<BoxAttrs, BTreeSet<NodeAttrs>>,
}

fn golden(text: &str) -> Golden {
    let json: Value = serde_json::from_str(text).unwrap();
    let field = |data: &Value, key: &str| data[key].as_str().unwrap_or("").to_owned();
    let flag = |data: &Value, key: &str| data[key].as_bool().unwrap_or(false);
    let mut by_id = BTreeMap::new();
    let mut nodes = BTreeMap::new();
    let mut box_by_id = BTreeMap::new();
    let mut parents = Vec::new();
    for node in json["elements"]["nodes"].as_array().unwrap() {
        let data = &node["data"];
        if field(data, "nodeType") == "box" {
            assert_eq!(field(data, "isBox"), "app", "only app boxes are expected");
            let attrs = (
                field(data, "cluster"),
                field(data, "namespace"),
                field(data, "app"),
            );
            box_by_id.insert(field(data, "id"), attrs);
            continue;
        }
        let attrs: NodeAttrs = (
            field(data, "nodeType"),
            field(data, "cluster"),
            field(data, "namespace"),
            field(data, "workload"),
            field(data, "app"),
            field(data, "version"),
            field(data, "service"),
        );
        let marks = (
            flag(data, "isOutside"),
            flag(data, "isInaccessible"),
            flag(data, "isRoot"),
        );
        // Node rates: HTTP and gRPC requests together, TCP apart.
        let mut sums: BTreeMap<String, f64> = BTreeMap::new();
        for traffic in data["traffic"].as_array().unwrap() {
            for (key, value) in traffic["rates"].as_object().unwrap() {
                let value: f64 = value.as_str().unwrap().parse().unwrap();
                let key = key
                    .replace("httpIn", "requestsIn")
                    .replace("httpOut", "requestsOut")
                    .replace("grpcIn", "requestsIn")
                    .replace("grpcOut", "requestsOut");
                *sums.entry(key).or_default() += value;
            }
        }
        let rates = sums.into_iter().map(|(k, v)| (k, two(v))).collect();
        by_id.insert(field(data, "id"), attrs.clone());
        if let Some(parent) = data["parent"].as_str() {
            parents.push((parent.to_owned(), attrs.clone()));
        }
        assert!(
            nodes.insert(attrs.clone(), (marks, rates)).is_none(),
            "{attrs:?} twice"
        );
    }
    let mut edges = BTreeMap::new();
    for edge in json["elements"]["edges"].as_array().unwrap() {
        let data = &edge["data"];
        let traffic = &data["traffic"];
        let id = (
            by_id[&field(data, "source")].clone(),
            by_id[&field(data, "target")].clone(),
            field(traffic, "protocol"),
        );
        let rates = traffic["rates"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
            .collect();
        assert!(edges.insert(id.clone(), rates).is_none(), "{id:?} twice");
    }
    let mut boxes: BTreeMap<BoxAttrs, BTreeSet<NodeAttrs>> = box_by_id
        .values()
        .map(|attrs| (attrs.clone(), BTreeSet::new()))
        .collect();
    for (parent, member) in parents {
        boxes.get_mut(&box_by_id[&parent]).unwrap().insert(member);
    }
    Golden {
        nodes,
        edges,
        boxes,
    }
}

// ---- meshtui's side, in Kiali's terms ------------------------------------------------

/// Kiali's node type and attributes for a meshtui node. A gateway is an app node where the
/// graph type makes apps of labelled workloads, a workload node elsewhere.
fn kiali_attrs(node: &MeshNode, graph_type: GraphType) -> NodeAttrs {
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    let unknown = || "unknown".to_owned();
    let app_graph = matches!(graph_type, GraphType::App | GraphType::VersionedApp);
    let node_type = match node.kind {
        NodeKind::UnknownSource => "unknown",
        NodeKind::Service | NodeKind::External => "service",
        NodeKind::Workload => "workload",
        NodeKind::App | NodeKind::VersionedApp => "app",
        NodeKind::IngressGateway | NodeKind::EgressGateway => {
            if app_graph && node.app.is_some() {
                "app"
            } else {
                "workload"
            }
        }
    };
    let (workload, app, version, service) = match node_type {
        "unknown" => (unknown(), unknown(), unknown(), String::new()),
        "service" => (
            String::new(),
            String::new(),
            String::new(),
            node.name.clone(),
        ),
        _ => (
            text(&node.workload),
            text(&node.app),
            text(&node.version),
            String::new(),
        ),
    };
    (
        node_type.to_owned(),
        node.cluster.clone(),
        node.namespace.clone(),
        workload,
        app,
        version,
        service,
    )
}

fn actual(graph: &MeshGraph, graph_type: GraphType) -> Golden {
    let mut tcp_in: BTreeMap<_, f64> = BTreeMap::new();
    let mut tcp_out: BTreeMap<_, f64> = BTreeMap::new();
    // Per source node and protocol: requests sent, for Kiali's percentReq.
    let mut requests_out: BTreeMap<_, f64> = BTreeMap::new();
    for (_, from, to, edge) in graph.edges() {
        if edge.protocol == Protocol::Tcp {
            *tcp_out.entry(from).or_default() += edge.tcp_bytes_per_s;
            *tcp_in.entry(to).or_default() += edge.tcp_bytes_per_s;
        } else {
            *requests_out.entry((from, edge.protocol)).or_default() += edge.rps();
        }
    }
    let mut nodes = BTreeMap::new();
    for (index, node) in graph.nodes() {
        let mut rates = Rates::new();
        put(&mut rates, "requestsIn", node.inbound.total, two);
        put(&mut rates, "requestsIn3xx", node.inbound.redirect_3xx, two);
        put(&mut rates, "requestsIn4xx", node.inbound.client_4xx, two);
        put(&mut rates, "requestsIn5xx", node.inbound.server_5xx, two);
        put(
            &mut rates,
            "requestsInNoResponse",
            node.inbound.no_response,
            two,
        );
        put(&mut rates, "requestsOut", node.outbound.total, two);
        put(
            &mut rates,
            "tcpIn",
            tcp_in.get(&index).copied().unwrap_or(0.0),
            two,
        );
        put(
            &mut rates,
            "tcpOut",
            tcp_out.get(&index).copied().unwrap_or(0.0),
            two,
        );
        let marks = (node.outside, node.inaccessible, node.root);
        let attrs = kiali_attrs(node, graph_type);
        assert!(
            nodes.insert(attrs.clone(), (marks, rates)).is_none(),
            "{attrs:?} twice"
        );
    }
    let mut edges = BTreeMap::new();
    for (_, from, to, edge) in graph.edges() {
        let protocol = edge.protocol.as_str();
        let mut rates = Rates::new();
        if edge.protocol == Protocol::Tcp {
            put(&mut rates, "tcp", edge.tcp_bytes_per_s, two);
        } else {
            let split = &edge.requests;
            put(&mut rates, protocol, split.total, two);
            let sent = requests_out[&(from, edge.protocol)];
            put(
                &mut rates,
                &format!("{protocol}PercentReq"),
                100.0 * split.total / sent,
                one,
            );
            put(
                &mut rates,
                &format!("{protocol}PercentErr"),
                split.error_pct(),
                one,
            );
            if edge.protocol == Protocol::Http {
                put(&mut rates, "http3xx", split.redirect_3xx, two);
                put(&mut rates, "http4xx", split.client_4xx, two);
                put(&mut rates, "http5xx", split.server_5xx, two);
                put(&mut rates, "httpNoResponse", split.no_response, two);
            } else {
                put(
                    &mut rates,
                    "grpcErr",
                    split.client_4xx + split.server_5xx + split.no_response,
                    two,
                );
            }
        }
        let id = (
            kiali_attrs(&graph.graph[from], graph_type),
            kiali_attrs(&graph.graph[to], graph_type),
            protocol.to_owned(),
        );
        assert!(edges.insert(id.clone(), rates).is_none(), "{id:?} twice");
    }
    let mut boxes: BTreeMap<BoxAttrs, BTreeSet<NodeAttrs>> = BTreeMap::new();
    for app_box in &graph.boxes {
        let members = graph
            .nodes()
            .filter(|(_, node)| node.parent.as_ref() == Some(&app_box.key))
            .map(|(_, node)| kiali_attrs(node, graph_type))
            .collect();
        let attrs = (
            app_box.cluster.clone(),
            app_box.namespace.clone(),
            app_box.app.clone(),
        );
        assert!(
            boxes.insert(attrs.clone(), members).is_none(),
            "{attrs:?} twice"
        );
    }
    for (_, node) in graph.nodes() {
        if let Some(parent) = &node.parent {
            assert!(
                graph.boxes.iter().any(|b| &b.key == parent),
                "{} names a box that is not in the graph: {parent}",
                node.key
            );
        }
    }
    Golden {
        nodes,
        edges,
        boxes,
    }
}

fn assert_conforms(graph_type: GraphType, golden_text: &str) {
    let expected = golden(golden_text);
    let actual = actual(&meshtui_graph(graph_type), graph_type);

    let expected_ids: BTreeSet<_> = expected.nodes.keys().collect();
    let actual_ids: BTreeSet<_> = actual.nodes.keys().collect();
    assert_eq!(
        actual_ids, expected_ids,
        "{graph_type:?}: node set (left meshtui, right Kiali)"
    );
    for (attrs, (marks, rates)) in &expected.nodes {
        let (actual_marks, actual_rates) = &actual.nodes[attrs];
        assert_eq!(
            actual_marks, marks,
            "{graph_type:?} {attrs:?}: (isOutside, isInaccessible, isRoot)"
        );
        assert_eq!(actual_rates, rates, "{graph_type:?} {attrs:?}: node rates");
    }

    let expected_edges: BTreeSet<_> = expected.edges.keys().collect();
    let actual_edges: BTreeSet<_> = actual.edges.keys().collect();
    assert_eq!(
        actual_edges, expected_edges,
        "{graph_type:?}: edge set (left meshtui, right Kiali)"
    );
    for (id, rates) in &expected.edges {
        assert_eq!(
            &actual.edges[id], rates,
            "{graph_type:?} {id:?}: edge rates"
        );
    }

    assert_eq!(
        actual.boxes, expected.boxes,
        "{graph_type:?}: app boxes and their members (left meshtui, right Kiali)"
    );
}

#[test]
fn every_mocked_sample_is_read_except_the_grpc_message_counters() {
    let (samples, skipped) = fixture_samples();
    assert_eq!(
        samples.len() + skipped,
        44,
        "the transcription holds 44 samples"
    );
    assert_eq!(skipped, 2);
}

#[test]
fn the_workload_graph_equals_kialis_golden() {
    assert_conforms(GraphType::Workload, WORKLOAD_GOLDEN);
}

#[test]
fn the_app_graph_equals_kialis_golden() {
    assert_conforms(GraphType::App, APP_GOLDEN);
}

#[test]
fn the_versioned_app_graph_equals_kialis_golden() {
    let golden = golden(VERSIONED_APP_GOLDEN);
    assert_eq!(
        golden.boxes.len(),
        1,
        "the golden boxes reviews' three versions"
    );
    assert_conforms(GraphType::VersionedApp, VERSIONED_APP_GOLDEN);
}

#[test]
fn the_service_graph_equals_kialis_golden() {
    assert_conforms(GraphType::Service, SERVICE_GOLDEN);
}
