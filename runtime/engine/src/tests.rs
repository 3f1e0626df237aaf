//! The engine as a state machine: commands and their answers, stale answers, whole-state
//! save and restore, determinism, deploys; and that a long-running engine lets go of
//! contacts once nothing refers to them.

use super::*;
use std::collections::BTreeMap;
use switchboard_bytecode::bytecode::Bundle;
use switchboard_bytecode::types::Channel;
use switchboard_compiler::loader::MemoryLoader;
use switchboard_compiler::{check, codegen, SourceFile};

const PROJECT: &str = r#"
skills support

record Customer { id: text  name: text  email: email }

source crm: Customer {
  csv "crm.csv"
  key email
}

queue support {
  skills support
}

survey thanks {
  say "Thanks for calling."
}

flow hello on voice {
  say "Hello."
  end
}

flow asked on sms {
  survey thanks
  say "Hello."
  end
}

flow waits on chat {
  queue support
}

flow known on email {
  let c = lookup crm by contact.from
  if c != none {
    say "Hello {c.name}."
  } else {
    say "Who are you?"
  }
  end
}

survey on_the_call {
  via same channel
  ask helped: yes/no "Did we help?"
}

survey by_text {
  via sms
  say "Thanks, by text."
}

flow callback_line on voice {
  survey on_the_call
  survey by_text
  offer callback keep place
  queue support
}

flow goodbye on voice {
  survey on_the_call
  survey by_text
  say "Bye."
  end
}

flow chat_survey on chat {
  survey thanks
  queue support
}

script chase_call for queue support {
  step open {
    say "Hello, this is {agent.name} from Acme."
    outcome reached
  }
}

retry chase for phone: phone {
  immediately call phone queue support script chase_call
  on no_answer {
    send sms to phone "Sorry we missed you."
    again in 1h max 2
  }
  on answered { stop }
}

entry voice +441632960002 -> callback_line
entry voice +441632960003 -> goodbye
entry chat "survey" -> chat_survey
entry voice +441632960000 -> hello
entry sms +441632960001 -> asked
entry chat "web" -> waits
entry email "help@example.com" -> known
"#;

fn bundle(text: &str) -> Arc<Bundle> {
    let std = switchboard_stdlib::modules();
    let loader = MemoryLoader { files: BTreeMap::from([("crm.csv".to_string(), b"id,name,email\n".to_vec())]) };
    let files = vec![SourceFile { path: "contacts.flow".into(), text: Arc::from(text) }];
    let checked = check::check(check::Input { files, std: &std, loader: &loader, module: Arc::from("") });
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
    Arc::new(codegen::compile(&checked, &loader).expect("the project compiles"))
}

/// An engine with no shell around it: every command stays unanswered unless a test
/// answers it.
struct Bare {
    state: State,
    world: World,
    events: Vec<Event>,
    commands: Vec<Command>,
}

impl Bare {
    fn new() -> Bare {
        let mut world = World::new();
        let hash = world.deploy(bundle(PROJECT), Box::new(NoExterns)).unwrap();
        let state = State::new(&world, hash, Timestamp::UNIX_EPOCH).unwrap();
        Bare { state, world, events: Vec::new(), commands: Vec::new() }
    }

    fn step(&mut self, input: Input) -> Result<Option<Started>, EngineError> {
        let now = self.state.now();
        self.step_at(now, input)
    }

    fn step_at(&mut self, now: Timestamp, input: Input) -> Result<Option<Started>, EngineError> {
        let (mut out, result) = step(&mut self.state, &self.world, now, input);
        self.events.append(&mut out.events);
        self.commands.append(&mut out.commands);
        result.map(|()| out.started)
    }

    fn contact(&mut self, channel: Channel, from: &str, to: &str) -> ContactId {
        let arrival = Arrival {
            channel,
            from: from.into(),
            to: Some(to.into()),
            subject: "".into(),
            text: "".into(),
            attributes: vec![],
        };
        match self.step(Input::Arrive(arrival)).unwrap() {
            Some(Started::Contact(id)) => id,
            other => panic!("no contact started: {other:?}"),
        }
    }

