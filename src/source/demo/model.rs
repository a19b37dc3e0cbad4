//! The demo mesh as data: workloads, services and the routes traffic takes between them.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::mesh::inventory::{GatewayRole, NamespaceInfo, PodInfo, PodPhase, WorkloadKind};
use crate::mesh::{
    EndpointInfo, EndpointSliceInfo, Inventory, Labels, Protocol, ServiceInfo, ServicePort,
    WorkloadInfo,
};

use super::latency::LatencyProfile;
use super::DemoError;

/// Istio's default cluster id (`global.multiCluster.clusterName`).
pub const CLUSTER: &str = "Kubernetes";

/// A deployment, or a client outside the mesh that the inventory does not list.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadSpec {
    pub namespace: String,
    pub name: String,
    pub app: Option<String>,
    pub version: Option<String>,
    /// Has an Envoy proxy: a sidecar, or a gateway (which is a proxy itself).
    pub sidecar: bool,
    pub gateway: Option<GatewayRole>,
    pub pods_ready: u32,
    pub pods_desired: u32,
    /// Listed in the inventory; `false` for callers and hosts outside the cluster.
    pub listed: bool,
    /// Time the workload spends on a request itself, before its own downstream calls.
    pub service_time: LatencyProfile,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceKind {
    Kubernetes,
    /// Declared by a ServiceEntry: known to Istio but outside the mesh.
    ServiceEntry,
    /// A host Istio does not know: traffic leaves through `PassthroughCluster`.
    Passthrough,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSpec {
    pub namespace: String,
    pub name: String,
    pub host: String,
    pub kind: ServiceKind,
    /// Indices of the workloads behind the service (its versions).
    pub backends: Vec<usize>,
}

/// How a route's request rate is driven.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RouteLoad {
    /// An entry point (gateway, load generator, outside client): noisy around this rate.
    Fixed { value: f64 },
    /// An internal call: this many calls per request the client workload receives, so
    /// traffic downstream follows whatever reaches the client (splits included).
    PerInbound { calls_per_request: f64 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// Method and path template, or the gRPC method, e.g. `GET /reviews/{id}`.
    pub name: String,
    pub weight: u32,
}

/// One way a request can fail; whatever is left over succeeds.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorOutcome {
    /// HTTP status; 0 when no response was sent.
    pub response_code: u16,
    pub grpc_status: Option<u32>,
    /// Envoy's response flags, `-` for none.
    pub flags: String,
    /// Nominal share of the route's requests (0..1); it wobbles from step to step.
    pub share: f64,
    /// Decided by the client's proxy (fault injection, circuit breaker): the request never
    /// reaches the server, so only `reporter="source"` sees it.
    pub source_only: bool,
    /// How much slower (or faster, below 1) than a successful request.
    pub latency_factor: f64,
}

/// A version of the service a route may send to.
#[derive(Debug, Clone, PartialEq)]
pub struct Backend {
    pub workload: String,
    pub version: Option<String>,
    /// Relative weight of the split; the route's backends need not sum to 100.
    pub weight: u32,
    /// Latency as seen by the server, its own synchronous calls included.
    pub latency: LatencyProfile,
    pub(super) index: usize,
}

/// TCP traffic has no requests; each simulated "exchange" moves this many bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TcpExchange {
    pub request_bytes: f64,
    pub response_bytes: f64,
}

/// Traffic from one client workload to one service, split over the service's versions.
/// Rules applied to the demo (splits now; faults and outlier detection later) change routes.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub client_namespace: String,
    pub client_workload: String,
    pub service_host: String,
    pub protocol: Protocol,
    pub load: RouteLoad,
    pub backends: Vec<Backend>,
    pub operations: Vec<Operation>,
    pub errors: Vec<ErrorOutcome>,
    /// Istio would use mutual TLS on this hop (both sides have proxies and no rule disables it).
    pub mtls: bool,
    /// Bytes per exchange when `protocol` is TCP.
    pub tcp: Option<TcpExchange>,
    pub(super) client: usize,
    pub(super) service: usize,
}

