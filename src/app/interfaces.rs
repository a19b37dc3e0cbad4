//! The interfaces view of one workload: its inbound operations (method and path, or gRPC
//! method) with rate, errors and p95, sortable and filterable; and, when the mesh does not
//! report the operation label, the one key that enables it (a Telemetry applied like a
//! rule: preview, diff, apply, undo with `u`).
//!
//! Self-contained: [`InterfacesState::open`] gives the state and the first query; the
//! caller routes actions, filter keys, reports and write events here and re-asks
//! [`InterfacesState::query`] on every refresh.

use std::time::Duration;

use super::action::Action;
use super::effect::Effect;
use super::forms::diff::{diff_rows, DiffRow};
use super::forms::{RuleEditing, RuleNotice, UndoEntry, WriteAccess};
use super::update::{FindKey, Outcome};
use crate::mesh::operations::{OperationStats, OperationsOutcome, WorkloadRef};
use crate::mesh::rules::model::{RuleChange, Target};
use crate::mesh::sanitize::sanitize;
use crate::mesh::{MeshNode, NodeKind};
use crate::source::operations::{OperationsError, OperationsQuery, OperationsReport};
use crate::source::write::{Preview, RuleRequest, WriteCommand, WriteEvent};

/// The workload a graph node stands for, when it stands for exactly one.
pub fn workload_of(node: &MeshNode) -> Option<WorkloadRef> {
    let name = match node.kind {
        NodeKind::Workload => Some(node.name.clone()),
        _ => node.workload.clone(),
    }?;
    Some(WorkloadRef {
        cluster: node.cluster.clone(),
        namespace: node.namespace.clone(),
        name,
    })
}

/// The column the table is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OperationSort {
    #[default]
    Rate,
    Errors,
    P95,
    Name,
}

impl OperationSort {
    pub fn next(self) -> Self {
        match self {
            OperationSort::Rate => OperationSort::Errors,
            OperationSort::Errors => OperationSort::P95,
            OperationSort::P95 => OperationSort::Name,
            OperationSort::Name => OperationSort::Rate,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            OperationSort::Rate => "rps",
            OperationSort::Errors => "error %",
            OperationSort::P95 => "p95",
            OperationSort::Name => "operation",
        }
    }
}

/// One row as shown: the operation's name sanitized.
#[derive(Debug, Clone, PartialEq)]
pub struct OperationRow {
    pub operation: String,
    pub rps: f64,
    pub client_error_pct: f64,
    pub server_error_pct: f64,
    pub p95_ms: Option<f64>,
}

impl OperationRow {
    fn of(stats: &OperationStats) -> Self {
        OperationRow {
            operation: sanitize(&stats.operation),
            rps: stats.rps(),
            client_error_pct: stats.errors.client_error_pct(),
            server_error_pct: stats.errors.server_error_pct(),
            p95_ms: stats.p95_ms,
        }
    }

    pub fn error_pct(&self) -> f64 {
        self.client_error_pct + self.server_error_pct
    }
}

/// What the view knows so far.
#[derive(Debug, Clone, PartialEq)]
pub enum InterfacesStatus {
    Loading,
    /// Rows (possibly none after filtering); `unlabelled_rps` arrived without the label.
    Ready {
        unlabelled_rps: f64,
    },
    /// The workload has requests, but none carries the label.
    NotReported {
        rps: f64,
    },
    NoTraffic,
    /// The last query failed; rows from before stay on screen.
    Failed(String),
}

/// The way to enabling the operation label.
#[derive(Debug, Clone, PartialEq)]
pub enum EnableFlow {
    Idle,
    Previewing { id: u64 },
    Diff { preview: Preview, scroll: u16 },
    Applying { id: u64, preview: Preview },
}

