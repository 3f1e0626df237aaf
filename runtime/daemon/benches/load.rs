//! The daemon under load, side by side with a named baseline: a bare axum WebSocket echo
//! server (the same axum, tokio runtime and socket settings as the daemon's chat, and
//! nothing else) as the ceiling for the network parts.
//!
//! `cargo bench -p switchboard-daemon --bench load`
//!
//! Both servers run in child processes (this binary again, told its role by an environment
//! variable), so that each one's memory is its own and the clients' is not counted: the
//! daemon is `switchboard_daemon::serve` itself, on a project in a temporary folder, with
//! its store on the same disk as the build (never a tmpfs, where an fsync costs nothing).
//! What needs the core's insides (a million timers, a hundred thousand contacts to
//! recover) runs it in this process on a state built with the engine directly and stored
//! as the core's own snapshot.
//!
//! The wallboard part builds a day that way too (a thousand agents, ten thousand waiting),
//! then starts the daemon on it and watches its `/wallboard/stream`; the offer part drives
//! the agent desktop in Chromium with `tests/python/offer_latency.py`. The channels part
//! (`load/channels.rs`) sends signed SMS webhooks and mail over SMTP.
//!
//! Without `--bench` (as `cargo test --benches` runs it) every size is tiny: it checks that
//! the benchmark works, in a few seconds, and its figures mean nothing.

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchboard_bytecode::bytecode::Bundle;
use switchboard_bytecode::types::Channel;
use switchboard_daemon::core::{self, Core, Request, Side, Tuning};
use switchboard_daemon::store::Store;
use switchboard_engine::{step_into, Arrival, BundleHash, Input, NoExterns, OfferId, Output, Started, State, World};
use tokio_tungstenite::tungstenite::Message;

#[path = "load/channels.rs"]
mod channels;

const ROLE: &str = "SWITCHBOARD_LOAD_ROLE";

/// The project every part runs: a greeting and a menu that times out after `{timeout}`.
const PROJECT: &str = r#"
skills support

queue support {
  skills support
}

flow chat_in on chat {
  say "Hello."
  menu "1 or 2?" {
    1 "one" {
      say "One it is."
      end
    }
    2 "two" {
      queue support
    }
    timeout {timeout}s retries 0 {
      say "No answer."
      end
    }
  }
}

flow queued on chat {
  queue support
}

entry chat "web" -> chat_in
entry chat "queue" -> queued
"#;

/// How much of everything: the issue's sizes with `--bench`, tiny ones otherwise.
#[derive(Clone, Copy, Debug)]
struct Sizes {
    idle_sockets: usize,
    /// Closed loop: this many customers at once, each opening conversation after conversation.
    chat_workers: usize,
    chat_secs: f64,
    /// Open loop: new conversations per second, for this long.
    chat_rate: f64,
    rate_secs: f64,
    /// Customers typing messages as fast as they are acknowledged.
    typists: usize,
    typing_secs: f64,
    /// Requests in flight at once at the core, in this process.
    core_clients: usize,
    core_secs: f64,
    queued_contacts: usize,
    timers: usize,
    /// The timers fall due evenly over this long.
    timer_window_s: i64,
    recover_contacts: usize,
    /// The wallboard: agents logged in (each busy with a chat), contacts waiting, how long
    /// it is watched, and new chats a second meanwhile.
    board_agents: usize,
    board_waiting: usize,
    board_secs: f64,
    board_rate: f64,
    /// Offers rung at the agent desktop in Chromium.
    offers: usize,
}

const FULL: Sizes = Sizes {
    idle_sockets: 4000,
    chat_workers: 32,
    chat_secs: 8.0,
    chat_rate: 500.0,
    rate_secs: 10.0,
    typists: 256,
    typing_secs: 8.0,
    core_clients: 1024,
    core_secs: 8.0,
    queued_contacts: 100_000,
    timers: 1_000_000,
    timer_window_s: 120,
    recover_contacts: 100_000,
    board_agents: 1000,
    board_waiting: 10_000,
    board_secs: 30.0,
    board_rate: 20.0,
    offers: 200,
};

const TINY: Sizes = Sizes {
    idle_sockets: 20,
    chat_workers: 2,
    chat_secs: 0.3,
    chat_rate: 50.0,
    rate_secs: 0.3,
    typists: 4,
    typing_secs: 0.3,
    core_clients: 8,
    core_secs: 0.3,
    queued_contacts: 200,
    timers: 500,
    timer_window_s: 1,
    recover_contacts: 200,
    board_agents: 20,
    board_waiting: 200,
    board_secs: 3.0,
    board_rate: 5.0,
    offers: 3,
};

fn main() {
    match std::env::var(ROLE).as_deref() {
        Ok("daemon") => return child_daemon(),
        Ok("echo") => return child_echo(),
        _ => {}
    }
    let full = std::env::args().any(|a| a == "--bench");
    let mut sizes = if full { FULL } else { TINY };
    if let Some(w) = std::env::var("SWITCHBOARD_LOAD_TIMER_WINDOW_S").ok().and_then(|v| v.parse().ok()) {
        sizes.timer_window_s = w;
    }
    if let Some(n) = std::env::var("SWITCHBOARD_LOAD_TIMERS").ok().and_then(|v| v.parse().ok()) {
        sizes.timers = n;
    }
    if let Some(n) = std::env::var("SWITCHBOARD_LOAD_BOARD_WAITING").ok().and_then(|v| v.parse().ok()) {
        sizes.board_waiting = n;
    }
    if let Some(n) = std::env::var("SWITCHBOARD_LOAD_OFFERS").ok().and_then(|v| v.parse().ok()) {
        sizes.offers = n;
    }
    let only = std::env::var("SWITCHBOARD_LOAD_ONLY").unwrap_or_default();
    let runs = |part: &str| only.is_empty() || only.split(',').any(|p| p == part);
    let scratch = scratch_root();
    let mut table = Table::default();
    println!(
        "switchboard load benchmark ({}), scratch in {}",
        if full { "full" } else { "test mode: tiny sizes" },
        scratch.display()
    );

    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    if runs("network") {
        rt.block_on(network(&scratch, sizes, &mut table));
    }
    if runs("core") {
        rt.block_on(core_inputs(&scratch, sizes, &mut table));
    }
    if runs("state") {
        state_memory(sizes, &mut table);
    }
    if runs("timers") {
        rt.block_on(timers(&scratch, sizes, &mut table));
    }
    if runs("recover") {
        rt.block_on(recover(&scratch, sizes, &mut table));
    }
    if runs("wallboard") {
        rt.block_on(wallboard(&scratch, sizes, &mut table));
    }
    if runs("offer") {
        rt.block_on(offer_latency(&scratch, sizes, &mut table));
    }
    if runs("channels") {
        rt.block_on(channels::channels(&scratch, full, &mut table));
    }
    table.print();
}

// ---------------------------------------------------------------------------------------
// The table

#[derive(Default)]
struct Table {
    rows: Vec<[String; 5]>,
}

impl Table {
    /// A row; `met` is `None` when there is no goal to meet.
    fn row(&mut self, measure: &str, daemon: String, baseline: &str, goal: &str, met: Option<bool>) {
        let met = match met {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "-",
        };
        println!("  {measure}: daemon {daemon}, baseline {baseline}, goal {goal}, met {met}");
        self.rows.push([measure.into(), daemon, baseline.into(), goal.into(), met.into()]);
    }

