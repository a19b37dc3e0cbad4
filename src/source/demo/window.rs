//! Rates over the window, recomputed from what each lane did in each step and under which
//! plan: the same numbers the counters grew by, so `rate()` over `/metrics` agrees.

use std::sync::Arc;

use crate::mesh::{Protocol, SampleKind, TrafficSample};

use super::lane_plan::{LanePlan, StepConditions};
use super::latency::DURATION_BOUNDS_MS;
use super::model::Route;
use super::series::{Series, SeriesCounters};
use super::simulate::{tcp_exchange, DemoMesh, Lane};

pub fn has_traffic(counters: &SeriesCounters) -> bool {
    counters.requests > 0.0
}

/// A series' rates over the window.
#[derive(Debug, Clone, Copy, Default)]
struct WindowRates {
    requests: f64,
    buckets: [f64; DURATION_BOUNDS_MS.len()],
}

fn samples_per_series(protocol: Protocol) -> usize {
    match protocol {
        Protocol::Tcp => 2,
        // Requests, the finite buckets and +Inf.
        _ => DURATION_BOUNDS_MS.len() + 2,
    }
}

/// The samples of the routes `keep` keeps (every sample of the mesh when it keeps all),
/// route by route, each route's series in the order made.
pub fn samples(mesh: &DemoMesh, keep: impl Fn(&Route) -> bool) -> Vec<TrafficSample> {
    // Sized up front: at ten thousand workloads the samples take hundreds of megabytes,
    // and growing the vector would copy them several times.
    let capacity = mesh
        .model
        .routes
        .iter()
        .zip(&mesh.route_series)
        .filter(|(route, _)| keep(route))
        .flat_map(|(_, own)| own.indices.iter().filter_map(|&i| mesh.series.get(i)))
        .filter(|s| has_traffic(&s.counters))
        .map(|s| samples_per_series(s.labels.protocol))
        .sum();
    let mut samples = Vec::with_capacity(capacity);
    let window_s = mesh.window_steps as f64 * mesh.tick_s;
    let mut rates: Vec<WindowRates> = Vec::new();
    let mut shares = Vec::new();
    for (route_index, route) in mesh.model.routes.iter().enumerate() {
        let Some(own) = mesh.route_series.get(route_index).filter(|_| keep(route)) else {
            continue;
        };
        rates.clear();
        rates.resize(own.indices.len(), WindowRates::default());
        let client_has_proxy = mesh.client_has_proxy(route);
        let lanes = mesh.route_lanes[route_index].clone();
        let unrouted = mesh.unrouted.get(route_index).and_then(Option::as_ref);
        for lane in mesh.lanes[lanes].iter().chain(unrouted) {
            let context = Context {
                route,
                client_has_proxy,
                window_s,
                series: &mesh.series,
                slots: &mesh.series_slot,
            };
            add_lane(&context, lane, &mut rates, &mut shares);
        }
        for (slot, &index) in own.indices.iter().enumerate() {
            let (Some(series), Some(rates)) = (mesh.series.get(index), rates.get(slot)) else {
                continue;
            };
            if has_traffic(&series.counters) {
                push_samples(&mut samples, series, route, rates);
            }
        }
    }
    samples
}

struct Context<'m> {
    route: &'m Route,
    client_has_proxy: bool,
    window_s: f64,
    series: &'m [Series],
    slots: &'m [usize],
}

/// Adds a lane's window to its series' rates: steps under one plan are added up first, in
/// ring order, then spread over the plan's flows and their operations.
fn add_lane(context: &Context<'_>, lane: &Lane, rates: &mut [WindowRates], shares: &mut Vec<f64>) {
    let mut groups: Vec<(&Arc<LanePlan>, Vec<f64>)> = Vec::new();
    for step in &lane.history {
        let group = match groups
            .iter()
            .position(|(plan, _)| Arc::ptr_eq(plan, &step.plan))
        {
            Some(group) => group,
            None => {
                groups.push((&step.plan, vec![0.0; step.plan.flows.len()]));
                groups.len() - 1
            }
        };
        let at = StepConditions {
            error_factor: step.error_factor,
            overflow: step.overflow,
            client_has_proxy: context.client_has_proxy,
        };
        step.plan.shares(context.route, at, shares);
        let totals = &mut groups[group].1;
        for (total, share) in totals.iter_mut().zip(shares.iter()) {
            *total += step.requests * share;
        }
    }
    for (plan, totals) in groups {
        for (flow, total) in plan.flows.iter().zip(totals) {
            for index in flow.series.clone() {
                let (Some(series), Some(&slot)) =
                    (context.series.get(index), context.slots.get(index))
                else {
                    continue;
                };
                let Some(window) = rates.get_mut(slot) else {
                    continue;
                };
                let rate = total * series.operation_share / context.window_s;
                window.requests += rate;
                for (bucket, share) in window.buckets.iter_mut().zip(flow.bucket_shares) {
                    *bucket += rate * share;
                }
            }
        }
    }
}

/// The samples of one series: requests and the 20 duration buckets for HTTP and gRPC,
/// sent and received bytes for TCP.
fn push_samples(
    samples: &mut Vec<TrafficSample>,
    series: &Series,
    route: &Route,
    rates: &WindowRates,
) {
    let mut push = |kind: SampleKind, value: f64| {
        samples.push(TrafficSample {
            kind,
            labels: series.labels.clone(),
            value,
        });
    };
    let rate = rates.requests;
    if route.protocol == Protocol::Tcp {
        let tcp = tcp_exchange(route);
        push(SampleKind::TcpSentBytes, rate * tcp.response_bytes);
        push(SampleKind::TcpReceivedBytes, rate * tcp.request_bytes);
        return;
    }
    push(SampleKind::Requests, rate);
    for (le_ms, bucket) in DURATION_BOUNDS_MS.iter().zip(rates.buckets) {
        push(SampleKind::DurationBucket { le_ms: *le_ms }, bucket);
    }
    push(
        SampleKind::DurationBucket {
            le_ms: f64::INFINITY,
        },
        rate,
    );
}
