//! Key notation as written in keymap files (`q`, `C-c`, `S-left`, `f5`) and its link to crossterm.
//!
//! The notation is helix-like: optional modifiers `C-` (Ctrl), `A-` (Alt), `S-` (Shift) in any
//! order, then one printable character or a key name. Shifted characters are written as the
//! character itself (`Q`, `?`), because terminals report the character, not the key that made it.

use std::fmt;
use std::str::FromStr;

use crossterm::event::{KeyCode as TermKeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// A key without its modifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyCode {
    /// A printable character; the space bar is `Char(' ')`, written `space`.
    Char(char),
    Left,
    Right,
    Up,
    Down,
    Esc,
    Enter,
    Tab,
    /// Shift-Tab; terminals report it as a key of its own.
    BackTab,
    PageUp,
    PageDown,
    Home,
    End,
    Backspace,
    Delete,
    Insert,
    /// A function key, 1 to 12.
    F(u8),
}

/// The names accepted (case-insensitively) for keys that are not a single character.
const NAMED_KEYS: &[(&str, KeyCode)] = &[
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("esc", KeyCode::Esc),
    ("enter", KeyCode::Enter),
    ("tab", KeyCode::Tab),
    ("backtab", KeyCode::BackTab),
    ("space", KeyCode::Char(' ')),
    ("pageup", KeyCode::PageUp),
    ("pagedown", KeyCode::PageDown),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
    ("backspace", KeyCode::Backspace),
    ("delete", KeyCode::Delete),
    ("insert", KeyCode::Insert),
];

/// Function keys beyond F12 are rare on real keyboards and reported inconsistently.
const MAX_FUNCTION_KEY: u8 = 12;

/// Modifier keys held with a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Modifiers {
    pub ctrl: bool,
    pub alt: bool,
    pub shift: bool,
}

/// One key press as a keymap names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyPress {
    pub code: KeyCode,
    pub modifiers: Modifiers,
}

/// Why a key notation was refused; shown after the file and line of the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyParseError {
    #[error("a key cannot be empty")]
    Empty,
    #[error("nothing follows \"{0}-\"; write a key after the modifier, e.g. \"{0}-c\"")]
    MissingKey(char),
    #[error("\"{0}-\" is not a modifier (expected C-, A- or S-)")]
    UnknownModifier(String),
    #[error("the modifier \"{0}-\" is given twice")]
    RepeatedModifier(char),
    #[error("\"{0}\" is not a key (expected one character or one of: {names}, f1 to f12)", names = named_key_list())]
    UnknownKey(String),
    #[error("f{0} is not supported (function keys go from f1 to f12)")]
    FunctionKeyOutOfRange(u32),
    #[error("S- cannot be combined with a character; write the shifted character itself, e.g. \"Q\" rather than \"S-q\"")]
    ShiftedCharacter,
    #[error("control characters cannot be bound; use a key name such as \"tab\" or \"enter\"")]
    ControlCharacter,
}

fn named_key_list() -> String {
    let names: Vec<&str> = NAMED_KEYS.iter().map(|(name, _)| *name).collect();
    names.join(", ")
}

impl KeyPress {
    /// A key with no modifiers.
    pub fn new(code: KeyCode) -> KeyPress {
        KeyPress {
            code,
            modifiers: Modifiers::default(),
        }
    }

    /// The key press a keymap would name for this terminal event, if any.
    ///
    /// Crossterm reports an uppercase letter as `Char('Q')` with SHIFT and Shift-Tab as `BackTab`
    /// with SHIFT; the notation writes them `Q` and `backtab`, so SHIFT is dropped there. Releases
    /// are not presses, and keys or modifiers the notation cannot name (media keys, Super, Meta)
    /// give `None` so that, say, Super-q never triggers what `q` is bound to.
    pub fn from_crossterm(event: &KeyEvent) -> Option<KeyPress> {
        if event.kind == KeyEventKind::Release {
            return None;
        }
        let unsupported = KeyModifiers::SUPER | KeyModifiers::HYPER | KeyModifiers::META;
        if event.modifiers.intersects(unsupported) {
            return None;
        }
        let code = match event.code {
            TermKeyCode::Char(c) if c.is_control() => return None,
            TermKeyCode::Char(c) => KeyCode::Char(c),
            TermKeyCode::Left => KeyCode::Left,
            TermKeyCode::Right => KeyCode::Right,
            TermKeyCode::Up => KeyCode::Up,
            TermKeyCode::Down => KeyCode::Down,
            TermKeyCode::Esc => KeyCode::Esc,
            TermKeyCode::Enter => KeyCode::Enter,
            TermKeyCode::Tab => KeyCode::Tab,
            TermKeyCode::BackTab => KeyCode::BackTab,
            TermKeyCode::PageUp => KeyCode::PageUp,
            TermKeyCode::PageDown => KeyCode::PageDown,
            TermKeyCode::Home => KeyCode::Home,
            TermKeyCode::End => KeyCode::End,
            TermKeyCode::Backspace => KeyCode::Backspace,
            TermKeyCode::Delete => KeyCode::Delete,
            TermKeyCode::Insert => KeyCode::Insert,
            TermKeyCode::F(n) if (1..=MAX_FUNCTION_KEY).contains(&n) => KeyCode::F(n),
            _ => return None,
        };
        let shift_is_in_the_key = matches!(code, KeyCode::Char(_) | KeyCode::BackTab);
        let modifiers = Modifiers {
            ctrl: event.modifiers.contains(KeyModifiers::CONTROL),
            alt: event.modifiers.contains(KeyModifiers::ALT),
            shift: event.modifiers.contains(KeyModifiers::SHIFT) && !shift_is_in_the_key,
        };
        Some(KeyPress { code, modifiers })
    }
}

