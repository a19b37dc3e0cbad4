//! Helpers shared by the integration tests.

pub mod demo;
pub mod fake_prometheus;
pub mod kube_emulator;
pub mod prometheus;
pub mod screen;
pub mod tls;
pub mod tmux;
pub mod two_clusters;
pub mod yaml_diff;
