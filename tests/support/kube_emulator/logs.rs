//! `GET /api/v1/namespaces/{ns}/pods/{name}/log`: a container's log as the API server
//! serves it — plain text, one line per line; with `timestamps=true` each line starts with
//! its RFC 3339 time (nanoseconds, trailing zeros trimmed, as Go writes them) and a space;
//! `tailLines` and `sinceTime` choose where it starts; `follow=true` keeps the chunked
//! answer open and sends lines as they are appended. Errors are `Status` objects: 404 for
//! a missing pod, 400 for a container that is not the pod's or not named when the pod has
//! several, 403 where RBAC refuses `pods/log`.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use hyper::body::Bytes;
use hyper::{Response, StatusCode};
use k8s_openapi::chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::server::{query_of, USER};
use super::store::{ObjectKey, State};
use super::wire::{status_response, ApiBody, WatchBody};
use http_body_util::BodyExt;

/// One container's log.
type LogKey = (String, String, String);

#[derive(Default)]
pub struct LogStore {
    /// Lines with their times, oldest first.
    lines: HashMap<LogKey, Vec<(DateTime<Utc>, String)>>,
    open: Vec<OpenLog>,
    last_time: Option<DateTime<Utc>>,
}

struct OpenLog {
    key: LogKey,
    timestamps: bool,
    sender: mpsc::UnboundedSender<Bytes>,
}

impl LogStore {
    /// Appends a line (without newline) to the container's log; open follows get it.
    pub fn append(&mut self, namespace: &str, pod: &str, container: &str, line: &str) {
        let now = now_after(self.last_time);
        self.last_time = Some(now);
        let key = (namespace.to_owned(), pod.to_owned(), container.to_owned());
        self.open.retain(|open| {
            open.key != key || open.sender.send(render(now, line, open.timestamps)).is_ok()
        });
        self.lines
            .entry(key)
            .or_default()
            .push((now, line.to_owned()));
    }

    /// Ends every open follow cleanly, as a kubelet does when it restarts or the
    /// connection is cut by a proxy; returns how many there were.
    pub fn drop_streams(&mut self) -> usize {
        std::mem::take(&mut self.open).len()
    }

    /// Follows open now.
    pub fn open_streams(&mut self) -> usize {
        self.open.retain(|open| !open.sender.is_closed());
        self.open.len()
    }
}

/// Now, or a nanosecond after the last line when the clock has not moved on: times of
/// one log only grow.
fn now_after(last: Option<DateTime<Utc>>) -> DateTime<Utc> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|d| DateTime::from_timestamp(d.as_secs() as i64, d.subsec_nanos()))
        .unwrap_or_default();
    match last {
        Some(last) if now <= last => last + k8s_openapi::chrono::Duration::nanoseconds(1),
        _ => now,
    }
}

/// Go's `time.RFC3339Nano`: up to nine fractional digits, trailing zeros trimmed.
fn rfc3339_nano(time: DateTime<Utc>) -> String {
    let full = time.to_rfc3339_opts(SecondsFormat::Nanos, true);
    let Some(body) = full.strip_suffix('Z') else {
        return full;
    };
    let trimmed = body.trim_end_matches('0').trim_end_matches('.');
    format!("{trimmed}Z")
}

fn render(time: DateTime<Utc>, line: &str, timestamps: bool) -> Bytes {
    if timestamps {
        Bytes::from(format!("{} {line}\n", rfc3339_nano(time)))
    } else {
        Bytes::from(format!("{line}\n"))
    }
}

/// `(namespace, pod)` when `path` is a pod's log.
pub fn log_path(path: &str) -> Option<(String, String)> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    match parts.as_slice() {
        ["api", "v1", "namespaces", ns, "pods", name, "log"] => {
            Some(((*ns).to_owned(), (*name).to_owned()))
        }
        _ => None,
    }
}

fn bad_request(message: &str) -> Response<ApiBody> {
    status_response(400, "BadRequest", message, None)
}

fn container_names(pod: &Value, field: &str) -> Vec<String> {
    pod["spec"][field]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|c| c["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The answer to a log request.
pub fn answer(
    state: &mut State,
    namespace: &str,
    pod: &str,
    query: Option<&str>,
) -> Response<ApiBody> {
    if state.refuses("get", "pods/log", true, Some(namespace)) {
        let message = format!(
            "pods \"{pod}\" is forbidden: User \"{USER}\" cannot get resource \"pods/log\" in API group \"\" in the namespace \"{namespace}\""
        );
        return status_response(
            403,
            "Forbidden",
            &message,
            Some(json!({"name": pod, "kind": "pods"})),
        );
    }
    let Some(index) = super::resources::RESOURCES
        .iter()
        .position(|r| r.group.is_empty() && r.plural == "pods")
    else {
        return super::server::not_found_path();
    };
    let key = ObjectKey {
        resource: index,
        namespace: namespace.to_owned(),
        name: pod.to_owned(),
    };
    let Some(object) = state.objects.get(&key) else {
        return status_response(
            404,
            "NotFound",
            &format!("pods \"{pod}\" not found"),
            Some(json!({"name": pod, "kind": "pods"})),
        );
    };
    let params = query_of(query);
    let containers = container_names(object, "containers");
    let init = container_names(object, "initContainers");
    let container = match params.get("container").filter(|c| !c.is_empty()) {
        Some(name) => {
            if !containers.contains(name) && !init.contains(name) {
                return bad_request(&format!("container {name} is not valid for pod {pod}"));
            }
            name.clone()
        }
        None => match containers.as_slice() {
            [only] => only.clone(),
            [] => return bad_request(&format!("pod {pod} does not have a container")),
            several => {
                let mut message = format!(
                    "a container name must be specified for pod {pod}, choose one of: [{}]",
                    several.join(" ")
                );
                if !init.is_empty() {
                    message.push_str(&format!(
                        " or one of the init containers: [{}]",
                        init.join(" ")
                    ));
                }
                return bad_request(&message);
            }
        },
    };
    let flag = |name: &str| params.get(name).is_some_and(|v| v == "true" || v == "1");
    let timestamps = flag("timestamps");
    let follow = flag("follow");
    let since = match params.get("sinceTime") {
        Some(text) => match DateTime::parse_from_rfc3339(text) {
            Ok(time) => Some(time.with_timezone(&Utc)),
            Err(_) => {
                return bad_request(&format!(
                    "parsing time \"{text}\" as \"2006-01-02T15:04:05Z07:00\": cannot parse"
                ))
            }
        },
        None => None,
    };
    let tail = match params.get("tailLines") {
        Some(text) => match text.parse::<i64>() {
            Ok(n) if n >= 0 => Some(n as usize),
            _ => {
                return bad_request(&format!(
                    "tailLines: Invalid value: {text}: must be greater than or equal to 0"
                ))
            }
        },
        None => None,
    };
    let log_key = (namespace.to_owned(), pod.to_owned(), container);
    let history = state
        .logs
        .lines
        .get(&log_key)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let after: Vec<&(DateTime<Utc>, String)> = history
        .iter()
        .filter(|(time, _)| since.is_none_or(|since| *time >= since))
        .collect();
    let start = tail.map_or(0, |n| after.len().saturating_sub(n));
    let (sender, lines) = mpsc::unbounded_channel();
    for (time, line) in &after[start..] {
        let _ = sender.send(render(*time, line, timestamps));
    }
    if follow {
        state.logs.open.push(OpenLog {
            key: log_key,
            timestamps,
            sender,
        });
    }
    let mut response = Response::new(WatchBody { lines }.boxed());
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain"),
    );
    response
}
