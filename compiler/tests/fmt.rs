//! The formatter: the acme samples and a messy file as snapshots, every project file
//! stable and unchanged in meaning, and small tricky cases with the layout expected inline.
#![allow(clippy::disallowed_methods)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use switchboard_compiler::fmt::format;
use switchboard_compiler::syntax;
use switchboard_compiler::FileId;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every `.flow` file under `dir`, sorted; none if there is no such folder.
fn flow_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return found };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(flow_files(&path));
        } else if path.extension().is_some_and(|e| e == "flow") {
            found.push(path);
        }
    }
    found.sort();
    found
}

/// The tree of `source` with every span blanked: two layouts of one program compare equal.
fn shape(source: &str) -> Value {
    let parsed = syntax::parse(FileId(0), source);
    assert!(parsed.diagnostics.is_empty(), "does not parse: {:?}\n{source}", parsed.diagnostics);
    let mut tree = serde_json::to_value(&parsed.file.items).unwrap();
    blank_spans(&mut tree);
    tree
}

/// A span is `{ "start": n, "end": n }` wherever it stands (`When::Immediately` holds a bare one).
fn blank_spans(value: &mut Value) {
    match value {
        Value::Object(map) if map.len() == 2 && map.contains_key("start") && map.contains_key("end") => {
            *value = Value::Null;
        }
        Value::Object(map) => map.values_mut().for_each(blank_spans),
        Value::Array(items) => items.iter_mut().for_each(blank_spans),
        _ => {}
    }
}

fn comment_texts(source: &str) -> Vec<String> {
    let mut texts: Vec<String> = syntax::parse(FileId(0), source).file.comments.into_iter().map(|c| c.text).collect();
    texts.sort();
    texts
}

/// Formats `source` and checks what every formatting must keep: the tree, every comment,
/// and the result itself formatted unchanged.
fn format_checked(source: &str) -> String {
    let once = format(source).unwrap_or_else(|d| panic!("does not format: {d:?}\n{source}"));
    assert_eq!(shape(&once), shape(source), "the tree changed:\n{once}");
    assert_eq!(comment_texts(&once), comment_texts(source), "comments changed:\n{once}");
    let twice = format(&once).unwrap();
    assert_eq!(twice, once, "formatting twice changes the text");
    assert!(once.is_empty() || once.ends_with('\n') && !once.ends_with("\n\n"));
    assert!(once.lines().all(|l| l == l.trim_end()), "trailing white space:\n{once}");
    once
}

#[test]
fn acme_samples_are_fixed_points() {
    let files = flow_files(&repo().join("flows"));
    assert!(files.len() >= 6, "the acme samples are in flows/");
    for path in files {
        let source = std::fs::read_to_string(&path).unwrap();
        let formatted = format_checked(&source);
        let name = path.file_stem().unwrap().to_str().unwrap();
        insta::assert_snapshot!(format!("acme_{name}"), formatted);
        assert_eq!(formatted, source, "{} is not in canonical layout", path.display());
    }
}

#[test]
fn every_project_file_is_stable() {
    let mut checked = 0;
    for dir in ["flows", "examples", "stdlib"] {
        for path in flow_files(&repo().join(dir)) {
            let source = std::fs::read_to_string(&path).unwrap();
            format_checked(&source);
            checked += 1;
        }
    }
    assert!(checked >= 6);
}

const MESSY: &str = r#"// A file written in a hurry.



use std.surveys.{ csat , nps, }
use std.surveys.csat
currency GBP
skills billing,support   // who we have
enum Tier {standard,gold
  platinum}
record Customer { id: text  name: text, phone: phone?
    tier: Tier  // the level
  tags: [text]
}
  // sources next


source crm: Customer { csv "data/customers.csv"   key phone,email timeout 500ms
cache 300s }
hours office { timezone "Europe/London" mon..fri, sat 8:00-12:00 13:00-18:00 closed 2026-12-25,2026-12-26 }
entry voice +441632960000->inbound
entry chat "web" -> inbound



