//! Helpers shared by the integration tests.

pub mod demo;
pub mod tmux;
