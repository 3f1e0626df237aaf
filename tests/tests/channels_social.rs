//! WhatsApp Cloud API, Messenger and Telegram bot webhooks, with payloads in the shapes those APIs
//! document, signed as they sign them (HMAC-SHA256 of the raw body with the app secret;
//! the bot's secret token), and a fake send API, started by the test, that records what
//! the daemon sent. One acme customer writes on WhatsApp and on Telegram; the agent answers
//! each on its app; bad signatures, bodies and duplicates change nothing.

mod serving;
mod support;
use hmac::Mac;
use serde_json::{json, Value};
use serving::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::*;

const SECRET: &str = "whatsapp-app-secret";
const VERIFY: &str = "verify-me-please";
const BOT_SECRET: &str = "telegram-secret_token-1";

/// What the fake send API was sent: (path, Authorization, body).
type Sent = Arc<Mutex<Vec<(String, String, Value)>>>;

/// The send APIs of WhatsApp (`/{phone_number_id}/messages`) and Telegram
/// (`/bot{token}/sendMessage`), answering as they document.
fn fake_api() -> (String, Sent) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let sent: Sent = Arc::default();
    let record = sent.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let path = line.split_whitespace().nth(1).unwrap_or_default().to_string();
            let (mut length, mut auth) = (0, String::new());
            loop {
                let mut h = String::new();
                reader.read_line(&mut h).unwrap();
                if h.trim().is_empty() {
                    break;
                }
                let (name, value) = h.split_once(':').unwrap_or_default();
                match name.to_ascii_lowercase().as_str() {
                    "content-length" => length = value.trim().parse().unwrap_or(0),
                    "authorization" => auth = value.trim().to_string(),
                    _ => {}
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let n = {
                let mut sent = record.lock().unwrap();
                sent.push((path.clone(), auth, body.clone()));
                sent.len()
            };
            let answer = if path.ends_with("/comments") || path.ends_with("/replies") {
                json!({"id": format!("reply{n}")})
            } else if path.ends_with("/sendMessage") {
                json!({"ok": true, "result": {"message_id": n, "chat": {"id": body["chat_id"]}, "date": 1, "text": body["text"]}})
            } else if body.get("recipient").is_some() {
                json!({"recipient_id": body["recipient"]["id"], "message_id": format!("m_out{n}")})
            } else {
                json!({"messaging_product": "whatsapp", "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                       "messages": [{"id": format!("wamid.out{n}")}]})
            };
            let text = answer.to_string();
            let mut stream = stream;
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            );
        }
    });
    (addr, sent)
}

fn post(addr: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    let extra: String = headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(body).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out[9..12].parse().unwrap();
    (status, out.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_string())
}

fn sign(body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    format!("sha256={}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// A WhatsApp Cloud API webhook body with one text message.
fn whatsapp_text(id: &str, from: &str, name: &str, text: &str) -> Vec<u8> {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{"field": "messages",
        "value": {"messaging_product": "whatsapp",
          "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
          "contacts": [{"profile": {"name": name}, "wa_id": from}],
          "messages": [{"from": from, "id": id, "timestamp": "1749416383", "type": "text", "text": {"body": text}}]}}]}]})
    .to_string()
    .into_bytes()
}

fn telegram_text(update: u64, chat: i64, username: &str, text: &str) -> Vec<u8> {
    json!({"update_id": update, "message": {"message_id": update, "date": 1749416383, "text": text,
        "from": {"id": chat, "is_bot": false, "first_name": "Raj", "username": username, "language_code": "en"},
        "chat": {"id": chat, "first_name": "Raj", "username": username, "type": "private"}}})
    .to_string()
    .into_bytes()
}

