//! The pure simulator: route rates that wander, counters that only grow, and snapshots of
//! the rates over the window. No tokio and no wall clock: time is a step counter.
//!
//! Each step reads the routing rules from the demo's store; what they make of each route
//! is a [`RoutePlan`], rebuilt when the rules or the ejected hosts change. Every lane
//! remembers the plan each step used, so window rates stay exact across a change.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use fastrand::Rng;

use crate::mesh::operations::{inbound_operations, OperationsOutcome, WorkloadRef};
use crate::mesh::{Inventory, Protocol, SampleLabels, TrafficSample};
use crate::source::MeshSnapshot;

use super::lane_plan::{LanePlan, StepConditions};
use super::latency::BucketShares;
use super::model::{MeshModel, Route, RouteLoad, TcpExchange};
use super::outlier::Ejections;
use super::plans::{dependency_order, make_series, Rules};
use super::requests::request_classes;
use super::route_plan::RoutePlan;
use super::series::{base_flows, Series, SeriesCounters, SeriesKey};
use super::store::RuleStore;
use super::writer::DemoWriter;
use super::{synthetic, topology, window, DemoError, DemoOptions};

/// What one lane did in one step, and under which plan.
#[derive(Debug, Clone)]
pub(super) struct LaneStep {
    pub requests: f64,
    pub error_factor: f64,
    pub overflow: f64,
    pub plan: Arc<LanePlan>,
}

/// Traffic from a route to one of its backends, or (unrouted) what its client's proxy
/// answered itself.
#[derive(Debug, Clone)]
pub(super) struct Lane {
    /// Multiplier of the route's error shares; wanders around 1.
    error_factor: f64,
    /// The last `window_steps` steps, oldest overwritten first.
    pub history: Vec<LaneStep>,
}

/// The series of one route, and which key made which.
#[derive(Debug, Clone, Default)]
pub(super) struct RouteSeries {
    /// Indices into the mesh's series, ascending.
    pub indices: Vec<usize>,
    pub by_key: HashMap<SeriesKey, Range<usize>>,
}

/// A simulated Istio mesh. The same options give the same snapshots, byte for byte.
#[derive(Debug, Clone)]
pub struct DemoMesh {
    pub(super) model: MeshModel,
    /// Its Istio config follows the rule store (see `read_rules`).
    pub(super) inventory: Inventory,
    pub(super) tick_s: f64,
    window: Duration,
    pub(super) window_steps: usize,
    start_unix_s: f64,
    steps_since_start: u64,
    /// Steps taken, the window's warm-up included: the clock of outlier detection.
    advanced: u64,
    /// Ring position of the newest step in every lane's history.
    cursor: usize,
    rng: Rng,
    /// Routes ordered so that everything reaching a workload is computed before its own calls.
    pub(super) route_order: Vec<usize>,
    pub(super) route_lanes: Vec<Range<usize>>,
    /// Per-route multiplier of the nominal rate; wanders around 1.
    route_noise: Vec<f64>,
    pub(super) lanes: Vec<Lane>,
    /// Per route: what its client's proxy answered itself, once it ever did.
    pub(super) unrouted: Vec<Option<Lane>>,
    pub(super) series: Vec<Series>,
    /// Per series: its position among its route's series.
    pub(super) series_slot: Vec<usize>,
    pub(super) route_series: Vec<RouteSeries>,
    /// Per lane: its plan without rules.
    pub(super) base_plans: Vec<Arc<LanePlan>>,
    empty_plan: Arc<LanePlan>,
    pub(super) plans: Vec<RoutePlan>,
    pub(super) rules: Rules,
    /// Requests per second reaching each workload in the current step.
    inbound: Vec<f64>,
}

/// Roughly standard normal (sum of four uniforms): cheap and deterministic.
fn gaussian(rng: &mut Rng) -> f64 {
    (rng.f64() + rng.f64() + rng.f64() + rng.f64() - 2.0) * 3.0_f64.sqrt()
}

/// One step of a mean-reverting walk around 1, kept inside `bounds`.
fn wander(value: f64, sigma: f64, bounds: (f64, f64), rng: &mut Rng) -> f64 {
    (value + 0.15 * (1.0 - value) + sigma * gaussian(rng)).clamp(bounds.0, bounds.1)
}

