//! `switchboard serve` end to end: the built binary, a real WebSocket client
//! (tokio-tungstenite) for the customer's chat and the agent's connection, the admin API
//! over HTTP, and `kill -9` in the middle of a conversation.

mod serving;
mod support;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use serving::*;
use std::time::Duration;
use support::*;
use tokio_tungstenite::tungstenite::Message;

const PROJECT: &str = r#"
skills support, billing

queue support {
  skills support
}

queue billing {
  skills billing
}

flow chat_in on chat {
  waypoint start
  say "Hello {contact.from}."
  menu "Press 1 for support, 2 to leave." {
    1 "support" {
      waypoint chose_support
      queue support
    }
    2 "leave" {
      say "Bye."
      end
    }
    timeout 2s retries 1 {
      say "No answer; passing you to support."
      queue support
    }
  }
}

entry chat "web" -> chat_in
"#;

/// A project with two agents (passwords "ann-pass" and "bob-pass") and an admin token.
fn project() -> tempfile::TempDir {
    let toml = format!(
        "admin_token = \"0123456789abcdef-admin\"\nnew_chats_per_minute = 0\n\
         [[agents]]\nid = \"ann\"\nname = \"Ann\"\nskills = {{ support = 4 }}\npassword_hash = \"{}\"\n\
         [[agents]]\nid = \"bob\"\nname = \"Bob\"\nskills = {{ support = 2, billing = 3 }}\npassword_hash = \"{}\"\n",
        hash("ann-pass"),
        hash("bob-pass")
    );
    scratch(&[("main.flow", PROJECT), ("switchboard.toml", &toml)])
}

#[test]
fn a_customer_chats_through_the_menu_to_an_agent_and_back() {
    let dir = project();
    let data = tempfile::tempdir().unwrap();
    let d = start(dir.path(), data.path());
    rt().block_on(async {
        let mut ann = agent(&d.addr, "ann", "ann-pass").await;
        let (mut c, _, contact) = customer(&d.addr, "Kim").await;
        let (hello, _) = until(&mut c, "message", Some("Hello Kim.")).await;
        assert_eq!(hello["from"], "flow");
        // Menus on chat show their options as buttons, and take a label as well as a key.
        let (menu, _) = until(&mut c, "message", Some("Press 1 for support, 2 to leave.")).await;
        assert_eq!(menu["options"], json!([{"key": "1", "label": "support"}, {"key": "2", "label": "leave"}]));
        put(&mut c, json!({"type": "message", "id": "m1", "text": "support"})).await;
        let (ack, _) = until(&mut c, "ack", None).await;
        assert_eq!(ack["id"], "m1");

        // The offer rings at Ann; she accepts and sees the conversation so far.
        let (offer, _) = until(&mut ann, "offer", None).await;
        assert_eq!(offer["contact"], contact);
        assert_eq!(offer["channel"], "chat");
        put(&mut ann, json!({"type": "accept", "offer": offer["offer"], "ref": "a"})).await;
        let (view, _) = until(&mut ann, "contact", None).await;
        let texts: Vec<&str> =
            view["transcript"].as_array().unwrap().iter().filter_map(|m| m["text"].as_str()).collect();
        assert_eq!(texts, ["Hello Kim.", "Press 1 for support, 2 to leave.", "support"], "{view}");
        assert_eq!(view["from"], "Kim");

        // Messages go both ways, with typing indicators that expire.
        put(&mut ann, json!({"type": "typing", "contact": contact})).await;
        let (typing, _) = until(&mut c, "typing", None).await;
        assert!(typing["expires_ms"].as_u64().unwrap() > 0);
        put(&mut ann, json!({"type": "message", "contact": contact, "id": "a1", "text": "Hi Kim, Ann here."})).await;
        let (from_ann, _) = until(&mut c, "message", Some("Hi Kim, Ann here.")).await;
        assert_eq!((from_ann["from"].as_str(), from_ann["name"].as_str()), (Some("agent"), Some("Ann")));
        put(&mut c, json!({"type": "message", "id": "m2", "text": "My router is down."})).await;
        let (heard, _) = until(&mut ann, "message", Some("My router is down.")).await;
        assert_eq!(heard["contact"], contact);

        // Wrap-up.
        put(&mut ann, json!({"type": "finish", "contact": contact, "ref": "f"})).await;
        let (ok, _) = until(&mut ann, "ok", None).await;
        assert_eq!(ok["ref"], "f");
        put(&mut ann, json!({"type": "outcome", "contact": contact, "outcome": "resolved", "ref": "o"})).await;
        let (ok, _) = until(&mut ann, "ok", None).await;
        assert_eq!(ok["ref"], "o");
    });
}

