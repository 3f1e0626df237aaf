//! Behaviour tests: one small scenario per routing rule, through the public API only.

use super::*;
use switchboard_bytecode::types::Channel::{Chat, Email, Voice};

const S: i64 = 1_000;
const SKILLS: [&str; 4] = ["billing", "support", "vip_care", "spanish"];

fn engine(queues: &[QueueSpec]) -> Acd {
    engine_with(Config::default(), queues)
}

fn engine_with(config: Config, queues: &[QueueSpec]) -> Acd {
    Acd::new(config, &SKILLS, queues).expect("a valid setup")
}

fn billing() -> QueueSpec {
    QueueSpec::new("billing").skill("billing")
}

fn biller(id: &str) -> AgentSpec {
    AgentSpec::new(id, id).skill("billing")
}

/// Adds an agent and makes them available; the events that caused.
fn staff(acd: &mut Acd, spec: AgentSpec, now: i64) -> Vec<Event> {
    acd.add_agent(&spec, now).unwrap();
    acd.set_available(&spec.id, now).unwrap()
}

fn arrive(acd: &mut Acd, id: &str, queue: &str, channel: Channel, now: i64) -> Vec<Event> {
    acd.arrive(&Arrival::new(id, queue, channel), now).unwrap()
}

/// (contact, agent) for each offer, callback or outbound assignment, in order.
fn routed(events: &[Event]) -> Vec<(String, String)> {
    events
        .iter()
        .filter_map(|event| match event {
            Event::Offered { contact, agent, .. }
            | Event::CallbackDue { contact, agent, .. }
            | Event::OutboundAssigned { contact, agent, .. } => Some((contact.to_string(), agent.to_string())),
            _ => None,
        })
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected.iter().map(|&(contact, agent)| (contact.to_string(), agent.to_string())).collect()
}

fn offer_of(acd: &Acd, contact: &str) -> OfferId {
    match acd.contact_state(contact) {
        Some(ContactState::Offered { offer, .. }) => offer,
        other => panic!("`{contact}` is not offered: {other:?}"),
    }
}

/// Offers `contact` to the only free agent and has them accept it.
fn answered(acd: &mut Acd, contact: &str, now: i64) {
    assert_eq!(routed(&arrive(acd, contact, "billing", Voice, now)).len(), 1, "`{contact}` was not offered");
    acd.accept(offer_of(acd, contact), now).unwrap();
}

// Skills, language, capacity.

#[test]
fn an_agent_without_the_queue_skills_is_not_offered_its_contacts() {
    let mut acd = engine(&[billing()]);
    staff(&mut acd, AgentSpec::new("sam", "Sam").skill("support"), 0);
    assert_eq!(routed(&arrive(&mut acd, "c1", "billing", Voice, 0)), pairs(&[]));
    assert_eq!(routed(&staff(&mut acd, biller("bea"), S)), pairs(&[("c1", "bea")]));
}

#[test]
fn a_contact_with_a_language_goes_only_to_an_agent_who_speaks_it() {
    let mut acd = engine(&[billing()]);
    staff(&mut acd, biller("ann").language("en"), 0);
    let spanish = acd.arrive(&Arrival::new("c1", "billing", Voice).language("es"), S).unwrap();
    assert_eq!(routed(&spanish), pairs(&[]));
    assert_eq!(routed(&arrive(&mut acd, "c2", "billing", Voice, 2 * S)), pairs(&[("c2", "ann")]));
    assert_eq!(routed(&staff(&mut acd, biller("eva").language("en").language("es"), 3 * S)), pairs(&[("c1", "eva")]));
}

#[test]
fn require_skill_narrows_who_may_take_a_contact() {
    let mut acd = engine(&[billing()]);
    staff(&mut acd, biller("ann"), 0);
    let events = acd.arrive(&Arrival::new("c1", "billing", Voice).require("spanish"), S).unwrap();
    assert_eq!(routed(&events), pairs(&[]));
    assert_eq!(routed(&staff(&mut acd, biller("eva").skill("spanish"), 2 * S)), pairs(&[("c1", "eva")]));
}

