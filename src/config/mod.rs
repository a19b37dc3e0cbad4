//! Keymaps, themes and the user config file; errors name the file and line. Imports only `app::action`.

mod keys;

pub use keys::{KeyCode, KeyParseError, KeyPress, Modifiers};
