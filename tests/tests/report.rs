//! `switchboard report` end to end: a simulated day of the Acme project (`flows/`) written
//! with `simulate --data`, whose report agrees with `simulate`'s own, figure for figure;
//! the report's table, CSV and JSON as snapshots; and the mistakes a user can make.

mod support;
use serde_json::Value;
use std::path::Path;
use support::*;

/// Few billing agents, so billing callers wait: some abandon, some take the callback that
/// keeps their place (after 2 minutes), a few overflow to support (after 10).
const AGENTS: &str = "id,name,skills,languages,count\n\
                      bill,Billing desk,billing,,2\n\
                      sup,Support desk,support,,4\n\
                      both,Both desks,billing;support,,1\n";

/// Simulates `hours` of Acme with `seed` into `dir/day`; returns simulate's JSON report.
fn simulate_day(dir: &Path, hours: &str, seed: &str) -> Value {
    write(&dir.join("agents.csv"), AGENTS.as_bytes());
    let agents = dir.join("agents.csv");
    let data = dir.join("day");
    let o = switchboard(
        &repo(),
        &[
            "simulate",
            "flows",
            "--agents",
            agents.to_str().unwrap(),
            "--arrivals",
            "voice=90/h,chat=20/h,email=10/h",
            "--aht",
            "voice=180s,chat=300s,email=240s",
            "--hours",
            hours,
            "--patience",
            "400s",
            "--seed",
            seed,
            "--format",
            "json",
            "--data",
            data.to_str().unwrap(),
        ],
    );
    json(&o)
}

