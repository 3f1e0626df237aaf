//! A flow's `offer callback [keep place]`, as a queued callback works in Amazon Connect or
//! Genesys: the caller is asked whether to be called back instead of holding; if they take
//! it, they confirm the number they call from with a key or key in another one (checked as
//! a phone number). The flow then goes on to its `queue`, which leaves the callback in the
//! caller's place (`keep place`) or hands it to the next free agent, and ends the call
//! (`routing.rs`). No, silence, or no number we can call leaves the caller on the line and
//! the flow goes on as before.

use crate::answers::Reply;
use crate::core::Core;
use crate::events::{EventKind, Text};
use crate::ids::SessionId;
use crate::io::{Audience, CommandKind, Gather};
use crate::state::{Callback, CallbackStage, Session, SessionKind, Timer, Wait};
use std::sync::Arc;
use switchboard_bytecode::bytecode::SourceSpan;
use switchboard_bytecode::normalize;
use switchboard_bytecode::types::Channel;
use switchboard_bytecode::value::Value;
use switchboard_vm::{Contact, Resume};

/// How long the caller has to answer each prompt.
const TIMEOUT_MS: i64 = 10_000;
/// How many times a prompt is repeated after an answer that does not fit (and, for the
/// number, after silence) before the callback is given up.
const RETRIES: u32 = 2;

impl Core<'_> {
    /// A flow reaches `offer callback`: the caller is asked. `true` when the flow waits for
    /// the answer; a caller who already took a callback, or a contact that is not a call,
    /// is not asked.
    pub(crate) fn offer_callback(&mut self, s: &mut Session, keep_place: bool, origin: Option<SourceSpan>) -> bool {
        let asks = matches!(s.kind, SessionKind::Flow(_)) && s.contact.is_some() && s.callback.is_none();
        if !asks || s.vm.contact.channel != Channel::Voice {
            return false;
        }
        let timer = self.callback_prompt(s.id, s.contact, offer_prompt(keep_place), origin);
        s.wait = Wait::Callback { keep_place, stage: CallbackStage::Offer, tries: 0, timer };
        true
    }

    /// What the caller keyed or said while asked about a callback.
    pub(crate) fn callback_reply(&mut self, session: SessionId, reply: &Reply) {
        let Some(s) = self.sessions.get(&session) else { return };
        let Wait::Callback { keep_place, stage, tries, timer } = s.wait.clone() else { return };
        let (own, country) = (own_number(&s.vm.contact), country(&s.vm.contact));
        self.cancel(timer);
        let text = reply.as_text();
        let word = text.trim().trim_end_matches('#').to_lowercase();
        match stage {
            CallbackStage::Offer => match word.as_str() {
                "1" | "yes" | "y" | "yeah" | "please" | "call me back" | "callback" | "call back" => {
                    let timer = self.callback_prompt(
                        session,
                        self.sessions[&session].contact,
                        number_prompt(own.as_deref()),
                        None,
                    );
                    self.set_wait(
                        session,
                        Wait::Callback { keep_place, stage: CallbackStage::Number, tries: 0, timer },
                    );
                }
                "2" | "no" | "n" | "nope" | "no thanks" | "hold" => self.decline(session, "the caller said no", None),
                _ => self.ask_again(session, keep_place, stage, tries, None),
            },
            CallbackStage::Number => {
                let to = match (own, word.as_str()) {
                    (Some(own), "1" | "yes" | "y") => Some(own),
                    _ => phone_number(&text, &country),
                };
                match to {
                    Some(to) => self.take_callback(session, to, keep_place),
                    None => {
                        let sorry = "Sorry, that isn't a phone number we can call.";
                        self.ask_again(session, keep_place, stage, tries, Some(sorry));
                    }
                }
            }
        }
    }

    /// Silence while asked about a callback: no answer to the offer is a no; silence at the
    /// number is asked again, as a wrong number is.
    pub(crate) fn callback_silence(&mut self, session: SessionId) {
        let Some(s) = self.sessions.get(&session) else { return };
        let Wait::Callback { keep_place, stage, tries, timer } = s.wait.clone() else { return };
        self.cancel(timer);
        match stage {
            CallbackStage::Offer => self.decline(session, "no answer", None),
            CallbackStage::Number => self.ask_again(session, keep_place, stage, tries, None),
        }
    }

    /// Repeats the prompt of `stage` (after `sorry`), or gives the callback up.
    fn ask_again(
        &mut self,
        session: SessionId,
        keep_place: bool,
        stage: CallbackStage,
        tries: u32,
        sorry: Option<&str>,
    ) {
        let Some(s) = self.sessions.get(&session) else { return };
        let (contact, own) = (s.contact, own_number(&s.vm.contact));
        if tries + 1 > RETRIES {
            match stage {
                CallbackStage::Offer => self.decline(session, "no answer the offer understood", None),
                CallbackStage::Number => {
                    let sorry = "Sorry, we couldn't take a number to call you back on, so please stay on the line.";
                    self.decline(session, "no number we can call", Some(sorry));
                }
            }
            return;
        }
        let prompt = match stage {
            CallbackStage::Offer => offer_prompt(keep_place),
            CallbackStage::Number => number_prompt(own.as_deref()),
        };
        let prompt = match sorry {
            Some(sorry) => format!("{sorry} {prompt}"),
            None => prompt,
        };
        let timer = self.callback_prompt(session, contact, prompt, None);
        self.set_wait(session, Wait::Callback { keep_place, stage, tries: tries + 1, timer });
    }

    /// The caller gave a number: the flow goes on to its `queue`, which places the callback.
    fn take_callback(&mut self, session: SessionId, to: Arc<str>, keep_place: bool) {
        let origin = self.origin(session);
        let Some(s) = self.state_mut().sessions.get_mut(&session) else { return };
        s.callback = Some(Callback { to: to.clone(), keep_place });
        let contact = s.contact;
        self.emit(session, EventKind::CallbackTaken { to: Text::from(to.clone()) }, origin);
        let when = if keep_place { "when it's your turn" } else { "as soon as an agent is free" };
        let thanks = format!("Thank you. We'll call you back on the number ending {} {when}.", ending(&to));
        self.say_to(session, contact, thanks, origin);
        self.answer(session, Resume::Unit);
    }

    /// The caller stays on the line; the flow goes on.
    fn decline(&mut self, session: SessionId, why: &'static str, sorry: Option<&str>) {
        let origin = self.origin(session);
        self.emit(session, EventKind::CallbackDeclined { why: Text::fixed(why) }, origin);
        if let Some(sorry) = sorry {
            let contact = self.sessions.get(&session).and_then(|s| s.contact);
            self.say_to(session, contact, sorry.to_string(), origin);
        }
        self.answer(session, Resume::Unit);
    }

    /// Says `text` and waits for the caller's keys or words; returns the silence timer.
    fn callback_prompt(
        &mut self,
        session: SessionId,
        contact: Option<crate::ids::ContactId>,
        text: String,
        origin: Option<SourceSpan>,
    ) -> Option<switchboard_calendar::TimerId> {
        let origin = origin.or_else(|| self.origin(session));
        let text: Arc<str> = Arc::from(text);
        self.emit(session, EventKind::Say { text: text.clone().into() }, origin);
        let to = customer(contact);
        let gather = Some(Gather::Callback { timeout_ms: TIMEOUT_MS });
        self.command(session, CommandKind::Prompt { to, text: text.into(), gather });
        Some(self.schedule_in(TIMEOUT_MS, Timer::Silence { session }))
    }

    fn say_to(
        &mut self,
        session: SessionId,
        contact: Option<crate::ids::ContactId>,
        text: String,
        origin: Option<SourceSpan>,
    ) {
        let text: Arc<str> = Arc::from(text);
        self.emit(session, EventKind::Say { text: text.clone().into() }, origin);
        self.command(session, CommandKind::Prompt { to: customer(contact), text: text.into(), gather: None });
    }

    fn set_wait(&mut self, session: SessionId, wait: Wait) {
        if let Some(s) = self.state_mut().sessions.get_mut(&session) {
            s.wait = wait;
        }
    }

    /// The statement a waiting session stands at.
    fn origin(&self, session: SessionId) -> Option<SourceSpan> {
        let s = self.sessions.get(&session)?;
        s.vm.position(&self.prepared(s.bundle).bundle)
    }
}

