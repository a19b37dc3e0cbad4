//! The graph as JSON, schema `meshtui.graph/v1`.

use serde_json::{json, Map, Value};

use crate::mesh::{AppBox, MeshGraph, MeshNode, ServiceEdge};

use super::{graph_type_name, health_name, kind_name, sorted, ExportMeta};

/// Names the schema; a change that could break a reader gets a new version.
pub const SCHEMA: &str = "meshtui.graph/v1";

/// The graph and its metadata as one JSON document, nodes sorted by id and edges by
/// (source, target, protocol).
pub fn to_json(graph: &MeshGraph, meta: &ExportMeta) -> Value {
    let (nodes, edges) = sorted(graph);
    let mut namespaces = meta.namespaces.clone();
    namespaces.sort();
    namespaces.dedup();
    json!({
        "schema": SCHEMA,
        "graphType": graph_type_name(meta.graph_type),
        "time": number(meta.time_unix_s),
        "window_s": number(meta.window.as_secs_f64()),
        "namespaces": namespaces,
        "nodes": nodes.into_iter().map(node).collect::<Vec<_>>(),
        "boxes": graph.boxes.iter().map(app_box).collect::<Vec<_>>(),
        "edges": edges
            .into_iter()
            .map(|(source, target, edge)| self::edge(source, target, edge))
            .collect::<Vec<_>>(),
    })
}

fn node(node: &MeshNode) -> Value {
    json!({
        "id": node.key.0,
        "kind": kind_name(node.kind),
        "cluster": node.cluster,
        "namespace": node.namespace,
        "name": node.name,
        "app": node.app,
        "version": node.version,
        "health": health_name(node.health),
        "outside": node.outside,
        "inaccessible": node.inaccessible,
        "root": node.root,
        "parent": node.parent.as_ref().map(|key| key.0.as_str()),
        "idle": node.idle,
    })
}

fn app_box(app_box: &AppBox) -> Value {
    json!({
        "id": app_box.key.0,
        "kind": "app",
        "cluster": app_box.cluster,
        "namespace": app_box.namespace,
        "app": app_box.app,
    })
}

fn edge(source: &str, target: &str, edge: &ServiceEdge) -> Value {
    let requests = &edge.requests;
    let latency = edge.latency.map_or(
        Value::Null,
        |l| json!({"p50": number(l.p50_ms), "p95": number(l.p95_ms), "p99": number(l.p99_ms)}),
    );
    let mut error_rates = Map::new();
    error_rates.insert("client_4xx".into(), number(requests.client_4xx));
    error_rates.insert("server_5xx".into(), number(requests.server_5xx));
    error_rates.insert("no_response".into(), number(requests.no_response));
    error_rates.insert("error_pct".into(), number(requests.error_pct()));
    json!({
        "source": source,
        "target": target,
        "protocol": edge.protocol.as_str(),
        "rps": number(requests.total),
        "error_rates": error_rates,
        "latency_ms": latency,
        "bytes_per_s": number(edge.tcp_bytes_per_s),
        "mtls_share": edge.mtls_share.map_or(Value::Null, number),
        "health": health_name(edge.health),
    })
}

/// JSON has no NaN or infinity: a figure that is not finite is written as `null`, never as
/// a number a reader would take for real.
fn number(value: f64) -> Value {
    serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number)
}
