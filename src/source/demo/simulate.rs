//! The pure simulator: route rates that wander, counters that only grow, and snapshots of
//! the rates over the window. No tokio and no wall clock: time is a step counter.

use std::ops::Range;
use std::time::Duration;

use fastrand::Rng;

use crate::mesh::{Inventory, Protocol, SampleKind, SampleLabels, TrafficSample};
use crate::source::MeshSnapshot;

use super::latency::DURATION_BOUNDS_MS;
use super::model::{MeshModel, Route, RouteLoad, TcpExchange};
use super::series::{lane_series, outcome_possible, Series, SeriesCounters};
use super::{synthetic, topology, DemoError, DemoOptions};

/// What one lane did in one step. Window rates are recomputed from these with the route's
/// current error and latency profiles, which is exact while those stay put; rules that
/// change them (fault injection) will have to record which profile each step used.
#[derive(Debug, Clone, Copy, Default)]
struct LaneStep {
    requests: f64,
    error_factor: f64,
}

/// Traffic from a route to one of its backends.
#[derive(Debug, Clone)]
struct Lane {
    route: usize,
    backend: usize,
    /// Multiplier of the route's error shares; wanders around 1.
    error_factor: f64,
    /// The last `window_steps` steps, oldest overwritten first.
    history: Vec<LaneStep>,
    series: Range<usize>,
}

/// A simulated Istio mesh. The same options give the same snapshots, byte for byte.
#[derive(Debug, Clone)]
pub struct DemoMesh {
    model: MeshModel,
    inventory: Inventory,
    tick_s: f64,
    window: Duration,
    window_steps: usize,
    start_unix_s: f64,
    steps_since_start: u64,
    /// Ring position of the newest step in every lane's history.
    cursor: usize,
    rng: Rng,
    /// Routes ordered so that everything reaching a workload is computed before its own calls.
    route_order: Vec<usize>,
    route_lanes: Vec<Range<usize>>,
    /// Per-route multiplier of the nominal rate; wanders around 1.
    route_noise: Vec<f64>,
    lanes: Vec<Lane>,
    series: Vec<Series>,
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

/// Share of a lane's requests that end in `outcome` when error shares are scaled by
/// `error_factor`. Errors never take more than 95 % together.
fn outcome_share(
    route: &Route,
    outcome: Option<usize>,
    error_factor: f64,
    client_has_proxy: bool,
) -> f64 {
    let possible = |o: usize| outcome_possible(route, Some(o), client_has_proxy);
    let errors: f64 = (0..route.errors.len())
        .filter(|&o| possible(o))
        .filter_map(|o| route.errors.get(o))
        .map(|e| e.share.max(0.0) * error_factor)
        .sum();
    let scale = if errors > 0.95 { 0.95 / errors } else { 1.0 };
    match outcome {
        None => 1.0 - errors * scale,
        Some(o) if possible(o) => route
            .errors
            .get(o)
            .map_or(0.0, |e| e.share.max(0.0) * error_factor * scale),
        Some(_) => 0.0,
    }
}

impl DemoMesh {
    /// Builds the mesh and runs one window of steps, so the first snapshot already has
    /// rates over a full window. Simulated time then stands at `options.start_unix_s`.
    pub fn new(options: DemoOptions) -> Self {
        let model = match options.services {
            Some(services) => synthetic::synthetic_mesh(services, options.seed),
            None => topology::default_mesh(),
        };
        let tick = options.tick.max(Duration::from_millis(1));
        let window = options.window.max(tick);
        let window_steps = (window.as_secs_f64() / tick.as_secs_f64()).round().max(1.0) as usize;

        let mut lanes = Vec::new();
        let mut series = Vec::new();
        let mut route_lanes = Vec::with_capacity(model.routes.len());
        for (route_index, route) in model.routes.iter().enumerate() {
            let first_lane = lanes.len();
            for backend in 0..route.backends.len() {
                let first = series.len();
                series.extend(lane_series(&model, route, backend));
                lanes.push(Lane {
                    route: route_index,
                    backend,
                    error_factor: 1.0,
                    history: vec![LaneStep::default(); window_steps],
                    series: first..series.len(),
                });
            }
            route_lanes.push(first_lane..lanes.len());
        }
        let route_order = dependency_order(&model);
        let mut mesh = DemoMesh {
            inventory: model.inventory(),
            inbound: vec![0.0; model.workloads.len()],
            route_noise: vec![1.0; model.routes.len()],
            model,
            tick_s: tick.as_secs_f64(),
            window,
            window_steps,
            start_unix_s: options.start_unix_s,
            steps_since_start: 0,
            cursor: 0,
            rng: Rng::with_seed(options.seed),
            route_order,
            route_lanes,
            lanes,
            series,
        };
        for _ in 0..window_steps {
            mesh.advance();
        }
        mesh
    }

    /// Advances simulated time by one tick.
    pub fn step(&mut self) {
        self.advance();
        self.steps_since_start += 1;
    }

    pub fn now_unix_s(&self) -> f64 {
        self.start_unix_s + self.steps_since_start as f64 * self.tick_s
    }

    pub fn routes(&self) -> &[Route] {
        &self.model.routes
    }

    /// Changes the split of every route to `service_host` from the next step on.
    /// `weights` name versions (`v1`) or workloads (`reviews-v1`); unnamed ones get 0.
    pub fn set_split(
        &mut self,
        service_host: &str,
        weights: &[(String, u32)],
    ) -> Result<(), DemoError> {
        self.model.set_split(service_host, weights)
    }

    pub fn inventory(&self) -> Inventory {
        self.inventory.clone()
    }

