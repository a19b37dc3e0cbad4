//! The workload view: a summary, then tabs: pods, inbound, outbound, interfaces, logs.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};
use ratatui::Frame;

use super::detail::{empty_note, table_state, traffic_table};
use super::health_style;
use crate::app::format;
use crate::app::workload::{WorkloadTab, WorkloadView};
use crate::app::State;
use crate::config::Slot;
use crate::mesh::inventory::{PodPhase, WorkloadKind};
use crate::ui::glyphs::health_mark;
use crate::ui::Chrome;

pub fn workload(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    view: &WorkloadView,
    chrome: &Chrome,
) {
    let [summary, labels, tabs, body] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Fill(1),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(summary_line(view, chrome)), summary);
    frame.render_widget(Paragraph::new(labels_line(view, chrome)), labels);
    frame.render_widget(Paragraph::new(tab_line(view.tab, chrome)), tabs);
    let visible = view.visible_rows();
    match view.tab {
        WorkloadTab::Pods => pods_table(frame, body, state, view, &visible, chrome),
        WorkloadTab::Inbound | WorkloadTab::Outbound => {
            let rows = view.traffic().unwrap_or_default();
            if rows.is_empty() {
                let direction = view.tab.label();
                empty_note(
                    frame,
                    body,
                    &format!("no {direction} traffic in the window"),
                    chrome,
                );
            } else {
                traffic_table(
                    frame,
                    body,
                    rows,
                    &visible,
                    &view.cursor,
                    &state.history,
                    chrome,
                );
            }
        }
        WorkloadTab::Interfaces => match &state.interfaces {
            Some(operations) => {
                super::draw_interfaces(frame, body, operations, chrome, state.now_unix_s)
            }
            None => empty_note(frame, body, "no operations asked for yet", chrome),
        },
        WorkloadTab::Logs => match &state.logs.open {
            Some(log) => super::draw_access_log(frame, body, log, chrome),
            None => empty_note(frame, body, "this workload has no pod to follow", chrome),
        },
    }
}

fn kind_label(kind: WorkloadKind) -> &'static str {
    match kind {
        WorkloadKind::Deployment => "Deployment",
        WorkloadKind::StatefulSet => "StatefulSet",
        WorkloadKind::DaemonSet => "DaemonSet",
        WorkloadKind::Pod => "Pod",
    }
}

fn summary_line(view: &WorkloadView, chrome: &Chrome) -> Line<'static> {
    let theme = chrome.theme;
    let detail = &view.detail;
    let mut spans = vec![
        Span::styled(
            format!(" {} ", health_mark(detail.health, chrome.ascii)),
            health_style(theme, detail.health),
        ),
        Span::styled(view.id.name.clone(), theme.style(Slot::Title)),
        Span::styled(format!("  {}", view.id.namespace), theme.style(Slot::Muted)),
    ];
    let text = |s: String| Span::styled(s, theme.style(Slot::Text));
    match &detail.facts {
        Some(facts) => {
            spans.push(text(format!("  {}", kind_label(facts.kind))));
            if let Some(app) = &facts.app {
                spans.push(text(format!("  app {app}")));
            }
            if let Some(version) = &facts.version {
                spans.push(text(format!("  version {version}")));
            }
            let pods_style = if facts.pods_ready < facts.pods_desired {
                theme.style(Slot::HealthWarn)
            } else {
                theme.style(Slot::Text)
            };
            spans.push(Span::styled(
                format!("  pods {}/{}", facts.pods_ready, facts.pods_desired),
                pods_style,
            ));
            spans.push(text(format!(
                "  sidecar {}",
                if facts.sidecar_injected { "yes" } else { "no" }
            )));
        }
        None => spans.push(Span::styled(
            "  not in the inventory (metrics only)",
            theme.style(Slot::Muted),
        )),
    }
    spans.push(Span::styled(
        format!("  {}", detail.health.label()),
        health_style(theme, detail.health),
    ));
    Line::from(spans)
}

