//! The header (view, selection details, DEMO badge) and the status bar (source, age, counts, hints).

use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;

use super::health_style;
use crate::app::state::{MIN_HEIGHT, MIN_WIDTH};
use crate::app::topology::{node_label, place_line};
use crate::app::{format, navigate, Action, State, View};
use crate::config::{KeyContext, Slot};
use crate::mesh::GraphType;
use crate::ui::glyphs::health_mark;
use crate::ui::{key_context, Chrome};

fn graph_type_label(graph_type: GraphType) -> &'static str {
    match graph_type {
        GraphType::Workload => "workload graph",
        GraphType::App => "app graph",
        GraphType::VersionedApp => "versioned app graph",
        GraphType::Service => "service graph",
    }
}

/// The separator between status fields, and the pointer before the selection.
fn separators(ascii: bool) -> (&'static str, &'static str) {
    if ascii {
        ("|", ">")
    } else {
        ("·", "▸")
    }
}

fn demo_badge(frame: &mut Frame, area: Rect, state: &State, chrome: &Chrome) {
    if state.source.is_demo {
        let badge = Paragraph::new(Span::styled(" DEMO ", chrome.theme.style(Slot::DemoBadge)))
            .alignment(Alignment::Right);
        frame.render_widget(badge, area);
    }
}

pub fn header(frame: &mut Frame, area: Rect, state: &State, chrome: &Chrome) {
    let theme = chrome.theme;
    let (dot, pointer) = separators(chrome.ascii);
    if !state.views.is_at_root() {
        let mut spans = vec![Span::styled(" meshtui ", theme.style(Slot::Title))];
        spans.extend(super::breadcrumbs::breadcrumbs(state, chrome));
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
        demo_badge(frame, area, state, chrome);
        return;
    }
    let view = match state.views.current() {
        View::EdgeTable => "edges",
        _ => "topology",
    };
    let mut left = vec![
        Span::styled(" meshtui ", theme.style(Slot::Title)),
        Span::styled(
            format!(
                "{view} {dot} {}",
                graph_type_label(state.graph_options.graph_type)
            ),
            theme.style(Slot::Text),
        ),
    ];
    if let Some(node) = state
        .selection
        .as_ref()
        .and_then(|k| state.graph.node_index(k))
        .and_then(|i| state.graph.node(i))
    {
        left.push(Span::styled(
            format!("  {pointer} "),
            theme.style(Slot::Muted),
        ));
        left.push(Span::styled(
            health_mark(node.health, chrome.ascii).to_string(),
            health_style(theme, node.health),
        ));
        left.push(Span::styled(
            format!(" {} ", node_label(node)),
            theme.style(Slot::Text),
        ));
        let place = if state.view.show_clusters {
            format!("{} @{} ", place_line(node), node.cluster)
        } else {
            format!("{} ", place_line(node))
        };
        left.push(Span::styled(place, theme.style(Slot::Muted)));
        if node.idle {
            left.push(Span::styled("idle: no traffic", theme.style(Slot::Muted)));
        } else {
            let traffic = if node.inbound.total > 0.0 {
                &node.inbound
            } else {
                &node.outbound
            };
            left.push(Span::styled(
                format!(
                    "{} {} {} err",
                    if node.inbound.total > 0.0 {
                        "in"
                    } else {
                        "out"
                    },
                    format::rate(traffic.total),
                    format::percent(traffic.error_pct())
                ),
                theme.style(Slot::Text),
            ));
        }
    }
    frame.render_widget(Paragraph::new(Line::from(left)), area);
    demo_badge(frame, area, state, chrome);
}