#[test]
fn an_agent_sees_and_acts_on_only_what_is_offered_to_them() {
    let dir = project();
    let data = tempfile::tempdir().unwrap();
    let d = start(dir.path(), data.path());
    rt().block_on(async {
        // A wrong password gets the same answer as an unknown agent.
        let mut s = connect(&d.addr, "/agent/ws", None).await.unwrap();
        put(&mut s, json!({"type": "login", "agent": "ann", "password": "nope"})).await;
        let e = next(&mut s).await;
        assert_eq!((e["type"].as_str(), e["status"].as_u64()), (Some("error"), Some(401)), "{e}");
        let mut s = connect(&d.addr, "/agent/ws", None).await.unwrap();
        put(&mut s, json!({"type": "login", "agent": "zed", "password": "nope"})).await;
        assert_eq!(next(&mut s).await["message"], e["message"]);

        let mut ann = agent(&d.addr, "ann", "ann-pass").await;
        let mut bob = connect(&d.addr, "/agent/ws", None).await.unwrap();
        put(&mut bob, json!({"type": "login", "agent": "bob", "password": "bob-pass"})).await;
        assert_eq!(next(&mut bob).await["type"], "welcome");
        // Bob stays away, so the offer goes to Ann.
        let (mut c, _, contact) = customer(&d.addr, "Lee").await;
        until(&mut c, "message", Some("Press 1 for support, 2 to leave.")).await;
        put(&mut c, json!({"type": "message", "id": "x", "text": "1"})).await;
        let (offer, _) = until(&mut ann, "offer", None).await;

        // Bob may not take Ann's offer, write to her customer, or wrap it up.
        put(&mut bob, json!({"type": "accept", "offer": offer["offer"], "ref": 1})).await;
        let e = next(&mut bob).await;
        assert_eq!((e["type"].as_str(), e["status"].as_u64()), (Some("error"), Some(403)), "{e}");
        put(&mut bob, json!({"type": "message", "contact": contact, "id": "b", "text": "hi", "ref": 2})).await;
        assert_eq!(next(&mut bob).await["status"], 403);
        put(&mut bob, json!({"type": "finish", "contact": contact, "ref": 3})).await;
        assert_eq!(next(&mut bob).await["status"], 403);
        // Nonsense is refused with a reason, and the connection stays usable.
        put(&mut bob, json!({"type": "fly"})).await;
        let e = next(&mut bob).await;
        assert_eq!(e["status"], 400);
        assert!(e["message"].as_str().unwrap().contains("fly"), "{e}");
        // A frame that is not JSON gets a 400 saying why, and the socket stays open.
        bob.send(Message::Text("not json".into())).await.unwrap();
        let e = next(&mut bob).await;
        assert_eq!(e["status"], 400, "{e}");
        assert!(e["message"].as_str().unwrap().contains("not JSON"), "{e}");
        put(&mut bob, json!({"type": "presence", "presence": "away", "ref": "still"})).await;
        let (ok, _) = until(&mut bob, "ok", None).await;
        assert_eq!(ok["ref"], "still");
        // A frame over the limit closes the socket with 1009.
        bob.send(Message::Text("x".repeat(64 * 1024).into())).await.unwrap();
        let closed = loop {
            match tokio::time::timeout(Duration::from_secs(10), bob.next()).await.expect("closed in time") {
                Some(Ok(Message::Close(frame))) => break frame,
                Some(Ok(_)) => continue,
                other => panic!("expected a close frame, got {other:?}"),
            }
        };
        assert_eq!(closed.map(|f| u16::from(f.code)), Some(1009));

        put(&mut ann, json!({"type": "accept", "offer": offer["offer"], "ref": "a"})).await;
        let (view, _) = until(&mut ann, "contact", None).await;
        assert_eq!(view["contact"], contact);
    });
}

#[test]
fn readyz_says_ready_once_the_core_answers() {
    let dir = project();
    let data = tempfile::tempdir().unwrap();
    let d = start(dir.path(), data.path());
    let (status, body) = http(&d.addr, "GET", "/readyz", None, b"");
    assert_eq!((status, body.as_str()), (200, "ready\n"));
}

#[test]
fn the_chat_refuses_pages_from_origins_not_allowed() {
    let dir = project();
    let data = tempfile::tempdir().unwrap();
    let d = start(dir.path(), data.path());
    rt().block_on(async {
        let e = connect(&d.addr, "/chat/ws", Some("https://evil.example")).await.unwrap_err();
        assert!(e.contains("403"), "{e}");
        let own = format!("http://{}", d.addr);
        assert!(connect(&d.addr, "/chat/ws", Some(&own)).await.is_ok());
    });
}

