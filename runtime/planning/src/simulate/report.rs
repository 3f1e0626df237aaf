//! What a simulation found: per queue and channel what routing counted (offered, answered,
//! abandoned, service level, speed of answer), the occupancy of each queue's agents, what
//! happened to the contacts of each channel, and waypoint counts. Rendered as a table for
//! people or as JSON.

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;
use switchboard_bytecode::types::Channel;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// The simulated start, `2026-11-23 08:00 Europe/London`.
    pub start: String,
    pub hours: f64,
    pub seed: u64,
    pub agents: usize,
    pub queues: Vec<QueueReport>,
    pub channels: Vec<ChannelReport>,
    /// Waypoint events by name.
    pub waypoints: BTreeMap<String, u64>,
    /// Error events by message.
    pub errors: BTreeMap<String, u64>,
    /// Retry strategies' calls agents took (each dialled then), and those answered.
    pub outbound_calls: u64,
    pub outbound_answered: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QueueReport {
    pub queue: String,
    /// Agents with every skill the queue needs.
    pub agents: usize,
    /// Their mean occupancy: time holding work over time staffed.
    pub occupancy: Option<f64>,
    pub channels: Vec<QueueChannel>,
}

/// One queue on one channel, as routing counted it (see `acd::ChannelStats`): a contact
/// that overflowed counts as offered in both queues.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QueueChannel {
    pub channel: Channel,
    pub offered: u64,
    pub answered: u64,
    pub abandoned: u64,
    pub overflowed_out: u64,
    /// Still waiting when the run ended.
    pub waiting: u64,
    pub target: Option<Target>,
    /// Answered within the target over answered plus abandoned after it.
    pub service_level: Option<f64>,
    pub asa_seconds: Option<f64>,
    /// Mean handle time routing measured (pick-up to finish, plus wrap-up).
    pub aht_seconds: Option<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Target {
    pub percent: u8,
    pub within_seconds: f64,
}

/// What happened to the contacts that arrived on one channel.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChannelReport {
    pub channel: Channel,
    pub arrived: u64,
    /// Handed to routing by a `queue`.
    pub queued: u64,
    pub answered: u64,
    /// Hung up while waiting (patience ran out).
    pub abandoned: u64,
    /// Took a callback while waiting.
    pub callbacks: u64,
    pub transferred: u64,
    /// Finished by the flow's `end` without reaching a queue.
    pub ended_in_flow: u64,
    pub errors: u64,
}

impl ChannelReport {
    pub fn new(channel: Channel) -> ChannelReport {
        ChannelReport {
            channel,
            arrived: 0,
            queued: 0,
            answered: 0,
            abandoned: 0,
            callbacks: 0,
            transferred: 0,
            ended_in_flow: 0,
            errors: 0,
        }
    }
}

