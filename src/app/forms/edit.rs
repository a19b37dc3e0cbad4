//! Keys on an open form or the form menu: opening and closing forms, moving between rows,
//! typing, sliders and choices, canary rules.

use super::draft::{row_kind, rule_of, Draft, FormKind, RowKind};
use super::flow::{self, passes_through, preview};
use super::{target, AccessCheck, FormState, Phase, RuleEditing, RuleNotice, WriteAccess};
use crate::app::action::Action;
use crate::app::effect::Effect;
use crate::app::state::State;
use crate::app::update::Outcome;
use crate::mesh::rules::model::{RuleChange, Target};
use crate::mesh::rules::validate::Field;
use crate::source::write::WriteCommand;

/// Keys that type: into a form's row, the menu, or the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKey {
    Char(char),
    Backspace,
    /// Run the command line.
    Enter,
    /// Leave the command line.
    Esc,
}

/// One step of a slider with Shift held.
const BIG_STEP: i32 = 10;

/// Opens the form picker for the selected node's service.
pub fn open_menu(state: &mut State) -> Outcome {
    match selected_target(state) {
        Ok(_) => {
            state.rules.menu = Some(0);
            state.rules.notice = None;
        }
        Err(reason) => state.rules.notice = Some(RuleNotice::error(reason)),
    }
    Outcome::redraw()
}

/// The service a form edits: the one of the view on screen (a service, an app, or a
/// workload's app), else the graph's selection.
pub fn selected_target(state: &State) -> Result<Target, String> {
    use crate::app::views::View;
    let in_view = |namespace: &str, service: &str| Target {
        namespace: namespace.to_owned(),
        service: service.to_owned(),
    };
    match state.views.current() {
        View::Service(view) => return Ok(in_view(&view.id.namespace, &view.id.name)),
        View::App(view) => return Ok(in_view(&view.id.namespace, &view.id.name)),
        View::Workload(view) => {
            return match view.detail.facts.as_ref().and_then(|f| f.app.as_ref()) {
                Some(app) => Ok(in_view(&view.id.namespace, app)),
                None => Err(format!(
                    "{} has no app label: open its service to edit its routing",
                    view.id.name
                )),
            };
        }
        View::Topology | View::EdgeTable | View::Tree(_) => {}
    }
    let node = state
        .selection
        .as_ref()
        .and_then(|key| state.graph.node_index(key))
        .and_then(|i| state.graph.node(i))
        .ok_or_else(|| "select a service or an app first".to_owned())?;
    target::target_of(node)
}

/// Opens a form for `target` (the selection's service when `None`), with the draft it had
/// when last closed.
pub fn open_form(state: &mut State, kind: FormKind, target: Option<Target>) -> Outcome {
    state.rules.menu = None;
    // A form already open keeps its draft (reopening the same form finds it).
    close_form(&mut state.rules);
    let target = match target.map_or_else(|| selected_target(state), Ok) {
        Ok(target) => target,
        Err(reason) => {
            state.rules.notice = Some(RuleNotice::error(reason));
            return Outcome::redraw();
        }
    };
    let empty = crate::mesh::Inventory::default();
    let inventory = state.snapshot.as_ref().map_or(&empty, |s| &s.inventory);
    let versions = target::versions_of(inventory, &state.graph, &target);
    let virtual_services = target::virtual_services(inventory, &target);
    let names: Vec<String> = versions.iter().map(|v| v.version.name.clone()).collect();
    let saved = state
        .rules
        .drafts
        .iter()
        .position(|(t, k, _)| *t == target && *k == kind);
    let draft = match saved {
        Some(i) => state.rules.drafts.remove(i).2,
        None => {
            let current = target::current_split(inventory, &state.graph, &target, &versions);
            Draft::starting(kind, &names, current.as_deref())
        }
    };
    let mut form = FormState {
        kind,
        target,
        versions,
        virtual_services,
        draft,
        focus: 0,
        phase: Phase::Editing,
        verdict: Ok(RuleChange::Reset),
        server_issues: Vec::new(),
        message: None,
        diff: Vec::new(),
    };
    form.recheck();
    let effects = check_access(&mut state.rules, &form.target.namespace);
    state.rules.notice = None;
    state.rules.form = Some(form);
    Outcome {
        effects,
        redraw: true,
    }
}

/// Asks the writer, once per namespace, whether the user may write rules there.
fn check_access(rules: &mut RuleEditing, namespace: &str) -> Vec<Effect> {
    if rules.writes != WriteAccess::Enabled {
        return Vec::new();
    }
    match rules.access.get(namespace) {
        Some(AccessCheck::Allowed | AccessCheck::Checking(_)) => Vec::new(),
        // A refusal is asked again: the user may have been given the rights since.
        Some(AccessCheck::Denied(_)) | None => {
            let id = rules.next_id();
            rules
                .access
                .insert(namespace.to_owned(), AccessCheck::Checking(id));
            vec![Effect::Write(Box::new(WriteCommand::CheckAccess {
                id,
                namespace: namespace.to_owned(),
            }))]
        }
    }
}

/// Closes the form, keeping its draft for next time.
pub(super) fn close_form(rules: &mut RuleEditing) {
    if let Some(form) = rules.form.take() {
        rules
            .drafts
            .retain(|(t, k, _)| !(*t == form.target && *k == form.kind));
        rules.drafts.push((form.target, form.kind, form.draft));
    }
}

