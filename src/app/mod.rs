//! The state machine (The Elm Architecture): no terminal, no network. Imports `mesh`, `layout`, `source` types.

pub mod action;

pub use action::Action;
