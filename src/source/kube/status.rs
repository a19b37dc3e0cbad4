//! How each watcher is doing, and what that means for the inventory as a whole: its
//! health, and the namespaces the user may not read.

use std::collections::{BTreeMap, BTreeSet};

use crate::mesh::inventory::IstioKind;
use crate::source::InventoryHealth;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectKind {
    Namespace,
    Service,
    Deployment,
    StatefulSet,
    DaemonSet,
    Pod,
    EndpointSlice,
    Istio(IstioKind),
}

impl ObjectKind {
    /// Whether the graph needs the kind: endpoints only add detail to the service view,
    /// so a user who may not read them still sees the namespace.
    pub fn is_essential(self) -> bool {
        self != ObjectKind::EndpointSlice
    }

    /// The resource's name as the API and kubectl spell it, for messages.
    pub fn plural(self) -> &'static str {
        match self {
            ObjectKind::Namespace => "namespaces",
            ObjectKind::Service => "services",
            ObjectKind::Deployment => "deployments",
            ObjectKind::StatefulSet => "statefulsets",
            ObjectKind::DaemonSet => "daemonsets",
            ObjectKind::Pod => "pods",
            ObjectKind::EndpointSlice => "endpointslices",
            ObjectKind::Istio(IstioKind::VirtualService) => "virtualservices",
            ObjectKind::Istio(IstioKind::DestinationRule) => "destinationrules",
            ObjectKind::Istio(IstioKind::Gateway) => "gateways",
            ObjectKind::Istio(IstioKind::ServiceEntry) => "serviceentries",
            ObjectKind::Istio(IstioKind::PeerAuthentication) => "peerauthentications",
            ObjectKind::Istio(IstioKind::WorkloadEntry) => "workloadentries",
        }
    }
}

/// One watcher: a kind in one namespace, or in all of them (`namespace: None`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WatcherId {
    pub kind: ObjectKind,
    pub namespace: Option<String>,
}

/// What a watcher reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The initial list (or a re-list) is complete.
    Synced,
    /// An object was added, changed or deleted while watching.
    Changed,
    /// 403: the user may not list this kind here.
    Forbidden,
    /// 404: the API does not serve this kind (e.g. Istio is not installed).
    NotServed,
    /// The request or the stream failed; the watcher retries with backoff.
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Syncing,
    Synced,
    Forbidden,
    NotServed,
    Failing(String),
}

#[derive(Debug, Clone)]
struct Entry {
    state: State,
    /// Whether this watcher ever completed a list: after a failure it goes back to synced
    /// rather than syncing, as its store still holds what it listed.
    synced_once: bool,
}

#[derive(Debug, Clone)]
pub struct Statuses {
    entries: BTreeMap<WatcherId, Entry>,
}

impl Statuses {
    pub fn new(ids: impl IntoIterator<Item = WatcherId>) -> Self {
        let entry = Entry {
            state: State::Syncing,
            synced_once: false,
        };
        Statuses {
            entries: ids.into_iter().map(|id| (id, entry.clone())).collect(),
        }
    }

    pub fn record(&mut self, id: &WatcherId, outcome: Outcome) {
        let Some(entry) = self.entries.get_mut(id) else {
            return;
        };
        entry.state = match outcome {
            Outcome::Synced | Outcome::Changed => {
                entry.synced_once = true;
                State::Synced
            }
            Outcome::Forbidden => State::Forbidden,
            Outcome::NotServed => State::NotServed,
            Outcome::Failed(message) => State::Failing(message),
        };
    }

    pub fn any_failing(&self) -> bool {
        self.entries
            .values()
            .any(|e| matches!(e.state, State::Failing(_)))
    }

    /// The API server answered again: failures are forgotten until a watcher reports one
    /// anew (its stream does not say when it reconnects without news).
    pub fn clear_failures(&mut self) {
        for entry in self.entries.values_mut() {
            if matches!(entry.state, State::Failing(_)) {
                entry.state = if entry.synced_once {
                    State::Synced
                } else {
                    State::Syncing
                };
            }
        }
    }

    /// Whether the namespace list itself may not be read (a user limited to namespaces).
    pub fn namespaces_forbidden(&self) -> bool {
        self.entries
            .iter()
            .any(|(id, e)| id.kind == ObjectKind::Namespace && e.state == State::Forbidden)
    }

