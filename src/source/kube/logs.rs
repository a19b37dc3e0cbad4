//! Following a container's log through the API server (`GET .../pods/{name}/log?follow=true`)
//! with kube's `Api::log_stream`. A stream that ends or breaks is opened again after a
//! backoff, from the last line's timestamp, so no line is lost or shown twice; a refusal
//! that will not change (the pod is gone, access is denied, no such container) ends it.

use std::future::poll_fn;
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use futures_io::AsyncBufRead;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::chrono::{DateTime, Utc};
use kube::api::{Api, LogParams};
use tokio::sync::mpsc;

use super::watch::describe;
use crate::mesh::sanitize::sanitize;
use crate::source::logs::{parse_lines, LineSplitter, LogEvent, LogFollower, PodRef};
use crate::source::SourceTask;

/// How the follower asks and retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogSettings {
    /// Lines of history asked for when following starts.
    pub tail_lines: i64,
    /// The first wait after a failure; it doubles up to `max_backoff`.
    pub min_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            tail_lines: 500,
            min_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
        }
    }
}

/// Follows logs in the clusters it has clients for.
#[derive(Clone)]
pub struct KubeLogFollower {
    /// Cluster name (as the inventory names it) and its client.
    clients: Vec<(String, kube::Client)>,
    settings: LogSettings,
}

impl KubeLogFollower {
    pub fn new(clients: Vec<(String, kube::Client)>, settings: LogSettings) -> Self {
        KubeLogFollower { clients, settings }
    }

    /// The cluster's client; with one cluster, whatever the pod's cluster is called.
    fn client_for(&self, cluster: &str) -> Option<kube::Client> {
        match self.clients.as_slice() {
            [(_, only)] => Some(only.clone()),
            several => several
                .iter()
                .find(|(name, _)| name == cluster)
                .map(|(_, client)| client.clone()),
        }
    }
}

impl LogFollower for KubeLogFollower {
    fn follow(&self, pod: PodRef, events: mpsc::Sender<LogEvent>) -> SourceTask {
        let client = self.client_for(&pod.cluster);
        let settings = self.settings;
        Box::pin(async move {
            match client {
                Some(client) => follow_log(client, pod, events, settings).await,
                None => {
                    let message = format!("no context reaches cluster {}", sanitize(&pod.cluster));
                    let _ = events.send(LogEvent::Failed(message)).await;
                }
            }
        })
    }
}

/// What a failure means for the follow.
enum Failure {
    /// It will not get better by trying again.
    Final(String),
    Retry(String),
}

fn classify(error: &kube::Error, pod: &PodRef) -> Failure {
    let kube::Error::Api(response) = error else {
        return Failure::Retry(sanitize(&describe(error)));
    };
    let message = sanitize(&response.message);
    match response.code {
        404 => Failure::Final(format!(
            "pod {}/{} not found (deleted?): {message}",
            sanitize(&pod.namespace),
            sanitize(&pod.pod)
        )),
        403 => Failure::Final(format!("not allowed to read the log: {message}")),
        401 => Failure::Final(format!(
            "unauthorized (credentials expired or rejected): {message}"
        )),
        // A container still starting is worth waiting for; a wrong name is not.
        400 if message.contains("waiting to start") => Failure::Retry(message),
        400 => Failure::Final(message),
        _ => Failure::Retry(message),
    }
}

/// A kubelet timestamp (RFC 3339 with up to nine fractional digits, in UTC) as a key
/// that orders like the time.
fn time_key(stamp: &str) -> Option<(String, String)> {
    let (seconds, rest) = stamp.split_at_checked(19)?;
    let fraction = rest.strip_prefix('.').unwrap_or(rest).trim_end_matches('Z');
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((seconds.to_owned(), format!("{fraction:0<9}")))
}

/// Where a follow stands between connections.
#[derive(Default)]
struct Resume {
    /// The last line's timestamp, as sent and as a key.
    last: Option<(String, (String, String))>,
}

impl Resume {
    fn params(&self, container: &str, settings: &LogSettings) -> LogParams {
        let since_time = self
            .last
            .as_ref()
            .and_then(|(stamp, _)| DateTime::parse_from_rfc3339(stamp).ok())
            .map(|time| time.with_timezone(&Utc));
        LogParams {
            container: Some(container.to_owned()),
            follow: true,
            // From the last line on (the server's precision is a second, so a few lines
            // come again and are skipped); at first, the recent history.
            tail_lines: since_time.is_none().then_some(settings.tail_lines),
            since_time,
            timestamps: true,
            ..LogParams::default()
        }
    }

    /// The line without its timestamp, unless it was already seen.
    fn admit(&mut self, line: String) -> Option<String> {
        let Some((stamp, text)) = line.split_once(' ') else {
            return Some(line);
        };
        let Some(key) = time_key(stamp) else {
            return Some(line);
        };
        if self.last.as_ref().is_some_and(|(_, last)| key <= *last) {
            return None;
        }
        let text = text.to_owned();
        self.last = Some((stamp.to_owned(), key));
        Some(text)
    }
}