impl DemoMesh {
    /// Builds the mesh and runs one window of steps, so the first snapshot already has
    /// rates over a full window. Simulated time then stands at `options.start_unix_s`.
    /// Its routing rules start empty, in a store of its own.
    pub fn new(options: DemoOptions) -> Self {
        let store = RuleStore::new(options.seed, options.start_unix_s);
        DemoMesh::with_store(options, store)
    }

    /// A mesh whose traffic follows the rules in `store` (shared with a writer).
    pub fn with_store(options: DemoOptions, store: RuleStore) -> Self {
        let model = match options.services {
            Some(services) => synthetic::synthetic_mesh(services, options.seed),
            None => topology::default_mesh(),
        };
        let tick = options.tick.max(Duration::from_millis(1));
        let window = options.window.max(tick);
        let window_steps = (window.as_secs_f64() / tick.as_secs_f64()).round().max(1.0) as usize;

        let mut lanes = Vec::new();
        let mut series = Vec::new();
        let mut series_slot = Vec::new();
        let mut route_series = Vec::with_capacity(model.routes.len());
        let mut base_plans = Vec::new();
        let mut route_lanes = Vec::with_capacity(model.routes.len());
        for route in &model.routes {
            let first_lane = lanes.len();
            let mut own = RouteSeries::default();
            for backend in 0..route.backends.len() {
                let flows = base_flows(&model, route, backend)
                    .into_iter()
                    .map(|flow| {
                        let range = make_series(
                            &model,
                            route,
                            &flow.key,
                            &mut series,
                            &mut series_slot,
                            &mut own,
                        );
                        super::lane_plan::Flow::new(
                            range,
                            flow.latency,
                            super::lane_plan::FlowShare::Base(flow.outcome),
                        )
                    })
                    .collect();
                let plan = Arc::new(LanePlan {
                    flows,
                    streams: Vec::new(),
                });
                lanes.push(Lane::new(window_steps, &plan));
                base_plans.push(plan);
            }
            route_series.push(own);
            route_lanes.push(first_lane..lanes.len());
        }
        let route_order = dependency_order(&model);
        let inventory = model.inventory(options.start_unix_s);
        {
            let mut store = store.lock();
            store.set_inventory(inventory.clone());
            let namespaces: Vec<String> = model.namespaces.iter().map(|(n, _)| n.clone()).collect();
            super::telemetry::seed(&mut store, &namespaces);
        }
        let mut mesh = DemoMesh {
            inventory,
            inbound: vec![0.0; model.workloads.len()],
            route_noise: vec![1.0; model.routes.len()],
            unrouted: vec![None; model.routes.len()],
            plans: vec![RoutePlan::default(); model.routes.len()],
            rules: Rules {
                store,
                revision: None,
                services: vec![None; model.services.len()],
                ejections: Ejections::new(&model),
                classes: request_classes(),
                stale: true,
                operations: Default::default(),
                operations_everywhere: true,
            },
            model,
            tick_s: tick.as_secs_f64(),
            window,
            window_steps,
            start_unix_s: options.start_unix_s,
            steps_since_start: 0,
            advanced: 0,
            cursor: 0,
            rng: Rng::with_seed(options.seed),
            route_order,
            route_lanes,
            lanes,
            series,
            series_slot,
            route_series,
            base_plans,
            empty_plan: Arc::new(LanePlan::default()),
        };
        for _ in 0..window_steps {
            mesh.advance();
        }
        mesh
    }

    /// Advances simulated time by one tick.
    pub fn step(&mut self) {
        self.steps_since_start += 1;
        self.advance();
    }

    pub fn now_unix_s(&self) -> f64 {
        self.start_unix_s + self.steps_since_start as f64 * self.tick_s
    }

    pub fn routes(&self) -> &[Route] {
        &self.model.routes
    }

    /// A writer of routing rules into this mesh's store: what it applies, the next steps
    /// follow.
    pub fn writer(&self) -> DemoWriter {
        DemoWriter::new(self.rules.store.clone(), false)
    }

    /// Changes the split of every route to `service_host` from the next step on, where no
    /// VirtualService says otherwise. `weights` name versions (`v1`) or workloads
    /// (`reviews-v1`); unnamed ones get 0.
    pub fn set_split(
        &mut self,
        service_host: &str,
        weights: &[(String, u32)],
    ) -> Result<(), DemoError> {
        self.model.set_split(service_host, weights)?;
        self.rules.stale = true;
        Ok(())
    }

    pub fn inventory(&self) -> Inventory {
        self.inventory.clone()
    }

