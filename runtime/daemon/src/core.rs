//! The core: one thread owns the engine's `State`, journals every input before applying it,
//! and writes what came out.
//!
//! ```text
//! requests ──► check (who may do this) ──► journal (one transaction per batch: group commit)
//!          ──► apply each, in order ──► outputs (feed rows, events, delivered marks: one transaction)
//!          ──► push to sockets, start look-ups, answer the requests
//! ```
//!
//! The engine is deterministic, so the last snapshot plus the journal after it give back the
//! exact state; [`Core::open`] does that with the same `apply` the live loop uses, so the
//! feed rows and events a crash kept from being written are written then (a row's key is
//! its command id: one already written is not written again). Commands that wait for an
//! answer (look-ups, sends, calls, payments) stay in the outbox until the engine has it;
//! after a restart they are performed again, with the same id.

use crate::connect::Connections;
use crate::store::{EventRow, FeedRow, Outputs, SentRow, Store, StoreError, ThreadRow};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;
use switchboard_bytecode::bytecode::{Bundle, Medium};
use switchboard_bytecode::types::Channel;
use switchboard_engine::{
    step_into, AgentAction, AgentId, Arrival, Audience, BundleHash, Command, CommandId, CommandKind, Completion,
    ContactId, EngineError, EventKind, Gather, Input, LogIn, LookupResult, OfferId, Output, Presence, Reply,
    RoutingEvent, SessionId, Started, State, World,
};
use switchboard_shell::local::{live_sources_with, Rows, SandboxExterns};
use switchboard_sources::{LiveSource, LookupOutcome};
use tokio::sync::{broadcast, oneshot};

/// What is journaled: an engine input, or something the daemon does around the engine that
/// must survive a crash the same way (a conversation opened, a message typed).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Entry {
    Engine(Input),
    /// A web chat opens: the token lets the customer come back to it.
    StartChat {
        token: String,
        arrival: Arrival,
    },
    /// The customer typed `text` (`key` makes a resend harmless).
    Customer {
        contact: ContactId,
        key: String,
        text: String,
    },
    /// The agent the contact is connected to wrote to the customer.
    AgentSays {
        agent: String,
        contact: ContactId,
        key: String,
        text: String,
    },
    /// Back to the bundle deployed before the current one.
    Rollback,
    /// The agent's wrap-up: the disposition, and a note kept with the contact.
    WrapUp {
        agent: String,
        contact: ContactId,
        outcome: String,
        note: String,
    },
    /// A message on a messaging channel (SMS, …) from an address with no open contact:
    /// it starts one, after ending `close` (the address's contact that went idle).
    StartThread {
        thread: String,
        key: String,
        arrival: Arrival,
        close: Option<ContactId>,
        /// The adapter (`sms`, `whatsapp`, `telegram`) and the customer's address on it.
        adapter: String,
        reply_to: String,
    },
    /// The customer's message on a thread that is open (`Customer`, and the thread's clock).
    ThreadMessage {
        thread: String,
        contact: ContactId,
        key: String,
        text: String,
    },
    /// What a provider said of a message sent (a status callback, or a refusal): kept as
    /// an event; an opt-out (`STOP`, error 21610) is remembered for the address.
    Delivery(Delivery),
    /// The customer asked for no more messages on `thread` (`STOP`), or for them again.
    OptOut {
        thread: String,
        out: bool,
    },
}

/// A provider's word on one message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// The feed row's or the command's key.
    pub key: String,
    /// `channel:address` of the recipient.
    pub thread: String,
    /// `sent`, `delivered`, `undelivered`, `failed`, `opted_out`, …
    pub status: String,
    pub error: Option<String>,
}

/// What the daemon knows besides the engine's state; snapshotted with it.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Side {
    /// Commands waiting for an answer: performed again after a restart while pending.
    pub outbox: BTreeMap<CommandId, Command>,
    /// Offers ringing: offer → (contact, agent).
    pub offers: BTreeMap<u64, (Option<u64>, String)>,
    /// Contacts connected to an agent.
    pub assigned: BTreeMap<u64, String>,
    /// Scripts running: session → (contact, agent).
    pub scripts: BTreeMap<u64, (u64, String)>,
    /// The record each contact's flow last looked up, as JSON.
    pub records: BTreeMap<u64, String>,
    /// The last record of each record type each contact's flow looked up: what its agent's
    /// `reply` templates are given (`with customer: Customer`).
    pub found: BTreeMap<u64, Vec<switchboard_bytecode::value::Record>>,
    /// Bundles in the order they became current (for rollback).
    pub deployed: Vec<BundleHash>,
    /// Contacts whose conversation has ended.
    pub ended: BTreeMap<u64, i64>,
    /// Messaging threads open: `channel:address` → (contact, when it last spoke).
    pub threads: BTreeMap<String, (u64, i64)>,
    /// The thread of each contact that has one.
    pub thread_of: BTreeMap<u64, String>,
    /// `channel:address`es that asked for no more messages.
    pub opted_out: std::collections::BTreeSet<String>,
}

impl Side {
    /// The open contact of `thread` at `now_ms`, if it has spoken within `idle_ms`; else
    /// the contact to close first (one that went quiet but has not ended).
    pub fn thread_contact(&self, thread: &str, now_ms: i64, idle_ms: i64) -> Result<u64, Option<u64>> {
        match self.threads.get(thread) {
            Some(&(contact, _)) if self.ended.contains_key(&contact) => Err(None),
            Some(&(contact, last)) if now_ms - last > idle_ms => Err(Some(contact)),
            Some(&(contact, _)) => Ok(contact),
            None => Err(None),
        }
    }

    fn close_thread(&mut self, contact: u64) {
        if let Some(thread) = self.thread_of.remove(&contact) {
            if self.threads.get(&thread).is_some_and(|(c, _)| *c == contact) {
                self.threads.remove(&thread);
            }
        }
    }
}

#[derive(Serialize, Deserialize)]
struct SnapshotBody {
    state: Vec<u8>,
    side: Side,
}

/// A row pushed to sockets once it is on disk.
#[derive(Clone, Debug)]
pub struct Pushed {
    pub id: i64,
    pub row: FeedRow,
}

/// Something shown and forgotten: typing indicators.
#[derive(Clone, Debug)]
pub struct Ephemeral {
    pub contact: u64,
    /// The agent connected to the contact, if any.
    pub agent: Option<String>,
    pub from_customer: bool,
    pub body: serde_json::Value,
}

/// Why a request was refused, with the HTTP status a server gives it.
#[derive(Clone, Debug, PartialEq)]
pub struct Refusal {
    pub status: u16,
    pub message: String,
}

impl Refusal {
    pub fn new(status: u16, message: impl Into<String>) -> Refusal {
        Refusal { status, message: message.into() }
    }
}

impl From<EngineError> for Refusal {
    fn from(e: EngineError) -> Refusal {
        use switchboard_engine::ErrorClass;
        let status = match e.class() {
            ErrorClass::NotFound => 404,
            ErrorClass::Conflict => 409,
            ErrorClass::Invalid => 400,
        };
        Refusal::new(status, e.to_string())
    }
}

pub type Answer = Result<serde_json::Value, Refusal>;

/// What an agent asks of the core (checked there: an agent acts only on what is theirs).
#[derive(Clone, Debug)]
pub enum AgentRequest {
    LogIn(LogIn),
    Presence(Presence),
    Accept { offer: u64 },
    Reject { offer: u64 },
    Message { contact: u64, key: String, text: String },
    Script { contact: u64, script: String },
    ScriptReply { session: u64, text: String },
    Finish { contact: u64 },
    Transfer { contact: u64, queue: String },
    Outcome { contact: u64, outcome: String, note: Option<String> },
    Typing { contact: u64 },
}

/// A read-only question for the core.
pub type QueryFn = Box<dyn FnOnce(&State, &Side, &World) -> serde_json::Value + Send>;

/// What the web side asks of the core.
pub enum Request {
    StartChat {
        token: String,
        arrival: Arrival,
    },
    Customer {
        contact: u64,
        key: String,
        text: String,
    },
    CustomerTyping {
        contact: u64,
    },
    /// A message on a messaging channel (SMS, WhatsApp, Telegram, email, social): it joins
    /// the open contact of its sender, or starts one. `key` (the provider's message id)
    /// makes a resend harmless.
    Inbound {
        arrival: Arrival,
        key: String,
        /// Silence after which the sender's next message starts a new contact.
        idle_ms: i64,
        /// The adapter it came through (`sms`, `whatsapp`, `telegram`), and where on it
        /// the answers go (the sender's number, a chat id).
        adapter: &'static str,
        reply_to: String,
        /// The contact it answers, when the channel says (an email's `In-Reply-To`).
        thread_to: Option<u64>,
    },
    /// A message went out through a provider, which took it (`provider_id`): it is not
    /// sent again. Not journaled: bookkeeping of the outbox, written with the outputs.
    Sent {
        key: String,
        provider_id: String,
    },
    /// A provider's status for a message (journaled, kept as an event).
    Delivery(Delivery),
    /// The customer hung up (a call's status callback said it was completed).
    HangUp {
        contact: u64,
    },
    Agent {
        agent: String,
        request: AgentRequest,
    },
    Deploy {
        bundle: Arc<Bundle>,
    },
    Rollback,
    /// Read-only questions, answered from the state as it is now.
    Query(QueryFn),
    /// A command's answer, from a look-up or an adapter.
    Completed {
        command: CommandId,
        result: Completion,
    },
    Stop,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Request::StartChat { .. } => "StartChat",
            Request::Customer { .. } => "Customer",
            Request::CustomerTyping { .. } => "CustomerTyping",
            Request::Inbound { .. } => "Inbound",
            Request::Sent { .. } => "Sent",
            Request::Delivery(_) => "Delivery",
            Request::HangUp { .. } => "HangUp",
            Request::Agent { .. } => "Agent",
            Request::Deploy { .. } => "Deploy",
            Request::Rollback => "Rollback",
            Request::Query(_) => "Query",
            Request::Completed { .. } => "Completed",
            Request::Stop => "Stop",
        })
    }
}