fn labels_line(view: &WorkloadView, chrome: &Chrome) -> Line<'static> {
    let theme = chrome.theme;
    let services = if view.detail.services.is_empty() {
        "-".to_owned()
    } else {
        view.detail.services.join(", ")
    };
    let labels: Vec<String> = view
        .detail
        .labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    Line::from(vec![
        Span::styled("   services ", theme.style(Slot::Muted)),
        Span::styled(services, theme.style(Slot::Text)),
        Span::styled("  labels ", theme.style(Slot::Muted)),
        Span::styled(
            if labels.is_empty() {
                "-".to_owned()
            } else {
                labels.join(" ")
            },
            theme.style(Slot::Text),
        ),
    ])
}

pub fn tab_line(current: WorkloadTab, chrome: &Chrome) -> Line<'static> {
    let theme = chrome.theme;
    let mut spans = vec![Span::raw(" ")];
    for tab in WorkloadTab::ALL {
        let style = if tab == current {
            theme.style(Slot::Selection)
        } else {
            theme.style(Slot::Muted)
        };
        spans.push(Span::styled(format!(" {} ", tab.label()), style));
        spans.push(Span::raw(" "));
    }
    Line::from(spans)
}

fn phase_label(phase: PodPhase) -> &'static str {
    match phase {
        PodPhase::Pending => "Pending",
        PodPhase::Running => "Running",
        PodPhase::Succeeded => "Succeeded",
        PodPhase::Failed => "Failed",
        PodPhase::Unknown => "Unknown",
    }
}

fn pods_table(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    view: &WorkloadView,
    visible: &[usize],
    chrome: &Chrome,
) {
    let theme = chrome.theme;
    if view.detail.pods.is_empty() {
        empty_note(frame, area, "no pods in the inventory", chrome);
        return;
    }
    let body: Vec<Row> = visible
        .iter()
        .filter_map(|&i| view.detail.pods.get(i))
        .map(|pod| {
            let health = match (pod.phase, pod.ready) {
                (PodPhase::Running, true) | (PodPhase::Succeeded, _) => Slot::HealthOk,
                (PodPhase::Failed, _) => Slot::HealthFail,
                _ => Slot::HealthWarn,
            };
            let age = pod
                .started_at_unix_s
                .map(|t| format::long_age(state.now_unix_s - t))
                .unwrap_or_else(|| "-".into());
            let restarts_style = if pod.restarts > 0 {
                theme.style(Slot::HealthWarn)
            } else {
                theme.style(Slot::Text)
            };
            Row::new(vec![
                Cell::from(pod.name.clone()),
                Cell::from(Span::styled(phase_label(pod.phase), theme.style(health))),
                Cell::from(Span::styled(
                    if pod.ready { "yes" } else { "no" },
                    theme.style(health),
                )),
                Cell::from(
                    Line::from(Span::styled(pod.restarts.to_string(), restarts_style))
                        .right_aligned(),
                ),
                Cell::from(Line::from(age).right_aligned()),
                Cell::from(pod.node.clone().unwrap_or_else(|| "-".into())),
                Cell::from(pod.ip.clone().unwrap_or_else(|| "-".into())),
                Cell::from(if pod.sidecar_injected { "yes" } else { "no" }),
                Cell::from(pod.proxy_version.clone().unwrap_or_else(|| "-".into())),
            ])
            .style(theme.style(Slot::Text))
        })
        .collect();
    let header = Row::new(vec![
        "POD", "PHASE", "READY", "RESTARTS", "AGE", "NODE", "IP", "SIDECAR", "PROXY",
    ])
    .style(theme.style(Slot::Title));
    let widths = [
        Constraint::Fill(1),
        Constraint::Length(9),
        Constraint::Length(5),
        Constraint::Length(8),
        Constraint::Length(5),
        Constraint::Length(20),
        Constraint::Length(15),
        Constraint::Length(7),
        Constraint::Length(10),
    ];
    let count = body.len();
    let table = Table::new(body, widths)
        .header(header)
        .column_spacing(1)
        .row_highlight_style(theme.style(Slot::Selection));
    let mut table_state = table_state(&view.cursor, count, area);
    frame.render_stateful_widget(table, area, &mut table_state);
}