#[test]
fn killed_mid_conversation_the_daemon_loses_nothing_and_repeats_nothing() {
    let dir = project();
    let data = tempfile::tempdir().unwrap();
    let mut d = start(dir.path(), data.path());
    let rt = rt();
    let (token, contact, seen) = rt.block_on(async {
        let (mut c, token, contact) = customer(&d.addr, "Ola").await;
        let (menu, before) = until(&mut c, "message", Some("Press 1 for support, 2 to leave.")).await;
        let mut seen: Vec<Value> = before.into_iter().chain([menu]).filter(|m| m["id"].is_u64()).collect();
        // The customer answers nothing: the menu's 2 s timer is in the engine's state.
        let _ = c.close(None).await;
        seen.sort_by_key(|m| m["id"].as_u64());
        (token, contact, seen)
    });
    // SIGKILL: no shutdown, no last snapshot.
    d.child.kill().unwrap();
    d.child.wait().unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let d = start(dir.path(), data.path());
    rt.block_on(async {
        let mut c = connect(&d.addr, "/chat/ws", None).await.unwrap();
        let cursor = seen.last().unwrap()["id"].as_u64().unwrap();
        put(&mut c, json!({"type": "hello", "token": token, "cursor": cursor})).await;
        let conv = next(&mut c).await;
        assert_eq!(conv["contact"], contact);
        // The overdue timer fired on restart: the menu was asked again, once.
        let (again, before) = until(&mut c, "message", Some("Press 1 for support, 2 to leave.")).await;
        assert!(before.iter().all(|m| m["id"].as_u64() > Some(cursor)), "nothing before the cursor comes again");
        assert!(again["id"].as_u64() > Some(cursor));
        // Reloading from the start gives every message exactly once.
        let mut c2 = connect(&d.addr, "/chat/ws", None).await.unwrap();
        put(&mut c2, json!({"type": "hello", "token": token})).await;
        next(&mut c2).await;
        let mut all = Vec::new();
        while all.len() < seen.len() + 1 {
            all.push(next(&mut c2).await);
        }
        let texts: Vec<&str> = all.iter().filter_map(|m| m["text"].as_str()).collect();
        assert_eq!(texts, ["Hello Ola.", "Press 1 for support, 2 to leave.", "Press 1 for support, 2 to leave."]);
        let mut ids: Vec<u64> = all.iter().filter_map(|m| m["id"].as_u64()).collect();
        ids.dedup();
        assert_eq!(ids.len(), all.len(), "no message twice");
        // A message resent with the same id after a reconnect is taken once.
        put(&mut c, json!({"type": "message", "id": "same", "text": "1"})).await;
        until(&mut c, "ack", None).await;
        put(&mut c, json!({"type": "message", "id": "same", "text": "1"})).await;
        until(&mut c, "ack", None).await;
        let mut c3 = connect(&d.addr, "/chat/ws", None).await.unwrap();
        put(&mut c3, json!({"type": "hello", "token": token})).await;
        next(&mut c3).await;
        let mut count = 0;
        while let Ok(Some(Ok(Message::Text(t)))) = tokio::time::timeout(Duration::from_millis(500), c3.next()).await {
            let m: Value = serde_json::from_str(t.as_str()).unwrap();
            if m["from"] == "customer" {
                count += 1;
            }
        }
        assert_eq!(count, 1, "the resent message is in the conversation once");
    });
}

