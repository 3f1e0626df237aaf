//! A readable listing of a `Bundle`: its tables, then every function one instruction a
//! line, ids resolved to names and each line tagged with the `file:line` it came from.
//!
//! The listing is deterministic, so it is also the snapshot format of the codegen tests:
//! a reviewer reads the source and what it compiled to side by side.

use crate::bytecode::*;
use crate::loader::SourceFile;
use crate::value::{format_duration, format_number, Value};
use std::fmt::Write as _;

/// Where the `; file:line` comments start, so instructions line up in a column.
const COMMENT_COLUMN: usize = 44;

/// The listing of `bundle`. `sources` gives the texts the spans point into (matched by
/// path against `bundle.files`); a span into a file not among them shows its byte offset.
pub fn disassemble(bundle: &Bundle, sources: &[SourceFile]) -> String {
    let lines = LineIndex::new(bundle, sources);
    let mut out = String::new();
    header(&mut out, bundle);
    tables(&mut out, bundle);
    for (i, f) in bundle.functions.iter().enumerate() {
        function(&mut out, bundle, &lines, i, f);
    }
    out
}

fn header(out: &mut String, b: &Bundle) {
    let hash: String = b.source_hash.chars().take(12).collect();
    let _ = writeln!(out, "bundle format {}", b.format_version);
    let _ = writeln!(out, "source {hash}");
    match b.currency {
        Some(c) => {
            let _ = writeln!(out, "currency {}", c.as_str());
        }
        None => out.push_str("currency none\n"),
    }
    section(out, "files", &b.files, |out, i, f| {
        let _ = write!(out, "#{i} {f}");
    });
}

/// Writes `title`, then one indented line per item; nothing for an empty table.
fn section<T>(out: &mut String, title: &str, items: &[T], mut line: impl FnMut(&mut String, usize, &T)) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{title}");
    for (i, item) in items.iter().enumerate() {
        out.push_str("  ");
        line(out, i, item);
        out.push('\n');
    }
}

