//! Rasterizes a ratatui [`Buffer`] into a PNG, one character cell at a time, the way a
//! terminal with a DejaVu Sans Mono font would draw it.
//!
//! Glyphs come from Debian's `fonts-dejavu-core` fonts through `fontdue`; box-drawing
//! characters are drawn as pixel lines instead, so borders join without gaps between cells.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use anyhow::{anyhow, Context, Result};
use ratatui::buffer::{Buffer, Cell, CellDiffOption, CellWidth};
use ratatui::style::{Color, Modifier};
use unicode_width::UnicodeWidthChar;

const FONT_DIR: &str = "/usr/share/fonts/truetype/dejavu";
const REGULAR_FONT: &str = "DejaVuSansMono.ttf";
const BOLD_FONT: &str = "DejaVuSansMono-Bold.ttf";
const OBLIQUE_FONT: &str = "DejaVuSansMono-Oblique.ttf";
const BOLD_OBLIQUE_FONT: &str = "DejaVuSansMono-BoldOblique.ttf";
/// Proportional face with many more symbols (dingbats such as `✖`) than the mono one.
const FALLBACK_FONT: &str = "DejaVuSans.ttf";

pub struct RasterOptions {
    /// Font size in pixels per em; the cell size follows from it.
    pub font_px: f32,
    /// Colour used for `Color::Reset` foregrounds.
    pub default_fg: [u8; 3],
    /// Colour used for `Color::Reset` backgrounds.
    pub default_bg: [u8; 3],
}

impl Default for RasterOptions {
    fn default() -> Self {
        Self {
            font_px: 16.0,
            default_fg: [0xc0, 0xca, 0xf5],
            default_bg: [0x1a, 0x1b, 0x26],
        }
    }
}

/// An 8-bit RGB image, rows top to bottom, three bytes per pixel.
pub struct RgbImage {
    pub width_px: u32,
    pub height_px: u32,
    pub pixels: Vec<u8>,
}

impl RgbImage {
    fn new(width_px: u32, height_px: u32, fill: [u8; 3]) -> Self {
        let pixels = fill.repeat(width_px as usize * height_px as usize);
        Self {
            width_px,
            height_px,
            pixels,
        }
    }

    fn index(&self, x: i32, y: i32) -> Option<usize> {
        let inside = x >= 0 && y >= 0 && (x as u32) < self.width_px && (y as u32) < self.height_px;
        inside.then(|| (y as usize * self.width_px as usize + x as usize) * 3)
    }

    #[cfg(test)]
    pub fn pixel(&self, x: u32, y: u32) -> Option<[u8; 3]> {
        let i = self.index(x as i32, y as i32)?;
        Some([self.pixels[i], self.pixels[i + 1], self.pixels[i + 2]])
    }

    /// Blends `colour` over the pixel with `coverage` (0 = untouched, 255 = replaced).
    fn blend_pixel(&mut self, x: i32, y: i32, colour: [u8; 3], coverage: u8) {
        if coverage == 0 {
            return;
        }
        if let Some(i) = self.index(x, y) {
            for (channel, value) in colour.iter().enumerate() {
                let below = self.pixels[i + channel];
                self.pixels[i + channel] = mix(below, *value, coverage);
            }
        }
    }

    fn fill_rect(&mut self, x: i32, y: i32, width: i32, height: i32, colour: [u8; 3]) {
        for row in y..y + height {
            for column in x..x + width {
                self.blend_pixel(column, row, colour, 255);
            }
        }
    }
}

/// Linear interpolation from `from` to `to`, `amount` in 1/255ths.
fn mix(from: u8, to: u8, amount: u8) -> u8 {
    let (from, to, amount) = (u32::from(from), u32::from(to), u32::from(amount));
    ((from * (255 - amount) + to * amount + 127) / 255) as u8
}

fn mix_rgb(from: [u8; 3], to: [u8; 3], amount: u8) -> [u8; 3] {
    [0, 1, 2].map(|i| mix(from[i], to[i], amount))
}

