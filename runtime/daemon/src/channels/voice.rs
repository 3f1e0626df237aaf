//! Voice through TwiML: Twilio asks what to do with a call, and each answer is what the
//! flow said since the last one (`Say`), what it waits for (`Gather`, with its time-out),
//! or where the call is (`Enqueue` while it waits for an agent, `Dial` once an agent has
//! it, `Hangup` when the flow ends it). The engine keeps the clock: a `Gather` that hears
//! nothing comes back, and the answer is whatever the engine's own time-out did, so a menu
//! behaves as it does in `switchboard test`.
//!
//! Every URL carries the contact and `after`, the last feed row the call has heard, so a
//! repeated request renders the same answer and a repeated key press is the same input.

use super::twilio::{self, field, verb};
use crate::core::Request;
use crate::web::{refusal, App};
use axum::body::Bytes;
use axum::extract::{OriginalUri, State as Extract};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchboard_bytecode::types::Channel;
use switchboard_engine::{Arrival, ContactId};

fn xml(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], body).into_response()
}

fn query_of(uri: &OriginalUri) -> Vec<(String, String)> {
    form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()).into_owned().collect()
}

fn number(q: &[(String, String)], name: &str) -> Option<i64> {
    q.iter().find(|(k, _)| k == name).and_then(|(_, v)| v.parse().ok())
}

/// Where a call's contact is, as the core sees it now.
#[derive(Debug, Default)]
struct Where {
    ended: bool,
    agent: Option<String>,
    queued: bool,
    language: String,
    payment: Option<(String, String)>,
}

async fn where_is(app: &App, contact: u64) -> Where {
    let answer = app
        .core
        .query(move |state, side| {
            let c = ContactId(contact);
            let view = state.contact(c);
            let language = view
                .as_ref()
                .map(|v| match (&*v.contact.language, &*v.contact.country) {
                    ("", _) => String::new(),
                    (l, "") => l.to_string(),
                    (l, country) => format!("{l}-{}", country.to_uppercase()),
                })
                .unwrap_or_default();
            let payment = side.outbox.values().find_map(|cmd| match &cmd.kind {
                switchboard_engine::CommandKind::CapturePayment { contact: p, amount } if p.0 == contact => {
                    Some((cmd.id.to_string(), amount.to_string()))
                }
                _ => None,
            });
            json!({
                "ended": side.ended.contains_key(&contact) || view.is_none(),
                "agent": side.assigned.get(&contact),
                "queued": state.acd().position(&format!("c{contact}")).is_some(),
                "language": language,
                "payment": payment,
            })
        })
        .await
        .unwrap_or_else(|_| json!({"ended": true}));
    Where {
        ended: answer["ended"].as_bool().unwrap_or(true),
        agent: answer["agent"].as_str().map(str::to_string),
        queued: answer["queued"].as_bool().unwrap_or(false),
        language: answer["language"].as_str().unwrap_or_default().to_string(),
        payment: answer["payment"]
            .as_array()
            .map(|p| (p[0].as_str().unwrap_or_default().to_string(), p[1].as_str().unwrap_or_default().to_string())),
    }
}

