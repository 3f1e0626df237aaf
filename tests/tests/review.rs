//! Quality review, end to end: a chat is answered, scripted and wrapped up; a reviewer
//! lists it, opens it (transcript, the agent's script path, the project's scorecards) and
//! scores it; the report by agent shows the score. Reviewers only (401 for no one, 403 for
//! an agent), and every refusal of a review says why (400, 404, 409).

mod serving;
mod support;
use serde_json::{json, Value};
use serving::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use support::*;

/// The scorecard the test's copy of `flows/` gets (`flows/` is the spec's example, kept as it is).
const SCORECARD: &str = r#"scorecard chat_quality {
  question greeted "Greeted the customer by name" weight 10
  question resolved "Resolved the issue on this contact" weight 30
}
"#;

fn request(addr: &str, method: &str, path: &str, cookie: Option<&str>, body: &str) -> (u16, Value) {
    let mut s = TcpStream::connect(addr).unwrap();
    let cookie = cookie.map(|c| format!("Cookie: {c}\r\n")).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{cookie}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out[9..12].parse().unwrap();
    let body = out.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

fn log_in(addr: &str, agent: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    let body = json!({"agent": agent, "password": "demo"}).to_string();
    write!(
        s,
        "POST /login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    let cookie = out
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: ").or_else(|| l.strip_prefix("Set-Cookie: ")))
        .expect("a session cookie");
    cookie.split(';').next().unwrap().to_string()
}

#[test]
fn a_reviewer_scores_an_ended_chat_and_the_report_by_agent_shows_it() {
    let project = copy_of("flows");
    std::fs::write(project.path().join("quality.flow"), SCORECARD).unwrap();
    let data = tempfile::tempdir().unwrap();
    let d = start(project.path(), data.path());

    let contact = rt().block_on(async {
        // Raj (platinum) chats in; Ann takes it, runs a script, answers its choice and wraps up.
        let mut ann = agent(&d.addr, "ann", "demo").await;
        let mut c = connect(&d.addr, "/chat/ws", None).await.unwrap();
        put(&mut c, json!({"type": "hello", "name": "Raj", "email": "raj@example.org"})).await;
        let contact = until(&mut c, "conversation", None).await.0["contact"].as_u64().unwrap();
        let (offer, _) = until(&mut ann, "offer", None).await;
        assert_eq!(offer["contact"], contact);
        put(&mut ann, json!({"type": "accept", "offer": offer["offer"], "ref": "a"})).await;
        until(&mut ann, "contact", None).await;
        put(&mut c, json!({"type": "message", "id": "m1", "text": "My parcel never came"})).await;
        put(&mut ann, json!({"type": "message", "contact": contact, "id": "a1", "text": "Sorry Raj, let me look"}))
            .await;
        put(&mut ann, json!({"type": "script", "contact": contact, "script": "recovery_call", "ref": "s"})).await;
        let (choose, _) = until(&mut ann, "script", Some("Can they talk now?")).await;
        let session = choose["session"].clone();
        put(&mut ann, json!({"type": "script_reply", "session": session, "text": "Yes", "ref": "r"})).await;
        until(&mut ann, "note", None).await;
        put(&mut ann, json!({"type": "finish", "contact": contact, "ref": "f"})).await;
        put(
            &mut ann,
            json!({"type": "outcome", "contact": contact, "outcome": "resolved", "note": "refunded", "ref": "o"}),
        )
        .await;
        // The wrap-up is journaled (and its note kept) once it is answered.
        while next(&mut ann).await["ref"] != "o" {}
        until(&mut c, "message", Some("Sorry Raj, let me look")).await;
        contact
    });

    // Who may review.
    let path = format!("/review/contacts/{contact}");
    let good = json!({"scorecard": "chat_quality", "answers": {"greeted": true, "resolved": 0.5}, "note": "good save"});
    for (method, p) in [("GET", "/review/contacts"), ("GET", path.as_str()), ("POST", path.as_str())] {
        let (status, body) = request(&d.addr, method, p, None, &good.to_string());
        assert_eq!(status, 401, "{method} {p}: {body}");
        let (status, body) = request(&d.addr, method, p, Some("sb_session=forged"), &good.to_string());
        assert_eq!(status, 401, "{method} {p}: {body}");
    }
    let ann = log_in(&d.addr, "ann");
    for (method, p) in [("GET", "/review/contacts"), ("GET", path.as_str()), ("POST", path.as_str())] {
        let (status, body) = request(&d.addr, method, p, Some(&ann), &good.to_string());
        assert_eq!(status, 403, "{method} {p}: {body}");
        assert!(body["error"].as_str().unwrap().contains("not a reviewer"), "{body}");
    }
    let mia = log_in(&d.addr, "mia");

    // The contact is listed once it has ended, with its agent, channel and outcome.
    let started = Instant::now();
    let listed = loop {
        let (status, body) = request(&d.addr, "GET", "/review/contacts", Some(&mia), "");
        assert_eq!(status, 200, "{body}");
        if let Some(c) = body["contacts"].as_array().unwrap().iter().find(|c| c["contact"] == contact) {
            if c["outcome"] == "resolved" {
                break c.clone();
            }
        }
        assert!(started.elapsed() < Duration::from_secs(5), "never listed as ended: {body:#}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!((listed["agent"].as_str(), listed["channel"].as_str()), (Some("ann"), Some("chat")), "{listed}");
    assert_eq!(listed["reviews"], 0);

    // Paged and filtered by when the contact ended.
    let ids = |query: &str| -> (Vec<u64>, Value) {
        let (status, body) = request(&d.addr, "GET", &format!("/review/contacts?{query}"), Some(&mia), "");
        assert_eq!(status, 200, "{query}: {body}");
        (
            body["contacts"].as_array().unwrap().iter().map(|c| c["contact"].as_u64().unwrap()).collect(),
            body["next"].clone(),
        )
    };
    let id = contact;
    let (first, next) = ids("limit=1");
    assert_eq!((first, next.as_u64()), (vec![id], Some(id)), "a full page says where the next starts");
    assert!(!ids(&format!("before={id}")).0.contains(&id), "the next page starts below it");
    let ended = jiff::Timestamp::from_millisecond(listed["ended_ms"].as_i64().unwrap()).unwrap();
    let today = ended.to_zoned(jiff::tz::TimeZone::UTC).date();
    let tomorrow = today.tomorrow().unwrap();
    assert!(ids(&format!("from={today}&to={tomorrow}&tz=UTC")).0.contains(&id), "ended today");
    assert!(ids(&format!("from={tomorrow}")).0.is_empty(), "nothing ends tomorrow");
    assert!(ids("to=2001-01-01").0.is_empty(), "nothing ended in 2000");
    for (bad, why) in [
        ("limit=0", "limit: `0` is not a number from 1 to 200"),
        ("before=x", "before: `x` is not a contact id"),
        ("from=soon", "from: expected a time"),
        ("agent=ann", "`agent` is not a parameter of the list"),
    ] {
        let (status, body) = request(&d.addr, "GET", &format!("/review/contacts?{bad}"), Some(&mia), "");
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body["error"].as_str().unwrap().starts_with(why), "{bad}: {body}");
    }

    // Opened: the transcript, the script path and the scorecards.
    let (status, opened) = request(&d.addr, "GET", &path, Some(&mia), "");
    assert_eq!(status, 200, "{opened}");
    let lines: Vec<&str> =
        opened["contact"]["transcript"].as_array().unwrap().iter().map(|l| l["text"].as_str().unwrap()).collect();
    assert!(lines.contains(&"My parcel never came") && lines.contains(&"Sorry Raj, let me look"), "{lines:?}");
    let steps: Vec<(String, String)> = opened["script_path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["kind"].as_str().unwrap().to_string(), s["text"].as_str().unwrap().to_string()))
        .collect();
    let has = |kind: &str, text: &str| steps.iter().any(|(k, t)| k == kind && t.starts_with(text));
    assert!(has("script", "Can they talk now?"), "{steps:?}");
    assert!(has("answer", "Yes"), "{steps:?}");
    assert!(has("note", "Listen first."), "{steps:?}");
    assert_eq!(opened["scorecards"][0]["name"], "chat_quality", "{opened:#}");
    assert_eq!(opened["scorecards"][0]["questions"][1]["weight"], 30);
    assert_eq!(opened["contact"]["note"], "refunded");

    // Refusals, each with its reason.
    for (body, why) in [
        (json!({"scorecard": "nope", "answers": {}}), "no scorecard `nope`"),
        (json!({"scorecard": "chat_quality", "answers": {"greeted": true}}), "question `resolved` is not answered"),
        (
            json!({"scorecard": "chat_quality", "answers": {"greeted": true, "resolved": 1, "tone": 1}}),
            "has no question `tone`",
        ),
        (json!({"scorecard": "chat_quality", "answers": {"greeted": 1.5, "resolved": 1}}), "is not from 0 to 1"),
    ] {
        let (status, answer) = request(&d.addr, "POST", &path, Some(&mia), &body.to_string());
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(answer["error"].as_str().unwrap().contains(why), "{answer}");
    }
    let (status, _) = request(&d.addr, "POST", &path, Some(&mia), "not json");
    assert_eq!(status, 400);
    for missing in ["/review/contacts/99999", "/review/contacts/x"] {
        let (status, body) = request(&d.addr, "POST", missing, Some(&mia), &good.to_string());
        assert_eq!(status, 404, "{missing}: {body}");
        let (status, _) = request(&d.addr, "GET", missing, Some(&mia), "");
        assert_eq!(status, 404, "{missing}");
    }

    // Scored: 10×1 + 30×0.5 over 40 = 62.5; once per reviewer and scorecard.
    let (status, review) = request(&d.addr, "POST", &path, Some(&mia), &good.to_string());
    assert_eq!(status, 201, "{review}");
    assert_eq!((review["score"].as_f64(), review["agent"].as_str()), (Some(62.5), Some("ann")), "{review}");
    let (status, again) = request(&d.addr, "POST", &path, Some(&mia), &good.to_string());
    assert_eq!(status, 409, "{again}");
    let (_, opened) = request(&d.addr, "GET", &path, Some(&mia), "");
    assert_eq!(opened["reviews"][0]["score"], 62.5, "{opened:#}");

    // The report by agent: from the CLI and from the daemon alike.
    let o = switchboard(
        project.path(),
        &["report", "--data", data.path().to_str().unwrap(), "--by", "agent", "--format", "json"],
    );
    assert_eq!(code(&o), 0, "{}", both(&o));
    let report: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let row = report["rows"].as_array().unwrap().iter().find(|r| r["agent"] == "ann").expect("a row for ann").clone();
    assert_eq!((row["qa_score"].as_f64(), row["qa_reviews"].as_u64()), (Some(62.5), Some(1)), "{row:#}");
    let (status, served) = request(&d.addr, "GET", "/reports?by=agent&format=json", Some(&mia), "");
    assert_eq!(status, 200, "{served}");
    assert_eq!(served["rows"], report["rows"], "the daemon's report is the CLI's");

    // The page is served to anyone (it asks them to log in); its data only to reviewers.
    let (status, _) = request(&d.addr, "GET", "/review", None, "");
    assert_eq!(status, 200);
}
