//! Requests to the emulator: credential checks and injected faults, discovery, URL
//! routing and RBAC, list with pagination, get, watch streams, pod logs, and the service proxy.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{json, Value};
use tokio::sync::mpsc;

use http_body_util::BodyExt;

use super::access;
use super::discovery;
use super::proxy::{self, ProxyTarget};
use super::resources::{self, ResourceType, RESOURCES};
use super::store::{with_type, ObjectKey, OpenWatch, Selector, State, WatchFilter};
use super::wire::{
    event_line, json_response, percent_decode, status, status_response, text_response,
    watch_response, ApiBody,
};
use super::writes;
use super::Fault;

/// The user the emulator's RBAC messages name.
pub const USER: &str = "system:serviceaccount:meshtui:meshtui";

pub struct Target {
    pub resource: &'static ResourceType,
    /// The version asked for, one the resource is served at.
    pub version: &'static str,
    pub index: usize,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

/// `/api/v1/...` and `/apis/{group}/{version}/...`, optionally `namespaces/{ns}/`.
pub fn route(path: &str, istio: resources::IstioApis) -> Option<Target> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, version, rest) = match parts.as_slice() {
        ["api", version, rest @ ..] => ("", *version, rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return None,
    };
    let (namespace, plural, name) = match rest {
        // `/api/v1/namespaces/{name}` is a namespace, not a scope.
        ["namespaces", name] if group.is_empty() => (None, "namespaces", Some(*name)),
        ["namespaces", ns, plural] => (Some(*ns), *plural, None),
        ["namespaces", ns, plural, name] => (Some(*ns), *plural, Some(*name)),
        [plural] => (None, *plural, None),
        [plural, name] => (None, *plural, Some(*name)),
        _ => return None,
    };
    let resource = resources::by_path(group, version, plural, istio)?;
    let version = resources::served_versions(resource, istio)
        .iter()
        .find(|v| **v == version)?;
    if namespace.is_some() && !resource.namespaced {
        return None;
    }
    if name.is_some() && namespace.is_none() && resource.namespaced {
        return None;
    }
    let index = RESOURCES.iter().position(|r| std::ptr::eq(r, resource))?;
    Some(Target {
        resource,
        version,
        index,
        namespace: namespace.map(str::to_owned),
        name: name.map(str::to_owned),
    })
}

pub fn query(request: &Request<Incoming>) -> HashMap<String, String> {
    query_of(request.uri().query())
}

pub fn query_of(query: Option<&str>) -> HashMap<String, String> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

pub fn not_found_path() -> Response<ApiBody> {
    status_response(
        404,
        "NotFound",
        "the server could not find the requested resource",
        Some(json!({})),
    )
}

fn lock(shared: &Mutex<State>) -> MutexGuard<'_, State> {
    shared
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What a request comes to once the state has been read: an answer, or a request to pass
/// on to a Service (which must not hold the lock while it waits).
enum Routed {
    Answer(Response<ApiBody>),
    Proxy(ProxyTarget),
}

pub async fn handle(request: Request<Incoming>, shared: Arc<Mutex<State>>) -> Response<ApiBody> {
    let logged = format!(
        "{} {}",
        request.method(),
        request.uri().path_and_query().map_or("", |p| p.as_str())
    );
    lock(&shared).requests.push(logged);
    if writes::is_write(request.method()) && !proxy::is_proxy_path(request.uri().path()) {
        let (parts, body) = request.into_parts();
        let body = match body.collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(_) => {
                return status_response(400, "BadRequest", "the body could not be read", None)
            }
        };
        let mut state = lock(&shared);
        if let Some(refusal) = refusal(&state) {
            return refusal;
        }
        let path = parts.uri.path();
        if path == access::PATH && parts.method == Method::POST {
            return access::review(&state, &body);
        }
        let Some(target) = route(path, state.istio) else {
            return not_found_path();
        };
        return writes::handle(&parts, &body, &mut state, &target);
    }
    let routed = respond(&request, &shared);
    match routed {
        Routed::Answer(response) => response,
        Routed::Proxy(target) => proxy::forward(request, target).await,
    }
}

/// How every request fails while the credentials are rejected or a fault is set.
fn refusal(state: &State) -> Option<Response<ApiBody>> {
    if state.reject_credentials {
        return Some(status_response(401, "Unauthorized", "Unauthorized", None));
    }
    state.fault.as_ref().map(fault_response)
}