/// What the call hears next: the flow's lines after feed row `after`, and then what it
/// waits for or where it goes. Waits (up to `patience`) for the engine to say something
/// when it has not yet.
async fn next(app: &Arc<App>, t: &twilio::Twilio, contact: u64, after: i64, patience: Duration) -> String {
    let base = format!("{}/channels/twilio/voice", t.settings.public_url);
    let started = Instant::now();
    let after = heard(app, contact, after);
    loop {
        // Where the call is first, then what it has to hear: lines written after the first
        // look are read too, so a contact that has moved on is never answered without them.
        let here = where_is(app, contact).await;
        let rows = crate::web::read(app, move |r| r.customer_feed(contact, after)).await.unwrap_or_default();
        let mut says = String::new();
        let mut last = after;
        if let Some(row) = rows.last() {
            heard(app, contact, row.id);
        }
        let mut gather: Option<Value> = None;
        let mut end = None;
        for row in &rows {
            last = row.id;
            let body: Value = serde_json::from_str(&row.body).unwrap_or_default();
            match body["type"].as_str() {
                Some("message") if body["from"] != "customer" => {
                    let text = body["text"].as_str().unwrap_or_default();
                    let lang = [("language", here.language.as_str())];
                    says.push_str(&verb("Say", if here.language.is_empty() { &[] } else { &lang }, text));
                    gather = (body.get("options").is_some() || body.get("ask").is_some()).then(|| body.clone());
                }
                Some("transfer") => end = Some(verb("Dial", &[], body["to"].as_str().unwrap_or_default())),
                Some("ended") => end = Some(verb("Hangup", &[], "")),
                _ => {}
            }
        }
        if let Some(end) = end {
            return twilio::twiml(&format!("{says}{end}"));
        }
        if let Some((command, amount)) = &here.payment {
            let action = format!("{base}/paid?contact={contact}&after={last}&command={command}");
            let currency = match amount.chars().next() {
                Some('£') => "gbp",
                Some('€') => "eur",
                _ => "usd",
            };
            // Pay takes a decimal amount with its cents: `25.00`.
            let figure = amount.trim_start_matches(['£', '$', '€']).replace(',', "");
            let charge = figure.parse::<f64>().map_or(figure.clone(), |n| format!("{n:.2}"));
            let charge = charge.as_str();
            let pay = verb("Pay", &[("chargeAmount", charge), ("currency", currency), ("action", &action)], "");
            return twilio::twiml(&format!("{says}{pay}"));
        }
        // The last line asks (a menu, an ask, a queue's callback offer): gather the answer.
        // The line itself says so: the state looked at before it may predate it.
        if let Some(g) = &gather {
            let seconds = (g["timeout_ms"].as_i64().unwrap_or(5000) + 999) / 1000;
            let digits = g["digits"].as_u64().map(|d| d.to_string());
            let action = format!("{base}/input?contact={contact}&after={last}");
            let mut attrs = vec![("input", "dtmf speech"), ("action", action.as_str()), ("method", "POST")];
            let timeout = seconds.max(1).to_string();
            attrs.push(("timeout", &timeout));
            let single = g.get("options").is_some() && g["ask"].is_null();
            if single {
                attrs.push(("numDigits", "1"));
            } else if let Some(d) = &digits {
                attrs.push(("numDigits", d));
            } else {
                attrs.push(("finishOnKey", "#"));
            }
            let gathered = format!("<Gather{}>{says}</Gather>", attributes(&attrs));
            // Silence: back to the daemon, where the engine's own time-out has spoken.
            let redirect =
                verb("Redirect", &[("method", "POST")], &format!("{base}/input?contact={contact}&after={last}"));
            return twilio::twiml(&format!("{gathered}{redirect}"));
        }
        if let Some(agent) = &here.agent {
            let action = format!("{base}/after?contact={contact}&after={last}");
            let dial = format!("<Dial{}>{}</Dial>", attributes(&[("action", &action)]), verb("Client", &[], agent));
            return twilio::twiml(&format!("{says}{dial}"));
        }
        if here.queued {
            let wait = format!("{base}/wait?contact={contact}&after={last}");
            let action = format!("{base}/after?contact={contact}&after={last}");
            let enqueue = verb(
                "Enqueue",
                &[("waitUrl", &wait), ("waitUrlMethod", "POST"), ("action", &action)],
                &format!("contact-{contact}"),
            );
            return twilio::twiml(&format!("{says}{enqueue}"));
        }
        if here.ended {
            return twilio::twiml(&format!("{says}{}", verb("Hangup", &[], "")));
        }
        if !says.is_empty() || started.elapsed() >= patience {
            let again = verb("Redirect", &[("method", "POST")], &format!("{base}/next?contact={contact}&after={last}"));
            return twilio::twiml(&format!("{says}{}{again}", verb("Pause", &[("length", "1")], "")));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The last row `contact`'s call has heard: the greater of `after` and what it heard before.
fn heard(app: &App, contact: u64, after: i64) -> i64 {
    let mut map = app.heard.lock().unwrap_or_else(|e| e.into_inner());
    let seen = map.entry(contact).or_insert(after);
    *seen = (*seen).max(after);
    *seen
}

fn attributes(attrs: &[(&str, &str)]) -> String {
    attrs.iter().map(|(k, v)| format!(" {k}=\"{}\"", twilio::escape(v))).collect()
}

/// A request about a call in progress, once its signature holds: its form and URL query,
/// and the contact and last line heard that the URL names.
struct On {
    twilio: Arc<twilio::Twilio>,
    form: twilio::Form,
    query: Vec<(String, String)>,
    contact: u64,
    after: i64,
}

fn on_call(app: &App, headers: &HeaderMap, uri: &OriginalUri, body: &[u8]) -> Result<On, Box<Response>> {
    let (twilio, form) = signed(app, headers, uri, body)?;
    let query = query_of(uri);
    let (Some(contact), Some(after)) = (number(&query, "contact"), number(&query, "after")) else {
        return Err(Box::new(refusal(400, "the URL needs contact and after")));
    };
    Ok(On { twilio, form, query, contact: contact as u64, after })
}

/// The form, once its signature holds.
fn signed(
    app: &App,
    headers: &HeaderMap,
    uri: &OriginalUri,
    body: &[u8],
) -> Result<(Arc<twilio::Twilio>, twilio::Form), Box<Response>> {
    super::web::signed(app, headers, uri, body)
}

/// `POST /channels/twilio/voice`: a call comes in (`CallSid`, `From`, `To`): it starts a
/// contact on the `voice` entry for `To`, and the answer is the flow's first lines.
pub async fn incoming(Extract(app): Extract<Arc<App>>, headers: HeaderMap, uri: OriginalUri, body: Bytes) -> Response {
    let (t, form) = match signed(&app, &headers, &uri, &body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let (Some(sid), Some(from), Some(to)) = (field(&form, "CallSid"), field(&form, "From"), field(&form, "To")) else {
        return refusal(400, "the form needs CallSid, From and To");
    };
    let arrival = Arrival {
        channel: Channel::Voice,
        from: from.into(),
        to: Some(to.into()),
        subject: "".into(),
        text: "".into(),
        attributes: vec![("call_sid".into(), sid.into())],
    };
    let request = Request::Inbound {
        arrival,
        key: format!("twilio:call:{sid}"),
        idle_ms: i64::MAX,
        adapter: "voice",
        reply_to: sid.to_string(),
        thread_to: None,
    };
    let contact = match app.core.ask(request).await {
        Ok(v) => match v["contact"].as_u64() {
            Some(c) => c,
            None => return xml(twilio::twiml(&verb("Hangup", &[], ""))),
        },
        Err(r) => return refusal(r.status, r.message),
    };
    // A repeated webhook for the same call finds its contact through the thread.
    xml(next(&app, &t, contact, 0, Duration::from_secs(3)).await)
}

/// `POST /channels/twilio/voice/input?contact=C&after=N`: what the caller pressed or said
/// (`Digits`, `SpeechResult`), or nothing (the `Gather` timed out).
pub async fn input(Extract(app): Extract<Arc<App>>, headers: HeaderMap, uri: OriginalUri, body: Bytes) -> Response {
    let On { twilio: t, form, contact, after, .. } = match on_call(&app, &headers, &uri, &body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let said = field(&form, "Digits").or_else(|| field(&form, "SpeechResult")).map(str::trim).filter(|s| !s.is_empty());
    if let Some(said) = said {
        let sid = field(&form, "CallSid").unwrap_or_default();
        let text = switchboard_engine::cards::redact(said.trim_end_matches('#')).into_owned();
        let request = Request::Customer { contact, key: format!("call:{sid}:{after}"), text };
        if let Err(r) = app.core.ask(request).await {
            if r.status != 409 {
                return refusal(r.status, r.message);
            }
        }
    }
    // After a key, the flow answers at once; after silence, the engine's time-out does.
    let patience = if said.is_some() { Duration::from_secs(3) } else { Duration::from_secs(10) };
    xml(next(&app, &t, contact, after, patience).await)
}

/// `POST /channels/twilio/voice/next?contact=C&after=N`: the call asks again (after a
/// pause in which nothing happened).
pub async fn again(Extract(app): Extract<Arc<App>>, headers: HeaderMap, uri: OriginalUri, body: Bytes) -> Response {
    let On { twilio: t, contact, after, .. } = match on_call(&app, &headers, &uri, &body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    xml(next(&app, &t, contact, after, Duration::from_secs(10)).await)
}

/// `POST /channels/twilio/voice/wait?contact=C&after=N`: the `Enqueue`'s `waitUrl`, asked
/// each time the last answer has played: the queue's announcements and callback offer;
/// `Leave` once an agent has the contact (or it is kept for a callback).
pub async fn wait(Extract(app): Extract<Arc<App>>, headers: HeaderMap, uri: OriginalUri, body: Bytes) -> Response {
    let On { twilio: t, contact, after, .. } = match on_call(&app, &headers, &uri, &body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let here = where_is(&app, contact).await;
    if here.agent.is_some() || here.ended || here.payment.is_some() {
        return xml(twilio::twiml(&verb("Leave", &[], "")));
    }
    let after = heard(&app, contact, after);
    let rows = crate::web::read(&app, move |r| r.customer_feed(contact, after)).await.unwrap_or_default();
    let asks = rows.iter().any(|r| {
        let body: Value = serde_json::from_str(&r.body).unwrap_or_default();
        body["type"] == "message"
            && body["from"] != "customer"
            && (body.get("options").is_some() || body.get("ask").is_some())
    });
    if asks {
        // A callback offer (or another question): leave the queue to answer it.
        return xml(twilio::twiml(&verb("Leave", &[], "")));
    }
    let mut out = String::new();
    let mut last = after;
    for row in &rows {
        let body: Value = serde_json::from_str(&row.body).unwrap_or_default();
        if body["type"] == "message" && body["from"] != "customer" {
            out.push_str(&verb("Say", &[], body["text"].as_str().unwrap_or_default()));
        }
        last = row.id;
    }
    heard(&app, contact, last);
    out.push_str(&verb("Pause", &[("length", "2")], ""));
    let base = format!("{}/channels/twilio/voice", t.settings.public_url);
    out.push_str(&verb("Redirect", &[("method", "POST")], &format!("{base}/wait?contact={contact}&after={last}")));
    xml(twilio::twiml(&out))
}

/// `POST /channels/twilio/voice/after?contact=C&after=N`: the call left the queue or the
/// agent's leg: on to what the flow does next (a callback's confirmation, the survey).
pub async fn after(Extract(app): Extract<Arc<App>>, headers: HeaderMap, uri: OriginalUri, body: Bytes) -> Response {
    again(Extract(app), headers, uri, body).await
}

/// `POST /channels/twilio/voice/paid?contact=C&after=N&command=ID`: `Pay`'s result
/// (`Result=success` with a confirmation code, or a failure). The card never reached the
/// daemon; only the outcome is kept.
pub async fn paid(Extract(app): Extract<Arc<App>>, headers: HeaderMap, uri: OriginalUri, body: Bytes) -> Response {
    let On { twilio: t, form, query: q, contact, after } = match on_call(&app, &headers, &uri, &body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let Some(given) = q.iter().find(|(k, _)| k == "command").map(|(_, v)| v.clone()) else {
        return refusal(400, "the URL needs the payment's command");
    };
    let Some(command) = pending(&app, given).await else {
        // Taken already (a repeated callback), or never asked for.
        return xml(next(&app, &t, contact, after, Duration::from_secs(3)).await);
    };
    let result = match field(&form, "Result") {
        Some("success") => switchboard_engine::Completion::PaymentCaptured,
        Some(_) => switchboard_engine::Completion::PaymentDeclined,
        None => return refusal(400, "the form has no Result"),
    };
    // Applied before the call is answered, so the answer no longer asks for the card.
    if let Err(r) = app.core.ask(Request::Completed { command, result }).await {
        return refusal(r.status, r.message);
    }
    xml(next(&app, &t, contact, after, Duration::from_secs(3)).await)
}

/// The command waiting in the outbox whose id is written `given`.
async fn pending(app: &App, given: String) -> Option<switchboard_engine::CommandId> {
    let found = app
        .core
        .query(move |_, side| side.outbox.keys().find(|k| k.to_string() == given).map_or(Value::Null, |k| json!(k)))
        .await;
    found.ok().and_then(|v| serde_json::from_value(v).ok())
}

/// `POST /channels/twilio/voice/outbound?command=ID`: a call the daemon placed has been
/// answered. A callback is connected to the agent who took it; a call no agent has yet
/// is told so and ended (the strategy that placed it has its `answered`).
pub async fn outbound(Extract(app): Extract<Arc<App>>, headers: HeaderMap, uri: OriginalUri, body: Bytes) -> Response {
    if let Err(r) = signed(&app, &headers, &uri, &body) {
        return *r;
    }
    let q = query_of(&uri);
    let Some(given) = q.iter().find(|(k, _)| k == "command").map(|(_, v)| v.clone()) else {
        return refusal(400, "the URL needs the call's command");
    };
    // Asked what to do: the call was answered.
    if let Some(command) = pending(&app, given.clone()).await {
        let result = switchboard_engine::Completion::Answered;
        if let Err(r) = app.core.ask(Request::Completed { command, result }).await {
            return refusal(r.status, r.message);
        }
    }
    let agent = app
        .core
        .query(move |_, side| {
            let session = given.split('-').next().and_then(|s| s.trim_start_matches('s').parse::<u64>().ok());
            json!(session.and_then(|s| side.assigned.get(&s)))
        })
        .await
        .ok()
        .and_then(|a| a.as_str().map(str::to_string));
    let verbs = match agent {
        Some(agent) => format!(
            "{}<Dial>{}</Dial>",
            verb("Say", &[], "Hello, we're calling you back as you asked. Connecting you now."),
            verb("Client", &[], &agent)
        ),
        None => format!(
            "{}{}",
            verb("Say", &[], "Hello, this is a call from our contact centre. We'll be in touch again soon. Goodbye."),
            verb("Hangup", &[], "")
        ),
    };
    xml(twilio::twiml(&verbs))
}

/// `POST /channels/twilio/voice/status`: the call's status callback: `completed` (or
/// `busy`, `no-answer`, `failed`, `canceled`) ends its contact, so surveys, abandonment
/// and handling time follow.
pub async fn status(Extract(app): Extract<Arc<App>>, headers: HeaderMap, uri: OriginalUri, body: Bytes) -> Response {
    let (_, form) = match signed(&app, &headers, &uri, &body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let (Some(sid), Some(call_status)) = (field(&form, "CallSid"), field(&form, "CallStatus")) else {
        return refusal(400, "the form needs CallSid and CallStatus");
    };
    // A call the daemon placed: its outcome answers the command that placed it.
    if let Some(given) = query_of(&uri).into_iter().find(|(k, _)| k == "command").map(|(_, v)| v) {
        use switchboard_engine::Completion;
        let result = match call_status {
            // Answered and over (if `Url` was not asked first, this says it was answered).
            "in-progress" | "answered" | "completed" => Some(Completion::Answered),
            "busy" => Some(Completion::Busy),
            "no-answer" => Some(Completion::NoAnswer),
            "failed" | "canceled" => Some(Completion::Failed(format!("the call {call_status}"))),
            _ => None,
        };
        if let (Some(result), Some(command)) = (result, pending(&app, given.clone()).await) {
            if let Err(r) = app.core.ask(Request::Completed { command, result }).await {
                return refusal(r.status, r.message);
            }
        }
        // A call placed for an agent's contact (a callback, a strategy's call) is over:
        // so is the contact, and the agent's wrap-up follows.
        let contact = given.split('-').next().and_then(|s| s.strip_prefix('s')).and_then(|s| s.parse::<u64>().ok());
        if let (Some(contact), "completed") = (contact, call_status) {
            if let Err(r) = app.core.ask(Request::HangUp { contact }).await {
                return refusal(r.status, r.message);
            }
        }
        return xml(twilio::twiml(""));
    }
    if ["completed", "busy", "no-answer", "failed", "canceled"].contains(&call_status) {
        let thread = crate::core::thread_key("voice", sid);
        let contact = app.core.query(move |_, side| json!(side.threads.get(&thread).map(|t| t.0))).await;
        if let Some(contact) = contact.ok().and_then(|c| c.as_u64()) {
            if let Err(r) = app.core.ask(Request::HangUp { contact }).await {
                return refusal(r.status, r.message);
            }
        }
    }
    xml(twilio::twiml(""))
}
