//! The providers' webhooks. Each checks its signature before it reads anything, answers
//! 400 for a body it cannot read, 404 for a number no entry answers, and acknowledges a
//! duplicate without doing anything twice. What the flow says goes out through the outbox
//! ([`super::outbox`]), not in the webhook's answer.

use super::twilio::{self, field};
use crate::core::{Delivery, Request};
use crate::web::{refusal, App};
use axum::body::Bytes;
use axum::extract::{OriginalUri, State as Extract};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::Duration;
use switchboard_bytecode::types::Channel;
use switchboard_engine::Arrival;

/// How long a webhook waits for its input to be journaled before it answers anyway (the
/// input is queued; providers want an answer within seconds).
const ACK_WITHIN: Duration = Duration::from_millis(900);

fn xml(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], body).into_response()
}

/// The Twilio account, and the form once its signature holds.
pub(crate) fn signed(
    app: &App,
    headers: &HeaderMap,
    uri: &OriginalUri,
    body: &[u8],
) -> Result<(Arc<twilio::Twilio>, twilio::Form), Box<Response>> {
    let Some(t) = app.providers.twilio.clone() else {
        return Err(Box::new(refusal(404, "Twilio is not configured here ([twilio] in switchboard.toml)")));
    };
    let form = twilio::parse_form(body).map_err(|why| Box::new(refusal(400, why)))?;
    let given = headers.get("x-twilio-signature").and_then(|v| v.to_str().ok());
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    match given {
        None => return Err(Box::new(refusal(403, "X-Twilio-Signature is missing"))),
        Some(given) if !t.verify(path, &form, given) => {
            return Err(Box::new(refusal(403, "X-Twilio-Signature does not sign this request for the public URL")))
        }
        Some(_) => {}
    }
    if let Some(sid) = field(&form, "AccountSid") {
        if sid != t.settings.account_sid {
            return Err(Box::new(refusal(403, "the request is for another account")));
        }
    }
    Ok((t, form))
}

