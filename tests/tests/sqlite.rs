//! A project whose CRM is a SQLite database: checked, and looked up for real by `run`.

mod support;
use support::*;

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("main.flow"),
        r#"
record Customer { id: text  name: text  phone: phone  tier: Tier }
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
  let customer = lookup crm by contact.from else {
    say "Hello, stranger."
    queue support
  }
  say "Hello {customer.name}, a {customer.tier} customer."
  queue support
}
"#,
    )
    .unwrap();
    let db = rusqlite::Connection::open(dir.path().join("crm.db")).unwrap();
    db.execute_batch(
        "create table customers (id text, name text, phone text, tier text);
         insert into customers values ('c1', 'Ann Baker', '+447700900001', 'gold');
         insert into customers values ('c2', 'Bo Lind', '+447700900002', 'standard');",
    )
    .unwrap();
    dir
}

#[test]
fn a_sqlite_source_answers_look_ups() {
    let dir = project();
    let checked = switchboard(dir.path(), &["check", "--deny-warnings", "."]);
    assert_eq!(code(&checked), 0, "{}", both(&checked));
    let args = ["run", ".", "--from", "+447700900001", "--at", "2026-11-23 10:00 Europe/London"];
    let o = switchboard_with_input(dir.path(), &args, "");
    let out = stdout(&o);
    assert!(out.contains("[lookup crm: found]\nHello Ann Baker, a gold customer.\n"), "{}", both(&o));
    let args = ["run", ".", "--from", "+447700900999", "--at", "2026-11-23 10:00 Europe/London"];
    let o = switchboard_with_input(dir.path(), &args, "");
    assert!(stdout(&o).contains("Hello, stranger."), "{}", both(&o));
}

#[test]
fn a_missing_database_is_a_project_file_error() {
    let dir = project();
    std::fs::remove_file(dir.path().join("crm.db")).unwrap();
    let o = switchboard(dir.path(), &["check", "--format", "json", "."]);
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains("\"code\": \"project-file\""), "{}", both(&o));
}
