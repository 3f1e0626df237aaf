//! The local shell: drives the pure engine in one process and performs its commands at
//! once — look-ups against the project's CSV, SQLite or in-memory sources, sends and
//! payments acknowledged as done, prompts shown in the transcript. `switchboard test`,
//! `run` and `simulate` all run on it: there is one engine and no second interpreter.
//!
//! Time is the shell's: a virtual clock moves only when told (`advance`), and the shell
//! steps the engine at each timer's due time on the way, so a timer that leads to a
//! look-up sees its answer at that instant, not at the end of the wait.
//!
//! With `record`, every input is kept with its time, and a digest of every output; `replay`
//! runs them again on a fresh engine and fails on any difference in the outputs or in the
//! final state. With `roundtrip`, the whole engine state is saved and restored after every
//! step, proving it is all there is.

use jiff::Timestamp;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use switchboard_bytecode::bytecode::{Bundle, ExternId, SourceLocation};
use switchboard_bytecode::types::{Channel, Type};
use switchboard_bytecode::value::{Currency, Record, Value};
use switchboard_engine::{
    step_into, AgentAction, AgentView, Arrival, BundleHash, Command, CommandId, CommandKind, Completion, ContactId,
    EngineError, Event, Externs, Input, LookupResult, OfferId, Output, Reply, RetryRunId, SessionId, Started, State,
    World,
};
use switchboard_sandbox::{self as sandbox, Sandbox};
use switchboard_sources::{self as sources, LiveSource, LookupOutcome, MemorySource, Source, SourceError, SourceSpec};

/// How the shell runs.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Save and restore the whole engine state after every step.
    pub roundtrip: bool,
    /// Keep every input and a digest of every output, for `replay`.
    pub record: bool,
    /// Leave `collect payment` waiting for `complete` (the terminal's secure form), instead
    /// of taking every payment as captured.
    pub defer_payments: bool,
}

/// Where a bundle's sources get their rows.
pub enum Rows<'a> {
    /// The project's own files: CSV embedded in the bundle, SQLite databases under `root`.
    Project { root: &'a Path },
    /// Exactly these rows, by source index (a test's `given` lines).
    Given(Vec<Vec<Arc<Record>>>),
}

/// One engine and the services that perform its commands.
pub struct LocalShell {
    state: State,
    world: World,
    bundle: BundleHash,
    services: Services,
    options: Options,
    /// Where every step writes. Its events are the transcript so far (taken by
    /// `take_events`); the rest is cleared before each step.
    out: Output,
    /// The answers a step's commands got, reused.
    answers: Vec<(CommandId, Completion)>,
    /// What `record` keeps.
    start: Timestamp,
    journal: Vec<(Timestamp, Input)>,
    digest: Sha256,
}

impl std::fmt::Debug for LocalShell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalShell").field("now", &self.state.now()).finish_non_exhaustive()
    }
}

impl LocalShell {
    /// A shell over `bundle` at `now`, its sources filled as `rows` says.
    pub fn new(bundle: Arc<Bundle>, rows: Rows<'_>, options: Options, now: Timestamp) -> Result<LocalShell, String> {
        let live = live_sources(&bundle, rows)?;
        let externs = SandboxExterns::new(bundle.clone())?;
        let mut world = World::new();
        let hash = world.deploy(bundle, Box::new(externs)).map_err(String::from)?;
        let state = State::new(&world, hash, now).map_err(String::from)?;
        Ok(LocalShell {
            state,
            world,
            bundle: hash,
            services: Services { sources: BTreeMap::from([(hash, live)]), defer_payments: options.defer_payments },
            options,
            out: Output::default(),
            answers: Vec::new(),
            start: now,
            journal: Vec::new(),
            digest: Sha256::new(),
        })
    }

    /// A shell whose sources are the project's own files (`root` is the project folder).
    pub fn for_project(
        bundle: Arc<Bundle>,
        root: &Path,
        options: Options,
        now: Timestamp,
    ) -> Result<LocalShell, String> {
        LocalShell::new(bundle, Rows::Project { root }, options, now)
    }

