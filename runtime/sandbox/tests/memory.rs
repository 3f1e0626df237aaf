//! Calls give back what they allocate. This test binary counts every allocation.
//!
//! Issue 8: a closure that captured a map holding the closure leaked about 65 KB a call
//! (275 MB after 4,096 calls). Capturing closures made the captured variable a shared
//! `Arc<RwLock<…>>`; storing the closure in that very map closed a cycle of `Arc`s that
//! nothing ever freed. The sandbox's rhai has no capturing closures (`no_closure`), so the
//! pattern is refused at load, and what remains (function pointers, curried values, maps
//! holding them) is copied by value and cannot form a cycle.

use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use std::alloc::System;
use switchboard_bytecode::types::Type;
use switchboard_bytecode::value::Value;
use switchboard_sandbox::{Limits, Sandbox, ScriptId};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Bytes still held after `calls` more calls of `f` with `n`, once warmed up.
fn held_after(sandbox: &Sandbox, id: ScriptId, calls: usize) -> isize {
    let call = |i: usize| {
        let result = sandbox.call(id, "f", &[Value::Number(i as f64)], &Type::Number);
        assert!(result.is_ok(), "{result:?}");
    };
    (0..64).for_each(call);
    let region = Region::new(GLOBAL);
    (0..calls).for_each(call);
    let change = region.change();
    change.bytes_allocated as isize - change.bytes_deallocated as isize
}

/// One test, so that no other test's thread allocates while this one counts.
#[test]
fn calls_give_back_what_they_allocate() {
    a_closure_that_captures_the_map_holding_it_is_refused_or_does_not_leak();
    function_pointers_in_maps_do_not_leak();
}

fn a_closure_that_captures_the_map_holding_it_is_refused_or_does_not_leak() {
    let leaky = "fn f(n) { let m = #{ n: n }; m.f = || m.n; m.f.call() }";
    let mut sandbox = Sandbox::new(Limits::default());
    match sandbox.load("leak.rhai", leaky) {
        Err(refused) => assert!(refused.to_string().contains("leak.rhai"), "{refused}"),
        Ok(id) => {
            let held = held_after(&sandbox, id, 4_096);
            assert!(held < 64 * 1024, "4,096 calls kept {held} bytes");
        }
    }
}

fn function_pointers_in_maps_do_not_leak() {
    let script = r#"
        fn g(m, x) { m.n + x }
        fn f(n) {
            let m = #{ n: n, items: [1, 2, 3], name: "pointer" };
            m.f = Fn("g").curry(m);
            m.h = |x| x * 2;
            let k = m;
            k.items.push(m);
            let total = k.f.call(1) + m.h.call(2) + k.items.map(|x| type_of(x).len()).len();
            [3, 1, 2].sort(|a, b| a - b);
            total
        }
    "#;
    let mut sandbox = Sandbox::new(Limits::default());
    let id = sandbox.load("pointers.rhai", script).unwrap();
    let held = held_after(&sandbox, id, 4_096);
    assert!(held < 64 * 1024, "4,096 calls kept {held} bytes");
}
