//! The interfaces view: a workload's operations as a sortable table, or, when the mesh does
//! not report the operation label, what that means and the key that enables it; the
//! Telemetry's preview drawn over it.

use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table, TableState, Wrap};
use ratatui::Frame;

use crate::app::format;
use crate::app::interfaces::{EnableFlow, InterfacesState, InterfacesStatus, OperationRow};
use crate::app::Action;
use crate::config::{KeyContext, Slot};
use crate::mesh::rules::telemetry::OPERATION_EXPRESSION;
use crate::ui::Chrome;

/// Error rates above this are drawn as failing, above a tenth of it as degraded (Kiali's
/// default request thresholds).
const FAILING_PCT: f64 = 20.0;

fn key(chrome: &Chrome, action: Action) -> String {
    chrome
        .keymap
        .hint(KeyContext::Interfaces, action)
        .unwrap_or_else(|| action.name().to_owned())
}

/// Draws the view in `area`; `now_unix_s` measures the data's age.
pub fn draw_interfaces(
    frame: &mut Frame,
    area: Rect,
    view: &InterfacesState,
    chrome: &Chrome,
    now_unix_s: f64,
) {
    let theme = chrome.theme;
    let dot = if chrome.ascii { "|" } else { "·" };
    let age = view
        .data_age_s(now_unix_s)
        .map(|s| format!(" {dot} {} old", format::age(s)))
        .unwrap_or_default();
    let title = format!(
        " Operations of {} {dot} inbound, as its proxy reports them {dot} {} {dot} by {}{age}",
        view.workload,
        view.label,
        view.sort_label(chrome.ascii)
    );
    let mut y = area.y;
    let line = |y: u16| Rect {
        y,
        height: 1,
        ..area
    };
    frame.render_widget(
        Paragraph::new(Span::styled(title, theme.style(Slot::Title))),
        line(y),
    );
    y += 1;
    if view.filtering || !view.filter.is_empty() {
        let cursor = if view.filtering { "_" } else { "" };
        frame.render_widget(
            Paragraph::new(Span::styled(
                format!(" /{}{cursor}", view.filter),
                theme.style(Slot::Match),
            )),
            line(y),
        );
        y += 1;
    }
    let footer_rows = u16::from(view.message.is_some());
    let body = Rect {
        y,
        height: (area.y + area.height).saturating_sub(y + footer_rows),
        ..area
    };
    match &view.status {
        InterfacesStatus::NotReported { rps } => not_reported(frame, body, view, *rps, chrome),
        InterfacesStatus::NoTraffic => {
            text(
                frame,
                body,
                chrome,
                Slot::Muted,
                &[format!(
                    " No requests reached {} in the window.",
                    view.workload
                )],
            );
        }
        InterfacesStatus::Loading if view.rows.is_empty() => {
            text(
                frame,
                body,
                chrome,
                Slot::Muted,
                &[" Reading operations…".into()],
            );
        }
        InterfacesStatus::Failed(error) if view.rows.is_empty() => {
            text(frame, body, chrome, Slot::Danger, &[format!(" {error}")]);
        }
        status => table(frame, body, view, status, chrome),
    }
    if let Some(message) = &view.message {
        frame.render_widget(
            Paragraph::new(Span::styled(
                format!(" {message}"),
                theme.style(Slot::Status),
            )),
            line(area.y + area.height.saturating_sub(1)),
        );
    }
    match &view.enable {
        EnableFlow::Diff { scroll, .. } => preview(frame, area, view, *scroll, chrome),
        EnableFlow::Previewing { .. } | EnableFlow::Applying { .. } => {
            let word = if matches!(view.enable, EnableFlow::Applying { .. }) {
                "Applying"
            } else {
                "Previewing"
            };
            frame.render_widget(
                Paragraph::new(Span::styled(
                    format!(" {word} the Telemetry…"),
                    theme.style(Slot::Status),
                )),
                line(area.y + area.height.saturating_sub(1)),
            );
        }
        EnableFlow::Idle => {}
    }
}

fn text(frame: &mut Frame, area: Rect, chrome: &Chrome, slot: Slot, lines: &[String]) {
    let lines: Vec<Line> = lines
        .iter()
        .map(|l| Line::from(Span::styled(l.clone(), chrome.theme.style(slot))))
        .collect();
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}

fn not_reported(frame: &mut Frame, area: Rect, view: &InterfacesState, rps: f64, chrome: &Chrome) {
    let theme = chrome.theme;
    let namespace = &view.workload.namespace;
    let lines = vec![
        Line::default(),
        Line::from(Span::styled(
            format!(" The mesh does not report {} here.", view.label),
            theme.style(Slot::HealthWarn),
        )),
        Line::from(Span::styled(
            format!(
                " {} receives {}, but no series carries a {} label, so its traffic cannot be split by operation.",
                view.workload,
                format::rate(rps),
                view.label
            ),
            theme.style(Slot::Text),
        )),
        Line::default(),
        Line::from(vec![
            Span::styled(" Press ", theme.style(Slot::Text)),
            Span::styled(key(chrome, Action::EnableOperations), theme.style(Slot::HelpKey)),
            Span::styled(
                format!(
                    " to enable it: a Telemetry resource in namespace {namespace} sets {} to",
                    view.label
                ),
                theme.style(Slot::Text),
            ),
        ]),
        Line::from(Span::styled(
            format!(" {OPERATION_EXPRESSION} on request counts and durations, both sides."),
            theme.style(Slot::Text),
        )),
        Line::from(Span::styled(
            " You see the diff first; u undoes it. Paths with IDs in them make one series per ID.",
            theme.style(Slot::Muted),
        )),
    ];
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}

