//! What the clusters say exists, independent of traffic: namespaces, services, workloads,
//! pods and Istio configuration, each tagged with its cluster so that the same names in two
//! clusters stay apart.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use serde_json::Value;

use super::sanitize::sanitize;

/// An object's labels (or a selector), shared: a workload's pods carry the same map, and
/// every snapshot clones the inventory.
pub type Labels = Arc<BTreeMap<String, String>>;

/// Everything known about the mesh's objects at one moment, in one or several clusters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inventory {
    pub namespaces: Vec<NamespaceInfo>,
    pub services: Vec<ServiceInfo>,
    pub workloads: Vec<WorkloadInfo>,
    pub pods: Vec<PodInfo>,
    pub istio_config: Vec<IstioConfigInfo>,
    /// The EndpointSlices of Services: which addresses (pods) are ready to take traffic.
    pub endpoints: Vec<EndpointSliceInfo>,
    /// Namespaces asked for whose objects the user may not read (the API answered 403):
    /// shown as such rather than as empty.
    pub inaccessible_namespaces: Vec<NamespaceRef>,
}

/// A namespace of one cluster.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NamespaceRef {
    pub cluster: String,
    pub name: String,
}

impl NamespaceRef {
    pub fn new(cluster: &str, name: &str) -> Self {
        NamespaceRef {
            cluster: cluster.to_owned(),
            name: name.to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceInfo {
    pub cluster: String,
    pub name: String,
    /// `istio-injection=enabled` or a revision label.
    pub injection_enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceInfo {
    pub cluster: String,
    pub namespace: String,
    pub name: String,
    /// Fully qualified host, as in the `destination_service` label.
    pub host: String,
    /// Declared by a ServiceEntry (outside the mesh) rather than a Kubernetes Service.
    pub external: bool,
    pub ports: Vec<ServicePort>,
    /// `spec.selector`: the pods the service sends to; empty for a service without one.
    pub selector: Labels,
}

/// One entry of a Service's `spec.ports`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePort {
    pub name: Option<String>,
    pub port: i32,
    /// A number or a container port's name, as written; the port itself when left out.
    pub target_port: String,
    /// `TCP`, `UDP` or `SCTP`.
    pub protocol: String,
}

/// One EndpointSlice (discovery.k8s.io/v1) of a Service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointSliceInfo {
    pub cluster: String,
    pub namespace: String,
    pub name: String,
    /// The `kubernetes.io/service-name` label: the service the slice belongs to.
    pub service: String,
    pub endpoints: Vec<EndpointInfo>,
}

/// One endpoint of a slice: its addresses, readiness and the pod it targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointInfo {
    pub addresses: Vec<String>,
    /// `conditions.ready`; an absent condition means ready, as the API documents.
    pub ready: bool,
    /// The pod named by `targetRef`, when it is one.
    pub pod: Option<String>,
    pub node: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
    DaemonSet,
    Pod,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkloadInfo {
    pub cluster: String,
    pub namespace: String,
    pub name: String,
    pub kind: WorkloadKind,
    pub app: Option<String>,
    pub version: Option<String>,
    /// The pod label `version` was read from (one of Kiali's version labels), which a
    /// DestinationRule subset for the version selects on.
    pub version_label: Option<String>,
    pub sidecar_injected: bool,
    /// Istio gateway deployments (ingress or egress).
    pub gateway: Option<GatewayRole>,
    pub pods_ready: u32,
    pub pods_desired: u32,
    /// The pod template's labels.
    pub labels: Labels,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GatewayRole {
    Ingress,
    Egress,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PodInfo {
    pub cluster: String,
    pub namespace: String,
    pub name: String,
    /// The Deployment, StatefulSet or DaemonSet that owns the pod, when there is one.
    pub workload: Option<String>,
    pub app: Option<String>,
    pub version: Option<String>,
    /// The label `version` was read from.
    pub version_label: Option<String>,
    pub sidecar_injected: bool,
    /// The Istio proxy's version, from its image tag (e.g. `1.22.0`).
    pub proxy_version: Option<String>,
    pub phase: PodPhase,
    pub ready: bool,
    /// Container restarts, summed over the pod's containers.
    pub restarts: u32,
    /// The node the pod was scheduled to.
    pub node: Option<String>,
    /// `status.startTime`, in Unix seconds: where the pod's age counts from.
    pub started_at_unix_s: Option<f64>,
    pub ip: Option<String>,
    pub labels: Labels,
}

/// `status.phase` of a pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PodPhase {
    Pending,
    Running,
    Succeeded,
    Failed,
    Unknown,
}

/// The Istio configuration kinds meshtui reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IstioKind {
    VirtualService,
    DestinationRule,
    Gateway,
    ServiceEntry,
    PeerAuthentication,
    WorkloadEntry,
}

/// One Istio configuration object: what the views name, and its spec.
#[derive(Debug, Clone, PartialEq)]
pub struct IstioConfigInfo {
    pub cluster: String,
    pub namespace: String,
    pub name: String,
    pub kind: IstioKind,
    /// `spec.hosts` (VirtualService, ServiceEntry) or `spec.host` (DestinationRule).
    pub hosts: Vec<String>,
    /// VirtualService: the destinations of its last HTTP route without a match, the one
    /// every other request takes and a gray release edits (empty for other kinds).
    pub default_route: Vec<RouteDestination>,
    /// The object's `spec`, every string in it sanitized. Shared, as every snapshot clones
    /// the inventory.
    pub spec: Option<Arc<Value>>,
}

/// One destination of a route, with its weight in percent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteDestination {
    pub host: String,
    pub subset: Option<String>,
    pub weight: u32,
}

impl ServiceInfo {
    /// Whether the service's selector picks an object with these labels; a service
    /// without a selector picks nothing by itself.
    pub fn selects(&self, labels: &BTreeMap<String, String>) -> bool {
        !self.selector.is_empty() && self.selector.iter().all(|(k, v)| labels.get(k) == Some(v))
    }
}

impl IstioConfigInfo {
    /// The hosts a spec names: `spec.hosts` (VirtualService, ServiceEntry) or `spec.host`
    /// (DestinationRule), sanitized.
    pub fn hosts_of_spec(spec: Option<&Value>) -> Vec<String> {
        let many = spec
            .and_then(|s| s.get("hosts"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str);
        let one = spec.and_then(|s| s.get("host")).and_then(Value::as_str);
        many.chain(one).map(sanitize).collect()
    }

    /// Whether one of the object's hosts names the service: a short name resolved in the
    /// object's namespace (as Istio does), `name.namespace`, the full host, or a
    /// wildcard (`*.bookinfo.svc.cluster.local`, `*`) covering it.
    pub fn touches(&self, service: &ServiceInfo) -> bool {
        self.hosts.iter().any(|host| {
            let host = host.as_str();
            if host == service.host || host == "*" {
                return true;
            }
            if let Some(suffix) = host.strip_prefix('*') {
                return service.host.ends_with(suffix);
            }
            if !host.contains('.') {
                return host == service.name && self.namespace == service.namespace;
            }
            host.strip_prefix(service.name.as_str())
                .and_then(|rest| rest.strip_prefix('.'))
                .is_some_and(|rest| {
                    rest == service.namespace || rest == format!("{}.svc", service.namespace)
                })
        })
    }
}

impl Inventory {
    /// One inventory holding every part's objects, in the parts' order (each part sorted
    /// as its watcher sorts it, so an unchanged mesh gives an equal inventory).
    pub fn merged<'a>(parts: impl IntoIterator<Item = &'a Inventory>) -> Inventory {
        let mut merged = Inventory::default();
        for part in parts {
            merged.namespaces.extend(part.namespaces.iter().cloned());
            merged.services.extend(part.services.iter().cloned());
            merged.workloads.extend(part.workloads.iter().cloned());
            merged.pods.extend(part.pods.iter().cloned());
            merged
                .istio_config
                .extend(part.istio_config.iter().cloned());
            merged.endpoints.extend(part.endpoints.iter().cloned());
            merged
                .inaccessible_namespaces
                .extend(part.inaccessible_namespaces.iter().cloned());
        }
        merged
    }

