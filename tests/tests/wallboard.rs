//! The live wallboard, end to end: managers only (401 for no one, 403 for an agent), the
//! board over server-sent events within a second of what happened, its figures the
//! report's own, the waypoint funnel, and the flow drawn with today's counts.

mod serving;
mod support;
use serde_json::{json, Value};
use serving::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use support::*;

/// One HTTP request with extra headers: the status, the headers and the body.
fn request(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    let extra: String = headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out[9..12].parse().unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    (status, head.to_string(), body.to_string())
}

/// Logs `agent` in to the pages: the session cookie.
fn log_in(addr: &str, agent: &str) -> String {
    let (status, head, body) =
        request(addr, "POST", "/login", &[], &json!({"agent": agent, "password": "demo"}).to_string());
    assert_eq!(status, 200, "{body}");
    let cookie = head
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: ").or_else(|| l.strip_prefix("Set-Cookie: ")))
        .expect("a session cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    cookie.split(';').next().unwrap().to_string()
}

fn board(addr: &str, cookie: &str) -> Value {
    let (status, _, body) = request(addr, "GET", "/wallboard/data", &[("Cookie", cookie)], "");
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("the board is JSON")
}

fn queue<'a>(b: &'a Value, queue: &str, channel: &str) -> Option<&'a Value> {
    b["queues"].as_array()?.iter().find(|q| q["queue"] == queue && q["channel"] == channel)
}

