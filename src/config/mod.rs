//! Keymaps, themes and the user config file; errors name the file and line. Imports only `app::action`.
//!
//! Keymaps and themes are layered: built-in files (embedded, so the binary works with no files)
//! first, then files over them. A file that is present but wrong is an error, never a fallback.

mod colour;
mod keymap;
mod keys;
mod theme;

use std::fmt;
use std::io;

use serde::de::DeserializeOwned;

pub use colour::{ColorChoice, ColorChoiceParseError, ColorDepth, ColourParseError};
pub use keymap::{Binding, KeyContext, Keymap, BUILTIN_KEYMAPS};
pub use keys::{KeyCode, KeyParseError, KeyPress, Modifiers};
pub use theme::{Slot, Theme, BUILTIN_THEMES};

use crate::app::action::Action;

/// Where in which file something went wrong. `file` is shown as the user would write it
/// (`~/.config/...`, `keymaps/vim.toml`, or `--theme` for a command-line value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: Option<usize>,
}

impl Location {
    /// A command-line option, which has no line.
    fn option(name: &str) -> Location {
        Location {
            file: format!("--{name}"),
            line: None,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}", self.file),
            None => f.write_str(&self.file),
        }
    }
}

/// A config file's failure, worded for the user who wrote the file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}: cannot read: {source}")]
    Read {
        file: String,
        #[source]
        source: io::Error,
    },
    /// TOML syntax, a wrong value type or an unknown field.
    #[error("{at}: {message}")]
    Invalid { at: Location, message: String },
    #[error("{at}: [{name}] is not a keymap section (expected one of: global, topology, edge_table, help)")]
    UnknownContext { at: Location, name: String },
    #[error("{at}: unknown action \"{name}\"")]
    UnknownAction { at: Location, name: String },
    #[error("{at}: bad key \"{notation}\": {reason}")]
    BadKey {
        at: Location,
        notation: String,
        reason: KeyParseError,
    },
    #[error("{at}: key \"{key}\" is listed twice for {action}")]
    RepeatedKey {
        at: Location,
        key: String,
        action: Action,
    },
    #[error("{at}: key \"{key}\" is bound to both {action} and {other} in [{context}] ({other} is at {other_at})")]
    DuplicateKey {
        at: Location,
        key: String,
        context: &'static str,
        action: Action,
        other: Action,
        other_at: Location,
    },
    #[error("{at}: {action} in [{context}] has no description")]
    MissingDescription {
        at: Location,
        action: Action,
        context: &'static str,
    },
    #[error("{at}: \"{name}\" is not a theme slot (expected one of: {expected})")]
    UnknownSlot {
        at: Location,
        name: String,
        expected: String,
    },
    #[error("{at}: bad colour \"{value}\": {reason}")]
    BadColour {
        at: Location,
        value: String,
        reason: ColourParseError,
    },
    #[error(
        "{at}: {name} is not a modifier (expected one of: bold, reversed, underlined, dim, italic)"
    )]
    BadModifier { at: Location, name: String },
    #[error("{at}: bad [health] thresholds: {message}")]
    BadHealth { at: Location, message: String },
    #[error("{at}: unknown theme \"{name}\" (built-in: {builtin}; a theme file's path must end in .toml)", builtin = BUILTIN_THEMES.join(", "))]
    UnknownTheme { at: Location, name: String },
    #[error("{at}: unknown keymap \"{name}\" (built-in: {builtin}; a keymap file's path must end in .toml)", builtin = BUILTIN_KEYMAPS.join(", "))]
    UnknownKeymap { at: Location, name: String },
}

/// A config file's text and the name messages use for it.
#[derive(Debug, Clone)]
struct ConfigText {
    file: String,
    text: String,
    /// Built-in files are held to a higher standard (every binding described).
    builtin: bool,
}

impl ConfigText {
    fn builtin(file: &str, text: &str) -> ConfigText {
        ConfigText {
            file: file.to_string(),
            text: text.to_string(),
            builtin: true,
        }
    }

    /// The location of a byte offset, as a 1-based line.
    fn at(&self, offset: usize) -> Location {
        let before = self
            .text
            .as_bytes()
            .get(..offset)
            .unwrap_or(self.text.as_bytes());
        let line = before.iter().filter(|&&byte| byte == b'\n').count() + 1;
        Location {
            file: self.file.clone(),
            line: Some(line),
        }
    }

    fn toml_error(&self, error: &toml::de::Error) -> ConfigError {
        let at = match error.span() {
            Some(span) => self.at(span.start),
            None => Location {
                file: self.file.clone(),
                line: None,
            },
        };
        ConfigError::Invalid {
            at,
            message: error.message().trim_end().to_string(),
        }
    }

    fn deserialize<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        toml::from_str(&self.text).map_err(|error| self.toml_error(&error))
    }
}