entry email "help@acme.example" -> inbound
queue billing { skills billing target voice 80% in 20s priority voice 10,chat 5
  while waiting { every 45s say "You are number {queue.position} in line." after 120s offer callback keep place }
overflow after 10m to billing }
fn greeting(c:Customer?)->text="Hello {c?.name??"there"}"
extern fn risk(c: Customer) -> number from "scripts/risk.rhai"
flow inbound on voice,chat{
on error{waypoint oops;queue billing}
    waypoint start ; let customer = lookup crm by contact.from else { waypoint unknown }
  // greet them
        if customer != none and (customer.tier == gold or customer.tier==platinum) { say "Hi {customer.name}" } else if not open(office) { say {en: "Closed", es: "Cerrado"} ; end } else {
    say "Welcome"   // plain
  }


  match contact.channel { voice -> say "press a key" chat | sms -> { say "type a word" }
  _ -> end }
  x = 1; -y = 2
  menu "1 or 2" { 1 "billing" { queue billing } 2 {queue billing}   timeout 8s retries 2 { queue billing } }
  // nothing after the menu
}
test "messy" { at 2026-11-23 10:00 "Europe/London"; contact voice from +447700900001 to +441632960000; press 1 ; expect queue billing
  expect no waypoint oops }
// the end
"#;

/// The snapshot shows the input above the result, so a reviewer sees both.
#[test]
fn messy_file() {
    let formatted = format_checked(MESSY);
    insta::assert_snapshot!(format!("{MESSY}\n---------------- formatted ----------------\n\n{formatted}"));
}

const MESSY_REPLIES: &str = r#"reply   hello    "Hello, I'm {agent.name}."
reply  goodbye for queue billing "Bye {contact.attributes.name??"there"}"  // kept
reply hello for   queue billing with customer:Customer {en:"Hi {customer.name}",
  es: "Hola {customer.name}" }
reply wide with customer : Customer { en: "A text long enough that the two languages do not fit on one line", es: "Un texto" }
"#;

/// `reply` declarations: one-line replies side by side stay together; per-language texts
/// as `say` writes them.
#[test]
fn replies() {
    let formatted = format_checked(MESSY_REPLIES);
    insta::assert_snapshot!(format!("{MESSY_REPLIES}\n---------------- formatted ----------------\n\n{formatted}"));
}

const MESSY_SCORECARDS: &str = r#"scorecard   chat_quality{question greeted "Greeted the customer by name"   weight 10
    question resolved "Resolved the issue" weight 50.0 // the one that matters
  question polite
  "Was polite throughout" weight 20 }
scorecard compliance { question identity "Confirmed the customer's identity" weight 100 }
"#;

/// `scorecard` declarations: one question a line, inside braces, comments kept.
#[test]
fn scorecards() {
    let formatted = format_checked(MESSY_SCORECARDS);
    insta::assert_snapshot!(format!("{MESSY_SCORECARDS}\n---------------- formatted ----------------\n\n{formatted}"));
}

/// Issue 8: a byte-order mark was a syntax error, and a CR-only file one long comment.
/// `fmt` formats such files as it formats the same file with LF line ends and no mark:
/// into the canonical layout, which has neither.
#[test]
fn a_byte_order_mark_and_cr_or_crlf_line_ends_format_as_lf() {
    for path in flow_files(&repo().join("flows")) {
        let canonical = std::fs::read_to_string(&path).unwrap();
        for (bom, line_end) in [("\u{feff}", "\n"), ("", "\r\n"), ("", "\r"), ("\u{feff}", "\r")] {
            let source = format!("{bom}{}", canonical.replace('\n', line_end));
            let once = format(&source).unwrap_or_else(|d| panic!("{}, {line_end:?}: {d:?}", path.display()));
            assert_eq!(once, canonical, "{} with {bom:?} and {line_end:?}", path.display());
            assert_eq!(comment_texts(&source), comment_texts(&canonical), "{line_end:?}");
            assert_eq!(shape(&source), shape(&canonical), "{line_end:?}");
        }
    }
    // A messy file comes out as its LF version does.
    let lf = format(MESSY).unwrap();
    for line_end in ["\r\n", "\r"] {
        assert_eq!(format(&MESSY.replace('\n', line_end)).unwrap(), lf, "{line_end:?}");
    }
}

