//! The objects one analysis sees, as Istio's analyzer would hold them: namespaces filled
//! in for files, system namespaces left out, a later copy of an object replacing an
//! earlier one, and the built-in ingress gateway that file-only analysis assumes.

use std::collections::HashMap;

use serde_json::json;

use crate::mesh::rules::object::KubeObject;

/// The kinds the analyzers read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    VirtualService,
    DestinationRule,
    Gateway,
    ServiceEntry,
    RequestAuthentication,
    Service,
    Pod,
    Node,
    /// A Kubernetes Gateway API `Gateway`.
    KubeGateway,
}

impl Kind {
    pub fn of(object: &KubeObject) -> Option<Kind> {
        let kind = match (object.group(), object.kind()) {
            ("networking.istio.io", "VirtualService") => Kind::VirtualService,
            ("networking.istio.io", "DestinationRule") => Kind::DestinationRule,
            ("networking.istio.io", "Gateway") => Kind::Gateway,
            ("networking.istio.io", "ServiceEntry") => Kind::ServiceEntry,
            ("security.istio.io", "RequestAuthentication") => Kind::RequestAuthentication,
            ("", "Service") => Kind::Service,
            ("", "Pod") => Kind::Pod,
            ("", "Node") => Kind::Node,
            ("gateway.networking.k8s.io", "Gateway") => Kind::KubeGateway,
            _ => return None,
        };
        Some(kind)
    }

    fn cluster_scoped(object: &KubeObject) -> bool {
        object.group().is_empty() && matches!(object.kind(), "Node" | "Namespace")
    }
}

/// Namespaces Istio's analysis never reads.
const IGNORED_NAMESPACES: [&str; 4] = [
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "local-path-storage",
];

/// Where the control plane runs, as the analyzers' callers name it.
pub const ISTIO_NAMESPACE: &str = "istio-system";

pub struct Snapshot {
    by_kind: HashMap<Kind, Vec<KubeObject>>,
}

impl Snapshot {
    /// `objects` in order; an object named again (same group, kind, namespace and name)
    /// replaces the earlier one. Objects without a namespace get `default_namespace` when
    /// one is given (as `kubectl apply` would place them).
    pub fn new(objects: Vec<KubeObject>, default_namespace: Option<&str>) -> Self {
        let mut order: Vec<(Kind, String)> = Vec::new();
        let mut latest: HashMap<(Kind, String), KubeObject> = HashMap::new();
        for mut object in objects {
            let Some(kind) = Kind::of(&object) else {
                continue;
            };
            if Kind::cluster_scoped(&object) {
                object.set_namespace("");
            } else if let (true, Some(namespace)) =
                (object.namespace().is_empty(), default_namespace)
            {
                object.set_namespace(namespace);
            }
            if IGNORED_NAMESPACES.contains(&object.namespace()) {
                continue;
            }
            let key = (kind, format!("{}|{}", object.group(), object.full_name()));
            if latest.insert(key.clone(), object).is_none() {
                order.push(key);
            }
        }
        let mut by_kind: HashMap<Kind, Vec<KubeObject>> = HashMap::new();
        for key in order {
            if let Some(object) = latest.remove(&key) {
                by_kind.entry(key.0).or_default().push(object);
            }
        }
        Snapshot { by_kind }
    }

    pub fn of_kind(&self, kind: Kind) -> impl Iterator<Item = &KubeObject> {
        self.by_kind.get(&kind).into_iter().flatten()
    }

    pub fn find(&self, kind: Kind, namespace: &str, name: &str) -> Option<&KubeObject> {
        self.of_kind(kind)
            .find(|o| o.namespace() == namespace && o.name() == name)
    }
}

/// What Istio adds when analyzing files alone, so that they need not carry the control
/// plane: the default ingress gateway's Service and a pod behind it.
pub fn builtin_defaults(istio_namespace: &str) -> Vec<KubeObject> {
    let service = "istio-ingressgateway";
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("{service}-dummypod"), "namespace": istio_namespace,
                     "labels": {"istio": "ingressgateway"}},
        "spec": {"containers": [{"name": "istio-proxy"}]}
    });
    let ports: Vec<_> = [
        ("http2", 80),
        ("https", 443),
        ("tcp", 31400),
        ("tls", 15443),
    ]
    .into_iter()
    .map(|(name, port)| json!({"name": name, "port": port, "protocol": "TCP", "targetPort": port}))
    .collect();
    let service = json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": service, "namespace": istio_namespace},
        "spec": {"ports": ports, "selector": {"istio": "ingressgateway"}}
    });
    vec![KubeObject::new(pod, None), KubeObject::new(service, None)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(kind: &str, namespace: Option<&str>, name: &str, marker: u32) -> KubeObject {
        let api_version = match kind {
            "Service" | "Node" => "v1",
            _ => "networking.istio.io/v1",
        };
        let mut metadata = json!({"name": name});
        if let Some(ns) = namespace {
            metadata["namespace"] = ns.into();
        }
        KubeObject::new(
            json!({"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": {"marker": marker}}),
            None,
        )
    }

    #[test]
    fn a_later_copy_replaces_an_earlier_one_and_unknown_kinds_are_left_out() {
        let mut deployment = object("Deployment", Some("a"), "d", 0);
        deployment = KubeObject::new(
            {
                let mut v = deployment.into_value();
                v["apiVersion"] = "apps/v1".into();
                v
            },
            None,
        );
        let snapshot = Snapshot::new(
            vec![
                object("VirtualService", Some("a"), "r", 1),
                deployment,
                object("VirtualService", Some("a"), "r", 2),
            ],
            None,
        );
        let found: Vec<_> = snapshot.of_kind(Kind::VirtualService).collect();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].spec()["marker"], 2);
    }

    #[test]
    fn namespaces_are_filled_in_for_namespaced_kinds_and_system_ones_are_skipped() {
        let snapshot = Snapshot::new(
            vec![
                object("VirtualService", None, "r", 0),
                object("Node", Some("x"), "n", 0),
                object("Service", Some("kube-system"), "dns", 0),
            ],
            Some("default"),
        );
        assert!(snapshot
            .find(Kind::VirtualService, "default", "r")
            .is_some());
        assert!(snapshot.find(Kind::Node, "", "n").is_some());
        assert_eq!(snapshot.of_kind(Kind::Service).count(), 0);
    }
}
