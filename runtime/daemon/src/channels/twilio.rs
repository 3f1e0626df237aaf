//! Twilio's wire formats: the SMS webhook (`POST /channels/twilio/sms`, a form signed with
//! `X-Twilio-Signature`), message status callbacks (`POST /channels/twilio/status`), TwiML
//! answers, and the REST API's `Messages.json` for what goes out. Any provider speaking
//! the same API works: `api_base` says where it is.

use super::{Outgoing, SendOutcome};
use crate::config::TwilioSettings;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use std::time::Duration;

/// The largest webhook body taken (Twilio's forms are a few KiB).
pub const MAX_BODY: usize = 64 * 1024;

/// The longest SMS body the REST API takes.
pub const MAX_SMS: usize = 1600;

/// A Twilio account, as the daemon uses it.
pub struct Twilio {
    pub settings: TwilioSettings,
    agent: ureq::Agent,
    /// The number flows' `send sms` send from.
    pub sms_from: Option<String>,
    /// The number calls are placed from (the project's first voice entry unless set).
    pub voice_from: Option<String>,
}

impl std::fmt::Debug for Twilio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Twilio").field("account_sid", &self.settings.account_sid).finish_non_exhaustive()
    }
}

/// A form's fields, in the order sent.
pub type Form = Vec<(String, String)>;

impl Twilio {
    pub fn new(settings: TwilioSettings, sms_from: Option<String>) -> Twilio {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        Twilio { settings, agent, sms_from, voice_from: None }
    }

    /// `X-Twilio-Signature` for a POST of `form` to `url`: base64 of HMAC-SHA1, keyed by
    /// the auth token, over the URL followed by each parameter's name and value, sorted by
    /// name (then value).
    pub fn signature(&self, url: &str, form: &[(String, String)]) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.mac(url, form).finalize().into_bytes())
    }

    fn mac(&self, url: &str, form: &[(String, String)]) -> Hmac<sha1::Sha1> {
        let mut sorted: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        sorted.sort_unstable();
        sorted.dedup();
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(self.settings.auth_token.expose().as_bytes())
            .expect("HMAC takes a key of any length");
        mac.update(url.as_bytes());
        for (k, v) in sorted {
            mac.update(k.as_bytes());
            mac.update(v.as_bytes());
        }
        mac
    }

    /// Whether `given` signs `form` posted to `path_and_query` under the public URL,
    /// compared in constant time.
    pub fn verify(&self, path_and_query: &str, form: &[(String, String)], given: &str) -> bool {
        let Ok(given) = base64::engine::general_purpose::STANDARD.decode(given.trim()) else { return false };
        let url = format!("{}{path_and_query}", self.settings.public_url);
        self.mac(&url, form).verify_slice(&given).is_ok()
    }

    /// The URL Twilio posts a message's statuses to.
    pub fn status_url(&self, key: &str) -> String {
        let key: String = form_urlencoded::byte_serialize(key.as_bytes()).collect();
        format!("{}/channels/twilio/status?key={key}", self.settings.public_url)
    }

    /// Sends one SMS through `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, with
    /// the message's key as the idempotency token, so a resend after a crash is the same
    /// message to the provider.
    pub fn send_sms(&self, out: &Outgoing) -> SendOutcome {
        let s = &self.settings;
        let url = format!("{}/2010-04-01/Accounts/{}/Messages.json", s.api_base, s.account_sid);
        let basic =
            base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", s.account_sid, s.auth_token.expose()));
        let callback = self.status_url(&out.key);
        let body = body_within(&out.text, MAX_SMS);
        let form =
            [("To", out.to.as_str()), ("From", out.from.as_str()), ("Body", body), ("StatusCallback", &callback)];
        let answer = self
            .agent
            .post(&url)
            .header("Authorization", &format!("Basic {basic}"))
            .header("Accept", "application/json")
            .header("I-Twilio-Idempotency-Token", &out.key)
            .send_form(form);
        let mut response = match answer {
            Ok(r) => r,
            Err(e) => return SendOutcome::Transient(format!("POST Messages.json: {e}")),
        };
        let status = response.status().as_u16();
        let text = response.body_mut().with_config().limit(1024 * 1024).read_to_string().unwrap_or_default();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        match status {
            200..=299 => match json["sid"].as_str() {
                Some(sid) => SendOutcome::Accepted(sid.to_string()),
                None => SendOutcome::Refused(format!("the provider answered {status} with no message sid")),
            },
            _ => {
                let why = error_text(status, &json);
                match json["code"].as_u64() {
                    Some(21610) => SendOutcome::OptedOut(why),
                    _ if status == 429 || status >= 500 => SendOutcome::Transient(why),
                    _ => SendOutcome::Refused(why),
                }
            }
        }
    }
}

