//! What a simulation plays: the agents, how many contacts arrive on each channel, how long
//! agents handle them, how patient customers are, and for how long. Read from the command
//! line's words and the agents file; nothing here runs anything.

use crate::staffing::{parse_duration, parse_rate};
use std::collections::BTreeSet;
use switchboard_bytecode::types::Channel;
use switchboard_vm::AgentView;

/// The longest run the simulator accepts: a year.
pub const MAX_HOURS: f64 = 24.0 * 366.0;

/// The most agents one simulation takes, all rows of the agents file together.
pub const MAX_AGENTS: u64 = 100_000;

/// The most contacts per hour one channel's arrivals may bring.
pub const MAX_CONTACTS_PER_HOUR: f64 = 1_000_000.0;

/// The most contacts a whole run may expect (every channel's rate times the hours): each
/// one is a live contact on the engine while it waits (about 1 KB), so this bounds the
/// run's memory (about 5 GB if no contact is ever answered).
pub const MAX_CONTACTS: f64 = 5_000_000.0;

/// The range of a mean handling time (`--aht`) and of a mean patience (`--patience`), in
/// seconds: a second to a day. Times drawn around such means fit the clock with room.
pub const MIN_MEAN_SECONDS: f64 = 1.0;
pub const MAX_MEAN_SECONDS: f64 = 86_400.0;

/// How handling times spread around their mean.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spread {
    /// Exponential: Erlang C's own assumption (coefficient of variation 1).
    Exponential,
    /// Lognormal with a coefficient of variation of [`LOGNORMAL_CV`]: closer to measured
    /// handle times, with fewer very short contacts.
    Lognormal,
}

/// The spread of lognormal handling times: standard deviation over mean.
pub const LOGNORMAL_CV: f64 = 0.6;

/// One simulation's inputs.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Everyone is logged in and available from the start to the end.
    pub agents: Vec<AgentView>,
    /// Contacts per hour on each channel (a Poisson process).
    pub arrivals: Vec<(Channel, f64)>,
    /// Mean handling time on each channel, in ms: from the agent's pick-up to `finish`.
    pub handle_ms: Vec<(Channel, f64)>,
    pub spread: Spread,
    /// Mean patience in ms (exponential) of a caller or chatter waiting in a queue;
    /// none: nobody hangs up.
    pub patience_ms: Option<f64>,
    /// How long an offer rings before the agent picks up: uniform between the two, in ms.
    pub ring_ms: (i64, i64),
    pub hours: f64,
    pub seed: u64,
    /// The simulated start, in the time zone the report shows it in.
    pub start: jiff::Zoned,
}

impl Scenario {
    /// The mean handling time on `channel`, in ms.
    pub fn handle_mean(&self, channel: Channel) -> Option<f64> {
        self.handle_ms.iter().find(|(c, _)| *c == channel).map(|(_, ms)| *ms)
    }

    /// What can be simulated: every channel with arrivals has a handling time; rates,
    /// handling times, patience, the number of agents and the run's length are within the
    /// limits above (a scenario built by hand is checked as one parsed from the command line).
    pub fn validate(&self) -> Result<(), String> {
        for (channel, per_hour) in &self.arrivals {
            if self.handle_mean(*channel).is_none() {
                return Err(format!("--aht gives no handling time for {channel}: add {channel}=…s"));
            }
            check_rate(*per_hour).map_err(|e| format!("--arrivals {channel}: {e}"))?;
        }
        for (channel, ms) in &self.handle_ms {
            check_mean(ms / 1000.0).map_err(|e| format!("--aht {channel}: {e}"))?;
        }
        if let Some(ms) = self.patience_ms {
            check_mean(ms / 1000.0).map_err(|e| format!("--patience {e}"))?;
        }
        if !(self.hours > 0.0 && self.hours <= MAX_HOURS) {
            return Err(format!("--hours must be more than 0 and at most {MAX_HOURS}, not {}", self.hours));
        }
        let contacts: f64 = self.arrivals.iter().map(|(_, per_hour)| per_hour * self.hours).sum();
        if contacts > MAX_CONTACTS {
            return Err(format!(
                "--arrivals for --hours {} bring about {contacts:.0} contacts: at most {MAX_CONTACTS} can be \
                 simulated in one run (fewer hours, or a lower rate)",
                self.hours
            ));
        }
        if self.agents.is_empty() {
            return Err("the agents file names no agents".to_string());
        }
        if self.agents.len() as u64 > MAX_AGENTS {
            return Err(format!(
                "{} agents are more than {MAX_AGENTS}, the most a simulation takes",
                self.agents.len()
            ));
        }
        Ok(())
    }
}