#[test]
fn a_chat_agent_takes_chats_up_to_their_capacity() {
    let mut acd = engine(&[billing()]);
    for (n, id) in ["c1", "c2", "c3", "c4", "c5"].into_iter().enumerate() {
        arrive(&mut acd, id, "billing", Chat, n as i64 * S);
    }
    let events = staff(&mut acd, biller("ann").capacity(Capacity::none().with(Chat, 3)), 10 * S);
    assert_eq!(routed(&events), pairs(&[("c1", "ann"), ("c2", "ann"), ("c3", "ann")]));
    assert_eq!(acd.queue_length("billing", Some(Chat)), Some(2));
    assert_eq!(acd.agent_state("ann"), Some(AgentState::Busy));
    acd.reject(offer_of(&acd, "c3"), 11 * S).unwrap();
    // The freed slot goes to the next chat in line; the rejected one skips ann.
    assert_eq!(acd.contact_state("c4"), Some(ContactState::Offered { offer: OfferId(3), agent: "ann".into() }));
}

#[test]
fn voice_is_exclusive_by_default() {
    let mut acd = engine(&[billing()]);
    staff(&mut acd, biller("ann"), 0);
    assert_eq!(routed(&arrive(&mut acd, "chat1", "billing", Chat, S)), pairs(&[("chat1", "ann")]));
    acd.accept(offer_of(&acd, "chat1"), S).unwrap();
    assert_eq!(acd.agent_state("ann"), Some(AgentState::Available));
    // Busy on a chat: no call, but an email may come alongside.
    assert_eq!(routed(&arrive(&mut acd, "call1", "billing", Voice, 2 * S)), pairs(&[]));
    assert_eq!(routed(&arrive(&mut acd, "mail1", "billing", Email, 3 * S)), pairs(&[("mail1", "ann")]));
    acd.accept(offer_of(&acd, "mail1"), 3 * S).unwrap();
    assert_eq!(routed(&acd.finish("chat1", 4 * S).unwrap()), pairs(&[]));
    assert_eq!(routed(&acd.finish("mail1", 5 * S).unwrap()), pairs(&[("call1", "ann")]));
    acd.accept(offer_of(&acd, "call1"), 5 * S).unwrap();
    // On a call: nothing else.
    assert_eq!(acd.agent_state("ann"), Some(AgentState::Busy));
    assert_eq!(routed(&arrive(&mut acd, "chat2", "billing", Chat, 6 * S)), pairs(&[]));
}

// Queue order.

#[test]
fn a_higher_channel_bucket_goes_first() {
    let mut acd = engine(&[billing(), QueueSpec::new("sales").skill("billing").priority(Voice, 10)]);
    arrive(&mut acd, "plain", "billing", Voice, 0);
    arrive(&mut acd, "sale", "sales", Voice, 5 * S);
    assert_eq!(routed(&staff(&mut acd, biller("ann"), 10 * S)), pairs(&[("sale", "ann")]));
}

#[test]
fn a_flow_boost_adds_to_the_bucket() {
    let mut acd = engine(&[billing()]);
    arrive(&mut acd, "plain", "billing", Voice, 0);
    acd.arrive(&Arrival::new("boosted", "billing", Voice).boost(5), 20 * S).unwrap();
    assert_eq!(acd.score("plain", 30 * S), Some(3.0));
    assert_eq!(acd.score("boosted", 30 * S), Some(6.0));
    assert_eq!(routed(&staff(&mut acd, biller("ann"), 30 * S)), pairs(&[("boosted", "ann")]));
}

#[test]
fn a_vip_beats_every_non_vip_whatever_the_bucket() {
    let mut acd = engine(&[billing(), QueueSpec::new("sales").skill("billing").priority(Voice, 50)]);
    acd.arrive(&Arrival::new("big", "sales", Voice).boost(20), 0).unwrap();
    acd.arrive(&Arrival::new("vip", "billing", Voice).vip(), 59 * S).unwrap();
    assert_eq!(routed(&staff(&mut acd, biller("ann"), 60 * S)), pairs(&[("vip", "ann")]));
    assert_eq!(acd.position("big"), Some(1));
}

