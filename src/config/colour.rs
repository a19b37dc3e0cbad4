//! Colour values in theme files, the terminal's colour depth, and reducing colours to that depth.

use std::fmt;
use std::str::FromStr;

use ratatui::style::Color;

/// How many colours the terminal shows; themes are reduced to this before widgets see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColorDepth {
    TrueColor,
    Ansi256,
    Ansi16,
    /// No colours at all: only modifiers (bold, reversed, ...) reach the screen.
    Never,
}

impl ColorDepth {
    /// The depth the environment asks for, from `NO_COLOR`, `COLORTERM` and `TERM`.
    ///
    /// `COLORTERM` rarely survives SSH, so without it we stay at 256 or 16 colours rather than
    /// risk escape sequences the terminal renders as garbage.
    pub fn detect(
        no_color: Option<&str>,
        colorterm: Option<&str>,
        term: Option<&str>,
    ) -> ColorDepth {
        if no_color.is_some_and(|value| !value.is_empty()) {
            return ColorDepth::Never;
        }
        if colorterm.is_some_and(|value| {
            value.eq_ignore_ascii_case("truecolor") || value.eq_ignore_ascii_case("24bit")
        }) {
            return ColorDepth::TrueColor;
        }
        match term {
            Some(term) if term.contains("256color") => ColorDepth::Ansi256,
            Some("dumb") => ColorDepth::Never,
            _ => ColorDepth::Ansi16,
        }
    }
}

/// What the user asked for with `--color` or `color = ...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ColorChoice {
    #[default]
    Auto,
    TrueColor,
    Ansi256,
    Ansi16,
    Never,
}

impl ColorChoice {
    pub const VALUES: &'static [&'static str] = &["auto", "truecolor", "256", "16", "never"];

    /// The depth to draw with; `Auto` asks the environment (see [`ColorDepth::detect`]).
    pub fn depth(
        self,
        no_color: Option<&str>,
        colorterm: Option<&str>,
        term: Option<&str>,
    ) -> ColorDepth {
        match self {
            ColorChoice::Auto => ColorDepth::detect(no_color, colorterm, term),
            ColorChoice::TrueColor => ColorDepth::TrueColor,
            ColorChoice::Ansi256 => ColorDepth::Ansi256,
            ColorChoice::Ansi16 => ColorDepth::Ansi16,
            ColorChoice::Never => ColorDepth::Never,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{0}\" is not a colour setting (expected one of: auto, truecolor, 256, 16, never)")]
pub struct ColorChoiceParseError(pub String);

impl FromStr for ColorChoice {
    type Err = ColorChoiceParseError;

    fn from_str(text: &str) -> Result<ColorChoice, ColorChoiceParseError> {
        match text {
            "auto" => Ok(ColorChoice::Auto),
            "truecolor" => Ok(ColorChoice::TrueColor),
            "256" => Ok(ColorChoice::Ansi256),
            "16" => Ok(ColorChoice::Ansi16),
            "never" => Ok(ColorChoice::Never),
            other => Err(ColorChoiceParseError(other.to_string())),
        }
    }
}

impl fmt::Display for ColorChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            ColorChoice::Auto => "auto",
            ColorChoice::TrueColor => "truecolor",
            ColorChoice::Ansi256 => "256",
            ColorChoice::Ansi16 => "16",
            ColorChoice::Never => "never",
        };
        f.write_str(text)
    }
}

/// The 16 ANSI colours by theme-file name, in palette order (index 0 to 15).
const ANSI16: [(&str, Color); 16] = [
    ("black", Color::Black),
    ("red", Color::Red),
    ("green", Color::Green),
    ("yellow", Color::Yellow),
    ("blue", Color::Blue),
    ("magenta", Color::Magenta),
    ("cyan", Color::Cyan),
    ("gray", Color::Gray),
    ("dark_gray", Color::DarkGray),
    ("light_red", Color::LightRed),
    ("light_green", Color::LightGreen),
    ("light_yellow", Color::LightYellow),
    ("light_blue", Color::LightBlue),
    ("light_magenta", Color::LightMagenta),
    ("light_cyan", Color::LightCyan),
    ("white", Color::White),
];

/// xterm's default RGB for the 16 ANSI colours. Terminals differ, but any reasonable palette
/// keeps these hues, which is all that choosing the nearest one needs.
const ANSI16_RGB: [(u8, u8, u8); 16] = [
    (0, 0, 0),
    (205, 0, 0),
    (0, 205, 0),
    (205, 205, 0),
    (0, 0, 238),
    (205, 0, 205),
    (0, 205, 205),
    (229, 229, 229),
    (127, 127, 127),
    (255, 0, 0),
    (0, 255, 0),
    (255, 255, 0),
    (92, 92, 255),
    (255, 0, 255),
    (0, 255, 255),
    (255, 255, 255),
];

/// Channel levels of the xterm 6x6x6 colour cube (indices 16 to 231).
const CUBE_LEVELS: [u8; 6] = [0, 95, 135, 175, 215, 255];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ColourParseError {
    #[error("expected \"#rrggbb\" with six hexadecimal digits")]
    BadHex,
    #[error("palette indices go from 0 to 255")]
    IndexOutOfRange,
    #[error("expected a colour name ({names}, reset), \"#rrggbb\" or a palette index such as \"238\"", names = colour_names())]
    UnknownName,
}

