//! A look-up as the engine runs it: from the cache when fresh, otherwise from the source
//! within its timeout, ending in a [`LookupOutcome`].
//!
//! How the timeout is kept depends on the source ([`Source::may_block`]):
//!
//! - a source that answers from memory (CSV, `given` rows) runs in place; its time is
//!   measured, and an answer that came later than the timeout counts as timed out, so a
//!   pathological file behaves like a slow server would;
//! - a source that may block (SQLite, HTTP) runs on a worker thread, and the engine waits
//!   on a channel with `recv_timeout`. At the timeout the engine stops waiting; the worker
//!   finishes on its own and its late answer is dropped. So that a dead server cannot
//!   pile up threads, at most [`MAX_WAITING`] look-ups may be waiting on one source;
//!   further look-ups fail at once until some finish.
//!
//! A source that panics fails its look-up; it never takes the engine down.

use super::cache::{Cache, DEFAULT_CAPACITY};
use super::schema::SourceSpec;
use super::{Source, SourceError};
use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};
use switchboard_bytecode::value::{Record, Value};

/// How many look-ups may be waiting on one blocking source at once.
pub const MAX_WAITING: usize = 64;

/// What became of one look-up. Only `Found` gives the flow a record; the others give none
/// (and the engine reports them as events).
#[derive(Clone, Debug, PartialEq)]
pub enum LookupOutcome {
    Found(Arc<Record>),
    Missed,
    TimedOut,
    Failed(String),
}

impl LookupOutcome {
    /// The value the flow's `let x = lookup …` binds: the record, or none.
    pub fn value(&self) -> Value {
        match self {
            LookupOutcome::Found(record) => Value::Record(record.clone()),
            _ => Value::None,
        }
    }

    /// Like `value`, handing the record over.
    pub fn into_value(self) -> Value {
        match self {
            LookupOutcome::Found(record) => Value::Record(record),
            _ => Value::None,
        }
    }

    fn from_result(result: Result<Option<Arc<Record>>, SourceError>) -> LookupOutcome {
        match result {
            Ok(Some(record)) => LookupOutcome::Found(record),
            Ok(None) => LookupOutcome::Missed,
            Err(error) => LookupOutcome::Failed(error.to_string()),
        }
    }
}

/// Runs one look-up in `source`, giving up after `timeout`. See the module documentation
/// for how the timeout is kept.
pub fn lookup_within<S: Source + ?Sized + 'static>(source: &Arc<S>, key: &Value, timeout: Duration) -> LookupOutcome {
    run(source, key, timeout, None)
}

fn run<S: Source + ?Sized + 'static>(
    source: &Arc<S>,
    key: &Value,
    timeout: Duration,
    waiting: Option<&Arc<AtomicUsize>>,
) -> LookupOutcome {
    if !source.may_block() {
        let started = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| source.lookup(key)));
        if started.elapsed() > timeout {
            return LookupOutcome::TimedOut;
        }
        return match result {
            Ok(result) => LookupOutcome::from_result(result),
            Err(panic) => crashed(panic),
        };
    }
    let guard = match waiting {
        Some(counter) => match Waiting::enter(counter) {
            Some(guard) => Some(guard),
            None => return LookupOutcome::Failed(format!("{MAX_WAITING} look-ups are still waiting on this source")),
        },
        None => None,
    };
    let (answer, answered) = mpsc::sync_channel(1);
    let worker_source = source.clone();
    let worker_key = key.clone();
    let spawned = std::thread::Builder::new().name("switchboard-lookup".into()).spawn(move || {
        let _guard = guard;
        let result = catch_unwind(AssertUnwindSafe(|| worker_source.lookup(&worker_key)));
        // The engine may have stopped waiting; then nobody hears the answer.
        let _ = answer.send(result);
    });
    if let Err(error) = spawned {
        return LookupOutcome::Failed(format!("could not start the look-up: {error}"));
    }
    match answered.recv_timeout(timeout) {
        Ok(Ok(result)) => LookupOutcome::from_result(result),
        Ok(Err(panic)) => crashed(panic),
        Err(mpsc::RecvTimeoutError::Timeout) => LookupOutcome::TimedOut,
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            LookupOutcome::Failed("the look-up stopped without an answer".into())
        }
    }
}

fn crashed(panic: Box<dyn Any + Send>) -> LookupOutcome {
    let why = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no reason given".to_string());
    LookupOutcome::Failed(format!("the look-up crashed: {why}"))
}

/// One look-up waiting on a blocking source; counted while it lives.
struct Waiting(Arc<AtomicUsize>);

