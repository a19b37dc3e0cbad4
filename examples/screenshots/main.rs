//! Writes a self-test frame through the rasterizer; the real screenshot scenes replace this.

mod raster;

use std::path::Path;

use anyhow::{Context, Result};
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph};
use ratatui::Terminal;

use raster::{render_png, RasterOptions};

const SELFTEST_PNG: &str = "/tmp/meshtui-raster-selftest.png";

fn main() -> Result<()> {
    let mut terminal =
        Terminal::new(TestBackend::new(60, 14)).context("cannot create the test terminal")?;
    terminal
        .draw(|frame| {
            let area = frame.area();
            let outer = Block::bordered().title(" meshtui raster self-test ");
            let inner = outer.inner(area);
            frame.render_widget(outer, area);

            let healthy = Style::default().fg(Color::Green);
            let text = vec![
                Line::from(vec![
                    Span::styled("● ", healthy),
                    Span::raw("reviews-v1  "),
                    Span::styled("▲ ", Style::default().fg(Color::Yellow)),
                    Span::raw("ratings  "),
                    Span::styled("✖ ", Style::default().fg(Color::LightRed)),
                    Span::raw("details  "),
                    Span::styled("○ ", Style::default().fg(Color::DarkGray)),
                    Span::raw("idle ▶"),
                ]),
                Line::from(vec![
                    Span::styled(
                        " selected row ",
                        Style::default().add_modifier(Modifier::REVERSED),
                    ),
                    Span::raw(" "),
                    Span::styled("bold", Style::default().add_modifier(Modifier::BOLD)),
                    Span::raw(" "),
                    Span::styled("dim", Style::default().add_modifier(Modifier::DIM)),
                    Span::raw(" "),
                    Span::styled(
                        "underlined",
                        Style::default().add_modifier(Modifier::UNDERLINED),
                    ),
                    Span::raw(" "),
                    Span::styled("italic", Style::default().add_modifier(Modifier::ITALIC)),
                ]),
                Line::from(vec![
                    Span::styled(" p99 ", Style::default().fg(Color::Black).bg(Color::Cyan)),
                    Span::styled(" 42ms ", Style::default().fg(Color::Indexed(214))),
                    Span::styled("rgb", Style::default().fg(Color::Rgb(0x7a, 0xa2, 0xf7))),
                    Span::raw(" wide: 网格 ok"),
                ]),
                Line::from("─┬──┼──┴─ ━┳━━╋━━┻━ ╌╌╌ ┄┄┄ ═╦═╬═╩═"),
                Line::from(" │  │  │   ┃  ┃  ┃  ╎ ╎ ┆ ┆  ║ ║ ║"),
            ];
            frame.render_widget(Paragraph::new(text), inner);

            let lower = Rect::new(inner.x, inner.y + 6, 18, 5);
            frame.render_widget(
                Block::bordered()
                    .border_type(BorderType::Rounded)
                    .title("rounded"),
                lower,
            );
            let heavy = Rect::new(inner.x + 19, inner.y + 6, 18, 5);
            frame.render_widget(
                Block::bordered()
                    .border_type(BorderType::Thick)
                    .title("thick"),
                heavy,
            );
            let double = Rect::new(inner.x + 38, inner.y + 6, 18, 5);
            frame.render_widget(
                Block::bordered()
                    .border_type(BorderType::Double)
                    .title("double"),
                double,
            );
        })
        .context("cannot draw the self-test frame")?;

    let path = Path::new(SELFTEST_PNG);
    render_png(terminal.backend().buffer(), &RasterOptions::default(), path)?;
    println!("wrote {}", path.display());
    Ok(())
}