/// xterm's default colours for the 16 ANSI slots, in ANSI order.
const ANSI_RGB: [[u8; 3]; 16] = [
    [0x00, 0x00, 0x00],
    [0xcd, 0x00, 0x00],
    [0x00, 0xcd, 0x00],
    [0xcd, 0xcd, 0x00],
    [0x00, 0x00, 0xee],
    [0xcd, 0x00, 0xcd],
    [0x00, 0xcd, 0xcd],
    [0xe5, 0xe5, 0xe5],
    [0x7f, 0x7f, 0x7f],
    [0xff, 0x00, 0x00],
    [0x00, 0xff, 0x00],
    [0xff, 0xff, 0x00],
    [0x5c, 0x5c, 0xff],
    [0xff, 0x00, 0xff],
    [0x00, 0xff, 0xff],
    [0xff, 0xff, 0xff],
];

/// The xterm-256 palette: 16 ANSI colours, a 6x6x6 colour cube, then 24 greys.
fn indexed_rgb(index: u8) -> [u8; 3] {
    const CUBE_LEVELS: [u8; 6] = [0, 95, 135, 175, 215, 255];
    match index {
        0..=15 => ANSI_RGB[usize::from(index)],
        16..=231 => {
            let cube = usize::from(index - 16);
            [
                CUBE_LEVELS[cube / 36],
                CUBE_LEVELS[cube / 6 % 6],
                CUBE_LEVELS[cube % 6],
            ]
        }
        232..=255 => {
            let grey = 8 + (index - 232) * 10;
            [grey; 3]
        }
    }
}

fn colour_rgb(colour: Color, reset: [u8; 3]) -> [u8; 3] {
    match colour {
        Color::Reset => reset,
        Color::Rgb(r, g, b) => [r, g, b],
        Color::Indexed(index) => indexed_rgb(index),
        Color::Black => ANSI_RGB[0],
        Color::Red => ANSI_RGB[1],
        Color::Green => ANSI_RGB[2],
        Color::Yellow => ANSI_RGB[3],
        Color::Blue => ANSI_RGB[4],
        Color::Magenta => ANSI_RGB[5],
        Color::Cyan => ANSI_RGB[6],
        Color::Gray => ANSI_RGB[7],
        Color::DarkGray => ANSI_RGB[8],
        Color::LightRed => ANSI_RGB[9],
        Color::LightGreen => ANSI_RGB[10],
        Color::LightYellow => ANSI_RGB[11],
        Color::LightBlue => ANSI_RGB[12],
        Color::LightMagenta => ANSI_RGB[13],
        Color::LightCyan => ANSI_RGB[14],
        Color::White => ANSI_RGB[15],
    }
}

/// The colours a cell is painted with once its modifiers are applied.
struct CellColours {
    fg: [u8; 3],
    bg: [u8; 3],
    underline: [u8; 3],
}