impl Waiting {
    fn enter(counter: &Arc<AtomicUsize>) -> Option<Waiting> {
        counter.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| (n < MAX_WAITING).then_some(n + 1)).ok()?;
        Some(Waiting(counter.clone()))
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A declared source ready for look-ups: its data, its timeout and its cache.
pub struct LiveSource {
    name: String,
    source: Arc<dyn Source>,
    timeout: Duration,
    cache: Option<Cache>,
    waiting: Arc<AtomicUsize>,
}

impl LiveSource {
    /// Serves `source` as `spec` declares it: `timeout_ms` per look-up, and a cache of
    /// [`DEFAULT_CAPACITY`] answers when `cache_ms` is given.
    pub fn new(spec: &SourceSpec, source: Arc<dyn Source>) -> LiveSource {
        LiveSource {
            name: spec.name.clone(),
            source,
            timeout: Duration::from_millis(spec.timeout_ms.max(1).unsigned_abs()),
            cache: spec.cache_ms.filter(|ms| *ms > 0).map(|ms| Cache::new(ms, DEFAULT_CAPACITY)),
            waiting: Arc::new(AtomicUsize::new(0)),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Looks `key` up at `now_ms` (the engine's clock, virtual in tests). Rows found and
    /// misses are cached; time-outs and failures are not.
    pub fn lookup(&self, key: &Value, now_ms: i64) -> LookupOutcome {
        if let Some(answer) = self.cache.as_ref().and_then(|cache| cache.get(key, now_ms)) {
            return match answer {
                Some(record) => LookupOutcome::Found(record),
                None => LookupOutcome::Missed,
            };
        }
        let outcome = run(&self.source, key, self.timeout, Some(&self.waiting));
        if let Some(cache) = &self.cache {
            match &outcome {
                LookupOutcome::Found(record) => cache.put(key, now_ms, Some(record.clone())),
                LookupOutcome::Missed => cache.put(key, now_ms, None),
                LookupOutcome::TimedOut | LookupOutcome::Failed(_) => {}
            }
        }
        outcome
    }
}

impl std::fmt::Debug for LiveSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveSource").field("name", &self.name).field("timeout", &self.timeout).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::tests::crm;
    use crate::MemorySource;
    use std::sync::{Condvar, Mutex};

    fn ann() -> Arc<Record> {
        Arc::new(Record {
            type_name: Arc::from("Customer"),
            fields: vec![
                (Arc::from("id"), Value::text("c1")),
                (Arc::from("phone"), Value::Phone(Arc::from("+447700900001"))),
            ],
        })
    }

    fn ann_phone() -> Value {
        Value::Phone(Arc::from("+447700900001"))
    }

    /// A real in-memory source behind a delay, counting how often it is asked.
    struct Slow {
        inner: MemorySource,
        delay: Duration,
        blocks: bool,
        asked: AtomicUsize,
    }

    impl Slow {
        fn new(delay_ms: u64, blocks: bool) -> Slow {
            Slow {
                inner: MemorySource::new(&crm(), vec![ann()]),
                delay: Duration::from_millis(delay_ms),
                blocks,
                asked: AtomicUsize::new(0),
            }
        }
    }

    impl Source for Slow {
        fn lookup(&self, key: &Value) -> Result<Option<Arc<Record>>, SourceError> {
            self.asked.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(self.delay);
            self.inner.lookup(key)
        }

        fn may_block(&self) -> bool {
            self.blocks
        }
    }

    struct Broken {
        panics: bool,
    }

    impl Source for Broken {
        fn lookup(&self, _: &Value) -> Result<Option<Arc<Record>>, SourceError> {
            if self.panics {
                panic!("index out of bounds");
            }
            Err(SourceError::Unavailable { source: "crm".into(), message: "database is locked".into() })
        }

        fn may_block(&self) -> bool {
            true
        }
    }

    #[test]
    fn found_and_missed() {
        let source: Arc<dyn Source> = Arc::new(MemorySource::new(&crm(), vec![ann()]));
        let within = Duration::from_millis(500);
        assert_eq!(lookup_within(&source, &ann_phone(), within), LookupOutcome::Found(ann()));
        assert_eq!(lookup_within(&source, &Value::text("@nobody"), within), LookupOutcome::Missed);
        assert_eq!(LookupOutcome::Found(ann()).value(), Value::Record(ann()));
        assert_eq!(LookupOutcome::TimedOut.value(), Value::None);
    }

    #[test]
    fn a_blocking_source_is_not_waited_for_past_its_timeout() {
        let source = Arc::new(Slow::new(2_000, true));
        let started = Instant::now();
        assert_eq!(lookup_within(&source, &ann_phone(), Duration::from_millis(30)), LookupOutcome::TimedOut);
        assert!(started.elapsed() < Duration::from_millis(1_000), "waited {:?}", started.elapsed());
        let fast = Arc::new(Slow::new(0, true));
        assert_eq!(lookup_within(&fast, &ann_phone(), Duration::from_millis(1_000)), LookupOutcome::Found(ann()));
    }

    #[test]
    fn a_local_source_that_took_too_long_timed_out() {
        let source = Arc::new(Slow::new(50, false));
        assert_eq!(lookup_within(&source, &ann_phone(), Duration::from_millis(5)), LookupOutcome::TimedOut);
        assert_eq!(lookup_within(&source, &ann_phone(), Duration::from_millis(5_000)), LookupOutcome::Found(ann()));
    }

    #[test]
    fn errors_and_panics_fail_the_look_up_only() {
        // Generous: printing a panic's backtrace on a loaded machine can take seconds, and
        // this test is about the outcome, not the time.
        let within = Duration::from_secs(120);
        let erring = Arc::new(Broken { panics: false });
        assert_eq!(
            lookup_within(&erring, &ann_phone(), within),
            LookupOutcome::Failed("source `crm`: database is locked".into())
        );
        let panicking = Arc::new(Broken { panics: true });
        assert_eq!(
            lookup_within(&panicking, &ann_phone(), within),
            LookupOutcome::Failed("the look-up crashed: index out of bounds".into())
        );
    }

    #[test]
    fn a_live_source_caches_answers_but_not_time_outs() {
        let mut spec = crm();
        spec.timeout_ms = 20;
        spec.cache_ms = Some(300_000);
        let slow = Arc::new(Slow::new(200, true));
        let live = LiveSource::new(&spec, slow.clone());
        assert_eq!(live.lookup(&ann_phone(), 0), LookupOutcome::TimedOut);
        assert_eq!(live.lookup(&ann_phone(), 1), LookupOutcome::TimedOut);
        assert_eq!(slow.asked.load(Ordering::SeqCst), 2, "a time-out is not kept");

        let fast = Arc::new(Slow::new(0, false));
        spec.timeout_ms = 5_000;
        let live = LiveSource::new(&spec, fast.clone());
        assert_eq!(live.lookup(&ann_phone(), 0), LookupOutcome::Found(ann()));
        assert_eq!(live.lookup(&Value::text("+447700900001"), 10), LookupOutcome::Found(ann()));
        assert_eq!(live.lookup(&Value::text(" +447700900001"), 20), LookupOutcome::Found(ann()));
        assert_eq!(live.lookup(&Value::text("@nobody"), 30), LookupOutcome::Missed);
        assert_eq!(live.lookup(&Value::text("@nobody"), 40), LookupOutcome::Missed);
        assert_eq!(fast.asked.load(Ordering::SeqCst), 3);
        assert_eq!(live.lookup(&ann_phone(), 300_000), LookupOutcome::Found(ann()));
        assert_eq!(fast.asked.load(Ordering::SeqCst), 4, "expired after five minutes");
        assert_eq!(live.name(), "crm");
    }

    /// Blocks every look-up until the gate opens.
    struct Gate {
        open: Mutex<bool>,
        opened: Condvar,
    }

    impl Source for Gate {
        fn lookup(&self, _: &Value) -> Result<Option<Arc<Record>>, SourceError> {
            let mut open = self.open.lock().unwrap();
            while !*open {
                open = self.opened.wait(open).unwrap();
            }
            Ok(None)
        }

        fn may_block(&self) -> bool {
            true
        }
    }

    #[test]
    fn a_hung_source_cannot_pile_up_threads() {
        let mut spec = crm();
        spec.timeout_ms = 1;
        spec.cache_ms = None;
        let gate = Arc::new(Gate { open: Mutex::new(false), opened: Condvar::new() });
        let live = LiveSource::new(&spec, gate.clone());
        for _ in 0..MAX_WAITING {
            assert_eq!(live.lookup(&ann_phone(), 0), LookupOutcome::TimedOut);
        }
        assert_eq!(
            live.lookup(&ann_phone(), 0),
            LookupOutcome::Failed(format!("{MAX_WAITING} look-ups are still waiting on this source"))
        );
        *gate.open.lock().unwrap() = true;
        gate.opened.notify_all();
        let deadline = Instant::now() + Duration::from_secs(10);
        while live.waiting.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        let live = LiveSource { timeout: Duration::from_millis(5_000), ..live };
        assert_eq!(live.lookup(&ann_phone(), 0), LookupOutcome::Missed, "the workers finished and left");
    }
}
