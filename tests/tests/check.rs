//! `switchboard check` end to end: clean projects, every output format, exit codes.

mod support;
use serde_json::Value;
use support::*;

/// A project with one error (a misspelt queue) and one warning (the queue left unused).
const BROKEN: &str = r#"skills support

queue support {
  skills support
}

entry voice +441632960000 -> inbound

flow inbound on voice {
  queue suport
}
"#;

fn check_clean(path: &std::path::Path) {
    let o = switchboard(&repo(), &["check", "--deny-warnings", path.to_str().expect("a UTF-8 path")]);
    assert_eq!(code(&o), 0, "{} should check clean\n{}", path.display(), both(&o));
    assert!(stdout(&o).contains("0 errors, 0 warnings"), "{}", both(&o));
}

#[test]
fn acme_checks_clean() {
    check_clean(&repo().join("flows"));
}

#[test]
fn every_example_checks_clean() {
    for example in examples() {
        check_clean(&example);
    }
}

#[test]
fn the_standard_library_checks_clean() {
    check_clean(&repo().join("stdlib"));
}

#[test]
fn a_broken_project_is_reported_in_human_words() {
    let dir = scratch(&[("main.flow", BROKEN)]);
    let o = switchboard(dir.path(), &["check", "."]);
    assert_eq!(code(&o), 1, "{}", both(&o));
    insta::assert_snapshot!(stdout(&o));
}

#[test]
fn json_lists_every_diagnostic_with_its_code_and_place() {
    let dir = scratch(&[("main.flow", BROKEN)]);
    let o = switchboard(dir.path(), &["check", "--format", "json", "."]);
    assert_eq!(code(&o), 1, "{}", both(&o));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", both(&o)));

    let top: Vec<&str> = report.as_object().expect("an object").keys().map(String::as_str).collect();
    assert_eq!(top, ["diagnostics", "errors", "warnings"]);
    assert_eq!(report["errors"], 1);
    assert_eq!(report["warnings"], 1);

    let diagnostics = report["diagnostics"].as_array().expect("a list");
    let fields = ["code", "severity", "file", "line", "column", "end_line", "end_column", "message", "help"];
    for d in diagnostics {
        let mut keys: Vec<&str> = d.as_object().expect("an object").keys().map(String::as_str).collect();
        keys.sort_unstable();
        let mut expected = fields.to_vec();
        expected.sort_unstable();
        assert_eq!(keys, expected, "{d}");
        for number in ["line", "column", "end_line", "end_column"] {
            assert!(d[number].as_u64().is_some_and(|n| n >= 1), "{number} is a 1-based number: {d}");
        }
        assert!(d["message"].is_string() && (d["help"].is_string() || d["help"].is_null()), "{d}");
    }
    let error = diagnostics.iter().find(|d| d["severity"] == "error").expect("an error");
    assert_eq!(error["code"], "unknown-name");
    assert_eq!(error["file"], "./main.flow");
    assert_eq!((error["line"].as_u64(), error["column"].as_u64()), (Some(10), Some(9)));
    assert_eq!((error["end_line"].as_u64(), error["end_column"].as_u64()), (Some(10), Some(15)));
    assert!(error["message"].as_str().is_some_and(|m| m.contains("suport")), "{error}");
    assert_eq!(error["help"], "did you mean `support`?");
    let warning = diagnostics.iter().find(|d| d["severity"] == "warning").expect("a warning");
    assert_eq!(warning["code"], "unused");
    assert_eq!(warning["line"], 3);
}

#[test]
fn github_format_is_one_workflow_command_a_line() {
    let dir = scratch(&[("main.flow", BROKEN)]);
    let o = switchboard(dir.path(), &["check", "--format", "github", "."]);
    assert_eq!(code(&o), 1, "{}", both(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines.iter().all(|l| l.starts_with("::error ") || l.starts_with("::warning ")), "{out}");
    assert!(lines.iter().any(|l| l.starts_with("::error file=./main.flow,line=10,col=9,")), "{out}");
    assert!(lines.iter().any(|l| l.starts_with("::warning file=./main.flow,line=3,")), "{out}");
}

#[test]
fn sarif_is_valid_json_of_version_2_1_0() {
    let dir = scratch(&[("main.flow", BROKEN)]);
    let o = switchboard(dir.path(), &["check", "--format", "sarif", "."]);
    assert_eq!(code(&o), 1, "{}", both(&o));
    let sarif: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", both(&o)));
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    let results = run["results"].as_array().expect("results");
    let mut found: Vec<(&str, &str)> =
        results.iter().map(|r| (r["ruleId"].as_str().unwrap_or("?"), r["level"].as_str().unwrap_or("?"))).collect();
    found.sort_unstable();
    assert_eq!(found, [("unknown-name", "error"), ("unused", "warning")]);
    for r in results {
        let index = r["ruleIndex"].as_u64().expect("a rule index") as usize;
        assert_eq!(rules[index]["id"], r["ruleId"], "ruleIndex points at the rule: {r}");
        let region = &r["locations"][0]["physicalLocation"]["region"];
        assert!(region["startLine"].as_u64().is_some_and(|n| n >= 1), "{r}");
    }
}

#[test]
fn every_error_of_every_file_is_reported_in_one_run() {
    let dir = scratch(&[
        ("common.flow", "skills support\nqueue support {\n  skills suport\n}\n"),
        (
            "inbound.flow",
            "entry voice +441632960000 -> inbound\nflow inbound on voice {\n  waypoint a\n  queue nowhere\n}\n",
        ),
    ]);
    let o = switchboard(dir.path(), &["check", "--format", "json", "."]);
    assert_eq!(code(&o), 1, "{}", both(&o));
    let report: Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let mut seen: Vec<(String, String)> = report["diagnostics"]
        .as_array()
        .expect("a list")
        .iter()
        .filter(|d| d["severity"] == "error")
        .map(|d| (d["file"].as_str().unwrap_or("").to_string(), d["code"].as_str().unwrap_or("").to_string()))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("./common.flow".to_string(), "unknown-name".to_string()),
            ("./inbound.flow".to_string(), "unknown-name".to_string())
        ],
        "{}",
        both(&o)
    );
}