fn respond(request: &Request<Incoming>, shared: &Arc<Mutex<State>>) -> Routed {
    let mut state = lock(shared);
    if let Some(refusal) = refusal(&state) {
        return Routed::Answer(refusal);
    }
    let path = request.uri().path();
    if path == "/version" {
        return Routed::Answer(json_response(StatusCode::OK, &version()));
    }
    if let Some(answer) = discovery::answer(path, &state) {
        return Routed::Answer(answer);
    }
    if let Some(proxied) = proxy::route(request, &state) {
        return match proxied {
            Ok(target) => Routed::Proxy(target),
            Err(refusal) => Routed::Answer(refusal),
        };
    }
    if let Some((namespace, pod)) = super::logs::log_path(path) {
        if request.method() == Method::GET {
            let query = request.uri().query();
            return Routed::Answer(super::logs::answer(&mut state, &namespace, &pod, query));
        }
    }
    let Some(target) = route(path, state.istio) else {
        return Routed::Answer(not_found_path());
    };
    let verb = match (request.method(), &target.name) {
        (&Method::GET, Some(_)) => "get",
        (&Method::GET, None) => "list",
        _ => {
            return Routed::Answer(status_response(
                405,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
                Some(json!({})),
            ))
        }
    };
    let params = query(request);
    let watching = params.get("watch").is_some_and(|v| v == "true" || v == "1");
    let verb = if watching { "watch" } else { verb };
    if let Some(denied) = rbac(&state, &target, verb) {
        return Routed::Answer(denied);
    }
    Routed::Answer(match (verb, &target.name) {
        ("watch", _) => watch(&mut state, shared, &target, &params),
        (_, Some(name)) => get(&state, &target, name),
        _ => list(&state, &target, &params),
    })
}

/// An injected failure, written as the part of the API server that would fail writes it.
fn fault_response(fault: &Fault) -> Response<ApiBody> {
    match fault {
        // API Priority and Fairness (and the older max-in-flight filter) reject a request
        // before any API machinery runs: plain text, with the seconds to wait.
        Fault::TooManyRequests { retry_after_s } => {
            let mut response = text_response(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many requests, please try again later.",
            );
            response.headers_mut().insert(
                hyper::header::RETRY_AFTER,
                hyper::header::HeaderValue::from(*retry_after_s),
            );
            response
        }
        // A storage error that no API error describes becomes a Status with code 500 and
        // no reason, its message the error's own (e.g. "etcdserver: request timed out").
        Fault::InternalError(message) => status_response(500, "", message, None),
    }
}

fn version() -> Value {
    json!({
        "major": "1", "minor": "28", "gitVersion": "v1.28.15",
        "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
        "buildDate": "2024-10-22T20:26:10Z", "goVersion": "go1.22.8", "compiler": "gc",
        "platform": "linux/amd64"
    })
}

/// RBAC's refusal, worded as the API server words it: `plural.group "name" is forbidden:
/// User "…" cannot verb resource "plural" in API group "group" in the namespace "ns"`.
pub fn rbac(state: &State, target: &Target, verb: &str) -> Option<Response<ApiBody>> {
    let resource = target.resource;
    if !state.refuses(
        verb,
        resource.plural,
        resource.namespaced,
        target.namespace.as_deref(),
    ) {
        return None;
    }
    let group = resource.group;
    let plural = resource.plural;
    let subject = match &target.name {
        Some(name) => format!("{} \"{name}\"", resource.qualified()),
        None => resource.qualified(),
    };
    let scope = match &target.namespace {
        Some(ns) => format!("in the namespace \"{ns}\""),
        None => "at the cluster scope".to_owned(),
    };
    let message = format!(
        "{subject} is forbidden: User \"{USER}\" cannot {verb} resource \"{plural}\" in API group \"{group}\" {scope}"
    );
    let mut details = json!({"kind": plural});
    if let Some(name) = &target.name {
        details["name"] = json!(name);
    }
    if !group.is_empty() {
        details["group"] = json!(group);
    }
    Some(status_response(403, "Forbidden", &message, Some(details)))
}

fn get(state: &State, target: &Target, name: &str) -> Response<ApiBody> {
    let key = ObjectKey {
        resource: target.index,
        namespace: target.namespace.clone().unwrap_or_default(),
        name: name.to_owned(),
    };
    match state.objects.get(&key) {
        Some(object) => json_response(
            StatusCode::OK,
            &with_type(target.resource, target.version, object),
        ),
        None => {
            let plural = target.resource.plural;
            let mut details = json!({"name": name, "kind": plural});
            if !target.resource.group.is_empty() {
                details["group"] = json!(target.resource.group);
            }
            status_response(
                404,
                "NotFound",
                &format!("{} \"{name}\" not found", target.resource.qualified()),
                Some(details),
            )
        }
    }
}

