//! The engine lets go of contacts once nothing refers to them any more, so a long-running
//! engine does not grow with every contact it has ever seen.

use super::*;
use switchboard_compiler::loader::MemoryLoader;
use switchboard_compiler::{check, codegen, SourceFile};

const PROJECT: &str = r#"
skills support

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

entry voice +441632960000 -> hello
entry sms +441632960001 -> asked
entry chat "web" -> waits
"#;

fn engine() -> Engine {
    let std = switchboard_stdlib::modules();
    let loader = MemoryLoader { files: BTreeMap::new() };
    let files = vec![SourceFile { path: "contacts.flow".into(), text: Arc::from(PROJECT) }];
    let checked = check::check(check::Input { files, std: &std, loader: &loader, module: Arc::from("") });
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
    let bundle = codegen::compile(&checked, &loader).expect("the project compiles");
    Engine::with_rows(Arc::new(bundle), Vec::new(), Options::default(), Timestamp::UNIX_EPOCH).expect("an engine")
}

fn caller(n: usize) -> String {
    format!("+4477009{n:05}")
}

const MANY: usize = 10_000;

#[test]
fn contacts_whose_flow_ended_are_let_go() {
    let mut engine = engine();
    for n in 0..MANY {
        engine.contact(Channel::Voice, &caller(n), Some("+441632960000"), "", "").unwrap();
    }
    assert_eq!(engine.contacts_kept(), 0);
    assert!(engine.ended.len() <= RECENTLY_ENDED);
}

#[test]
fn contacts_in_routing_are_kept_until_they_end() {
    let mut engine = engine();
    let ids: Vec<u64> =
        (0..MANY).map(|n| engine.contact(Channel::Chat, &caller(n), Some("web"), "", "").unwrap()).collect();
    assert_eq!(engine.contacts_kept(), MANY, "every contact waits in `support`");
    assert!(ids.iter().all(|id| engine.is_live(*id)));
    for id in ids {
        engine.hang_up(id).unwrap();
    }
    assert_eq!(engine.contacts_kept(), 0);
    assert!(engine.ended.len() <= RECENTLY_ENDED);
}

#[test]
fn a_contact_is_kept_while_a_survey_waits_for_its_end() {
    let mut engine = engine();
    let id = engine.contact(Channel::Sms, &caller(1), Some("+441632960001"), "", "").unwrap();
    assert_eq!(engine.contacts_kept(), 1, "`thanks` runs when the contact ends");
    engine.hang_up(id).unwrap();
    assert!(engine.events().iter().any(|e| e.kind == EventKind::Say { text: "Thanks for calling.".into() }));
    assert_eq!(engine.contacts_kept(), 0);
}

#[test]
fn a_contact_that_just_ended_can_still_be_surveyed() {
    let mut engine = engine();
    let id = engine.contact(Channel::Voice, &caller(1), Some("+441632960000"), "", "").unwrap();
    assert_eq!(engine.contacts_kept(), 0);
    let survey = engine.bundle.survey("thanks").unwrap();
    engine.start_survey(id, survey).unwrap();
    assert!(engine.events().iter().any(|e| e.kind == EventKind::Say { text: "Thanks for calling.".into() }));
    engine.hang_up(id).unwrap();
    assert_eq!(engine.contacts_kept(), 0);
    assert!(engine.start_survey(u64::MAX, survey).is_err(), "no such contact");
}

#[test]
fn events_are_taken_or_drained_in_order() {
    let mut engine = engine();
    engine.contact(Channel::Voice, &caller(1), Some("+441632960000"), "", "").unwrap();
    let taken = engine.take_events();
    assert_eq!(taken.iter().map(|e| e.kind.word()).collect::<Vec<_>>(), ["contact", "say", "end"]);
    assert!(engine.events().is_empty());
    let mut store = taken;
    engine.contact(Channel::Voice, &caller(2), Some("+441632960000"), "", "").unwrap();
    engine.drain_events_into(&mut store);
    assert_eq!(store.len(), 6);
    assert!(engine.events().is_empty());
    assert_eq!(store[3].kind.to_string(), "contact voice from +447700900002 to +441632960000 → flow hello");
}

#[test]
fn contact_keys_are_c_and_the_id() {
    for id in [0, 7, 10, 12_345, u64::MAX] {
        assert_eq!(*contact_key(id), format!("c{id}"));
        assert_eq!(contact_id(&contact_key(id)), Some(id));
    }
    for key in ["c", "c07", "c+7", "c-1", "7", "out3-4", "c18446744073709551616"] {
        assert_eq!(contact_id(key), None, "{key}");
    }
}
