//! Small drawing pieces the views share: YAML with syntax colouring, sparklines.

pub mod trend;
pub mod yaml;
