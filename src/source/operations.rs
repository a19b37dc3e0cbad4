//! A workload's inbound traffic by operation, read when the interfaces view asks: from
//! Prometheus, or from the demo mesh. Answers are owned reports; the app never learns
//! which source gave them.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::mesh::operations::{OperationsOutcome, WorkloadRef};

/// What the view asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct OperationsQuery {
    pub workload: WorkloadRef,
    /// The metric label the operation is read from, e.g. `request_operation`.
    pub label: String,
    /// The rate window, as the graph's.
    pub window: Duration,
    /// Evaluate at this Unix time (the graph's data time), or now.
    pub at_unix_s: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OperationsReport {
    pub query: OperationsQuery,
    /// When the numbers were taken, in Unix seconds.
    pub taken_at_unix_s: f64,
    pub outcome: OperationsOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OperationsError {
    #[error("{0:?} is not a Prometheus label name (letters, digits and '_', not first a digit)")]
    BadLabel(String),
    #[error("reading operations: {0}")]
    Source(String),
    #[error("this source cannot tell operations")]
    Unavailable,
}

pub type OperationsFuture =
    Pin<Box<dyn Future<Output = Result<OperationsReport, OperationsError>> + Send>>;

/// Reads operations; cheap to call again (each call is one answer).
pub trait OperationsReader: Send + Sync {
    fn read(&self, query: OperationsQuery) -> OperationsFuture;
}

/// Prometheus's rule for label names, without the `__` prefix it keeps for itself.
pub fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with("__")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_names_follow_prometheus() {
        for good in ["request_operation", "op", "_x1"] {
            assert!(is_label_name(good), "{good}");
        }
        for bad in ["", "1op", "a-b", "__name__", "a\"}", "é"] {
            assert!(!is_label_name(bad), "{bad}");
        }
    }
}
