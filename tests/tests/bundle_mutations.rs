//! Damaged bundles never panic: the bundles of `flows/`, every `examples/*` project and
//! every `std` module are mutated thousands of times (with a seeded RNG, so a failure is
//! reproduced by its seed): truncated, bit-flipped, bytes overwritten, spliced, varints
//! grown. `Bundle::from_bytes` must give `Err` or a bundle, never a panic, and every
//! mutated bundle it accepts runs in the VM (every flow, script, survey, retry step and
//! waiting announcement, answering every effect) without panicking.
//!
//! This drives the libraries, not the binary: a panic is caught and reported with the seed
//! and the mutation that caused it.
#![allow(clippy::disallowed_methods)]

mod support;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use support::*;
use switchboard_bytecode::bytecode::{Bundle, FuncId, WaitingAction};
use switchboard_bytecode::types::Channel;
use switchboard_bytecode::value::Value;
use switchboard_compiler::codegen;
use switchboard_shell::project;
use switchboard_vm::{Contact, Host, Resume, Step, Tables, Vm};

/// How many mutations of each bundle.
const MUTATIONS: usize = 1_500;

/// The bundle of every project the repository holds, by name.
fn real_bundles() -> Vec<(String, Vec<u8>)> {
    let std = switchboard_stdlib::modules();
    let mut paths = vec![repo().join("flows"), repo().join("stdlib")];
    paths.extend(examples());
    let mut bundles = Vec::new();
    for path in paths {
        for project in project::discover(std::slice::from_ref(&path)).expect("the project is found") {
            let checked = project.check(&std);
            let errors: Vec<_> = checked.diagnostics.iter().filter(|d| d.is_error()).collect();
            assert!(errors.is_empty(), "{} has errors: {errors:?}", path.display());
            let bundle = codegen::compile(&checked, &project.loader()).expect("the project compiles");
            let name = format!("{}{}", path.display(), project.module);
            let bytes = bundle.to_bytes().expect("the bundle encodes");
            // The verifier passes every bundle the compiler makes.
            let read = Bundle::from_bytes(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(read, bundle, "{name}");
            bundles.push((name, bytes));
        }
    }
    assert!(bundles.len() >= 5, "flows, examples and std modules: {}", bundles.len());
    bundles
}

/// One mutation of `bytes`, described for the failure message.
fn mutate(rng: &mut fastrand::Rng, bytes: &[u8]) -> (Vec<u8>, String) {
    let mut out = bytes.to_vec();
    let len = out.len().max(1);
    let what = match rng.u8(0..6) {
        0 => {
            let at = rng.usize(0..len);
            out.truncate(at);
            format!("truncated at {at}")
        }
        1 => {
            let n = rng.usize(1..4);
            let mut flipped = Vec::new();
            for _ in 0..n {
                let at = rng.usize(0..out.len());
                let bit = rng.u8(0..8);
                out[at] ^= 1 << bit;
                flipped.push((at, bit));
            }
            format!("bits flipped {flipped:?}")
        }
        2 => {
            let at = rng.usize(0..out.len());
            let byte = rng.u8(..);
            out[at] = byte;
            format!("byte {at} set to {byte}")
        }
        3 => {
            // A small number made large: postcard writes lengths and ids as varints.
            let at = rng.usize(0..out.len());
            let grown = [0xff, 0xff, 0xff, 0x0f];
            out.splice(at..(at + 1).min(out.len()), grown);
            format!("varint grown at {at}")
        }
        4 => {
            let from = rng.usize(0..out.len());
            let to = rng.usize(0..out.len());
            let n = rng.usize(1..16).min(out.len() - from.max(to));
            let piece = out[from..from + n].to_vec();
            out[to..to + n].copy_from_slice(&piece);
            format!("{n} bytes copied from {from} to {to}")
        }
        _ => {
            let at = rng.usize(0..out.len());
            let byte = rng.u8(0..4);
            out[at] = byte;
            format!("byte {at} set to small {byte}")
        }
    };
    (out, what)
}

fn contact(channel: Channel) -> Box<Contact> {
    Box::new(Contact {
        id: Arc::from("c1"),
        channel,
        from: Value::Phone(Arc::from("+447700900001")),
        to: Arc::from("+441632960000"),
        text: Arc::from("hello"),
        subject: Arc::from(""),
        language: Arc::from("en"),
        country: Arc::from("GB"),
        started_at: "2026-11-23T10:00:00Z".parse().unwrap(),
        attributes: Default::default(),
    })
}

/// Every function a run can start at, with the globals it is given.
fn entry_points(b: &Bundle) -> Vec<(FuncId, Vec<Value>, Option<FuncId>)> {
    let none = |n: u16| vec![Value::None; n as usize];
    let mut out = Vec::new();
    for f in &b.flows {
        out.push((f.body, none(f.globals), f.on_error));
    }
    for s in &b.scripts {
        out.push((s.prelude, none(s.globals), None));
        out.extend(s.steps.iter().map(|(_, f)| (*f, none(s.globals), None)));
    }
    for s in &b.surveys {
        out.push((s.body, none(s.globals), None));
    }
    for r in &b.retries {
        let subject = vec![Value::None; r.globals.max(1) as usize];
        let funcs = r.timezone.iter().chain(r.steps.iter().map(|s| &s.action)).chain(r.handlers.iter().map(|h| &h.1));
        out.extend(funcs.map(|f| (*f, subject.clone(), None)));
    }
    for q in &b.queues {
        for line in &q.waiting {
            if let WaitingAction::Say(f) = line.action {
                out.push((f, Vec::new(), None));
            }
        }
    }
    for r in &b.replies {
        out.push((r.text, none(r.globals), None));
    }
    out
}

/// Runs each entry point of a verified bundle to its end, answering every effect: with
/// the first option, none, or a failure, in turn.
fn run_all(b: &Bundle) {
    let tables = Tables::new(b);
    let host = Host::new(&tables);
    let now = "2026-11-23T10:00:00Z".parse().unwrap();
    for (i, (func, globals, on_error)) in entry_points(b).into_iter().enumerate() {
        let mut vm = Vm::new(b, func, contact(Channel::Voice), globals, on_error);
        for turn in 0..200 {
            let mut fuel = 10_000;
            match vm.run(b, &host, now, &mut fuel) {
                Step::Yield(_) => {
                    let resume = match (i + turn) % 3 {
                        0 => Resume::Value(Value::Number(0.0)),
                        1 => Resume::Value(Value::None),
                        _ => Resume::Failed("answered with a failure".into()),
                    };
                    vm.resume(b, resume);
                }
                Step::Running => vm.resume(b, Resume::Unit),
                Step::Done | Step::Failed(_) => break,
            }
        }
        let _ = vm.position(b);
        let _ = vm.result();
    }
}

#[test]
fn mutated_bundles_are_refused_or_run_without_panicking() {
    let bundles = real_bundles();
    // Every real bundle also runs cleanly before it is mutated.
    for (name, bytes) in &bundles {
        let bundle = Bundle::from_bytes(bytes).unwrap();
        catch_unwind(AssertUnwindSafe(|| run_all(&bundle))).unwrap_or_else(|_| panic!("{name} panics unmutated"));
    }
    let mut failures = Vec::new();
    let (mut accepted, mut refused) = (0, 0);
    for (n, (name, bytes)) in bundles.iter().enumerate() {
        for i in 0..MUTATIONS {
            let seed = (n * MUTATIONS + i) as u64;
            let mut rng = fastrand::Rng::with_seed(seed);
            let (damaged, what) = mutate(&mut rng, bytes);
            let read = catch_unwind(|| Bundle::from_bytes(&damaged));
            let bundle = match read {
                Err(_) => {
                    failures.push(format!("{name}, seed {seed} ({what}): from_bytes panicked"));
                    continue;
                }
                Ok(Err(message)) => {
                    assert!(!message.is_empty());
                    refused += 1;
                    continue;
                }
                Ok(Ok(bundle)) => bundle,
            };
            accepted += 1;
            if catch_unwind(AssertUnwindSafe(|| run_all(&bundle))).is_err() {
                failures.push(format!("{name}, seed {seed} ({what}): the accepted bundle panics in the VM"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} mutations panic:\n{}",
        failures.len(),
        accepted + refused,
        failures.join("\n")
    );
    // Both halves are exercised: some damage is refused, some is harmless (a text changed).
    assert!(refused > 100 && accepted > 100, "refused {refused}, accepted {accepted}");
}

/// Hand-made bundles that the old `from_bytes` accepted and that crash the VM: each is now
/// refused with a message.
#[test]
fn hand_made_bundles_that_would_crash_the_vm_are_refused() {
    use switchboard_bytecode::bytecode::*;
    let function = |code: Vec<Instr>| Function {
        name: "flow main".into(),
        params: 0,
        locals: 0,
        spans: vec![SourceSpan::default(); code.len()],
        code,
    };
    let bundle = |functions: Vec<Function>| Bundle {
        format_version: FORMAT_VERSION,
        source_hash: "0".repeat(64),
        files: vec!["main.flow".into()],
        constants: vec![Value::text("hi")],
        flows: vec![FlowInfo {
            name: "main".into(),
            channels: Default::default(),
            body: FuncId(0),
            on_error: None,
            globals: 0,
        }],
        functions,
        ..Bundle::default()
    };
    let cases: Vec<(Bundle, &str)> = vec![
        (bundle(vec![function(vec![Instr::Const { value: ConstId(9) }, Instr::Say, Instr::End])]), "constant #9"),
        (bundle(vec![function(vec![Instr::MakeList { len: 3 }, Instr::Say, Instr::End])]), "takes 3 values"),
        (bundle(vec![function(vec![Instr::Load { slot: Slot(2) }, Instr::Say, Instr::End])]), "slot 2"),
        (
            bundle(vec![function(vec![Instr::Const { value: ConstId(0) }, Instr::Switch { targets: vec![] }])]),
            "no targets",
        ),
        (
            bundle(vec![function(vec![Instr::StoreGlobal { global: Global(u32::MAX) }, Instr::End])]),
            "global 4294967295",
        ),
        (bundle(vec![function(vec![Instr::MakeRecord { record: RecordId(0) }, Instr::Say, Instr::End])]), "record #0"),
        (bundle(vec![]), "fn #0, but the bundle has 0 functions"),
        (
            bundle(vec![function(vec![Instr::Again { delay_ms: i64::MAX, at_minutes: None, max: 1 }])]),
            "longer than a thousand years",
        ),
        (
            bundle(vec![function(vec![Instr::Again { delay_ms: 0, at_minutes: Some(24 * 60), max: 1 }])]),
            "1440 minutes is not a time of day",
        ),
        (Bundle { source_hash: "abc".into(), ..bundle(vec![function(vec![Instr::End])]) }, "source hash"),
        (
            bundle(vec![
                function(vec![Instr::Call { func: FuncId(1), args: 0 }, Instr::Pop, Instr::End]),
                function(vec![Instr::Goto { func: FuncId(0) }]),
            ]),
            "cannot `goto`",
        ),
    ];
    assert_eq!(bundle(vec![function(vec![Instr::End])]).verify(), Ok(()), "the cases differ from a sound bundle");
    for (bundle, expected) in cases {
        let bytes = bundle.to_bytes().unwrap();
        let err = Bundle::from_bytes(&bytes).expect_err(expected);
        assert!(err.contains(expected), "{err}");
    }
}
