//! What the rules make of one route (a client's traffic to one service): which share of
//! its requests each version gets through which rule and cluster, what the client's proxy
//! answers itself, and from that (see `lane_flows`) the flows of each version. Rules apply only where the client has a proxy, as in Istio; a
//! VirtualService bound to the mesh does not route an ingress gateway's traffic, while the
//! DestinationRule's policy does apply to it.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use crate::mesh::Protocol;

use super::fate::overflow_share;
use super::lane_flows::{delay_variants, grpc_for, server_latency, Draft, FlowMaker, LocalReplies};
use super::lane_plan::{Flow, FlowShare, LanePlan};
use super::model::{MeshModel, Route, WorkloadSpec};
use super::requests::RequestClass;
use super::routing::{
    AbortCode, Client, DestinationTarget, Fault, HttpRoute, Retries, ServiceRules, TrafficPolicy,
};
use super::series::{base_flows, SeriesKey};

#[derive(Debug, Clone, Default)]
pub struct RoutePlan {
    /// Share of the route's requests each lane gets; `None`: by the backends' weights.
    pub lane_shares: Option<Vec<f64>>,
    pub lanes: Vec<Arc<LanePlan>>,
    /// What the client's proxy answers before picking a version (faults, no route).
    pub unrouted: Option<Arc<LanePlan>>,
    /// Connection-pool capacity of each cluster the lanes' streams go through.
    pub clusters: Vec<Option<u64>>,
    /// Mean server time per lane, in seconds: how long a request holds a connection.
    pub lane_hold_s: Vec<f64>,
    /// Pods of the client, each with its own proxy and pools.
    pub client_pods: f64,
    /// Time the rules add, on average, to what the client waits for this route.
    pub added_ms: f64,
}

impl RoutePlan {
    /// Share of each lane's requests its client's pool rejects, given the lane rates.
    pub fn overflow(&self, lane_rates: &[f64], out: &mut Vec<f64>) {
        out.clear();
        out.resize(self.lanes.len(), 0.0);
        if self.clusters.iter().all(Option::is_none) {
            return;
        }
        // Requests each client pod's pool would hold on average if it rejected none.
        let mut in_flight = vec![0.0; self.clusters.len()];
        for (lane, plan) in self.lanes.iter().enumerate() {
            let rate = lane_rates.get(lane).copied().unwrap_or(0.0);
            let hold = self.lane_hold_s.get(lane).copied().unwrap_or(0.0);
            for stream in &plan.streams {
                if let Some(slot) = in_flight.get_mut(stream.cluster) {
                    *slot += rate * stream.share * hold / self.client_pods.max(1.0);
                }
            }
        }
        let rejected: Vec<f64> = self
            .clusters
            .iter()
            .zip(&in_flight)
            .map(|(capacity, load)| capacity.map_or(0.0, |c| overflow_share(*load, c)))
            .collect();
        for (slot, plan) in out.iter_mut().zip(&self.lanes) {
            *slot = plan
                .streams
                .iter()
                .map(|s| s.share * rejected.get(s.cluster).copied().unwrap_or(0.0))
                .sum();
        }
    }
}

/// What a route plan is built from.
pub struct PlanInputs<'a> {
    pub model: &'a MeshModel,
    pub route: &'a Route,
    pub rules: Option<&'a ServiceRules>,
    pub classes: &'a [RequestClass],
    /// Per workload of the model: pods outlier detection has ejected.
    pub ejected: &'a [u32],
    /// Per workload of the model: time its own calls add to its answers.
    pub extra_ms: &'a [f64],
    /// The lanes' plans without rules, reused when nothing changes them.
    pub base: &'a [Arc<LanePlan>],
}

/// Splits a route's requests over its rules, clusters and versions.
struct Splitter<'a> {
    inputs: &'a PlanInputs<'a>,
    client: &'a WorkloadSpec,
    client_labels: BTreeMap<String, String>,
    lane_shares: Vec<f64>,
    drafts: Vec<Vec<Draft>>,
    clusters: Vec<(String, Option<u64>)>,
    local: LocalReplies,
    added_ms: f64,
}

