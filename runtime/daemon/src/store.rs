//! The store: the journal of inputs, snapshots of the engine, the bundles deployed, and
//! what was delivered (the feed each customer and agent reads, and the events of every
//! contact).
//!
//! SQLite in WAL mode with `synchronous=FULL`: a transaction that returned is on disk.
//! WAL frames carry checksums, so a transaction torn by a crash mid-write is rolled back
//! when the file is opened again; on top of that every journal record carries its own
//! CRC-32, so a record damaged after it was written is found: the last one is dropped (the
//! input it held never took effect, since an input is applied only after its record is
//! committed), one in the middle stops the daemon rather than replaying around a hole.
//!
//! The core thread writes everything the engine made. Web handlers read with their own
//! connection ([`Reader`]); the one thing they write is a reviewer's scores ([`Reviews`]:
//! not an engine input, so not journaled), on a second connection. Every write transaction
//! on either is `BEGIN IMMEDIATE`: it takes SQLite's one write lock before it reads, waiting
//! out the other (`busy_timeout`, 5 s; a review holds the lock for well under a
//! millisecond), so neither can fail on upgrading a read to a write (`SQLITE_BUSY_SNAPSHOT`,
//! which no busy handler retries).

use rusqlite::{params, Connection, OptionalExtension};
use std::path::{Path, PathBuf};

/// Why the store could not do what was asked.
#[derive(Debug)]
pub enum StoreError {
    Sqlite(rusqlite::Error),
    /// A journal record in the middle of the journal fails its checksum.
    Corrupt {
        seq: i64,
    },
    Io(String),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Sqlite(e) => write!(f, "store: {e}"),
            StoreError::Corrupt { seq } => write!(
                f,
                "store: journal record {seq} fails its checksum and records follow it; refusing to replay around it"
            ),
            StoreError::Io(e) => write!(f, "store: {e}"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        StoreError::Sqlite(e)
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// One journal record: its sequence number, time (ms since the epoch) and body.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub seq: i64,
    pub at_ms: i64,
    pub body: Vec<u8>,
}

/// A row written to a feed: what one customer or agent sees.
#[derive(Clone, Debug, PartialEq)]
pub struct FeedRow {
    /// What makes it unique: a command id, or the client's id for a message it sent. A row
    /// written again with the same key is dropped, which is what makes redelivery safe.
    pub key: String,
    pub contact: u64,
    /// `customer` (the conversation) or `agent`.
    pub audience: &'static str,
    pub agent: Option<String>,
    pub at_ms: i64,
    pub body: String,
}

/// A feed row as stored, with its id (the cursor readers resume from).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct StoredFeed {
    pub id: i64,
    pub contact: u64,
    pub audience: String,
    pub agent: Option<String>,
    pub at_ms: i64,
    pub body: String,
}

/// An event of the transcript, keyed by the journal record that caused it.
#[derive(Clone, Debug, PartialEq)]
pub struct EventRow {
    pub seq: i64,
    pub n: u32,
    pub session: u64,
    /// The contact it concerns: the session's own, or the contact a script or survey
    /// session runs for (`None` for routing's own events and retry runs).
    pub contact: Option<u64>,
    pub at_ms: i64,
    pub kind: String,
    pub body: String,
}

/// An event as the store keeps it, read back: where it sits in the store (the journal
/// record that caused it and its number among that record's events) and the event itself.
/// In `(seq, n)` order, events are in the order they happened.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredEvent {
    pub seq: i64,
    pub n: u32,
    pub event: switchboard_engine::Event,
}

/// A deployed bundle as listed.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct BundleRow {
    pub hash: String,
    pub deployed_at_ms: i64,
    pub bytes: usize,
}

/// The writer: owned by the core thread.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS journal (seq INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, body BLOB NOT NULL, crc INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS snapshots (seq INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, body BLOB NOT NULL, crc INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS bundles (hash TEXT PRIMARY KEY, bytes BLOB NOT NULL, deployed_at_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS delivered (command TEXT PRIMARY KEY, at_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS feed (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, contact INTEGER NOT NULL,
  audience TEXT NOT NULL, agent TEXT, at_ms INTEGER NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS feed_contact ON feed (contact, id);
CREATE INDEX IF NOT EXISTS feed_agent ON feed (agent, id);
CREATE TABLE IF NOT EXISTS events (seq INTEGER NOT NULL, n INTEGER NOT NULL, session INTEGER NOT NULL, at_ms INTEGER NOT NULL,
  kind TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (seq, n));
