//! Email in and out with tools Switchboard did not write: Debian's `swaks` sends mail to
//! the daemon's SMTP listener, and `aiosmtpd` (PyPI, `tests/python/smtp_relay.py`) is the
//! relay that receives what the daemon sends: the flow's auto-reply and the agent's answer,
//! each threaded onto the customer's mail with `In-Reply-To`. A reply threads onto its
//! contact by its headers, and by the plus-address token without them.

mod serving;
mod support;
use serde_json::{json, Value};
use serving::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

struct Relay(std::process::Child);

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn relay(out: &Path) -> (Relay, u16) {
    let port = free_port();
    let child = Command::new(python())
        .arg(repo().join("tests/python/smtp_relay.py"))
        .arg(port.to_string())
        .arg(out)
        .stdout(Stdio::null())
        .spawn()
        .expect("the relay starts");
    assert!(wait_listening(&format!("127.0.0.1:{port}"), 20), "the relay listens");
    (Relay(child), port)
}

/// A copy of `flows/` with `[email]` on a free port, relaying to an aiosmtpd relay that
/// writes to `out`; `extra` is more of `[email]`.
struct Served {
    _out_dir: tempfile::TempDir,
    out: std::path::PathBuf,
    _relay: Relay,
    smtp: u16,
    project: tempfile::TempDir,
    data: tempfile::TempDir,
}

fn served(extra: &str) -> Served {
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("relayed.jsonl");
    let (relay, relay_port) = relay(&out);
    let smtp = free_port();
    let project = copy_of("flows");
    let config = project.path().join("switchboard.toml");
    let mut toml = std::fs::read_to_string(&config).unwrap();
    toml.push_str(&format!(
        "\n[email]\nlisten = \"127.0.0.1:{smtp}\"\nrelay = \"smtp://127.0.0.1:{relay_port}\"\n{extra}"
    ));
    std::fs::write(&config, toml).unwrap();
    Served { _out_dir: out_dir, out, _relay: relay, smtp, project, data: tempfile::tempdir().unwrap() }
}

/// What the relay took, in order.
fn relayed(out: &Path) -> Vec<Value> {
    std::fs::read_to_string(out).unwrap_or_default().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn wait_relayed(out: &Path, what: &str, n: usize) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let got = relayed(out);
        if got.len() >= n {
            return got;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "the relay never got {what}: {got:#?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `swaks` sends one mail; (exit code, what it printed).
fn swaks_send(port: u16, to: &str, headers: &[&str], body: &str) -> (i32, String) {
    let mut c = Command::new(swaks());
    c.args(["--server", &format!("127.0.0.1:{port}"), "--from", "raj@example.org", "--to", to]);
    c.args(["--h-From", "\"Raj Kumar\" <raj@example.org>", "--body", body, "--timeout", "20"]);
    for h in headers {
        c.args(["--header", h]);
    }
    let o = c.output().expect("swaks runs");
    (
        o.status.code().unwrap_or(-1),
        format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)),
    )
}

/// The next message from the customer on the agent's socket.
async fn from_customer(socket: &mut Socket) -> Value {
    loop {
        let (m, _) = until(socket, "message", None).await;
        if m["from"] == "customer" {
            return m;
        }
    }
}

fn bracketed(v: &Value) -> String {
    v.as_str().unwrap_or_default().trim().to_string()
}

