//! One routing decision for a known gold caller, three ways, side by side in one run:
//!
//! - `engine`: the acme `inbound` flow on the real engine through the local shell, from the
//!   contact's arrival to its `queue vip` effect: two steps of the engine (the arrival, and
//!   the `crm` look-up's answer, which the shell takes from the source's `cache 5m`, warmed
//!   by one call before timing). Each iteration also drains the transcript.
//! - `core`: the same two steps straight into the pure `step_into`, the look-up answered
//!   with the record the shell would give, one reused `Output`: the engine alone.
//! - `rhai`: the same decision written as a rhai script (its AST compiled once), the
//!   customer handed over as a map in a reused scope, found through a `HashMap` that stands
//!   in for the cache.
//! - `native`: the same decision as a plain Rust function over the same `HashMap`: the floor.
//!
//! The script and the native function are given the weekday and the minute of the day
//! (read once, outside the timed loop); the engine reads its clock in Europe/London and its
//! `hours` on every decision, as a flow does. Allocations per decision come from divan's
//! `AllocProfiler`.
//!
//! `cargo bench -p switchboard-engine --bench decision`
//!
//! For a profiler, `DECISION_LOOP=N` skips divan and runs N engine decisions in a plain loop
//! (after the same set-up), e.g. `DECISION_LOOP=20000 valgrind --tool=callgrind <bench binary>`;
//! `DECISION_LOOP_RHAI=N` does the same with the rhai script.

// A benchmark is a program at the edge: it reads its settings from the environment.
#![allow(clippy::disallowed_methods)]

use divan::{AllocProfiler, Bencher};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use switchboard_bytecode::types::Channel;
use switchboard_compiler::{check, codegen};
use switchboard_engine::{
    step_into, Arrival, CommandKind, Completion, EventKind, Input, LookupResult, Output, State, World,
};
use switchboard_shell::{project, LocalShell, Options};
use switchboard_stdlib as stdlib;

#[global_allocator]
static ALLOC: AllocProfiler = AllocProfiler::system();

fn main() {
    if let Ok(n) = std::env::var("DECISION_LOOP") {
        engine_loop(n.parse().expect("DECISION_LOOP is a count"));
    } else if let Ok(n) = std::env::var("DECISION_LOOP_RHAI") {
        rhai_loop(n.parse().expect("DECISION_LOOP_RHAI is a count"));
    } else {
        divan::main();
    }
}

/// `n` engine decisions and nothing else, for `perf` or `callgrind`.
#[inline(never)]
fn engine_loop(n: u64) {
    let mut engine = acme_engine();
    for _ in 0..n {
        engine.contact(Channel::Voice, ANN, Some(ACME_LINE), "", "").expect("an entry");
        drop(divan::black_box(engine.take_events()));
    }
}

/// `n` rhai decisions and nothing else.
#[inline(never)]
fn rhai_loop(n: u64) {
    let mut decide = rhai_decision();
    for _ in 0..n {
        drop(divan::black_box(decide()));
    }
}

/// Samples per benchmark, and decisions per sample (the timer is ~20 ns; a decision is
/// µs on the engine and rhai, tens of ns natively).
const SAMPLES: u32 = 300;
const SLOW: u32 = 64;
const FAST: u32 = 2_048;
const ANN: &str = "+447700900001";
const ACME_LINE: &str = "+441632960000";

/// Monday 2026-11-23 10:00 in London: the office is open.
fn monday_ten() -> jiff::Zoned {
    jiff::civil::date(2026, 11, 23).at(10, 0, 0, 0).in_tz("Europe/London").expect("a valid London time")
}