type Envelope = (Request, Option<oneshot::Sender<Answer>>);

/// How the core is tuned.
#[derive(Clone, Debug)]
pub struct Tuning {
    /// Take a snapshot after this many journal records…
    pub snapshot_every: u64,
    /// …or this long after the last one, when records came since.
    pub snapshot_interval: Duration,
    /// The most requests journaled in one transaction.
    pub batch: usize,
}

impl Default for Tuning {
    fn default() -> Tuning {
        Tuning { snapshot_every: 1000, snapshot_interval: Duration::from_secs(60), batch: 1024 }
    }
}

pub use crate::metrics::Metrics;

mod replay;
pub use replay::{check_replay, ReplayCheck};

/// Stores `state` and `side` as the store's newest snapshot, taken after journal record
/// `seq`, exactly as the core writes its own: [`Core::open`] starts from it. For tools and
/// benchmarks that build a large state with the engine directly (the engine is
/// deterministic, so a state it built is one the core could have reached); every bundle
/// the state names must be in the store already ([`Store::put_bundle`]).
pub fn put_state(store: &mut Store, seq: i64, state: &State, side: &Side) -> Result<(), String> {
    let body = SnapshotBody { state: state.to_bytes(), side: side.clone() };
    let bytes = postcard::to_allocvec(&body).map_err(|e| format!("cannot snapshot: {e}"))?;
    store.put_snapshot(seq, state.now().as_millisecond(), &bytes).map_err(store_err)
}

/// A handle to the core thread.
#[derive(Clone)]
pub struct CoreHandle {
    tx: mpsc::Sender<Envelope>,
    pub feed: broadcast::Sender<Arc<Pushed>>,
    pub ephemeral: broadcast::Sender<Arc<Ephemeral>>,
    pub metrics: Arc<Metrics>,
}

impl std::fmt::Debug for CoreHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CoreHandle")
    }
}

impl CoreHandle {
    /// Sends `request` and waits for its answer.
    pub async fn ask(&self, request: Request) -> Answer {
        let (tx, rx) = oneshot::channel();
        if self.tx.send((request, Some(tx))).is_err() {
            return Err(Refusal::new(503, "the daemon is shutting down"));
        }
        rx.await.unwrap_or_else(|_| Err(Refusal::new(503, "the daemon is shutting down")))
    }

    /// Sends `request` without waiting.
    pub fn tell(&self, request: Request) {
        let _ = self.tx.send((request, None));
    }

    pub async fn query<F>(&self, f: F) -> Answer
    where
        F: FnOnce(&State, &Side) -> serde_json::Value + Send + 'static,
    {
        self.ask(Request::Query(Box::new(move |state, side, _| f(state, side)))).await
    }

    /// Like [`CoreHandle::query`], with the deployed bundles too.
    pub async fn query_world<F>(&self, f: F) -> Answer
    where
        F: FnOnce(&State, &Side, &World) -> serde_json::Value + Send + 'static,
    {
        self.ask(Request::Query(Box::new(f))).await
    }
}

/// The core, before its thread starts.
pub struct Core {
    store: Store,
    state: State,
    world: World,
    side: Side,
    sources: BTreeMap<BundleHash, Arc<Vec<LiveSource>>>,
    /// How `http` and `sql` sources are reached (`[sources.NAME]`).
    connections: Arc<Connections>,
    project_root: PathBuf,
    last_seq: i64,
    since_snapshot: u64,
    last_snapshot: std::time::Instant,
    tuning: Tuning,
    /// Replaying: commands are recorded, not performed.
    live: bool,
    out: Output,
    outputs: Outputs,
    /// Events of the entry being applied, numbered from 0.
    event_n: u32,
    /// Rows on disk, to push to sockets.
    pushed: Vec<(i64, FeedRow)>,
    /// Commands to perform once the batch is on disk.
    to_perform: Vec<Command>,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core").field("last_seq", &self.last_seq).finish_non_exhaustive()
    }
}

fn now_ms() -> Timestamp {
    // Whole milliseconds: what is journaled is what is applied.
    Timestamp::from_millisecond(Timestamp::now().as_millisecond()).unwrap_or(Timestamp::UNIX_EPOCH)
}

pub fn hex(hash: &BundleHash) -> String {
    hash.to_string()
}

fn store_err(e: StoreError) -> String {
    e.to_string()
}

type Replies = Vec<(Option<oneshot::Sender<Answer>>, Answer)>;

impl Core {
    /// Opens the store, deploys the bundles it holds, restores the last snapshot and
    /// replays the journal after it. `bundle` is the project as it is on disk now: on a
    /// new store the engine starts on it.
    pub fn open(store: Store, bundle: Arc<Bundle>, project_root: PathBuf, tuning: Tuning) -> Result<Core, String> {
        Core::open_connected(store, bundle, project_root, tuning, Arc::new(Connections::none()))
    }

    /// Like [`Core::open`], with `http` and `sql` sources reached as `connections` say.
    /// `bundle` must pass [`Connections::check`]; the stored bundles need not (their
    /// unreachable sources fail their look-ups).
    pub fn open_connected(
        mut store: Store,
        bundle: Arc<Bundle>,
        project_root: PathBuf,
        tuning: Tuning,
        connections: Arc<Connections>,
    ) -> Result<Core, String> {
        let metrics = Arc::new(Metrics::default());
        let (mut world, mut sources) = stored_world(&store, &project_root, &connections)?;
        let now = now_ms();
        let (seq, state, side, fresh) = match store.snapshot().map_err(store_err)? {
            Some((seq, body)) => {
                let body: SnapshotBody = postcard::from_bytes(&body).map_err(|e| format!("snapshot {seq}: {e}"))?;
                (seq, State::from_bytes(&body.state)?, body.side, false)
            }
            None => {
                let hash = deploy_into(&mut world, &mut sources, &project_root, &connections, bundle.clone())?;
                store.put_bundle(&hex(&hash), &bundle.to_bytes()?, now.as_millisecond()).map_err(store_err)?;
                let state = State::new(&world, hash, now).map_err(String::from)?;
                (0, state, Side { deployed: vec![hash], ..Side::default() }, true)
            }
        };
        let mut core = Core {
            store,
            state,
            world,
            side,
            sources,
            connections,
            project_root,
            last_seq: seq,
            since_snapshot: 0,
            last_snapshot: std::time::Instant::now(),
            tuning,
            live: false,
            out: Output::default(),
            outputs: Outputs::default(),
            event_n: 0,
            pushed: Vec::new(),
            to_perform: Vec::new(),
            metrics,
        };
        if fresh {
            core.snapshot()?;
        }
        core.replay()?;
        core.live = true;
        Ok(core)
    }

    fn replay(&mut self) -> Result<(), String> {
        let records = self.store.journal_after(self.last_seq).map_err(store_err)?;
        let n = records.len();
        for record in records {
            let (at, entry): (Timestamp, Entry) =
                postcard::from_bytes(&record.body).map_err(|e| format!("journal record {}: {e}", record.seq))?;
            let _ = self.apply(record.seq, at, entry);
            self.last_seq = record.seq;
            self.since_snapshot += 1;
            if self.outputs.feed.len() + self.outputs.events.len() > 4096 {
                self.flush_outputs()?;
            }
        }
        self.flush_outputs()?;
        self.pushed.clear();
        self.metrics.replayed.store(n as u64, Relaxed);
        if n > 0 {
            tracing::info!(records = n, "replayed the journal after the last snapshot");
        }
        // What waits for an answer is performed again, with the same id.
        let pending: std::collections::BTreeSet<CommandId> = self.state.pending_commands().collect();
        self.side.outbox.retain(|id, _| pending.contains(id));
        self.to_perform.extend(self.side.outbox.values().cloned());
        Ok(())
    }

    /// The current bundle's hash.
    pub fn current(&self) -> BundleHash {
        self.state.current_bundle()
    }

    /// The sources of each deployed bundle, for the performer.
    pub fn sources(&self) -> BTreeMap<BundleHash, Arc<Vec<LiveSource>>> {
        self.sources.clone()
    }

    /// Makes `bundle` current, if it is not: stored, then journaled as a deploy.
    pub fn deploy(&mut self, bundle: Arc<Bundle>) -> Result<(BundleHash, bool), String> {
        let bytes = bundle.to_bytes()?;
        let hash = BundleHash::of(&bytes);
        if hash == self.current() {
            return Ok((hash, false));
        }
        self.connections.check(&bundle, false)?;
        deploy_into(&mut self.world, &mut self.sources, &self.project_root, &self.connections, bundle)?;
        self.store.put_bundle(&hex(&hash), &bytes, now_ms().as_millisecond()).map_err(store_err)?;
        let mut replies = Vec::new();
        self.commit(vec![(Entry::Engine(Input::Deploy { bundle: hash }), None)], &mut replies)?;
        match replies.pop() {
            Some((_, Err(e))) => Err(e.message),
            _ => Ok((hash, true)),
        }
    }

