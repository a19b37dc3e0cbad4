//! The app view: one card per version, side by side, with its pods, traffic and health.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

use super::detail::{empty_note, millis};
use super::health_style;
use crate::app::application::{AppView, VersionRow};
use crate::app::format;
use crate::app::State;
use crate::config::Slot;
use crate::ui::glyphs::{health_mark, ASCII_BORDER};
use crate::ui::widgets::trend::draw_trend;
use crate::ui::Chrome;

/// Narrowest card; more versions than fit scroll sideways with the selection.
const CARD_WIDTH: u16 = 28;
const CARD_HEIGHT: u16 = 11;

pub fn app(frame: &mut Frame, area: Rect, state: &State, view: &AppView, chrome: &Chrome) {
    let theme = chrome.theme;
    let visible = view.visible_rows();
    let title = Line::from(vec![
        Span::styled(format!(" {}", view.id.name), theme.style(Slot::Title)),
        Span::styled(
            format!(
                "  app in {}  {} version{}",
                view.id.namespace,
                view.detail.versions.len(),
                if view.detail.versions.len() == 1 {
                    ""
                } else {
                    "s"
                }
            ),
            theme.style(Slot::Muted),
        ),
    ]);
    frame.render_widget(Paragraph::new(title), Rect { height: 1, ..area });
    let cards = Rect {
        y: area.y + 2,
        height: area.height.saturating_sub(2).min(CARD_HEIGHT),
        ..area
    };
    if visible.is_empty() {
        empty_note(frame, cards, "no versions", chrome);
        return;
    }
    let fit = usize::from((area.width / CARD_WIDTH).max(1));
    let selected = view.cursor.clamped(visible.len());
    let first = selected.saturating_sub(fit - 1);
    let width = area.width / fit.min(visible.len()) as u16;
    for (slot, &row) in visible.iter().skip(first).take(fit).enumerate() {
        let Some(version) = view.detail.versions.get(row) else {
            continue;
        };
        let card = Rect {
            x: area.x + slot as u16 * width,
            width,
            ..cards
        };
        version_card(
            frame,
            card,
            state,
            version,
            first + slot == selected,
            chrome,
        );
    }
}

fn version_card(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    version: &VersionRow,
    selected: bool,
    chrome: &Chrome,
) {
    let theme = chrome.theme;
    let border = if selected {
        theme.style(Slot::Focus)
    } else {
        theme.style(Slot::Border)
    };
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(border)
        .title(Span::styled(
            format!(" {} ", version.version.as_deref().unwrap_or("no version")),
            if selected {
                theme.style(Slot::Selection)
            } else {
                theme.style(Slot::Title)
            },
        ));
    if chrome.ascii {
        block = block.border_set(ASCII_BORDER);
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let text = theme.style(Slot::Text);
    let muted = theme.style(Slot::Muted);
    let field = |name: &str, value: String, style| {
        Line::from(vec![
            Span::styled(format!("{name:<9}"), muted),
            Span::styled(value, style),
        ])
    };
    let pods_style = if version.pods_ready < version.pods_desired {
        theme.style(Slot::HealthWarn)
    } else {
        text
    };
    let health = health_style(theme, version.health);
    let lines = vec![
        Line::from(Span::styled(version.workload.clone(), text)),
        Line::from(vec![
            Span::styled(
                format!("{} ", health_mark(version.health, chrome.ascii)),
                health,
            ),
            Span::styled(version.health.label(), health),
        ]),
        field(
            "pods",
            format!("{}/{} ready", version.pods_ready, version.pods_desired),
            pods_style,
        ),
        field("rps in", format::rate(version.rps_in), text),
        field(
            "errors",
            format::percent(version.error_pct),
            if version.error_pct > 0.0 {
                health
            } else {
                text
            },
        ),
        field("p95", millis(version.p95_ms), text),
        Line::from(Span::styled("inbound, recent", muted)),
    ];
    frame.render_widget(Paragraph::new(lines), inner);
    let spark = Rect {
        y: inner.y + 7,
        height: inner.height.saturating_sub(7).min(2),
        ..inner
    };
    if spark.height > 0 {
        let trend = version.node.as_ref().and_then(|k| state.history.node(k));
        draw_trend(frame, spark, trend.map(|t| &t.rate), chrome);
    }
}