fn cell_colours(cell: &Cell, options: &RasterOptions) -> CellColours {
    let mut fg = colour_rgb(cell.fg, options.default_fg);
    let mut bg = colour_rgb(cell.bg, options.default_bg);
    if cell.modifier.contains(Modifier::REVERSED) {
        std::mem::swap(&mut fg, &mut bg);
    }
    if cell.modifier.contains(Modifier::DIM) {
        fg = mix_rgb(fg, bg, 110);
    }
    let underline = match cell.underline_color {
        Color::Reset => fg,
        colour => colour_rgb(colour, options.default_fg),
    };
    CellColours { fg, bg, underline }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Face {
    Regular,
    Bold,
    Oblique,
    BoldOblique,
}

impl Face {
    fn of(modifier: Modifier) -> Self {
        match (
            modifier.contains(Modifier::BOLD),
            modifier.contains(Modifier::ITALIC),
        ) {
            (false, false) => Face::Regular,
            (true, false) => Face::Bold,
            (false, true) => Face::Oblique,
            (true, true) => Face::BoldOblique,
        }
    }
}

struct Fonts {
    regular: fontdue::Font,
    bold: fontdue::Font,
    /// Optional faces: italic text falls back to upright when they are not installed.
    oblique: Option<fontdue::Font>,
    bold_oblique: Option<fontdue::Font>,
    fallback: fontdue::Font,
}

fn load_font(file_name: &str) -> Result<fontdue::Font> {
    let path = Path::new(FONT_DIR).join(file_name);
    let bytes = std::fs::read(&path).with_context(|| {
        format!(
            "cannot read the font {}; install the Debian package fonts-dejavu-core \
             (apt-get install fonts-dejavu-core)",
            path.display()
        )
    })?;
    fontdue::Font::from_bytes(bytes, fontdue::FontSettings::default())
        .map_err(|error| anyhow!("cannot parse the font {}: {error}", path.display()))
}

impl Fonts {
    fn load() -> Result<Self> {
        Ok(Self {
            regular: load_font(REGULAR_FONT)?,
            bold: load_font(BOLD_FONT)?,
            oblique: load_font(OBLIQUE_FONT).ok(),
            bold_oblique: load_font(BOLD_OBLIQUE_FONT).ok(),
            fallback: load_font(FALLBACK_FONT)?,
        })
    }

    fn mono(&self, face: Face) -> &fontdue::Font {
        match face {
            Face::Regular => &self.regular,
            Face::Bold => &self.bold,
            Face::Oblique => self.oblique.as_ref().unwrap_or(&self.regular),
            Face::BoldOblique => self.bold_oblique.as_ref().unwrap_or(&self.bold),
        }
    }
}

/// A rasterized glyph: coverage bitmap plus where it sits relative to the pen position.
struct Glyph {
    /// Offset from the left edge of the cell(s) the glyph occupies.
    left_px: i32,
    /// Offset of the bitmap's top row above the baseline.
    top_px: i32,
    width_px: usize,
    /// Rows of `width_px` coverage values, 0 = transparent.
    coverage: Vec<u8>,
}

/// Pixel size of one character cell and where the baseline sits in it.
#[derive(Clone, Copy)]
struct CellGeometry {
    width_px: i32,
    height_px: i32,
    baseline_px: i32,
}

struct Rasterizer<'a> {
    fonts: Fonts,
    options: &'a RasterOptions,
    cell: CellGeometry,
    glyphs: HashMap<(char, Face), Glyph>,
}

impl<'a> Rasterizer<'a> {
    fn new(options: &'a RasterOptions) -> Result<Self> {
        let fonts = Fonts::load()?;
        let px = options.font_px;
        let lines = fonts
            .regular
            .horizontal_line_metrics(px)
            .context("DejaVu Sans Mono has no horizontal line metrics")?;
        let advance = fonts.regular.metrics('M', px).advance_width;
        let text_height = lines.ascent - lines.descent + lines.line_gap;
        let height_px = text_height.ceil() as i32;
        // Spread the rounding slack evenly above and below the text.
        let baseline_px =
            ((height_px as f32 - text_height) / 2.0 + lines.line_gap / 2.0 + lines.ascent).round()
                as i32;
        let cell = CellGeometry {
            width_px: advance.ceil() as i32,
            height_px,
            baseline_px,
        };
        Ok(Self {
            fonts,
            options,
            cell,
            glyphs: HashMap::new(),
        })
    }

