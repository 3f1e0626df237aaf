//! The simulator on small projects written here: the customers' behaviour model, the
//! seed, the checks on the scenario, and Erlang A as a cross-check of the whole loop.

use super::*;
use crate::staffing::{self, Rate, ServiceTarget, StaffingRequest};
use tempfile::TempDir;

/// A one-file project compiled from `source`, and its folder.
fn project(source: &str) -> (Arc<Bundle>, TempDir) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(dir.path().join("main.flow"), source).expect("the flow is written");
    let projects = switchboard_shell::project::discover(&[dir.path().to_path_buf()]).expect("the project is found");
    let p = &projects[0];
    let checked = p.check(&switchboard_stdlib::modules());
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
    let bundle = switchboard_compiler::codegen::compile(&checked, &p.loader()).expect("it compiles");
    (Arc::new(bundle), dir)
}

/// One queue, one voice entry, `flow` as the flow's body.
fn single_queue(flow: &str) -> String {
    format!(
        "skills phones\n\nqueue q {{\n  skills phones\n  target voice 80% in 20s\n}}\n\n\
         entry voice +441632960000 -> inbound\n\nflow inbound on voice {{\n{flow}\n}}\n"
    )
}

fn agents(n: u32) -> Vec<AgentView> {
    parse_agents(&format!("id,skills,count\na,phones,{n}\n")).expect("agents")
}

fn scenario(agents: Vec<AgentView>, per_hour: f64, hours: f64, seed: u64) -> Scenario {
    Scenario {
        agents,
        arrivals: vec![(Channel::Voice, per_hour)],
        handle_ms: vec![(Channel::Voice, 180_000.0)],
        spread: Spread::Exponential,
        patience_ms: None,
        ring_ms: (0, 0),
        hours,
        seed,
        start: switchboard_calendar::parse_at("2026-11-23 08:00 Europe/London").expect("a time"),
    }
}

fn simulate(bundle: &Arc<Bundle>, dir: &TempDir, scenario: &Scenario) -> Result<Report, String> {
    run(bundle.clone(), dir.path(), scenario, &mut |_| {})
}

use switchboard_vm::AgentView;

#[test]
fn customers_pick_every_menu_option_about_as_often() {
    let flow = r#"  menu "Press 1, 2 or 3." {
    1 "one" { waypoint one
      queue q }
    2 "two" { waypoint two
      queue q }
    3 "three" { waypoint three
      queue q }
    timeout 10s retries 1 { waypoint silent
      queue q }
  }"#;
    let (bundle, dir) = project(&single_queue(flow));
    let report = simulate(&bundle, &dir, &scenario(agents(20), 600.0, 2.0, 1)).unwrap();
    let count = |name: &str| report.waypoints.get(name).copied().unwrap_or(0);
    let arrived = report.channels[0].arrived;
    assert_eq!(count("silent"), 0, "customers answer before the time-out: {report:?}");
    assert_eq!(count("one") + count("two") + count("three"), arrived);
    for name in ["one", "two", "three"] {
        let share = count(name) as f64 / arrived as f64;
        assert!((share - 1.0 / 3.0).abs() < 0.05, "{name}: {share} of {arrived}");
    }
}

#[test]
fn customers_answer_questions_with_valid_values_and_go_quiet_on_a_short_time_out() {
    let flow = r#"  ask account: digits(6) "Your account number?" else { waypoint no_account }
  if account != none { waypoint account }
  menu "Press 1." {
    1 "one" { queue q }
    timeout 1s retries 1 { waypoint too_slow
      queue q }
  }"#;
    let (bundle, dir) = project(&single_queue(flow));
    let report = simulate(&bundle, &dir, &scenario(agents(20), 300.0, 1.0, 1)).unwrap();
    let count = |name: &str| report.waypoints.get(name).copied().unwrap_or(0);
    let arrived = report.channels[0].arrived;
    assert!(arrived > 200, "{report:?}");
    assert_eq!(count("account"), arrived, "{report:?}");
    assert_eq!(count("no_account"), 0);
    // They think for 1–4 s: hardly anyone beats a 1 s time-out twice.
    assert!(count("too_slow") > arrived * 9 / 10, "{report:?}");
    assert_eq!(report.channels[0].queued, arrived);
}

