//! Historical reports: what contacts did, counted from the events the store keeps.
//!
//! [`Report::compute`] is a pure function of the events (in the order they happened) and
//! the [`Options`]: it reads no clock, no file and no store. `switchboard report` reads the
//! events with [`crate::store::Reader::events_since`] and the queues' targets from the
//! store's bundles ([`Targets::of`]); a live screen computing "today" passes the events since
//! midnight with `from_ms` at midnight and gets the very same figures.
//!
//! # The model
//!
//! - A **contact** is a `contact` event's session: one customer on one channel. It counts in
//!   the period (and the interval) it *arrived* in, with everything that happened to it
//!   later, even after the period's end. Its surveys are found by their `survey` event, which
//!   names the contact.
//! - A **leg** is one stay of a contact in routing: from entering a queue (a flow's `queue`,
//!   a callback that keeps the caller's place, an agent's transfer) until an agent takes it,
//!   the customer leaves, or the data ends (still waiting). An overflow moves the leg to
//!   another queue: it counts as offered in both, keeps the time it has waited, and its
//!   outcome counts in the queue it ends in (as routing counts them, `acd::ChannelStats`).
//!   A callback taken without `keep place` is outbound work, not a leg.
//! - A leg's **wait** runs from its first enqueue to the agent's accept (answered) or the
//!   hang-up (abandoned); its **talk** from the accept to the agent's `finish`, their
//!   transfer, or the customer's hang-up; its **wrap-up** from the agent's `finish` to the
//!   outcome they set after it (0 when they set none: routing itself gives no wrap-up time).
//!   **Hold** is 0: the engine has no way to put a contact on hold.
//!
//! The definition of every figure is on [`Figures`]'s fields, and in the README.

mod query;
mod render;

pub use query::{parse_time, Query};

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use switchboard_bytecode::bytecode::Bundle;
use switchboard_engine::{EventKind, RoutingEvent};

pub use crate::store::StoredEvent;

/// A queue's service-level target on one channel: `percent`% answered within `within_ms`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Target {
    pub percent: u8,
    pub within_ms: i64,
}

/// Every queue's targets, by queue and channel.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Targets(pub BTreeMap<(String, String), Target>);

impl Targets {
    /// The targets a bundle declares (`target voice 80% in 20s`).
    pub fn of(bundle: &Bundle) -> Targets {
        let mut targets = Targets::default();
        targets.add(bundle);
        targets
    }

    /// Adds a bundle's targets; where both name a queue and channel, the bundle added last wins.
    pub fn add(&mut self, bundle: &Bundle) {
        for q in &bundle.queues {
            for (channel, fraction, within_ms) in &q.targets {
                let target = Target { percent: (fraction * 100.0).round() as u8, within_ms: *within_ms };
                self.0.insert((q.name.clone(), channel.as_str().to_string()), target);
            }
        }
    }

    pub fn get(&self, queue: &str, channel: &str) -> Option<Target> {
        self.0.get(&(queue.to_string(), channel.to_string())).copied()
    }
}

/// The rows a report has: one per queue and channel, channel, flow, waypoint or agent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum By {
    #[default]
    Queue,
    Channel,
    Flow,
    Waypoint,
    Agent,
}

/// How a period is cut into rows of time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Interval {
    #[serde(rename = "15m")]
    QuarterHour,
    #[serde(rename = "1h")]
    Hour,
    #[serde(rename = "1d")]
    Day,
}

impl Interval {
    pub fn parse(text: &str) -> Option<Interval> {
        Some(match text {
            "15m" => Interval::QuarterHour,
            "1h" => Interval::Hour,
            "1d" => Interval::Day,
            _ => return None,
        })
    }

    /// The start of the interval `at_ms` falls in, as local time in `zone` cuts it.
    pub fn start(self, at_ms: i64, zone: &jiff::tz::TimeZone) -> i64 {
        let Ok(at) = jiff::Timestamp::from_millisecond(at_ms) else { return at_ms };
        let zoned = at.to_zoned(zone.clone());
        let start = match self {
            Interval::Day => zoned.start_of_day().ok(),
            Interval::Hour | Interval::QuarterHour => {
                let step = if self == Interval::Hour { 60 } else { 15 };
                let minute = zoned.minute() - zoned.minute() % step;
                let local = zoned.datetime().with().minute(minute).second(0).subsec_nanosecond(0).build();
                local.ok().and_then(|local| zone.to_ambiguous_zoned(local).compatible().ok())
            }
        };
        start.map_or(at_ms, |z| z.timestamp().as_millisecond())
    }
}