    fn says(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Say { text } => Some(text.to_string()),
                _ => None,
            })
            .collect()
    }

    fn disconnected(&self, contact: ContactId) -> bool {
        self.commands.iter().any(|c| c.kind == CommandKind::Disconnect { contact })
    }

    fn skipped(&self) -> Vec<String> {
        self.events.iter().filter(|e| e.kind.word() == "survey_skipped").map(|e| e.kind.to_string()).collect()
    }

    fn lookup_command(&self) -> CommandId {
        self.commands
            .iter()
            .rev()
            .find(|c| matches!(c.kind, CommandKind::Lookup { .. }))
            .map(|c| c.id)
            .expect("a look-up was asked for")
    }
}

/// Agent Kim, with the support skill, logs in.
fn kim_logs_in() -> Input {
    Input::Agent(AgentAction::LogIn(Box::new(
        AgentView { id: "kim".into(), name: "Kim".into(), skills: vec!["support".into()], languages: vec![] }.into(),
    )))
}

fn caller(n: usize) -> String {
    format!("+4477009{n:05}")
}

fn ann() -> Arc<switchboard_bytecode::value::Record> {
    Arc::new(switchboard_bytecode::value::Record {
        type_name: Arc::from("Customer"),
        fields: vec![
            (Arc::from("id"), Value::text("c1")),
            (Arc::from("name"), Value::text("Ann")),
            (Arc::from("email"), Value::Email(Arc::from("ann@example.com"))),
        ],
    })
}

use switchboard_bytecode::value::Value;

#[test]
fn a_look_up_is_a_command_and_its_answer_resumes_the_flow() {
    let mut e = Bare::new();
    let contact = e.contact(Channel::Email, "ann@example.com", "help@example.com");
    let command = e.lookup_command();
    assert_eq!(command.session, contact.session(), "the command is the contact's session's");
    assert!(e.says().is_empty(), "the flow waits for the rows");
    e.step(Input::Completed { command, result: Completion::Lookup(LookupResult::Found(ann())) }).unwrap();
    assert_eq!(e.says(), ["Hello Ann."]);
    let lookup = e.events.iter().find(|ev| ev.kind.word() == "lookup").expect("a lookup event");
    assert_eq!(lookup.kind.to_string(), "lookup crm: found");
}

#[test]
fn an_answer_to_a_command_no_longer_pending_is_stale_and_changes_nothing() {
    let mut e = Bare::new();
    e.contact(Channel::Email, "ann@example.com", "help@example.com");
    let command = e.lookup_command();
    e.step(Input::Completed { command, result: Completion::Lookup(LookupResult::Missed) }).unwrap();
    assert_eq!(e.says(), ["Who are you?"]);
    let before = e.state.to_bytes();
    let again = e.step(Input::Completed { command, result: Completion::Lookup(LookupResult::Found(ann())) });
    assert_eq!(again, Err(EngineError::StaleAnswer(command)));
    assert_eq!(again.unwrap_err().class(), ErrorClass::Conflict);
    assert_eq!(e.state.to_bytes(), before, "a stale answer changes nothing");
    assert_eq!(e.says(), ["Who are you?"]);
    let never = CommandId { session: SessionId(99), seq: 12_345 };
    assert_eq!(
        e.step(Input::Completed { command: never, result: Completion::Delivered }),
        Err(EngineError::StaleAnswer(never))
    );
}

#[test]
fn an_answer_of_the_wrong_kind_is_refused_and_the_command_stays_pending() {
    let mut e = Bare::new();
    e.contact(Channel::Email, "ann@example.com", "help@example.com");
    let command = e.lookup_command();
    let before = e.state.to_bytes();
    let wrong = e.step(Input::Completed { command, result: Completion::Delivered });
    assert!(matches!(wrong, Err(EngineError::WrongAnswer { .. })), "{wrong:?}");
    assert_eq!(e.state.to_bytes(), before);
    e.step(Input::Completed { command, result: Completion::Lookup(LookupResult::TimedOut) }).unwrap();
    assert_eq!(e.says(), ["Who are you?"], "a time-out gives none");
}

