//! Draws `&State` with ratatui; owns no data. Imports `app`, `layout`, `config`, `mesh`.

mod canvas;
mod forms;
pub mod glyphs;
mod views;

pub use views::{draw_access_log, help_line_count};

use ratatui::layout::Rect;
use ratatui::Frame;

use crate::app::{Mode, Overlay, State};
use crate::config::{KeyContext, Keymap, Theme};

/// What drawing needs besides the state: the look and the keys, fixed for a session.
pub struct Chrome<'a> {
    pub theme: &'a Theme,
    pub keymap: &'a Keymap,
    /// Draw with ASCII only (no UTF-8 locale, or `--ascii`).
    pub ascii: bool,
}

/// The keymap section that applies in the state's current mode.
pub fn key_context(state: &State) -> KeyContext {
    if state.overlay.is_none() && (state.rules.form.is_some() || state.rules.menu.is_some()) {
        return KeyContext::Form;
    }
    match (state.overlay, state.mode) {
        (Some(Overlay::Help { .. }), _) => KeyContext::Help,
        (None, _) if state.logs.open.is_some() => KeyContext::AccessLog,
        (None, _) if state.interfaces.is_some() => KeyContext::Interfaces,
        (None, Mode::EdgeTable) => KeyContext::EdgeTable,
        (None, Mode::Topology) => KeyContext::Topology,
    }
}

/// Draws the whole screen. Pure: reads `state`, changes nothing.
pub fn draw(frame: &mut Frame, state: &State, chrome: &Chrome) {
    let area = frame.area();
    if state.too_small() {
        views::too_small(frame, area, chrome);
        return;
    }
    let header = Rect { height: 1, ..area };
    let body = Rect {
        y: area.y + 1,
        height: area.height.saturating_sub(2),
        ..area
    };
    let footer = Rect {
        y: area.y + area.height.saturating_sub(1),
        height: 1,
        ..area
    };
    views::header(frame, header, state, chrome);
    match (&state.logs.open, &state.interfaces, state.mode) {
        (Some(log), _, _) => draw_access_log(frame, body, log, chrome),
        (None, Some(view), _) => {
            views::draw_interfaces(frame, body, view, chrome, state.now_unix_s)
        }
        (None, None, Mode::Topology) => views::topology(frame, body, state, chrome),
        (None, None, Mode::EdgeTable) => views::edge_table(frame, body, state, chrome),
    }
    let notice_row = Rect {
        y: footer.y.saturating_sub(1),
        height: 1,
        ..area
    };
    views::notice(frame, notice_row, state, chrome);
    views::status_bar(frame, footer, state, chrome);
    forms::draw(frame, body, state, chrome);
    if let Some(Overlay::Help { scroll }) = state.overlay {
        views::help(frame, body, scroll, state, chrome);
    }
}