    /// The part of the inventory in these namespaces (of any cluster).
    pub fn within(&self, namespaces: &HashSet<&str>) -> Inventory {
        let keep = |namespace: &String| namespaces.contains(namespace.as_str());
        Inventory {
            namespaces: self
                .namespaces
                .iter()
                .filter(|n| keep(&n.name))
                .cloned()
                .collect(),
            services: self
                .services
                .iter()
                .filter(|s| keep(&s.namespace))
                .cloned()
                .collect(),
            workloads: self
                .workloads
                .iter()
                .filter(|w| keep(&w.namespace))
                .cloned()
                .collect(),
            pods: Vec::new(),
            istio_config: Vec::new(),
            endpoints: Vec::new(),
            inaccessible_namespaces: self
                .inaccessible_namespaces
                .iter()
                .filter(|n| keep(&n.name))
                .cloned()
                .collect(),
        }
    }

    /// The clusters the inventory holds objects of, sorted.
    pub fn clusters(&self) -> BTreeSet<&str> {
        self.cluster_names().collect()
    }

    fn cluster_names(&self) -> impl Iterator<Item = &str> {
        self.namespaces
            .iter()
            .map(|n| n.cluster.as_str())
            .chain(self.workloads.iter().map(|w| w.cluster.as_str()))
            .chain(self.services.iter().map(|s| s.cluster.as_str()))
            .chain(self.pods.iter().map(|p| p.cluster.as_str()))
            .chain(self.istio_config.iter().map(|c| c.cluster.as_str()))
            .chain(self.endpoints.iter().map(|e| e.cluster.as_str()))
            .chain(
                self.inaccessible_namespaces
                    .iter()
                    .map(|n| n.cluster.as_str()),
            )
    }