/// `voice=120/h,chat=40/30m,email=30`: contacts per interval (per hour when no interval is
/// written) on each channel, as contacts per hour.
pub fn parse_arrivals(text: &str) -> Result<Vec<(Channel, f64)>, String> {
    per_channel(text, "--arrivals", "voice=120/h,chat=40/h", |value| {
        let per_hour = match value.split_once('/') {
            Some((contacts, interval)) => {
                // `120/h` is `120/1h`.
                let interval = interval.trim();
                let one = if interval.starts_with(|c: char| c.is_ascii_digit()) { "" } else { "1" };
                let rate = parse_rate(&format!("{contacts}/{one}{interval}"))
                    .map_err(|_| format!("`{value}` is not a rate like 120/h or 40/30m"))?;
                rate.contacts / rate.interval_seconds * 3600.0
            }
            None => value.parse::<f64>().map_err(|_| format!("`{value}` is not a number of contacts"))?,
        };
        if per_hour.is_finite() && per_hour >= 0.0 {
            check_rate(per_hour)?;
            Ok(per_hour)
        } else {
            Err(format!("`{value}` is not a rate of contacts"))
        }
    })
}

fn check_rate(per_hour: f64) -> Result<(), String> {
    if (0.0..=MAX_CONTACTS_PER_HOUR).contains(&per_hour) {
        Ok(())
    } else {
        Err(format!(
            "{per_hour:.0} contacts an hour are more than {MAX_CONTACTS_PER_HOUR}, the most a channel may bring"
        ))
    }
}

/// A mean handling time or patience, in seconds, within the range a run can play.
fn check_mean(seconds: f64) -> Result<f64, String> {
    if (MIN_MEAN_SECONDS..=MAX_MEAN_SECONDS).contains(&seconds) {
        Ok(seconds)
    } else {
        Err("must be from 1s to 24h".to_string())
    }
}

/// `voice=180s,chat=5m`: mean handling time on each channel, in ms, from 1s to 24h.
pub fn parse_handle_times(text: &str) -> Result<Vec<(Channel, f64)>, String> {
    per_channel(text, "--aht", "voice=180s,chat=300s", |value| match parse_duration(value) {
        Some(seconds) => {
            check_mean(seconds).map(|s| s * 1000.0).map_err(|e| format!("a handling time {e}, not `{value}`"))
        }
        None => Err(format!("`{value}` is not a duration like 180s or 3m")),
    })
}

/// `--patience 60s`: mean patience in ms, from 1s to 24h.
pub fn parse_patience(text: &str) -> Result<f64, String> {
    match parse_duration(text) {
        Some(seconds) => check_mean(seconds).map(|s| s * 1000.0).map_err(|e| format!("--patience {e}, not `{text}`")),
        None => Err(format!("--patience must be a duration like 60s or 2m, not `{text}`")),
    }
}

/// `--ring 2s-5s` (uniform between the two) or `--ring 3s`: in ms.
pub fn parse_ring(text: &str) -> Result<(i64, i64), String> {
    let bad = || format!("--ring must be a duration like 3s or a range like 2s-5s, not `{text}`");
    let ms = |part: &str| {
        parse_duration(part).filter(|s| s.is_finite() && *s >= 0.0).map(|s| (s * 1000.0).round() as i64).ok_or_else(bad)
    };
    let (low, high) = match text.split_once('-') {
        Some((low, high)) => (ms(low)?, ms(high)?),
        None => (ms(text)?, ms(text)?),
    };
    if low > high {
        return Err(format!("--ring `{text}` ends before it starts"));
    }
    // An agent who lets an offer ring 20 s misses it and is made away.
    if high >= 20_000 {
        return Err(format!("--ring `{text}` is too long: offers time out after 20s"));
    }
    Ok((low, high))
}

fn per_channel<T>(
    text: &str,
    flag: &str,
    example: &str,
    value: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<(Channel, T)>, String> {
    let mut out: Vec<(Channel, T)> = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((name, v)) = part.split_once('=') else {
            return Err(format!("{flag} takes channel=value pairs like {example}, not `{part}`"));
        };
        let name = name.trim();
        let channel = Channel::parse(name)
            .ok_or_else(|| format!("{flag}: `{name}` is not a channel: voice, chat, email, sms or social"))?;
        if out.iter().any(|(c, _)| *c == channel) {
            return Err(format!("{flag} names {channel} twice"));
        }
        out.push((channel, value(v.trim()).map_err(|e| format!("{flag} {channel}: {e}"))?));
    }
    if out.is_empty() {
        return Err(format!("{flag} is empty: write it like {example}"));
    }
    Ok(out)
}