    fn glyph(&mut self, ch: char, face: Face) -> &Glyph {
        let fonts = &self.fonts;
        let px = self.options.font_px;
        let cell_width_px = self.cell.width_px;
        self.glyphs.entry((ch, face)).or_insert_with(|| {
            let mono = fonts.mono(face);
            let span_px = cell_width_px * ch.width().unwrap_or(1).max(1) as i32;
            if mono.has_glyph(ch) || !fonts.fallback.has_glyph(ch) {
                // Without any face that has the glyph, the mono face's "missing" box is drawn;
                // in a double-width span it is centred.
                let (metrics, coverage) = mono.rasterize(ch, px);
                return Glyph {
                    left_px: metrics.xmin + (span_px - cell_width_px) / 2,
                    top_px: metrics.ymin + metrics.height as i32,
                    width_px: metrics.width,
                    coverage,
                };
            }
            // Proportional fallback glyphs are centred and shrunk to fit their cells.
            let mut size_px = px;
            let mut raster = fonts.fallback.rasterize(ch, size_px);
            if raster.0.width as i32 > span_px {
                size_px *= span_px as f32 / raster.0.width as f32;
                raster = fonts.fallback.rasterize(ch, size_px);
            }
            let (metrics, coverage) = raster;
            Glyph {
                left_px: (span_px - metrics.width as i32) / 2,
                top_px: metrics.ymin + metrics.height as i32,
                width_px: metrics.width,
                coverage,
            }
        })
    }

    fn render(&mut self, buffer: &Buffer) -> RgbImage {
        let area = buffer.area;
        let CellGeometry {
            width_px: cell_w,
            height_px: cell_h,
            ..
        } = self.cell;
        let mut image = RgbImage::new(
            u32::from(area.width) * cell_w as u32,
            u32::from(area.height) * cell_h as u32,
            self.options.default_bg,
        );
        // Backgrounds first, so glyphs that overhang their cell are not painted over.
        for row in 0..area.height {
            for column in 0..area.width {
                let cell = &buffer[(area.x + column, area.y + row)];
                let colours = cell_colours(cell, self.options);
                let (x, y) = (i32::from(column) * cell_w, i32::from(row) * cell_h);
                image.fill_rect(x, y, cell_w, cell_h, colours.bg);
            }
        }
        for row in 0..area.height {
            // Cells hidden behind a wide symbol to their left hold a blank that must not be drawn.
            let mut hidden_cells = 0;
            for column in 0..area.width {
                let cell = &buffer[(area.x + column, area.y + row)];
                if hidden_cells > 0 {
                    hidden_cells -= 1;
                    continue;
                }
                let span_cells = i32::from(cell.cell_width().max(1));
                hidden_cells = span_cells - 1;
                if cell.diff_option == CellDiffOption::Skip {
                    continue;
                }
                let origin = (i32::from(column) * cell_w, i32::from(row) * cell_h);
                self.draw_cell(&mut image, cell, origin, span_cells);
            }
        }
        image
    }

    fn draw_cell(&mut self, image: &mut RgbImage, cell: &Cell, origin: (i32, i32), span: i32) {
        let colours = cell_colours(cell, self.options);
        let geometry = self.cell;
        let (x, y) = origin;
        let span_w = geometry.width_px * span;
        if !cell.modifier.contains(Modifier::HIDDEN) {
            let mut chars = cell.symbol().chars();
            let first = chars.next();
            let line_drawn = match (first, chars.next()) {
                (Some(ch), None) => draw_box_char(image, ch, origin, geometry, colours.fg),
                _ => false,
            };
            if !line_drawn {
                let face = Face::of(cell.modifier);
                let baseline = y + geometry.baseline_px;
                // Combining marks carry their own offsets, so every char starts at the cell.
                for ch in cell.symbol().chars().filter(|ch| !ch.is_whitespace()) {
                    let glyph = self.glyph(ch, face);
                    let top = baseline - glyph.top_px;
                    for (i, coverage) in glyph.coverage.iter().enumerate() {
                        let gx = x + glyph.left_px + (i % glyph.width_px) as i32;
                        let gy = top + (i / glyph.width_px) as i32;
                        image.blend_pixel(gx, gy, colours.fg, *coverage);
                    }
                }
            }
        }
        if cell.modifier.contains(Modifier::UNDERLINED) {
            let underline_y = (y + geometry.baseline_px + 1).min(y + geometry.height_px - 1);
            image.fill_rect(x, underline_y, span_w, 1, colours.underline);
        }
        if cell.modifier.contains(Modifier::CROSSED_OUT) {
            let strike_y = y + geometry.baseline_px - geometry.height_px / 4;
            image.fill_rect(x, strike_y, span_w, 1, colours.fg);
        }
    }
}