    /// The one cluster every object is in, if there is exactly one.
    fn sole_cluster(&self) -> Option<&str> {
        let mut names = self.cluster_names();
        let first = names.next()?;
        names.all(|name| name == first).then_some(first)
    }

    pub fn workload(&self, cluster: &str, namespace: &str, name: &str) -> Option<&WorkloadInfo> {
        self.workloads
            .iter()
            .find(|w| w.cluster == cluster && w.namespace == namespace && w.name == name)
    }

    /// The service of a host; Istio treats a host in several clusters as one service
    /// (namespace sameness), so the first cluster's answers.
    pub fn service_by_host(&self, host: &str) -> Option<&ServiceInfo> {
        self.services.iter().find(|s| s.host == host)
    }

    pub fn pods_of<'a>(
        &'a self,
        cluster: &'a str,
        namespace: &'a str,
        workload: &'a str,
    ) -> impl Iterator<Item = &'a PodInfo> + 'a {
        self.pods.iter().filter(move |p| {
            p.cluster == cluster
                && p.namespace == namespace
                && p.workload.as_deref() == Some(workload)
        })
    }

    pub fn service(&self, cluster: &str, namespace: &str, name: &str) -> Option<&ServiceInfo> {
        self.services
            .iter()
            .find(|s| s.cluster == cluster && s.namespace == namespace && s.name == name)
    }

