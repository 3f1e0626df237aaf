//! Card digits never reach the journal, the snapshots, the logs or the metrics: a customer
//! pastes their card into the chat and types it while a payment is taken, an agent types
//! one too, and afterwards every file of the store, every log line (at `debug`), the
//! metrics and every message anyone was sent are searched for the digits.

mod serving;
mod support;
use serde_json::{json, Value};
use serving::*;
use support::*;

/// The card, as people type it; found by its first eleven digits with the separators
/// taken out (a masked card keeps only its last four).
const CARDS: [&str; 3] = ["4111 1111 1111 1111", "4111-1111-1111-1111", "4111111111111111"];
const FOUND_BY: &str = "41111111111";

fn holds_card(bytes: &[u8]) -> bool {
    let digits: Vec<u8> = bytes.iter().copied().filter(|b| *b != b' ' && *b != b'-').collect();
    digits.windows(FOUND_BY.len()).any(|w| w == FOUND_BY.as_bytes())
}

#[test]
fn card_digits_reach_no_journal_snapshot_log_metric_or_screen() {
    let project = copy_of("flows");
    let data = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("serve.log");
    let mut d = start_logged(project.path(), data.path(), &log);
    let mut seen: Vec<Value> = Vec::new();
    let metrics = rt().block_on(async {
        let mut ann = agent(&d.addr, "ann", "demo").await;
        let mut c = connect(&d.addr, "/chat/ws", None).await.unwrap();
        put(&mut c, json!({"type": "hello", "name": format!("Raj {}", CARDS[0]), "email": "raj@example.org"})).await;
        let contact = next(&mut c).await["contact"].as_u64().unwrap();
        until(&mut c, "message", Some("Welcome back, Raj Kumar.")).await;
        put(&mut c, json!({"type": "message", "id": "c1", "text": format!("my card is {} exp 12/29", CARDS[0])})).await;
        let (ack, before) = until(&mut c, "ack", None).await;
        seen.extend(before);
        assert_eq!(ack["id"], "c1");

        let (offer, before) = until(&mut ann, "offer", None).await;
        seen.extend(before);
        put(&mut ann, json!({"type": "accept", "offer": offer["offer"]})).await;
        let (view, _) = until(&mut ann, "contact", None).await;
        let texts: Vec<&str> =
            view["transcript"].as_array().unwrap().iter().filter_map(|m| m["text"].as_str()).collect();
        assert!(texts.contains(&"my card is XXXX XXXX XXXX 1111 exp 12/29"), "the agent sees it masked: {texts:?}");
        seen.push(view.clone());

        // The script takes a payment: on web chat there is no secure card form, so it is
        // declined; what the customer types meanwhile is refused or masked, never kept.
        put(&mut ann, json!({"type": "script", "contact": contact, "script": "billing_call", "ref": "s"})).await;
        let session = loop {
            let m = next(&mut ann).await;
            if m["ref"] == "s" {
                break m["result"]["session"].as_u64().expect("a script session");
            }
            seen.push(m);
        };
        until(&mut ann, "script", Some("What is the call about?")).await;
        put(&mut ann, json!({"type": "script_reply", "session": session, "text": "Paying a balance"})).await;
        until(&mut ann, "script", Some("How much does the customer want to pay?")).await;
        put(&mut ann, json!({"type": "script_reply", "session": session, "text": "£20"})).await;
        put(&mut c, json!({"type": "message", "id": "c2", "text": CARDS[2]})).await;
        let reply = loop {
            let m = next(&mut c).await;
            if m["id"] == "c2" {
                break m;
            }
            seen.push(m);
        };
        assert!(reply["type"] == "ack" || reply["status"] == 409, "{reply}");
        // The agent sees the payment as a status and its amount, never a digit of a card.
        let mut statuses = Vec::new();
        while statuses.last().map(String::as_str) != Some("declined") {
            let (p, before) = until(&mut ann, "payment", None).await;
            seen.extend(before);
            assert_eq!(p["contact"], contact, "{p}");
            assert!(p["amount"].as_str().is_some_and(|a| a.contains("20")), "{p}");
            statuses.push(p["status"].as_str().unwrap().to_string());
            seen.push(p);
        }
        assert_eq!(statuses, ["waiting", "declined"], "web chat has no card form: declined");
        put(
            &mut ann,
            json!({"type": "message", "contact": contact, "id": "a1", "text": format!("is it {}?", CARDS[1])}),
        )
        .await;
        let (masked, before) = until(&mut c, "message", Some("is it XXXX-XXXX-XXXX-1111?")).await;
        seen.extend(before);
        seen.push(masked);
        put(&mut ann, json!({"type": "finish", "contact": contact, "ref": "f"})).await;
        let (_, before) = until(&mut ann, "ok", None).await;
        seen.extend(before);
        let (survey, before) = until(&mut c, "message", Some("Was your problem solved today?")).await;
        seen.extend(before);
        seen.push(survey);
        http(&d.addr, "GET", "/metrics", None, b"").1
    });
    // A graceful stop takes a snapshot: it is searched too.
    let stopped = std::process::Command::new("kill").args(["-TERM", &d.child.id().to_string()]).status().unwrap();
    assert!(stopped.success());
    assert!(d.child.wait().unwrap().success(), "the daemon stops cleanly on SIGTERM");

    assert!(!holds_card(metrics.as_bytes()), "the metrics hold a card number");
    for m in &seen {
        assert!(!holds_card(m.to_string().as_bytes()), "a message someone was sent holds a card number: {m}");
    }
    let mut files = 0;
    for entry in std::fs::read_dir(data.path()).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        assert!(!holds_card(&bytes), "{} holds a card number", path.display());
        files += 1;
    }
    assert!(files >= 1, "the store has its files");
    let logged = std::fs::read(&log).unwrap();
    assert!(logged.len() > 200, "the daemon logged at debug: {}", String::from_utf8_lossy(&logged));
    assert!(!holds_card(&logged), "the log holds a card number:\n{}", String::from_utf8_lossy(&logged));
    // The store kept the conversation, masked: the search looked where the text is.
    let db = std::fs::read_dir(data.path()).unwrap().map(|e| std::fs::read(e.unwrap().path()).unwrap()).fold(
        Vec::new(),
        |mut all, b| {
            all.extend(b);
            all
        },
    );
    assert!(db.windows(4).any(|w| w == b"XXXX"), "the masked card is in the store");
}