CREATE INDEX IF NOT EXISTS events_session ON events (session);
CREATE TABLE IF NOT EXISTS conversations (token TEXT PRIMARY KEY, contact INTEGER NOT NULL, at_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS threads (contact INTEGER PRIMARY KEY, channel TEXT NOT NULL, address TEXT NOT NULL, via TEXT NOT NULL,
  subject TEXT NOT NULL, at_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sent (key TEXT PRIMARY KEY, provider_id TEXT NOT NULL, status TEXT NOT NULL, error TEXT,
  at_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS sent_provider_id ON sent (provider_id);
CREATE TABLE IF NOT EXISTS records (contact INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS records_customer ON records (json_extract(body, '$.customer'));
CREATE TABLE IF NOT EXISTS reviews (id INTEGER PRIMARY KEY AUTOINCREMENT, contact INTEGER NOT NULL, reviewer TEXT NOT NULL,
  scorecard TEXT NOT NULL, agent TEXT, at_ms INTEGER NOT NULL, score REAL NOT NULL, answers TEXT NOT NULL, note TEXT,
  UNIQUE (contact, reviewer, scorecard));
CREATE INDEX IF NOT EXISTS events_from ON events (json_extract(body, '$.kind.from')) WHERE kind = 'contact';
";

/// Added to a store made before the column was: which contact each event concerns.
const EVENTS_CONTACT: &str = "
ALTER TABLE events ADD COLUMN contact INTEGER;
";

fn crc(seq: i64, at_ms: i64, body: &[u8]) -> i64 {
    let mut h = crc32fast::Hasher::new();
    h.update(&seq.to_le_bytes());
    h.update(&at_ms.to_le_bytes());
    h.update(body);
    i64::from(h.finalize())
}

fn open_conn(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

impl Store {
    /// Opens (creating) the store in `dir`.
    pub fn open(dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Io(format!("cannot create `{}`: {e}", dir.display())))?;
        let path = dir.join("switchboard.db");
        let conn = open_conn(&path)?;
        // The writer looks keys up in the feed's index for every input: keep more of it in
        // memory than SQLite's default 2 MiB (pages are taken as used, up to 64 MiB).
        conn.pragma_update(None, "cache_size", -64 * 1024)?;
        conn.execute_batch(SCHEMA)?;
        let has_contact: bool =
            conn.query_row("SELECT COUNT(*) FROM pragma_table_info('events') WHERE name = 'contact'", [], |r| {
                r.get(0)
            })?;
        if !has_contact {
            conn.execute_batch(EVENTS_CONTACT)?;
        }
        conn.execute_batch("CREATE INDEX IF NOT EXISTS events_contact ON events (contact, seq, n);")?;
        Ok(Store { conn, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A copy of the store in `dir` as it stood at one moment, taken in one read
    /// transaction (`VACUUM INTO`): the daemon may go on writing, and nothing done to the
    /// copy reaches it. Refuses a `dir` that holds a store already.
    pub fn copy_of(from: &Path, dir: &Path) -> Result<Store> {
        let source = from.join("switchboard.db");
        if !source.is_file() {
            return Err(StoreError::Io(format!("`{}` holds no store (no switchboard.db)", from.display())));
        }
        let target = dir.join("switchboard.db");
        if target.exists() {
            return Err(StoreError::Io(format!("`{}` exists already", target.display())));
        }
        let conn = Connection::open_with_flags(&source, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let into = target.to_str().ok_or_else(|| StoreError::Io("the copy's path is not UTF-8".to_string()))?;
        conn.execute("VACUUM INTO ?1", [into])?;
        drop(conn);
        Store::open(dir)
    }

    /// Every whole snapshot (seq and body), oldest first.
    pub fn snapshots(&self) -> Result<Vec<(i64, Vec<u8>)>> {
        let mut stmt = self.conn.prepare("SELECT seq, at_ms, body, crc FROM snapshots ORDER BY seq")?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, Vec<u8>>(2)?, r.get::<_, i64>(3)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, at_ms, body, sum) = row?;
            if crc(seq, at_ms, &body) == sum {
                out.push((seq, body));
            }
        }
        Ok(out)
    }

    /// The event record `n` of journal record `seq` gave, as stored.
    pub fn event(&self, seq: i64, n: u32) -> Result<Option<EventRow>> {
        Ok(self
            .conn
            .query_row(
                "SELECT session, at_ms, kind, body, contact FROM events WHERE seq = ?1 AND n = ?2",
                params![seq, n],
                |r| {
                    Ok(EventRow {
                        seq,
                        n,
                        session: r.get::<_, i64>(0)? as u64,
                        contact: r.get::<_, Option<i64>>(4)?.map(|c| c as u64),
                        at_ms: r.get(1)?,
                        kind: r.get(2)?,
                        body: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }

    /// How many events the journal records after `seq` gave, as stored.
    pub fn events_after(&self, seq: i64) -> Result<u64> {
        Ok(self.conn.query_row("SELECT COUNT(*) FROM events WHERE seq > ?1", [seq], |r| r.get::<_, i64>(0))? as u64)
    }

    /// The feed row kept under `key`, as stored.
    pub fn feed_row(&self, key: &str) -> Result<Option<StoredFeed>> {
        Ok(self
            .conn
            .query_row("SELECT id, contact, audience, agent, at_ms, body FROM feed WHERE key = ?1", [key], |r| {
                Ok(StoredFeed {
                    id: r.get(0)?,
                    contact: r.get::<_, i64>(1)? as u64,
                    audience: r.get(2)?,
                    agent: r.get(3)?,
                    at_ms: r.get(4)?,
                    body: r.get(5)?,
                })
            })
            .optional()?)
    }

    /// A reader on the same file, for another thread.
    pub fn reader(&self) -> Result<Reader> {
        Ok(Reader { conn: open_conn(&self.path)? })
    }

    /// Appends records in one transaction (group commit): when this returns they are on
    /// disk. Returns the sequence number given to each.
    pub fn append(&mut self, records: &[(i64, Vec<u8>)]) -> Result<Vec<i64>> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut seqs = Vec::with_capacity(records.len());
        {
            let mut last: i64 = tx.query_row("SELECT COALESCE(MAX(seq), 0) FROM journal", [], |r| r.get(0))?;
            let floor: i64 = tx.query_row("SELECT COALESCE(MAX(seq), 0) FROM snapshots", [], |r| r.get(0))?;
            last = last.max(floor);
            let mut insert =
                tx.prepare_cached("INSERT INTO journal (seq, at_ms, body, crc) VALUES (?1, ?2, ?3, ?4)")?;
            for (at_ms, body) in records {
                last += 1;
                insert.execute(params![last, at_ms, body, crc(last, *at_ms, body)])?;
                seqs.push(last);
            }
        }
        tx.commit()?;
        Ok(seqs)
    }

    /// The newest whole snapshot (its seq and body), if any.
    pub fn snapshot(&self) -> Result<Option<(i64, Vec<u8>)>> {
        let mut stmt = self.conn.prepare("SELECT seq, at_ms, body, crc FROM snapshots ORDER BY seq DESC")?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, Vec<u8>>(2)?, r.get::<_, i64>(3)?))
        })?;
        for row in rows {
            let (seq, at_ms, body, sum) = row?;
            if crc(seq, at_ms, &body) == sum {
                return Ok(Some((seq, body)));
            }
            tracing::warn!(seq, "a snapshot fails its checksum; trying the one before it");
        }
        Ok(None)
    }

    /// The journal after `seq`, in order. A bad last record is dropped (and deleted); a bad
    /// record with others after it is an error.
    pub fn journal_after(&mut self, seq: i64) -> Result<Vec<Record>> {
        let mut out = Vec::new();
        {
            let mut stmt =
                self.conn.prepare("SELECT seq, at_ms, body, crc FROM journal WHERE seq > ?1 ORDER BY seq")?;
            let rows = stmt.query_map([seq], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, Vec<u8>>(2)?, r.get::<_, i64>(3)?))
            })?;
            for row in rows {
                out.push(row?);
            }
        }
        let mut records = Vec::with_capacity(out.len());
        let n = out.len();
        for (i, (seq, at_ms, body, sum)) in out.into_iter().enumerate() {
            if crc(seq, at_ms, &body) != sum {
                if i + 1 == n {
                    tracing::warn!(seq, "the last journal record is torn; dropping it");
                    self.conn.execute("DELETE FROM journal WHERE seq = ?1", [seq])?;
                    break;
                }
                return Err(StoreError::Corrupt { seq });
            }
            records.push(Record { seq, at_ms, body });
        }
        Ok(records)
    }

    /// Stores a snapshot taken after record `seq`, and prunes the journal and snapshots it
    /// makes unnecessary (the previous snapshot is kept as a fallback).
    pub fn put_snapshot(&mut self, seq: i64, at_ms: i64, body: &[u8]) -> Result<()> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT OR REPLACE INTO snapshots (seq, at_ms, body, crc) VALUES (?1, ?2, ?3, ?4)",
            params![seq, at_ms, body, crc(seq, at_ms, body)],
        )?;
        let previous: Option<i64> =
            tx.query_row("SELECT MAX(seq) FROM snapshots WHERE seq < ?1", [seq], |r| r.get(0)).optional()?.flatten();
        if let Some(previous) = previous {
            tx.execute("DELETE FROM snapshots WHERE seq < ?1", [previous])?;
            tx.execute("DELETE FROM journal WHERE seq <= ?1", [previous])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// How many journal records are kept.
    pub fn journal_len(&self) -> Result<i64> {
        Ok(self.conn.query_row("SELECT COUNT(*) FROM journal", [], |r| r.get(0))?)
    }

    pub fn put_bundle(&mut self, hash: &str, bytes: &[u8], at_ms: i64) -> Result<()> {
        self.conn.execute(
            "INSERT OR IGNORE INTO bundles (hash, bytes, deployed_at_ms) VALUES (?1, ?2, ?3)",
            params![hash, bytes, at_ms],
        )?;
        Ok(())
    }

    /// Every bundle ever deployed: hash and bytes, oldest first.
    pub fn bundles(&self) -> Result<Vec<(String, Vec<u8>)>> {
        let mut stmt = self.conn.prepare("SELECT hash, bytes FROM bundles ORDER BY deployed_at_ms, hash")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Writes what a batch of inputs gave, in one transaction: feed rows (dropped when
    /// their key is there already), events, conversations, and the commands delivered.
    pub fn commit_outputs(&mut self, out: &Outputs) -> Result<Vec<(FeedRow, i64)>> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut written = Vec::new();
        {
            let mut feed = tx.prepare_cached(
                "INSERT OR IGNORE INTO feed (key, contact, audience, agent, at_ms, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for row in &out.feed {
                let n =
                    feed.execute(params![row.key, row.contact as i64, row.audience, row.agent, row.at_ms, row.body])?;
                if n == 1 {
                    written.push((row.clone(), tx.last_insert_rowid()));
                }
            }
            let mut events = tx.prepare_cached(
                "INSERT OR IGNORE INTO events (seq, n, session, contact, at_ms, kind, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for e in &out.events {
                events.execute(params![
                    e.seq,
                    e.n,
                    e.session as i64,
                    e.contact.map(|c| c as i64),
                    e.at_ms,
                    e.kind,
                    e.body
                ])?;
            }
            let mut records =
                tx.prepare_cached("INSERT OR REPLACE INTO records (contact, at_ms, body) VALUES (?1, ?2, ?3)")?;
            for (contact, at_ms, body) in &out.records {
                records.execute(params![*contact as i64, at_ms, body])?;
            }
            let mut conv =
                tx.prepare_cached("INSERT OR IGNORE INTO conversations (token, contact, at_ms) VALUES (?1, ?2, ?3)")?;
            for (token, contact, at_ms) in &out.conversations {
                conv.execute(params![token, *contact as i64, at_ms])?;
            }
            let mut delivered =
                tx.prepare_cached("INSERT OR IGNORE INTO delivered (command, at_ms) VALUES (?1, ?2)")?;
            for (command, at_ms) in &out.delivered {
                delivered.execute(params![command, at_ms])?;
            }
            let mut threads = tx.prepare_cached(
                "INSERT OR IGNORE INTO threads (contact, channel, address, via, subject, at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for t in &out.threads {
                threads.execute(params![t.contact as i64, t.channel, t.address, t.via, t.subject, t.at_ms])?;
            }
            let mut sent = tx.prepare_cached(
                "INSERT INTO sent (key, provider_id, status, error, at_ms) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (key) DO UPDATE SET status = excluded.status, error = excluded.error, at_ms = excluded.at_ms,
                 provider_id = CASE WHEN excluded.provider_id = '' THEN sent.provider_id ELSE excluded.provider_id END",
            )?;
            for r in &out.sent {
                sent.execute(params![r.key, r.provider_id, r.status, r.error, r.at_ms])?;
            }
        }
        tx.commit()?;
        Ok(written)
    }

    pub fn is_delivered(&self, command: &str) -> Result<bool> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM delivered WHERE command = ?1", [command], |r| r.get::<_, i64>(0))?
            > 0)
    }

    pub fn feed_has(&self, key: &str) -> Result<bool> {
        // Asked for every message typed (on the core thread): prepared once.
        let mut stmt = self.conn.prepare_cached("SELECT COUNT(*) FROM feed WHERE key = ?1")?;
        Ok(stmt.query_row([key], |r| r.get::<_, i64>(0))? > 0)
    }
}

/// What one batch of inputs gave, to be written together.
#[derive(Debug, Default)]
pub struct Outputs {
    pub feed: Vec<FeedRow>,
    pub events: Vec<EventRow>,
    /// The record a contact's flow looked up last: (contact, at_ms, JSON).
    pub records: Vec<(u64, i64, String)>,
    pub conversations: Vec<(String, u64, i64)>,
    pub delivered: Vec<(String, i64)>,
    /// Messaging threads started: whom a contact's messages go to, and through what.
    pub threads: Vec<ThreadRow>,
    /// What providers said of messages sent.
    pub sent: Vec<SentRow>,
}

/// A contact on a messaging channel: its customer's `address` on `channel`, and `via`, the
/// number or address they wrote to (what replies are sent from).
#[derive(Clone, Debug, PartialEq)]
pub struct ThreadRow {
    pub contact: u64,
    /// The adapter: `sms`, `whatsapp`, `telegram`.
    pub channel: String,
    pub address: String,
    pub via: String,
    /// An email's subject (what replies are `Re:`).
    pub subject: String,
    pub at_ms: i64,
}

/// A provider's word on a message (a feed row's or a command's key): `accepted` with its
/// id, or a later status; a row here is never sent again.
#[derive(Clone, Debug, PartialEq)]
pub struct SentRow {
    pub key: String,
    pub provider_id: String,
    pub status: String,
    pub error: Option<String>,
    pub at_ms: i64,
}

impl Outputs {
    pub fn is_empty(&self) -> bool {
        self.feed.is_empty()
            && self.events.is_empty()
            && self.records.is_empty()
            && self.conversations.is_empty()
            && self.delivered.is_empty()
            && self.threads.is_empty()
            && self.sent.is_empty()
    }

    pub fn clear(&mut self) {
        self.feed.clear();
        self.events.clear();
        self.records.clear();
        self.conversations.clear();
        self.delivered.clear();
        self.threads.clear();
        self.sent.clear();
    }
}

/// A reviewer's scores for one contact on one scorecard.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Review {
    pub contact: u64,
    pub reviewer: String,
    pub scorecard: String,
    /// The agent who answered the contact (the last, after transfers).
    pub agent: Option<String>,
    pub at_ms: i64,
    /// Σ weight × answer ÷ Σ weight, out of 100.
    pub score: f64,
    /// Question → answer (0 to 1), as JSON.
    pub answers: serde_json::Value,
    pub note: Option<String>,
}

/// Why a review was not stored.
#[derive(Debug)]
pub enum ReviewRefused {
    /// This reviewer has scored this contact on this scorecard already.
    Already,
    Store(StoreError),
}

/// The web side's writer of reviews: its own connection, `BEGIN IMMEDIATE` (see the
/// module's note).
pub struct Reviews {
    conn: Connection,
}

impl std::fmt::Debug for Reviews {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reviews")
    }
}

