//! Command-line interface (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "meshtui",
    version,
    about = "A keyboard-first terminal UI for Istio service meshes",
    long_about = "meshtui draws the live service graph of an Istio mesh in the terminal.\n\
                  Try it with no cluster: `meshtui demo`."
)]
pub struct Cli {
    #[command(flatten)]
    pub display: DisplayArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Clone, Default)]
pub struct DisplayArgs {
    /// Theme: dark, light, high-contrast, monochrome, or a path to a TOML theme file
    #[arg(long, global = true, value_name = "NAME|PATH")]
    pub theme: Option<String>,
    /// Keymap: default, vim, or a path to a TOML keymap file
    #[arg(long, global = true, value_name = "NAME|PATH")]
    pub keymap: Option<String>,
    /// Colour depth; `auto` honours NO_COLOR, COLORTERM and TERM
    #[arg(long, global = true, value_enum)]
    pub color: Option<ColorArg>,
    /// Draw with ASCII characters only (automatic when the locale is not UTF-8)
    #[arg(long, global = true)]
    pub ascii: bool,
    /// Directory holding config.toml, keymap.toml and theme.toml [default: $XDG_CONFIG_HOME/meshtui]
    #[arg(long, global = true, value_name = "DIR")]
    pub config_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    Auto,
    Truecolor,
    #[value(name = "256")]
    Ansi256,
    #[value(name = "16")]
    Ansi16,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Explore an embedded simulated mesh (Bookinfo plus a shop), no cluster needed
    Demo(DemoArgs),
}

#[derive(Debug, Args, Clone)]
pub struct DemoArgs {
    /// Seed of the simulation; the same seed gives the same traffic [default: from the clock]
    #[arg(long)]
    pub seed: Option<u64>,
    /// Replace Bookinfo and the shop by a generated mesh of about this many services
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub services: Option<u32>,
    /// Seconds between refreshes
    #[arg(long, default_value_t = 2.0, value_name = "SECONDS")]
    pub refresh: f64,
    /// Start the simulated clock at a fixed instant and never read the wall clock (for tests)
    #[arg(long)]
    pub frozen_clock: bool,
    /// Exit right after the first frame with data is drawn (start-up benchmark)
    #[arg(long, hide = true)]
    pub exit_after_first_frame: bool,
}