#[test]
fn waiting_contacts_age_so_nothing_starves() {
    let queues = [billing(), QueueSpec::new("sales").skill("billing").priority(Voice, 5)];
    // Ten seconds in, a newcomer in the higher bucket goes first...
    let mut early = engine(&queues);
    arrive(&mut early, "old", "billing", Voice, 0);
    arrive(&mut early, "new", "sales", Voice, 10 * S);
    assert_eq!(routed(&staff(&mut early, biller("ann"), 11 * S)), pairs(&[("new", "ann")]));
    // ...but a minute in, one point per ten seconds has carried the old contact past it.
    let mut late = engine(&queues);
    arrive(&mut late, "old", "billing", Voice, 0);
    arrive(&mut late, "new", "sales", Voice, 60 * S);
    assert_eq!(late.score("old", 61 * S), Some(6.1));
    assert_eq!(late.score("new", 61 * S), Some(5.1));
    assert_eq!(routed(&staff(&mut late, biller("ann"), 61 * S)), pairs(&[("old", "ann")]));
}

#[test]
fn a_blended_agent_takes_contacts_across_channels_in_score_order() {
    let queue = billing().priority(Chat, 10).priority(Email, 12);
    let mut acd = engine(&[queue]);
    arrive(&mut acd, "mail", "billing", Email, 0);
    arrive(&mut acd, "chat", "billing", Chat, 5 * S);
    // At 60 s: email 12 + 60/600 = 12.1, chat 10 + 55/10 = 15.5.
    let events = staff(&mut acd, biller("ann"), 60 * S);
    assert_eq!(routed(&events), pairs(&[("chat", "ann"), ("mail", "ann")]));
}

// Agent choice.

#[test]
fn the_most_proficient_free_agent_gets_the_contact() {
    let mut acd = engine(&[billing()]);
    staff(&mut acd, AgentSpec::new("ann", "Ann").skill_at("billing", 3), 0);
    staff(&mut acd, AgentSpec::new("bob", "Bob").skill_at("billing", 8), S);
    assert_eq!(routed(&arrive(&mut acd, "c1", "billing", Voice, 2 * S)), pairs(&[("c1", "bob")]));
}

#[test]
fn equal_proficiency_goes_to_the_longest_idle_agent() {
    let mut acd = engine(&[billing()]);
    staff(&mut acd, biller("ann"), 10 * S);
    staff(&mut acd, biller("bob"), 0);
    assert_eq!(routed(&arrive(&mut acd, "c1", "billing", Voice, 20 * S)), pairs(&[("c1", "bob")]));
    assert_eq!(routed(&arrive(&mut acd, "c2", "billing", Voice, 20 * S)), pairs(&[("c2", "ann")]));
    acd.accept(offer_of(&acd, "c1"), 20 * S).unwrap();
    acd.accept(offer_of(&acd, "c2"), 20 * S).unwrap();
    acd.finish("c2", 30 * S).unwrap();
    acd.finish("c1", 40 * S).unwrap();
    assert_eq!(routed(&arrive(&mut acd, "c3", "billing", Voice, 50 * S)), pairs(&[("c3", "ann")]));
}

// Prefer.

#[test]
fn a_preferred_agent_gets_the_contact_while_the_window_is_open() {
    let mut acd = engine(&[billing()]);
    staff(&mut acd, biller("ann"), 0);
    answered(&mut acd, "first", 0);
    staff(&mut acd, biller("bob"), S);
    let events = acd.arrive(&Arrival::new("c1", "billing", Voice).prefer("ann", 60 * S), 10 * S).unwrap();
    assert_eq!(routed(&events), pairs(&[]), "bob is free but the contact waits for ann");
    assert_eq!(routed(&acd.finish("first", 20 * S).unwrap()), pairs(&[("c1", "ann")]));
}

#[test]
fn a_preferred_agent_takes_the_contact_kept_for_them_before_older_ones() {
    let mut acd = engine(&[billing()]);
    staff(&mut acd, biller("ann"), 0);
    answered(&mut acd, "first", 0);
    arrive(&mut acd, "older", "billing", Voice, 5 * S);
    acd.arrive(&Arrival::new("c1", "billing", Voice).prefer("ann", 60 * S), 10 * S).unwrap();
    assert_eq!(routed(&acd.finish("first", 20 * S).unwrap()), pairs(&[("c1", "ann")]));
}