    /// Starts the core thread. Commands to perform come out of the receiver.
    pub fn spawn(
        mut self,
    ) -> Result<(CoreHandle, std::thread::JoinHandle<()>, tokio::sync::mpsc::UnboundedReceiver<Performed>), String>
    {
        let (tx, rx) = mpsc::channel::<Envelope>();
        let (feed, _) = broadcast::channel(4096);
        let (ephemeral, _) = broadcast::channel(1024);
        let (perform_tx, perform_rx) = tokio::sync::mpsc::unbounded_channel();
        let handle = CoreHandle { tx, feed: feed.clone(), ephemeral: ephemeral.clone(), metrics: self.metrics.clone() };
        let thread = std::thread::Builder::new()
            .name("switchboard-core".into())
            .spawn(move || self.run(rx, feed, ephemeral, perform_tx))
            .map_err(|e| format!("cannot start the core thread: {e}"))?;
        Ok((handle, thread, perform_rx))
    }

    fn run(
        &mut self,
        rx: mpsc::Receiver<Envelope>,
        feed: broadcast::Sender<Arc<Pushed>>,
        ephemeral: broadcast::Sender<Arc<Ephemeral>>,
        perform: tokio::sync::mpsc::UnboundedSender<Performed>,
    ) {
        let mut replies: Replies = Vec::new();
        loop {
            for command in self.to_perform.drain(..) {
                let sources = match &command.kind {
                    CommandKind::Lookup { bundle, .. } => Some(*bundle),
                    _ => self.state.session_bundle(command.id.session),
                };
                let sources = sources.and_then(|b| self.sources.get(&b).cloned());
                let opted_out = match &command.kind {
                    CommandKind::Send { medium, to, .. } => {
                        self.side.opted_out.contains(&thread_key(channel_name(medium_channel(*medium)), to.as_str()))
                    }
                    _ => false,
                };
                // A payment on a call is taken by the provider's own form on that call.
                let call = match &command.kind {
                    CommandKind::CapturePayment { contact, .. } => self
                        .side
                        .thread_of
                        .get(&contact.0)
                        .and_then(|t| t.strip_prefix("voice:"))
                        .map(|sid| (contact.0, sid.to_string())),
                    _ => None,
                };
                let _ = perform.send(Performed { command, sources, opted_out, call });
            }
            let wait = match self.state.next_due() {
                Some(due) => {
                    let ms = due.as_millisecond() - Timestamp::now().as_millisecond();
                    Duration::from_millis(ms.clamp(0, 1000) as u64)
                }
                None => Duration::from_secs(1),
            };
            let mut batch: Vec<Envelope> = Vec::new();
            match rx.recv_timeout(wait) {
                Ok(first) => batch.push(first),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let _ = self.snapshot();
                    return;
                }
            }
            while batch.len() < self.tuning.batch {
                match rx.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
            let mut stop = false;
            let mut entries = Vec::with_capacity(batch.len());
            for (request, reply) in batch {
                match request {
                    Request::Stop => stop = true,
                    Request::Query(f) => replies.push((reply, Ok(f(&self.state, &self.side, &self.world)))),
                    Request::Sent { key, provider_id } => {
                        let at_ms = now_ms().as_millisecond();
                        let status = "accepted".to_string();
                        self.outputs.sent.push(SentRow { key, provider_id, status, error: None, at_ms });
                        replies.push((reply, Ok(json!({}))));
                    }
                    Request::CustomerTyping { contact } => {
                        let agent = self.side.assigned.get(&contact).cloned();
                        let body =
                            json!({"type": "typing", "from": "customer", "contact": contact, "expires_ms": TYPING_MS});
                        let _ = ephemeral.send(Arc::new(Ephemeral { contact, agent, from_customer: true, body }));
                        replies.push((reply, Ok(json!({}))));
                    }
                    Request::Agent { agent, request: AgentRequest::Typing { contact } } => {
                        let answer = if self.side.assigned.get(&contact) == Some(&agent) {
                            let body =
                                json!({"type": "typing", "from": "agent", "contact": contact, "expires_ms": TYPING_MS});
                            let _ = ephemeral.send(Arc::new(Ephemeral {
                                contact,
                                agent: Some(agent),
                                from_customer: false,
                                body,
                            }));
                            Ok(json!({}))
                        } else {
                            Err(Refusal::new(403, format!("contact {contact} is not connected to you")))
                        };
                        replies.push((reply, answer));
                    }
                    Request::Deploy { bundle } => {
                        // Whatever came before it in the batch goes first.
                        if let Err(e) = self.commit(std::mem::take(&mut entries), &mut replies) {
                            return self.fail(e, replies);
                        }
                        let answer = self
                            .deploy(bundle)
                            .map(|(h, changed)| json!({"bundle": hex(&h), "changed": changed}))
                            .map_err(|e| Refusal::new(400, e));
                        replies.push((reply, answer));
                    }
                    other => match self.admit(other) {
                        Ok(Some(entry)) => entries.push((entry, reply)),
                        Ok(None) => replies.push((reply, Ok(json!({"duplicate": true})))),
                        Err(refusal) => {
                            self.metrics.refused.fetch_add(1, Relaxed);
                            replies.push((reply, Err(refusal)));
                        }
                    },
                }
            }
            if entries.is_empty() && self.state.next_due().is_some_and(|d| d <= now_ms()) {
                entries.push((Entry::Engine(Input::Tick), None));
            }
            if let Err(e) = self.commit(entries, &mut replies) {
                return self.fail(e, replies);
            }
            // Marks of messages sent, when nothing was journaled to carry them.
            if let Err(e) = self.flush_outputs() {
                return self.fail(e, replies);
            }
            for (id, row) in self.pushed.drain(..) {
                let _ = feed.send(Arc::new(Pushed { id, row }));
            }
            for (reply, answer) in replies.drain(..) {
                if let Some(reply) = reply {
                    let _ = reply.send(answer);
                }
            }
            if self.since_snapshot > 0
                && (self.since_snapshot >= self.tuning.snapshot_every
                    || self.last_snapshot.elapsed() >= self.tuning.snapshot_interval)
            {
                if let Err(e) = self.snapshot() {
                    tracing::warn!("snapshot failed: {e}");
                }
            }
            if stop {
                let _ = self.snapshot();
                return;
            }
        }
    }

    /// The store cannot be written: nothing more can be promised, so the core stops.
    fn fail(&mut self, e: String, replies: Replies) {
        tracing::error!("{e}; the core stops");
        for (reply, _) in replies {
            if let Some(reply) = reply {
                let _ = reply.send(Err(Refusal::new(503, "the store cannot be written")));
            }
        }
    }

    /// Journals `entries` in one transaction, then applies them in order and writes what
    /// they gave in a second one.
    fn commit(
        &mut self,
        entries: Vec<(Entry, Option<oneshot::Sender<Answer>>)>,
        replies: &mut Replies,
    ) -> Result<(), String> {
        if entries.is_empty() {
            return Ok(());
        }
        let now = now_ms().max(self.state.now());
        let mut bodies = Vec::with_capacity(entries.len());
        for (entry, _) in &entries {
            let body = postcard::to_allocvec(&(now, entry)).map_err(|e| format!("cannot journal an input: {e}"))?;
            bodies.push((now.as_millisecond(), body));
        }
        let started = std::time::Instant::now();
        let seqs = self.store.append(&bodies).map_err(store_err)?;
        self.metrics.commit.observe(started.elapsed());
        self.metrics.records.fetch_add(seqs.len() as u64, Relaxed);
        self.metrics.batches.fetch_add(1, Relaxed);
        for ((entry, reply), seq) in entries.into_iter().zip(seqs) {
            let started = std::time::Instant::now();
            let answer = self.apply(seq, now, entry);
            self.metrics.step.observe(started.elapsed());
            self.last_seq = seq;
            self.since_snapshot += 1;
            replies.push((reply, answer));
        }
        self.flush_outputs()
    }

    fn flush_outputs(&mut self) -> Result<(), String> {
        if self.outputs.is_empty() {
            return Ok(());
        }
        let written = self.store.commit_outputs(&self.outputs).map_err(store_err)?;
        self.outputs.clear();
        self.pushed.extend(written.into_iter().map(|(row, id)| (id, row)));
        Ok(())
    }

    /// Stores the state and the side after the last record applied.
    pub fn snapshot(&mut self) -> Result<(), String> {
        let body = SnapshotBody { state: self.state.to_bytes(), side: self.side.clone() };
        let bytes = postcard::to_allocvec(&body).map_err(|e| format!("cannot snapshot: {e}"))?;
        self.store.put_snapshot(self.last_seq, self.state.now().as_millisecond(), &bytes).map_err(store_err)?;
        self.since_snapshot = 0;
        self.last_snapshot = std::time::Instant::now();
        self.metrics.snapshots.fetch_add(1, Relaxed);
        Ok(())
    }

