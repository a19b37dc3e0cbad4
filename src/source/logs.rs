//! Following the log of one pod's `istio-proxy` container: what the app asks for
//! ([`PodRef`]), what comes back ([`LogEvent`]), and the trait the Kubernetes and demo
//! followers implement. Lines arrive parsed and sanitized ([`LogLine`]).

use std::time::Duration;

use tokio::sync::mpsc;

use super::SourceTask;
use crate::mesh::access_log::{parse_line, LogLine, MAX_PARSED_LINE_BYTES};

/// The container Istio injects; its log holds the access log.
pub const PROXY_CONTAINER: &str = "istio-proxy";

/// Which container's log to follow.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PodRef {
    pub cluster: String,
    pub namespace: String,
    pub pod: String,
    pub container: String,
}

impl PodRef {
    /// The sidecar's container of a pod.
    pub fn proxy(cluster: &str, namespace: &str, pod: &str) -> Self {
        PodRef {
            cluster: cluster.to_owned(),
            namespace: namespace.to_owned(),
            pod: pod.to_owned(),
            container: PROXY_CONTAINER.to_owned(),
        }
    }
}

/// What a follower reports.
#[derive(Debug, Clone, PartialEq)]
pub enum LogEvent {
    /// The stream is open (again); lines follow.
    Connected,
    /// New lines, oldest first.
    Lines(Vec<LogLine>),
    /// The stream ended or failed; the follower tries again after `retry_in`.
    Interrupted { reason: String, retry_in: Duration },
    /// Following stopped for good (the pod is gone, access is refused); sanitized.
    Failed(String),
}

/// Something that can follow a container's log. `follow` sends events until the
/// receiver is dropped (or the task is aborted); it never ends on its own otherwise,
/// except after [`LogEvent::Failed`].
pub trait LogFollower: Send + Sync {
    fn follow(&self, pod: PodRef, events: mpsc::Sender<LogEvent>) -> SourceTask;
}

/// Splits a byte stream into lines, holding at most [`MAX_PARSED_LINE_BYTES`] of a line
/// that has not ended yet: the rest of a longer line is skipped, so one endless line
/// cannot fill the memory.
#[derive(Debug, Default)]
pub struct LineSplitter {
    partial: Vec<u8>,
    /// The current line was cut; skip to its end.
    skipping: bool,
}

impl LineSplitter {
    /// The complete lines in `bytes` (with what was held before), without newlines.
    pub fn push(&mut self, mut bytes: &[u8]) -> Vec<String> {
        let mut lines = Vec::new();
        while !bytes.is_empty() {
            let end = bytes.iter().position(|b| *b == b'\n');
            let (chunk, rest, ended) = match end {
                Some(i) => (&bytes[..i], &bytes[i + 1..], true),
                None => (bytes, &[][..], false),
            };
            if !self.skipping {
                let room = MAX_PARSED_LINE_BYTES + 1 - self.partial.len();
                self.partial
                    .extend_from_slice(&chunk[..chunk.len().min(room)]);
                if self.partial.len() > MAX_PARSED_LINE_BYTES {
                    // Keep the line's start: it is shown, cut, as a raw line.
                    lines.push(self.take());
                    self.skipping = true;
                }
            }
            if ended {
                if self.skipping {
                    self.skipping = false;
                } else {
                    lines.push(self.take());
                }
            }
            bytes = rest;
        }
        lines
    }

    /// What is left when the stream ends: a last line without a newline.
    pub fn finish(&mut self) -> Option<String> {
        let skipped = std::mem::take(&mut self.skipping);
        (!self.partial.is_empty() && !skipped).then(|| self.take())
    }

    fn take(&mut self) -> String {
        let bytes = std::mem::take(&mut self.partial);
        let text = String::from_utf8_lossy(&bytes);
        text.strip_suffix('\r').unwrap_or(&text).to_owned()
    }
}

/// Parses lines for sending.
pub fn parse_lines(lines: impl IntoIterator<Item = String>) -> Vec<LogLine> {
    lines.into_iter().map(|line| parse_line(&line)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_across_chunks_come_out_whole() {
        let mut splitter = LineSplitter::default();
        assert_eq!(splitter.push(b"first li"), Vec::<String>::new());
        assert_eq!(
            splitter.push(b"ne\r\nsecond\nthi"),
            vec!["first line", "second"]
        );
        assert_eq!(splitter.push(b"rd"), Vec::<String>::new());
        assert_eq!(splitter.finish(), Some("third".to_owned()));
        assert_eq!(splitter.finish(), None);
    }

    #[test]
    fn an_endless_line_is_cut_and_the_next_line_is_whole() {
        let mut splitter = LineSplitter::default();
        let mut out = Vec::new();
        for _ in 0..100 {
            out.extend(splitter.push(&[b'x'; 1000]));
        }
        assert_eq!(out.len(), 1, "the cut line comes out once");
        assert_eq!(out[0].len(), MAX_PARSED_LINE_BYTES + 1);
        assert!(splitter.partial.is_empty(), "nothing more is held");
        assert_eq!(splitter.push(b"xxx\nnext\n"), vec!["next"]);
    }

    #[test]
    fn invalid_utf8_becomes_replacement_characters() {
        let mut splitter = LineSplitter::default();
        assert_eq!(splitter.push(b"a\xffb\n"), vec!["a\u{fffd}b"]);
    }
}