#[test]
fn a_missing_path_is_a_usage_error() {
    let dir = scratch(&[]);
    let o = switchboard(dir.path(), &["check", "no-such-folder"]);
    assert_eq!(code(&o), 2, "{}", both(&o));
    assert!(stderr(&o).contains("no-such-folder"), "{}", both(&o));
    assert!(stdout(&o).is_empty(), "{}", both(&o));
}

#[test]
fn bad_arguments_are_usage_errors() {
    let dir = scratch(&[("main.flow", HELLO)]);
    for args in [&["check"][..], &["check", "--format", "xml", "."], &["check", "--no-such-flag", "."]] {
        let o = switchboard(dir.path(), args);
        assert_eq!(code(&o), 2, "{args:?}\n{}", both(&o));
        assert!(!stderr(&o).is_empty(), "{args:?}\n{}", both(&o));
    }
}

#[test]
fn bytes_that_are_not_utf8_are_a_syntax_error_not_a_crash() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut text = HELLO.replacen("say \"Hello.\"", "say \"Caf\u{e9}\"", 1).into_bytes();
    // Latin-1 é instead of UTF-8: the byte after `Caf` is 0xE9 alone.
    let at = text.windows(2).position(|w| w == [0xC3, 0xA9]).expect("the é");
    text.splice(at..at + 2, [0xE9]);
    write(&dir.path().join("main.flow"), &text);
    let o = switchboard(dir.path(), &["check", "--format", "json", "."]);
    assert_eq!(code(&o), 1, "{}", both(&o));
    assert!(!stderr(&o).contains("panicked"), "{}", both(&o));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", both(&o)));
    let first = &report["diagnostics"][0];
    assert_eq!(first["code"], "syntax", "{}", both(&o));
    assert_eq!(first["severity"], "error");
    assert_eq!(first["line"], 11, "the error points at the line with the bad byte: {first}");
}

#[test]
fn warnings_fail_only_when_denied() {
    let with_warning = HELLO.replacen("skills support\n", "skills support\n\nqueue spare {\n  skills support\n}\n", 1);
    let dir = scratch(&[("main.flow", &with_warning)]);
    let o = switchboard(dir.path(), &["check", "."]);
    assert_eq!(code(&o), 0, "{}", both(&o));
    assert!(stdout(&o).contains("warning[unused]"), "{}", both(&o));
    assert!(stdout(&o).contains("0 errors, 1 warning"), "{}", both(&o));
    let o = switchboard(dir.path(), &["check", "--deny-warnings", "."]);
    assert_eq!(code(&o), 1, "{}", both(&o));
}

/// A project whose one `extern fn` is backed by `scripts/score.rhai`.
const SCORED: &str = r#"skills support

queue support {
  skills support
}

queue priority {
  skills support
}

extern fn score(n: number) -> number from "scripts/score.rhai"

entry voice +441632960000 -> inbound

flow inbound on voice {
  on error {
    queue support
  }
  if score(1) > 0.5 {
    queue priority
  }
  queue support
}
"#;

/// `check` on the project above with `script` as its score script: the exit code, and the
/// errors of the JSON report followed by the human report (which shows the labels).
fn check_script(script: &str) -> (i32, String) {
    let dir = scratch(&[("main.flow", SCORED), ("scripts/score.rhai", script)]);
    let human = stdout(&switchboard(dir.path(), &["check", "."]));
    let o = switchboard(dir.path(), &["check", "--format", "json", "."]);
    let report: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", both(&o)));
    let errors: Vec<String> = report["diagnostics"]
        .as_array()
        .expect("a list")
        .iter()
        .filter(|d| d["severity"] == "error")
        .map(|d| d.to_string())
        .collect();
    (code(&o), format!("{}\n{human}", errors.join("\n")))
}