#[test]
fn impatient_callers_abandon_as_often_as_erlang_a_says() {
    // 100 calls in 30 minutes, 3 minutes each (10 Erlangs) on 11 agents; callers wait 60 s
    // on average before hanging up. A week, so that the day-to-day noise averages out.
    let (bundle, dir) = project(&single_queue("  queue q"));
    let mut s = scenario(agents(11), 200.0, 168.0, 1);
    s.patience_ms = Some(60_000.0);
    let report = simulate(&bundle, &dir, &s).unwrap();
    let voice = &report.queues[0].channels[0];
    let simulated = voice.abandoned as f64 / voice.offered as f64;

    let mut request = StaffingRequest::new(
        Rate { contacts: 100.0, interval_seconds: 1800.0 },
        180.0,
        ServiceTarget { fraction: 0.8, within_seconds: 20.0 },
    );
    request.patience_seconds = Some(60.0);
    let erlang_a = staffing::performance(&request, 11);
    let expected = erlang_a.abandonment.expect("Erlang A gives abandonment");
    assert!((simulated - expected).abs() < 0.01, "abandonment simulated {simulated:.4}, Erlang A {expected:.4}");
    let asa = voice.asa_seconds.expect("answers");
    assert!((asa - erlang_a.asa_seconds).abs() < 3.0, "ASA simulated {asa:.1}s, Erlang A {:.1}s", erlang_a.asa_seconds);
}

#[test]
fn a_seed_gives_the_same_day_and_another_seed_another() {
    let (bundle, dir) = project(&single_queue(
        r#"  menu "1 or 2" { 1 "a" { queue q } 2 "b" { waypoint b
    queue q } timeout 5s retries 1 { queue q } }"#,
    ));
    let mut s = scenario(agents(12), 200.0, 3.0, 7);
    s.patience_ms = Some(30_000.0);
    s.ring_ms = (2_000, 5_000);
    let first = simulate(&bundle, &dir, &s).unwrap();
    assert_eq!(first, simulate(&bundle, &dir, &s).unwrap());
    s.seed = 8;
    assert_ne!(first, simulate(&bundle, &dir, &s).unwrap());
}

#[test]
fn the_same_seed_brings_the_same_customers_whatever_the_staffing() {
    let (bundle, dir) = project(&single_queue(
        r#"  waypoint arrived
  queue q"#,
    ));
    let few = simulate(&bundle, &dir, &scenario(agents(8), 200.0, 2.0, 3)).unwrap();
    let many = simulate(&bundle, &dir, &scenario(agents(20), 200.0, 2.0, 3)).unwrap();
    assert_eq!(few.waypoints, many.waypoints);
    assert_eq!(few.queues[0].channels[0].offered, many.queues[0].channels[0].offered);
    assert_ne!(few.queues[0].channels[0].asa_seconds, many.queues[0].channels[0].asa_seconds);
}

#[test]
fn agents_need_the_projects_skills_and_arrivals_an_entry() {
    let (bundle, dir) = project(&single_queue("  queue q"));
    let mut s = scenario(parse_agents("id,skills\nann,phones;billing\n").unwrap(), 10.0, 1.0, 1);
    let err = simulate(&bundle, &dir, &s).unwrap_err();
    assert!(err.contains("agent `ann` has the skill `billing`") && err.contains("its skills: phones"), "{err}");
    s.agents = agents(1);
    s.arrivals.push((Channel::Chat, 10.0));
    s.handle_ms.push((Channel::Chat, 60_000.0));
    let err = simulate(&bundle, &dir, &s).unwrap_err();
    assert!(err.contains("no chat entry"), "{err}");
    s.arrivals.pop();
    s.handle_ms.clear();
    let err = simulate(&bundle, &dir, &s).unwrap_err();
    assert!(err.contains("no handling time for voice"), "{err}");
}