/// Why a stream stopped.
enum Ended {
    /// Nobody listens any more.
    Closed,
    /// The server ended it (a rotation, a restart, its own timeout).
    Finished {
        lines: usize,
    },
    Broken {
        lines: usize,
        reason: String,
    },
}

async fn follow_log(
    client: kube::Client,
    pod: PodRef,
    events: mpsc::Sender<LogEvent>,
    settings: LogSettings,
) {
    let api: Api<Pod> = Api::namespaced(client, &pod.namespace);
    let mut resume = Resume::default();
    let mut backoff = settings.min_backoff;
    loop {
        let params = resume.params(&pod.container, &settings);
        let reason = match api.log_stream(&pod.pod, &params).await {
            Err(error) => match classify(&error, &pod) {
                Failure::Final(message) => {
                    let _ = events.send(LogEvent::Failed(message)).await;
                    return;
                }
                Failure::Retry(reason) => reason,
            },
            Ok(reader) => {
                if events.send(LogEvent::Connected).await.is_err() {
                    return;
                }
                match read_stream(reader, &events, &mut resume).await {
                    Ended::Closed => return,
                    Ended::Finished { lines } => {
                        if lines > 0 {
                            backoff = settings.min_backoff;
                        }
                        "the log stream ended".to_owned()
                    }
                    Ended::Broken { lines, reason } => {
                        if lines > 0 {
                            backoff = settings.min_backoff;
                        }
                        reason
                    }
                }
            }
        };
        let wait = backoff;
        backoff = (backoff * 2).min(settings.max_backoff);
        let news = LogEvent::Interrupted {
            reason,
            retry_in: wait,
        };
        if events.send(news).await.is_err() {
            return;
        }
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = events.closed() => return,
        }
    }
}

async fn read_stream(
    reader: impl AsyncBufRead,
    events: &mpsc::Sender<LogEvent>,
    resume: &mut Resume,
) -> Ended {
    let mut reader = pin!(reader);
    let mut splitter = LineSplitter::default();
    let mut lines = 0;
    loop {
        let chunk = tokio::select! {
            chunk = poll_fn(|cx| match reader.as_mut().poll_fill_buf(cx) {
                Poll::Ready(Ok(buffer)) => {
                    let chunk = buffer.to_vec();
                    reader.as_mut().consume(chunk.len());
                    Poll::Ready(Ok(chunk))
                }
                Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
                Poll::Pending => Poll::Pending,
            }) => chunk,
            () = events.closed() => return Ended::Closed,
        };
        let (batch, ended) = match chunk {
            Ok(chunk) if chunk.is_empty() => (splitter.finish().into_iter().collect(), None),
            Ok(chunk) => (splitter.push(&chunk), Some(())),
            Err(error) => {
                return Ended::Broken {
                    lines,
                    reason: format!("the log stream broke: {}", sanitize(&error.to_string())),
                }
            }
        };
        let fresh: Vec<String> = batch
            .into_iter()
            .filter_map(|line| resume.admit(line))
            .collect();
        lines += fresh.len();
        if !fresh.is_empty()
            && events
                .send(LogEvent::Lines(parse_lines(fresh)))
                .await
                .is_err()
        {
            return Ended::Closed;
        }
        if ended.is_none() {
            return Ended::Finished { lines };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubelet_timestamps_order_by_time_whatever_their_precision() {
        let key = |s: &str| time_key(s).unwrap();
        assert!(key("2026-01-01T00:00:00.1Z") > key("2026-01-01T00:00:00.09Z"));
        assert!(key("2026-01-01T00:00:01Z") > key("2026-01-01T00:00:00.999999999Z"));
        assert_eq!(
            key("2026-01-01T00:00:00.5Z"),
            key("2026-01-01T00:00:00.500000000Z")
        );
        assert_eq!(time_key("not a time"), None);
    }

    #[test]
    fn after_a_reconnect_lines_already_seen_are_skipped_and_the_rest_kept() {
        let mut resume = Resume::default();
        let first = ["2026-01-01T00:00:00.1Z a", "2026-01-01T00:00:00.2Z b"];
        let seen: Vec<_> = first
            .iter()
            .filter_map(|l| resume.admit((*l).to_owned()))
            .collect();
        assert_eq!(seen, ["a", "b"]);
        let since = resume.params(PROXY, &LogSettings::default());
        assert_eq!(since.tail_lines, None);
        assert!(since.since_time.is_some());
        let again = [
            "2026-01-01T00:00:00.1Z a",
            "2026-01-01T00:00:00.2Z b",
            "2026-01-01T00:00:00.3Z c",
        ];
        let seen: Vec<_> = again
            .iter()
            .filter_map(|l| resume.admit((*l).to_owned()))
            .collect();
        assert_eq!(seen, ["c"]);
    }

    const PROXY: &str = crate::source::logs::PROXY_CONTAINER;

    #[test]
    fn the_first_request_asks_for_the_recent_history_with_timestamps() {
        let params = Resume::default().params(PROXY, &LogSettings::default());
        assert_eq!(params.tail_lines, Some(500));
        assert!(params.follow && params.timestamps);
        assert_eq!(params.container.as_deref(), Some("istio-proxy"));
    }
}
