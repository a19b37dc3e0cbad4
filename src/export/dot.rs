//! The graph in Graphviz DOT: `meshtui graph --format dot | dot -Tsvg > mesh.svg`.

use std::fmt::Write as _;

use crate::mesh::{Health, MeshGraph, MeshNode, NodeKind, Protocol, ServiceEdge};

use super::{sorted, MTLS_FULL_SHARE};

/// A `digraph` laid out left to right like the topology screen: node shape by kind, colour
/// by health, edges labelled with their rate and error share (or TCP bytes), plain-text
/// edges dashed. When nodes of several clusters appear, each cluster's nodes are drawn in a
/// box labelled with its name (a Graphviz `subgraph cluster_…`). Sorted like the JSON export.
pub fn to_dot(graph: &MeshGraph) -> String {
    let (nodes, edges) = sorted(graph);

    let mut out = String::from("digraph mesh {\n  rankdir=LR;\n  node [fontname=\"sans-serif\"];\n  edge [fontname=\"sans-serif\", fontsize=10];\n");
    let clusters: Vec<&str> = if graph.spans_clusters() {
        graph.clusters().into_iter().collect()
    } else {
        Vec::new()
    };
    let in_a_box = |node: &MeshNode| clusters.contains(&node.cluster.as_str());
    // Writing to a String cannot fail.
    for (number, cluster) in clusters.iter().enumerate() {
        let _ = writeln!(
            out,
            "  subgraph cluster_{number} {{\n    label={};",
            quoted(cluster)
        );
        for node in nodes.iter().filter(|n| n.cluster == *cluster) {
            let _ = writeln!(out, "  {}", node_statement(node));
        }
        out.push_str("  }\n");
    }
    for node in nodes.iter().filter(|n| !in_a_box(n)) {
        let _ = writeln!(out, "{}", node_statement(node));
    }
    // App boxes as Graphviz clusters, which draw a frame around their members.
    for app_box in &graph.boxes {
        let _ = writeln!(
            out,
            "  subgraph {} {{\n    label={};",
            quoted(&format!("cluster_{}", app_box.key.0)),
            quoted(&app_box.app),
        );
        for node in nodes
            .iter()
            .filter(|n| n.parent.as_ref() == Some(&app_box.key))
        {
            let _ = writeln!(out, "    {};", quoted(&node.key.0));
        }
        out.push_str("  }\n");
    }
    for (source, target, edge) in edges {
        let plain_text = edge.mtls_share.is_some_and(|share| share < MTLS_FULL_SHARE);
        let _ = writeln!(
            out,
            "  {} -> {} [label={}, color={}{}];",
            quoted(source),
            quoted(target),
            quoted(&edge_label(edge)),
            quoted(colour(edge.health)),
            if plain_text { ", style=dashed" } else { "" },
        );
    }
    out.push_str("}\n");
    out
}

fn node_statement(node: &MeshNode) -> String {
    format!(
        "  {} [label={}, shape={}, color={}{}];",
        quoted(&node.key.0),
        quoted(&node_label(node)),
        shape(node.kind),
        quoted(colour(node.health)),
        if node.idle { ", style=dotted" } else { "" },
    )
}

/// A DOT string literal. Inside one only `"` needs escaping, but a backslash would start an
/// escape of Graphviz's own (`\n`, `\N`, `\l`), so it is doubled too; line breaks in a name
/// become Graphviz's `\n`.
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            other => out.push(other),
        }
    }
    out.push('"');
    out
}

/// The name, with the version when the node stands for one.
fn node_label(node: &MeshNode) -> String {
    match (&node.version, node.kind) {
        (Some(version), NodeKind::VersionedApp | NodeKind::Workload) => {
            format!("{}\n{version}", node.name)
        }
        _ => node.name.clone(),
    }
}

fn edge_label(edge: &ServiceEdge) -> String {
    if edge.protocol == Protocol::Tcp {
        return bytes_rate(edge.tcp_bytes_per_s);
    }
    format!(
        "{} {}",
        rate(edge.requests.total),
        percent(edge.requests.error_pct())
    )
}

/// Shapes in the spirit of Kiali's legend: workloads round, apps square, services
/// triangular, gateways pointing into or out of the mesh, everything outside diamond-like.
fn shape(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Workload => "ellipse",
        NodeKind::App | NodeKind::VersionedApp => "box",
        NodeKind::Service => "triangle",
        NodeKind::UnknownSource => "octagon",
        NodeKind::IngressGateway => "house",
        NodeKind::EgressGateway => "invhouse",
        NodeKind::External => "diamond",
    }
}

/// X11 colour names every Graphviz knows.
fn colour(health: Health) -> &'static str {
    match health {
        Health::NoTraffic => "gray50",
        Health::Healthy => "forestgreen",
        Health::Degraded => "darkorange",
        Health::Failure => "red",
    }
}

fn rate(per_s: f64) -> String {
    if !per_s.is_finite() {
        "?/s".into()
    } else if per_s >= 10.0 {
        format!("{per_s:.0}/s")
    } else {
        format!("{per_s:.2}/s")
    }
}

fn percent(pct: f64) -> String {
    if pct.is_finite() {
        format!("{pct:.1}%")
    } else {
        "?%".into()
    }
}

fn bytes_rate(per_s: f64) -> String {
    const UNITS: [&str; 4] = ["B", "KB", "MB", "GB"];
    if !per_s.is_finite() {
        return "?B/s".into();
    }
    let mut value = per_s.max(0.0);
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1}{}/s", UNITS[unit])
}