/// Stroke of one arm of a box-drawing character.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stroke {
    None,
    Light,
    Heavy,
    Double,
}

impl Stroke {
    fn thickness_px(self) -> i32 {
        match self {
            Stroke::None => 0,
            Stroke::Light => 1,
            Stroke::Heavy | Stroke::Double => 2,
        }
    }
}

/// How a box-drawing character is drawn as lines.
enum BoxShape {
    /// Arms from the centre to the edges: up, right, down, left.
    Arms([Stroke; 4]),
    /// Rounded corner with arms in the two given directions (indices as in `Arms`).
    Rounded {
        vertical_arm: usize,
        horizontal_arm: usize,
    },
    /// A dashed straight line with this many dashes per cell.
    Dashed {
        vertical: bool,
        heavy: bool,
        dashes: i32,
    },
}

const UP: usize = 0;
const RIGHT: usize = 1;
const DOWN: usize = 2;
const LEFT: usize = 3;

fn box_shape(ch: char) -> Option<BoxShape> {
    use Stroke::{Double as D, Heavy as H, Light as L, None as N};
    let arms = match ch {
        '─' => [N, L, N, L],
        '━' => [N, H, N, H],
        '│' => [L, N, L, N],
        '┃' => [H, N, H, N],
        '┌' => [N, L, L, N],
        '┏' => [N, H, H, N],
        '┐' => [N, N, L, L],
        '┓' => [N, N, H, H],
        '└' => [L, L, N, N],
        '┗' => [H, H, N, N],
        '┘' => [L, N, N, L],
        '┛' => [H, N, N, H],
        '├' => [L, L, L, N],
        '┣' => [H, H, H, N],
        '┤' => [L, N, L, L],
        '┫' => [H, N, H, H],
        '┬' => [N, L, L, L],
        '┳' => [N, H, H, H],
        '┴' => [L, L, N, L],
        '┻' => [H, H, N, H],
        '┼' => [L, L, L, L],
        '╋' => [H, H, H, H],
        '╴' => [N, N, N, L],
        '╵' => [L, N, N, N],
        '╶' => [N, L, N, N],
        '╷' => [N, N, L, N],
        '╸' => [N, N, N, H],
        '╹' => [H, N, N, N],
        '╺' => [N, H, N, N],
        '╻' => [N, N, H, N],
        '╼' => [N, H, N, L],
        '╽' => [L, N, H, N],
        '╾' => [N, L, N, H],
        '╿' => [H, N, L, N],
        '═' => [N, D, N, D],
        '║' => [D, N, D, N],
        '╔' => [N, D, D, N],
        '╗' => [N, N, D, D],
        '╚' => [D, D, N, N],
        '╝' => [D, N, N, D],
        '╠' => [D, D, D, N],
        '╣' => [D, N, D, D],
        '╦' => [N, D, D, D],
        '╩' => [D, D, N, D],
        '╬' => [D, D, D, D],
        '╭' => return rounded(DOWN, RIGHT),
        '╮' => return rounded(DOWN, LEFT),
        '╯' => return rounded(UP, LEFT),
        '╰' => return rounded(UP, RIGHT),
        '┄' | '┅' | '┈' | '┉' | '╌' | '╍' => return dashed(ch, false),
        '┆' | '┇' | '┊' | '┋' | '╎' | '╏' => return dashed(ch, true),
        _ => return None,
    };
    Some(BoxShape::Arms(arms))
}

