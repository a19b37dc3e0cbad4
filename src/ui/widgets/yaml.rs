//! YAML lines with syntax colouring by meaning: keys, strings, numbers and booleans.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::config::{Slot, Theme};

/// One line of block-style YAML (as `to_yaml` writes it) as styled spans. Lines are
/// sanitized already; this only colours them.
pub fn yaml_line(line: &str, theme: &Theme) -> Line<'static> {
    let text = theme.style(Slot::Text);
    let indent_len = line.len() - line.trim_start().len();
    let (indent, rest) = line.split_at(indent_len);
    let mut spans = vec![Span::styled(indent.to_owned(), text)];
    let mut rest = rest;
    while let Some(after_dash) = rest.strip_prefix("- ") {
        spans.push(Span::styled("- ".to_owned(), theme.style(Slot::Muted)));
        rest = after_dash;
    }
    if rest == "-" {
        spans.push(Span::styled(rest.to_owned(), theme.style(Slot::Muted)));
        return Line::from(spans);
    }
    match key_split(rest) {
        Some((key, value)) => {
            spans.push(Span::styled(key.to_owned(), theme.style(Slot::YamlKey)));
            spans.push(Span::styled(":".to_owned(), theme.style(Slot::Muted)));
            if !value.is_empty() {
                spans.push(Span::styled(" ".to_owned(), text));
                spans.push(Span::styled(value.to_owned(), scalar_style(value, theme)));
            }
        }
        None => spans.push(Span::styled(rest.to_owned(), scalar_style(rest, theme))),
    }
    Line::from(spans)
}

/// `key: value` or `key:`; a quoted scalar with a colon inside is no key.
fn key_split(text: &str) -> Option<(&str, &str)> {
    if text.starts_with(['"', '\'']) {
        let quote = text.chars().next()?;
        let end = text[1..].find(quote)? + 1;
        let after = &text[end + 1..];
        let value = after.strip_prefix(':')?;
        return Some((&text[..=end], value.trim_start()));
    }
    let (key, value) = text.split_once(':')?;
    if !(value.is_empty() || value.starts_with(' ')) {
        return None;
    }
    Some((key, value.trim_start()))
}

fn scalar_style(value: &str, theme: &Theme) -> Style {
    let literal = matches!(value, "true" | "false" | "null" | "~" | "{}" | "[]")
        || value.parse::<f64>().is_ok();
    theme.style(if literal {
        Slot::YamlLiteral
    } else {
        Slot::YamlString
    })
}