    /// A shell whose sources hold exactly `rows` (by source index): what tests use.
    pub fn with_rows(
        bundle: Arc<Bundle>,
        rows: Vec<Vec<Arc<Record>>>,
        options: Options,
        now: Timestamp,
    ) -> Result<LocalShell, String> {
        LocalShell::new(bundle, Rows::Given(rows), options, now)
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    pub fn now(&self) -> Timestamp {
        self.state.now()
    }

    /// The bundle the shell started on.
    pub fn bundle(&self) -> BundleHash {
        self.bundle
    }

    pub fn events(&self) -> &[Event] {
        &self.out.events
    }

    /// Hands over the events so far; the next go into room for as many as were taken.
    pub fn take_events(&mut self) -> Vec<Event> {
        let room = self.out.events.len();
        std::mem::replace(&mut self.out.events, Vec::with_capacity(room))
    }

    /// Moves the events so far to the end of `into`.
    pub fn drain_events_into(&mut self, into: &mut Vec<Event>) {
        into.append(&mut self.out.events);
    }

    /// One input at the shell's clock; the commands it gives are performed at once (and
    /// their answers stepped in at the same instant).
    pub fn step(&mut self, input: Input) -> Result<Option<Started>, EngineError> {
        let now = self.state.now();
        self.step_at(now, input)
    }

    fn step_at(&mut self, now: Timestamp, input: Input) -> Result<Option<Started>, EngineError> {
        if self.options.record {
            self.journal.push((now, input.clone()));
        }
        // The transcript stays in `out.events`; this step's events are those after `seen`.
        let seen = self.out.events.len();
        self.out.commands.clear();
        self.out.touched.clear();
        self.out.started = None;
        let result = step_into(&mut self.state, &self.world, now, input, &mut self.out);
        if self.options.record {
            digest_output(&mut self.digest, &self.out.commands, &self.out.events[seen..], &result);
        }
        if self.options.roundtrip {
            self.state = State::from_bytes(&self.state.to_bytes()).map_err(EngineError::Bundle)?;
        }
        let started = self.out.started;
        // Perform the commands; answer those the engine waits for, at the same instant.
        let mut answers = std::mem::take(&mut self.answers);
        let now_ms = self.state.now().as_millisecond();
        let services = &self.services;
        answers.extend(self.out.commands.iter().filter_map(|c| Some((c.id, services.answer(c, now_ms)?))));
        for (command, result) in answers.drain(..) {
            // An answer the shell gives at once is never stale: nothing ran in between.
            let _ = self.step_at(now, Input::Completed { command, result });
        }
        self.answers = answers;
        result.map(|()| started)
    }

    /// The engine and the services that perform its commands, apart (for a benchmark of
    /// the engine alone).
    pub fn into_parts(self) -> (State, World, Services) {
        (self.state, self.world, self.services)
    }

    /// Moves the clock to `to`, stepping the engine at every timer due on the way.
    pub fn advance(&mut self, to: Timestamp) {
        while let Some(due) = self.state.next_due() {
            if due > to {
                break;
            }
            let _ = self.step_at(due.max(self.state.now()), Input::Tick);
        }
        if to > self.state.now() {
            let _ = self.step_at(to, Input::Tick);
        }
    }

    /// A contact arrives; returns its id.
    pub fn contact(
        &mut self,
        channel: Channel,
        from: &str,
        to: Option<&str>,
        subject: &str,
        text: &str,
    ) -> Result<ContactId, EngineError> {
        let arrival = Arrival {
            channel,
            from: from.into(),
            to: to.map(Arc::from),
            subject: subject.into(),
            text: text.into(),
            attributes: Vec::new(),
        };
        match self.step(Input::Arrive(arrival))? {
            Some(Started::Contact(id)) => Ok(id),
            _ => Err(EngineError::NoEntry("the contact did not start".to_string())),
        }
    }

    /// Opens script `script` on an agent's screen for `contact`.
    pub fn start_script(
        &mut self,
        contact: ContactId,
        script: &str,
        agent: AgentView,
    ) -> Result<SessionId, EngineError> {
        let input = Input::StartScript { contact, script: script.to_string(), agent: Box::new(agent) };
        match self.step(input)? {
            Some(Started::Session(id)) => Ok(id),
            _ => Err(EngineError::UnknownName { kind: "script", name: script.to_string() }),
        }
    }

    /// Runs survey `survey` for `contact` now.
    pub fn start_survey(&mut self, contact: ContactId, survey: &str) -> Result<SessionId, EngineError> {
        match self.step(Input::StartSurvey { contact, survey: survey.to_string() })? {
            Some(Started::Session(id)) => Ok(id),
            _ => Err(EngineError::UnknownName { kind: "survey", name: survey.to_string() }),
        }
    }

    /// Starts retry strategy `retry` for `subject`.
    pub fn start_retry(&mut self, retry: &str, subject: Value) -> Result<RetryRunId, EngineError> {
        match self.step(Input::StartRetry { retry: retry.to_string(), subject })? {
            Some(Started::Retry(id)) => Ok(id),
            _ => Err(EngineError::UnknownName { kind: "retry strategy", name: retry.to_string() }),
        }
    }

    /// The shell's answer to a command it left pending (a deferred payment's result).
    pub fn complete(&mut self, command: switchboard_engine::CommandId, result: Completion) -> Result<(), EngineError> {
        self.step(Input::Completed { command, result }).map(drop)
    }

    /// Keys, text or a value for what `session` waits for.
    pub fn input(&mut self, session: SessionId, reply: Reply) -> Result<(), EngineError> {
        self.step(Input::Reply { session, reply }).map(drop)
    }

    /// An outcome for the newest retry run: the answer to its pending call when it is a
    /// call's (`answered`, `no_answer`, `busy`, `opted_out`), else an event for it.
    pub fn retry_event(&mut self, outcome: &str) -> Result<(), EngineError> {
        let run = self.state.newest_retry_run();
        let dial = run.and_then(|r| self.state.pending_dial(Some(r)));
        match (dial, Completion::from_outcome(outcome)) {
            (Some(command), Some(result)) if outcome != "delivered" => {
                self.step(Input::Completed { command, result }).map(drop)
            }
            _ => self.step(Input::RetryEvent { run, event: outcome.to_string() }).map(drop),
        }
    }

    pub fn add_agent(&mut self, agent: AgentView) -> Result<(), EngineError> {
        self.step(Input::Agent(AgentAction::LogIn(Box::new(agent.into())))).map(drop)
    }

    pub fn accept(&mut self, offer: OfferId) -> Result<(), EngineError> {
        self.step(Input::Agent(AgentAction::Accept { offer })).map(drop)
    }

    pub fn reject(&mut self, offer: OfferId) -> Result<(), EngineError> {
        self.step(Input::Agent(AgentAction::Reject { offer })).map(drop)
    }

    pub fn finish(&mut self, contact: ContactId) -> Result<(), EngineError> {
        self.step(Input::Agent(AgentAction::Finish { contact })).map(drop)
    }

    pub fn hang_up(&mut self, contact: ContactId) -> Result<(), EngineError> {
        self.step(Input::HangUp { contact }).map(drop)
    }

    /// The hash of the engine's state as it would be stored.
    pub fn state_hash(&self) -> [u8; 32] {
        Sha256::digest(self.state.to_bytes()).into()
    }

    /// How many inputs were recorded.
    pub fn recorded(&self) -> usize {
        self.journal.len()
    }

    /// Replays every recorded input on a fresh engine over the same bundle and compares
    /// what came out, and the final state, with this run. `Err` says where they differ.
    pub fn replay(&self) -> Result<(), String> {
        if !self.options.record {
            return Err("nothing was recorded: the shell ran without `record`".to_string());
        }
        let mut state = State::new(&self.world, self.bundle, self.start).map_err(String::from)?;
        let mut digest = Sha256::new();
        let mut out = Output::default();
        for (now, input) in &self.journal {
            out.clear();
            let result = step_into(&mut state, &self.world, *now, input.clone(), &mut out);
            digest_output(&mut digest, &out.commands, &out.events, &result);
        }
        if digest.finalize() != self.digest.clone().finalize() {
            return Err(format!("replaying {} inputs gave different commands or events", self.journal.len()));
        }
        let (a, b) = (Sha256::digest(state.to_bytes()), Sha256::digest(self.state.to_bytes()));
        if a != b {
            return Err(format!("replaying {} inputs left a different engine state", self.journal.len()));
        }
        Ok(())
    }
}

/// What performs the engine's commands in one process.
pub struct Services {
    sources: BTreeMap<BundleHash, Vec<LiveSource>>,
    defer_payments: bool,
}

impl Services {
    /// Performs `command` at `now_ms`: the answer the engine waits for, if it waits for one.
    pub fn answer(&self, command: &Command, now_ms: i64) -> Option<Completion> {
        Some(match &command.kind {
            CommandKind::Lookup { bundle, source, key, .. } => {
                let live = self.sources.get(bundle).and_then(|s| s.get(source.index()));
                let outcome = match live {
                    Some(live) => live.lookup(key, now_ms),
                    None => LookupOutcome::Failed("the source is not available".to_string()),
                };
                Completion::Lookup(match outcome {
                    LookupOutcome::Found(record) => LookupResult::Found(record),
                    LookupOutcome::Missed => LookupResult::Missed,
                    LookupOutcome::TimedOut => LookupResult::TimedOut,
                    LookupOutcome::Failed(why) => LookupResult::Failed(why),
                })
            }
            // The transcript is the local channel: a message is delivered when written.
            CommandKind::Send { .. } => Completion::Delivered,
            // No card is taken here: the secure form would; the flow goes on.
            CommandKind::CapturePayment { .. } if !self.defer_payments => Completion::PaymentCaptured,
            CommandKind::CapturePayment { .. } => return None,
            // Prompts are in the transcript; dials wait for the test's `event …`; offers
            // wait for an agent's `accept`.
            CommandKind::Prompt { .. }
            | CommandKind::Note { .. }
            | CommandKind::Transfer { .. }
            | CommandKind::Dial { .. }
            | CommandKind::Offer { .. }
            | CommandKind::Disconnect { .. } => return None,
        })
    }
}

/// Feeds what one step gave (commands, events, and a refusal) into a digest.
fn digest_output(digest: &mut Sha256, commands: &[Command], events: &[Event], result: &Result<(), EngineError>) {
    for command in commands {
        digest.update(postcard::to_allocvec(command).unwrap_or_default());
    }
    for event in events {
        digest.update(postcard::to_allocvec(event).unwrap_or_default());
    }
    if let Err(e) = result {
        digest.update(e.to_string().as_bytes());
    }
}

/// The schema of a bundle's source, for the data-source layer.
pub fn source_spec(bundle: &Bundle, info: &switchboard_bytecode::bytecode::SourceInfo) -> SourceSpec {
    let record = &bundle.records[info.record.index()];
    let fields = record
        .fields
        .iter()
        .map(|(name, ty)| sources::FieldSchema {
            name: name.clone(),
            ty: ty.clone(),
            enum_variants: match ty.unwrap_optional() {
                Type::Enum(e) => bundle.enums.iter().find(|x| *x.name == **e).map(|x| x.variants.clone()),
                _ => None,
            },
        })
        .collect();
    SourceSpec {
        name: info.name.clone(),
        schema: sources::RecordSchema { name: record.name.clone(), fields },
        keys: info.keys.clone(),
        timeout_ms: info.timeout_ms,
        cache_ms: info.cache_ms,
        currency: bundle.currency.unwrap_or(Currency::GBP),
    }
}

/// A source that is declared but cannot be reached from here (HTTP, SQL): every look-up
/// fails, which flows see as none and reports see as a `lookup … failed` event.
struct Unreachable(String);

impl Source for Unreachable {
    fn lookup(&self, _key: &Value) -> Result<Option<Arc<Record>>, SourceError> {
        Err(SourceError::Unavailable { source: String::new(), message: self.0.clone() })
    }
}

/// Makes the sources that need more than the project says: a connection to a database, an
/// API's headers and credentials. The daemon has one (its `[sources.NAME]` settings); the
/// shell alone has none, so there an `sql` source fails every look-up.
pub trait Connector: Send + Sync {
    /// The source `spec` declares at `location`, or `None` for the shell's own.
    fn connect(&self, spec: &SourceSpec, location: &SourceLocation) -> Option<Result<Arc<dyn Source>, String>>;
}

/// The live sources of `bundle`, filled as `rows` says (by source index).
pub fn live_sources(bundle: &Bundle, rows: Rows<'_>) -> Result<Vec<LiveSource>, String> {
    live_sources_with(bundle, rows, None)
}

/// Like [`live_sources`], with the project's own sources made by `connector` where it
/// makes them. A source it cannot make is an error (the bundle cannot be served).
pub fn live_sources_with(
    bundle: &Bundle,
    rows: Rows<'_>,
    connector: Option<&dyn Connector>,
) -> Result<Vec<LiveSource>, String> {
    let mut live = Vec::new();
    for (i, info) in bundle.sources.iter().enumerate() {
        let spec = source_spec(bundle, info);
        let connected = match (&rows, connector) {
            (Rows::Project { .. }, Some(connector)) => connector.connect(&spec, &info.location),
            _ => None,
        };
        if let Some(source) = connected {
            live.push(LiveSource::new(&spec, source?));
            continue;
        }
        let source: Arc<dyn Source> = match &rows {
            Rows::Given(rows) => Arc::new(MemorySource::new(&spec, rows.get(i).cloned().unwrap_or_default())),
            Rows::Project { root } => match &info.location {
                SourceLocation::Csv { contents, .. } => {
                    Arc::new(sources::CsvSource::load(&spec, contents).map_err(|e| e.to_string())?)
                }
                SourceLocation::Sqlite { path, table } => {
                    Arc::new(sources::SqliteSource::open(&spec, root.join(path), table).map_err(|e| e.to_string())?)
                }
                SourceLocation::Http { url } => match sources::HttpSource::new(&spec, url) {
                    Ok(source) => Arc::new(source),
                    Err(e) => Arc::new(Unreachable(e.to_string())),
                },
                SourceLocation::Sql { .. } => Arc::new(Unreachable("sql source is not configured".to_string())),
            },
        };
        live.push(LiveSource::new(&spec, source));
    }
    Ok(live)
}

/// A bundle's `extern fn`s in the rhai sandbox. Every script must load: one that does not
/// is an error when the shell starts, never a function that silently fails later.
pub struct SandboxExterns {
    bundle: Arc<Bundle>,
    sandbox: Sandbox,
    scripts: Vec<sandbox::ScriptId>,
}

impl SandboxExterns {
    pub fn new(bundle: Arc<Bundle>) -> Result<SandboxExterns, String> {
        // The one sandbox configuration, as `check` asks it.
        let (sandbox, scripts) = Sandbox::for_bundle(&bundle).map_err(|e| e.to_string())?;
        Ok(SandboxExterns { bundle, sandbox, scripts })
    }
}

impl Externs for SandboxExterns {
    fn call(&self, func: ExternId, args: &[Value]) -> Result<Value, String> {
        let info = self.bundle.externs.get(func.index()).ok_or("no such extern function")?;
        let script = self.scripts.get(func.index()).ok_or("no such extern function")?;
        self.sandbox.call(*script, &info.name, args, &info.ret).map_err(|e| e.to_string())
    }
}
