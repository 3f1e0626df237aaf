//! `switchboard report`: historical reports from a daemon's store (or a simulated day's),
//! read-only, while the daemon runs if need be. The figures are computed by
//! `switchboard_daemon::report`, whose definitions the README lists.

use super::output;
use std::path::PathBuf;
use std::process::ExitCode;
use switchboard_daemon::report::{parse_time, By, Interval, Query};
use switchboard_daemon::store::Reader;

const AFTER_HELP: &str = "\
Times are RFC 3339 (2026-11-23T08:00:00Z, 2026-11-23T08:00:00+01:00) or a date with an
optional time and zone (2026-11-23, 2026-11-23 08:00, 2026-11-23 08:00 Europe/London); a
time without a zone is UTC. A contact counts in the period (and the interval) it arrived in.
Intervals are cut, and times shown, in --tz, else the zone --from or --to names, else UTC.

The three service levels (against each queue's `target` for the channel):
  SL excl     answered within the target / answered (abandons excluded; /metrics shows this)
  SL met      (answered + abandoned, within the target) / (answered + abandoned): abandons
              within the target count as met, as Amazon Connect counts them
  SL against  answered within the target / (answered + abandoned after the target): short
              abandons count neither way (routing's own figure, and simulate's)

Examples:
  switchboard report --data switchboard-data --from 2026-11-23 --to 2026-11-24 --interval 1h
  switchboard report --data day --by agent --segment tier --format csv";

#[derive(clap::Args, Debug)]
#[command(after_long_help = AFTER_HELP)]
pub struct Args {
    /// The data folder (`serve --data`, `simulate --data`)
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// Contacts that arrived at or after this time (default: the first)
    #[arg(long, value_name = "TIME")]
    from: Option<String>,
    /// Contacts that arrived before this time (default: the last)
    #[arg(long, value_name = "TIME")]
    to: Option<String>,
    /// A row per interval of arrival
    #[arg(long, value_enum)]
    interval: Option<IntervalArg>,
    /// What a row is for
    #[arg(long, value_enum, default_value_t = ByArg::Queue)]
    by: ByArg,
    /// Split every row by this field of the customer's record, e.g. tier
    #[arg(long, value_name = "FIELD")]
    segment: Option<String>,
    /// A contact is resolved first time if the same customer makes no other contact
    /// within this long after it, e.g. 24h, 7d
    #[arg(long, value_name = "DURATION", default_value = "24h")]
    fcr_window: String,
    /// The time zone intervals are cut in, e.g. Europe/London
    #[arg(long, value_name = "ZONE")]
    tz: Option<String>,
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    format: FormatArg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum IntervalArg {
    #[value(name = "15m")]
    QuarterHour,
    #[value(name = "1h")]
    Hour,
    #[value(name = "1d")]
    Day,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum ByArg {
    Queue,
    Channel,
    Flow,
    Waypoint,
    Agent,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum FormatArg {
    Table,
    Csv,
    Json,
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    let fcr_window = switchboard_planning::staffing::parse_duration(&args.fcr_window)
        .filter(|s| *s >= 0.0 && *s <= 366.0 * 86_400.0)
        .ok_or_else(|| {
            format!("--fcr-window: expected a duration up to a year like 24h or 7d, found `{}`", args.fcr_window)
        })?;
    let query = Query {
        from: args.from,
        to: args.to,
        tz: args.tz,
        interval: args.interval.map(|i| match i {
            IntervalArg::QuarterHour => Interval::QuarterHour,
            IntervalArg::Hour => Interval::Hour,
            IntervalArg::Day => Interval::Day,
        }),
        by: match args.by {
            ByArg::Queue => By::Queue,
            ByArg::Channel => By::Channel,
            ByArg::Flow => By::Flow,
            ByArg::Waypoint => By::Waypoint,
            ByArg::Agent => By::Agent,
        },
        segment: args.segment,
        fcr_window_ms: (fcr_window * 1000.0).round() as i64,
    };
    // Times are checked before the store is opened, so a typo is told as such.
    for (flag, time) in [("--from", &query.from), ("--to", &query.to)] {
        if let Some(t) = time {
            parse_time(flag, t)?;
        }
    }
    let reader = Reader::open(&args.data).map_err(|e| e.to_string())?;
    let (report, unread) = query.run(&reader, &|name| format!("--{name}"))?;
    if unread > 0 {
        errln!("note: {unread} events in the store could not be read and are left out");
    }
    match args.format {
        FormatArg::Table => output::print(&report.to_table()),
        FormatArg::Csv => output::print(&report.to_csv()),
        FormatArg::Json => outln!("{}", report.to_json()),
    }
    Ok(ExitCode::SUCCESS)
}