#[derive(Debug, Clone, PartialEq)]
pub struct InterfacesState {
    pub workload: WorkloadRef,
    /// The metric label operations are read from (`--operation-label`), sanitized.
    pub label: String,
    /// Every row of the last report, unsorted.
    pub rows: Vec<OperationRow>,
    pub status: InterfacesStatus,
    pub sort: OperationSort,
    pub reversed: bool,
    /// The `/` filter: rows whose operation contains it (case-insensitive).
    pub filter: String,
    /// The filter line takes typed characters.
    pub filtering: bool,
    /// Index into [`InterfacesState::visible_rows`].
    pub selected: usize,
    /// When the rows on screen were taken (Unix seconds).
    pub taken_at_unix_s: Option<f64>,
    pub enable: EnableFlow,
    /// The preview's diff, built once.
    pub diff: Vec<DiffRow>,
    /// The last word about enabling (an error, or what happened).
    pub message: Option<String>,
}

impl InterfacesState {
    /// The view for `workload`, and the effect that asks for its operations.
    pub fn open(
        workload: WorkloadRef,
        label: &str,
        window: Duration,
        at_unix_s: Option<f64>,
    ) -> (Self, Effect) {
        let state = InterfacesState {
            workload,
            label: sanitize(label),
            rows: Vec::new(),
            status: InterfacesStatus::Loading,
            sort: OperationSort::default(),
            reversed: false,
            filter: String::new(),
            filtering: false,
            selected: 0,
            taken_at_unix_s: None,
            enable: EnableFlow::Idle,
            diff: Vec::new(),
            message: None,
        };
        let effect = state.query(window, at_unix_s);
        (state, effect)
    }

    /// The query to send on every refresh while the view is open.
    pub fn query(&self, window: Duration, at_unix_s: Option<f64>) -> Effect {
        Effect::QueryOperations(OperationsQuery {
            workload: self.workload.clone(),
            label: self.label.clone(),
            window,
            at_unix_s,
        })
    }

    /// Rows that pass the filter, in the chosen order.
    pub fn visible_rows(&self) -> Vec<&OperationRow> {
        let filter = self.filter.to_lowercase();
        let mut rows: Vec<&OperationRow> = self
            .rows
            .iter()
            .filter(|r| filter.is_empty() || r.operation.to_lowercase().contains(&filter))
            .collect();
        let by_name = |a: &&OperationRow, b: &&OperationRow| a.operation.cmp(&b.operation);
        rows.sort_by(|a, b| {
            let p95 = |r: &OperationRow| r.p95_ms.unwrap_or(-1.0);
            let order = match self.sort {
                // Busiest, most failing, slowest first; names A to Z.
                OperationSort::Rate => b.rps.total_cmp(&a.rps),
                OperationSort::Errors => b.error_pct().total_cmp(&a.error_pct()),
                OperationSort::P95 => p95(b).total_cmp(&p95(a)),
                OperationSort::Name => std::cmp::Ordering::Equal,
            };
            order.then_with(|| by_name(a, b))
        });
        if self.reversed {
            rows.reverse();
        }
        rows
    }

    /// `rps ↓` or `rps desc`.
    pub fn sort_label(&self, ascii: bool) -> String {
        super::format::sort_label(self.sort.label(), self.reversed, ascii)
    }

    /// Seconds since the rows were taken.
    pub fn data_age_s(&self, now_unix_s: f64) -> Option<f64> {
        self.taken_at_unix_s.map(|t| (now_unix_s - t).max(0.0))
    }

    /// A report arrived. One for another workload or label (an answer to a view since
    /// closed) is ignored.
    /// The answer to `query`; ignored unless it is about what the view shows now (a slow
    /// answer, or failure, for the workload shown before must not land on this one).
    pub fn on_report(
        &mut self,
        query: &OperationsQuery,
        report: Result<OperationsReport, OperationsError>,
    ) -> Outcome {
        if query.workload != self.workload || query.label != self.label {
            return Outcome::default();
        }
        let report = match report {
            Ok(report) => report,
            Err(error) => {
                self.status = InterfacesStatus::Failed(sanitize(&error.to_string()));
                return Outcome::redraw();
            }
        };
        let selected = self.selected_operation();
        self.taken_at_unix_s = Some(report.taken_at_unix_s);
        match report.outcome {
            OperationsOutcome::Operations {
                rows,
                unlabelled_rps,
            } => {
                self.rows = rows.iter().map(OperationRow::of).collect();
                self.status = InterfacesStatus::Ready { unlabelled_rps };
            }
            OperationsOutcome::NotReported { rps } => {
                self.rows.clear();
                self.status = InterfacesStatus::NotReported { rps };
            }
            OperationsOutcome::NoTraffic => {
                self.rows.clear();
                self.status = InterfacesStatus::NoTraffic;
            }
        }
        self.follow(selected);
        Outcome::redraw()
    }

