//! One form: its rows (sliders, choices, text inputs), each row's errors right under it,
//! and at the bottom whether Apply is possible and, if not, why.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;
use unicode_width::UnicodeWidthStr;

use super::labels::{hint_of, intro, label_of, wrap};
use super::{frame_box, hints, popup, MAX_WIDTH};
use crate::app::forms::draft::{everyone_matched, row_kind};
use crate::app::forms::{Draft, FormKind, FormState, Phase, RowKind};
use crate::app::{Action, State};
use crate::config::Slot;
use crate::mesh::rules::validate::Field;
use crate::ui::Chrome;

/// Columns of the row label, and of a text input.
const LABEL_WIDTH: usize = 28;
const INPUT_WIDTH: usize = 24;
/// Cells of a weight's bar: 5 % each.
const BAR_WIDTH: u32 = 20;

/// The form in a box as tall as its rows need, at most `body`'s height less a margin.
pub fn form(frame: &mut Frame, body_area: Rect, state: &State, form: &FormState, chrome: &Chrome) {
    let title = format!(
        "{} {} {} ({})",
        form.kind.title(),
        if chrome.ascii { "-" } else { "·" },
        form.target.service,
        form.target.namespace
    );
    let inner_width = popup(body_area, MAX_WIDTH, 0).width.saturating_sub(2);
    let (body, focus_line) = body_lines(form, usize::from(inner_width), chrome);
    let footer = footer_lines(state, form, usize::from(inner_width), chrome);
    let needed = body.len() + footer.len() + 3;
    let height = u16::try_from(needed).unwrap_or(u16::MAX);
    let area = popup(
        body_area,
        MAX_WIDTH,
        height.min(body_area.height.saturating_sub(2)),
    );
    let inner = frame_box(frame, area, &title, chrome);
    let body_rows = usize::from(inner.height).saturating_sub(footer.len() + 1);
    // Keep the focused row (and its error under it) on screen.
    let scroll = (focus_line + 2).saturating_sub(body_rows);
    let mut lines: Vec<Line> = body.into_iter().skip(scroll).take(body_rows).collect();
    lines.resize(body_rows, Line::default());
    lines.push(Line::default());
    lines.extend(footer);
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The lines of the form's rows, and the line the focused row is on.
fn body_lines(form: &FormState, width: usize, chrome: &Chrome) -> (Vec<Line<'static>>, usize) {
    let theme = chrome.theme;
    let muted = theme.style(Slot::Muted);
    let mut lines = Vec::new();
    for part in wrap(intro(form.kind), width.saturating_sub(2)) {
        lines.push(Line::from(Span::styled(format!(" {part}"), muted)));
    }
    if form.kind == FormKind::Reset {
        let text = format!(
            "Removes the routes meshtui wrote for {} (named meshtui-...), and the objects it \
             created once nothing else is left in them. Routes and fields written by others stay.",
            form.target.service
        );
        for part in wrap(&text, width.saturating_sub(2)) {
            lines.push(Line::from(Span::styled(
                format!(" {part}"),
                theme.style(Slot::Text),
            )));
        }
    }
    if !form.rows().is_empty() {
        lines.push(Line::default());
    }
    let focused = form.focused();
    let mut focus_line = 0;
    let mut rule_shown = None;
    let mut weights_heading = false;
    for field in form.rows() {
        if let Some(rule) = canary_rule(field) {
            if rule_shown != Some(rule) {
                if rule > 0 {
                    lines.push(Line::default());
                }
                lines.push(Line::from(Span::styled(
                    format!(" Rule {}", rule + 1),
                    theme.style(Slot::Title),
                )));
                rule_shown = Some(rule);
            }
        }
        if matches!(field, Field::Weight(_)) && form.kind == FormKind::Canary && !weights_heading {
            lines.push(Line::default());
            lines.push(Line::from(Span::styled(
                " Everyone else",
                theme.style(Slot::Title),
            )));
            weights_heading = true;
        }
        if Some(field) == focused {
            focus_line = lines.len();
        }
        lines.push(row_line(form, field, Some(field) == focused, chrome));
        for issue in form.issues_of(field) {
            lines.extend(issue_lines(&issue.to_string(), width, chrome));
        }
        if let (Field::Weight(i), Some(split)) = (field, form.draft.split()) {
            if i + 1 == split.len() {
                let total: u32 = (0..split.len()).map(|j| split.value(j)).sum();
                lines.push(Line::from(vec![
                    Span::raw(" ".repeat(LABEL_WIDTH + 2)),
                    Span::styled(format!("total {total} %"), theme.style(Slot::Text)),
                ]));
                for issue in form.issues_of(Field::Weights) {
                    lines.extend(issue_lines(&issue.to_string(), width, chrome));
                }
            }
        }
    }
    if let Draft::Canary { rules, .. } = &form.draft {
        if everyone_matched(rules) {
            lines.push(Line::default());
            lines.push(Line::from(Span::styled(
                " The last rule takes every request: no weights needed.",
                muted,
            )));
        }
    }
    let weights_issue_shown = form.draft.split().is_some_and(|s| !s.is_empty());
    for issue in form
        .issues_of(Field::Form)
        .into_iter()
        .chain(if weights_issue_shown {
            Vec::new()
        } else {
            form.issues_of(Field::Weights)
        })
    {
        lines.push(Line::default());
        lines.extend(issue_lines(&issue.to_string(), width, chrome));
    }
    (lines, focus_line)
}

fn canary_rule(field: Field) -> Option<usize> {
    crate::app::forms::draft::rule_of(field)
}

/// An issue under its field, wrapped at word boundaries to the form's width.
fn issue_lines(text: &str, width: usize, chrome: &Chrome) -> Vec<Line<'static>> {
    let mark = if chrome.ascii { "x" } else { "✖" };
    let indent = LABEL_WIDTH + 2;
    let room = width.saturating_sub(indent + 3).max(20);
    let style = chrome.theme.style(Slot::FormError);
    wrap(text, room)
        .into_iter()
        .enumerate()
        .map(|(i, part)| {
            let lead = if i == 0 {
                format!("{mark} ")
            } else {
                "  ".to_owned()
            };
            Line::from(vec![
                Span::raw(" ".repeat(indent)),
                Span::styled(format!("{lead}{part}"), style),
            ])
        })
        .collect()
}