#[test]
fn a_file_that_does_not_parse_gives_its_syntax_diagnostics() {
    let diagnostics = format("flow f on voice {\n  say \"unclosed\n}\n").unwrap_err();
    assert!(!diagnostics.is_empty());
    assert!(diagnostics.iter().all(|d| d.code == switchboard_compiler::Code::Syntax));
}

/// `input` formats to `expected` (both written flush left after a first line break), and
/// the result passes every check of `format_checked`.
fn check(input: &str, expected: &str) {
    let input = input.strip_prefix('\n').unwrap_or(input);
    let expected = expected.strip_prefix('\n').unwrap_or(expected);
    let formatted = format_checked(input);
    assert_eq!(formatted, expected, "\n--- got ---\n{formatted}--- expected ---\n{expected}");
}

macro_rules! layouts {
    ($($name:ident: $input:expr => $expected:expr;)*) => {
        $(#[test] fn $name() { check($input, $expected) })*
        /// Every input above, for the noise test.
        const LAYOUT_INPUTS: &[&str] = &[$($input),*];
    };
}

layouts! {
    empty_file: "" => "";
    only_comments: "\n\n// one\n\n\n// two   \n\n" => "
// one

// two
";
    nested_interpolation_with_quotes: r#"
fn greeting(c: Customer?) -> text = "Hello {c?.name ?? "there"}"
fn deeper(c: Customer?) -> text = "{ "a{ "b{c?.name??"x"}" }" }"
"# => r#"
fn greeting(c: Customer?) -> text = "Hello {c?.name ?? "there"}"
fn deeper(c: Customer?) -> text = "{"a{"b{c?.name ?? "x"}"}"}"
"#;
    texts_are_re_escaped: r#"
flow f on chat {
  say "{{literal}} \"quoted\" back\\slash\nnew line\ttab \q \{ \}"
  say "{ {a: 1}.a }"
  end
}
"# => r#"
flow f on chat {
  say "{{literal}} \"quoted\" back\\slash\nnew line\ttab q {{ }}"
  say "{ { a: 1 }.a }"
  end
}
"#;
    literals_are_canonical: r#"
flow f on voice {
  let a = 1.50 + 007 + 80.0%
  let b = £12.5 + $3 + €0.05
  let c = [30m1h, 0h5m, 05s, 60s, 1h30m, 500ms, 1500ms, 1d2h, 1s1000ms, 0s, 00s]
  let d = 8:00
  let e = 2026-12-25
  let f = yes or no or true or false
  let g = +441632960000
  let h = contact.text matches /^\d+$/ and contact.text contains any ["a", "b"] and contact.text in ["x"]
  queue billing priority +5 prefer customer.last_agent for 45s require skill billing, spanish
}
"# => r#"
flow f on voice {
  let a = 1.5 + 7 + 80%
  let b = £12.50 + $3 + €0.05
  let c = [1h30m, 5m, 5s, 60s, 1h30m, 500ms, 1500ms, 1d2h, 2s, 0s, 0s]
  let d = 08:00
  let e = 2026-12-25
  let f = yes or no or true or false
  let g = +441632960000
  let h = contact.text matches /^\d+$/ and contact.text contains any ["a", "b"] and contact.text in ["x"]
  queue billing priority +5 prefer customer.last_agent for 45s require skill billing, spanish
}
"#;
    parentheses_stay_as_written: r#"
flow f on voice {
  if (a or b) and not (c) and ((d)) and - x.y > -(1 + 2) * 3 and not a == b { end }
}
"# => r#"
flow f on voice {
  if (a or b) and not (c) and ((d)) and -x.y > -(1 + 2) * 3 and not a == b {
    end
  }
}
"#;
    comments_at_block_ends: r#"
flow f on voice {
  if a {
    say "x"

    // after x, at the end of the block
  } else {
    // alone in the else
  }
  match a {
    b -> end
    // no more arms
  }
  // last words
}
"# => r#"
flow f on voice {
  if a {
    say "x"

    // after x, at the end of the block
  } else {
    // alone in the else
  }
  match a {
    b -> end
    // no more arms
  }
  // last words
}
"#;
    comments_trail_and_align: r#"
source crm: Customer {
  csv "data/customers.csv"      // embedded default
  key phone, email    // the fields a lookup may match on
  timeout 500ms // never longer than this
  cache 5m
}
flow f on voice { // the main flow
  say "a"; say "b" // both
  if x { // why
    end
  } // done
}
"# => r#"
source crm: Customer {
  csv "data/customers.csv" // embedded default
  key phone, email         // the fields a lookup may match on
  timeout 500ms            // never longer than this
  cache 5m
}

flow f on voice { // the main flow
  say "a"
  say "b" // both
  if x {  // why
    end
  } // done
}
"#;
    comments_inside_an_expression_move_up: r#"
flow f on voice {
  if a and // the first reason
     b {
    end
  } else if c // the second
    and d {
    end
  }
}
"# => r#"
flow f on voice {
  // the first reason
  if a and b {
    end
  } else if c and d {
    // the second
    end
  }
}
"#;
    else_if_chains: r#"
flow f on voice { if a {say "a"} else if b {say "b"} else if c {} else {end} }
"# => r#"
flow f on voice {
  if a {
    say "a"
  } else if b {
    say "b"
  } else if c {} else {
    end
  }
}
"#;
    match_arms_with_and_without_braces: r#"
flow f on voice, chat {
  match contact.channel { voice | chat -> say "hi"
    email -> { say "mail" ; end } _ -> { }
  }
  match n { 1 -> say "x"; (2) -> end  -1 -> end }
}
"# => r#"
flow f on voice, chat {
  match contact.channel {
    voice | chat -> say "hi"
    email -> {
      say "mail"
      end
    }
    _ -> {}
  }
  match n {
    1 -> say "x";
    (2) -> end;
    -1 -> end
  }
}
"#;
    statements_that_would_join_keep_a_semicolon: r#"
flow f on voice {
  let a = b; (c).d = 1; x = y; -z = 2; [w].v = 3; +44 = 4
}
"# => r#"
flow f on voice {
  let a = b;
  (c).d = 1
  x = y;
  -z = 2;
  [w].v = 3;
  +44 = 4
}
"#;
    menu_with_timeout_and_ask: r#"
flow f on voice {
  menu "Press 1 or 2" { 1 "billing" { queue billing } # { end } timeout 8s retries 2 { waypoint timed_out
    queue support } }
  ask pin: digits(4) "Your PIN?" timeout 10s retries 3 else { end }
  ask ok: yes/no "OK?"
  ask score: 1..5 "Score?"
  ask when: date "When?"
}
"# => r#"
flow f on voice {
  menu "Press 1 or 2" {
    1 "billing" {
      queue billing
    }
    # {
      end
    }
    timeout 8s retries 2 {
      waypoint timed_out
      queue support
    }
  }
  ask pin: digits(4) "Your PIN?" timeout 10s retries 3 else {
    end
  }
  ask ok: yes/no "OK?"
  ask score: 1..5 "Score?"
  ask when: date "When?"
}
"#;
    retry_strategies: r#"