/// The plan of `inputs.route`; `book` finds or makes the series of a key on the route.
pub fn build_route_plan<F>(inputs: &PlanInputs<'_>, book: &mut F) -> RoutePlan
where
    F: FnMut(&SeriesKey) -> Range<usize>,
{
    let route = inputs.route;
    let extra = |lane: usize| -> f64 {
        route
            .backends
            .get(lane)
            .and_then(|b| inputs.extra_ms.get(b.index))
            .copied()
            .unwrap_or(0.0)
    };
    let default_shares = weight_shares(route, |_| true);
    let downstream: f64 = default_shares
        .iter()
        .enumerate()
        .map(|(lane, share)| share * extra(lane))
        .sum();
    let Some(client) = inputs.model.workloads.get(route.client) else {
        return RoutePlan::default();
    };
    let applicable = inputs
        .rules
        .filter(|_| client.sidecar && route.protocol != Protocol::Tcp);
    let hold: Vec<f64> = (0..route.backends.len())
        .map(|lane| server_latency(route, lane, extra(lane)).mean_ms() / 1000.0)
        .collect();
    let Some(rules) = applicable else {
        let shifted = (0..route.backends.len()).any(|lane| extra(lane) > 0.0);
        let lanes = if shifted && route.protocol != Protocol::Tcp {
            (0..route.backends.len())
                .map(|lane| Arc::new(shifted_base_plan(inputs, book, lane, extra(lane))))
                .collect()
        } else {
            inputs.base.to_vec()
        };
        return RoutePlan {
            lane_shares: None,
            lanes,
            unrouted: None,
            clusters: Vec::new(),
            lane_hold_s: hold,
            client_pods: f64::from(client.pods_ready.max(1)),
            added_ms: downstream,
        };
    };
    let mut splitter = Splitter {
        inputs,
        client,
        client_labels: workload_labels(client),
        lane_shares: vec![0.0; route.backends.len()],
        drafts: (0..route.backends.len()).map(|_| Vec::new()).collect(),
        clusters: Vec::new(),
        local: LocalReplies::new(),
        added_ms: 0.0,
    };
    let http: Vec<HttpRoute> = match (&rules.http, client.gateway) {
        // A mesh VirtualService does not route a gateway's traffic.
        (Some(http), None) => http.clone(),
        _ => vec![default_http_route()],
    };
    splitter.route_requests(rules, &http);
    let pooled: Vec<bool> = splitter.clusters.iter().map(|(_, c)| c.is_some()).collect();
    let mut maker = FlowMaker {
        model: inputs.model,
        route,
        book,
    };
    let lanes = (0..route.backends.len())
        .map(|lane| {
            let share = splitter.lane_shares.get(lane).copied().unwrap_or(0.0);
            let drafts = std::mem::take(&mut splitter.drafts[lane]);
            let plan = maker.lane_plan(&http, lane, extra(lane), share, drafts, &pooled);
            Arc::new(plan)
        })
        .collect();
    let unrouted = maker.unrouted_plan(std::mem::take(&mut splitter.local));
    let downstream: f64 = splitter
        .lane_shares
        .iter()
        .enumerate()
        .map(|(lane, share)| share * extra(lane))
        .sum();
    RoutePlan {
        lane_shares: Some(splitter.lane_shares),
        lanes,
        unrouted,
        clusters: splitter.clusters.into_iter().map(|(_, c)| c).collect(),
        lane_hold_s: hold,
        client_pods: f64::from(client.pods_ready.max(1)),
        added_ms: splitter.added_ms + downstream,
    }
}

fn default_http_route() -> HttpRoute {
    HttpRoute {
        matches: Vec::new(),
        destinations: vec![super::routing::Destination {
            target: DestinationTarget::Service { subset: None },
            weight: 0.0,
        }],
        fault: Fault::default(),
        timeout_ms: None,
        retries: Retries::default(),
    }
}

fn workload_labels(workload: &WorkloadSpec) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    if let Some(app) = &workload.app {
        labels.insert("app".to_owned(), app.clone());
    }
    if let Some(version) = &workload.version {
        labels.insert("version".to_owned(), version.clone());
    }
    labels
}

