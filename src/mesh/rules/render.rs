//! A [`RuleChange`] written into Istio objects: the service's VirtualService and
//! DestinationRule are edited in place when they exist (a second VirtualService for a host
//! is istioctl's IST0109), keeping every route and field others wrote. meshtui's own routes
//! are named `meshtui-…`; objects it creates carry `app.kubernetes.io/managed-by: meshtui`.

use serde_json::{json, Map, Value};

use crate::mesh::inventory::RouteDestination;

use super::model::{
    Breaker, Canary, Fault, RequestMatch, RuleChange, Split, Target, Timeouts, Version,
};

pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
pub const MANAGER: &str = "meshtui";
pub const NETWORKING_API: &str = "networking.istio.io/v1";
const ROUTE_PREFIX: &str = "meshtui-";
const DEFAULT_ROUTE: &str = "meshtui-default";
const FAULT_ROUTE: &str = "meshtui-fault";
const CANARY_ROUTE: &str = "meshtui-canary-";

/// What must change in the cluster.
#[derive(Debug, Clone, PartialEq)]
pub enum ObjectChange {
    /// The whole desired object, to be applied.
    Apply(Value),
    Delete {
        kind: String,
        namespace: String,
        name: String,
    },
}

/// The objects of the cluster a change is written into.
#[derive(Debug, Clone, Copy)]
pub struct Existing<'a> {
    pub virtual_services: &'a [Value],
    pub destination_rules: &'a [Value],
}

/// Renders `change` for `target`. Objects that would not change are left out.
pub fn render(
    target: &Target,
    versions: &[Version],
    change: &RuleChange,
    existing: Existing<'_>,
) -> Vec<ObjectChange> {
    if let RuleChange::ReportOperations { label } = change {
        // Applied whole each time: server-side apply leaves it as it is when it already is.
        return vec![ObjectChange::Apply(super::telemetry::operation_telemetry(
            &target.namespace,
            label,
        ))];
    }
    let current_vs = find_virtual_service(target, existing.virtual_services);
    let current_dr = find_destination_rule(target, existing.destination_rules);
    let mut vs = current_vs
        .cloned()
        .unwrap_or_else(|| new_object(target, "VirtualService"));
    let mut dr = current_dr
        .cloned()
        .unwrap_or_else(|| new_object(target, "DestinationRule"));
    let host = target.host();
    let mut routes = take_routes(&mut vs);
    match change {
        RuleChange::Shift(split) => set_split(&mut routes, split, &host),
        RuleChange::Canary(canary) => set_canary(&mut routes, canary, &host),
        RuleChange::Fault(fault) => set_fault(&mut routes, fault, &host),
        RuleChange::Timeouts(timeouts) => set_timeouts(&mut routes, timeouts, &host),
        RuleChange::Breaker(breaker) => set_breaker(&mut dr, breaker),
        RuleChange::Reset => routes.retain(|route| !is_ours(route)),
        RuleChange::ReportOperations { .. } => {}
    }
    put_routes(&mut vs, routes, target);
    if !matches!(change, RuleChange::Reset) {
        add_subsets(&mut dr, versions, &vs, target);
    }

    let mut changes = Vec::new();
    for (current, desired) in [(current_vs, vs), (current_dr, dr)] {
        let created_by_us = current.is_none_or(is_managed);
        let empty = is_empty(&desired);
        if matches!(change, RuleChange::Reset) && created_by_us && empty {
            if let Some(current) = current {
                changes.push(delete_of(current));
            }
            continue;
        }
        if current == Some(&desired) || (current.is_none() && empty) {
            continue;
        }
        changes.push(ObjectChange::Apply(desired));
    }
    changes
}

fn str_at<'v>(value: &'v Value, pointer: &str) -> &'v str {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// A VirtualService for the host bound to the sidecars (no `gateways`, or `mesh` among
/// them); meshtui's own first when several claim it.
fn find_virtual_service<'v>(target: &Target, all: &'v [Value]) -> Option<&'v Value> {
    let mut candidates: Vec<&Value> = all
        .iter()
        .filter(|vs| {
            let namespace = str_at(vs, "/metadata/namespace");
            let hosts = vs.pointer("/spec/hosts").and_then(Value::as_array);
            let gateways = vs.pointer("/spec/gateways").and_then(Value::as_array);
            let for_mesh = gateways
                .is_none_or(|g| g.is_empty() || g.iter().any(|g| g.as_str() == Some("mesh")));
            for_mesh
                && hosts.is_some_and(|hosts| {
                    hosts
                        .iter()
                        .filter_map(Value::as_str)
                        .any(|h| target.is_named_by(h, namespace))
                })
        })
        .collect();
    candidates.sort_by_key(|vs| (!is_managed(vs), str_at(vs, "/metadata/name").to_owned()));
    candidates.first().copied()
}

