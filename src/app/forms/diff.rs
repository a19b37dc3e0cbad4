//! The preview as a unified diff per object: what the cluster has, what it would have.

use serde_json::Value;

use crate::mesh::rules::diff::{to_yaml, unified, without_server_fields, DiffLine};
use crate::mesh::rules::render::ObjectChange;
use crate::mesh::sanitize::sanitize;
use crate::source::write::{PlannedObject, Preview};

/// Unchanged lines shown around each change.
const CONTEXT_LINES: usize = 3;

/// One line of the diff view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiffRow {
    /// `VirtualService bookinfo/reviews (changed)`
    Object(String),
    Line(DiffLine),
}

fn yaml_of(object: Option<&Value>) -> String {
    object
        .map(|o| to_yaml(&without_server_fields(o)))
        .unwrap_or_default()
}

fn str_at<'v>(object: Option<&'v Value>, pointer: &str) -> &'v str {
    object
        .and_then(|o| o.pointer(pointer))
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn header(planned: &PlannedObject) -> String {
    let (kind, namespace, name) = match &planned.change {
        ObjectChange::Delete {
            kind,
            namespace,
            name,
        } => (kind.as_str(), namespace.as_str(), name.as_str()),
        ObjectChange::Apply(object) => (
            str_at(Some(object), "/kind"),
            str_at(Some(object), "/metadata/namespace"),
            str_at(Some(object), "/metadata/name"),
        ),
    };
    let what = match (&planned.before, &planned.after) {
        (None, _) => "created",
        (_, None) => "deleted",
        _ => "changed",
    };
    format!("{kind} {namespace}/{name} ({what})")
}

/// Every object of the preview with its diff; text from the cluster is sanitized.
pub fn diff_rows(preview: &Preview) -> Vec<DiffRow> {
    let clean = |line: DiffLine| match line {
        DiffLine::Hunk(t) => DiffLine::Hunk(sanitize(&t)),
        DiffLine::Same(t) => DiffLine::Same(sanitize(&t)),
        DiffLine::Removed(t) => DiffLine::Removed(sanitize(&t)),
        DiffLine::Added(t) => DiffLine::Added(sanitize(&t)),
    };
    let mut rows = Vec::new();
    for planned in &preview.objects {
        rows.push(DiffRow::Object(sanitize(&header(planned))));
        let before = yaml_of(planned.before.as_ref());
        let after = yaml_of(planned.after.as_ref());
        rows.extend(
            unified(&before, &after, CONTEXT_LINES)
                .into_iter()
                .map(|line| DiffRow::Line(clean(line))),
        );
    }
    rows
}
