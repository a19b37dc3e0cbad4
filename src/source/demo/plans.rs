//! The rules the mesh follows: read from the store when its revision moves, and turned
//! into every route's plan, callees first, so that each caller knows the time its calls
//! now add.

use std::ops::Range;
use std::sync::Arc;

use crate::mesh::inventory::{IstioConfigInfo, IstioKind};
use crate::mesh::rules::model::Target;
use crate::mesh::rules::render::default_route;
use crate::mesh::sanitize::{sanitize, sanitize_json};

use super::model::{MeshModel, Route, RouteLoad, ServiceKind, CLUSTER};
use super::outlier::Ejections;
use super::requests::RequestClass;
use super::route_plan::{build_route_plan, PlanInputs};
use super::routing::ServiceRules;
use super::series::{series_for, Series, SeriesKey};
use super::simulate::{DemoMesh, RouteSeries};
use super::store::RuleStore;
use super::telemetry::OperationReporting;

/// The rules as last read from the store, and what they did to the hosts.
#[derive(Debug, Clone)]
pub(super) struct Rules {
    pub store: RuleStore,
    /// The store's revision last read; `None` before the first read.
    pub revision: Option<u64>,
    /// Per service of the model.
    pub services: Vec<Option<ServiceRules>>,
    pub ejections: Ejections,
    pub classes: Vec<RequestClass>,
    /// Plans must be rebuilt before the next step.
    pub stale: bool,
    /// Which proxies label requests with the operation (the stored Telemetry resources).
    pub operations: OperationReporting,
    /// Every proxy of the mesh does: samples need no change.
    pub operations_everywhere: bool,
}

/// Adds the series of `key` on `route` to the mesh's, and remembers them under the key
/// unless an earlier flow made some first.
pub(super) fn make_series(
    model: &MeshModel,
    route: &Route,
    key: &SeriesKey,
    all: &mut Vec<Series>,
    slots: &mut Vec<usize>,
    own: &mut RouteSeries,
) -> Range<usize> {
    let start = all.len();
    for series in series_for(model, route, key) {
        slots.push(own.indices.len());
        own.indices.push(all.len());
        all.push(series);
    }
    let range = start..all.len();
    own.by_key
        .entry(key.clone())
        .or_insert_with(|| range.clone());
    range
}

/// The store's rules as the inventory lists Istio config: what the views show.
fn listed_config(
    virtual_services: &[serde_json::Value],
    destination_rules: &[serde_json::Value],
) -> Vec<IstioConfigInfo> {
    let text = |object: &serde_json::Value, pointer: &str| {
        sanitize(
            object
                .pointer(pointer)
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default(),
        )
    };
    let mut listed: Vec<IstioConfigInfo> = virtual_services
        .iter()
        .map(|o| (IstioKind::VirtualService, o))
        .chain(
            destination_rules
                .iter()
                .map(|o| (IstioKind::DestinationRule, o)),
        )
        .map(|(kind, object)| IstioConfigInfo {
            cluster: CLUSTER.into(),
            namespace: text(object, "/metadata/namespace"),
            name: text(object, "/metadata/name"),
            kind,
            hosts: IstioConfigInfo::hosts_of_spec(object.get("spec")),
            default_route: match kind {
                IstioKind::VirtualService => default_route(object),
                _ => Vec::new(),
            },
            spec: object.get("spec").map(|s| Arc::new(sanitize_json(s))),
        })
        .collect();
    listed.sort_by(|a, b| (a.kind, &a.namespace, &a.name).cmp(&(b.kind, &b.namespace, &b.name)));
    listed
}