#[test]
fn deploys_are_checked_versioned_and_rolled_back() {
    let dir = project();
    let data = tempfile::tempdir().unwrap();
    let d = start(dir.path(), data.path());
    let token = "0123456789abcdef-admin";
    let url = format!("http://{}", d.addr);

    // Without the token nothing is listed or changed.
    assert_eq!(http(&d.addr, "GET", "/admin/bundles", None, b"").0, 401);
    assert_eq!(http(&d.addr, "POST", "/admin/rollback", Some("wrong-token-wrong"), b"").0, 401);
    let (status, first) = http(&d.addr, "GET", "/admin/bundles", Some(token), b"");
    assert_eq!(status, 200, "{first}");
    let first: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(first["history"].as_array().unwrap().len(), 1);

    // A project with errors is refused with its diagnostics as JSON.
    let broken = scratch(&[("main.flow", &PROJECT.replace("queue support\n    }", "queue suport\n    }"))]);
    let o = switchboard(broken.path(), &["deploy", ".", "--to", &url, "--token", token]);
    assert_eq!(code(&o), 1, "{}", both(&o));
    let diags: Value = serde_json::from_str(stdout(&o).trim()).expect("diagnostics as JSON");
    assert!(diags.to_string().contains("suport"), "{diags}");

    // A good one becomes current; the same again changes nothing.
    let changed = scratch(&[("main.flow", &PROJECT.replace("Hello {contact.from}.", "Hi {contact.from}!"))]);
    let o = switchboard(changed.path(), &["deploy", ".", "--to", &url, "--token", token]);
    assert_eq!(code(&o), 0, "{}", both(&o));
    assert!(stdout(&o).starts_with("deployed "), "{}", both(&o));
    let o = switchboard(changed.path(), &["deploy", ".", "--to", &url, "--token", token]);
    assert!(stdout(&o).starts_with("unchanged"), "{}", both(&o));

    rt().block_on(async {
        let (mut c, _, _) = customer(&d.addr, "Max").await;
        until(&mut c, "message", Some("Hi Max!")).await;
    });
    // A bundle that is not one is refused and changes nothing.
    let (status, body) = http(&d.addr, "POST", "/admin/deploy", Some(token), b"garbage");
    assert_eq!(status, 400, "{body}");

    let (status, body) = http(&d.addr, "POST", "/admin/rollback", Some(token), b"");
    assert_eq!(status, 200, "{body}");
    let (_, listed) = http(&d.addr, "GET", "/admin/bundles", Some(token), b"");
    let listed: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed["current"], first["current"]);
    assert_eq!(listed["bundles"].as_array().unwrap().len(), 2);
    rt().block_on(async {
        let (mut c, _, _) = customer(&d.addr, "Max").await;
        until(&mut c, "message", Some("Hello Max.")).await;
    });
    // There is nothing before the first.
    assert_eq!(http(&d.addr, "POST", "/admin/rollback", Some(token), b"").0, 409);
}

#[test]
fn serve_refuses_to_start_on_a_project_with_errors() {
    let broken = scratch(&[("main.flow", "flow x on chat {\n  queue nowhere\n}\n")]);
    let data = tempfile::tempdir().unwrap();
    let o =
        switchboard(broken.path(), &["serve", ".", "--listen", "127.0.0.1:0", "--data", data.path().to_str().unwrap()]);
    assert_eq!(code(&o), 1, "{}", both(&o));
    assert!(stdout(&o).contains("nowhere"), "{}", both(&o));
}

#[test]
fn an_offer_rejected_or_left_to_ring_out_is_taken_off_the_agents_screen() {
    let dir = project();
    let data = tempfile::tempdir().unwrap();
    let d = start(dir.path(), data.path());
    rt().block_on(async {
        let mut ann = agent(&d.addr, "ann", "ann-pass").await;
        let (mut c, _, contact) = customer(&d.addr, "Rae").await;
        until(&mut c, "message", Some("Press 1 for support, 2 to leave.")).await;
        put(&mut c, json!({"type": "message", "id": "r1", "text": "1"})).await;
        let (offer, _) = until(&mut ann, "offer", None).await;
        put(&mut ann, json!({"type": "reject", "offer": offer["offer"], "ref": "r"})).await;
        let (ok, _) = until(&mut ann, "ok", None).await;
        assert_eq!(ok["ref"], "r");
        // What she turned down is no longer hers to take.
        put(&mut ann, json!({"type": "accept", "offer": offer["offer"], "ref": "undo"})).await;
        let (e, _) = until(&mut ann, "error", None).await;
        assert_eq!(e["status"], 403, "{e}");
        // The contact kept its place and rings at Bob, who lets it ring out (20 s, the
        // routing engine's default): his screen is told.
        let mut bob = connect(&d.addr, "/agent/ws", None).await.unwrap();
        put(&mut bob, json!({"type": "login", "agent": "bob", "password": "bob-pass"})).await;
        put(&mut bob, json!({"type": "presence", "presence": "available"})).await;
        let (again, _) = until(&mut bob, "offer", None).await;
        assert_eq!(again["contact"], contact);
        let gone = loop {
            let m =
                tokio::time::timeout(Duration::from_secs(30), bob.next()).await.expect("rings out").unwrap().unwrap();
            let m: Value = serde_json::from_str(m.to_text().unwrap()).unwrap();
            if m["type"] == "offer_gone" {
                break m;
            }
        };
        assert_eq!(gone["offer"], again["offer"]);
        // Taking it now is refused: it is not ringing at Bob any more.
        put(&mut bob, json!({"type": "accept", "offer": again["offer"], "ref": "late"})).await;
        let (e, _) = until(&mut bob, "error", None).await;
        assert_eq!(e["status"], 403, "{e}");
    });
}

const SCRIPTED: &str = r#"
currency GBP
skills support, billing

enum Tier { standard, gold }

record Customer {
  id: text
  name: text
  email: email
  tier: Tier
}

source crm: Customer {
  csv "crm.csv"
  key email
}

queue support {
  skills support
}

