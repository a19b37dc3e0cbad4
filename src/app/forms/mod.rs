//! Rule editing: the open form and its draft, checks as you type, the preview's diff, the
//! apply with its conflicts, and the undo stack. Talks to a writer only through effects.

pub mod command;
pub mod diff;
pub mod draft;
mod edit;
mod flow;
pub mod target;
mod weights;
mod writes;

pub use draft::{Draft, FormKind, RowKind};
pub use edit::{on_form_action, on_form_text, open_form, open_menu, selected_target, TextKey};
pub use weights::WeightsDraft;
pub use writes::{field_at, on_write_event, undo_last};

use std::collections::BTreeMap;

use serde_json::Value;

use crate::mesh::rules::model::{RuleChange, Target};
use crate::mesh::rules::validate::{self, Field, FieldIssue, ServiceVersion, Surroundings};
/// The owners a 409 names, for the conflict dialog.
pub use crate::source::write::FieldOwner;
use crate::source::write::{Applied, Preview, RuleRequest};
use diff::DiffRow;

/// Whether this session may write at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteAccess {
    Enabled,
    /// Every write is off, and why (`--readonly`, or a source that cannot write).
    Disabled(String),
}

/// What the cluster said about writing in a namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessCheck {
    Checking(u64),
    Allowed,
    Denied(String),
}

/// Where a form is on its way to the cluster.
#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    Editing,
    /// The writer renders the rule and dry-runs it.
    Previewing {
        id: u64,
    },
    /// The diff is on screen, waiting for the user's word.
    Diff {
        preview: Preview,
        scroll: u16,
    },
    Applying {
        id: u64,
        preview: Preview,
    },
    /// Other managers own fields the apply would change (409).
    Conflict {
        preview: Preview,
        object: String,
        owners: Vec<FieldOwner>,
    },
    /// The user asked to force; one more confirmation.
    ConfirmForce {
        preview: Preview,
        object: String,
        owners: Vec<FieldOwner>,
    },
}

/// The form on screen.
#[derive(Debug, Clone, PartialEq)]
pub struct FormState {
    pub kind: FormKind,
    pub target: Target,
    pub versions: Vec<ServiceVersion>,
    /// VirtualServices that route the service now (for IST0109).
    pub virtual_services: Vec<Value>,
    pub draft: Draft,
    /// The focused row, an index into `draft.rows()`.
    pub focus: usize,
    pub phase: Phase,
    /// The checks' verdict on the draft: the change, or what is wrong with it.
    pub verdict: Result<RuleChange, Vec<FieldIssue>>,
    /// What the server refused (422), by field, until the next edit.
    pub server_issues: Vec<FieldIssue>,
    /// The writer's last word not tied to a field (an error, or "nothing to change").
    pub message: Option<String>,
    /// The diff of the last preview, built once.
    pub diff: Vec<DiffRow>,
}

impl FormState {
    pub fn version_names(&self) -> Vec<String> {
        self.versions
            .iter()
            .map(|v| v.version.name.clone())
            .collect()
    }

    pub fn rows(&self) -> Vec<Field> {
        self.draft.rows()
    }

    pub fn focused(&self) -> Option<Field> {
        self.rows().get(self.focus).copied()
    }

    /// Runs the checks on the draft again.
    pub fn recheck(&mut self) {
        self.verdict = check_draft(
            &self.draft,
            &self.target,
            &self.versions,
            &self.virtual_services,
        );
        self.server_issues.clear();
    }

    /// Every issue of a field, the checks' first, then the server's.
    pub fn issues_of(&self, field: Field) -> Vec<&FieldIssue> {
        let checked = self.verdict.as_ref().err().into_iter().flatten();
        checked
            .chain(&self.server_issues)
            .filter(|i| i.field == field)
            .collect()
    }

    pub fn issue_count(&self) -> usize {
        self.verdict.as_ref().err().map_or(0, Vec::len) + self.server_issues.len()
    }
}