fn find_destination_rule<'v>(target: &Target, all: &'v [Value]) -> Option<&'v Value> {
    let mut candidates: Vec<&Value> = all
        .iter()
        .filter(|dr| {
            target.is_named_by(str_at(dr, "/spec/host"), str_at(dr, "/metadata/namespace"))
        })
        .collect();
    candidates.sort_by_key(|dr| (!is_managed(dr), str_at(dr, "/metadata/name").to_owned()));
    candidates.first().copied()
}

fn is_managed(object: &Value) -> bool {
    object
        .pointer("/metadata/labels")
        .and_then(|labels| labels.get(MANAGED_BY_LABEL))
        .and_then(Value::as_str)
        == Some(MANAGER)
}

fn new_object(target: &Target, kind: &str) -> Value {
    let spec = if kind == "VirtualService" {
        json!({ "hosts": [target.service] })
    } else {
        json!({ "host": target.service })
    };
    json!({
        "apiVersion": NETWORKING_API,
        "kind": kind,
        "metadata": {
            "name": target.service,
            "namespace": target.namespace,
            "labels": { MANAGED_BY_LABEL: MANAGER },
        },
        "spec": spec,
    })
}

/// Nothing left worth keeping: no routes, subsets or traffic policy.
fn is_empty(object: &Value) -> bool {
    let spec = object.get("spec");
    let has = |key: &str| {
        spec.and_then(|s| s.get(key)).is_some_and(|v| match v {
            Value::Array(items) => !items.is_empty(),
            Value::Object(map) => !map.is_empty(),
            Value::Null => false,
            _ => true,
        })
    };
    !["http", "tcp", "tls", "subsets", "trafficPolicy"]
        .iter()
        .any(|key| has(key))
}

fn delete_of(object: &Value) -> ObjectChange {
    ObjectChange::Delete {
        kind: str_at(object, "/kind").to_owned(),
        namespace: str_at(object, "/metadata/namespace").to_owned(),
        name: str_at(object, "/metadata/name").to_owned(),
    }
}

fn take_routes(vs: &mut Value) -> Vec<Value> {
    vs.pointer_mut("/spec/http")
        .map(Value::take)
        .and_then(|routes| match routes {
            Value::Array(routes) => Some(routes),
            _ => None,
        })
        .unwrap_or_default()
}

fn put_routes(vs: &mut Value, routes: Vec<Value>, target: &Target) {
    let Some(spec) = vs.get_mut("spec").and_then(Value::as_object_mut) else {
        *vs = new_object(target, "VirtualService");
        return put_routes(vs, routes, target);
    };
    if routes.is_empty() {
        spec.remove("http");
    } else {
        spec.insert("http".into(), Value::Array(routes));
    }
}

fn route_name(route: &Value) -> &str {
    route
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn is_ours(route: &Value) -> bool {
    route_name(route).starts_with(ROUTE_PREFIX)
}

fn matches_everything(route: &Value) -> bool {
    route
        .get("match")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty)
}

/// The destinations of the route [`render`] edits for a split: the last catch-all HTTP
/// route of a VirtualService. A lone destination without a weight takes every request.
pub fn default_route(vs: &Value) -> Vec<RouteDestination> {
    let Some(routes) = vs.pointer("/spec/http").and_then(Value::as_array) else {
        return Vec::new();
    };
    let Some(route) = routes
        .iter()
        .rfind(|route| route.is_object() && matches_everything(route))
    else {
        return Vec::new();
    };
    let destinations = route
        .get("route")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let single = destinations.len() == 1;
    destinations
        .iter()
        .map(|d| RouteDestination {
            host: str_at(d, "/destination/host").to_owned(),
            subset: d
                .pointer("/destination/subset")
                .and_then(Value::as_str)
                .map(str::to_owned),
            weight: d
                .get("weight")
                .and_then(Value::as_u64)
                .map_or(if single { 100 } else { 0 }, |w| {
                    u32::try_from(w).unwrap_or(u32::MAX)
                }),
        })
        .collect()
}