flow chat_in on chat {
  let customer = lookup crm by contact.from else {
    waypoint unknown
  }
  say "Thanks {contact.attributes.name ?? "there"}, we are finding someone."
  queue support
}

script help_call for queue support {
  let customer = lookup crm by contact.from
  step greet {
    if customer == none {
      note "Unknown customer."
      goto other
    }
    say "Hello {customer.name}, you are {customer.tier}."
    choose "What is it about?" {
      "Billing" -> billing
      "Other" -> other
    }
  }
  step billing {
    ask amount: money "How much?"
    say "Refunding {amount}."
    outcome resolved
  }
  step other {
    note "Write it down."
    outcome resolved
  }
}

entry chat "web" -> chat_in
"#;

#[test]
fn the_agent_sees_the_record_the_flow_found_and_follows_the_script() {
    let dir = project();
    std::fs::write(dir.path().join("main.flow"), SCRIPTED).unwrap();
    std::fs::write(dir.path().join("crm.csv"), "id,name,email,tier\nc1,Ann Baker,ann@example.com,gold\n").unwrap();
    let data = tempfile::tempdir().unwrap();
    let d = start(dir.path(), data.path());
    rt().block_on(async {
        let mut bob = agent(&d.addr, "bob", "bob-pass").await;
        // Pre-chat fields: the email is the contact's `from`, which the flow looks up.
        let mut c = connect(&d.addr, "/chat/ws", None).await.unwrap();
        put(&mut c, json!({"type": "hello", "name": "Ann", "email": "Ann@Example.com"})).await;
        let conv = next(&mut c).await;
        let contact = conv["contact"].as_u64().unwrap();
        // …and the name is the contact's `attributes.name`.
        until(&mut c, "message", Some("Thanks Ann, we are finding someone.")).await;
        let (offer, _) = until(&mut bob, "offer", None).await;
        put(&mut bob, json!({"type": "accept", "offer": offer["offer"]})).await;
        let (view, _) = until(&mut bob, "contact", None).await;
        assert_eq!(
            view["record"],
            json!({"id": "c1", "name": "Ann Baker", "email": "ann@example.com", "tier": "gold"})
        );

        put(&mut bob, json!({"type": "script", "contact": contact, "script": "help_call", "ref": "s"})).await;
        let ok = loop {
            let m = next(&mut bob).await;
            if m["type"] == "ok" && m["ref"] == "s" {
                break m;
            }
        };
        let session = ok["result"]["session"].as_u64().expect("the script's session");
        let (say, _) = until(&mut bob, "script", Some("Hello Ann Baker, you are gold.")).await;
        assert_eq!(say["session"], session);
        let (choose, _) = until(&mut bob, "script", Some("What is it about?")).await;
        assert_eq!(
            choose["options"],
            json!([{"key": "Billing", "label": "Billing"}, {"key": "Other", "label": "Other"}])
        );
        put(&mut bob, json!({"type": "script_reply", "session": session, "text": "Billing"})).await;
        let (ask, _) = until(&mut bob, "script", Some("How much?")).await;
        assert!(ask["ask"].is_string(), "{ask}");
        // An answer of the wrong type is asked again; a good one goes on.
        put(&mut bob, json!({"type": "script_reply", "session": session, "text": "lots"})).await;
        until(&mut bob, "script", Some("How much?")).await;
        put(&mut bob, json!({"type": "script_reply", "session": session, "text": "£12.50"})).await;
        until(&mut bob, "script", Some("Refunding £12.50.")).await;
        // Refused, and never journaled: a stale answer (the script asks nothing now), a
        // session that does not exist, and frames that are not JSON.
        let journaled = || {
            let (_, m) = http(&d.addr, "GET", "/metrics", None, b"");
            m.lines().find_map(|l| l.strip_prefix("switchboard_journal_records_total ")).unwrap().to_string()
        };
        let before = journaled();
        put(&mut bob, json!({"type": "script_reply", "session": session, "text": "£1", "ref": "late"})).await;
        let (e, _) = until(&mut bob, "error", None).await;
        assert_eq!((e["status"].as_u64(), e["ref"].as_str()), (Some(409), Some("late")), "{e}");
        put(&mut bob, json!({"type": "script_reply", "session": 987654, "text": "£1", "ref": "who"})).await;
        let (e, _) = until(&mut bob, "error", None).await;
        assert_eq!(e["status"], 404, "{e}");
        bob.send(Message::Text("{\"type\": \"script_reply\", ".into())).await.unwrap();
        let (e, _) = until(&mut bob, "error", None).await;
        assert_eq!(e["status"], 400, "{e}");
        assert_eq!(journaled(), before, "nothing refused was journaled");
        // The script is Bob's: another agent's reply to it is refused.
        let mut ann = agent(&d.addr, "ann", "ann-pass").await;
        put(&mut ann, json!({"type": "script_reply", "session": session, "text": "x", "ref": 9})).await;
        let (e, _) = until(&mut ann, "error", None).await;
        assert_eq!(e["status"], 403);
    });
}