    /// Checks a request against who may do what, before anything is journaled. `None`:
    /// a duplicate, acknowledged and ignored.
    fn admit(&mut self, request: Request) -> Result<Option<Entry>, Refusal> {
        let mine = |side: &Side, contact: u64, agent: &str| {
            if side.assigned.get(&contact).map(String::as_str) == Some(agent) {
                Ok(())
            } else {
                Err(Refusal::new(403, format!("contact {contact} is not connected to you")))
            }
        };
        Ok(Some(match request {
            Request::StartChat { token, arrival } => Entry::StartChat { token, arrival },
            Request::Inbound { arrival, key, idle_ms, adapter, reply_to, thread_to } => {
                if self.store.feed_has(&key).unwrap_or(false) {
                    return Ok(None);
                }
                let answers = match self.world.get(&self.state.current_bundle()) {
                    Some(d) => d.answers(arrival.channel, arrival.to.as_deref()),
                    None => Err("no project is deployed".to_string()),
                };
                answers.map_err(|why| Refusal::new(404, why))?;
                let thread = thread_key(adapter, &reply_to);
                let text = arrival.text.to_string();
                let open = |c: &u64| !self.side.ended.contains_key(c) && self.state.contact(ContactId(*c)).is_some();
                if let Some(contact) = thread_to.filter(open) {
                    let thread = self.side.thread_of.get(&contact).cloned().unwrap_or(thread);
                    return Ok(Some(Entry::ThreadMessage { thread, contact: ContactId(contact), key, text }));
                }
                let start = |close: Option<u64>| Entry::StartThread {
                    thread: thread.clone(),
                    key: key.clone(),
                    arrival: arrival.clone(),
                    close: close.map(ContactId),
                    adapter: adapter.to_string(),
                    reply_to: reply_to.clone(),
                };
                if adapter == "email" {
                    // A mail that answers no open contact is a new one.
                    return Ok(Some(start(None)));
                }
                // `STOP` with no conversation open starts none: it is only remembered.
                match (self.side.thread_contact(&thread, now_ms().as_millisecond(), idle_ms), opt_out_word(&text)) {
                    (Ok(contact), _) => Entry::ThreadMessage { thread, contact: ContactId(contact), key, text },
                    (Err(_), Some(out)) => Entry::OptOut { thread, out },
                    (Err(close), None) => start(close),
                }
            }
            Request::Delivery(delivery) => Entry::Delivery(delivery),
            Request::HangUp { contact } => {
                if self.side.ended.contains_key(&contact) || self.state.contact(ContactId(contact)).is_none() {
                    return Ok(None);
                }
                Entry::Engine(Input::HangUp { contact: ContactId(contact) })
            }
            Request::Customer { contact, key, text } => {
                if self.store.feed_has(&key).unwrap_or(false) {
                    return Ok(None);
                }
                if self.side.ended.contains_key(&contact) {
                    return Err(Refusal::new(409, "this conversation has ended"));
                }
                if self
                    .side
                    .outbox
                    .values()
                    .any(|c| matches!(c.kind, CommandKind::CapturePayment { contact: p, .. } if p.0 == contact))
                {
                    // The secure form has the keypad: what is typed now is never kept.
                    return Err(Refusal::new(409, "a payment is being taken; typed text is not kept"));
                }
                Entry::Customer { contact: ContactId(contact), key, text }
            }
            Request::Completed { command, result } => {
                if !self.side.outbox.contains_key(&command) {
                    return Ok(None);
                }
                Entry::Engine(Input::Completed { command, result })
            }
            Request::Rollback => {
                if self.side.deployed.len() < 2 {
                    return Err(Refusal::new(409, "there is no earlier bundle to roll back to"));
                }
                Entry::Rollback
            }
            Request::Agent { agent, request } => match request {
                AgentRequest::LogIn(login) => {
                    if self.state.agent(&login.view.id).is_some() {
                        return Ok(None);
                    }
                    Entry::Engine(Input::Agent(AgentAction::LogIn(Box::new(login))))
                }
                AgentRequest::Presence(presence) => {
                    Entry::Engine(Input::Agent(AgentAction::Presence { agent: AgentId::new(agent), presence }))
                }
                AgentRequest::Accept { offer } | AgentRequest::Reject { offer }
                    if self.offer_of(offer) != Some(&agent) =>
                {
                    return Err(Refusal::new(403, format!("offer {offer} is not yours")));
                }
                AgentRequest::Accept { offer } => {
                    Entry::Engine(Input::Agent(AgentAction::Accept { offer: OfferId(offer) }))
                }
                AgentRequest::Reject { offer } => {
                    Entry::Engine(Input::Agent(AgentAction::Reject { offer: OfferId(offer) }))
                }
                AgentRequest::Message { contact, key, text } => {
                    mine(&self.side, contact, &agent)?;
                    if self.store.feed_has(&key).unwrap_or(false) {
                        return Ok(None);
                    }
                    Entry::AgentSays { agent, contact: ContactId(contact), key, text }
                }
                AgentRequest::Script { contact, script } => {
                    mine(&self.side, contact, &agent)?;
                    let view = self.state.agent(&agent).cloned().ok_or_else(|| Refusal::new(409, "log in first"))?;
                    Entry::Engine(Input::StartScript { contact: ContactId(contact), script, agent: Box::new(view) })
                }
                AgentRequest::ScriptReply { session, text } => {
                    match self.side.scripts.get(&session) {
                        None => return Err(Refusal::new(404, format!("there is no script session {session}"))),
                        Some((_, a)) if a.as_str() != agent.as_str() => {
                            return Err(Refusal::new(403, format!("script session {session} is not yours")))
                        }
                        Some(_) => {}
                    }
                    // A stale answer (the script has moved on or ended) is refused before
                    // it is journaled.
                    if !self.state.waits_for_input(SessionId(session)) {
                        let why = if self.state.is_live(SessionId(session)) { "asks nothing now" } else { "has ended" };
                        return Err(Refusal::new(409, format!("script session {session} {why}")));
                    }
                    Entry::Engine(Input::Agent(AgentAction::Script {
                        session: SessionId(session),
                        reply: Reply::Text(text),
                    }))
                }
                AgentRequest::Finish { contact } => {
                    mine(&self.side, contact, &agent)?;
                    Entry::Engine(Input::Agent(AgentAction::Finish { contact: ContactId(contact) }))
                }
                AgentRequest::Transfer { contact, queue } => {
                    mine(&self.side, contact, &agent)?;
                    Entry::Engine(Input::Agent(AgentAction::Transfer { contact: ContactId(contact), queue }))
                }
                AgentRequest::Outcome { contact, outcome, note } => {
                    mine(&self.side, contact, &agent)?;
                    match note.filter(|n| !n.trim().is_empty()) {
                        Some(note) => Entry::WrapUp { agent, contact: ContactId(contact), outcome, note },
                        None => {
                            Entry::Engine(Input::Agent(AgentAction::Outcome { contact: ContactId(contact), outcome }))
                        }
                    }
                }
                AgentRequest::Typing { .. } => return Ok(None),
            },
            Request::CustomerTyping { .. }
            | Request::Sent { .. }
            | Request::Deploy { .. }
            | Request::Query(_)
            | Request::Stop => return Ok(None),
        }))
    }

    fn offer_of(&self, offer: u64) -> Option<&String> {
        self.side.offers.get(&offer).map(|(_, a)| a)
    }

    /// Applies one journaled entry: the same on the live path and in replay.
    fn apply(&mut self, seq: i64, at: Timestamp, entry: Entry) -> Answer {
        self.event_n = 0;
        match entry {
            Entry::Engine(input) => self.step(seq, at, input).map(started_json).map_err(Refusal::from),
            Entry::StartChat { token, arrival } => match self.step(seq, at, Input::Arrive(arrival)) {
                Ok(Some(Started::Contact(contact))) => {
                    self.outputs.conversations.push((token.clone(), contact.0, at.as_millisecond()));
                    Ok(json!({"contact": contact.0, "token": token}))
                }
                Ok(_) => Err(Refusal::new(404, "no entry answers this chat")),
                Err(e) => Err(e.into()),
            },
            Entry::Customer { contact, key, text } => {
                let agent = self.side.assigned.get(&contact.0).cloned();
                let body = json!({"type": "message", "from": "customer", "text": text});
                self.feed(key, contact.0, "customer", agent, at, body);
                // The flow's menu or ask, or once the contact is over its survey; text
                // nothing waits for is counted by the engine and dropped.
                let session = self.state.customer_session(contact).unwrap_or(contact.session());
                if self.state.is_live(session) {
                    let _ = self.step(seq, at, Input::Reply { session, reply: Reply::Text(text) });
                }
                Ok(json!({}))
            }
            Entry::AgentSays { agent, contact, key, text } => {
                let name = self.state.agent(&agent).map(|a| a.name.clone()).unwrap_or_else(|| agent.clone());
                let body = json!({"type": "message", "from": "agent", "agent": agent, "name": name, "text": text});
                self.feed(key, contact.0, "customer", Some(agent), at, body);
                Ok(json!({}))
            }
            Entry::WrapUp { agent, contact, outcome, note } => {
                let name = outcome.clone();
                let answer = self
                    .step(seq, at, Input::Agent(AgentAction::Outcome { contact, outcome }))
                    .map(started_json)
                    .map_err(Refusal::from)?;
                let body = json!({"type": "wrap_note", "contact": contact.0, "outcome": name, "text": note});
                self.feed(format!("note-{seq}"), contact.0, "agent", Some(agent), at, body);
                Ok(answer)
            }
            Entry::StartThread { thread, key, arrival, close, adapter, reply_to } => {
                if let Some(old) = close {
                    // Gone quiet: that conversation is over, as if the customer had left.
                    let _ = self.step(seq, at, Input::HangUp { contact: old });
                    self.side.close_thread(old.0);
                }
                let text = arrival.text.to_string();
                let via = arrival.to.as_deref().unwrap_or_default().to_string();
                let subject = arrival.subject.to_string();
                match self.step(seq, at, Input::Arrive(arrival)) {
                    Ok(Some(Started::Contact(contact))) => {
                        let c = contact.0;
                        self.side.threads.insert(thread.clone(), (c, at.as_millisecond()));
                        self.side.thread_of.insert(c, thread);
                        self.outputs.threads.push(ThreadRow {
                            contact: c,
                            channel: adapter,
                            address: reply_to,
                            via,
                            subject,
                            at_ms: at.as_millisecond(),
                        });
                        let agent = self.side.assigned.get(&c).cloned();
                        let body = json!({"type": "message", "from": "customer", "text": text});
                        self.feed(key, c, "customer", agent, at, body);
                        Ok(json!({"contact": c, "new": true}))
                    }
                    Ok(_) => Err(Refusal::new(404, "no entry answers this message")),
                    Err(e) => Err(e.into()),
                }
            }
            Entry::ThreadMessage { thread, contact, key, text } => {
                if let Some(out) = opt_out_word(&text) {
                    self.opt(&thread, out);
                }
                if let Some(t) = self.side.threads.get_mut(&thread) {
                    t.1 = at.as_millisecond();
                }
                self.apply(seq, at, Entry::Customer { contact, key, text })?;
                Ok(json!({"contact": contact.0, "new": false}))
            }
            Entry::OptOut { thread, out } => {
                self.opt(&thread, out);
                Ok(json!({"opted_out": out}))
            }
            Entry::Delivery(delivery) => {
                if delivery.status == "opted_out" {
                    self.opt(&delivery.thread, true);
                }
                self.outputs.sent.push(SentRow {
                    key: delivery.key,
                    provider_id: String::new(),
                    status: delivery.status,
                    error: delivery.error,
                    at_ms: at.as_millisecond(),
                });
                Ok(json!({}))
            }
            Entry::Rollback => {
                if self.side.deployed.len() < 2 {
                    return Err(Refusal::new(409, "there is no earlier bundle to roll back to"));
                }
                let current = self.side.deployed.pop();
                let target = self.side.deployed[self.side.deployed.len() - 1];
                match self.step(seq, at, Input::Deploy { bundle: target }) {
                    Ok(_) => Ok(json!({"bundle": hex(&target)})),
                    Err(e) => {
                        self.side.deployed.extend(current);
                        Err(e.into())
                    }
                }
            }
        }
    }

