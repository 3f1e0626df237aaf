//! Messaging apps: the WhatsApp Cloud API (webhooks signed with `X-Hub-Signature-256`,
//! the Graph API's `/{phone_number_id}/messages` out) and Telegram bots (webhooks with the
//! secret-token header, `sendMessage` out), Messenger, and public comments on a page's
//! posts and its Instagram media (answered in public under them). All start contacts on
//! the `social` channel.

use super::{Outgoing, SendOutcome};
use crate::config::{TelegramSettings, WhatsAppSettings};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use std::time::Duration;

/// WhatsApp lets a business write freely only within 24 hours of the customer's last
/// message; after that only approved templates may be sent.
pub const WHATSAPP_WINDOW_MS: i64 = 24 * 3_600_000;

/// The largest webhook body taken.
pub const MAX_BODY: usize = 256 * 1024;

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

/// Whether `header` (`sha256=` and hex) is the HMAC-SHA256 of `body` keyed by `secret`,
/// compared in constant time.
pub fn hub_signature_holds(secret: &str, body: &[u8], header: &str) -> bool {
    header.trim().strip_prefix("sha256=").is_some_and(|hex| hmac_hex_holds(secret, body, hex))
}

/// Whether `hex` is the HMAC-SHA256 of `data` keyed by `key` (constant time).
pub fn hmac_hex_holds(key: &str, data: &[u8], hex: &str) -> bool {
    let Some(given) = unhex(hex.trim()) else { return false };
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(data);
    mac.verify_slice(&given).is_ok()
}

/// `sha256=…` for `body`: what Meta sends (for tests and tools).
pub fn hub_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    format!("sha256={}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

/// Equal texts, in time that does not depend on where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A message a customer sent on a messaging app.
#[derive(Clone, Debug, PartialEq)]
pub struct Incoming {
    /// The provider's id for it (duplicates are dropped by it).
    pub id: String,
    /// Who the contact is from, as look-ups see it (`+447700900001`, `@annb`).
    pub from: String,
    /// Where answers go (a WhatsApp id, a Telegram chat id).
    pub reply_to: String,
    pub name: Option<String>,
    pub text: String,
}

/// A status WhatsApp reports for a message the daemon sent.
#[derive(Clone, Debug, PartialEq)]
pub struct Status {
    pub id: String,
    pub recipient: String,
    pub status: String,
    pub error: Option<String>,
}

/// The messages and statuses of a WhatsApp webhook body (`object` =
/// `whatsapp_business_account`), or why it is not one.
pub fn whatsapp_parse(body: &Value) -> Result<(Vec<Incoming>, Vec<Status>), String> {
    if body["object"] != "whatsapp_business_account" {
        return Err("`object` is not whatsapp_business_account".to_string());
    }
    let entries = body["entry"].as_array().ok_or("`entry` is not a list")?;
    let (mut messages, mut statuses) = (Vec::new(), Vec::new());
    for change in entries.iter().filter_map(|e| e["changes"].as_array()).flatten() {
        if change["field"] != "messages" {
            continue;
        }
        let value = &change["value"];
        let name_of = |wa_id: &str| {
            value["contacts"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|c| c["wa_id"] == wa_id)
                .and_then(|c| c["profile"]["name"].as_str().map(str::to_string))
        };
        for m in value["messages"].as_array().into_iter().flatten() {
            let (Some(id), Some(from)) = (m["id"].as_str(), m["from"].as_str()) else {
                return Err("a message without `id` or `from`".to_string());
            };
            let text = match m["type"].as_str() {
                Some("text") => m["text"]["body"].as_str().unwrap_or_default().to_string(),
                Some("button") => m["button"]["text"].as_str().unwrap_or_default().to_string(),
                Some("interactive") => {
                    let i = &m["interactive"];
                    i["button_reply"]["title"]
                        .as_str()
                        .or(i["list_reply"]["title"].as_str())
                        .unwrap_or_default()
                        .to_string()
                }
                Some(other) => format!("[{other}]"),
                None => return Err("a message without `type`".to_string()),
            };
            let number = if from.starts_with('+') { from.to_string() } else { format!("+{from}") };
            messages.push(Incoming {
                id: id.to_string(),
                from: number,
                reply_to: from.to_string(),
                name: name_of(from),
                text,
            });
        }
        for s in value["statuses"].as_array().into_iter().flatten() {
            let (Some(id), Some(status)) = (s["id"].as_str(), s["status"].as_str()) else {
                return Err("a status without `id` or `status`".to_string());
            };
            let error = s["errors"].as_array().and_then(|e| e.first()).map(|e| {
                format!("{} {}", e["code"], e["title"].as_str().or(e["message"].as_str()).unwrap_or_default())
            });
            statuses.push(Status {
                id: id.to_string(),
                recipient: s["recipient_id"].as_str().unwrap_or_default().to_string(),
                status: status.to_string(),
                error,
            });
        }
    }
    Ok((messages, statuses))
}

/// A WhatsApp Business number.
pub struct WhatsApp {
    pub settings: WhatsAppSettings,
    agent: ureq::Agent,
}

impl std::fmt::Debug for WhatsApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhatsApp").field("phone_number_id", &self.settings.phone_number_id).finish_non_exhaustive()
    }
}