fn rounded(vertical_arm: usize, horizontal_arm: usize) -> Option<BoxShape> {
    Some(BoxShape::Rounded {
        vertical_arm,
        horizontal_arm,
    })
}

fn dashed(ch: char, vertical: bool) -> Option<BoxShape> {
    let dashes = match ch {
        '╌' | '╍' | '╎' | '╏' => 2,
        '┄' | '┅' | '┆' | '┇' => 3,
        _ => 4,
    };
    let heavy = matches!(ch, '┅' | '┉' | '╍' | '┇' | '┋' | '╏');
    Some(BoxShape::Dashed {
        vertical,
        heavy,
        dashes,
    })
}

/// Draws `ch` as pixel lines when it is a box-drawing character; false when it is not one.
fn draw_box_char(
    image: &mut RgbImage,
    ch: char,
    origin: (i32, i32),
    cell: CellGeometry,
    colour: [u8; 3],
) -> bool {
    let Some(shape) = box_shape(ch) else {
        return false;
    };
    let (x0, y0) = origin;
    let (w, h) = (cell.width_px, cell.height_px);
    let (cx, cy) = (x0 + w / 2, y0 + h / 2);
    match shape {
        BoxShape::Arms(arms) if arms.contains(&Stroke::Double) => {
            draw_double_arms(image, arms, origin, cell, colour);
        }
        BoxShape::Arms(arms) => {
            // The junction square covers the thickest line crossing each axis.
            let vertical_px = arms[UP]
                .thickness_px()
                .max(arms[DOWN].thickness_px())
                .max(1);
            let horizontal_px = arms[LEFT]
                .thickness_px()
                .max(arms[RIGHT].thickness_px())
                .max(1);
            let junction_left = cx - vertical_px / 2;
            let junction_top = cy - horizontal_px / 2;
            for (direction, stroke) in arms.iter().enumerate() {
                let t = stroke.thickness_px();
                if t == 0 {
                    continue;
                }
                match direction {
                    UP => image.fill_rect(
                        cx - t / 2,
                        y0,
                        t,
                        junction_top + horizontal_px - y0,
                        colour,
                    ),
                    DOWN => {
                        image.fill_rect(cx - t / 2, junction_top, t, y0 + h - junction_top, colour)
                    }
                    LEFT => {
                        image.fill_rect(x0, cy - t / 2, junction_left + vertical_px - x0, t, colour)
                    }
                    _ => image.fill_rect(
                        junction_left,
                        cy - t / 2,
                        x0 + w - junction_left,
                        t,
                        colour,
                    ),
                }
            }
        }
        BoxShape::Rounded {
            vertical_arm,
            horizontal_arm,
        } => draw_rounded_corner(image, vertical_arm, horizontal_arm, origin, cell, colour),
        BoxShape::Dashed {
            vertical,
            heavy,
            dashes,
        } => {
            let t = if heavy { 2 } else { 1 };
            let length = if vertical { h } else { w };
            for dash in 0..dashes {
                let start = dash * length / dashes;
                let end = (dash + 1) * length / dashes;
                let gap = ((end - start) * 2 / 5).max(1);
                if vertical {
                    image.fill_rect(cx - t / 2, y0 + start, t, end - start - gap, colour);
                } else {
                    image.fill_rect(x0 + start, cy - t / 2, end - start - gap, t, colour);
                }
            }
        }
    }
    true
}