fn colour_names() -> String {
    let names: Vec<&str> = ANSI16.iter().map(|(name, _)| *name).collect();
    names.join(", ")
}

/// Parses a theme colour: an ANSI name, `reset`, `#rrggbb`, or a palette index as a string.
pub fn parse_colour(text: &str) -> Result<Color, ColourParseError> {
    if let Some(hex) = text.strip_prefix('#') {
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ColourParseError::BadHex);
        }
        let channel = |at: usize| u8::from_str_radix(hex.get(at..at + 2).unwrap_or(""), 16);
        return match (channel(0), channel(2), channel(4)) {
            (Ok(r), Ok(g), Ok(b)) => Ok(Color::Rgb(r, g, b)),
            _ => Err(ColourParseError::BadHex),
        };
    }
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse::<u8>()
            .map(Color::Indexed)
            .map_err(|_| ColourParseError::IndexOutOfRange);
    }
    if text == "reset" {
        return Ok(Color::Reset);
    }
    ANSI16
        .iter()
        .find(|(name, _)| *name == text)
        .map(|(_, colour)| *colour)
        .ok_or(ColourParseError::UnknownName)
}

/// The colour to draw at `depth`, or `None` when the terminal should get no colour at all.
pub fn reduce(colour: Color, depth: ColorDepth) -> Option<Color> {
    match (depth, colour) {
        (ColorDepth::Never, _) => None,
        (ColorDepth::TrueColor, c) => Some(c),
        (ColorDepth::Ansi256, Color::Rgb(r, g, b)) => Some(Color::Indexed(nearest_256(r, g, b))),
        (ColorDepth::Ansi256, c) => Some(c),
        (ColorDepth::Ansi16, Color::Rgb(r, g, b)) => Some(nearest_16(r, g, b)),
        (ColorDepth::Ansi16, Color::Indexed(index)) => Some(match ANSI16.get(usize::from(index)) {
            Some((_, named)) => *named,
            None => {
                let (r, g, b) = index_to_rgb(index);
                nearest_16(r, g, b)
            }
        }),
        (ColorDepth::Ansi16, c) => Some(c),
    }
}

/// The xterm-256 index (16 to 255) closest to an RGB colour. Indices 0 to 15 are left out
/// because terminals let users redefine them, so they are not reliable targets.
pub fn nearest_256(r: u8, g: u8, b: u8) -> u8 {
    (16..=255u8)
        .min_by_key(|&index| distance((r, g, b), index_to_rgb(index)))
        .unwrap_or(16)
}

/// The ANSI colour closest to an RGB colour.
pub fn nearest_16(r: u8, g: u8, b: u8) -> Color {
    ANSI16
        .iter()
        .zip(ANSI16_RGB)
        .min_by_key(|(_, rgb)| distance((r, g, b), *rgb))
        .map_or(Color::Reset, |((_, colour), _)| *colour)
}

/// The RGB that xterm shows for a palette index.
fn index_to_rgb(index: u8) -> (u8, u8, u8) {
    match index {
        0..=15 => ANSI16_RGB[usize::from(index)],
        16..=231 => {
            let cube = usize::from(index - 16);
            (
                CUBE_LEVELS[cube / 36],
                CUBE_LEVELS[(cube / 6) % 6],
                CUBE_LEVELS[cube % 6],
            )
        }
        _ => {
            let grey = 8 + 10 * (index - 232);
            (grey, grey, grey)
        }
    }
}

