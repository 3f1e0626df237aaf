//! A `switchboard serve` for end-to-end tests: the built binary on a free port, and the
//! customer's and agent's WebSocket clients (tokio-tungstenite) that talk to it.

#![allow(dead_code)]

use crate::support::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

pub fn hash(password: &str) -> String {
    let o = switchboard_with_input(&repo(), &["hash-password"], password);
    assert_eq!(code(&o), 0, "{}", both(&o));
    stdout(&o).trim().to_string()
}

/// A running daemon, killed when dropped.
pub struct Daemon {
    pub child: Child,
    pub addr: String,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `switchboard serve` on the project in `project`, keeping its store in `data`, on a free
/// port; it logs warnings to the test's output.
pub fn start(project: &Path, data: &Path) -> Daemon {
    spawn(project, data, "warn", Stdio::inherit(), None, &[])
}

/// As [`start`], with `env` set for the daemon (secrets its `switchboard.toml` names).
pub fn start_with_env(project: &Path, data: &Path, env: &[(&str, &str)]) -> Daemon {
    spawn(project, data, "warn", Stdio::inherit(), None, env)
}

/// As [`start`], with every log line (at `debug`) and everything it prints kept in `log`.
pub fn start_logged(project: &Path, data: &Path, log: &Path) -> Daemon {
    let file = std::fs::File::create(log).expect("the log file is made");
    let printed = file.try_clone().expect("the log file is shared");
    spawn(project, data, "debug", Stdio::from(file), Some(printed), &[])
}

fn spawn(
    project: &Path,
    data: &Path,
    level: &str,
    stderr: Stdio,
    mut printed: Option<std::fs::File>,
    env: &[(&str, &str)],
) -> Daemon {
    let mut child = Command::new(binary())
        .args(["serve", ".", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .current_dir(project)
        .env("SWITCHBOARD_LOG", level)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("switchboard serve starts");
    let stdout = child.stdout.take().expect("piped");
    let mut lines = BufReader::new(stdout).lines();
    let mut keep = move |line: &str| {
        if let Some(f) = printed.as_mut() {
            use std::io::Write;
            let _ = writeln!(f, "{line}");
        }
    };
    let addr = loop {
        let line = lines.next().expect("the daemon prints its address").expect("utf-8");
        keep(&line);
        if let Some(rest) = line.split("on http://").nth(1) {
            break rest.trim_end_matches('/').to_string();
        }
    };
    // Keep reading its output so it never blocks on a full pipe.
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            keep(&line);
        }
    });
    Daemon { child, addr }
}

pub type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn connect(addr: &str, path: &str, origin: Option<&str>) -> Result<Socket, String> {
    let mut request = format!("ws://{addr}{path}").into_client_request().map_err(|e| e.to_string())?;
    if let Some(o) = origin {
        request.headers_mut().insert("Origin", o.parse().unwrap());
    }
    tokio_tungstenite::connect_async(request).await.map(|(s, _)| s).map_err(|e| e.to_string())
}

pub async fn put(socket: &mut Socket, v: Value) {
    socket.send(Message::Text(v.to_string().into())).await.expect("the socket takes a message");
}

/// The next JSON message, within 30 s (a loaded machine can be slow; nothing waits for it to pass).
pub async fn next(socket: &mut Socket) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(30), socket.next())
            .await
            .expect("a message within 30 s")
            .expect("the socket is open")
            .expect("a frame");
        if let Message::Text(t) = msg {
            return serde_json::from_str(t.as_str()).expect("JSON");
        }
    }
}

/// Reads until a message of `kind` (and, if given, with `text`) arrives; returns it and
/// what came before it.
pub async fn until(socket: &mut Socket, kind: &str, text: Option<&str>) -> (Value, Vec<Value>) {
    let mut before = Vec::new();
    loop {
        let m = next(socket).await;
        if m["type"] == kind && text.is_none_or(|t| m["text"] == t) {
            return (m, before);
        }
        before.push(m);
    }
}

pub async fn customer(addr: &str, name: &str) -> (Socket, String, u64) {
    let mut s = connect(addr, "/chat/ws", None).await.expect("the chat socket opens");
    put(&mut s, json!({"type": "hello", "name": name})).await;
    let conv = next(&mut s).await;
    assert_eq!(conv["type"], "conversation", "{conv}");
    (s, conv["token"].as_str().unwrap().to_string(), conv["contact"].as_u64().unwrap())
}

pub async fn agent(addr: &str, id: &str, password: &str) -> Socket {
    let mut s = connect(addr, "/agent/ws", None).await.expect("the agent socket opens");
    put(&mut s, json!({"type": "login", "agent": id, "password": password})).await;
    let welcome = next(&mut s).await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    put(&mut s, json!({"type": "presence", "presence": "available", "ref": 1})).await;
    loop {
        let m = next(&mut s).await;
        assert_ne!(m["type"], "error", "{m}");
        if m["type"] == "ok" {
            return s;
        }
    }
}

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

pub fn http(addr: &str, method: &str, path: &str, token: Option<&str>, body: &[u8]) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(body).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out[9..12].parse().unwrap();
    let body = out.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}