    fn print(&self) {
        let head = ["measure", "daemon", "baseline (axum echo unless named)", "goal", "met?"];
        let mut widths = head.map(str::len);
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &[&str]| {
            let cells: Vec<String> =
                cells.iter().zip(widths).map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count()))).collect();
            println!("| {} |", cells.join(" | "));
        };
        println!();
        line(&head);
        line(&widths.map(|w| "-".repeat(w)).iter().map(String::as_str).collect::<Vec<_>>());
        for row in &self.rows {
            line(&row.iter().map(String::as_str).collect::<Vec<_>>());
        }
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn per_s(n: f64) -> String {
    if n >= 10_000.0 {
        format!("{:.0}k/s", n / 1e3)
    } else {
        format!("{n:.0}/s")
    }
}

fn kib(bytes: f64) -> String {
    format!("{:.1} KiB", bytes / 1024.0)
}

/// The `q` quantile of `samples` (sorted here).
fn quantile(samples: &mut [Duration], q: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    samples.sort_unstable();
    let i = ((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1;
    samples[i]
}

// ---------------------------------------------------------------------------------------
// The servers, in child processes

/// Where stores and projects go: beside the build, on a real disk.
fn scratch_root() -> PathBuf {
    let base = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::current_exe().ok().and_then(|p| p.parent()?.parent()?.parent().map(Path::to_path_buf)))
        .unwrap_or_else(std::env::temp_dir);
    let dir = base.join("load-bench");
    std::fs::create_dir_all(&dir).expect("the scratch folder is made");
    dir
}

fn project_text(timeout_s: i64) -> String {
    PROJECT.replace("{timeout}", &timeout_s.to_string())
}

/// A project folder with the flow and a `switchboard.toml` that opens every conversation.
fn write_project(dir: &Path, timeout_s: i64) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("main.flow"), project_text(timeout_s)).unwrap();
    std::fs::write(
        dir.join("switchboard.toml"),
        "admin_token = \"load-bench-admin-token\"\nnew_chats_per_minute = 0\n",
    )
    .unwrap();
}

fn child_daemon() {
    let project = PathBuf::from(std::env::var("SWITCHBOARD_LOAD_PROJECT").unwrap());
    let data = PathBuf::from(std::env::var("SWITCHBOARD_LOAD_DATA").unwrap());
    let flags = switchboard_daemon::config::Flags {
        project,
        data: Some(data),
        listen: Some("127.0.0.1:0".into()),
        config: None,
        watch: false,
    };
    let settings = switchboard_daemon::config::Settings::resolve(flags, &|_| None).expect("settings");
    if let Err(e) = switchboard_daemon::serve(settings) {
        eprintln!("{e}");
        std::process::exit(1);
    }
}

fn child_echo() {
    use axum::extract::ws::{WebSocket, WebSocketUpgrade};
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("echo on http://{}/", listener.local_addr().unwrap());
        let _ = std::io::stdout().flush();
        async fn echo(mut socket: WebSocket) {
            while let Some(Ok(msg)) = socket.recv().await {
                if socket.send(msg).await.is_err() {
                    return;
                }
            }
        }
        let defaults = std::env::var("SWITCHBOARD_LOAD_ECHO_DEFAULTS").is_ok();
        let app = axum::Router::new().route(
            "/chat/ws",
            axum::routing::get(move |ws: WebSocketUpgrade| async move {
                let ws = if defaults { ws } else { switchboard_daemon::web::sized(ws) };
                ws.on_upgrade(echo)
            }),
        );
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        axum::serve(listener, app).await.unwrap();
    });
}

/// A server in a child process, killed (SIGKILL) when dropped.
struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(role: &str, env: &[(&str, &Path)]) -> Server {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env(ROLE, role)
            .envs(env.iter().map(|(k, v)| (*k, v.as_os_str())))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the server starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let addr = loop {
            let line = lines.next().expect("the server prints its address").unwrap();
            if let Some(rest) = line.split("on http://").nth(1) {
                break rest.trim_end_matches('/').to_string();
            }
        };
        std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
        Server { child, addr }
    }

    fn daemon(project: &Path, data: &Path) -> Server {
        Server::start("daemon", &[("SWITCHBOARD_LOAD_PROJECT", project), ("SWITCHBOARD_LOAD_DATA", data)])
    }

    fn rss(&self) -> f64 {
        rss_of(&format!("/proc/{}/status", self.child.id()))
    }

    /// `GET path`, the body.
    fn get(&self, path: &str) -> String {
        let mut s = std::net::TcpStream::connect(&self.addr).unwrap();
        write!(s, "GET {path} HTTP/1.0\r\nHost: {}\r\n\r\n", self.addr).unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default()
    }
}

/// VmRSS in bytes.
fn rss_of(status: &str) -> f64 {
    let text = std::fs::read_to_string(status).unwrap_or_default();
    let kb: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kb * 1024.0
}

fn my_rss() -> f64 {
    rss_of("/proc/self/status")
}

// ---------------------------------------------------------------------------------------
// Prometheus text, as far as this needs it

#[derive(Clone, Debug, Default)]
struct Scrape {
    values: HashMap<String, f64>,
}

impl Scrape {
    fn of(text: &str) -> Scrape {
        let values = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.rsplit_once(' '))
            .filter_map(|(k, v)| Some((k.to_string(), v.parse().ok()?)))
            .collect();
        Scrape { values }
    }

    fn get(&self, key: &str) -> f64 {
        self.values.get(key).copied().unwrap_or(0.0)
    }

    /// The upper bound of the histogram bucket the `q` quantile of what came between
    /// `before` and `self` falls in: the quantile is at most that.
    fn quantile_since(&self, before: &Scrape, name: &str, q: f64) -> Option<f64> {
        let mut buckets: Vec<(f64, f64)> = self
            .values
            .iter()
            .filter_map(|(k, v)| {
                let le = k.strip_prefix(name)?.strip_prefix("_bucket{le=\"")?.strip_suffix("\"}")?;
                let bound = if le == "+Inf" { f64::INFINITY } else { le.parse().ok()? };
                Some((bound, v - before.get(k)))
            })
            .collect();
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        let total = buckets.last()?.1;
        if total <= 0.0 {
            return None;
        }
        buckets.iter().find(|(_, n)| *n >= total * q).map(|(b, _)| *b)
    }
}

fn bound_ms(bound: Option<f64>) -> String {
    match bound {
        Some(b) if b.is_finite() => format!("≤ {} ms", b * 1e3),
        Some(_) => "> 2.5 s".to_string(),
        None => "no commits".to_string(),
    }
}

