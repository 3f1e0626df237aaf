//! Look-ups over the network, end to end: `switchboard serve` with an `sql` source on a
//! real database (PostgreSQL, started by the test, where this machine has it; SQLite through
//! the same sqlx code otherwise) and an `http` source on a real HTTP server started by the
//! test, reached with the headers and credentials `switchboard.toml` gives. A source that
//! fails answers none with an event, and a slow one holds up no other contact.

mod serving;
mod support;
use serde_json::{json, Value};
use serving::*;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::*;

const PROJECT: &str = r#"
record Customer { id: text  name: text  email: email?  tier: Tier }
record Order { id: text  status: text }
enum Tier { standard, gold }

source crm: Customer {
  sql "SELECT id, name, email, tier FROM customers WHERE lower(email) = lower({key})"
  key email
  timeout 3s
}

source orders: Order {
  http "http://ORDERS/orders/{key}"
  key id
  timeout 700ms
}

flow chat_in on chat {
  let customer = lookup crm by contact.from
  if customer == none {
    say "Who are you?"
    end
  }
  say "Hello {customer.name}, you are {customer.tier}."
  let order = lookup orders by customer.id
  if order == none {
    say "No order found for {customer.name}."
    end
  }
  say "Order {order.id} is {order.status}."
}

entry chat "web" -> chat_in
"#;

/// What the order API was asked: the path, and the headers it got.
#[derive(Debug, Clone)]
struct Asked {
    path: String,
    api_key: Option<String>,
    authorization: Option<String>,
}

/// An order API on a free port: `c1` is shipped, `c2` fails with 500, `c3` answers after
/// 2 s (past the source's time-out), and a request without the key and the bearer token
/// gets 401.
fn order_api() -> (String, Arc<Mutex<Vec<Asked>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let asked = Arc::new(Mutex::new(Vec::new()));
    let log = asked.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let log = log.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let path = line.split(' ').nth(1).unwrap_or("").to_string();
                let (mut api_key, mut authorization) = (None, None);
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).unwrap_or(0) == 0 || header.trim().is_empty() {
                        break;
                    }
                    let (name, value) = header.split_once(':').unwrap_or((header.as_str(), ""));
                    match name.to_ascii_lowercase().as_str() {
                        "x-api-key" => api_key = Some(value.trim().to_string()),
                        "authorization" => authorization = Some(value.trim().to_string()),
                        _ => {}
                    }
                }
                let authorised =
                    api_key.as_deref() == Some("key-456") && authorization.as_deref() == Some("Bearer tok-123");
                log.lock().unwrap().push(Asked { path: path.clone(), api_key, authorization });
                let (status, body) = match path.as_str() {
                    _ if !authorised => ("401 Unauthorized", r#"{"error":"who are you?"}"#.to_string()),
                    "/orders/c1" => ("200 OK", json!({"id": "A-100", "status": "shipped"}).to_string()),
                    "/orders/c2" => ("500 Internal Server Error", "oops".to_string()),
                    "/orders/c3" => {
                        std::thread::sleep(Duration::from_secs(2));
                        ("200 OK", json!({"id": "A-300", "status": "late"}).to_string())
                    }
                    _ => ("404 Not Found", String::new()),
                };
                let mut stream = stream;
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    (addr, asked)
}

const CUSTOMERS: [(&str, &str, &str, &str); 4] = [
    ("c1", "Ann", "ann@example.org", "gold"),
    ("c2", "Bob", "bob@example.org", "standard"),
    ("c3", "Cat", "cat@example.org", "standard"),
    ("c4", "Dan", "Dan@Example.org", "gold"),
];

