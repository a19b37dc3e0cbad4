//! Tests of `config::load` against real files in a temporary directory.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use ratatui::style::{Color, Modifier};

use super::*;

/// A unique directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "meshtui-config-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    fn write(&self, name: &str, text: &str) -> &TempDir {
        std::fs::write(self.0.join(name), text).unwrap();
        self
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| vars.get(name).cloned()
}

fn options_in(dir: &TempDir) -> ConfigOptions {
    ConfigOptions {
        config_dir: Some(dir.path().to_path_buf()),
        ..ConfigOptions::default()
    }
}

fn key(notation: &str) -> KeyPress {
    notation.parse().unwrap()
}

/// Environment variables for one case.
type Vars = &'static [(&'static str, &'static str)];

const UTF8_TRUECOLOR: Vars = &[("LANG", "en_GB.UTF-8"), ("COLORTERM", "truecolor")];

#[test]
fn with_no_files_the_built_ins_apply() {
    let dir = TempDir::new();
    let config = load(&options_in(&dir), &env_of(UTF8_TRUECOLOR)).unwrap();
    assert_eq!(
        config.keymap.action_for(KeyContext::Topology, &key("q")),
        Some(Action::Quit)
    );
    assert_eq!(
        config.theme,
        Theme::builtin("dark", ColorDepth::TrueColor).unwrap()
    );
    assert_eq!(config.color_depth, ColorDepth::TrueColor);
    assert!(!config.ascii);
    assert_eq!(config.health, HealthThresholds::default());
}

#[test]
fn a_missing_config_dir_is_no_error() {
    let dir = TempDir::new();
    let options = ConfigOptions {
        config_dir: Some(dir.path().join("absent")),
        ..ConfigOptions::default()
    };
    assert!(load(&options, &env_of(UTF8_TRUECOLOR)).is_ok());
}

#[test]
fn without_a_config_dir_the_xdg_dir_is_read() {
    let dir = TempDir::new();
    std::fs::create_dir_all(dir.path().join("meshtui")).unwrap();
    std::fs::write(
        dir.path().join("meshtui/config.toml"),
        "theme = \"monochrome\"\n",
    )
    .unwrap();
    let xdg = dir.path().to_str().unwrap();
    let config = load(
        &ConfigOptions::default(),
        &env_of(&[("XDG_CONFIG_HOME", xdg), ("LANG", "C.UTF-8")]),
    )
    .unwrap();
    assert_eq!(
        config.theme,
        Theme::builtin("monochrome", ColorDepth::Ansi16).unwrap()
    );
}

#[test]
fn the_config_file_chooses_and_the_command_line_overrides() {
    let dir = TempDir::new();
    dir.write(
        "config.toml",
        "theme = \"light\"\nkeymap = \"vim\"\ncolor = \"16\"\nascii = true\n",
    );
    let config = load(&options_in(&dir), &env_of(UTF8_TRUECOLOR)).unwrap();
    assert_eq!(
        config.theme,
        Theme::builtin("light", ColorDepth::Ansi16).unwrap()
    );
    assert_eq!(
        config.keymap.action_for(KeyContext::Topology, &key("C-d")),
        Some(Action::PageDown)
    );
    assert_eq!(config.color_depth, ColorDepth::Ansi16);
    assert!(config.ascii);

    let options = ConfigOptions {
        theme: Some("high-contrast".into()),
        keymap: Some("default".into()),
        color: Some(ColorChoice::Never),
        ascii: Some(false),
        ..options_in(&dir)
    };
    let config = load(&options, &env_of(UTF8_TRUECOLOR)).unwrap();
    assert_eq!(
        config.theme,
        Theme::builtin("high-contrast", ColorDepth::Never).unwrap()
    );
    assert_eq!(
        config.keymap.action_for(KeyContext::Topology, &key("C-d")),
        None
    );
    assert_eq!(config.color_depth, ColorDepth::Never);
    assert!(!config.ascii);
}

#[test]
fn user_files_layer_over_the_chosen_theme_and_keymap() {
    let dir = TempDir::new();
    dir.write("config.toml", "theme = \"light\"\nkeymap = \"vim\"\n")
        .write("theme.toml", "selection = { bg = \"#ff0000\" }\n")
        .write(
            "keymap.toml",
            "[topology]\npage_down = { keys = [\"space\"] }\n",
        );
    let config = load(&options_in(&dir), &env_of(&[("TERM", "xterm-256color")])).unwrap();
    let light = Theme::builtin("light", ColorDepth::Ansi256).unwrap();
    assert_eq!(
        config.theme.style(Slot::Selection),
        ratatui::style::Style::default().bg(Color::Indexed(196))
    );
    assert_eq!(config.theme.style(Slot::Text), light.style(Slot::Text));
    assert_eq!(
        config
            .keymap
            .action_for(KeyContext::Topology, &key("space")),
        Some(Action::PageDown)
    );
    assert_eq!(
        config.keymap.action_for(KeyContext::Topology, &key("C-d")),
        None
    );
    assert_eq!(
        config.keymap.action_for(KeyContext::Topology, &key("C-u")),
        Some(Action::PageUp)
    );
}