impl WhatsApp {
    pub fn new(settings: WhatsAppSettings) -> WhatsApp {
        WhatsApp { settings, agent: agent() }
    }

    /// Sends a text with `POST {api_base}/{phone_number_id}/messages`, if the customer
    /// wrote within the last 24 hours (`last_in_ms`); otherwise it is refused here.
    pub fn send(&self, out: &Outgoing, last_in_ms: Option<i64>, now_ms: i64) -> SendOutcome {
        match last_in_ms {
            Some(last) if now_ms - last <= WHATSAPP_WINDOW_MS => {}
            _ => {
                return SendOutcome::Refused(
                    "outside WhatsApp's 24-hour window: the customer last wrote more than 24 hours ago, and only \
                     an approved template may be sent now"
                        .to_string(),
                )
            }
        }
        let s = &self.settings;
        let url = format!("{}/{}/messages", s.api_base, s.phone_number_id);
        let body = json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": out.to,
                          "type": "text", "text": {"preview_url": false, "body": out.text}});
        let answer = self
            .agent
            .post(&url)
            .header("Authorization", &format!("Bearer {}", s.access_token.expose()))
            .header("Content-Type", "application/json")
            .send(body.to_string());
        let (status, json) = match read(answer) {
            Ok(v) => v,
            Err(why) => return SendOutcome::Transient(why),
        };
        match status {
            200..=299 => match json["messages"][0]["id"].as_str() {
                Some(id) => SendOutcome::Accepted(id.to_string()),
                None => SendOutcome::Refused(format!("the send API answered {status} with no message id")),
            },
            _ => {
                let e = &json["error"];
                let why = format!("{status}: {} {}", e["code"], e["message"].as_str().unwrap_or("refused"));
                match e["code"].as_u64() {
                    // Re-engagement: the 24-hour window has closed.
                    Some(131047) => SendOutcome::Refused(format!("outside WhatsApp's 24-hour window ({why})")),
                    _ if status == 429 || status >= 500 => SendOutcome::Transient(why),
                    _ => SendOutcome::Refused(why),
                }
            }
        }
    }
}

/// The messages of a Messenger webhook body (`object` = `page`): each
/// `entry[].messaging[]` with a `message` that is not the page's own echo.
pub fn messenger_parse(body: &Value) -> Result<Vec<Incoming>, String> {
    if body["object"] != "page" {
        return Err("`object` is not page".to_string());
    }
    let entries = body["entry"].as_array().ok_or("`entry` is not a list")?;
    let mut out = Vec::new();
    for m in entries.iter().filter_map(|e| e["messaging"].as_array()).flatten() {
        let message = &m["message"];
        if message.is_null() || message["is_echo"] == true {
            continue;
        }
        let (Some(psid), Some(mid)) = (m["sender"]["id"].as_str(), message["mid"].as_str()) else {
            return Err("a message without `sender.id` or `message.mid`".to_string());
        };
        let text = message["text"]
            .as_str()
            .map(str::to_string)
            .or_else(|| message["quick_reply"]["payload"].as_str().map(str::to_string))
            .unwrap_or_else(|| "[attachment]".to_string());
        out.push(Incoming {
            id: mid.to_string(),
            from: format!("messenger:{psid}"),
            reply_to: psid.to_string(),
            name: None,
            text,
        });
    }
    Ok(out)
}

