//! What can go wrong talking to Prometheus, each said the way a user reads it in the status
//! bar: which Prometheus, and what happened.

use std::path::PathBuf;
use std::time::Duration;

use thiserror::Error;

use super::decode::DecodeError;
use super::query::PlanError;
use super::samples::SampleError;
use crate::mesh::sanitize::sanitize;

/// How much of an error page is kept: enough to recognise a proxy's or Prometheus's own
/// message, not a whole HTML page in the status bar.
pub const BODY_EXCERPT_CHARS: usize = 200;

#[derive(Debug, Error)]
pub enum PrometheusError {
    #[error("Prometheus at {endpoint} refused the connection")]
    Refused { endpoint: String },
    #[error("could not reach Prometheus at {endpoint}: {reason}")]
    Unreachable { endpoint: String, reason: String },
    #[error("Prometheus at {endpoint} took longer than {}", seconds(*.after))]
    Timeout { endpoint: String, after: Duration },
    #[error("Prometheus at {endpoint} answered {status}: {excerpt}")]
    Status {
        endpoint: String,
        status: u16,
        excerpt: String,
    },
    #[error("the answer of Prometheus at {endpoint} broke off: {reason}")]
    Truncated { endpoint: String, reason: String },
    #[error("Prometheus at {endpoint}: {source}")]
    Decode {
        endpoint: String,
        source: DecodeError,
    },
    #[error("Prometheus at {endpoint}: {source}")]
    Samples {
        endpoint: String,
        source: SampleError,
    },
    #[error("the Kubernetes API could not proxy to Prometheus at {endpoint}: {reason}")]
    KubeProxy { endpoint: String, reason: String },
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error("the time window must be between 1 minute and 1 day, got {}", seconds(*.0))]
    Window(Duration),
    #[error("{0:?} is not a Prometheus address: expected http(s)://host[:port][/prefix] or kube:namespace/[https:]service:port")]
    BadEndpoint(String),
    #[error("reading the CA file {}: {reason}", path.display())]
    CaFile { path: PathBuf, reason: String },
    #[error("the header {name:?} cannot be sent: {reason}")]
    BadHeader { name: String, reason: String },
    #[error("the HTTP client for Prometheus could not be set up: {0}")]
    ClientSetup(String),
    #[error("the endpoint {endpoint} goes through the Kubernetes API, but no Kubernetes client was given")]
    NoKubeClient { endpoint: String },
}

/// `10s`, `300ms`, `1.5s`: the shortest way to say a duration.
fn seconds(duration: Duration) -> String {
    if duration.subsec_millis() == 0 && duration.as_secs() > 0 {
        format!("{}s", duration.as_secs())
    } else if duration < Duration::from_secs(1) {
        format!("{}ms", duration.as_millis())
    } else {
        format!("{:.1}s", duration.as_secs_f64())
    }
}

/// The start of an error body on one line, stripped of anything a terminal would obey.
pub fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let clean = sanitize(&one_line);
    let mut short: String = clean.chars().take(BODY_EXCERPT_CHARS).collect();
    if clean.chars().count() > BODY_EXCERPT_CHARS {
        short.push('…');
    }
    if short.is_empty() {
        "(empty body)".into()
    } else {
        short
    }
}

/// Whether an error, or one of its causes, is the operating system saying nobody listens.
pub fn is_connection_refused(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(io) = error.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return true;
            }
        }
        current = error.source();
    }
    false
}

/// The innermost cause of an error: reqwest's and hyper's outer messages ("error sending
/// request") say less than the cause at the bottom ("connection reset by peer").
pub fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(next) = current.source() {
        current = next;
    }
    sanitize(&current.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_the_unit_they_were_given_in() {
        assert_eq!(seconds(Duration::from_secs(10)), "10s");
        assert_eq!(seconds(Duration::from_millis(300)), "300ms");
        assert_eq!(seconds(Duration::from_millis(1500)), "1.5s");
    }

    #[test]
    fn an_error_page_is_cut_to_one_clean_line() {
        let page = format!(
            "<html>\n  <h1>\u{1b}[31mBad</h1>\n{}</html>",
            "x".repeat(500)
        );
        let short = excerpt(page.as_bytes());
        assert!(short.starts_with("<html> <h1>Bad</h1> xxx"), "{short}");
        assert_eq!(short.chars().count(), BODY_EXCERPT_CHARS + 1);
        assert_eq!(excerpt(b""), "(empty body)");
    }
}