#[test]
fn replies_to_what_does_not_wait_are_refused_by_kind() {
    let mut e = Bare::new();
    let unknown = e.step(Input::Reply { session: SessionId(4242), reply: Reply::Keys("1".into()) });
    assert_eq!(unknown.unwrap_err().class(), ErrorClass::Conflict);
    let contact = e.step(Input::HangUp { contact: ContactId(4242) });
    assert_eq!(contact, Err(EngineError::UnknownContact(ContactId(4242))));
    assert_eq!(e.step(Input::HangUp { contact: ContactId(4242) }).unwrap_err().class(), ErrorClass::NotFound);
    let offer = e.step(Input::Agent(AgentAction::Accept { offer: OfferId(77) }));
    assert_eq!(offer, Err(EngineError::UnknownOffer(OfferId(77))));
    let script =
        e.step(Input::StartScript { contact: ContactId(4242), script: "nope".to_string(), agent: Box::default() });
    assert_eq!(script.unwrap_err().class(), ErrorClass::NotFound);
}

#[test]
fn command_ids_name_their_session_and_never_repeat() {
    let mut e = Bare::new();
    for n in 0..20 {
        e.contact(Channel::Voice, &caller(n), "+441632960000");
    }
    let ids: Vec<CommandId> = e.commands.iter().map(|c| c.id).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), ids.len(), "unique");
    assert_eq!(sorted, ids, "handed out in order");
    assert!(e.commands.iter().any(|c| matches!(c.kind, CommandKind::Disconnect { .. })), "`end` hangs up");
}

#[test]
fn the_whole_state_saved_mid_wait_goes_on_exactly_as_the_original() {
    let mut a = Bare::new();
    a.contact(Channel::Email, "ann@example.com", "help@example.com");
    let command = a.lookup_command();
    let mut b = Bare { state: State::from_bytes(&a.state.to_bytes()).unwrap(), ..Bare::new() };
    let answer = Input::Completed { command, result: Completion::Lookup(LookupResult::Found(ann())) };
    a.step(answer.clone()).unwrap();
    b.step(answer).unwrap();
    assert_eq!(a.says(), b.says());
    assert_eq!(a.state.to_bytes(), b.state.to_bytes());
}

#[test]
fn the_same_inputs_give_the_same_state_byte_for_byte() {
    let run = || {
        let mut e = Bare::new();
        for n in 0..50 {
            let channel = [Channel::Voice, Channel::Chat, Channel::Sms][n % 3];
            let to = ["+441632960000", "web", "+441632960001"][n % 3];
            e.contact(channel, &caller(n), to);
        }
        e.step(kim_logs_in()).unwrap();
        e.state.to_bytes()
    };
    assert_eq!(run(), run());
}

#[test]
fn a_deploy_starts_new_contacts_on_the_new_bundle_and_running_ones_finish_on_theirs() {
    let mut e = Bare::new();
    let old = e.state.current_bundle();
    let waiting = e.contact(Channel::Email, "ann@example.com", "help@example.com");
    let command = e.lookup_command();
    let newer = PROJECT.replace("Hello {c.name}.", "Welcome back, {c.name}.");
    let hash = e.world.deploy(bundle(&newer), Box::new(NoExterns)).unwrap();
    assert_ne!(hash, old);
    e.step(Input::Deploy { bundle: hash }).unwrap();
    assert_eq!(e.state.current_bundle(), hash);
    assert_eq!(e.state.session_bundle(waiting.session()), Some(old), "pinned to the bundle it started on");
    e.step(Input::Completed { command, result: Completion::Lookup(LookupResult::Found(ann())) }).unwrap();
    e.contact(Channel::Email, "bob@example.com", "help@example.com");
    let second = e.lookup_command();
    e.step(Input::Completed { command: second, result: Completion::Lookup(LookupResult::Found(ann())) }).unwrap();
    assert_eq!(e.says(), ["Hello Ann.", "Welcome back, Ann."]);
    // Rolling back is deploying the old one again.
    e.step(Input::Deploy { bundle: old }).unwrap();
    assert_eq!(e.state.current_bundle(), old);
    let unknown = BundleHash([7; 32]);
    assert_eq!(e.step(Input::Deploy { bundle: unknown }), Err(EngineError::UnknownBundle(unknown)));
}

