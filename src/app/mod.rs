//! The state machine (The Elm Architecture): no terminal, no network. Imports `mesh`, `layout`, `source` types.

pub mod action;
pub mod edge_table;
pub mod effect;
pub mod format;
pub mod forms;
pub mod state;
pub mod topology;
pub mod tree;
pub mod update;

pub use action::Action;
pub use effect::Effect;
pub use state::{Mode, Overlay, State};
pub use update::{update, FindKey, Msg, Outcome};
