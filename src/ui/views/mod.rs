//! One function per screen part.

mod bars;
mod edge_table;
mod help;
mod topology;
mod tree;

pub use bars::{header, notice, status_bar, too_small};
pub use edge_table::edge_table;
pub use help::{help, help_line_count};
pub use topology::topology;
pub use tree::{tree, TREE_CHROME_ROWS};

use ratatui::style::Style;

use crate::config::{Slot, Theme};
use crate::mesh::Health;

pub fn health_style(theme: &Theme, health: Health) -> Style {
    theme.style(match health {
        Health::NoTraffic => Slot::HealthNone,
        Health::Healthy => Slot::HealthOk,
        Health::Degraded => Slot::HealthWarn,
        Health::Failure => Slot::HealthFail,
    })
}
