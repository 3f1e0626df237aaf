//! The VM's run-time bounds, on flows compiled from source and run on the VM alone: a text
//! past 1 MiB, a number past the finite, money or a duration past what fits, and an
//! `extern fn` that returns too much each fail the flow into its `on error` route (or,
//! without one, fail the run with a reason), never abort the process or say `inf`.
//!
//! Each case is run twice: in a flow that opens with `on error { say "Sorry." queue sorry }`,
//! which must end in the `sorry` queue without saying what it computed; and in the same flow
//! without it, whose run must fail with the reason given.

use std::collections::BTreeMap;
use std::sync::Arc;
use switchboard_compiler::bytecode::Bundle;
use switchboard_compiler::loader::MemoryLoader;
use switchboard_compiler::types::Channel;
use switchboard_compiler::value::Value;
use switchboard_compiler::{check, codegen, SourceFile};
use switchboard_vm::limits::MAX_TEXT_BYTES;
use switchboard_vm::{Contact, Effect, Host, Resume, Step, Tables, Vm};

fn project(body: &str, on_error: bool) -> String {
    let route = if on_error { "  on error {\n    say \"Sorry.\"\n    queue sorry\n  }\n" } else { "" };
    format!(
        "skills support\n\
         queue support {{ skills support }}\n\
         queue sorry {{ skills support }}\n\
         extern fn echo(t: text) -> text from \"echo.rhai\"\n\
         entry voice +441632960000 -> inbound\n\
         flow inbound on voice {{\n{route}{body}\n  queue support\n}}\n"
    )
}

fn compile(source: &str) -> Bundle {
    let std = BTreeMap::new();
    let loader = MemoryLoader { files: BTreeMap::from([("echo.rhai".to_string(), b"fn echo(t) { t }".to_vec())]) };
    let files = vec![SourceFile { path: "main.flow".into(), text: Arc::from(source) }];
    let checked = check::check(check::Input { files, std: &std, loader: &loader, module: Arc::from("") });
    let errors: Vec<_> =
        checked.diagnostics.iter().filter(|d| d.severity == switchboard_compiler::Severity::Error).collect();
    assert!(errors.is_empty(), "{source}\n{errors:?}");
    codegen::compile(&checked, &loader).expect("the project compiles")
}

/// How a run ended: the queue it reached, or the reason it failed.
#[derive(Debug, PartialEq)]
enum Ending {
    Queue(String),
    Failed(String),
}

/// Runs the flow on the VM; an `extern fn` call is answered by `extern_result`.
fn play(source: &str, extern_result: &dyn Fn(&[Value]) -> Resume) -> (Vec<String>, Ending) {
    let bundle = compile(source);
    let tables = Tables::new(&bundle);
    let host = Host::new(&tables);
    let now: jiff::Timestamp = "2026-01-05T12:00:00Z".parse().expect("a timestamp");
    let contact = Box::new(Contact {
        id: Arc::from("c1"),
        channel: Channel::Voice,
        from: Value::Phone(Arc::from("+447700900001")),
        to: Arc::from("+441632960000"),
        text: Arc::from(""),
        subject: Arc::from(""),
        language: Arc::from("en"),
        country: Arc::from("GB"),
        started_at: now,
        attributes: BTreeMap::new(),
    });
    let flow = &bundle.flows[0];
    let mut vm = Vm::new(&bundle, flow.body, contact, Vec::new(), flow.on_error);
    let mut says = Vec::new();
    for _ in 0..10_000 {
        let mut fuel = 1_000;
        match vm.run(&bundle, &host, now, &mut fuel) {
            Step::Running => {}
            Step::Yield(Effect::Say(text)) => {
                says.push(text.to_string());
                vm.resume(&bundle, Resume::Unit);
            }
            Step::Yield(Effect::Extern { args, .. }) => vm.resume(&bundle, extern_result(&args)),
            Step::Yield(Effect::Queue { queue, .. }) => {
                return (says, Ending::Queue(bundle.queues[queue.index()].name.clone()));
            }
            Step::Yield(other) => {
                vm.resume(&bundle, if other.is_final() { Resume::Unit } else { Resume::Value(Value::None) })
            }
            Step::Failed(why) => return (says, Ending::Failed(why)),
            Step::Done => panic!("the flow ended without a queue: {says:?}"),
        }
    }
    panic!("the flow never ended: {says:?}")
}

fn echo(args: &[Value]) -> Resume {
    Resume::Value(args.first().cloned().unwrap_or(Value::None))
}

/// `body` fails with a reason containing `why`: into `on error` when there is one.
#[track_caller]
fn fails(body: &str, why: &str, extern_result: &dyn Fn(&[Value]) -> Resume) {
    let (says, ending) = play(&project(body, true), extern_result);
    assert_eq!(ending, Ending::Queue("sorry".into()), "{body}\nsaid {says:?}");
    assert_eq!(says.last().map(String::as_str), Some("Sorry."), "{body}");
    assert!(says.iter().all(|s| s.len() < 1000 && !s.contains("inf")), "{body}: said {says:?}");
    let (says, ending) = play(&project(body, false), extern_result);
    match ending {
        Ending::Failed(reason) => assert!(reason.contains(why), "{body}: `{reason}` should say `{why}`"),
        other => panic!("{body}: {other:?}, said {says:?}"),
    }
}

/// `t = t + t` written `n` times (the language has no loops: a flow doubles by rebinding).
fn doublings(first: &str, step: &str, n: usize) -> String {
    let mut body = format!("  {first}\n");
    for _ in 0..n {
        body.push_str(&format!("  {step}\n"));
    }
    body
}