#[test]
fn a_theme_or_keymap_path_in_the_config_file_is_relative_to_it() {
    let dir = TempDir::new();
    dir.write(
        "config.toml",
        "theme = \"mine.toml\"\nkeymap = \"keys.toml\"\n",
    )
    .write("mine.toml", "text = { fg = \"red\" }\n")
    .write("keys.toml", "[global]\nquit = { keys = [\"Q\"] }\n");
    let config = load(&options_in(&dir), &env_of(UTF8_TRUECOLOR)).unwrap();
    assert_eq!(config.theme.style(Slot::Text).fg, Some(Color::Red));
    assert_eq!(
        config.keymap.action_for(KeyContext::Global, &key("Q")),
        Some(Action::Quit)
    );
}

#[test]
fn a_theme_path_on_the_command_line_is_read() {
    let dir = TempDir::new();
    dir.write("mine.toml", "match = { modifiers = [\"italic\"] }\n");
    let options = ConfigOptions {
        theme: Some(dir.path().join("mine.toml").display().to_string()),
        ..options_in(&dir)
    };
    let config = load(&options, &env_of(UTF8_TRUECOLOR)).unwrap();
    assert_eq!(
        config.theme.style(Slot::Match).add_modifier,
        Modifier::ITALIC
    );
}

#[test]
fn errors_in_user_files_name_the_file_under_home_and_the_line() {
    let dir = TempDir::new();
    dir.write(
        "theme.toml",
        "text = {}\n\nhealth.okk = { fg = \"green\" }\n",
    );
    let home = dir.path().parent().unwrap().to_str().unwrap().to_string();
    let shown = format!(
        "~/{}/theme.toml",
        dir.path().file_name().unwrap().to_str().unwrap()
    );
    let error = load(&options_in(&dir), &env_of(&[("HOME", &home)])).unwrap_err();
    assert!(
        error.to_string().starts_with(&format!(
            "{shown}:3: \"health.okk\" is not a theme slot (expected one of: text,"
        )),
        "{error}"
    );
}

#[test]
fn an_unknown_action_in_the_users_keymap_reads_exactly() {
    let dir = TempDir::new();
    dir.write(
        "keymap.toml",
        "# mine\n[topology]\nselec_left = { keys = [\"h\"] }\n",
    );
    let error = load(&options_in(&dir), &env_of(&[])).unwrap_err();
    let file = dir.path().join("keymap.toml");
    assert_eq!(
        error.to_string(),
        format!("{}:3: unknown action \"selec_left\"", file.display())
    );
}

#[test]
fn bad_choices_and_files_are_errors_not_fallbacks() {
    let dir = TempDir::new();
    let cases = [
        (
            "an unknown theme on the command line",
            ConfigOptions { theme: Some("solarized".into()), ..options_in(&dir) },
            "--theme: unknown theme \"solarized\" (built-in: dark, light, high-contrast, monochrome; a theme file's \
             path must end in .toml)"
                .to_string(),
        ),
        (
            "an unknown keymap on the command line",
            ConfigOptions { keymap: Some("emacs".into()), ..options_in(&dir) },
            "--keymap: unknown keymap \"emacs\" (built-in: default, vim; a keymap file's path must end in .toml)"
                .to_string(),
        ),
        (
            "a missing theme file",
            ConfigOptions { theme: Some("/nonexistent/mine.toml".into()), ..options_in(&dir) },
            "/nonexistent/mine.toml: cannot read: no such file (named at --theme)".to_string(),
        ),
    ];
    for (name, options, expected) in cases {
        let error = load(&options, &env_of(&[])).unwrap_err();
        assert_eq!(error.to_string(), expected, "{name}");
    }
}

#[test]
fn an_unknown_theme_in_the_config_file_names_its_line() {
    let dir = TempDir::new();
    dir.write("config.toml", "ascii = true\ntheme = \"drak\"\n");
    let error = load(&options_in(&dir), &env_of(&[])).unwrap_err();
    let file = dir.path().join("config.toml");
    assert!(
        error
            .to_string()
            .starts_with(&format!("{}:2: unknown theme \"drak\"", file.display())),
        "{error}"
    );
}

