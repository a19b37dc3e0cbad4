//! The one integration test binary: screens, the binary in tmux, config errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;

mod access_log_screen;
mod analyze_cli;
mod analyze_conformance;
mod cli;
mod demo_rules;
mod detail_screens;
mod exporter;
mod forms;
mod interfaces;
mod kiali_conformance;
mod kube_logs;
mod kube_multicluster;
mod kube_source;
mod kube_telemetry;
mod kube_tui;
mod kube_wire;
mod kube_wire_writes;
mod kube_write;
mod live;
mod live_multicluster;
mod navigation;
mod prometheus_operations;
mod prometheus_source;
mod rule_cli;
mod screens;
mod tmux_demo;
mod tmux_drilldown;
mod tmux_rules;
mod tree_navigator;