fn pad(text: &str, width: usize) -> String {
    let used = text.width();
    format!("{text}{}", " ".repeat(width.saturating_sub(used)))
}

fn row_line(form: &FormState, field: Field, focused: bool, chrome: &Chrome) -> Line<'static> {
    let theme = chrome.theme;
    let pointer = match (focused, chrome.ascii) {
        (true, false) => "▸",
        (true, true) => ">",
        _ => " ",
    };
    let label_style = if focused {
        theme.style(Slot::Focus)
    } else {
        theme.style(Slot::Text)
    };
    let input_style: Style = if focused {
        theme.style(Slot::FormFocus)
    } else {
        theme.style(Slot::FormField)
    };
    let mut spans = vec![
        Span::styled(format!(" {pointer} "), label_style),
        Span::styled(pad(&label_of(form, field), LABEL_WIDTH - 1), label_style),
    ];
    let text = form.draft.text(field).unwrap_or_default().to_owned();
    match row_kind(field) {
        RowKind::Weight => spans.extend(weight_spans(form, field, focused, chrome)),
        RowKind::Choice => {
            let (left, right) = if chrome.ascii {
                ("<", ">")
            } else {
                ("◂", "▸")
            };
            spans.push(Span::styled(
                format!("{left} {} {right}", pad(&text, INPUT_WIDTH - 4)),
                input_style,
            ));
            if let Field::CanaryVersion(_) = field {
                spans.push(Span::styled(
                    format!("  {}", pods_text(form, &text)),
                    theme.style(Slot::Muted),
                ));
            }
        }
        RowKind::Text => {
            let shown = if focused { format!("{text}_") } else { text };
            spans.push(Span::styled(pad(&shown, INPUT_WIDTH), input_style));
            spans.push(Span::styled(
                format!("  {}", hint_of(field)),
                theme.style(Slot::Muted),
            ));
        }
    }
    Line::from(spans)
}

