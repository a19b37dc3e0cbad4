use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = meshtui::cli::Cli::parse();
    match meshtui::runtime::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("meshtui: {error:#}");
            match error.downcast_ref::<meshtui::runtime::ExitStatus>() {
                Some(status) => ExitCode::from(status.code),
                None => ExitCode::FAILURE,
            }
        }
    }
}