    /// One engine step, and what the daemon keeps of it.
    fn step(&mut self, seq: i64, at: Timestamp, input: Input) -> Result<Option<Started>, EngineError> {
        self.out.clear();
        let observed = Observed::of(&input);
        let paid = match &input {
            Input::Completed { command, result: Completion::PaymentCaptured } => Some((*command, "captured")),
            Input::Completed { command, result: Completion::PaymentDeclined } => Some((*command, "declined")),
            _ => None,
        };
        if let Some((command, status)) = paid {
            if let Some(CommandKind::CapturePayment { contact, amount }) =
                self.side.outbox.get(&command).map(|c| &c.kind)
            {
                let (contact, amount) = (contact.0, amount.to_string());
                let agent = self.side.assigned.get(&contact).cloned();
                let body = json!({"type": "payment", "contact": contact, "status": status, "amount": amount});
                self.feed(format!("paid-{command}"), contact, "agent", agent, at, body);
            }
        }
        let result = step_into(&mut self.state, &self.world, at, input, &mut self.out);
        let completed = match &observed {
            Observed::Completed(c) | Observed::Found(c, ..) => Some(*c),
            _ => None,
        };
        // What the input did first (an accepted offer becomes an assignment), then what
        // the step's events say (offers that rang out), then its commands (new offers).
        if result.is_ok() {
            self.observe(observed);
        }
        let events = std::mem::take(&mut self.out.events);
        for event in &events {
            self.event(seq, event);
        }
        self.out.events = events;
        let commands = std::mem::take(&mut self.out.commands);
        for command in &commands {
            self.route(at, command);
        }
        self.out.commands = commands;
        if let Some(command) = completed {
            if !self.state.pending_commands().any(|c| c == command) {
                self.side.outbox.remove(&command);
            }
        }
        result.map(|()| self.out.started)
    }

    fn observe(&mut self, observed: Observed) {
        match observed {
            Observed::Deploy(hash) => {
                if self.side.deployed.last() != Some(&hash) {
                    self.side.deployed.push(hash);
                }
            }
            Observed::Accept(offer) => {
                if let Some((Some(contact), agent)) = self.side.offers.remove(&offer) {
                    self.side.assigned.insert(contact, agent);
                }
            }
            Observed::Reject(offer) => {
                self.side.offers.remove(&offer);
            }
            Observed::Script(contact, agent) => {
                if let Some(Started::Session(s)) = self.out.started {
                    self.side.scripts.insert(s.0, (contact, agent));
                }
            }
            Observed::Outcome(contact) => {
                self.side.assigned.remove(&contact);
            }
            Observed::Found(command, json, found) => {
                // The record a contact's own flow found is kept with the contact, for the
                // agent's view of the customer's history: by its `id` and its key values.
                if let Some(contact) = self.state.contact(ContactId(command.session.0)).map(|v| v.id) {
                    let record: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
                    let keys: Vec<String> = self
                        .side
                        .outbox
                        .get(&command)
                        .and_then(|c| match &c.kind {
                            CommandKind::Lookup { bundle, source, .. } => self.world.get(bundle).and_then(|d| {
                                d.bundle().sources.get(source.index()).map(|info| {
                                    info.keys
                                        .iter()
                                        .filter_map(|k| record.get(k).and_then(serde_json::Value::as_str))
                                        .map(str::to_string)
                                        .collect()
                                })
                            }),
                            _ => None,
                        })
                        .unwrap_or_default();
                    let customer = record.get("id").and_then(serde_json::Value::as_str).map(str::to_string);
                    let body = json!({"record": record, "keys": keys, "customer": customer}).to_string();
                    self.outputs.records.push((contact.0, self.state.now().as_millisecond(), body));
                }
                self.side.records.insert(command.session.0, json);
                let kept = self.side.found.entry(command.session.0).or_default();
                kept.retain(|r| r.type_name != found.type_name);
                kept.push(found);
            }
            Observed::Completed(_) | Observed::Other => {}
        }
    }

    /// Keeps an event: in the store, and in what the daemon knows (an offer that rang out
    /// is taken off the agent's screen; a contact that ended closes its conversation).
    fn event(&mut self, seq: i64, event: &switchboard_engine::Event) {
        let body = serde_json::to_string(event).unwrap_or_default();
        self.outputs.events.push(EventRow {
            seq,
            n: self.event_n,
            session: event.session.0,
            contact: event.contact.map(|c| c.0),
            at_ms: event.at.as_millisecond(),
            kind: event.kind.word().to_string(),
            body,
        });
        self.event_n += 1;
        match &event.kind {
            EventKind::Routing(RoutingEvent::Missed { agent } | RoutingEvent::Withdrawn { agent }) => {
                // Routing names the agent; the offers of theirs no longer ringing are gone.
                let ringing: std::collections::BTreeSet<u64> = self.state.ringing().map(|(o, _, _)| o.0).collect();
                let gone: Vec<(u64, Option<u64>)> = self
                    .side
                    .offers
                    .iter()
                    .filter(|(o, (_, a))| a.as_str() == agent.as_str() && !ringing.contains(o))
                    .map(|(o, (c, _))| (*o, *c))
                    .collect();
                for (offer, contact) in gone {
                    self.side.offers.remove(&offer);
                    let why = event.kind.to_string();
                    let body = json!({"type": "offer_gone", "offer": offer, "contact": contact, "why": why});
                    let key = format!("gone-{seq}-{}-{offer}", self.event_n);
                    self.feed(key, contact.unwrap_or(0), "agent", Some(agent.to_string()), event.at, body);
                }
            }
            // A queue's callback offer has no words of the flow's: a call hears these.
            EventKind::Callback { keep_place } => {
                let contact = event.contact.map_or(event.session.0, |c| c.0);
                if self.side.thread_of.get(&contact).is_some_and(|t| t.starts_with("voice:")) {
                    let offer = if *keep_place {
                        "We can call you back instead, and you'll keep your place in the queue. To be called back, press 1. To stay on the line, press 2."
                    } else {
                        "We can call you back as soon as an agent is free. To be called back, press 1. To stay on the line, press 2."
                    };
                    let body = json!({"type": "message", "from": "flow", "text": offer, "channel": "voice",
                                      "ask": "callback", "timeout_ms": 10_000});
                    self.feed(format!("offer-{seq}-{}", self.event_n), contact, "customer", None, event.at, body);
                }
            }
            EventKind::Routing(RoutingEvent::CallbackKept { to }) => {
                let contact = event.contact.map_or(event.session.0, |c| c.0);
                if self.side.thread_of.get(&contact).is_some_and(|t| t.starts_with("voice:")) {
                    let digits: String = to.as_str().chars().filter(char::is_ascii_digit).collect();
                    let ending = &digits[digits.len().saturating_sub(4)..];
                    let text = format!("Thank you. We'll call you back on the number ending {ending}, and you keep your place in the queue. Goodbye.");
                    let body = json!({"type": "message", "from": "flow", "text": text, "channel": "voice"});
                    self.feed(format!("kept-{seq}-{}", self.event_n), contact, "customer", None, event.at, body);
                    self.feed(
                        format!("bye-{seq}-{}", self.event_n),
                        contact,
                        "customer",
                        None,
                        event.at,
                        json!({"type": "ended"}),
                    );
                }
            }
            EventKind::End | EventKind::HangUp => {
                let contact = event.session.0;
                self.side.close_thread(contact);
                if self.state.contact(ContactId(contact)).is_some() {
                    self.side.ended.entry(contact).or_insert(event.at.as_millisecond());
                    while self.side.ended.len() > 10_000 {
                        self.side.ended.pop_first();
                    }
                }
            }
            _ => {}
        }
    }

