//! Every call returns or fails within its budget, however much each operation touches.
//!
//! Each script below once ran for seconds to over a minute on the release build (issue 8:
//! `a.pad(9999, 1); loop { a.index_of(2) }` burnt about 25 s), because the operation limit
//! counted operations, not what they cost. Now the meter charges what they touch, and each
//! fails with a limit error. The time bound is loose, for debug builds on a loaded machine;
//! `SANDBOX_COST_REPORT=1 cargo test --release -p switchboard-sandbox --test cost -- --nocapture`
//! prints what each took.

use std::time::{Duration, Instant};
use switchboard_bytecode::types::Type;
use switchboard_bytecode::value::Value;
use switchboard_sandbox::{ExternError, Limits, Sandbox};

/// Scripts that do a lot per operation: each must stop at a limit.
const EXPENSIVE: &[(&str, &str)] = &[
    ("index_of on a long list", "let a = []; a.pad(9999, 1); loop { a.index_of(2) }"),
    ("contains on a long list", "let a = []; a.pad(9999, 1); loop { a.contains(2) }"),
    ("`in` on a long list", "let a = []; a.pad(9999, 1); loop { 2 in a }"),
    ("copying a long list", "let a = []; a.pad(9999, 1); loop { let b = a; }"),
    ("passing a long list", "let a = []; a.pad(9999, 1); loop { g(a); }"),
    ("comparing long lists", "let a = []; a.pad(9999, 1); let b = a; loop { a == b }"),
    ("iterating a long list", "let a = []; a.pad(9999, 1); loop { for x in a { break; } }"),
    ("nested lists", "let a = []; a.pad(99, 1); let b = []; b.pad(99, a); loop { let c = b; }"),
    ("joining long lists", "let a = []; a.pad(4999, 1); loop { let b = a + a; }"),
    ("pushing and popping", "let a = []; a.pad(9999, 1); loop { a.push(1); a.pop(); }"),
    ("measuring a long list", "let a = []; a.pad(9999, 1); let n = 0; loop { n = a.len(); }"),
    ("reversing", "let a = []; a.pad(9999, 1); loop { a.reverse(); }"),
    ("sorting", "let a = []; for i in 0..9999 { a.push(9999 - i); } loop { let b = a; b.sort(); }"),
    (
        "sorting with a comparator",
        "let a = []; for i in 0..9999 { a.push(9999 - i); } loop { let b = a; b.sort(|x, y| x - y); }",
    ),
    ("mapping", "let a = []; a.pad(9999, 1); loop { a.map(|x| x + 1); }"),
    ("filtering", "let a = []; a.pad(9999, 1); loop { a.filter(|x| x > 1); }"),
    ("index_of on a long text", r#"let s = ""; s.pad(65000, "x"); loop { s.index_of("y") }"#),
    ("contains on a long text", r#"let s = ""; s.pad(65000, "x"); loop { s.contains("xxy") }"#),
    ("comparing long texts", r#"let s = ""; s.pad(65000, "x"); let t = ""; t.pad(65000, "x"); loop { s == t }"#),
    ("joining long texts", r#"let s = ""; s.pad(65000, "x"); loop { let t = s + "y"; }"#),
    ("interpolating a long text", r#"let s = ""; s.pad(65000, "x"); loop { let t = `${s}`; }"#),
    ("replacing in a long text", r#"let s = ""; s.pad(65000, "x"); loop { let t = s; t.replace("x", "y"); }"#),
    ("splitting a long text", r#"let s = ""; s.pad(19000, "x "); loop { s.split(" "); }"#),
    ("upper-casing a long text", r#"let s = ""; s.pad(65000, "x"); loop { s.to_upper(); }"#),
    ("counting a long text", r#"let s = ""; s.pad(65000, "x"); loop { s.len(); }"#),
    ("indexing far into a text", r#"let s = ""; s.pad(65000, "x"); loop { s[64000]; }"#),
    ("sub_string far into a text", r#"let s = ""; s.pad(65000, "x"); loop { s.sub_string(64000, 10); }"#),
    ("copying a big map", "let m = #{}; for i in 0..1000 { m[`k${i}`] = i; } loop { let n = m; }"),
    ("keys of a big map", "let m = #{}; for i in 0..1000 { m[`k${i}`] = i; } loop { m.keys(); }"),
    ("comparing big maps", "let m = #{}; for i in 0..1000 { m[`k${i}`] = i; } let n = m; loop { m == n }"),
    ("currying a long list", "let a = []; a.pad(9999, 1); let f = Fn(\"h\").curry(a); loop { f.call(); }"),
];

fn sandbox_with(body: &str) -> (Sandbox, switchboard_sandbox::ScriptId) {
    let mut sandbox = Sandbox::new(Limits::default());
    let script = format!("fn g(x) {{ 1 }}\nfn h(x) {{ 1 }}\nfn f() {{ {body} }}\n");
    let id = sandbox.load("cost.rhai", &script).unwrap_or_else(|e| panic!("{body}: {e}"));
    (sandbox, id)
}

fn report() -> bool {
    std::env::var_os("SANDBOX_COST_REPORT").is_some()
}

/// This thread's CPU time (Linux), for the report: on a busy machine the wall clock
/// says more about the neighbours than about the call.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(Duration::from_nanos(stat.split_whitespace().next()?.parse().ok()?))
}

#[test]
fn expensive_scripts_stop_at_a_limit_quickly() {
    // Generous for an unoptimised build sharing two cores; the release build is far faster.
    let bound = Duration::from_secs(if cfg!(debug_assertions) { 3 } else { 1 });
    let mut slowest = Duration::ZERO;
    for (what, body) in EXPENSIVE {
        let (sandbox, id) = sandbox_with(body);
        let (started, cpu) = (Instant::now(), cpu_time());
        let result = sandbox.call(id, "f", &[], &Type::Number);
        let took = started.elapsed();
        let cpu = cpu.zip(cpu_time()).map(|(before, after)| after - before).unwrap_or(took);
        slowest = slowest.max(cpu);
        if report() {
            let why = format!("{result:?}").chars().take(60).collect::<String>();
            eprintln!(
                "{what:32} {:>7.1} ms CPU {:>7.1} ms wall  {why}",
                cpu.as_secs_f64() * 1e3,
                took.as_secs_f64() * 1e3
            );
        }
        assert!(matches!(result, Err(ExternError::Limit(_))), "{what}: {result:?}");
        assert!(took < bound, "{what} took {took:?}");
    }
    if report() {
        eprintln!("slowest: {:.1} ms of CPU", slowest.as_secs_f64() * 1e3);
    }
}

/// The limit is a count, not a clock: the same call stops at the same point every time,
/// so a replay decides it exactly as the first run did.
#[test]
fn the_budget_is_counted_not_timed() {
    let (sandbox, id) = sandbox_with(
        "let a = []; a.pad(500, 1); let n = 0; loop { a.index_of(2); n += 1; if n == 1000000 { return n; } }",
    );
    let first = sandbox.call(id, "f", &[], &Type::Number);
    for _ in 0..3 {
        assert_eq!(sandbox.call(id, "f", &[], &Type::Number), first);
    }
    assert!(matches!(first, Err(ExternError::Limit(_))), "{first:?}");
}

/// Ordinary scripts, even ones that work with fair-sized lists and texts, run well within
/// the budget.
#[test]
fn ordinary_scripts_are_well_within_the_budget() {
    let ok: &[(&str, f64)] = &[
        ("let score = 0; for i in 0..10 { score += 1; } score", 10.0),
        ("let a = []; for i in 0..1000 { a.push(i); } let t = 0; for x in a { t += x; } t", 499_500.0),
        ("let a = []; for i in 0..300 { a.push(300 - i); } a.sort(); a[0]", 1.0),
        ("let a = []; for i in 0..300 { a.push(i); } a.sort(|x, y| y - x); a[0]", 299.0),
        ("let a = []; for i in 0..500 { a.push(i); } a.map(|x| x * 2).filter(|x| x > 10).len()", 494.0),
        ("let a = []; for i in 0..200 { a.push(i); } let t = 0; for i in 0..a.len() { t += a[i]; } t", 19_900.0),
        (
            r#"let m = #{}; for w in "the cat and the hat and the bat".split(" ") { if w in m { m[w] += 1; } else { m[w] = 1; } } m.the"#,
            3.0,
        ),
        (r#"let s = ""; for i in 0..200 { s += "word "; } s.len()"#, 1000.0),
        (r#"let s = ""; s.pad(2000, "ab"); let n = 0; for i in 0..50 { if s.contains("abab") { n += 1; } } n"#, 50.0),
        ("let m = #{}; for i in 0..500 { m[`k${i}`] = i; } m.len()", 500.0),
    ];
    for (body, expected) in ok {
        let (sandbox, id) = sandbox_with(body);
        let result = sandbox.call(id, "f", &[], &Type::Number);
        assert_eq!(result, Ok(Value::Number(*expected)), "{body}");
    }
}