/// The acme project compiled as `switchboard build` compiles it, and an engine over it at
/// Monday 10:00 whose `crm` cache already holds Ann.
fn acme_engine() -> LocalShell {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../flows");
    let projects = project::discover(std::slice::from_ref(&root)).expect("the acme project is readable");
    let [acme] = projects.as_slice() else { panic!("one acme project, found {}", projects.len()) };
    let std = stdlib::modules();
    let loader = acme.loader();
    let checked = check::check(acme.input(&std, &loader));
    assert!(!checked.has_errors(), "acme checks cleanly: {:?}", checked.diagnostics);
    let bundle = codegen::compile(&checked, &loader).expect("acme compiles");
    let mut engine =
        LocalShell::for_project(Arc::new(bundle), &acme.root, Options::default(), monday_ten().timestamp())
            .expect("an engine");

    engine.contact(Channel::Voice, ANN, Some(ACME_LINE), "", "").expect("the acme line has an entry");
    let events = engine.take_events();
    let shown: Vec<String> = events.iter().map(|e| e.kind.to_string()).collect();
    let found = events.iter().any(|e| matches!(&e.kind, EventKind::Lookup { outcome, .. } if outcome == "found"));
    assert!(found, "Ann must be found in `crm`; the transcript was {shown:#?}");
    let queued = events.iter().any(|e| matches!(&e.kind, EventKind::Queue { queue, .. } if queue == "vip"));
    assert!(queued, "Ann must reach `queue vip`; the transcript was {shown:#?}");
    engine
}

#[divan::bench(sample_count = SAMPLES, sample_size = SLOW)]
fn engine(bencher: Bencher) {
    let mut engine = acme_engine();
    bencher.bench_local(|| {
        let id = engine.contact(Channel::Voice, ANN, Some(ACME_LINE), "", "").expect("an entry");
        divan::black_box(engine.take_events());
        id
    });
}

/// The pure engine with no shell: its state and world, and Ann's record as the shell's
/// cache answers her look-up.
fn acme_core() -> (State, World, Completion) {
    let (mut state, world, services) = acme_engine().into_parts();
    let mut out = Output::default();
    let now = monday_ten().timestamp();
    step_into(&mut state, &world, now, Input::Arrive(ann_calls()), &mut out).expect("an entry");
    let command = out.commands.iter().find(|c| matches!(c.kind, CommandKind::Lookup { .. })).expect("a look-up");
    let found = services.answer(command, now.as_millisecond()).expect("a look-up is answered");
    assert!(matches!(found, Completion::Lookup(LookupResult::Found(_))), "Ann is in the cache: {found:?}");
    (state, world, found)
}

fn ann_calls() -> Arrival {
    Arrival {
        channel: Channel::Voice,
        from: ANN.into(),
        to: Some(ACME_LINE.into()),
        subject: "".into(),
        text: "".into(),
        attributes: Vec::new(),
    }
}

#[divan::bench(sample_count = SAMPLES, sample_size = SLOW)]
fn core(bencher: Bencher) {
    let (mut state, world, found) = acme_core();
    let now = monday_ten().timestamp();
    let mut out = Output::default();
    bencher.bench_local(|| {
        out.clear();
        step_into(&mut state, &world, now, Input::Arrive(ann_calls()), &mut out).expect("an entry");
        let command = out.commands.iter().find(|c| matches!(c.kind, CommandKind::Lookup { .. })).map(|c| c.id);
        let command = command.expect("a look-up");
        let result = found.clone();
        step_into(&mut state, &world, now, Input::Completed { command, result }, &mut out).expect("answered");
        divan::black_box(out.events.len())
    });
}

/// The decision in rhai; `customer` (a map, or `()` for an unknown caller), `weekday`
/// (Monday 0) and `minute` (of the local day) are in scope. The acme `risk.rhai` formula
/// is inlined. Gives `[route, greeting]`.
const DECISION_RHAI: &str = r#"
let open = if weekday <= 4 {
    minute >= 480 && minute < 1080
} else if weekday == 5 {
    minute >= 540 && minute < 780
} else {
    false
};
let known = type_of(customer) == "map";
if !open && !(known && customer.tier == "platinum") {
    return ["closed", "We're closed. We open Monday to Friday 8am to 6pm, and Saturday 9am to 1pm."];
}
if !known {
    return ["menu", "Welcome to Acme Devices."];
}
let greeting = `Welcome back, ${customer.name}.`;
if customer.tier == "gold" || customer.tier == "platinum" {
    return ["vip", greeting];
}
let risk = 0.0;
if customer.balance > 100.0 { risk += 0.4; }
if customer.tier == "standard" { risk += 0.3; }
if customer.balance > 0.0 && risk > 0.5 {
    return ["billing", greeting];
}
["menu", greeting]
"#;