#[test]
fn after_the_prefer_window_anyone_may_take_the_contact() {
    let mut acd = engine(&[billing()]);
    staff(&mut acd, biller("ann"), 0);
    answered(&mut acd, "first", 0);
    staff(&mut acd, biller("bob"), S);
    acd.arrive(&Arrival::new("c1", "billing", Voice).prefer("ann", 60 * S), 10 * S).unwrap();
    assert_eq!(acd.next_deadline(), Some(70 * S));
    assert_eq!(acd.tick(69 * S), vec![]);
    let events = acd.tick(70 * S);
    assert_eq!(events[0], Event::PreferEnded { contact: "c1".into(), agent: "ann".into() });
    assert_eq!(routed(&events), pairs(&[("c1", "bob")]));
}

#[test]
fn prefer_is_ignored_when_the_agent_is_logged_out() {
    let mut acd = engine(&[billing()]);
    acd.add_agent(&biller("ann"), 0).unwrap();
    staff(&mut acd, biller("bob"), 0);
    let events = acd.arrive(&Arrival::new("c1", "billing", Voice).prefer("ann", 60 * S), S).unwrap();
    assert_eq!(routed(&events), pairs(&[("c1", "bob")]));
}

#[test]
fn when_the_preferred_agent_logs_out_the_contact_opens_to_everyone() {
    let mut acd = engine(&[billing()]);
    staff(&mut acd, biller("ann"), 0);
    answered(&mut acd, "first", 0);
    staff(&mut acd, biller("bob"), S);
    acd.arrive(&Arrival::new("c1", "billing", Voice).prefer("ann", 60 * S), 10 * S).unwrap();
    let events = acd.log_out("ann", 20 * S).unwrap();
    assert_eq!(events[0], Event::PreferEnded { contact: "c1".into(), agent: "ann".into() });
    assert_eq!(routed(&events), pairs(&[("c1", "bob")]));
}

// Offers: reject, time out, withdraw.

#[test]
fn a_rejected_contact_keeps_its_place_and_skips_the_agent() {
    let mut acd = engine(&[billing()]);
    for (n, id) in ["c1", "c2", "c3"].into_iter().enumerate() {
        arrive(&mut acd, id, "billing", Voice, n as i64 * S);
    }
    assert_eq!(routed(&staff(&mut acd, biller("ann"), 3 * S)), pairs(&[("c1", "ann")]));
    assert_eq!(routed(&acd.reject(offer_of(&acd, "c1"), 4 * S).unwrap()), pairs(&[("c2", "ann")]));
    assert_eq!(acd.position("c1"), Some(1));
    assert_eq!(acd.position("c3"), Some(2));
    assert_eq!(routed(&staff(&mut acd, biller("bob"), 5 * S)), pairs(&[("c1", "bob")]));
}

#[test]
fn a_skipped_agent_may_take_the_contact_again_once_the_skip_ends() {
    let config = Config { skip_after_reject_ms: 30 * S, ..Config::default() };
    let mut acd = engine_with(config, &[billing()]);
    arrive(&mut acd, "c1", "billing", Voice, 0);
    staff(&mut acd, biller("ann"), 0);
    assert_eq!(routed(&acd.reject(offer_of(&acd, "c1"), S).unwrap()), pairs(&[]));
    assert_eq!(routed(&acd.tick(30 * S)), pairs(&[]));
    assert_eq!(routed(&acd.tick(31 * S)), pairs(&[("c1", "ann")]));
}

#[test]
fn an_offer_that_rings_out_returns_the_contact_and_makes_the_agent_away() {
    let config = Config { offer_timeout_ms: 15 * S, ..Config::default() };
    let mut acd = engine_with(config, &[billing()]);
    arrive(&mut acd, "c1", "billing", Voice, 0);
    arrive(&mut acd, "c2", "billing", Voice, S);
    staff(&mut acd, biller("ann"), 2 * S);
    let missed = offer_of(&acd, "c1");
    assert_eq!(acd.tick(16 * S), vec![]);
    let events = acd.tick(17 * S);
    assert_eq!(
        events,
        vec![
            Event::OfferTimedOut { offer: missed, contact: "c1".into(), agent: "ann".into() },
            Event::AgentAway { agent: "ann".into(), reason: AwayReason::MissedOffer },
        ]
    );
    assert_eq!(acd.agent_state("ann"), Some(AgentState::Away));
    assert_eq!(acd.accept(missed, 18 * S), Err(AcdError::UnknownOffer(missed)));
    assert_eq!(routed(&staff(&mut acd, biller("bob"), 20 * S)), pairs(&[("c1", "bob")]));
}