    fn selected_operation(&self) -> Option<String> {
        self.visible_rows()
            .get(self.selected)
            .map(|r| r.operation.clone())
    }

    /// Keeps the selection on the same operation after rows moved.
    fn follow(&mut self, operation: Option<String>) {
        let rows = self.visible_rows();
        let found = operation.and_then(|o| rows.iter().position(|r| r.operation == o));
        self.selected = found
            .unwrap_or(self.selected)
            .min(rows.len().saturating_sub(1));
    }

    /// A key of the filter line.
    pub fn on_filter_key(&mut self, key: FindKey) -> Outcome {
        match key {
            FindKey::Char(c) => self.filter.push(c),
            FindKey::Backspace => {
                self.filter.pop();
            }
            FindKey::Accept => self.filtering = false,
            FindKey::Cancel => {
                self.filtering = false;
                self.filter.clear();
            }
            FindKey::NextMatch => return self.on_table_action(Action::SelectDown),
            FindKey::PreviousMatch => return self.on_table_action(Action::SelectUp),
        }
        self.selected = 0;
        Outcome::redraw()
    }

    fn on_table_action(&mut self, action: Action) -> Outcome {
        let count = self.visible_rows().len();
        let before = (self.selected, self.sort, self.reversed);
        let last = count.saturating_sub(1);
        let selected = self.selected_operation();
        match action {
            Action::SelectUp => self.selected = self.selected.saturating_sub(1),
            Action::SelectDown => self.selected = (self.selected + 1).min(last),
            Action::PageUp => self.selected = self.selected.saturating_sub(10),
            Action::PageDown => self.selected = (self.selected + 10).min(last),
            Action::CycleSort => {
                self.sort = self.sort.next();
                self.follow(selected);
            }
            Action::ReverseSort => {
                self.reversed = !self.reversed;
                self.follow(selected);
            }
            _ => return Outcome::default(),
        }
        Outcome {
            effects: Vec::new(),
            redraw: (self.selected, self.sort, self.reversed) != before,
        }
    }

    /// An action while the view is open; `None` when it is not the view's (the caller
    /// handles it: quit, help, refresh, back out of the view).
    pub fn on_action(&mut self, rules: &mut RuleEditing, action: Action) -> Option<Outcome> {
        match self.enable.clone() {
            EnableFlow::Diff { preview, scroll } => {
                return Some(match action {
                    Action::Submit => self.apply(rules, preview),
                    Action::Back => {
                        self.enable = EnableFlow::Idle;
                        Outcome::redraw()
                    }
                    Action::SelectDown
                    | Action::NextField
                    | Action::SelectUp
                    | Action::PreviousField => {
                        let down = matches!(action, Action::SelectDown | Action::NextField);
                        let last = u16::try_from(self.diff.len().saturating_sub(1)).unwrap_or(0);
                        let scroll = if down {
                            scroll.saturating_add(1).min(last)
                        } else {
                            scroll.saturating_sub(1)
                        };
                        self.enable = EnableFlow::Diff { preview, scroll };
                        Outcome::redraw()
                    }
                    Action::Quit | Action::ShowHelp => return None,
                    _ => Outcome::default(),
                });
            }
            EnableFlow::Previewing { .. } if action == Action::Back => {
                self.enable = EnableFlow::Idle;
                return Some(Outcome::redraw());
            }
            _ => {}
        }
        match action {
            Action::EnableOperations => Some(self.preview(rules)),
            Action::Find => {
                self.filtering = true;
                Some(Outcome::redraw())
            }
            Action::Back if !self.filter.is_empty() => {
                self.filter.clear();
                self.selected = 0;
                Some(Outcome::redraw())
            }
            Action::SelectUp
            | Action::SelectDown
            | Action::PageUp
            | Action::PageDown
            | Action::CycleSort
            | Action::ReverseSort => Some(self.on_table_action(action)),
            _ => None,
        }
    }