impl FromStr for KeyPress {
    type Err = KeyParseError;

    fn from_str(notation: &str) -> Result<KeyPress, KeyParseError> {
        if notation.is_empty() {
            return Err(KeyParseError::Empty);
        }
        let mut modifiers = Modifiers::default();
        let mut rest = notation;
        // A modifier is one character and a dash with something after it; this keeps `-` and
        // `C--` (Ctrl and minus) readable as keys.
        while let Some((prefix, key)) = split_modifier(rest) {
            let flag = match prefix {
                'C' => &mut modifiers.ctrl,
                'A' => &mut modifiers.alt,
                'S' => &mut modifiers.shift,
                other => return Err(KeyParseError::UnknownModifier(other.to_string())),
            };
            if *flag {
                return Err(KeyParseError::RepeatedModifier(prefix));
            }
            *flag = true;
            rest = key;
        }
        if let Some(prefix) = dangling_modifier(rest) {
            return Err(KeyParseError::MissingKey(prefix));
        }
        let code = parse_code(rest)?;
        // from_crossterm drops SHIFT from every character, space included, so `S-` with a
        // character could never match a key press.
        if matches!(code, KeyCode::Char(_)) && modifiers.shift {
            return Err(KeyParseError::ShiftedCharacter);
        }
        // Terminals send Shift-Tab as BackTab, so `S-tab` can only ever mean `backtab`.
        if matches!(code, KeyCode::Tab | KeyCode::BackTab) && modifiers.shift {
            modifiers.shift = false;
            return Ok(KeyPress {
                code: KeyCode::BackTab,
                modifiers,
            });
        }
        Ok(KeyPress { code, modifiers })
    }
}

/// `C-x` gives `('C', "x")`; a bare `C-` or a key like `-` gives `None`.
fn split_modifier(text: &str) -> Option<(char, &str)> {
    let mut chars = text.chars();
    let prefix = chars.next()?;
    let rest = chars.as_str().strip_prefix('-')?;
    if rest.is_empty() {
        return None;
    }
    Some((prefix, rest))
}

fn dangling_modifier(text: &str) -> Option<char> {
    match text {
        "C-" => Some('C'),
        "A-" => Some('A'),
        "S-" => Some('S'),
        _ => None,
    }
}

fn parse_code(text: &str) -> Result<KeyCode, KeyParseError> {
    let mut chars = text.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        if c.is_control() {
            return Err(KeyParseError::ControlCharacter);
        }
        return Ok(KeyCode::Char(c));
    }
    let lower = text.to_ascii_lowercase();
    if let Some((_, code)) = NAMED_KEYS.iter().find(|(name, _)| *name == lower) {
        return Ok(*code);
    }
    if let Some(number) = lower.strip_prefix('f') {
        if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) {
            return match number.parse::<u32>() {
                Ok(n) => u8::try_from(n)
                    .ok()
                    .filter(|n| (1..=MAX_FUNCTION_KEY).contains(n))
                    .map(KeyCode::F)
                    .ok_or(KeyParseError::FunctionKeyOutOfRange(n)),
                Err(_) => Err(KeyParseError::UnknownKey(text.to_string())),
            };
        }
    }
    Err(KeyParseError::UnknownKey(text.to_string()))
}

impl fmt::Display for KeyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::F(n) => write!(f, "f{n}"),
            named => {
                let name = NAMED_KEYS
                    .iter()
                    .find(|(_, code)| code == named)
                    .map_or("?", |(name, _)| *name);
                f.write_str(name)
            }
        }
    }
}