/// Edits the route every request without a more specific rule takes: the last catch-all
/// route, whoever wrote it, or a new one of meshtui's to the host at the end.
fn with_default_route<R>(
    routes: &mut Vec<Value>,
    host: &str,
    edit: impl FnOnce(&mut Map<String, Value>) -> R,
) -> R {
    let position = match routes
        .iter()
        .rposition(|route| route.is_object() && matches_everything(route))
    {
        Some(position) => position,
        None => {
            routes.push(json!({
                "name": DEFAULT_ROUTE,
                "route": [{ "destination": { "host": host } }],
            }));
            routes.len() - 1
        }
    };
    let mut route = match routes[position].take() {
        Value::Object(route) => route,
        _ => Map::new(),
    };
    let result = edit(&mut route);
    routes[position] = Value::Object(route);
    result
}

fn destinations(split: &Split, host: &str) -> Value {
    let used: Vec<&(String, u32)> = split.weights.iter().filter(|(_, w)| *w > 0).collect();
    let single = used.len() == 1;
    Value::Array(
        used.iter()
            .map(|(version, weight)| {
                let mut destination = json!({ "destination": { "host": host, "subset": version } });
                if !single {
                    destination["weight"] = json!(weight);
                }
                destination
            })
            .collect(),
    )
}

fn set_split(routes: &mut Vec<Value>, split: &Split, host: &str) {
    with_default_route(routes, host, |route| {
        route.insert("route".into(), destinations(split, host));
    });
}

fn http_match(matcher: &RequestMatch) -> Option<Value> {
    match matcher {
        RequestMatch::Header { name, how, value } => Some(json!({
            "headers": { name.to_ascii_lowercase(): { how.key(): value } }
        })),
        RequestMatch::Cookie { name, value } => Some(json!({
            "headers": { "cookie": { "regex": cookie_regex(name, value) } }
        })),
        RequestMatch::Any => None,
    }
}

/// The `Cookie` header carries every cookie: `a=1; user=jason; b=2`. This matches one
/// cookie with exactly this value wherever it is in the list.
pub fn cookie_regex(name: &str, value: &str) -> String {
    format!(
        "^(.*?;\\s*)?({}={})(;.*)?$",
        regex::escape(name),
        regex::escape(value)
    )
}

fn set_canary(routes: &mut Vec<Value>, canary: &Canary, host: &str) {
    routes.retain(|route| !route_name(route).starts_with(CANARY_ROUTE));
    let mut added = Vec::new();
    for (i, rule) in canary.rules.iter().enumerate() {
        let destination = json!([{ "destination": { "host": host, "subset": rule.version } }]);
        match http_match(&rule.matcher) {
            Some(matcher) => added.push(json!({
                "name": format!("{CANARY_ROUTE}{i}"),
                "match": [matcher],
                "route": destination,
            })),
            // Everyone else goes to that version: that is the default route's split.
            None => {
                set_split(
                    routes,
                    &Split {
                        weights: vec![(rule.version.clone(), 100)],
                    },
                    host,
                );
                insert_after_fault(routes, added);
                return;
            }
        }
    }
    set_split(routes, &canary.split, host);
    insert_after_fault(routes, added);
}

/// meshtui's matched fault route stays first; canary routes come right after it.
fn insert_after_fault(routes: &mut Vec<Value>, added: Vec<Value>) {
    let at = usize::from(routes.first().is_some_and(|r| route_name(r) == FAULT_ROUTE));
    routes.splice(at..at, added);
}

fn fault_value(fault: &Fault) -> Value {
    let mut value = Map::new();
    if let Some(delay) = &fault.delay {
        value.insert(
            "delay".into(),
            json!({ "fixedDelay": delay.fixed, "percentage": { "value": delay.percent } }),
        );
    }
    if let Some(abort) = &fault.abort {
        value.insert(
            "abort".into(),
            json!({ "httpStatus": abort.http_status, "percentage": { "value": abort.percent } }),
        );
    }
    Value::Object(value)
}

fn set_fault(routes: &mut Vec<Value>, fault: &Fault, host: &str) {
    routes.retain(|route| route_name(route) != FAULT_ROUTE);
    let injected = fault.delay.is_some() || fault.abort.is_some();
    match fault.only.as_ref().and_then(http_match) {
        Some(matcher) => {
            if !injected {
                return;
            }
            // The faulty requests still go where the others go.
            let route = with_default_route(routes, host, |route| route.get("route").cloned())
                .unwrap_or_else(|| json!([{ "destination": { "host": host } }]));
            routes.insert(
                0,
                json!({
                    "name": FAULT_ROUTE,
                    "match": [matcher],
                    "fault": fault_value(fault),
                    "route": route,
                }),
            );
        }
        // Nothing to inject: take a fault off the catch-all route, but make no route for it.
        None if !injected => {
            if let Some(Value::Object(route)) = routes
                .iter_mut()
                .rev()
                .find(|route| matches_everything(route))
            {
                route.remove("fault");
            }
        }
        None => with_default_route(routes, host, |route| {
            route.insert("fault".into(), fault_value(fault));
        }),
    }
}

