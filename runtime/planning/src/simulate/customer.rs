//! The simulated customer: where they come from, what they answer when a flow asks, how
//! long they think before answering, and when they take a callback.
//!
//! A flow's prompts are recognised by where they come from: the `Say` event of a `menu` or
//! an `ask` carries the span of that statement, which the bundle's span table ties to its
//! `Menu` or `Ask` instruction, and so to the menu's keys or the question's type.

use super::random::Stream;
use std::collections::BTreeMap;
use switchboard_bytecode::bytecode::{AnswerKind, AskId, Bundle, Instr, MenuId, SourceSpan};
use switchboard_bytecode::types::Channel;
use switchboard_engine::answers::Reply;

/// How many times in a row a customer answers the same prompt before falling silent and
/// letting the flow time out (a menu that loops back to itself, a question they keep
/// getting wrong).
pub const MAX_ANSWERS_TO_ONE_PROMPT: u32 = 3;

/// The share of callers offered a callback in a queue (`offer callback`) who take it.
pub const CALLBACK_TAKE: f64 = 0.5;

/// How likely someone a retry strategy calls is to answer.
pub const OUTBOUND_ANSWER: f64 = 0.6;

/// How long an agent spends on an answered strategy's call when the scenario gives voice
/// no handling time of its own (3 minutes).
pub const OUTBOUND_HANDLE_MS: f64 = 180_000.0;

/// What a flow is waiting to hear.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prompt {
    Menu(MenuId),
    Ask(AskId),
}

/// Every prompt of a bundle, by the span of its statement.
#[derive(Debug, Default)]
pub struct Prompts {
    by_span: BTreeMap<(u32, u32, u32), Prompt>,
}

impl Prompts {
    pub fn of(bundle: &Bundle) -> Prompts {
        let mut by_span = BTreeMap::new();
        for function in &bundle.functions {
            for (instr, span) in function.code.iter().zip(&function.spans) {
                let prompt = match instr {
                    Instr::Menu { menu } => Prompt::Menu(*menu),
                    Instr::Ask { ask } => Prompt::Ask(*ask),
                    _ => continue,
                };
                by_span.insert(key(span), prompt);
            }
        }
        Prompts { by_span }
    }

    /// The prompt a `Say` event from `origin` asks, if it is one.
    pub fn asked_at(&self, origin: Option<SourceSpan>) -> Option<Prompt> {
        self.by_span.get(&key(&origin?)).copied()
    }
}

fn key(span: &SourceSpan) -> (u32, u32, u32) {
    (span.file.0, span.span.start, span.span.end)
}

/// A valid answer, chosen at random: any of a menu's options with equal chance, or a
/// value of the question's type.
pub fn answer(bundle: &Bundle, prompt: Prompt, channel: Channel, rng: &mut Stream) -> Reply {
    let on_phone = channel == Channel::Voice;
    let keys = |text: String| if on_phone { Reply::Keys(text) } else { Reply::Text(text) };
    match prompt {
        Prompt::Menu(menu) => {
            let options = &bundle.menus[menu.index()].options;
            if options.is_empty() {
                return keys("1".to_string());
            }
            keys(options[rng.index(options.len())].0.clone())
        }
        Prompt::Ask(ask) => match &bundle.asks[ask.index()].kind {
            AnswerKind::Digits(n) => keys((0..*n).map(|_| char::from(b'0' + rng.between(0, 9) as u8)).collect()),
            AnswerKind::YesNo if on_phone => keys(rng.between(1, 2).to_string()),
            AnswerKind::YesNo => Reply::Text(if rng.chance(0.5) { "yes" } else { "no" }.to_string()),
            AnswerKind::Range(low, high) => keys(rng.between(low.ceil() as i64, high.floor() as i64).to_string()),
            AnswerKind::Number => keys(rng.between(1, 100).to_string()),
            AnswerKind::Text => Reply::Text(pick(rng, &["my laptop will not start", "I cannot log in", "help please"])),
            AnswerKind::Date => Reply::Text("2026-11-23".to_string()),
            AnswerKind::Money => Reply::Text(format!("{}.00", rng.between(5, 200))),
            AnswerKind::Phone => Reply::Text(format!("+447911{:06}", rng.between(0, 999_999))),
            AnswerKind::Email => Reply::Text(format!("caller{}@example.net", rng.between(0, 999_999))),
            AnswerKind::Time => Reply::Text(format!("{:02}:{:02}", rng.between(8, 17), rng.between(0, 3) * 15)),
            AnswerKind::Enum(variants) if !variants.is_empty() => Reply::Text(pick(rng, variants)),
            AnswerKind::Enum(_) => Reply::Text(String::new()),
        },
    }
}