/// What a report counts, and how it cuts it.
#[derive(Clone, Debug)]
pub struct Options {
    /// Contacts that arrived at or after this instant (ms since the epoch); none: from the first.
    pub from_ms: Option<i64>,
    /// Contacts that arrived before this instant; none: to the last.
    pub to_ms: Option<i64>,
    /// Rows per interval of arrival; none: one row per group for the whole period.
    pub interval: Option<Interval>,
    /// The zone intervals are cut in and times are shown in.
    pub zone: jiff::tz::TimeZone,
    pub by: By,
    /// Splits every row by this field of the customer's record (`tier`).
    pub segment: Option<String>,
    /// A contact is resolved first time when the same customer makes no other contact
    /// within this long after it arrived.
    pub fcr_window_ms: i64,
    pub targets: Targets,
    /// Reviewers' scores (out of 100) of contacts: `(contact, its agent, score)`, as the
    /// store's `reviews` table keeps them. They count by agent, for the agent who answered
    /// the contact last (the review's agent when the events name none).
    pub reviews: Vec<(u64, Option<String>, f64)>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            from_ms: None,
            to_ms: None,
            interval: None,
            zone: jiff::tz::TimeZone::UTC,
            by: By::Queue,
            segment: None,
            fcr_window_ms: 24 * 3_600_000,
            targets: Targets::default(),
            reviews: Vec::new(),
        }
    }
}

/// A report: its period, how it is cut, and its rows (ordered by interval, then group,
/// then segment).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// `2026-11-23 08:00 Europe/London`; none when the period is open on that side.
    pub from: Option<String>,
    pub to: Option<String>,
    pub by: By,
    pub interval: Option<Interval>,
    pub segment: Option<String>,
    pub fcr_window_seconds: f64,
    pub rows: Vec<Row>,
}

/// One row: its interval, what it is for, and its figures.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    /// The start of the interval, `2026-11-23 08:00` in the report's zone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waypoint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// The value of the segment field in the customer's record; `-` when no record had it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    #[serde(flatten)]
    pub figures: Figures,
}

/// The figures of one row. Times are in seconds; shares are from 0 to 1; a figure with
/// nothing to count is none (`-` in a table, `null` in JSON).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Figures {
    /// Contacts in the row: for a queue, those offered to it; for an agent, those they
    /// answered; otherwise those that arrived (through the waypoint, on the channel, in the flow).
    pub contacts: u64,
    /// Legs that entered routing. By queue, a leg that overflowed in counts again (as
    /// routing counts it); by agent, the offers that rang at the agent.
    pub offered: u64,
    /// Legs an agent took (accepted the offer). By agent, the ones they took.
    pub answered: u64,
    /// Legs whose customer left (hung up) before an agent took them, waiting or ringing. A
    /// caller who took a callback has not abandoned. None by agent.
    pub abandoned: Option<u64>,
    /// Mean and 90th percentile (nearest rank) of the wait of abandoned legs.
    pub abandon_mean_seconds: Option<f64>,
    pub abandon_p90_seconds: Option<f64>,
    /// Legs still waiting (or ringing) when the data ends.
    pub waiting: u64,
    /// By queue: legs that left this queue by overflow (their outcome counts in the next).
    pub overflowed: u64,
    /// By queue: its target on the channel.
    pub target: Option<Target>,
    /// "SL (abandons excluded)": answered within the target over answered. What `/metrics`
    /// shows as `switchboard_queue_service_level`.
    pub sl_abandons_excluded: Option<f64>,
    /// "SL (abandons as met, as Amazon Connect counts)": legs that left the queue within the
    /// target, answered or abandoned, over legs answered or abandoned. A customer who gives
    /// up within the target counts as met, which flatters the figure.
    pub sl_abandons_met: Option<f64>,
    /// "SL (abandons after target against)": answered within the target over answered plus
    /// abandoned after the target; abandons within the target count neither way. What
    /// routing computes (`acd::ChannelStats::service_level`) and `simulate` reports.
    pub sl_abandons_against: Option<f64>,
    /// Average speed of answer: mean wait of answered legs.
    pub asa_seconds: Option<f64>,
    /// Average handle time of legs whose talk ended: talk + hold + wrap-up.
    pub aht_seconds: Option<f64>,
    pub talk_seconds: Option<f64>,
    /// Always 0 when anything was handled: the engine has no hold.
    pub hold_seconds: Option<f64>,
    pub wrap_up_seconds: Option<f64>,
    /// Legs an agent handed on to another queue.
    pub transfers: u64,
    /// First-contact resolution: of the contacts an agent answered, the share after which
    /// the same customer (same `from`, or the same record `id` a look-up found) made no other
    /// contact, on any channel, within the window after it arrived.
    pub fcr: Option<f64>,
    pub fcr_contacts: u64,
    /// Of the `csat` survey's `score` answers (1 to 5), the share that are 4 or 5.
    pub csat: Option<f64>,
    pub csat_responses: u64,
    /// Of the `nps` survey's `score` answers (0 to 10): promoters (9, 10) less detractors
    /// (0 to 6), as a share of all answers, times 100 (from -100 to 100).
    pub nps: Option<f64>,
    pub nps_responses: u64,
    /// Mean of the `ces` survey's `effort` answers (1, very difficult, to 7, very easy).
    pub ces: Option<f64>,
    pub ces_responses: u64,
    /// By agent: the mean of reviewers' weighted scores (0 to 100) of the contacts counted
    /// for the agent; none when none was reviewed (and in other groupings).
    pub qa_score: Option<f64>,
    /// By agent: how many reviews those scores are.
    pub qa_reviews: u64,
}

