use super::*;
use switchboard_engine::{ContactId, Event, SessionId, Text};

/// Events written by hand, one contact at a time, in time order overall.
#[derive(Default)]
struct Day {
    events: Vec<(i64, u64, EventKind)>,
}

const T0: i64 = 1_795_420_800_000; // 2026-11-23 08:00 Europe/London (UTC)

fn t(s: &str) -> Text {
    Text::from(s)
}

impl Day {
    fn at(&mut self, seconds: i64, session: u64, kind: EventKind) -> &mut Day {
        self.events.push((T0 + seconds * 1000, session, kind));
        self
    }

    fn contact(&mut self, seconds: i64, id: u64, channel: &str, from: &str) -> &mut Day {
        let kind =
            EventKind::Contact { channel: t(channel), from: t(from), to: t("+441632960000"), flow: t("inbound") };
        self.at(seconds, id, kind)
    }

    fn lookup(&mut self, seconds: i64, id: u64, fields: &[(&str, &str)]) -> &mut Day {
        let record = fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self.at(seconds, id, EventKind::Lookup { source: t("crm"), outcome: t("found"), record: Some(record) })
    }

    fn queue(&mut self, seconds: i64, id: u64, queue: &str) -> &mut Day {
        self.at(seconds, id, EventKind::Queue { queue: t(queue), priority: 0 })
    }

    fn answered(&mut self, seconds: i64, id: u64, agent: &str) -> &mut Day {
        self.at(seconds, id, EventKind::Offer { agent: t(agent), channel: t("voice") });
        self.at(seconds, id, EventKind::Answered { agent: t(agent) })
    }

    fn finished(&mut self, seconds: i64, id: u64, agent: &str) -> &mut Day {
        self.at(seconds, id, EventKind::Routing(RoutingEvent::Finished { agent: t(agent) }))
    }

    fn survey(&mut self, seconds: i64, session: u64, contact: u64, survey: &str, answers: &[(&str, &str)]) -> &mut Day {
        self.at(seconds, session, EventKind::Survey { survey: t(survey), contact: ContactId(contact) });
        for (name, value) in answers {
            self.at(seconds, session, EventKind::Answer { name: t(name), value: t(value) });
        }
        self
    }

    fn stored(&self) -> Vec<StoredEvent> {
        let mut events: Vec<&(i64, u64, EventKind)> = self.events.iter().collect();
        events.sort_by_key(|(at, _, _)| *at);
        events
            .into_iter()
            .enumerate()
            .map(|(i, (at, session, kind))| StoredEvent {
                seq: i as i64 + 1,
                n: 0,
                event: Event {
                    at: jiff::Timestamp::from_millisecond(*at).unwrap(),
                    session: SessionId(*session),
                    contact: None,
                    kind: kind.clone(),
                    origin: None,
                },
            })
            .collect()
    }
}

fn targets() -> Targets {
    let mut targets = Targets::default();
    for (queue, channel, within) in [("billing", "voice", 20), ("support", "voice", 30), ("support", "chat", 60)] {
        targets.0.insert((queue.into(), channel.into()), Target { percent: 80, within_ms: within * 1000 });
    }
    targets
}