/// One of a `choose`'s options, at random.
pub fn choose(options: &[String], rng: &mut Stream) -> Reply {
    Reply::Text(if options.is_empty() { String::new() } else { pick(rng, options) })
}

fn pick<S: AsRef<str>>(rng: &mut Stream, items: &[S]) -> String {
    items[rng.index(items.len())].as_ref().to_string()
}

/// How long a customer takes to answer a prompt: 1–4 s on the phone, 2–8 s in writing.
pub fn think_ms(channel: Channel, rng: &mut Stream) -> i64 {
    match channel {
        Channel::Voice => rng.between(1_000, 4_000),
        _ => rng.between(2_000, 8_000),
    }
}

/// Whether a customer waiting in a queue on `channel` may run out of patience and leave:
/// callers and chatters do; email, SMS and social messages wait until answered.
pub fn can_abandon(channel: Channel) -> bool {
    matches!(channel, Channel::Voice | Channel::Chat)
}

/// The `n`th customer's address on a channel: numbers and addresses no example project
/// knows, so every customer is a stranger to the project's data.
pub fn address(channel: Channel, n: u64) -> String {
    match channel {
        Channel::Voice | Channel::Sms => format!("+447911{:06}", n % 1_000_000),
        Channel::Email => format!("customer{n}@example.net"),
        Channel::Chat => format!("visitor-{n}"),
        Channel::Social => format!("@visitor{n}"),
    }
}

/// The opening text of a written contact.
pub fn opening(channel: Channel) -> (&'static str, &'static str) {
    match channel {
        Channel::Email => ("Help needed", "Hello, I need some help with my account."),
        Channel::Sms | Channel::Social => ("", "Hi, I need some help"),
        Channel::Voice | Channel::Chat => ("", ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_bytecode::bytecode::{AskInfo, MenuInfo};
    use switchboard_bytecode::value::Currency;
    use switchboard_engine::answers::{validate, Locale};

    #[test]
    fn every_answer_to_a_question_is_valid_for_its_type() {
        let kinds = [
            AnswerKind::Digits(6),
            AnswerKind::YesNo,
            AnswerKind::Range(1.0, 5.0),
            AnswerKind::Number,
            AnswerKind::Text,
            AnswerKind::Date,
            AnswerKind::Money,
            AnswerKind::Phone,
            AnswerKind::Email,
            AnswerKind::Time,
            AnswerKind::Enum(vec!["red".into(), "blue".into()]),
        ];
        let mut bundle = Bundle::default();
        for (i, kind) in kinds.iter().enumerate() {
            bundle.asks.push(AskInfo { name: format!("a{i}"), kind: kind.clone(), timeout_ms: None, retries: None });
        }
        let mut rng = Stream::new(1, 0);
        for channel in [Channel::Voice, Channel::Chat] {
            for (i, kind) in kinds.iter().enumerate() {
                for _ in 0..50 {
                    let reply = answer(&bundle, Prompt::Ask(AskId(i as u32)), channel, &mut rng);
                    let locale = Locale { currency: Currency::GBP, country: Some("GB") };
                    assert!(validate(kind, &reply, locale).is_some(), "{kind:?} on {channel}: {reply:?}");
                }
            }
        }
    }

    #[test]
    fn menu_answers_are_the_menus_keys_each_in_turn() {
        let mut bundle = Bundle::default();
        let options = vec![("1".to_string(), None), ("2".to_string(), Some("software".to_string()))];
        bundle.menus.push(MenuInfo { options, timeout_ms: 10_000, retries: 1, has_timeout: true });
        let mut rng = Stream::new(1, 0);
        let mut seen = BTreeMap::new();
        for _ in 0..1000 {
            let reply = answer(&bundle, Prompt::Menu(MenuId(0)), Channel::Voice, &mut rng);
            *seen.entry(reply.as_text()).or_insert(0) += 1;
            assert!(matches!(reply, Reply::Keys(_)), "keys on the phone");
        }
        assert_eq!(seen.keys().collect::<Vec<_>>(), ["1", "2"]);
        assert!(seen.values().all(|&n| n > 400), "about half each: {seen:?}");
        let reply = answer(&bundle, Prompt::Menu(MenuId(0)), Channel::Chat, &mut rng);
        assert!(matches!(reply, Reply::Text(_)), "typed in a chat");
    }

    #[test]
    fn addresses_are_valid_for_their_channel() {
        assert_eq!(address(Channel::Voice, 42), "+447911000042");
        assert!(switchboard_sources::normalize::normalize_phone(&address(Channel::Sms, 7), None).is_some());
        assert!(switchboard_sources::normalize::normalize_email(&address(Channel::Email, 7)).is_some());
    }
}