/// A scenario built in code, not parsed from the command line, meets the same limits: an
/// overflowing patience or handling time made wrong reports, and too many agents aborted.
#[test]
fn a_scenario_built_by_hand_is_refused_past_the_limits() {
    let (bundle, dir) = project(&single_queue("  queue q"));
    let refused = |change: &dyn Fn(&mut Scenario), says: &str| {
        let mut s = scenario(agents(1), 10.0, 1.0, 1);
        change(&mut s);
        let err = simulate(&bundle, &dir, &s).unwrap_err();
        assert!(err.contains(says), "`{says}`: {err}");
    };
    refused(&|s| s.patience_ms = Some(8.64e18), "--patience must be from 1s to 24h");
    refused(&|s| s.handle_ms = vec![(Channel::Voice, 0.0)], "--aht voice: must be from 1s to 24h");
    refused(&|s| s.handle_ms = vec![(Channel::Voice, f64::NAN)], "--aht voice: must be from 1s to 24h");
    refused(&|s| s.arrivals = vec![(Channel::Voice, 2e6)], "the most a channel may bring");
    refused(
        &|s| {
            s.arrivals = vec![(Channel::Voice, 1e6)];
            s.hours = 11.0;
        },
        "at most 5000000 can be simulated",
    );
    refused(&|s| s.agents = vec![s.agents[0].clone(); 100_001], "100001 agents are more than 100000");
    refused(&|s| s.hours = f64::INFINITY, "--hours must be more than 0");
}

#[test]
fn a_simulated_day_replayed_on_a_fresh_engine_gives_the_same_outputs_and_state() {
    let source = r#"skills phones

record Caller { id: text  name: text  phone: phone }

source crm: Caller {
  csv "crm.csv"
  key phone
  cache 5m
}

queue q {
  skills phones
  target voice 80% in 20s
  while waiting {
    every 30s say "You are number {queue.position} in line."
    after 1m offer callback keep place
  }
}

entry voice +441632960000 -> inbound

flow inbound on voice {
  let caller = lookup crm by contact.from
  if caller != none { waypoint known }
  menu "Press 1 or 2." {
    1 "one" { queue q }
    2 "two" { waypoint two
      queue q }
    timeout 5s retries 1 { queue q }
  }
}
"#;
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(dir.path().join("main.flow"), source).expect("the flow is written");
    let rows: String = (1..200).map(|n| format!("c{n},Caller {n},+447911{n:06}\n")).collect();
    std::fs::write(dir.path().join("crm.csv"), format!("id,name,phone\n{rows}")).expect("the csv is written");
    let projects = switchboard_shell::project::discover(&[dir.path().to_path_buf()]).expect("the project is found");
    let p = &projects[0];
    let checked = p.check(&switchboard_stdlib::modules());
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
    let bundle = Arc::new(switchboard_compiler::codegen::compile(&checked, &p.loader()).expect("it compiles"));

    let mut s = scenario(agents(6), 150.0, 8.0, 11);
    s.patience_ms = Some(90_000.0);
    s.ring_ms = (1_000, 6_000);
    s.validate().unwrap();
    let options = Options { record: true, ..Options::default() };
    let mut sim = Simulation::new(bundle, dir.path(), &s, options).unwrap();
    sim.play(&mut |_| {}).unwrap();
    let report = sim.report();
    assert!(report.channels[0].arrived > 1_000, "a busy day: {report:?}");
    assert!(report.waypoints.get("known").copied().unwrap_or(0) > 50, "look-ups found callers: {report:?}");
    assert!(report.channels[0].abandoned > 0 && report.channels[0].callbacks > 0, "{report:?}");
    assert!(sim.engine.recorded() > 10_000, "{} inputs", sim.engine.recorded());
    sim.engine.replay().expect("the replay gives the same outputs and state");
}

#[test]
fn strategies_calls_are_taken_by_agents_dialled_and_let_go_of() {
    let source = format!(
        "{}\nretry chase for p: phone {{\n  after 1m call p queue q\n  on no_answer {{\n    again in 5m max 3\n  }}\n  \
         on answered {{ stop }}\n}}\n",
        single_queue("  start retry chase for +447700900123\n  queue q")
    );
    let (bundle, dir) = project(&source);
    let report = simulate(&bundle, &dir, &scenario(agents(6), 30.0, 3.0, 5)).unwrap();
    let voice = &report.channels[0];
    // Every caller starts a strategy; each calls until answered, up to three times.
    assert!(report.outbound_calls >= voice.arrived, "{report:?}");
    let share = report.outbound_answered as f64 / report.outbound_calls as f64;
    assert!((share - customer::OUTBOUND_ANSWER).abs() < 0.15, "answered {share} of the calls: {report:?}");
    // No agent is kept by a call: the callers are all answered but the last few; the calls
    // are not callers in the queue's figures.
    assert!(voice.answered + 3 >= voice.arrived, "{voice:?}");
    assert_eq!(report.queues[0].channels[0].offered, voice.queued, "{report:?}");
    assert!(report.errors.is_empty(), "{:?}", report.errors);
}