impl Route {
    pub fn total_weight(&self) -> u64 {
        self.backends.iter().map(|b| u64::from(b.weight)).sum()
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct MeshModel {
    pub workloads: Vec<WorkloadSpec>,
    pub services: Vec<ServiceSpec>,
    pub routes: Vec<Route>,
    /// Namespaces with the injection label, in the order they were first seen.
    pub namespaces: Vec<(String, bool)>,
}

/// What a topology asks for when it adds a route; the rest is filled in by [`MeshModel::route`].
#[derive(Debug, Clone)]
pub struct RouteDraft<'a> {
    pub protocol: Protocol,
    pub load: RouteLoad,
    pub operations: &'a [(&'a str, u32)],
    pub errors: Vec<ErrorOutcome>,
    pub mtls: bool,
}

impl<'a> RouteDraft<'a> {
    pub fn new(protocol: Protocol, load: RouteLoad, operations: &'a [(&'a str, u32)]) -> Self {
        RouteDraft {
            protocol,
            load,
            operations,
            errors: Vec::new(),
            mtls: true,
        }
    }

    pub fn error(mut self, outcome: ErrorOutcome) -> Self {
        self.errors.push(outcome);
        self
    }

    pub fn plain_text(mut self) -> Self {
        self.mtls = false;
        self
    }
}

impl ErrorOutcome {
    /// An error the server answers itself.
    pub fn server(response_code: u16, grpc_status: Option<u32>, share: f64) -> Self {
        ErrorOutcome {
            response_code,
            grpc_status,
            flags: "-".into(),
            share,
            source_only: false,
            latency_factor: 0.6,
        }
    }

    /// An error with Envoy response flags, e.g. `0 DC` or `503 UC`.
    pub fn flagged(response_code: u16, flags: &str, share: f64, source_only: bool) -> Self {
        ErrorOutcome {
            response_code,
            grpc_status: None,
            flags: flags.into(),
            share,
            source_only,
            latency_factor: 1.5,
        }
    }
}

impl MeshModel {
    pub fn namespace(&mut self, name: &str, injection_enabled: bool) {
        if !self.namespaces.iter().any(|(n, _)| n == name) {
            self.namespaces.push((name.to_string(), injection_enabled));
        }
    }

    pub fn add_workload(&mut self, spec: WorkloadSpec) -> usize {
        self.workloads.push(spec);
        self.workloads.len() - 1
    }

    pub fn add_service(&mut self, namespace: &str, name: &str, kind: ServiceKind) -> usize {
        let host = match kind {
            ServiceKind::Kubernetes => format!("{name}.{namespace}.svc.cluster.local"),
            ServiceKind::ServiceEntry | ServiceKind::Passthrough => name.to_string(),
        };
        self.services.push(ServiceSpec {
            namespace: namespace.to_string(),
            name: name.to_string(),
            host,
            kind,
            backends: Vec::new(),
        });
        self.services.len() - 1
    }

    /// Puts a workload behind a service (an extra version of it).
    pub fn serve(&mut self, service: usize, workload: usize) {
        if let Some(spec) = self.services.get_mut(service) {
            spec.backends.push(workload);
        }
    }

    /// Adds a route from `client` to every version of `service`, equally weighted.
    /// Indices come from `add_workload`/`add_service`; an unknown one adds nothing.
    pub fn route(&mut self, client: usize, service: usize, draft: RouteDraft<'_>) {
        let (Some(client_spec), Some(service_spec)) =
            (self.workloads.get(client), self.services.get(service))
        else {
            return;
        };
        let backends = service_spec
            .backends
            .iter()
            .filter_map(|&index| {
                let w = self.workloads.get(index)?;
                Some(Backend {
                    workload: w.name.clone(),
                    version: w.version.clone(),
                    weight: 1,
                    latency: w.service_time,
                    index,
                })
            })
            .collect();
        let route = Route {
            client_namespace: client_spec.namespace.clone(),
            client_workload: client_spec.name.clone(),
            service_host: service_spec.host.clone(),
            protocol: draft.protocol,
            load: draft.load,
            backends,
            operations: draft
                .operations
                .iter()
                .map(|&(name, weight)| Operation {
                    name: name.to_string(),
                    weight,
                })
                .collect(),
            errors: draft.errors,
            mtls: draft.mtls,
            tcp: (draft.protocol == Protocol::Tcp).then_some(TcpExchange {
                request_bytes: 350.0,
                response_bytes: 2400.0,
            }),
            client,
            service,
        };
        self.routes.push(route);
    }

