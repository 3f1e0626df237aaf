//! The live wallboard: what managers watch as it happens, made once a second by one task
//! for every viewer (so a thousand screens cost what one does), and sent over SSE.
//!
//! - **Today** (since midnight in the daemon's zone): per queue and channel, the figures of
//!   [`crate::report::Report::compute`] over today's events, the very function `switchboard
//!   report` runs, so the wallboard and a report for the same period agree by construction
//!   (a test checks it). Survey results (CSAT, NPS, CES) come from it too, per flow.
//! - **Now**: from the engine's state, who waits in each queue and for how long, callbacks
//!   keeping a place, agents by state, and their occupancy.
//! - **The waypoint funnel** of each flow: contacts through each waypoint today (in the order
//!   the flow declares them), the drop-off from one to the next, and the median time between
//!   them.
//! - **The flow as a graph**: [`switchboard_compiler::graph`], the code `switchboard graph`
//!   draws with, coloured by today's contacts.
//! - **Negative survey answers**, flagged, with what the survey did next (its waypoints).
//!
//! Today's events are read incrementally (only those after the last journal record seen)
//! and folded into the report's contacts as they come ([`Folded`]): each board computes
//! the report from those contacts, not from the whole day's events again. A new day starts
//! from none.

use crate::core::CoreHandle;
use crate::report::{By, Folded, Options, Report, StoredEvent, Targets};
use crate::store::Reader;
use jiff::Timestamp;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use switchboard_acd::AgentState;
use switchboard_compiler::graph::{flows_of, Counts, FlowGraph};
use switchboard_engine::EventKind;
use tokio::sync::watch;

/// One moment of the wallboard.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// The whole board as JSON (what `/wallboard/data` and each SSE message carry).
    pub json: String,
    /// Each flow drawn as SVG with today's counts.
    pub graphs: BTreeMap<String, String>,
}

/// How often the board is made.
pub const EVERY: Duration = Duration::from_secs(1);

/// Makes the board every [`EVERY`] until the core stops, publishing it on `tx`.
pub async fn run(core: CoreHandle, reader: Reader, project: PathBuf, tx: watch::Sender<Arc<Snapshot>>) {
    let mut board = Board { reader: Some(reader), project, ..Board::default() };
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        match board.make(&core).await {
            Ok(snapshot) => {
                if tx.send(Arc::new(snapshot)).is_err() {
                    return;
                }
            }
            Err(e) if e == "stopped" => return,
            Err(e) => tracing::warn!("the wallboard could not be made: {e}"),
        }
    }
}

#[derive(Default)]
struct Board {
    reader: Option<Reader>,
    project: PathBuf,
    /// Today's events, and where reading left off.
    events: Vec<StoredEvent>,
    /// The same events folded into the report's contacts as they are read, so that each
    /// board reports on them without reading the whole day again.
    folded: Folded,
    last_seq: i64,
    day_start_ms: i64,
    /// The project's flows, drawn once per bundle (with the bundle's file names).
    graphs: Vec<FlowGraph>,
    files: Vec<String>,
    drawn_for: Option<String>,
}

