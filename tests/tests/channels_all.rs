//! One acme customer on all five channels: Raj Kumar (platinum; +447700900009,
//! raj@example.org, @raj_k in `flows/data/customers.csv`) calls (Twilio voice webhook),
//! chats in the widget's protocol, texts (Twilio SMS webhook), emails (Debian's `swaks`
//! to the SMTP listener) and writes on Telegram. The agent Ann takes each; when the fifth
//! arrives her screen shows one customer with one history: the four earlier contacts,
//! on four channels, found by the look-up's keys.

mod provider;
mod serving;
mod support;
use base64::Engine as _;
use hmac::Mac;
use provider::*;
use serde_json::{json, Value};
use serving::*;
use std::io::{Read, Write};
use std::process::Command;
use support::*;

const RAJ_PHONE: &str = "+447700900009";
const BOT_SECRET: &str = "telegram-secret_token-1";

/// POSTs a form signed as Twilio signs it, for the public URL.
fn twilio_post(addr: &str, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let mut sorted: Vec<&(&str, &str)> = form.iter().collect();
    sorted.sort();
    let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(TOKEN.as_bytes()).unwrap();
    mac.update(format!("{PUBLIC}{path}").as_bytes());
    for (k, v) in sorted {
        mac.update(k.as_bytes());
        mac.update(v.as_bytes());
    }
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let body: String = form
        .iter()
        .map(|(k, v)| format!("{k}={}", v.replace('%', "%25").replace('+', "%2B").replace(' ', "+")))
        .collect::<Vec<_>>()
        .join("&");
    post(
        addr,
        path,
        &[("X-Twilio-Signature", &signature), ("Content-Type", "application/x-www-form-urlencoded")],
        body.as_bytes(),
    )
}

fn post(addr: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let extra: String = headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(body).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    (out[9..12].parse().unwrap(), out.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_string())
}

/// Ann takes the next offer and finishes with it; the contact message she got.
async fn take(ann: &mut Socket, channel: &str) -> Value {
    let (offer, _) = until(ann, "offer", None).await;
    assert_eq!(offer["channel"], channel, "{offer}");
    put(ann, json!({"type": "accept", "offer": offer["offer"], "ref": "a"})).await;
    let (contact, _) = until(ann, "contact", None).await;
    let c = offer["contact"].as_u64().unwrap();
    put(ann, json!({"type": "finish", "contact": c, "ref": "f"})).await;
    put(ann, json!({"type": "outcome", "contact": c, "outcome": format!("{channel}_done"), "ref": "o"})).await;
    loop {
        let (ok, _) = until(ann, "ok", None).await;
        if ok["ref"] == "o" {
            break;
        }
    }
    contact
}

#[test]
fn one_customer_on_five_channels_is_one_customer_with_one_history() {
    let (_helpers, prism, _standin) = provider();
    let smtp = free_port();
    let project = copy_of("flows");
    std::fs::write(
        project.path().join("texts.flow"),
        "entry sms +441632960000 -> texts\n\nflow texts on sms {\n  say \"Thanks for texting Acme.\"\n  queue vip\n}\n",
    )
    .unwrap();
    let config = project.path().join("switchboard.toml");
    let mut toml = std::fs::read_to_string(&config).unwrap();
    toml.push_str(&format!(
        "\n[twilio]\naccount_sid = \"{ACCOUNT}\"\nauth_token = \"{TOKEN}\"\npublic_url = \"{PUBLIC}\"\napi_base = \"http://{prism}\"\n\n[email]\nlisten = \"127.0.0.1:{smtp}\"\n\n[telegram]\nbot_token = \"123:bot\"\nsecret_token = \"{BOT_SECRET}\"\napi_base = \"http://127.0.0.1:9\"\n"
    ));
    std::fs::write(&config, toml).unwrap();
    let data = tempfile::tempdir().unwrap();
    let d = start(project.path(), data.path());

    rt().block_on(async {
        let mut ann = agent(&d.addr, "ann", "demo").await;

        // 1. A call.
        let call = [
            ("CallSid", "CA99999999999999999999999999999999"),
            ("AccountSid", ACCOUNT),
            ("From", RAJ_PHONE),
            ("To", "+441632960000"),
            ("CallStatus", "ringing"),
        ];
        let (status, twiml) = twilio_post(&d.addr, "/channels/twilio/voice", &call);
        assert_eq!(status, 200, "{twiml}");
        take(&mut ann, "voice").await;
        let mut done = call;
        done[4] = ("CallStatus", "completed");
        assert_eq!(twilio_post(&d.addr, "/channels/twilio/voice/status", &done).0, 200);

        // 2. A web chat, giving his email in the pre-chat form.
        let mut chat = connect(&d.addr, "/chat/ws", None).await.unwrap();
        put(&mut chat, json!({"type": "hello", "name": "Raj", "email": "raj@example.org"})).await;
        take(&mut ann, "chat").await;

        // 3. A text.
        let text = [
            ("MessageSid", "SM99999999999999999999999999999999"),
            ("AccountSid", ACCOUNT),
            ("From", RAJ_PHONE),
            ("To", "+441632960000"),
            ("Body", "Hi, it's Raj"),
            ("NumMedia", "0"),
        ];
        assert_eq!(twilio_post(&d.addr, "/channels/twilio/sms", &text).0, 200);
        take(&mut ann, "sms").await;

        // 4. An email.
        let o = Command::new(swaks())
            .args([
                "--server",
                &format!("127.0.0.1:{smtp}"),
                "--from",
                "raj@example.org",
                "--to",
                "support@acme.example",
            ])
            .args(["--header", "Subject: My account", "--body", "Please check my account.", "--timeout", "20"])
            .output()
            .expect("swaks runs");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
        take(&mut ann, "email").await;

        // 5. Telegram: Ann's screen shows the same customer, with the four before.
        let update = json!({"update_id": 9001, "message": {"message_id": 1, "date": 1, "text": "Hello from Telegram",
            "from": {"id": 555, "is_bot": false, "first_name": "Raj", "username": "raj_k"},
            "chat": {"id": 555, "type": "private"}}})
        .to_string();
        let (status, said) =
            post(&d.addr, "/channels/telegram", &[("X-Telegram-Bot-Api-Secret-Token", BOT_SECRET)], update.as_bytes());
        assert_eq!(status, 200, "{said}");
        let contact = take(&mut ann, "social").await;
        assert_eq!(contact["record"]["name"], "Raj Kumar", "the record the flow found: {contact:#}");
        let history = contact["history"].as_array().expect("a history");
        let mut channels: Vec<&str> = history.iter().map(|h| h["channel"].as_str().unwrap()).collect();
        channels.sort_unstable();
        assert_eq!(channels, ["chat", "email", "sms", "voice"], "one history across channels: {history:#?}");
        for h in history {
            let want = format!("{}_done", h["channel"].as_str().unwrap());
            assert_eq!(h["outcome"], want.as_str(), "{h:#}");
        }
    });
}