// ---------------------------------------------------------------------------------------
// Customers

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(addr: &str) -> Socket {
    loop {
        match tokio_tungstenite::connect_async(format!("ws://{addr}/chat/ws")).await {
            Ok((s, _)) => return s,
            // A burst of connections can overflow the listen queue; the client tries again.
            Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
}

async fn put(socket: &mut Socket, v: Value) {
    socket.send(Message::Text(v.to_string().into())).await.expect("the socket takes a message");
}

async fn next(socket: &mut Socket) -> Value {
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

async fn until(socket: &mut Socket, f: impl Fn(&Value) -> bool) -> Value {
    loop {
        let m = next(socket).await;
        if m["type"] == "error" {
            panic!("the server refused: {m}");
        }
        if f(&m) {
            return m;
        }
    }
}

/// Which server a customer talks to: the daemon speaks the chat protocol, the echo server
/// sends each message back (so "the reply" is the echo).
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Daemon,
    Echo,
}

/// A customer says hello and is in a conversation (for the daemon: the menu has been asked).
async fn hello(addr: &str, kind: Kind, name: &str) -> Socket {
    let mut s = connect(addr).await;
    put(&mut s, json!({"type": "hello", "name": name})).await;
    match kind {
        Kind::Daemon => {
            until(&mut s, |m| m["type"] == "conversation").await;
            until(&mut s, |m| m["text"] == "1 or 2?").await;
        }
        Kind::Echo => {
            until(&mut s, |m| m["type"] == "hello").await;
        }
    }
    s
}

/// A customer types `text` and waits for the flow's reply (`reply`) and the ack; returns
/// how long the reply took.
async fn say(s: &mut Socket, kind: Kind, id: &str, text: &str, reply: Option<&str>) -> Duration {
    let sent = Instant::now();
    put(s, json!({"type": "message", "id": id, "text": text})).await;
    match kind {
        Kind::Daemon => {
            let (mut acked, mut replied) = (false, reply.is_none());
            let mut took = Duration::ZERO;
            while !(acked && replied) {
                let m = until(s, |_| true).await;
                if m["type"] == "ack" && m["id"] == id {
                    acked = true;
                    if reply.is_none() {
                        took = sent.elapsed();
                    }
                } else if m["type"] == "message" && reply.is_some_and(|r| m["text"] == r) {
                    replied = true;
                    took = sent.elapsed();
                }
            }
            took
        }
        Kind::Echo => {
            until(s, |m| m["id"] == id).await;
            sent.elapsed()
        }
    }
}

/// One whole conversation: hello, the menu, "1" and its answer. Returns how long the
/// answer took.
async fn conversation(addr: &str, kind: Kind, n: u64) -> Duration {
    let mut s = hello(addr, kind, &format!("c{n}")).await;
    let took = say(&mut s, kind, "m1", "1", Some("One it is.")).await;
    let _ = s.close(None).await;
    took
}

// ---------------------------------------------------------------------------------------
// The network parts: idle sockets, new conversations, messages

async fn network(scratch: &Path, sizes: Sizes, table: &mut Table) {
    let project = scratch.join("project");
    write_project(&project, 60);
    let data = tempfile::tempdir_in(scratch).unwrap();
    let daemon = Server::daemon(&project, &data.path().join("load"));
    let echo = Server::start("echo", &[]);
    println!("daemon on {}, echo on {}", daemon.addr, echo.addr);

    // Memory per idle socket: open N, see how much the server grew. Each measure has
    // servers of its own, so that no socket reuses what an earlier one freed.
    let fresh_daemon = |name: &str| Server::daemon(&project, &data.path().join(name));
    let (d_idle, _) = idle_sockets(&fresh_daemon("idle"), Kind::Daemon, sizes.idle_sockets, false).await;
    let (e_idle, _) = idle_sockets(&Server::start("echo", &[]), Kind::Echo, sizes.idle_sockets, false).await;
    table.row(
        "memory per idle WebSocket (open, nothing said)",
        kib(d_idle),
        &kib(e_idle),
        "≤ 16 KiB",
        Some(d_idle <= 16.0 * 1024.0),
    );
    let (d_conv, _) = idle_sockets(&fresh_daemon("conversations"), Kind::Daemon, sizes.idle_sockets, true).await;
    let (e_conv, _) = idle_sockets(&Server::start("echo", &[]), Kind::Echo, sizes.idle_sockets, true).await;
    table.row("memory per idle conversation (socket + contact in the menu)", kib(d_conv), &kib(e_conv), "report", None);
    if std::env::var_os("SWITCHBOARD_LOAD_ECHO_DEFAULTS_TOO").is_some() {
        std::env::set_var("SWITCHBOARD_LOAD_ECHO_DEFAULTS", "1");
        let plain = Server::start("echo", &[]);
        std::env::remove_var("SWITCHBOARD_LOAD_ECHO_DEFAULTS");
        let (p_idle, _) = idle_sockets(&plain, Kind::Echo, sizes.idle_sockets, false).await;
        println!("  (axum's default socket settings: {} per idle socket)", kib(p_idle));
    }

    // New conversations, as many as the server takes: workers opening one after another.
    let (d_rate, _) = closed_loop(&daemon.addr, Kind::Daemon, sizes.chat_workers, sizes.chat_secs).await;
    let (e_rate, _) = closed_loop(&echo.addr, Kind::Echo, sizes.chat_workers, sizes.chat_secs).await;
    table.row(
        &format!("new chat contacts per second end to end ({} at once)", sizes.chat_workers),
        per_s(d_rate),
        &per_s(e_rate),
        "≥ 500/s",
        Some(d_rate >= 500.0),
    );

    // The reply time at the goal's load: conversations opened at a steady rate.
    let (d_got, mut d_lat) = open_loop(&daemon.addr, Kind::Daemon, sizes.chat_rate, sizes.rate_secs).await;
    let (e_got, mut e_lat) = open_loop(&echo.addr, Kind::Echo, sizes.chat_rate, sizes.rate_secs).await;
    let d99 = quantile(&mut d_lat, 0.99);
    let e99 = quantile(&mut e_lat, 0.99);
    table.row(
        &format!("customer message to the flow's reply, p99, at {} new chats/s", sizes.chat_rate),
        format!("{} (p50 {}, {})", ms(d99), ms(quantile(&mut d_lat, 0.5)), per_s(d_got)),
        &format!("{} ({})", ms(e99), per_s(e_got)),
        "≤ 10 ms",
        Some(d99 <= Duration::from_millis(10) && d_got >= 0.95 * sizes.chat_rate),
    );

    // Messages: customers typing as fast as they are acknowledged (each one journaled and
    // fsynced before its ack).
    let before = Scrape::of(&daemon.get("/metrics"));
    let (d_msgs, mut d_ack) = typists(&daemon.addr, Kind::Daemon, sizes.typists, sizes.typing_secs).await;
    let after = Scrape::of(&daemon.get("/metrics"));
    let (e_msgs, mut e_ack) = typists(&echo.addr, Kind::Echo, sizes.typists, sizes.typing_secs).await;
    let records = after.get("switchboard_journal_records_total") - before.get("switchboard_journal_records_total");
    let batches = after.get("switchboard_journal_batches_total") - before.get("switchboard_journal_batches_total");
    table.row(
        &format!("durable messages per second over WebSocket ({} customers typing)", sizes.typists),
        format!(
            "{} ({:.0} records in {:.0} batches, ack p99 {})",
            per_s(d_msgs),
            records,
            batches,
            ms(quantile(&mut d_ack, 0.99))
        ),
        &format!("{} (echo p99 {})", per_s(e_msgs), ms(quantile(&mut e_ack, 0.99))),
        "-",
        None,
    );
    let p99 = after.quantile_since(&before, "switchboard_journal_commit_seconds", 0.99);
    let (_, sync99) = disk_sync(data.path(), if sizes.timers > 1000 { 500 } else { 20 });
    table.row(
        "journal commit p99 under that load (daemon's /metrics)",
        bound_ms(p99),
        &format!("disk fdatasync p99 {}", ms(sync99)),
        "≤ 5 ms",
        p99.map(|b| b <= 0.005),
    );
}

/// Opens `n` sockets and keeps them open, idle; returns the server's growth per socket.
async fn idle_sockets(server: &Server, kind: Kind, n: usize, converse: bool) -> (f64, usize) {
    let addr = server.addr.clone();
    let open = |count: usize, tag: &'static str| {
        let addr = addr.clone();
        async move {
            futures_util::stream::iter(0..count)
                .map(|i| {
                    let addr = addr.clone();
                    async move {
                        if converse {
                            hello(&addr, kind, &format!("{tag}{i}")).await
                        } else {
                            connect(&addr).await
                        }
                    }
                })
                .buffer_unordered(32)
                .collect::<Vec<_>>()
                .await
        }
    };
    // Warm up first, and keep those open: what the first sockets cost once (the runtime's
    // threads, the allocator's arenas) is not what each one costs.
    let warm = open(n / 4 + 10, "warm").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let base = server.rss();
    let sockets = open(n, "idle").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let grown = server.rss() - base;
    let count = sockets.len();
    drop((warm, sockets));
    (grown / count as f64, count)
}

/// `workers` customers, each opening conversations one after another for `secs`.
async fn closed_loop(addr: &str, kind: Kind, workers: usize, secs: f64) -> (f64, Vec<Duration>) {
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let until_t = started + Duration::from_secs_f64(secs);
    let tasks: Vec<_> = (0..workers)
        .map(|w| {
            let (addr, done) = (addr.to_string(), done.clone());
            tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut n = 0u64;
                while Instant::now() < until_t {
                    lat.push(conversation(&addr, kind, (w as u64) << 32 | n).await);
                    n += 1;
                    done.fetch_add(1, Relaxed);
                }
                lat
            })
        })
        .collect();
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.unwrap());
    }
    (done.load(Relaxed) as f64 / started.elapsed().as_secs_f64(), lat)
}