impl Board {
    async fn make(&mut self, core: &CoreHandle) -> Result<Snapshot, String> {
        let now = Timestamp::now();
        let zone = jiff::tz::TimeZone::system();
        let day_start = now.to_zoned(zone.clone()).start_of_day().map_err(|e| e.to_string())?.timestamp();
        let day_start_ms = day_start.as_millisecond();
        if day_start_ms != self.day_start_ms {
            self.events.clear();
            self.folded = Folded::default();
            self.last_seq = 0;
            self.day_start_ms = day_start_ms;
        }
        // Today's new events, read off the async threads.
        let reader = self.reader.take().ok_or("no reader")?;
        let after = self.last_seq;
        let (reader, read) = tokio::task::spawn_blocking(move || {
            let read = reader.events_after_seq(after, day_start_ms);
            (reader, read)
        })
        .await
        .map_err(|e| e.to_string())?;
        self.reader = Some(reader);
        let new = read.map_err(|e| e.to_string())?;
        if let Some(last) = new.last() {
            self.last_seq = last.seq;
        }
        self.folded.add(&new);
        self.events.extend(new);

        let live = core
            .query_world(move |state, side, world| {
                let acd = state.acd();
                let now_ms = state.now().as_millisecond();
                let queues: Vec<Value> = acd
                    .waiting_now(now_ms)
                    .into_iter()
                    .map(|w| {
                        json!({"queue": w.queue, "channel": w.channel.as_str(), "waiting": w.waiting,
                               "longest_wait_seconds": w.longest_wait_ms as f64 / 1000.0, "callbacks": w.callbacks})
                    })
                    .collect();
                let mut agents: BTreeMap<&'static str, usize> = BTreeMap::new();
                let (mut occupied, mut staffed) = (0.0, 0usize);
                for (id, s) in acd.agent_states() {
                    let name = match s {
                        AgentState::Available => "available",
                        AgentState::Busy => "busy",
                        AgentState::WrapUp { .. } => "wrap_up",
                        AgentState::Away => "away",
                        AgentState::Offline => "offline",
                    };
                    *agents.entry(name).or_default() += 1;
                    if !matches!(s, AgentState::Offline) {
                        if let Some(o) = acd.occupancy(id, now_ms) {
                            occupied += o;
                            staffed += 1;
                        }
                    }
                }
                let mut targets = Targets::default();
                for hash in &side.deployed {
                    if let Some(d) = world.get(hash) {
                        targets.add(d.bundle());
                    }
                }
                let targets: Vec<(String, String, u8, i64)> =
                    targets.0.iter().map(|((q, c), t)| (q.clone(), c.clone(), t.percent, t.within_ms)).collect();
                json!({
                    "queues": queues,
                    "agents": agents,
                    "occupancy": (staffed > 0).then(|| occupied / staffed as f64),
                    "bundle": crate::core::hex(&state.current_bundle()),
                    "targets": targets,
                })
            })
            .await
            .map_err(|e| if e.status == 503 { "stopped".to_string() } else { e.message })?;
        let targets: Vec<(String, String, u8, i64)> =
            serde_json::from_value(live["targets"].clone()).unwrap_or_default();
        let targets = Targets(
            targets
                .into_iter()
                .map(|(q, c, percent, within_ms)| ((q, c), crate::report::Target { percent, within_ms }))
                .collect(),
        );

        let options = |by: By| Options {
            from_ms: Some(day_start_ms),
            to_ms: None,
            interval: None,
            zone: zone.clone(),
            by,
            segment: None,
            fcr_window_ms: 24 * 3_600_000,
            targets: targets.clone(),
            // Reviews count by agent only, which the board does not show.
            reviews: Vec::new(),
        };
        let by_queue = Report::of(&self.folded, &options(By::Queue));
        let by_flow = Report::of(&self.folded, &options(By::Flow));

        let bundle = live["bundle"].as_str().unwrap_or_default().to_string();
        if self.drawn_for.as_deref() != Some(bundle.as_str()) {
            self.draw(&bundle);
        }
        let counts = self.counts();
        let mut graphs = BTreeMap::new();
        let mut funnels = Vec::new();
        for graph in &self.graphs {
            let mut g = graph.clone();
            g.counts(&counts);
            graphs.insert(g.flow.clone(), g.to_svg());
            funnels.push(funnel(&g.flow, graph, &self.events, day_start_ms));
        }

        let board = json!({
            "at_ms": now.as_millisecond(),
            "today_from_ms": day_start_ms,
            "today_from": day_start.to_string(),
            "zone": zone.iana_name().unwrap_or("UTC"),
            "queues": merge_queues(&by_queue, &live["queues"]),
            "agents": live["agents"],
            "occupancy": live["occupancy"],
            "flows": by_flow.rows,
            "funnels": funnels,
            "negative": negative(&self.events),
            "graphs": graphs.keys().collect::<Vec<_>>(),
        });
        Ok(Snapshot { json: board.to_string(), graphs })
    }

    /// Draws the project's flows again (the bundle changed, or at the start).
    fn draw(&mut self, bundle: &str) {
        self.drawn_for = Some(bundle.to_string());
        match switchboard_shell::project::compile_one(&self.project, &switchboard_stdlib::modules()) {
            Ok((checked, Some(compiled), _)) => {
                self.graphs = flows_of(&checked);
                self.files = compiled.files.clone();
            }
            Ok((_, None, _)) => tracing::warn!("the wallboard draws no graph: the project on disk has errors"),
            Err(e) => tracing::warn!("the wallboard draws no graph: {e}"),
        }
    }

    /// Today's contacts through each statement, from their events' origins.
    fn counts(&self) -> Counts {
        let mut origins: Vec<(u64, u64, u32, (String, u32))> = Vec::new();
        for (i, e) in self.events.iter().enumerate() {
            if let Some(o) = &e.event.origin {
                if let Some(file) = self.files.get(o.file.0 as usize) {
                    origins.push((e.event.session.0, i as u64, 0, (file.clone(), o.span.start)));
                }
            }
        }
        origins.sort_by_key(|(s, i, _, _)| (*s, *i));
        Counts::of_sessions(origins.into_iter().map(|(s, _, _, o)| (s, o)))
    }
}

