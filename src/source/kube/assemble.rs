//! The reflectors' stores, read into one `Inventory`: workloads learn from their pods
//! whether a sidecar runs, ServiceEntry hosts join the services, and everything is sorted
//! so that an unchanged cluster gives an equal inventory.

use std::collections::{HashMap, HashSet};

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Namespace, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::DynamicObject;
use kube::runtime::reflector::Store;

use super::istio::{config_info, service_entry_services};
use super::objects::{
    daemon_set_info, deployment_info, endpoint_slice_info, namespace_info, pod_info, service_info,
    stateful_set_info,
};
use super::status::Statuses;
use crate::mesh::inventory::{Inventory, IstioKind, NamespaceInfo, NamespaceRef};

/// Readers of every reflector, one per kind and watched scope.
#[derive(Default)]
pub struct Stores {
    pub namespaces: Vec<Store<Namespace>>,
    pub services: Vec<Store<Service>>,
    pub deployments: Vec<Store<Deployment>>,
    pub stateful_sets: Vec<Store<StatefulSet>>,
    pub daemon_sets: Vec<Store<DaemonSet>>,
    pub pods: Vec<Store<Pod>>,
    pub endpoint_slices: Vec<Store<EndpointSlice>>,
    pub istio: Vec<(IstioKind, Store<DynamicObject>)>,
}

/// What the inventory is asked to cover.
pub struct Scope<'a> {
    pub cluster: &'a str,
    /// Empty: every namespace.
    pub namespaces: &'a [String],
}

impl Stores {
    pub fn inventory(&self, scope: &Scope<'_>, statuses: &Statuses) -> Inventory {
        let cluster = scope.cluster;
        let wanted: HashSet<&str> = scope.namespaces.iter().map(String::as_str).collect();
        let in_scope = |namespace: &str| wanted.is_empty() || wanted.contains(namespace);

        let mut namespaces: Vec<NamespaceInfo> = self
            .namespaces
            .iter()
            .flat_map(Store::state)
            .map(|n| namespace_info(&n, cluster))
            .filter(|n| in_scope(&n.name))
            .collect();
        // A user limited to some namespaces often may not list namespaces: the ones asked
        // for still exist for the views, with injection unknown.
        if statuses.namespaces_forbidden() {
            for name in scope.namespaces {
                if !namespaces.iter().any(|n| &n.name == name) {
                    namespaces.push(NamespaceInfo {
                        cluster: cluster.to_owned(),
                        name: crate::mesh::sanitize::sanitize(name),
                        injection_enabled: false,
                    });
                }
            }
        }
        namespaces.sort_by(|a, b| a.name.cmp(&b.name));

        let mut pods: Vec<_> = self
            .pods
            .iter()
            .flat_map(Store::state)
            .map(|p| pod_info(&p, cluster))
            .collect();
        pods.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));

        let mut workloads: Vec<_> = self
            .deployments
            .iter()
            .flat_map(Store::state)
            .filter_map(|d| deployment_info(&d, cluster))
            .chain(
                self.stateful_sets
                    .iter()
                    .flat_map(Store::state)
                    .filter_map(|s| stateful_set_info(&s, cluster)),
            )
            .chain(
                self.daemon_sets
                    .iter()
                    .flat_map(Store::state)
                    .filter_map(|d| daemon_set_info(&d, cluster)),
            )
            .collect();
        // Injection happens when a pod is created, so the pods know best; the template's
        // answer stands only for a workload without pods.
        let mut injected: HashMap<(&str, &str), bool> = HashMap::new();
        for pod in &pods {
            if let Some(workload) = &pod.workload {
                *injected
                    .entry((pod.namespace.as_str(), workload.as_str()))
                    .or_default() |= pod.sidecar_injected;
            }
        }
        for workload in &mut workloads {
            if let Some(&sidecar) =
                injected.get(&(workload.namespace.as_str(), workload.name.as_str()))
            {
                workload.sidecar_injected = sidecar;
            }
        }
        workloads.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));

        let mut istio_config = Vec::new();
        let mut services: Vec<_> = self
            .services
            .iter()
            .flat_map(Store::state)
            .map(|s| service_info(&s, cluster))
            .collect();
        for (kind, store) in &self.istio {
            for object in store.state() {
                if *kind == IstioKind::ServiceEntry {
                    services.extend(service_entry_services(&object, cluster));
                }
                istio_config.push(config_info(*kind, &object, cluster));
            }
        }
        services.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        istio_config
            .sort_by(|a, b| (a.kind, &a.namespace, &a.name).cmp(&(b.kind, &b.namespace, &b.name)));

        let mut endpoints: Vec<_> = self
            .endpoint_slices
            .iter()
            .flat_map(Store::state)
            .filter_map(|e| endpoint_slice_info(&e, cluster))
            .collect();
        endpoints.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));

        Inventory {
            namespaces,
            services,
            workloads,
            pods,
            istio_config,
            endpoints,
            inaccessible_namespaces: statuses
                .inaccessible_namespaces()
                .iter()
                .map(|name| NamespaceRef::new(cluster, name))
                .collect(),
        }
    }
}