/// A PostgreSQL server of the test's own, killed when dropped.
struct Postgres {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `program` as the `postgres` user when this test runs as root (PostgreSQL will
/// not run as root), as ourselves otherwise.
fn pg_command(program: &str) -> Command {
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", program]);
        c
    } else {
        Command::new(program)
    }
}

/// A fresh PostgreSQL cluster holding the customers, or `None` where this machine has no
/// PostgreSQL to start.
fn postgres() -> Option<Postgres> {
    let initdb = pg_command("initdb").arg("--version").output().ok()?;
    if !initdb.status.success() {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let cluster = dir.path().join("cluster");
    std::fs::create_dir(&cluster).unwrap();
    // The postgres user must own its cluster.
    let _ = Command::new("chown").args(["-R", "postgres"]).arg(dir.path()).status();
    let _ = Command::new("chmod").arg("755").arg(dir.path()).status();
    let o = pg_command("initdb")
        .args(["-A", "trust", "-U", "sb", "-E", "UTF8", "--no-locale", "-D"])
        .arg(&cluster)
        .output()
        .unwrap();
    assert!(o.status.success(), "initdb: {}", String::from_utf8_lossy(&o.stderr));
    // Single-user mode loads the table: no client is needed.
    let mut sql = String::from(
        "CREATE TABLE customers (id text PRIMARY KEY, name text NOT NULL, email text, tier text NOT NULL, since date);\n",
    );
    for (id, name, email, tier) in CUSTOMERS {
        sql.push_str(&format!("INSERT INTO customers VALUES ('{id}', '{name}', '{email}', '{tier}', '2024-05-01');\n"));
    }
    let mut single = pg_command("postgres")
        .args(["--single", "-D"])
        .arg(&cluster)
        .arg("postgres")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    single.stdin.take().unwrap().write_all(sql.as_bytes()).unwrap();
    let o = single.wait_with_output().unwrap();
    assert!(o.status.success(), "postgres --single: {}", String::from_utf8_lossy(&o.stderr));
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = pg_command("postgres")
        .args(["-D"])
        .arg(&cluster)
        .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1", "-k"])
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "PostgreSQL did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(Postgres { child, url: format!("postgres://sb@127.0.0.1:{port}/postgres"), _dir: dir })
}

/// The same customers in an SQLite file, read through sqlx like any database.
fn sqlite(dir: &Path) -> String {
    let path = dir.join("crm.db");
    let db = rusqlite::Connection::open(&path).unwrap();
    db.execute_batch(
        "CREATE TABLE customers (id TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT, tier TEXT NOT NULL);",
    )
    .unwrap();
    for (id, name, email, tier) in CUSTOMERS {
        db.execute("INSERT INTO customers VALUES (?1, ?2, ?3, ?4)", [id, name, email, tier]).unwrap();
    }
    format!("sqlite://{}", path.display())
}

/// Says hello as `email` and reads the flow's lines until it stops talking (ends or
/// waits): every `message` text, in order.
async fn chat_as(addr: &str, email: &str) -> Vec<String> {
    let mut s = connect(addr, "/chat/ws", None).await.expect("the chat socket opens");
    put(&mut s, json!({"type": "hello", "email": email})).await;
    let mut said = Vec::new();
    loop {
        let m: Value = next(&mut s).await;
        match m["type"].as_str() {
            Some("message") => said.push(m["text"].as_str().unwrap().to_string()),
            Some("ended") => return said,
            _ => {}
        }
    }
}

fn lookup_events(data: &Path) -> Vec<String> {
    let db = rusqlite::Connection::open(data.join("switchboard.db")).unwrap();
    let mut q = db.prepare("SELECT body FROM events WHERE kind = 'lookup' ORDER BY seq, n").unwrap();
    q.query_map([], |r| r.get::<_, String>(0)).unwrap().map(Result::unwrap).collect()
}

#[test]
fn sql_sources_read_postgresql_and_sqlite_and_http_sources_send_their_credentials() {
    match postgres() {
        Some(pg) => look_ups_through(&pg.url),
        None => eprintln!("no PostgreSQL on this machine: the sql source is tried on SQLite only"),
    }
    let scratch_db = tempfile::tempdir().unwrap();
    look_ups_through(&sqlite(scratch_db.path()));
}

/// The project served with its customers in the database at `url`: found, not found, an
/// API that fails, and a slow API that holds up no other contact.
fn look_ups_through(url: &str) {
    let (orders, asked) = order_api();
    let toml = "new_chats_per_minute = 0\n\
         [sources.crm]\nurl_env = \"CRM_URL\"\nmax_connections = 2\n\
         [sources.orders]\nheaders_env = { \"X-Api-Key\" = \"ORDERS_KEY\" }\ntoken_env = \"ORDERS_TOKEN\"\n";
    let flow = PROJECT.replace("ORDERS", &orders);
    let dir = scratch(&[("main.flow", &flow), ("switchboard.toml", toml)]);
    let data = tempfile::tempdir().unwrap();
    let d = start_with_env(
        dir.path(),
        data.path(),
        &[("CRM_URL", url), ("ORDERS_KEY", "key-456"), ("ORDERS_TOKEN", "tok-123")],
    );
    rt().block_on(async {
        // Found in the database (the key bound, compared as the query says), then in the API.
        assert_eq!(chat_as(&d.addr, "ann@example.org").await, ["Hello Ann, you are gold.", "Order A-100 is shipped."]);
        assert_eq!(chat_as(&d.addr, "dan@example.org").await[0], "Hello Dan, you are gold.");
        // No row: none. A key that would be SQL if it were pasted into the query is only a key.
        assert_eq!(chat_as(&d.addr, "nobody@example.org").await, ["Who are you?"]);
        assert_eq!(chat_as(&d.addr, "x'or'1'='1@example.org").await, ["Who are you?"]);
        // The API fails: none, and the flow goes on.
        assert_eq!(
            chat_as(&d.addr, "bob@example.org").await,
            ["Hello Bob, you are standard.", "No order found for Bob."]
        );

        // Cat's order is slow; Ann, who comes after her, is not kept waiting behind her.
        let addr = d.addr.clone();
        let started = Instant::now();
        let cat = tokio::spawn(async move {
            let said = chat_as(&addr, "cat@example.org").await;
            (said, started.elapsed())
        });
        tokio::time::sleep(Duration::from_millis(150)).await;
        let ann = chat_as(&d.addr, "ann@example.org").await;
        let ann_took = started.elapsed();
        let (cat_said, cat_took) = cat.await.unwrap();
        assert_eq!(ann, ["Hello Ann, you are gold.", "Order A-100 is shipped."]);
        assert_eq!(cat_said, ["Hello Cat, you are standard.", "No order found for Cat."]);
        assert!(ann_took < cat_took, "Ann waited {ann_took:?}, behind Cat's {cat_took:?}");
        // The source's time-out (700 ms), not the API's 2 s, is what Cat waited.
        assert!(cat_took < Duration::from_millis(1900), "Cat waited {cat_took:?}");
    });

    // Every request carried the key and the token from the environment.
    let asked = asked.lock().unwrap().clone();
    let mut paths: Vec<&str> = asked.iter().map(|a| a.path.as_str()).collect();
    paths.sort();
    assert_eq!(paths, ["/orders/c1", "/orders/c1", "/orders/c2", "/orders/c3", "/orders/c4"], "{asked:?}");
    for a in &asked {
        assert_eq!(a.api_key.as_deref(), Some("key-456"), "{a:?}");
        assert_eq!(a.authorization.as_deref(), Some("Bearer tok-123"), "{a:?}");
    }
    // Failures are events that say what went wrong, and no secret is in them.
    let events = lookup_events(data.path());
    let failed: Vec<&String> = events.iter().filter(|e| e.contains("orders") && !e.contains("found")).collect();
    assert!(failed.iter().any(|e| e.contains("500")), "{events:#?}");
    assert!(failed.iter().any(|e| e.contains("700 ms") || e.contains("timed out")), "{events:#?}");
    for e in &events {
        assert!(!e.contains("tok-123") && !e.contains("key-456"), "a secret in an event: {e}");
    }
    drop(d);
}

#[test]
fn serve_refuses_source_settings_the_project_cannot_use() {
    let flow = PROJECT.replace("ORDERS", "127.0.0.1:9");
    for (toml, wanted) in [
        ("[sources.crn]\nurl = \"sqlite://x.db\"\n", "declares no source `crn`"),
        ("[sources.crm]\ntoken = \"t\"\n", "crm"),
        ("[sources.crm]\nurl_env = \"NOT_SET_ANYWHERE\"\n", "NOT_SET_ANYWHERE"),
    ] {
        let dir = scratch(&[("main.flow", &flow), ("switchboard.toml", toml)]);
        let data = tempfile::tempdir().unwrap();
        let o = Command::new(binary())
            .args(["serve", ".", "--listen", "127.0.0.1:0", "--data"])
            .arg(data.path())
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert_ne!(code(&o), 0, "{toml}");
        assert!(both(&o).contains(wanted), "{toml}: {}", both(&o));
    }
}