    /// Sets every backend's latency to its own service time plus the calls it makes while
    /// serving, so a caller is slower than what it calls. Call once, after the last route.
    pub fn include_downstream_latency(&mut self) {
        let mut memo: Vec<Option<f64>> = vec![None; self.workloads.len()];
        let mut visiting = vec![false; self.workloads.len()];
        let mut calls: Vec<Vec<usize>> = vec![Vec::new(); self.workloads.len()];
        for (index, route) in self.routes.iter().enumerate() {
            if let Some(list) = calls.get_mut(route.client) {
                list.push(index);
            }
        }
        for index in 0..self.workloads.len() {
            self.effective_median(index, &calls, &mut memo, &mut visiting);
        }
        for route in &mut self.routes {
            for backend in &mut route.backends {
                if let (Some(Some(median)), Some(w)) =
                    (memo.get(backend.index), self.workloads.get(backend.index))
                {
                    backend.latency = LatencyProfile::new(*median, w.service_time.spread);
                }
            }
        }
    }

    fn effective_median(
        &self,
        index: usize,
        calls: &[Vec<usize>],
        memo: &mut Vec<Option<f64>>,
        visiting: &mut Vec<bool>,
    ) -> f64 {
        if let Some(Some(known)) = memo.get(index) {
            return *known;
        }
        let own = self
            .workloads
            .get(index)
            .map_or(0.0, |w| w.service_time.median_ms);
        // A call cycle would recurse forever; its closing edge counts as free instead.
        if visiting.get(index).copied().unwrap_or(true) {
            return own;
        }
        visiting[index] = true;
        let mut total = own;
        let own_routes = calls.get(index).map_or(&[][..], Vec::as_slice);
        for route in own_routes.iter().filter_map(|&r| self.routes.get(r)) {
            let RouteLoad::PerInbound { calls_per_request } = route.load else {
                continue;
            };
            let weight = route.total_weight().max(1) as f64;
            let mut expected = 0.0;
            for backend in &route.backends {
                let median = self.effective_median(backend.index, calls, memo, visiting);
                expected += median * f64::from(backend.weight) / weight;
            }
            // Overhead of the two proxies on the hop.
            total += calls_per_request.min(2.0) * (expected + 0.8);
        }
        visiting[index] = false;
        memo[index] = Some(total);
        total
    }

    /// Points every route to `service_host` at the named versions (or workloads) with the
    /// given weights; versions left out get no traffic.
    pub fn set_split(
        &mut self,
        service_host: &str,
        weights: &[(String, u32)],
    ) -> Result<(), DemoError> {
        let service = self
            .services
            .iter()
            .position(|s| s.host == service_host)
            .ok_or_else(|| DemoError::UnknownService(service_host.to_string()))?;
        let backends = self.services[service].backends.clone();
        let mut new_weights = vec![0_u32; backends.len()];
        for (target, weight) in weights {
            let slot = backends
                .iter()
                .position(|&w| {
                    self.workloads.get(w).is_some_and(|spec| {
                        spec.name == *target || spec.version.as_deref() == Some(target.as_str())
                    })
                })
                .ok_or_else(|| DemoError::UnknownBackend {
                    service: service_host.to_string(),
                    backend: target.clone(),
                })?;
            new_weights[slot] = new_weights[slot].saturating_add(*weight);
        }
        if new_weights.iter().all(|&w| w == 0) {
            return Err(DemoError::ZeroWeights(service_host.to_string()));
        }
        for route in self.routes.iter_mut().filter(|r| r.service == service) {
            for backend in &mut route.backends {
                if let Some(slot) = backends.iter().position(|&w| w == backend.index) {
                    backend.weight = new_weights[slot];
                }
            }
        }
        Ok(())
    }