/// What the events say about one contact.
#[derive(Debug, Default)]
struct Contact {
    arrived_ms: i64,
    channel: String,
    from: String,
    flow: String,
    /// Waypoints passed, its surveys' included, each once, in order.
    waypoints: Vec<String>,
    /// Fields of the records its look-ups found (the first value of each field).
    record: BTreeMap<String, String>,
    legs: Vec<Leg>,
    /// (survey, question, answer).
    answers: Vec<(String, String, String)>,
}

#[derive(Debug, Default)]
struct Leg {
    /// The queue it entered, then each it overflowed to; it ends in the last.
    queues: Vec<String>,
    channel: String,
    enqueued_ms: i64,
    /// The caller took a callback that keeps their place: they are not waiting in person.
    callback: bool,
    /// Agents it was offered to, once per offer.
    offers: Vec<String>,
    answered: Option<(String, i64)>,
    abandoned_ms: Option<i64>,
    /// When the talk ended, and whether by a transfer.
    ended_ms: Option<i64>,
    transferred: bool,
    /// When the agent pressed finish, until an outcome gives the wrap-up time.
    finished_ms: Option<i64>,
    wrap_ms: i64,
}

impl Leg {
    fn open(&self) -> bool {
        self.abandoned_ms.is_none() && self.ended_ms.is_none()
    }
}

/// Events read into contacts, in the order they happened, so far: more events can be
/// folded in later ([`Folded::add`]), which is what lets the wallboard keep today's
/// contacts without reading the whole day again every second. Folding a list in one go or
/// in pieces gives the same contacts.
#[derive(Debug, Default)]
pub struct Folded {
    contacts: BTreeMap<u64, Contact>,
    /// Survey sessions, by the contact they are for.
    surveys: BTreeMap<u64, (u64, String)>,
}

impl Folded {
    /// The contacts of `events`.
    pub fn of(events: &[StoredEvent]) -> Folded {
        let mut folded = Folded::default();
        folded.add(events);
        folded
    }

    /// How many contacts it holds.
    pub fn len(&self) -> usize {
        self.contacts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.contacts.is_empty()
    }

    /// Folds in `events`, which happened after every event folded so far.
    pub fn add(&mut self, events: &[StoredEvent]) {
        add_events(&mut self.contacts, &mut self.surveys, events);
    }
}

