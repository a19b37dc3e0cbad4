//! Frames of the real `ui::draw`, rendered into ratatui's `TestBackend`, and their text.

use meshtui::app::State;
use meshtui::config::LoadedConfig;
use meshtui::ui::{self, Chrome};
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::Terminal;

/// One frame of `state` at its screen size.
pub fn render(state: &State, config: &LoadedConfig) -> Buffer {
    let mut terminal =
        Terminal::new(TestBackend::new(state.screen_width, state.screen_height)).unwrap();
    let chrome = Chrome {
        theme: &config.theme,
        keymap: &config.keymap,
        ascii: config.ascii,
    };
    terminal
        .draw(|frame| ui::draw(frame, state, &chrome))
        .unwrap();
    terminal.backend().buffer().clone()
}

/// The frame's characters, one line per row.
pub fn text(buffer: &Buffer) -> String {
    let mut out = String::new();
    for y in 0..buffer.area.height {
        for x in 0..buffer.area.width {
            out.push_str(buffer[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}