#[test]
fn an_agent_transfers_a_contact_to_another_queue_with_its_conversation() {
    let dir = project();
    let data = tempfile::tempdir().unwrap();
    let d = start(dir.path(), data.path());
    rt().block_on(async {
        let mut ann = agent(&d.addr, "ann", "ann-pass").await;
        let (mut c, _, contact) = customer(&d.addr, "Uma").await;
        until(&mut c, "message", Some("Press 1 for support, 2 to leave.")).await;
        put(&mut c, json!({"type": "message", "id": "u1", "text": "1"})).await;
        let (offer, _) = until(&mut ann, "offer", None).await;
        put(&mut ann, json!({"type": "accept", "offer": offer["offer"]})).await;
        until(&mut ann, "contact", None).await;
        put(&mut c, json!({"type": "message", "id": "u2", "text": "It is about my bill."})).await;
        until(&mut ann, "message", Some("It is about my bill.")).await;
        // Bob does billing; Ann does not.
        let mut bob = agent(&d.addr, "bob", "bob-pass").await;
        put(&mut ann, json!({"type": "transfer", "contact": contact, "queue": "nowhere", "ref": "x"})).await;
        let (e, _) = until(&mut ann, "error", None).await;
        assert_eq!(e["status"], 404, "{e}");
        put(&mut ann, json!({"type": "transfer", "contact": contact, "queue": "billing", "ref": "t"})).await;
        let (ok, _) = until(&mut ann, "ok", None).await;
        assert_eq!(ok["ref"], "t");
        let (offer, _) = until(&mut bob, "offer", None).await;
        assert_eq!(offer["contact"], contact);
        put(&mut bob, json!({"type": "accept", "offer": offer["offer"]})).await;
        let (view, _) = until(&mut bob, "contact", None).await;
        let texts: Vec<&str> =
            view["transcript"].as_array().unwrap().iter().filter_map(|m| m["text"].as_str()).collect();
        assert!(texts.contains(&"It is about my bill."), "{view}");
        // The contact is Bob's now, no longer Ann's.
        put(&mut ann, json!({"type": "message", "contact": contact, "id": "late", "text": "hi", "ref": "m"})).await;
        let (e, _) = until(&mut ann, "error", None).await;
        assert_eq!(e["status"], 403, "{e}");
    });
}

/// One customer of the crash test, as their browser would remember them.
#[derive(Default)]
struct Chatter {
    plan: u8,
    token: Option<String>,
    cursor: i64,
    seen: std::collections::BTreeMap<i64, Value>,
    duplicates: u32,
    /// A message sent and not yet acknowledged: sent again, with the same id, on reconnect.
    pending: Option<(String, String)>,
    answered: bool,
}

const MENU: &str = "Press 1 for support, 2 to leave.";

/// Connects (or reconnects from the cursor), reads what comes, answers the menu by plan.
/// Any error (the daemon was killed) just ends this visit.
async fn visit(addr: String, mut c: Chatter, name: String) -> Chatter {
    let Ok(mut s) = connect(&addr, "/chat/ws", None).await else { return c };
    let hello = match &c.token {
        Some(t) => json!({"type": "hello", "token": t, "cursor": c.cursor}),
        None => json!({"type": "hello", "name": name}),
    };
    if s.send(Message::Text(hello.to_string().into())).await.is_err() {
        return c;
    }
    if let Some((id, text)) = &c.pending {
        let _ = s.send(Message::Text(json!({"type": "message", "id": id, "text": text}).to_string().into())).await;
    }
    loop {
        let m = match tokio::time::timeout(Duration::from_millis(400), s.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => serde_json::from_str::<Value>(t.as_str()).unwrap(),
            Ok(Some(Ok(_))) => continue,
            _ => return c,
        };
        match m["type"].as_str() {
            Some("conversation") => c.token = m["token"].as_str().map(str::to_string),
            Some("ack") => c.pending = None,
            _ => {}
        }
        if let Some(id) = m["id"].as_i64() {
            if m["type"] == "ack" || m["type"] == "error" {
                continue;
            }
            if c.seen.contains_key(&id) || id <= c.cursor {
                c.duplicates += 1;
            }
            c.cursor = c.cursor.max(id);
            let menu = m["text"] == MENU;
            c.seen.insert(id, m);
            if menu && !c.answered && c.plan < 2 {
                c.answered = true;
                let id = format!("a{}", c.cursor);
                let text = if c.plan == 0 { "2" } else { "1" };
                c.pending = Some((id.clone(), text.to_string()));
                let msg = json!({"type": "message", "id": id, "text": text});
                if s.send(Message::Text(msg.to_string().into())).await.is_err() {
                    return c;
                }
            }
        }
    }
}