fn error_slot(pct: f64) -> Slot {
    if pct >= FAILING_PCT {
        Slot::HealthFail
    } else if pct >= FAILING_PCT / 10.0 {
        Slot::HealthWarn
    } else {
        Slot::Text
    }
}

fn table(
    frame: &mut Frame,
    area: Rect,
    view: &InterfacesState,
    status: &InterfacesStatus,
    chrome: &Chrome,
) {
    let theme = chrome.theme;
    let rows = view.visible_rows();
    let right = |text: String, slot: Slot| {
        Cell::from(Line::from(Span::styled(text, theme.style(slot))).right_aligned())
    };
    let body: Vec<Row> = rows
        .iter()
        .map(|row: &&OperationRow| {
            Row::new(vec![
                Cell::from(row.operation.clone()),
                right(format::rate(row.rps), Slot::Text),
                right(
                    format::percent(row.error_pct()),
                    error_slot(row.error_pct()),
                ),
                right(format::percent(row.client_error_pct), Slot::Text),
                right(
                    format::percent(row.server_error_pct),
                    error_slot(row.server_error_pct),
                ),
                right(
                    row.p95_ms.map(format::millis).unwrap_or_else(|| "-".into()),
                    Slot::Text,
                ),
            ])
            .style(theme.style(Slot::Text))
        })
        .collect();
    let header = Row::new(vec![
        Cell::from("OPERATION"),
        Cell::from(Line::from("RPS").right_aligned()),
        Cell::from(Line::from("ERR %").right_aligned()),
        Cell::from(Line::from("4XX").right_aligned()),
        Cell::from(Line::from("5XX").right_aligned()),
        Cell::from(Line::from("P95").right_aligned()),
    ])
    .style(theme.style(Slot::Title));
    let widths = [
        Constraint::Fill(1),
        Constraint::Length(9),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Length(8),
    ];
    let note = match status {
        InterfacesStatus::Ready { unlabelled_rps } if *unlabelled_rps > 0.0 => Some((
            format!(
                " Besides: {} without a {} label.",
                format::rate(*unlabelled_rps),
                view.label
            ),
            Slot::Muted,
        )),
        InterfacesStatus::Failed(error) => Some((format!(" {error}"), Slot::Danger)),
        _ if rows.is_empty() => Some((" No operation matches the filter.".into(), Slot::Muted)),
        _ => None,
    };
    let table_area = Rect {
        height: area.height.saturating_sub(u16::from(note.is_some())),
        ..area
    };
    let table = Table::new(body, widths)
        .header(header)
        .column_spacing(1)
        .row_highlight_style(theme.style(Slot::Selection));
    let mut state = TableState::default();
    if !rows.is_empty() {
        let selected = view.selected.min(rows.len() - 1);
        let visible = usize::from(table_area.height.saturating_sub(1)).max(1);
        state = state
            .with_selected(Some(selected))
            .with_offset(selected.saturating_sub(visible - 1));
    }
    frame.render_stateful_widget(table, table_area, &mut state);
    if let Some((text, slot)) = note {
        frame.render_widget(
            Paragraph::new(Span::styled(text, theme.style(slot))),
            Rect {
                y: area.y + area.height.saturating_sub(1),
                height: 1,
                ..area
            },
        );
    }
}

/// The Telemetry's diff, over the view.
fn preview(frame: &mut Frame, area: Rect, view: &InterfacesState, scroll: u16, chrome: &Chrome) {
    let theme = chrome.theme;
    let width = area.width.saturating_sub(8).min(100);
    let height = u16::try_from(view.diff.len() + 5)
        .unwrap_or(u16::MAX)
        .min(area.height.saturating_sub(2));
    let popup = Rect {
        x: area.x + area.width.saturating_sub(width) / 2,
        y: area.y + 1,
        width,
        height,
    };
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style(Slot::Border))
        .title(Span::styled(
            format!(
                " Preview: report {} in {} ",
                view.label, view.workload.namespace
            ),
            theme.style(Slot::Title),
        ));
    if chrome.ascii {
        block = block.border_set(crate::ui::glyphs::ASCII_BORDER);
    }
    let inner = block.inner(popup);
    frame.render_widget(Clear, popup);
    frame.render_widget(block, popup);
    let rows = usize::from(inner.height).saturating_sub(2);
    let mut lines = crate::ui::forms::diff_lines(&view.diff, scroll, rows, chrome);
    lines.push(Line::from(Span::styled(
        format!(
            " {} apply (server-side, field manager meshtui) {} {} back {} u undoes it afterwards",
            key(chrome, Action::Submit),
            if chrome.ascii { "|" } else { "·" },
            key(chrome, Action::Back),
            if chrome.ascii { "|" } else { "·" },
        ),
        theme.style(Slot::HelpKey),
    )));
    frame.render_widget(Paragraph::new(lines), inner);
}
