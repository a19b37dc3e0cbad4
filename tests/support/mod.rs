//! Helpers shared by the integration tests.

pub mod demo;
pub mod kube_emulator;
pub mod tmux;