#[test]
fn going_away_withdraws_ringing_offers() {
    let mut acd = engine(&[billing()]);
    staff(&mut acd, biller("ann"), 0);
    arrive(&mut acd, "c1", "billing", Voice, S);
    let offer = offer_of(&acd, "c1");
    let events = acd.set_away("ann", 2 * S).unwrap();
    let withdrawn =
        Event::OfferWithdrawn { offer, contact: "c1".into(), agent: "ann".into(), reason: Withdrawal::AgentAway };
    assert_eq!(events, vec![withdrawn]);
    assert_eq!(acd.position("c1"), Some(1));
    assert_eq!(routed(&acd.set_available("ann", 3 * S).unwrap()), pairs(&[("c1", "ann")]));
}

// Callbacks, overflow, wrap-up.

#[test]
fn a_callback_placeholder_keeps_the_customers_place() {
    let mut acd = engine(&[billing()]);
    arrive(&mut acd, "c1", "billing", Voice, 0);
    arrive(&mut acd, "c2", "billing", Voice, 10 * S);
    acd.keep_place("c1", "+447700900001", 60 * S).unwrap();
    assert_eq!(acd.position("c1"), Some(1));
    assert_eq!(acd.position("c2"), Some(2));
    let events = staff(&mut acd, biller("ann"), 70 * S);
    assert_eq!(
        events,
        vec![Event::CallbackDue {
            offer: OfferId(0),
            contact: "c1".into(),
            customer: "+447700900001".to_string(),
            agent: "ann".into(),
            queue: "billing".into(),
        }]
    );
    acd.accept(OfferId(0), 71 * S).unwrap();
    assert_eq!(acd.stats("billing", Voice).unwrap().answered, 1);
    assert_eq!(acd.stats("billing", Voice).unwrap().abandoned, 0);
}

#[test]
fn a_callback_arrives_as_a_placeholder_in_its_place() {
    let mut acd = engine(&[billing()]);
    acd.arrive(&Arrival::new("c1", "billing", Voice).callback("+447700900001"), 0).unwrap();
    arrive(&mut acd, "c2", "billing", Voice, 10 * S);
    assert_eq!(acd.position("c2"), Some(2), "the caller behind does not overtake");
    let events = staff(&mut acd, biller("ann"), 70 * S);
    assert!(matches!(&events[..], [Event::CallbackDue { customer, .. }] if customer == "+447700900001"), "{events:?}");
    let chat = acd.arrive(&Arrival::new("c3", "billing", Chat).callback("+447700900003"), 80 * S);
    assert!(matches!(chat, Err(AcdError::InvalidValue(_))), "callbacks are calls");
}

#[test]
fn a_dialled_call_is_offered_as_a_callback_and_counts_as_outbound_not_as_a_caller() {
    let mut acd = engine(&[billing()]);
    acd.arrive(&Arrival::new("d1", "billing", Voice).dialled("+447700900123"), 0).unwrap();
    let events = staff(&mut acd, biller("ann"), 30 * S);
    assert!(matches!(&events[..], [Event::CallbackDue { customer, .. }] if customer == "+447700900123"), "{events:?}");
    acd.accept(OfferId(0), 31 * S).unwrap();
    acd.finish("d1", 200 * S).unwrap();
    let stats = acd.stats("billing", Voice).unwrap();
    assert_eq!((stats.offered, stats.answered, stats.abandoned, stats.outbound_handled), (0, 0, 0, 1));
    // Taken back before anyone has it: no abandon either.
    acd.arrive(&Arrival::new("d2", "billing", Voice).dialled("+447700900124"), 300 * S).unwrap();
    let now = acd.waiting_now(301 * S);
    assert!(now.iter().all(|w| w.waiting == 0 && w.callbacks == 0), "not a caller, nor a callback: {now:?}");
    acd.abandon("d2", 301 * S).unwrap();
    assert_eq!(acd.stats("billing", Voice).unwrap().abandoned, 0);
}