impl Reviews {
    /// The writer of reviews for the store in `dir` (which [`Store::open`] has made).
    pub fn open(dir: &Path) -> Result<Reviews> {
        Ok(Reviews { conn: open_conn(&dir.join("switchboard.db"))? })
    }

    /// Stores `review` in one transaction; a second by the same reviewer on the same
    /// scorecard is refused (reviews are a record of what was said, not edited).
    pub fn put(&mut self, review: &Review) -> std::result::Result<(), ReviewRefused> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| ReviewRefused::Store(e.into()))?;
        let n = tx
            .execute(
                "INSERT OR IGNORE INTO reviews (contact, reviewer, scorecard, agent, at_ms, score, answers, note)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    review.contact as i64,
                    review.reviewer,
                    review.scorecard,
                    review.agent,
                    review.at_ms,
                    review.score,
                    review.answers.to_string(),
                    review.note
                ],
            )
            .map_err(|e| ReviewRefused::Store(e.into()))?;
        tx.commit().map_err(|e| ReviewRefused::Store(e.into()))?;
        if n == 0 {
            return Err(ReviewRefused::Already);
        }
        Ok(())
    }
}

/// An ended contact as the review list shows it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct EndedContact {
    pub contact: u64,
    pub channel: String,
    pub from: String,
    pub flow: String,
    pub started_ms: i64,
    pub ended_ms: Option<i64>,
    pub agent: Option<String>,
    pub outcome: Option<String>,
    /// How many reviews it has.
    pub reviews: u32,
}

