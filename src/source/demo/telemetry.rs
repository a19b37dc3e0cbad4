//! Which of the demo's proxies label request metrics with the operation. As in a cluster,
//! a Telemetry resource decides: one in a proxy's namespace, or in the root namespace
//! (`istio-system`) for every namespace. The demo starts with one in every namespace but
//! `shop`, so that enabling operations from the interfaces view can be tried there.

use std::collections::HashMap;

use serde_json::json;

use crate::mesh::operations::DEFAULT_OPERATION_LABEL;
use crate::mesh::rules::telemetry::{labels_requests_with, Labelling, OPERATION_EXPRESSION};
use crate::mesh::{Reporter, SampleLabels};

use super::store::ConfigStore;

/// Istio's root namespace: a Telemetry there applies to the whole mesh.
pub const ROOT_NAMESPACE: &str = "istio-system";
/// The namespace whose proxies start without the operation label.
pub const UNLABELLED_NAMESPACE: &str = "shop";
/// Who wrote the demo's initial Telemetry resources: not meshtui, so undo never takes them.
const ADMIN: &str = "kubectl-client-side-apply";

/// The label the demo's proxies write, when a Telemetry tells them to.
pub const DEMO_OPERATION_LABEL: &str = DEFAULT_OPERATION_LABEL;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct OperationReporting {
    root: Labelling,
    namespaces: HashMap<String, Labelling>,
}

impl OperationReporting {
    /// What the stored Telemetry resources say.
    pub fn read(store: &ConfigStore) -> Self {
        let mut reporting = OperationReporting::default();
        for telemetry in store.list("Telemetry") {
            let labelling = labels_requests_with(&telemetry, DEMO_OPERATION_LABEL);
            let namespace = telemetry["metadata"]["namespace"]
                .as_str()
                .unwrap_or_default();
            if namespace == ROOT_NAMESPACE {
                reporting.root = reporting.root.or(labelling);
            } else {
                let entry = reporting
                    .namespaces
                    .entry(namespace.to_owned())
                    .or_default();
                *entry = entry.or(labelling);
            }
        }
        reporting
    }

    fn side(&self, namespace: &str) -> Labelling {
        self.namespaces
            .get(namespace)
            .copied()
            .unwrap_or_default()
            .or(self.root)
    }

    /// Whether the proxy that reported a series labels it with the operation.
    pub fn labels(&self, labels: &SampleLabels) -> bool {
        match labels.reporter {
            Reporter::Source => self.side(&labels.source.namespace).client,
            Reporter::Destination | Reporter::Waypoint => {
                self.side(&labels.destination.namespace).server
            }
        }
    }

    /// Every proxy of these namespaces labels both sides: nothing to take off.
    pub fn everywhere<'a>(&self, mut namespaces: impl Iterator<Item = &'a str>) -> bool {
        let both = |l: Labelling| l.client && l.server;
        both(self.root) || namespaces.all(|n| both(self.side(n)))
    }
}

/// The Telemetry resources a fresh demo cluster holds: one per namespace but
/// [`UNLABELLED_NAMESPACE`] (and the root namespace, whose one would cover every
/// namespace), written by an administrator.
pub fn seed(store: &mut ConfigStore, namespaces: &[String]) {
    if !store.list("Telemetry").is_empty() {
        return;
    }
    let seeded = |n: &&String| *n != UNLABELLED_NAMESPACE && *n != ROOT_NAMESPACE;
    for namespace in namespaces.iter().filter(seeded) {
        let telemetry = json!({
            "apiVersion": "telemetry.istio.io/v1",
            "kind": "Telemetry",
            "metadata": {"name": "request-operation", "namespace": namespace},
            "spec": {"metrics": [{
                "providers": [{"name": "prometheus"}],
                "overrides": [{
                    "match": {"metric": "ALL_METRICS", "mode": "CLIENT_AND_SERVER"},
                    "tagOverrides": {DEMO_OPERATION_LABEL: {"value": OPERATION_EXPRESSION}},
                }],
            }]},
        });
        store.apply(&telemetry, ADMIN);
    }
}

/// A store whose root-namespace Telemetry makes every proxy label operations: the mesh
/// as modelled, for tests of the series themselves.
#[cfg(test)]
pub fn labelled_everywhere(seed: u64, now_unix_s: f64) -> super::store::RuleStore {
    let store = super::store::RuleStore::new(seed, now_unix_s);
    let telemetry = json!({
        "apiVersion": "telemetry.istio.io/v1", "kind": "Telemetry",
        "metadata": {"name": "mesh-default", "namespace": ROOT_NAMESPACE},
        "spec": {"metrics": [{"overrides": [
            {"tagOverrides": {DEMO_OPERATION_LABEL: {"value": OPERATION_EXPRESSION}}}]}]},
    });
    store.lock().apply(&telemetry, ADMIN);
    store
}
