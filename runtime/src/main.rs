//! The `switchboard` binary.

use clap::Parser;

fn main() -> std::process::ExitCode {
    switchboard_runtime::cli::run(switchboard_runtime::cli::Cli::parse())
}
