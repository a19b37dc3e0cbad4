//! Strips control characters and terminal escape sequences from text that came from outside.

/// Removes C0/C1 control characters and whole ANSI escape sequences (CSI, OSC, DCS and
/// two-byte escapes), so that text from a cluster or a metric label cannot move the cursor,
/// change colours, set the window title or talk to the terminal. Tabs become spaces.
pub fn sanitize(input: &str) -> String {
    if !input.chars().any(needs_work) {
        return input.to_owned();
    }
    let mut out = String::with_capacity(input.len());
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => skip_escape(&mut chars),
            // C1 CSI / OSC / DCS / APC / PM / SOS introducers carry a payload too.
            '\u{9b}' => skip_csi(&mut chars),
            '\u{9d}' | '\u{90}' | '\u{9f}' | '\u{9e}' | '\u{98}' => skip_string(&mut chars),
            '\t' => out.push(' '),
            c if c.is_control() => {}
            // Bidirectional overrides can make a name read differently from what it is.
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {}
            c => out.push(c),
        }
    }
    out
}

/// A JSON value with every string in it, keys included, passed through [`sanitize`].
pub fn sanitize_json(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(text) => Value::String(sanitize(text)),
        Value::Array(items) => Value::Array(items.iter().map(sanitize_json).collect()),
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (sanitize(k), sanitize_json(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn needs_work(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

fn skip_escape(chars: &mut Chars<'_>) {
    match chars.next() {
        Some('[') => skip_csi(chars),
        Some(']') | Some('P') | Some('_') | Some('^') | Some('X') => skip_string(chars),
        // Escapes with an intermediate byte (e.g. ESC ( B) take one more character.
        Some(c) if ('\u{20}'..='\u{2f}').contains(&c) => {
            chars.next();
        }
        _ => {}
    }
}

fn skip_csi(chars: &mut Chars<'_>) {
    for c in chars.by_ref() {
        if ('\u{40}'..='\u{7e}').contains(&c) {
            break;
        }
    }
}

/// Skips an OSC/DCS-style string up to BEL, ST (ESC \) or the C1 ST.
fn skip_string(chars: &mut Chars<'_>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => break,
            '\u{1b}' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                break;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sanitize;

    #[test]
    fn escape_sequences_and_controls_are_removed() {
        let cases = [
            ("plain text stays", "reviews-v2", "reviews-v2"),
            ("colour CSI", "\u{1b}[31mred\u{1b}[0m", "red"),
            ("window title OSC with BEL", "a\u{1b}]0;pwned\u{7}b", "ab"),
            (
                "OSC 52 clipboard with ST",
                "x\u{1b}]52;c;ZXZpbA==\u{1b}\\y",
                "xy",
            ),
            ("cursor movement", "\u{1b}[2J\u{1b}[Hhome", "home"),
            ("C1 CSI", "\u{9b}1mbold", "bold"),
            ("newline and carriage return", "a\r\nb", "ab"),
            ("tab becomes space", "a\tb", "a b"),
            ("charset designation", "\u{1b}(Bok", "ok"),
            ("bidi override", "abc\u{202e}fed", "abcfed"),
            ("unicode kept", "café ✓", "café ✓"),
            ("truncated escape at end", "end\u{1b}[", "end"),
        ];
        for (name, input, expected) in cases {
            assert_eq!(sanitize(input), expected, "{name}");
        }
    }
}