#[test]
fn a_state_that_names_a_bundle_the_world_lacks_is_refused_not_run() {
    let e = Bare::new();
    let mut state = e.state.clone();
    let empty = World::new();
    let (_, result) = step(&mut state, &empty, Timestamp::UNIX_EPOCH, Input::Tick);
    assert!(matches!(result, Err(EngineError::UnknownBundle(_))));
}

const MANY: usize = 10_000;

#[test]
fn contacts_whose_flow_ended_are_let_go() {
    let mut e = Bare::new();
    for n in 0..MANY {
        e.contact(Channel::Voice, &caller(n), "+441632960000");
    }
    assert_eq!(e.state.contacts_kept(), 0);
    assert!(e.state.ended.len() <= state::RECENTLY_ENDED);
}

#[test]
fn contacts_in_routing_are_kept_until_they_end() {
    let mut e = Bare::new();
    let ids: Vec<ContactId> = (0..MANY).map(|n| e.contact(Channel::Chat, &caller(n), "web")).collect();
    assert_eq!(e.state.contacts_kept(), MANY, "every contact waits in `support`");
    assert!(ids.iter().all(|id| e.state.is_live(id.session())));
    for id in ids {
        e.step(Input::HangUp { contact: id }).unwrap();
    }
    assert_eq!(e.state.contacts_kept(), 0);
    assert!(e.state.ended.len() <= state::RECENTLY_ENDED);
}

#[test]
fn a_contact_is_kept_while_a_survey_waits_for_its_end() {
    let mut e = Bare::new();
    let id = e.contact(Channel::Chat, &caller(1), "survey");
    assert_eq!(e.state.contacts_kept(), 1, "`thanks` runs when the contact ends");
    assert!(!e.says().contains(&"Thanks for calling.".to_string()));
    e.step(Input::HangUp { contact: id }).unwrap();
    assert!(e.says().contains(&"Thanks for calling.".to_string()));
    assert_eq!(e.state.contacts_kept(), 0);
}

#[test]
fn a_flow_that_ends_with_end_runs_its_survey() {
    let mut e = Bare::new();
    let id = e.contact(Channel::Sms, &caller(1), "+441632960001");
    assert_eq!(e.says(), ["Hello.", "Thanks for calling."], "`end` ends the contact: `thanks` runs");
    assert_eq!(e.state.contacts_kept(), 0, "nothing waits for the contact any more");
    assert!(e.disconnected(id));
}

#[test]
fn end_plays_a_same_channel_survey_on_the_call_before_hanging_up() {
    let mut e = Bare::new();
    let id = e.contact(Channel::Voice, &caller(1), "+441632960003");
    assert_eq!(e.says(), ["Bye.", "Did we help?", "Thanks, by text."]);
    assert!(!e.disconnected(id), "the line stays open for the survey on the call");
    let survey = e.state.waiting_session().expect("the survey waits for an answer");
    e.step(Input::Reply { session: survey, reply: Reply::Keys("1".into()) }).unwrap();
    assert!(e.disconnected(id), "hung up once the survey is over");
    assert_eq!(e.state.contacts_kept(), 0);
}