pub fn on_form_text(state: &mut State, key: TextKey) -> Outcome {
    if state.rules.command.is_some() {
        return super::command::on_command_key(state, key);
    }
    if let Some(selected) = state.rules.menu {
        return match key {
            TextKey::Char(c) => match FormKind::ALL.into_iter().find(|k| k.menu_key() == c) {
                Some(kind) => open_form(state, kind, None),
                None => Outcome::default(),
            },
            TextKey::Enter => open_form(state, FormKind::ALL[selected.min(5)], None),
            TextKey::Esc => {
                state.rules.menu = None;
                Outcome::redraw()
            }
            TextKey::Backspace => Outcome::default(),
        };
    }
    let Some(form) = state.rules.form.as_mut() else {
        return Outcome::default();
    };
    let Some(field) = form.focused() else {
        return Outcome::default();
    };
    if form.phase != Phase::Editing {
        return Outcome::default();
    }
    let changed = match key {
        TextKey::Char(c) => form.draft.push_char(field, c),
        TextKey::Backspace => form.draft.pop_char(field),
        TextKey::Enter | TextKey::Esc => false,
    };
    edited(form, changed)
}

fn edited(form: &mut FormState, changed: bool) -> Outcome {
    if !changed {
        return Outcome::default();
    }
    form.recheck();
    form.message = None;
    form.focus = form.focus.min(form.rows().len().saturating_sub(1));
    Outcome::redraw()
}

/// An action while the menu or a form is open; `None` lets the app handle it as usual.
pub fn on_form_action(state: &mut State, action: Action) -> Option<Outcome> {
    if let Some(selected) = state.rules.menu {
        let n = FormKind::ALL.len();
        let outcome = match action {
            Action::NextField => {
                state.rules.menu = Some((selected + 1) % n);
                Outcome::redraw()
            }
            Action::PreviousField => {
                state.rules.menu = Some((selected + n - 1) % n);
                Outcome::redraw()
            }
            Action::Submit => open_form(state, FormKind::ALL[selected.min(n - 1)], None),
            Action::Back => {
                state.rules.menu = None;
                Outcome::redraw()
            }
            _ => return passes_through(action),
        };
        return Some(outcome);
    }
    state.rules.form.as_ref()?;
    let phase = state.rules.form.as_ref().map(|f| f.phase.clone())?;
    let outcome = match phase {
        Phase::Editing => editing_action(state, action)?,
        phase => return flow::phase_action(state, phase, action),
    };
    Some(outcome)
}

fn editing_action(state: &mut State, action: Action) -> Option<Outcome> {
    if matches!(action, Action::Submit | Action::Back) {
        return Some(match action {
            Action::Submit => preview(state),
            _ => {
                close_form(&mut state.rules);
                Outcome::redraw()
            }
        });
    }
    let form = state.rules.form.as_mut()?;
    let rows = form.rows();
    let field = form.focused();
    let versions = form.version_names();
    let outcome = match action {
        Action::NextField | Action::PreviousField => {
            if rows.is_empty() {
                return Some(Outcome::default());
            }
            form.focus = if action == Action::NextField {
                (form.focus + 1) % rows.len()
            } else {
                (form.focus + rows.len() - 1) % rows.len()
            };
            Outcome::redraw()
        }
        Action::Decrease | Action::Increase | Action::DecreaseMore | Action::IncreaseMore => {
            let delta = match action {
                Action::Decrease => -1,
                Action::Increase => 1,
                Action::DecreaseMore => -BIG_STEP,
                _ => BIG_STEP,
            };
            let changed = match field {
                Some(Field::Weight(i)) => form.draft.split_mut().is_some_and(|split| {
                    let before = split.weights.clone();
                    split.nudge(i, delta);
                    split.weights != before
                }),
                Some(f) if row_kind(f) == RowKind::Choice => {
                    form.draft.cycle(f, delta.signum(), &versions)
                }
                _ => false,
            };
            edited(form, changed)
        }
        Action::ToggleLock => match field {
            Some(Field::Weight(i)) => {
                if let Some(split) = form.draft.split_mut() {
                    split.toggle_lock(i);
                }
                Outcome::redraw()
            }
            _ => Outcome::default(),
        },
        Action::AddRule => {
            let after = field.and_then(rule_of);
            match form.draft.add_rule(after, &versions) {
                Some(at) => {
                    let outcome = edited(form, true);
                    focus_rule(form, at);
                    outcome
                }
                None => Outcome::default(),
            }
        }
        Action::RemoveRule => match field.and_then(rule_of) {
            Some(i) if form.draft.remove_rule(i) => {
                let outcome = edited(form, true);
                focus_rule(form, i.saturating_sub(1));
                outcome
            }
            _ => Outcome::default(),
        },
        Action::MoveRuleUp | Action::MoveRuleDown => {
            let delta = if action == Action::MoveRuleUp { -1 } else { 1 };
            match field
                .and_then(rule_of)
                .and_then(|i| form.draft.move_rule(i, delta))
            {
                Some(to) => {
                    let outcome = edited(form, true);
                    focus_rule(form, to);
                    outcome
                }
                None => Outcome::default(),
            }
        }
        _ => return passes_through(action),
    };
    Some(outcome)
}

/// Puts the focus on the first row of canary rule `i`.
fn focus_rule(form: &mut FormState, i: usize) {
    if let Some(at) = form.rows().iter().position(|f| rule_of(*f) == Some(i)) {
        form.focus = at;
    }
}
