//! Random rhai scripts through the sandbox every run uses: loaded, then `f` called with a
//! number and a text. Most inputs drive the grammar of the sandbox's property test
//! (`runtime/sandbox/tests/support/grammar.rs`), so the scripts stay within the language
//! and run far; the rest are taken as script text as they are, for rhai's parser. A
//! script may fail to load and a call may fail, but nothing may panic or overflow the
//! stack, and every call must come back within its budget.
#![no_main]

#[path = "../../runtime/sandbox/tests/support/grammar.rs"]
mod grammar;

use libfuzzer_sys::fuzz_target;
use std::time::{Duration, Instant};
use switchboard_bytecode::types::Type;
use switchboard_bytecode::value::Value;
use switchboard_sandbox::{Limits, Sandbox};

/// The fuzzer's bytes as the grammar's choices; once they run out, every choice is the
/// first (which always leads to a finished script).
struct Bytes<'a>(&'a [u8]);

impl grammar::Choices for Bytes<'_> {
    fn below(&mut self, n: usize) -> usize {
        match self.0.split_first() {
            Some((&byte, rest)) => {
                self.0 = rest;
                usize::from(byte) % n
            }
            None => 0,
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let script = if mode % 4 == 0 {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        grammar::script(&mut Bytes(rest))
    };
    let mut sandbox = Sandbox::new(Limits::default());
    let Ok(id) = sandbox.load("fuzz.rhai", &script) else { return };
    let returns = [Type::Number, Type::Text, Type::List(Box::new(Type::Number)), Type::Bool];
    let started = Instant::now();
    let _ = sandbox.call(id, "f", &[Value::Number(3.0), Value::text("oxygen")], &returns[usize::from(mode) % 4]);
    // Instrumented builds run several times slower than release; the budget is ~50 ms there.
    let took = started.elapsed();
    assert!(took < Duration::from_secs(2), "a call took {took:?}:\n{script}");
});
