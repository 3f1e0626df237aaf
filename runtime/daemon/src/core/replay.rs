//! The replay check on a daemon's own store (`switchboard test --replay --data DIR`): from
//! the oldest snapshot kept, every journal record after it is applied again, on a copy of
//! the store, and what each gives must be what the daemon stored when it ran: the same
//! events (by record and number), the same feed rows (by key: every message a customer or
//! agent was sent), and at each later snapshot the same state, byte for byte.
//!
//! The engine is deterministic and every input is journaled with its time, so a difference
//! means something reached the state that the journal does not hold: a clock read, a hash
//! order, an input applied without being journaled.

use super::{stored_world, Core, Entry, SnapshotBody};
use crate::connect::Connections;
use crate::core::{store_err, Tuning};
use crate::store::Store;
use jiff::Timestamp;
use std::path::Path;
use std::sync::Arc;
use switchboard_engine::{Output, State};

/// What the check compared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplayCheck {
    /// The snapshot replayed from: the record it was taken after.
    pub from_seq: i64,
    /// Journal records applied again.
    pub records: usize,
    pub events: u64,
    pub feed_rows: u64,
    /// Later snapshots whose state the replay reached exactly.
    pub snapshots: usize,
    /// The first record whose outputs the daemon had not written yet: it journals a batch
    /// before it writes what the batch gave, so a copy taken (or a crash) in between holds
    /// records whose outputs come later, or on restart. Only a tail may be so.
    pub unwritten_from: Option<i64>,
}

impl ReplayCheck {
    fn missing(&mut self, seq: i64) {
        self.unwritten_from.get_or_insert(seq);
    }

    /// An output found stored: after outputs that were not, that is a hole, not a tail.
    fn found(&mut self, seq: i64, what: impl Fn() -> String) -> Result<(), String> {
        match self.unwritten_from {
            Some(first) => Err(format!(
                "journal record {seq}: {} is stored, but outputs of record {first} before it are not",
                what()
            )),
            None => Ok(()),
        }
    }
}

impl std::fmt::Display for ReplayCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "replayed {} journal records from the snapshot after record {}: the same {} events and {} messages, \
             and the same state at {} later snapshot{}",
            self.records,
            self.from_seq,
            self.events,
            self.feed_rows,
            self.snapshots,
            if self.snapshots == 1 { "" } else { "s" }
        )?;
        match self.unwritten_from {
            Some(seq) => write!(f, " (the outputs of records from {seq} on were not written yet)"),
            None => Ok(()),
        }
    }
}

/// Checks the store in `data` (which may be in use by a running daemon: the check reads a
/// copy). `project_root` is where the bundles' SQLite sources are opened from; look-ups
/// are not made again (their answers are in the journal).
pub fn check_replay(data: &Path, project_root: &Path) -> Result<ReplayCheck, String> {
    let scratch = tempfile::tempdir().map_err(|e| format!("cannot make a folder for the copy: {e}"))?;
    let mut store = Store::copy_of(data, scratch.path()).map_err(store_err)?;
    let snapshots = store.snapshots().map_err(store_err)?;
    let Some((from_seq, body)) = snapshots.first().cloned() else {
        return Err("the store holds no snapshot to replay from".to_string());
    };
    // Look-ups are not made again (their answers are in the journal): no connections.
    let connections = Arc::new(Connections::none());
    let (world, sources) = stored_world(&store, project_root, &connections)?;
    let body: SnapshotBody = postcard::from_bytes(&body).map_err(|e| format!("snapshot {from_seq}: {e}"))?;
    let records = store.journal_after(from_seq).map_err(store_err)?;
    let mut core = Core {
        store,
        state: State::from_bytes(&body.state)?,
        world,
        side: body.side,
        sources,
        connections,
        project_root: project_root.to_path_buf(),
        last_seq: from_seq,
        since_snapshot: 0,
        last_snapshot: std::time::Instant::now(),
        tuning: Tuning::default(),
        live: false,
        out: Output::default(),
        outputs: Default::default(),
        event_n: 0,
        pushed: Vec::new(),
        to_perform: Vec::new(),
        metrics: Arc::new(Default::default()),
    };
    let mut check = ReplayCheck { from_seq, records: 0, events: 0, feed_rows: 0, snapshots: 0, unwritten_from: None };
    for record in records {
        let (at, entry): (Timestamp, Entry) =
            postcard::from_bytes(&record.body).map_err(|e| format!("journal record {}: {e}", record.seq))?;
        let _ = core.apply(record.seq, at, entry);
        core.last_seq = record.seq;
        check.records += 1;
        let outputs = std::mem::take(&mut core.outputs);
        for event in &outputs.events {
            let stored = core.store.event(event.seq, event.n).map_err(store_err)?;
            let what = || format!("event {} ({} {})", event.n, event.kind, event.body);
            match stored {
                Some(stored) if &stored == event => check.found(record.seq, what)?,
                Some(stored) => {
                    return Err(format!(
                        "journal record {}: {} replays differently from what the daemon stored: {} {}",
                        record.seq,
                        what(),
                        stored.kind,
                        stored.body
                    ))
                }
                None => check.missing(record.seq),
            }
            check.events += u64::from(check.unwritten_from.is_none());
        }
        for row in &outputs.feed {
            let stored = core.store.feed_row(&row.key).map_err(store_err)?;
            let what = || format!("message `{}` ({})", row.key, row.body);
            match stored {
                Some(s)
                    if (s.contact, s.audience.as_str(), &s.agent, s.at_ms, &s.body)
                        == (row.contact, row.audience, &row.agent, row.at_ms, &row.body) =>
                {
                    check.found(record.seq, what)?
                }
                Some(s) => {
                    return Err(format!(
                        "journal record {}: {} replays differently from what the daemon stored: {}",
                        record.seq,
                        what(),
                        s.body
                    ))
                }
                None => check.missing(record.seq),
            }
            check.feed_rows += u64::from(check.unwritten_from.is_none());
        }
        if let Some((_, body)) = snapshots.iter().find(|(seq, _)| *seq == record.seq) {
            let taken: SnapshotBody =
                postcard::from_bytes(body).map_err(|e| format!("snapshot {}: {e}", record.seq))?;
            let side = postcard::to_allocvec(&core.side).map_err(|e| e.to_string())?;
            let taken_side = postcard::to_allocvec(&taken.side).map_err(|e| e.to_string())?;
            if core.state.to_bytes() != taken.state || side != taken_side {
                return Err(format!(
                    "after journal record {}: the replayed state differs from the snapshot the daemon took there",
                    record.seq
                ));
            }
            check.snapshots += 1;
        }
    }
    let stored = core.store.events_after(from_seq).map_err(store_err)?;
    if stored != check.events {
        return Err(format!(
            "the daemon stored {stored} events after record {from_seq}, and the replay gave {}",
            check.events
        ));
    }
    Ok(check)
}
