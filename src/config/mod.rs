//! Keymaps, themes and the user config file; errors name the file and line. Imports only `app::action`.
//!
//! Everything is layered: built-in files (embedded, so the binary works with no files) < the
//! theme or keymap chosen on the command line or in `config.toml` < the user's `theme.toml` and
//! `keymap.toml`. A file that is present but wrong is an error, never a silent fallback.
//! Besides `app::action` this module reads `mesh::HealthThresholds`, which `config.toml` sets.

mod colour;
mod keymap;
mod keys;
mod paths;
mod settings;
mod theme;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

pub use colour::{ColorChoice, ColorChoiceParseError, ColorDepth, ColourParseError};
pub use keymap::{Binding, KeyContext, Keymap, BUILTIN_KEYMAPS};
pub use keys::{KeyCode, KeyParseError, KeyPress, Modifiers};
pub use paths::config_dir;
pub use theme::{Slot, Theme, BUILTIN_THEMES};

use crate::app::action::Action;
use crate::mesh::HealthThresholds;
use settings::{Choice, Settings};

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

/// What the command line asks for; `None` leaves the choice to `config.toml` or the default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigOptions {
    /// The directory holding `config.toml`, `keymap.toml` and `theme.toml`; `None` looks in
    /// `$XDG_CONFIG_HOME/meshtui`, then `$HOME/.config/meshtui`.
    pub config_dir: Option<PathBuf>,
    /// A built-in theme name or a path to a `.toml` file.
    pub theme: Option<String>,
    /// A built-in keymap name or a path to a `.toml` file.
    pub keymap: Option<String>,
    pub color: Option<ColorChoice>,
    pub ascii: Option<bool>,
}

/// Everything the rest of the program needs from configuration.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    pub keymap: Keymap,
    pub theme: Theme,
    pub color_depth: ColorDepth,
    /// Draw with ASCII instead of box-drawing characters and symbols.
    pub ascii: bool,
    pub health: HealthThresholds,
}

/// Loads keymap, theme and settings. `env` reads environment variables (a parameter so tests
/// need not touch the process environment).
pub fn load(
    options: &ConfigOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<LoadedConfig, ConfigError> {
    let dir = options
        .config_dir
        .clone()
        .or_else(|| paths::config_dir(env));
    let user_file = |name: &str| match &dir {
        Some(dir) => read_optional(&dir.join(name), env),
        None => Ok(None),
    };
    let settings = match (user_file(paths::CONFIG_FILE)?, &dir) {
        (Some(file), Some(dir)) => settings::parse(&file, dir)?,
        _ => Settings::default(),
    };

    let color = options.color.or(settings.color).unwrap_or_default();
    let color_depth = color.depth(
        env("NO_COLOR").as_deref(),
        env("COLORTERM").as_deref(),
        env("TERM").as_deref(),
    );
    let ascii = options
        .ascii
        .or(settings.ascii)
        .unwrap_or_else(|| !locale_is_utf8(env));

    let keymap_choice = options
        .keymap
        .as_ref()
        .map(|value| command_line_choice("keymap", value))
        .or(settings.keymap);
    let mut keymap_layers = Vec::from_iter(keymap::builtin_layer("default"));
    if let Some(choice) = keymap_choice {
        let layer = resolve(&choice, keymap::builtin_layer, env).ok_or_else(|| {
            ConfigError::UnknownKeymap {
                at: choice.at.clone(),
                name: choice.value.clone(),
            }
        })??;
        keymap_layers.push(layer);
    }
    keymap_layers.extend(user_file(paths::KEYMAP_FILE)?);
    let keymap = Keymap::from_layers(&keymap_layers)?;

    let theme_choice = options
        .theme
        .as_ref()
        .map(|value| command_line_choice("theme", value))
        .or(settings.theme);
    let mut theme_layers = Vec::from_iter(theme::builtin_layer("dark"));
    if let Some(choice) = theme_choice {
        let layer = resolve(&choice, theme::builtin_layer, env).ok_or_else(|| {
            ConfigError::UnknownTheme {
                at: choice.at.clone(),
                name: choice.value.clone(),
            }
        })??;
        theme_layers.push(layer);
    }
    theme_layers.extend(user_file(paths::THEME_FILE)?);
    let theme = Theme::from_layers(&theme_layers, color_depth)?;

    Ok(LoadedConfig {
        keymap,
        theme,
        color_depth,
        ascii,
        health: settings.health.unwrap_or_default(),
    })
}

fn command_line_choice(option: &str, value: &str) -> Choice {
    Choice {
        value: value.to_string(),
        at: Location::option(option),
        base_dir: None,
    }
}

/// A built-in by name, else a file when the value looks like a path; `None` when it is neither,
/// so a misspelt name is reported as a name rather than as a missing file.
fn resolve(
    choice: &Choice,
    builtin: fn(&str) -> Option<ConfigText>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<Result<ConfigText, ConfigError>> {
    if let Some(layer) = builtin(&choice.value) {
        return Some(Ok(layer));
    }
    if !choice.value.ends_with(".toml") {
        return None;
    }
    let home = env("HOME").filter(|home| !home.is_empty());
    let path = match (choice.value.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ => match &choice.base_dir {
            Some(base) => base.join(&choice.value),
            None => PathBuf::from(&choice.value),
        },
    };
    Some(match read_optional(&path, env) {
        Ok(Some(layer)) => Ok(layer),
        Ok(None) => Err(ConfigError::Read {
            file: paths::display_path(&path, env),
            source: io::Error::new(
                io::ErrorKind::NotFound,
                format!("no such file (named at {})", choice.at),
            ),
        }),
        Err(error) => Err(error),
    })
}

/// The file's text, or `None` when it does not exist. Any other failure (permissions, not
/// UTF-8, a directory) is an error: the user meant this file to be read.
fn read_optional(
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<ConfigText>, ConfigError> {
    let file = paths::display_path(path, env);
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(ConfigText {
            file,
            text,
            builtin: false,
        })),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ConfigError::Read { file, source }),
    }
}

/// Whether the locale promises UTF-8, deciding like the C library: the first non-empty of
/// `LC_ALL`, `LC_CTYPE`, `LANG`. With none set the C locale applies, which is ASCII; that is
/// also what minimal SSH bastions give, where box-drawing characters come out as garbage.
pub fn locale_is_utf8(env: &dyn Fn(&str) -> Option<String>) -> bool {
    ["LC_ALL", "LC_CTYPE", "LANG"]
        .into_iter()
        .find_map(|name| env(name).filter(|value| !value.is_empty()))
        .is_some_and(|locale| {
            let locale = locale.to_ascii_lowercase();
            locale.contains("utf-8") || locale.contains("utf8")
        })
}

#[cfg(test)]
mod tests;