    /// Every series that has seen traffic, with its totals since the start (for `/metrics`).
    pub fn counters(&self) -> impl Iterator<Item = (&SampleLabels, &SeriesCounters)> {
        self.series
            .iter()
            .filter(|s| window::has_traffic(&s.counters))
            .map(|s| (&s.labels, &s.counters))
    }

    /// Rates over the window for every series that has seen traffic, with the inventory:
    /// what Prometheus would answer, so operations only where a Telemetry labels them.
    pub fn snapshot(&self) -> MeshSnapshot {
        let mut snapshot = self.proxy_traffic();
        self.without_unreported_operations(&mut snapshot.samples);
        snapshot
    }

    /// The same as [`DemoMesh::snapshot`], with the operation of every request whether or
    /// not a metric labels it: what the proxies see and write to their access logs.
    pub fn proxy_traffic(&self) -> MeshSnapshot {
        let samples = window::samples(self, |_| true);
        let inventory = self.inventory.clone();
        MeshSnapshot {
            taken_at_unix_s: self.now_unix_s(),
            window: self.window,
            samples,
            inventory,
            inventory_stale_since_unix_s: None,
        }
    }

    /// Takes the operation off what proxies that do not label it reported.
    fn without_unreported_operations(&self, samples: &mut [TrafficSample]) {
        if self.rules.operations_everywhere {
            return;
        }
        for sample in samples {
            if !self.rules.operations.labels(&sample.labels) {
                sample.labels.operation = None;
            }
        }
    }

    /// Whether the proxy that reports `labels` writes their operation.
    pub(super) fn labels_operation(&self, labels: &SampleLabels) -> bool {
        self.rules.operations_everywhere || self.rules.operations.labels(labels)
    }

    /// The inbound traffic of `workload` by operation read from `label`, over the window,
    /// as Prometheus would answer it from `/metrics` (only the demo's proxies' label is
    /// ever written).
    pub fn inbound_operations(&self, workload: &WorkloadRef, label: &str) -> OperationsOutcome {
        let Some(index) = self
            .model
            .workloads
            .iter()
            .position(|w| w.name == workload.name && w.namespace == workload.namespace)
        else {
            return OperationsOutcome::NoTraffic;
        };
        let mut samples = window::samples(self, |route| {
            route.backends.iter().any(|b| b.index == index)
        });
        self.without_unreported_operations(&mut samples);
        if label != super::telemetry::DEMO_OPERATION_LABEL {
            for sample in &mut samples {
                sample.labels.operation = None;
            }
        }
        inbound_operations(&samples, workload)
    }

    pub(super) fn client_has_proxy(&self, route: &Route) -> bool {
        self.model
            .workloads
            .get(route.client)
            .is_some_and(|w| w.sidecar)
    }