#[test]
fn mail_in_by_smtp_replies_out_through_the_relay_threaded() {
    let Served { _out_dir, out, _relay, smtp, project, data } = served("");
    let d = start(project.path(), data.path());

    // A domain not served here is refused at RCPT, and nothing is sent.
    let (code, said) = swaks_send(smtp, "someone@other.example", &[], "hello");
    assert_ne!(code, 0, "{said}");
    assert!(said.contains("550"), "{said}");

    rt().block_on(async {
        let mut ann = agent(&d.addr, "ann", "demo").await;
        // Raj writes about a double charge: the flow's `say` is the auto-reply.
        let (code, said) = swaks_send(
            smtp,
            "support@acme.example",
            &["Subject: Invoice 4411", "Message-Id: <m1.raj@example.org>"],
            "I was charged twice for invoice 4411.",
        );
        assert_eq!(code, 0, "{said}");
        let got = wait_relayed(&out, "the auto-reply", 1);
        let auto = &got[0];
        assert_eq!(auto["rcpt_tos"], json!(["raj@example.org"]), "{auto:#}");
        assert_eq!(
            auto["text"], "Thanks for writing to Acme. We answer every email within 4 hours, usually much sooner.",
            "{auto:#}"
        );
        assert_eq!(auto["subject"], "Re: Invoice 4411");
        assert_eq!(bracketed(&auto["in_reply_to"]), "<m1.raj@example.org>", "{auto:#}");
        let auto_id = bracketed(&auto["message_id"]);
        assert!(auto_id.starts_with("<sb.") && auto_id.ends_with("@acme.example>"), "{auto_id}");

        // Ann takes it (billing) and answers: threaded onto Raj's mail.
        let (offer, _) = until(&mut ann, "offer", None).await;
        assert_eq!((offer["channel"].as_str(), offer["from"].as_str()), (Some("email"), Some("raj@example.org")));
        let contact = offer["contact"].as_u64().unwrap();
        assert!(
            auto["reply_to"].as_str().unwrap_or_default().contains(&format!("support+c{contact}@acme.example")),
            "replies are invited to the contact's plus address: {auto:#}"
        );
        put(&mut ann, json!({"type": "accept", "offer": offer["offer"], "ref": "a"})).await;
        put(
            &mut ann,
            json!({"type": "message", "contact": contact, "id": "e-1", "text": "I have refunded the second charge."}),
        )
        .await;
        let got = wait_relayed(&out, "the agent's answer", 2);
        assert_eq!(got[1]["text"], "I have refunded the second charge.");
        assert_eq!(bracketed(&got[1]["in_reply_to"]), "<m1.raj@example.org>", "{:#}", got[1]);
        assert_eq!(got[1]["subject"], "Re: Invoice 4411");

        // Raj answers the auto-reply, quoting it: the reply threads onto the contact by
        // In-Reply-To, and the agent sees only what is new.
        let (code, said) = swaks_send(
            smtp,
            "support@acme.example",
            &["Subject: Re: Invoice 4411", "Message-Id: <m2.raj@example.org>", &format!("In-Reply-To: {auto_id}")],
            "Thank you!\n\nOn Thu, Acme wrote:\n> Thanks for writing to Acme.",
        );
        assert_eq!(code, 0, "{said}");
        let m = from_customer(&mut ann).await;
        assert_eq!((m["contact"].as_u64(), m["text"].as_str()), (Some(contact), Some("Thank you!")), "{m}");

        // With no headers to go by, the plus address finds the contact.
        let plus = format!("support+c{contact}@acme.example");
        let headers = ["Subject: one more thing", "Message-Id: <m3.raj@example.org>"];
        let (code, said) = swaks_send(smtp, &plus, &headers, "Also, my address changed.");
        assert_eq!(code, 0, "{said}");
        let m = from_customer(&mut ann).await;
        assert_eq!((m["contact"].as_u64(), m["text"].as_str()), (Some(contact), Some("Also, my address changed.")));
        // The same mail again (a server retrying) is taken once.
        let (code, said) = swaks_send(smtp, &plus, &headers, "Also, my address changed.");
        assert_eq!(code, 0, "{said}");
        let (code, said) = swaks_send(smtp, &plus, &["Message-Id: <m4.raj@example.org>"], "Last one.");
        assert_eq!(code, 0, "{said}");
        let m = from_customer(&mut ann).await;
        assert_eq!(m["text"], "Last one.", "the repeated mail was dropped: {m}");
    });
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(relayed(&out).len(), 2, "the relay took the auto-reply and the answer, once each");
}

