//! The state machine (The Elm Architecture): no terminal, no network. Imports `mesh`, `layout`, `source` types.

pub mod access_log;
pub mod action;
pub mod application;
pub mod detail;
pub mod edge_table;
pub mod effect;
pub mod format;
pub mod forms;
pub mod history;
pub mod interfaces;
pub mod navigate;
pub mod service;
pub mod state;
pub mod topology;
pub mod tree;
pub mod tree_view;
pub mod update;
pub mod views;
pub mod workload;

pub use action::Action;
pub use effect::Effect;
pub use state::{Overlay, State};
pub use update::{update, FindKey, Msg, Outcome};
pub use views::View;