/// The rhai decision for Ann, ready to run (checked once).
fn rhai_decision() -> impl FnMut() -> rhai::Array {
    let engine = rhai::Engine::new();
    let ast = engine.compile(DECISION_RHAI).expect("the decision script compiles");
    let mut ann = rhai::Map::new();
    ann.insert("name".into(), "Ann Baker".into());
    ann.insert("tier".into(), "gold".into());
    ann.insert("language".into(), "en".into());
    ann.insert("balance".into(), rhai::Dynamic::from_float(0.0));
    ann.insert("last_agent".into(), "agent-7".into());
    let cache: HashMap<String, rhai::Map> = HashMap::from([(ANN.to_string(), ann)]);
    let now = monday_ten();
    let weekday = i64::from(now.weekday().to_monday_zero_offset());
    let minute = i64::from(now.hour()) * 60 + i64::from(now.minute());
    let mut scope = rhai::Scope::new();

    let mut decide = move || {
        scope.clear();
        let customer = cache.get(divan::black_box(ANN)).map_or(rhai::Dynamic::UNIT, |c| c.clone().into());
        scope.push_dynamic("customer", customer);
        scope.push("weekday", weekday);
        scope.push("minute", minute);
        engine.eval_ast_with_scope::<rhai::Array>(&mut scope, &ast).expect("the decision runs")
    };
    let decided = decide();
    let route = decided.first().map(|r| r.to_string());
    assert_eq!(route.as_deref(), Some("vip"), "the script decides `vip` for Ann: {decided:?}");
    decide
}

#[divan::bench(sample_count = SAMPLES, sample_size = SLOW)]
fn rhai(bencher: Bencher) {
    bencher.bench_local(rhai_decision());
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tier {
    Standard,
    Gold,
    Platinum,
}

struct Customer {
    name: String,
    tier: Tier,
    /// Pence.
    balance: i64,
}

#[derive(Debug, PartialEq, Eq)]
enum Route {
    Closed,
    Vip,
    Billing,
    Menu,
}

/// £100 in pence: above it, a balance is a risk (`risk.rhai`).
const HUNDRED_POUNDS: i64 = 10_000;

/// The decision in plain Rust: where the caller goes and what they hear first.
fn decide(customer: Option<&Customer>, weekday: u8, minute: u32) -> (Route, String) {
    let open = match weekday {
        0..=4 => (480..1080).contains(&minute),
        5 => (540..780).contains(&minute),
        _ => false,
    };
    if !open && customer.is_none_or(|c| c.tier != Tier::Platinum) {
        let closed = "We're closed. We open Monday to Friday 8am to 6pm, and Saturday 9am to 1pm.";
        return (Route::Closed, closed.to_string());
    }
    let Some(c) = customer else { return (Route::Menu, "Welcome to Acme Devices.".to_string()) };
    let greeting = format!("Welcome back, {}.", c.name);
    if matches!(c.tier, Tier::Gold | Tier::Platinum) {
        return (Route::Vip, greeting);
    }
    let mut risk = 0.0;
    if c.balance > HUNDRED_POUNDS {
        risk += 0.4;
    }
    if c.tier == Tier::Standard {
        risk += 0.3;
    }
    if c.balance > 0 && risk > 0.5 {
        return (Route::Billing, greeting);
    }
    (Route::Menu, greeting)
}

#[divan::bench(sample_count = SAMPLES, sample_size = FAST)]
fn native(bencher: Bencher) {
    let ann = Customer { name: "Ann Baker".to_string(), tier: Tier::Gold, balance: 0 };
    let cache: HashMap<String, Customer> = HashMap::from([(ANN.to_string(), ann)]);
    let now = monday_ten();
    let weekday = now.weekday().to_monday_zero_offset() as u8;
    let minute = u32::from(now.hour().unsigned_abs()) * 60 + u32::from(now.minute().unsigned_abs());
    let run = || decide(cache.get(divan::black_box(ANN)), divan::black_box(weekday), divan::black_box(minute));
    assert_eq!(run().0, Route::Vip, "the native decision is `vip` for Ann");
    bencher.bench_local(run);
}
