//! Characters for health marks and boxes, in Unicode and ASCII.

use ratatui::symbols::border;

use crate::mesh::Health;

/// Popup borders without box drawing, for terminals without UTF-8.
pub const ASCII_BORDER: border::Set = border::Set {
    top_left: "+",
    top_right: "+",
    bottom_left: "+",
    bottom_right: "+",
    vertical_left: "|",
    vertical_right: "|",
    horizontal_top: "-",
    horizontal_bottom: "-",
};

pub fn health_mark(health: Health, ascii: bool) -> &'static str {
    match (health, ascii) {
        (Health::NoTraffic, false) => "○",
        (Health::Healthy, false) => "●",
        (Health::Degraded, false) => "▲",
        (Health::Failure, false) => "✖",
        (Health::NoTraffic, true) => "-",
        (Health::Healthy, true) => "o",
        (Health::Degraded, true) => "!",
        (Health::Failure, true) => "x",
    }
}

/// Box corners and sides: top-left, top-right, bottom-left, bottom-right, horizontal, vertical.
pub struct BoxChars {
    pub top_left: char,
    pub top_right: char,
    pub bottom_left: char,
    pub bottom_right: char,
    pub horizontal: char,
    pub vertical: char,
}

pub fn box_chars(selected: bool, ascii: bool) -> BoxChars {
    match (selected, ascii) {
        (false, false) => BoxChars {
            top_left: '╭',
            top_right: '╮',
            bottom_left: '╰',
            bottom_right: '╯',
            horizontal: '─',
            vertical: '│',
        },
        (true, false) => BoxChars {
            top_left: '┏',
            top_right: '┓',
            bottom_left: '┗',
            bottom_right: '┛',
            horizontal: '━',
            vertical: '┃',
        },
        (false, true) => BoxChars {
            top_left: '+',
            top_right: '+',
            bottom_left: '+',
            bottom_right: '+',
            horizontal: '-',
            vertical: '|',
        },
        (true, true) => BoxChars {
            top_left: '#',
            top_right: '#',
            bottom_left: '#',
            bottom_right: '#',
            horizontal: '=',
            vertical: '#',
        },
    }
}

/// A straight edge segment of a plain-text (non-mTLS) edge is dashed so it reads without colour.
pub fn dashed(straight: char, ascii: bool) -> char {
    match (straight, ascii) {
        ('─', false) => '╌',
        ('│', false) => '╎',
        ('-', true) => '.',
        ('|', true) => ':',
        (other, _) => other,
    }
}