#[test]
fn killed_twenty_times_while_two_hundred_chats_run_nothing_is_lost_or_repeated() {
    let dir = project();
    // Snapshots often, so that restarts begin from them and the replay check meets them.
    edit(
        &dir.path().join("switchboard.toml"),
        "new_chats_per_minute = 0",
        "new_chats_per_minute = 0\nsnapshot_every = 50",
    );
    let data = tempfile::tempdir().unwrap();
    let rt = rt();
    let mut rng = fastrand::Rng::with_seed(7);
    let mut chatters: Vec<Chatter> = (0..200).map(|i| Chatter { plan: (i % 3) as u8, ..Chatter::default() }).collect();
    let (kills, rounds) = (20, 20);
    for round in 0..rounds {
        let mut d = start(dir.path(), data.path());
        // Ten new customers each round, and ten who were here before come back.
        let mut chosen: Vec<usize> = (round * 10..round * 10 + 10).collect();
        for _ in 0..10 {
            chosen.push(rng.usize(0..(round * 10 + 10)));
        }
        chosen.sort_unstable();
        chosen.dedup();
        let addr = d.addr.clone();
        let taken: Vec<(usize, Chatter)> = chosen.iter().map(|&i| (i, std::mem::take(&mut chatters[i]))).collect();
        let wait = rng.u64(150..900);
        let back = rt.block_on(async {
            let visits: Vec<_> = taken
                .into_iter()
                .map(|(i, c)| {
                    let addr = addr.clone();
                    tokio::spawn(async move { (i, visit(addr, c, format!("c{i}")).await) })
                })
                .collect();
            tokio::time::sleep(Duration::from_millis(wait)).await;
            if round % 5 == 4 {
                // The replay check on the store of the daemon as it runs (it reads a copy).
                let (dir, data) = (dir.path().to_path_buf(), data.path().to_str().unwrap().to_string());
                let o =
                    tokio::task::spawn_blocking(move || switchboard(&dir, &["test", "--replay", "--data", &data, "."]))
                        .await
                        .unwrap();
                assert_eq!(code(&o), 0, "the replay check while the daemon runs, round {round}: {}", both(&o));
                eprintln!("round {round}: {}", stdout(&o).trim());
            }
            // SIGKILL at a random moment, with visits in flight.
            let _ = d.child.kill();
            let _ = d.child.wait();
            let mut back = Vec::new();
            for v in visits {
                back.push(v.await.unwrap());
            }
            back
        });
        for (i, c) in back {
            chatters[i] = c;
        }
        drop(d);
    }
    // The last start: no kill. Everyone comes back; timers still fire.
    let d = start(dir.path(), data.path());
    rt.block_on(async {
        for _ in 0..2 {
            let visits: Vec<_> = chatters
                .iter_mut()
                .enumerate()
                .map(|(i, c)| {
                    let (addr, c) = (d.addr.clone(), std::mem::take(c));
                    tokio::spawn(async move { visit(addr, c, format!("c{i}")).await })
                })
                .collect();
            for (i, v) in visits.into_iter().enumerate() {
                chatters[i] = v.await.unwrap();
            }
            // Menus left waiting time out (2 s, one retry) while no one is killing us.
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
    });
    let (mut known, mut finished, mut duplicates, mut lost) = (0, 0, 0, 0);
    let conversations: Vec<Option<Vec<Value>>> = rt.block_on(async {
        let reads: Vec<_> = chatters
            .iter()
            .map(|c| {
                let (addr, token) = (d.addr.clone(), c.token.clone());
                tokio::spawn(async move {
                    let token = token?;
                    // Everything, from the start, as a reload would get it.
                    let mut s = connect(&addr, "/chat/ws", None).await.unwrap();
                    put(&mut s, json!({"type": "hello", "token": token})).await;
                    let mut all: Vec<Value> = Vec::new();
                    while let Ok(Some(Ok(Message::Text(t)))) =
                        tokio::time::timeout(Duration::from_millis(1000), s.next()).await
                    {
                        let m: Value = serde_json::from_str(t.as_str()).unwrap();
                        if m["id"].is_i64() {
                            all.push(m);
                        }
                    }
                    Some(all)
                })
            })
            .collect();
        let mut out = Vec::new();
        for r in reads {
            out.push(r.await.unwrap());
        }
        out
    });
    for (c, all) in chatters.iter().zip(conversations) {
        let Some(all) = all else { continue };
        known += 1;
        duplicates += c.duplicates;
        let ids: std::collections::BTreeSet<i64> = all.iter().filter_map(|m| m["id"].as_i64()).collect();
        assert_eq!(ids.len(), all.len(), "no message twice in the conversation");
        lost += c.seen.keys().filter(|id| !ids.contains(id)).count();
        let count = |text: &str| all.iter().filter(|m| m["text"] == text).count();
        let greetings = all.iter().filter(|m| m["text"].as_str().is_some_and(|t| t.starts_with("Hello "))).count();
        assert_eq!(greetings, 1, "greeted once: {all:?}");
        assert!(count(MENU) <= 2, "asked once, and once again on time-out: {all:?}");
        let customer: Vec<&Value> = all.iter().filter(|m| m["from"] == "customer").collect();
        assert!(customer.len() <= 1, "each answer is taken once: {all:?}");
        let done = all.iter().any(|m| m["type"] == "ended")
            || count("No answer; passing you to support.") == 1
            || customer.iter().any(|m| m["text"] == "1");
        if done {
            finished += 1;
        }
    }
    eprintln!(
        "crash test: {kills} kills, {} customers, {known} conversations opened, {finished} finished or queued, {duplicates} duplicates, {lost} lost",
        chatters.len()
    );
    assert_eq!(duplicates, 0);
    assert_eq!(lost, 0);
    assert_eq!(finished, known, "every conversation ended, or reached its queue: its timers fired");
    assert!(known >= 150, "most customers got a conversation: {known}");
    // The replay check on the daemon's own journal, after all those kills: from the oldest
    // snapshot kept, the same events, the same messages, the same state at later snapshots.
    let data = data.path().to_str().unwrap();
    let o = switchboard(dir.path(), &["test", "--replay", "--data", data, "."]);
    assert_eq!(code(&o), 0, "{}", both(&o));
    eprintln!("{}", stdout(&o).trim());
    assert!(stdout(&o).contains("and the same state at 1 later snapshot"), "{}", both(&o));
}

#[test]
fn an_agent_takes_as_many_chats_at_once_as_the_roster_gives_them() {
    let dir = project();
    edit(
        &dir.path().join("switchboard.toml"),
        "skills = { support = 4 }",
        "skills = { support = 4 }\ncapacity = { chat = 2 }",
    );
    let data = tempfile::tempdir().unwrap();
    let d = start(dir.path(), data.path());
    rt().block_on(async {
        let mut ann = agent(&d.addr, "ann", "ann-pass").await;
        let mut contacts = Vec::new();
        for name in ["Kim", "Lee"] {
            let (mut c, _, contact) = customer(&d.addr, name).await;
            until(&mut c, "message", Some("Press 1 for support, 2 to leave.")).await;
            put(&mut c, json!({"type": "message", "id": "1", "text": "1"})).await;
            let (offer, _) = until(&mut ann, "offer", None).await;
            assert_eq!(offer["contact"], contact, "the second chat rings while the first is open");
            put(&mut ann, json!({"type": "accept", "offer": offer["offer"]})).await;
            until(&mut ann, "contact", None).await;
            contacts.push(c);
        }
    });
}

#[test]
fn new_conversations_are_limited_per_address_and_coming_back_is_not() {
    let dir = project();
    edit(&dir.path().join("switchboard.toml"), "new_chats_per_minute = 0", "new_chats_per_minute = 3");
    let data = tempfile::tempdir().unwrap();
    let d = start(dir.path(), data.path());
    rt().block_on(async {
        let mut tokens = Vec::new();
        for name in ["A", "B", "C"] {
            let (_, token, _) = customer(&d.addr, name).await;
            tokens.push(token);
        }
        let mut s = connect(&d.addr, "/chat/ws", None).await.unwrap();
        put(&mut s, json!({"type": "hello", "name": "D"})).await;
        let refused = next(&mut s).await;
        assert_eq!((refused["type"].as_str(), refused["status"].as_u64()), (Some("error"), Some(429)), "{refused}");
        assert!(refused["retry_after_s"].as_u64().unwrap() >= 1, "{refused}");
        // A customer coming back to their conversation is not a new one.
        let mut back = connect(&d.addr, "/chat/ws", None).await.unwrap();
        put(&mut back, json!({"type": "hello", "token": tokens[0]})).await;
        assert_eq!(next(&mut back).await["type"], "conversation");
    });
    let (_, metrics) = http(&d.addr, "GET", "/metrics", None, b"");
    assert!(metrics.contains("switchboard_contacts 3\n"), "nothing was made of the refused one:\n{metrics}");
}
