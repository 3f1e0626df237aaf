//! `switchboard run` end to end: a customer's contact played from stdin, on the real engine
//! with the project's own CSV sources and a virtual clock.

mod support;
use support::*;

/// Monday, in office hours.
const MONDAY: &str = "2026-11-23 10:00 Europe/London";

fn run(args: &[&str], input: &str) -> std::process::Output {
    let mut all = vec!["run", "flows", "--at", MONDAY];
    all.extend_from_slice(args);
    switchboard_with_input(&repo(), &all, input)
}

#[test]
fn an_unknown_caller_presses_1_for_billing() {
    let o = run(&["--from", "+447700900999"], "1\n");
    assert_eq!(code(&o), 0, "{}", both(&o));
    assert!(stderr(&o).is_empty(), "{}", both(&o));
    insta::assert_snapshot!(stdout(&o));
}

#[test]
fn silence_on_the_chat_menu_times_out_to_support() {
    let o = run(&["--channel", "chat", "--from", "visitor-17"], "/wait 8s\n/wait 8s\n/wait 8s\n");
    let out = stdout(&o);
    assert_eq!(code(&o), 0, "{}", both(&o));
    let prompt = "For billing press 1. For technical support press 2.";
    assert_eq!(out.matches(prompt).count(), 3, "asked, then asked again twice\n{out}");
    assert!(out.contains("[now 10:00:24]"), "{out}");
    // The caller waits in the queue until the input ends, then hangs up.
    assert!(out.contains("[waypoint menu_timeout]\n[queue support]\n[hang up]\n"), "{out}");
    assert!(out.ends_with("[contact ended]\n"), "{out}");
}

#[test]
fn a_known_caller_is_found_in_the_projects_csv() {
    // +447700900001 is Ann Baker, gold, in flows/data/customers.csv.
    let o = run(&["--from", "+447700900001", "--to", "+441632960000"], "");
    let out = stdout(&o);
    assert_eq!(code(&o), 0, "{}", both(&o));
    assert!(out.contains("[lookup crm: found]\nWelcome back, Ann Baker.\n[waypoint vip]\n[queue vip]\n"), "{out}");
    assert!(out.ends_with("[contact ended]\n"), "{out}");
}

#[test]
fn chat_takes_the_label_of_a_menu_option() {
    let o = run(&["--channel", "chat"], "support\n");
    let out = stdout(&o);
    assert_eq!(code(&o), 0, "{}", both(&o));
    assert!(out.contains("> support\n[waypoint menu_support]\n[queue support]\n[hang up]\n"), "{out}");
    // The flow asked for `survey csat`: it runs once the contact has ended.
    assert!(out.contains("[hang up]\nWas your problem solved today?\n"), "{out}");
}

#[test]
fn bad_input_is_explained_and_the_call_goes_on() {
    let o = run(&["--from", "+447700900999"], "/dance\n/wait\n/wait soon\n9\n2\n");
    let (out, err) = (stdout(&o), stderr(&o));
    assert_eq!(code(&o), 0, "{}", both(&o));
    assert!(err.contains("there is no command `/dance`"), "{err}");
    assert!(err.contains("like `/wait 10s`"), "{err}");
    assert!(err.contains("`soon` is not a duration"), "{err}");
    // 9 is not on the menu: the caller hears it again.
    let prompt = "For billing press 1. For technical support press 2.";
    assert_eq!(out.matches(prompt).count(), 2, "{out}");
    assert!(out.contains("> 2\n[waypoint menu_support]\n[queue support]\n[hang up]\n"), "{out}");
}

#[test]
fn the_end_of_input_or_quit_hangs_up() {
    for input in ["", "/quit\n1\n"] {
        let o = run(&["--from", "+447700900999"], input);
        let out = stdout(&o);
        assert_eq!(code(&o), 0, "{input:?}\n{}", both(&o));
        assert!(out.contains("For billing press 1."), "{out}");
        assert!(!out.contains("[queue"), "{input:?}: the caller left before choosing\n{out}");
        assert!(out.ends_with("[hang up]\n[contact ended]\n"), "{input:?}\n{out}");
    }
}

#[test]
fn a_flow_that_ends_at_once_needs_no_input() {
    // Sunday: closed.
    let o = switchboard_with_input(
        &repo(),
        &["run", "flows", "--at", "2026-11-22 11:00 Europe/London", "--to", "+441632960000"],
        "1\n",
    );
    let out = stdout(&o);
    assert_eq!(code(&o), 0, "{}", both(&o));
    assert!(out.contains("[waypoint closed]\nWe're closed."), "{out}");
    assert!(out.ends_with("[end]\n[contact ended]\n"), "{out}");
    assert!(!out.contains("> 1"), "nothing is read once the contact has ended\n{out}");
}

#[test]
fn an_email_opens_with_its_subject_and_text() {
    let o = run(
        &[
            "--channel",
            "email",
            "--from",
            "someone@example.net",
            "--subject",
            "Invoice 4411",
            "--text",
            "charged twice",
        ],
        "",
    );
    let out = stdout(&o);
    assert_eq!(code(&o), 0, "{}", both(&o));
    assert!(out.contains("to support@acme.example"), "the only email entry is the default\n{out}");
    assert!(out.contains("Thanks for writing to Acme."), "{out}");
    assert!(out.contains("[waypoint kw_billing]\n[queue billing]\n"), "{out}");
}

