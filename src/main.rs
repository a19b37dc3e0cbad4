use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = meshtui::cli::Cli::parse();
    match meshtui::runtime::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("meshtui: {error:#}");
            ExitCode::FAILURE
        }
    }
}
