//! Writes canvas-space cells into a screen area through a viewport, clipping the rest.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect as ScreenRect;
use ratatui::style::Style;
use unicode_width::UnicodeWidthChar;

use crate::layout::Rect;

pub struct Canvas<'b> {
    pub buffer: &'b mut Buffer,
    pub area: ScreenRect,
    pub window: Rect,
}

impl Canvas<'_> {
    fn to_screen(&self, x: u32, y: u32) -> Option<(u16, u16)> {
        let dx = x.checked_sub(self.window.x)?;
        let dy = y.checked_sub(self.window.y)?;
        if dx >= u32::from(self.area.width) || dy >= u32::from(self.area.height) {
            return None;
        }
        Some((self.area.x + dx as u16, self.area.y + dy as u16))
    }

    pub fn put(&mut self, x: u32, y: u32, ch: char, style: Style) {
        if let Some(position) = self.to_screen(x, y) {
            if let Some(cell) = self.buffer.cell_mut(position) {
                cell.set_char(ch).set_style(style);
            }
        }
    }

    /// Writes `text` from `(x, y)` in at most `max_width` cells; returns the cells used.
    pub fn text(&mut self, x: u32, y: u32, text: &str, max_width: u32, style: Style) -> u32 {
        let mut used = 0;
        for ch in text.chars() {
            let width = ch.width().unwrap_or(0) as u32;
            if width == 0 {
                continue;
            }
            if used + width > max_width {
                break;
            }
            self.put(x + used, y, ch, style);
            if width == 2 {
                // The wide glyph covers the next cell; blank it so no stale symbol shows.
                if let Some(position) = self.to_screen(x + used + 1, y) {
                    if let Some(cell) = self.buffer.cell_mut(position) {
                        cell.set_symbol("").set_style(style);
                    }
                }
            }
            used += width;
        }
        used
    }
}

/// Shortens `text` to `max` cells, ending with `…` (or `~` in ASCII) when cut.
pub fn truncate(text: &str, max: usize, ascii: bool) -> String {
    let width: usize = text.chars().map(|c| c.width().unwrap_or(0)).sum();
    if width <= max {
        return text.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for ch in text.chars() {
        let w = ch.width().unwrap_or(0);
        if used + w + 1 > max {
            break;
        }
        out.push(ch);
        used += w;
    }
    out.push(if ascii { '~' } else { '…' });
    out
}