fn tables(out: &mut String, b: &Bundle) {
    section(out, "entries", &b.entries, |out, _, e| {
        // Phone numbers as the language writes them; other addresses quoted.
        let address = if e.address.starts_with('+') { e.address.clone() } else { quoted(&e.address) };
        let _ = write!(out, "{} {address} -> {}", e.channel, name_of(&b.flows, e.flow.index(), |f| &f.name));
    });
    section(out, "queues", &b.queues, |out, i, q| queue(out, b, i, q));
    section(out, "hours", &b.hours, hours);
    section(out, "sources", &b.sources, |out, i, s| {
        let record = name_of(&b.records, s.record.index(), |r| &r.name);
        let _ = write!(out, "#{i} {}: {record} ", s.name);
        match &s.location {
            SourceLocation::Csv { path, contents } => {
                let _ = write!(out, "csv {path:?} ({} bytes)", contents.len());
            }
            SourceLocation::Sqlite { path, table } => {
                let _ = write!(out, "sqlite {path:?} table {table:?}");
            }
            SourceLocation::Http { url } => {
                let _ = write!(out, "http {url:?}");
            }
            SourceLocation::Sql { query } => {
                let _ = write!(out, "sql {query:?}");
            }
        }
        let _ = write!(out, " key {} timeout {}", s.keys.join(", "), duration(s.timeout_ms));
        if let Some(c) = s.cache_ms {
            let _ = write!(out, " cache {}", duration(c));
        }
    });
    section(out, "records", &b.records, |out, i, r| {
        let fields: Vec<String> = r.fields.iter().map(|(n, t)| format!("{n}: {t}")).collect();
        let _ = write!(out, "#{i} {} {{ {} }}", r.name, fields.join(", "));
    });
    section(out, "enums", &b.enums, |out, _, e| {
        let _ = write!(out, "{} {{ {} }}", e.name, e.variants.join(", "));
    });
    section(out, "externs", &b.externs, |out, i, e| {
        let params: Vec<String> = e.params.iter().map(ToString::to_string).collect();
        let _ = write!(out, "#{i} {}({}) -> {} from {:?}", e.name, params.join(", "), e.ret, e.path);
    });
    section(out, "flows", &b.flows, |out, i, f| {
        let _ = write!(out, "#{i} {} on {} -> fn #{}", f.name, f.channels, f.body.0);
        if let Some(e) = f.on_error {
            let _ = write!(out, ", on error fn #{}", e.0);
        }
        if f.globals > 0 {
            let _ = write!(out, ", globals {}", f.globals);
        }
    });
    section(out, "scripts", &b.scripts, |out, i, s| {
        let _ = write!(out, "#{i} {}", s.name);
        if let Some(q) = s.queue {
            let _ = write!(out, " for queue {}", name_of(&b.queues, q.index(), |q| &q.name));
        }
        let _ = write!(out, " -> prelude fn #{}, globals {}", s.prelude.0, s.globals);
        for (name, f) in &s.steps {
            let _ = write!(out, "\n    step {name} fn #{}", f.0);
        }
    });
    section(out, "surveys", &b.surveys, |out, i, s| {
        let via = match s.via {
            SurveyVia::SameChannel => "same channel",
            SurveyVia::Sms => "sms",
            SurveyVia::Email => "email",
        };
        let _ = write!(out, "#{i} {} via {via} -> fn #{}", s.name, s.body.0);
        if s.globals > 0 {
            let _ = write!(out, ", globals {}", s.globals);
        }
    });
    section(out, "retries", &b.retries, retry);
    section(out, "replies", &b.replies, |out, i, r| {
        let _ = write!(out, "#{i} {}", r.name);
        if let Some(q) = r.queue {
            let _ = write!(out, " for queue {}", name_of(&b.queues, q.index(), |q| &q.name));
        }
        if let Some(record) = r.record {
            let _ = write!(out, " with {}", name_of(&b.records, record.index(), |r| &r.name));
        }
        let _ = write!(out, " -> fn #{}", r.text.0);
        if r.globals > 0 {
            let _ = write!(out, ", globals {}", r.globals);
        }
    });
    section(out, "scorecards", &b.scorecards, |out, i, c| {
        let _ = write!(out, "#{i} {}", c.name);
        for q in &c.questions {
            let _ = write!(out, "\n    {} weight {} {:?}", q.name, q.weight, q.text);
        }
    });
    section(out, "imports", &b.imports, |out, _, i| {
        let _ = write!(out, "{} -> {}", i.name, i.target);
    });
}

fn queue(out: &mut String, b: &Bundle, i: usize, q: &QueueInfo) {
    let _ = write!(out, "#{i} {}", q.name);
    if !q.skills.is_empty() {
        let _ = write!(out, "\n    skills {}", q.skills.join(", "));
    }
    for (channel, fraction, within) in &q.targets {
        let _ = write!(out, "\n    target {channel} {}% in {}", format_number(fraction * 100.0), duration(*within));
    }
    if !q.priorities.is_empty() {
        let p: Vec<String> = q.priorities.iter().map(|(c, n)| format!("{c} {n}")).collect();
        let _ = write!(out, "\n    priority {}", p.join(", "));
    }
    for w in &q.waiting {
        let when = if w.repeat { "every" } else { "after" };
        let _ = write!(out, "\n    while waiting {when} {} ", duration(w.delay_ms));
        match &w.action {
            WaitingAction::Say(f) => {
                let _ = write!(out, "say fn #{}", f.0);
            }
            WaitingAction::OfferCallback { keep_place } => {
                out.push_str("offer callback");
                if *keep_place {
                    out.push_str(" keep place");
                }
            }
        }
    }
    if let Some((after, to)) = q.overflow {
        let _ =
            write!(out, "\n    overflow after {} to {}", duration(after), name_of(&b.queues, to.index(), |q| &q.name));
    }
}