retry web for lead: Lead { timezone lead.timezone quiet 21:00-8:00
  immediately send email to lead.email "Thanks {lead.name}."
  at 11:00 send sms to lead.phone "Hi"
  after 2h call lead.phone queue sales script pitch
  on no_answer { again in 1d at 14:00 max 3 }
  on answered {
    stop
  }
  on reply { send sms to lead.phone "Thanks for your reply, we will be in touch very soon, promise." }
  on opted_out { stop // no more
  }
  on bounced { send sms to lead.phone "a"; stop }
}
"# => r#"
retry web for lead: Lead {
  timezone lead.timezone
  quiet 21:00-08:00
  immediately send email to lead.email "Thanks {lead.name}."
  at 11:00 send sms to lead.phone "Hi"
  after 2h call lead.phone queue sales script pitch
  on no_answer { again in 1d at 14:00 max 3 }
  on answered { stop }
  on reply {
    send sms to lead.phone "Thanks for your reply, we will be in touch very soon, promise."
  }
  on opted_out {
    stop // no more
  }
  on bounced {
    send sms to lead.phone "a"
    stop
  }
}
"#;
    test_blocks_with_every_line_kind: r#"
test "every line" {
  given crm { id: "c1", tier: gold, balance: £0 }
  given crm {
    id: "c2"   // the second
    tier: standard,
  }
  at 2026-11-23 10:00 "Europe/London"; at 2026-11-23 9:00
  agent kim skills billing,spanish languages en,es
  agent lee skills support
  contact email from "a@b.example" to "help@acme.example" subject "Hi" text "Body"
  contact voice from +447700900001
  script billing_call
  survey csat
  start retry web for { name: "Kim", phone: +447700900123 }
  press 1 ; press *#
  type "billing"
  wait 8s
  advance to 2026-11-24 14:00
  answer £30
  answer no
  choose "A wrong amount"
  event no_answer
  accept
  hang up
  expect say "Hello"
  expect say { en: "Hello", es: "Hola" }
  expect note "Note"
  expect waypoint vip
  expect queue vip priority +20
  expect queue vip
  expect queue vip priority -1
  expect transfer to +441632960000
  expect send email to "kim@example.com" "Thanks"
  expect send sms to +447700900123
  expect call +447700900123 queue sales
  expect call +447700900123
  expect outcome resolved
  expect offer callback
  expect stop
  expect end
  expect error
  expect no waypoint unhappy
  expect no call
}
"# => r#"
test "every line" {
  given crm { id: "c1", tier: gold, balance: £0 }
  given crm {
    id: "c2" // the second
    tier: standard
  }
  at 2026-11-23 10:00 "Europe/London"
  at 2026-11-23 09:00
  agent kim skills billing, spanish languages en, es
  agent lee skills support
  contact email from "a@b.example" to "help@acme.example" subject "Hi" text "Body"
  contact voice from +447700900001
  script billing_call
  survey csat
  start retry web for { name: "Kim", phone: +447700900123 }
  press 1
  press *#
  type "billing"
  wait 8s
  advance to 2026-11-24 14:00
  answer £30
  answer no
  choose "A wrong amount"
  event no_answer
  accept
  hang up
  expect say "Hello"
  expect say { en: "Hello", es: "Hola" }
  expect note "Note"
  expect waypoint vip
  expect queue vip priority +20
  expect queue vip
  expect queue vip priority -1
  expect transfer to +441632960000
  expect send email to "kim@example.com" "Thanks"
  expect send sms to +447700900123
  expect call +447700900123 queue sales
  expect call +447700900123
  expect outcome resolved
  expect offer callback
  expect stop
  expect end
  expect error
  expect no waypoint unhappy
  expect no call
}
"#;
    per_language_texts_break_when_long_or_written_across_lines: r#"
