//! The edge table: every visible edge with its numbers, sortable.

use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, Table, TableState};
use ratatui::Frame;

use super::health_style;
use crate::app::format;
use crate::app::update::table_rows;
use crate::app::State;
use crate::config::Slot;
use crate::ui::glyphs::health_mark;
use crate::ui::Chrome;

pub fn edge_table(frame: &mut Frame, area: Rect, state: &State, chrome: &Chrome) {
    let theme = chrome.theme;
    let rows = table_rows(state);
    let ms = |v: Option<f64>| v.map(format::millis).unwrap_or_else(|| "-".into());
    let body: Vec<Row> = rows
        .iter()
        .map(|row| {
            let rate = format::edge_rate(row.protocol, row.rate);
            let mtls = format::share(row.mtls_share);
            Row::new(vec![
                Cell::from(Span::styled(
                    health_mark(row.health, chrome.ascii),
                    health_style(theme, row.health),
                )),
                Cell::from(row.source.clone()),
                Cell::from(row.destination.clone()),
                Cell::from(row.protocol.as_str()),
                Cell::from(Line::from(rate).right_aligned()),
                Cell::from(
                    Line::from(Span::styled(
                        format::percent(row.error_pct),
                        health_style(theme, row.health),
                    ))
                    .right_aligned(),
                ),
                Cell::from(Line::from(ms(row.p50_ms)).right_aligned()),
                Cell::from(Line::from(ms(row.p95_ms)).right_aligned()),
                Cell::from(Line::from(ms(row.p99_ms)).right_aligned()),
                Cell::from(Line::from(mtls).right_aligned()),
            ])
            .style(theme.style(Slot::Text))
        })
        .collect();
    let header = Row::new(vec![
        "",
        "SOURCE",
        "DESTINATION",
        "PROTO",
        "RATE",
        "ERR",
        "P50",
        "P95",
        "P99",
        "mTLS",
    ])
    .style(theme.style(Slot::Title));
    let widths = [
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Fill(1),
        Constraint::Length(5),
        Constraint::Length(8),
        Constraint::Length(6),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Length(5),
    ];
    let table = Table::new(body, widths)
        .header(header)
        .column_spacing(1)
        .row_highlight_style(theme.style(Slot::Selection));
    let mut table_state = TableState::default();
    if !rows.is_empty() {
        let selected = state.table.selected.min(rows.len() - 1);
        let visible = usize::from(area.height.saturating_sub(1)).max(1);
        table_state = table_state
            .with_selected(Some(selected))
            .with_offset(selected.saturating_sub(visible - 1));
    }
    frame.render_stateful_widget(table, area, &mut table_state);
}