fn json(o: &std::process::Output) -> Value {
    assert_eq!(code(o), 0, "{}", both(o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", both(o)))
}

fn report(dir: &Path, args: &[&str]) -> std::process::Output {
    let data = dir.join("day");
    let mut all = vec!["report", "--data", data.to_str().unwrap()];
    all.extend_from_slice(args);
    switchboard(dir, &all)
}

#[test]
fn a_simulated_days_report_agrees_with_simulates_own() {
    let dir = tempfile::tempdir().unwrap();
    let simulated = simulate_day(dir.path(), "3", "7");
    let reported = json(&report(dir.path(), &["--format", "json"]));
    let rows = reported["rows"].as_array().expect("rows");
    let mut compared = Vec::new();
    let (mut overflowed, mut abandoned, mut waiting) = (0, 0, 0);
    for q in simulated["queues"].as_array().unwrap() {
        for c in q["channels"].as_array().unwrap() {
            let (queue, channel) = (q["queue"].as_str().unwrap(), c["channel"].as_str().unwrap());
            let row = rows.iter().find(|r| r["queue"] == queue && r["channel"] == channel);
            let Some(row) = row else {
                assert_eq!(c["offered"], 0, "{queue} {channel} is offered contacts but has no row: {reported}");
                continue;
            };
            // The same definitions: routing's counts, its service level (abandons after the
            // target against), speed of answer and handle time, to the last bit.
            for (theirs, ours) in [
                ("offered", "offered"),
                ("answered", "answered"),
                ("abandoned", "abandoned"),
                ("overflowed_out", "overflowed"),
                ("waiting", "waiting"),
                ("service_level", "sl_abandons_against"),
                ("asa_seconds", "asa_seconds"),
                ("aht_seconds", "aht_seconds"),
            ] {
                assert_eq!(c[theirs], row[ours], "{queue} {channel}: simulate's {theirs} against report's {ours}");
            }
            let target = &c["target"];
            assert_eq!(target["percent"], row["target"]["percent"], "{queue} {channel}");
            assert_eq!(
                target["within_seconds"].as_f64().unwrap() * 1000.0,
                row["target"]["within_ms"].as_f64().unwrap()
            );
            overflowed += c["overflowed_out"].as_u64().unwrap();
            abandoned += c["abandoned"].as_u64().unwrap();
            waiting += c["waiting"].as_u64().unwrap();
            compared.push(format!(
                "{queue} {channel}: offered {} answered {} abandoned {} SL {} ASA {}",
                c["offered"], c["answered"], c["abandoned"], c["service_level"], c["asa_seconds"]
            ));
        }
    }
    // The day exercised what the definitions must agree on.
    let callbacks: u64 =
        simulated["channels"].as_array().unwrap().iter().map(|c| c["callbacks"].as_u64().unwrap()).sum();
    assert!(compared.len() >= 5 && overflowed > 0 && abandoned > 0 && waiting > 0 && callbacks > 0, "{compared:?}");
    eprintln!("compared:\n{}", compared.join("\n"));

    // Every contact through a waypoint, counted by both (each passes each at most once here).
    let by_waypoint = json(&report(dir.path(), &["--by", "waypoint", "--format", "json"]));
    for (name, count) in simulated["waypoints"].as_object().unwrap() {
        let row = by_waypoint["rows"].as_array().unwrap().iter().find(|r| r["waypoint"] == name.as_str());
        assert_eq!(row.map(|r| &r["contacts"]), Some(count), "waypoint {name}");
    }
    // Every contact answered and abandoned, by channel.
    let by_channel = json(&report(dir.path(), &["--by", "channel", "--format", "json"]));
    for c in simulated["channels"].as_array().unwrap() {
        let row = by_channel["rows"].as_array().unwrap().iter().find(|r| r["channel"] == c["channel"]).unwrap();
        assert_eq!(row["contacts"], c["arrived"]);
        assert_eq!(row["answered"], c["answered"]);
        assert_eq!(row["abandoned"], c["abandoned"]);
    }
}

#[test]
fn the_report_of_a_simulated_hour_as_a_table_csv_and_json() {
    let dir = tempfile::tempdir().unwrap();
    simulate_day(dir.path(), "1", "3");
    let table = report(dir.path(), &[]);
    assert_eq!(code(&table), 0, "{}", both(&table));
    insta::assert_snapshot!("queues_table", stdout(&table));
    let csv = report(dir.path(), &["--format", "csv"]);
    insta::assert_snapshot!("queues_csv", stdout(&csv));
    let quarter_hours = report(
        dir.path(),
        &["--by", "channel", "--interval", "15m", "--from", "2026-11-23 08:00 Europe/London", "--format", "json"],
    );
    insta::assert_snapshot!("channels_by_quarter_hour_json", stdout(&quarter_hours));
    let agents = report(dir.path(), &["--by", "agent", "--segment", "tier", "--to", "2026-11-23T08:30:00Z"]);
    insta::assert_snapshot!("agents_by_tier_table", stdout(&agents));
    let waypoints = report(dir.path(), &["--by", "waypoint", "--format", "csv"]);
    insta::assert_snapshot!("waypoints_csv", stdout(&waypoints));
}

#[test]
fn a_period_counts_the_contacts_that_arrived_in_it() {
    let dir = tempfile::tempdir().unwrap();
    simulate_day(dir.path(), "1", "3");
    let contacts = |args: &[&str]| -> u64 {
        let mut all = vec!["--by", "flow", "--format", "json"];
        all.extend_from_slice(args);
        let r = json(&report(dir.path(), &all));
        r["rows"].as_array().unwrap().iter().map(|r| r["contacts"].as_u64().unwrap()).sum()
    };
    let all = contacts(&[]);
    let first = contacts(&["--to", "2026-11-23 08:30 Europe/London"]);
    let second = contacts(&["--from", "2026-11-23T08:30:00Z"]);
    assert!(first > 0 && second > 0);
    assert_eq!(first + second, all);
    assert_eq!(contacts(&["--from", "2026-11-24"]), 0);
}

#[test]
fn mistakes_are_refused_with_a_reason_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let o = switchboard(dir.path(), &["report", "--data", "nowhere"]);
    assert_eq!(code(&o), 2, "{}", both(&o));
    assert!(stderr(&o).contains("`nowhere` holds no store (no switchboard.db)"), "{}", both(&o));

    simulate_day(dir.path(), "0.25", "1");
    let o = report(dir.path(), &["--from", "yesterday"]);
    assert_eq!(code(&o), 2, "{}", both(&o));
    assert!(stderr(&o).contains("--from: expected a time like `2026-11-23T08:00:00Z`"), "{}", both(&o));
    let o = report(dir.path(), &["--to", "2026-11-23T25:00:00Z"]);
    assert_eq!(code(&o), 2, "{}", both(&o));
    assert!(stderr(&o).contains("--to: "), "{}", both(&o));
    let o = report(dir.path(), &["--from", "2026-11-24 09:00 Europe/London", "--to", "2026-11-24 08:00 Europe/London"]);
    assert_eq!(code(&o), 2, "{}", both(&o));
    assert!(
        stderr(&o)
            .contains("--from (2026-11-24 09:00 Europe/London) must be before --to (2026-11-24 08:00 Europe/London)"),
        "{}",
        both(&o)
    );
    let o = report(dir.path(), &["--from", "2026-11-23", "--tz", "Mars/Olympus"]);
    assert_eq!(code(&o), 2, "{}", both(&o));
    assert!(stderr(&o).contains("--tz: `Mars/Olympus` is not a time zone"), "{}", both(&o));
    let o = report(dir.path(), &["--fcr-window", "forever"]);
    assert_eq!(code(&o), 2, "{}", both(&o));
    assert!(stderr(&o).contains("--fcr-window"), "{}", both(&o));

    // A simulated day goes into a new folder, never over a store.
    let data = dir.path().join("day");
    let o = switchboard(
        &repo(),
        &[
            "simulate",
            "flows",
            "--agents",
            dir.path().join("agents.csv").to_str().unwrap(),
            "--arrivals",
            "voice=10/h",
            "--aht",
            "voice=60s",
            "--hours",
            "0.1",
            "--data",
            data.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&o), 2, "{}", both(&o));
    assert!(stderr(&o).contains("holds a store already"), "{}", both(&o));
}