/// Double lines: each arm is two rails; rails stop where they meet the perpendicular arms'
/// rails, continue straight through when the opposite arm exists, and otherwise turn the
/// outer corner.
fn draw_double_arms(
    image: &mut RgbImage,
    arms: [Stroke; 4],
    origin: (i32, i32),
    cell: CellGeometry,
    colour: [u8; 3],
) {
    let (x0, y0) = origin;
    let (w, h) = (cell.width_px, cell.height_px);
    let (cx, cy) = (x0 + w / 2, y0 + h / 2);
    let gap = (w / 5).max(1);
    let present = |direction: usize| arms[direction] != Stroke::None;
    let opposite = |direction: usize| (direction + 2) % 4;
    // Where a rail starts, measured from the centre along its arm.
    let rail_start = |arm: usize, side: usize| {
        if present(side) {
            gap
        } else if present(opposite(arm)) {
            0
        } else {
            -gap
        }
    };
    for arm in [UP, RIGHT, DOWN, LEFT]
        .into_iter()
        .filter(|arm| present(*arm))
    {
        let sides = if arm == UP || arm == DOWN {
            [LEFT, RIGHT]
        } else {
            [UP, DOWN]
        };
        for side in sides {
            let start = rail_start(arm, side);
            let offset = if side == LEFT || side == UP {
                -gap
            } else {
                gap
            };
            match arm {
                UP => image.fill_rect(cx + offset, y0, 1, cy - start + 1 - y0, colour),
                DOWN => image.fill_rect(cx + offset, cy + start, 1, y0 + h - cy - start, colour),
                LEFT => image.fill_rect(x0, cy + offset, cx - start + 1 - x0, 1, colour),
                _ => image.fill_rect(cx + start, cy + offset, x0 + w - cx - start, 1, colour),
            }
        }
    }
}

/// A light rounded corner: straight arms that end in an anti-aliased quarter circle.
fn draw_rounded_corner(
    image: &mut RgbImage,
    vertical_arm: usize,
    horizontal_arm: usize,
    origin: (i32, i32),
    cell: CellGeometry,
    colour: [u8; 3],
) {
    let (x0, y0) = origin;
    let (w, h) = (cell.width_px, cell.height_px);
    let (cx, cy) = (x0 + w / 2, y0 + h / 2);
    let radius = (w / 2).min(h / 2);
    // Direction signs from the centre towards the arms.
    let dx = if horizontal_arm == RIGHT { 1 } else { -1 };
    let dy = if vertical_arm == DOWN { 1 } else { -1 };
    // Straight parts from the end of the arc to the cell edges.
    if dy > 0 {
        image.fill_rect(cx, cy + radius, 1, y0 + h - cy - radius, colour);
    } else {
        image.fill_rect(cx, y0, 1, cy - radius + 1 - y0, colour);
    }
    if dx > 0 {
        image.fill_rect(cx + radius, cy, x0 + w - cx - radius, 1, colour);
    } else {
        image.fill_rect(x0, cy, cx - radius + 1 - x0, 1, colour);
    }
    // The arc's centre is `radius` pixels along both arms; sample each pixel's distance.
    let (arc_x, arc_y) = ((cx + dx * radius) as f32, (cy + dy * radius) as f32);
    for step_y in 0..=radius {
        for step_x in 0..=radius {
            let (px, py) = (cx + dx * step_x, cy + dy * step_y);
            let distance = ((px as f32 - arc_x).hypot(py as f32 - arc_y) - radius as f32).abs();
            let coverage = (1.0 - distance).clamp(0.0, 1.0);
            image.blend_pixel(px, py, colour, (coverage * 255.0).round() as u8);
        }
    }
}

/// Rasterizes `buffer` into RGB pixels, one cell per font-sized rectangle.
pub fn render_rgb(buffer: &Buffer, options: &RasterOptions) -> Result<RgbImage> {
    Ok(Rasterizer::new(options)?.render(buffer))
}