    fn advance(&mut self) {
        self.read_rules();
        self.advanced += 1;
        self.cursor = (self.cursor + 1) % self.window_steps;
        self.inbound.fill(0.0);
        let mut lane_rates = Vec::new();
        let mut overflow = Vec::new();
        let mut shares = Vec::new();
        for order in 0..self.route_order.len() {
            let route_index = self.route_order[order];
            let Some(route) = self.model.routes.get(route_index) else {
                continue;
            };
            let noise = &mut self.route_noise[route_index];
            let rate = match route.load {
                RouteLoad::Fixed { value } => {
                    *noise = wander(*noise, 0.05, (0.6, 1.5), &mut self.rng);
                    value * *noise
                }
                RouteLoad::PerInbound { calls_per_request } => {
                    *noise = wander(*noise, 0.03, (0.8, 1.25), &mut self.rng);
                    let inbound = self.inbound.get(route.client).copied().unwrap_or(0.0);
                    inbound * calls_per_request * *noise
                }
            }
            .max(0.0);
            let plan = &self.plans[route_index];
            let total_weight = route.total_weight() as f64;
            lane_rates.clear();
            lane_rates.extend(route.backends.iter().enumerate().map(|(lane, backend)| {
                match &plan.lane_shares {
                    Some(shares) => rate * shares.get(lane).copied().unwrap_or(0.0),
                    None if total_weight > 0.0 => rate * f64::from(backend.weight) / total_weight,
                    None => 0.0,
                }
            }));
            plan.overflow(&lane_rates, &mut overflow);
            let client_has_proxy = self
                .model
                .workloads
                .get(route.client)
                .is_some_and(|w| w.sidecar);
            let lanes = self.route_lanes[route_index].clone();
            for (slot, lane) in self.lanes[lanes].iter_mut().enumerate() {
                let Some(backend) = route.backends.get(slot) else {
                    continue;
                };
                let lane_rate = lane_rates.get(slot).copied().unwrap_or(0.0);
                lane.error_factor = wander(lane.error_factor, 0.06, (0.7, 1.3), &mut self.rng);
                let lane_plan = plan.lanes.get(slot).unwrap_or(&self.empty_plan);
                let step = LaneStep {
                    requests: lane_rate * self.tick_s,
                    error_factor: lane.error_factor,
                    overflow: overflow.get(slot).copied().unwrap_or(0.0),
                    plan: Arc::clone(lane_plan),
                };
                let at = StepConditions {
                    error_factor: step.error_factor,
                    overflow: step.overflow,
                    client_has_proxy,
                };
                let reaching = if lane_plan.streams.is_empty() {
                    lane_rate
                } else {
                    let (attempts, failures) = lane_plan.server_load(route, at);
                    let served = step.requests * attempts;
                    self.rules
                        .ejections
                        .record(backend.index, served, step.requests * failures);
                    lane_rate * attempts
                };
                if let Some(inbound) = self.inbound.get_mut(backend.index) {
                    *inbound += reaching;
                }
                lane_plan.shares(route, at, &mut shares);
                count_step(&mut self.series, route, &step, &shares);
                lane.history[self.cursor] = step;
            }
            if plan.unrouted.is_some() || self.unrouted[route_index].is_some() {
                let unrouted_plan = plan.unrouted.as_ref().unwrap_or(&self.empty_plan);
                let lane = self.unrouted[route_index]
                    .get_or_insert_with(|| Lane::new(self.window_steps, &self.empty_plan));
                let step = LaneStep {
                    requests: if plan.unrouted.is_some() {
                        rate * self.tick_s
                    } else {
                        0.0
                    },
                    error_factor: 1.0,
                    overflow: 0.0,
                    plan: Arc::clone(unrouted_plan),
                };
                let at = StepConditions {
                    error_factor: 1.0,
                    overflow: 0.0,
                    client_has_proxy,
                };
                unrouted_plan.shares(route, at, &mut shares);
                count_step(&mut self.series, route, &step, &shares);
                lane.history[self.cursor] = step;
            }
        }
        let now_s = self.advanced as f64 * self.tick_s;
        let services = &self.rules.services;
        let detection = |service: usize| {
            let rules = services.get(service)?.as_ref()?;
            rules
                .policy
                .outlier
                .or_else(|| rules.subsets.iter().find_map(|s| s.policy.outlier))
        };
        if self.rules.ejections.update(&self.model, detection, now_s) {
            self.rules.stale = true;
        }
    }
}

impl Lane {
    fn new(window_steps: usize, plan: &Arc<LanePlan>) -> Self {
        Lane {
            error_factor: 1.0,
            history: vec![
                LaneStep {
                    requests: 0.0,
                    error_factor: 0.0,
                    overflow: 0.0,
                    plan: Arc::clone(plan),
                };
                window_steps
            ],
        }
    }
}

/// Adds one step's requests to the counters of every flow's series.
fn count_step(series: &mut [Series], route: &Route, step: &LaneStep, shares: &[f64]) {
    for (flow, share) in step.plan.flows.iter().zip(shares) {
        for one in &mut series[flow.series.clone()] {
            let requests = step.requests * one.operation_share * share;
            count(one, route, requests, &flow.bucket_shares, flow.mean_ms);
        }
    }
}

fn count(series: &mut Series, route: &Route, requests: f64, buckets: &BucketShares, mean_ms: f64) {
    let counters = &mut series.counters;
    counters.requests += requests;
    match (route.protocol, route.tcp) {
        (Protocol::Tcp, Some(tcp)) => {
            counters.tcp_sent_bytes += requests * tcp.response_bytes;
            counters.tcp_received_bytes += requests * tcp.request_bytes;
        }
        (Protocol::Tcp, None) => {}
        _ => {
            for (bucket, share) in counters.duration_buckets.iter_mut().zip(buckets) {
                *bucket += requests * share;
            }
            counters.duration_sum_ms += requests * mean_ms;
        }
    }
}

/// Bytes per exchange of a TCP route (none when it has no profile).
pub(super) fn tcp_exchange(route: &Route) -> TcpExchange {
    route.tcp.unwrap_or(TcpExchange {
        request_bytes: 0.0,
        response_bytes: 0.0,
    })
}
