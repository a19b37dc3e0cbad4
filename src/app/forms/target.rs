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

/// The label subsets select versions on. The inventory keeps a version's value, not the
/// label it came from, so subsets use the common `version` label.
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
            ServiceVersion {
                version: Version::new(&name, SUBSET_LABEL),
                pods,
            }
        })
        .collect()
}

/// The VirtualServices of the target's namespace that the inventory lists, reduced to
/// what it keeps (name and hosts): enough to see two claiming the same host.
pub fn virtual_services(inventory: &Inventory, target: &Target) -> Vec<Value> {
    inventory
        .istio_config_of(IstioKind::VirtualService)
        .filter(|c| c.namespace == target.namespace)
        // A wildcard host is an ingress's usually; without its gateways it can't be told.
        .filter(|c| !c.hosts.iter().any(|h| h.contains('*')))
        .map(|c| {
            json!({
                "apiVersion": NETWORKING_API,
                "kind": "VirtualService",
                "metadata": {"name": c.name, "namespace": c.namespace},
                "spec": {"hosts": c.hosts},
            })
        })
        .collect()
}