/// Which ended contacts a reviewer lists: newest first, `limit` of them, with ids below
/// `before` (the last page's smallest, to page on), ended in `[from_ms, to_ms)`.
#[derive(Clone, Debug, PartialEq)]
pub struct EndedPage {
    pub limit: usize,
    pub before: Option<u64>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
}

/// One step of the agent's script path: a line the script showed (`script`), a hint
/// (`note`), or the agent's answer (`answer`).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PathStep {
    pub kind: &'static str,
    pub text: String,
    pub at_ms: i64,
}

/// An earlier contact of a customer, as the agent's desktop shows it.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct PastContact {
    pub contact: u64,
    pub channel: String,
    pub from: String,
    pub flow: String,
    pub started_ms: i64,
    pub ended_ms: Option<i64>,
    /// The waypoints its flow passed, in order.
    pub waypoints: Vec<String>,
    /// The agent's wrap-up disposition, or the flow's `outcome`.
    pub outcome: Option<String>,
    /// The agent who answered it (the last, after transfers).
    pub agent: Option<String>,
    pub transfers: u32,
    /// The customer's answers to its survey, in order.
    pub survey: Vec<String>,
    /// The agent's wrap-up note.
    pub note: Option<String>,
    pub transcript: Vec<PastLine>,
}

#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct PastLine {
    pub from: String,
    pub text: String,
    pub at_ms: i64,
}

