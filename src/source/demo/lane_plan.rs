//! How the requests of one lane (a route's version) end, as a list of flows: each flow
//! feeds the series of one outcome as one reporter sees it, with one latency profile.
//! A plan holds while the rules and ejections stay put; each step records the plan it
//! used, so that window rates stay exact when the rules change.

use std::ops::Range;

use super::fate::{End, Ends, Fate};
use super::latency::{BucketShares, LatencyProfile};
use super::model::Route;
use super::series::outcome_possible;

/// Where a flow's share of the lane's requests comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FlowShare {
    /// The route's own outcome, as without rules.
    Base(Option<usize>),
    /// A constant share of the lane's requests.
    Fixed(f64),
    /// Rejected by the client's connection pool (`UO`).
    Overflow { stream: usize },
    /// Requests of a stream ending so for the client; `weight` is the part of the stream
    /// this flow's latency applies to (the delayed part, or the rest).
    Final {
        stream: usize,
        end: End,
        weight: f64,
    },
    /// Attempts of a stream the server saw end so.
    Attempts { stream: usize, end: End },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    /// The series it feeds, one per operation, contiguous.
    pub series: Range<usize>,
    pub bucket_shares: BucketShares,
    pub mean_ms: f64,
    pub share: FlowShare,
}

impl Flow {
    pub fn new(series: Range<usize>, latency: LatencyProfile, share: FlowShare) -> Self {
        Flow {
            series,
            bucket_shares: latency.bucket_shares(),
            mean_ms: latency.mean_ms(),
            share,
        }
    }
}

/// The lane's requests that one route rule sends through one cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct Stream {
    /// Share of the lane's requests.
    pub share: f64,
    pub fate: Fate,
    /// Index of the cluster (connection pool) in the route's plan.
    pub cluster: usize,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct LanePlan {
    pub flows: Vec<Flow>,
    pub streams: Vec<Stream>,
}

/// Share of a lane's requests that end in `outcome` when error shares are scaled by
/// `error_factor`. Errors never take more than 95 % together.
pub fn outcome_share(
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

/// One step's conditions: what wanders, and what the pool did.
#[derive(Debug, Clone, Copy)]
pub struct StepConditions {
    pub error_factor: f64,
    /// Share of the lane's requests its client's pool rejected.
    pub overflow: f64,
    pub client_has_proxy: bool,
}

impl LanePlan {
    fn stream_ends(&self, route: &Route, at: StepConditions) -> Vec<Ends> {
        if self.streams.is_empty() {
            return Vec::new();
        }
        let outcomes: Vec<f64> = std::iter::once(None)
            .chain((0..route.errors.len()).map(Some))
            .map(|o| outcome_share(route, o, at.error_factor, at.client_has_proxy))
            .collect();
        self.streams
            .iter()
            .map(|s| s.fate.ends(&outcomes))
            .collect()
    }

    /// Each flow's share of the lane's requests this step, in flow order.
    pub fn shares(&self, route: &Route, at: StepConditions, out: &mut Vec<f64>) {
        out.clear();
        let ends = self.stream_ends(route, at);
        let passed = 1.0 - at.overflow;
        // Both reporters see the same outcomes: work each out once.
        let mut known = [None; 8];
        for flow in &self.flows {
            let stream = |s: usize| self.streams.get(s).map_or(0.0, |s| s.share);
            let share = match flow.share {
                FlowShare::Base(outcome) => {
                    let share =
                        || outcome_share(route, outcome, at.error_factor, at.client_has_proxy);
                    match known.get_mut(outcome.map_or(0, |o| o + 1)) {
                        Some(slot) => *slot.get_or_insert_with(share),
                        None => share(),
                    }
                }
                FlowShare::Fixed(share) => share,
                FlowShare::Overflow { stream: s } => stream(s) * at.overflow,
                FlowShare::Final {
                    stream: s,
                    end,
                    weight,
                } => {
                    let request = ends.get(s).map_or(0.0, |e| e.request_share(end));
                    stream(s) * passed * weight * request
                }
                FlowShare::Attempts { stream: s, end } => {
                    let attempt = ends.get(s).map_or(0.0, |e| e.attempt_share(end));
                    stream(s) * passed * attempt
                }
            };
            out.push(share);
        }
    }

    /// Attempts that reach the server per request routed to the lane, and how many of them
    /// fail with a 5xx or a timeout (what outlier detection counts).
    pub fn server_load(&self, route: &Route, at: StepConditions) -> (f64, f64) {
        if self.streams.is_empty() {
            return (1.0, 0.0);
        }
        let ends = self.stream_ends(route, at);
        let passed = 1.0 - at.overflow;
        let mut attempts = 0.0;
        let mut failing = 0.0;
        for (stream, ends) in self.streams.iter().zip(&ends) {
            let reaching = stream.share * passed;
            attempts += reaching * ends.attempts;
            failing += reaching * ends.attempt_share(End::Cut);
            for (o, error) in route.errors.iter().enumerate() {
                if !error.source_only && (500..=599).contains(&error.response_code) {
                    failing += reaching * ends.attempt_share(End::Outcome(Some(o)));
                }
            }
        }
        (attempts, failing)
    }
}
