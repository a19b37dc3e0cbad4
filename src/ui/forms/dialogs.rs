//! The form picker, the preview's diff, and the dialogs of a 409 conflict.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{frame_box, hints, popup, MAX_WIDTH};
use crate::app::forms::diff::DiffRow;
use crate::app::forms::{FieldOwner, FormKind, FormState};
use crate::app::{Action, State};
use crate::config::Slot;
use crate::mesh::rules::diff::DiffLine;
use crate::ui::Chrome;

pub fn menu(frame: &mut Frame, body: Rect, state: &State, selected: usize, chrome: &Chrome) {
    let theme = chrome.theme;
    let target = crate::app::forms::selected_target(state)
        .map(|t| format!("{} ({})", t.service, t.namespace))
        .unwrap_or_default();
    let height = u16::try_from(FormKind::ALL.len()).unwrap_or(6) + 4;
    let area = popup(body, 72, height);
    let inner = frame_box(frame, area, &format!("Edit routing: {target}"), chrome);
    let mut lines = Vec::new();
    for (i, kind) in FormKind::ALL.iter().enumerate() {
        let chosen = i == selected;
        let style = if chosen {
            theme.style(Slot::Selection)
        } else {
            theme.style(Slot::Text)
        };
        lines.push(Line::from(vec![
            Span::styled(format!(" {} ", kind.menu_key()), theme.style(Slot::HelpKey)),
            Span::styled(format!(" {:<22}", kind.title()), style),
            Span::styled(format!(" {}", kind.summary()), theme.style(Slot::Muted)),
        ]));
    }
    lines.push(Line::default());
    lines.push(Line::from(Span::styled(
        format!(
            " {}",
            hints(
                chrome,
                &[
                    (Action::Submit, "open"),
                    (Action::NextField, "next"),
                    (Action::Back, "close")
                ]
            )
        ),
        theme.style(Slot::HelpKey),
    )));
    frame.render_widget(Paragraph::new(lines), inner);
}

pub fn diff(frame: &mut Frame, body: Rect, form: &FormState, scroll: u16, chrome: &Chrome) {
    let theme = chrome.theme;
    let needed = u16::try_from(form.diff.len() + 5).unwrap_or(u16::MAX);
    let area = popup(body, MAX_WIDTH, needed.min(body.height.saturating_sub(2)));
    let dot = if chrome.ascii { "-" } else { "·" };
    let objects = form
        .diff
        .iter()
        .filter(|row| matches!(row, DiffRow::Object(_)))
        .count();
    let title = format!(
        "Preview: {} {dot} {} ({}) {dot} {objects} object{}",
        form.kind.title(),
        form.target.service,
        form.target.namespace,
        if objects == 1 { "" } else { "s" }
    );
    let inner = frame_box(frame, area, &title, chrome);
    let rows = usize::from(inner.height).saturating_sub(3);
    let mut lines = diff_lines(&form.diff, scroll, rows, chrome);
    lines.push(Line::default());
    lines.push(Line::from(Span::styled(
        " Server-side apply as field manager meshtui; u undoes it afterwards.",
        theme.style(Slot::Muted),
    )));
    lines.push(Line::from(Span::styled(
        format!(
            " {}",
            hints(
                chrome,
                &[
                    (Action::Submit, "apply"),
                    (Action::Back, "back to the form"),
                    (Action::NextField, "scroll"),
                    (Action::PageDown, "page"),
                ]
            )
        ),
        theme.style(Slot::HelpKey),
    )));
    frame.render_widget(Paragraph::new(lines), inner);
}

/// A 409: which managers own the fields; `confirming` once the user asked to force.
pub fn conflict(
    frame: &mut Frame,
    body: Rect,
    object: &str,
    owners: &[FieldOwner],
    confirming: bool,
    chrome: &Chrome,
) {
    let theme = chrome.theme;
    let shown = owners.len().min(8);
    let height = u16::try_from(shown + usize::from(owners.len() > shown)).unwrap_or(8) + 7;
    let area = popup(body, 84, height);
    let area = Rect {
        y: body.y + body.height.saturating_sub(height) / 3,
        ..area
    };
    let title = if confirming {
        "Force the apply?"
    } else {
        "Conflict: other managers own these fields"
    };
    let inner = frame_box(frame, area, title, chrome);
    let mut lines = vec![Line::from(Span::styled(
        format!(" {object}"),
        theme.style(Slot::Title),
    ))];
    for owner in owners.iter().take(shown) {
        lines.push(Line::from(vec![
            Span::styled(format!("   {:<44}", owner.field), theme.style(Slot::Text)),
            Span::styled(owner.manager.clone(), theme.style(Slot::Focus)),
        ]));
    }
    if owners.len() > shown {
        lines.push(Line::from(Span::styled(
            format!("   and {} more", owners.len() - shown),
            theme.style(Slot::Muted),
        )));
    }
    lines.push(Line::default());
    if confirming {
        lines.push(Line::from(Span::styled(
            " meshtui becomes these fields' manager; the others may set them back.",
            theme.style(Slot::Danger),
        )));
        lines.push(Line::default());
        lines.push(Line::from(Span::styled(
            format!(
                " {}",
                hints(
                    chrome,
                    &[
                        (Action::Submit, "force the apply"),
                        (Action::Back, "cancel")
                    ]
                )
            ),
            theme.style(Slot::HelpKey),
        )));
    } else {
        lines.push(Line::from(Span::styled(
            " Nothing was changed. meshtui takes fields over only when you say so.",
            theme.style(Slot::Text),
        )));
        lines.push(Line::default());
        lines.push(Line::from(Span::styled(
            format!(
                " {}",
                hints(
                    chrome,
                    &[
                        (Action::ForceApply, "take them over (asks again)"),
                        (Action::Back, "back to the form")
                    ]
                )
            ),
            theme.style(Slot::HelpKey),
        )));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// `rows` lines of a preview's diff from `scroll` on, each object's header as a title and
/// each line in its colour (added, removed, hunk); padded to `rows`.
pub fn diff_lines(
    diff: &[DiffRow],
    scroll: u16,
    rows: usize,
    chrome: &Chrome,
) -> Vec<Line<'static>> {
    let theme = chrome.theme;
    let mut lines: Vec<Line> = diff
        .iter()
        .skip(usize::from(scroll))
        .take(rows)
        .map(|row| match row {
            DiffRow::Object(header) => {
                Line::from(Span::styled(format!(" {header}"), theme.style(Slot::Title)))
            }
            DiffRow::Line(line) => {
                let slot = match line {
                    DiffLine::Hunk(_) => Slot::DiffHunk,
                    DiffLine::Added(_) => Slot::DiffAdded,
                    DiffLine::Removed(_) => Slot::DiffRemoved,
                    DiffLine::Same(_) => Slot::Text,
                };
                Line::from(Span::styled(format!(" {}", line.text()), theme.style(slot)))
            }
        })
        .collect();
    lines.resize(rows, Line::default());
    lines
}
