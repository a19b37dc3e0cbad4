//! The writer's answers: access, preview (to the diff), apply (to the undo stack, or a
//! conflict), undo; and the undo key. Errors land next to the field they name when they
//! name one, else under the form.

use super::diff::diff_rows;
use super::{AccessCheck, FormState, Phase, RuleEditing, RuleNotice, UndoEntry, WriteAccess};
use crate::app::effect::Effect;
use crate::app::state::State;
use crate::app::update::Outcome;
use crate::mesh::rules::validate::{Field, FieldIssue};
use crate::mesh::sanitize::sanitize;
use crate::source::write::{WriteCommand, WriteError, WriteEvent};

pub fn on_write_event(state: &mut State, event: WriteEvent) -> Outcome {
    let rules = &mut state.rules;
    match event {
        WriteEvent::Access { id, result } => {
            let Some(namespace) = rules
                .access
                .iter()
                .find(|(_, check)| **check == AccessCheck::Checking(id))
                .map(|(namespace, _)| namespace.clone())
            else {
                return Outcome::default();
            };
            let check = match result {
                Ok(()) => AccessCheck::Allowed,
                Err(error) => AccessCheck::Denied(sanitize(&error.to_string())),
            };
            rules.access.insert(namespace, check);
        }
        WriteEvent::Previewed { id, result } => {
            let Some(form) = waiting_form(rules, id) else {
                return Outcome::default();
            };
            match result {
                Ok(preview) if preview.objects.is_empty() => {
                    form.phase = Phase::Editing;
                    form.message =
                        Some("nothing to change: the service is routed so already".into());
                }
                Ok(preview) => {
                    form.diff = diff_rows(&preview);
                    form.phase = Phase::Diff { preview, scroll: 0 };
                }
                Err(error) => refused(rules, error),
            }
        }
        WriteEvent::Applied { id, result } => {
            let Some(form) = waiting_form(rules, id) else {
                return Outcome::default();
            };
            let preview = match &form.phase {
                Phase::Applying { preview, .. } => preview.clone(),
                _ => return Outcome::default(),
            };
            match result {
                Ok(applied) => {
                    let label = format!(
                        "{} on {}.{}",
                        form.kind.title(),
                        form.target.service,
                        form.target.namespace
                    );
                    let count = applied.objects.len();
                    rules.notice = Some(RuleNotice::info(format!(
                        "applied {label}: {count} object{} changed; u undoes it",
                        if count == 1 { "" } else { "s" }
                    )));
                    if count > 0 {
                        rules.undo.push(UndoEntry { label, applied });
                    }
                    super::edit::close_form(rules);
                }
                Err(WriteError::Conflict { object, owners, .. }) => {
                    form.phase = Phase::Conflict {
                        preview,
                        object: sanitize(&object),
                        owners: owners
                            .into_iter()
                            .map(|mut o| {
                                o.field = sanitize(&o.field);
                                o.manager = sanitize(&o.manager);
                                o
                            })
                            .collect(),
                    };
                }
                Err(error) => refused(rules, error),
            }
        }
        WriteEvent::Undone { id, result } => {
            let Some((pending, entry)) = rules.undoing.take() else {
                return Outcome::default();
            };
            if pending != id {
                rules.undoing = Some((pending, entry));
                return Outcome::default();
            }
            match result {
                Ok(()) => rules.notice = Some(RuleNotice::info(format!("undid {}", entry.label))),
                Err(error) => {
                    rules.notice = Some(RuleNotice::error(format!(
                        "could not undo {}: {}",
                        entry.label,
                        sanitize(&error.to_string())
                    )));
                    rules.undo.push(entry);
                }
            }
        }
    }
    Outcome {
        effects: Vec::new(),
        redraw: true,
    }
}

/// The open form when it waits for the answer `id`.
fn waiting_form(rules: &mut RuleEditing, id: u64) -> Option<&mut FormState> {
    rules.form.as_mut().filter(|form| match form.phase {
        Phase::Previewing { id: waiting } | Phase::Applying { id: waiting, .. } => waiting == id,
        _ => false,
    })
}

