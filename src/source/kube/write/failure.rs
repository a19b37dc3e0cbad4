//! The API server's refusals as [`WriteError`]s a user can act on: 403 names the right
//! missing, 409 either names the managers owning the fields (server-side apply) or says the
//! object changed, 422 names each invalid field. Text from the server is sanitized.

use crate::mesh::rules::Violation;
use crate::mesh::sanitize::sanitize;
use crate::source::write::{FieldOwner, WriteError};

use super::rest::{ApiStatus, Failure};

/// What a request was about, for the messages.
pub struct Subject {
    pub verb: &'static str,
    /// `virtualservices.networking.istio.io`.
    pub resource: String,
    pub namespace: String,
    /// `VirtualService bookinfo/reviews`.
    pub object: String,
}

pub fn write_error(failure: Failure, subject: &Subject) -> WriteError {
    let status = match failure {
        Failure::Transport(reason) => {
            return WriteError::Failed(sanitize(&format!(
                "{} {}: the API server did not answer: {reason}",
                subject.verb, subject.object
            )))
        }
        Failure::Api(status) => status,
    };
    let object = subject.object.clone();
    match status.code {
        403 => WriteError::NotAllowed {
            verb: subject.verb.to_owned(),
            resource: subject.resource.clone(),
            namespace: subject.namespace.clone(),
            reason: sanitize(&status.message),
        },
        404 => WriteError::NotFound { object },
        409 if is_field_conflict(&status) => WriteError::Conflict {
            object,
            owners: owners(&status),
            message: sanitize(&status.message),
        },
        // Optimistic concurrency: a resourceVersion, a precondition, or a name taken since.
        409 => WriteError::Changed { object },
        422 => WriteError::Invalid {
            object,
            causes: violations(&status),
        },
        code => WriteError::Failed(sanitize(&format!(
            "{} {}: {} (HTTP {code})",
            subject.verb, subject.object, status.message
        ))),
    }
}

pub fn is_field_conflict(status: &ApiStatus) -> bool {
    status
        .causes
        .iter()
        .any(|c| c.reason == "FieldManagerConflict")
}

/// The owner of each conflicting field.
fn owners(status: &ApiStatus) -> Vec<FieldOwner> {
    status
        .causes
        .iter()
        .filter(|c| c.reason == "FieldManagerConflict")
        .map(|cause| FieldOwner {
            field: sanitize(&cause.field),
            manager: sanitize(&conflicting_manager(&cause.message)),
        })
        .collect()
}

/// The manager a conflict cause names. The API server writes `conflict with "NAME"`, the
/// name quoted as Go quotes strings, then ` using API-VERSION` for managers that wrote with
/// an update rather than an apply (and ` with subresource "S"` for subresources). A message
/// in another shape is kept whole, so nothing the server said is lost.
pub fn conflicting_manager(message: &str) -> String {
    message
        .strip_prefix("conflict with ")
        .and_then(go_unquote)
        .unwrap_or_else(|| message.to_owned())
}

