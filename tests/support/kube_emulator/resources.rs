//! The resources the emulator serves, with what the API server's discovery says of them,
//! and the versions each is served at (Istio's CRDs gained `v1` in Istio 1.22).

/// One served kind: where it lives in the URL space and what its objects are called.
#[derive(Debug, PartialEq, Eq)]
pub struct ResourceType {
    /// Empty for the core group (`/api/v1`).
    pub group: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
}

impl ResourceType {
    pub fn api_version(&self, version: &str) -> String {
        if self.group.is_empty() {
            version.to_owned()
        } else {
            format!("{}/{version}", self.group)
        }
    }

    /// `plural.group` (just `plural` in the core group), as the API server's messages name
    /// a resource.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_owned()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// Custom resources (Istio's) differ from built-in types in small ways the API server
    /// shows: list items keep `apiVersion` and `kind`, the verbs come in another order.
    pub fn is_custom(&self) -> bool {
        self.group.ends_with(".istio.io")
    }

    /// The verbs discovery lists, in the order the API server lists them.
    pub fn verbs(&self) -> &'static [&'static str] {
        if self.is_custom() {
            &[
                "delete",
                "deletecollection",
                "get",
                "list",
                "patch",
                "create",
                "update",
                "watch",
            ]
        } else if self.kind != "Namespace" {
            &[
                "create",
                "delete",
                "deletecollection",
                "get",
                "list",
                "patch",
                "update",
                "watch",
            ]
        } else {
            // Namespaces cannot be deleted as a collection.
            &[
                "create", "delete", "get", "list", "patch", "update", "watch",
            ]
        }
    }
}

/// Which Istio release's CRDs the cluster has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IstioApis {
    /// Istio 1.22 on: `v1` besides `v1beta1` (and `v1alpha3` for networking).
    #[default]
    V1,
    /// Istio before 1.22: `v1beta1` (and `v1alpha3` for networking), no `v1`.
    Before1_22,
    /// Istio is not installed: none of its groups exist.
    NotInstalled,
}

impl IstioApis {
    /// The versions served, highest priority first (as discovery orders them), and the
    /// storage version.
    fn versions(self, group: &str) -> (&'static [&'static str], &'static str) {
        match (self, group) {
            (IstioApis::V1, "networking.istio.io") => (&["v1", "v1beta1", "v1alpha3"], "v1"),
            (IstioApis::V1, "security.istio.io") => (&["v1", "v1beta1"], "v1"),
            (IstioApis::V1, "telemetry.istio.io") => (&["v1", "v1alpha1"], "v1"),
            (IstioApis::Before1_22, "networking.istio.io") => {
                (&["v1beta1", "v1alpha3"], "v1alpha3")
            }
            (IstioApis::Before1_22, "security.istio.io") => (&["v1beta1"], "v1beta1"),
            (IstioApis::Before1_22, "telemetry.istio.io") => (&["v1alpha1"], "v1alpha1"),
            _ => (&[], ""),
        }
    }
}

/// The version `resource` is stored at.
pub fn storage_version(resource: &ResourceType, istio: IstioApis) -> &'static str {
    if resource.is_custom() {
        istio.versions(resource.group).1
    } else {
        "v1"
    }
}

/// The versions `resource` is served at, preferred first.
pub fn served_versions(resource: &ResourceType, istio: IstioApis) -> &'static [&'static str] {
    if resource.is_custom() {
        istio.versions(resource.group).0
    } else {
        &["v1"]
    }
}

/// Discovery's `storageVersionHash`: base64 of the first 8 bytes of the SHA-256 of
/// `group/version/kind` of the storage version. Computed once for each kind served here
/// (the emulator has no SHA-256 of its own).
pub fn storage_version_hash(resource: &ResourceType, istio: IstioApis) -> &'static str {
    match (resource.kind, storage_version(resource, istio)) {
        ("Namespace", _) => "Q3oi5N2YM8M=",
        ("Pod", _) => "xPOwRZ+Yhw8=",
        ("Service", _) => "0/CO1lhkEBI=",
        ("Deployment", _) => "8aSe+NMegvE=",
        ("StatefulSet", _) => "H+vl74LkKdo=",
        ("DaemonSet", _) => "dd7pWHUlMKQ=",
        ("EndpointSlice", _) => "qgS0xkrxYAI=",
        ("VirtualService", "v1") => "4myxAxwji4I=",
        ("DestinationRule", "v1") => "RzP0ejj0QFo=",
        ("Gateway", "v1") => "kGh5BEeT2e8=",
        ("ServiceEntry", "v1") => "uwV2awIxHZ8=",
        ("WorkloadEntry", "v1") => "TCCKGA06viw=",
        ("VirtualService", _) => "OQjiBwfKPL4=",
        ("DestinationRule", _) => "RTFbwVKZLVo=",
        ("Gateway", _) => "/mjmih7j52A=",
        ("ServiceEntry", _) => "tY6rFaYqFTs=",
        ("WorkloadEntry", _) => "ZyZMEVHubgI=",
        ("PeerAuthentication", "v1") => "ozjy5a1eDqo=",
        ("PeerAuthentication", _) => "0IW8zQBF4Qc=",
        ("Telemetry", "v1") => "buDIWBYM9Jw=",
        ("Telemetry", _) => "d44J/hig0n8=",
        ("CustomResourceDefinition", _) => "jfWCUB31mvA=",
        _ => "",
    }
}

