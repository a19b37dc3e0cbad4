//! What the cluster says exists, independent of traffic: namespaces, services, workloads,
//! pods and Istio configuration.

/// Everything known about the mesh's objects at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inventory {
    pub namespaces: Vec<NamespaceInfo>,
    pub services: Vec<ServiceInfo>,
    pub workloads: Vec<WorkloadInfo>,
    pub pods: Vec<PodInfo>,
    pub istio_config: Vec<IstioConfigInfo>,
    /// Namespaces asked for whose objects the user may not read (the API answered 403):
    /// shown as such rather than as empty.
    pub inaccessible_namespaces: Vec<String>,
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
    pub sidecar_injected: bool,
    /// Istio gateway deployments (ingress or egress).
    pub gateway: Option<GatewayRole>,
    pub pods_ready: u32,
    pub pods_desired: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GatewayRole {
    Ingress,
    Egress,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodInfo {
    pub cluster: String,
    pub namespace: String,
    pub name: String,
    /// The Deployment, StatefulSet or DaemonSet that owns the pod, when there is one.
    pub workload: Option<String>,
    pub app: Option<String>,
    pub version: Option<String>,
    pub sidecar_injected: bool,
    /// The Istio proxy's version, from its image tag (e.g. `1.22.0`).
    pub proxy_version: Option<String>,
    pub phase: PodPhase,
    pub ready: bool,
    /// Container restarts, summed over the pod's containers.
    pub restarts: u32,
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

/// One Istio configuration object, reduced to what the views name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IstioConfigInfo {
    pub cluster: String,
    pub namespace: String,
    pub name: String,
    pub kind: IstioKind,
    /// `spec.hosts` (VirtualService, ServiceEntry) or `spec.host` (DestinationRule).
    pub hosts: Vec<String>,
}

impl Inventory {
    pub fn workload(&self, namespace: &str, name: &str) -> Option<&WorkloadInfo> {
        self.workloads
            .iter()
            .find(|w| w.namespace == namespace && w.name == name)
    }

    pub fn service_by_host(&self, host: &str) -> Option<&ServiceInfo> {
        self.services.iter().find(|s| s.host == host)
    }

    pub fn pods_of<'a>(
        &'a self,
        namespace: &'a str,
        workload: &'a str,
    ) -> impl Iterator<Item = &'a PodInfo> + 'a {
        self.pods
            .iter()
            .filter(move |p| p.namespace == namespace && p.workload.as_deref() == Some(workload))
    }

    pub fn istio_config_of(&self, kind: IstioKind) -> impl Iterator<Item = &IstioConfigInfo> {
        self.istio_config.iter().filter(move |c| c.kind == kind)
    }

    pub fn is_accessible(&self, namespace: &str) -> bool {
        !self.inaccessible_namespaces.iter().any(|n| n == namespace)
    }
}