flow f on voice {
  say { en: "Short.", es: "Corto." }
  say { en: "We're closed. We open Monday to Friday 8am to 6pm.", es: "Estamos cerrados. Abrimos de lunes a viernes." }
  say { en: "Hi",
        es: "Hola" }
  say {
    // the default
    en: "Hi", es: "Hola"   // Spanish
  }
  let row = { name: "a very long value that goes on and on and on and on", other: "another long value here" }
}
"# => r#"
flow f on voice {
  say { en: "Short.", es: "Corto." }
  say {
    en: "We're closed. We open Monday to Friday 8am to 6pm."
    es: "Estamos cerrados. Abrimos de lunes a viernes."
  }
  say {
    en: "Hi"
    es: "Hola"
  }
  say {
    // the default
    en: "Hi"
    es: "Hola" // Spanish
  }
  let row = { name: "a very long value that goes on and on and on and on", other: "another long value here" }
}
"#;
    scripts_and_surveys: r#"
script call for queue billing { let c = lookup crm by contact.from
  step greet { choose "About?" { "Money" -> pay, "Other" -> other } }
  step pay { collect payment £5; outcome paid }


  step other { note "Ask."; goto greet }
}
survey csat { via sms
  ask ok: yes/no "Good?" }
survey nps { via same channel }
survey plain { via email end }
"# => r#"
script call for queue billing {
  let c = lookup crm by contact.from
  step greet {
    choose "About?" {
      "Money" -> pay
      "Other" -> other
    }
  }
  step pay {
    collect payment £5
    outcome paid
  }

  step other {
    note "Ask."
    goto greet
  }
}

