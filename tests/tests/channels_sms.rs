//! SMS through Twilio's wire formats, checked by tools Switchboard did not write: the
//! `twilio` library from PyPI signs the webhooks and builds the TwiML the answers must equal
//! (`tests/python/twilio_sms.py`); Prism (`@stoplight/prism-cli` from npm) checks every
//! REST call the daemon makes against Twilio's published OpenAPI description
//! (`tests/fixtures/twilio/`) before the stand-in behind it (`twilio_standin.py`) takes
//! it, counting messages by idempotency token. Then the daemon is killed mid-conversation
//! and started again: every text reaches the phone once.

mod provider;
mod serving;
mod support;
use provider::*;
use serving::*;
use std::process::Command;
use std::time::{Duration, Instant};
use support::*;

/// An SMS flow for the served copy of `flows/` (the spec's acme has no SMS entry).
const TEXTS: &str = r#"entry sms +441632960000 -> texts

flow texts on sms {
  waypoint start
  let customer = lookup crm by contact.from else {
    waypoint unknown_texter
  }
  if customer != none {
    say "Hi {customer.name}, thanks for texting Acme."
  } else {
    say "Thanks for texting Acme Devices."
  }
  menu "Reply 1 for billing or 2 for support." {
    1 "billing" {
      waypoint text_billing
      queue billing
    }
    2 "support" {
      queue support
    }
    timeout 30m retries 1 {
      queue support
    }
  }
}
"#;

fn project(prism: &str) -> tempfile::TempDir {
    let project = copy_of("flows");
    std::fs::write(project.path().join("texts.flow"), TEXTS).unwrap();
    let config = project.path().join("switchboard.toml");
    let mut toml = std::fs::read_to_string(&config).unwrap();
    toml.push_str(&format!(
        "\n[twilio]\naccount_sid = \"{ACCOUNT}\"\nauth_token_env = \"TEST_TWILIO_TOKEN\"\npublic_url = \"{PUBLIC}\"\napi_base = \"http://{prism}\"\n"
    ));
    std::fs::write(&config, toml).unwrap();
    project
}

#[test]
fn texts_in_and_out_as_twilio_speaks_them() {
    let (_helpers, prism, standin) = provider();
    let project = project(&prism);
    let data = tempfile::tempdir().unwrap();
    let daemon = start_with_env(project.path(), data.path(), &[("TEST_TWILIO_TOKEN", TOKEN)]);
    let out = Command::new(python())
        .arg(repo().join("tests/python/twilio_sms.py"))
        .args([daemon.addr.as_str(), standin.as_str(), PUBLIC, ACCOUNT, TOKEN])
        .output()
        .expect("python runs");
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && said.contains("OK"), "the SMS test says:\n{said}");
    eprintln!("{said}");
}

/// `kill -9` while texts are being answered: after each restart the outbox sends what no
/// provider took, with the same idempotency token, so each text reaches the phone once.
#[test]
fn a_killed_daemon_sends_every_text_once() {
    let (_helpers, prism, standin) = provider();
    let project = project(&prism);
    let data = tempfile::tempdir().unwrap();
    let env = [("TEST_TWILIO_TOKEN", TOKEN)];
    let senders: Vec<String> = (0..30).map(|i| format!("+4477009{:05}", 10_000 + i)).collect();
    let mut daemon = start_with_env(project.path(), data.path(), &env);
    for (round, chunk) in senders.chunks(10).enumerate() {
        let out = Command::new(python())
            .arg(repo().join("tests/python/twilio_burst.py"))
            .args([daemon.addr.as_str(), PUBLIC, ACCOUNT, TOKEN])
            .args(chunk)
            .output()
            .expect("python runs");
        assert!(out.status.success(), "round {round}: {}", String::from_utf8_lossy(&out.stderr));
        // Killed while the outbox is sending the flows' answers.
        std::thread::sleep(Duration::from_millis(30 * round as u64));
        let _ = daemon.child.kill();
        let _ = daemon.child.wait();
        daemon = start_with_env(project.path(), data.path(), &env);
    }
    // Every texter gets the flow's two texts, once each.
    let started = Instant::now();
    loop {
        let (_, body) = http(&standin, "GET", "/sent", None, b"");
        let sent: serde_json::Value = serde_json::from_str(&body).unwrap();
        let messages = sent["messages"].as_array().unwrap();
        let mut per: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
        for m in messages {
            per.entry(m["to"].as_str().unwrap()).or_default().push(m["body"].as_str().unwrap());
        }
        let done = senders.iter().all(|s| per.get(s.as_str()).is_some_and(|b| b.len() >= 2));
        if done {
            for s in &senders {
                assert_eq!(
                    per[s.as_str()],
                    ["Thanks for texting Acme Devices.", "Reply 1 for billing or 2 for support."],
                    "{s} got each text once, in order"
                );
            }
            eprintln!(
                "{} texters, {} messages taken, {} requests ({} repeats answered as the same message)",
                senders.len(),
                messages.len(),
                sent["requests"],
                sent["repeats"]
            );
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "not every text went out: {per:#?}");
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(daemon);
}