/// A read-only view for web handlers.
pub struct Reader {
    conn: Connection,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reader")
    }
}

fn feed_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredFeed> {
    Ok(StoredFeed {
        id: r.get(0)?,
        contact: r.get::<_, i64>(1)? as u64,
        audience: r.get(2)?,
        agent: r.get(3)?,
        at_ms: r.get(4)?,
        body: r.get(5)?,
    })
}

/// A message for a customer on a messaging channel that no provider has taken yet.
#[derive(Clone, Debug, PartialEq)]
pub struct Unsent {
    pub id: i64,
    pub key: String,
    pub contact: u64,
    pub channel: String,
    pub address: String,
    pub via: String,
    pub text: String,
    /// When the customer last wrote on the contact.
    pub last_in_ms: Option<i64>,
    pub subject: String,
    /// The key of the customer's message it answers (an email's `In-Reply-To`).
    pub reply_to_key: Option<String>,
}

impl Reader {
    /// Messages for customers on messaging channels (from the flow or an agent) after feed
    /// row `after`, that no provider has taken: the outbox of those channels.
    pub fn unsent(&self, after: i64, limit: usize) -> Result<Vec<Unsent>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT f.id, f.key, f.contact, t.channel, t.address, t.via, json_extract(f.body, '$.text'),
               (SELECT MAX(c.at_ms) FROM feed c WHERE c.contact = f.contact AND c.audience = 'customer'
                  AND json_extract(c.body, '$.from') = 'customer'),
               t.subject,
               (SELECT c.key FROM feed c WHERE c.contact = f.contact AND c.id < f.id AND c.audience = 'customer'
                  AND json_extract(c.body, '$.from') = 'customer' ORDER BY c.id DESC LIMIT 1)
             FROM feed f JOIN threads t ON t.contact = f.contact
             WHERE f.id > ?1 AND f.audience = 'customer' AND t.channel != 'voice'
               AND json_extract(f.body, '$.type') = 'message' AND json_extract(f.body, '$.from') IN ('flow', 'agent')
               AND NOT EXISTS (SELECT 1 FROM sent s WHERE s.key = f.key)
             ORDER BY f.id LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![after, limit as i64], |r| {
            Ok(Unsent {
                id: r.get(0)?,
                key: r.get(1)?,
                contact: r.get::<_, i64>(2)? as u64,
                channel: r.get(3)?,
                address: r.get(4)?,
                via: r.get(5)?,
                text: r.get::<_, Option<String>>(6)?.unwrap_or_default(),
                last_in_ms: r.get(7)?,
                subject: r.get(8)?,
                reply_to_key: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The contact of the feed row keyed `key`.
    pub fn contact_of_key(&self, key: &str) -> Result<Option<u64>> {
        let mut stmt = self.conn.prepare_cached("SELECT contact FROM feed WHERE key = ?1")?;
        Ok(stmt.query_row([key], |r| r.get::<_, i64>(0)).optional()?.map(|c| c as u64))
    }

    /// The key of the message a provider knows as `provider_id`.
    pub fn sent_key(&self, provider_id: &str) -> Result<Option<String>> {
        let mut stmt = self.conn.prepare_cached("SELECT key FROM sent WHERE provider_id = ?1 AND provider_id != ''")?;
        Ok(stmt.query_row([provider_id], |r| r.get(0)).optional()?)
    }

    /// The newest feed row's id (0 when there is none).
    pub fn feed_end(&self) -> Result<i64> {
        Ok(self.conn.query_row("SELECT COALESCE(MAX(id), 0) FROM feed", [], |r| r.get(0))?)
    }

    /// A contact's messaging thread: (channel, address, via).
    pub fn thread(&self, contact: u64) -> Result<Option<(String, String, String)>> {
        let mut stmt = self.conn.prepare_cached("SELECT channel, address, via FROM threads WHERE contact = ?1")?;
        Ok(stmt.query_row([contact as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional()?)
    }

    /// What providers said of the message keyed `key`: (provider id, status, error).
    pub fn sent(&self, key: &str) -> Result<Option<(String, String, Option<String>)>> {
        let mut stmt = self.conn.prepare_cached("SELECT provider_id, status, error FROM sent WHERE key = ?1")?;
        Ok(stmt.query_row([key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional()?)
    }

    /// A reader on the store in `dir`, opened read-only (for `graph --data` and reports,
    /// beside a daemon that may be running).
    pub fn open(dir: &Path) -> Result<Reader> {
        let path = dir.join("switchboard.db");
        if !path.is_file() {
            return Err(StoreError::Io(format!("`{}` holds no store (no switchboard.db)", dir.display())));
        }
        let conn = Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(Reader { conn })
    }

    /// Where in the project each session's events came from, in the order they happened:
    /// `(session, file, span start)`, the file as the bundle's file table numbers it.
    pub fn event_origins(&self) -> Result<Vec<(u64, u32, u32)>> {
        let mut stmt = self.conn.prepare(
            "SELECT session, json_extract(body, '$.origin.file'), json_extract(body, '$.origin.span.start')
             FROM events WHERE json_extract(body, '$.origin.file') IS NOT NULL ORDER BY session, seq, n",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u32, r.get::<_, i64>(2)? as u32))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The customer's earlier contacts, newest first (at most `limit`): those whose `from`
    /// is `contact`'s or one of the key values (phone, email, handle) of the record its flow
    /// looked up, and those whose flow found the same customer (by the record's `id`).
    pub fn history(&self, contact: u64, limit: usize) -> Result<Vec<PastContact>> {
        let from: Option<String> = self
            .conn
            .query_row(
                "SELECT json_extract(body, '$.kind.from') FROM events WHERE session = ?1 AND kind = 'contact'",
                [contact as i64],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        let mine: Option<String> = self
            .conn
            .query_row("SELECT body FROM records WHERE contact = ?1", [contact as i64], |r| r.get(0))
            .optional()?;
        let mine: serde_json::Value = mine.and_then(|b| serde_json::from_str(&b).ok()).unwrap_or_default();
        let mut addresses: Vec<String> = from.into_iter().collect();
        for key in mine["keys"].as_array().into_iter().flatten().filter_map(|k| k.as_str()) {
            if !addresses.iter().any(|a| a == key) {
                addresses.push(key.to_string());
            }
        }
        let mut found = std::collections::BTreeSet::new();
        let mut by_from = self.conn.prepare_cached(
            "SELECT session FROM events WHERE kind = 'contact' AND json_extract(body, '$.kind.from') = ?1",
        )?;
        for address in &addresses {
            for c in by_from.query_map([address], |r| r.get::<_, i64>(0))? {
                found.insert(c? as u64);
            }
        }
        if let Some(customer) = mine["customer"].as_str() {
            let mut by_id =
                self.conn.prepare_cached("SELECT contact FROM records WHERE json_extract(body, '$.customer') = ?1")?;
            for c in by_id.query_map([customer], |r| r.get::<_, i64>(0))? {
                found.insert(c? as u64);
            }
        }
        found.remove(&contact);
        found.into_iter().rev().take(limit).map(|c| self.past_contact(c)).collect()
    }

    /// Contacts that have ended (as [`Reader::ended_contact`] says), a page of them newest
    /// first, with their agent, channel, outcome and how many reviews each has.
    pub fn ended_contacts(&self, page: &EndedPage) -> Result<Vec<EndedContact>> {
        // A contact ends once: its earliest end (or its agent's finish) is when.
        let mut stmt = self.conn.prepare_cached(
            "SELECT e.session, MIN(e.at_ms) AS ended FROM events e WHERE (e.kind IN ('end', 'hang_up')
               OR (e.kind = 'routing' AND json_extract(e.body, '$.kind.what') = 'finished'))
             AND e.session < ?2
             AND EXISTS (SELECT 1 FROM events c WHERE c.session = e.session AND c.kind = 'contact')
             GROUP BY e.session HAVING ended >= ?3 AND ended < ?4
             ORDER BY e.session DESC LIMIT ?1",
        )?;
        let before = page.before.map_or(i64::MAX, |b| b.min(i64::MAX as u64) as i64);
        let args = (page.limit as i64, before, page.from_ms.unwrap_or(i64::MIN), page.to_ms.unwrap_or(i64::MAX));
        let ids: Vec<u64> = stmt
            .query_map(args, |r| r.get::<_, i64>(0))?
            .map(|c| c.map(|c| c as u64))
            .collect::<rusqlite::Result<_>>()?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let mut p = self.past_contact(id)?;
            p.ended_ms = p.ended_ms.or(self.finished_at(id)?);
            let reviews = self.reviews_of(id)?.len() as u32;
            out.push(EndedContact {
                contact: id,
                channel: p.channel,
                from: p.from,
                flow: p.flow,
                started_ms: p.started_ms,
                ended_ms: p.ended_ms,
                agent: p.agent,
                outcome: p.outcome,
                reviews,
            });
        }
        Ok(out)
    }

    /// When the agent of `contact` last finished with it (a chat or an email ends there:
    /// its flow handed it to the queue and has nothing more to do).
    fn finished_at(&self, contact: u64) -> Result<Option<i64>> {
        Ok(self
            .conn
            .query_row(
                "SELECT MAX(at_ms) FROM events WHERE session = ?1 AND kind = 'routing'
                 AND json_extract(body, '$.kind.what') = 'finished'",
                [contact as i64],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    /// One contact as a reviewer sees it, if it has ended (its flow ended, the customer hung
    /// up, or its agent finished with it): its history entry (transcript,
    /// agent, outcome, note) and the agent's script path.
    pub fn ended_contact(&self, contact: u64) -> Result<Option<(PastContact, Vec<PathStep>)>> {
        let mut past = self.past_contact(contact)?;
        past.ended_ms = past.ended_ms.or(self.finished_at(contact)?);
        if past.started_ms == 0 && past.channel.is_empty() || past.ended_ms.is_none() {
            return Ok(None);
        }
        let mut path = Vec::new();
        let mut rows = self.conn.prepare_cached(
            "SELECT body, at_ms FROM feed WHERE contact = ?1 AND audience = 'agent'
             AND json_extract(body, '$.type') IN ('script', 'note') ORDER BY id",
        )?;
        let mut sessions = Vec::new();
        for row in rows.query_map([contact as i64], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
            let (body, at_ms) = row?;
            let body: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            let kind = if body["type"] == "note" { "note" } else { "script" };
            if let Some(s) = body["session"].as_i64() {
                sessions.push(s);
            }
            path.push(PathStep { kind, text: body["text"].as_str().unwrap_or_default().to_string(), at_ms });
        }
        sessions.sort_unstable();
        sessions.dedup();
        let mut inputs = self.conn.prepare_cached(
            "SELECT at_ms, json_extract(body, '$.kind.text') FROM events WHERE session = ?1 AND kind = 'input' ORDER BY seq, n",
        )?;
        for s in sessions {
            for row in inputs.query_map([s], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Option<String>>(1)?)))? {
                let (at_ms, text) = row?;
                path.push(PathStep { kind: "answer", text: text.unwrap_or_default(), at_ms });
            }
        }
        // By time; at the same millisecond an answer goes first, since the lines then shown
        // are what it led to, and the feed's order is kept for the rest.
        path.sort_by_key(|p| (p.at_ms, p.kind != "answer"));
        Ok(Some((past, path)))
    }

    /// The reviews of one contact, oldest first.
    pub fn reviews_of(&self, contact: u64) -> Result<Vec<Review>> {
        self.query_reviews("WHERE contact = ?1", [contact as i64])
    }

    /// Every review, oldest first; none when the store predates reviews.
    pub fn reviews(&self) -> Result<Vec<Review>> {
        let has: bool = self.conn.query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'reviews'",
            [],
            |r| r.get(0),
        )?;
        if !has {
            return Ok(Vec::new());
        }
        self.query_reviews("", [])
    }

    fn query_reviews<P: rusqlite::Params>(&self, filter: &str, params: P) -> Result<Vec<Review>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT contact, reviewer, scorecard, agent, at_ms, score, answers, note FROM reviews {filter} ORDER BY id"
        ))?;
        let rows = stmt.query_map(params, |r| {
            Ok(Review {
                contact: r.get::<_, i64>(0)? as u64,
                reviewer: r.get(1)?,
                scorecard: r.get(2)?,
                agent: r.get(3)?,
                at_ms: r.get(4)?,
                score: r.get(5)?,
                answers: serde_json::from_str(&r.get::<_, String>(6)?).unwrap_or_default(),
                note: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The queue a contact went to last.
    pub fn queue_of(&self, contact: u64) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT json_extract(body, '$.kind.queue') FROM events WHERE session = ?1 AND kind = 'queue'
                 ORDER BY seq DESC, n DESC LIMIT 1",
                [contact as i64],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    /// One contact as the history shows it.
    fn past_contact(&self, contact: u64) -> Result<PastContact> {
        let mut past = PastContact { contact, ..PastContact::default() };
        // The agent's script sessions (their inputs are the agent's answers, not a survey's).
        let mut scripts = self.conn.prepare_cached(
            "SELECT DISTINCT json_extract(body, '$.session') FROM feed WHERE contact = ?1 AND audience = 'agent'
             AND json_extract(body, '$.session') IS NOT NULL",
        )?;
        let scripts: Vec<u64> = scripts
            .query_map([contact as i64], |r| r.get::<_, i64>(0))?
            .map(|s| s.map(|s| s as u64))
            .collect::<rusqlite::Result<_>>()?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT session, at_ms, kind, body FROM events WHERE contact = ?1 OR (session = ?1 AND contact IS NULL) ORDER BY seq, n",
        )?;
        let rows = stmt.query_map([contact as i64], |r| {
            Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?))
        })?;
        for row in rows {
            let (session, at_ms, kind, body) = row?;
            let body: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            let field = |name: &str| body["kind"][name].as_str().map(str::to_string);
            match kind.as_str() {
                "contact" if session == contact => {
                    past.started_ms = at_ms;
                    past.channel = field("channel").unwrap_or_default();
                    past.from = field("from").unwrap_or_default();
                    past.flow = field("flow").unwrap_or_default();
                }
                "waypoint" if session == contact => past.waypoints.extend(field("name")),
                "outcome" => past.outcome = field("name").or(past.outcome.take()),
                "answered" => past.agent = field("agent").or(past.agent.take()),
                "transfer" if session == contact => past.transfers += 1,
                "end" | "hang_up" if session == contact => past.ended_ms = Some(at_ms),
                "input" if session != contact && !scripts.contains(&session) => past.survey.extend(field("text")),
                _ => {}
            }
        }
        let mut notes = self.conn.prepare_cached(
            "SELECT json_extract(body, '$.text') FROM feed WHERE contact = ?1 AND audience = 'agent'
             AND json_extract(body, '$.type') = 'wrap_note' ORDER BY id",
        )?;
        for note in notes.query_map([contact as i64], |r| r.get::<_, Option<String>>(0))? {
            past.note = note?.or(past.note.take());
        }
        let mut transcript = self
            .conn
            .prepare_cached("SELECT body, at_ms FROM feed WHERE contact = ?1 AND audience = 'customer' ORDER BY id")?;
        for row in transcript.query_map([contact as i64], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
            let (body, at_ms) = row?;
            let body: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            if let Some(text) = body["text"].as_str() {
                past.transcript.push(PastLine {
                    from: body["from"].as_str().unwrap_or("flow").to_string(),
                    text: text.to_string(),
                    at_ms,
                });
            }
        }
        Ok(past)
    }

    /// The contact a conversation token names.
    pub fn conversation(&self, token: &str) -> Result<Option<u64>> {
        Ok(self
            .conn
            .query_row("SELECT contact FROM conversations WHERE token = ?1", [token], |r| r.get::<_, i64>(0))
            .optional()?
            .map(|c| c as u64))
    }

    /// The conversation a customer sees, after `cursor`.
    pub fn customer_feed(&self, contact: u64, cursor: i64) -> Result<Vec<StoredFeed>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, contact, audience, agent, at_ms, body FROM feed WHERE contact = ?1 AND audience = 'customer' AND id > ?2 ORDER BY id",
        )?;
        let rows = stmt.query_map(params![contact as i64, cursor], feed_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Everything of `contact` an agent may see: the conversation and their own rows.
    pub fn agent_view(&self, contact: u64, agent: &str) -> Result<Vec<StoredFeed>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, contact, audience, agent, at_ms, body FROM feed WHERE contact = ?1 AND (audience = 'customer' OR agent = ?2) ORDER BY id",
        )?;
        let rows = stmt.query_map(params![contact as i64, agent], feed_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The rows for an agent after `cursor`.
    pub fn agent_feed(&self, agent: &str, cursor: i64) -> Result<Vec<StoredFeed>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, contact, audience, agent, at_ms, body FROM feed WHERE agent = ?1 AND audience = 'agent' AND id > ?2 ORDER BY id",
        )?;
        let rows = stmt.query_map(params![agent, cursor], feed_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn bundles(&self) -> Result<Vec<BundleRow>> {
        let mut stmt = self
            .conn
            .prepare("SELECT hash, deployed_at_ms, length(bytes) FROM bundles ORDER BY deployed_at_ms, hash")?;
        let rows = stmt.query_map([], |r| {
            Ok(BundleRow { hash: r.get(0)?, deployed_at_ms: r.get(1)?, bytes: r.get::<_, i64>(2)? as usize })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Events of `session`, oldest first, as (kind, JSON).
    pub fn events(&self, session: u64) -> Result<Vec<(String, String)>> {
        let mut stmt = self.conn.prepare_cached("SELECT kind, body FROM events WHERE session = ?1 ORDER BY seq, n")?;
        let rows = stmt.query_map([session as i64], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every event that happened at or after `from_ms` (all of them without it), in the
    /// order they happened, read back into the engine's [`switchboard_engine::Event`]. Also
    /// says how many rows could not be read (written by a newer Switchboard, say); they are
    /// left out.
    pub fn events_since(&self, from_ms: Option<i64>) -> Result<(Vec<StoredEvent>, u64)> {
        let mut stmt = self.conn.prepare("SELECT seq, n, body FROM events WHERE at_ms >= ?1 ORDER BY seq, n")?;
        let rows = stmt.query_map([from_ms.unwrap_or(i64::MIN)], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)? as u32, r.get::<_, String>(2)?))
        })?;
        let (mut events, mut unread) = (Vec::new(), 0);
        for row in rows {
            let (seq, n, body) = row?;
            match serde_json::from_str(&body) {
                Ok(event) => events.push(StoredEvent { seq, n, event }),
                Err(_) => unread += 1,
            }
        }
        Ok((events, unread))
    }

    /// The events of journal records after `seq` that happened at or after `from_ms`, in
    /// the order they happened (a record's events are written together, so reading up to a
    /// record never splits it). Rows this build cannot read are left out.
    pub fn events_after_seq(&self, seq: i64, from_ms: i64) -> Result<Vec<StoredEvent>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT seq, n, body FROM events WHERE seq > ?1 AND at_ms >= ?2 ORDER BY seq, n")?;
        let rows = stmt.query_map(params![seq, from_ms], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)? as u32, r.get::<_, String>(2)?))
        })?;
        let mut events = Vec::new();
        for row in rows {
            let (seq, n, body) = row?;
            if let Ok(event) = serde_json::from_str(&body) {
                events.push(StoredEvent { seq, n, event });
            }
        }
        Ok(events)
    }

    /// Every bundle deployed: hash and bytes, oldest first.
    pub fn bundle_bytes(&self) -> Result<Vec<(String, Vec<u8>)>> {
        let mut stmt = self.conn.prepare("SELECT hash, bytes FROM bundles ORDER BY deployed_at_ms, hash")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// How many feed rows carry `key`-like text (for tests and operators).
    pub fn feed_count(&self, contact: u64) -> Result<i64> {
        Ok(self.conn.query_row("SELECT COUNT(*) FROM feed WHERE contact = ?1", [contact as i64], |r| r.get(0))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appended_records_come_back_in_order_with_their_times() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let seqs = store.append(&[(10, b"a".to_vec()), (11, b"b".to_vec())]).unwrap();
        assert_eq!(seqs, vec![1, 2]);
        drop(store);
        let mut store = Store::open(dir.path()).unwrap();
        let got = store.journal_after(0).unwrap();
        assert_eq!(
            got.iter().map(|r| (r.seq, r.at_ms, r.body.clone())).collect::<Vec<_>>(),
            vec![(1, 10, b"a".to_vec()), (2, 11, b"b".to_vec())]
        );
        assert_eq!(store.journal_after(1).unwrap().len(), 1);
    }

    #[test]
    fn a_torn_last_record_is_dropped_and_the_journal_goes_on_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store.append(&[(1, b"whole".to_vec()), (2, b"torn".to_vec())]).unwrap();
        store.conn.execute("UPDATE journal SET body = x'746f' WHERE seq = 2", []).unwrap();
        let got = store.journal_after(0).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].body, b"whole");
        assert_eq!(store.append(&[(3, b"next".to_vec())]).unwrap(), vec![2]);
        assert_eq!(store.journal_after(0).unwrap().len(), 2);
    }

    #[test]
    fn a_bad_record_in_the_middle_stops_the_replay() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store.append(&[(1, b"a".to_vec()), (2, b"b".to_vec()), (3, b"c".to_vec())]).unwrap();
        store.conn.execute("UPDATE journal SET crc = crc + 1 WHERE seq = 2", []).unwrap();
        assert!(matches!(store.journal_after(0), Err(StoreError::Corrupt { seq: 2 })));
    }

    #[test]
    fn a_snapshot_prunes_the_journal_before_the_previous_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store.append(&[(1, b"a".to_vec()), (2, b"b".to_vec())]).unwrap();
        store.put_snapshot(2, 2, b"s2").unwrap();
        store.append(&[(3, b"c".to_vec()), (4, b"d".to_vec())]).unwrap();
        store.put_snapshot(4, 4, b"s4").unwrap();
        assert_eq!(store.snapshot().unwrap(), Some((4, b"s4".to_vec())));
        // The journal after the previous snapshot stays, as the fallback's tail.
        assert_eq!(store.journal_len().unwrap(), 2);
        // Sequence numbers never go back, even with the journal pruned.
        store.put_snapshot(4, 4, b"s4").unwrap();
        assert_eq!(store.append(&[(5, b"e".to_vec())]).unwrap(), vec![5]);
    }

    #[test]
    fn a_damaged_snapshot_falls_back_to_the_one_before() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store.put_snapshot(1, 1, b"one").unwrap();
        store.put_snapshot(2, 2, b"two").unwrap();
        store.conn.execute("UPDATE snapshots SET crc = crc + 1 WHERE seq = 2", []).unwrap();
        assert_eq!(store.snapshot().unwrap(), Some((1, b"one".to_vec())));
    }

    #[test]
    fn feed_rows_written_twice_are_kept_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let row =
            FeedRow { key: "s1-1".into(), contact: 1, audience: "customer", agent: None, at_ms: 0, body: "{}".into() };
        let out = Outputs { feed: vec![row.clone()], ..Outputs::default() };
        assert_eq!(store.commit_outputs(&out).unwrap().len(), 1);
        assert_eq!(store.commit_outputs(&out).unwrap().len(), 0);
        assert_eq!(store.reader().unwrap().customer_feed(1, 0).unwrap().len(), 1);
    }
}
