//! Characters for route masks and arrowheads, in Unicode box drawing or plain ASCII.

use super::{ArrowDir, DOWN, LEFT, RIGHT, UP};

/// The line character for a cell whose line leaves through the sides in `dirs`.
pub fn glyph(dirs: u8, ascii: bool) -> char {
    let horizontal = dirs & (LEFT | RIGHT) != 0;
    let vertical = dirs & (UP | DOWN) != 0;
    if ascii {
        return match (horizontal, vertical) {
            (false, false) => ' ',
            (true, false) => '-',
            (false, true) => '|',
            (true, true) => '+',
        };
    }
    match dirs & (UP | DOWN | LEFT | RIGHT) {
        0 => ' ',
        d if d & (UP | DOWN) == 0 => '─',
        d if d & (LEFT | RIGHT) == 0 => '│',
        d if d == DOWN | RIGHT => '┌',
        d if d == DOWN | LEFT => '┐',
        d if d == UP | RIGHT => '└',
        d if d == UP | LEFT => '┘',
        d if d == UP | DOWN | RIGHT => '├',
        d if d == UP | DOWN | LEFT => '┤',
        d if d == DOWN | LEFT | RIGHT => '┬',
        d if d == UP | LEFT | RIGHT => '┴',
        _ => '┼',
    }
}

pub fn arrow_glyph(dir: ArrowDir, ascii: bool) -> char {
    match (dir, ascii) {
        (ArrowDir::Right, false) => '▶',
        (ArrowDir::Left, false) => '◀',
        (ArrowDir::Right, true) => '>',
        (ArrowDir::Left, true) => '<',
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mask_has_the_expected_box_drawing_character() {
        let cases = [
            ("nothing", 0, ' '),
            ("horizontal", LEFT | RIGHT, '─'),
            ("half horizontal", LEFT, '─'),
            ("vertical", UP | DOWN, '│'),
            ("down and right", DOWN | RIGHT, '┌'),
            ("down and left", DOWN | LEFT, '┐'),
            ("up and right", UP | RIGHT, '└'),
            ("up and left", UP | LEFT, '┘'),
            ("tee right", UP | DOWN | RIGHT, '├'),
            ("tee left", UP | DOWN | LEFT, '┤'),
            ("tee down", DOWN | LEFT | RIGHT, '┬'),
            ("tee up", UP | LEFT | RIGHT, '┴'),
            ("crossing", UP | DOWN | LEFT | RIGHT, '┼'),
        ];
        for (name, dirs, expected) in cases {
            assert_eq!(glyph(dirs, false), expected, "{name}");
        }
    }

    #[test]
    fn ascii_uses_dash_bar_and_plus() {
        assert_eq!(glyph(LEFT | RIGHT, true), '-');
        assert_eq!(glyph(UP | DOWN, true), '|');
        assert_eq!(glyph(UP | RIGHT, true), '+');
        assert_eq!(arrow_glyph(ArrowDir::Left, true), '<');
        assert_eq!(arrow_glyph(ArrowDir::Right, false), '▶');
    }
}