#[test]
fn overflow_moves_the_contact_and_keeps_its_waited_time() {
    let queues = [billing().overflow(60 * S, "support"), QueueSpec::new("support").skill("support")];
    let mut acd = engine(&queues);
    arrive(&mut acd, "c1", "billing", Voice, 0);
    arrive(&mut acd, "c2", "support", Voice, 30 * S);
    assert_eq!(acd.tick(59 * S), vec![]);
    let events = acd.tick(60 * S);
    assert_eq!(events, vec![Event::Overflowed { contact: "c1".into(), from: "billing".into(), to: "support".into() }]);
    assert_eq!(acd.position("c1"), Some(1));
    assert_eq!(acd.position("c2"), Some(2));
    assert_eq!(acd.queue_length("billing", None), Some(0));
    assert_eq!(
        routed(&staff(&mut acd, AgentSpec::new("sam", "Sam").skill("support"), 61 * S)),
        pairs(&[("c1", "sam")])
    );
    acd.accept(offer_of(&acd, "c1"), 61 * S).unwrap();
    let support = acd.stats("support", Voice).unwrap();
    assert_eq!((support.offered, support.answered, support.total_answer_wait_ms), (2, 1, 61 * S));
    assert_eq!(acd.stats("billing", Voice).unwrap().overflowed_out, 1);
}

#[test]
fn wrap_up_holds_the_agent_until_it_ends() {
    let mut acd = engine(&[billing().wrap_up(30 * S)]);
    staff(&mut acd, biller("ann"), 0);
    answered(&mut acd, "c1", 0);
    arrive(&mut acd, "c2", "billing", Voice, 5 * S);
    assert_eq!(routed(&acd.finish("c1", 10 * S).unwrap()), pairs(&[]));
    assert_eq!(acd.agent_state("ann"), Some(AgentState::WrapUp { until: 40 * S }));
    assert_eq!(acd.tick(39 * S), vec![]);
    let events = acd.tick(40 * S);
    assert_eq!(events[0], Event::WrapUpEnded { agent: "ann".into() });
    assert_eq!(routed(&events), pairs(&[("c2", "ann")]));
    // Handle time counts the wrap-up: 10 s talking + 30 s wrapping.
    assert_eq!(acd.stats("billing", Voice).unwrap().average_handle_ms(), Some(40_000.0));
}

#[test]
fn an_agents_own_wrap_up_overrides_the_queues() {
    let mut acd = engine(&[billing().wrap_up(30 * S)]);
    staff(&mut acd, biller("ann").wrap_up(5 * S), 0);
    answered(&mut acd, "c1", 0);
    acd.finish("c1", 10 * S).unwrap();
    assert_eq!(acd.agent_state("ann"), Some(AgentState::WrapUp { until: 15 * S }));
}

// Abandons and statistics.

#[test]
fn a_customer_hanging_up_while_offered_withdraws_the_offer() {
    let mut acd = engine(&[billing()]);
    staff(&mut acd, biller("ann"), 0);
    arrive(&mut acd, "c1", "billing", Voice, S);
    arrive(&mut acd, "c2", "billing", Voice, 2 * S);
    let offer = offer_of(&acd, "c1");
    let events = acd.abandon("c1", 3 * S).unwrap();
    let withdrawn =
        Event::OfferWithdrawn { offer, contact: "c1".into(), agent: "ann".into(), reason: Withdrawal::Abandoned };
    assert_eq!(events[0], withdrawn);
    assert_eq!(routed(&events), pairs(&[("c2", "ann")]));
    assert_eq!(acd.contact_state("c1"), None);
    assert_eq!(acd.stats("billing", Voice).unwrap().abandoned, 1);
}

#[test]
fn service_level_counts_answers_within_target_over_answers_and_late_abandons() {
    let mut acd = engine(&[billing().target(Voice, 80, 20 * S)]);
    for id in ["c1", "c2", "c3", "c4"] {
        arrive(&mut acd, id, "billing", Voice, 0);
    }
    acd.abandon("c3", 5 * S).unwrap();
    staff(&mut acd, biller("ann"), 10 * S);
    acd.accept(offer_of(&acd, "c1"), 10 * S).unwrap();
    acd.finish("c1", 20 * S).unwrap();
    acd.accept(offer_of(&acd, "c2"), 30 * S).unwrap();
    acd.abandon("c4", 40 * S).unwrap();
    let stats = acd.stats("billing", Voice).unwrap();
    assert_eq!((stats.offered, stats.answered, stats.answered_within_target), (4, 2, 1));
    assert_eq!((stats.abandoned, stats.abandoned_after_target), (2, 1));
    assert_eq!(stats.service_level(), Some(1.0 / 3.0));
    assert_eq!(stats.average_speed_of_answer_ms(), Some(20_000.0));
    assert_eq!(acd.stats("billing", Chat).unwrap().service_level(), None);
}

