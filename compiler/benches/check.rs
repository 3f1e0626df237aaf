//! How fast `switchboard check` is on a large project, and how much memory it takes.
//!
//! The project is generated in memory, modelled on the acme sample: one `common.flow` of
//! shared declarations (customers, warranties, skills, sources, hours, 40 queues), then
//! 2,000 region files, each with its entries, a calls-and-chats flow (lookups, hours, VIP
//! narrowing, a menu, a match, an `ask`), an email flow, an agent script and a test: about
//! 200,000 lines in all.
//!
//! Run with `cargo bench -p switchboard-compiler --bench check`. Throughput is in lines per
//! second (divan's `item/s`); the process's peak memory (VmHWM) is printed at the end.
//! `parse` is the baseline: every file parsed, in parallel as `check` does, and nothing else.

use divan::counter::ItemsCount;
use divan::Bencher;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, LazyLock};
use switchboard_compiler::check::{self, Input};
use switchboard_compiler::loader::MemoryLoader;
use switchboard_compiler::{syntax, FileId, SourceFile};

const REGIONS: usize = 2_000;
const QUEUES: usize = 40;

fn main() {
    let p = &*PROJECT;
    let bytes: usize = p.files.iter().map(|f| f.text.len()).sum();
    println!(
        "project: {} files, {} lines, {:.1} MB, {} threads",
        p.files.len(),
        p.lines,
        bytes as f64 / 1e6,
        rayon::current_num_threads()
    );
    // One check before the benchmarks, so that the first peak is the check's own (with the
    // project's text, which a real run holds too); the second is the whole run's.
    let checked = check::check(Input { files: p.files.clone(), std: &p.std, loader: &p.loader, module: Arc::from("") });
    assert!(checked.diagnostics.is_empty());
    drop(checked);
    print_peak_memory("after one check");
    divan::main();
    print_peak_memory("after every benchmark");
}

fn print_peak_memory(when: &str) {
    match peak_memory() {
        Some(kb) => println!("peak memory (VmHWM) {when}: {:.0} MB", kb as f64 / 1024.0),
        None => println!("peak memory: /proc/self/status has no VmHWM here"),
    }
}

/// Parsing alone: every file, on every core, as `check` starts.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn parse(bencher: Bencher) {
    let p = &*PROJECT;
    bencher.counter(ItemsCount::new(p.lines)).bench(|| {
        p.files.par_iter().enumerate().map(|(i, f)| syntax::parse(FileId(i as u32), &f.text)).collect::<Vec<_>>()
    });
}

/// Parsing alone, on one core: what the parallel parse is measured against.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn parse_one_core(bencher: Bencher) {
    let p = &*PROJECT;
    bencher.counter(ItemsCount::new(p.lines)).bench(|| {
        p.files.iter().enumerate().map(|(i, f)| syntax::parse(FileId(i as u32), &f.text)).collect::<Vec<_>>()
    });
}

/// The whole of `switchboard check` but reading and printing: parse, resolve, type check, lint.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn check(bencher: Bencher) {
    check_project(bencher, &PROJECT);
}

/// The same on a tenth of the project (200 regions): lines per second should not depend on
/// the size of the project; where they fall as it grows, some pass is worse than linear.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn check_a_tenth(bencher: Bencher) {
    check_project(bencher, &SMALL_PROJECT);
}

fn check_project(bencher: Bencher, p: &Project) {
    bencher.counter(ItemsCount::new(p.lines)).with_inputs(|| p.files.clone()).bench_values(|files| {
        let checked = check::check(Input { files, std: &p.std, loader: &p.loader, module: Arc::from("") });
        assert!(checked.diagnostics.is_empty(), "{:?}", &checked.diagnostics[..checked.diagnostics.len().min(3)]);
        checked
    });
}

