//! The tree navigator, drawn with tui-tree-widget.

use std::collections::HashSet;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, StatefulWidget};
use ratatui::Frame;
use tui_tree_widget::{Tree, TreeItem, TreeState};

use super::health_style;
use crate::app::tree::{subtree_matches, TreeEntry, TreeNavigator};
use crate::config::Slot;
use crate::ui::glyphs::{health_mark, ASCII_BORDER};
use crate::ui::Chrome;

/// Draws the navigator; `editing` while the `/` line types into its filter.
pub fn tree(
    frame: &mut Frame,
    area: Rect,
    navigator: &TreeNavigator,
    editing: bool,
    chrome: &Chrome,
) {
    let theme = chrome.theme;
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style(Slot::Border))
        .title(Span::styled(
            if chrome.ascii {
                " clusters > namespaces > apps > workloads > pods "
            } else {
                " clusters › namespaces › apps › workloads › pods "
            },
            theme.style(Slot::Title),
        ));
    if chrome.ascii {
        block = block.border_set(ASCII_BORDER);
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let filter_row = Rect { height: 1, ..inner };
    let tree_area = Rect {
        y: inner.y + 1,
        height: inner.height.saturating_sub(1),
        ..inner
    };
    frame.render_widget(filter_line(navigator, editing, chrome), filter_row);

    let mut open = HashSet::new();
    let items: Vec<TreeItem<String>> = navigator
        .roots
        .iter()
        .filter_map(|root| item(navigator, root, &mut vec![], &mut open, chrome))
        .collect();
    let symbols = if chrome.ascii {
        ("+ ", "- ", "  ")
    } else {
        ("▸ ", "▾ ", "  ")
    };
    let widget = match Tree::new(&items) {
        Ok(widget) => widget
            .style(theme.style(Slot::Text))
            .highlight_style(theme.style(Slot::Selection).add_modifier(Modifier::BOLD))
            .node_closed_symbol(symbols.0)
            .node_open_symbol(symbols.1)
            .node_no_children_symbol(symbols.2),
        Err(error) => {
            let message = format!("cannot draw the tree: {error}");
            frame.render_widget(
                Paragraph::new(Span::styled(message, theme.style(Slot::Danger))),
                tree_area,
            );
            return;
        }
    };
    // The widget keeps its scroll position in its state, but drawing is a pure function of
    // the app's state: a first pass into scratch tells the widget how many rows there are,
    // so that the app's offset can be set before the real pass.
    let mut tree_state = TreeState::default();
    for path in open {
        tree_state.open(path);
    }
    let mut scratch = Buffer::empty(tree_area);
    StatefulWidget::render(widget.clone(), tree_area, &mut scratch, &mut tree_state);
    tree_state.scroll_down(navigator.offset);
    tree_state.select(navigator.selected.clone());
    frame.render_stateful_widget(widget, tree_area, &mut tree_state);
}

fn filter_line<'a>(navigator: &'a TreeNavigator, editing: bool, chrome: &Chrome) -> Paragraph<'a> {
    let theme = chrome.theme;
    if editing || !navigator.filter.is_empty() {
        let cursor = if editing { "_" } else { "" };
        Paragraph::new(Line::from(vec![
            Span::styled("/", theme.style(Slot::HelpKey)),
            Span::styled(
                format!("{}{cursor}", navigator.filter),
                theme.style(Slot::Match),
            ),
        ]))
    } else {
        let hint = if chrome.ascii {
            "Enter shows it in the graph - left/right close/open - / filter"
        } else {
            "Enter shows it in the graph · ←/→ close/open · / filter"
        };
        Paragraph::new(Span::styled(hint, theme.style(Slot::Muted)))
    }
}

/// One entry as a tree item. Children are built only under open entries (a closed entry
/// gets one hidden placeholder, so the widget still marks it as openable): with ten
/// thousand workloads most of the tree is closed.
fn item(
    navigator: &TreeNavigator,
    entry: &TreeEntry,
    path: &mut Vec<String>,
    open: &mut HashSet<Vec<String>>,
    chrome: &Chrome,
) -> Option<TreeItem<'static, String>> {
    path.push(entry.id.clone());
    let filter = navigator.filter.to_lowercase();
    let shown = filter.is_empty() || subtree_matches(entry, &filter);
    let result = if !shown {
        None
    } else {
        let text = entry_line(entry, chrome);
        let expanded = navigator.is_expanded(path);
        let children: Vec<TreeItem<String>> = if expanded {
            open.insert(path.clone());
            entry
                .children
                .iter()
                .filter_map(|child| item(navigator, child, path, open, chrome))
                .collect()
        } else if entry.children.is_empty() {
            Vec::new()
        } else {
            vec![TreeItem::new_leaf(String::new(), "")]
        };
        TreeItem::new(entry.id.clone(), text, children).ok()
    };
    path.pop();
    result
}

fn entry_line(entry: &TreeEntry, chrome: &Chrome) -> Line<'static> {
    let theme = chrome.theme;
    let mut spans = vec![
        Span::styled(
            health_mark(entry.health, chrome.ascii),
            health_style(theme, entry.health),
        ),
        Span::raw(" "),
        Span::raw(entry.label.clone()),
    ];
    if !entry.detail.is_empty() {
        spans.push(Span::styled(
            format!("  {}", entry.detail),
            theme.style(Slot::Muted),
        ));
    }
    Line::from(spans)
}