fn customer(contact: Option<crate::ids::ContactId>) -> Audience {
    match contact {
        Some(contact) => Audience::Customer { contact, channel: Channel::Voice },
        None => Audience::Nobody,
    }
}

fn offer_prompt(keep_place: bool) -> String {
    let offer = if keep_place {
        "We can call you back instead, and you'll keep your place in the queue."
    } else {
        "We can call you back as soon as an agent is free, so you don't have to hold."
    };
    format!("{offer} To be called back, press 1. To stay on the line, press 2.")
}

fn number_prompt(own: Option<&str>) -> String {
    match own {
        Some(own) => format!(
            "We'll call you back on the number ending {}. To use it, press 1. To use another number, key it in now, followed by the hash key.",
            ending(own)
        ),
        None => "Please key in the number we should call you back on, followed by the hash key.".to_string(),
    }
}

/// The last four digits of a number, as a caller hears it read back.
fn ending(number: &str) -> &str {
    let cut = number.len().saturating_sub(4);
    number.get(cut..).unwrap_or(number)
}

/// The number the caller calls from, when it is one we can call.
fn own_number(contact: &Contact) -> Option<Arc<str>> {
    match &contact.from {
        Value::Phone(p) if normalize::is_e164(p) => Some(p.clone()),
        _ => None,
    }
}

/// Where the caller is, for numbers keyed without the country code: the country of the
/// number they called, else of their own.
fn country(contact: &Contact) -> String {
    if !contact.country.is_empty() {
        return contact.country.to_string();
    }
    crate::country_of(&contact.from.display()).to_string()
}

/// A number keyed in (`07700 900123#`) or said, as E.164; `None` when it is not one.
fn phone_number(text: &str, country: &str) -> Option<Arc<str>> {
    let keyed = text.trim().trim_end_matches('#').trim();
    let region = (!country.is_empty()).then_some(country);
    normalize::normalize_phone(keyed, region).map(Arc::from)
}