    /// The inventory a cluster running this mesh would list, its pods started at
    /// deterministic times before `now_unix_s`.
    pub fn inventory(&self, now_unix_s: f64) -> Inventory {
        let namespaces = self
            .namespaces
            .iter()
            .map(|(name, injection_enabled)| NamespaceInfo {
                cluster: CLUSTER.into(),
                name: name.clone(),
                injection_enabled: *injection_enabled,
            })
            .collect();
        // One label map per workload, shared by the workload, its pods and its services.
        let labels: Vec<Labels> = self.workloads.iter().map(workload_labels).collect();
        let listed_kubernetes = |s: &&ServiceSpec| s.kind == ServiceKind::Kubernetes;
        let mut services: Vec<ServiceInfo> = Vec::with_capacity(self.services.len());
        let mut endpoints = Vec::new();
        for (index, s) in self.services.iter().enumerate() {
            if s.kind == ServiceKind::Passthrough {
                continue;
            }
            let kubernetes = listed_kubernetes(&s);
            let selector = if kubernetes {
                self.selector(s)
            } else {
                Labels::default()
            };
            let ports = if kubernetes {
                vec![self.service_port(index)]
            } else {
                Vec::new()
            };
            if kubernetes {
                endpoints.push(self.endpoint_slice(s));
            }
            services.push(ServiceInfo {
                cluster: CLUSTER.into(),
                namespace: s.namespace.clone(),
                name: s.name.clone(),
                host: s.host.clone(),
                external: s.kind == ServiceKind::ServiceEntry,
                ports,
                selector,
            });
        }
        let workloads = self
            .workloads
            .iter()
            .zip(&labels)
            .filter(|(w, _)| w.listed)
            .map(|(w, labels)| WorkloadInfo {
                cluster: CLUSTER.into(),
                namespace: w.namespace.clone(),
                name: w.name.clone(),
                kind: WorkloadKind::Deployment,
                app: w.app.clone(),
                version: w.version.clone(),
                version_label: w.version.as_ref().map(|_| DEMO_VERSION_LABEL.into()),
                sidecar_injected: w.sidecar,
                gateway: w.gateway,
                pods_ready: w.pods_ready,
                pods_desired: w.pods_desired,
                labels: Labels::clone(labels),
            })
            .collect();
        let pods = self
            .workloads
            .iter()
            .enumerate()
            .zip(&labels)
            .filter(|((_, w), _)| w.listed)
            .flat_map(|((index, w), labels)| demo_pods(index, w, labels, now_unix_s))
            .collect();
        Inventory {
            namespaces,
            services,
            workloads,
            pods,
            endpoints,
            ..Inventory::default()
        }
    }

    /// `app: <name>` when every version of the service shares its app label, as
    /// Kubernetes manifests usually write it.
    fn selector(&self, service: &ServiceSpec) -> Labels {
        let mut apps = service
            .backends
            .iter()
            .filter_map(|&b| self.workloads.get(b))
            .map(|w| w.app.as_deref());
        match apps.next() {
            Some(Some(app)) if apps.all(|other| other == Some(app)) => {
                Arc::new(BTreeMap::from([("app".to_owned(), app.to_owned())]))
            }
            _ => Labels::default(),
        }
    }

