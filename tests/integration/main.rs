//! The one integration test binary: screens, the binary in tmux, config errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;

mod analyze_cli;
mod analyze_conformance;
mod cli;
mod demo_rules;
mod detail_screens;
mod exporter;
mod forms;
mod kiali_conformance;
mod kube_multicluster;
mod kube_source;
mod kube_tui;
mod kube_wire;
mod kube_wire_writes;
mod kube_write;
mod live;
mod live_multicluster;
mod navigation;
mod prometheus_source;
mod screens;
mod tmux_demo;
mod tmux_rules;
