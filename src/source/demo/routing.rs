//! The VirtualService and DestinationRule of a demo service, read the way the client's
//! Envoy uses them: HTTP routes in order (matches, weighted destinations, faults, timeout,
//! retries) and the traffic policy (connection pool, outlier detection) per subset.
//!
//! What the demo cannot tell apart it does not guess: a destination on another host ends as
//! `503 NC` (the demo only sends a service's traffic to its own versions), and TCP and TLS
//! routes are ignored. A route without `retries` is not retried: Istio's default policy
//! (two retries on connect failures and 503) would change the demo's traffic before any
//! rule is applied.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::mesh::rules::cel::parse_duration;
use crate::mesh::rules::model::Target;
use crate::mesh::rules::object::{field, items, number, str_of, string_map, strings};

pub use super::matching::Client;
use super::matching::RequestMatch;
use super::requests::RequestClass;

/// Istio's "no limit" for connection-pool fields (2^32 - 1).
const UNLIMITED: u64 = u32::MAX as u64;

#[derive(Debug, Clone, PartialEq)]
pub enum DestinationTarget {
    /// This service, one subset of it or all its versions.
    Service { subset: Option<String> },
    /// Another host: not simulated.
    Elsewhere,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Destination {
    pub target: DestinationTarget,
    pub weight: f64,
}

/// What an injected abort answers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AbortCode {
    Http(u16),
    Grpc(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Fault {
    /// (share of requests 0..1, milliseconds)
    pub delay: Option<(f64, f64)>,
    /// (share of requests 0..1, answer)
    pub abort: Option<(f64, AbortCode)>,
}

/// Which failed attempts Envoy tries again.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RetryOn {
    pub any_5xx: bool,
    pub gateway_error: bool,
    pub reset: bool,
    pub status_codes: Vec<u16>,
    pub grpc_statuses: Vec<u32>,
}

impl RetryOn {
    /// Istio's default when a route sets `retries` without `retryOn`.
    fn istio_default() -> Self {
        RetryOn {
            reset: true,
            status_codes: vec![503],
            grpc_statuses: vec![1, 14],
            ..RetryOn::default()
        }
    }

    fn parse(text: &str) -> Self {
        let mut on = RetryOn::default();
        for condition in text.split(',').map(str::trim) {
            match condition {
                "5xx" => on.any_5xx = true,
                "gateway-error" => on.gateway_error = true,
                "reset" | "connect-failure" | "refused-stream" => on.reset = true,
                "cancelled" => on.grpc_statuses.push(1),
                "deadline-exceeded" => on.grpc_statuses.push(4),
                "resource-exhausted" => on.grpc_statuses.push(8),
                "internal" => on.grpc_statuses.push(13),
                "unavailable" => on.grpc_statuses.push(14),
                other => on.status_codes.extend(other.parse::<u16>().ok()),
            }
        }
        on
    }

    /// Whether an attempt ending with this status (and Envoy flags) is tried again.
    pub fn retries(&self, code: u16, grpc_status: Option<u32>, flags: &str) -> bool {
        if flags.contains("FI") {
            // Injected faults happen before the router: nothing to retry.
            return false;
        }
        (self.any_5xx && (500..=599).contains(&code))
            || (self.gateway_error && matches!(code, 502..=504))
            || (self.reset && (flags.contains("UC") || flags.contains("UF")))
            || self.status_codes.contains(&code)
            || grpc_status.is_some_and(|s| self.grpc_statuses.contains(&s))
    }