/// The Go-quoted string at the start of `text` (`"a\"b"` is `a"b`).
fn go_unquote(text: &str) -> Option<String> {
    let mut chars = text.strip_prefix('"')?.chars();
    let mut out = String::new();
    loop {
        match chars.next()? {
            '"' => return Some(out),
            '\\' => {
                let escaped = chars.next()?;
                let digits = match escaped {
                    'x' => 2,
                    'u' => 4,
                    'U' => 8,
                    _ => 0,
                };
                if digits > 0 {
                    let hex: String = chars.by_ref().take(digits).collect();
                    let code = u32::from_str_radix(&hex, 16).ok()?;
                    out.push(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
                    continue;
                }
                out.push(match escaped {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    'a' => '\u{7}',
                    'b' => '\u{8}',
                    'f' => '\u{c}',
                    'v' => '\u{b}',
                    other => other,
                });
            }
            c => out.push(c),
        }
    }
}

/// A violation per cause, at the field the server names; the whole message when it names
/// none.
fn violations(status: &ApiStatus) -> Vec<Violation> {
    let from_causes: Vec<Violation> = status
        .causes
        .iter()
        .map(|cause| Violation {
            path: sanitize(&cause.field),
            message: sanitize(&cause.message),
        })
        .collect();
    if from_causes.is_empty() {
        vec![Violation {
            path: String::new(),
            message: sanitize(&status.message),
        }]
    } else {
        from_causes
    }
}

#[cfg(test)]
mod tests {
    use super::super::rest::Cause;
    use super::*;

    fn subject() -> Subject {
        Subject {
            verb: "patch",
            resource: "virtualservices.networking.istio.io".into(),
            namespace: "bookinfo".into(),
            object: "VirtualService bookinfo/reviews".into(),
        }
    }

    fn status(code: u16, message: &str, causes: &[(&str, &str, &str)]) -> Failure {
        Failure::Api(ApiStatus {
            code,
            reason: String::new(),
            message: message.into(),
            causes: causes
                .iter()
                .map(|(reason, message, field)| Cause {
                    reason: (*reason).into(),
                    message: (*message).into(),
                    field: (*field).into(),
                })
                .collect(),
        })
    }

    #[test]
    fn conflict_causes_name_the_manager_as_the_api_server_quotes_it() {
        let cases = [
            (
                "an applier",
                r#"conflict with "platform-team""#,
                "platform-team",
            ),
            (
                "an updater, with the version it wrote",
                r#"conflict with "kubectl-client-side-apply" using networking.istio.io/v1"#,
                "kubectl-client-side-apply",
            ),
            (
                "a subresource",
                r#"conflict with "istiod" with subresource "status" using networking.istio.io/v1"#,
                "istiod",
            ),
            (
                "escaped quotes",
                r#"conflict with "say \"hi\"""#,
                "say \"hi\"",
            ),
            (
                "hex and unicode escapes",
                r#"conflict with "a\x41\u00e9""#,
                "aAé",
            ),
            (
                "another shape is kept whole",
                "field owned by someone",
                "field owned by someone",
            ),
            (
                "an unterminated quote is kept whole",
                r#"conflict with "half"#,
                r#"conflict with "half"#,
            ),
        ];
        for (name, message, manager) in cases {
            assert_eq!(conflicting_manager(message), manager, "{name}");
        }
    }

    #[test]
    fn a_409_with_field_manager_conflicts_names_every_owner_and_field() {
        let error = write_error(
            status(
                409,
                "Apply failed with 2 conflicts: ...",
                &[
                    (
                        "FieldManagerConflict",
                        r#"conflict with "kubectl-edit" using networking.istio.io/v1"#,
                        ".spec.http",
                    ),
                    (
                        "FieldManagerConflict",
                        r#"conflict with "ops""#,
                        ".metadata.labels.team",
                    ),
                ],
            ),
            &subject(),
        );
        assert_eq!(
            error,
            WriteError::Conflict {
                object: "VirtualService bookinfo/reviews".into(),
                owners: vec![
                    FieldOwner {
                        field: ".spec.http".into(),
                        manager: "kubectl-edit".into()
                    },
                    FieldOwner {
                        field: ".metadata.labels.team".into(),
                        manager: "ops".into()
                    },
                ],
                message: "Apply failed with 2 conflicts: ...".into(),
            }
        );
        assert_eq!(
            error.to_string(),
            "VirtualService bookinfo/reviews: fields owned by other managers: .spec.http (kubectl-edit), .metadata.labels.team (ops)"
        );
    }

    #[test]
    fn other_refusals_become_what_the_user_can_do_about_them() {
        let cases = [
            (
                "a stale resourceVersion",
                status(409, "Operation cannot be fulfilled on virtualservices.networking.istio.io \"reviews\": the object has been modified; please apply your changes to the latest version and try again", &[]),
                "VirtualService bookinfo/reviews changed since the preview; preview again",
            ),
            (
                "RBAC",
                status(403, "virtualservices.networking.istio.io \"reviews\" is forbidden: User \"u\" cannot patch resource \"virtualservices\" in API group \"networking.istio.io\" in the namespace \"bookinfo\"", &[]),
                "you may not patch virtualservices.networking.istio.io in bookinfo: virtualservices.networking.istio.io \"reviews\" is forbidden: User \"u\" cannot patch resource \"virtualservices\" in API group \"networking.istio.io\" in the namespace \"bookinfo\"",
            ),
            (
                "a schema refusal names each field",
                status(422, "VirtualService.networking.istio.io \"reviews\" is invalid: ...", &[
                    ("FieldValueInvalid", "Invalid value: \"string\": must be a valid duration greater than 1ms", "spec.http[0].timeout"),
                ]),
                "VirtualService bookinfo/reviews is invalid: spec.http[0].timeout: Invalid value: \"string\": must be a valid duration greater than 1ms",
            ),
            (
                "a server error keeps its message and code, without escapes",
                status(500, "etcdserver: request timed out\u{1b}[2J", &[]),
                "patch VirtualService bookinfo/reviews: etcdserver: request timed out (HTTP 500)",
            ),
            (
                "no answer",
                Failure::Transport("connection refused".into()),
                "patch VirtualService bookinfo/reviews: the API server did not answer: connection refused",
            ),
        ];
        for (name, failure, expected) in cases {
            assert_eq!(
                write_error(failure, &subject()).to_string(),
                expected,
                "{name}"
            );
        }
    }
}
