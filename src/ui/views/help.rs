//! The help overlay, built from the live keymap so it always tells the truth.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use crate::app::State;
use crate::config::{KeyContext, Slot};
use crate::ui::Chrome;

pub fn help(frame: &mut Frame, area: Rect, scroll: u16, _state: &State, chrome: &Chrome) {
    let theme = chrome.theme;
    let width = area.width.saturating_sub(4).min(76);
    let height = area.height.saturating_sub(2);
    let popup = Rect {
        x: area.x + (area.width.saturating_sub(width)) / 2,
        y: area.y + 1,
        width,
        height,
    };
    let mut lines = Vec::new();
    for (title, context) in [
        ("Everywhere", KeyContext::Global),
        ("Topology", KeyContext::Topology),
        ("Edge table", KeyContext::EdgeTable),
        ("This help", KeyContext::Help),
    ] {
        lines.push(Line::from(Span::styled(title, theme.style(Slot::Title))));
        for binding in chrome.keymap.bindings(context) {
            let keys: Vec<String> = binding.keys.iter().map(|k| k.to_string()).collect();
            lines.push(Line::from(vec![
                Span::styled(
                    format!("  {:<18}", keys.join(" ")),
                    theme.style(Slot::HelpKey),
                ),
                Span::styled(binding.description.clone(), theme.style(Slot::Text)),
            ]));
        }
        lines.push(Line::default());
    }
    lines.push(Line::from(Span::styled(
        "Edges: ─ mTLS  ╌ plain text.  Marks: ● healthy ▲ degraded ✖ failing ○ no traffic",
        theme.style(Slot::Muted),
    )));
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style(Slot::Border))
        .title(Span::styled(
            " Keys — Esc closes ",
            theme.style(Slot::Title),
        ));
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(block).scroll((scroll, 0)),
        popup,
    );
}