#[test]
fn a_script_that_does_not_compile_is_an_error() {
    let (code, errors) = check_script("fn score(n) {\n  let s = if n > 0 { 0.9 } else { 0.1\n  s\n}\n");
    assert_eq!(code, 1, "{errors}");
    assert!(errors.contains("`scripts/score.rhai` does not compile"), "{errors}");
    assert!(errors.contains("project-file"), "{errors}");
}

#[test]
fn a_script_without_its_function_is_an_error() {
    let (code, errors) = check_script("fn scor(n) { n * 0.5 }\n");
    assert_eq!(code, 1, "{errors}");
    assert!(errors.contains("`scripts/score.rhai` defines no function `score`"), "{errors}");
    let (code, errors) = check_script("fn score(n, m) { n * m }\n");
    assert_eq!(code, 1, "{errors}");
    assert!(
        errors.contains("`scripts/score.rhai` defines `score` with 2 parameter(s), but it is declared with 1"),
        "{errors}"
    );
}

/// `check` asks the very sandbox that runs the script: what it refuses at start (here an
/// undefined variable, which its strict mode catches, and `eval`), `check` refuses too.
#[test]
fn check_refuses_what_the_sandbox_refuses() {
    let (code, errors) = check_script("fn score(n) { n * weight }\n");
    assert_eq!(code, 1, "{errors}");
    assert!(errors.contains("does not compile") && errors.contains("weight"), "{errors}");
    let (code, errors) = check_script("fn score(n) { eval(\"n * 2\") }\n");
    assert_eq!(code, 1, "{errors}");
    assert!(errors.contains("does not compile"), "{errors}");
    let (code, errors) = check_script("fn score(n) { n * 0.5 }\n");
    assert_eq!(code, 0, "{errors}");
}

/// A project whose `crm` source is the table `customers` of `crm.db`; the database is made
/// by each test as it needs.
const SQLITE_PROJECT: &str = r#"record Customer { id: text  name: text  phone: phone  tier: Tier  note: text? }
enum Tier { standard, gold }
skills support
source crm: Customer {
  sqlite "crm.db" table "customers"
  key phone
  timeout 500ms
}
queue support { skills support }
entry voice +441632960000 -> main
flow main on voice {
  let customer = lookup crm by contact.from else { queue support }
  say "Hello {customer.name}."
  queue support
}
"#;

/// `check --format json` on `dir`: the exit code and every diagnostic's (code, message).
fn check_json(dir: &std::path::Path) -> (i32, Vec<(String, String)>) {
    let o = switchboard(dir, &["check", "--format", "json", "."]);
    let report: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", both(&o)));
    let diagnostics = report["diagnostics"].as_array().expect("a list").iter();
    let found = diagnostics
        .map(|d| (d["code"].as_str().unwrap_or("").to_string(), d["message"].as_str().unwrap_or("").to_string()))
        .collect();
    (code(&o), found)
}

fn sqlite_project(schema: &str) -> tempfile::TempDir {
    let dir = scratch(&[("main.flow", SQLITE_PROJECT)]);
    let db = rusqlite::Connection::open(dir.path().join("crm.db")).unwrap();
    db.execute_batch(schema).unwrap();
    dir
}

#[test]
fn a_sqlite_table_with_the_record_columns_checks_clean() {
    let dir = sqlite_project("create table customers (id text, name text, phone text, tier text, extra text);");
    assert_eq!(check_json(dir.path()), (0, vec![]));
}

#[test]
fn a_sqlite_source_whose_table_is_missing_is_a_project_file_error() {
    // Before: `check` passed, and the runtime refused the source at load.
    let dir = sqlite_project("create table clients (id text, name text, phone text, tier text);");
    let (exit, found) = check_json(dir.path());
    assert_eq!(exit, 1);
    assert_eq!(found, [("project-file".to_string(), "`crm.db` has no table `customers`".to_string())]);
}

#[test]
fn a_sqlite_source_whose_file_is_not_a_database_is_a_project_file_error() {
    // Before: `check` only read the file's bytes, so any file passed.
    let dir = scratch(&[("main.flow", SQLITE_PROJECT), ("crm.db", "id,name\nc1,Ann\n")]);
    let (exit, found) = check_json(dir.path());
    assert_eq!(exit, 1);
    assert_eq!(
        found,
        [(
            "project-file".to_string(),
            "cannot read `crm.db`: cannot read the database: file is not a database".to_string()
        )]
    );
    let run = switchboard_with_input(dir.path(), &["run", ".", "--from", "+447700900001"], "");
    assert_ne!(code(&run), 0, "the runtime refuses it too: {}", both(&run));
}

#[test]
fn a_sqlite_table_without_a_column_the_record_needs_is_a_project_file_error() {
    let dir = sqlite_project("create table customers (id text, Name text, phone text);");
    let (exit, found) = check_json(dir.path());
    assert_eq!(exit, 1);
    assert_eq!(
        found,
        [("project-file".to_string(), "table `customers` has no column for `tier` of `Customer`".to_string())]
    );
}