    /// The port the service is called on, by the protocol its callers use.
    fn service_port(&self, service: usize) -> ServicePort {
        let protocol = self
            .routes
            .iter()
            .find(|r| r.service == service)
            .map_or(Protocol::Http, |r| r.protocol);
        let (name, port) = match protocol {
            Protocol::Http => ("http", 9080),
            Protocol::Grpc => ("grpc", 9090),
            Protocol::Tcp => ("tcp", 5432),
        };
        ServicePort {
            name: Some(name.to_owned()),
            port,
            target_port: port.to_string(),
            protocol: "TCP".to_owned(),
        }
    }

    /// One slice per service: every pod of its versions, ready or not.
    fn endpoint_slice(&self, service: &ServiceSpec) -> EndpointSliceInfo {
        let endpoints = service
            .backends
            .iter()
            .filter_map(|&b| self.workloads.get(b).map(|w| (b, w)))
            .filter(|(_, w)| w.listed)
            .flat_map(|(index, w)| {
                (0..w.pods_desired).map(move |pod| EndpointInfo {
                    addresses: vec![pod_ip(index, pod)],
                    ready: pod < w.pods_ready,
                    pod: Some(pod_name(w, pod)),
                    node: Some(node_name(index, pod)),
                })
            })
            .collect();
        EndpointSliceInfo {
            cluster: CLUSTER.into(),
            namespace: service.namespace.clone(),
            name: format!("{}-demo", service.name),
            service: service.name.clone(),
            endpoints,
        }
    }
}

fn workload_labels(w: &WorkloadSpec) -> Labels {
    let mut labels = BTreeMap::new();
    if let Some(app) = &w.app {
        labels.insert("app".to_owned(), app.clone());
    }
    if let Some(version) = &w.version {
        labels.insert("version".to_owned(), version.clone());
    }
    if w.gateway.is_some() {
        labels.insert("istio".to_owned(), "ingressgateway".to_owned());
    }
    Arc::new(labels)
}

/// Pods spread over three nodes, as a small cluster would run them.
fn node_name(workload: usize, pod: u32) -> String {
    format!("demo-node-{}", (workload + pod as usize) % 3 + 1)
}

/// A pod address in 10.244.0.0/16, unique per workload and replica.
fn pod_ip(workload: usize, pod: u32) -> String {
    let n = workload * 4 + pod as usize + 2;
    format!("10.244.{}.{}", (n / 250) % 256, n % 250 + 2)
}

fn pod_name(w: &WorkloadSpec, pod: u32) -> String {
    format!("{}-{pod}", w.name)
}

/// The label the demo's pods carry their version in, as Bookinfo's do.
const DEMO_VERSION_LABEL: &str = "version";

/// The proxy version the demo's sidecars claim to run.
const DEMO_PROXY_VERSION: &str = "1.22.0";

/// One pod per desired replica; those beyond the ready count are still starting. Ages
/// vary from minutes to days, the same in every run.
fn demo_pods<'a>(
    index: usize,
    w: &'a WorkloadSpec,
    labels: &'a Labels,
    now_unix_s: f64,
) -> impl Iterator<Item = PodInfo> + 'a {
    (0..w.pods_desired).map(move |pod| {
        let ready = pod < w.pods_ready;
        let age_s = if ready {
            3_600.0 * (1 + (index * 7 + pod as usize * 13) % 190) as f64
        } else {
            45.0
        };
        PodInfo {
            cluster: CLUSTER.into(),
            namespace: w.namespace.clone(),
            name: pod_name(w, pod),
            workload: Some(w.name.clone()),
            app: w.app.clone(),
            version: w.version.clone(),
            version_label: w.version.as_ref().map(|_| DEMO_VERSION_LABEL.into()),
            sidecar_injected: w.sidecar,
            proxy_version: w.sidecar.then(|| DEMO_PROXY_VERSION.to_string()),
            phase: if ready {
                PodPhase::Running
            } else {
                PodPhase::Pending
            },
            ready,
            restarts: if ready { 0 } else { 3 },
            node: Some(node_name(index, pod)),
            started_at_unix_s: Some(now_unix_s - age_s),
            ip: Some(pod_ip(index, pod)),
            labels: Labels::clone(labels),
        }
    })
}