    /// Whether an attempt cut by the per-try timeout is tried again.
    pub fn retries_timeouts(&self) -> bool {
        self.any_5xx || self.gateway_error || self.status_codes.contains(&504)
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Retries {
    /// Tries after the first.
    pub attempts: u32,
    pub per_try_timeout_ms: Option<f64>,
    pub retry_on: RetryOn,
}

#[derive(Debug, Clone)]
pub struct HttpRoute {
    /// Empty: every request.
    pub matches: Vec<RequestMatch>,
    pub destinations: Vec<Destination>,
    pub fault: Fault,
    pub timeout_ms: Option<f64>,
    pub retries: Retries,
}

impl HttpRoute {
    pub fn matches(&self, request: &RequestClass, client: Client<'_>) -> bool {
        self.matches.is_empty() || self.matches.iter().any(|m| m.matches(request, client))
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OutlierDetection {
    pub consecutive_5xx: u32,
    pub interval_s: f64,
    pub base_ejection_s: f64,
    pub max_ejection_percent: f64,
    pub min_health_percent: f64,
}

/// Connection-pool limits of one client proxy towards one cluster.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PoolLimits {
    pub max_connections: Option<u64>,
    pub max_pending: Option<u64>,
    pub max_requests: Option<u64>,
}

impl PoolLimits {
    /// Requests one client proxy can have in flight or queued before it rejects more
    /// (`UO`); `None` while Istio's defaults (no limit) stand. With HTTP/1.1 each
    /// connection carries one request, and requests beyond the connections wait pending.
    pub fn capacity(&self) -> Option<u64> {
        let queued = self
            .max_connections
            .unwrap_or(UNLIMITED)
            .saturating_add(self.max_pending.unwrap_or(UNLIMITED));
        let capacity = queued.min(self.max_requests.unwrap_or(UNLIMITED));
        (capacity < UNLIMITED).then_some(capacity)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TrafficPolicy {
    pub pool: PoolLimits,
    pub outlier: Option<OutlierDetection>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Subset {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub policy: TrafficPolicy,
}

/// Everything the rules say about one service.
#[derive(Debug, Clone, Default)]
pub struct ServiceRules {
    /// The VirtualService's routes; `None` without one: requests go to every version.
    pub http: Option<Vec<HttpRoute>>,
    pub policy: TrafficPolicy,
    pub subsets: Vec<Subset>,
}

impl ServiceRules {
    /// The rules for `target` among the stored objects (oldest first, so the oldest of two
    /// VirtualServices for one host wins, as in Istio); `None` when none names it.
    pub fn for_service(
        target: &Target,
        virtual_services: &[Value],
        destination_rules: &[Value],
    ) -> Option<Self> {
        let vs = virtual_services.iter().find(|vs| {
            let namespace = str_of(&vs["metadata"]["namespace"]);
            let gateways = strings(field(field(vs, "spec"), "gateways"));
            let for_mesh = gateways.is_empty() || gateways.iter().any(|g| g == "mesh");
            for_mesh
                && strings(field(field(vs, "spec"), "hosts"))
                    .iter()
                    .any(|h| target.is_named_by(h, namespace))
        });
        let dr = destination_rules.iter().find(|dr| {
            target.is_named_by(
                str_of(field(field(dr, "spec"), "host")),
                str_of(&dr["metadata"]["namespace"]),
            )
        });
        if vs.is_none() && dr.is_none() {
            return None;
        }
        let http = vs.map(|vs| {
            let namespace = str_of(&vs["metadata"]["namespace"]);
            items(field(field(vs, "spec"), "http"))
                .iter()
                .map(|route| parse_route(route, target, namespace))
                .collect()
        });
        let (policy, subsets) = match dr {
            Some(dr) => {
                let spec = field(dr, "spec");
                let policy = parse_policy(field(spec, "trafficPolicy"), TrafficPolicy::default());
                let subsets = items(field(spec, "subsets"))
                    .iter()
                    .map(|subset| Subset {
                        name: str_of(field(subset, "name")).to_owned(),
                        labels: string_map(field(subset, "labels")),
                        policy: parse_policy(field(subset, "trafficPolicy"), policy),
                    })
                    .collect();
                (policy, subsets)
            }
            None => (TrafficPolicy::default(), Vec::new()),
        };
        Some(ServiceRules {
            http,
            policy,
            subsets,
        })
    }

    pub fn subset(&self, name: &str) -> Option<&Subset> {
        self.subsets.iter().find(|s| s.name == name)
    }
}

/// Milliseconds of a Go duration; `None` when missing or unreadable.
fn duration_ms(value: &Value) -> Option<f64> {
    let nanos = parse_duration(value.as_str()?)?;
    Some(nanos as f64 / 1e6)
}

/// `percentage.value`, or the older integer `percent`; unset means every request.
fn share_of(value: &Value) -> f64 {
    let percent = value
        .pointer("/percentage/value")
        .and_then(Value::as_f64)
        .or_else(|| value.get("percent").and_then(Value::as_f64))
        .unwrap_or(100.0);
    (percent / 100.0).clamp(0.0, 1.0)
}

fn parse_route(route: &Value, target: &Target, namespace: &str) -> HttpRoute {
    let destinations = items(field(route, "route"))
        .iter()
        .map(|d| {
            let host = str_of(&d["destination"]["host"]);
            let subset = d["destination"]["subset"].as_str().map(str::to_owned);
            Destination {
                target: if target.is_named_by(host, namespace) {
                    DestinationTarget::Service { subset }
                } else {
                    DestinationTarget::Elsewhere
                },
                weight: d.get("weight").and_then(Value::as_f64).unwrap_or(0.0),
            }
        })
        .collect();
    let fault = field(route, "fault");
    let delay = field(fault, "delay");
    let abort = field(fault, "abort");
    let abort_code = match (
        abort.get("httpStatus").and_then(number),
        abort.get("grpcStatus").and_then(Value::as_str),
    ) {
        (Some(code), _) => u16::try_from(code).ok().map(AbortCode::Http),
        (None, Some(status)) => grpc_code(status).map(AbortCode::Grpc),
        (None, None) => None,
    };
    let retries = field(route, "retries");
    let attempts = retries
        .get("attempts")
        .and_then(number)
        .and_then(|a| u32::try_from(a).ok())
        .unwrap_or(0);
    HttpRoute {
        matches: items(field(route, "match"))
            .iter()
            .map(RequestMatch::parse)
            .collect(),
        destinations,
        fault: Fault {
            delay: duration_ms(field(delay, "fixedDelay")).map(|ms| (share_of(delay), ms)),
            abort: abort_code.map(|code| (share_of(abort), code)),
        },
        timeout_ms: duration_ms(field(route, "timeout")).filter(|ms| *ms > 0.0),
        retries: Retries {
            attempts,
            per_try_timeout_ms: duration_ms(field(retries, "perTryTimeout")).filter(|ms| *ms > 0.0),
            retry_on: match retries.get("retryOn").and_then(Value::as_str) {
                Some(text) => RetryOn::parse(text),
                None => RetryOn::istio_default(),
            },
        },
    }
}

/// A gRPC status by its name (`UNAVAILABLE`) or number.
fn grpc_code(status: &str) -> Option<u32> {
    const NAMES: [&str; 17] = [
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    ];
    NAMES
        .iter()
        .position(|name| name.eq_ignore_ascii_case(status))
        .and_then(|i| u32::try_from(i).ok())
        .or_else(|| status.parse().ok())
}

/// `policy` read over `inherited`: a subset's policy replaces what it sets.
fn parse_policy(policy: &Value, inherited: TrafficPolicy) -> TrafficPolicy {
    let mut result = inherited;
    let pool = field(policy, "connectionPool");
    if pool.is_object() {
        let limit = |value: &Value| number(value).filter(|n| *n > 0);
        result.pool = PoolLimits {
            max_connections: limit(&pool["tcp"]["maxConnections"]),
            max_pending: limit(&pool["http"]["http1MaxPendingRequests"]),
            max_requests: limit(&pool["http"]["http2MaxRequests"]),
        };
    }
    let outlier = field(policy, "outlierDetection");
    if outlier.is_object() {
        let count = |key: &str, default: u32| {
            outlier
                .get(key)
                .and_then(number)
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(default)
        };
        let seconds = |key: &str, default: f64| {
            duration_ms(field(outlier, key)).map_or(default, |ms| ms / 1000.0)
        };
        result.outlier = Some(OutlierDetection {
            consecutive_5xx: count("consecutive5xxErrors", 5),
            interval_s: seconds("interval", 10.0),
            base_ejection_s: seconds("baseEjectionTime", 30.0),
            max_ejection_percent: f64::from(count("maxEjectionPercent", 10)),
            min_health_percent: f64::from(count("minHealthPercent", 0)),
        });
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn target() -> Target {
        Target {
            namespace: "bookinfo".into(),
            service: "reviews".into(),
        }
    }

    #[test]
    fn routes_faults_and_policies_are_read_from_the_objects() {
        let vs = json!({"metadata": {"namespace": "bookinfo", "name": "reviews"},
            "spec": {"hosts": ["reviews"], "http": [
                {"match": [{"headers": {"End-User": {"exact": "jason"}}}],
                 "route": [{"destination": {"host": "reviews", "subset": "v2"}}]},
                {"fault": {"abort": {"httpStatus": 503, "percentage": {"value": 50}},
                           "delay": {"fixedDelay": "1.5s"}},
                 "timeout": "200ms",
                 "retries": {"attempts": 2, "retryOn": "5xx"},
                 "route": [{"destination": {"host": "reviews.bookinfo.svc.cluster.local", "subset": "v1"}, "weight": 80},
                           {"destination": {"host": "ratings"}, "weight": 20}]}]}});
        let dr = json!({"metadata": {"namespace": "bookinfo", "name": "reviews"},
            "spec": {"host": "reviews", "trafficPolicy": {
                "connectionPool": {"tcp": {"maxConnections": 1}, "http": {"http1MaxPendingRequests": 1}},
                "outlierDetection": {"consecutive5xxErrors": 3, "baseEjectionTime": "1m"}},
              "subsets": [{"name": "v1", "labels": {"version": "v1"}}]}});
        let rules = ServiceRules::for_service(&target(), &[vs], &[dr]).unwrap();
        let http = rules.http.as_ref().unwrap();
        assert_eq!(http.len(), 2);
        assert_eq!(http[1].fault.delay, Some((1.0, 1500.0)));
        assert_eq!(http[1].fault.abort, Some((0.5, AbortCode::Http(503))));
        assert_eq!(http[1].timeout_ms, Some(200.0));
        assert_eq!(http[1].retries.attempts, 2);
        assert_eq!(http[1].destinations[1].target, DestinationTarget::Elsewhere);
        assert_eq!(rules.policy.pool.capacity(), Some(2));
        let outlier = rules.subset("v1").unwrap().policy.outlier.unwrap();
        assert_eq!(
            (outlier.consecutive_5xx, outlier.base_ejection_s),
            (3, 60.0)
        );
        assert_eq!(outlier.max_ejection_percent, 10.0);
    }

    #[test]
    fn a_virtual_service_bound_to_a_gateway_only_does_not_route_the_mesh() {
        let vs = json!({"metadata": {"namespace": "bookinfo"},
            "spec": {"hosts": ["reviews"], "gateways": ["bookinfo-gateway"], "http": []}});
        assert!(ServiceRules::for_service(&target(), &[vs], &[]).is_none());
    }
}
