//! `virtualservice.ConflictingMeshGatewayHostsAnalyzer` (IST0109): VirtualServices bound to
//! the sidecars (`mesh`, also the default) that claim the same host in the same scope.
//! Hosts exported everywhere also conflict with matching hosts of any narrower scope.

use std::collections::{BTreeMap, BTreeSet};

use crate::mesh::rules::analyze::hosts::{
    exported_to_all, hosts_match, scoped_fqdn, split_scoped, ALL_NAMESPACES, MESH_GATEWAY,
    OWN_NAMESPACE,
};
use crate::mesh::rules::analyze::message::{text, Message, MessageKind};
use crate::mesh::rules::analyze::snapshot::{Kind, Snapshot};
use crate::mesh::rules::object::{field, strings, KubeObject};

use super::gateways;

pub fn analyze(snapshot: &Snapshot, out: &mut Vec<Message>) {
    let by_host = mesh_gateway_hosts(snapshot);
    let mut reported: BTreeSet<String> = BTreeSet::new();
    for (scoped, claimants) in &by_host {
        let mut claimants = claimants.clone();
        let (scope, host) = split_scoped(scoped);
        if scope != ALL_NAMESPACES {
            for (other, others) in &by_host {
                let (other_scope, other_host) = split_scoped(other);
                if other_scope == ALL_NAMESPACES && hosts_match(host, other_host) {
                    claimants.extend(others.iter().copied());
                }
            }
        }
        if claimants.len() < 2 {
            continue;
        }
        let names: Vec<String> = claimants.iter().map(|vs| vs.full_name()).collect();
        let names = names.join(",");
        for vs in claimants {
            if reported.insert(vs.full_name()) {
                out.push(Message::about(
                    vs,
                    Some(".metadata.name"),
                    MessageKind::ConflictingMeshGatewayVirtualServiceHosts,
                    text::conflicting_mesh_gateway_hosts(&names, scoped),
                ));
            }
        }
    }
}

/// The mesh-bound VirtualServices claiming each `scope/fqdn`, a host listed twice by one
/// VirtualService counting twice (as in istioctl).
fn mesh_gateway_hosts(snapshot: &Snapshot) -> BTreeMap<String, Vec<&KubeObject>> {
    let mut by_host: BTreeMap<String, Vec<&KubeObject>> = BTreeMap::new();
    for vs in snapshot.of_kind(Kind::VirtualService) {
        let spec = vs.spec();
        let bound = gateways(spec);
        if !(bound.is_empty() || bound.iter().any(|g| g == MESH_GATEWAY)) {
            continue;
        }
        let namespace = vs.namespace();
        let export_to = strings(field(spec, "exportTo"));
        let scopes: BTreeSet<&str> = if exported_to_all(&export_to) {
            [ALL_NAMESPACES].into()
        } else {
            export_to
                .iter()
                .map(|e| {
                    if e == OWN_NAMESPACE {
                        namespace
                    } else {
                        e.as_str()
                    }
                })
                .collect()
        };
        for scope in scopes {
            for host in strings(field(spec, "hosts")) {
                by_host
                    .entry(scoped_fqdn(scope, namespace, &host))
                    .or_default()
                    .push(vs);
            }
        }
    }
    by_host
}