/// Reads the events into contacts, in the order they happened.
fn add_events(
    contacts: &mut BTreeMap<u64, Contact>,
    surveys: &mut BTreeMap<u64, (u64, String)>,
    events: &[StoredEvent],
) {
    for stored in events {
        let e = &stored.event;
        let session = e.session.0;
        let at = e.at.as_millisecond();
        if let EventKind::Contact { channel, from, flow, .. } = &e.kind {
            let contact = Contact {
                arrived_ms: at,
                channel: channel.to_string(),
                from: from.to_string(),
                flow: flow.to_string(),
                ..Contact::default()
            };
            contacts.insert(session, contact);
            continue;
        }
        if let EventKind::Survey { survey, contact } = &e.kind {
            surveys.insert(session, (contact.0, survey.to_string()));
            continue;
        }
        let (id, survey) = match surveys.get(&session) {
            Some((contact, survey)) => (*contact, Some(survey.as_str())),
            None => (session, None),
        };
        let Some(c) = contacts.get_mut(&id) else { continue };
        let leg = c.legs.last_mut().filter(|l| l.open());
        match &e.kind {
            EventKind::Waypoint { name } if !c.waypoints.iter().any(|w| w == name) => {
                c.waypoints.push(name.to_string());
            }
            EventKind::Lookup { record: Some(record), .. } => {
                for (field, value) in record {
                    c.record.entry(field.clone()).or_insert_with(|| value.clone());
                }
            }
            EventKind::Answer { name, value } => {
                if let Some(survey) = survey {
                    c.answers.push((survey.to_string(), name.to_string(), value.to_string()));
                }
            }
            EventKind::Queue { queue, .. } => {
                let channel = c.channel.clone();
                c.legs.push(Leg { queues: vec![queue.to_string()], channel, enqueued_ms: at, ..Leg::default() });
            }
            // The `queue` just seen placed a callback as outbound work, or routing refused it.
            EventKind::Routing(RoutingEvent::CallbackWaiting { .. })
                if leg.as_ref().is_some_and(|l| l.answered.is_none()) =>
            {
                c.legs.pop();
            }
            EventKind::Error { message }
                if message.starts_with("routing refused")
                    && leg.as_ref().is_some_and(|l| l.answered.is_none() && l.offers.is_empty()) =>
            {
                c.legs.pop();
            }
            EventKind::Routing(RoutingEvent::CallbackKept { .. }) => {
                if let Some(leg) = leg {
                    leg.callback = true;
                }
            }
            EventKind::Routing(RoutingEvent::Overflowed { to, .. }) => {
                if let Some(leg) = leg {
                    leg.queues.push(to.to_string());
                }
            }
            EventKind::Offer { agent, .. } => {
                if let Some(leg) = leg.filter(|l| l.answered.is_none()) {
                    leg.offers.push(agent.to_string());
                }
            }
            EventKind::Answered { agent } => {
                if let Some(leg) = leg.filter(|l| l.answered.is_none()) {
                    leg.answered = Some((agent.to_string(), at));
                }
            }
            EventKind::Routing(RoutingEvent::Finished { .. }) => {
                if let Some(leg) = leg.filter(|l| l.answered.is_some()) {
                    leg.ended_ms = Some(at);
                    leg.finished_ms = Some(at);
                }
            }
            EventKind::Outcome { .. } => {
                if let Some(leg) = c.legs.last_mut() {
                    if let Some(finished) = leg.finished_ms.take() {
                        leg.wrap_ms = at - finished;
                    }
                }
            }
            EventKind::Transfer { to } => {
                // An agent's transfer: the contact was with them. (A flow's `transfer to` is not
                // routing's.)
                if let Some(leg) = leg.filter(|l| l.answered.is_some()) {
                    leg.ended_ms = Some(at);
                    leg.transferred = true;
                    let channel = c.channel.clone();
                    c.legs.push(Leg { queues: vec![to.to_string()], channel, enqueued_ms: at, ..Leg::default() });
                }
            }
            EventKind::HangUp if survey.is_none() => {
                if let Some(leg) = leg {
                    if leg.answered.is_some() {
                        leg.ended_ms = Some(at);
                    } else if !leg.callback {
                        leg.abandoned_ms = Some(at);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Sums for one row, turned into [`Figures`] at the end.
#[derive(Debug, Default)]
struct Acc {
    contacts: BTreeSet<u64>,
    offered: u64,
    answered: u64,
    abandoned: u64,
    abandon_waits: Vec<i64>,
    waiting: u64,
    overflowed: u64,
    target: Option<Target>,
    /// Legs that ended in a queue with a target for their channel: answered and abandoned,
    /// and how many of those were within it.
    sl_answered: u64,
    sl_answered_within: u64,
    sl_abandoned: u64,
    sl_abandoned_within: u64,
    answer_wait_ms: i64,
    handled: u64,
    talk_ms: i64,
    wrap_ms: i64,
    transfers: u64,
    fcr_contacts: u64,
    fcr_resolved: u64,
    csat: (u64, u64),
    nps: (u64, u64, u64),
    ces: (u64, f64),
    /// Reviews: (how many, sum of scores).
    qa: (u64, f64),
}

impl Acc {
    /// A leg's outcome, counted in the queue it ended in.
    fn outcome(&mut self, leg: &Leg, targets: &Targets) {
        let queue = leg.queues.last().map_or("", String::as_str);
        let target = targets.get(queue, &leg.channel);
        if let Some((_, at)) = &leg.answered {
            let waited = at - leg.enqueued_ms;
            self.answered += 1;
            self.answer_wait_ms += waited;
            if let Some(t) = target {
                self.sl_answered += 1;
                if waited <= t.within_ms {
                    self.sl_answered_within += 1;
                }
            }
            if let Some(ended) = leg.ended_ms {
                self.handled += 1;
                self.talk_ms += ended - at;
                self.wrap_ms += leg.wrap_ms;
            }
            if leg.transferred {
                self.transfers += 1;
            }
        } else if let Some(left) = leg.abandoned_ms {
            let waited = left - leg.enqueued_ms;
            self.abandoned += 1;
            self.abandon_waits.push(waited);
            if let Some(t) = target {
                self.sl_abandoned += 1;
                if waited <= t.within_ms {
                    self.sl_abandoned_within += 1;
                }
            }
        } else {
            self.waiting += 1;
        }
    }

    /// What is counted once per contact: FCR and survey answers.
    fn contact(&mut self, id: u64, c: &Contact, resolved: Option<bool>) {
        if !self.contacts.insert(id) {
            return;
        }
        if let Some(resolved) = resolved {
            self.fcr_contacts += 1;
            if resolved {
                self.fcr_resolved += 1;
            }
        }
        for (survey, question, answer) in &c.answers {
            let Ok(value) = answer.trim().parse::<f64>() else { continue };
            match (survey.as_str(), question.as_str()) {
                ("csat", "score") => {
                    self.csat.0 += 1;
                    if value >= 4.0 {
                        self.csat.1 += 1;
                    }
                }
                ("nps", "score") => {
                    self.nps.0 += 1;
                    if value >= 9.0 {
                        self.nps.1 += 1;
                    } else if value <= 6.0 {
                        self.nps.2 += 1;
                    }
                }
                ("ces", "effort") => {
                    self.ces.0 += 1;
                    self.ces.1 += value;
                }
                _ => {}
            }
        }
    }

    fn figures(mut self, by_agent: bool) -> Figures {
        let share = |part: u64, whole: u64| (whole > 0).then(|| part as f64 / whole as f64);
        let mean_s = |total_ms: i64, n: u64| (n > 0).then(|| total_ms as f64 / n as f64 / 1000.0);
        self.abandon_waits.sort_unstable();
        let n = self.abandon_waits.len();
        let p90 = (n > 0).then(|| {
            let rank = ((n as f64) * 0.9).ceil() as usize;
            self.abandon_waits[rank.clamp(1, n) - 1] as f64 / 1000.0
        });
        let sl_abandoned_after = self.sl_abandoned - self.sl_abandoned_within;
        Figures {
            contacts: self.contacts.len() as u64,
            offered: self.offered,
            answered: self.answered,
            abandoned: (!by_agent).then_some(self.abandoned),
            abandon_mean_seconds: mean_s(self.abandon_waits.iter().sum(), n as u64),
            abandon_p90_seconds: p90,
            waiting: self.waiting,
            overflowed: self.overflowed,
            target: self.target,
            sl_abandons_excluded: share(self.sl_answered_within, self.sl_answered),
            sl_abandons_met: share(
                self.sl_answered_within + self.sl_abandoned_within,
                self.sl_answered + self.sl_abandoned,
            ),
            sl_abandons_against: share(self.sl_answered_within, self.sl_answered + sl_abandoned_after),
            asa_seconds: mean_s(self.answer_wait_ms, self.answered),
            aht_seconds: mean_s(self.talk_ms + self.wrap_ms, self.handled),
            talk_seconds: mean_s(self.talk_ms, self.handled),
            hold_seconds: (self.handled > 0).then_some(0.0),
            wrap_up_seconds: mean_s(self.wrap_ms, self.handled),
            transfers: self.transfers,
            fcr: share(self.fcr_resolved, self.fcr_contacts),
            fcr_contacts: self.fcr_contacts,
            csat: share(self.csat.1, self.csat.0),
            csat_responses: self.csat.0,
            nps: (self.nps.0 > 0).then(|| (self.nps.1 as f64 - self.nps.2 as f64) / self.nps.0 as f64 * 100.0),
            nps_responses: self.nps.0,
            ces: (self.ces.0 > 0).then(|| self.ces.1 / self.ces.0 as f64),
            ces_responses: self.ces.0,
            qa_score: (self.qa.0 > 0).then(|| (self.qa.1 / self.qa.0 as f64 * 10.0).round() / 10.0),
            qa_reviews: self.qa.0,
        }
    }
}

/// A row's place: interval start, the group's words (queue and channel, …), the segment.
type Key = (Option<i64>, Vec<String>, Option<String>);

/// Whether each answered contact was resolved first time: no other contact of the same
/// customer (same `from`, or same record `id`) arrived within the window after it.
fn first_contact_resolution(contacts: &BTreeMap<u64, Contact>, window_ms: i64) -> BTreeMap<u64, bool> {
    let keys = |c: &Contact| {
        let mut keys = Vec::new();
        if !c.from.is_empty() {
            keys.push(format!("from {}", c.from));
        }
        if let Some(id) = c.record.get("id").filter(|id| !id.is_empty()) {
            keys.push(format!("id {id}"));
        }
        keys
    };
    let mut arrivals: BTreeMap<String, Vec<(i64, u64)>> = BTreeMap::new();
    for (id, c) in contacts {
        for key in keys(c) {
            arrivals.entry(key).or_default().push((c.arrived_ms, *id));
        }
    }
    for list in arrivals.values_mut() {
        list.sort_unstable();
    }
    let mut resolved = BTreeMap::new();
    for (id, c) in contacts {
        if !c.legs.iter().any(|l| l.answered.is_some()) {
            continue;
        }
        let end = c.arrived_ms.saturating_add(window_ms);
        // A later contact: arrived after it (or at the same moment, with a later id).
        let repeated = keys(c)
            .iter()
            .any(|key| arrivals[key].iter().any(|&(at, other)| (at, other) > (c.arrived_ms, *id) && at <= end));
        resolved.insert(*id, !repeated);
    }
    resolved
}

impl Report {
    /// The report of `events` (as the store keeps them, in the order they happened). Pure:
    /// the same events and options give the same report.
    pub fn compute(events: &[StoredEvent], options: &Options) -> Report {
        Report::of(&Folded::of(events), options)
    }

    /// The report of the contacts `folded` holds: the same as [`Report::compute`] over the
    /// events folded into it.
    pub fn of(folded: &Folded, options: &Options) -> Report {
        let contacts = &folded.contacts;
        let resolved = first_contact_resolution(contacts, options.fcr_window_ms);
        let mut rows: BTreeMap<Key, Acc> = BTreeMap::new();
        let by_agent = options.by == By::Agent;
        let mut reviews: BTreeMap<u64, Vec<(Option<&str>, f64)>> = BTreeMap::new();
        for (contact, agent, score) in &options.reviews {
            reviews.entry(*contact).or_default().push((agent.as_deref(), *score));
        }
        for (id, c) in contacts {
            if options.from_ms.is_some_and(|from| c.arrived_ms < from)
                || options.to_ms.is_some_and(|to| c.arrived_ms >= to)
            {
                continue;
            }
            let interval = options.interval.map(|i| i.start(c.arrived_ms, &options.zone));
            let segment = options.segment.as_ref().map(|field| c.record.get(field).cloned().unwrap_or("-".into()));
            let key = |words: Vec<String>| (interval, words, segment.clone());
            let fcr = resolved.get(id).copied();
            match options.by {
                By::Queue => {
                    for leg in &c.legs {
                        let last = leg.queues.len() - 1;
                        let mut seen = BTreeSet::new();
                        for (i, queue) in leg.queues.iter().enumerate() {
                            let acc = rows.entry(key(vec![queue.clone(), leg.channel.clone()])).or_default();
                            acc.target = options.targets.get(queue, &leg.channel);
                            acc.offered += 1;
                            if i == last {
                                acc.outcome(leg, &options.targets);
                            } else {
                                acc.overflowed += 1;
                            }
                            if seen.insert(queue) {
                                acc.contact(*id, c, fcr);
                            }
                        }
                    }
                }
                By::Agent => {
                    let mut agents: BTreeSet<&str> = BTreeSet::new();
                    for leg in &c.legs {
                        for agent in &leg.offers {
                            rows.entry(key(vec![agent.clone()])).or_default().offered += 1;
                        }
                        if let Some((agent, _)) = &leg.answered {
                            rows.entry(key(vec![agent.clone()])).or_default().outcome(leg, &options.targets);
                            agents.insert(agent);
                        }
                    }
                    // Counted once per contact, for the agent who answered it last.
                    let last = c.legs.iter().rev().find_map(|l| l.answered.as_ref().map(|(a, _)| a.clone()));
                    if let Some(agent) = &last {
                        rows.entry(key(vec![agent.clone()])).or_default().contact(*id, c, fcr);
                    }
                    for (reviewed, score) in reviews.get(id).into_iter().flatten() {
                        if let Some(agent) = last.as_deref().or(*reviewed) {
                            let acc = rows.entry(key(vec![agent.to_string()])).or_default();
                            acc.qa.0 += 1;
                            acc.qa.1 += score;
                        }
                    }
                }
                By::Channel | By::Flow | By::Waypoint => {
                    let groups: Vec<Vec<String>> = match options.by {
                        By::Channel => vec![vec![c.channel.clone()]],
                        By::Flow => vec![vec![c.flow.clone()]],
                        _ => c.waypoints.iter().map(|w| vec![w.clone()]).collect(),
                    };
                    for words in groups {
                        let acc = rows.entry(key(words)).or_default();
                        for leg in &c.legs {
                            acc.offered += 1;
                            acc.outcome(leg, &options.targets);
                        }
                        acc.contact(*id, c, fcr);
                    }
                }
            }
        }
        let shown = |ms: i64, format: &str| {
            jiff::Timestamp::from_millisecond(ms)
                .map(|t| t.to_zoned(options.zone.clone()).strftime(format).to_string())
                .unwrap_or_default()
        };
        let rows = rows
            .into_iter()
            .map(|((interval, words, segment), acc)| {
                let mut row = Row {
                    interval: interval.map(|ms| shown(ms, "%Y-%m-%d %H:%M")),
                    queue: None,
                    channel: None,
                    flow: None,
                    waypoint: None,
                    agent: None,
                    segment,
                    figures: acc.figures(by_agent),
                };
                let mut words = words.into_iter();
                match options.by {
                    By::Queue => {
                        row.queue = words.next();
                        row.channel = words.next();
                    }
                    By::Channel => row.channel = words.next(),
                    By::Flow => row.flow = words.next(),
                    By::Waypoint => row.waypoint = words.next(),
                    By::Agent => row.agent = words.next(),
                }
                row
            })
            .collect();
        Report {
            from: options.from_ms.map(|ms| shown(ms, "%Y-%m-%d %H:%M %Q")),
            to: options.to_ms.map(|ms| shown(ms, "%Y-%m-%d %H:%M %Q")),
            by: options.by,
            interval: options.interval,
            segment: options.segment.clone(),
            fcr_window_seconds: options.fcr_window_ms as f64 / 1000.0,
            rows,
        }
    }

    /// The first row for `queue` on `channel` (a report by queue, without intervals).
    pub fn queue(&self, queue: &str, channel: &str) -> Option<&Figures> {
        self.rows
            .iter()
            .find(|r| r.queue.as_deref() == Some(queue) && r.channel.as_deref() == Some(channel))
            .map(|r| &r.figures)
    }
}

#[cfg(test)]
mod tests;