    /// The Kubernetes services whose selector picks the workload's pods.
    pub fn services_of<'a>(
        &'a self,
        workload: &'a WorkloadInfo,
    ) -> impl Iterator<Item = &'a ServiceInfo> + 'a {
        self.services.iter().filter(move |s| {
            s.cluster == workload.cluster
                && s.namespace == workload.namespace
                && s.selects(&workload.labels)
        })
    }

    /// The workloads whose pods the service's selector picks.
    pub fn workloads_of<'a>(
        &'a self,
        service: &'a ServiceInfo,
    ) -> impl Iterator<Item = &'a WorkloadInfo> + 'a {
        self.workloads.iter().filter(move |w| {
            w.cluster == service.cluster
                && w.namespace == service.namespace
                && service.selects(&w.labels)
        })
    }

    /// The service's endpoints, over all its slices.
    pub fn endpoints_of<'a>(
        &'a self,
        service: &'a ServiceInfo,
    ) -> impl Iterator<Item = &'a EndpointInfo> + 'a {
        self.endpoints
            .iter()
            .filter(move |e| {
                e.cluster == service.cluster
                    && e.namespace == service.namespace
                    && e.service == service.name
            })
            .flat_map(|e| e.endpoints.iter())
    }

    /// The VirtualServices and DestinationRules whose hosts name the service.
    pub fn routing_config_of<'a>(
        &'a self,
        service: &'a ServiceInfo,
    ) -> impl Iterator<Item = &'a IstioConfigInfo> + 'a {
        self.istio_config.iter().filter(move |c| {
            matches!(
                c.kind,
                IstioKind::VirtualService | IstioKind::DestinationRule
            ) && c.touches(service)
        })
    }

    pub fn istio_config_of(&self, kind: IstioKind) -> impl Iterator<Item = &IstioConfigInfo> {
        self.istio_config.iter().filter(move |c| c.kind == kind)
    }

    pub fn is_accessible(&self, cluster: &str, namespace: &str) -> bool {
        !self
            .inaccessible_namespaces
            .iter()
            .any(|n| n.cluster == cluster && n.name == namespace)
    }

    /// Hash indexes for looking up what the metrics name, built once per graph.
    pub fn index(&self) -> InventoryIndex<'_> {
        InventoryIndex {
            sole_cluster: self.sole_cluster(),
            workloads: self
                .workloads
                .iter()
                .map(|w| {
                    (
                        (w.cluster.as_str(), w.namespace.as_str(), w.name.as_str()),
                        w,
                    )
                })
                .collect(),
            namespaces: self
                .namespaces
                .iter()
                .map(|n| (n.cluster.as_str(), n.name.as_str()))
                .collect(),
            inaccessible: self
                .inaccessible_namespaces
                .iter()
                .map(|n| (n.cluster.as_str(), n.name.as_str()))
                .collect(),
        }
    }
}

/// The inventory looked up by the cluster names the metrics carry (`source_cluster`,
/// `destination_cluster`). With several clusters those names must be the inventory's; an
/// inventory of one cluster answers for any name, as a single-cluster mesh is usually
/// `Kubernetes` in Istio's labels whatever its kubeconfig context is called.
#[derive(Debug, Clone, Default)]
pub struct InventoryIndex<'i> {
    sole_cluster: Option<&'i str>,
    workloads: HashMap<(&'i str, &'i str, &'i str), &'i WorkloadInfo>,
    namespaces: HashSet<(&'i str, &'i str)>,
    inaccessible: HashSet<(&'i str, &'i str)>,
}

impl<'i> InventoryIndex<'i> {
    fn cluster<'a>(&'a self, cluster: &'a str) -> &'a str {
        self.sole_cluster.unwrap_or(cluster)
    }

    pub fn workload(&self, cluster: &str, namespace: &str, name: &str) -> Option<&WorkloadInfo> {
        self.workloads
            .get(&(self.cluster(cluster), namespace, name))
            .copied()
    }

    /// Whether the cluster listed the namespace.
    pub fn lists_namespace(&self, cluster: &str, namespace: &str) -> bool {
        self.namespaces
            .contains(&(self.cluster(cluster), namespace))
    }

    /// Whether the user may read the namespace in that cluster (no 403 seen).
    pub fn is_accessible(&self, cluster: &str, namespace: &str) -> bool {
        !self
            .inaccessible
            .contains(&(self.cluster(cluster), namespace))
    }
}

#[cfg(test)]
#[path = "inventory_tests.rs"]
mod tests;