fn set_timeouts(routes: &mut Vec<Value>, timeouts: &Timeouts, host: &str) {
    with_default_route(routes, host, |route| set_route_timeouts(route, timeouts));
}

fn set_route_timeouts(route: &mut Map<String, Value>, timeouts: &Timeouts) {
    match &timeouts.timeout {
        Some(timeout) => route.insert("timeout".into(), json!(timeout)),
        None => route.remove("timeout"),
    };
    let mut retries = Map::new();
    if let Some(attempts) = timeouts.attempts {
        retries.insert("attempts".into(), json!(attempts));
    }
    if let Some(per_try) = &timeouts.per_try_timeout {
        retries.insert("perTryTimeout".into(), json!(per_try));
    }
    if !timeouts.retry_on.is_empty() {
        retries.insert("retryOn".into(), json!(timeouts.retry_on.join(",")));
    }
    if retries.is_empty() {
        route.remove("retries");
    } else {
        route.insert("retries".into(), Value::Object(retries));
    }
}

/// Sets `value` at `path` under `object`, making the objects on the way.
fn set_path(object: &mut Value, path: &[&str], value: Value) {
    let mut at = object;
    for key in path {
        if !at.is_object() {
            *at = json!({});
        }
        let Value::Object(map) = at else { return };
        at = map.entry((*key).to_owned()).or_insert_with(|| json!({}));
    }
    *at = value;
}

fn set_breaker(dr: &mut Value, breaker: &Breaker) {
    let policy = ["spec", "trafficPolicy"];
    let fields: [(&[&str], Option<Value>); 7] = [
        (
            &["connectionPool", "tcp", "maxConnections"],
            breaker.max_connections.map(|v| json!(v)),
        ),
        (
            &["connectionPool", "http", "http1MaxPendingRequests"],
            breaker.max_pending_requests.map(|v| json!(v)),
        ),
        (
            &["connectionPool", "http", "maxRequestsPerConnection"],
            breaker.max_requests_per_connection.map(|v| json!(v)),
        ),
        (
            &["outlierDetection", "consecutive5xxErrors"],
            breaker.consecutive_5xx_errors.map(|v| json!(v)),
        ),
        (
            &["outlierDetection", "interval"],
            breaker.interval.as_ref().map(|v| json!(v)),
        ),
        (
            &["outlierDetection", "baseEjectionTime"],
            breaker.base_ejection_time.as_ref().map(|v| json!(v)),
        ),
        (
            &["outlierDetection", "maxEjectionPercent"],
            breaker.max_ejection_percent.map(|v| json!(v)),
        ),
    ];
    for (path, value) in fields {
        if let Some(value) = value {
            let full: Vec<&str> = policy.iter().chain(path.iter()).copied().collect();
            set_path(dr, &full, value);
        }
    }
}

/// Every subset the VirtualService's routes name must exist: missing ones are added from
/// the service's versions; subsets others defined stay as they are.
fn add_subsets(dr: &mut Value, versions: &[Version], vs: &Value, target: &Target) {
    let named: Vec<String> = vs
        .pointer("/spec/http")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|route| {
            route
                .get("route")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .filter(|destination| {
            target.is_named_by(
                str_at(destination, "/destination/host"),
                str_at(vs, "/metadata/namespace"),
            )
        })
        .filter_map(|d| d.pointer("/destination/subset").and_then(Value::as_str))
        .map(str::to_owned)
        .collect();
    let existing: Vec<String> = dr
        .pointer("/spec/subsets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|subset| str_at(subset, "/name").to_owned())
        .collect();
    let mut added = Vec::new();
    for version in versions {
        if named.contains(&version.name)
            && !existing.contains(&version.name)
            && !added
                .iter()
                .any(|s: &Value| str_at(s, "/name") == version.name)
        {
            added.push(json!({ "name": version.name, "labels": version.labels }));
        }
    }
    if added.is_empty() {
        return;
    }
    let mut subsets: Vec<Value> = dr
        .pointer("/spec/subsets")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    subsets.extend(added);
    set_path(dr, &["spec", "subsets"], Value::Array(subsets));
}