impl Twilio {
    /// Places a call with `POST /Calls.json`: answered, it asks `{public}/voice/outbound`
    /// what to do (which answers the command `answered`); its end (`completed`, `busy`,
    /// `no-answer`, `failed`) comes to `/voice/status?command=…`. Only the placing is done
    /// here; the outcome comes later.
    pub fn place_call(&self, command: &str, to: &str) -> SendOutcome {
        let s = &self.settings;
        let Some(from) = self.voice_from.clone().or_else(|| self.sms_from.clone()) else {
            return SendOutcome::Refused("no number to call from: give the project a voice entry".to_string());
        };
        let url = format!("{}/2010-04-01/Accounts/{}/Calls.json", s.api_base, s.account_sid);
        let basic =
            base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", s.account_sid, s.auth_token.expose()));
        let command_q: String = form_urlencoded::byte_serialize(command.as_bytes()).collect();
        let answer_url = format!("{}/channels/twilio/voice/outbound?command={command_q}", s.public_url);
        let status_url = format!("{}/channels/twilio/voice/status?command={command_q}", s.public_url);
        let form = [
            ("To", to),
            ("From", from.as_str()),
            ("Url", answer_url.as_str()),
            ("Method", "POST"),
            // Only `completed` (the default event): its CallStatus says busy, no-answer or
            // failed; an answer is known sooner, when Twilio asks `Url` what to do.
            ("StatusCallback", status_url.as_str()),
            ("StatusCallbackMethod", "POST"),
        ];
        let answer = self
            .agent
            .post(&url)
            .header("Authorization", &format!("Basic {basic}"))
            .header("Accept", "application/json")
            .header("I-Twilio-Idempotency-Token", command)
            .send_form(form);
        let mut response = match answer {
            Ok(r) => r,
            Err(e) => return SendOutcome::Transient(format!("POST Calls.json: {e}")),
        };
        let status = response.status().as_u16();
        let text = response.body_mut().with_config().limit(1024 * 1024).read_to_string().unwrap_or_default();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        match status {
            200..=299 => SendOutcome::Accepted(json["sid"].as_str().unwrap_or_default().to_string()),
            429 | 500..=599 => SendOutcome::Transient(error_text(status, &json)),
            _ => SendOutcome::Refused(error_text(status, &json)),
        }
    }

    /// Sends a call in progress to the daemon's voice URL for `contact` (the REST API's
    /// `POST /Calls/{CallSid}.json` with `Url`): how a payment reaches a call bridged to
    /// an agent.
    pub fn redirect_call(&self, sid: &str, contact: u64) -> Result<(), String> {
        let s = &self.settings;
        let url = format!("{}/2010-04-01/Accounts/{}/Calls/{sid}.json", s.api_base, s.account_sid);
        let basic =
            base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", s.account_sid, s.auth_token.expose()));
        let next = format!("{}/channels/twilio/voice/next?contact={contact}&after=0", s.public_url);
        let answer = self
            .agent
            .post(&url)
            .header("Authorization", &format!("Basic {basic}"))
            .header("Accept", "application/json")
            .send_form([("Url", next.as_str()), ("Method", "POST")]);
        let mut response = answer.map_err(|e| format!("POST Calls/{{sid}}.json: {e}"))?;
        let status = response.status().as_u16();
        let text = response.body_mut().with_config().limit(1024 * 1024).read_to_string().unwrap_or_default();
        match status {
            200..=299 => Ok(()),
            _ => Err(error_text(status, &serde_json::from_str(&text).unwrap_or_default())),
        }
    }
}