/// The report's figures for each queue and channel with today's waiting, longest wait and
/// callbacks beside them (a queue someone waits in that has no figures yet gets a row too).
fn merge_queues(report: &Report, live: &Value) -> Vec<Value> {
    let mut rows: BTreeMap<(String, String), Value> = BTreeMap::new();
    for row in &report.rows {
        let key = (row.queue.clone().unwrap_or_default(), row.channel.clone().unwrap_or_default());
        let mut v = serde_json::to_value(row).unwrap_or_default();
        v["waiting_now"] = json!(0);
        v["longest_wait_seconds"] = json!(0.0);
        v["callbacks_pending"] = json!(0);
        rows.insert(key, v);
    }
    for q in live.as_array().into_iter().flatten() {
        let key = (q["queue"].as_str().unwrap_or("").to_string(), q["channel"].as_str().unwrap_or("").to_string());
        let row = rows.entry(key.clone()).or_insert_with(|| json!({"queue": key.0, "channel": key.1}));
        row["waiting_now"] = q["waiting"].clone();
        row["longest_wait_seconds"] = q["longest_wait_seconds"].clone();
        row["callbacks_pending"] = q["callbacks"].clone();
    }
    rows.into_values().collect()
}

/// A flow's waypoints in the order it declares them, with today's contacts through each,
/// the drop-off from the one before, and the median seconds from the one before (over the
/// contacts that passed both).
fn funnel(flow: &str, graph: &FlowGraph, events: &[StoredEvent], from_ms: i64) -> Value {
    let mut order: Vec<String> = Vec::new();
    for n in &graph.nodes {
        if n.kind == switchboard_compiler::graph::NodeKind::Waypoint && !order.contains(&n.label) {
            order.push(n.label.clone());
        }
    }
    // Each of the flow's contacts today: when it first passed each waypoint.
    let mut of_flow: BTreeSet<u64> = BTreeSet::new();
    let mut passed: BTreeMap<u64, BTreeMap<String, i64>> = BTreeMap::new();
    for e in events {
        let session = e.event.session.0;
        match &e.event.kind {
            EventKind::Contact { flow: f, .. } if f.as_str() == flow && e.event.at.as_millisecond() >= from_ms => {
                of_flow.insert(session);
            }
            EventKind::Waypoint { name } if of_flow.contains(&session) => {
                passed.entry(session).or_default().entry(name.to_string()).or_insert(e.event.at.as_millisecond());
            }
            _ => {}
        }
    }
    let mut steps = Vec::new();
    let mut before: Option<(String, u64)> = None;
    for name in &order {
        let through = passed.values().filter(|p| p.contains_key(name)).count() as u64;
        let (dropped, median) = match &before {
            Some((prev, prev_n)) => {
                let mut gaps: Vec<i64> =
                    passed.values().filter_map(|p| Some(*p.get(name)? - *p.get(prev)?)).filter(|g| *g >= 0).collect();
                gaps.sort_unstable();
                let median = (!gaps.is_empty()).then(|| gaps[gaps.len() / 2] as f64 / 1000.0);
                (Some(prev_n.saturating_sub(through)), median)
            }
            None => (None, None),
        };
        steps.push(
            json!({"waypoint": name, "contacts": through, "dropped": dropped, "median_seconds_from_previous": median}),
        );
        before = Some((name.clone(), through));
    }
    json!({"flow": flow, "contacts": of_flow.len(), "waypoints": steps})
}

/// Survey answers that are bad news (a CSAT score of 1 or 2, an NPS of 0 to 6, a CES of 1
/// to 3, a `no` to a yes/no question), newest first, with the waypoints their survey then
/// passed (its follow-up).
fn negative(events: &[StoredEvent]) -> Vec<Value> {
    let mut surveys: BTreeMap<u64, (u64, String)> = BTreeMap::new();
    let mut follow: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    let mut found = Vec::new();
    for e in events {
        let session = e.event.session.0;
        match &e.event.kind {
            EventKind::Survey { survey, contact } => {
                surveys.insert(session, (contact.0, survey.to_string()));
            }
            EventKind::Waypoint { name } if surveys.contains_key(&session) => {
                follow.entry(session).or_default().push(name.to_string());
            }
            EventKind::Answer { name, value } => {
                let Some((contact, survey)) = surveys.get(&session) else { continue };
                let n: Option<f64> = value.parse().ok();
                let bad = match (survey.as_str(), name.as_str()) {
                    ("csat", "score") => n.is_some_and(|n| n <= 2.0),
                    ("nps", "score") => n.is_some_and(|n| n <= 6.0),
                    ("ces", "effort") => n.is_some_and(|n| n <= 3.0),
                    _ => value.as_str() == "no",
                };
                if bad {
                    found.push((session, *contact, survey.clone(), name.to_string(), value.to_string(), e.event.at));
                }
            }
            _ => {}
        }
    }
    found
        .into_iter()
        .rev()
        .take(50)
        .map(|(session, contact, survey, question, answer, at)| {
            json!({"contact": contact, "survey": survey, "question": question, "answer": answer,
                   "at_ms": at.as_millisecond(), "follow_up": follow.get(&session).cloned().unwrap_or_default()})
        })
        .collect()
}