/// A public comment on the page's posts or the linked Instagram account's media: social
/// monitoring. Each is (the network, the comment), the network being `facebook` or
/// `instagram`; the comment's `id` is what a reply answers, and `reply_to` is who wrote
/// it, so that every comment one customer writes joins their open conversation.
pub fn mentions_parse(body: &Value, own: &[&str]) -> Result<Vec<(&'static str, Incoming)>, String> {
    let network = match body["object"].as_str() {
        Some("page") => "facebook",
        Some("instagram") => "instagram",
        _ => return Err("`object` is neither page nor instagram".to_string()),
    };
    let entries = body["entry"].as_array().ok_or("`entry` is not a list")?;
    let mut out = Vec::new();
    for change in entries.iter().filter_map(|e| e["changes"].as_array()).flatten() {
        let v = &change["value"];
        let comment = match (network, change["field"].as_str()) {
            // A visitor's post on the page, or a comment on one of its posts; edits and
            // removals are not new words to answer.
            ("facebook", Some("feed")) => {
                if !matches!(v["item"].as_str(), Some("comment" | "post")) || v["verb"] != "add" {
                    continue;
                }
                let id = v["comment_id"].as_str().or(v["post_id"].as_str());
                let (Some(id), Some(who)) = (id, v["from"]["id"].as_str()) else {
                    return Err("a feed change without `comment_id` or `post_id`, or `from.id`".to_string());
                };
                let name = v["from"]["name"].as_str().map(str::to_string);
                (id, who.to_string(), format!("facebook:{who}"), name, v["message"].as_str())
            }
            ("instagram", Some("comments" | "live_comments")) => {
                let (Some(id), Some(who)) = (v["id"].as_str(), v["from"]["id"].as_str()) else {
                    return Err("a comment without `id` or `from.id`".to_string());
                };
                let handle = v["from"]["username"].as_str().map(|u| format!("instagram:@{u}"));
                (id, who.to_string(), handle.unwrap_or(format!("instagram:{who}")), None, v["text"].as_str())
            }
            _ => continue,
        };
        let (id, who, from, name, text) = comment;
        // The page's own answers come back as comments too.
        if own.contains(&who.as_str()) {
            continue;
        }
        let text = text.unwrap_or("[attachment]").to_string();
        out.push((network, Incoming { id: id.to_string(), from, reply_to: who, name, text }));
    }
    Ok(out)
}

/// A Facebook page's Messenger.
pub struct Messenger {
    pub settings: crate::config::MessengerSettings,
    agent: ureq::Agent,
}

impl std::fmt::Debug for Messenger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Messenger").field("page_id", &self.settings.page_id).finish_non_exhaustive()
    }
}

impl Messenger {
    pub fn new(settings: crate::config::MessengerSettings) -> Messenger {
        Messenger { settings, agent: agent() }
    }

    /// `POST {api_base}/{page_id}/messages` (`messaging_type: RESPONSE`), within the
    /// 24-hour standard messaging window, as WhatsApp's.
    pub fn send(&self, out: &Outgoing, last_in_ms: Option<i64>, now_ms: i64) -> SendOutcome {
        match last_in_ms {
            Some(last) if now_ms - last <= WHATSAPP_WINDOW_MS => {}
            _ => {
                return SendOutcome::Refused(
                    "outside Messenger's 24-hour window: the customer last wrote more than 24 hours ago".to_string(),
                )
            }
        }
        let s = &self.settings;
        let url = format!("{}/{}/messages", s.api_base, s.page_id);
        let body = json!({"recipient": {"id": out.to}, "messaging_type": "RESPONSE", "message": {"text": out.text}});
        self.post_as_page(&url, body, ("message_id", "the Send API answered {status} with no message id"))
    }

    /// `POST url` with the page's token; the answer's `id_field` is the provider's id for
    /// what was sent (`missing` says so when it is not there, `{status}` standing for the status).
    fn post_as_page(&self, url: &str, body: Value, (id_field, missing): (&str, &str)) -> SendOutcome {
        let answer = self
            .agent
            .post(url)
            .header("Authorization", &format!("Bearer {}", self.settings.page_token.expose()))
            .header("Content-Type", "application/json")
            .send(body.to_string());
        let (status, json) = match read(answer) {
            Ok(v) => v,
            Err(why) => return SendOutcome::Transient(why),
        };
        match status {
            200..=299 => match json[id_field].as_str() {
                Some(id) => SendOutcome::Accepted(id.to_string()),
                None => SendOutcome::Refused(missing.replace("{status}", &status.to_string())),
            },
            429 | 500..=599 => SendOutcome::Transient(format!("{status}: {}", json["error"]["message"])),
            _ => SendOutcome::Refused(format!("{status}: {} {}", json["error"]["code"], json["error"]["message"])),
        }
    }