#[test]
fn occupancy_is_busy_time_over_staffed_time() {
    let mut acd = engine(&[billing()]);
    staff(&mut acd, biller("ann"), 0);
    answered(&mut acd, "c1", 30 * S);
    acd.finish("c1", 90 * S).unwrap();
    assert_eq!(acd.occupancy("ann", 120 * S), Some(0.5));
    acd.set_away("ann", 120 * S).unwrap();
    assert_eq!(acd.occupancy("ann", 500 * S), Some(0.5));
}

// Blending.

#[test]
fn an_idle_agent_is_given_outbound_work() {
    let mut acd = engine(&[billing()]);
    staff(&mut acd, biller("ann"), 0);
    let events = acd.add_outbound(&OutboundWork::new("o1", "billing", Voice, "+447700900002"), S).unwrap();
    let assigned = Event::OutboundAssigned {
        contact: "o1".into(),
        agent: "ann".into(),
        customer: "+447700900002".to_string(),
        queue: "billing".into(),
        channel: Voice,
    };
    assert_eq!(events, vec![assigned]);
    assert_eq!(acd.contact_state("o1"), Some(ContactState::InProgress { agent: "ann".into() }));
    acd.finish("o1", 60 * S).unwrap();
    let stats = acd.stats("billing", Voice).unwrap();
    assert_eq!((stats.outbound_handled, stats.handled, stats.answered), (1, 0, 0));
}

#[test]
fn inbound_goes_first_while_enough_contacts_wait() {
    let mut acd = engine(&[billing()]);
    arrive(&mut acd, "c1", "billing", Voice, 0);
    assert_eq!(routed(&acd.add_outbound(&OutboundWork::new("o1", "billing", Voice, "+1"), S).unwrap()), pairs(&[]));
    assert_eq!(acd.outbound_waiting(), 1);
    assert_eq!(routed(&staff(&mut acd, biller("ann"), 2 * S)), pairs(&[("c1", "ann")]));
    acd.accept(offer_of(&acd, "c1"), 2 * S).unwrap();
    assert_eq!(routed(&acd.finish("c1", 3 * S).unwrap()), pairs(&[("o1", "ann")]));
    assert_eq!(acd.outbound_waiting(), 0);
}

#[test]
fn below_the_blend_level_outbound_goes_first() {
    let config = Config { blend_below: 3, ..Config::default() };
    let mut acd = engine_with(config, &[billing()]);
    arrive(&mut acd, "c1", "billing", Voice, 0);
    arrive(&mut acd, "c2", "billing", Voice, 0);
    acd.add_outbound(&OutboundWork::new("o1", "billing", Voice, "+1"), S).unwrap();
    assert_eq!(routed(&staff(&mut acd, biller("ann"), 2 * S)), pairs(&[("o1", "ann")]));
    arrive(&mut acd, "c3", "billing", Voice, 3 * S);
    acd.add_outbound(&OutboundWork::new("o2", "billing", Voice, "+2"), 3 * S).unwrap();
    // Three inbound contacts wait now: inbound first again.
    assert_eq!(routed(&acd.finish("o1", 4 * S).unwrap()), pairs(&[("c1", "ann")]));
}

// Position and expected wait.

#[test]
fn position_counts_contacts_ahead_in_the_same_queue_and_channel() {
    let mut acd = engine(&[billing()]);
    arrive(&mut acd, "c1", "billing", Voice, 0);
    arrive(&mut acd, "c2", "billing", Voice, S);
    arrive(&mut acd, "mail", "billing", Email, 2 * S);
    acd.arrive(&Arrival::new("es", "billing", Voice).language("es"), 3 * S).unwrap();
    acd.arrive(&Arrival::new("boosted", "billing", Voice).boost(10), 4 * S).unwrap();
    acd.arrive(&Arrival::new("en", "billing", Voice).language("en"), 5 * S).unwrap();
    let positions: Vec<_> =
        ["boosted", "c1", "c2", "es", "en", "mail"].into_iter().map(|id| acd.position(id).unwrap()).collect();
    // `es` and `en` both count the three contacts without a language, not each other.
    assert_eq!(positions, vec![1, 2, 3, 4, 4, 1]);
    assert_eq!(acd.queue_length("billing", Some(Voice)), Some(5));
    assert_eq!(acd.queue_length("billing", None), Some(6));
}

