//! A pod's access log: what is followed and how, the filters and counts, the lines as a
//! table (5xx in the danger colour, 4xx as a warning), and the selected line in full.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};
use ratatui::Frame;

use crate::app::access_log::{AccessLogState, StreamState, VisibleLine};
use crate::app::format;
use crate::config::{Slot, Theme};
use crate::mesh::access_log::{AccessLogEntry, LogLine, StatusClass};
use crate::ui::Chrome;

/// Draws the log into `area`. Pure: reads `log`, changes nothing.
pub fn draw_access_log(frame: &mut Frame, area: Rect, log: &AccessLogState, chrome: &Chrome) {
    let theme = chrome.theme;
    let dot = if chrome.ascii { "|" } else { "·" };
    let row = |y: u16| Rect {
        y: area.y + y,
        height: 1,
        ..area
    };
    if area.height < 4 {
        return;
    }
    let visible = log.visible();
    let selected = log.selected_row(&visible);
    frame.render_widget(Paragraph::new(title_line(log, theme, dot)), row(0));
    frame.render_widget(
        Paragraph::new(counts_line(log, visible.len(), theme, dot)),
        row(1),
    );
    let table_area = Rect {
        y: area.y + 2,
        height: area.height - 3,
        ..area
    };
    draw_table(frame, table_area, &visible, selected, chrome);
    let detail = selected
        .and_then(|i| visible.get(i))
        .map(|(_, line)| detail_line(line, theme, dot))
        .unwrap_or_default();
    frame.render_widget(Paragraph::new(detail), row(area.height - 1));
}

fn title_line(log: &AccessLogState, theme: &Theme, dot: &str) -> Line<'static> {
    let pod = &log.pod;
    let (state, slot) = match &log.stream {
        StreamState::Connecting => ("connecting".to_owned(), Slot::Muted),
        StreamState::Following if log.follow => ("following".to_owned(), Slot::HealthOk),
        StreamState::Following => (format!("paused, {} new", log.unseen), Slot::HealthWarn),
        StreamState::Interrupted { reason, retry_in } => (
            format!(
                "interrupted: {reason}; again in {}",
                format::age(retry_in.as_secs_f64())
            ),
            Slot::HealthWarn,
        ),
        StreamState::Failed(reason) => (format!("stopped: {reason}"), Slot::Danger),
    };
    Line::from(vec![
        Span::styled(" access log ", theme.style(Slot::Title)),
        Span::styled(
            format!("{}/{}/{} ", pod.cluster, pod.namespace, pod.pod),
            theme.style(Slot::Text),
        ),
        Span::styled(
            format!("({}) {dot} ", pod.container),
            theme.style(Slot::Muted),
        ),
        Span::styled(state, theme.style(slot)),
    ])
}

fn counts_line(log: &AccessLogState, shown: usize, theme: &Theme, dot: &str) -> Line<'static> {
    let path = if log.editing_filter {
        format!("{}_", log.path_filter)
    } else if log.path_filter.is_empty() {
        "-".to_owned()
    } else {
        log.path_filter.clone()
    };
    let path_slot = if log.editing_filter {
        Slot::FormFocus
    } else {
        Slot::Text
    };
    let mut spans = vec![
        Span::styled(" status ", theme.style(Slot::Muted)),
        Span::styled(log.status_filter.label(), theme.style(Slot::Text)),
        Span::styled(format!(" {dot} path "), theme.style(Slot::Muted)),
        Span::styled(path, theme.style(path_slot)),
        Span::styled(
            format!(
                " {dot} {shown} of {} lines {dot} {} KB held {dot} ",
                log.held(),
                log.held_bytes().div_ceil(1024)
            ),
            theme.style(Slot::Muted),
        ),
    ];
    let dropped = format!("{} dropped", log.dropped);
    spans.push(if log.dropped > 0 {
        Span::styled(dropped, theme.style(Slot::HealthWarn))
    } else {
        Span::styled(dropped, theme.style(Slot::Muted))
    });
    Line::from(spans)
}

