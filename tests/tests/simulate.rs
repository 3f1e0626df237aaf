//! `switchboard simulate` end to end: a day of the helpdesk example, the same for the same
//! seed; a single queue cross-checked against Erlang C (`switchboard staff`); abandonment
//! with and without patience; and the mistakes a user can make.

mod support;
use serde_json::Value;
use support::*;

const HELPDESK_LOAD: [&str; 6] =
    ["--arrivals", "voice=600/h,chat=120/h,email=60/h", "--aht", "voice=180s,chat=300s,email=240s", "--hours", "1"];

fn helpdesk(extra: &[&str]) -> std::process::Output {
    let mut args = vec!["simulate", "examples/helpdesk", "--agents", "examples/helpdesk/agents.csv"];
    args.extend_from_slice(&HELPDESK_LOAD);
    args.extend_from_slice(extra);
    switchboard(&repo(), &args)
}

fn json(o: &std::process::Output) -> Value {
    assert_eq!(code(o), 0, "{}", both(o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", both(o)))
}

fn number(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn the_same_seed_prints_the_same_day_and_another_seed_another() {
    let first = helpdesk(&["--seed", "5", "--patience", "60s"]);
    assert_eq!(code(&first), 0, "{}", both(&first));
    assert!(stderr(&first).is_empty(), "no progress bar off a terminal: {}", both(&first));
    let again = helpdesk(&["--seed", "5", "--patience", "60s"]);
    assert_eq!(stdout(&first), stdout(&again));
    let other = helpdesk(&["--seed", "6", "--patience", "60s"]);
    assert_ne!(stdout(&first), stdout(&other));
    let json_first = helpdesk(&["--seed", "5", "--format", "json"]);
    let json_again = helpdesk(&["--seed", "5", "--format", "json"]);
    assert_eq!(stdout(&json_first), stdout(&json_again));
}

#[test]
fn the_human_report_has_a_table_per_queue_and_channel_and_the_waypoints() {
    let o = helpdesk(&[]);
    assert_eq!(code(&o), 0, "{}", both(&o));
    let out = stdout(&o);
    assert!(out.starts_with("simulated 1h from 2026-11-23 08:00 Europe/London, seed 1: 200 agents, "), "{out}");
    let line = |start: &str| out.lines().find(|l| l.starts_with(start)).unwrap_or_else(|| panic!("`{start}`:\n{out}"));
    assert!(line("queue ").contains("offered  answered  abandoned  waiting  service level"), "{out}");
    assert!(line("hardware    voice").contains("80% in 30s"), "{out}");
    assert!(line("software    chat").contains("80% in 1m00s"), "{out}");
    assert!(line("hardware    email").contains("90% in 4h00m"), "{out}");
    assert!(line("queue       agents  occupancy").len() > 10, "{out}");
    assert!(line("hardware       120").ends_with('%'), "{out}");
    assert!(line("waypoint").contains("count"), "{out}");
    assert!(line("start ").split_whitespace().last().is_some_and(|n| n.parse::<u32>().is_ok_and(|n| n > 500)), "{out}");
}

#[test]
fn the_json_report_adds_up() {
    let report = json(&helpdesk(&["--format", "json", "--patience", "45s"]));
    let channels = report["channels"].as_array().expect("channels");
    let arrived: f64 = channels.iter().map(|c| number(&c["arrived"])).sum();
    // Every customer passes `waypoint start`, and is a stranger to the project's CSV.
    assert_eq!(number(&report["waypoints"]["start"]), arrived, "{report}");
    assert_eq!(number(&report["waypoints"]["stranger"]), arrived, "{report}");
    let queued: f64 = channels.iter().map(|c| number(&c["queued"])).sum();
    let queues = report["queues"].as_array().expect("queues");
    let offered: f64 =
        queues.iter().flat_map(|q| q["channels"].as_array().expect("channels")).map(|c| number(&c["offered"])).sum();
    let overflowed: f64 = queues
        .iter()
        .flat_map(|q| q["channels"].as_array().expect("channels"))
        .map(|c| number(&c["overflowed_out"]))
        .sum();
    assert_eq!(offered, queued + overflowed, "{report}");
    for q in queues {
        for c in q["channels"].as_array().expect("channels") {
            let settled = number(&c["answered"]) + number(&c["abandoned"]) + number(&c["waiting"]);
            assert!(settled <= number(&c["offered"]), "{c}");
            if let Some(level) = c["service_level"].as_f64() {
                assert!((0.0..=1.0).contains(&level), "{c}");
            }
        }
        let occupancy = number(&q["occupancy"]);
        assert!(occupancy > 0.0 && occupancy < 1.0, "{q}");
    }
    // Chat and email follow the menu too: both hardware and software get chats.
    let chats = |queue: &str| {
        queues.iter().find(|q| q["queue"] == queue).and_then(|q| {
            q["channels"]
                .as_array()
                .expect("channels")
                .iter()
                .find(|c| c["channel"] == "chat")
                .map(|c| number(&c["offered"]))
        })
    };
    assert!(chats("hardware").is_some_and(|n| n > 20.0) && chats("software").is_some_and(|n| n > 20.0), "{report}");
}

/// The classic worked example: 100 calls in 30 minutes, 3 minutes each, 14 agents; Erlang C
/// answers 88.8% within 20 s. One queue, one flow `queue q`, nobody hangs up, agents pick up
/// at once: the model Erlang C assumes, played for a week on the real engine.
#[test]
fn a_single_queue_meets_erlang_c() {
    let project = scratch(&[
        (
            "main.flow",
            "skills phones\n\nqueue q {\n  skills phones\n  target voice 80% in 20s\n}\n\n\
             entry voice +441632960000 -> inbound\n\nflow inbound on voice {\n  queue q\n}\n",
        ),
        ("agents.csv", "id,name,skills,languages,count\na,Agent,phones,,14\n"),
    ]);
    let dir = project.path();
    let simulated = json(&switchboard(
        dir,
        &[
            "simulate",
            ".",
            "--agents",
            "agents.csv",
            "--arrivals",
            "voice=100/30m",
            "--aht",
            "voice=180s",
            "--hours",
            "168",
            "--ring",
            "0s",
            "--seed",
            "1",
            "--format",
            "json",
        ],
    ));
    let erlang = json(&switchboard(
        dir,
        &["staff", "--rate", "100/30m", "--aht", "180s", "--target", "80%/20s", "--format", "json"],
    ));
    assert_eq!(erlang["agents"], 14, "{erlang}");
    let voice = &simulated["queues"][0]["channels"][0];
    assert_eq!(voice["channel"], "voice", "{simulated}");
    assert_eq!(number(&voice["abandoned"]), 0.0, "{voice}");
    // About 33,600 calls in a week.
    assert!((number(&voice["offered"]) - 33_600.0).abs() < 600.0, "{voice}");
    let (level, expected) = (number(&voice["service_level"]), number(&erlang["service_level"]));
    assert!((level - expected).abs() < 0.02, "service level simulated {level:.4}, Erlang C {expected:.4}");
    let (asa, expected) = (number(&voice["asa_seconds"]), number(&erlang["asa_seconds"]));
    assert!((asa - expected).abs() < 2.0, "ASA simulated {asa:.2}s, Erlang C {expected:.2}s");
    let (occupancy, expected) = (number(&simulated["queues"][0]["occupancy"]), number(&erlang["occupancy"]));
    assert!((occupancy - expected).abs() < 0.02, "occupancy simulated {occupancy:.4}, Erlang C {expected:.4}");
    let aht = number(&voice["aht_seconds"]);
    assert!((aht - 180.0).abs() < 5.0, "{voice}");
}

#[test]
fn without_patience_nobody_hangs_up_and_with_it_waiting_callers_do() {
    // Half the staff the helpdesk needs.
    let project = copy_of("examples/helpdesk");
    let dir = project.path();
    write(&dir.join("few.csv"), b"id,skills,count\nhw,hardware,6\nsw,software,6\n");
    let args = |patience: Option<&'static str>| {
        let mut a = vec![
            "simulate",
            ".",
            "--agents",
            "few.csv",
            "--arrivals",
            "voice=300/h",
            "--aht",
            "voice=180s",
            "--hours",
            "1",
            "--format",
            "json",
        ];
        if let Some(p) = patience {
            a.extend(["--patience", p]);
        }
        a
    };
    let total = |report: &Value, field: &str| -> f64 {
        report["channels"].as_array().expect("channels").iter().map(|c| number(&c[field])).sum()
    };
    let patient = json(&switchboard(dir, &args(None)));
    assert_eq!(total(&patient, "abandoned"), 0.0, "{patient}");
    let waiting: f64 = patient["queues"]
        .as_array()
        .expect("queues")
        .iter()
        .flat_map(|q| q["channels"].as_array().expect("channels"))
        .map(|c| number(&c["waiting"]))
        .sum();
    assert!(waiting > 20.0, "the queue grows all hour: {patient}");
    let impatient = json(&switchboard(dir, &args(Some("30s"))));
    assert!(total(&impatient, "abandoned") > 50.0, "{impatient}");
    assert_eq!(total(&impatient, "arrived"), total(&patient, "arrived"), "the same callers arrive");
}

#[test]
fn the_help_explains_the_agents_file_and_the_people() {
    let o = switchboard(&repo(), &["simulate", "--help"]);
    assert_eq!(code(&o), 0, "{}", both(&o));
    let out = stdout(&o);
    for needle in [
        "id,name,skills,languages,count",
        "count",
        "--arrivals",
        "--patience",
        "Poisson",
        "exponential",
        "at most 100000 agents",
        "from 1s to 24h",
    ] {
        assert!(out.contains(needle), "`{needle}` in\n{out}");
    }
}

#[test]
fn mistakes_are_explained_and_exit_2() {
    let project = copy_of("examples/helpdesk");
    let dir = project.path();
    write(&dir.join("typo.csv"), b"id,skills\nann,hardwear\n");
    let cases: [(&str, &str, &str, &str); 5] = [
        ("typo.csv", "voice=10/h", "voice=60s", "agent `ann` has the skill `hardwear`"),
        ("missing.csv", "voice=10/h", "voice=60s", "cannot read the agents file `missing.csv`"),
        ("agents.csv", "voice=lots", "voice=60s", "`lots` is not a number"),
        ("agents.csv", "sms=10/h", "sms=60s", "no sms entry"),
        ("agents.csv", "voice=10/h", "chat=60s", "no handling time for voice"),
    ];
    for (agents, arrivals, aht, says) in cases {
        let args = ["simulate", ".", "--agents", agents, "--arrivals", arrivals, "--aht", aht, "--hours", "1"];
        let o = switchboard(dir, &args);
        assert_eq!(code(&o), 2, "{args:?}\n{}", both(&o));
        assert!(stderr(&o).contains(says), "{args:?}: `{says}`\n{}", both(&o));
    }
}

/// Every waiting caller hears `queue.position` every 5 minutes, and one agent leaves
/// thousands waiting. Counting the callers ahead walked the line, so the cost was quadratic
/// in the callers waiting: 80,000 calls an hour took 39 s where 80,000 emails (which hear
/// nothing while they wait) took 0.55 s, and this day took 27 s against 0.3 s for email in a
/// debug build. Now the count is logarithmic: the calls cost a small multiple of the emails.
#[test]
fn waiting_callers_hearing_their_position_cost_linear_time() {
    let project = scratch(&[
        (
            "main.flow",
            "skills phones\n\nqueue q {\n  skills phones\n  while waiting {\n    \
             every 5m say \"You are number {queue.position} in line.\"\n  }\n}\n\n\
             entry voice +441632960000 -> inbound\nentry email \"help@example.com\" -> inbound\n\n\
             flow inbound on voice, email {\n  queue q\n}\n",
        ),
        ("agents.csv", "id,skills\na,phones\n"),
    ]);
    let timed = |channel: &str| {
        let arrivals = format!("{channel}=30000/h");
        let aht = format!("{channel}=180s");
        let args =
            ["simulate", ".", "--agents", "agents.csv", "--arrivals", &arrivals, "--aht", &aht, "--hours", "0.5"];
        let started = std::time::Instant::now();
        let o = switchboard(project.path(), &args);
        let took = started.elapsed();
        assert_eq!(code(&o), 0, "{}", both(&o));
        assert!(stdout(&o).contains("offered"), "{}", both(&o));
        took
    };
    let email = timed("email");
    let voice = timed("voice");
    let bound = email * 10 + std::time::Duration::from_secs(3);
    assert!(voice < bound, "voice took {voice:?}, email {email:?}: voice should stay under {bound:?}");
}

/// `simulate` in `dir`, for an hour unless `extra` says `--hours`.
fn simulate_in(dir: &std::path::Path, agents: &str, arrivals: &str, aht: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["simulate", ".", "--agents", agents, "--arrivals", arrivals, "--aht", aht];
    if !extra.contains(&"--hours") {
        args.extend(["--hours", "1"]);
    }
    args.extend_from_slice(extra);
    switchboard(dir, &args)
}

/// An agents `count` of 10 million made 10 million agents and aborted the process; rates and
/// runs past what can be simulated are refused too, each with its limit.
#[test]
fn what_cannot_be_simulated_is_refused_with_the_limit() {
    let project = copy_of("examples/helpdesk");
    let dir = project.path();
    write(&dir.join("huge.csv"), b"id,skills,count\nhw,hardware,10000000\n");
    write(&dir.join("many.csv"), b"id,skills,count\nhw,hardware,60000\nsw,software,40001\n");
    let cases: [(&str, &str, &[&str], &str); 4] = [
        ("huge.csv", "voice=10/h", &[], "line 2: more than 100000 agents, the most a simulation takes"),
        ("many.csv", "voice=10/h", &[], "line 3: more than 100000 agents"),
        ("agents.csv", "voice=2000000/h", &[], "the most a channel may bring"),
        ("agents.csv", "voice=900000/h,chat=900000/h", &["--hours", "8"], "at most 5000000 can be simulated"),
    ];
    for (agents, arrivals, extra, says) in cases {
        let aht = "voice=180s,chat=300s";
        let o = simulate_in(dir, agents, arrivals, aht, extra);
        assert_eq!(code(&o), 2, "{agents} {arrivals}\n{}", both(&o));
        assert!(stderr(&o).contains(says), "`{says}`\n{}", both(&o));
        assert!(stdout(&o).is_empty(), "{}", both(&o));
    }
}

/// `--patience 99999999999d` overflowed the clock, and 58 of 157 callers hung up at once; an
/// `--aht` as large reported an AHT of 0s. Both are usage errors now, naming the flag and
/// the range.
#[test]
fn patience_and_handling_times_out_of_range_are_usage_errors() {
    let project = copy_of("examples/helpdesk");
    let dir = project.path();
    let cases: [(&str, &[&str], &str); 5] = [
        ("voice=180s", &["--patience", "99999999999d"], "--patience must be from 1s to 24h, not `99999999999d`"),
        ("voice=180s", &["--patience", "0.1s"], "--patience must be from 1s to 24h, not `0.1s`"),
        ("voice=99999999999d", &[], "--aht voice: a handling time must be from 1s to 24h, not `99999999999d`"),
        ("voice=0s", &[], "--aht voice: a handling time must be from 1s to 24h, not `0s`"),
        ("voice=180s,email=2d", &[], "--aht email: a handling time must be from 1s to 24h, not `2d`"),
    ];
    for (aht, extra, says) in cases {
        let o = simulate_in(dir, "agents.csv", "voice=150/h", aht, extra);
        assert_eq!(code(&o), 2, "{aht} {extra:?}\n{}", both(&o));
        assert!(stderr(&o).contains(says), "`{says}`\n{}", both(&o));
    }
    // The edges of the range are taken.
    let o = simulate_in(dir, "agents.csv", "voice=150/h", "voice=1s", &["--patience", "24h", "--format", "json"]);
    let report = json(&o);
    assert!(number(&report["channels"][0]["arrived"]) > 100.0, "{report}");
}
