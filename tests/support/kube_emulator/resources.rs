//! The resources the emulator serves, as the API server's discovery would name them.

/// One served resource: where it lives in the URL space and what its objects are called.
#[derive(Debug, PartialEq, Eq)]
pub struct ResourceType {
    /// Empty for the core group (`/api/v1`).
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
}

impl ResourceType {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_owned()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Built-in types drop `apiVersion` and `kind` from list items (the list says them
    /// once); custom resources keep them, as the real API server does.
    pub fn is_builtin(&self) -> bool {
        !self.group.ends_with(".istio.io")
    }
}

const fn resource(
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    kind: &'static str,
    namespaced: bool,
) -> ResourceType {
    ResourceType {
        group,
        version,
        plural,
        kind,
        namespaced,
    }
}

pub static RESOURCES: [ResourceType; 12] = [
    resource("", "v1", "namespaces", "Namespace", false),
    resource("", "v1", "pods", "Pod", true),
    resource("", "v1", "services", "Service", true),
    resource("apps", "v1", "deployments", "Deployment", true),
    resource("apps", "v1", "statefulsets", "StatefulSet", true),
    resource("apps", "v1", "daemonsets", "DaemonSet", true),
    resource(
        "networking.istio.io",
        "v1",
        "virtualservices",
        "VirtualService",
        true,
    ),
    resource(
        "networking.istio.io",
        "v1",
        "destinationrules",
        "DestinationRule",
        true,
    ),
    resource("networking.istio.io", "v1", "gateways", "Gateway", true),
    resource(
        "networking.istio.io",
        "v1",
        "serviceentries",
        "ServiceEntry",
        true,
    ),
    resource(
        "networking.istio.io",
        "v1",
        "workloadentries",
        "WorkloadEntry",
        true,
    ),
    resource(
        "security.istio.io",
        "v1",
        "peerauthentications",
        "PeerAuthentication",
        true,
    ),
];

pub fn by_path(group: &str, version: &str, plural: &str) -> Option<&'static ResourceType> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
}

pub fn by_kind(api_version: &str, kind: &str) -> Option<&'static ResourceType> {
    RESOURCES
        .iter()
        .find(|r| r.api_version() == api_version && r.kind == kind)
}
