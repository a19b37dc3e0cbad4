//! meshtui: a terminal UI for Istio service meshes.
//!
//! Data flows one way: `source` -> `mesh` -> `app` -> `ui`; user intent flows back as
//! `app::Action` -> `app::Effect` -> `source`. Only `runtime` wires the pieces together.
//!
//! | module    | owns                                                    | may import                     |
//! |-----------|---------------------------------------------------------|--------------------------------|
//! | `mesh`    | pure domain: samples, inventory, graph, health, rules   | nothing in the crate           |
//! | `layout`  | graph drawing geometry in terminal cells                | nothing in the crate           |
//! | `source`  | data in: demo mesh, Prometheus, Kubernetes inventory    | `mesh`                         |
//! | `app`     | the state machine (update), no terminal, no network     | `mesh`, `layout`, `source` trait types |
//! | `export`  | `meshtui graph`: a graph as JSON (`meshtui.graph/v1`) and DOT | `mesh`         |
//! | `config`  | keymaps, themes, user config files                      | `app::action`, `mesh::HealthThresholds` |
//! | `ui`      | draws `&State` with ratatui, owns no data               | `app`, `layout`, `config`, `mesh` |
//! | `cli`     | command-line flags and the parsers of their values      | nothing in the crate           |
//! | `runtime` | terminal, event loop, effect runner, live source set-up | everything                     |
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod app;
pub mod cli;
pub mod config;
pub mod export;
pub mod layout;
pub mod mesh;
pub mod runtime;
pub mod source;
pub mod ui;