    /// Where a command goes. One-way commands are written to the feed they belong to and
    /// marked delivered in the same transaction; the rest wait in the outbox for their answer.
    fn route(&mut self, at: Timestamp, command: &Command) {
        let key = command.id.to_string();
        let session = command.id.session;
        match &command.kind {
            CommandKind::Prompt { to: Audience::Customer { contact, channel }, text, gather } => {
                let agent = self.side.assigned.get(&contact.0).cloned();
                let mut body = json!({"type": "message", "from": "flow", "text": text.as_str(), "channel": channel_name(*channel)});
                self.gather(session, gather, &mut body);
                self.feed(key.clone(), contact.0, "customer", agent, at, body);
            }
            CommandKind::Prompt { to: Audience::Agent { contact }, text, gather } => {
                let agent = self.agent_for(session, contact.0);
                let mut body =
                    json!({"type": "script", "session": session.0, "contact": contact.0, "text": text.as_str()});
                self.gather(session, gather, &mut body);
                self.feed(key.clone(), contact.0, "agent", agent, at, body);
            }
            CommandKind::Prompt { to: Audience::Nobody, .. } => {}
            CommandKind::Note { contact, text } => {
                let c = contact.map_or(0, |c| c.0);
                let agent = self.agent_for(session, c);
                let body = json!({"type": "note", "session": session.0, "contact": c, "text": text.as_str()});
                self.feed(key.clone(), c, "agent", agent, at, body);
            }
            CommandKind::Offer { offer, contact, agent, channel } => {
                let c = contact.map(|c| c.0);
                self.side.offers.insert(offer.0, (c, agent.to_string()));
                let from = contact.and_then(|c| self.state.contact(c)).map(|v| v.contact.from.to_string());
                let body = json!({"type": "offer", "offer": offer.0, "contact": c, "channel": channel_name(*channel), "from": from});
                self.feed(key.clone(), c.unwrap_or(0), "agent", Some(agent.to_string()), at, body);
            }
            CommandKind::Transfer { contact, to } => {
                let body = json!({"type": "transfer", "to": to.as_str()});
                self.feed(key.clone(), contact.0, "customer", None, at, body);
            }
            CommandKind::Disconnect { contact } => {
                self.side.ended.entry(contact.0).or_insert(at.as_millisecond());
                let agent = self.side.assigned.get(&contact.0).cloned();
                self.feed(key.clone(), contact.0, "customer", agent, at, json!({"type": "ended"}));
            }
            CommandKind::CapturePayment { contact, amount } => {
                // The agent sees that a payment is under way, and later how it went: a
                // status and the amount, never a digit of the card.
                let agent = self.side.assigned.get(&contact.0).cloned();
                let body =
                    json!({"type": "payment", "contact": contact.0, "status": "waiting", "amount": amount.as_str()});
                self.feed(format!("pay-{key}"), contact.0, "agent", agent, at, body);
                self.side.outbox.insert(command.id, command.clone());
                if self.live {
                    self.to_perform.push(command.clone());
                }
                return;
            }
            CommandKind::Lookup { .. } | CommandKind::Send { .. } | CommandKind::Dial { .. } => {
                self.side.outbox.insert(command.id, command.clone());
                if self.live {
                    self.to_perform.push(command.clone());
                }
                return;
            }
        }
        self.outputs.delivered.push((key, at.as_millisecond()));
    }

    /// Remembers that `thread` asked for no more messages (`out`), or for them again.
    fn opt(&mut self, thread: &str, out: bool) {
        if out {
            self.side.opted_out.insert(thread.to_string());
        } else {
            self.side.opted_out.remove(thread);
        }
    }

    /// The agent a script's or a contact's rows go to.
    fn agent_for(&self, session: SessionId, contact: u64) -> Option<String> {
        self.side.scripts.get(&session.0).map(|(_, a)| a.clone()).or_else(|| self.side.assigned.get(&contact).cloned())
    }

    /// Adds what a prompt waits for: a menu's options as buttons, a choice's, an ask's type.
    fn gather(&self, session: SessionId, gather: &Option<Gather>, body: &mut serde_json::Value) {
        let Some(gather) = gather else { return };
        let Some(bundle) =
            self.state.session_bundle(session).and_then(|b| self.world.get(&b)).map(|d| d.bundle().clone())
        else {
            return;
        };
        // How long the engine waits for an answer (a phone's keypad is given as long).
        match gather {
            Gather::Menu { timeout_ms, .. } | Gather::Callback { timeout_ms } => body["timeout_ms"] = json!(timeout_ms),
            Gather::Ask { timeout_ms: Some(ms), .. } => body["timeout_ms"] = json!(ms),
            _ => {}
        }
        match gather {
            Gather::Menu { menu, .. } => {
                if let Some(info) = bundle.menus.get(menu.index()) {
                    let options: Vec<_> =
                        info.options.iter().map(|(key, label)| json!({"key": key, "label": label})).collect();
                    body["options"] = json!(options);
                }
            }
            Gather::Choice { choice } => {
                if let Some(info) = bundle.choices.get(choice.index()) {
                    let options: Vec<_> = info.options.iter().map(|o| json!({"key": o, "label": o})).collect();
                    body["options"] = json!(options);
                }
            }
            Gather::Ask { ask, .. } => {
                if let Some(info) = bundle.asks.get(ask.index()) {
                    ask_json(&info.kind, body);
                }
            }
            // Voice only: the keypad answers it.
            Gather::Callback { .. } => body["ask"] = json!("callback"),
        }
    }

    fn feed(
        &mut self,
        key: String,
        contact: u64,
        audience: &'static str,
        agent: Option<String>,
        at: Timestamp,
        body: serde_json::Value,
    ) {
        self.outputs.feed.push(FeedRow {
            key,
            contact,
            audience,
            agent,
            at_ms: at.as_millisecond(),
            body: body.to_string(),
        });
    }
}

const TYPING_MS: u64 = 5000;

/// A messaging thread's key: its adapter and the customer's address there
/// (`sms:+447700900001`, numbers in E.164; `telegram:12345`).
pub fn thread_key(adapter: &str, address: &str) -> String {
    match adapter {
        "sms" => format!("sms:{}", switchboard_engine::address_key(Channel::Sms, address)),
        "email" => format!("email:{}", address.trim().to_lowercase()),
        _ => format!("{adapter}:{}", address.trim()),
    }
}

/// The words that opt a number out of messages, or back in, as carriers and Twilio take
/// them (the whole message, any case): `Some(true)` out, `Some(false)` back in.
pub fn opt_out_word(text: &str) -> Option<bool> {
    let word = text.trim().to_ascii_uppercase();
    match word.as_str() {
        "STOP" | "STOPALL" | "UNSUBSCRIBE" | "CANCEL" | "END" | "QUIT" | "OPTOUT" | "REVOKE" => Some(true),
        "START" | "UNSTOP" => Some(false),
        _ => None,
    }
}

/// What an input was, kept past the step that consumes it.
#[derive(Clone, Debug)]
enum Observed {
    Deploy(BundleHash),
    Accept(u64),
    Reject(u64),
    Script(u64, String),
    Outcome(u64),
    Completed(CommandId),
    /// A look-up found a record (also as JSON) for the session.
    Found(CommandId, String, switchboard_bytecode::value::Record),
    Other,
}

impl Observed {
    fn of(input: &Input) -> Observed {
        match input {
            Input::Deploy { bundle } => Observed::Deploy(*bundle),
            Input::Agent(AgentAction::Accept { offer }) => Observed::Accept(offer.0),
            Input::Agent(AgentAction::Reject { offer }) => Observed::Reject(offer.0),
            Input::Agent(AgentAction::Outcome { contact, .. } | AgentAction::Transfer { contact, .. }) => {
                Observed::Outcome(contact.0)
            }
            Input::StartScript { contact, agent, .. } => Observed::Script(contact.0, agent.id.clone()),
            Input::Completed { command, result: Completion::Lookup(LookupResult::Found(record)) } => {
                Observed::Found(*command, record_json(record).to_string(), (**record).clone())
            }
            Input::Completed { command, .. } => Observed::Completed(*command),
            _ => Observed::Other,
        }
    }
}

/// A record as the agent's screen shows it: fields by name, values as JSON.
fn record_json(record: &switchboard_bytecode::value::Record) -> serde_json::Value {
    use switchboard_bytecode::value::Value;
    fn value(v: &Value) -> serde_json::Value {
        match v {
            Value::None => serde_json::Value::Null,
            Value::Bool(b) => json!(b),
            Value::Number(n) => json!(n),
            Value::Record(r) => record_json(r),
            Value::List(items) => items.iter().map(value).collect(),
            other => json!(other.display()),
        }
    }
    let fields: serde_json::Map<String, serde_json::Value> =
        record.fields.iter().map(|(name, v)| (name.to_string(), value(v))).collect();
    serde_json::Value::Object(fields)
}

