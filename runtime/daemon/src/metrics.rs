//! `/metrics` in the Prometheus text format: what the core counts as it goes (atomics and
//! latency histograms, written by the core thread and read by any handler), and what the
//! engine's state says when asked (contacts, queues, agents, timers).

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;
use switchboard_acd::AgentState;
use switchboard_bytecode::types::Channel;
use switchboard_engine::State;

/// Counters kept by the core thread.
#[derive(Debug, Default)]
pub struct Metrics {
    pub records: AtomicU64,
    pub batches: AtomicU64,
    pub snapshots: AtomicU64,
    pub refused: AtomicU64,
    pub replayed: AtomicU64,
    /// One transaction of the journal, from its first write to its fsync.
    pub commit: Histogram,
    /// One input applied to the engine, and what it gave routed.
    pub step: Histogram,
}

/// Upper bounds of the latency buckets, in microseconds (100 µs to 2.5 s).
const BOUNDS_US: [u64; 14] =
    [100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000];

/// A latency histogram with fixed buckets.
#[derive(Debug, Default)]
pub struct Histogram {
    counts: [AtomicU64; BOUNDS_US.len()],
    /// Over the last bound.
    over: AtomicU64,
    sum_us: AtomicU64,
}

impl Histogram {
    pub fn observe(&self, took: Duration) {
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        match BOUNDS_US.iter().position(|&bound| us <= bound) {
            Some(i) => self.counts[i].fetch_add(1, Relaxed),
            None => self.over.fetch_add(1, Relaxed),
        };
        self.sum_us.fetch_add(us, Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (bound, count) in BOUNDS_US.iter().zip(&self.counts) {
            cumulative += count.load(Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{}\"}} {cumulative}", *bound as f64 / 1e6);
        }
        cumulative += self.over.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {cumulative}");
        let _ = writeln!(out, "{name}_sum {}", self.sum_us.load(Relaxed) as f64 / 1e6);
        let _ = writeln!(out, "{name}_count {cumulative}");
    }
}

/// What the core's state says, read on the core thread when `/metrics` is asked.
#[derive(Debug, Default)]
pub struct Gauges {
    pub contacts_by_channel: [usize; 5],
    pub stray_inputs: u64,
    pub timers_pending: usize,
    pub outbox: usize,
    pub offers: usize,
    pub assigned: usize,
    pub queues: Vec<QueueGauges>,
    /// Agents logged in, by state name.
    pub agents: Vec<(&'static str, usize)>,
}

#[derive(Debug)]
pub struct QueueGauges {
    pub queue: String,
    pub channel: Channel,
    pub waiting: usize,
    pub offered: u64,
    pub answered: u64,
    pub answered_within_target: u64,
    pub abandoned: u64,
}

const CHANNELS: [Channel; 5] = [Channel::Voice, Channel::Chat, Channel::Sms, Channel::Email, Channel::Social];

impl Gauges {
    pub fn of(state: &State) -> Gauges {
        let acd = state.acd();
        let mut queues = Vec::new();
        for queue in acd.queue_names() {
            for channel in CHANNELS {
                let waiting = acd.queue_length(queue, Some(channel)).unwrap_or(0);
                let Some(stats) = acd.stats(queue, channel) else { continue };
                if waiting == 0 && stats.offered == 0 {
                    continue;
                }
                queues.push(QueueGauges {
                    queue: queue.to_string(),
                    channel,
                    waiting,
                    offered: stats.offered,
                    answered: stats.answered,
                    answered_within_target: stats.answered_within_target,
                    abandoned: stats.abandoned,
                });
            }
        }
        let mut agents: Vec<(&'static str, usize)> =
            ["available", "busy", "wrap_up", "away", "offline"].iter().map(|s| (*s, 0)).collect();
        for (_, agent) in acd.agent_states() {
            let name = match agent {
                AgentState::Available => "available",
                AgentState::Busy => "busy",
                AgentState::WrapUp { .. } => "wrap_up",
                AgentState::Away => "away",
                AgentState::Offline => "offline",
            };
            if let Some(slot) = agents.iter_mut().find(|(n, _)| *n == name) {
                slot.1 += 1;
            }
        }
        Gauges {
            contacts_by_channel: state.contacts_by_channel(),
            stray_inputs: state.stray_inputs(),
            timers_pending: state.timers_pending(),
            queues,
            agents,
            ..Gauges::default()
        }
    }
}

fn escape(label: &str) -> String {
    label.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// A metric of every queue and channel: its name, type, help, and value.
type Family = (&'static str, &'static str, &'static str, fn(&QueueGauges) -> f64);

/// The whole `/metrics` page.
pub fn render(m: &Metrics, g: &Gauges) -> String {
    let mut out = String::new();
    let mut one = |name: &str, kind: &str, help: &str, value: u64| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
    };
    one("switchboard_journal_records_total", "counter", "Inputs journaled.", m.records.load(Relaxed));
    one(
        "switchboard_journal_batches_total",
        "counter",
        "Journal transactions (group commits).",
        m.batches.load(Relaxed),
    );
    one("switchboard_snapshots_total", "counter", "Snapshots taken.", m.snapshots.load(Relaxed));
    one("switchboard_requests_refused_total", "counter", "Requests refused, never journaled.", m.refused.load(Relaxed));
    one("switchboard_replayed_records", "gauge", "Journal records replayed at start.", m.replayed.load(Relaxed));
    let total: usize = g.contacts_by_channel.iter().sum();
    one("switchboard_contacts", "gauge", "Contacts the engine holds.", total as u64);
    one("switchboard_stray_inputs_total", "counter", "Inputs nothing waited for, dropped.", g.stray_inputs);
    one("switchboard_timers_pending", "gauge", "Timers pending in the engine.", g.timers_pending as u64);
    one("switchboard_outbox", "gauge", "Commands given and not yet completed.", g.outbox as u64);
    one("switchboard_offers_ringing", "gauge", "Offers ringing at agents.", g.offers as u64);
    one("switchboard_contacts_with_agents", "gauge", "Contacts connected to an agent.", g.assigned as u64);

    let _ = writeln!(
        out,
        "# HELP switchboard_contacts_by_channel Contacts the engine holds, by channel.\n\
         # TYPE switchboard_contacts_by_channel gauge"
    );
    for channel in CHANNELS {
        let n = g.contacts_by_channel[channel as usize];
        let _ = writeln!(out, "switchboard_contacts_by_channel{{channel=\"{}\"}} {n}", channel.as_str());
    }
    let per_queue: [Family; 5] = [
        ("switchboard_queue_waiting", "gauge", "Contacts waiting in a queue.", |q| q.waiting as f64),
        ("switchboard_queue_offered_total", "counter", "Contacts that entered a queue.", |q| q.offered as f64),
        ("switchboard_queue_answered_total", "counter", "Contacts an agent accepted.", |q| q.answered as f64),
        (
            "switchboard_queue_answered_within_target_total",
            "counter",
            "Contacts accepted within the queue's target for the channel.",
            |q| q.answered_within_target as f64,
        ),
        ("switchboard_queue_abandoned_total", "counter", "Contacts that left before an agent took them.", |q| {
            q.abandoned as f64
        }),
    ];
    for (name, kind, help, value) in per_queue {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for q in &g.queues {
            let _ = writeln!(
                out,
                "{name}{{queue=\"{}\",channel=\"{}\"}} {}",
                escape(&q.queue),
                q.channel.as_str(),
                value(q)
            );
        }
    }
    let _ = writeln!(
        out,
        "# HELP switchboard_queue_service_level Share of answered contacts answered within the target \
         (abandoned ones not counted; absent before any answer).\n# TYPE switchboard_queue_service_level gauge"
    );
    for q in g.queues.iter().filter(|q| q.answered > 0) {
        let _ = writeln!(
            out,
            "switchboard_queue_service_level{{queue=\"{}\",channel=\"{}\"}} {}",
            escape(&q.queue),
            q.channel.as_str(),
            q.answered_within_target as f64 / q.answered as f64
        );
    }
    let _ = writeln!(out, "# HELP switchboard_agents Agents logged in, by state.\n# TYPE switchboard_agents gauge");
    for (state, n) in &g.agents {
        let _ = writeln!(out, "switchboard_agents{{state=\"{state}\"}} {n}");
    }
    m.commit.render(&mut out, "switchboard_journal_commit_seconds", "One journal transaction, written and fsynced.");
    m.step.render(&mut out, "switchboard_engine_step_seconds", "One input applied to the engine.");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_counts_each_observation_in_its_bucket_and_the_ones_above() {
        let h = Histogram::default();
        h.observe(Duration::from_micros(90));
        h.observe(Duration::from_micros(3_000));
        h.observe(Duration::from_secs(9));
        let mut out = String::new();
        h.render(&mut out, "x", "help");
        assert!(out.contains("x_bucket{le=\"0.0001\"} 1\n"), "{out}");
        assert!(out.contains("x_bucket{le=\"0.0025\"} 1\n"), "{out}");
        assert!(out.contains("x_bucket{le=\"0.005\"} 2\n"), "{out}");
        assert!(out.contains("x_bucket{le=\"2.5\"} 2\n"), "{out}");
        assert!(out.contains("x_bucket{le=\"+Inf\"} 3\n"), "{out}");
        assert!(out.contains("x_count 3\n"), "{out}");
        assert!(out.contains("x_sum 9.00309\n"), "{out}");
    }
}