/// Billing on the phone: two answered (one in time, one late and transferred), three
/// abandoned (two within the target, one after it); support takes the transfer, a chat
/// from the first caller an hour later, and a chat that overflowed from billing.
fn day() -> Vec<StoredEvent> {
    let mut d = Day::default();
    d.contact(0, 1, "voice", "+447700900001").lookup(0, 1, &[("id", "c1"), ("tier", "gold")]);
    d.at(0, 1, EventKind::Waypoint { name: t("start") });
    d.queue(0, 1, "billing").answered(10, 1, "ann").finished(70, 1, "ann");
    d.at(85, 1, EventKind::Outcome { name: t("resolved") });
    d.survey(86, 100, 1, "csat", &[("resolved", "yes"), ("score", "5")]);
    d.at(86, 100, EventKind::Waypoint { name: t("satisfied") });

    d.contact(0, 2, "voice", "+447700900002").queue(0, 2, "billing").at(5, 2, EventKind::HangUp);
    d.contact(0, 3, "voice", "+447700900003").queue(0, 3, "billing").at(30, 3, EventKind::HangUp);
    d.contact(0, 5, "voice", "+447700900005").queue(0, 5, "billing").at(3, 5, EventKind::HangUp);

    d.contact(0, 4, "voice", "+447700900004").lookup(0, 4, &[("id", "c4"), ("tier", "standard")]);
    d.at(0, 4, EventKind::Waypoint { name: t("start") });
    d.queue(0, 4, "billing").answered(25, 4, "ann");
    d.at(40, 4, EventKind::Transfer { to: t("support") });
    d.answered(50, 4, "raj").at(100, 4, EventKind::HangUp);
    d.survey(100, 101, 4, "nps", &[("score", "3")]);

    // The first caller again, by chat an hour later: the same record id.
    d.contact(3600, 6, "chat", "ann@example.com").lookup(3600, 6, &[("id", "c1"), ("tier", "gold")]);
    d.queue(3600, 6, "support").answered(3620, 6, "raj").finished(3700, 6, "raj");

    d.contact(4000, 7, "chat", "visitor-7").queue(4000, 7, "billing");
    d.at(4600, 7, EventKind::Routing(RoutingEvent::Overflowed { from: t("billing"), to: t("support") }));
    d.answered(4610, 7, "raj");
    d.stored()
}

fn options(by: By) -> Options {
    Options { by, targets: targets(), ..Options::default() }
}

#[test]
fn queues_count_offers_answers_abandons_and_three_service_levels() {
    let report = Report::compute(&day(), &options(By::Queue));
    let billing = report.queue("billing", "voice").expect("billing voice");
    assert_eq!((billing.contacts, billing.offered, billing.answered, billing.abandoned), (4 + 1, 5, 2, Some(3)));
    assert_eq!(billing.target, Some(Target { percent: 80, within_ms: 20_000 }));
    // Answered within 20 s: c1 (10 s), not c4 (25 s). Abandoned within: c2 (5 s), c5 (3 s); after: c3 (30 s).
    assert_eq!(billing.sl_abandons_excluded, Some(0.5));
    assert_eq!(billing.sl_abandons_met, Some(3.0 / 5.0));
    assert_eq!(billing.sl_abandons_against, Some(1.0 / 3.0));
    assert_eq!(billing.asa_seconds, Some(17.5));
    assert_eq!(billing.abandon_mean_seconds, Some(38.0 / 3.0 / 1.0));
    assert_eq!(billing.abandon_p90_seconds, Some(30.0));
    // c1 talked 60 s and wrapped up 15 s; c4 talked 15 s, then was transferred.
    assert_eq!(billing.talk_seconds, Some(37.5));
    assert_eq!(billing.wrap_up_seconds, Some(7.5));
    assert_eq!(billing.hold_seconds, Some(0.0));
    assert_eq!(billing.aht_seconds, Some(45.0));
    assert_eq!(billing.transfers, 1);
    // c1 came back within a day (by chat, matched by record id); c4 did not.
    assert_eq!((billing.fcr, billing.fcr_contacts), (Some(0.5), 2));
    assert_eq!((billing.csat, billing.csat_responses), (Some(1.0), 1));
    assert_eq!((billing.nps, billing.nps_responses), (Some(-100.0), 1));

    let support = report.queue("support", "voice").expect("support voice");
    assert_eq!((support.offered, support.answered, support.asa_seconds), (1, 1, Some(10.0)));
    assert_eq!(support.sl_abandons_excluded, Some(1.0));
    assert_eq!(support.talk_seconds, Some(50.0));

    // The chat that overflowed: offered in both, answered in support, waited from the start.
    let billing_chat = report.queue("billing", "chat").expect("billing chat");
    assert_eq!((billing_chat.offered, billing_chat.overflowed, billing_chat.answered), (1, 1, 0));
    assert_eq!(billing_chat.target, None);
    let support_chat = report.queue("support", "chat").expect("support chat");
    assert_eq!((support_chat.offered, support_chat.answered), (2, 2));
    assert_eq!(support_chat.asa_seconds, Some((20.0 + 610.0) / 2.0));
    assert_eq!(support_chat.sl_abandons_excluded, Some(0.5));
    // c7 is still with raj: answered, not yet handled.
    assert_eq!(support_chat.talk_seconds, Some(80.0));
}