/// `kill -9` while auto-replies are going out: after each restart the outbox sends what
/// the relay has not taken, with the same `Message-ID`, so every customer has one
/// auto-reply (a resend, if the kill fell between the relay's 250 and the mark, carries
/// the same id and is the same mail to the receiver).
#[test]
fn a_killed_daemon_sends_every_auto_reply_once() {
    let Served { _out_dir, out, _relay, smtp, project, data } = served("");
    let mut daemon = start(project.path(), data.path());
    let senders: Vec<String> = (0..24).map(|i| format!("customer{i}@example.net")).collect();
    for (round, chunk) in senders.chunks(8).enumerate() {
        for (i, sender) in chunk.iter().enumerate() {
            let o = Command::new(swaks())
                .args(["--server", &format!("127.0.0.1:{smtp}"), "--from", sender, "--to", "support@acme.example"])
                .args(["--header", &format!("Subject: Question {round}-{i}"), "--body", "Where is my order?"])
                .args(["--header", &format!("Message-Id: <q{round}.{i}@example.net>")])
                .output()
                .expect("swaks runs");
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
        }
        std::thread::sleep(Duration::from_millis(40 * round as u64));
        let _ = daemon.child.kill();
        let _ = daemon.child.wait();
        daemon = start(project.path(), data.path());
    }
    let started = Instant::now();
    loop {
        let got = relayed(&out);
        let mut ids: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> = Default::default();
        for m in &got {
            let to = m["rcpt_tos"][0].as_str().unwrap().to_string();
            ids.entry(to).or_default().insert(m["message_id"].as_str().unwrap().to_string());
        }
        if senders.iter().all(|s| ids.contains_key(s)) {
            for s in &senders {
                assert_eq!(ids[s].len(), 1, "{s} got one auto-reply, not {:?}", ids[s]);
            }
            eprintln!(
                "{} customers, {} auto-replies relayed ({} resent with the same Message-ID)",
                senders.len(),
                got.len(),
                got.len() - senders.len()
            );
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "not every auto-reply went out: {ids:#?}");
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(daemon);
}

fn mailgun_form(key: &str, timestamp: i64, fields: &[(&str, &str)]) -> String {
    use hmac::Mac;
    let token = "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0";
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(format!("{timestamp}{token}").as_bytes());
    let signature: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    let ts = timestamp.to_string();
    let mut all: Vec<(&str, &str)> = fields.to_vec();
    all.extend([("timestamp", ts.as_str()), ("token", token), ("signature", signature.as_str())]);
    all.iter()
        .map(|(k, v)| {
            let enc = |t: &str| -> String {
                t.bytes()
                    .map(|b| match b {
                        b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
                        b => format!("%{b:02X}"),
                    })
                    .collect()
            };
            format!("{}={}", enc(k), enc(v))
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn post_form(addr: &str, kind: &str, body: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    use std::io::{Read, Write};
    write!(
        s,
        "POST /channels/email/inbound HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    (out[9..12].parse().unwrap(), out.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_string())
}

/// The inbound-parse webhook (Mailgun's form and signature) is another way in: the same
/// auto-reply, the same threading by In-Reply-To, and refusals for what is not signed.
#[test]
fn mail_from_an_inbound_parse_webhook_threads_as_smtp_mail_does() {
    const KEY: &str = "mailgun-signing-key";
    let Served { _out_dir, out, _relay, project, data, .. } = served("webhook_key_env = \"TEST_MAILGUN_KEY\"\n");
    let d = start_with_env(project.path(), data.path(), &[("TEST_MAILGUN_KEY", KEY)]);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let form = "application/x-www-form-urlencoded";
    let first = [
        ("recipient", "support@acme.example"),
        ("sender", "raj@example.org"),
        ("from", "Raj Kumar <raj@example.org>"),
        ("subject", "Broken router"),
        ("body-plain", "My router is broken."),
        ("Message-Id", "<w1.raj@example.org>"),
    ];
    let (status, said) = post_form(&d.addr, form, &mailgun_form("wrong-key", now, &first));
    assert_eq!(status, 403, "{said}");
    let (status, said) = post_form(&d.addr, form, &mailgun_form(KEY, now - 3600, &first));
    assert_eq!(status, 403, "a stale timestamp: {said}");
    let (status, said) = post_form(&d.addr, "multipart/form-data; boundary=x", "--x--");
    assert_eq!(status, 415, "{said}");
    let mut elsewhere = first;
    elsewhere[0] = ("recipient", "someone@other.example");
    let (status, said) = post_form(&d.addr, form, &mailgun_form(KEY, now, &elsewhere));
    assert_eq!(status, 404, "{said}");

    rt().block_on(async {
        let mut ann = agent(&d.addr, "ann", "demo").await;
        let (status, said) = post_form(&d.addr, form, &mailgun_form(KEY, now, &first));
        assert_eq!(status, 200, "{said}");
        let got = wait_relayed(&out, "the auto-reply", 1);
        assert_eq!(bracketed(&got[0]["in_reply_to"]), "<w1.raj@example.org>", "{:#}", got[0]);
        let auto_id = bracketed(&got[0]["message_id"]);
        let (offer, _) = until(&mut ann, "offer", None).await;
        let contact = offer["contact"].as_u64().unwrap();
        put(&mut ann, json!({"type": "accept", "offer": offer["offer"], "ref": "a"})).await;
        let reply = [
            ("recipient", "support@acme.example"),
            ("sender", "raj@example.org"),
            ("subject", "Re: Broken router"),
            ("stripped-text", "It is the red light."),
            ("Message-Id", "<w2.raj@example.org>"),
            ("In-Reply-To", auto_id.as_str()),
        ];
        let (status, said) = post_form(&d.addr, form, &mailgun_form(KEY, now, &reply));
        assert_eq!(status, 200, "{said}");
        let m = from_customer(&mut ann).await;
        assert_eq!((m["contact"].as_u64(), m["text"].as_str()), (Some(contact), Some("It is the red light.")), "{m}");
    });
}
