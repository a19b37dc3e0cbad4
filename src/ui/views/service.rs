//! The service view: ports and selector, the configured split against the observed one,
//! the endpoints, and beside them the YAML of the Istio config that touches the service.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};
use ratatui::Frame;

use super::detail::{empty_note, table_state};
use crate::app::format;
use crate::app::service::{ServiceDetail, ServiceView};
use crate::app::State;
use crate::config::Slot;
use crate::mesh::inventory::IstioKind;
use crate::ui::glyphs::ASCII_BORDER;
use crate::ui::widgets::yaml::yaml_line;
use crate::ui::Chrome;

pub fn service(frame: &mut Frame, area: Rect, _state: &State, view: &ServiceView, chrome: &Chrome) {
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(area);
    let split_rows = view.detail.split.len().max(1) as u16 + 2;
    let [facts, split, endpoints] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Length(split_rows + 1),
        Constraint::Fill(1),
    ])
    .areas(left);
    frame.render_widget(Paragraph::new(fact_lines(view, chrome)), facts);
    split_table(frame, split, &view.detail, chrome);
    endpoints_table(frame, endpoints, view, chrome);
    config_yaml(frame, right, view, chrome);
}

fn fact_lines(view: &ServiceView, chrome: &Chrome) -> Vec<Line<'static>> {
    let theme = chrome.theme;
    let muted = theme.style(Slot::Muted);
    let text = theme.style(Slot::Text);
    let Some(facts) = &view.detail.facts else {
        return vec![Line::from(vec![
            Span::styled(format!(" {}", view.id.name), theme.style(Slot::Title)),
            Span::styled("  not in the inventory (metrics only)", muted),
        ])];
    };
    let ports: Vec<String> = facts
        .ports
        .iter()
        .map(|p| {
            let name = p
                .name
                .as_deref()
                .map(|n| format!("{n} "))
                .unwrap_or_default();
            let arrow = if chrome.ascii { "->" } else { "→" };
            format!("{name}{}{arrow}{}/{}", p.port, p.target_port, p.protocol)
        })
        .collect();
    let selector: Vec<String> = facts
        .selector
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let or_dash = |items: Vec<String>| {
        if items.is_empty() {
            "-".to_owned()
        } else {
            items.join("  ")
        }
    };
    vec![
        Line::from(vec![
            Span::styled(format!(" {}", view.id.name), theme.style(Slot::Title)),
            Span::styled(format!("  {}", facts.host), muted),
            Span::styled(if facts.external { "  external" } else { "" }, text),
        ]),
        Line::from(vec![
            Span::styled("   ports ", muted),
            Span::styled(or_dash(ports), text),
        ]),
        Line::from(vec![
            Span::styled("   selector ", muted),
            Span::styled(or_dash(selector), text),
        ]),
    ]
}

fn percent(value: Option<f64>) -> String {
    value
        .map(|v| format!("{v:.0}%"))
        .unwrap_or_else(|| "-".into())
}

