//! The flows of one lane under rules: for each stream (a route rule's requests through
//! one cluster), what the client's proxy reports (answers, timeouts, pool overflow, with
//! and without an injected delay) and what the server's reports (every attempt); and the
//! flows of what the client's proxy answers itself.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use crate::mesh::{Protocol, Reporter};

use super::fate::{End, Fate};
use super::lane_plan::{Flow, FlowShare, LanePlan, Stream};
use super::latency::LatencyProfile;
use super::model::{MeshModel, Route};
use super::routing::HttpRoute;
use super::series::{outcome_labels, reported_latency, SeriesKey};

/// How long the client's proxy takes to answer a request itself.
pub const LOCAL_REPLY: LatencyProfile = LatencyProfile::new(0.3, 0.3);
const GRPC_UNAVAILABLE: u32 = 14;

/// The share of a route's requests sent through one route rule to one lane.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub rule: usize,
    pub cluster: usize,
    pub amount: f64,
}

/// The local replies of the client's proxy, by labels: (code, gRPC status, flags, delay
/// in ms as bits), with their share of the route's requests.
pub type LocalReplies = BTreeMap<(u16, Option<u32>, &'static str, u64), f64>;

/// Makes the flows of one route; `book` finds or makes the series of a key on it.
pub struct FlowMaker<'a, 'b, F> {
    pub model: &'a MeshModel,
    pub route: &'a Route,
    pub book: &'b mut F,
}

/// A version's own time on a request, plus what its calls now add.
pub fn server_latency(route: &Route, lane: usize, extra_ms: f64) -> LatencyProfile {
    route
        .backends
        .get(lane)
        .map_or(LOCAL_REPLY, |b| b.latency)
        .delayed(extra_ms)
}

/// The gRPC status Envoy sends with an HTTP status it answers itself.
pub fn grpc_for(protocol: Protocol, code: u16) -> Option<u32> {
    (protocol == Protocol::Grpc).then_some(match code {
        400 => 13,
        401 => 16,
        403 => 7,
        404 => 12,
        429 | 502..=504 => GRPC_UNAVAILABLE,
        _ => 2,
    })
}

impl<F> FlowMaker<'_, '_, F>
where
    F: FnMut(&SeriesKey) -> Range<usize>,
{
    /// The flows of one lane: `share` of the route's requests reach it, in `drafts`
    /// through the rules of `http`; `pooled` tells which clusters limit their pool.
    pub fn lane_plan(
        &mut self,
        http: &[HttpRoute],
        lane: usize,
        extra_ms: f64,
        share: f64,
        drafts: Vec<Draft>,
        pooled: &[bool],
    ) -> LanePlan {
        let mut plan = LanePlan::default();
        if share <= 0.0 {
            return plan;
        }
        let route = self.route;
        let Some(backend) = route.backends.get(lane) else {
            return plan;
        };
        let server_has_proxy = self
            .model
            .workloads
            .get(backend.index)
            .is_some_and(|w| w.sidecar);
        let server = server_latency(route, lane, extra_ms);
        let client_view = reported_latency(server, Reporter::Source);
        for draft in drafts {
            let Some(rule) = http.get(draft.rule) else {
                continue;
            };
            let (fate, cut_after_ms) = fate_of(route, rule, client_view);
            let stream = plan.streams.len();
            plan.streams.push(Stream {
                share: draft.amount / share,
                fate,
                cluster: draft.cluster,
            });
            if pooled.get(draft.cluster).copied().unwrap_or(false) {
                let grpc = grpc_for(route.protocol, 503);
                let key = self.key(Reporter::Source, None, 503, grpc, "UO");
                let series = (self.book)(&key);
                plan.flows.push(Flow::new(
                    series,
                    LOCAL_REPLY,
                    FlowShare::Overflow { stream },
                ));
            }
            let (delay_share, delay_ms) = rule.fault.delay.unwrap_or((0.0, 0.0));
            for (weight, delay) in delay_variants(delay_share, delay_ms) {
                self.client_flows(&mut plan, stream, backend.index, server, weight, delay);
                if let Some(after) = cut_after_ms {
                    let grpc = grpc_for(route.protocol, 504);
                    let key = self.key(Reporter::Source, Some(backend.index), 504, grpc, "UT");
                    let series = (self.book)(&key);
                    let latency = LatencyProfile::new(after, 0.02).delayed(delay);
                    let end = End::Cut;
                    let share = FlowShare::Final {
                        stream,
                        end,
                        weight,
                    };
                    plan.flows.push(Flow::new(series, latency, share));
                }
            }
            if server_has_proxy {
                self.server_flows(&mut plan, stream, backend.index, server, cut_after_ms);
            }
        }
        plan
    }

    fn key(
        &self,
        reporter: Reporter,
        destination: Option<usize>,
        code: u16,
        grpc: Option<u32>,
        flags: &str,
    ) -> SeriesKey {
        SeriesKey {
            reporter,
            destination,
            response_code: code,
            grpc_status: grpc,
            flags: flags.to_owned(),
        }
    }

    /// What the client's proxy reports for requests the version answered.
    fn client_flows(
        &mut self,
        plan: &mut LanePlan,
        stream: usize,
        workload: usize,
        server: LatencyProfile,
        weight: f64,
        delay_ms: f64,
    ) {
        let route = self.route;
        let outcomes = std::iter::once(None).chain((0..route.errors.len()).map(Some));
        for outcome in outcomes {
            let error = outcome.and_then(|o| route.errors.get(o));
            let (code, grpc, flags) = outcome_labels(route, outcome);
            let key = self.key(Reporter::Source, Some(workload), code, grpc, &flags);
            let latency = reported_latency(server, Reporter::Source)
                .scaled(error.map_or(1.0, |e| e.latency_factor))
                .delayed(delay_ms);
            let series = (self.book)(&key);
            let end = End::Outcome(outcome);
            let share = FlowShare::Final {
                stream,
                end,
                weight,
            };
            plan.flows.push(Flow::new(series, latency, share));
        }
    }

    /// What the server's proxy reports: every attempt, and cut ones as `0 DC`.
    fn server_flows(
        &mut self,
        plan: &mut LanePlan,
        stream: usize,
        workload: usize,
        server: LatencyProfile,
        cut_after_ms: Option<f64>,
    ) {
        let route = self.route;
        for outcome in std::iter::once(None).chain((0..route.errors.len()).map(Some)) {
            let error = outcome.and_then(|o| route.errors.get(o));
            if error.is_some_and(|e| e.source_only) {
                continue;
            }
            let (code, grpc, flags) = outcome_labels(route, outcome);
            let key = self.key(Reporter::Destination, Some(workload), code, grpc, &flags);
            let latency = server.scaled(error.map_or(1.0, |e| e.latency_factor));
            let series = (self.book)(&key);
            let end = End::Outcome(outcome);
            plan.flows.push(Flow::new(
                series,
                latency,
                FlowShare::Attempts { stream, end },
            ));
        }
        if let Some(after) = cut_after_ms {
            let grpc = (route.protocol == Protocol::Grpc).then_some(1);
            let key = self.key(Reporter::Destination, Some(workload), 0, grpc, "DC");
            let series = (self.book)(&key);
            let latency = LatencyProfile::new(after, 0.02);
            let end = End::Cut;
            plan.flows.push(Flow::new(
                series,
                latency,
                FlowShare::Attempts { stream, end },
            ));
        }
    }

    /// What the client's proxy answers itself, before picking a version.
    pub fn unrouted_plan(&mut self, local: LocalReplies) -> Option<Arc<LanePlan>> {
        if local.is_empty() {
            return None;
        }
        let mut plan = LanePlan::default();
        for ((code, grpc, flags, delay_bits), share) in local {
            let key = self.key(Reporter::Source, None, code, grpc, flags);
            let series = (self.book)(&key);
            let latency = LOCAL_REPLY.delayed(f64::from_bits(delay_bits));
            plan.flows
                .push(Flow::new(series, latency, FlowShare::Fixed(share)));
        }
        Some(Arc::new(plan))
    }
}

/// The delayed part of a stream and the rest, each with its delay; parts of nothing left out.
pub fn delay_variants(delay_share: f64, delay_ms: f64) -> Vec<(f64, f64)> {
    let delayed = if delay_ms > 0.0 { delay_share } else { 0.0 };
    [(1.0 - delayed, 0.0), (delayed, delay_ms)]
        .into_iter()
        .filter(|(part, _)| *part > 0.0)
        .collect()
}

/// The timeouts and retries of a rule for a version answering within `client_view`, and
/// after how long a cut request ends (`None` without a timeout).
fn fate_of(route: &Route, rule: &HttpRoute, client_view: LatencyProfile) -> (Fate, Option<f64>) {
    let outcomes = route.errors.len() + 1;
    let mut fate = Fate::plain(outcomes);
    let slower_than = |ms: f64| (1.0 - client_view.cdf(ms)).clamp(0.0, 1.0);
    let per_try = rule
        .retries
        .per_try_timeout_ms
        .filter(|_| rule.retries.attempts > 0);
    let cut_after = match (rule.timeout_ms, per_try) {
        (Some(total), Some(each)) if each < total => {
            fate.cut_try = slower_than(each);
            Some(each)
        }
        (Some(total), _) => {
            fate.cut_total = slower_than(total);
            Some(total)
        }
        (None, Some(each)) => {
            fate.cut_try = slower_than(each);
            Some(each)
        }
        (None, None) => None,
    };
    fate.retries = rule.retries.attempts;
    fate.retry_cut = rule.retries.retry_on.retries_timeouts();
    for o in 0..route.errors.len() {
        let (code, grpc, flags) = outcome_labels(route, Some(o));
        if let Some(slot) = fate.retry_outcome.get_mut(o + 1) {
            *slot = rule.retries.retry_on.retries(code, grpc, &flags);
        }
    }
    let cut = fate.cut_try + fate.cut_total;
    (fate, cut_after.filter(|_| cut > 0.0))
}