    /// The one key: preview the Telemetry that makes the namespace report the label.
    fn preview(&mut self, rules: &mut RuleEditing) -> Outcome {
        if !matches!(self.status, InterfacesStatus::NotReported { .. }) {
            self.message = Some(format!("the mesh reports {} here already", self.label));
            return Outcome::redraw();
        }
        if let WriteAccess::Disabled(reason) = &rules.writes {
            self.message = Some(format!("cannot enable {}: {reason}", self.label));
            return Outcome::redraw();
        }
        if self.enable != EnableFlow::Idle {
            return Outcome::default();
        }
        let id = rules.next_id();
        self.enable = EnableFlow::Previewing { id };
        self.message = None;
        let request = RuleRequest {
            target: Target {
                namespace: self.workload.namespace.clone(),
                service: String::new(),
            },
            versions: Vec::new(),
            change: RuleChange::ReportOperations {
                label: self.label.clone(),
            },
        };
        Outcome {
            effects: vec![Effect::Write(Box::new(WriteCommand::Preview {
                id,
                request,
            }))],
            redraw: true,
        }
    }

    fn apply(&mut self, rules: &mut RuleEditing, preview: Preview) -> Outcome {
        let id = rules.next_id();
        rules.applying_telemetry = Some((id, self.undo_label()));
        self.enable = EnableFlow::Applying {
            id,
            preview: preview.clone(),
        };
        Outcome {
            effects: vec![Effect::Write(Box::new(WriteCommand::Apply {
                id,
                preview,
                force: false,
            }))],
            redraw: true,
        }
    }

    /// The writer's answer, when it is one this view waits for; `None` otherwise.
    pub fn on_write_event(
        &mut self,
        rules: &mut RuleEditing,
        event: &WriteEvent,
    ) -> Option<Outcome> {
        match (&self.enable, event) {
            (EnableFlow::Previewing { id }, WriteEvent::Previewed { id: answer, result })
                if id == answer =>
            {
                match result {
                    Ok(preview) if preview.objects.is_empty() => {
                        self.enable = EnableFlow::Idle;
                        self.message = Some("nothing to change: the Telemetry is in place".into());
                    }
                    Ok(preview) => {
                        self.diff = diff_rows(preview);
                        self.enable = EnableFlow::Diff {
                            preview: preview.clone(),
                            scroll: 0,
                        };
                    }
                    Err(error) => {
                        self.enable = EnableFlow::Idle;
                        self.message = Some(sanitize(&error.to_string()));
                    }
                }
                Some(Outcome::redraw())
            }
            (EnableFlow::Applying { id, .. }, WriteEvent::Applied { id: answer, result })
                if id == answer =>
            {
                self.enable = EnableFlow::Idle;
                record_telemetry_applied(rules, event);
                self.message = Some(match result {
                    Ok(_) => "applied: operations show once new requests are labelled".into(),
                    Err(error) => sanitize(&error.to_string()),
                });
                Some(Outcome::redraw())
            }
            _ => None,
        }
    }

    fn undo_label(&self) -> String {
        format!(
            "Operations ({}) reported in {}",
            self.label, self.workload.namespace
        )
    }
}

/// The answer to a Telemetry apply, wherever the user has gone since: an undo entry and a
/// notice. `None` when the event answers something else.
pub fn record_telemetry_applied(rules: &mut RuleEditing, event: &WriteEvent) -> Option<Outcome> {
    let WriteEvent::Applied { id, result } = event else {
        return None;
    };
    let label = match &rules.applying_telemetry {
        Some((waited, label)) if waited == id => label.clone(),
        _ => return None,
    };
    rules.applying_telemetry = None;
    match result {
        Ok(applied) => {
            rules.notice = Some(RuleNotice::info(format!(
                "applied {label}; it shows from the next refresh; u undoes it"
            )));
            if !applied.objects.is_empty() {
                rules.undo.push(UndoEntry {
                    label,
                    applied: applied.clone(),
                });
            }
        }
        Err(error) => {
            rules.notice = Some(RuleNotice::error(format!(
                "{label} not applied: {}",
                sanitize(&error.to_string())
            )))
        }
    }
    Some(Outcome::redraw())
}