#[test]
fn a_caller_who_hangs_up_during_the_survey_end_held_the_line_for_stops_it() {
    let mut e = Bare::new();
    let id = e.contact(Channel::Voice, &caller(1), "+441632960003");
    e.step(Input::HangUp { contact: id }).unwrap();
    assert!(e.skipped().contains(&"survey on_the_call skipped: the caller hung up during the survey".to_string()));
    assert!(!e.disconnected(id), "there is no call left to hang up");
    assert_eq!(e.state.waiting_session(), None);
    assert_eq!(e.state.contacts_kept(), 0);
}

#[test]
fn hang_up_skips_a_voice_survey_on_the_same_channel_and_sends_the_sms_one() {
    let mut e = Bare::new();
    let id = e.contact(Channel::Voice, &caller(1), "+441632960002");
    let offer = e.state.waiting_session().expect("the callback offer waits");
    e.step(Input::Reply { session: offer, reply: Reply::Keys("2".into()) }).unwrap();
    e.step(Input::HangUp { contact: id }).unwrap();
    assert!(!e.says().contains(&"Did we help?".to_string()), "not played to a caller who hung up");
    assert_eq!(
        e.skipped(),
        ["survey on_the_call skipped: the caller hung up, so a survey on the call cannot be played"]
    );
    assert!(e.says().contains(&"Thanks, by text.".to_string()), "the sms survey still goes");
}

#[test]
fn a_callback_taken_in_the_flow_ends_the_call_and_is_due_when_an_agent_is_free() {
    let mut e = Bare::new();
    let id = e.contact(Channel::Voice, &caller(7), "+441632960002");
    let prompt = e.commands.iter().rev().find_map(|c| match &c.kind {
        CommandKind::Prompt { gather: Some(g), .. } => Some(*g),
        _ => None,
    });
    assert!(matches!(prompt, Some(Gather::Callback { .. })), "the caller is asked: {prompt:?}");
    let session = e.state.waiting_session().expect("the offer waits");
    e.step(Input::Reply { session, reply: Reply::Keys("1".into()) }).unwrap();
    e.step(Input::Reply { session, reply: Reply::Text("07700 900123".into()) }).unwrap();
    assert!(e.disconnected(id), "the caller leaves once the flow queues the callback");
    let routing: Vec<String> = e.events.iter().map(|ev| ev.kind.to_string()).collect();
    assert!(routing.contains(&"callback taken: call +447700900123".to_string()), "{routing:?}");
    assert!(routing.contains(&"routing: callback kept the place of +447700900123".to_string()), "{routing:?}");
    assert!(e.state.is_live(id.session()), "the callback is in routing");
    e.step(kim_logs_in()).unwrap();
    let due = e
        .events
        .iter()
        .any(|ev| ev.kind == EventKind::Routing(RoutingEvent::CallbackDue { to: "+447700900123".into() }));
    assert!(due, "the callback is due");
    let offer = e.state.ringing_offer().expect("kim is offered the callback");
    e.step(Input::Agent(AgentAction::Accept { offer })).unwrap();
    let dial = e.commands.iter().any(|c| matches!(&c.kind, CommandKind::Dial { to, .. } if *to == "+447700900123"));
    assert!(dial, "the customer is called back");
}

#[test]
fn a_contact_that_just_ended_can_still_be_surveyed() {
    let mut e = Bare::new();
    let id = e.contact(Channel::Voice, &caller(1), "+441632960000");
    assert_eq!(e.state.contacts_kept(), 0);
    e.step(Input::StartSurvey { contact: id, survey: "thanks".to_string() }).unwrap();
    assert!(e.says().contains(&"Thanks for calling.".to_string()));
    e.step(Input::HangUp { contact: id }).unwrap();
    assert_eq!(e.state.contacts_kept(), 0);
    let nobody = e.step(Input::StartSurvey { contact: ContactId(u64::MAX), survey: "thanks".to_string() });
    assert_eq!(nobody, Err(EngineError::UnknownContact(ContactId(u64::MAX))));
}

