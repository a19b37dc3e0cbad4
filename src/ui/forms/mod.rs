//! Rule forms drawn over the graph: the form picker, a form with its fields and their
//! errors, the preview's diff, and the conflict dialogs. Reads `state.rules`; owns nothing.

mod dialogs;
mod fields;
mod labels;

pub use dialogs::diff_lines;

use ratatui::layout::Rect;
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders, Clear};
use ratatui::Frame;

use crate::app::forms::Phase;
use crate::app::{Action, State};
use crate::config::{KeyContext, Slot};
use crate::ui::glyphs::ASCII_BORDER;
use crate::ui::Chrome;

/// The widest a form gets: wider only spreads the same text.
pub const MAX_WIDTH: u16 = 100;

pub fn draw(frame: &mut Frame, body: Rect, state: &State, chrome: &Chrome) {
    let rules = &state.rules;
    if let Some(selected) = rules.menu {
        dialogs::menu(frame, body, state, selected, chrome);
    }
    let Some(form) = &rules.form else { return };
    match &form.phase {
        Phase::Diff { scroll, .. } => dialogs::diff(frame, body, form, *scroll, chrome),
        _ => fields::form(frame, body, state, form, chrome),
    }
    match &form.phase {
        Phase::Conflict { object, owners, .. } => {
            dialogs::conflict(frame, body, object, owners, false, chrome)
        }
        Phase::ConfirmForce { object, owners, .. } => {
            dialogs::conflict(frame, body, object, owners, true, chrome)
        }
        _ => {}
    }
}

/// A box of at most `width` x `height`, centred in `area` horizontally, one row down.
fn popup(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width.saturating_sub(4));
    let height = height.min(area.height.saturating_sub(2));
    Rect {
        x: area.x + (area.width.saturating_sub(width)) / 2,
        y: area.y + 1,
        width,
        height,
    }
}

/// A cleared, bordered box with a title, and the area inside it.
fn frame_box(frame: &mut Frame, area: Rect, title: &str, chrome: &Chrome) -> Rect {
    let theme = chrome.theme;
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style(Slot::Border))
        .title(Span::styled(format!(" {title} "), theme.style(Slot::Title)));
    if chrome.ascii {
        block = block.border_set(ASCII_BORDER);
    }
    let inner = block.inner(area);
    frame.render_widget(Clear, area);
    frame.render_widget(block, area);
    inner
}

/// `key what` for each action the keymap binds in forms, joined for a footer.
fn hints(chrome: &Chrome, actions: &[(Action, &str)]) -> String {
    actions
        .iter()
        .filter_map(|(action, word)| {
            let key = chrome.keymap.hint(KeyContext::Form, *action)?;
            Some(format!("{key} {word}"))
        })
        .collect::<Vec<_>>()
        .join(if chrome.ascii { " | " } else { " · " })
}