/// The style of a line by its outcome: 5xx (and no response with a reason) as danger,
/// 4xx as a warning, raw lines muted.
fn line_style(line: &LogLine, theme: &Theme) -> Style {
    match line {
        LogLine::Raw(_) => theme.style(Slot::Muted),
        LogLine::Access(entry) => match entry.class() {
            StatusClass::ServerError => theme.style(Slot::Danger),
            StatusClass::ClientError => theme.style(Slot::HealthWarn),
            _ => theme.style(Slot::Text),
        },
    }
}

fn duration(entry: &AccessLogEntry) -> String {
    entry
        .duration_ms
        .map(|ms| format!("{ms}ms"))
        .unwrap_or_else(|| "-".into())
}

fn status(entry: &AccessLogEntry) -> String {
    if entry.status == 0 {
        "-".into()
    } else {
        entry.status.to_string()
    }
}

/// The cluster says where the request went (`outbound|9080||reviews...`); the host
/// alone is an address.
fn upstream(entry: &AccessLogEntry) -> &str {
    if entry.upstream_cluster == "-" {
        &entry.upstream_host
    } else {
        &entry.upstream_cluster
    }
}

fn draw_table(
    frame: &mut Frame,
    area: Rect,
    visible: &[VisibleLine<'_>],
    selected: Option<usize>,
    chrome: &Chrome,
) {
    let theme = chrome.theme;
    let height = usize::from(area.height.saturating_sub(1)).max(1);
    // Only the rows on screen are built: a log holds thousands.
    let offset = selected.map_or(0, |s| s.saturating_sub(height - 1));
    let rows: Vec<Row> = visible
        .iter()
        .skip(offset)
        .take(height)
        .map(|(_, line)| {
            let style = line_style(line, theme);
            match line {
                LogLine::Access(entry) => Row::new(vec![
                    Cell::from(entry.time_of_day().to_owned()),
                    Cell::from(entry.method.clone()),
                    Cell::from(entry.path.clone()),
                    Cell::from(Line::from(status(entry)).right_aligned()),
                    Cell::from(entry.flags.clone()),
                    Cell::from(Line::from(duration(entry)).right_aligned()),
                    Cell::from(upstream(entry).to_owned()),
                ]),
                LogLine::Raw(text) => Row::new(vec![
                    Cell::from(""),
                    Cell::from(""),
                    Cell::from(text.clone()),
                ]),
            }
            .style(style)
        })
        .collect();
    let header = Row::new(vec![
        "TIME", "METHOD", "PATH", "STATUS", "FLAGS", "DURATION", "UPSTREAM",
    ])
    .style(theme.style(Slot::Title));
    let widths = [
        Constraint::Length(12),
        Constraint::Length(7),
        Constraint::Fill(1),
        Constraint::Length(6),
        Constraint::Length(6),
        Constraint::Length(8),
        Constraint::Fill(1),
    ];
    let table = Table::new(rows, widths)
        .header(header)
        .column_spacing(1)
        .row_highlight_style(theme.style(Slot::Selection));
    let mut table_state =
        TableState::default().with_selected(selected.map(|s| s.saturating_sub(offset)));
    frame.render_stateful_widget(table, area, &mut table_state);
}

/// The selected line in full: what the columns leave out.
fn detail_line(line: &LogLine, theme: &Theme, dot: &str) -> Line<'static> {
    let muted = theme.style(Slot::Muted);
    match line {
        LogLine::Raw(text) => Line::from(Span::styled(format!(" {text}"), muted)),
        LogLine::Access(entry) => Line::from(vec![
            Span::styled(" ", muted),
            Span::styled(
                format!("{} {} {}", entry.method, entry.path, entry.protocol),
                theme.style(Slot::Text),
            ),
            Span::styled(
                format!(
                    " {dot} {} {dot} host {} {dot} {} {dot} {} {dot} id {}",
                    entry.details,
                    entry.upstream_host,
                    entry.authority,
                    entry.user_agent,
                    entry.request_id
                ),
                muted,
            ),
        ]),
    }
}
