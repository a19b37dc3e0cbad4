//! The service view: ports, endpoints (ready / not ready), the VirtualServices and
//! DestinationRules that touch it, and the split they configure against the one observed.

use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Value};

use super::detail::{same_cluster, LastAnswer};
use super::views::{ListCursor, ObjectId};
use crate::mesh::inventory::{IstioConfigInfo, IstioKind, ServicePort};
use crate::mesh::rules::diff::to_yaml;
use crate::mesh::sanitize::sanitize;
use crate::mesh::traffic::UNKNOWN;
use crate::mesh::{Inventory, Reporter, SampleKind, TrafficSample};

#[derive(Debug, Clone)]
pub struct ServiceView {
    pub id: ObjectId,
    /// The endpoints list; `scroll` scrolls the YAML.
    pub cursor: ListCursor,
    pub detail: ServiceDetail,
}

impl ServiceView {
    pub fn new(id: ObjectId, detail: ServiceDetail) -> Self {
        ServiceView {
            id,
            cursor: ListCursor::default(),
            detail,
        }
    }

    pub fn visible_rows(&self) -> Vec<usize> {
        self.cursor.visible(&self.detail.endpoints, |e| {
            vec![
                e.address.as_str(),
                e.pod.as_deref().unwrap_or_default(),
                e.node.as_deref().unwrap_or_default(),
            ]
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceFacts {
    pub host: String,
    pub external: bool,
    pub ports: Vec<ServicePort>,
    pub selector: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EndpointRow {
    pub address: String,
    pub ready: bool,
    pub pod: Option<String>,
    pub node: Option<String>,
    /// The workload owning the pod, for Enter.
    pub workload: Option<String>,
}

/// One Istio object that touches the service, as YAML lines ready to show (sanitized).
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigDocument {
    pub kind: IstioKind,
    pub name: String,
    pub namespace: String,
    pub yaml: Vec<String>,
}

/// One version's share: what the VirtualService asks for and what the traffic did.
#[derive(Debug, Clone, PartialEq)]
pub struct SplitRow {
    /// A version (`v1`), or a subset or workload name where no version is known.
    pub version: String,
    pub configured_pct: Option<f64>,
    pub observed_pct: Option<f64>,
    pub observed_rps: f64,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ServiceDetail {
    pub facts: Option<ServiceFacts>,
    pub endpoints: Vec<EndpointRow>,
    pub config: Vec<ConfigDocument>,
    pub split: Vec<SplitRow>,
    /// A VirtualService routes the service (its default route gave the configured split).
    pub routed_by: Option<String>,
}

impl ServiceDetail {
    pub fn build(
        id: &ObjectId,
        inventory: &Inventory,
        samples: &[TrafficSample],
        several_clusters: bool,
    ) -> Self {
        let Some(service) = inventory.services.iter().find(|s| {
            s.namespace == id.namespace
                && s.name == id.name
                && same_cluster(&s.cluster, &id.cluster, several_clusters)
        }) else {
            return ServiceDetail::default();
        };
        let owners: HashMap<&str, &str> = inventory
            .pods
            .iter()
            .filter(|p| p.namespace == service.namespace && p.cluster == service.cluster)
            .filter_map(|p| Some((p.name.as_str(), p.workload.as_deref()?)))
            .collect();
        let mut endpoints: Vec<EndpointRow> = inventory
            .endpoints_of(service)
            .map(|e| EndpointRow {
                address: e.addresses.join(","),
                ready: e.ready,
                pod: e.pod.clone(),
                node: e.node.clone(),
                workload: e
                    .pod
                    .as_deref()
                    .and_then(|p| owners.get(p))
                    .map(|w| (*w).to_owned()),
            })
            .collect();
        endpoints
            .sort_by(|a, b| (!a.ready, &a.pod, &a.address).cmp(&(!b.ready, &b.pod, &b.address)));
        let touching: Vec<&IstioConfigInfo> = inventory.routing_config_of(service).collect();
        let config = touching.iter().map(|c| document(c)).collect();
        let subsets = subset_versions(&touching);
        let virtual_service = touching
            .iter()
            .find(|c| c.kind == IstioKind::VirtualService && c.spec.is_some());
        let configured = virtual_service
            .and_then(|vs| vs.spec.as_deref())
            .map(|spec| configured_split(spec, service, &subsets))
            .unwrap_or_default();
        let observed = observed_split(samples, &service.host);
        ServiceDetail {
            facts: Some(ServiceFacts {
                host: service.host.clone(),
                external: service.external,
                ports: service.ports.clone(),
                selector: service
                    .selector
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            }),
            endpoints,
            config,
            split: split_rows(&configured, &observed, virtual_service.is_some()),
            routed_by: virtual_service.map(|vs| vs.name.clone()),
        }
    }
}

fn api_version(kind: IstioKind) -> &'static str {
    match kind {
        IstioKind::PeerAuthentication => "security.istio.io/v1",
        _ => "networking.istio.io/v1",
    }
}

fn kind_name(kind: IstioKind) -> &'static str {
    match kind {
        IstioKind::VirtualService => "VirtualService",
        IstioKind::DestinationRule => "DestinationRule",
        IstioKind::Gateway => "Gateway",
        IstioKind::ServiceEntry => "ServiceEntry",
        IstioKind::PeerAuthentication => "PeerAuthentication",
        IstioKind::WorkloadEntry => "WorkloadEntry",
    }
}

/// The object as `kubectl get -o yaml` would show its identity and spec, each line
/// sanitized: the spec is the cluster's, unfiltered until here.
fn document(config: &IstioConfigInfo) -> ConfigDocument {
    let object = json!({
        "apiVersion": api_version(config.kind),
        "kind": kind_name(config.kind),
        "metadata": {"name": config.name, "namespace": config.namespace},
        "spec": config.spec.as_deref().cloned().unwrap_or(Value::Null),
    });
    ConfigDocument {
        kind: config.kind,
        name: config.name.clone(),
        namespace: config.namespace.clone(),
        yaml: to_yaml(&object).lines().map(sanitize).collect(),
    }
}

/// Subset name -> the `version` label it selects, from the DestinationRules.
fn subset_versions(config: &[&IstioConfigInfo]) -> HashMap<String, String> {
    config
        .iter()
        .filter(|c| c.kind == IstioKind::DestinationRule)
        .filter_map(|c| c.spec.as_deref()?.get("subsets")?.as_array())
        .flatten()
        .filter_map(|subset| {
            let name = subset.get("name")?.as_str()?;
            let version = subset.pointer("/labels/version")?.as_str()?;
            Some((sanitize(name), sanitize(version)))
        })
        .collect()
}

/// The weights of the VirtualService's default route (its first HTTP route without a
/// match, else its last), by version, in percent of their sum.
fn configured_split(
    spec: &Value,
    service: &crate::mesh::ServiceInfo,
    subsets: &HashMap<String, String>,
) -> BTreeMap<String, f64> {
    let routes = spec
        .get("http")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let default = routes
        .iter()
        .find(|r| r.get("match").is_none())
        .or_else(|| routes.last());
    let destinations = default
        .and_then(|r| r.get("route"))
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let single = destinations.len() == 1;
    let mut weights: BTreeMap<String, f64> = BTreeMap::new();
    for destination in destinations {
        let host = destination
            .pointer("/destination/host")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let same_service = host == service.name
            || host == service.host
            || host.starts_with(&format!("{}.{}", service.name, service.namespace));
        if !same_service {
            continue;
        }
        let subset = destination
            .pointer("/destination/subset")
            .and_then(Value::as_str)
            .map(sanitize);
        let version = match subset {
            Some(subset) => subsets.get(&subset).cloned().unwrap_or(subset),
            None => "all".to_owned(),
        };
        let weight = destination
            .get("weight")
            .and_then(Value::as_f64)
            .unwrap_or(if single { 100.0 } else { 0.0 });
        *weights.entry(version).or_default() += weight;
    }
    let total: f64 = weights.values().sum();
    if total > 0.0 {
        for weight in weights.values_mut() {
            *weight = 100.0 * *weight / total;
        }
    }
    weights
}

/// Requests/s to the host by the version (or workload) that served them, as the serving
/// proxies report them (the clients' reports where no server proxy reported).
fn observed_split(samples: &[TrafficSample], host: &str) -> BTreeMap<String, f64> {
    let mut by_reporter: [BTreeMap<String, f64>; 2] = Default::default();
    let mut last = LastAnswer::default();
    for sample in samples {
        let service = sample.labels.destination_service.as_str();
        // The address and length together name the allocation.
        let address = (service.as_ptr() as usize, service.len());
        if !matches!(sample.kind, SampleKind::Requests) || !last.check(address, || service == host)
        {
            continue;
        }
        let slot = match sample.labels.reporter {
            Reporter::Destination => 0,
            Reporter::Source => 1,
            Reporter::Waypoint => continue,
        };
        let destination = &sample.labels.destination;
        let version = if destination.version != UNKNOWN && !destination.version.is_empty() {
            &destination.version
        } else {
            &destination.workload
        };
        *by_reporter[slot].entry(sanitize(version)).or_default() += sample.value;
    }
    let [server, client] = by_reporter;
    if server.values().sum::<f64>() > 0.0 {
        server
    } else {
        client
    }
}

fn split_rows(
    configured: &BTreeMap<String, f64>,
    observed: &BTreeMap<String, f64>,
    routed: bool,
) -> Vec<SplitRow> {
    let total: f64 = observed.values().sum();
    let mut versions: Vec<&String> = configured.keys().chain(observed.keys()).collect();
    versions.sort();
    versions.dedup();
    versions
        .into_iter()
        .map(|version| {
            let rps = observed.get(version).copied().unwrap_or(0.0);
            SplitRow {
                version: version.clone(),
                configured_pct: routed.then(|| configured.get(version).copied().unwrap_or(0.0)),
                observed_pct: (total > 0.0).then(|| 100.0 * rps / total),
                observed_rps: rps,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesh::ServiceInfo;

    fn reviews() -> ServiceInfo {
        ServiceInfo {
            cluster: "Kubernetes".into(),
            namespace: "bookinfo".into(),
            name: "reviews".into(),
            host: "reviews.bookinfo.svc.cluster.local".into(),
            external: false,
            ports: Vec::new(),
            selector: Default::default(),
        }
    }

    #[test]
    fn the_configured_split_is_the_default_routes_weights_by_version() {
        let spec = json!({
            "hosts": ["reviews"],
            "http": [
                {"match": [{"headers": {"end-user": {"exact": "jason"}}}],
                 "route": [{"destination": {"host": "reviews", "subset": "v2"}}]},
                {"route": [
                    {"destination": {"host": "reviews", "subset": "one"}, "weight": 75},
                    {"destination": {"host": "reviews", "subset": "v3"}, "weight": 25}
                ]}
            ]
        });
        let subsets = HashMap::from([("one".to_owned(), "v1".to_owned())]);
        let split = configured_split(&spec, &reviews(), &subsets);
        assert_eq!(
            split.into_iter().collect::<Vec<_>>(),
            vec![("v1".to_owned(), 75.0), ("v3".to_owned(), 25.0)]
        );
    }

    #[test]
    fn a_single_destination_without_weight_takes_everything() {
        let spec = json!({"http": [{"route": [{"destination": {"host": "reviews.bookinfo.svc.cluster.local", "subset": "v2"}}]}]});
        let split = configured_split(&spec, &reviews(), &HashMap::new());
        assert_eq!(split.get("v2"), Some(&100.0));
    }
}