fn started_json(started: Option<Started>) -> serde_json::Value {
    match started {
        Some(Started::Contact(c)) => json!({"contact": c.0}),
        Some(Started::Session(s)) => json!({"session": s.0}),
        Some(Started::Retry(r)) => json!({"retry": r.0}),
        None => json!({}),
    }
}

/// The `reply` templates offered to `agent` for `contact` in `queue`, rendered with the
/// contact, the agent and the records its flow found, as the agent's `contact` message
/// carries them: `[{"name", "text"}]`. Like anything an agent or customer types, a text is
/// masked of card numbers and kept to `max_bytes` (cut at a character); a reply whose text
/// cannot be computed is left out and logged.
pub fn replies_json(
    state: &State,
    side: &Side,
    world: &World,
    contact: u64,
    queue: Option<&str>,
    agent: &str,
    max_bytes: usize,
) -> serde_json::Value {
    let found = side.found.get(&contact).map_or(&[][..], Vec::as_slice);
    let replies = switchboard_engine::replies(state, world, ContactId(contact), queue, Some(agent), found);
    let mut out = Vec::new();
    for reply in replies {
        match reply.text {
            Ok(text) => {
                let mut text = switchboard_engine::cards::redact(&text).into_owned();
                if text.len() > max_bytes {
                    let mut end = max_bytes;
                    while !text.is_char_boundary(end) {
                        end -= 1;
                    }
                    text.truncate(end);
                }
                out.push(json!({"name": reply.name, "text": text}));
            }
            Err(why) => tracing::warn!(contact, reply = %reply.name, %why, "a reply could not be rendered"),
        }
    }
    serde_json::Value::Array(out)
}

pub fn channel_name(channel: Channel) -> &'static str {
    match channel {
        Channel::Voice => "voice",
        Channel::Chat => "chat",
        Channel::Sms => "sms",
        Channel::Email => "email",
        Channel::Social => "social",
    }
}

/// A command for the performer, with the sources of its bundle.
#[derive(Debug)]
pub struct Performed {
    pub command: Command,
    pub sources: Option<Arc<Vec<LiveSource>>>,
    /// A send to an address that asked for no more messages: it is not sent.
    pub opted_out: bool,
    /// A payment's contact and call (its provider's id), when the contact is a call.
    pub call: Option<(u64, String)>,
}

/// Performs what the core cannot do inline: look-ups on a blocking thread (each within its
/// source's timeout), and the sends, calls and payments no adapter takes yet (they fail,
/// and the flow or strategy reacts to the failure as it would to a provider's).
pub async fn perform(
    mut rx: tokio::sync::mpsc::UnboundedReceiver<Performed>,
    core: CoreHandle,
    providers: Arc<crate::channels::Providers>,
) {
    while let Some(Performed { command, sources, opted_out, call }) = rx.recv().await {
        let core = core.clone();
        let providers = providers.clone();
        tokio::spawn(async move {
            let result = match &command.kind {
                CommandKind::Lookup { source, key, .. } => {
                    let key = key.clone();
                    let index = source.index();
                    let outcome =
                        tokio::task::spawn_blocking(move || match sources.as_deref().and_then(|s| s.get(index)) {
                            Some(live) => live.lookup(&key, Timestamp::now().as_millisecond()),
                            None => LookupOutcome::Failed("the source is not available".to_string()),
                        })
                        .await
                        .unwrap_or_else(|e| LookupOutcome::Failed(format!("the look-up stopped: {e}")));
                    Completion::Lookup(match outcome {
                        LookupOutcome::Found(record) => LookupResult::Found(record),
                        LookupOutcome::Missed => LookupResult::Missed,
                        LookupOutcome::TimedOut => LookupResult::TimedOut,
                        LookupOutcome::Failed(why) => LookupResult::Failed(why),
                    })
                }
                CommandKind::Send { .. } if opted_out => Completion::OptedOut,
                CommandKind::Send { medium, to, text } => {
                    let channel = channel_name(medium_channel(*medium));
                    let from = match (channel, &providers.twilio, &providers.email) {
                        ("sms", Some(t), _) => t.sms_from.clone(),
                        ("email", _, Some(e)) => e.from.clone(),
                        _ => None,
                    };
                    match from {
                        None if channel == "sms" && providers.twilio.is_some() => Completion::Failed(
                            "no number to send from: set sms_from in [twilio], or give the project one sms entry"
                                .to_string(),
                        ),
                        None if channel == "email" && providers.email.is_some() => Completion::Failed(
                            "no address to send from: set from in [email], or give the project one email entry"
                                .to_string(),
                        ),
                        from => {
                            let out = crate::channels::Outgoing {
                                key: command.id.to_string(),
                                to: to.to_string(),
                                from: from.unwrap_or_default(),
                                text: text.to_string(),
                                last_in_ms: None,
                                subject: None,
                                in_reply_to: None,
                                contact: None,
                            };
                            match providers.send_retrying(channel.to_string(), out).await {
                                crate::channels::SendOutcome::Accepted(_) => Completion::Delivered,
                                crate::channels::SendOutcome::OptedOut(_) => Completion::OptedOut,
                                crate::channels::SendOutcome::Refused(why)
                                | crate::channels::SendOutcome::Transient(why) => Completion::Failed(why),
                            }
                        }
                    }
                }
                CommandKind::Dial { to, .. } => match &providers.twilio {
                    Some(t) => {
                        // Placed now; answered, busy or no answer comes by the status callback.
                        let (t, id, to) = (t.clone(), command.id.to_string(), to.to_string());
                        let placed = tokio::task::spawn_blocking(move || t.place_call(&id, &to)).await;
                        match placed {
                            Ok(crate::channels::SendOutcome::Accepted(_)) => return,
                            Ok(crate::channels::SendOutcome::OptedOut(why))
                            | Ok(crate::channels::SendOutcome::Refused(why))
                            | Ok(crate::channels::SendOutcome::Transient(why)) => {
                                tracing::warn!(command = %command.id, %why, "a call could not be placed");
                                Completion::Failed(why)
                            }
                            Err(e) => Completion::Failed(format!("the call could not be placed: {e}")),
                        }
                    }
                    None => Completion::Failed("no voice adapter is configured".to_string()),
                },
                CommandKind::CapturePayment { .. } => match (&providers.twilio, call) {
                    // The call is sent to the daemon's `Pay`; its result completes it.
                    (Some(t), Some((contact, sid))) => {
                        let t = t.clone();
                        let moved = tokio::task::spawn_blocking(move || t.redirect_call(&sid, contact)).await;
                        match moved {
                            Ok(Ok(())) => return,
                            Ok(Err(why)) => {
                                tracing::warn!(contact, %why, "the call could not be sent to the payment form");
                                Completion::PaymentDeclined
                            }
                            Err(_) => Completion::PaymentDeclined,
                        }
                    }
                    // Web chat has no secure card form: the payment is declined, never typed.
                    _ => Completion::PaymentDeclined,
                },
                _ => return,
            };
            core.tell(Request::Completed { command: command.id, result });
        });
    }
}

/// The channel a `send` goes out on.
pub fn medium_channel(medium: Medium) -> Channel {
    match medium {
        Medium::Sms => Channel::Sms,
        Medium::Email => Channel::Email,
    }
}

/// Deploys `bundle` into the world with its externs and sources.
/// What an `ask` takes, for a screen: its kind in a word, its bounds, and the answers a
/// button can give when there are few (yes or no, an enum's variants, a scale of up to 11).
fn ask_json(kind: &switchboard_bytecode::bytecode::AnswerKind, body: &mut serde_json::Value) {
    use switchboard_bytecode::bytecode::AnswerKind;
    let buttons = |answers: Vec<String>| -> serde_json::Value {
        answers.into_iter().map(|a| json!({"key": a, "label": a})).collect()
    };
    let word = match kind {
        AnswerKind::Digits(n) => {
            body["digits"] = json!(n);
            "digits"
        }
        AnswerKind::YesNo => {
            body["options"] = buttons(vec!["yes".into(), "no".into()]);
            "yesno"
        }
        AnswerKind::Range(min, max) => {
            body["min"] = json!(min);
            body["max"] = json!(max);
            let whole = min.fract() == 0.0 && max.fract() == 0.0 && max >= min && max - min <= 10.0;
            if whole {
                body["options"] = buttons((*min as i64..=*max as i64).map(|n| n.to_string()).collect());
            }
            "range"
        }
        AnswerKind::Number => "number",
        AnswerKind::Text => "text",
        AnswerKind::Date => "date",
        AnswerKind::Money => "money",
        AnswerKind::Phone => "phone",
        AnswerKind::Email => "email",
        AnswerKind::Time => "time",
        AnswerKind::Enum(variants) => {
            body["options"] = buttons(variants.clone());
            "enum"
        }
    };
    body["ask"] = json!(word);
}

/// The live sources of each deployed bundle.
type SourcesByBundle = BTreeMap<BundleHash, Arc<Vec<LiveSource>>>;

/// Every bundle the store holds, deployed in a new world, with their sources.
fn stored_world(
    store: &Store,
    root: &std::path::Path,
    connections: &Connections,
) -> Result<(World, SourcesByBundle), String> {
    let mut world = World::new();
    let mut sources = BTreeMap::new();
    for (hash, bytes) in store.bundles().map_err(store_err)? {
        let b = Arc::new(Bundle::from_bytes(&bytes).map_err(|e| format!("stored bundle {hash}: {e}"))?);
        let h = deploy_into(&mut world, &mut sources, root, connections, b)?;
        if hex(&h) != hash {
            return Err(format!("stored bundle {hash} has hash {h}: the store is damaged"));
        }
    }
    Ok((world, sources))
}