#[test]
fn channels_flows_and_waypoints_count_contacts_and_legs_once() {
    let report = Report::compute(&day(), &options(By::Channel));
    let voice = &report.rows.iter().find(|r| r.channel.as_deref() == Some("voice")).unwrap().figures;
    // Five callers; c4 had two legs (billing, then support after the transfer).
    assert_eq!((voice.contacts, voice.offered, voice.answered, voice.abandoned), (5, 6, 3, Some(3)));
    let report = Report::compute(&day(), &options(By::Flow));
    assert_eq!(report.rows.len(), 1);
    assert_eq!(report.rows[0].figures.contacts, 7);
    let report = Report::compute(&day(), &options(By::Waypoint));
    let through = |name: &str| report.rows.iter().find(|r| r.waypoint.as_deref() == Some(name)).map(|r| &r.figures);
    assert_eq!(through("start").map(|f| f.contacts), Some(2));
    // A survey's waypoints count for its contact.
    assert_eq!(through("satisfied").map(|f| (f.contacts, f.csat)), Some((1, Some(1.0))));
}

#[test]
fn agents_are_split_by_a_record_field() {
    let report = Report::compute(&day(), &Options { segment: Some("tier".into()), ..options(By::Agent) });
    let row = |agent: &str, tier: &str| {
        report
            .rows
            .iter()
            .find(|r| r.agent.as_deref() == Some(agent) && r.segment.as_deref() == Some(tier))
            .map(|r| &r.figures)
    };
    let ann_gold = row("ann", "gold").expect("ann, gold");
    assert_eq!((ann_gold.offered, ann_gold.answered, ann_gold.abandoned), (1, 1, None));
    assert_eq!((ann_gold.csat, ann_gold.fcr), (Some(1.0), Some(0.0)));
    let ann_standard = row("ann", "standard").expect("ann, standard");
    // c4 counts for raj once it was transferred (he answered it last).
    assert_eq!((ann_standard.answered, ann_standard.contacts, ann_standard.transfers), (1, 0, 1));
    let raj_standard = row("raj", "standard").expect("raj, standard");
    assert_eq!((raj_standard.answered, raj_standard.contacts, raj_standard.nps), (1, 1, Some(-100.0)));
    assert_eq!(row("raj", "-").map(|f| f.answered), Some(1), "the stranger of the overflowed chat");
}

/// Reviewers' scores count for the agent who answered the contact last; a contact
/// outside the period counts for no one.
#[test]
fn reviews_score_agents() {
    let reviews = vec![(4, None, 80.0), (4, Some("ann".into()), 60.0), (999, Some("ann".into()), 10.0)];
    let report = Report::compute(&day(), &Options { reviews, ..options(By::Agent) });
    let raj = report.rows.iter().find(|r| r.agent.as_deref() == Some("raj")).unwrap();
    assert_eq!((raj.figures.qa_score, raj.figures.qa_reviews), (Some(70.0), 2), "c4: raj answered it last");
    let ann = report.rows.iter().find(|r| r.agent.as_deref() == Some("ann")).unwrap();
    assert_eq!((ann.figures.qa_score, ann.figures.qa_reviews), (None, 0), "contact 999 is not in the events");
    assert!(report.to_csv().lines().next().unwrap().ends_with(",qa_score,qa_reviews"));
}

