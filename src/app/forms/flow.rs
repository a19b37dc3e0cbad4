//! A form's way to the cluster and back: Enter asks for a preview, the diff waits for the
//! user's word, a 409 conflict asks twice before forcing.

use super::{Phase, WriteAccess};
use crate::app::action::Action;
use crate::app::effect::Effect;
use crate::app::state::State;
use crate::app::update::Outcome;
use crate::source::write::{Preview, WriteCommand};

/// An action in any phase but editing.
pub fn phase_action(state: &mut State, phase: Phase, action: Action) -> Option<Outcome> {
    let outcome = match phase {
        Phase::Editing => return None,
        Phase::Previewing { .. } | Phase::Applying { .. } => match action {
            // The answer still comes; it is shown if the form is still waiting for it.
            Action::Back if matches!(phase, Phase::Previewing { .. }) => {
                set_phase(state, Phase::Editing);
                Outcome::redraw()
            }
            _ => return passes_through(action),
        },
        Phase::Diff { preview, scroll } => match action {
            Action::Submit => apply(state, preview, false),
            Action::Back => {
                set_phase(state, Phase::Editing);
                Outcome::redraw()
            }
            Action::NextField | Action::PreviousField | Action::PageDown | Action::PageUp => {
                let step: i32 = match action {
                    Action::NextField => 1,
                    Action::PreviousField => -1,
                    Action::PageDown => 10,
                    _ => -10,
                };
                let last = state
                    .rules
                    .form
                    .as_ref()
                    .map_or(0, |f| f.diff.len().saturating_sub(1));
                let scroll = (i64::from(scroll) + i64::from(step)).clamp(0, last as i64);
                set_phase(
                    state,
                    Phase::Diff {
                        preview,
                        scroll: u16::try_from(scroll).unwrap_or(u16::MAX),
                    },
                );
                Outcome::redraw()
            }
            _ => return passes_through(action),
        },
        Phase::Conflict {
            preview,
            object,
            owners,
        } => match action {
            Action::ForceApply => {
                set_phase(
                    state,
                    Phase::ConfirmForce {
                        preview,
                        object,
                        owners,
                    },
                );
                Outcome::redraw()
            }
            Action::Back => {
                set_phase(state, Phase::Editing);
                Outcome::redraw()
            }
            _ => return passes_through(action),
        },
        Phase::ConfirmForce {
            preview,
            object,
            owners,
        } => match action {
            Action::Submit => apply(state, preview, true),
            Action::Back => {
                set_phase(
                    state,
                    Phase::Conflict {
                        preview,
                        object,
                        owners,
                    },
                );
                Outcome::redraw()
            }
            _ => return passes_through(action),
        },
    };
    Some(outcome)
}

/// Over a form only these reach the rest of the app; other keys do nothing.
pub fn passes_through(action: Action) -> Option<Outcome> {
    match action {
        Action::Quit | Action::ShowHelp | Action::Refresh | Action::TogglePause => None,
        _ => Some(Outcome::default()),
    }
}

fn set_phase(state: &mut State, phase: Phase) {
    if let Some(form) = state.rules.form.as_mut() {
        form.phase = phase;
    }
}

/// Enter on a form: the writer previews the change, unless something stops it (then the
/// reason is already on screen, and nothing is sent).
pub fn preview(state: &mut State) -> Outcome {
    if state.rules.apply_blocker().is_some() {
        return Outcome::default();
    }
    let id = state.rules.next_id();
    let Some(form) = state.rules.form.as_mut() else {
        return Outcome::default();
    };
    let Ok(change) = form.verdict.clone() else {
        return Outcome::default();
    };
    form.phase = Phase::Previewing { id };
    form.message = None;
    let request = super::rule_request(&form.target, &form.versions, change);
    Outcome {
        effects: vec![Effect::Write(Box::new(WriteCommand::Preview {
            id,
            request,
        }))],
        redraw: true,
    }
}

fn apply(state: &mut State, preview: Preview, force: bool) -> Outcome {
    if let WriteAccess::Disabled(_) = state.rules.writes {
        return Outcome::default();
    }
    let id = state.rules.next_id();
    set_phase(
        state,
        Phase::Applying {
            id,
            preview: preview.clone(),
        },
    );
    Outcome {
        effects: vec![Effect::Write(Box::new(WriteCommand::Apply {
            id,
            preview,
            force,
        }))],
        redraw: true,
    }
}
