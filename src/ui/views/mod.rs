//! One function per screen part.

mod access_log;
mod application;
mod bars;
mod breadcrumbs;
mod detail;
mod edge_table;
mod help;
pub mod interfaces;
mod service;
mod topology;
mod tree;
mod workload;

pub use access_log::draw_access_log;
pub use application::app;
pub use bars::{header, notice, status_bar, too_small};
pub use edge_table::edge_table;
pub use help::{help, help_line_count};
pub use interfaces::draw_interfaces;
pub use service::service;
pub use topology::topology;
pub use tree::tree;
pub use workload::workload;

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
