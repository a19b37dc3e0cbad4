//! What the cluster says exists, independent of traffic: namespaces, services, workloads.

/// Everything known about the mesh's objects at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inventory {
    pub namespaces: Vec<NamespaceInfo>,
    pub services: Vec<ServiceInfo>,
    pub workloads: Vec<WorkloadInfo>,
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

impl Inventory {
    pub fn workload(&self, namespace: &str, name: &str) -> Option<&WorkloadInfo> {
        self.workloads
            .iter()
            .find(|w| w.namespace == namespace && w.name == name)
    }

    pub fn service_by_host(&self, host: &str) -> Option<&ServiceInfo> {
        self.services.iter().find(|s| s.host == host)
    }
}