fn hours(out: &mut String, i: usize, h: &HoursInfo) {
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let _ = write!(out, "#{i} {} timezone {:?}", h.name, h.zone);
    for (day, ranges) in DAYS.iter().zip(&h.weekly) {
        if ranges.is_empty() {
            continue;
        }
        let r: Vec<String> = ranges.iter().map(|(a, b)| format!("{}-{}", time(*a), time(*b))).collect();
        let _ = write!(out, "\n    {day} {}", r.join(", "));
    }
    if !h.closed.is_empty() {
        let d: Vec<String> = h.closed.iter().map(ToString::to_string).collect();
        let _ = write!(out, "\n    closed {}", d.join(", "));
    }
}

fn retry(out: &mut String, i: usize, r: &RetryInfo) {
    let _ = write!(out, "#{i} {} for {} globals {}", r.name, r.param, r.globals);
    if let Some(f) = r.timezone {
        let _ = write!(out, "\n    timezone fn #{}", f.0);
    }
    if let Some((from, to)) = r.quiet {
        let _ = write!(out, "\n    quiet {}-{}", time(from), time(to));
    }
    for s in &r.steps {
        let when = match s.when {
            StepTime::Immediately => "immediately".to_string(),
            StepTime::At(m) => format!("at {}", time(m)),
            StepTime::After(ms) => format!("after {}", duration(ms)),
        };
        let held = if s.held { " (held by quiet hours)" } else { "" };
        let _ = write!(out, "\n    {when} fn #{}{held}", s.action.0);
    }
    for (event, f) in &r.handlers {
        let _ = write!(out, "\n    on {event} fn #{}", f.0);
    }
}