/// New conversations at `rate` per second for `secs`, however long each takes; returns
/// the rate achieved and each conversation's reply time.
async fn open_loop(addr: &str, kind: Kind, rate: f64, secs: f64) -> (f64, Vec<Duration>) {
    let started = Instant::now();
    let n = (rate * secs) as u64;
    let mut tasks = Vec::with_capacity(n as usize);
    for i in 0..n {
        let at = started + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await;
        let addr = addr.to_string();
        tasks.push(tokio::spawn(async move { conversation(&addr, kind, i).await }));
    }
    let mut lat = Vec::with_capacity(tasks.len());
    for t in tasks {
        lat.push(t.await.unwrap());
    }
    (n as f64 / started.elapsed().as_secs_f64(), lat)
}

/// `n` customers in a conversation (queued: the flow waits for an agent), each typing a
/// message as soon as the last one is acknowledged, for `secs`.
async fn typists(addr: &str, kind: Kind, n: usize, secs: f64) -> (f64, Vec<Duration>) {
    let sockets: Vec<Socket> = futures_util::stream::iter(0..n)
        .map(|i| {
            let addr = addr.to_string();
            async move {
                let mut s = hello(&addr, kind, &format!("t{i}")).await;
                say(&mut s, kind, "q", "2", None).await;
                s
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    let started = Instant::now();
    let until_t = started + Duration::from_secs_f64(secs);
    let done = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = sockets
        .into_iter()
        .map(|mut s| {
            let done = done.clone();
            tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut i = 0u64;
                while Instant::now() < until_t {
                    lat.push(say(&mut s, kind, &format!("m{i}"), "are you there?", None).await);
                    i += 1;
                    done.fetch_add(1, Relaxed);
                }
                let _ = s.close(None).await;
                lat
            })
        })
        .collect();
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.unwrap());
    }
    (done.load(Relaxed) as f64 / started.elapsed().as_secs_f64(), lat)
}

// ---------------------------------------------------------------------------------------
// The core alone: durable inputs per second

fn compile(dir: &Path, timeout_s: i64) -> Arc<Bundle> {
    write_project(dir, timeout_s);
    Arc::new(switchboard_daemon::project::compile_dir(dir).expect("the project compiles"))
}

fn arrival(to: &str, from: String) -> Arrival {
    Arrival {
        channel: Channel::Chat,
        from: from.into(),
        to: Some(to.into()),
        subject: "".into(),
        text: "".into(),
        attributes: Vec::new(),
    }
}