impl DemoMesh {
    /// Reads the store when it changed, and rebuilds the plans when anything they depend
    /// on did.
    pub(super) fn read_rules(&mut self) {
        let read = {
            let mut store = self.rules.store.lock();
            store.set_now(self.now_unix_s());
            let revision = store.revision();
            (self.rules.revision != Some(revision)).then(|| {
                (
                    revision,
                    store.list("VirtualService"),
                    store.list("DestinationRule"),
                    OperationReporting::read(&store),
                )
            })
        };
        if let Some((revision, virtual_services, destination_rules, operations)) = read {
            self.rules.operations_everywhere =
                operations.everywhere(self.model.namespaces.iter().map(|(n, _)| n.as_str()));
            self.rules.operations = operations;
            self.inventory.istio_config = listed_config(&virtual_services, &destination_rules);
            self.rules.services = self
                .model
                .services
                .iter()
                .map(|service| {
                    let target = Target {
                        namespace: service.namespace.clone(),
                        service: service.name.clone(),
                    };
                    let kubernetes = service.kind == ServiceKind::Kubernetes;
                    kubernetes
                        .then(|| {
                            ServiceRules::for_service(
                                &target,
                                &virtual_services,
                                &destination_rules,
                            )
                        })
                        .flatten()
                })
                .collect();
            self.rules.revision = Some(revision);
            self.rules.stale = true;
        }
        if self.rules.stale {
            self.rebuild_plans();
            self.rules.stale = false;
        }
    }

    /// Callees first, so that each caller's plan knows the time its calls now add.
    fn rebuild_plans(&mut self) {
        let mut extra_ms = vec![0.0; self.model.workloads.len()];
        for &route_index in self.route_order.iter().rev() {
            let Some(route) = self.model.routes.get(route_index) else {
                continue;
            };
            let lanes = self.route_lanes[route_index].clone();
            let inputs = PlanInputs {
                model: &self.model,
                route,
                rules: self
                    .rules
                    .services
                    .get(route.service)
                    .and_then(Option::as_ref),
                classes: &self.rules.classes,
                ejected: self.rules.ejections.ejected(),
                extra_ms: &extra_ms,
                base: &self.base_plans[lanes],
            };
            let model = &self.model;
            let series = &mut self.series;
            let slots = &mut self.series_slot;
            let own = &mut self.route_series[route_index];
            let plan =
                build_route_plan(&inputs, &mut |key: &SeriesKey| match own.by_key.get(key) {
                    Some(range) => range.clone(),
                    None => make_series(model, route, key, series, slots, own),
                });
            if let (RouteLoad::PerInbound { calls_per_request }, Some(extra)) =
                (route.load, extra_ms.get_mut(route.client))
            {
                *extra += calls_per_request.min(2.0) * plan.added_ms;
            }
            self.plans[route_index] = plan;
        }
    }
}

/// Route indices ordered by their client's place in the call graph (Kahn's algorithm);
/// routes of workloads caught in a cycle come last, in index order.
pub(super) fn dependency_order(model: &MeshModel) -> Vec<usize> {
    let count = model.workloads.len();
    let mut callers_left = vec![0_usize; count];
    let mut calls: Vec<Vec<usize>> = vec![Vec::new(); count];
    for route in &model.routes {
        for backend in &route.backends {
            if backend.index < count && route.client < count {
                calls[route.client].push(backend.index);
                callers_left[backend.index] += 1;
            }
        }
    }
    let mut rank = vec![usize::MAX; count];
    let mut ready: Vec<usize> = (0..count).filter(|&w| callers_left[w] == 0).collect();
    let mut next_rank = 0;
    while let Some(workload) = ready.pop() {
        rank[workload] = next_rank;
        next_rank += 1;
        for &callee in &calls[workload] {
            callers_left[callee] -= 1;
            if callers_left[callee] == 0 {
                ready.push(callee);
            }
        }
    }
    let mut order: Vec<usize> = (0..model.routes.len()).collect();
    order.sort_by_key(|&r| {
        model.routes.get(r).map_or(usize::MAX, |route| {
            rank.get(route.client).copied().unwrap_or(usize::MAX)
        })
    });
    order
}