#[test]
fn a_period_keeps_the_contacts_that_arrived_in_it_and_intervals_cut_it() {
    let events = day();
    let from = T0 + 3_600_000;
    let report = Report::compute(&events, &Options { from_ms: Some(from), ..options(By::Channel) });
    assert_eq!(report.rows.iter().map(|r| r.channel.clone().unwrap()).collect::<Vec<_>>(), ["chat"]);
    let report = Report::compute(&events, &Options { to_ms: Some(from), ..options(By::Channel) });
    assert_eq!(report.rows.iter().map(|r| r.channel.clone().unwrap()).collect::<Vec<_>>(), ["voice"]);
    let zone = jiff::tz::TimeZone::get("Europe/London").unwrap();
    let report = Report::compute(&events, &Options { interval: Some(Interval::Hour), zone, ..options(By::Flow) });
    let cut: Vec<(String, u64)> =
        report.rows.iter().map(|r| (r.interval.clone().unwrap(), r.figures.contacts)).collect();
    assert_eq!(cut, [("2026-11-23 08:00".to_string(), 5), ("2026-11-23 09:00".to_string(), 2)]);
}

#[test]
fn intervals_start_on_the_local_quarter_hour_and_day() {
    let zone = jiff::tz::TimeZone::get("America/New_York").unwrap();
    let at: jiff::Zoned = "2026-03-08T03:47:12-04:00[America/New_York]".parse().unwrap();
    let ms = at.timestamp().as_millisecond();
    let shown = |ms: i64| jiff::Timestamp::from_millisecond(ms).unwrap().to_zoned(zone.clone()).to_string();
    assert_eq!(shown(Interval::QuarterHour.start(ms, &zone)), "2026-03-08T03:45:00-04:00[America/New_York]");
    assert_eq!(shown(Interval::Hour.start(ms, &zone)), "2026-03-08T03:00:00-04:00[America/New_York]");
    // The day the clocks go forward still starts at midnight, in winter time.
    assert_eq!(shown(Interval::Day.start(ms, &zone)), "2026-03-08T00:00:00-05:00[America/New_York]");
}

#[test]
fn a_callback_is_not_an_abandon_and_outbound_callbacks_are_not_offered() {
    let mut d = Day::default();
    d.contact(0, 1, "voice", "+447700900001").queue(0, 1, "billing");
    d.at(120, 1, EventKind::Routing(RoutingEvent::CallbackKept { to: t("+447700900001") }));
    d.at(121, 1, EventKind::HangUp);
    d.answered(300, 1, "ann");
    d.contact(0, 2, "voice", "+447700900002").queue(0, 2, "billing");
    d.at(0, 2, EventKind::Routing(RoutingEvent::CallbackWaiting { to: t("+447700900002") }));
    let report = Report::compute(&d.stored(), &options(By::Queue));
    let billing = report.queue("billing", "voice").unwrap();
    assert_eq!(
        (billing.offered, billing.answered, billing.abandoned, billing.asa_seconds),
        (1, 1, Some(0), Some(300.0))
    );
    assert_eq!(billing.sl_abandons_against, Some(0.0));
}

#[test]
fn renders_as_a_table_csv_and_json() {
    let report = Report::compute(&day(), &options(By::Queue));
    let table = report.to_table();
    assert!(table.lines().any(|l| l.starts_with("billing  voice")), "{table}");
    let csv = report.to_csv();
    let header = csv.lines().next().unwrap();
    assert!(header.starts_with("queue,channel,contacts,offered,answered,abandoned,"), "{header}");
    assert_eq!(csv.lines().count(), 1 + report.rows.len());
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(json["rows"][0]["queue"], "billing");
    assert_eq!(json["by"], "queue");
}

#[test]
fn folding_the_events_in_pieces_gives_the_same_report_as_all_at_once() {
    let events = day();
    for by in [By::Queue, By::Channel, By::Flow, By::Waypoint, By::Agent] {
        let whole = Report::compute(&events, &options(by));
        for cut in 0..=events.len() {
            let mut folded = Folded::of(&events[..cut]);
            folded.add(&events[cut..]);
            assert_eq!(Report::of(&folded, &options(by)), whole, "{by:?} cut at {cut}");
        }
    }
}