fn wait_sent(sent: &Sent, what: &str, n: usize) -> Vec<(String, String, Value)> {
    let started = Instant::now();
    loop {
        let now = sent.lock().unwrap().clone();
        if now.len() >= n {
            return now;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "the send API never got {what}: {now:#?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The acme project served with WhatsApp, Telegram and Messenger pointed at `api`.
fn serve_apps(api: &str) -> (Daemon, tempfile::TempDir, tempfile::TempDir) {
    let project = copy_of("flows");
    let config = project.path().join("switchboard.toml");
    let mut toml = std::fs::read_to_string(&config).unwrap();
    toml.push_str(&format!(
        r#"
[whatsapp]
app_secret_env = "TEST_WA_SECRET"
verify_token = "{VERIFY}"
access_token_env = "TEST_WA_TOKEN"
phone_number_id = "106540352242922"
api_base = "http://{api}/v21.0"

[telegram]
bot_token_env = "TEST_TG_TOKEN"
secret_token = "{BOT_SECRET}"
api_base = "http://{api}"

[messenger]
app_secret_env = "TEST_WA_SECRET"
verify_token = "{VERIFY}"
page_token_env = "TEST_PAGE_TOKEN"
page_id = "1234567890"
instagram_id = "17841400000000001"
api_base = "http://{api}/v21.0"
"#
    ));
    std::fs::write(&config, toml).unwrap();
    let data = tempfile::tempdir().unwrap();
    let env = [
        ("TEST_WA_SECRET", SECRET),
        ("TEST_WA_TOKEN", "wa-access-token"),
        ("TEST_TG_TOKEN", "123:bot-token"),
        ("TEST_PAGE_TOKEN", "page-token"),
    ];
    let d = start_with_env(project.path(), data.path(), &env);
    (d, project, data)
}

#[test]
fn whatsapp_and_telegram_messages_reach_the_agent_and_the_answers_go_back() {
    let (api, sent) = fake_api();
    let (d, _project, _data) = serve_apps(&api);

    // Meta's verification: the challenge back for our token, 403 for another.
    let (status, body) = http(
        &d.addr,
        "GET",
        "/channels/whatsapp?hub.mode=subscribe&hub.verify_token=verify-me-please&hub.challenge=1158201444",
        None,
        b"",
    );
    assert_eq!((status, body.as_str()), (200, "1158201444"));
    let (status, _) =
        http(&d.addr, "GET", "/channels/whatsapp?hub.mode=subscribe&hub.verify_token=no&hub.challenge=1", None, b"");
    assert_eq!(status, 403);

    rt().block_on(async {
        let mut ann = agent(&d.addr, "ann", "demo").await;

        // Ann Baker (gold, +447700900001) writes on WhatsApp about a double charge: billing.
        let body = whatsapp_text("wamid.in1", "447700900001", "Ann Baker", "I was charged twice");
        for (sig, want) in [("sha256=00", 403), ("", 403)] {
            let (status, said) = post(&d.addr, "/channels/whatsapp", &[("X-Hub-Signature-256", sig)], &body);
            assert_eq!(status, want, "{said}");
        }
        let malformed = b"{\"object\": \"whatsapp_business_account\", \"entry\": 7}";
        let (status, said) = post(&d.addr, "/channels/whatsapp", &[("X-Hub-Signature-256", &sign(malformed))], malformed);
        assert_eq!(status, 400, "{said}");
        for _ in 0..2 {
            // Sent twice (Meta retries): taken once.
            let (status, said) = post(&d.addr, "/channels/whatsapp", &[("X-Hub-Signature-256", &sign(&body))], &body);
            assert_eq!(status, 200, "{said}");
        }
        let (offer, _) = until(&mut ann, "offer", None).await;
        assert_eq!((offer["channel"].as_str(), offer["from"].as_str()), (Some("social"), Some("+447700900001")), "{offer}");
        put(&mut ann, json!({"type": "accept", "offer": offer["offer"], "ref": "a"})).await;
        let (contact, _) = until(&mut ann, "contact", None).await;
        assert!(contact.to_string().contains("Ann Baker"), "the record the flow found: {contact}");
        let c = offer["contact"].as_u64().unwrap();
        put(&mut ann, json!({"type": "message", "contact": c, "id": "wa-1", "text": "Sorry Ann, refunding it now."})).await;
        let got = wait_sent(&sent, "the agent's WhatsApp answer", 1);
        assert_eq!(got[0].0, "/v21.0/106540352242922/messages");
        assert_eq!(got[0].1, "Bearer wa-access-token");
        assert_eq!(got[0].2["to"], "447700900001");
        assert_eq!(got[0].2["text"]["body"], "Sorry Ann, refunding it now.");
        assert_eq!(got[0].2["messaging_product"], "whatsapp");

        // Her next message joins the same contact.
        let body = whatsapp_text("wamid.in2", "447700900001", "Ann Baker", "Thank you!");
        let (status, _) = post(&d.addr, "/channels/whatsapp", &[("X-Hub-Signature-256", &sign(&body))], &body);
        assert_eq!(status, 200);
        let (m, _) = until(&mut ann, "message", Some("Thank you!")).await;
        assert_eq!(m["contact"].as_u64(), Some(c), "{m}");

        // A status for the message sent is taken.
        let status_body = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages",
            "value": {"messaging_product": "whatsapp", "metadata": {"phone_number_id": "106540352242922"},
              "statuses": [{"id": "wamid.out1", "status": "delivered", "timestamp": "1749416390", "recipient_id": "447700900001"}]}}]}]})
        .to_string();
        let (status, _) =
            post(&d.addr, "/channels/whatsapp", &[("X-Hub-Signature-256", &sign(status_body.as_bytes()))], status_body.as_bytes());
        assert_eq!(status, 200);
        put(&mut ann, json!({"type": "finish", "contact": c, "ref": "f"})).await;
        put(&mut ann, json!({"type": "outcome", "contact": c, "outcome": "refunded", "ref": "o"})).await;

        // Raj (@raj_k) on Telegram: a wrong secret is 403; the update twice is taken once.
        let update = telegram_text(5001, 777001, "raj_k", "My router is broken");
        let (status, _) = post(&d.addr, "/channels/telegram", &[("X-Telegram-Bot-Api-Secret-Token", "wrong")], &update);
        assert_eq!(status, 403);
        let (status, _) = post(&d.addr, "/channels/telegram", &[("X-Telegram-Bot-Api-Secret-Token", BOT_SECRET)], b"[1,");
        assert_eq!(status, 400);
        for _ in 0..2 {
            let (status, said) =
                post(&d.addr, "/channels/telegram", &[("X-Telegram-Bot-Api-Secret-Token", BOT_SECRET)], &update);
            assert_eq!(status, 200, "{said}");
        }
        let (offer, _) = until(&mut ann, "offer", None).await;
        assert_eq!((offer["channel"].as_str(), offer["from"].as_str()), (Some("social"), Some("@raj_k")), "{offer}");
        put(&mut ann, json!({"type": "accept", "offer": offer["offer"], "ref": "b"})).await;
        let t = offer["contact"].as_u64().unwrap();
        put(&mut ann, json!({"type": "message", "contact": t, "id": "tg-1", "text": "Hi Raj, let's fix it."})).await;
        let got = wait_sent(&sent, "the agent's Telegram answer", 2);
        assert_eq!(got[1].0, "/bot123:bot-token/sendMessage");
        assert_eq!((got[1].2["chat_id"].as_str(), got[1].2["text"].as_str()), (Some("777001"), Some("Hi Raj, let's fix it.")));
        put(&mut ann, json!({"type": "finish", "contact": t, "ref": "tf"})).await;
        put(&mut ann, json!({"type": "outcome", "contact": t, "outcome": "fixed", "ref": "to"})).await;

        // Messenger: the page's echo is ignored, a bad signature refused, the message taken.
        let (status, body) =
            http(&d.addr, "GET", "/channels/messenger?hub.mode=subscribe&hub.verify_token=verify-me-please&hub.challenge=77", None, b"");
        assert_eq!((status, body.as_str()), (200, "77"));
        let page = json!({"object": "page", "entry": [{"id": "1234567890", "time": 1749416383, "messaging": [
            {"sender": {"id": "1234567890"}, "recipient": {"id": "6283847"}, "timestamp": 1,
             "message": {"mid": "m_echo", "text": "Our own reply", "is_echo": true}},
            {"sender": {"id": "6283847"}, "recipient": {"id": "1234567890"}, "timestamp": 1749416383,
             "message": {"mid": "m_in1", "text": "Do you ship to Ireland?"}}]}]})
        .to_string();
        let (status, _) = post(&d.addr, "/channels/messenger", &[("X-Hub-Signature-256", "sha256=00")], page.as_bytes());
        assert_eq!(status, 403);
        let (status, said) = post(&d.addr, "/channels/messenger", &[("X-Hub-Signature-256", &sign(page.as_bytes()))], page.as_bytes());
        assert_eq!(status, 200, "{said}");
        let (offer, _) = until(&mut ann, "offer", None).await;
        assert_eq!((offer["channel"].as_str(), offer["from"].as_str()), (Some("social"), Some("messenger:6283847")), "{offer}");
        put(&mut ann, json!({"type": "accept", "offer": offer["offer"], "ref": "c"})).await;
        let m = offer["contact"].as_u64().unwrap();
        put(&mut ann, json!({"type": "message", "contact": m, "id": "fb-1", "text": "Yes, we do."})).await;
        let got = wait_sent(&sent, "the agent's Messenger answer", 3);
        assert_eq!(got[2].0, "/v21.0/1234567890/messages");
        assert_eq!(got[2].1, "Bearer page-token");
        assert_eq!((got[2].2["recipient"]["id"].as_str(), got[2].2["message"]["text"].as_str()), (Some("6283847"), Some("Yes, we do.")));
        assert_eq!(got[2].2["messaging_type"], "RESPONSE");
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(sent.lock().unwrap().len(), 3, "nothing was sent twice, nor for a refused or repeated webhook");
    });
}