pub fn status_bar(frame: &mut Frame, area: Rect, state: &State, chrome: &Chrome) {
    let theme = chrome.theme;
    let muted = theme.style(Slot::Status);
    let (dot, _) = separators(chrome.ascii);
    if let Some(line) = &state.rules.command {
        let line = Line::from(vec![
            Span::styled(format!(" :{line}"), theme.style(Slot::Match)),
            Span::styled("_", theme.style(Slot::Selection)),
            Span::styled(
                format!("  Enter run {dot} Esc cancel {dot} :wl :svc :app :ns :graph :shift :canary :fault :breaker :timeout :reset :undo"),
                muted,
            ),
        ]);
        frame.render_widget(Paragraph::new(line).style(muted), area);
        return;
    }
    if let Some(find) = &state.find {
        let (count, word) = if state.views.is_at_root() {
            (state.find_matches().len(), "match")
        } else {
            (navigate::filtered_rows(state), "row")
        };
        let plural = match (count, word) {
            (1, _) => "",
            (_, "match") => "es",
            _ => "s",
        };
        let line = Line::from(vec![
            Span::styled(format!(" /{}", find.query), theme.style(Slot::Match)),
            Span::styled("_", theme.style(Slot::Selection)),
            Span::styled(
                format!("  {count} {word}{plural}  Enter keep {dot} Esc cancel {dot} Tab next"),
                muted,
            ),
        ]);
        frame.render_widget(Paragraph::new(line).style(muted), area);
        return;
    }
    let mut spans = vec![Span::styled(format!(" {} ", state.source.label), muted)];
    let age = match state.data_age_s() {
        Some(age) => format!("updated {} ago", format::age(age)),
        None => "waiting for data".into(),
    };
    let stale = state.is_stale();
    spans.push(Span::styled(
        format!("{dot} {age} "),
        if stale {
            theme.style(Slot::Danger)
        } else {
            muted
        },
    ));
    if let Some(age) = state.inventory_age_s() {
        spans.push(Span::styled(
            format!("{dot} inventory {} old ", format::age(age)),
            theme.style(Slot::Danger),
        ));
    }
    if !state.inaccessible_namespaces.is_empty() {
        spans.push(Span::styled(
            format!(
                "{dot} no access: {} ",
                short_list(&state.inaccessible_namespaces)
            ),
            theme.style(Slot::Danger),
        ));
    }
    if state.paused {
        spans.push(Span::styled(
            format!("{dot} PAUSED "),
            theme.style(Slot::Danger),
        ));
    }
    spans.push(Span::styled(
        format!("{dot} window {} ", format::window(state.window.as_secs())),
        muted,
    ));
    spans.push(Span::styled(
        format!(
            "{dot} {} nodes {} edges ",
            state.view.nodes.len(),
            state.view.edges.len()
        ),
        muted,
    ));
    spans.push(Span::styled(
        format!(
            "{dot} ns {} ",
            state.namespace_filter.as_deref().unwrap_or("all")
        ),
        muted,
    ));
    if let Some(hops) = state.focus_hops {
        spans.push(Span::styled(
            format!(
                "{dot} focus {hops} hop{} ",
                if hops == 1 { "" } else { "s" }
            ),
            theme.style(Slot::Focus),
        ));
    }
    if matches!(state.views.current(), View::EdgeTable) {
        spans.push(Span::styled(
            format!("{dot} sort {} ", state.table.sort_label(chrome.ascii)),
            muted,
        ));
    }
    let status = Line::from(spans);
    let status_width = status.width();
    frame.render_widget(Paragraph::new(status).style(muted), area);

    let context = key_context(state);
    // The log's own keys while it shows; otherwise the view's.
    let log = state
        .logs
        .open
        .as_ref()
        .filter(|_| context == KeyContext::AccessLog);
    let at_root = state.views.is_at_root();
    let actions: &[Action] = match (log.is_some(), at_root) {
        (true, _) => &[
            Action::ShowHelp,
            Action::CycleStatusFilter,
            Action::ToggleFollow,
            Action::Find,
            Action::Back,
        ],
        (false, true) => &[
            Action::ShowHelp,
            Action::Find,
            Action::ToggleEdgeTable,
            Action::Quit,
        ],
        (false, false) => &[Action::ShowHelp, Action::Find, Action::Back, Action::Quit],
    };
    let hints: Vec<String> = actions
        .iter()
        .filter_map(|action| {
            let key = chrome.keymap.hint(context, *action)?;
            let word = match action {
                Action::ShowHelp => "help",
                Action::Find if log.is_some() => "path",
                Action::Find if !at_root => "filter",
                Action::Find => "find",
                Action::CycleStatusFilter => "status",
                Action::ToggleFollow if log.is_some_and(|l| l.follow) => "pause",
                Action::ToggleFollow => "follow",
                Action::Back => "back",
                Action::ToggleEdgeTable => {
                    if matches!(state.views.current(), View::EdgeTable) {
                        "graph"
                    } else {
                        "table"
                    }
                }
                _ => "quit",
            };
            Some(format!("{key} {word}"))
        })
        .collect();
    let hints = format!("{} ", hints.join("  "));
    // Hints only where they fit beside the status; the status matters more. A form shows
    // its own keys.
    let form_open = state.rules.form.is_some() || state.rules.menu.is_some();
    if !form_open && status_width + hints.len() < usize::from(area.width) {
        let hint_line = Paragraph::new(Span::styled(hints, theme.style(Slot::HelpKey)))
            .alignment(Alignment::Right);
        frame.render_widget(hint_line, area);
    }
}

/// The first few names, and how many more: the status bar has one line for everything.
fn short_list(names: &[String]) -> String {
    const SHOWN: usize = 2;
    let mut text = names
        .iter()
        .take(SHOWN)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        text.push_str(&format!(" +{}", names.len() - SHOWN));
    }
    text
}

/// A problem with the data source, on a line of its own above the status bar so that it
/// can be read whole; the graph's last row gives way to it.
pub fn notice(frame: &mut Frame, area: Rect, state: &State, chrome: &Chrome) {
    // The source's trouble first; else the news of the last rule write.
    let (notice, slot) = match (&state.notice, &state.rules.notice) {
        (Some(notice), _) => (notice, Slot::Danger),
        (None, Some(rule)) if rule.is_error => (&rule.text, Slot::Danger),
        (None, Some(rule)) => (&rule.text, Slot::Focus),
        (None, None) => return,
    };
    let mark = match (slot, chrome.ascii) {
        (Slot::Danger, false) => "⚠",
        (Slot::Danger, true) => "!",
        (_, false) => "✔",
        (_, true) => "ok",
    };
    let line = Line::from(Span::styled(
        format!(" {mark} {notice}"),
        chrome.theme.style(slot),
    ));
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(line).wrap(ratatui::widgets::Wrap { trim: false }),
        area,
    );
}

pub fn too_small(frame: &mut Frame, area: Rect, chrome: &Chrome) {
    let text = format!(
        "meshtui needs at least {MIN_WIDTH}x{MIN_HEIGHT}; this terminal is {}x{}. Enlarge it, or press q to quit.",
        area.width, area.height
    );
    let paragraph = Paragraph::new(text)
        .style(chrome.theme.style(Slot::Danger))
        .wrap(ratatui::widgets::Wrap { trim: true });
    frame.render_widget(paragraph, area);
}
