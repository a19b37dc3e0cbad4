//! Regenerates `screenshots/*.png` from real frames of the demo mesh (seed 1, frozen clock):
//! the same `ui::draw` the terminal gets, rendered into a TestBackend and rasterized.
//! Run it with `scripts/screenshots`.

mod raster;

use std::path::Path;

use anyhow::{Context, Result};
use meshtui::app::forms::TextKey;
use meshtui::app::{update, Action, Effect, FindKey, Msg, State};
use meshtui::config::{self, ColorChoice, ConfigOptions, LoadedConfig};
use meshtui::source::demo::{proxy_log_lines, DemoMesh, DemoOptions};
use meshtui::source::logs::{parse_lines, LogEvent};
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
    /// What a user did before the frame was taken.
    prepare: fn(&mut State),
}

const SCENES: &[Scene] = &[
    Scene {
        file: "topology-dark.png",
        theme: "dark",
        color: ColorChoice::TrueColor,
        prepare: |_| {},
    },
    Scene {
        file: "topology-monochrome.png",
        theme: "monochrome",
        color: ColorChoice::Never,
        prepare: |_| {},
    },
    Scene {
        file: "topology-light.png",
        theme: "light",
        color: ColorChoice::TrueColor,
        prepare: |_| {},
    },
    Scene {
        file: "edge-table-dark.png",
        theme: "dark",
        color: ColorChoice::TrueColor,
        prepare: |state| act(state, &[Action::ToggleEdgeTable, Action::CycleSort]),
    },
    Scene {
        file: "help-dark.png",
        theme: "dark",
        color: ColorChoice::TrueColor,
        prepare: |state| act(state, &[Action::ShowHelp]),
    },
    Scene {
        file: "workload-dark.png",
        theme: "dark",
        color: ColorChoice::TrueColor,
        prepare: |state| {
            command(state, "wl productpage-v1");
            act(state, &[Action::NextTab, Action::NextTab]);
        },
    },
    Scene {
        file: "service-dark.png",
        theme: "dark",
        color: ColorChoice::TrueColor,
        prepare: |state| command(state, "svc reviews"),
    },
    Scene {
        file: "interfaces-dark.png",
        theme: "dark",
        color: ColorChoice::TrueColor,
        prepare: |state| {
            command(state, "wl productpage-v1");
            let mesh = DemoMesh::new(demo_options());
            for effect in tabs(state, &[Action::NextTab, Action::NextTab, Action::NextTab]) {
                if let Effect::QueryOperations(query) = effect {
                    let result = Ok(mesh.operations_report(query.clone()));
                    update(state, Msg::Operations { query, result });
                }
            }
        },
    },
    Scene {
        file: "access-log-dark.png",
        theme: "dark",
        color: ColorChoice::TrueColor,
        prepare: |state| {
            command(state, "wl shop/frontend-v1");
            let traffic = DemoMesh::new(demo_options()).proxy_traffic();
            for effect in tabs(state, &[Action::PreviousTab]) {
                if let Effect::FollowLog { id, pod } = effect {
                    let now = traffic.taken_at_unix_s;
                    let lines = proxy_log_lines(&traffic, &pod, now - 30.0, 30.0, 1);
                    let event = LogEvent::Lines(parse_lines(lines));
                    update(state, Msg::Log { id, event });
                }
            }
        },
    },
    Scene {
        file: "tree-dark.png",
        theme: "dark",
        color: ColorChoice::TrueColor,
        prepare: |state| {
            update(state, Msg::Action(Action::Find));
            for c in "reviews v2".chars() {
                update(state, Msg::Find(FindKey::Char(c)));
            }
            update(state, Msg::Find(FindKey::Accept));
            act(state, &[Action::ShowTree, Action::SelectRight]);
        },
    },
];

fn demo_options() -> DemoOptions {
    DemoOptions {
        seed: 1,
        ..DemoOptions::default()
    }
}

fn act(state: &mut State, actions: &[Action]) {
    for action in actions {
        update(state, Msg::Action(*action));
    }
}

/// Presses tab keys; returns what the last asked the runtime for (a query, a follow).
fn tabs(state: &mut State, actions: &[Action]) -> Vec<Effect> {
    let mut effects = Vec::new();
    for action in actions {
        effects = update(state, Msg::Action(*action)).effects;
    }
    effects
}

/// A `:` command, as typed.
fn command(state: &mut State, line: &str) {
    update(state, Msg::Action(Action::CommandLine));
    for c in line.chars() {
        update(state, Msg::Text(TextKey::Char(c)));
    }
    update(state, Msg::Text(TextKey::Enter));
}

fn main() -> Result<()> {
    let out_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("screenshots");
    std::fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    for scene in SCENES {
        let config = scene_config(scene)?;
        let mut state = meshtui::runtime::first_demo_state(demo_options(), &config, WIDTH, HEIGHT);
        (scene.prepare)(&mut state);
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