/// `POST /channels/twilio/sms`: an inbound SMS (Twilio's form: `MessageSid`, `From`, `To`,
/// `Body`, `NumMedia`, `MediaUrl0`…). Answered with an empty `<Response/>` once the
/// message is journaled: the flow's answer is sent through the REST API.
pub async fn twilio_sms(
    Extract(app): Extract<Arc<App>>,
    headers: HeaderMap,
    uri: OriginalUri,
    body: Bytes,
) -> Response {
    let (t, form) = match signed(&app, &headers, &uri, &body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let Some(sid) = field(&form, "MessageSid").or_else(|| field(&form, "SmsSid")).filter(|s| !s.is_empty()) else {
        return refusal(400, "the form has no MessageSid");
    };
    let (Some(from), Some(to)) = (field(&form, "From"), field(&form, "To")) else {
        return refusal(400, "the form needs From and To");
    };
    let text = field(&form, "Body").unwrap_or_default();
    if text.len() > crate::web::MAX_TEXT {
        return refusal(413, format!("a message is at most {} bytes", crate::web::MAX_TEXT));
    }
    let mut attributes = vec![("message_sid".into(), sid.into())];
    let media: Vec<&str> = (0..field(&form, "NumMedia").and_then(|n| n.parse::<usize>().ok()).unwrap_or(0).min(10))
        .filter_map(|i| form.iter().find(|(k, _)| *k == format!("MediaUrl{i}")).map(|(_, v)| v.as_str()))
        .collect();
    if !media.is_empty() {
        attributes.push(("media".into(), media.join(" ").into()));
    }
    // A card number texted in is masked before anything keeps it.
    let text = switchboard_engine::cards::redact(text.trim()).into_owned();
    let arrival = Arrival {
        channel: Channel::Sms,
        from: from.into(),
        to: Some(to.into()),
        subject: "".into(),
        text: text.into(),
        attributes,
    };
    let request = Request::Inbound {
        arrival,
        key: format!("twilio:{sid}"),
        idle_ms: t.settings.sms_idle_ms,
        adapter: "sms",
        reply_to: from.to_string(),
        thread_to: None,
    };
    match tokio::time::timeout(ACK_WITHIN, app.core.ask(request)).await {
        Ok(Err(r)) if r.status != 503 => refusal(r.status, r.message),
        Ok(Err(r)) => refusal(503, r.message),
        Ok(Ok(_)) | Err(_) => xml(twilio::twiml("")),
    }
}

/// `POST /channels/twilio/status?key=…`: a message's status callback (`MessageStatus`,
/// `ErrorCode`): kept with the message; error 21610 marks the number opted out.
pub async fn twilio_status(
    Extract(app): Extract<Arc<App>>,
    headers: HeaderMap,
    uri: OriginalUri,
    body: Bytes,
) -> Response {
    let (_, form) = match signed(&app, &headers, &uri, &body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let query = uri.query().unwrap_or_default();
    let Some(key) = form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "key").map(|(_, v)| v.into_owned())
    else {
        return refusal(400, "the callback URL has no key");
    };
    let (Some(status), Some(to)) = (field(&form, "MessageStatus"), field(&form, "To")) else {
        return refusal(400, "the form needs MessageStatus and To");
    };
    const STATUSES: [&str; 11] = [
        "accepted",
        "scheduled",
        "queued",
        "sending",
        "sent",
        "delivered",
        "undelivered",
        "failed",
        "read",
        "receiving",
        "received",
    ];
    if !STATUSES.contains(&status) {
        return refusal(400, format!("`{status}` is not a message status"));
    }
    let code = field(&form, "ErrorCode").filter(|c| !c.is_empty());
    // On its way: nothing to keep until it is sent, delivered or lost.
    if ["accepted", "scheduled", "queued", "sending", "receiving", "received"].contains(&status) && code.is_none() {
        return xml(twilio::twiml(""));
    }
    let status = if code == Some("21610") { "opted_out" } else { status };
    let delivery = Delivery {
        key,
        thread: crate::core::thread_key("sms", to),
        status: status.to_string(),
        error: code.map(|c| format!("error {c}")),
    };
    match tokio::time::timeout(ACK_WITHIN, app.core.ask(Request::Delivery(delivery))).await {
        Ok(Err(r)) => refusal(r.status, r.message),
        Ok(Ok(_)) | Err(_) => xml(twilio::twiml("")),
    }
}

/// A message from a messaging app, into the core: it joins the sender's open contact on
/// the `social` channel or starts one on `entry`.
async fn social_inbound(
    app: &App,
    adapter: &'static str,
    m: super::social::Incoming,
    entry: Option<String>,
    idle_ms: i64,
) -> Result<(), Response> {
    if m.text.len() > crate::web::MAX_TEXT {
        return Err(refusal(413, format!("a message is at most {} bytes", crate::web::MAX_TEXT)));
    }
    let mut attributes = vec![("adapter".into(), adapter.into())];
    if let Some(name) = &m.name {
        attributes.push(("name".into(), switchboard_engine::cards::redact(name).into_owned().into()));
    }
    let text = switchboard_engine::cards::redact(m.text.trim()).into_owned();
    let arrival = Arrival {
        channel: Channel::Social,
        from: m.from.as_str().into(),
        to: entry.map(Into::into),
        subject: "".into(),
        text: text.into(),
        attributes,
    };
    let request = Request::Inbound {
        arrival,
        key: format!("{adapter}:{}", m.id),
        idle_ms,
        adapter,
        reply_to: m.reply_to,
        thread_to: None,
    };
    match tokio::time::timeout(ACK_WITHIN, app.core.ask(request)).await {
        Ok(Err(r)) => Err(refusal(r.status, r.message)),
        Ok(Ok(_)) | Err(_) => Ok(()),
    }
}

/// `GET /channels/whatsapp?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`: Meta's
/// check of the webhook: the challenge back if the token is ours, else 403.
pub async fn whatsapp_verify(
    Extract(app): Extract<Arc<App>>,
    axum::extract::Query(q): axum::extract::Query<Vec<(String, String)>>,
) -> Response {
    let Some(w) = app.providers.whatsapp.clone() else {
        return refusal(404, "WhatsApp is not configured here ([whatsapp] in switchboard.toml)");
    };
    hub_verify(w.settings.verify_token.expose(), &q)
}

/// Meta's webhook check: `hub.challenge` back when `hub.verify_token` is `ours`.
fn hub_verify(ours: &str, q: &[(String, String)]) -> Response {
    let get = |k: &str| q.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    match (get("hub.mode"), get("hub.verify_token"), get("hub.challenge")) {
        (Some("subscribe"), Some(token), Some(challenge)) if super::social::same_secret(token, ours) => {
            ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], challenge.to_string()).into_response()
        }
        (Some("subscribe"), Some(_), Some(_)) => refusal(403, "hub.verify_token is not this webhook's"),
        _ => refusal(400, "expected hub.mode=subscribe, hub.verify_token and hub.challenge"),
    }
}

