//! SMS webhooks and mail in, under load: signed Twilio webhooks from concurrent keep-alive
//! connections, acknowledged (the TwiML answer, once journaled) and processed (the flow's
//! two texts taken by a stand-in for the REST API in this process); mails over concurrent
//! SMTP sessions, acknowledged (the `250` after `DATA`, once journaled) and processed (the
//! auto-reply taken by a relay in this process). The baselines are the same connections'
//! floor on the same daemon: `GET /healthz` for HTTP, `NOOP` for SMTP.

use super::{ms, per_s, quantile, Server, Table};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "load-bench-auth-token";
const PUBLIC: &str = "https://load.example.test";
const WORKERS: usize = 32;

const FLOWS: &str = r#"
skills support

queue support {
  skills support
}

flow texts on sms {
  say "Thanks for your text."
  menu "Reply 1 for billing or 2 for support." {
    1 "billing" { queue support }
    2 "support" { queue support }
    timeout 10m retries 0 { queue support }
  }
}

flow mails on email {
  say "Thanks for writing: we answer within 4 hours."
  queue support
}

entry sms +441632960000 -> texts
entry email "support@load.example" -> mails
"#;

/// The REST API's stand-in: counts `Messages.json` posts, answers 201 with a sid.
async fn fake_twilio(count: Arc<AtomicU64>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let app = axum::Router::new().route(
        "/2010-04-01/Accounts/{account}/Messages.json",
        axum::routing::post(move || {
            let count = count.clone();
            async move {
                let n = count.fetch_add(1, Relaxed) + 1;
                (axum::http::StatusCode::CREATED, axum::Json(serde_json::json!({"sid": format!("SM{n:032x}")})))
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// An SMTP sink that takes every mail (the relay the daemon sends through).
async fn fake_relay(count: Arc<AtomicU64>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else { continue };
            let count = count.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 sink\r\n").await;
                let mut data = false;
                while let Ok(Some(line)) = lines.next_line().await {
                    let reply: &[u8] = if data {
                        if line == "." {
                            data = false;
                            count.fetch_add(1, Relaxed);
                            b"250 ok\r\n"
                        } else {
                            continue;
                        }
                    } else {
                        match line.get(..4).unwrap_or_default().to_ascii_uppercase().as_str() {
                            "EHLO" => b"250-sink\r\n250 8BITMIME\r\n",
                            "DATA" => {
                                data = true;
                                b"354 go\r\n"
                            }
                            "QUIT" => b"221 bye\r\n",
                            _ => b"250 ok\r\n",
                        }
                    };
                    if write.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

/// Sends `request` and reads one HTTP/1.1 answer (with Content-Length) on a kept-alive
/// connection: its status.
async fn exchange(reader: &mut BufReader<TcpStream>, request: &[u8]) -> u16 {
    reader.get_mut().write_all(request).await.unwrap();
    let mut status = String::new();
    reader.read_line(&mut status).await.unwrap();
    let mut length = 0;
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).await.unwrap();
        if h == "\r\n" || h.is_empty() {
            break;
        }
        if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await.unwrap();
    status.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0)
}

fn sms_request(addr: &str, n: usize, signer: &switchboard_daemon::channels::twilio::Twilio) -> Vec<u8> {
    let sid = format!("SM{n:032x}");
    let from = format!("+4477009{:05}", n % 100_000);
    let form: Vec<(String, String)> = [
        ("AccountSid", ACCOUNT),
        ("Body", "Hello"),
        ("From", from.as_str()),
        ("MessageSid", sid.as_str()),
        ("NumMedia", "0"),
        ("To", "+441632960000"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let signature = signer.signature(&format!("{PUBLIC}/channels/twilio/sms"), &form);
    let body: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(&form).finish();
    format!(
        "POST /channels/twilio/sms HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nX-Twilio-Signature: {signature}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// `n` requests made by `make` from `WORKERS` connections: (per second, latencies).
async fn http_load(addr: &str, n: usize, make: Arc<dyn Fn(usize) -> Vec<u8> + Send + Sync>) -> (f64, Vec<Duration>) {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..WORKERS {
        let (addr, next, make) = (addr.to_string(), next.clone(), make.clone());
        tasks.push(tokio::spawn(async move {
            let stream = TcpStream::connect(&addr).await.unwrap();
            stream.set_nodelay(true).unwrap();
            let mut reader = BufReader::new(stream);
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Relaxed) as usize;
                if i >= n {
                    return lat;
                }
                let request = make(i);
                let t = Instant::now();
                let status = exchange(&mut reader, &request).await;
                assert_eq!(status, 200, "request {i}");
                lat.push(t.elapsed());
            }
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    (n as f64 / started.elapsed().as_secs_f64(), all)
}

async fn smtp_line(reader: &mut BufReader<TcpStream>) -> String {
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).await.unwrap();
        // A multi-line answer ends with a line whose fourth character is a space.
        if line.as_bytes().get(3) != Some(&b'-') {
            return line;
        }
    }
}

/// `n` mails over `WORKERS` SMTP sessions: (per second, latency of each `DATA`'s 250),
/// and of each `NOOP` sent before it (the baseline).
async fn smtp_load(port: u16, n: usize) -> (f64, Vec<Duration>, Vec<Duration>) {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..WORKERS {
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            let stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
            stream.set_nodelay(true).unwrap();
            let mut r = BufReader::new(stream);
            smtp_line(&mut r).await;
            r.get_mut().write_all(format!("EHLO client{w}.example\r\n").as_bytes()).await.unwrap();
            smtp_line(&mut r).await;
            let (mut lat, mut noop) = (Vec::new(), Vec::new());
            loop {
                let i = next.fetch_add(1, Relaxed) as usize;
                if i >= n {
                    let _ = r.get_mut().write_all(b"QUIT\r\n").await;
                    return (lat, noop);
                }
                let t = Instant::now();
                r.get_mut().write_all(b"NOOP\r\n").await.unwrap();
                smtp_line(&mut r).await;
                noop.push(t.elapsed());
                for command in [format!("MAIL FROM:<c{i}@example.org>\r\n"), "RCPT TO:<support@load.example>\r\n".into(), "DATA\r\n".into()] {
                    r.get_mut().write_all(command.as_bytes()).await.unwrap();
                    smtp_line(&mut r).await;
                }
                let mail = format!(
                    "From: <c{i}@example.org>\r\nTo: <support@load.example>\r\nSubject: Order {i}\r\nMessage-ID: <m{i}@example.org>\r\n\r\nWhere is my order {i}?\r\n.\r\n"
                );
                let t = Instant::now();
                r.get_mut().write_all(mail.as_bytes()).await.unwrap();
                let answer = smtp_line(&mut r).await;
                assert!(answer.starts_with("250"), "mail {i}: {answer}");
                lat.push(t.elapsed());
            }
        }));
    }
    let (mut lat, mut noop) = (Vec::new(), Vec::new());
    for t in tasks {
        let (l, n) = t.await.unwrap();
        lat.extend(l);
        noop.extend(n);
    }
    (n as f64 / started.elapsed().as_secs_f64(), lat, noop)
}

/// Waits until `count` reaches `want` (or a minute passes): how long it took.
async fn until_count(count: &AtomicU64, want: u64, since: Instant) -> Option<Duration> {
    while count.load(Relaxed) < want {
        if since.elapsed() > Duration::from_secs(120) {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Some(since.elapsed())
}

pub async fn channels(scratch: &Path, full: bool, table: &mut Table) {
    let (texts, mails) = if full { (3000, 1000) } else { (20, 10) };
    let dir = scratch.join("channels");
    let _ = std::fs::remove_dir_all(&dir);
    let (project, data) = (dir.join("project"), dir.join("data"));
    std::fs::create_dir_all(&project).unwrap();
    let sent = Arc::new(AtomicU64::new(0));
    let relayed = Arc::new(AtomicU64::new(0));
    let api = fake_twilio(sent.clone()).await;
    let relay = fake_relay(relayed.clone()).await;
    let smtp = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    std::fs::write(project.join("main.flow"), FLOWS).unwrap();
    std::fs::write(
        project.join("switchboard.toml"),
        format!(
            "admin_token = \"load-bench-admin-token\"\n\n[twilio]\naccount_sid = \"{ACCOUNT}\"\nauth_token = \"{TOKEN}\"\npublic_url = \"{PUBLIC}\"\napi_base = \"http://{api}\"\n\n[email]\nlisten = \"127.0.0.1:{smtp}\"\nrelay = \"smtp://127.0.0.1:{relay}\"\n"
        ),
    )
    .unwrap();
    let server = Server::daemon(&project, &data);
    let addr = server.addr.clone();
    let signer = Arc::new(switchboard_daemon::channels::twilio::Twilio::new(
        switchboard_daemon::config::TwilioSettings {
            account_sid: ACCOUNT.into(),
            auth_token: switchboard_daemon::config::Secret::new(TOKEN),
            public_url: PUBLIC.into(),
            api_base: format!("http://{api}"),
            sms_from: None,
            sms_idle_ms: 3_600_000,
        },
        None,
    ));

    // HTTP floor: GET /healthz on the same kind of connections.
    let a = addr.clone();
    let health = move |_: usize| format!("GET /healthz HTTP/1.1\r\nHost: {a}\r\n\r\n").into_bytes();
    let (health_rate, mut health_lat) = http_load(&addr, texts, Arc::new(health)).await;

    // SMS webhooks: acknowledged, then processed (both texts of each taken by the API).
    let a = addr.clone();
    let s = signer.clone();
    let started = Instant::now();
    let (rate, mut lat) = http_load(&addr, texts, Arc::new(move |i| sms_request(&a, i, &s))).await;
    let processed = until_count(&sent, 2 * texts as u64, started).await;
    let health_p99 = quantile(&mut health_lat, 0.99);
    table.row(
        &format!("SMS webhooks acknowledged ({texts}, {WORKERS} connections)"),
        format!("{} (p50 {}, p99 {})", per_s(rate), ms(quantile(&mut lat, 0.5)), ms(quantile(&mut lat, 0.99))),
        &format!("GET /healthz {} (p99 {})", per_s(health_rate), ms(health_p99)),
        "report",
        None,
    );
    table.row(
        "SMS processed: both of the flow's texts taken by the API",
        processed.map_or("not all within 2 min".into(), |d| per_s(texts as f64 / d.as_secs_f64())),
        "-",
        "report",
        None,
    );

    // Mail in: each 250, then the auto-replies taken by the relay.
    let started = Instant::now();
    let (rate, mut lat, mut noop) = smtp_load(smtp, mails).await;
    let processed = until_count(&relayed, mails as u64, started).await;
    table.row(
        &format!("mails accepted over SMTP ({mails}, {WORKERS} sessions)"),
        format!("{} (p50 {}, p99 {})", per_s(rate), ms(quantile(&mut lat, 0.5)), ms(quantile(&mut lat, 0.99))),
        &format!("NOOP p99 {}", ms(quantile(&mut noop, 0.99))),
        "report",
        None,
    );
    table.row(
        "mails processed: auto-replies taken by the relay",
        processed.map_or("not all within 2 min".into(), |d| per_s(mails as f64 / d.as_secs_f64())),
        "-",
        "report",
        None,
    );
    drop(server);
}