#[test]
fn contact_keys_are_c_and_the_id() {
    for id in [0, 7, 10, 12_345, u64::MAX] {
        assert_eq!(*contact_key(ContactId(id)), format!("c{id}"));
        assert_eq!(*contact_key(ContactId(id)), ContactId(id).to_string());
        assert_eq!(contact_id(&contact_key(ContactId(id))), Some(ContactId(id)));
    }
    for key in ["c", "c07", "c+7", "c-1", "7", "out3-4", "c18446744073709551616"] {
        assert_eq!(contact_id(key), None, "{key}");
    }
}

const REPLIES: &str = r#"
skills support
record Customer { id: text  name: text  email: email }
record Order { id: text  email: email }
source crm: Customer {
  csv "crm.csv"
  key email
}
queue support { skills support }
queue billing { skills support }
flow waits on chat, voice { queue support }
entry chat "web" -> waits
entry voice +441632960000 -> waits

reply hello "Hello, I'm {agent.name}."
reply hello for queue support with customer: Customer { en: "Hello {customer.name}, support here.", es: "Hola {customer.name}." }
reply order for queue support with order: Order "Your order {order.id}."
reply billing for queue billing "Billing here."
reply bye "Bye from {contact.channel}."
"#;

#[test]
fn replies_are_rendered_for_the_contact_its_queue_agent_and_records() {
    let mut world = World::new();
    let hash = world.deploy(bundle(REPLIES), Box::new(NoExterns)).unwrap();
    let mut state = State::new(&world, hash, Timestamp::UNIX_EPOCH).unwrap();
    let arrive = |state: &mut State, channel: Channel, to: &str| {
        let arrival = Arrival {
            channel,
            from: "+447700900001".into(),
            to: Some(to.into()),
            subject: "".into(),
            text: "".into(),
            attributes: vec![],
        };
        match step(state, &world, Timestamp::UNIX_EPOCH, Input::Arrive(arrival)).1 {
            Ok(()) => {}
            Err(e) => panic!("{e}"),
        }
    };
    let (_, r) = step(&mut state, &world, Timestamp::UNIX_EPOCH, kim_logs_in());
    r.unwrap();
    arrive(&mut state, Channel::Chat, "web");
    arrive(&mut state, Channel::Voice, "+441632960000");
    let chat = ContactId(1);
    let texts = |found: &[switchboard_bytecode::value::Record], queue: Option<&str>| -> Vec<(String, String)> {
        replies(&state, &world, chat, queue, Some("kim"), found)
            .into_iter()
            .map(|r| (r.name, r.text.unwrap_or_else(|e| format!("error: {e}"))))
            .collect()
    };
    let pair = |n: &str, t: &str| (n.to_string(), t.to_string());

    // No customer found: the reply for every queue stands in; none `with` an Order either.
    assert_eq!(texts(&[], Some("support")), vec![pair("hello", "Hello, I'm Kim."), pair("bye", "Bye from chat.")]);
    // With the customer, the support queue's `hello` takes the place of the general one.
    assert_eq!(
        texts(&[(*ann()).clone()], Some("support")),
        vec![pair("hello", "Hello Ann, support here."), pair("bye", "Bye from chat.")]
    );
    // Another queue's replies are not offered; in no queue, only the general ones.
    assert_eq!(
        texts(&[(*ann()).clone()], Some("billing")),
        vec![pair("hello", "Hello, I'm Kim."), pair("billing", "Billing here."), pair("bye", "Bye from chat.")]
    );
    assert_eq!(texts(&[], None), vec![pair("hello", "Hello, I'm Kim."), pair("bye", "Bye from chat.")]);
    // A call has no composer.
    assert!(replies(&state, &world, ContactId(2), Some("support"), Some("kim"), &[(*ann()).clone()]).is_empty());
}

/// The `Dial`s of the commands so far, as (command, to, run named).
fn dials(e: &Bare) -> Vec<(CommandId, String, bool)> {
    e.commands
        .iter()
        .filter_map(|c| match &c.kind {
            CommandKind::Dial { to, run, .. } => Some((c.id, to.to_string(), run.is_some())),
            _ => None,
        })
        .collect()
}

