//! `switchboard test` end to end: every project's `test` blocks pass, and a failing one
//! says which line failed and what happened instead.

mod support;
use std::path::Path;
use support::*;

/// The closing line, `N passed, N failed`, as numbers.
fn totals(out: &str) -> (usize, usize) {
    let last = out.lines().last().unwrap_or_default();
    let parse = || -> Option<(usize, usize)> {
        let (passed, failed) = last.split_once(" passed, ")?;
        Some((passed.parse().ok()?, failed.strip_suffix(" failed")?.parse().ok()?))
    };
    parse().unwrap_or_else(|| panic!("the output does not end with `N passed, N failed`:\n{out}"))
}

/// Every test passes, also with the engine's whole state saved and restored after every
/// step, and with every input replayed on a fresh engine giving the same outputs and state.
fn passes_with_roundtrip(project: &Path) {
    let o = switchboard(&repo(), &["test", "--roundtrip", "--replay", project.to_str().expect("a UTF-8 path")]);
    let out = stdout(&o);
    assert_eq!(code(&o), 0, "{}", both(&o));
    let (passed, failed) = totals(&out);
    assert!(passed > 0 && failed == 0, "{}", both(&o));
    assert_eq!(out.lines().filter(|l| l.starts_with("ok ")).count(), passed, "one line per test\n{out}");
}

#[test]
fn acme_tests_pass() {
    passes_with_roundtrip(&repo().join("flows"));
}

#[test]
fn every_examples_tests_pass() {
    for example in examples() {
        passes_with_roundtrip(&example);
    }
}

#[test]
fn the_standard_librarys_tests_pass() {
    passes_with_roundtrip(&repo().join("stdlib"));
}

#[test]
fn a_wrong_expectation_fails_and_shows_what_happened() {
    let wrong = format!(
        "{HELLO}\ntest \"a wrong expectation\" {{\n  contact voice from +447700900001\n  expect say \"Goodbye.\"\n}}\n"
    );
    let dir = scratch(&[("main.flow", &wrong)]);
    let o = switchboard(dir.path(), &["test", "."]);
    assert_eq!(code(&o), 1, "{}", both(&o));
    assert_eq!(totals(&stdout(&o)), (1, 1));
    insta::assert_snapshot!(stdout(&o));
}

#[test]
fn a_changed_acme_test_fails() {
    let dir = copy_of("flows");
    let inbound = dir.path().join("inbound.flow");
    // The unknown caller presses 1 for billing; expecting support instead must fail.
    edit(
        &inbound,
        "  press 1\n  expect waypoint menu_billing\n  expect queue billing",
        "  press 1\n  expect queue sales",
    );
    let o = switchboard(dir.path(), &["test", "."]);
    let out = stdout(&o);
    assert_eq!(code(&o), 1, "{}", both(&o));
    let (passed, failed) = totals(&out);
    assert_eq!(failed, 1, "{out}");
    assert!(passed > 0, "{out}");
    assert!(out.contains("FAIL  unknown callers pick billing from the menu"), "{out}");
    assert!(out.contains("expect queue sales"), "the failing line is shown\n{out}");
    assert!(out.contains("queue billing"), "what happened instead is shown\n{out}");
}

#[test]
fn filter_selects_tests_by_name() {
    let o = switchboard(&repo(), &["test", "flows", "--filter", "gold callers"]);
    let out = stdout(&o);
    assert_eq!(code(&o), 0, "{}", both(&o));
    assert_eq!(totals(&out), (1, 0), "{out}");
    assert!(out.contains("ok    gold callers are greeted by name and reach the vip queue"), "{out}");

    let wrong =
        format!("{HELLO}\ntest \"a wrong expectation\" {{\n  contact voice from +447700900001\n  expect end\n}}\n");
    let dir = scratch(&[("main.flow", &wrong)]);
    let o = switchboard(dir.path(), &["test", "--filter", "greets"]);
    assert_eq!((code(&o), totals(&stdout(&o))), (0, (1, 0)), "{}", both(&o));
    let o = switchboard(dir.path(), &["test", "--filter", "wrong"]);
    assert_eq!((code(&o), totals(&stdout(&o))), (1, (0, 1)), "{}", both(&o));
}

#[test]
fn a_project_that_does_not_compile_fails_its_tests() {
    let dir = scratch(&[("main.flow", &HELLO.replace("  queue support\n}\n\ntest", "  queue suport\n}\n\ntest"))]);
    let o = switchboard(dir.path(), &["test", "."]);
    let out = stdout(&o);
    assert_eq!(code(&o), 1, "{}", both(&o));
    assert!(out.contains("error[unknown-name]"), "{out}");
    assert_eq!(totals(&out), (0, 1), "{out}");
}

/// A flow that doubles a text 40 times (2 TiB) aborted the process at run time. `check`
/// refuses a text it can see passing 1 MiB, but not one grown from what only the contact
/// brings (here its address): the VM's text limit fails that into its `on error` route, and
/// a flow without one ends with an `error` event that `expect error` sees.
#[test]
fn doubling_a_text_40_times_fails_into_on_error_instead_of_aborting() {
    let doublings = "  t = t + t\n".repeat(40);
    let project = format!(
        "skills support\n\nqueue support {{\n  skills support\n}}\n\nqueue sorry {{\n  skills support\n}}\n\n\
         entry voice +441632960000 -> careful\nentry chat \"web\" -> careless\n\n\
         flow careful on voice {{\n  on error {{\n    say \"Sorry.\"\n    queue sorry\n  }}\n  let t = contact.to\n{doublings}  \
         say \"big {{t}}\"\n  queue support\n}}\n\n\
         flow careless on chat {{\n  let t = contact.to\n{doublings}  say \"big {{t}}\"\n  queue support\n}}\n\n\
         test \"the doubling takes the on error route\" {{\n  contact voice from +447700900001\n  \
         expect say \"Sorry.\"\n  expect queue sorry\n  expect no queue support\n}}\n\n\
         test \"without on error the doubling is an error\" {{\n  contact chat from \"visitor-1\"\n  \
         expect error\n  expect no queue support\n}}\n"
    );
    let dir = scratch(&[("main.flow", &project)]);
    let o = switchboard(dir.path(), &["test", "--roundtrip", "--replay", "."]);
    assert_eq!(code(&o), 0, "{}", both(&o));
    assert_eq!(totals(&stdout(&o)), (2, 0), "{}", both(&o));
}
