//! Draws `&State` with ratatui; owns no data. Imports `app`, `layout`, `config`, `mesh`.

mod canvas;
mod forms;
pub mod glyphs;
mod views;
pub mod widgets;

pub use views::{draw_access_log, help_line_count};

use ratatui::layout::Rect;
use ratatui::Frame;

use crate::app::workload::WorkloadTab;
use crate::app::{Overlay, State, View};
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
    match (state.overlay, state.views.current()) {
        (Some(Overlay::Help { .. }), _) => KeyContext::Help,
        (None, View::Workload(view))
            if view.tab == WorkloadTab::Logs && state.logs.open.is_some() =>
        {
            KeyContext::AccessLog
        }
        (None, View::Workload(view))
            if view.tab == WorkloadTab::Interfaces && state.interfaces.is_some() =>
        {
            KeyContext::Interfaces
        }
        (None, View::EdgeTable) => KeyContext::EdgeTable,
        (None, View::Topology) => KeyContext::Topology,
        (None, View::Workload(_) | View::Service(_) | View::App(_)) => KeyContext::Detail,
        (None, View::Tree(_)) => KeyContext::Tree,
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
    match state.views.current() {
        View::Topology => views::topology(frame, body, state, chrome),
        View::EdgeTable => views::edge_table(frame, body, state, chrome),
        View::Workload(view) => views::workload(frame, body, state, view, chrome),
        View::Service(view) => views::service(frame, body, state, view, chrome),
        View::App(view) => views::app(frame, body, state, view, chrome),
        View::Tree(navigator) => views::tree(frame, body, navigator, state.find.is_some(), chrome),
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