fn function(out: &mut String, b: &Bundle, lines: &LineIndex, i: usize, f: &Function) {
    let _ = writeln!(out, "\nfn #{i} {:?} (params {}, locals {})", f.name, f.params, f.locals);
    for (pc, instr) in f.code.iter().enumerate() {
        let text = instruction(b, instr);
        let mut line = format!("  {pc:04}  {text}");
        if let Some(span) = f.spans.get(pc) {
            let pad = COMMENT_COLUMN.saturating_sub(line.chars().count()).max(1);
            line.extend(std::iter::repeat_n(' ', pad));
            line.push_str("; ");
            line.push_str(&lines.locate(b, span));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    if f.spans.len() != f.code.len() {
        let _ = writeln!(out, "  ; {} spans for {} instructions", f.spans.len(), f.code.len());
    }
}

/// One instruction as text: the variant's name, then its operands with ids resolved.
pub fn instruction(b: &Bundle, instr: &Instr) -> String {
    let text = |id: ConstId| match b.constants.get(id.index()) {
        Some(Value::Text(s)) => s.to_string(),
        Some(v) => constant(v),
        None => format!("const #{}?", id.0),
    };
    match instr {
        Instr::Const { value } => match b.constants.get(value.index()) {
            Some(v) => format!("Const {}", constant(v)),
            None => format!("Const #{}?", value.0),
        },
        Instr::Load { slot } => format!("Load {}", slot.0),
        Instr::Store { slot } => format!("Store {}", slot.0),
        Instr::LoadGlobal { global } => format!("LoadGlobal {}", global.0),
        Instr::StoreGlobal { global } => format!("StoreGlobal {}", global.0),
        Instr::Contact { field } => format!("Contact {}", contact_field(*field)),
        Instr::Attribute { name } => format!("Attribute {}", text(*name)),
        Instr::SetLanguage => "SetLanguage".to_string(),
        Instr::SetAttribute { name } => format!("SetAttribute {}", text(*name)),
        Instr::AgentField { field } => format!("AgentField {}", agent_field(*field)),
        Instr::QueueField { field } => format!(
            "QueueField {}",
            match field {
                QueueField::Position => "position",
                QueueField::Ewt => "ewt",
            }
        ),
        Instr::Now => "Now".to_string(),
        Instr::Field { name, index } => format!("Field {}{}", text(*name), field_index(*index)),
        Instr::OptField { name, index } => format!("OptField {}{}", text(*name), field_index(*index)),
        Instr::Pop => "Pop".to_string(),
        Instr::Dup => "Dup".to_string(),
        Instr::Not => "Not".to_string(),
        Instr::Neg => "Neg".to_string(),
        Instr::Binary { op } => format!("Binary {}", op.as_str()),
        Instr::Matches { regex } => format!("Matches /{}/", text(*regex)),
        Instr::MakeList { len } => format!("MakeList {len}"),
        Instr::MakeRecord { record } => format!("MakeRecord {}", name_of(&b.records, record.index(), |r| &r.name)),
        Instr::Concat { parts } => format!("Concat {parts}"),
        Instr::PerLanguage { languages } => match b.constants.get(languages.index()) {
            Some(Value::List(items)) => {
                let names: Vec<String> = items.iter().map(ToString::to_string).collect();
                format!("PerLanguage [{}]", names.join(", "))
            }
            _ => format!("PerLanguage {}", text(*languages)),
        },
        Instr::Jump { to } => format!("Jump -> {to:04}"),
        Instr::JumpIfFalse { to } => format!("JumpIfFalse -> {to:04}"),
        Instr::JumpIfTrue { to } => format!("JumpIfTrue -> {to:04}"),
        Instr::JumpIfSome { to } => format!("JumpIfSome -> {to:04}"),
        Instr::Switch { targets } => {
            let t: Vec<String> = targets.iter().map(|t| format!("{t:04}")).collect();
            format!("Switch [{}]", t.join(", "))
        }
        Instr::Call { func, args } => format!("Call {}/{args}", name_of(&b.functions, func.index(), |f| &f.name)),
        Instr::Builtin { builtin: Builtin::Open(h), args } => {
            format!("Builtin open({})/{args}", name_of(&b.hours, h.index(), |h| &h.name))
        }
        Instr::Builtin { builtin, args } => format!("Builtin {}/{args}", builtin_name(*builtin)),
        Instr::Return => "Return".to_string(),
        Instr::Goto { func } => format!("Goto {}", goto_target(b, *func)),
        Instr::Fail { reason } => format!("Fail {}", quoted(&text(*reason))),
        Instr::Say => "Say".to_string(),
        Instr::Note => "Note".to_string(),
        Instr::Waypoint { name } => format!("Waypoint {}", text(*name)),
        Instr::Ask { ask } => match b.asks.get(ask.index()) {
            Some(a) => ask_info(a),
            None => format!("Ask #{}?", ask.0),
        },
        Instr::Menu { menu } => match b.menus.get(menu.index()) {
            Some(m) => menu_info(m),
            None => format!("Menu #{}?", menu.0),
        },
        Instr::Lookup { source } => format!("Lookup {}", name_of(&b.sources, source.index(), |s| &s.name)),
        Instr::Queue { queue, priority, prefer_ms, require, vip } => {
            let mut s = format!("Queue {}", name_of(&b.queues, queue.index(), |q| &q.name));
            if *priority != 0 {
                let _ = write!(s, " priority {priority:+}");
            }
            if let Some(ms) = prefer_ms {
                let _ = write!(s, " prefer for {}", duration(*ms));
            }
            for skill in require {
                let _ = write!(s, " require {}", text(*skill));
            }
            if *vip {
                s.push_str(" vip");
            }
            s
        }
        Instr::Transfer => "Transfer".to_string(),
        Instr::OfferCallback { keep_place: true } => "OfferCallback keep place".to_string(),
        Instr::OfferCallback { keep_place: false } => "OfferCallback".to_string(),
        Instr::CollectPayment => "CollectPayment".to_string(),
        Instr::Send { medium: Medium::Sms } => "Send sms".to_string(),
        Instr::Send { medium: Medium::Email } => "Send email".to_string(),
        Instr::StartRetry { retry } => format!("StartRetry {}", name_of(&b.retries, retry.index(), |r| &r.name)),
        Instr::Survey { survey } => format!("Survey {}", name_of(&b.surveys, survey.index(), |s| &s.name)),
        Instr::End => "End".to_string(),
        Instr::Choose { choice } => match b.choices.get(choice.index()) {
            Some(c) => {
                let options: Vec<String> = c.options.iter().map(|o| quoted(o)).collect();
                format!("Choose [{}]", options.join(", "))
            }
            None => format!("Choose #{}?", choice.0),
        },
        Instr::Outcome { name } => format!("Outcome {}", text(*name)),
        Instr::CallOut { queue, script } => {
            let mut s = format!("CallOut queue {}", name_of(&b.queues, queue.index(), |q| &q.name));
            if let Some(sc) = script {
                let _ = write!(s, " script {}", name_of(&b.scripts, sc.index(), |s| &s.name));
            }
            s
        }
        Instr::Again { delay_ms, at_minutes, max } => {
            let mut s = format!("Again in {}", duration(*delay_ms));
            if let Some(m) = at_minutes {
                let _ = write!(s, " at {}", time(*m));
            }
            let _ = write!(s, " max {max}");
            s
        }
        Instr::Stop => "Stop".to_string(),
        Instr::Extern { func, args } => format!("Extern {}/{args}", name_of(&b.externs, func.index(), |e| &e.name)),
    }
}

/// `step NAME` for a script's step, the function's name otherwise.
fn goto_target(b: &Bundle, func: FuncId) -> String {
    for s in &b.scripts {
        if let Some((name, _)) = s.steps.iter().find(|(_, f)| *f == func) {
            return format!("step {name}");
        }
    }
    name_of(&b.functions, func.index(), |f| &f.name)
}

fn ask_info(a: &AskInfo) -> String {
    let kind = match &a.kind {
        AnswerKind::Digits(n) => format!("digits({n})"),
        AnswerKind::YesNo => "yes/no".to_string(),
        AnswerKind::Range(lo, hi) => format!("{}..{}", format_number(*lo), format_number(*hi)),
        AnswerKind::Number => "number".to_string(),
        AnswerKind::Text => "text".to_string(),
        AnswerKind::Date => "date".to_string(),
        AnswerKind::Money => "money".to_string(),
        AnswerKind::Phone => "phone".to_string(),
        AnswerKind::Email => "email".to_string(),
        AnswerKind::Time => "time".to_string(),
        AnswerKind::Enum(variants) => format!("{{ {} }}", variants.join(", ")),
    };
    let mut s = format!("Ask {}: {kind}", a.name);
    if let Some(t) = a.timeout_ms {
        let _ = write!(s, " timeout {}", duration(t));
    }
    if let Some(r) = a.retries {
        let _ = write!(s, " retries {r}");
    }
    s
}

fn menu_info(m: &MenuInfo) -> String {
    let options: Vec<String> = m
        .options
        .iter()
        .map(|(key, label)| match label {
            Some(l) => format!("{key} {}", quoted(l)),
            None => key.clone(),
        })
        .collect();
    let block = if m.has_timeout { "" } else { " (no timeout block)" };
    format!("Menu [{}] timeout {} retries {}{block}", options.join(", "), duration(m.timeout_ms), m.retries)
}

/// The name of table entry `i`, or `#i?` when the id points past the table.
fn name_of<T>(table: &[T], i: usize, name: impl Fn(&T) -> &String) -> String {
    table.get(i).map_or_else(|| format!("#{i}?"), |t| name(t).clone())
}

/// A constant as the language would write it, so `Const` lines read like the source.
fn constant(v: &Value) -> String {
    match v {
        Value::None => "none".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => format_number(*n),
        Value::Text(s) => quoted(s),
        Value::Duration(ms) => duration(*ms),
        Value::Time(m) => time(*m),
        Value::Date(_) | Value::DateTime(_) | Value::Money(_) | Value::Phone(_) => v.to_string(),
        Value::Email(s) => format!("email {}", quoted(s)),
        Value::Channel(c) => format!("channel {c}"),
        Value::Agent(s) => format!("agent {}", quoted(s)),
        Value::Enum(s) => format!("enum {s}"),
        Value::Record(r) => {
            let fields: Vec<String> = r.fields.iter().map(|(n, v)| format!("{n}: {}", constant(v))).collect();
            format!("{} {{ {} }}", r.type_name, fields.join(", "))
        }
        Value::List(items) => {
            let items: Vec<String> = items.iter().map(constant).collect();
            format!("[{}]", items.join(", "))
        }
    }
}

fn quoted(s: &str) -> String {
    format!("{s:?}")
}

/// `1m30s`: the language's duration, without the spaces `format_duration` puts in.
fn duration(ms: i64) -> String {
    format_duration(ms).replace(' ', "")
}

fn time(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

fn contact_field(f: ContactField) -> &'static str {
    match f {
        ContactField::Id => "id",
        ContactField::Channel => "channel",
        ContactField::From => "from",
        ContactField::To => "to",
        ContactField::Text => "text",
        ContactField::Subject => "subject",
        ContactField::Language => "language",
        ContactField::Country => "country",
        ContactField::StartedAt => "started_at",
    }
}

fn agent_field(f: AgentField) -> &'static str {
    match f {
        AgentField::Id => "id",
        AgentField::Name => "name",
        AgentField::Skills => "skills",
        AgentField::Languages => "languages",
    }
}

fn builtin_name(b: Builtin) -> &'static str {
    match b {
        Builtin::Open(_) => "open",
        Builtin::Lower => "lower",
        Builtin::Upper => "upper",
        Builtin::Trim => "trim",
        Builtin::Len => "len",
        Builtin::Left => "left",
        Builtin::Right => "right",
        Builtin::StartsWith => "starts_with",
        Builtin::EndsWith => "ends_with",
        Builtin::Replace => "replace",
        Builtin::Round => "round",
        Builtin::Floor => "floor",
        Builtin::Ceil => "ceil",
        Builtin::Abs => "abs",
        Builtin::Min => "min",
        Builtin::Max => "max",
        Builtin::LocalTime => "local_time",
        Builtin::LocalDate => "local_date",
        Builtin::Weekday => "weekday",
        Builtin::DaysBetween => "days_between",
        Builtin::AddDays => "add_days",
        Builtin::Minutes => "minutes",
    }
}

