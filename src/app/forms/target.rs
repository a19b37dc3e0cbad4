//! Which service a form edits, its versions with their pods, and the VirtualServices that
//! already route it, from the selected node and what the inventory knows.

use serde_json::{json, Value};

use crate::mesh::inventory::IstioKind;
use crate::mesh::rules::model::{Target, Version};
use crate::mesh::rules::render::NETWORKING_API;
use crate::mesh::rules::validate::ServiceVersion;
use crate::mesh::{Inventory, MeshGraph, MeshNode, NodeKind};

/// The service a node stands for: a service node's own name, or the app of an app,
/// versioned-app or workload node (Istio's convention: the Service is named as the app).
pub fn target_of(node: &MeshNode) -> Result<Target, String> {
    let service = match node.kind {
        NodeKind::Service => Some(node.name.clone()),
        NodeKind::App | NodeKind::VersionedApp | NodeKind::Workload => node.app.clone(),
        _ => None,
    };
    match service {
        Some(service) if !service.is_empty() && node.namespace != "unknown" => Ok(Target {
            namespace: node.namespace.clone(),
            service,
        }),
        _ => Err(format!(
            "{} is not a service or an app: select one to edit its routing",
            node.kind.label()
        )),
    }
}

/// The label a subset selects on when the inventory does not say which label a version
/// was read from (a graph from metrics alone).
const SUBSET_LABEL: &str = "version";

/// The service's versions, sorted, each with its pods when the inventory lists pods:
/// from the workloads of the app, else from the graph's versioned nodes.
pub fn versions_of(
    inventory: &Inventory,
    graph: &MeshGraph,
    target: &Target,
) -> Vec<ServiceVersion> {
    let of_app = |namespace: &str, app: Option<&String>| {
        namespace == target.namespace && app.is_some_and(|a| *a == target.service)
    };
    let mut names: Vec<String> = inventory
        .workloads
        .iter()
        .filter(|w| of_app(&w.namespace, w.app.as_ref()))
        .filter_map(|w| w.version.clone())
        .collect();
    if names.is_empty() {
        names = graph
            .nodes()
            .map(|(_, node)| node)
            .filter(|node| of_app(&node.namespace, node.app.as_ref()))
            .filter_map(|node| node.version.clone())
            .collect();
    }
    names.retain(|n| !n.is_empty() && n != "unknown");
    names.sort();
    names.dedup();
    let pods_listed = !inventory.pods.is_empty();
    names
        .into_iter()
        .map(|name| {
            let pods = pods_listed.then(|| {
                let count = inventory
                    .pods
                    .iter()
                    .filter(|p| {
                        of_app(&p.namespace, p.app.as_ref()) && p.version.as_deref() == Some(&name)
                    })
                    .count();
                u32::try_from(count).unwrap_or(u32::MAX)
            });
            // The label the version was read from, workloads first, then pods.
            let label = inventory
                .workloads
                .iter()
                .filter(|w| of_app(&w.namespace, w.app.as_ref()))
                .filter(|w| w.version.as_deref() == Some(&name))
                .find_map(|w| w.version_label.clone())
                .or_else(|| {
                    inventory
                        .pods
                        .iter()
                        .filter(|p| of_app(&p.namespace, p.app.as_ref()))
                        .filter(|p| p.version.as_deref() == Some(&name))
                        .find_map(|p| p.version_label.clone())
                })
                .unwrap_or_else(|| SUBSET_LABEL.to_owned());
            ServiceVersion {
                version: Version::new(&name, &label),
                pods,
            }
        })
        .collect()
}

/// Where a gray release starts: the weights the service's VirtualService gives its
/// versions now, else the share of the traffic each version had in the graph's window;
/// `None` when neither is known.
pub fn current_split(
    inventory: &Inventory,
    graph: &MeshGraph,
    target: &Target,
    versions: &[ServiceVersion],
) -> Option<Vec<(String, u32)>> {
    configured_split(inventory, target, versions)
        .or_else(|| observed_split(graph, target, versions))
}

/// The catch-all route's weights, when every destination there is one of the versions.
fn configured_split(
    inventory: &Inventory,
    target: &Target,
    versions: &[ServiceVersion],
) -> Option<Vec<(String, u32)>> {
    inventory
        .istio_config_of(IstioKind::VirtualService)
        .filter(|c| c.namespace == target.namespace)
        .filter(|c| c.hosts.iter().any(|h| target.is_named_by(h, &c.namespace)))
        .find_map(|c| {
            let mut split: Vec<(String, u32)> = versions
                .iter()
                .map(|v| (v.version.name.clone(), 0))
                .collect();
            for destination in &c.default_route {
                if !target.is_named_by(&destination.host, &c.namespace) {
                    return None;
                }
                let subset = destination.subset.as_deref()?;
                let slot = split.iter_mut().find(|(name, _)| name == subset)?;
                slot.1 = slot.1.saturating_add(destination.weight);
            }
            let total: u32 = split.iter().map(|(_, w)| *w).sum();
            (total == 100).then_some(split)
        })
}

/// Each version's share of the requests into the service's versions, in whole percent
/// adding up to 100 (largest remainders round up).
fn observed_split(
    graph: &MeshGraph,
    target: &Target,
    versions: &[ServiceVersion],
) -> Option<Vec<(String, u32)>> {
    let mut rates = vec![0.0_f64; versions.len()];
    for (_, _, to, edge) in graph.edges() {
        let Some(node) = graph.node(to) else { continue };
        if node.namespace != target.namespace || node.app.as_deref() != Some(&target.service) {
            continue;
        }
        let slot = versions
            .iter()
            .position(|v| node.version.as_deref() == Some(v.version.name.as_str()));
        if let Some(slot) = slot {
            rates[slot] += edge.rps().max(0.0);
        }
    }
    let total: f64 = rates.iter().sum();
    if !(total > 0.0 && total.is_finite()) {
        return None;
    }
    let exact: Vec<f64> = rates.iter().map(|r| r / total * 100.0).collect();
    let mut weights: Vec<u32> = exact.iter().map(|e| e.floor() as u32).collect();
    let mut order: Vec<usize> = (0..exact.len()).collect();
    order.sort_by(|&a, &b| {
        let fraction = |i: usize| exact[i] - exact[i].floor();
        fraction(b).total_cmp(&fraction(a)).then(a.cmp(&b))
    });
    let short = 100u32.saturating_sub(weights.iter().sum());
    for &i in order.iter().take(short as usize) {
        weights[i] += 1;
    }
    Some(
        versions
            .iter()
            .zip(weights)
            .map(|(v, w)| (v.version.name.clone(), w))
            .collect(),
    )
}

/// The VirtualServices of the target's namespace that the inventory lists, with their spec
/// (its `gateways` tell a VirtualService for an ingress from one for the sidecars), or
/// only their hosts when the source keeps no spec.
pub fn virtual_services(inventory: &Inventory, target: &Target) -> Vec<Value> {
    inventory
        .istio_config_of(IstioKind::VirtualService)
        .filter(|c| c.namespace == target.namespace)
        // Without its gateways a wildcard host is an ingress's usually: it can't be told.
        .filter(|c| c.spec.is_some() || !c.hosts.iter().any(|h| h.contains('*')))
        .map(|c| {
            let spec = match &c.spec {
                Some(spec) => Value::clone(spec),
                None => json!({"hosts": c.hosts}),
            };
            json!({
                "apiVersion": NETWORKING_API,
                "kind": "VirtualService",
                "metadata": {"name": c.name, "namespace": c.namespace},
                "spec": spec,
            })
        })
        .collect()
}