fn pods_text(form: &FormState, version: &str) -> String {
    match form
        .versions
        .iter()
        .find(|v| v.version.name == version)
        .and_then(|v| v.pods)
    {
        Some(0) => "no pods".into(),
        Some(1) => "1 pod".into(),
        Some(n) => format!("{n} pods"),
        None => String::new(),
    }
}

fn weight_spans(
    form: &FormState,
    field: Field,
    focused: bool,
    chrome: &Chrome,
) -> Vec<Span<'static>> {
    let theme = chrome.theme;
    let Field::Weight(i) = field else {
        return Vec::new();
    };
    let Some(split) = form.draft.split() else {
        return Vec::new();
    };
    let value = split.value(i).min(100);
    let filled = (value * BAR_WIDTH + 50) / 100;
    let (full, empty) = if chrome.ascii {
        ("#", "-")
    } else {
        ("█", "░")
    };
    let bar = format!(
        "[{}{}]",
        full.repeat(filled as usize),
        empty.repeat((BAR_WIDTH - filled) as usize)
    );
    let text = split
        .weights
        .get(i)
        .map(|w| w.text.clone())
        .unwrap_or_default();
    let number = if focused { format!("{text}_") } else { text };
    let input = if focused {
        theme.style(Slot::FormFocus)
    } else {
        theme.style(Slot::FormField)
    };
    let version = split
        .weights
        .get(i)
        .map(|w| w.version.clone())
        .unwrap_or_default();
    vec![
        Span::styled(bar, theme.style(Slot::EdgeMtls)),
        Span::raw(" "),
        Span::styled(format!("{number:>4}"), input),
        Span::styled(" %", theme.style(Slot::Text)),
        Span::styled(
            format!(
                "  {:<7}{}",
                if split.is_locked(i) { "locked" } else { "" },
                pods_text(form, &version)
            ),
            theme.style(Slot::Muted),
        ),
    ]
}

/// What stops Apply (or that nothing does), what the writer said, and the keys.
fn footer_lines(
    state: &State,
    form: &FormState,
    width: usize,
    chrome: &Chrome,
) -> Vec<Line<'static>> {
    let theme = chrome.theme;
    let mut lines = Vec::new();
    if let Some(message) = &form.message {
        lines.push(Line::from(Span::styled(
            format!(" {message}"),
            theme.style(Slot::FormError),
        )));
    }
    let status = match &form.phase {
        Phase::Previewing { .. } => Line::from(Span::styled(
            " Checking the change with the cluster (dry run)...",
            theme.style(Slot::Muted),
        )),
        Phase::Applying { .. } => {
            Line::from(Span::styled(" Applying...", theme.style(Slot::Muted)))
        }
        Phase::Conflict { .. } | Phase::ConfirmForce { .. } => Line::from(Span::styled(
            " The cluster refused the apply: other managers own some of its fields (409)",
            theme.style(Slot::Danger),
        )),
        _ => match state.rules.apply_blocker() {
            Some(reason) => Line::from(Span::styled(
                format!(
                    " {} Apply disabled: {reason}",
                    if chrome.ascii { "x" } else { "✖" }
                ),
                theme.style(Slot::Danger),
            )),
            None => Line::from(Span::styled(
                format!(
                    " {} Ready: preview the change, then confirm it",
                    if chrome.ascii { "ok" } else { "✔" }
                ),
                theme.style(Slot::HealthOk),
            )),
        },
    };
    lines.push(status);
    let mut keys = vec![
        (Action::Submit, "preview"),
        (Action::NextField, "next"),
        (Action::Back, "close (draft kept)"),
    ];
    match form.kind {
        FormKind::Shift | FormKind::Canary => {
            keys.push((Action::Increase, "+1"));
            keys.push((Action::IncreaseMore, "+10"));
            keys.push((Action::ToggleLock, "lock"));
        }
        _ => {}
    }
    if form.kind == FormKind::Canary {
        keys.push((Action::AddRule, "add rule"));
        keys.push((Action::RemoveRule, "remove"));
        keys.push((Action::MoveRuleUp, "up"));
    }
    let style = theme.style(Slot::HelpKey);
    for part in wrap(&hints(chrome, &keys), width.saturating_sub(2)) {
        lines.push(Line::from(Span::styled(format!(" {part}"), style)));
    }
    lines
}
