//! `switchboard staff` end to end, on the classic worked example: 100 calls in 30 minutes,
//! 3 minutes each, 80% answered in 20 seconds is 10 Erlangs and needs 14 agents
//! (callcentrehelper.com's Erlang C example); with 30% shrinkage, 20 on the schedule.

mod support;
use serde_json::Value;
use support::*;

const CLASSIC: [&str; 7] = ["staff", "--rate", "100/30m", "--aht", "180s", "--target", "80%/20s"];

#[test]
fn the_classic_example_needs_14_agents_and_20_scheduled() {
    let mut args = CLASSIC.to_vec();
    args.extend(["--shrinkage", "30%", "--format", "json"]);
    let o = switchboard(&repo(), &args);
    assert_eq!(code(&o), 0, "{}", both(&o));
    let result: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", both(&o)));
    let mut keys: Vec<&str> = result.as_object().expect("an object").keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["agents", "agents_scheduled", "asa_seconds", "occupancy", "probability_of_waiting", "service_level"]
    );
    assert_eq!(result["agents"], 14);
    assert_eq!(result["agents_scheduled"], 20);
    let number = |key: &str| result[key].as_f64().unwrap_or_else(|| panic!("{key} is a number: {result}"));
    assert!((0.8..=1.0).contains(&number("service_level")), "{result}");
    assert!((number("occupancy") - 10.0 / 14.0).abs() < 1e-9, "10 Erlangs over 14 agents: {result}");
    assert!((0.0..1.0).contains(&number("probability_of_waiting")), "{result}");
    assert!(number("asa_seconds") > 0.0, "{result}");
}

#[test]
fn the_human_format_names_the_agents() {
    let o = switchboard(&repo(), &CLASSIC);
    assert_eq!(code(&o), 0, "{}", both(&o));
    let out = stdout(&o);
    assert!(out.lines().any(|l| l.starts_with("agents") && l.split_whitespace().last() == Some("14")), "{out}");
}

#[test]
fn a_rate_that_does_not_parse_is_a_usage_error() {
    let mut args = CLASSIC.to_vec();
    args[2] = "abc";
    let o = switchboard(&repo(), &args);
    assert_eq!(code(&o), 2, "{}", both(&o));
    let err = stderr(&o);
    assert!(err.contains("`abc`") && err.contains("100/30m"), "the message names the value and the form: {err}");
    assert!(stdout(&o).is_empty(), "{}", both(&o));
}

/// `staff --format sarif` (or `github`) was accepted and printed the human report: staff
/// prints only human and JSON, and any other format is a usage error.
#[test]
fn only_the_formats_staff_prints_are_accepted() {
    for format in ["sarif", "github"] {
        let mut args = CLASSIC.to_vec();
        args.extend(["--format", format]);
        let o = switchboard(&repo(), &args);
        assert_eq!(code(&o), 2, "{format}\n{}", both(&o));
        let err = stderr(&o);
        assert!(err.contains(&format!("'{format}'")) && err.contains("human, json"), "{err}");
        assert!(stdout(&o).is_empty(), "{}", both(&o));
    }
    let mut args = CLASSIC.to_vec();
    args.extend(["--format", "human"]);
    assert_eq!(stdout(&switchboard(&repo(), &args)), stdout(&switchboard(&repo(), &CLASSIC)));
}
