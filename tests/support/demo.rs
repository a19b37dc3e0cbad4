//! The demo mesh as the screen and navigation tests start from it (seed 1, frozen clock).

use meshtui::app::State;
use meshtui::config::{self, ColorChoice, ConfigOptions, LoadedConfig};
use meshtui::source::demo::DemoOptions;

/// The built-in configuration with a theme and colour depth, ignoring any user files.
pub fn config(theme: &str, color: ColorChoice) -> LoadedConfig {
    let options = ConfigOptions {
        config_dir: Some(std::env::temp_dir().join("meshtui-tests-no-user-config")),
        theme: Some(theme.into()),
        keymap: None,
        color: Some(color),
        ascii: Some(false),
    };
    config::load(&options, &|_| None).expect("built-in config loads")
}

pub fn options() -> DemoOptions {
    DemoOptions {
        seed: 1,
        ..DemoOptions::default()
    }
}

/// The demo's state after its first snapshot, at a terminal size.
pub fn demo_state(width: u16, height: u16) -> State {
    meshtui::runtime::first_demo_state(
        options(),
        &config("dark", ColorChoice::TrueColor),
        width,
        height,
    )
}
