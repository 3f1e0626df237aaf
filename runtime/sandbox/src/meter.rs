//! The meter: what one call has spent of its operations and its work.
//!
//! A call arms the meter of its thread ([`arm`]) and every charge lands on it: rhai's
//! progress callback adds one operation per step, the variable hook and the sandbox's
//! functions add units of work for the data they touch ([`charge`], [`size`]). Counting
//! here rather than in rhai's own counter matters twice: rhai hands a function called
//! through a pointer (a `sort` comparator, a `map` callback) a copy of its counter, so
//! their steps would never add up; and a limit that a script swallowed (a comparator's
//! error, a `catch`) stays recorded, so the call fails all the same.
//!
//! The stack is watched the same way: at every operation the meter compares where the
//! stack is with where the call began, and stops a call that went deeper than its budget
//! (rhai's call depth limit counts calls, not the size of their frames).
//!
//! Everything is counted, nothing is timed: the same call on the same values spends the
//! same, so replay decides every limit exactly as the first run did.

use rhai::{Dynamic, EvalAltResult, Position};
use std::cell::Cell;

/// Bytes of text that cost one unit of work.
pub(crate) const TEXT_BYTES_PER_UNIT: u64 = 32;

/// Which budget a call ran out of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Spent {
    Operations,
    Work,
    Stack,
}

impl Spent {
    /// The token rhai carries in `ErrorTerminated`, read back by [`Spent::of`].
    fn token(self) -> Dynamic {
        Dynamic::from(match self {
            Spent::Operations => "operations",
            Spent::Work => "work",
            Spent::Stack => "stack",
        })
    }

    pub(crate) fn of(token: &Dynamic) -> Option<Spent> {
        match token.clone().into_string().ok()?.as_str() {
            "operations" => Some(Spent::Operations),
            "work" => Some(Spent::Work),
            "stack" => Some(Spent::Stack),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Meter {
    /// Where the call's stack began, and how far below it a script may take it.
    stack_base: usize,
    max_stack: usize,
    operations: u64,
    max_operations: u64,
    work: u64,
    max_work: u64,
    spent: Option<Spent>,
}

/// Outside a call nothing is limited: rhai's optimizer may fold a constant at compile time.
const IDLE: Meter = Meter {
    stack_base: 0,
    max_stack: usize::MAX,
    operations: 0,
    max_operations: u64::MAX,
    work: 0,
    max_work: u64::MAX,
    spent: None,
};

thread_local! {
    static METER: Cell<Meter> = const { Cell::new(IDLE) };
}

/// The meter armed for one call; dropping it puts back what was there before.
#[must_use]
pub(crate) struct Armed {
    before: Meter,
}

impl Drop for Armed {
    fn drop(&mut self) {
        METER.with(|m| m.set(self.before));
    }
}

/// Where the stack is now: the address of a local, compared, never dereferenced.
#[inline(never)]
fn stack_here() -> usize {
    let here = 0u8;
    std::hint::black_box(&here) as *const u8 as usize
}

/// Starts a call's count from nothing, with these budgets.
pub(crate) fn arm(max_operations: u64, max_work: u64, max_stack: usize) -> Armed {
    let fresh =
        Meter { stack_base: stack_here(), max_stack, operations: 0, max_operations, work: 0, max_work, spent: None };
    Armed { before: METER.with(|m| m.replace(fresh)) }
}

/// The budget the armed call ran out of, if it did (even if the script went on).
pub(crate) fn spent() -> Option<Spent> {
    METER.with(|m| m.get().spent)
}

/// One rhai operation: rhai's progress callback. `Some` stops the script.
pub(crate) fn operation() -> Option<Dynamic> {
    METER.with(|m| {
        let mut meter = m.get();
        meter.operations += 1;
        let depth = meter.stack_base.saturating_sub(stack_here());
        if meter.spent.is_none() && meter.operations > meter.max_operations {
            meter.spent = Some(Spent::Operations);
        }
        if meter.spent.is_none() && depth > meter.max_stack {
            meter.spent = Some(Spent::Stack);
        }
        m.set(meter);
        meter.spent.map(Spent::token)
    })
}

/// Charges `units` of work, failing the call once its budget is gone. The charge comes
/// before the work it pays for, so nothing is done beyond the budget.
pub(crate) fn charge(units: u64) -> Result<(), Box<EvalAltResult>> {
    METER.with(|m| {
        let mut meter = m.get();
        meter.work = meter.work.saturating_add(units);
        if meter.spent.is_none() && meter.work > meter.max_work {
            meter.spent = Some(Spent::Work);
        }
        m.set(meter);
        match meter.spent {
            None => Ok(()),
            Some(spent) => Err(EvalAltResult::ErrorTerminated(spent.token(), Position::NONE).into()),
        }
    })
}

/// Units of work left to the armed call.
fn left() -> u64 {
    METER.with(|m| {
        let meter = m.get();
        meter.max_work.saturating_sub(meter.work)
    })
}

/// Units of work in `text`'s bytes: a started unit counts whole.
pub(crate) fn text_units(bytes: usize) -> u64 {
    (bytes as u64).div_ceil(TEXT_BYTES_PER_UNIT)
}

/// What copying, comparing or printing `value` costs: one unit per list item and map
/// entry, at every depth, plus its texts' bytes and a function pointer's curried values.
/// Measuring stops once it passes what the call has left, so measuring a huge value
/// costs no more than the budget it is about to exhaust.
pub(crate) fn size(value: &Dynamic) -> u64 {
    let cap = left().saturating_add(1);
    let mut total = 0;
    add_size(value, cap, &mut total);
    total
}

fn add_size(value: &Dynamic, cap: u64, total: &mut u64) {
    if *total > cap {
        return;
    }
    if let Some(text) = value.read_lock::<rhai::ImmutableString>() {
        *total += text_units(text.len());
    } else if let Some(items) = value.read_lock::<rhai::Array>() {
        *total += items.len() as u64;
        for item in items.iter() {
            add_size(item, cap, total);
        }
    } else if let Some(map) = value.read_lock::<rhai::Map>() {
        *total += map.len() as u64;
        for entry in map.values() {
            add_size(entry, cap, total);
        }
    } else if let Some(pointer) = value.read_lock::<rhai::FnPtr>() {
        for curried in pointer.iter_curry() {
            add_size(curried, cap, total);
        }
    }
}
