//! Istio's configuration kinds, read as dynamic objects: their CRDs have no k8s-openapi
//! types, and only a few fields of each matter to the inventory.

use std::sync::Arc;

use kube::api::{ApiResource, DynamicObject};
use kube::ResourceExt;
use serde_json::Value;

use crate::mesh::inventory::{IstioConfigInfo, IstioKind, RouteDestination, ServiceInfo};
use crate::mesh::rules::render::default_route;
use crate::mesh::sanitize::{sanitize, sanitize_json};

/// Every Istio kind watched, in a fixed order.
pub const ISTIO_KINDS: [IstioKind; 6] = [
    IstioKind::VirtualService,
    IstioKind::DestinationRule,
    IstioKind::Gateway,
    IstioKind::ServiceEntry,
    IstioKind::PeerAuthentication,
    IstioKind::WorkloadEntry,
];

/// The versions a kind is looked for at, in order: `v1` from Istio 1.22 on, `v1beta1`
/// before (every Istio kind watched here is served there since Istio 1.12).
pub const ISTIO_VERSIONS: [&str; 2] = ["v1", "v1beta1"];

/// Where the API serves a kind at `version`.
pub fn api_resource(kind: IstioKind, version: &str) -> ApiResource {
    let (group, name, plural) = match kind {
        IstioKind::VirtualService => ("networking.istio.io", "VirtualService", "virtualservices"),
        IstioKind::DestinationRule => {
            ("networking.istio.io", "DestinationRule", "destinationrules")
        }
        IstioKind::Gateway => ("networking.istio.io", "Gateway", "gateways"),
        IstioKind::ServiceEntry => ("networking.istio.io", "ServiceEntry", "serviceentries"),
        IstioKind::PeerAuthentication => (
            "security.istio.io",
            "PeerAuthentication",
            "peerauthentications",
        ),
        IstioKind::WorkloadEntry => ("networking.istio.io", "WorkloadEntry", "workloadentries"),
    };
    ApiResource {
        group: group.to_owned(),
        version: version.to_owned(),
        api_version: format!("{group}/{version}"),
        kind: name.to_owned(),
        plural: plural.to_owned(),
    }
}

fn spec_hosts(object: &DynamicObject) -> Vec<String> {
    IstioConfigInfo::hosts_of_spec(object.data.get("spec"))
}

pub fn config_info(kind: IstioKind, object: &DynamicObject, cluster: &str) -> IstioConfigInfo {
    IstioConfigInfo {
        cluster: cluster.to_owned(),
        namespace: sanitize(&object.namespace().unwrap_or_default()),
        name: sanitize(&object.name_any()),
        kind,
        hosts: spec_hosts(object),
        default_route: match kind {
            IstioKind::VirtualService => default_route(&object.data)
                .into_iter()
                .map(|d| RouteDestination {
                    host: sanitize(&d.host),
                    subset: d.subset.as_deref().map(sanitize),
                    weight: d.weight,
                })
                .collect(),
            _ => Vec::new(),
        },
        spec: object.data.get("spec").map(|s| Arc::new(sanitize_json(s))),
    }
}

/// The hosts a ServiceEntry declares, one service each. `MESH_INTERNAL` entries add
/// services inside the mesh (e.g. VMs); everything else lies outside it.
pub fn service_entry_services(object: &DynamicObject, cluster: &str) -> Vec<ServiceInfo> {
    let location = object
        .data
        .get("spec")
        .and_then(|s| s.get("location"))
        .and_then(Value::as_str);
    let external = location != Some("MESH_INTERNAL");
    let namespace = sanitize(&object.namespace().unwrap_or_default());
    spec_hosts(object)
        .into_iter()
        .map(|host| ServiceInfo {
            cluster: cluster.to_owned(),
            namespace: namespace.clone(),
            name: host.clone(),
            host,
            external,
            ports: Vec::new(),
            selector: Default::default(),
        })
        .collect()
}