/// A Facebook page feed change: a comment on one of the page's posts.
fn page_comment(comment: &str, from: &str, name: &str, text: &str) -> Vec<u8> {
    json!({"object": "page", "entry": [{"id": "1234567890", "time": 1749416383, "changes": [{"field": "feed",
        "value": {"from": {"id": from, "name": name}, "item": "comment", "verb": "add", "comment_id": comment,
                  "post_id": "1234567890_4021", "parent_id": "1234567890_4021", "created_time": 1749416383,
                  "message": text}}]}]})
    .to_string()
    .into_bytes()
}

/// Social monitoring: public comments on the page's posts and on its Instagram media start
/// `social` contacts; every comment one customer writes while their conversation is open
/// joins it, so it stays with the agent who has it; the agent answers in public, under the
/// comment; the page's own comments, edits, bad signatures and repeats change nothing.
#[test]
fn public_comments_from_one_customer_stay_with_one_agent_and_are_answered_under_the_comment() {
    let (api, sent) = fake_api();
    let (d, _project, _data) = serve_apps(&api);
    let signed = |body: &[u8]| post(&d.addr, "/channels/messenger", &[("X-Hub-Signature-256", &sign(body))], body);
    rt().block_on(async {
        let mut ann = agent(&d.addr, "ann", "demo").await;
        let lee = page_comment("4021_9001", "6100", "Lee Park", "@Acme my parcel is late again");
        let (status, _) = signed(&lee);
        assert_eq!(status, 200);
        let (status, _) = post(
            &d.addr,
            "/channels/messenger",
            &[("X-Hub-Signature-256", "sha256=00")],
            &page_comment("4021_9002", "6100", "Lee Park", "forged"),
        );
        assert_eq!(status, 403);
        let (offer, _) = until(&mut ann, "offer", None).await;
        assert_eq!(
            (offer["channel"].as_str(), offer["from"].as_str()),
            (Some("social"), Some("facebook:6100")),
            "{offer}"
        );
        put(&mut ann, json!({"type": "accept", "offer": offer["offer"], "ref": "a"})).await;
        let c = offer["contact"].as_u64().unwrap();
        until(&mut ann, "contact", None).await;

        // Raj is free now too; Lee's next comment, on another post, still goes to Ann: it
        // joins the conversation she has. The repeat of the first, the page's own answer,
        // an edit and a like are not new words.
        let mut raj = agent(&d.addr, "raj", "demo").await;
        let own = page_comment("4021_9003", "1234567890", "Acme", "We're looking into it");
        let edit = String::from_utf8(page_comment("4021_9001", "6100", "Lee Park", "edited"))
            .unwrap()
            .replace("\"add\"", "\"edited\"");
        for body in [lee.clone(), own, edit.into_bytes()] {
            let (status, said) = signed(&body);
            assert_eq!(status, 200, "{said}");
        }
        let again = page_comment("5077_9010", "6100", "Lee Park", "Order 4411, still nothing");
        assert_eq!(signed(&again).0, 200);
        let (m, before) = until(&mut ann, "message", Some("Order 4411, still nothing")).await;
        assert_eq!(m["contact"].as_u64(), Some(c), "{m}");
        assert!(
            !before.iter().any(|m| m["type"] == "offer" || m["text"] == "@Acme my parcel is late again"),
            "{before:#?}"
        );

        // Kim comments on Instagram: a conversation of her own, offered to whoever is free.
        let kim = json!({"object": "instagram", "entry": [{"id": "17841400000000001", "time": 1749416400, "changes": [
            {"field": "comments", "value": {"id": "17865799348089039", "text": "Is the blue one back in stock?",
              "from": {"id": "3021", "username": "kim.s"}, "media": {"id": "17900", "media_product_type": "FEED"}}}]}]})
        .to_string();
        assert_eq!(signed(kim.as_bytes()).0, 200);
        let (who, offer) = tokio::select! {
            (o, _) = until(&mut ann, "offer", None) => ("ann", o),
            (o, _) = until(&mut raj, "offer", None) => ("raj", o),
        };
        assert_eq!(
            offer["from"].as_str(),
            Some("instagram:@kim.s"),
            "the first offer after Lee's comments is Kim's: {offer}"
        );
        let k = offer["contact"].as_u64().unwrap();
        assert_ne!(k, c);
        let kims = if who == "ann" { &mut ann } else { &mut raj };
        put(kims, json!({"type": "accept", "offer": offer["offer"], "ref": "k"})).await;
        put(kims, json!({"type": "message", "contact": k, "id": "ig-1", "text": "Yes, since Monday!"})).await;
        let got = wait_sent(&sent, "the answer to Kim's comment", 1);
        assert_eq!(got[0].0, "/v21.0/17865799348089039/replies");
        assert_eq!(
            (got[0].1.as_str(), got[0].2["message"].as_str()),
            ("Bearer page-token", Some("Yes, since Monday!"))
        );

        // Ann answers Lee under his newest comment.
        put(&mut ann, json!({"type": "message", "contact": c, "id": "fb-1", "text": "Sorry Lee, it ships today."}))
            .await;
        let got = wait_sent(&sent, "the answer to Lee's comment", 2);
        assert_eq!(got[1].0, "/v21.0/5077_9010/comments");
        assert_eq!(got[1].2["message"], "Sorry Lee, it ships today.");
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(sent.lock().unwrap().len(), 2, "nothing was sent twice");
    });
}
