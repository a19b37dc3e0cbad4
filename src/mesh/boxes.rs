//! Kiali's app boxes: in the app and versioned-app graphs, the nodes of one app are grouped.

use std::collections::BTreeMap;

use super::graph::{AppBox, MeshGraph, NodeKey};

/// Groups the nodes that share a cluster, namespace and app into an [`AppBox`] when there are
/// two or more of them, and names the box as each member's `parent`. Nodes without an app
/// (services, external hosts, the unknown caller, workloads without the label) stay loose.
pub fn box_by_app(graph: &mut MeshGraph) {
    let mut members: BTreeMap<(String, String, String), Vec<_>> = BTreeMap::new();
    for (index, node) in graph.nodes() {
        if let Some(app) = &node.app {
            let group = (node.cluster.clone(), node.namespace.clone(), app.clone());
            members.entry(group).or_default().push(index);
        }
    }
    graph.boxes.clear();
    for ((cluster, namespace, app), nodes) in members {
        if nodes.len() < 2 {
            continue;
        }
        let key = NodeKey(format!("box/{cluster}/{namespace}/{app}"));
        for index in nodes {
            if let Some(node) = graph.graph.node_weight_mut(index) {
                node.parent = Some(key.clone());
            }
        }
        graph.boxes.push(AppBox {
            key,
            cluster,
            namespace,
            app,
        });
    }
    graph.boxes.sort_by(|a, b| a.key.cmp(&b.key));
}
