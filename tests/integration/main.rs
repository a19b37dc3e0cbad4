//! The one integration test binary: screens, the binary in tmux, config errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;

mod analyze_cli;
mod analyze_conformance;
mod cli;
mod exporter;
mod kiali_conformance;
mod kube_source;
mod live;
mod navigation;
mod prometheus_source;
mod screens;
mod tmux_demo;