survey csat {
  via sms
  ask ok: yes/no "Good?"
}

survey nps {
  via same channel
}

survey plain {
  via email
  end
}
"#;
    top_level_spacing: r#"
use std.surveys.{csat}
use std.hours
currency GBP
skills a, b
enum E { x }
entry voice +441632960000 -> f
entry chat "web" -> f
fn one() -> number = 1
extern fn two() -> number from "two.rhai"
record R {}
record S { a: text }
"# => r#"
use std.surveys.{csat}
use std.hours

currency GBP
skills a, b
enum E { x }

entry voice +441632960000 -> f
entry chat "web" -> f

fn one() -> number = 1
extern fn two() -> number from "two.rhai"

record R {}

record S {
  a: text
}
"#;
    other_statements: r#"
flow f on voice {
  transfer to +441632960000
  offer callback
  offer callback keep place
  send sms to customer.phone { en: "Hi", es: "Hola" }
  start retry web for customer
  survey csat
  contact.language = "es"
  contact.attributes.vip = true
  let n = len(list) / 2 - f(a, g(b), [])
}
"# => r#"
flow f on voice {
  transfer to +441632960000
  offer callback
  offer callback keep place
  send sms to customer.phone { en: "Hi", es: "Hola" }
  start retry web for customer
  survey csat
  contact.language = "es"
  contact.attributes.vip = true
  let n = len(list) / 2 - f(a, g(b), [])
}
"#;
    regex_ending_in_a_slash_keeps_the_comment_after_it: r#"
flow f on chat {
  if contact.text matches /https?:\/\// { // a link
    end
  }
  if contact.text matches /"/ and contact.text == "x" { // a quote
    end
  }
}
"# => r#"
flow f on chat {
  if contact.text matches /https?:\/\// { // a link
    end
  }
  if contact.text matches /"/ and contact.text == "x" { // a quote
    end
  }
}
"#;
    http_placeholder_and_crlf: "source crm: Customer {\r\n  http \"https://crm.example/c/{key}?x={{y}}\"\r\n  sql \"select 1\"  // raw\r\n  sqlite \"crm.db\" table \"customers\"\r\n}\r\n" => r#"
source crm: Customer {
  http "https://crm.example/c/{key}?x={{y}}"
  sql "select 1" // raw
  sqlite "crm.db" table "customers"
}
"#;
    comments_around_closing_braces: r#"
flow f on voice {

  say f({
    a: 1
  }, // after the record
  b)
  if a {
    end
  } // between the branches
  else {
    end
  }

}
"# => r#"
flow f on voice {
  say f({
    a: 1
  }, b)
  // after the record
  if a {
    end
  } else {
    // between the branches
    end
  }
}
"#;
    comments_in_declaration_headers_move_up: r#"
record // the customer
  Customer { id: text }
use std.a // first
use std.b
//no space, kept as written
////   so is this
"# => r#"
// the customer
record Customer {
  id: text
}

use std.a // first
use std.b
//no space, kept as written
////   so is this
"#;
    records_inside_interpolations: r#"
flow f on chat {
  say "x{ {
    a: 1
  }.a }y{ {b: 2}.b }"
  end
}
"# => r#"
flow f on chat {
  say "x{ {
    a: 1
  }.a }y{ { b: 2 }.b }"
  end
}
"#;
    empty_bodies: "flow f on voice {}\nflow g on voice { on error {} }\nscript s { step a {} }\nsurvey v {}\ntest \"t\" {}" => r#"
flow f on voice {}

flow g on voice {
  on error {}
}

script s {
  step a {}
}

survey v {}

test "t" {}
"#;
    whitespace_only: "  \n\n\t\n" => "";
    hours_and_queues: r#"