/// Renders every cell of `buffer`: background rect in the cell's bg colour, glyph in its fg colour,
/// honouring `Modifier::REVERSED` (swap fg/bg), `BOLD` (bold face), `ITALIC` (oblique face when
/// installed), `DIM` (fg blended toward bg), `UNDERLINED` and `CROSSED_OUT`. Colours: `Rgb` as is,
/// `Indexed` via the xterm-256 palette, named colours via xterm's defaults, `Reset` via `options`.
pub fn render_png(buffer: &Buffer, options: &RasterOptions, path: &Path) -> Result<()> {
    let image = render_rgb(buffer, options)?;
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut encoder = png::Encoder::new(BufWriter::new(file), image.width_px, image.height_px);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder
        .write_header()
        .with_context(|| format!("cannot write the PNG header of {}", path.display()))?;
    writer
        .write_image_data(&image.pixels)
        .with_context(|| format!("cannot write the pixels of {}", path.display()))?;
    writer
        .finish()
        .with_context(|| format!("cannot finish {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;
    use ratatui::style::Style;

    fn options() -> RasterOptions {
        RasterOptions {
            font_px: 16.0,
            default_fg: [200, 200, 200],
            default_bg: [10, 20, 30],
        }
    }

    /// The pixel at the top-left corner of a cell, which no glyph reaches.
    fn cell_corner(image: &RgbImage, column: u32, row: u32) -> Option<[u8; 3]> {
        let cell_w = image.width_px / 3;
        let cell_h = image.height_px;
        image.pixel(column * cell_w, row * cell_h)
    }

    #[test]
    fn backgrounds_and_reversed_cells_take_the_expected_colours() -> Result<()> {
        let mut buffer = Buffer::empty(Rect::new(0, 0, 3, 1));
        buffer.set_string(0, 0, " ", Style::default().bg(Color::Red));
        buffer.set_string(
            1,
            0,
            " ",
            Style::default()
                .fg(Color::Rgb(1, 2, 3))
                .bg(Color::Rgb(4, 5, 6))
                .add_modifier(Modifier::REVERSED),
        );
        let image = render_rgb(&buffer, &options())?;

        assert_eq!(image.width_px % 3, 0);
        assert_eq!(
            image.pixels.len(),
            (image.width_px * image.height_px * 3) as usize
        );
        assert_eq!(cell_corner(&image, 0, 0), Some([0xcd, 0, 0]));
        assert_eq!(cell_corner(&image, 1, 0), Some([1, 2, 3]));
        assert_eq!(cell_corner(&image, 2, 0), Some([10, 20, 30]));
        Ok(())
    }

    #[test]
    fn glyphs_are_drawn_in_the_foreground_colour_of_reversed_cells() -> Result<()> {
        let mut buffer = Buffer::empty(Rect::new(0, 0, 3, 1));
        buffer.set_string(
            0,
            0,
            "█",
            Style::default()
                .fg(Color::Rgb(0, 0, 255))
                .bg(Color::Rgb(0, 255, 0))
                .add_modifier(Modifier::REVERSED),
        );
        let image = render_rgb(&buffer, &options())?;
        let cell_w = image.width_px / 3;
        let centre = image.pixel(cell_w / 2, image.height_px / 2);
        assert_eq!(
            centre,
            Some([0, 255, 0]),
            "the full block takes the swapped fg"
        );
        Ok(())
    }

    #[test]
    fn box_lines_join_across_cells() -> Result<()> {
        let mut buffer = Buffer::empty(Rect::new(0, 0, 3, 1));
        buffer.set_string(0, 0, "─┬─", Style::default().fg(Color::Rgb(255, 255, 255)));
        let image = render_rgb(&buffer, &options())?;
        let line_y = image.height_px / 2;
        for x in 0..image.width_px {
            assert_eq!(image.pixel(x, line_y), Some([255; 3]), "gap at x = {x}");
        }
        Ok(())
    }

    #[test]
    fn palette_matches_xterm() {
        assert_eq!(indexed_rgb(9), [0xff, 0, 0]);
        assert_eq!(indexed_rgb(16), [0, 0, 0]);
        assert_eq!(indexed_rgb(196), [255, 0, 0]);
        assert_eq!(indexed_rgb(231), [255, 255, 255]);
        assert_eq!(indexed_rgb(232), [8, 8, 8]);
        assert_eq!(indexed_rgb(255), [238, 238, 238]);
    }
}