    /// Every series that has seen traffic, with its totals since the start (for `/metrics`).
    pub fn counters(&self) -> impl Iterator<Item = (&SampleLabels, &SeriesCounters)> {
        self.series
            .iter()
            .filter(|s| has_traffic(&s.counters))
            .map(|s| (&s.labels, &s.counters))
    }

    fn advance(&mut self) {
        self.cursor = (self.cursor + 1) % self.window_steps;
        self.inbound.fill(0.0);
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
            let total_weight = route.total_weight() as f64;
            let client_has_proxy = self
                .model
                .workloads
                .get(route.client)
                .is_some_and(|w| w.sidecar);
            for lane in &mut self.lanes[self.route_lanes[route_index].clone()] {
                let Some(backend) = route.backends.get(lane.backend) else {
                    continue;
                };
                let lane_rate = if total_weight > 0.0 {
                    rate * f64::from(backend.weight) / total_weight
                } else {
                    0.0
                };
                lane.error_factor = wander(lane.error_factor, 0.06, (0.7, 1.3), &mut self.rng);
                let step = LaneStep {
                    requests: lane_rate * self.tick_s,
                    error_factor: lane.error_factor,
                };
                lane.history[self.cursor] = step;
                if let Some(inbound) = self.inbound.get_mut(backend.index) {
                    *inbound += lane_rate;
                }
                for series in &mut self.series[lane.series.clone()] {
                    let requests = step.requests
                        * series.operation_share
                        * outcome_share(route, series.outcome, step.error_factor, client_has_proxy);
                    count(series, route, requests);
                }
            }
        }
    }

    /// Rates over the window for every series that has seen traffic, with the inventory.
    pub fn snapshot(&self) -> MeshSnapshot {
        let window_s = self.window_steps as f64 * self.tick_s;
        // Sized up front: at ten thousand workloads the samples take hundreds of megabytes,
        // and growing the vector would copy them several times.
        let capacity = self
            .series
            .iter()
            .filter(|s| has_traffic(&s.counters))
            .map(|s| samples_per_series(s.labels.protocol))
            .sum();
        let mut samples = Vec::with_capacity(capacity);
        let mut outcome_totals: Vec<f64> = Vec::new();
        for lane in &self.lanes {
            let Some(route) = self.model.routes.get(lane.route) else {
                continue;
            };
            let client_has_proxy = self
                .model
                .workloads
                .get(route.client)
                .is_some_and(|w| w.sidecar);
            // Requests per outcome over the window, from the same steps the counters saw.
            outcome_totals.clear();
            for outcome in std::iter::once(None).chain((0..route.errors.len()).map(Some)) {
                let total: f64 = lane
                    .history
                    .iter()
                    .map(|step| {
                        step.requests
                            * outcome_share(route, outcome, step.error_factor, client_has_proxy)
                    })
                    .sum();
                outcome_totals.push(total);
            }
            for series in &self.series[lane.series.clone()] {
                if !has_traffic(&series.counters) {
                    continue;
                }
                let slot = series.outcome.map_or(0, |o| o + 1);
                let in_window = outcome_totals.get(slot).copied().unwrap_or(0.0);
                let rate = in_window * series.operation_share / window_s;
                push_samples(&mut samples, series, route, rate);
            }
        }
        MeshSnapshot {
            taken_at_unix_s: self.now_unix_s(),
            window: self.window,
            samples,
            inventory: self.inventory.clone(),
            inventory_stale_since_unix_s: None,
        }
    }
}

fn has_traffic(counters: &SeriesCounters) -> bool {
    counters.requests > 0.0
}

fn count(series: &mut Series, route: &Route, requests: f64) {
    let counters = &mut series.counters;
    counters.requests += requests;
    match (route.protocol, route.tcp) {
        (Protocol::Tcp, Some(tcp)) => {
            counters.tcp_sent_bytes += requests * tcp.response_bytes;
            counters.tcp_received_bytes += requests * tcp.request_bytes;
        }
        (Protocol::Tcp, None) => {}
        _ => {
            for (bucket, share) in counters
                .duration_buckets
                .iter_mut()
                .zip(series.bucket_shares)
            {
                *bucket += requests * share;
            }
            counters.duration_sum_ms += requests * series.mean_ms;
        }
    }
}

fn samples_per_series(protocol: Protocol) -> usize {
    match protocol {
        Protocol::Tcp => 2,
        // Requests, the finite buckets and +Inf.
        _ => DURATION_BOUNDS_MS.len() + 2,
    }
}

/// The samples of one series: requests and the 20 duration buckets for HTTP and gRPC,
/// sent and received bytes for TCP.
fn push_samples(samples: &mut Vec<TrafficSample>, series: &Series, route: &Route, rate: f64) {
    let mut push = |kind: SampleKind, value: f64| {
        samples.push(TrafficSample {
            kind,
            labels: series.labels.clone(),
            value,
        });
    };
    if route.protocol == Protocol::Tcp {
        let tcp = route.tcp.unwrap_or(TcpExchange {
            request_bytes: 0.0,
            response_bytes: 0.0,
        });
        push(SampleKind::TcpSentBytes, rate * tcp.response_bytes);
        push(SampleKind::TcpReceivedBytes, rate * tcp.request_bytes);
        return;
    }
    push(SampleKind::Requests, rate);
    for (le_ms, share) in DURATION_BOUNDS_MS.iter().zip(series.bucket_shares) {
        push(SampleKind::DurationBucket { le_ms: *le_ms }, rate * share);
    }
    push(
        SampleKind::DurationBucket {
            le_ms: f64::INFINITY,
        },
        rate,
    );
}

/// Route indices ordered by their client's place in the call graph (Kahn's algorithm);
/// routes of workloads caught in a cycle come last, in index order.
fn dependency_order(model: &MeshModel) -> Vec<usize> {
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