/// The backends' weights (the split without rules) among the lanes `keep` selects.
fn weight_shares(route: &Route, keep: impl Fn(usize) -> bool) -> Vec<f64> {
    let weights: Vec<f64> = route
        .backends
        .iter()
        .enumerate()
        .map(|(lane, b)| if keep(lane) { f64::from(b.weight) } else { 0.0 })
        .collect();
    let total: f64 = weights.iter().sum();
    if total > 0.0 {
        return weights.iter().map(|w| w / total).collect();
    }
    // Weights only split the versions without rules; a subset of unweighted versions
    // still shares its traffic.
    let kept = (0..weights.len()).filter(|&lane| keep(lane)).count();
    (0..weights.len())
        .map(|lane| if keep(lane) { 1.0 / kept as f64 } else { 0.0 })
        .collect()
}

/// The base flows, slower by what the server's own calls now add.
fn shifted_base_plan<F>(
    inputs: &PlanInputs<'_>,
    book: &mut F,
    lane: usize,
    extra_ms: f64,
) -> LanePlan
where
    F: FnMut(&SeriesKey) -> Range<usize>,
{
    let flows = base_flows(inputs.model, inputs.route, lane)
        .into_iter()
        .map(|flow| {
            Flow::new(
                book(&flow.key),
                flow.latency.delayed(extra_ms),
                FlowShare::Base(flow.outcome),
            )
        })
        .collect();
    LanePlan {
        flows,
        streams: Vec::new(),
    }
}