fn split_table(frame: &mut Frame, area: Rect, detail: &ServiceDetail, chrome: &Chrome) {
    let theme = chrome.theme;
    let title = match &detail.routed_by {
        Some(name) => format!(" split: VirtualService {name} against traffic"),
        None => " split: no VirtualService, traffic as observed".to_owned(),
    };
    let [title_area, table_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
    frame.render_widget(
        Paragraph::new(Span::styled(title, theme.style(Slot::Muted))),
        title_area,
    );
    if detail.split.is_empty() {
        empty_note(
            frame,
            table_area,
            "no requests to the service in the window",
            chrome,
        );
        return;
    }
    let rows: Vec<Row> = detail
        .split
        .iter()
        .map(|row| {
            // A share more than 10 points off what was asked for stands out.
            let off = matches!(
                (row.configured_pct, row.observed_pct),
                (Some(c), Some(o)) if (c - o).abs() > 10.0
            );
            let observed_style = if off {
                theme.style(Slot::HealthWarn)
            } else {
                theme.style(Slot::Text)
            };
            Row::new(vec![
                Cell::from(format!(" {}", row.version)),
                Cell::from(Line::from(percent(row.configured_pct)).right_aligned()),
                Cell::from(
                    Line::from(Span::styled(percent(row.observed_pct), observed_style))
                        .right_aligned(),
                ),
                Cell::from(Line::from(format::rate(row.observed_rps)).right_aligned()),
            ])
            .style(theme.style(Slot::Text))
        })
        .collect();
    let header = Row::new(vec![" VERSION", "CONFIGURED", "OBSERVED", "RATE"])
        .style(theme.style(Slot::Title));
    let table = Table::new(
        rows,
        [
            Constraint::Fill(1),
            Constraint::Length(10),
            Constraint::Length(9),
            Constraint::Length(8),
        ],
    )
    .header(header)
    .column_spacing(1);
    frame.render_widget(table, table_area);
}

fn endpoints_table(frame: &mut Frame, area: Rect, view: &ServiceView, chrome: &Chrome) {
    let theme = chrome.theme;
    let visible = view.visible_rows();
    let ready = view.detail.endpoints.iter().filter(|e| e.ready).count();
    let [title_area, table_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
    frame.render_widget(
        Paragraph::new(Span::styled(
            format!(
                " endpoints: {ready} ready, {} not ready",
                view.detail.endpoints.len() - ready
            ),
            theme.style(Slot::Muted),
        )),
        title_area,
    );
    if view.detail.endpoints.is_empty() {
        empty_note(frame, table_area, "no endpoints", chrome);
        return;
    }
    let rows: Vec<Row> = visible
        .iter()
        .filter_map(|&i| view.detail.endpoints.get(i))
        .map(|e| {
            let (label, slot) = if e.ready {
                ("ready", Slot::HealthOk)
            } else {
                ("not ready", Slot::HealthFail)
            };
            Row::new(vec![
                Cell::from(format!(" {}", e.address)),
                Cell::from(Span::styled(label, theme.style(slot))),
                Cell::from(e.pod.clone().unwrap_or_else(|| "-".into())),
                Cell::from(e.node.clone().unwrap_or_else(|| "-".into())),
            ])
            .style(theme.style(Slot::Text))
        })
        .collect();
    let count = rows.len();
    let header = Row::new(vec![" ADDRESS", "STATE", "POD", "NODE"]).style(theme.style(Slot::Title));
    let table = Table::new(
        rows,
        [
            Constraint::Length(16),
            Constraint::Length(9),
            Constraint::Fill(2),
            Constraint::Fill(1),
        ],
    )
    .header(header)
    .column_spacing(1)
    .row_highlight_style(theme.style(Slot::Selection));
    let mut state = table_state(&view.cursor, count, table_area);
    frame.render_stateful_widget(table, table_area, &mut state);
}

fn config_yaml(frame: &mut Frame, area: Rect, view: &ServiceView, chrome: &Chrome) {
    let theme = chrome.theme;
    let mut lines: Vec<Line> = Vec::new();
    for document in &view.detail.config {
        let kind = match document.kind {
            IstioKind::VirtualService => "VirtualService",
            IstioKind::DestinationRule => "DestinationRule",
            _ => "config",
        };
        lines.push(Line::from(Span::styled(
            format!("# {kind} {}/{}", document.namespace, document.name),
            theme.style(Slot::Muted),
        )));
        lines.extend(document.yaml.iter().map(|line| yaml_line(line, theme)));
        lines.push(Line::default());
    }
    if lines.is_empty() {
        lines.push(Line::from(Span::styled(
            "No VirtualService or DestinationRule touches this service.",
            theme.style(Slot::Muted),
        )));
    }
    let mut block = Block::default()
        .borders(Borders::LEFT)
        .border_style(theme.style(Slot::Border))
        .title(Span::styled(" Istio config ", theme.style(Slot::Title)));
    if chrome.ascii {
        block = block.border_set(ASCII_BORDER);
    }
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .scroll((view.cursor.scroll, 0)),
        area,
    );
}