    /// A public reply to comment `out.in_reply_to`: `POST {api_base}/{comment}/comments`
    /// on Facebook, `POST {api_base}/{comment}/replies` on Instagram, with the page's token.
    /// Public comments have no 24-hour window.
    pub fn reply_publicly(&self, network: &str, out: &Outgoing) -> SendOutcome {
        let Some(comment) = out.in_reply_to.as_deref().filter(|c| !c.is_empty()) else {
            return SendOutcome::Refused("a public reply needs the comment it answers".to_string());
        };
        if !comment.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return SendOutcome::Refused(format!("`{comment}` is not a comment id"));
        }
        let s = &self.settings;
        let edge = if network == "instagram" { "replies" } else { "comments" };
        let url = format!("{}/{comment}/{edge}", s.api_base);
        self.post_as_page(
            &url,
            json!({"message": out.text}),
            ("id", "the Graph API answered {status} with no comment id"),
        )
    }
}

/// A Telegram bot.
pub struct Telegram {
    pub settings: TelegramSettings,
    agent: ureq::Agent,
}

impl std::fmt::Debug for Telegram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Telegram")
    }
}

/// The message of a Telegram update (`message` or `edited_message` with `text`), and
/// its `update_id`; `Ok(None)` for updates that carry no customer's text.
pub fn telegram_parse(update: &Value) -> Result<(u64, Option<Incoming>), String> {
    let id = update["update_id"].as_u64().ok_or("`update_id` is not a number")?;
    let Some(m) = update.get("message").or_else(|| update.get("edited_message")) else { return Ok((id, None)) };
    let chat = m["chat"]["id"].as_i64().ok_or("a message without `chat.id`")?;
    let from = &m["from"];
    if from["is_bot"] == true {
        return Ok((id, None));
    }
    let Some(text) = m["text"].as_str().or(m["caption"].as_str()) else { return Ok((id, None)) };
    let who = match from["username"].as_str() {
        Some(u) => format!("@{u}"),
        None => format!("telegram:{chat}"),
    };
    let name = from["first_name"].as_str().map(|f| match from["last_name"].as_str() {
        Some(l) => format!("{f} {l}"),
        None => f.to_string(),
    });
    Ok((id, Some(Incoming { id: id.to_string(), from: who, reply_to: chat.to_string(), name, text: text.to_string() })))
}

impl Telegram {
    pub fn new(settings: TelegramSettings) -> Telegram {
        Telegram { settings, agent: agent() }
    }

    /// `POST {api_base}/bot{token}/sendMessage`.
    pub fn send(&self, out: &Outgoing) -> SendOutcome {
        let s = &self.settings;
        let url = format!("{}/bot{}/sendMessage", s.api_base, s.bot_token.expose());
        let body = json!({"chat_id": out.to, "text": out.text});
        let answer = self.agent.post(&url).header("Content-Type", "application/json").send(body.to_string());
        let (status, json) = match read(answer) {
            // The URL holds the token: never say it.
            Ok(v) => v,
            Err(_) => return SendOutcome::Transient("sendMessage: the Bot API could not be reached".to_string()),
        };
        match (status, json["ok"].as_bool()) {
            (200, Some(true)) => SendOutcome::Accepted(json["result"]["message_id"].to_string()),
            _ => {
                let why = format!("{status}: {}", json["description"].as_str().unwrap_or("refused"));
                if status == 403 {
                    // The customer blocked the bot.
                    SendOutcome::OptedOut(why)
                } else if status == 429 || status >= 500 {
                    SendOutcome::Transient(why)
                } else {
                    SendOutcome::Refused(why)
                }
            }
        }
    }
}

