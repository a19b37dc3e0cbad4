//! Rule writes: the one way changes leave meshtui. A writer (the Kubernetes API, or the demo
//! mesh's own store) previews a rule against the objects as they are now, with the
//! server's dry-run, applies what the preview showed with server-side apply under the field
//! manager `meshtui`, and puts back what an apply changed.
//!
//! The app sends [`WriteCommand`]s and gets [`WriteEvent`]s; it never talks to a cluster.

use serde_json::Value;
use tokio::sync::mpsc;

use super::SourceTask;
use crate::mesh::rules::model::{RuleChange, Target, Version};
use crate::mesh::rules::render::ObjectChange;
use crate::mesh::rules::Violation;

/// The field manager of every write, so the cluster can say which fields are meshtui's.
pub const FIELD_MANAGER: &str = "meshtui";

/// What a form asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleRequest {
    pub target: Target,
    /// The service's versions, for the subsets the rule needs.
    pub versions: Vec<Version>,
    pub change: RuleChange,
}

/// One object a preview or an apply touches.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedObject {
    pub change: ObjectChange,
    /// The object as it was read before the write; `None` when it is created.
    pub before: Option<Value>,
    /// The object as the server (dry-run or real) returned it; `None` when deleted.
    pub after: Option<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    pub request: RuleRequest,
    /// Empty when the rule is already in place.
    pub objects: Vec<PlannedObject>,
}

/// What an apply did: `before` of each object is what undo restores.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub objects: Vec<PlannedObject>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum WriteCommand {
    /// Whether the user may write Istio routing rules in the namespace (RBAC).
    CheckAccess { id: u64, namespace: String },
    /// Renders the rule against the objects as they are now; the server dry-runs it.
    Preview { id: u64, request: RuleRequest },
    /// Applies what the preview showed; refused when an object changed since the preview.
    /// `force` takes over fields other managers own (only ever on the user's word).
    Apply {
        id: u64,
        preview: Preview,
        force: bool,
    },
    /// Restores exactly the objects an apply changed, and deletes what it created.
    Undo { id: u64, applied: Applied },
}

#[derive(Debug, Clone, PartialEq)]
pub enum WriteEvent {
    Access {
        id: u64,
        result: Result<(), WriteError>,
    },
    Previewed {
        id: u64,
        result: Result<Preview, WriteError>,
    },
    Applied {
        id: u64,
        result: Result<Applied, WriteError>,
    },
    Undone {
        id: u64,
        result: Result<(), WriteError>,
    },
}

/// A field another manager owns, named in a 409 conflict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldOwner {
    /// The field path as the server names it, e.g. `.spec.http`.
    pub field: String,
    pub manager: String,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WriteError {
    #[error("meshtui runs read-only (--readonly): nothing is written")]
    ReadOnly,
    #[error("you may not {verb} {resource} in {namespace}: {reason}")]
    NotAllowed {
        verb: String,
        resource: String,
        namespace: String,
        reason: String,
    },
    #[error("{object}: fields owned by other managers: {}", owners_text(.owners))]
    Conflict {
        object: String,
        owners: Vec<FieldOwner>,
        message: String,
    },
    #[error("{object} is invalid: {}", violations_text(.causes))]
    Invalid {
        object: String,
        causes: Vec<Violation>,
    },
    #[error("{object} changed since the preview; preview again")]
    Changed { object: String },
    #[error("{object} no longer exists")]
    NotFound { object: String },
    #[error("{0}")]
    Failed(String),
}

fn owners_text(owners: &[FieldOwner]) -> String {
    owners
        .iter()
        .map(|o| format!("{} ({})", o.field, o.manager))
        .collect::<Vec<_>>()
        .join(", ")
}

fn violations_text(causes: &[Violation]) -> String {
    causes
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// A running writer. `run` answers commands until the command channel closes.
pub trait RuleWriter: Send {
    fn run(
        self: Box<Self>,
        events: mpsc::Sender<WriteEvent>,
        commands: mpsc::Receiver<WriteCommand>,
    ) -> SourceTask;
}