/// Continue tokens carry the list's resourceVersion and the last key served, hex-encoded
/// so clients treat them as opaque.
fn encode_continue(version: u64, key: &ObjectKey) -> String {
    let text = format!("{version}\u{0}{}\u{0}{}", key.namespace, key.name);
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode_continue(token: &str) -> Option<(u64, String, String)> {
    let bytes: Option<Vec<u8>> = (0..token.len())
        .step_by(2)
        .map(|i| {
            token
                .get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect();
    let text = String::from_utf8(bytes?).ok()?;
    let mut parts = text.split('\u{0}');
    let version = parts.next()?.parse().ok()?;
    Some((version, parts.next()?.to_owned(), parts.next()?.to_owned()))
}

fn list(state: &State, target: &Target, params: &HashMap<String, String>) -> Response<ApiBody> {
    let selector = Selector::parse(
        params.get("fieldSelector").map(String::as_str),
        params.get("labelSelector").map(String::as_str),
    );
    let mut version = state.resource_version;
    let mut after: Option<(String, String)> = None;
    if let Some(token) = params.get("continue").filter(|t| !t.is_empty()) {
        let Some((token_version, namespace, name)) = decode_continue(token) else {
            return status_response(400, "BadRequest", "continue key is not valid", None);
        };
        if token_version < state.oldest_valid_version {
            return status_response(
                410,
                "Expired",
                "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
                None,
            );
        }
        version = token_version;
        after = Some((namespace, name));
    }
    let matching: Vec<(&ObjectKey, &Value)> = state
        .objects
        .iter()
        .filter(|(key, object)| {
            key.resource == target.index
                && target
                    .namespace
                    .as_ref()
                    .is_none_or(|ns| *ns == key.namespace)
                && after
                    .as_ref()
                    .is_none_or(|(ns, name)| (&key.namespace, &key.name) > (ns, name))
                && selector.matches(object)
        })
        .collect();
    let limit = params
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|&l| l > 0)
        .unwrap_or(usize::MAX);
    let page = &matching[..matching.len().min(limit)];
    let resource = target.resource;
    let items: Vec<Value> = page
        .iter()
        .map(|(_, object)| {
            let mut item = with_type(resource, target.version, object);
            if !resource.is_custom() {
                if let Some(fields) = item.as_object_mut() {
                    fields.remove("apiVersion");
                    fields.remove("kind");
                }
            }
            item
        })
        .collect();
    let mut metadata = json!({"resourceVersion": version.to_string()});
    if matching.len() > page.len() {
        if let Some((last, _)) = page.last() {
            metadata["continue"] = json!(encode_continue(version, last));
            metadata["remainingItemCount"] = json!(matching.len() - page.len());
        }
    }
    let list = json!({
        "kind": format!("{}List", resource.kind),
        "apiVersion": resource.api_version(target.version),
        "metadata": metadata,
        "items": items,
    });
    json_response(StatusCode::OK, &list)
}

fn watch(
    state: &mut State,
    shared: &Arc<Mutex<State>>,
    target: &Target,
    params: &HashMap<String, String>,
) -> Response<ApiBody> {
    let selector = Selector::parse(
        params.get("fieldSelector").map(String::as_str),
        params.get("labelSelector").map(String::as_str),
    );
    let filter = WatchFilter {
        resource: target.index,
        version: target.version,
        namespace: target.namespace.clone(),
        selector,
    };
    let (lines, body) = mpsc::unbounded_channel();
    let since = params
        .get("resourceVersion")
        .map(String::as_str)
        .unwrap_or("");
    match since {
        // Unset or "0": start with the current state, as synthetic ADDED events.
        "" | "0" => {
            for (key, object) in &state.objects {
                if filter.matches(key, object) {
                    let object = with_type(target.resource, target.version, object);
                    let _ = lines.send(event_line("ADDED", &object));
                }
            }
        }
        version => {
            let Ok(version) = version.parse::<u64>() else {
                return status_response(
                    400,
                    "BadRequest",
                    &format!("invalid resource version: {version}"),
                    None,
                );
            };
            // An expired version still gets a 200 and its stream one ERROR event, then
            // the end: that is how the API server tells a watch to re-list.
            if version < state.oldest_valid_version {
                let gone = status(
                    410,
                    "Expired",
                    &format!(
                        "too old resource version: {version} ({})",
                        state.oldest_valid_version
                    ),
                    None,
                );
                let _ = lines.send(event_line("ERROR", &gone));
                drop(lines);
                return watch_response(body);
            }
            for event in state.log.iter().filter(|e| e.resource_version > version) {
                if filter.matches(&event.key, &event.object) {
                    let object = with_type(target.resource, target.version, &event.object);
                    let _ = lines.send(event_line(event.event_type, &object));
                }
            }
        }
    }
    state.next_watch_id += 1;
    let id = state.next_watch_id;
    state.watches.push(OpenWatch {
        id,
        filter,
        bookmarks: params
            .get("allowWatchBookmarks")
            .is_some_and(|v| v == "true"),
        lines,
    });
    if let Some(seconds) = params
        .get("timeoutSeconds")
        .and_then(|s| s.parse::<u64>().ok())
    {
        schedule_timeout(Arc::clone(shared), id, Duration::from_secs(seconds));
    }
    watch_response(body)
}

/// Ends the watch after its `timeoutSeconds`, as the server does.
fn schedule_timeout(state: Arc<Mutex<State>>, id: u64, after: Duration) {
    tokio::spawn(async move {
        tokio::time::sleep(after).await;
        lock(&state).watches.retain(|w| w.id != id);
    });
}