/// Byte offsets to 1-based lines, for each of the bundle's files whose text is known.
struct LineIndex {
    /// Per bundle file: the offsets where its lines start, when its text was given.
    starts: Vec<Option<Vec<usize>>>,
}

impl LineIndex {
    fn new(bundle: &Bundle, sources: &[SourceFile]) -> LineIndex {
        let starts = bundle
            .files
            .iter()
            .map(|path| {
                let text = &sources.iter().find(|s| s.path == *path)?.text;
                Some(std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect())
            })
            .collect();
        LineIndex { starts }
    }

    /// `file:line`, or `file@offset` when the file's text is unknown.
    fn locate(&self, bundle: &Bundle, at: &SourceSpan) -> String {
        let offset = at.span.start as usize;
        let Some(path) = bundle.files.get(at.file.0 as usize) else {
            return format!("file #{}@{offset}", at.file.0);
        };
        match self.starts.get(at.file.0 as usize).and_then(Option::as_ref) {
            Some(starts) => format!("{path}:{}", starts.partition_point(|&s| s <= offset)),
            None => format!("{path}@{offset}"),
        }
    }
}

/// Where a field stands in its record, when codegen knew: ` @3`.
fn field_index(index: Option<u16>) -> String {
    index.map_or_else(String::new, |i| format!(" @{i}"))
}