fn peak_memory() -> Option<u64> {
    #[allow(clippy::disallowed_methods)] // a benchmark may read its own process status
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

// ---------------------------------------------------------------------------------------
// The generated project

struct Project {
    files: Vec<SourceFile>,
    lines: usize,
    std: BTreeMap<String, Arc<str>>,
    loader: MemoryLoader,
}

static PROJECT: LazyLock<Project> = LazyLock::new(|| generate(REGIONS));
static SMALL_PROJECT: LazyLock<Project> = LazyLock::new(|| generate(REGIONS / 10));

fn generate(regions: usize) -> Project {
    let mut files = vec![SourceFile { path: "common.flow".into(), text: Arc::from(common()) }];
    files
        .extend((0..regions).map(|r| SourceFile { path: format!("regions/r{r:04}.flow"), text: Arc::from(region(r)) }));
    let lines = files.iter().map(|f| f.text.lines().count()).sum();
    let std = [
        ("callbacks", include_str!("../../stdlib/callbacks.flow")),
        ("surveys", include_str!("../../stdlib/surveys.flow")),
        ("text", include_str!("../../stdlib/text.flow")),
        ("time", include_str!("../../stdlib/time.flow")),
    ]
    .into_iter()
    .map(|(name, text)| (name.to_string(), Arc::from(text)))
    .collect();
    let mut loader = MemoryLoader::default();
    loader.files.insert("data/customers.csv".into(), customers_csv().into_bytes());
    loader.files.insert("scripts/risk.rhai".into(), include_bytes!("../../flows/scripts/risk.rhai").to_vec());
    Project { files, lines, std, loader }
}

fn common() -> String {
    let mut out = String::from(
        r#"// Declarations every region shares.

use std.surveys.{nps}
use std.time.{days_since}

currency GBP

record Customer {
  id: text
  name: text
  phone: phone?
  email: email?
  handle: text?
  tier: Tier
  language: text
  country: text
  last_agent: agent?
  balance: money
}

enum Tier { standard, gold, platinum }

record Warranty {
  customer_id: text
  product: text
  active: bool
  bought_on: date
}

skills billing, support, vip_care, sales, spanish, french

source crm: Customer {
  csv "data/customers.csv"
  key phone, email, handle
  timeout 500ms
  cache 5m
}

source warranties: Warranty {
  http "https://warranty.example.com/{key}"
  key customer_id
  timeout 500ms
}

hours office {
  timezone "Europe/London"
  mon..fri 08:00-18:00
  sat 09:00-13:00
  closed 2026-12-25, 2026-12-26
}

extern fn risk_score(c: Customer) -> number from "scripts/risk.rhai"

fn is_vip(c: Customer) -> bool = c.tier == gold or c.tier == platinum
fn greeting(c: Customer?) -> text = "Hello {c?.name ?? "there"}."
"#,
    );
    for q in 0..QUEUES {
        let skill = ["billing", "support", "vip_care", "sales"][q % 4];
        let _ = write!(
            out,
            r#"
queue team_{q} {{
  skills {skill}
  target voice 80% in 20s
  target chat 80% in 60s
  target email 90% in 4h
  target social 90% in 1h
  priority voice 10, chat 10, social 7, email 5
  while waiting {{
    every 45s say "You are number {{queue.position}} in line."
    after 2m offer callback keep place
  }}
  overflow after 10m to team_{next}
}}
"#,
            next = (q + 1) % QUEUES
        );
    }
    out
}

/// One region: its entries, a flow for calls and chats, one for email and social, an
/// agent script, and a test. About 100 lines.
fn region(r: usize) -> String {
    let (a, b, c) = (r % QUEUES, (r * 7 + 3) % QUEUES, (r * 13 + 5) % QUEUES);
    format!(
        r#"// Region {r}: calls, chats and email for one part of the country.

entry voice +44{phone:010} -> calls_{r}
entry chat "web-{r}" -> calls_{r}
entry email "region{r}@acme.example" -> inbox_{r}

flow calls_{r} on voice, chat {{
  on error {{
    waypoint flow_error
    queue team_{a}
  }}
  waypoint start
  let customer = lookup crm by contact.from else {{
    waypoint unknown_caller
  }}
  if not open(office) and customer?.tier != platinum {{
    waypoint closed
    say {{
      en: "We're closed. We open Monday to Friday 8am to 6pm."
      es: "Estamos cerrados. Abrimos de lunes a viernes de 8 a 18 h."
    }}
    end
  }}
  survey nps
  say greeting(customer)
  if customer != none {{
    contact.language = customer.language
    if is_vip(customer) {{
      waypoint vip
      queue team_{b} prefer customer.last_agent for 60s
    }}
    if customer.balance > £0 and risk_score(customer) > 0.5 {{
      waypoint owes
      queue team_{a} priority +5
    }}
    match customer.tier {{
      platinum -> queue team_{b} priority +20
      gold -> say "Thanks for being a gold customer."
      _ -> waypoint standard
    }}
  }}
  if contact.channel == voice {{
    ask account: digits(8) "Please key in your 8-digit account number." timeout 10s retries 2 else {{
      waypoint no_account
    }}
  }}
  menu "For billing press 1. For technical support press 2." {{
    1 "billing" {{
      waypoint menu_billing
      queue team_{a}
    }}
    2 "support" {{
      waypoint menu_support
      queue team_{c}
    }}
    timeout 8s retries 2 {{
      waypoint menu_timeout
      queue team_{c}
    }}
  }}
}}

flow inbox_{r} on email, social {{
  waypoint received
  let customer = lookup crm by contact.from else {{
    waypoint unknown_sender
  }}
  if contact.channel == email {{
    say "Thanks for writing to Acme. We answer every email within 4 hours."
  }}
  if customer?.tier == platinum {{
    queue team_{b} priority +20
  }}
  if lower(contact.text) contains any ["invoice", "refund", "charged twice"] {{
    waypoint kw_billing
    queue team_{a}
  }}
  if lower(contact.text) contains "broken" and customer != none {{
    let warranty = lookup warranties by customer.id else {{
      waypoint no_warranty
      queue team_{c}
    }}
    if warranty.active and days_since(warranty.bought_on, "Europe/London") < 365 {{
      waypoint warranty_repair
      queue team_{c} priority +10
    }}
  }}
  queue team_{c}
}}

script desk_{r} for queue team_{a} {{
  let customer = lookup crm by contact.from

  step greet {{
    if customer == none {{
      note "We don't know this caller yet: ask for their account email."
      goto other
    }}
    say "Hello {{customer.name}}, thanks for holding."
    choose "What is the call about?" {{
      "Paying a balance" -> take_payment
      "Something else" -> other
    }}
  }}

  step take_payment {{
    ask amount: money "How much does the customer want to pay?"
    collect payment amount
    outcome resolved
  }}

  step other {{
    note "Write the reason for the call in the notes."
    outcome resolved
  }}
}}

test "region {r}: unknown callers pick billing from the menu" {{
  at 2026-11-23 10:00 "Europe/London"
  contact voice from +447700900999 to +44{phone:010}
  expect waypoint unknown_caller
  press 1
  expect queue team_{a}
}}
"#,
        phone = 1_632_000_000 + r
    )
}

fn customers_csv() -> String {
    let mut out = String::from("id,name,phone,email,handle,tier,language,country,last_agent,balance\n");
    for i in 0..500 {
        let tier = ["standard", "gold", "platinum"][i % 3];
        let _ =
            writeln!(out, "c{i},Customer {i},+4477009{i:05},c{i}@example.com,@c{i},{tier},en,GB,,{}.00", i % 7 * 10);
    }
    out
}