const TEXT_TOO_LONG: &str = "a text grew longer than 1024 KiB";
const TOO_LARGE: &str = "grew too large";

#[test]
fn doubling_a_text_40_times_by_rebinding_fails_into_on_error_instead_of_aborting() {
    // Before: terabytes asked of the allocator, and the process aborted. It starts from what
    // the contact brings, so `check` (which refuses texts it can see passing 1 MiB) cannot.
    let body = doublings("let t = contact.to", "t = t + t", 40) + "  say \"big {t}\"";
    fails(&body, TEXT_TOO_LONG, &echo);
}

#[test]
fn doubling_a_text_40_times_by_interpolation_fails_into_on_error() {
    let body = doublings("let t = contact.to", "t = \"{t}{t}\"", 40) + "  say t";
    fails(&body, TEXT_TOO_LONG, &echo);
}

#[test]
fn doubling_a_text_by_a_chain_of_40_lets_fails_into_on_error() {
    let mut body = "  let t0 = contact.to\n".to_string();
    for i in 1..=40 {
        body.push_str(&format!("  let t{i} = t{} + t{}\n", i - 1, i - 1));
    }
    body.push_str("  say t40");
    fails(&body, TEXT_TOO_LONG, &echo);
}

#[test]
fn a_replace_that_would_pass_the_limit_fails_before_it_builds_the_text() {
    // 512 KiB of `ab`, each `a` made four: 1.25 MiB.
    let body = doublings("let t = \"ab\"", "t = t + t", 18) + "  let u = replace(t, \"a\", \"aaaa\")\n  say u";
    fails(&body, TEXT_TOO_LONG, &echo);
}

#[test]
fn a_text_of_half_a_mebibyte_is_within_the_limit() {
    let body = doublings("let t = \"ab\"", "t = t + t", 18) + "  say \"{len(t)} {len(upper(t))}\"";
    let (says, ending) = play(&project(&body, true), &echo);
    assert_eq!(ending, Ending::Queue("support".into()), "{says:?}");
    assert_eq!(says, ["524288 524288"]);
    assert_eq!(524_288 * 2, MAX_TEXT_BYTES);
}

#[test]
fn a_number_squared_past_the_largest_fails_instead_of_saying_big_inf() {
    // Before: `say "big inf"`. 10^(2^9) is past f64's 1.8e308.
    let body = doublings("let n = 10", "n = n * n", 9) + "  say \"big {n}\"";
    fails(&body, TOO_LARGE, &echo);
}

/// `let big = …` as 10^308, near the largest number (1.8e308), by squaring.
const NEAR_THE_LARGEST: &str = "  let n2 = 10 * 10\n  let n4 = n2 * n2\n  let n8 = n4 * n4\n  let n16 = n8 * n8\n  \
                                let n32 = n16 * n16\n  let n64 = n32 * n32\n  let n128 = n64 * n64\n  \
                                let n256 = n128 * n128\n  let big = n256 * n32 * n16 * n4\n";

#[test]
fn a_number_near_the_largest_is_fine_and_summed_past_it_fails() {
    let body = format!("{NEAR_THE_LARGEST}  say \"{{big / n256 / n32 / n16}}\"");
    let (says, ending) = play(&project(&body, true), &echo);
    assert_eq!((says, ending), (vec!["10000".to_string()], Ending::Queue("support".into())));
    fails(&format!("{NEAR_THE_LARGEST}  let m = big + big\n  say \"{{m}}\""), TOO_LARGE, &echo);
    fails(&format!("{NEAR_THE_LARGEST}  let m = 0 - big - big\n  say \"{{m}}\""), TOO_LARGE, &echo);
}

#[test]
fn dividing_by_zero_fails_into_on_error() {
    fails("  let z = 0\n  let q = 1 / z\n  say \"{q}\"", "division by zero", &echo);
    fails("  let z = 0\n  let q = 0 / z\n  say \"{q}\"", "division by zero", &echo);
    fails("  let z = 0\n  let q = £10 / z\n  say \"{q}\"", "division by zero", &echo);
    fails("  let z = 0\n  let q = 10s / z\n  say \"{q}\"", "division by zero", &echo);
}

#[test]
fn money_multiplied_past_what_fits_fails_instead_of_saturating() {
    // Before: £92,233,720,368,547,758.07, i64's largest number of pence.
    let body = doublings("let n = 10", "n = n * n", 5) + "  let m = £1 * n\n  say \"{m}\"";
    fails(&body, TOO_LARGE, &echo);
}

#[test]
fn a_duration_multiplied_past_what_fits_fails_instead_of_saturating() {
    let body = doublings("let n = 10", "n = n * n", 5) + "  let d = 1d * n\n  say \"{d}\"";
    fails(&body, TOO_LARGE, &echo);
}

#[test]
fn an_extern_that_returns_a_text_past_the_limit_has_failed() {
    let big = |_: &[Value]| Resume::Value(Value::Text("x".repeat(MAX_TEXT_BYTES + 1).into()));
    fails("  let e = echo(\"hi\")\n  say e", TEXT_TOO_LONG, &big);
    // Within the limit, the result is the flow's.
    let (says, ending) = play(&project("  let e = echo(\"hi\")\n  say e", true), &echo);
    assert_eq!((says, ending), (vec!["hi".to_string()], Ending::Queue("support".into())));
}
