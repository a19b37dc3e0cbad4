//! The help overlay, built from the live keymap so it always tells the truth.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use crate::app::State;
use crate::config::{KeyContext, Slot};
use crate::layout::{glyph, LEFT, RIGHT};
use crate::mesh::Health;
use crate::ui::glyphs::{dashed, health_mark, ASCII_BORDER};
use crate::ui::Chrome;

/// What the line styles and health marks mean, in the characters this terminal gets.
fn legend(chrome: &Chrome) -> Vec<Line<'static>> {
    let solid = glyph(LEFT | RIGHT, chrome.ascii);
    let edges = format!(
        "Edges: {solid} mTLS   {} plain text",
        dashed(solid, chrome.ascii)
    );
    let mut marks = String::from("Marks:");
    for health in [
        Health::Healthy,
        Health::Degraded,
        Health::Failure,
        Health::NoTraffic,
    ] {
        marks.push_str(&format!(
            " {} {}",
            health_mark(health, chrome.ascii),
            health.label()
        ));
    }
    let style = chrome.theme.style(Slot::Muted);
    vec![
        Line::from(Span::styled(edges, style)),
        Line::from(Span::styled(marks, style)),
    ]
}

/// Every line of the help, built from the live keymap.
fn help_lines(chrome: &Chrome) -> Vec<Line<'static>> {
    let theme = chrome.theme;
    let mut lines = legend(chrome);
    lines.push(Line::default());
    for (title, context) in [
        ("Everywhere", KeyContext::Global),
        ("Topology", KeyContext::Topology),
        ("Edge table", KeyContext::EdgeTable),
        ("Workload, service and app views", KeyContext::Detail),
        ("Rule forms", KeyContext::Form),
        ("Access log", KeyContext::AccessLog),
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
    lines
}

/// How many lines the help has, so that scrolling can stop at its end.
pub fn help_line_count(chrome: &Chrome) -> u16 {
    u16::try_from(help_lines(chrome).len()).unwrap_or(u16::MAX)
}

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
    let lines = help_lines(chrome);
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style(Slot::Border))
        .title(Span::styled(
            if chrome.ascii {
                " Keys - Esc closes "
            } else {
                " Keys — Esc closes "
            },
            theme.style(Slot::Title),
        ));
    if chrome.ascii {
        block = block.border_set(ASCII_BORDER);
    }
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(block).scroll((scroll, 0)),
        popup,
    );
}
