//! The visible window onto the canvas: panning, keeping a box in view, centring on it.

use super::Rect;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Viewport {
    pub x: u32,
    pub y: u32,
    pub width: u16,
    pub height: u16,
}

impl Viewport {
    /// Moves by (`dx`, `dy`) cells, staying inside the canvas.
    pub fn pan(&mut self, dx: i32, dy: i32, canvas_width: u32, canvas_height: u32) {
        self.x = offset(self.x, dx);
        self.y = offset(self.y, dy);
        self.clamp(canvas_width, canvas_height);
    }

    /// Scrolls as little as possible so `r` is inside; if `r` is larger, its top-left corner wins.
    pub fn ensure_visible(&mut self, r: Rect, canvas_width: u32, canvas_height: u32) {
        self.x = minimal_scroll(self.x, u32::from(self.width), r.x, r.width);
        self.y = minimal_scroll(self.y, u32::from(self.height), r.y, r.height);
        self.clamp(canvas_width, canvas_height);
    }

    pub fn center_on(&mut self, r: Rect, canvas_width: u32, canvas_height: u32) {
        self.x = centred(r.x, r.width, u32::from(self.width));
        self.y = centred(r.y, r.height, u32::from(self.height));
        self.clamp(canvas_width, canvas_height);
    }

    pub fn window(&self) -> Rect {
        Rect {
            x: self.x,
            y: self.y,
            width: u32::from(self.width),
            height: u32::from(self.height),
        }
    }

    fn clamp(&mut self, canvas_width: u32, canvas_height: u32) {
        self.x = self
            .x
            .min(canvas_width.saturating_sub(u32::from(self.width)));
        self.y = self
            .y
            .min(canvas_height.saturating_sub(u32::from(self.height)));
    }
}

fn offset(at: u32, by: i32) -> u32 {
    if by < 0 {
        at.saturating_sub(by.unsigned_abs())
    } else {
        at.saturating_add(by.unsigned_abs())
    }
}

fn minimal_scroll(at: u32, size: u32, start: u32, len: u32) -> u32 {
    let end = start.saturating_add(len);
    if start < at || len > size {
        start
    } else if end > at.saturating_add(size) {
        end - size
    } else {
        at
    }
}

fn centred(start: u32, len: u32, size: u32) -> u32 {
    (start.saturating_add(len / 2)).saturating_sub(size / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn viewport(x: u32, y: u32) -> Viewport {
        Viewport {
            x,
            y,
            width: 20,
            height: 10,
        }
    }

    fn rect(x: u32, y: u32, width: u32, height: u32) -> Rect {
        Rect {
            x,
            y,
            width,
            height,
        }
    }

    #[test]
    fn panning_stops_at_every_canvas_edge() {
        let cases = [
            ("left edge", (5, 5), (-10, 0), (0, 5)),
            ("top edge", (5, 5), (0, -10), (5, 0)),
            ("right edge", (5, 5), (1000, 0), (80, 5)),
            ("bottom edge", (5, 5), (0, 1000), (5, 40)),
            ("inside", (5, 5), (3, 4), (8, 9)),
            ("extreme values", (5, 5), (i32::MIN, i32::MAX), (0, 40)),
        ];
        for (name, (x, y), (dx, dy), expected) in cases {
            let mut v = viewport(x, y);
            v.pan(dx, dy, 100, 50);
            assert_eq!((v.x, v.y), expected, "{name}");
        }
    }

    #[test]
    fn panning_a_canvas_smaller_than_the_window_stays_at_the_origin() {
        let mut v = viewport(0, 0);
        v.pan(5, 5, 10, 5);
        assert_eq!((v.x, v.y), (0, 0));
    }

    #[test]
    fn ensure_visible_scrolls_minimally() {
        let cases = [
            ("already visible", rect(12, 12, 4, 3), (10, 10)),
            ("off the right", rect(35, 12, 4, 3), (19, 10)),
            ("off the bottom", rect(12, 25, 4, 3), (10, 18)),
            ("off the left and top", rect(2, 1, 4, 3), (2, 1)),
            ("larger than the window", rect(40, 30, 50, 20), (40, 30)),
        ];
        for (name, r, expected) in cases {
            let mut v = viewport(10, 10);
            v.ensure_visible(r, 200, 100);
            assert_eq!((v.x, v.y), expected, "{name}");
        }
    }

    #[test]
    fn centring_puts_the_rect_in_the_middle_unless_clamped() {
        let mut v = viewport(0, 0);
        v.center_on(rect(50, 30, 4, 2), 200, 100);
        assert_eq!((v.x, v.y), (42, 26));
        v.center_on(rect(0, 0, 4, 2), 200, 100);
        assert_eq!((v.x, v.y), (0, 0));
        v.center_on(rect(198, 99, 2, 1), 200, 100);
        assert_eq!((v.x, v.y), (180, 90));
    }

    #[test]
    fn the_window_is_the_viewport_as_a_rect() {
        assert_eq!(viewport(3, 4).window(), rect(3, 4, 20, 10));
    }
}
