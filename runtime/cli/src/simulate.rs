//! `switchboard simulate`: a day of the contact center, simulated on the real engine with a
//! virtual clock (see `switchboard_planning::simulate` for the model). Reads the project and the agents
//! file, shows a progress bar on a terminal, prints the report.

use super::build::{compile, Compiled};
use super::output;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use switchboard_bytecode::bytecode::Bundle;
use switchboard_calendar::parse_at;
use switchboard_daemon::store::{EventRow, Outputs, Store};
use switchboard_engine::{BundleHash, Event};
use switchboard_planning::simulate::{self, Scenario, Spread};
use switchboard_shell::project;

const AFTER_HELP: &str = "\
The agents file is CSV with a header line:

  id,name,skills,languages,count
  hw,Hardware desk,hardware,,60
  ana,Ana Ruiz,software;spanish,en;es,1

Skills and languages are separated by `;`; languages default to en. A row whose count is
N above 1 stands for N agents id-1 … id-N; count 0 leaves it out. Only id and skills are
required; lines starting with # are comments. Every agent is available from start to end.

The simulated people:
  customers  arrive on each channel as a Poisson process, at an entry of the project for
             that channel, from an address the project's data does not know. In a flow
             they answer each menu with one of its options (equal chances) and each ask
             with a valid value, after 1-4 s on the phone or 2-8 s in writing; after
             hearing one prompt 3 times in a row they stay silent and let it time out.
             Waiting on voice or chat, they hang up when their patience (exponential,
             mean --patience) runs out; email, sms and social wait. Offered a callback
             while waiting, half of the callers take it.
  agents     pick up an offer after --ring and finish after the contact's handling time:
             exponential with mean --aht (Erlang C's assumption), or lognormal (CV 0.6).

The same seed gives the same report; the same seed with other agents, the same customers.

What can be simulated (anything past it is refused):
  at most 100000 agents; at most 1000000 contacts an hour on one channel, and 5000000 in
  the whole run (every channel's rate times --hours); --hours more than 0 and at most 8784
  (a year); --aht and --patience from 1s to 24h; --ring under 20s.

Example:
  switchboard simulate examples/helpdesk --agents examples/helpdesk/agents.csv \\
    --arrivals voice=1500/h,chat=300/h,email=200/h --aht voice=180s,chat=300s,email=240s \\
    --hours 10 --patience 90s";

#[derive(clap::Args, Debug)]
#[command(after_long_help = AFTER_HELP)]
pub struct Args {
    /// The project folder
    path: PathBuf,
    /// The agents: a CSV file with columns id,name,skills,languages,count (see --help)
    #[arg(long)]
    agents: PathBuf,
    /// Contacts arriving per channel, e.g. voice=120/h,chat=40/h,email=30/h
    #[arg(long)]
    arrivals: String,
    /// Mean handling time per channel, from 1s to 24h, e.g. voice=180s,chat=300s,email=240s
    #[arg(long)]
    aht: String,
    /// How many hours to simulate, e.g. 10 or 0.5
    #[arg(long)]
    hours: f64,
    /// Seed of the random numbers
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// When the simulated day starts
    #[arg(long, default_value = "2026-11-23 08:00 Europe/London")]
    start: String,
    /// Mean time a caller or chatter waits in a queue before hanging up, from 1s to 24h,
    /// e.g. 60s (default: nobody hangs up)
    #[arg(long)]
    patience: Option<String>,
    /// How long an offer rings before the agent picks up: a range like 2s-5s, or 0s
    #[arg(long, default_value = "2s-5s")]
    ring: String,
    /// How handling times spread around --aht
    #[arg(long, value_enum, default_value_t = HandleTimes::Exponential)]
    handle_times: HandleTimes,
    #[arg(long, value_enum, default_value_t = Output::Human)]
    format: Output,
    /// Also write the simulated day into a new data folder, in the daemon's store format
    /// (its events and the bundle), for `switchboard report --data DIR` and `graph --data DIR`
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum HandleTimes {
    Exponential,
    Lognormal,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Output {
    Human,
    Json,
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    let cannot = |why: String| format!("cannot read the agents file `{}`: {why}", args.agents.display());
    let agents = project::read_regular(&args.agents, project::MAX_FILE_BYTES).map_err(|e| cannot(e.to_string()))?;
    let agents = String::from_utf8(agents).map_err(|_| cannot("it is not UTF-8 text".into()))?;
    let scenario = Scenario {
        agents: simulate::parse_agents(&agents)?,
        arrivals: simulate::parse_arrivals(&args.arrivals)?,
        handle_ms: simulate::parse_handle_times(&args.aht)?,
        spread: match args.handle_times {
            HandleTimes::Exponential => Spread::Exponential,
            HandleTimes::Lognormal => Spread::Lognormal,
        },
        patience_ms: args.patience.as_deref().map(simulate::parse_patience).transpose()?,
        ring_ms: simulate::parse_ring(&args.ring)?,
        hours: args.hours,
        seed: args.seed,
        start: parse_at(&args.start)?,
    };
    scenario.validate()?;
    let Some(Compiled { bundle, project, .. }) = compile(&args.path)? else {
        return Ok(ExitCode::from(super::EXIT_FAILED));
    };

    let mut day = args.data.as_deref().map(|dir| Day::create(dir, &bundle, &scenario)).transpose()?;
    let bar = progress_bar(scenario.hours);
    let report = simulate::run_recording(
        Arc::new(bundle),
        &project.root,
        &scenario,
        &mut |ms| bar.set_position((ms / 1000) as u64),
        &mut |events| day.as_mut().map_or(Ok(()), |day| day.record(events)),
    )?;
    bar.finish_and_clear();
    if let Some(day) = day {
        day.finish()?;
    }
    match args.format {
        Output::Human => output::print(&report.to_human()),
        Output::Json => outln!("{}", report.to_json()),
    }
    Ok(ExitCode::SUCCESS)
}

/// A simulated day written as a daemon's store: the bundle, and every event in the order the
/// engine gave them (numbered one after another, as if each were its own journal record).
struct Day {
    store: Store,
    outputs: Outputs,
    seq: i64,
}

/// Events written in one transaction.
const EVENTS_PER_WRITE: usize = 10_000;

impl Day {
    fn create(dir: &Path, bundle: &Bundle, scenario: &Scenario) -> Result<Day, String> {
        if dir.join("switchboard.db").exists() {
            return Err(format!(
                "`{}` holds a store already; `simulate --data` writes a new one (name another folder)",
                dir.display()
            ));
        }
        let mut store = Store::open(dir).map_err(|e| e.to_string())?;
        let bytes = bundle.to_bytes()?;
        let at = scenario.start.timestamp().as_millisecond();
        store.put_bundle(&BundleHash::of(&bytes).to_string(), &bytes, at).map_err(|e| e.to_string())?;
        Ok(Day { store, outputs: Outputs::default(), seq: 0 })
    }

    fn record(&mut self, events: &[Event]) -> Result<(), String> {
        for event in events {
            self.seq += 1;
            self.outputs.events.push(EventRow {
                seq: self.seq,
                n: 0,
                session: event.session.0,
                contact: event.contact.map(|c| c.0),
                at_ms: event.at.as_millisecond(),
                kind: event.kind.word().to_string(),
                body: serde_json::to_string(event).map_err(|e| e.to_string())?,
            });
        }
        if self.outputs.events.len() >= EVENTS_PER_WRITE {
            self.write()?;
        }
        Ok(())
    }

    fn write(&mut self) -> Result<(), String> {
        self.store.commit_outputs(&self.outputs).map_err(|e| e.to_string())?;
        self.outputs.clear();
        Ok(())
    }

    fn finish(mut self) -> Result<(), String> {
        self.write()
    }
}

/// Simulated seconds done, on stderr when it is a terminal; hidden otherwise.
fn progress_bar(hours: f64) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new((hours * 3600.0).round() as u64);
    let style = indicatif::ProgressStyle::with_template("simulating {bar:40} {percent}% of the day, {eta} left")
        .expect("the template is valid");
    bar.set_style(style);
    bar
}