async fn core_inputs(scratch: &Path, sizes: Sizes, table: &mut Table) {
    let dir = tempfile::tempdir_in(scratch).unwrap();
    let bundle = compile(&dir.path().join("project"), 60);
    let store = Store::open(&dir.path().join("data")).unwrap();
    let core = Core::open(store, bundle, dir.path().join("project"), Tuning::default()).unwrap();
    let (handle, thread, _perform) = core.spawn().unwrap();
    let contacts: Vec<u64> = futures_util::stream::iter(0..sizes.core_clients)
        .map(|i| {
            let handle = handle.clone();
            async move {
                let arrival = arrival("queue", format!("q{i}"));
                let v = handle.ask(Request::StartChat { token: format!("tok{i}"), arrival }).await.unwrap();
                v["contact"].as_u64().unwrap()
            }
        })
        .buffer_unordered(256)
        .collect()
        .await;
    let render = |h: &core::CoreHandle| {
        Scrape::of(&switchboard_daemon::metrics::render(&h.metrics, &switchboard_daemon::metrics::Gauges::default()))
    };
    let before = render(&handle);
    let started = Instant::now();
    let until_t = started + Duration::from_secs_f64(sizes.core_secs);
    let tasks: Vec<_> = contacts
        .into_iter()
        .map(|contact| {
            let handle = handle.clone();
            tokio::spawn(async move {
                let mut i = 0u64;
                while Instant::now() < until_t {
                    let key = format!("in-{contact}-{i}");
                    handle.ask(Request::Customer { contact, key, text: "are you there?".into() }).await.unwrap();
                    i += 1;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let took = started.elapsed().as_secs_f64();
    let after = render(&handle);
    handle.tell(Request::Stop);
    let _ = thread.join();
    let records = after.get("switchboard_journal_records_total") - before.get("switchboard_journal_records_total");
    let batches = after.get("switchboard_journal_batches_total") - before.get("switchboard_journal_batches_total");
    let rate = records / took;
    let (sync50, sync99) = disk_sync(dir.path(), if sizes.timers > 1000 { 500 } else { 20 });
    table.row(
        &format!("durable inputs per second through the core, group commit ({} in flight)", sizes.core_clients),
        format!("{} ({:.0} per batch, {:.0} batches/s)", per_s(rate), records / batches.max(1.0), batches / took),
        &format!("disk: {} fdatasyncs/s", per_s(1.0 / sync50.as_secs_f64())),
        "≥ 50,000/s",
        Some(rate >= 50_000.0),
    );
    let p99 = after.quantile_since(&before, "switchboard_journal_commit_seconds", 0.99);
    table.row(
        "journal commit p99 at that rate",
        bound_ms(p99),
        &format!("disk fdatasync p99 {}", ms(sync99)),
        "≤ 5 ms",
        p99.map(|b| b <= 0.005),
    );
}

/// The disk's own `fdatasync` after a 4 KiB append, `n` times: the floor under any
/// durable commit. Returns the p50 and the p99.
fn disk_sync(dir: &Path, n: usize) -> (Duration, Duration) {
    let path = dir.join("fsync-probe");
    let mut file = std::fs::File::create(&path).unwrap();
    let page = [7u8; 4096];
    let mut took: Vec<Duration> = (0..n)
        .map(|_| {
            file.write_all(&page).unwrap();
            let started = Instant::now();
            file.sync_data().unwrap();
            started.elapsed()
        })
        .collect();
    let _ = std::fs::remove_file(&path);
    (quantile(&mut took, 0.5), quantile(&mut took, 0.99))
}

// ---------------------------------------------------------------------------------------
// The engine's state: memory per waiting contact

/// A world with `bundle` and a new state on it at `now`.
fn engine(bundle: &Arc<Bundle>, now: jiff::Timestamp) -> (World, State, BundleHash) {
    let mut world = World::new();
    let hash = world.deploy(bundle.clone(), Box::new(NoExterns)).unwrap();
    let state = State::new(&world, hash, now).unwrap();
    (world, state, hash)
}

fn state_memory(sizes: Sizes, table: &mut Table) {
    let dir = tempfile::tempdir().unwrap();
    let bundle = compile(dir.path(), 60);
    let now = jiff::Timestamp::now();
    let n = sizes.queued_contacts;
    for (entry, what) in [("queue", "queued (waiting for an agent)"), ("web", "in the menu (with its timer)")] {
        let (world, mut state, _) = engine(&bundle, now);
        let mut out = Output::default();
        // Warm: the first contacts pay for what every later one shares.
        for i in 0..100 {
            out.clear();
            step_into(&mut state, &world, now, Input::Arrive(arrival(entry, format!("w{i}"))), &mut out).unwrap();
        }
        let base_rss = my_rss();
        let base_bytes = state.to_bytes().len();
        let started = Instant::now();
        for i in 0..n {
            out.clear();
            step_into(&mut state, &world, now, Input::Arrive(arrival(entry, format!("visitor-{i:08}"))), &mut out)
                .unwrap();
        }
        let took = started.elapsed();
        let rss = (my_rss() - base_rss) / n as f64;
        let bytes = (state.to_bytes().len() - base_bytes) as f64 / n as f64;
        table.row(
            &format!("memory per contact {what} in State ({n})"),
            format!("{} RSS, {:.0} B snapshotted", kib(rss), bytes),
            "-",
            "report",
            None,
        );
        println!("    ({n} arrivals in {took:.2?}: {} on the engine alone)", per_s(n as f64 / took.as_secs_f64()));
    }
}

// ---------------------------------------------------------------------------------------
// Timers

/// Builds a state with `n` contacts waiting in the menu, the first arriving `window_s`
/// before `start` and the last at `start`, on a flow whose menu times out after
/// `timeout_s`; stores it as the core's snapshot in `data`. Returns each contact's due time
/// (ms) and how long building took.
fn seed(
    data: &Path,
    bundle: &Arc<Bundle>,
    n: usize,
    start: jiff::Timestamp,
    window_s: i64,
    timeout_s: i64,
) -> HashMap<u64, i64> {
    let t0 = start.as_millisecond() - window_s * 1000;
    let (world, mut state, hash) = engine(bundle, jiff::Timestamp::from_millisecond(t0).unwrap());
    let mut out = Output::default();
    let mut due = HashMap::with_capacity(n);
    for i in 0..n {
        let at_ms = t0 + (i as i64 * window_s * 1000) / n.max(1) as i64;
        let at = jiff::Timestamp::from_millisecond(at_ms).unwrap();
        out.clear();
        step_into(&mut state, &world, at, Input::Arrive(arrival("web", format!("visitor-{i:08}"))), &mut out).unwrap();
        match out.started {
            Some(Started::Contact(c)) => due.insert(c.0, at_ms + timeout_s * 1000),
            other => panic!("no contact: {other:?}"),
        };
    }
    let mut store = Store::open(data).unwrap();
    let bytes = bundle.to_bytes().unwrap();
    store.put_bundle(&hash.to_string(), &bytes, t0).unwrap();
    let side = Side { deployed: vec![hash], ..Side::default() };
    core::put_state(&mut store, 0, &state, &side).unwrap();
    due
}

async fn timers(scratch: &Path, sizes: Sizes, table: &mut Table) {
    let dir = tempfile::tempdir_in(scratch).unwrap();
    let n = sizes.timers;
    let window = sizes.timer_window_s;
    // Time enough to build the state, store it and open the core before the first is due:
    // measured on a small state first.
    let pilot = {
        let d = tempfile::tempdir_in(scratch).unwrap();
        let bundle = compile(&d.path().join("project"), 3600);
        let started = Instant::now();
        let k = (n / 50).clamp(100, 20_000);
        let _ = seed(&d.path().join("data"), &bundle, k, jiff::Timestamp::now(), window, 3600);
        started.elapsed().as_secs_f64() * (n as f64 / k as f64)
    };
    let margin = (pilot * 3.0).ceil() as i64 + if n > 10_000 { 5 } else { 1 };
    let timeout_s = window + margin;
    let project = dir.path().join("project");
    let bundle = compile(&project, timeout_s);
    let start = jiff::Timestamp::now();
    let started = Instant::now();
    let due = seed(&dir.path().join("data"), &bundle, n, start, window, timeout_s);
    let built = started.elapsed();
    let opened = Instant::now();
    let core = Core::open(Store::open(&dir.path().join("data")).unwrap(), bundle, project, Tuning::default()).unwrap();
    let open_took = opened.elapsed();
    let first_due = start.as_millisecond() + margin * 1000;
    let ready = jiff::Timestamp::now().as_millisecond();
    println!(
        "    {n} contacts built and stored in {built:.1?}, the core opened them in {open_took:.1?}; \
         the first timer is due in {} ms, the last {window} s later",
        first_due - ready
    );
    let (handle, thread, _perform) = core.spawn().unwrap();
    // Each fired timer says "No answer." to its customer: when that row is on disk and
    // pushed to the sockets, the timer has fired.
    let mut feed = handle.feed.subscribe();
    let fired: Arc<Mutex<Vec<(u64, i64)>>> = Arc::new(Mutex::new(Vec::with_capacity(n)));
    let db = dir.path().join("data").join("switchboard.db");
    let got = fired.clone();
    let watcher = std::thread::spawn(move || {
        let mut last = 0i64;
        let mut lagged = 0u64;
        let deadline = Instant::now() + Duration::from_secs((timeout_s + 120) as u64);
        while got.lock().unwrap().len() < n && Instant::now() < deadline {
            match feed.blocking_recv() {
                Ok(p) => {
                    last = last.max(p.id);
                    if p.row.body.contains("No answer.") {
                        got.lock().unwrap().push((p.row.contact, jiff::Timestamp::now().as_millisecond()));
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(k)) => {
                    // As a chat socket does: what it missed, read from the store now.
                    lagged += k;
                    let now = jiff::Timestamp::now().as_millisecond();
                    let conn = rusqlite::Connection::open(&db).unwrap();
                    let mut stmt = conn
                        .prepare("SELECT id, contact FROM feed WHERE id > ?1 AND body LIKE '%No answer.%' ORDER BY id")
                        .unwrap();
                    let rows: Vec<(i64, i64)> =
                        stmt.query_map([last], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect();
                    let mut got = got.lock().unwrap();
                    for (id, contact) in rows {
                        last = last.max(id);
                        got.push((contact as u64, now));
                    }
                }
                Err(_) => break,
            }
        }
        lagged
    });
    let lagged = tokio::task::spawn_blocking(move || watcher.join().unwrap()).await.unwrap();
    let snapshots = handle.metrics.snapshots.load(Relaxed);
    handle.tell(Request::Stop);
    let _ = thread.join();
    let fired = std::mem::take(&mut *fired.lock().unwrap());
    let mut seen = std::collections::HashSet::with_capacity(fired.len());
    let mut late: Vec<Duration> = fired
        .iter()
        .filter(|(c, _)| seen.insert(*c))
        .filter_map(|(c, at)| due.get(c).map(|d| Duration::from_millis((at - d).max(0) as u64)))
        .collect();
    let count = late.len();
    let p99 = quantile(&mut late, 0.99);
    let p50 = quantile(&mut late, 0.5);
    let max = late.last().copied().unwrap_or_default();
    let ok = count == n && p99 <= Duration::from_secs(1);
    table.row(
        &format!("{n} pending timers (due over {window} s) firing late, p99"),
        format!(
            "{} (p50 {}, max {}; {count} fired, {snapshots} snapshots{})",
            ms(p99),
            ms(p50),
            ms(max),
            if lagged > 0 { format!(", {lagged} read back from the store") } else { String::new() }
        ),
        "-",
        "≤ 1 s",
        Some(ok),
    );
}

// ---------------------------------------------------------------------------------------
// Recovery after kill -9

async fn recover(scratch: &Path, sizes: Sizes, table: &mut Table) {
    let dir = tempfile::tempdir_in(scratch).unwrap();
    let project = dir.path().join("project");
    let data = dir.path().join("data");
    let n = sizes.recover_contacts;
    // Contacts in the menu, their timers an hour away: in flight when the daemon dies.
    let bundle = compile(&project, 3600);
    let _ = seed(&data, &bundle, n, jiff::Timestamp::now(), 60, 3600);
    // The daemon starts on them, more customers come and talk, then it is killed.
    let daemon = Server::daemon(&project, &data);
    closed_loop(&daemon.addr, Kind::Daemon, 8, if sizes.timers > 1000 { 2.0 } else { 0.2 }).await;
    drop(daemon); // SIGKILL
    let tail = {
        let conn = rusqlite::Connection::open(data.join("switchboard.db")).unwrap();
        conn.query_row("SELECT COUNT(*) FROM journal WHERE seq > (SELECT MAX(seq) FROM snapshots)", [], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap()
    };
    // What a restart does first, timed alone: the last snapshot and the journal after it.
    let started = Instant::now();
    let core = Core::open(Store::open(&data).unwrap(), bundle, project.clone(), Tuning::default()).unwrap();
    let open_took = started.elapsed();
    let (handle, thread, _perform) = core.spawn().unwrap();
    let contacts = handle.query(|state, _| json!(state.contacts_by_channel().iter().sum::<usize>())).await.unwrap();
    // Dropped without a snapshot would be the same as killed; stop it cleanly instead, and
    // kill the next one again.
    drop(handle);
    let _ = thread.join();
    let again = Server::daemon(&project, &data);
    closed_loop(&again.addr, Kind::Daemon, 8, 0.2).await;
    drop(again);
    let started = Instant::now();
    let back = Server::daemon(&project, &data);
    let serving = started.elapsed();
    drop(back);
    table.row(
        &format!("time to recover {n} in-flight contacts after kill -9"),
        format!(
            "{} to open the core ({tail} journal records replayed, {contacts} contacts), {} until serving",
            ms(open_took),
            ms(serving)
        ),
        "-",
        "≤ 5 s",
        Some(open_took.max(serving) <= Duration::from_secs(5)),
    );
}

// ---------------------------------------------------------------------------------------
// The wallboard at a thousand agents and ten thousand waiting

/// Two queues with targets, a flow into each that passes waypoints: what the wallboard
/// draws and counts.
const BOARD_PROJECT: &str = r#"
skills support, billing

queue support {
  skills support
  target chat 80% in 60s
}

queue billing {
  skills billing
  target chat 80% in 60s
}

flow support_in on chat {
  waypoint arrived
  waypoint support_chosen
  queue support
}

flow billing_in on chat {
  waypoint arrived
  queue billing
}

entry chat "support" -> support_in
entry chat "billing" -> billing_in
"#;

/// The project of the wallboard part, with `agents` in its roster (one password for all:
/// nobody logs in with it here, the agents are logged in in the state built).
fn write_board_project(dir: &Path, agents: usize) -> Arc<Bundle> {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("main.flow"), BOARD_PROJECT).unwrap();
    let hash = switchboard_daemon::config::hash_password("load-bench").unwrap();
    let mut toml = String::from("admin_token = \"load-bench-admin-token\"\nnew_chats_per_minute = 0\n");
    for i in 0..agents {
        toml.push_str(&format!(
            "[[agents]]\nid = \"a{i:04}\"\nname = \"Agent {i}\"\nskills = {{ support = 5, billing = 5 }}\n\
             capacity = {{ chat = 1, voice = 0, sms = 0, email = 0, social = 0 }}\npassword_hash = \"{hash}\"\n"
        ));
    }
    std::fs::write(dir.join("switchboard.toml"), toml).unwrap();
    Arc::new(switchboard_daemon::project::compile_dir(dir).expect("the project compiles"))
}

/// Steps the engine as the core would and keeps each step's events as the core keeps
/// them (one journal record's worth each, numbered from 1), for a store the daemon opens.
struct Seeder {
    world: World,
    state: State,
    out: Output,
    outputs: switchboard_daemon::store::Outputs,
    store: Store,
    seq: i64,
    events: usize,
}

impl Seeder {
    /// One step at `at_ms`; returns the offers it made: (offer, contact, agent).
    fn step(&mut self, at_ms: i64, input: Input) -> Vec<(u64, u64, String)> {
        self.seq += 1;
        self.out.clear();
        let at = jiff::Timestamp::from_millisecond(at_ms).unwrap();
        step_into(&mut self.state, &self.world, at, input, &mut self.out).unwrap();
        for (n, e) in self.out.events.iter().enumerate() {
            self.outputs.events.push(switchboard_daemon::store::EventRow {
                seq: self.seq,
                n: n as u32,
                session: e.session.0,
                contact: e.contact.map(|c| c.0),
                at_ms: e.at.as_millisecond(),
                kind: e.kind.word().to_string(),
                body: serde_json::to_string(e).unwrap(),
            });
        }
        self.events += self.out.events.len();
        if self.outputs.events.len() > 8192 {
            self.store.commit_outputs(&self.outputs).unwrap();
            self.outputs.clear();
        }
        self.out
            .commands
            .iter()
            .filter_map(|c| match &c.kind {
                switchboard_engine::CommandKind::Offer { offer, contact, agent, .. } => {
                    Some((offer.0, contact.map(|c| c.0).unwrap_or(0), agent.to_string()))
                }
                _ => None,
            })
            .collect()
    }
}

/// A store in `data` where `agents` agents logged in over the last ten minutes (today),
/// each took one chat, and `waiting` more chats came and wait; their events are in the
/// store as the core writes them. Returns how many events that is.
fn seed_board(data: &Path, bundle: &Arc<Bundle>, agents: usize, waiting: usize) -> usize {
    let now = jiff::Timestamp::now().as_millisecond();
    let zone = jiff::tz::TimeZone::system();
    let day_start = jiff::Timestamp::now().to_zoned(zone).start_of_day().unwrap().timestamp().as_millisecond();
    let t0 = (now - 600_000).max(day_start);
    let (world, state, hash) = engine(bundle, jiff::Timestamp::from_millisecond(t0).unwrap());
    let mut store = Store::open(data).unwrap();
    store.put_bundle(&hash.to_string(), &bundle.to_bytes().unwrap(), t0).unwrap();
    let mut s = Seeder { world, state, out: Output::default(), outputs: Default::default(), store, seq: 0, events: 0 };
    let mut side = Side { deployed: vec![hash], ..Side::default() };
    for i in 0..agents {
        let login = switchboard_engine::LogIn {
            view: switchboard_engine::AgentView {
                id: format!("a{i:04}"),
                name: format!("Agent {i}"),
                skills: vec!["support".into(), "billing".into()],
                languages: Vec::new(),
            },
            proficiency: vec![("support".into(), 5), ("billing".into(), 5)],
            // One chat and nothing else: each agent is busy with theirs.
            capacity: Channel::ALL.into_iter().map(|c| (c, u8::from(c == Channel::Chat))).collect(),
        };
        s.step(t0, Input::Agent(switchboard_engine::AgentAction::LogIn(Box::new(login))));
    }
    let total = agents + waiting;
    let span = (now - 1000 - t0).max(total as i64);
    for i in 0..total {
        let at = t0 + (i as i64 * span) / total as i64;
        let entry = if i % 2 == 0 { "support" } else { "billing" };
        let offers = s.step(at, Input::Arrive(arrival(entry, format!("visitor-{i:06}"))));
        for (offer, contact, agent) in offers {
            // Answered at once: every agent holds one chat.
            s.step(at, Input::Agent(switchboard_engine::AgentAction::Accept { offer: OfferId(offer) }));
            side.assigned.insert(contact, agent);
        }
    }
    s.store.commit_outputs(&s.outputs).unwrap();
    core::put_state(&mut s.store, s.seq, &s.state, &side).unwrap();
    s.events
}

/// One board as an SSE client got it: the board's own time (`at_ms`, when its making
/// began), when it arrived (ms, the same clock), and its size.
#[derive(Clone, Copy, Debug)]
struct Got {
    at_ms: f64,
    recv_ms: f64,
    bytes: usize,
}

fn wall_ms() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64() * 1e3
}

/// Watches `/wallboard/stream` for `secs` with the admin token; the first board (the one
/// made before connecting) is left out.
async fn watch_board(addr: &str, secs: f64) -> (Vec<Got>, Value) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.set_nodelay(true).unwrap();
    let request = format!(
        "GET /wallboard/stream HTTP/1.0\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\
         Authorization: Bearer load-bench-admin-token\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut lines = tokio::io::BufReader::with_capacity(1 << 20, tcp).lines();
    let until_t = tokio::time::Instant::now() + Duration::from_secs_f64(secs);
    let mut got = Vec::new();
    let mut first = true;
    let mut last = Value::Null;
    while let Ok(Ok(Some(line))) = tokio::time::timeout_at(until_t, lines.next_line()).await {
        let recv_ms = wall_ms();
        if let Some(data) = line.strip_prefix("data: ").or_else(|| line.strip_prefix("data:")) {
            let v: Value = serde_json::from_str(data).expect("a board is JSON");
            if std::mem::take(&mut first) {
                continue;
            }
            got.push(Got { at_ms: v["at_ms"].as_f64().unwrap(), recv_ms, bytes: data.len() });
            last = v;
        } else if line.starts_with("HTTP/") {
            assert!(line.contains(" 200"), "the stream is refused: {line}");
        }
    }
    (got, last)
}

/// New chats at `rate` a second into both queues while the board is watched; the
/// customers stay (their contacts wait). Returns how many came.
async fn keep_arriving(addr: String, rate: f64, secs: f64) -> usize {
    let started = Instant::now();
    let n = (rate * secs) as usize;
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let at = started + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await;
        let addr = addr.clone();
        tasks.push(tokio::spawn(async move {
            let mut s = connect(&addr).await;
            let entry = if i % 2 == 0 { "support" } else { "billing" };
            put(&mut s, json!({"type": "hello", "name": format!("new{i}"), "entry": entry})).await;
            until(&mut s, |m| m["type"] == "conversation").await;
            s
        }));
    }
    let mut sockets = Vec::with_capacity(n);
    for t in tasks {
        sockets.push(t.await.unwrap());
    }
    sockets.len()
}

/// Quantiles of a list of milliseconds: (p50, p95, p99, max).
fn spread(samples: &[f64]) -> (f64, f64, f64, f64) {
    let mut d: Vec<Duration> = samples.iter().map(|m| Duration::from_secs_f64(m.max(0.0) / 1e3)).collect();
    let q = |d: &mut [Duration], q: f64| quantile(d, q).as_secs_f64() * 1e3;
    (q(&mut d, 0.5), q(&mut d, 0.95), q(&mut d, 0.99), q(&mut d, 1.0))
}

fn spread_text(samples: &[f64]) -> String {
    let (p50, p95, p99, max) = spread(samples);
    format!("p50 {p50:.1} ms, p95 {p95:.1} ms, p99 {p99:.1} ms, max {max:.1} ms")
}

async fn wallboard(scratch: &Path, sizes: Sizes, table: &mut Table) {
    let (agents, waiting) = (sizes.board_agents, sizes.board_waiting);
    // The baseline: the same daemon and project, nobody logged in, nothing waiting.
    let empty = tempfile::tempdir_in(scratch).unwrap();
    write_board_project(&empty.path().join("project"), agents);
    let idle = Server::daemon(&empty.path().join("project"), &empty.path().join("data"));
    let (idle_got, _) = watch_board(&idle.addr, sizes.board_secs.min(10.0)).await;
    drop(idle);

    let dir = tempfile::tempdir_in(scratch).unwrap();
    let project = dir.path().join("project");
    let data = dir.path().join("data");
    let bundle = write_board_project(&project, agents);
    let started = Instant::now();
    let events = seed_board(&data, &bundle, agents, waiting);
    println!(
        "    {agents} agents, {} chats and {events} events built and stored in {:.1?}",
        agents + waiting,
        started.elapsed()
    );
    let daemon = Server::daemon(&project, &data);
    // Let the first board be made (it reads the whole day) before watching.
    let ready = Instant::now();
    while !daemon.get("/readyz").starts_with("ready") && ready.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_before = daemon.rss();
    let arriving = tokio::spawn(keep_arriving(daemon.addr.clone(), sizes.board_rate, sizes.board_secs));
    let (got, board) = watch_board(&daemon.addr, sizes.board_secs).await;
    let came = arriving.await.unwrap();
    // The board shows what was built: everyone busy, everyone waiting, every contact
    // through its first waypoint (and the new ones, as far as it has read them).
    let waiting_now: u64 = board["queues"].as_array().unwrap().iter().filter_map(|q| q["waiting_now"].as_u64()).sum();
    let through: u64 =
        board["funnels"].as_array().unwrap().iter().filter_map(|f| f["waypoints"].get(0)?["contacts"].as_u64()).sum();
    println!(
        "    the last board: {waiting_now} waiting, agents {}, {through} contacts through `arrived` today",
        board["agents"]
    );
    assert_eq!(board["agents"]["busy"].as_u64(), Some(agents as u64), "{}", board["agents"]);
    assert!(waiting_now as usize >= waiting, "{waiting_now} waiting");
    assert!(through as usize >= agents + waiting, "{through} through");
    let rss = daemon.rss();
    drop(daemon);

    let age = |g: &[Got]| g.iter().map(|g| g.recv_ms - g.at_ms).collect::<Vec<_>>();
    let gaps = |g: &[Got]| g.windows(2).map(|w| w[1].recv_ms - w[0].recv_ms).collect::<Vec<_>>();
    // The oldest the screen gets: just before the next board arrives, the last one's age.
    let oldest = |g: &[Got]| g.windows(2).map(|w| w[1].recv_ms - w[0].at_ms).fold(0.0, f64::max);
    let (ages, idle_ages) = (age(&got), age(&idle_got));
    let (_, _, _, max_age) = spread(&ages);
    let (_, _, _, max_gap) = spread(&gaps(&got));
    let bytes = got.last().map_or(0, |g| g.bytes);
    table.row(
        &format!(
            "wallboard age on arrival (now − its at_ms), {agents} agents busy, {} waiting, {} new chats/s ({} boards over {:.0} s)",
            waiting + came,
            sizes.board_rate,
            got.len(),
            sizes.board_secs
        ),
        spread_text(&ages),
        &format!("empty store: {}", spread_text(&idle_ages)),
        "≤ 1 s",
        Some(!got.is_empty() && max_age <= 1000.0),
    );
    table.row(
        "wallboard: time between boards; the oldest the screen gets (last board's age when the next arrives)",
        format!(
            "{}; oldest {:.0} ms; {} KiB a board, daemon RSS {:.0} → {:.0} MiB",
            spread_text(&gaps(&got)),
            oldest(&got),
            bytes / 1024,
            rss_before / 1048576.0,
            rss / 1048576.0
        ),
        &format!("empty store: max gap {:.0} ms, oldest {:.0} ms", spread(&gaps(&idle_got)).3, oldest(&idle_got)),
        "every 1 s",
        Some(max_gap <= 1500.0),
    );
}

// ---------------------------------------------------------------------------------------
// Offer latency in the agent desktop, in Chromium

/// A Python with `tests/python/requirements.txt` (Selenium, websockets): a virtual
/// environment in the scratch folder, made once per set of pins.
fn python_env(scratch: &Path, repo: &Path) -> Result<PathBuf, String> {
    let requirements = repo.join("tests/python/requirements.txt");
    let pins = std::fs::read(&requirements).map_err(|e| format!("{}: {e}", requirements.display()))?;
    let tag = pins.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3));
    let home = scratch.join(format!("venv-{tag:016x}"));
    let python = home.join("bin").join("python");
    if python.exists() {
        return Ok(python);
    }
    let making = home.with_extension(format!("making-{}", std::process::id()));
    let ok = |c: &mut Command| c.status().is_ok_and(|s| s.success());
    if !ok(Command::new("python3").args(["-m", "venv"]).arg(&making)) {
        return Err("python3 -m venv failed (Debian: python3-venv)".into());
    }
    let pip = Command::new(making.join("bin").join("python"))
        .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"])
        .arg(&requirements)
        .status();
    if !pip.is_ok_and(|s| s.success()) {
        let _ = std::fs::remove_dir_all(&making);
        return Err(format!("pip could not install {}", requirements.display()));
    }
    std::fs::rename(&making, &home).map_err(|e| e.to_string())?;
    Ok(python)
}

async fn offer_latency(scratch: &Path, sizes: Sizes, table: &mut Table) {
    let measure =
        format!("offer latency: ACD decision → offer in the desktop's DOM, Chromium ({} offers)", sizes.offers);
    if !(Path::new("/usr/bin/chromium").exists() && Path::new("/usr/bin/chromedriver").exists()) {
        println!("  (offer latency skipped: it needs Debian's chromium and chromium-driver)");
        table.row(&measure, "skipped: no chromium".into(), "-", "p99 ≤ 200 ms", None);
        return;
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = match python_env(scratch, &repo) {
        Ok(p) => p,
        Err(e) => {
            table.row(&measure, format!("skipped: {e}"), "-", "p99 ≤ 200 ms", None);
            return;
        }
    };
    let dir = tempfile::tempdir_in(scratch).unwrap();
    let project = dir.path().join("project");
    write_project(&project, 60);
    let hash = switchboard_daemon::config::hash_password("ann-pass").unwrap();
    let mut toml = std::fs::read_to_string(project.join("switchboard.toml")).unwrap();
    toml.push_str(&format!(
        "[[agents]]\nid = \"ann\"\nname = \"Ann\"\nskills = {{ support = 5 }}\ncapacity = {{ chat = 1 }}\npassword_hash = \"{hash}\"\n"
    ));
    std::fs::write(project.join("switchboard.toml"), toml).unwrap();
    let daemon = Server::daemon(&project, &dir.path().join("data"));
    let load_before = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let addr = daemon.addr.clone();
    let n = sizes.offers.to_string();
    let script = repo.join("tests/python/offer_latency.py");
    let out = tokio::task::spawn_blocking(move || {
        Command::new(python).arg(script).args([addr.as_str(), "ann", "ann-pass", n.as_str()]).output()
    })
    .await
    .unwrap()
    .expect("python runs");
    drop(daemon);
    let said = String::from_utf8_lossy(&out.stdout);
    let Some(v) = said.lines().rev().find_map(|l| serde_json::from_str::<Value>(l).ok()) else {
        panic!("the browser measurement failed:\n{said}{}", String::from_utf8_lossy(&out.stderr));
    };
    let offers = v["offers"].as_array().cloned().unwrap_or_default();
    let gap = |to: &str, from: &str| -> Vec<f64> {
        offers.iter().filter_map(|o| Some(o[to].as_f64()? - o[from].as_f64()?)).collect()
    };
    let dom = gap("dom_ms", "at_ms");
    let python_got = gap("python_ms", "at_ms");
    let socket = gap("socket_ms", "at_ms");
    let render = gap("dom_ms", "socket_ms");
    let frame = gap("frame_ms", "at_ms");
    let (_, _, p99, _) = spread(&dom);
    let (_, _, frame99, _) = spread(&frame);
    let _ = std::fs::write(scratch.join("offer-latency.json"), v.to_string());
    println!(
        "    (load average before: {}; each offer's times in {})",
        load_before.trim(),
        scratch.join("offer-latency.json").display()
    );
    table.row(
        &measure,
        spread_text(&dom),
        &format!("the same message to a Python websockets client: {}", spread_text(&python_got)),
        "p99 ≤ 200 ms",
        Some(offers.len() == sizes.offers && p99 <= 200.0),
    );
    table.row(
        "offer latency to the next animation frame after that (when Chromium paints it)",
        spread_text(&frame),
        "-",
        "p99 ≤ 200 ms",
        Some(offers.len() == sizes.offers && frame99 <= 200.0),
    );
    table.row(
        "  of which: decision → the page's WebSocket message; that message → the DOM",
        format!("{}; {}", spread_text(&socket), spread_text(&render)),
        "-",
        "-",
        None,
    );
}