hours h { timezone "UTC"  sat,sun 10:00-12:00 14:00-16:00 mon 9:00-17:00 closed 2026-01-01 }
queue q { skills a target chat 90.5% in 1m priority voice 1 while waiting {} overflow after 1h to r }
"# => r#"
hours h {
  timezone "UTC"
  sat, sun 10:00-12:00 14:00-16:00
  mon 09:00-17:00
  closed 2026-01-01
}

queue q {
  skills a
  target chat 90.5% in 1m
  priority voice 1
  while waiting {}
  overflow after 1h to r
}
"#;
}

/// The white space runs of `source` where a line break or a comment may go: outside texts,
/// comments and the two spots where the grammar wants spaces (`contains any`, the
/// one-line `expect no …`). Each with whether it starts right after a comment.
fn gaps(source: &str) -> Vec<(usize, usize, bool)> {
    let bytes = source.as_bytes();
    let line_of = |i: usize| {
        let start = source[..i].rfind('\n').map_or(0, |n| n + 1);
        let end = source[i..].find('\n').map_or(source.len(), |n| i + n);
        &source[start..end]
    };
    let mut gaps = Vec::new();
    // Open texts (`"`) and interpolations (`{`) inside them.
    let mut stack: Vec<u8> = Vec::new();
    let mut after_comment = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let next = bytes.get(i + 1).copied();
        if stack.last() == Some(&b'"') {
            match b {
                b'\\' => i += 1,
                b'{' | b'}' if next == Some(b) => i += 1,
                b'{' => stack.push(b'{'),
                // A text ends at its line's end, as the comment scanner has it.
                b'"' | b'\n' => {
                    stack.pop();
                }
                _ => {}
            }
            i += 1;
            continue;
        }
        match b {
            b'"' => stack.push(b'"'),
            b'}' if !stack.is_empty() => {
                stack.pop();
            }
            b'/' if next == Some(b'/') => {
                i = source[i..].find('\n').map_or(source.len(), |n| i + n);
                after_comment = true;
                continue;
            }
            b if b.is_ascii_whitespace() && stack.is_empty() => {
                let start = i;
                while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                    i += 1;
                }
                let spaces_only = source[..start].ends_with("contains") && source[i..].starts_with("any")
                    || line_of(start).contains("expect no")
                    || line_of(i.min(source.len() - 1)).contains("expect no");
                if !spaces_only {
                    gaps.push((start, i, after_comment));
                }
                after_comment = false;
                continue;
            }
            _ => {}
        }
        after_comment = false;
        i += 1;
    }
    gaps
}

/// `source` with white space and comments shuffled in at random (with a fixed seed).
fn with_noise(source: &str, seed: u64) -> String {
    let fillers = [" ", "\n\n\n", " // noise\n", "\n// noise\n\n", "\t \n  \n"];
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut noisy = String::new();
    let mut at = 0;
    for (start, end, after_comment) in gaps(source) {
        let filler = fillers[rng.usize(..fillers.len())];
        // A comment would swallow the rest of its line.
        if !rng.bool() || after_comment && !filler.contains('\n') {
            continue;
        }
        noisy.push_str(&source[at..start]);
        noisy.push_str(filler);
        at = end;
    }
    noisy.push_str(&source[at..]);
    noisy
}

/// The acme samples, the messy file and the layout cases, with noise between their tokens:
/// every variant keeps its tree and comments through formatting, and formats stably.
#[test]
fn noise_between_tokens_never_changes_the_program() {
    let acme: Vec<String> =
        flow_files(&repo().join("flows")).iter().map(|p| std::fs::read_to_string(p).unwrap()).collect();
    let cases = acme.iter().map(|s| (s.as_str(), 12)).chain(LAYOUT_INPUTS.iter().chain([&MESSY]).map(|s| (*s, 4)));
    let mut variants = 0;
    for (source, seeds) in cases {
        let tree = shape(source);
        for seed in 0..seeds {
            let noisy = with_noise(source, seed);
            assert_eq!(shape(&noisy), tree, "the noise itself changed the program (seed {seed}):\n{noisy}");
            format_checked(&noisy);
            variants += 1;
        }
    }
    assert!(variants > 100);
}