const NETWORKING: &[&str] = &["istio-io", "networking-istio-io"];
const SECURITY: &[&str] = &["istio-io", "security-istio-io"];
const TELEMETRY: &[&str] = &["istio-io", "telemetry-istio-io"];

const fn builtin(
    group: &'static str,
    plural: &'static str,
    singular: &'static str,
    kind: &'static str,
    short_names: &'static [&'static str],
) -> ResourceType {
    ResourceType {
        group,
        plural,
        singular,
        kind,
        namespaced: true,
        short_names,
        categories: &["all"],
    }
}

/// An Istio CRD: its group's categories, `istio-io` and the group's own.
const fn istio(
    group: &'static str,
    categories: &'static [&'static str],
    plural: &'static str,
    singular: &'static str,
    kind: &'static str,
    short_names: &'static [&'static str],
) -> ResourceType {
    ResourceType {
        group,
        plural,
        singular,
        kind,
        namespaced: true,
        short_names,
        categories,
    }
}

pub static RESOURCES: [ResourceType; 15] = [
    ResourceType {
        group: "",
        plural: "namespaces",
        singular: "namespace",
        kind: "Namespace",
        namespaced: false,
        short_names: &["ns"],
        categories: &[],
    },
    builtin("", "pods", "pod", "Pod", &["po"]),
    builtin("", "services", "service", "Service", &["svc"]),
    builtin(
        "apps",
        "deployments",
        "deployment",
        "Deployment",
        &["deploy"],
    ),
    builtin(
        "apps",
        "statefulsets",
        "statefulset",
        "StatefulSet",
        &["sts"],
    ),
    builtin("apps", "daemonsets", "daemonset", "DaemonSet", &["ds"]),
    // Written by the endpoint slice controller; not in the `all` category.
    ResourceType {
        group: "discovery.k8s.io",
        plural: "endpointslices",
        singular: "endpointslice",
        kind: "EndpointSlice",
        namespaced: true,
        short_names: &[],
        categories: &[],
    },
    istio(
        "networking.istio.io",
        NETWORKING,
        "virtualservices",
        "virtualservice",
        "VirtualService",
        &["vs"],
    ),
    istio(
        "networking.istio.io",
        NETWORKING,
        "destinationrules",
        "destinationrule",
        "DestinationRule",
        &["dr"],
    ),
    istio(
        "networking.istio.io",
        NETWORKING,
        "gateways",
        "gateway",
        "Gateway",
        &["gw"],
    ),
    istio(
        "networking.istio.io",
        NETWORKING,
        "serviceentries",
        "serviceentry",
        "ServiceEntry",
        &["se"],
    ),
    istio(
        "networking.istio.io",
        NETWORKING,
        "workloadentries",
        "workloadentry",
        "WorkloadEntry",
        &["we"],
    ),
    istio(
        "security.istio.io",
        SECURITY,
        "peerauthentications",
        "peerauthentication",
        "PeerAuthentication",
        &["pa"],
    ),
    istio(
        "telemetry.istio.io",
        TELEMETRY,
        "telemetries",
        "telemetry",
        "Telemetry",
        &["telemetry"],
    ),
    ResourceType {
        group: "apiextensions.k8s.io",
        plural: "customresourcedefinitions",
        singular: "customresourcedefinition",
        kind: "CustomResourceDefinition",
        namespaced: false,
        short_names: &["crd", "crds"],
        categories: &["api-extensions"],
    },
];

/// The kind served at `/{group}/{version}/{plural}`, if that version is served.
pub fn by_path(
    group: &str,
    version: &str,
    plural: &str,
    istio: IstioApis,
) -> Option<&'static ResourceType> {
    RESOURCES.iter().find(|r| {
        r.group == group && r.plural == plural && served_versions(r, istio).contains(&version)
    })
}

/// The kind an object's `apiVersion` and `kind` name, whatever the version.
pub fn by_kind(api_version: &str, kind: &str) -> Option<&'static ResourceType> {
    let group = api_version.rsplit_once('/').map_or("", |(group, _)| group);
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.kind == kind)
}

/// The API groups served besides the core group, in the order `/apis` lists them.
pub fn groups(istio: IstioApis) -> Vec<(&'static str, &'static [&'static str])> {
    let mut groups: Vec<(&'static str, &'static [&'static str])> = Vec::new();
    for resource in RESOURCES.iter().filter(|r| !r.group.is_empty()) {
        let versions = served_versions(resource, istio);
        if !versions.is_empty() && !groups.iter().any(|(g, _)| *g == resource.group) {
            groups.push((resource.group, versions));
        }
    }
    groups
}