/// The notation form, so help and footer show what the user would write in a keymap file.
impl fmt::Display for KeyPress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.modifiers.ctrl {
            f.write_str("C-")?;
        }
        if self.modifiers.alt {
            f.write_str("A-")?;
        }
        if self.modifiers.shift {
            f.write_str("S-")?;
        }
        write!(f, "{}", self.code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyEventState;

    fn press(code: KeyCode, ctrl: bool, alt: bool, shift: bool) -> KeyPress {
        KeyPress {
            code,
            modifiers: Modifiers { ctrl, alt, shift },
        }
    }

    #[test]
    fn notation_parses_and_displays_the_same_way() {
        let cases = [
            (
                "a lowercase letter",
                "q",
                press(KeyCode::Char('q'), false, false, false),
            ),
            (
                "an uppercase letter",
                "Q",
                press(KeyCode::Char('Q'), false, false, false),
            ),
            (
                "a question mark",
                "?",
                press(KeyCode::Char('?'), false, false, false),
            ),
            (
                "a slash",
                "/",
                press(KeyCode::Char('/'), false, false, false),
            ),
            (
                "a plus",
                "+",
                press(KeyCode::Char('+'), false, false, false),
            ),
            (
                "a minus",
                "-",
                press(KeyCode::Char('-'), false, false, false),
            ),
            (
                "ctrl and minus",
                "C--",
                press(KeyCode::Char('-'), true, false, false),
            ),
            (
                "ctrl and a letter",
                "C-c",
                press(KeyCode::Char('c'), true, false, false),
            ),
            (
                "alt and a letter",
                "A-x",
                press(KeyCode::Char('x'), false, true, false),
            ),
            (
                "shift and an arrow",
                "S-left",
                press(KeyCode::Left, false, false, true),
            ),
            (
                "ctrl shift and an arrow",
                "C-S-left",
                press(KeyCode::Left, true, false, true),
            ),
            (
                "all modifiers",
                "C-A-S-home",
                press(KeyCode::Home, true, true, true),
            ),
            (
                "the space bar",
                "space",
                press(KeyCode::Char(' '), false, false, false),
            ),
            (
                "page down",
                "pagedown",
                press(KeyCode::PageDown, false, false, false),
            ),
            ("escape", "esc", press(KeyCode::Esc, false, false, false)),
            (
                "backtab",
                "backtab",
                press(KeyCode::BackTab, false, false, false),
            ),
            (
                "a function key",
                "f12",
                press(KeyCode::F(12), false, false, false),
            ),
            (
                "ctrl and a function key",
                "C-f1",
                press(KeyCode::F(1), true, false, false),
            ),
            (
                "a non-ascii character",
                "é",
                press(KeyCode::Char('é'), false, false, false),
            ),
        ];
        for (name, notation, expected) in cases {
            let parsed: KeyPress = notation.parse().unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(parsed, expected, "{name}");
            assert_eq!(parsed.to_string(), notation, "{name}");
        }
    }

    #[test]
    fn notation_variants_normalise_to_one_display_form() {
        let cases = [
            ("key names ignore case", "PageUp", "pageup"),
            ("function keys ignore case", "F5", "f5"),
            ("modifiers in any order", "S-C-up", "C-S-up"),
            ("shift tab is backtab", "S-tab", "backtab"),
            ("ctrl shift tab keeps ctrl", "C-S-tab", "C-backtab"),
            ("a literal space", " ", "space"),
        ];
        for (name, notation, display) in cases {
            let parsed: KeyPress = notation.parse().unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(parsed.to_string(), display, "{name}");
        }
    }

    #[test]
    fn bad_notation_is_refused_with_a_reason() {
        let cases = [
            ("empty", "", KeyParseError::Empty),
            (
                "a modifier without a key",
                "C-",
                KeyParseError::MissingKey('C'),
            ),
            (
                "two modifiers without a key",
                "C-S-",
                KeyParseError::MissingKey('S'),
            ),
            (
                "an unknown modifier",
                "X-q",
                KeyParseError::UnknownModifier("X".into()),
            ),
            (
                "a lowercase modifier",
                "c-q",
                KeyParseError::UnknownModifier("c".into()),
            ),
            (
                "an unknown key name",
                "foo",
                KeyParseError::UnknownKey("foo".into()),
            ),
            ("two dashes", "--", KeyParseError::UnknownKey("--".into())),
            (
                "a repeated modifier",
                "C-C-x",
                KeyParseError::RepeatedModifier('C'),
            ),
            (
                "shift with a character",
                "S-q",
                KeyParseError::ShiftedCharacter,
            ),
            ("a control character", "\t", KeyParseError::ControlCharacter),
            (
                "function key zero",
                "f0",
                KeyParseError::FunctionKeyOutOfRange(0),
            ),
            (
                "function key thirteen",
                "f13",
                KeyParseError::FunctionKeyOutOfRange(13),
            ),
            (
                "a huge function key",
                "f99999999999",
                KeyParseError::UnknownKey("f99999999999".into()),
            ),
        ];
        for (name, notation, expected) in cases {
            assert_eq!(notation.parse::<KeyPress>(), Err(expected), "{name}");
        }
    }

    #[test]
    fn key_parse_errors_read_well() {
        assert_eq!(
            KeyParseError::MissingKey('C').to_string(),
            "nothing follows \"C-\"; write a key after the modifier, e.g. \"C-c\""
        );
        assert!(KeyParseError::UnknownKey("foo".into())
            .to_string()
            .starts_with("\"foo\" is not a key (expected one character or one of: left, right,"));
    }

    fn event(code: TermKeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent {
            code,
            modifiers,
            kind: KeyEventKind::Press,
            state: KeyEventState::NONE,
        }
    }

    #[test]
    fn crossterm_events_normalise_to_the_notation() {
        let cases = [
            (
                "a plain letter",
                event(TermKeyCode::Char('q'), KeyModifiers::NONE),
                Some("q"),
            ),
            (
                "an uppercase letter drops shift",
                event(TermKeyCode::Char('Q'), KeyModifiers::SHIFT),
                Some("Q"),
            ),
            (
                "a shifted symbol drops shift",
                event(TermKeyCode::Char('?'), KeyModifiers::SHIFT),
                Some("?"),
            ),
            (
                "ctrl c",
                event(TermKeyCode::Char('c'), KeyModifiers::CONTROL),
                Some("C-c"),
            ),
            (
                "backtab drops shift",
                event(TermKeyCode::BackTab, KeyModifiers::SHIFT),
                Some("backtab"),
            ),
            (
                "shift arrow keeps shift",
                event(TermKeyCode::Left, KeyModifiers::SHIFT),
                Some("S-left"),
            ),
            (
                "ctrl alt arrow",
                event(TermKeyCode::Up, KeyModifiers::CONTROL | KeyModifiers::ALT),
                Some("C-A-up"),
            ),
            (
                "space",
                event(TermKeyCode::Char(' '), KeyModifiers::NONE),
                Some("space"),
            ),
            (
                "shift space drops shift",
                event(TermKeyCode::Char(' '), KeyModifiers::SHIFT),
                Some("space"),
            ),
            (
                "f5",
                event(TermKeyCode::F(5), KeyModifiers::NONE),
                Some("f5"),
            ),
            (
                "f20 cannot be named",
                event(TermKeyCode::F(20), KeyModifiers::NONE),
                None,
            ),
            (
                "super cannot be named",
                event(TermKeyCode::Char('q'), KeyModifiers::SUPER),
                None,
            ),
            (
                "caps lock cannot be named",
                event(TermKeyCode::CapsLock, KeyModifiers::NONE),
                None,
            ),
            (
                "a raw control character",
                event(TermKeyCode::Char('\u{1b}'), KeyModifiers::NONE),
                None,
            ),
        ];
        for (name, ev, expected) in cases {
            let got = KeyPress::from_crossterm(&ev).map(|k| k.to_string());
            assert_eq!(got.as_deref(), expected, "{name}");
        }
    }

    #[test]
    fn a_key_release_is_not_a_press() {
        let mut ev = event(TermKeyCode::Char('q'), KeyModifiers::NONE);
        ev.kind = KeyEventKind::Release;
        assert_eq!(KeyPress::from_crossterm(&ev), None);
        ev.kind = KeyEventKind::Repeat;
        assert_eq!(
            KeyPress::from_crossterm(&ev),
            Some(KeyPress::new(KeyCode::Char('q')))
        );
    }

    #[test]
    fn a_parsed_key_matches_the_crossterm_event_for_it() {
        let cases = [
            ("Q", event(TermKeyCode::Char('Q'), KeyModifiers::SHIFT)),
            ("C-c", event(TermKeyCode::Char('c'), KeyModifiers::CONTROL)),
            ("S-tab", event(TermKeyCode::BackTab, KeyModifiers::SHIFT)),
            ("S-down", event(TermKeyCode::Down, KeyModifiers::SHIFT)),
        ];
        for (notation, ev) in cases {
            assert_eq!(
                KeyPress::from_crossterm(&ev),
                notation.parse().ok(),
                "{notation}"
            );
        }
    }
}