fn deploy_into(
    world: &mut World,
    sources: &mut BTreeMap<BundleHash, Arc<Vec<LiveSource>>>,
    root: &std::path::Path,
    connections: &Connections,
    bundle: Arc<Bundle>,
) -> Result<BundleHash, String> {
    let live = live_sources_with(&bundle, Rows::Project { root }, Some(connections))?;
    let externs = SandboxExterns::new(bundle.clone())?;
    let hash = world.deploy(bundle, Box::new(externs)).map_err(String::from)?;
    sources.entry(hash).or_insert_with(|| Arc::new(live));
    Ok(hash)
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_compiler::loader::MemoryLoader;
    use switchboard_compiler::{check, codegen, SourceFile};
    use switchboard_engine::AgentView;

    const PROJECT: &str = r#"
skills support
queue support {
  skills support
}
flow chat_in on chat {
  say "Hello."
  menu "1 or 2?" {
    1 "one" {
      queue support
    }
    2 "two" {
      say "Bye."
      end
    }
    timeout 2s retries 1 {
      queue support
    }
  }
}
entry chat "web" -> chat_in
"#;

    fn bundle() -> Arc<Bundle> {
        let std = switchboard_stdlib::modules();
        let loader = MemoryLoader { files: BTreeMap::new() };
        let files = vec![SourceFile { path: "main.flow".into(), text: Arc::from(PROJECT) }];
        let checked = check::check(check::Input { files, std: &std, loader: &loader, module: Arc::from("") });
        assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
        Arc::new(codegen::compile(&checked, &loader).unwrap())
    }

    fn open(dir: &std::path::Path, every: u64) -> Core {
        let tuning = Tuning { snapshot_every: every, ..Tuning::default() };
        Core::open(Store::open(dir).unwrap(), bundle(), dir.to_path_buf(), tuning).unwrap()
    }

    fn arrival(from: &str) -> Arrival {
        Arrival {
            channel: Channel::Chat,
            from: from.into(),
            to: Some("web".into()),
            subject: "".into(),
            text: "".into(),
            attributes: Vec::new(),
        }
    }

    /// Requests a day of chats might bring: contacts, answers, an agent, time passing.
    fn requests(i: usize) -> Vec<Request> {
        let c = (i / 4 + 1) as u64;
        match i % 4 {
            0 => vec![Request::StartChat { token: format!("t{i}"), arrival: arrival(&format!("v{i}")) }],
            1 => vec![Request::Customer {
                contact: c,
                key: format!("k{i}"),
                text: if i % 8 == 1 { "1" } else { "two" }.into(),
            }],
            2 => vec![Request::Agent {
                agent: format!("a{i}"),
                request: AgentRequest::LogIn(
                    AgentView {
                        id: format!("a{i}"),
                        name: "A".into(),
                        skills: vec!["support".into()],
                        languages: vec![],
                    }
                    .into(),
                ),
            }],
            _ => vec![Request::Customer { contact: c, key: format!("k{i}"), text: "late".into() }],
        }
    }

    fn feed(core: &mut Core, i: usize) {
        let mut replies = Vec::new();
        for r in requests(i) {
            if let Ok(Some(entry)) = core.admit(r) {
                core.commit(vec![(entry, None)], &mut replies).unwrap();
            }
        }
    }

    fn image(core: &Core) -> (Vec<u8>, Vec<u8>) {
        (core.state.to_bytes(), postcard::to_allocvec(&core.side).unwrap())
    }

    #[test]
    fn killed_after_any_input_the_core_comes_back_exactly_as_it_was() {
        for every in [1000, 3] {
            for kill_at in 0..16 {
                let dir = tempfile::tempdir().unwrap();
                let mut core = open(dir.path(), every);
                for i in 0..=kill_at {
                    feed(&mut core, i);
                    if core.since_snapshot >= every {
                        core.snapshot().unwrap();
                    }
                }
                let before = image(&core);
                let rows = core.store.reader().unwrap().feed_count(1).unwrap();
                drop(core); // no last snapshot: as if killed
                let core = open(dir.path(), every);
                assert_eq!(image(&core), before, "killed after input {kill_at}, snapshots every {every}");
                assert_eq!(core.store.reader().unwrap().feed_count(1).unwrap(), rows, "no row written twice");
            }
        }
    }

    #[test]
    fn rows_a_crash_kept_from_being_written_are_written_on_restart_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut core = open(dir.path(), 1000);
        feed(&mut core, 0);
        let rows = core.store.reader().unwrap().customer_feed(1, 0).unwrap();
        assert_eq!(rows.len(), 2, "hello and the menu");
        // As if the process died between the journal and the feed: the rows are gone.
        core.store.commit_outputs(&Outputs::default()).unwrap();
        let conn = rusqlite::Connection::open(core.store.path()).unwrap();
        conn.execute("DELETE FROM feed", []).unwrap();
        conn.execute("DELETE FROM delivered", []).unwrap();
        drop(core);
        let core = open(dir.path(), 1000);
        let again = core.store.reader().unwrap().customer_feed(1, 0).unwrap();
        let bodies = |r: &[crate::store::StoredFeed]| r.iter().map(|r| r.body.clone()).collect::<Vec<_>>();
        assert_eq!(bodies(&again), bodies(&rows));
        drop(core);
        let core = open(dir.path(), 1000);
        assert_eq!(core.store.reader().unwrap().customer_feed(1, 0).unwrap().len(), 2);
    }

    #[test]
    fn a_torn_last_record_is_dropped_and_the_state_is_the_one_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut core = open(dir.path(), 1000);
        feed(&mut core, 0);
        let before = image(&core);
        feed(&mut core, 1);
        let path = core.store.path().to_path_buf();
        drop(core);
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute("UPDATE journal SET body = substr(body, 1, 3) WHERE seq = (SELECT MAX(seq) FROM journal)", [])
            .unwrap();
        drop(conn);
        let core = open(dir.path(), 1000);
        assert_eq!(image(&core).0, before.0);
    }

    #[test]
    fn overdue_timers_fire_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let mut core = open(dir.path(), 1000);
        feed(&mut core, 0);
        let due = core.state.next_due().expect("the menu's timer");
        drop(core);
        let mut core = open(dir.path(), 1000);
        assert_eq!(core.state.next_due(), Some(due), "the timer is in the state");
        // Time passes (as the live loop would see it) and the timer fires.
        let mut replies: Replies = Vec::new();
        let later = due.checked_add(jiff::SignedDuration::from_secs(1)).unwrap();
        let entry = Entry::Engine(Input::Tick);
        let body = postcard::to_allocvec(&(later, &entry)).unwrap();
        let seqs = core.store.append(&[(later.as_millisecond(), body)]).unwrap();
        replies.push((None, core.apply(seqs[0], later, entry)));
        core.flush_outputs().unwrap();
        let rows = core.store.reader().unwrap().customer_feed(1, 0).unwrap();
        assert_eq!(rows.len(), 3, "the menu is asked again: {rows:?}");
    }

    #[test]
    fn only_the_agent_offered_a_contact_may_take_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut core = open(dir.path(), 1000);
        core.side.offers.insert(7, (Some(1), "ann".into()));
        let r = core.admit(Request::Agent { agent: "bob".into(), request: AgentRequest::Accept { offer: 7 } });
        assert_eq!(r.unwrap_err().status, 403);
        let r = core.admit(Request::Agent {
            agent: "bob".into(),
            request: AgentRequest::Message { contact: 1, key: "k".into(), text: "hi".into() },
        });
        assert_eq!(r.unwrap_err().status, 403);
        assert!(core.admit(Request::Agent { agent: "ann".into(), request: AgentRequest::Accept { offer: 7 } }).is_ok());
    }

    #[test]
    fn the_replay_check_passes_on_a_store_as_the_core_left_it_and_fails_on_one_that_lies() {
        let dir = tempfile::tempdir().unwrap();
        let mut core = open(dir.path(), 5);
        for i in 0..16 {
            feed(&mut core, i);
            if core.since_snapshot >= 5 {
                core.snapshot().unwrap();
            }
        }
        let check = check_replay(dir.path(), dir.path()).unwrap();
        assert!(check.records > 0 && check.events > 0 && check.feed_rows > 0, "{check}");
        assert_eq!((check.snapshots, check.unwritten_from), (1, None), "{check}");

        // A crash between journaling a batch and writing what it gave: a tail, not a fault.
        let entry = core.admit(requests(16).remove(0)).unwrap().unwrap();
        let body = postcard::to_allocvec(&(core.state.now(), &entry)).unwrap();
        let seq = core.store.append(&[(core.state.now().as_millisecond(), body)]).unwrap()[0];
        drop(core);
        let tail = check_replay(dir.path(), dir.path()).unwrap();
        assert_eq!(tail.unwritten_from, Some(seq), "{tail}");

        let db = rusqlite::Connection::open(dir.path().join("switchboard.db")).unwrap();
        // An event that is not what the journal gives.
        db.execute(
            "UPDATE events SET body = '{}' WHERE seq = (SELECT MIN(seq) FROM events WHERE seq > ?1)",
            [check.from_seq],
        )
        .unwrap();
        let lied = check_replay(dir.path(), dir.path()).unwrap_err();
        assert!(lied.contains("replays differently"), "{lied}");
    }
}
