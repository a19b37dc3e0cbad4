//! A sparkline of a value's recent history, in one row of cells.

use std::collections::VecDeque;

use ratatui::layout::Rect;
use ratatui::symbols::bar;
use ratatui::widgets::Sparkline;
use ratatui::Frame;

use crate::config::Slot;
use crate::ui::Chrome;

/// Bars for terminals without UTF-8.
const ASCII_BARS: bar::Set = bar::Set {
    full: "#",
    seven_eighths: "#",
    three_quarters: "=",
    five_eighths: "=",
    half: "-",
    three_eighths: "-",
    one_quarter: ".",
    one_eighth: ".",
    empty: " ",
};

/// Draws the newest values that fit in `area`, newest at its right edge, scaled from zero
/// to their maximum.
pub fn draw_trend(frame: &mut Frame, area: Rect, values: Option<&VecDeque<f32>>, chrome: &Chrome) {
    let Some(values) = values else {
        return;
    };
    let width = usize::from(area.width);
    let skip = values.len().saturating_sub(width);
    // Sparkline takes integers: hundredths keep rates under 1/s visible.
    let data: Vec<u64> = values
        .iter()
        .skip(skip)
        .map(|v| (f64::from(*v).max(0.0) * 100.0).round() as u64)
        .collect();
    let drawn = Rect {
        x: area.x + area.width.saturating_sub(data.len() as u16),
        width: (data.len() as u16).min(area.width),
        ..area
    };
    let sparkline = Sparkline::default()
        .data(&data)
        .style(chrome.theme.style(Slot::Trend))
        .bar_set(if chrome.ascii {
            ASCII_BARS
        } else {
            bar::NINE_LEVELS
        });
    frame.render_widget(sparkline, drawn);
}