fn read(answer: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Result<(u16, Value), String> {
    let mut response = answer.map_err(|e| format!("the send API could not be reached: {e}"))?;
    let status = response.status().as_u16();
    let text = response.body_mut().with_config().limit(1024 * 1024).read_to_string().unwrap_or_default();
    Ok((status, serde_json::from_str(&text).unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hub_signatures() {
        let sig = hub_signature("secret", b"{}");
        assert!(hub_signature_holds("secret", b"{}", &sig));
        assert!(!hub_signature_holds("other", b"{}", &sig));
        assert!(!hub_signature_holds("secret", b"{ }", &sig));
        assert!(!hub_signature_holds("secret", b"{}", "sha256=zz"));
        assert!(!hub_signature_holds("secret", b"{}", &sig.replace("sha256=", "sha1=")));
        assert!(same_secret("abc", "abc") && !same_secret("abc", "abd") && !same_secret("abc", "ab"));
    }

    #[test]
    fn whatsapp_and_telegram_bodies() {
        let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages",
            "value": {"messaging_product": "whatsapp", "metadata": {"phone_number_id": "123"},
              "contacts": [{"profile": {"name": "Ann"}, "wa_id": "447700900001"}],
              "messages": [{"from": "447700900001", "id": "wamid.1", "timestamp": "1", "type": "text", "text": {"body": "Hi"}}],
              "statuses": [{"id": "wamid.2", "status": "failed", "recipient_id": "447700900001",
                            "errors": [{"code": 131047, "title": "Re-engagement message"}]}]}}]}]});
        let (m, s) = whatsapp_parse(&body).unwrap();
        assert_eq!(
            (m[0].from.as_str(), m[0].reply_to.as_str(), m[0].text.as_str()),
            ("+447700900001", "447700900001", "Hi")
        );
        assert_eq!(m[0].name.as_deref(), Some("Ann"));
        assert_eq!(s[0].error.as_deref(), Some("131047 Re-engagement message"));
        assert!(whatsapp_parse(&json!({"object": "page"})).is_err());
        let update = json!({"update_id": 7, "message": {"message_id": 1, "chat": {"id": 99, "type": "private"},
            "from": {"id": 99, "is_bot": false, "first_name": "Ann", "username": "annb"}, "date": 1, "text": "Hello"}});
        let (id, m) = telegram_parse(&update).unwrap();
        let m = m.unwrap();
        assert_eq!((id, m.from.as_str(), m.reply_to.as_str(), m.name.as_deref()), (7, "@annb", "99", Some("Ann")));
        assert_eq!(telegram_parse(&json!({"update_id": 8})).unwrap(), (8, None));
        assert!(telegram_parse(&json!({"message": {}})).is_err());
    }

    #[test]
    fn public_comments() {
        let page = json!({"object": "page", "entry": [{"id": "1234", "time": 1, "changes": [
            {"field": "feed", "value": {"item": "comment", "verb": "add", "comment_id": "55_66", "post_id": "1234_55",
             "from": {"id": "901", "name": "Lee Park"}, "message": "@Acme my parcel is late", "created_time": 1}},
            {"field": "feed", "value": {"item": "comment", "verb": "edited", "comment_id": "55_67",
             "from": {"id": "901"}, "message": "edited"}},
            {"field": "feed", "value": {"item": "reaction", "verb": "add", "from": {"id": "901"}}},
            {"field": "feed", "value": {"item": "comment", "verb": "add", "comment_id": "55_68",
             "from": {"id": "1234", "name": "Acme"}, "message": "Our own answer"}}]}]});
        let got = mentions_parse(&page, &["1234"]).unwrap();
        assert_eq!(got.len(), 1, "{got:?}");
        let (network, c) = &got[0];
        assert_eq!(
            (*network, c.id.as_str(), c.from.as_str(), c.reply_to.as_str()),
            ("facebook", "55_66", "facebook:901", "901")
        );
        assert_eq!((c.name.as_deref(), c.text.as_str()), (Some("Lee Park"), "@Acme my parcel is late"));
        let ig = json!({"object": "instagram", "entry": [{"id": "1784", "time": 1, "changes": [{"field": "comments",
            "value": {"id": "17865799348089039", "text": "where is my order", "from": {"id": "3021", "username": "lee.p"},
                      "media": {"id": "1790", "media_product_type": "FEED"}}}]}]});
        let got = mentions_parse(&ig, &[]).unwrap();
        assert_eq!(
            (got[0].0, got[0].1.from.as_str(), got[0].1.text.as_str()),
            ("instagram", "instagram:@lee.p", "where is my order")
        );
        assert!(mentions_parse(&json!({"object": "user"}), &[]).is_err());
        let broken = json!({"object": "page", "entry": [{"changes": [{"field": "feed", "value": {"item": "comment", "verb": "add"}}]}]});
        assert!(mentions_parse(&broken, &[]).is_err());
    }
}