#[test]
fn a_strategys_call_is_placed_once_an_agent_takes_it_and_its_outcome_is_the_strategys() {
    let mut e = Bare::new();
    let to = Value::Phone(Arc::from("+447700900555"));
    e.step(Input::StartRetry { retry: "chase".into(), subject: to.clone() }).unwrap();
    let said: Vec<String> = e.events.iter().map(|ev| ev.kind.to_string()).collect();
    assert!(said.iter().any(|s| s.starts_with("call +447700900555")), "{said:?}");
    assert!(dials(&e).is_empty(), "no one is called before an agent is there to talk to them");

    // Kim logs in: the call rings her as a call would; she takes it, and the customer is dialled.
    e.step(kim_logs_in()).unwrap();
    let offer = e.state.ringing_offer().expect("kim is offered the strategy's call");
    e.step(Input::Agent(AgentAction::Accept { offer })).unwrap();
    let placed = dials(&e);
    assert_eq!(placed.len(), 1, "{placed:?}");
    let (command, number, for_run) = placed[0].clone();
    assert_eq!((number.as_str(), for_run), ("+447700900555", true));
    let contact = ContactId(command.session.0);
    let view = e.state.contact(contact).expect("a contact stands for the call");
    assert_eq!(
        (view.contact.channel, view.contact.attributes.get("script").map(String::as_str)),
        (Channel::Voice, Some("chase_call"))
    );
    let calls = e.events.iter().filter(|ev| ev.kind.word() == "call").count();
    assert_eq!(calls, 1, "the strategy said `call` once, when it reached it");

    // No answer: Kim's part is over (she is free for the next), the strategy texts and
    // calls again in an hour, through routing again.
    e.step(Input::Completed { command, result: Completion::NoAnswer }).unwrap();
    assert!(!e.state.is_live(contact.session()), "the unanswered call's contact ended");
    assert!(e
        .commands
        .iter()
        .any(|c| matches!(&c.kind, CommandKind::Send { text, .. } if *text == "Sorry we missed you.")));
    let later = e.state.now().checked_add(jiff::SignedDuration::from_hours(1)).unwrap();
    e.step_at(later, Input::Tick).unwrap();
    let offer = e.state.ringing_offer();
    // Kim may still be wrapping up; once she is free the second attempt rings her.
    let offer = match offer {
        Some(o) => o,
        None => {
            let free = later.checked_add(jiff::SignedDuration::from_mins(10)).unwrap();
            e.step_at(free, Input::Tick).unwrap();
            e.state.ringing_offer().expect("the second attempt rings kim")
        }
    };
    e.step(Input::Agent(AgentAction::Accept { offer })).unwrap();
    let (command, _, _) = dials(&e).last().cloned().unwrap();
    assert_eq!(dials(&e).len(), 2);
    // Answered: the strategy stops; the call is Kim's contact until she finishes it.
    e.step(Input::Completed { command, result: Completion::Answered }).unwrap();
    assert!(e.events.iter().any(|ev| ev.kind == EventKind::Stop), "on answered {{ stop }} ran");
    let contact = ContactId(command.session.0);
    assert!(e.state.contact(contact).is_some(), "the answered call is a contact with kim");
    e.step(Input::HangUp { contact }).unwrap();
    assert!(e.state.acd().contact_state(&routing::routing_key(contact)).is_none(), "the call is over for routing");
}

#[test]
fn a_strategy_that_stops_takes_back_the_call_no_agent_has_taken() {
    let mut e = Bare::new();
    e.step(Input::StartRetry { retry: "chase".into(), subject: Value::Phone(Arc::from("+447700900556")) }).unwrap();
    // The customer is reached another way: `answered` comes as an event, not from a dial.
    e.step(Input::RetryEvent { run: None, event: "answered".into() }).unwrap();
    e.step(kim_logs_in()).unwrap();
    assert!(e.state.ringing_offer().is_none(), "the stopped strategy's call is not offered");
    assert!(dials(&e).is_empty());
}