/// Waits (up to 5 s) for the board to say what `ok` wants.
fn until_board(addr: &str, cookie: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let started = Instant::now();
    loop {
        let b = board(addr, cookie);
        if ok(&b) {
            return b;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "the board never said it: {b:#}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn managers_watch_queues_funnels_and_the_flow_live_and_no_one_else_may() {
    let project = copy_of("flows");
    let data = tempfile::tempdir().unwrap();
    let d = start(project.path(), data.path());

    // Who may see it.
    let (status, _, body) = request(&d.addr, "GET", "/wallboard/data", &[], "");
    assert_eq!(status, 401, "{body}");
    let (status, _, _) = request(&d.addr, "POST", "/login", &[], r#"{"agent":"mia","password":"wrong"}"#);
    assert_eq!(status, 401);
    let (status, _, _) = request(&d.addr, "POST", "/login", &[], "not json");
    assert_eq!(status, 400);
    let not_a_manager = log_in(&d.addr, "ann");
    for path in ["/wallboard/data", "/wallboard/stream", "/wallboard/graph/inbound.svg"] {
        let (status, _, body) = request(&d.addr, "GET", path, &[("Cookie", &not_a_manager)], "");
        assert_eq!(status, 403, "{path}: {body}");
        assert!(body.contains("not a manager"), "{body}");
    }
    let mia = log_in(&d.addr, "mia");
    let (status, _, _) = request(&d.addr, "GET", "/wallboard/data", &[("Cookie", "sb_session=forged")], "");
    assert_eq!(status, 401);

    // The stream sends a board at once, and again as things happen.
    let mut sse = TcpStream::connect(&d.addr).unwrap();
    write!(
        sse,
        "GET /wallboard/stream HTTP/1.1\r\nHost: {}\r\nCookie: {mia}\r\nAccept: text/event-stream\r\n\r\n",
        d.addr
    )
    .unwrap();
    sse.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut sse = BufReader::new(sse);
    let mut next_board = || -> Value {
        let mut line = String::new();
        loop {
            line.clear();
            assert!(sse.read_line(&mut line).unwrap() > 0, "the stream ended");
            if let Some(data) = line.strip_prefix("data: ").or_else(|| line.strip_prefix("data:")) {
                return serde_json::from_str(data.trim()).expect("each event is the board as JSON");
            }
        }
    };
    let first = next_board();
    assert!(first["queues"].is_array() && first["funnels"].is_array(), "{first:#}");

    rt().block_on(async {
        // Raj (platinum) chats in: the vip queue on chat has one waiting.
        let mut c = connect(&d.addr, "/chat/ws", None).await.unwrap();
        put(&mut c, json!({"type": "hello", "name": "Raj", "email": "raj@example.org"})).await;
        let contact = until(&mut c, "conversation", None).await.0["contact"].as_u64().unwrap();
        until(&mut c, "message", Some("Welcome back, Raj Kumar.")).await;
        let asked = Instant::now();
        let b = until_board(&d.addr, &mia, |b| queue(b, "vip", "chat").is_some_and(|q| q["waiting_now"] == 1));
        assert!(asked.elapsed() < Duration::from_millis(2500), "the board took {:?}", asked.elapsed());
        assert_eq!(queue(&b, "vip", "chat").unwrap()["offered"], 1, "{b:#}");

        // Ann takes it: answered, nobody waiting, Ann busy.
        let mut ann = connect(&d.addr, "/agent/ws", None).await.unwrap();
        put(&mut ann, json!({"type": "login", "agent": "ann", "password": "demo"})).await;
        until(&mut ann, "welcome", None).await;
        put(&mut ann, json!({"type": "presence", "presence": "available"})).await;
        let (offer, _) = until(&mut ann, "offer", None).await;
        assert_eq!(offer["contact"], contact);
        put(&mut ann, json!({"type": "accept", "offer": offer["offer"], "ref": "a"})).await;
        until(&mut ann, "contact", None).await;
        let b = until_board(&d.addr, &mia, |b| queue(b, "vip", "chat").is_some_and(|q| q["answered"] == 1));
        let vip = queue(&b, "vip", "chat").unwrap();
        assert_eq!((vip["waiting_now"].as_u64(), vip["abandoned"].as_u64()), (Some(0), Some(0)), "{vip:#}");
        assert_eq!(vip["sl_abandons_excluded"], 1.0, "answered within 30 s: {vip:#}");
        // Ann may take two more chats: she is still available, and working.
        assert_eq!(b["agents"]["available"], 1, "{b:#}");
        assert!(b["occupancy"].as_f64().is_some(), "{b:#}");

        // The funnel counts the waypoints Raj passed, in the flow's order.
        let funnel = b["funnels"].as_array().unwrap().iter().find(|f| f["flow"] == "inbound").unwrap();
        let through: Vec<(&str, u64)> = funnel["waypoints"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| (w["waypoint"].as_str().unwrap(), w["contacts"].as_u64().unwrap()))
            .collect();
        assert_eq!(through.iter().find(|(w, _)| *w == "start").unwrap().1, 1, "{through:?}");
        assert_eq!(through.iter().find(|(w, _)| *w == "vip").unwrap().1, 1, "{through:?}");
        assert_eq!(through.iter().find(|(w, _)| *w == "menu_billing").unwrap().1, 0, "{through:?}");
    });
    // The stream has moved on with it, within a second of the board being made.
    let started = Instant::now();
    loop {
        let b = next_board();
        if queue(&b, "vip", "chat").is_some_and(|q| q["answered"] == 1) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(3), "the stream lags: {b:#}");
    }

    // The flow drawn with today's counts.
    let (status, head, svg) = request(&d.addr, "GET", "/wallboard/graph/inbound.svg", &[("Cookie", &mia)], "");
    assert_eq!(status, 200, "{svg}");
    assert!(head.to_ascii_lowercase().contains("content-type: image/svg+xml"), "{head}");
    assert!(svg.contains("vip (1)") && svg.contains("start (1)"), "{svg}");
    let (status, _, _) = request(&d.addr, "GET", "/wallboard/graph/nope.svg", &[("Cookie", &mia)], "");
    assert_eq!(status, 404);
    // The board's figures are the report's for the same period: today, from its midnight.
    let b = board(&d.addr, &mia);
    let from = b["today_from"].as_str().unwrap().to_string();
    let o = switchboard(
        project.path(),
        &["report", "--data", data.path().to_str().unwrap(), "--from", &from, "--format", "json"],
    );
    assert_eq!(code(&o), 0, "{}", both(&o));
    let report: Value = serde_json::from_str(&stdout(&o)).expect("the report is JSON");
    let rows = report["rows"].as_array().unwrap();
    assert!(!rows.is_empty(), "{report:#}");
    for row in rows {
        let on_board = queue(&b, row["queue"].as_str().unwrap(), row["channel"].as_str().unwrap())
            .unwrap_or_else(|| panic!("the board has no row for {row}"));
        for figure in
            ["offered", "answered", "abandoned", "sl_abandons_excluded", "sl_abandons_met", "asa_seconds", "fcr"]
        {
            assert_eq!(on_board[figure], row[figure], "{figure}: board {on_board:#} report {row:#}");
        }
    }

    // Managers get the same report from the daemon, as JSON or CSV; nobody else does.
    let path = format!("/reports?from={}&format=json", from.replace(':', "%3A"));
    let (status, _, body) = request(&d.addr, "GET", &path, &[("Cookie", &mia)], "");
    assert_eq!(status, 200, "{body}");
    let served: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(served["rows"], report["rows"], "the page's report is the CLI's");
    let (status, head, csv) = request(&d.addr, "GET", "/reports?by=channel&format=csv", &[("Cookie", &mia)], "");
    assert_eq!(status, 200, "{csv}");
    assert!(head.to_ascii_lowercase().contains("text/csv") && csv.lines().count() >= 2, "{csv}");
    for (path, wanted) in [
        ("/reports?by=nope", "by: `nope`"),
        ("/reports?from=yesterday", "from: expected a time"),
        ("/reports?from=2026-11-24&to=2026-11-23", "must be before"),
        ("/reports?format=xml", "format"),
        ("/reports?colour=red", "`colour` is not a report parameter"),
        ("/reports?fcr_hours=-1", "fcr_hours"),
    ] {
        let (status, _, body) = request(&d.addr, "GET", path, &[("Cookie", &mia)], "");
        assert_eq!(status, 400, "{path}: {body}");
        assert!(body.contains(wanted), "{path}: {body}");
    }
    let (status, _, _) = request(&d.addr, "GET", "/reports", &[], "");
    assert_eq!(status, 401);
    let (status, _, _) = request(&d.addr, "GET", "/reports", &[("Cookie", &not_a_manager)], "");
    assert_eq!(status, 403);

    // The admin token is let in too, and logging out ends the session.
    let token = std::fs::read_to_string(data.path().join("admin-token")).unwrap();
    let (status, _, _) =
        request(&d.addr, "GET", "/wallboard/data", &[("Authorization", &format!("Bearer {}", token.trim()))], "");
    assert_eq!(status, 200);
    let (status, _, _) = request(&d.addr, "POST", "/logout", &[("Cookie", &mia)], "");
    assert_eq!(status, 200);
    let (status, _, _) = request(&d.addr, "GET", "/wallboard/data", &[("Cookie", &mia)], "");
    assert_eq!(status, 401);
}