/// A provider's refusal in words: `400: 21211 The 'To' number … is not valid`.
fn error_text(status: u16, json: &serde_json::Value) -> String {
    match (json["code"].as_u64(), json["message"].as_str()) {
        (Some(code), Some(message)) => format!("{status}: {code} {message}"),
        (None, Some(message)) => format!("{status}: {message}"),
        // A problem document (RFC 7807), as gateways and validating proxies answer.
        _ => match (json["title"].as_str(), json["validation"].as_array()) {
            (Some(title), Some(found)) => {
                let found: Vec<String> = found
                    .iter()
                    .map(|v| {
                        format!(
                            "{} {}",
                            v["location"].as_array().map_or(String::new(), |l| {
                                l.iter().filter_map(|p| p.as_str()).collect::<Vec<_>>().join(".")
                            }),
                            v["message"].as_str().unwrap_or_default()
                        )
                    })
                    .collect();
                format!("{status}: {title}: {}", found.join("; "))
            }
            (Some(title), None) => format!("{status}: {title}"),
            _ => format!("the provider answered {status}"),
        },
    }
}

/// `text` cut to at most `max` characters (at a character boundary).
fn body_within(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

/// The fields of a form body, or why it is not one.
pub fn parse_form(body: &[u8]) -> Result<Form, String> {
    if std::str::from_utf8(body).is_err() {
        return Err("the body is not UTF-8".to_string());
    }
    let form: Form = form_urlencoded::parse(body).into_owned().collect();
    Ok(form)
}

/// The value of field `name`.
pub fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// A TwiML document: `<Response>` with `verbs` inside, each already written.
pub fn twiml(verbs: &str) -> String {
    if verbs.is_empty() {
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>".to_string();
    }
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>{verbs}</Response>")
}

/// `<Verb a="…">text</Verb>`, escaped.
pub fn verb(name: &str, attributes: &[(&str, &str)], text: &str) -> String {
    let mut out = format!("<{name}");
    for (k, v) in attributes {
        out.push_str(&format!(" {k}=\"{}\"", escape(v)));
    }
    if text.is_empty() {
        out.push_str("/>");
    } else {
        out.push_str(&format!(">{}</{name}>", escape(text)));
    }
    out
}

/// Text for XML: `&`, `<`, `>`, `"` and `'` escaped; characters XML cannot hold dropped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn twilio() -> Twilio {
        Twilio::new(
            TwilioSettings {
                account_sid: format!("AC{}", "0".repeat(32)),
                auth_token: Secret::new("12345"),
                public_url: "https://mycompany.com".to_string(),
                api_base: "http://127.0.0.1:9".to_string(),
                sms_from: None,
                sms_idle_ms: 60_000,
            },
            None,
        )
    }

    /// The example in Twilio's security documentation (auth token 12345).
    #[test]
    fn signs_as_twilio_documents() {
        let form: Form = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let t = twilio();
        assert_eq!(t.signature("https://mycompany.com/myapp.php?foo=1&bar=2", &form), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
        assert!(t.verify("/myapp.php?foo=1&bar=2", &form, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
        assert!(!t.verify("/myapp.php?foo=1&bar=3", &form, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
        assert!(!t.verify("/myapp.php?foo=1&bar=2", &form[1..], "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
        assert!(!t.verify("/myapp.php?foo=1&bar=2", &form, "not base64!"));
    }

    #[test]
    fn twiml_is_escaped() {
        assert_eq!(twiml(""), "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>");
        assert_eq!(
            twiml(&verb("Message", &[("to", "+1\"2")], "a < b & c")),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message to=\"+1&quot;2\">a &lt; b &amp; c</Message></Response>"
        );
        assert_eq!(body_within("héllo", 2), "hé");
    }
}