impl Report {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serializes")
    }

    /// Tables for people.
    pub fn to_human(&self) -> String {
        let mut out = String::new();
        let contacts: u64 = self.channels.iter().map(|c| c.arrived).sum();
        let _ = writeln!(
            out,
            "simulated {} from {}, seed {}: {} agents, {} contacts",
            hours(self.hours),
            self.start,
            self.seed,
            self.agents,
            contacts
        );

        let mut rows = Vec::new();
        for q in &self.queues {
            for c in &q.channels {
                rows.push(vec![
                    q.queue.clone(),
                    c.channel.to_string(),
                    c.offered.to_string(),
                    c.answered.to_string(),
                    c.abandoned.to_string(),
                    c.waiting.to_string(),
                    c.service_level.map_or("-".to_string(), percent),
                    c.target.map_or("-".to_string(), |t| format!("{}% in {}", t.percent, seconds(t.within_seconds))),
                    c.asa_seconds.map_or("-".to_string(), seconds),
                    c.aht_seconds.map_or("-".to_string(), seconds),
                ]);
            }
        }
        out.push('\n');
        out.push_str(&table(
            &[
                "queue",
                "channel",
                "offered",
                "answered",
                "abandoned",
                "waiting",
                "service level",
                "target",
                "ASA",
                "AHT",
            ],
            "llrrrrrlrr",
            &rows,
        ));

        let rows: Vec<Vec<String>> = self
            .queues
            .iter()
            .map(|q| vec![q.queue.clone(), q.agents.to_string(), q.occupancy.map_or("-".to_string(), percent)])
            .collect();
        out.push('\n');
        out.push_str(&table(&["queue", "agents", "occupancy"], "lrr", &rows));

        let rows: Vec<Vec<String>> = self
            .channels
            .iter()
            .map(|c| {
                let counts = [
                    c.arrived,
                    c.queued,
                    c.answered,
                    c.abandoned,
                    c.callbacks,
                    c.transferred,
                    c.ended_in_flow,
                    c.errors,
                ];
                std::iter::once(c.channel.to_string()).chain(counts.iter().map(u64::to_string)).collect()
            })
            .collect();
        out.push('\n');
        out.push_str(&table(
            &["channel", "arrived", "queued", "answered", "abandoned", "callbacks", "transferred", "ended", "errors"],
            "lrrrrrrrr",
            &rows,
        ));

        if !self.waypoints.is_empty() {
            let rows: Vec<Vec<String>> =
                self.waypoints.iter().map(|(name, count)| vec![name.clone(), count.to_string()]).collect();
            out.push('\n');
            out.push_str(&table(&["waypoint", "count"], "lr", &rows));
        }
        if !self.errors.is_empty() {
            let rows: Vec<Vec<String>> =
                self.errors.iter().map(|(message, count)| vec![message.clone(), count.to_string()]).collect();
            out.push('\n');
            out.push_str(&table(&["error", "count"], "lr", &rows));
        }
        if self.outbound_calls > 0 {
            let _ = writeln!(
                out,
                "\noutbound: agents placed {} retry strategies' calls; {} were answered",
                self.outbound_calls, self.outbound_answered
            );
        }
        out
    }
}

/// Columns padded to their widest cell; `align` has `l` or `r` for each column.
fn table(header: &[&str], align: &str, rows: &[Vec<String>]) -> String {
    let align: Vec<char> = align.chars().collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let pad = widths[i] - cell.chars().count();
            if i > 0 {
                text.push_str("  ");
            }
            if align[i] == 'r' {
                text.push_str(&" ".repeat(pad));
                text.push_str(cell);
            } else {
                text.push_str(cell);
                text.push_str(&" ".repeat(pad));
            }
        }
        text.truncate(text.trim_end().len());
        text.push('\n');
        text
    };
    let mut out = line(header.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

fn percent(fraction: f64) -> String {
    format!("{:.1}%", fraction * 100.0)
}

/// `12.3s`, `4m05s`, `2h03m`.
fn seconds(s: f64) -> String {
    if s < 60.0 && s.fract() == 0.0 {
        format!("{s}s")
    } else if s < 60.0 {
        format!("{s:.1}s")
    } else if s < 3600.0 {
        let whole = s.round() as u64;
        format!("{}m{:02}s", whole / 60, whole % 60)
    } else {
        let minutes = (s / 60.0).round() as u64;
        format!("{}h{:02}m", minutes / 60, minutes % 60)
    }
}

fn hours(h: f64) -> String {
    if h.fract() == 0.0 {
        format!("{h}h")
    } else {
        seconds(h * 3600.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(seconds(4.25), "4.2s");
        assert_eq!(seconds(30.0), "30s");
        assert_eq!(seconds(245.0), "4m05s");
        assert_eq!(seconds(7380.0), "2h03m");
        assert_eq!(hours(10.0), "10h");
        assert_eq!(hours(0.5), "30m00s");
    }

    #[test]
    fn tables_line_up() {
        let rows = vec![vec!["hardware".to_string(), "7".to_string()], vec!["sw".to_string(), "1234".to_string()]];
        assert_eq!(table(&["queue", "n"], "lr", &rows), "queue        n\nhardware     7\nsw        1234\n");
    }
}
