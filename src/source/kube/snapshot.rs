//! One read of the objects `meshtui analyze` checks: Istio's routing kinds, Services and
//! Pods, and the optional kinds some analyzers use (RequestAuthentications, Nodes, Gateway
//! API Gateways), each listed once, page by page, as plain objects. Strings are kept as
//! the cluster has them; what reaches the terminal is sanitized where it is printed.

use kube::api::{Api, ApiResource, DynamicObject, ListParams};

use crate::mesh::rules::KubeObject;

/// Objects per page: big lists come in pieces rather than one huge answer.
const PAGE: u32 = 500;

/// A list the analysis needs failed.
#[derive(Debug, thiserror::Error)]
#[error("listing {plural}.{group} ({scope}): {source}")]
pub struct SnapshotError {
    pub plural: String,
    pub group: String,
    pub scope: String,
    #[source]
    pub source: kube::Error,
}

struct Listed {
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
    /// An absent kind (404: its CRD is not installed) or one the user may not read (403)
    /// leaves it out instead of failing the analysis.
    optional: bool,
}

const fn listed(
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
    optional: bool,
) -> Listed {
    Listed {
        group,
        version,
        kind,
        plural,
        namespaced,
        optional,
    }
}

const KINDS: [Listed; 9] = [
    listed(
        "networking.istio.io",
        "v1",
        "VirtualService",
        "virtualservices",
        true,
        false,
    ),
    listed(
        "networking.istio.io",
        "v1",
        "DestinationRule",
        "destinationrules",
        true,
        false,
    ),
    listed(
        "networking.istio.io",
        "v1",
        "Gateway",
        "gateways",
        true,
        false,
    ),
    listed(
        "networking.istio.io",
        "v1",
        "ServiceEntry",
        "serviceentries",
        true,
        false,
    ),
    listed("", "v1", "Service", "services", true, false),
    listed("", "v1", "Pod", "pods", true, false),
    listed(
        "security.istio.io",
        "v1",
        "RequestAuthentication",
        "requestauthentications",
        true,
        true,
    ),
    listed("", "v1", "Node", "nodes", false, true),
    listed(
        "gateway.networking.k8s.io",
        "v1",
        "Gateway",
        "gateways",
        true,
        true,
    ),
];

impl Listed {
    fn api_resource(&self) -> ApiResource {
        let api_version = if self.group.is_empty() {
            self.version.to_owned()
        } else {
            format!("{}/{}", self.group, self.version)
        };
        ApiResource {
            group: self.group.to_owned(),
            version: self.version.to_owned(),
            api_version,
            kind: self.kind.to_owned(),
            plural: self.plural.to_owned(),
        }
    }
}

/// Every object of the analyzed kinds: across the cluster when `namespaces` is empty,
/// else in those namespaces (cluster-wide kinds are read once either way).
pub async fn list_for_analysis(
    client: &kube::Client,
    namespaces: &[String],
) -> Result<Vec<KubeObject>, SnapshotError> {
    let mut objects = Vec::new();
    for kind in &KINDS {
        let scopes: Vec<Option<&str>> = if !kind.namespaced || namespaces.is_empty() {
            vec![None]
        } else {
            namespaces.iter().map(|n| Some(n.as_str())).collect()
        };
        for scope in scopes {
            match list(client, kind, scope).await {
                Ok(found) => objects.extend(found),
                Err(kube::Error::Api(status))
                    if kind.optional && matches!(status.code, 403 | 404) => {}
                Err(source) => {
                    return Err(SnapshotError {
                        plural: kind.plural.to_owned(),
                        group: if kind.group.is_empty() {
                            "core".to_owned()
                        } else {
                            kind.group.to_owned()
                        },
                        scope: scope
                            .map_or("all namespaces".to_owned(), |n| format!("namespace {n}")),
                        source,
                    })
                }
            }
        }
    }
    Ok(objects)
}

async fn list(
    client: &kube::Client,
    kind: &Listed,
    namespace: Option<&str>,
) -> Result<Vec<KubeObject>, kube::Error> {
    let resource = kind.api_resource();
    let api: Api<DynamicObject> = match namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &resource),
        None => Api::all_with(client.clone(), &resource),
    };
    let mut objects = Vec::new();
    let mut params = ListParams::default().limit(PAGE);
    loop {
        let page = api.list(&params).await?;
        for mut item in page.items {
            // Lists of built-in kinds leave apiVersion and kind to the list itself.
            if item.types.is_none() {
                item.types = Some(kube::api::TypeMeta {
                    api_version: resource.api_version.clone(),
                    kind: resource.kind.clone(),
                });
            }
            if let Ok(mut value) = serde_json::to_value(&item) {
                // Managed fields are bookkeeping, large, and never analyzed.
                if let Some(metadata) = value.get_mut("metadata").and_then(|m| m.as_object_mut()) {
                    metadata.remove("managedFields");
                }
                objects.push(KubeObject::new(value, None));
            }
        }
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() => params = params.continue_token(&token),
            _ => return Ok(objects),
        }
    }
}
