//! Pieces the workload, service and app views share: a traffic table with sparklines,
//! the selection's scroll position, and the placeholder of views not wired in yet.

use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};
use ratatui::Frame;

use super::health_style;
use crate::app::detail::TrafficRow;
use crate::app::format;
use crate::app::history::TrafficHistory;
use crate::app::views::ListCursor;
use crate::config::Slot;
use crate::ui::glyphs::health_mark;
use crate::ui::widgets::trend::draw_trend;
use crate::ui::Chrome;

/// Width of the sparkline column.
pub const TREND_WIDTH: u16 = 20;

pub fn millis(value: Option<f64>) -> String {
    value.map(format::millis).unwrap_or_else(|| "-".into())
}

/// The table state that shows the selected row, scrolled so it stays on screen.
pub fn table_state(cursor: &ListCursor, rows: usize, area: Rect) -> TableState {
    if rows == 0 {
        return TableState::default();
    }
    let selected = cursor.clamped(rows);
    let visible = usize::from(area.height.saturating_sub(1)).max(1);
    TableState::default()
        .with_selected(Some(selected))
        .with_offset(selected.saturating_sub(visible - 1))
}

/// A line saying what a list holds when it holds nothing.
pub fn empty_note(frame: &mut Frame, area: Rect, text: &str, chrome: &Chrome) {
    frame.render_widget(
        Paragraph::new(Span::styled(
            format!(" {text}"),
            chrome.theme.style(Slot::Muted),
        )),
        area,
    );
}

/// A node's edges: peer, protocol, rate, errors by class, latency, mTLS and the trend of
/// the rate. `visible` are the rows the filter lets through.
pub fn traffic_table(
    frame: &mut Frame,
    area: Rect,
    rows: &[TrafficRow],
    visible: &[usize],
    cursor: &ListCursor,
    history: &TrafficHistory,
    chrome: &Chrome,
) {
    let theme = chrome.theme;
    let shown: Vec<&TrafficRow> = visible.iter().filter_map(|&i| rows.get(i)).collect();
    let body: Vec<Row> = shown
        .iter()
        .map(|row| {
            let rate = format::edge_rate(row.protocol, row.rate);
            let mtls = format::share(row.mtls_share);
            let errors = |pct: f64| {
                let style = if pct > 0.0 {
                    health_style(theme, row.health)
                } else {
                    theme.style(Slot::Text)
                };
                Cell::from(Line::from(Span::styled(format::percent(pct), style)).right_aligned())
            };
            Row::new(vec![
                Cell::from(Span::styled(
                    health_mark(row.health, chrome.ascii),
                    health_style(theme, row.health),
                )),
                Cell::from(row.peer.clone()),
                Cell::from(row.protocol.as_str()),
                Cell::from(Line::from(rate).right_aligned()),
                errors(row.client_error_pct),
                errors(row.server_error_pct),
                Cell::from(Line::from(millis(row.p50_ms)).right_aligned()),
                Cell::from(Line::from(millis(row.p95_ms)).right_aligned()),
                Cell::from(Line::from(millis(row.p99_ms)).right_aligned()),
                Cell::from(Line::from(mtls).right_aligned()),
                Cell::from(""),
            ])
            .style(theme.style(Slot::Text))
        })
        .collect();
    let header = Row::new(vec![
        "", "PEER", "PROTO", "RATE", "4XX", "5XX", "P50", "P95", "P99", "mTLS", "TREND",
    ])
    .style(theme.style(Slot::Title));
    let widths = [
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(5),
        Constraint::Length(8),
        Constraint::Length(6),
        Constraint::Length(6),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Length(5),
        Constraint::Length(TREND_WIDTH),
    ];
    let table = Table::new(body, widths)
        .header(header)
        .column_spacing(1)
        .row_highlight_style(theme.style(Slot::Selection));
    let mut state = table_state(cursor, shown.len(), area);
    frame.render_stateful_widget(table, area, &mut state);
    // The sparklines go over the last column, which ends at the area's right edge.
    let x = area.x + area.width.saturating_sub(TREND_WIDTH);
    let rows_shown = usize::from(area.height.saturating_sub(1));
    for (line, row) in shown
        .iter()
        .skip(state.offset())
        .take(rows_shown)
        .enumerate()
    {
        let spark = Rect {
            x,
            y: area.y + 1 + line as u16,
            width: TREND_WIDTH.min(area.width),
            height: 1,
        };
        draw_trend(
            frame,
            spark,
            history.edge(&row.identity).map(|t| &t.rate),
            chrome,
        );
    }
}