/// The agents file: CSV with a header line naming the columns `id`, `name`, `skills`,
/// `languages` and `count` (`id` and `skills` required; any order). Skills and languages
/// are `;`-separated; languages default to `en`. A row with `count` N above 1 stands for N
/// agents `id-1` … `id-N` (named `name 1` … `name N`); `count` 0 leaves the row out. Lines
/// starting with `#` are comments.
pub fn parse_agents(text: &str) -> Result<Vec<AgentView>, String> {
    let mut reader =
        csv::ReaderBuilder::new().trim(csv::Trim::All).comment(Some(b'#')).flexible(true).from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| format!("the agents file: {e}"))?.clone();
    let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let known = ["id", "name", "skills", "languages", "count"];
    if let Some(other) = headers.iter().find(|h| !known.iter().any(|k| h.eq_ignore_ascii_case(k))) {
        return Err(format!("the agents file has a column `{other}`: its columns are {}", known.join(",")));
    }
    let (Some(id_at), Some(skills_at)) = (column("id"), column("skills")) else {
        return Err(format!("the agents file needs a header line with at least id and skills: {}", known.join(",")));
    };
    let (name_at, languages_at, count_at) = (column("name"), column("languages"), column("count"));
    let list = |field: &str| -> Vec<String> {
        field.split(';').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
    };

    let mut agents = Vec::new();
    let mut ids = BTreeSet::new();
    let too_many =
        |line: u64| format!("the agents file, line {line}: more than {MAX_AGENTS} agents, the most a simulation takes");
    for row in reader.records() {
        let row = row.map_err(|e| format!("the agents file: {e}"))?;
        let line = row.position().map_or(0, |p| p.line());
        let field = |at: Option<usize>| at.and_then(|i| row.get(i)).unwrap_or("");
        let id = field(Some(id_at));
        if id.is_empty() {
            return Err(format!("the agents file, line {line}: the id is empty"));
        }
        let name = match field(name_at) {
            "" => id,
            name => name,
        };
        let count: u64 = match field(count_at) {
            "" => 1,
            n => n.parse().map_err(|_| format!("the agents file, line {line}: count `{n}` is not a whole number"))?,
        };
        // Refused before a single agent is made of the row.
        if (agents.len() as u64).saturating_add(count) > MAX_AGENTS {
            return Err(too_many(line));
        }
        let skills = list(field(Some(skills_at)));
        let languages = list(field(languages_at));
        let one =
            |id: String, name: String| AgentView { id, name, skills: skills.clone(), languages: languages.clone() };
        let expanded: Vec<AgentView> = match count {
            1 => vec![one(id.to_string(), name.to_string())],
            n => (1..=n).map(|i| one(format!("{id}-{i}"), format!("{name} {i}"))).collect(),
        };
        for agent in expanded {
            if !ids.insert(agent.id.clone()) {
                return Err(format!("the agents file, line {line}: agent `{}` is there twice", agent.id));
            }
            agents.push(agent);
        }
    }
    Ok(agents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrivals_are_per_hour_whatever_the_interval() {
        let got = parse_arrivals("voice=120/h, chat=40/30m,email=30").unwrap();
        assert_eq!(got, [(Channel::Voice, 120.0), (Channel::Chat, 80.0), (Channel::Email, 30.0)]);
    }

    #[test]
    fn bad_arrivals_say_what_is_wrong() {
        for (text, says) in [
            ("voice", "channel=value pairs"),
            ("phone=10/h", "`phone` is not a channel"),
            ("voice=10/h,voice=5/h", "names voice twice"),
            ("voice=lots", "`lots` is not a number"),
            ("voice=10/fortnight", "`10/fortnight` is not a rate like 120/h"),
            ("", "is empty"),
        ] {
            let err = parse_arrivals(text).unwrap_err();
            assert!(err.contains(says), "{text:?}: {err}");
        }
    }

    #[test]
    fn handle_times_are_in_ms() {
        assert_eq!(
            parse_handle_times("voice=180s,chat=5m").unwrap(),
            [(Channel::Voice, 180_000.0), (Channel::Chat, 300_000.0)]
        );
        assert!(parse_handle_times("voice=soon").unwrap_err().contains("not a duration"));
    }

    #[test]
    fn handling_times_and_patience_out_of_range_are_refused_with_the_range() {
        // Before: `voice=99999999999d` overflowed the clock and reported an AHT of 0s, and
        // `--patience 99999999999d` made a third of the callers hang up at once.
        for aht in ["voice=0s", "voice=0.5s", "voice=25h", "voice=99999999999d"] {
            let err = parse_handle_times(aht).unwrap_err();
            assert!(err.starts_with("--aht voice: a handling time must be from 1s to 24h"), "{aht}: {err}");
        }
        for patience in ["0s", "0.5s", "2d", "99999999999d"] {
            let err = parse_patience(patience).unwrap_err();
            assert!(err.starts_with("--patience must be from 1s to 24h"), "{patience}: {err}");
            assert!(err.contains(patience), "{err}");
        }
        assert_eq!(parse_handle_times("voice=1s,chat=24h").unwrap(), [(Channel::Voice, 1e3), (Channel::Chat, 8.64e7)]);
        assert_eq!(parse_patience("24h").unwrap(), 8.64e7);
    }

    #[test]
    fn arrivals_past_the_cap_are_refused() {
        assert_eq!(parse_arrivals("voice=1000000/h").unwrap(), [(Channel::Voice, 1e6)]);
        let err = parse_arrivals("voice=1000001/h").unwrap_err();
        assert!(err.contains("--arrivals voice") && err.contains("the most a channel may bring"), "{err}");
        assert!(parse_arrivals("chat=5000000").unwrap_err().contains("the most a channel may bring"));
    }

    #[test]
    fn an_agents_count_past_the_cap_is_refused_before_the_agents_are_made() {
        // Before: a count of 10 million made 10 million agents, and the process aborted.
        let err = parse_agents("id,skills,count\nhw,hardware,10000000\n").unwrap_err();
        assert!(err.contains("line 2: more than 100000 agents"), "{err}");
        let err = parse_agents("id,skills,count\nhw,hardware,60000\nsw,software,40001\n").unwrap_err();
        assert!(err.contains("line 3: more than 100000 agents"), "all rows together: {err}");
        let err = parse_agents("id,skills,count\nhw,hardware,99999999999999999999\n").unwrap_err();
        assert!(err.contains("is not a whole number"), "{err}");
        assert_eq!(parse_agents("id,skills,count\nhw,hardware,100000\n").unwrap().len(), 100_000);
    }

    #[test]
    fn ring_is_a_range_or_one_duration() {
        assert_eq!(parse_ring("2s-5s").unwrap(), (2000, 5000));
        assert_eq!(parse_ring("0s").unwrap(), (0, 0));
        assert!(parse_ring("5s-2s").unwrap_err().contains("ends before"));
        assert!(parse_ring("25s").unwrap_err().contains("too long"));
        assert!(parse_ring("fast").is_err());
    }

    #[test]
    fn a_count_expands_into_numbered_agents() {
        let text = "id,name,skills,languages,count\n\
                    # the day team\n\
                    hw,Hardware,hardware,,3\n\
                    ana,Ana Ruiz,software;spanish,en;es,\n\
                    off,Nobody,hardware,,0\n";
        let agents = parse_agents(text).unwrap();
        let ids: Vec<&str> = agents.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["hw-1", "hw-2", "hw-3", "ana"]);
        assert_eq!(agents[2].name, "Hardware 3");
        assert_eq!(agents[3].skills, ["software", "spanish"]);
        assert_eq!(agents[3].languages, ["en", "es"]);
        assert!(agents[0].languages.is_empty(), "the engine gives them `en`");
    }

    #[test]
    fn columns_may_come_in_any_order_and_only_id_and_skills_are_required() {
        let agents = parse_agents("skills,id\nbilling,a\n").unwrap();
        assert_eq!((agents[0].id.as_str(), agents[0].name.as_str()), ("a", "a"));
    }

    #[test]
    fn bad_agent_files_say_which_line() {
        for (text, says) in [
            ("id,name\na,b\n", "at least id and skills"),
            ("id,skills,team\na,b,c\n", "a column `team`"),
            ("id,skills,count\na,b,two\n", "line 2: count `two`"),
            ("id,skills\na,b\na,c\n", "line 3: agent `a` is there twice"),
            ("id,skills,count\na,b,2\na-1,b,\n", "agent `a-1` is there twice"),
            ("id,skills\n,b\n", "line 2: the id is empty"),
        ] {
            let err = parse_agents(text).unwrap_err();
            assert!(err.contains(says), "{text:?}: {err}");
        }
    }
}
