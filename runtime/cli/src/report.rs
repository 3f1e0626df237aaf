//! `switchboard report`: historical reports from a daemon's store (or a simulated day's),
//! read-only, while the daemon runs if need be. The figures are computed by
//! `switchboard_daemon::report`, whose definitions the README lists.

use super::output;
use std::path::PathBuf;
use std::process::ExitCode;
use switchboard_bytecode::bytecode::Bundle;
use switchboard_daemon::report::{By, Interval, Options, Report, Targets};
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
    let zone_arg = args
        .tz
        .as_deref()
        .map(|name| jiff::tz::TimeZone::get(name).map_err(|_| format!("--tz: `{name}` is not a time zone")))
        .transpose()?;
    let from = args.from.as_deref().map(|t| parse_time("--from", t)).transpose()?;
    let to = args.to.as_deref().map(|t| parse_time("--to", t)).transpose()?;
    if let (Some(from), Some(to)) = (&from, &to) {
        if from.timestamp() >= to.timestamp() {
            return Err(format!(
                "--from ({}) must be before --to ({})",
                from.strftime("%Y-%m-%d %H:%M %Q"),
                to.strftime("%Y-%m-%d %H:%M %Q")
            ));
        }
    }
    let fcr_window = switchboard_planning::staffing::parse_duration(&args.fcr_window)
        .filter(|s| *s >= 0.0 && *s <= 366.0 * 86_400.0)
        .ok_or_else(|| {
            format!("--fcr-window: expected a duration up to a year like 24h or 7d, found `{}`", args.fcr_window)
        })?;
    let zone = zone_arg
        .or_else(|| from.as_ref().or(to.as_ref()).map(|z| z.time_zone().clone()))
        .unwrap_or(jiff::tz::TimeZone::UTC);

    let reader = Reader::open(&args.data).map_err(|e| e.to_string())?;
    let mut targets = Targets::default();
    for (hash, bytes) in reader.bundle_bytes().map_err(|e| e.to_string())? {
        let bundle = Bundle::from_bytes(&bytes)
            .map_err(|e| format!("the store's bundle {} cannot be read: {e}", &hash[..12.min(hash.len())]))?;
        targets.add(&bundle);
    }
    let from_ms = from.as_ref().map(|z| z.timestamp().as_millisecond());
    let (events, unread) = reader.events_since(from_ms).map_err(|e| e.to_string())?;
    if unread > 0 {
        errln!("note: {unread} events in the store could not be read and are left out");
    }
    let options = Options {
        from_ms,
        to_ms: to.as_ref().map(|z| z.timestamp().as_millisecond()),
        interval: args.interval.map(|i| match i {
            IntervalArg::QuarterHour => Interval::QuarterHour,
            IntervalArg::Hour => Interval::Hour,
            IntervalArg::Day => Interval::Day,
        }),
        zone,
        by: match args.by {
            ByArg::Queue => By::Queue,
            ByArg::Channel => By::Channel,
            ByArg::Flow => By::Flow,
            ByArg::Waypoint => By::Waypoint,
            ByArg::Agent => By::Agent,
        },
        segment: args.segment,
        fcr_window_ms: (fcr_window * 1000.0).round() as i64,
        targets,
    };
    let report = Report::compute(&events, &options);
    match args.format {
        FormatArg::Table => output::print(&report.to_table()),
        FormatArg::Csv => output::print(&report.to_csv()),
        FormatArg::Json => outln!("{}", report.to_json()),
    }
    Ok(ExitCode::SUCCESS)
}

/// RFC 3339, or `2026-11-23[ 08:00][ Europe/London]`.
fn parse_time(flag: &str, text: &str) -> Result<jiff::Zoned, String> {
    let text = text.trim();
    let bad = |why: String| {
        format!(
            "{flag}: expected a time like `2026-11-23T08:00:00Z`, `2026-11-23` or `2026-11-23 08:00 Europe/London`: {why}"
        )
    };
    if text.contains('T') && !text.contains(' ') {
        let at: jiff::Timestamp = text.parse().map_err(|e| bad(format!("`{text}` is not an RFC 3339 time ({e})")))?;
        return Ok(at.to_zoned(jiff::tz::TimeZone::UTC));
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    let with_time = match words[..] {
        [date] => format!("{date} 00:00"),
        [date, second] if !second.contains(':') => format!("{date} 00:00 {second}"),
        _ => text.to_string(),
    };
    switchboard_calendar::parse_at(&with_time).map_err(bad)
}
