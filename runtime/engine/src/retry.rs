//! Retry strategies: timelines of steps (`immediately`, `at`, `after`) held by quiet
//! hours, and handlers for call outcomes (`on no_answer { … again … }`).

use crate::core::Core;
use crate::error::EngineError;
use crate::ids::{RetryRunId, SessionId};
use crate::state::{BundleRef, Session, SessionKind, Timer};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use switchboard_bytecode::bytecode::{Medium, RetryId, StepTime};
use switchboard_bytecode::value::Value;
use switchboard_calendar::{self as calendar, Quiet, Timers};
use switchboard_vm::{Host, Vm};

/// One running strategy for one subject (a lead, a phone number).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RetryRun {
    pub id: RetryRunId,
    /// The bundle it started on: it finishes on it.
    pub bundle: BundleRef,
    pub retry: RetryId,
    pub subject: Value,
    pub zone: String,
    /// Attempts made of each step (a call repeated by `again` counts each time).
    pub attempts: Vec<u32>,
    /// The step whose call waits for its outcome.
    pub pending_call: Option<usize>,
    pub stopped: bool,
}

impl Core<'_> {
    /// Starts strategy `retry` of bundle `bundle` for `subject`; returns the run's id.
    pub(crate) fn start_retry(&mut self, bundle: BundleRef, retry: RetryId, subject: Value) -> RetryRunId {
        let prepared = self.prepared(bundle);
        let info = &prepared.bundle.retries[retry.index()];
        let zone = match info.timezone {
            Some(f) => match self.evaluate(prepared, f, vec![subject.clone()], &Host::new(&prepared.tables)) {
                Ok(v) => v.display(),
                Err(_) => "UTC".to_string(),
            },
            None => "UTC".to_string(),
        };
        let id = RetryRunId(self.id());
        let zone = if calendar::time_zone(&zone).is_ok() { zone } else { "UTC".to_string() };
        let attempts = vec![0; info.steps.len()];
        self.retries
            .insert(id, RetryRun { id, bundle, retry, subject, zone, attempts, pending_call: None, stopped: false });
        let now = self.now;
        self.schedule_retry_step(id, 0, now);
        id
    }

    fn run_zone(&self, run: RetryRunId) -> (jiff::tz::TimeZone, Quiet) {
        let r = &self.retries[&run];
        let info = &self.prepared(r.bundle).bundle.retries[r.retry.index()];
        let zone = calendar::time_zone(&r.zone).unwrap_or(jiff::tz::TimeZone::UTC);
        let quiet = info.quiet.and_then(|(f, t)| Quiet::new(f, t).ok()).unwrap_or_default();
        (zone, quiet)
    }

    /// Whether a message of `medium` sent now by `run` falls in its quiet hours.
    pub(crate) fn held(&self, run: RetryRunId, medium: Medium) -> bool {
        if medium == Medium::Email || !self.retries.contains_key(&run) {
            return false;
        }
        let (zone, quiet) = self.run_zone(run);
        quiet.contains(&zone, self.now)
    }

    /// When the quiet hours around now end, for `run`.
    pub(crate) fn release(&self, run: RetryRunId) -> Timestamp {
        let (zone, quiet) = self.run_zone(run);
        quiet.release(&zone, self.now)
    }

    fn schedule_retry_step(&mut self, run: RetryRunId, step: usize, base: Timestamp) {
        let Some(r) = self.retries.get(&run) else { return };
        if r.stopped {
            return;
        }
        let info = &self.prepared(r.bundle).bundle.retries[r.retry.index()];
        let Some(s) = info.steps.get(step) else { return };
        let (zone, quiet) = self.run_zone(run);
        let due = match s.when {
            StepTime::Immediately => base,
            StepTime::At(minutes) => calendar::next_at(&zone, base, minutes),
            StepTime::After(ms) => calendar::after(&zone, base, SignedDuration::from_millis(ms)),
        };
        let due = calendar::hold(&zone, quiet, due, s.held);
        if due <= self.now {
            self.retry_step(run, step, false);
        } else {
            self.timers.schedule(due, Timer::RetryStep { run, step });
        }
    }

    /// Runs a step's action; a repeat (`again`) does not move the timeline on.
    pub(crate) fn retry_step(&mut self, run: RetryRunId, step: usize, repeat: bool) {
        let Some(r) = self.retries.get_mut(&run) else { return };
        if r.stopped {
            return;
        }
        r.attempts[step] += 1;
        let (subject, bundle_ref, retry) = (r.subject.clone(), r.bundle, r.retry);
        let prepared = self.prepared(bundle_ref);
        let bundle = &*prepared.bundle;
        let action = bundle.retries[retry.index()].steps[step].action;
        let contact = Box::new(prepared.nobody(Arc::from(format!("retry-{}", run.0)), self.now));
        let vm = Vm::new(bundle, action, contact, vec![subject], None);
        let id = SessionId(self.id());
        let kind = SessionKind::Retry { run, step: if repeat { None } else { Some(step) } };
        self.sessions.insert(id, Session::new(id, kind, bundle_ref, None, vm));
        if repeat {
            if let Some(r) = self.retries.get_mut(&run) {
                r.pending_call = Some(step);
            }
        }
        self.drive(id);
    }

    /// After a step's action: the next step counts from now.
    pub(crate) fn retry_step_done(&mut self, run: RetryRunId, step: usize) {
        let now = self.now;
        self.schedule_retry_step(run, step + 1, now);
    }

    /// `again in D [at T] max N`: repeats the call whose outcome fired, N attempts in all.
    pub(crate) fn again(&mut self, run: RetryRunId, delay_ms: i64, at: Option<u32>, max: u32) {
        let Some(r) = self.retries.get(&run) else { return };
        let Some(step) = r.pending_call else { return };
        if r.attempts[step] >= max {
            return;
        }
        let (zone, quiet) = self.run_zone(run);
        let due = calendar::again(&zone, self.now, SignedDuration::from_millis(delay_ms), at);
        let due = calendar::hold(&zone, quiet, due, true);
        self.timers.schedule(due, Timer::RetryRepeat { run, step });
    }

    pub(crate) fn stop_retry(&mut self, run: RetryRunId) {
        if let Some(r) = self.retries.get_mut(&run) {
            r.stopped = true;
        }
        self.withdraw_calls(run);
        let mine: Vec<_> = self
            .timers
            .iter()
            .filter(|(_, p)| match &p.timer {
                Timer::RetryStep { run: r, .. }
                | Timer::RetryRepeat { run: r, .. }
                | Timer::HeldSend { run: r, .. } => *r == run,
                Timer::Silence { .. } | Timer::Waiting { .. } | Timer::AcdTick => false,
            })
            .map(|(id, _)| id)
            .collect();
        for id in mine {
            self.timers.cancel(id);
        }
    }

    /// An outcome (`no_answer`, `answered`, `opted_out` …) arrives for `run`, or, with no
    /// run named, for the newest run waiting on a call. Runs that strategy's handler.
    pub(crate) fn call_outcome(&mut self, run: Option<RetryRunId>, outcome: &str) -> Result<(), EngineError> {
        let run = match run {
            Some(r) => r,
            None => self.newest_retry_run().ok_or(EngineError::UnknownName {
                kind: "retry run",
                name: "(no retry strategy is running)".to_string(),
            })?,
        };
        let r = self.retries.get(&run).ok_or(EngineError::UnknownName { kind: "retry run", name: run.to_string() })?;
        let (subject, bundle_ref) = (r.subject.clone(), r.bundle);
        let prepared = self.prepared(bundle_ref);
        let bundle = &*prepared.bundle;
        let info = &bundle.retries[r.retry.index()];
        let Some((_, handler)) = info.handlers.iter().find(|(e, _)| e == outcome) else {
            return Ok(());
        };
        let contact = Box::new(prepared.nobody(Arc::from(format!("retry-{}", run.0)), self.now));
        let vm = Vm::new(bundle, *handler, contact, vec![subject], None);
        let id = SessionId(self.id());
        self.sessions.insert(id, Session::new(id, SessionKind::Retry { run, step: None }, bundle_ref, None, vm));
        self.drive(id);
        Ok(())
    }
}