#[test]
fn expected_wait_is_position_times_handle_time_over_staffed_slots() {
    let mut acd = engine(&[billing()]);
    arrive(&mut acd, "c1", "billing", Voice, 0);
    assert_eq!(acd.expected_wait_ms("c1"), None, "nobody logged in could take it");
    acd.abandon("c1", 0).unwrap();
    staff(&mut acd, biller("ann"), 0);
    answered(&mut acd, "busy1", 0);
    staff(&mut acd, biller("bob"), 0);
    answered(&mut acd, "busy2", 0);
    for id in ["c1", "c2", "c3"] {
        arrive(&mut acd, id, "billing", Voice, S);
    }
    // No history yet: 5 minutes a contact, two agents.
    assert_eq!(acd.expected_wait_ms("c1"), Some(150 * S));
    assert_eq!(acd.expected_wait_ms("c3"), Some(450 * S));
    acd.finish("busy1", 100 * S).unwrap();
    // c1 went to ann; c2 is first now, and contacts take 100 s.
    assert_eq!(acd.position("c2"), Some(1));
    assert_eq!(acd.expected_wait_ms("c2"), Some(50 * S));
    assert_eq!(acd.expected_wait_ms("c1"), None, "c1 is no longer waiting");
}

// Setup and persistence.

#[test]
fn calls_the_engine_cannot_honour_are_refused() {
    let bad_overflow = Acd::new(Config::default(), &SKILLS, &[billing().overflow(S, "nowhere")]);
    assert_eq!(bad_overflow.err(), Some(AcdError::UnknownQueue("nowhere".to_string())));
    let bad_skill = Acd::new(Config::default(), &SKILLS, &[QueueSpec::new("q").skill("juggling")]);
    assert_eq!(bad_skill.err(), Some(AcdError::UnknownSkill("juggling".to_string())));
    let mut acd = engine(&[billing()]);
    assert!(matches!(
        acd.add_agent(&AgentSpec::new("ann", "Ann").skill_at("billing", 11), 0),
        Err(AcdError::InvalidValue(_))
    ));
    assert_eq!(acd.arrive(&Arrival::new("c1", "sales", Voice), 0), Err(AcdError::UnknownQueue("sales".to_string())));
    arrive(&mut acd, "c1", "billing", Voice, 0);
    assert_eq!(acd.arrive(&Arrival::new("c1", "billing", Voice), 0), Err(AcdError::DuplicateContact("c1".to_string())));
    assert_eq!(acd.finish("c1", S), Err(AcdError::NotInProgress("c1".to_string())));
    assert_eq!(acd.reject(OfferId(7), S), Err(AcdError::UnknownOffer(OfferId(7))));
    assert_eq!(acd.abandon("c9", S), Err(AcdError::UnknownContact("c9".to_string())));
}

#[test]
fn the_state_survives_a_round_trip_through_json() {
    let queues = [billing().overflow(60 * S, "support").wrap_up(10 * S), QueueSpec::new("support").skill("billing")];
    let mut acd = engine(&queues);
    staff(&mut acd, biller("ann").language("es"), 0);
    staff(&mut acd, biller("bob").capacity(Capacity::none().with(Chat, 2)), 0);
    answered(&mut acd, "c1", 0);
    arrive(&mut acd, "chat1", "billing", Chat, S);
    acd.arrive(&Arrival::new("c2", "billing", Voice).language("es").boost(3), 2 * S).unwrap();
    acd.arrive(&Arrival::new("c3", "billing", Voice).prefer("ann", 30 * S), 3 * S).unwrap();
    acd.add_outbound(&OutboundWork::new("o1", "billing", Voice, "+1"), 4 * S).unwrap();
    acd.finish("c1", 5 * S).unwrap();

    let json = serde_json::to_string(&acd).unwrap();
    let mut restored: Acd = serde_json::from_str(&json).unwrap();
    assert_eq!(serde_json::to_string(&restored).unwrap(), json);
    for now in [15 * S, 40 * S, 70 * S] {
        assert_eq!(restored.tick(now), acd.tick(now));
    }
    assert_eq!(serde_json::to_string(&restored).unwrap(), serde_json::to_string(&acd).unwrap());
}