    /// Namespaces with at least one kind the user may not list there.
    pub fn inaccessible_namespaces(&self) -> Vec<String> {
        let names: BTreeSet<&String> = self
            .entries
            .iter()
            .filter(|(id, e)| e.state == State::Forbidden && id.kind.is_essential())
            .filter_map(|(id, _)| id.namespace.as_ref())
            .collect();
        names.into_iter().cloned().collect()
    }

    pub fn health(&self, all_namespaces: bool) -> InventoryHealth {
        let failure = self.entries.iter().find_map(|(id, e)| match &e.state {
            State::Failing(message) => Some(format!("{}: {message}", id.kind.plural())),
            // Without namespaces named, a kind the user may not list cluster-wide leaves
            // a hole that no namespace mark can show. Istio's kinds may be unreadable
            // without hiding the mesh itself.
            State::Forbidden
                if all_namespaces
                    && id.namespace.is_none()
                    && !matches!(id.kind, ObjectKind::Istio(_))
                    && id.kind.is_essential() =>
            {
                Some(format!(
                    "not allowed to list {} in all namespaces: name the namespaces to watch",
                    id.kind.plural()
                ))
            }
            _ => None,
        });
        if let Some(message) = failure {
            return InventoryHealth::Failing(message);
        }
        if self.entries.values().any(|e| e.state == State::Syncing) {
            InventoryHealth::Syncing
        } else {
            InventoryHealth::Ok
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(kind: ObjectKind, namespace: Option<&str>) -> WatcherId {
        WatcherId {
            kind,
            namespace: namespace.map(str::to_owned),
        }
    }

    #[test]
    fn health_is_syncing_until_every_watcher_has_listed() {
        let pods = id(ObjectKind::Pod, None);
        let services = id(ObjectKind::Service, None);
        let mut statuses = Statuses::new([pods.clone(), services.clone()]);
        statuses.record(&pods, Outcome::Synced);
        assert_eq!(statuses.health(true), InventoryHealth::Syncing);
        statuses.record(&services, Outcome::Synced);
        assert_eq!(statuses.health(true), InventoryHealth::Ok);
    }

    #[test]
    fn a_failure_names_the_kind_and_a_reachable_api_clears_it() {
        let pods = id(ObjectKind::Pod, None);
        let mut statuses = Statuses::new([pods.clone()]);
        statuses.record(&pods, Outcome::Synced);
        statuses.record(&pods, Outcome::Failed("connection refused".into()));
        assert_eq!(
            statuses.health(true),
            InventoryHealth::Failing("pods: connection refused".into())
        );
        statuses.clear_failures();
        assert_eq!(statuses.health(true), InventoryHealth::Ok);
    }

    #[test]
    fn endpoint_slices_refused_leave_the_namespace_readable_and_the_source_ok() {
        let pods = id(ObjectKind::Pod, None);
        let slices = id(ObjectKind::EndpointSlice, None);
        let in_shop = id(ObjectKind::EndpointSlice, Some("shop"));
        let mut statuses = Statuses::new([pods.clone(), slices.clone(), in_shop.clone()]);
        statuses.record(&pods, Outcome::Synced);
        statuses.record(&slices, Outcome::Forbidden);
        statuses.record(&in_shop, Outcome::Forbidden);
        assert_eq!(statuses.health(true), InventoryHealth::Ok);
        assert!(statuses.inaccessible_namespaces().is_empty());
    }

    #[test]
    fn a_forbidden_namespace_is_inaccessible_but_not_a_failure() {
        let open = id(ObjectKind::Pod, Some("bookinfo"));
        let closed = id(ObjectKind::Pod, Some("secret"));
        let mut statuses = Statuses::new([open.clone(), closed.clone()]);
        statuses.record(&open, Outcome::Synced);
        statuses.record(&closed, Outcome::Forbidden);
        assert_eq!(statuses.health(false), InventoryHealth::Ok);
        assert_eq!(
            statuses.inaccessible_namespaces(),
            vec!["secret".to_owned()]
        );
    }

    #[test]
    fn pods_forbidden_cluster_wide_asks_for_namespaces_but_istio_kinds_may_be_missing() {
        let pods = id(ObjectKind::Pod, None);
        let routes = id(ObjectKind::Istio(IstioKind::VirtualService), None);
        let mut statuses = Statuses::new([pods.clone(), routes.clone()]);
        statuses.record(&pods, Outcome::Synced);
        statuses.record(&routes, Outcome::NotServed);
        assert_eq!(statuses.health(true), InventoryHealth::Ok);
        statuses.record(&pods, Outcome::Forbidden);
        assert!(matches!(
            statuses.health(true),
            InventoryHealth::Failing(message) if message.contains("name the namespaces")
        ));
    }
}
