//! The `switchboard` binary: parsing arguments and running one command.

#[macro_use]
mod output;

mod build;
mod check;
mod disasm;
mod fmt;
mod graph;
mod report;
mod run;
mod serve;
mod simulate;
mod staff;
mod test;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(name = "switchboard", version, about = "Contact-center routing as typed, tested code")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check projects for errors and warnings, as CI does
    Check {
        /// How to print diagnostics
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Fail (exit 1) on warnings too
        #[arg(long)]
        deny_warnings: bool,
        /// Project folders (every .flow under them) or .flow files
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Run the `test` blocks of projects on the real engine, with a virtual clock
    Test {
        /// Only tests whose name contains this text
        #[arg(long)]
        filter: Option<String>,
        /// Also run every test saving and restoring the engine's whole state after every
        /// step, and fail if the transcript changes
        #[arg(long)]
        roundtrip: bool,
        /// Record every input of every test, replay them on a fresh engine, and fail if
        /// any command, event or the final state differs
        #[arg(long)]
        replay: bool,
        /// With --replay: check a daemon's store instead (DIR as `serve --data` names it).
        /// From the oldest snapshot kept, every journal record is applied again on a copy,
        /// and the events, messages and later snapshots must be the ones the daemon stored.
        /// PATHS then names the project its SQLite sources open from (default: `.`)
        #[arg(long, value_name = "DIR", requires = "replay")]
        data: Option<PathBuf>,
        /// Project folders or .flow files (default: the current folder)
        paths: Vec<PathBuf>,
    },
    /// Rewrite .flow files in the one canonical layout
    Fmt {
        /// List files that would change, and fail if any would, instead of writing
        #[arg(long)]
        check: bool,
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Compile a project into a bundle, the unit of deployment
    Build {
        path: PathBuf,
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Draw a flow as a graph (SVG, DOT or Mermaid): menus, branches, queues and
    /// waypoints, with how many contacts went each way when --data names a daemon's store
    Graph {
        /// The project (default: the current folder)
        #[arg(default_value = ".")]
        path: PathBuf,
        /// The flow to draw (needed when the project has several)
        #[arg(long)]
        flow: Option<String>,
        #[arg(long, value_enum, default_value = "svg")]
        format: graph::Format,
        /// A daemon's data folder (`serve --data`): counts from the events it stored
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
    },
    /// Print a bundle (or a project, compiled on the spot) as readable bytecode
    Disasm {
        /// A bundle file written by `build`, or a project folder
        path: PathBuf,
        /// The project a bundle was built from, to show its source lines (only the
        /// project's own files are read, never a path the bundle names)
        #[arg(long)]
        project: Option<PathBuf>,
    },
    /// Agents needed for a workload (Erlang C, or Erlang A with --patience)
    Staff {
        /// Arrivals per interval, e.g. 100/30m
        #[arg(long)]
        rate: String,
        /// Average handling time, e.g. 180s
        #[arg(long)]
        aht: String,
        /// Service level, e.g. 80%/20s
        #[arg(long)]
        target: String,
        /// Share of paid time off the phones, e.g. 30%
        #[arg(long)]
        shrinkage: Option<String>,
        /// The busiest agents may be, e.g. 85%
        #[arg(long)]
        max_occupancy: Option<String>,
        /// Mean time callers wait before hanging up, e.g. 60s (selects Erlang A)
        #[arg(long)]
        patience: Option<String>,
        #[arg(long, value_enum, default_value_t = staff::Format::Human)]
        format: staff::Format,
    },
    /// Play a contact through a project in the terminal, on the real engine
    Run(run::Args),
    /// Simulate a day of the contact center on the real engine: arrivals, customers and
    /// agents, with a report per queue
    Simulate(simulate::Args),
    /// Historical reports from a data folder (a daemon's store, or a simulated day's):
    /// offered, answered, abandoned, service levels, ASA, AHT, transfers, FCR, CSAT, NPS
    /// and CES, by queue, channel, flow, waypoint or agent
    Report(report::Args),
    /// Run the daemon: flows for real contacts, durably, with web chat and the agents'
    /// connection
    Serve(serve::ServeArgs),
    /// Check and compile a project on a running daemon, and make it current there
    Deploy(serve::DeployArgs),
    /// Print an Argon2 hash of a password read from stdin, for an agent in switchboard.toml
    HashPassword,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Github,
    Sarif,
}

/// Exit codes: 0 clean, 1 the checked thing failed, 2 the command could not run.
pub const EXIT_FAILED: u8 = 1;
pub const EXIT_USAGE: u8 = 2;

pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Check { format, deny_warnings, paths } => check::run(format, deny_warnings, &paths),
        Command::Test { data: Some(data), paths, .. } => test::replay_store(&data, &paths),
        Command::Test { filter, roundtrip, replay, paths, data: None } => {
            test::run(&paths, filter.as_deref(), roundtrip, replay)
        }
        Command::Fmt { check, paths } => fmt::run(&paths, check),
        Command::Build { path, output } => build::run(&path, &output),
        Command::Graph { path, flow, format, data } => graph::run(&path, flow.as_deref(), format, data.as_deref()),
        Command::Disasm { path, project } => disasm::run(&path, project.as_deref()),
        Command::Run(args) => run::run(args),
        Command::Simulate(args) => simulate::run(args),
        Command::Report(args) => report::run(args),
        Command::Serve(args) => serve::serve(args),
        Command::Deploy(args) => serve::deploy(args),
        Command::HashPassword => serve::hash_password(),
        Command::Staff { rate, aht, target, shrinkage, max_occupancy, patience, format } => staff::run(staff::Args {
            rate: &rate,
            aht: &aht,
            target: &target,
            shrinkage: shrinkage.as_deref(),
            max_occupancy: max_occupancy.as_deref(),
            patience: patience.as_deref(),
            format,
        }),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            errln!("error: {message}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn main() -> ExitCode {
    run(Cli::parse())
}
