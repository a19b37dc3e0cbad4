//! Regenerates `screenshots/*.png` from real frames of the demo mesh (seed 1, frozen clock):
//! the same `ui::draw` the terminal gets, rendered into a TestBackend and rasterized.
//! Run it with `scripts/screenshots`.

mod raster;

use std::path::Path;

use anyhow::{Context, Result};
use meshtui::app::{update, Action, Msg, State};
use meshtui::config::{self, ColorChoice, ConfigOptions, LoadedConfig};
use meshtui::source::demo::DemoOptions;
use meshtui::ui::{self, Chrome};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use raster::{render_png, RasterOptions};

const WIDTH: u16 = 160;
const HEIGHT: u16 = 48;

struct Scene {
    file: &'static str,
    theme: &'static str,
    color: ColorChoice,
    actions: &'static [Action],
}

const SCENES: &[Scene] = &[
    Scene {
        file: "topology-dark.png",
        theme: "dark",
        color: ColorChoice::TrueColor,
        actions: &[],
    },
    Scene {
        file: "topology-monochrome.png",
        theme: "monochrome",
        color: ColorChoice::Never,
        actions: &[],
    },
    Scene {
        file: "topology-light.png",
        theme: "light",
        color: ColorChoice::TrueColor,
        actions: &[],
    },
    Scene {
        file: "edge-table-dark.png",
        theme: "dark",
        color: ColorChoice::TrueColor,
        actions: &[Action::ToggleEdgeTable, Action::CycleSort],
    },
    Scene {
        file: "help-dark.png",
        theme: "dark",
        color: ColorChoice::TrueColor,
        actions: &[Action::ShowHelp],
    },
];

fn main() -> Result<()> {
    let out_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("screenshots");
    std::fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    for scene in SCENES {
        let config = scene_config(scene)?;
        let options = DemoOptions {
            seed: 1,
            ..DemoOptions::default()
        };
        let mut state = meshtui::runtime::first_demo_state(options, &config, WIDTH, HEIGHT);
        for action in scene.actions {
            update(&mut state, Msg::Action(*action));
        }
        let path = out_dir.join(scene.file);
        render_scene(&state, scene, &config, &path)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

fn scene_config(scene: &Scene) -> Result<LoadedConfig> {
    let options = ConfigOptions {
        config_dir: Some(std::env::temp_dir().join("meshtui-screenshots-no-user-config")),
        theme: Some(scene.theme.into()),
        keymap: None,
        color: Some(scene.color),
        ascii: Some(false),
    };
    config::load(&options, &|_| None).context("loading the built-in config")
}

fn render_scene(state: &State, scene: &Scene, config: &LoadedConfig, path: &Path) -> Result<()> {
    let chrome = Chrome {
        theme: &config.theme,
        keymap: &config.keymap,
        ascii: false,
    };
    let mut terminal =
        Terminal::new(TestBackend::new(WIDTH, HEIGHT)).context("creating the test terminal")?;
    terminal
        .draw(|frame| ui::draw(frame, state, &chrome))
        .context("drawing the frame")?;
    let light = scene.theme == "light";
    let raster = RasterOptions {
        default_fg: if light {
            [0x24, 0x29, 0x2e]
        } else {
            RasterOptions::default().default_fg
        },
        default_bg: if light {
            [0xfa, 0xfa, 0xfa]
        } else {
            RasterOptions::default().default_bg
        },
        ..RasterOptions::default()
    };
    render_png(terminal.backend().buffer(), &raster, path)
}