/// A Meta webhook's body, once `X-Hub-Signature-256` holds for it.
fn hub_body(secret: &str, headers: &HeaderMap, body: &[u8]) -> Result<serde_json::Value, Box<Response>> {
    let given = headers.get("x-hub-signature-256").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !super::social::hub_signature_holds(secret, body, given) {
        return Err(Box::new(refusal(403, "X-Hub-Signature-256 does not sign this body")));
    }
    serde_json::from_slice(body).map_err(|e| Box::new(refusal(400, format!("the body is not JSON: {e}"))))
}

/// `GET /channels/messenger`: Meta's check of the page's webhook.
pub async fn messenger_verify(
    Extract(app): Extract<Arc<App>>,
    axum::extract::Query(q): axum::extract::Query<Vec<(String, String)>>,
) -> Response {
    let Some(m) = app.providers.messenger.clone() else {
        return refusal(404, "Messenger is not configured here ([messenger] in switchboard.toml)");
    };
    hub_verify(m.settings.verify_token.expose(), &q)
}

/// `POST /channels/messenger`: a page's messages, and public comments on the page's posts
/// and its Instagram account's media (social monitoring), signed with `X-Hub-Signature-256`.
/// A comment joins its author's open conversation, so one agent has all of them.
pub async fn messenger_post(Extract(app): Extract<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(m) = app.providers.messenger.clone() else {
        return refusal(404, "Messenger is not configured here ([messenger] in switchboard.toml)");
    };
    let json = match hub_body(m.settings.app_secret.expose(), &headers, &body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let s = &m.settings;
    let messages = match json["object"].as_str() {
        Some("instagram") => Ok(Vec::new()),
        _ => super::social::messenger_parse(&json),
    };
    let own: Vec<&str> = std::iter::once(s.page_id.as_str()).chain(s.instagram_id.as_deref()).collect();
    let (messages, comments) = match messages.and_then(|m| Ok((m, super::social::mentions_parse(&json, &own)?))) {
        Ok(v) => v,
        Err(why) => return refusal(400, why),
    };
    for message in messages {
        if let Err(r) = social_inbound(&app, "messenger", message, s.entry.clone(), s.idle_ms).await {
            return r;
        }
    }
    let mentions_entry = s.mentions_entry.clone().or(s.entry.clone());
    for (network, comment) in comments {
        if let Err(r) = social_inbound(&app, network, comment, mentions_entry.clone(), s.idle_ms).await {
            return r;
        }
    }
    axum::http::StatusCode::OK.into_response()
}

/// `POST /channels/whatsapp`: messages and statuses, signed with `X-Hub-Signature-256`
/// over the raw body.
pub async fn whatsapp_post(Extract(app): Extract<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(w) = app.providers.whatsapp.clone() else {
        return refusal(404, "WhatsApp is not configured here ([whatsapp] in switchboard.toml)");
    };
    let json = match hub_body(w.settings.app_secret.expose(), &headers, &body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let (messages, statuses) = match super::social::whatsapp_parse(&json) {
        Ok(v) => v,
        Err(why) => return refusal(400, why),
    };
    for m in messages {
        if let Err(r) = social_inbound(&app, "whatsapp", m, w.settings.entry.clone(), w.settings.idle_ms).await {
            return r;
        }
    }
    for s in statuses.into_iter().filter(|s| ["sent", "delivered", "read", "failed"].contains(&s.status.as_str())) {
        // A status names the provider's id: the message it is of is found by it.
        let id = s.id.clone();
        let Ok(Some(key)) = crate::web::read(&app, move |r| r.sent_key(&id)).await else { continue };
        let delivery = Delivery {
            key,
            thread: crate::core::thread_key("whatsapp", &s.recipient),
            status: s.status,
            error: s.error,
        };
        app.core.tell(Request::Delivery(delivery));
    }
    axum::http::StatusCode::OK.into_response()
}

/// `POST /channels/telegram`: a bot's update, with `X-Telegram-Bot-Api-Secret-Token`;
/// duplicates (by `update_id`) are acknowledged and dropped.
pub async fn telegram_post(Extract(app): Extract<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(t) = app.providers.telegram.clone() else {
        return refusal(404, "Telegram is not configured here ([telegram] in switchboard.toml)");
    };
    let given = headers.get("x-telegram-bot-api-secret-token").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !super::social::same_secret(given, t.settings.secret_token.expose()) {
        return refusal(403, "X-Telegram-Bot-Api-Secret-Token is not this bot's");
    }
    let json: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return refusal(400, format!("the body is not JSON: {e}")),
    };
    match super::social::telegram_parse(&json) {
        Err(why) => refusal(400, why),
        Ok((_, None)) => axum::http::StatusCode::OK.into_response(),
        Ok((_, Some(m))) => {
            match social_inbound(&app, "telegram", m, t.settings.entry.clone(), t.settings.idle_ms).await {
                Ok(()) => axum::http::StatusCode::OK.into_response(),
                Err(r) => r,
            }
        }
    }
}

/// `POST /channels/email/inbound`: a mail from an inbound-parse service, in Mailgun's
/// form (`recipient`, `sender`, `from`, `subject`, `body-plain` or `stripped-text`,
/// `Message-Id`, `In-Reply-To`, `References`), signed with `timestamp`, `token` and
/// `signature` (HMAC-SHA256 of timestamp and token with the signing key, hex). A timestamp
/// more than 15 minutes from now is refused, so a captured request cannot be replayed
/// later; the same mail twice is dropped by its Message-Id.
pub async fn email_inbound(Extract(app): Extract<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(email) = app.providers.email.clone() else {
        return refusal(404, "email is not configured here ([email] in switchboard.toml)");
    };
    let Some(key) = email.settings.webhook_key.clone() else {
        return refusal(404, "no inbound webhook is configured ([email] webhook_key)");
    };
    let kind = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !kind.starts_with("application/x-www-form-urlencoded") {
        return refusal(415, "send the webhook as application/x-www-form-urlencoded (without attachments)");
    }
    let form = match twilio::parse_form(&body) {
        Ok(f) => f,
        Err(why) => return refusal(400, why),
    };
    let (Some(timestamp), Some(token), Some(signature)) =
        (field(&form, "timestamp"), field(&form, "token"), field(&form, "signature"))
    else {
        return refusal(403, "the webhook is not signed (timestamp, token, signature)");
    };
    if !super::social::hmac_hex_holds(key.expose(), format!("{timestamp}{token}").as_bytes(), signature) {
        return refusal(403, "the signature does not sign this timestamp and token");
    }
    let now = jiff::Timestamp::now().as_second();
    match timestamp.parse::<i64>() {
        Ok(t) if (now - t).abs() <= 15 * 60 => {}
        _ => return refusal(403, "the timestamp is more than 15 minutes from now"),
    }
    let (Some(recipient), Some(sender)) = (field(&form, "recipient"), field(&form, "sender")) else {
        return refusal(400, "the form needs recipient and sender");
    };
    let ids = |name: &str| -> Vec<String> {
        field(&form, name)
            .unwrap_or_default()
            .split_whitespace()
            .map(|id| id.trim_matches(['<', '>']).to_string())
            .filter(|id| !id.is_empty())
            .collect()
    };
    let mut refers_to = ids("In-Reply-To");
    for id in ids("References").into_iter().rev() {
        if !refers_to.contains(&id) {
            refers_to.push(id);
        }
    }
    let text = field(&form, "stripped-text").or_else(|| field(&form, "body-plain")).unwrap_or_default();
    let mail = super::email::Mail {
        message_id: field(&form, "Message-Id").map(|id| id.trim_matches(['<', '>']).to_string()),
        from: sender.trim().to_lowercase(),
        name: None,
        subject: field(&form, "subject").unwrap_or_default().trim().to_string(),
        text: super::email::without_quote(text),
        refers_to,
    };
    let (to, tag) = super::email::plus_address(recipient);
    let domain = to.rsplit_once('@').map(|(_, d)| d.to_string()).unwrap_or_default();
    if !email.settings.domains.iter().any(|d| d.eq_ignore_ascii_case(&domain)) {
        return refusal(404, format!("{to} is not an address served here"));
    }
    let m = mail.clone();
    let threaded = crate::web::read(&app, move |r| super::email::thread_of(r, &m)).await.or(tag);
    match super::email::hand_in(&app.core, mail, to, threaded, "webhook").await {
        Ok(()) => axum::http::StatusCode::OK.into_response(),
        Err((status, why)) => refusal(status, why),
    }
}