#[test]
fn an_ask_takes_typed_text_and_times_out_in_silence() {
    let outage = |input: &str| switchboard_with_input(&repo(), &["run", "examples/outage", "--at", MONDAY], input);
    let o = outage("1\nNM1 4AB\n");
    let out = stdout(&o);
    assert_eq!(code(&o), 0, "{}", both(&o));
    assert!(out.contains("> NM1 4AB\n[lookup postcodes: found]\n[lookup outages: found]\n"), "{out}");
    assert!(out.contains("Sorry, there's a power cut in Harbourside"), "{out}");

    let o = outage("1\n/wait 10s\n/wait 10s\n/wait 10s\n");
    let out = stdout(&o);
    assert_eq!(code(&o), 0, "{}", both(&o));
    assert!(out.contains("[waypoint no_postcode]\n[queue outage_desk]\n[hang up]\n"), "{out}");
}

#[test]
fn the_transcript_has_no_colour_when_piped() {
    let o = run(&["--from", "+447700900999"], "1\n");
    assert_eq!(code(&o), 0, "{}", both(&o));
    assert!(!o.stdout.contains(&0x1b), "{}", both(&o));
}

#[test]
fn a_broken_project_does_not_run() {
    let dir = scratch(&[("main.flow", &HELLO.replace("  queue support\n}\n\ntest", "  queue suport\n}\n\ntest"))]);
    let o = switchboard_with_input(dir.path(), &["run", ".", "--at", MONDAY], "");
    assert_eq!(code(&o), 1, "{}", both(&o));
    assert!(stdout(&o).contains("error[unknown-name]"), "{}", both(&o));
}

#[test]
fn bad_arguments_are_usage_errors() {
    let cases: [(&[&str], &str); 4] = [
        (&["--at", "tomorrow"], "2026-11-23 10:00"),
        (&["--at", MONDAY, "--to", "+441632960111"], "+441632960111"),
        (&["--at", MONDAY, "--channel", "fax"], "fax"),
        (&["--at", MONDAY, "--channel", "sms"], "no sms entry"),
    ];
    for (args, message) in cases {
        let mut all = vec!["run", "flows"];
        all.extend_from_slice(args);
        let o = switchboard_with_input(&repo(), &all, "");
        assert_eq!(code(&o), 2, "{args:?}\n{}", both(&o));
        assert!(stderr(&o).contains(message), "{args:?}: the message names `{message}`\n{}", both(&o));
        assert!(stdout(&o).is_empty(), "{args:?}\n{}", both(&o));
    }
}

/// A flow that takes a payment on a call, then asks something.
const PAYMENT: &str = r#"
flow pay on voice {
  say "You owe £30."
  collect payment £30
  say "Thank you."
  ask ok: yes/no "Anything else?" timeout 5s
  end
}

entry voice +441632960000 -> pay
"#;

/// Issue 8: keys pressed after `collect payment` were stored as `input` events and a piped
/// `run` echoed them. The card goes to the secure form only; stray keys are dropped unseen.
#[test]
fn card_digits_reach_no_output_and_stray_keys_are_not_echoed() {
    let dir = scratch(&[("main.flow", PAYMENT)]);
    let path = dir.path().to_str().expect("a UTF-8 path");
    let card = "4111 1111 1111 1111";
    let input = format!("{card}\n2\n");
    let o = switchboard_with_input(&repo(), &["run", path, "--at", MONDAY], &input);
    let (out, err) = (stdout(&o), stderr(&o));
    assert_eq!(code(&o), 0, "{}", both(&o));
    assert!(out.contains("[secure payment form"), "{out}");
    assert!(out.contains("[payment captured]\nThank you.\nAnything else?\n"), "{out}");
    for digits in ["4111", "1111"] {
        assert!(!out.contains(digits) && !err.contains(digits), "the card number leaked:\n{}", both(&o));
    }
    // `2` answers the ask (no), so it is shown; the run then ends.
    assert!(out.contains("> 2\n"), "{out}");

    // A number that fails the Luhn check is declined, and not shown either.
    let o = switchboard_with_input(&repo(), &["run", path, "--at", MONDAY], "4111 1111 1111 1112\n");
    assert!(stdout(&o).contains("[payment declined]"), "{}", both(&o));
    assert!(!stdout(&o).contains("1112"), "{}", both(&o));
}

/// Stray keys (nothing waits for them) are dropped with a note, their text never echoed.
#[test]
fn keys_nothing_waits_for_are_dropped_unseen() {
    let o = run(&["--from", "+447700900001", "--to", "+441632960000"], "98765\n");
    let out = stdout(&o);
    assert_eq!(code(&o), 0, "{}", both(&o));
    assert!(out.contains("[nothing is waiting for input: ignored"), "{out}");
    assert!(!out.contains("98765") && !stderr(&o).contains("98765"), "{}", both(&o));
}

/// `run` read a stdin line of any length whole into memory. A line of up to 64 KiB is
/// taken; a longer one is refused with a message and skipped, and the call goes on.
#[test]
fn a_line_longer_than_64_kib_is_refused_and_skipped() {
    let fits = "x".repeat(64 * 1024);
    let too_long = "1".repeat(64 * 1024 + 1);
    let o = run(&["--from", "+447700900999"], &format!("{fits}\n{too_long}\n2\n"));
    let (out, err) = (stdout(&o), stderr(&o));
    assert_eq!(code(&o), 0, "{}", both(&o));
    assert_eq!(err.matches("a line longer than 64 KiB was skipped").count(), 1, "{err}");
    assert!(out.contains(&format!("> {fits}\n")), "the line that fits is taken");
    assert!(!out.contains("11111111"), "the line that does not is never echoed nor keyed");
    // Words on a voice menu: asked again once, for the line that fit; then 2 is support.
    let prompt = "For billing press 1. For technical support press 2.";
    assert_eq!(out.matches(prompt).count(), 2, "{err}");
    assert!(out.contains("> 2\n[waypoint menu_support]\n[queue support]\n"), "{err}");
}