impl Splitter<'_> {
    fn local_reply(&mut self, code: u16, flags: &'static str, delay_ms: f64, share: f64) {
        if share <= 0.0 {
            return;
        }
        let grpc = grpc_for(self.inputs.route.protocol, code);
        *self
            .local
            .entry((code, grpc, flags, delay_ms.to_bits()))
            .or_default() += share;
    }

    /// Splits the route's requests over its rules and versions.
    fn route_requests(&mut self, rules: &ServiceRules, http: &[HttpRoute]) {
        let labels = self.client_labels.clone();
        let client = Client {
            namespace: &self.client.namespace,
            labels: &labels,
        };
        let mut per_rule = vec![0.0; http.len()];
        for class in self.inputs.classes {
            match http.iter().position(|r| r.matches(class, client)) {
                Some(rule) => per_rule[rule] += class.share,
                // A VirtualService exists and no route matches: Envoy answers 404 NR.
                None => self.local_reply(404, "NR", 0.0, class.share),
            }
        }
        for (index, (rule, share)) in http.iter().zip(per_rule).enumerate() {
            if share > 0.0 {
                self.route_rule(rules, index, rule, share);
            }
        }
    }

    fn route_rule(&mut self, rules: &ServiceRules, index: usize, rule: &HttpRoute, share: f64) {
        let (delay_share, delay_ms) = rule.fault.delay.unwrap_or((0.0, 0.0));
        self.added_ms += share * delay_share * delay_ms;
        let (abort_share, passed) = match rule.fault.abort {
            Some((abort_share, code)) => {
                let aborted = share * abort_share;
                let (code, grpc) = match code {
                    AbortCode::Http(code) => (code, grpc_for(self.inputs.route.protocol, code)),
                    AbortCode::Grpc(status) => (200, Some(status)),
                };
                for (part, delay) in delay_variants(delay_share, delay_ms) {
                    *self
                        .local
                        .entry((code, grpc, "FI", delay.to_bits()))
                        .or_default() += aborted * part;
                }
                (abort_share, share - aborted)
            }
            None => (0.0, share),
        };
        if passed <= 0.0 || abort_share >= 1.0 {
            return;
        }
        let total_weight: f64 = rule.destinations.iter().map(|d| d.weight.max(0.0)).sum();
        if rule.destinations.is_empty() {
            // A redirect or direct response: not simulated, answered as no route.
            self.local_reply(404, "NR", 0.0, passed);
            return;
        }
        for destination in &rule.destinations {
            let part = if total_weight > 0.0 {
                destination.weight.max(0.0) / total_weight
            } else {
                1.0 / rule.destinations.len() as f64
            };
            let amount = passed * part;
            match &destination.target {
                DestinationTarget::Elsewhere => self.local_reply(503, "NC", 0.0, amount),
                DestinationTarget::Service { subset: None } => {
                    self.send(index, "", &rules.policy, None, amount)
                }
                DestinationTarget::Service { subset: Some(name) } => match rules.subset(name) {
                    Some(subset) => {
                        let labels = subset.labels.clone();
                        self.send(index, name, &subset.policy, Some(&labels), amount)
                    }
                    // A subset no DestinationRule defines is a cluster Envoy does not have.
                    None => self.local_reply(503, "NC", 0.0, amount),
                },
            }
        }
    }

    /// Sends `amount` of the route's requests to the versions a cluster selects.
    fn send(
        &mut self,
        rule: usize,
        cluster: &str,
        policy: &TrafficPolicy,
        labels: Option<&BTreeMap<String, String>>,
        amount: f64,
    ) {
        let model = self.inputs.model;
        let route = self.inputs.route;
        let workload = |lane: usize| route.backends.get(lane).map(|b| b.index);
        let selected = |lane: usize| {
            let Some(spec) = workload(lane).and_then(|w| model.workloads.get(w)) else {
                return false;
            };
            let own = workload_labels(spec);
            labels.is_none_or(|want| want.iter().all(|(k, v)| own.get(k) == Some(v)))
        };
        let ready = |lane: usize| {
            workload(lane)
                .and_then(|w| model.workloads.get(w))
                .map_or(0, |w| w.pods_ready)
        };
        let ejected = |lane: usize| {
            workload(lane)
                .and_then(|w| self.inputs.ejected.get(w))
                .copied()
                .unwrap_or(0)
        };
        let weights = weight_shares(route, selected);
        let all_ready: u32 = (0..weights.len()).filter(|&l| selected(l)).map(ready).sum();
        let healthy: u32 = (0..weights.len())
            .filter(|&l| selected(l))
            .map(|l| ready(l).saturating_sub(ejected(l)))
            .sum();
        let min_health = policy.outlier.map_or(0.0, |o| o.min_health_percent);
        // Below minHealthPercent Envoy stops ejecting and uses every host.
        let ignore_ejections = min_health > 0.0
            && f64::from(healthy) * 100.0 < min_health * f64::from(all_ready.max(1));
        let usable: Vec<f64> = weights
            .iter()
            .enumerate()
            .map(|(lane, w)| {
                let pods = ready(lane);
                if pods == 0 {
                    return 0.0;
                }
                let up = if ignore_ejections {
                    pods
                } else {
                    pods.saturating_sub(ejected(lane))
                };
                w * f64::from(up) / f64::from(pods)
            })
            .collect();
        let total: f64 = usable.iter().sum();
        if total <= 0.0 {
            // No endpoint left: Envoy answers 503 UH (no healthy upstream).
            self.local_reply(503, "UH", 0.0, amount);
            return;
        }
        let cluster_index = match self.clusters.iter().position(|(name, _)| name == cluster) {
            Some(index) => index,
            None => {
                self.clusters
                    .push((cluster.to_owned(), policy.pool.capacity()));
                self.clusters.len() - 1
            }
        };
        for (lane, share) in usable.iter().enumerate() {
            if *share <= 0.0 {
                continue;
            }
            let part = amount * share / total;
            self.lane_shares[lane] += part;
            self.drafts[lane].push(Draft {
                rule,
                cluster: cluster_index,
                amount: part,
            });
        }
    }
}