/// The writer refused: back to the form, the reasons by their fields when they name one.
fn refused(rules: &mut RuleEditing, error: WriteError) {
    if let (WriteError::NotAllowed { .. }, Some(form)) = (&error, &rules.form) {
        let namespace = form.target.namespace.clone();
        rules
            .access
            .insert(namespace, AccessCheck::Denied(sanitize(&error.to_string())));
    }
    let Some(form) = rules.form.as_mut() else {
        return;
    };
    form.phase = Phase::Editing;
    form.message = Some(sanitize(&error.to_string()));
    if let WriteError::Invalid { object, causes } = error {
        let (placed, rest): (Vec<_>, Vec<_>) = causes
            .iter()
            .map(|cause| (field_at(&cause.path), cause))
            .partition(|(field, _)| field.is_some());
        form.server_issues = placed
            .into_iter()
            .filter_map(|(field, cause)| Some(FieldIssue::new(field?, sanitize(&cause.message))))
            .collect();
        form.message = (!rest.is_empty()).then(|| {
            let rest: Vec<String> = rest.iter().map(|(_, c)| c.to_string()).collect();
            sanitize(&format!("{object} is invalid: {}", rest.join("; ")))
        });
    }
}

/// The form field a server's field path (`spec.http[0].fault.delay.fixedDelay`) is about.
pub fn field_at(path: &str) -> Option<Field> {
    const SUFFIXES: [(&str, Field); 18] = [
        ("fault.delay.fixedDelay", Field::DelayFixed),
        ("fault.delay.percentage.value", Field::DelayPercent),
        ("fault.delay.percentage", Field::DelayPercent),
        ("fault.abort.httpStatus", Field::AbortStatus),
        ("fault.abort.percentage.value", Field::AbortPercent),
        ("fault.abort.percentage", Field::AbortPercent),
        ("connectionPool.tcp.maxConnections", Field::MaxConnections),
        (
            "connectionPool.http.http1MaxPendingRequests",
            Field::MaxPendingRequests,
        ),
        (
            "connectionPool.http.maxRequestsPerConnection",
            Field::MaxRequestsPerConnection,
        ),
        (
            "outlierDetection.consecutive5xxErrors",
            Field::Consecutive5xxErrors,
        ),
        ("outlierDetection.interval", Field::Interval),
        ("outlierDetection.baseEjectionTime", Field::BaseEjectionTime),
        (
            "outlierDetection.maxEjectionPercent",
            Field::MaxEjectionPercent,
        ),
        ("retries.attempts", Field::Attempts),
        ("retries.perTryTimeout", Field::PerTryTimeout),
        ("retries.retryOn", Field::RetryOn),
        ("].timeout", Field::Timeout),
        ("].weight", Field::Weights),
    ];
    SUFFIXES
        .iter()
        .find(|(suffix, _)| path.ends_with(suffix))
        .map(|(_, field)| *field)
}

/// `u`: puts back what the last apply changed.
pub fn undo_last(state: &mut State) -> Outcome {
    let rules = &mut state.rules;
    if let WriteAccess::Disabled(reason) = &rules.writes {
        rules.notice = Some(RuleNotice::error(format!(
            "nothing can be undone: {reason}"
        )));
        return Outcome::redraw();
    }
    if rules.undoing.is_some() {
        rules.notice = Some(RuleNotice::error("an undo is under way"));
        return Outcome::redraw();
    }
    let Some(entry) = rules.undo.pop() else {
        rules.notice = Some(RuleNotice::error("nothing to undo"));
        return Outcome::redraw();
    };
    let id = rules.next_id();
    rules.notice = Some(RuleNotice::info(format!("undoing {}…", entry.label)));
    let applied = entry.applied.clone();
    rules.undoing = Some((id, entry));
    Outcome {
        effects: vec![Effect::Write(Box::new(WriteCommand::Undo { id, applied }))],
        redraw: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_field_paths_name_the_form_fields_they_are_about() {
        let cases = [
            (
                "spec.http[0].fault.delay.fixedDelay",
                Some(Field::DelayFixed),
            ),
            (
                "spec.http[2].fault.abort.percentage.value",
                Some(Field::AbortPercent),
            ),
            ("spec.http[1].route[0].weight", Some(Field::Weights)),
            ("spec.http[1].timeout", Some(Field::Timeout)),
            (
                "spec.http[1].retries.perTryTimeout",
                Some(Field::PerTryTimeout),
            ),
            (
                "spec.trafficPolicy.outlierDetection.maxEjectionPercent",
                Some(Field::MaxEjectionPercent),
            ),
            ("metadata.name", None),
        ];
        for (path, want) in cases {
            assert_eq!(field_at(path), want, "{path}");
        }
    }
}