/// The field and semantic checks on a draft: the change it asks for, or every issue with
/// its field. The forms run them as you type; `meshtui rule` runs the same.
pub fn check_draft(
    draft: &Draft,
    target: &Target,
    versions: &[ServiceVersion],
    virtual_services: &[Value],
) -> Result<RuleChange, Vec<FieldIssue>> {
    validate::check(
        &draft.input(),
        &Surroundings {
            target,
            versions,
            virtual_services,
            destination_rules: &[],
        },
    )
}

/// What the writer is asked to preview for a checked change.
pub fn rule_request(
    target: &Target,
    versions: &[ServiceVersion],
    change: RuleChange,
) -> RuleRequest {
    RuleRequest {
        target: target.clone(),
        versions: versions.iter().map(|v| v.version.clone()).collect(),
        change,
    }
}

/// One change that was applied, and what undo puts back.
#[derive(Debug, Clone, PartialEq)]
pub struct UndoEntry {
    /// e.g. `Gray release on reviews.bookinfo`.
    pub label: String,
    pub applied: Applied,
}

/// A line of news about writes, for the notice row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleNotice {
    pub text: String,
    pub is_error: bool,
}

impl RuleNotice {
    pub fn info(text: impl Into<String>) -> Self {
        RuleNotice {
            text: text.into(),
            is_error: false,
        }
    }

    pub fn error(text: impl Into<String>) -> Self {
        RuleNotice {
            text: text.into(),
            is_error: true,
        }
    }
}

/// Everything about rule editing in the app's state.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleEditing {
    pub writes: WriteAccess,
    pub access: BTreeMap<String, AccessCheck>,
    pub form: Option<FormState>,
    /// The form picker (`e`), with its highlighted entry.
    pub menu: Option<usize>,
    /// The `:` command line while it is typed.
    pub command: Option<String>,
    /// Drafts of closed forms, so reopening one finds what was typed.
    pub drafts: Vec<(Target, FormKind, Draft)>,
    pub undo: Vec<UndoEntry>,
    /// An undo sent to the writer, not answered yet.
    pub undoing: Option<(u64, UndoEntry)>,
    /// A Telemetry apply sent from the interfaces tab, not answered yet, with its undo
    /// label: its answer must reach the undo stack even if the tab was left meanwhile.
    pub applying_telemetry: Option<(u64, String)>,
    pub notice: Option<RuleNotice>,
    next_id: u64,
}

/// Why nothing is written when no writer was given.
pub const NO_WRITER: &str = "this source cannot write rules";

impl Default for RuleEditing {
    fn default() -> Self {
        RuleEditing {
            writes: WriteAccess::Disabled(NO_WRITER.into()),
            access: BTreeMap::new(),
            form: None,
            menu: None,
            command: None,
            drafts: Vec::new(),
            undo: Vec::new(),
            undoing: None,
            applying_telemetry: None,
            notice: None,
            next_id: 1,
        }
    }
}

impl RuleEditing {
    pub fn next_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Why the open form cannot be applied now; `None` when it can.
    pub fn apply_blocker(&self) -> Option<String> {
        let form = self.form.as_ref()?;
        if let WriteAccess::Disabled(reason) = &self.writes {
            return Some(reason.clone());
        }
        match self.access.get(&form.target.namespace) {
            Some(AccessCheck::Denied(reason)) => return Some(reason.clone()),
            Some(AccessCheck::Checking(_)) | None => {
                return Some("checking that you may write rules here…".into())
            }
            Some(AccessCheck::Allowed) => {}
        }
        match form.issue_count() {
            0 => None,
            1 => Some("fix the problem shown first".into()),
            n => Some(format!("fix the {n} problems shown first")),
        }
    }

    /// Whether a character goes into the focused row rather than to the keymap: any
    /// character on a text row, digits on a weight.
    pub fn types(&self, c: char) -> bool {
        if self.command.is_some() || self.menu.is_some() {
            return true;
        }
        let Some(form) = &self.form else { return false };
        if form.phase != Phase::Editing {
            return false;
        }
        match form.focused().map(draft::row_kind) {
            Some(RowKind::Text) => true,
            Some(RowKind::Weight) => c.is_ascii_digit(),
            _ => false,
        }
    }
}