/// Squared "redmean" distance: plain RGB distance weighted the way the eye weighs the
/// channels, cheap and good enough to pick between palette entries.
fn distance(a: (u8, u8, u8), b: (u8, u8, u8)) -> i64 {
    let (r1, g1, b1) = (i64::from(a.0), i64::from(a.1), i64::from(a.2));
    let (r2, g2, b2) = (i64::from(b.0), i64::from(b.1), i64::from(b.2));
    let red_mean = (r1 + r2) / 2;
    let (dr, dg, db) = (r1 - r2, g1 - g2, b1 - b2);
    (((512 + red_mean) * dr * dr) >> 8) + 4 * dg * dg + (((767 - red_mean) * db * db) >> 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_detection_follows_the_environment() {
        let cases = [
            (
                "nothing set gives 16 colours",
                None,
                None,
                None,
                ColorDepth::Ansi16,
            ),
            (
                "NO_COLOR turns colours off",
                Some("1"),
                Some("truecolor"),
                Some("xterm-256color"),
                ColorDepth::Never,
            ),
            (
                "an empty NO_COLOR is ignored",
                Some(""),
                None,
                Some("xterm-256color"),
                ColorDepth::Ansi256,
            ),
            (
                "COLORTERM truecolor",
                None,
                Some("truecolor"),
                Some("xterm"),
                ColorDepth::TrueColor,
            ),
            (
                "COLORTERM 24bit",
                None,
                Some("24bit"),
                None,
                ColorDepth::TrueColor,
            ),
            (
                "another COLORTERM is not enough",
                None,
                Some("yes"),
                Some("xterm"),
                ColorDepth::Ansi16,
            ),
            (
                "a 256-colour TERM",
                None,
                None,
                Some("screen-256color"),
                ColorDepth::Ansi256,
            ),
            (
                "a dumb terminal",
                None,
                None,
                Some("dumb"),
                ColorDepth::Never,
            ),
            ("plain xterm", None, None, Some("xterm"), ColorDepth::Ansi16),
            (
                "the linux console",
                None,
                None,
                Some("linux"),
                ColorDepth::Ansi16,
            ),
        ];
        for (name, no_color, colorterm, term, expected) in cases {
            assert_eq!(
                ColorDepth::detect(no_color, colorterm, term),
                expected,
                "{name}"
            );
        }
    }

    #[test]
    fn colour_choices_parse_and_only_auto_asks_the_environment() {
        for value in ColorChoice::VALUES {
            let choice: ColorChoice = value.parse().unwrap();
            assert_eq!(choice.to_string(), *value);
        }
        assert_eq!(
            "blue".parse::<ColorChoice>().unwrap_err().to_string(),
            "\"blue\" is not a colour setting (expected one of: auto, truecolor, 256, 16, never)"
        );
        assert_eq!(
            ColorChoice::TrueColor.depth(Some("1"), None, None),
            ColorDepth::TrueColor
        );
        assert_eq!(
            ColorChoice::Auto.depth(Some("1"), None, None),
            ColorDepth::Never
        );
    }

    #[test]
    fn colours_parse_from_theme_notation() {
        let cases = [
            ("a named colour", "red", Ok(Color::Red)),
            ("a light colour", "light_cyan", Ok(Color::LightCyan)),
            ("dark gray", "dark_gray", Ok(Color::DarkGray)),
            ("reset", "reset", Ok(Color::Reset)),
            ("hex", "#ff8000", Ok(Color::Rgb(255, 128, 0))),
            ("uppercase hex", "#FF8000", Ok(Color::Rgb(255, 128, 0))),
            ("an index", "238", Ok(Color::Indexed(238))),
            ("index zero", "0", Ok(Color::Indexed(0))),
            (
                "an index too large",
                "256",
                Err(ColourParseError::IndexOutOfRange),
            ),
            ("short hex", "#fff", Err(ColourParseError::BadHex)),
            ("non-hex digits", "#gg0000", Err(ColourParseError::BadHex)),
            ("multibyte hex", "#ééé", Err(ColourParseError::BadHex)),
            (
                "a misspelt name",
                "lightred",
                Err(ColourParseError::UnknownName),
            ),
            ("an empty string", "", Err(ColourParseError::UnknownName)),
        ];
        for (name, text, expected) in cases {
            assert_eq!(parse_colour(text), expected, "{name}");
        }
    }

    #[test]
    fn colours_reduce_to_the_terminal_depth() {
        let red = Color::Rgb(255, 0, 0);
        let cases = [
            ("truecolor keeps rgb", red, ColorDepth::TrueColor, Some(red)),
            (
                "pure red is index 196",
                red,
                ColorDepth::Ansi256,
                Some(Color::Indexed(196)),
            ),
            (
                "pure red is light red in 16",
                red,
                ColorDepth::Ansi16,
                Some(Color::LightRed),
            ),
            (
                "dark red is red in 16",
                Color::Rgb(170, 20, 20),
                ColorDepth::Ansi16,
                Some(Color::Red),
            ),
            (
                "mid grey is a grey ramp index",
                Color::Rgb(128, 128, 128),
                ColorDepth::Ansi256,
                Some(Color::Indexed(244)),
            ),
            (
                "mid grey is dark gray in 16",
                Color::Rgb(128, 128, 128),
                ColorDepth::Ansi16,
                Some(Color::DarkGray),
            ),
            (
                "an index stays at 256",
                Color::Indexed(238),
                ColorDepth::Ansi256,
                Some(Color::Indexed(238)),
            ),
            (
                "a low index is its named colour",
                Color::Indexed(4),
                ColorDepth::Ansi16,
                Some(Color::Blue),
            ),
            (
                "a dark grey index is black in 16",
                Color::Indexed(234),
                ColorDepth::Ansi16,
                Some(Color::Black),
            ),
            (
                "a named colour survives 16",
                Color::Cyan,
                ColorDepth::Ansi16,
                Some(Color::Cyan),
            ),
            (
                "reset survives 16",
                Color::Reset,
                ColorDepth::Ansi16,
                Some(Color::Reset),
            ),
            (
                "never drops every colour",
                Color::Cyan,
                ColorDepth::Never,
                None,
            ),
        ];
        for (name, colour, depth, expected) in cases {
            assert_eq!(reduce(colour, depth), expected, "{name}");
        }
    }

    #[test]
    fn every_cube_colour_maps_back_to_its_own_index() {
        for index in 16..=255u8 {
            let (r, g, b) = index_to_rgb(index);
            assert_eq!(nearest_256(r, g, b), index, "index {index}");
        }
    }
}
