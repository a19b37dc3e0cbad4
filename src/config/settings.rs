//! The optional `config.toml`: chosen theme, keymap, colour depth, ASCII mode, health thresholds.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::colour::ColorChoice;
use super::{ConfigError, ConfigText, Location};
use crate::mesh::HealthThresholds;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    theme: Option<Spanned<String>>,
    keymap: Option<Spanned<String>>,
    color: Option<Spanned<String>>,
    ascii: Option<bool>,
    health: Option<Spanned<HealthThresholds>>,
}

/// A theme or keymap named by the user, with where it was named and what a relative path in
/// it is relative to.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Choice {
    pub value: String,
    pub at: Location,
    /// `None` means the current directory (a command-line value).
    pub base_dir: Option<PathBuf>,
}

/// What `config.toml` sets; anything unset falls back to the command line's or the default.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Settings {
    pub theme: Option<Choice>,
    pub keymap: Option<Choice>,
    pub color: Option<ColorChoice>,
    pub ascii: Option<bool>,
    pub health: Option<HealthThresholds>,
}

/// Reads `config.toml`; relative theme and keymap paths in it are taken from `config_dir`.
pub(super) fn parse(file: &ConfigText, config_dir: &Path) -> Result<Settings, ConfigError> {
    let raw: RawSettings = file.deserialize()?;
    let choice = |value: Spanned<String>| Choice {
        at: file.at(value.span().start),
        value: value.into_inner(),
        base_dir: Some(config_dir.to_path_buf()),
    };
    let color =
        match raw.color {
            None => None,
            Some(value) => Some(value.get_ref().parse::<ColorChoice>().map_err(|reason| {
                ConfigError::Invalid {
                    at: file.at(value.span().start),
                    message: reason.to_string(),
                }
            })?),
        };
    let health = match raw.health {
        None => None,
        Some(health) => {
            let at = file.at(health.span().start);
            let thresholds = health.into_inner();
            thresholds
                .validate()
                .map_err(|message| ConfigError::BadHealth { at, message })?;
            Some(thresholds)
        }
    };
    Ok(Settings {
        theme: raw.theme.map(choice),
        keymap: raw.keymap.map(choice),
        color,
        ascii: raw.ascii,
        health,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "~/.config/meshtui/config.toml";

    fn parse_text(text: &str) -> Result<Settings, ConfigError> {
        let file = ConfigText {
            file: FILE.into(),
            text: text.into(),
            builtin: false,
        };
        parse(&file, Path::new("/cfg"))
    }

    #[test]
    fn an_empty_file_sets_nothing() {
        assert_eq!(parse_text("").unwrap(), Settings::default());
    }

    #[test]
    fn every_setting_is_read() {
        let text = "theme = \"light\"\nkeymap = \"mine.toml\"\ncolor = \"256\"\nascii = true\n\n[health]\n\
                    server_error_degraded_pct = 1.0\nserver_error_failure_pct = 5.0\n\
                    client_error_degraded_pct = 10.0\nclient_error_failure_pct = 20.0\n";
        let settings = parse_text(text).unwrap();
        assert_eq!(settings.theme.unwrap().value, "light");
        let keymap = settings.keymap.unwrap();
        assert_eq!(
            (keymap.value.as_str(), keymap.at.to_string()),
            ("mine.toml", format!("{FILE}:2"))
        );
        assert_eq!(keymap.base_dir.as_deref(), Some(Path::new("/cfg")));
        assert_eq!(settings.color, Some(ColorChoice::Ansi256));
        assert_eq!(settings.ascii, Some(true));
        let health = settings.health.unwrap();
        assert_eq!(
            (
                health.server_error_degraded_pct,
                health.server_error_failure_pct
            ),
            (1.0, 5.0)
        );
    }

    #[test]
    fn bad_settings_name_the_file_and_line() {
        let cases = [
            ("an unknown key", "theme = \"dark\"\ncolour = \"256\"\n", format!("{FILE}:2: unknown field `colour`, expected one of")),
            (
                "a bad colour setting",
                "\ncolor = \"lots\"\n",
                format!("{FILE}:2: \"lots\" is not a colour setting (expected one of: auto, truecolor, 256, 16, never)"),
            ),
            ("ascii as a string", "ascii = \"yes\"\n", format!("{FILE}:1: invalid type: string \"yes\", expected a boolean")),
            (
                "thresholds out of order",
                "theme = \"dark\"\n[health]\nserver_error_degraded_pct = 20.0\nserver_error_failure_pct = 10.0\n\
                 client_error_degraded_pct = 10.0\nclient_error_failure_pct = 20.0\n",
                format!(
                    "{FILE}:2: bad [health] thresholds: server_error_degraded_pct (20) must not exceed \
                     server_error_failure_pct (10)"
                ),
            ),
            (
                "a threshold above 100",
                "[health]\nserver_error_degraded_pct = 0.0\nserver_error_failure_pct = 10.0\n\
                 client_error_degraded_pct = 10.0\nclient_error_failure_pct = 200.0\n",
                format!("{FILE}:1: bad [health] thresholds: client_error thresholds must be between 0 and 100, got 200"),
            ),
            ("a misspelt threshold", "[health]\nserver_error_failure = 10.0\n", format!("{FILE}:2: unknown field `server_error_failure`")),
            ("a syntax error", "theme = dark\n", format!("{FILE}:1: ")),
        ];
        for (name, text, expected) in cases {
            let message = parse_text(text).unwrap_err().to_string();
            assert!(message.starts_with(&expected), "{name}: {message}");
        }
    }

    #[test]
    fn a_partial_health_table_keeps_the_other_thresholds_at_kialis_defaults() {
        let settings = parse_text("[health]\nserver_error_degraded_pct = 1.0\n").unwrap();
        let health = settings.health.unwrap();
        assert_eq!(health.server_error_degraded_pct, 1.0);
        assert_eq!(health.server_error_failure_pct, 10.0);
        assert_eq!(health.client_error_failure_pct, 20.0);
    }
}