#[test]
fn bad_health_thresholds_in_the_config_file_are_a_clear_error() {
    let dir = TempDir::new();
    dir.write(
        "config.toml",
        "[health]\nserver_error_degraded_pct = 0.0\nserver_error_failure_pct = 10.0\n\
         client_error_degraded_pct = 30.0\nclient_error_failure_pct = 20.0\n",
    );
    let error = load(&options_in(&dir), &env_of(&[])).unwrap_err();
    let file = dir.path().join("config.toml");
    assert_eq!(
        error.to_string(),
        format!(
            "{}:1: bad [health] thresholds: client_error_degraded_pct (30) must not exceed client_error_failure_pct (20)",
            file.display()
        )
    );
}

#[test]
fn a_config_file_that_is_a_directory_is_an_error() {
    let dir = TempDir::new();
    std::fs::create_dir_all(dir.path().join("theme.toml")).unwrap();
    let error = load(&options_in(&dir), &env_of(&[])).unwrap_err();
    assert!(matches!(error, ConfigError::Read { .. }), "{error}");
}

#[test]
fn a_file_that_is_not_utf8_is_an_error() {
    let dir = TempDir::new();
    std::fs::write(dir.path().join("keymap.toml"), [0xff, 0xfe, b'[']).unwrap();
    let error = load(&options_in(&dir), &env_of(&[])).unwrap_err();
    assert!(matches!(error, ConfigError::Read { .. }), "{error}");
}

#[test]
fn ascii_follows_the_locale_unless_chosen() {
    let cases: [(&str, Vars, Option<bool>, bool); 9] = [
        ("a UTF-8 LANG", &[("LANG", "en_US.UTF-8")], None, false),
        (
            "utf8 spelt without a dash",
            &[("LANG", "de_DE.utf8")],
            None,
            false,
        ),
        ("a C locale", &[("LANG", "C")], None, true),
        (
            "LC_ALL decides over LANG",
            &[("LC_ALL", "C"), ("LANG", "en_US.UTF-8")],
            None,
            true,
        ),
        (
            "LC_CTYPE decides over LANG",
            &[("LC_CTYPE", "C.UTF-8"), ("LANG", "C")],
            None,
            false,
        ),
        (
            "an empty LC_ALL is skipped",
            &[("LC_ALL", ""), ("LANG", "en_US.UTF-8")],
            None,
            false,
        ),
        ("no locale at all is ASCII", &[], None, true),
        (
            "chosen ASCII wins over UTF-8",
            &[("LANG", "en_US.UTF-8")],
            Some(true),
            true,
        ),
        (
            "chosen Unicode wins over a C locale",
            &[("LANG", "C")],
            Some(false),
            false,
        ),
    ];
    let dir = TempDir::new();
    for (name, vars, chosen, expected) in cases {
        let options = ConfigOptions {
            ascii: chosen,
            ..options_in(&dir)
        };
        assert_eq!(
            load(&options, &env_of(vars)).unwrap().ascii,
            expected,
            "{name}"
        );
    }
}

#[test]
fn no_color_in_the_environment_drops_colours_but_keeps_the_selection_visible() {
    let dir = TempDir::new();
    let config = load(
        &options_in(&dir),
        &env_of(&[("NO_COLOR", "1"), ("COLORTERM", "truecolor")]),
    )
    .unwrap();
    assert_eq!(config.color_depth, ColorDepth::Never);
    let selection = config.theme.style(Slot::Selection);
    assert_eq!((selection.fg, selection.bg), (None, None));
    assert!(selection.add_modifier.contains(Modifier::REVERSED));
}

#[test]
fn locations_show_a_line_only_when_there_is_one() {
    let with_line = Location {
        file: "a.toml".into(),
        line: Some(3),
    };
    assert_eq!(with_line.to_string(), "a.toml:3");
    assert_eq!(Location::option("theme").to_string(), "--theme");
    let text = ConfigText {
        file: "a.toml".into(),
        text: "x\ny\n".into(),
        builtin: false,
    };
    assert_eq!(text.at(2).line, Some(2));
    assert_eq!(
        text.at(999).line,
        Some(3),
        "an offset past the end does not panic"
    );
}

#[test]
fn every_truncation_of_the_built_in_files_loads_or_errors_without_panicking() {
    // Cut-off and half-edited files are the most common bad input; none may panic.
    let files = [
        (
            paths::KEYMAP_FILE,
            include_str!("../../keymaps/default.toml"),
        ),
        (paths::THEME_FILE, include_str!("../../themes/dark.toml")),
        (
            paths::CONFIG_FILE,
            "theme = \"light\"\ncolor = \"256\"\n[health]\nserver_error_degraded_pct = 1.0\n",
        ),
    ];
    let dir = TempDir::new();
    for (name, text) in files {
        for (cut, _) in text.char_indices().step_by(7) {
            dir.write(name, &text[..cut]);
            let _ = load(&options_in(&dir), &env_of(&[]));
        }
        std::fs::remove_file(dir.path().join(name)).unwrap();
    }
}
