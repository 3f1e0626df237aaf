//! The bundle verifier: what [`Bundle::from_bytes`] checks before anything runs a bundle,
//! so that a truncated, damaged or hand-made bundle is refused with a message instead of
//! making the VM or the engine index past a table or pop an empty stack.
//!
//! What it checks:
//!
//! - **Every index** points into its table: constants, functions, queues, sources, asks,
//!   menus, choices, hours, records, retries, surveys, scripts and externs named by
//!   instructions; local slots (below the function's `locals`) and globals (below the
//!   `globals` of the flow, script, survey or retry the function belongs to); the functions,
//!   queues, records and flows the tables name (flow bodies and `on error`, script steps,
//!   survey bodies, retry steps, handlers and time zones, `while waiting` announcements,
//!   overflow queues, a source's record and keys, an entry's flow, a reply's text, queue
//!   and record, and that its text takes no parameters; a scorecard's questions: at least
//!   one, named once each, weighed 1 to 100); and the file of every
//!   span, with one span per instruction.
//! - **Control flow**: jump and switch targets are inside the function, a switch has a
//!   target, no path runs off the end of a function, no jump goes backwards (the language
//!   has no loops, so every function ends), and calls form no cycle (recursion is refused
//!   by `check`), so a run's frames are bounded.
//! - **Stack heights**: following every path, no instruction takes more values than the
//!   stack holds, paths that meet agree on the height, a function that is called (or
//!   computes a time zone or an announcement) returns exactly one value, the others none,
//!   and a call passes as many arguments as the function has parameters. A function that
//!   is called never `goto`s (that replaces the whole run). Slots are stored before they
//!   are read.
//! - **Values the engine computes with**: durations and time-outs are neither negative
//!   nor longer than a thousand years, times of day are inside a day, a repeated `while
//!   waiting` line waits, service-level fractions are fractions, `PerLanguage` names a
//!   list, and the source hash is SHA-256 in hex (the CLI shows its first 12 digits).
//!
//! The checks follow `runtime/vm` and `runtime/engine`: every index they use without a
//! check of their own is checked here.

use crate::bytecode::*;
use crate::value::Value;

/// The minutes in a day: times of day are below it, hours' ranges end at most at it.
const DAY_MINUTES: u32 = 24 * 60;

/// The longest duration a bundle may hold, in milliseconds: a thousand years. Anything
/// longer added to a date overflows the calendar (jiff reaches the year 9999).
const MAX_MS: i64 = 1_000 * 365 * 86_400_000;

/// Problems with `bundle`, one line each; empty when it is sound.
pub fn verify(bundle: &Bundle) -> Vec<String> {
    let mut v = Verifier { b: bundle, problems: Vec::new() };
    v.tables();
    let roles = v.roles();
    for (fi, f) in bundle.functions.iter().enumerate() {
        v.function(fi, f, &roles);
    }
    v.call_cycles();
    v.problems
}

struct Verifier<'a> {
    b: &'a Bundle,
    problems: Vec<String>,
}

/// What the tables say of each function: how many globals its unit has, and whether it
/// must return a value.
struct Roles {
    globals: Vec<Option<usize>>,
    returns_value: Vec<bool>,
    called: Vec<bool>,
}

impl Verifier<'_> {
    fn problem(&mut self, what: String) {
        self.problems.push(what);
    }

    /// `Some(())` when `index` is below `len`; reports `what` otherwise.
    fn within(&mut self, index: usize, len: usize, what: impl FnOnce() -> String) -> Option<()> {
        if index < len {
            Some(())
        } else {
            let what = what();
            self.problem(what);
            None
        }
    }

    fn func_ref(&mut self, at: &str, f: FuncId) {
        let n = self.b.functions.len();
        self.within(f.index(), n, || format!("{at}: fn #{}, but the bundle has {n} functions", f.0));
    }

    fn queue_ref(&mut self, at: &str, q: QueueId) {
        let n = self.b.queues.len();
        self.within(q.index(), n, || format!("{at}: queue #{}, but the bundle has {n} queues", q.0));
    }

    /// A duration the engine adds to a time: not negative, and not past the calendar.
    fn not_negative(&mut self, at: &str, what: &str, ms: i64) {
        if let Some(why) = duration_problem(ms) {
            self.problem(format!("{at}: {what} is {ms}ms, {why}"));
        }
    }

    fn time_of_day(&mut self, at: &str, minutes: u32) {
        if minutes >= DAY_MINUTES {
            self.problem(format!("{at}: {minutes} minutes is not a time of day"));
        }
    }

    /// The tables' references to each other, and the values the engine computes with.
    fn tables(&mut self) {
        let b = self.b;
        if b.format_version != FORMAT_VERSION {
            self.problem(format!("format {}, not {FORMAT_VERSION}", b.format_version));
        }
        if b.source_hash.len() != 64 || !b.source_hash.bytes().all(|c| c.is_ascii_hexdigit()) {
            self.problem("the source hash is not 64 hexadecimal digits".to_string());
        }
        for (i, f) in b.flows.iter().enumerate() {
            let at = format!("flow #{i} `{}`", f.name);
            self.func_ref(&at, f.body);
            if let Some(e) = f.on_error {
                self.func_ref(&at, e);
            }
        }
        for (i, s) in b.scripts.iter().enumerate() {
            let at = format!("script #{i} `{}`", s.name);
            if let Some(q) = s.queue {
                self.queue_ref(&at, q);
            }
            self.func_ref(&at, s.prelude);
            for (_, f) in &s.steps {
                self.func_ref(&at, *f);
            }
        }
        for (i, s) in b.surveys.iter().enumerate() {
            self.func_ref(&format!("survey #{i} `{}`", s.name), s.body);
        }
        for (i, r) in b.retries.iter().enumerate() {
            let at = format!("retry #{i} `{}`", r.name);
            for f in r.timezone.iter().chain(r.steps.iter().map(|s| &s.action)).chain(r.handlers.iter().map(|h| &h.1)) {
                self.func_ref(&at, *f);
            }
            if let Some((from, to)) = r.quiet {
                self.time_of_day(&at, from);
                self.time_of_day(&at, to);
            }
            for step in &r.steps {
                match step.when {
                    StepTime::Immediately => {}
                    StepTime::At(minutes) => self.time_of_day(&at, minutes),
                    StepTime::After(ms) => self.not_negative(&at, "a step's delay", ms),
                }
            }
        }
        for (i, q) in b.queues.iter().enumerate() {
            let at = format!("queue #{i} `{}`", q.name);
            for &(_, fraction, within) in &q.targets {
                if !(0.0..=1.0).contains(&fraction) {
                    self.problem(format!("{at}: a service level of {fraction}, not a fraction"));
                }
                self.not_negative(&at, "a service level's time", within);
            }
            for line in &q.waiting {
                if line.repeat && line.delay_ms <= 0 {
                    self.problem(format!("{at}: a repeated waiting line every {}ms", line.delay_ms));
                }
                self.not_negative(&at, "a waiting line's delay", line.delay_ms);
                if let WaitingAction::Say(f) = line.action {
                    self.func_ref(&at, f);
                }
            }
            if let Some((after, to)) = q.overflow {
                self.not_negative(&at, "the overflow time", after);
                self.queue_ref(&at, to);
            }
        }
        for (i, r) in b.replies.iter().enumerate() {
            let at = format!("reply #{i} `{}`", r.name);
            self.func_ref(&at, r.text);
            if let Some(q) = r.queue {
                self.queue_ref(&at, q);
            }
            if let Some(record) = r.record {
                let n = b.records.len();
                self.within(record.index(), n, || format!("{at}: record #{}, but the bundle has {n}", record.0));
                if r.globals == 0 {
                    self.problem(format!("{at}: it is given a record but has no global to hold it"));
                }
            }
            if let Some(f) = b.functions.get(r.text.index()) {
                if f.params != 0 {
                    self.problem(format!("{at}: its text takes {} parameters, not none", f.params));
                }
            }
        }
        for (i, c) in b.scorecards.iter().enumerate() {
            let at = format!("scorecard #{i} `{}`", c.name);
            if b.scorecards[..i].iter().any(|o| o.name == c.name) {
                self.problem(format!("{at}: its name is taken by an earlier scorecard"));
            }
            if c.questions.is_empty() {
                self.problem(format!("{at}: it has no questions"));
            }
            for (j, q) in c.questions.iter().enumerate() {
                if c.questions[..j].iter().any(|o| o.name == q.name) {
                    self.problem(format!("{at}: question `{}` is there twice", q.name));
                }
                if !(1..=100).contains(&q.weight) {
                    self.problem(format!("{at}: question `{}` weighs {}, not 1 to 100", q.name, q.weight));
                }
            }
        }
        for (i, h) in b.hours.iter().enumerate() {
            for &(from, to) in h.weekly.iter().flatten() {
                if from > to || to > DAY_MINUTES {
                    self.problem(format!("hours #{i} `{}`: {from}-{to} is not a range of minutes in a day", h.name));
                }
            }
        }
        for (i, s) in b.sources.iter().enumerate() {
            let at = format!("source #{i} `{}`", s.name);
            let n = b.records.len();
            if self
                .within(s.record.index(), n, || format!("{at}: record #{}, but the bundle has {n}", s.record.0))
                .is_some()
            {
                let record = &b.records[s.record.index()];
                for key in &s.keys {
                    if !record.fields.iter().any(|(name, _)| name == key) {
                        self.problem(format!("{at}: key `{key}` is not a field of `{}`", record.name));
                    }
                }
            }
            if s.timeout_ms <= 0 || s.timeout_ms > MAX_MS {
                self.problem(format!("{at}: a time-out of {}ms", s.timeout_ms));
            }
            if let Some(cache) = s.cache_ms {
                self.not_negative(&at, "the cache time", cache);
            }
        }
        for (i, e) in b.entries.iter().enumerate() {
            let n = b.flows.len();
            self.within(e.flow.index(), n, || {
                format!("entry #{i} `{}`: flow #{}, but the bundle has {n}", e.address, e.flow.0)
            });
        }
        for (i, a) in b.asks.iter().enumerate() {
            let at = format!("ask #{i} `{}`", a.name);
            if let Some(t) = a.timeout_ms {
                self.not_negative(&at, "the time-out", t);
            }
            if let AnswerKind::Range(lo, hi) = a.kind {
                if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
                    self.problem(format!("{at}: {lo}..{hi} is not a range"));
                }
            }
        }
        for (i, m) in b.menus.iter().enumerate() {
            self.not_negative(&format!("menu #{i}"), "the time-out", m.timeout_ms);
        }
    }

    /// Which unit each function belongs to (for its globals), and which must return a value.
    fn roles(&mut self) -> Roles {
        let b = self.b;
        let n = b.functions.len();
        let mut roles = Roles { globals: vec![None; n], returns_value: vec![false; n], called: vec![false; n] };
        let mut unit = |f: FuncId, globals: u16| {
            if let Some(g) = roles.globals.get_mut(f.index()) {
                *g = Some(g.map_or(globals as usize, |g| g.min(globals as usize)));
            }
        };
        for s in &b.scripts {
            unit(s.prelude, s.globals);
            s.steps.iter().for_each(|(_, f)| unit(*f, s.globals));
        }
        for s in &b.surveys {
            unit(s.body, s.globals);
        }
        for f in &b.flows {
            unit(f.body, f.globals);
            f.on_error.iter().for_each(|e| unit(*e, f.globals));
        }
        for r in &b.retries {
            for f in r.timezone.iter().chain(r.steps.iter().map(|s| &s.action)).chain(r.handlers.iter().map(|h| &h.1)) {
                unit(*f, r.globals);
            }
        }
        for r in &b.replies {
            unit(r.text, r.globals);
        }
        let mut value = |f: FuncId| {
            if let Some(v) = roles.returns_value.get_mut(f.index()) {
                *v = true;
            }
        };
        b.retries.iter().filter_map(|r| r.timezone).for_each(&mut value);
        b.replies.iter().map(|r| r.text).for_each(&mut value);
        for q in &b.queues {
            for line in &q.waiting {
                if let WaitingAction::Say(f) = line.action {
                    value(f);
                }
            }
        }
        for f in &b.functions {
            for instr in &f.code {
                if let Instr::Call { func, .. } = instr {
                    value(*func);
                    if let Some(c) = roles.called.get_mut(func.index()) {
                        *c = true;
                    }
                }
            }
        }
        roles
    }

    /// Every index an instruction names, and the stack heights along every path.
    fn function(&mut self, fi: usize, f: &Function, roles: &Roles) {
        let b = self.b;
        let mut problems: Vec<String> = Vec::new();
        let mut report = |pc: usize, what: String| problems.push(format!("fn #{fi} {:?} at {pc:04}: {what}", f.name));
        if f.spans.len() != f.code.len() {
            report(0, format!("{} spans for {} instructions", f.spans.len(), f.code.len()));
        }
        if let Some(span) = f.spans.iter().find(|s| s.file.0 as usize >= b.files.len()) {
            report(0, format!("a span in file #{}, but the bundle has {} files", span.file.0, b.files.len()));
        }
        if f.params > f.locals {
            report(0, format!("{} parameters but {} locals", f.params, f.locals));
        }
        let globals = roles.globals[fi].unwrap_or(0);
        let returns_value = roles.returns_value[fi];
        let len = f.code.len();
        // First every operand, so that the walk below can trust them.
        let mut sound = true;
        for (pc, instr) in f.code.iter().enumerate() {
            for what in operand_problems(b, f, instr, globals, len, pc) {
                report(pc, what);
                sound = false;
            }
            if matches!(instr, Instr::Goto { .. }) && roles.called[fi] {
                report(pc, "a function that is called cannot `goto`".into());
            }
        }
        if sound {
            walk(b, f, returns_value, &mut report);
        }
        self.problems.extend(problems);
    }

    /// Calls that lead back to their caller: the VM would stack frames without end.
    fn call_cycles(&mut self) {
        let b = self.b;
        let n = b.functions.len();
        let callees: Vec<Vec<usize>> = b
            .functions
            .iter()
            .map(|f| {
                f.code
                    .iter()
                    .filter_map(|i| match i {
                        Instr::Call { func, .. } if func.index() < n => Some(func.index()),
                        _ => None,
                    })
                    .collect()
            })
            .collect();
        // Depth-first, iteratively: 0 unvisited, 1 on the path, 2 done.
        let mut mark = vec![0u8; n];
        for start in 0..n {
            if mark[start] != 0 {
                continue;
            }
            let mut path: Vec<(usize, usize)> = vec![(start, 0)];
            mark[start] = 1;
            while let Some(&mut (f, ref mut next)) = path.last_mut() {
                if let Some(&callee) = callees[f].get(*next) {
                    *next += 1;
                    match mark[callee] {
                        0 => {
                            mark[callee] = 1;
                            path.push((callee, 0));
                        }
                        1 => {
                            self.problem(format!(
                                "fn #{callee} {:?} calls itself through fn #{f}",
                                b.functions[callee].name
                            ));
                            return;
                        }
                        _ => {}
                    }
                } else {
                    mark[f] = 2;
                    path.pop();
                }
            }
        }
    }
}

/// What is wrong with the indices and counts `instr` names.
fn operand_problems(b: &Bundle, f: &Function, instr: &Instr, globals: usize, len: usize, pc: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut id = |what: &str, index: u32, table: usize| {
        if index as usize >= table {
            out.push(format!("{what} #{index}, but the bundle has {table}"));
        }
    };
    let consts = b.constants.len();
    match instr {
        Instr::Const { value: c }
        | Instr::Attribute { name: c }
        | Instr::SetAttribute { name: c }
        | Instr::Field { name: c, .. }
        | Instr::OptField { name: c, .. }
        | Instr::Matches { regex: c }
        | Instr::Fail { reason: c }
        | Instr::Waypoint { name: c }
        | Instr::Outcome { name: c } => id("constant", c.0, consts),
        Instr::PerLanguage { languages } => {
            id("constant", languages.0, consts);
            if let Some(c) = b.constants.get(languages.index()) {
                if !matches!(c, Value::List(_)) {
                    out.push(format!("constant #{} is not a list of languages", languages.0));
                }
            }
        }
        Instr::Load { slot } | Instr::Store { slot } if slot.index() >= f.locals as usize => {
            out.push(format!("slot {}, but the function has {} locals", slot.0, f.locals));
        }
        Instr::LoadGlobal { global } | Instr::StoreGlobal { global } if global.index() >= globals => {
            out.push(format!("global {}, but its flow, script, survey or retry has {globals}", global.0));
        }
        Instr::Load { .. } | Instr::Store { .. } | Instr::LoadGlobal { .. } | Instr::StoreGlobal { .. } => {}
        Instr::MakeRecord { record } => id("record", record.0, b.records.len()),
        Instr::Jump { to } | Instr::JumpIfFalse { to } | Instr::JumpIfTrue { to } | Instr::JumpIfSome { to } => {
            jump_problem(*to, len, pc, &mut out);
        }
        Instr::Switch { targets } => {
            if targets.is_empty() {
                out.push("a switch with no targets".into());
            }
            for t in targets {
                jump_problem(*t, len, pc, &mut out);
            }
        }
        Instr::Call { func, args } => {
            id("fn", func.0, b.functions.len());
            if let Some(callee) = b.functions.get(func.index()) {
                if *args != callee.params {
                    out.push(format!(
                        "calls fn #{} with {args} arguments, but it has {} parameters",
                        func.0, callee.params
                    ));
                }
            }
        }
        Instr::Builtin { builtin: Builtin::Open(hours), .. } => id("hours", hours.0, b.hours.len()),
        Instr::Goto { func } => id("fn", func.0, b.functions.len()),
        Instr::Ask { ask } => id("ask", ask.0, b.asks.len()),
        Instr::Menu { menu } => id("menu", menu.0, b.menus.len()),
        Instr::Choose { choice } => id("choice", choice.0, b.choices.len()),
        Instr::Lookup { source } => id("source", source.0, b.sources.len()),
        Instr::Queue { queue, prefer_ms, require, .. } => {
            id("queue", queue.0, b.queues.len());
            for c in require {
                id("constant", c.0, consts);
            }
            if let Some(why) = prefer_ms.and_then(duration_problem) {
                out.push(format!("prefers an agent for {}ms, {why}", prefer_ms.unwrap_or_default()));
            }
        }
        Instr::StartRetry { retry } => id("retry", retry.0, b.retries.len()),
        Instr::Survey { survey } => id("survey", survey.0, b.surveys.len()),
        Instr::CallOut { queue, script } => {
            id("queue", queue.0, b.queues.len());
            if let Some(s) = script {
                id("script", s.0, b.scripts.len());
            }
        }
        Instr::Extern { func, args } => {
            id("extern", func.0, b.externs.len());
            if let Some(e) = b.externs.get(func.index()) {
                if *args as usize != e.params.len() {
                    out.push(format!("calls extern #{} with {args} arguments, but it has {}", func.0, e.params.len()));
                }
            }
        }
        Instr::Again { delay_ms, at_minutes, .. } => {
            if let Some(why) = duration_problem(*delay_ms) {
                out.push(format!("again in {delay_ms}ms, {why}"));
            }
            if let Some(m) = at_minutes.filter(|m| *m >= DAY_MINUTES) {
                out.push(format!("{m} minutes is not a time of day"));
            }
        }
        Instr::Contact { .. }
        | Instr::SetLanguage
        | Instr::AgentField { .. }
        | Instr::QueueField { .. }
        | Instr::Now
        | Instr::Pop
        | Instr::Dup
        | Instr::Not
        | Instr::Neg
        | Instr::Binary { .. }
        | Instr::MakeList { .. }
        | Instr::Concat { .. }
        | Instr::Builtin { .. }
        | Instr::Return
        | Instr::Say
        | Instr::Note
        | Instr::Transfer
        | Instr::OfferCallback { .. }
        | Instr::CollectPayment
        | Instr::Send { .. }
        | Instr::End
        | Instr::Stop => {}
    }
    out
}

fn duration_problem(ms: i64) -> Option<&'static str> {
    if ms < 0 {
        Some("less than nothing")
    } else if ms > MAX_MS {
        Some("longer than a thousand years")
    } else {
        None
    }
}

fn jump_problem(to: u32, len: usize, pc: usize, out: &mut Vec<String>) {
    if to as usize >= len {
        out.push(format!("jumps to {to:04}, past the last instruction"));
    } else if to as usize <= pc {
        out.push(format!("jumps back to {to:04}"));
    }
}

/// What one instruction takes from the stack and gives back, and where control goes.
struct Effect {
    pops: usize,
    pushes: usize,
    /// Control does not reach the next instruction.
    ends: bool,
}

/// The stack effect of `i`, whose operands are known to be sound.
fn effect(b: &Bundle, i: &Instr) -> Effect {
    let (pops, pushes, ends) = match i {
        Instr::Const { .. }
        | Instr::Load { .. }
        | Instr::LoadGlobal { .. }
        | Instr::Contact { .. }
        | Instr::Attribute { .. }
        | Instr::AgentField { .. }
        | Instr::QueueField { .. }
        | Instr::Now => (0, 1, false),
        Instr::Store { .. } | Instr::StoreGlobal { .. } | Instr::SetLanguage | Instr::SetAttribute { .. } => {
            (1, 0, false)
        }
        Instr::Pop | Instr::Say | Instr::Note | Instr::CollectPayment | Instr::StartRetry { .. } => (1, 0, false),
        Instr::CallOut { .. } => (1, 0, false),
        Instr::Field { .. } | Instr::OptField { .. } | Instr::Not | Instr::Neg | Instr::Matches { .. } => (1, 1, false),
        Instr::Ask { .. } | Instr::Menu { .. } | Instr::Lookup { .. } | Instr::Choose { .. } => (1, 1, false),
        Instr::Dup => (1, 2, false),
        Instr::Binary { .. } => (2, 1, false),
        Instr::MakeList { len } => (*len as usize, 1, false),
        Instr::MakeRecord { record } => (b.records[record.index()].fields.len(), 1, false),
        Instr::Concat { parts } => (*parts as usize, 1, false),
        Instr::PerLanguage { languages } => match &b.constants[languages.index()] {
            Value::List(l) => (l.len(), 1, false),
            _ => (0, 1, false),
        },
        Instr::Jump { .. } => (0, 0, true),
        Instr::JumpIfFalse { .. } | Instr::JumpIfTrue { .. } | Instr::JumpIfSome { .. } => (1, 0, false),
        Instr::Switch { .. } => (1, 0, true),
        Instr::Call { args, .. } | Instr::Builtin { args, .. } | Instr::Extern { args, .. } => {
            (*args as usize, 1, false)
        }
        Instr::Return | Instr::Goto { .. } | Instr::Fail { .. } | Instr::End => (0, 0, true),
        Instr::Queue { prefer_ms, .. } => (usize::from(prefer_ms.is_some()), 0, true),
        Instr::Transfer => (1, 0, true),
        Instr::Send { .. } => (2, 0, false),
        Instr::Waypoint { .. }
        | Instr::OfferCallback { .. }
        | Instr::Survey { .. }
        | Instr::Outcome { .. }
        | Instr::Again { .. }
        | Instr::Stop => (0, 0, false),
    };
    Effect { pops, pushes, ends }
}

fn targets(i: &Instr) -> &[u32] {
    match i {
        Instr::Jump { to } | Instr::JumpIfFalse { to } | Instr::JumpIfTrue { to } | Instr::JumpIfSome { to } => {
            std::slice::from_ref(to)
        }
        Instr::Switch { targets } => targets,
        _ => &[],
    }
}

/// The state on entry to an instruction: stack height and the slots stored on every path.
#[derive(Clone, PartialEq)]
struct State {
    height: usize,
    stored: Vec<bool>,
}

/// Follows every path through `f` (whose operands are sound), reporting stack heights that
/// do not fit and slots read before they are stored.
fn walk(b: &Bundle, f: &Function, returns_value: bool, report: &mut impl FnMut(usize, String)) {
    let len = f.code.len();
    let mut states: Vec<Option<State>> = vec![None; len];
    let mut stored = vec![false; f.locals as usize];
    stored.iter_mut().take(f.params as usize).for_each(|s| *s = true);
    let mut work = vec![(0usize, State { height: 0, stored })];
    while let Some((pc, state)) = work.pop() {
        if pc >= len {
            report(pc, "control runs off the end of the function".into());
            continue;
        }
        match &mut states[pc] {
            Some(seen) if *seen == state => continue,
            Some(seen) => {
                if seen.height != state.height {
                    report(pc, format!("paths meet with stack heights {} and {}", seen.height, state.height));
                    continue;
                }
                let merged: Vec<bool> = seen.stored.iter().zip(&state.stored).map(|(a, b)| *a && *b).collect();
                if merged == seen.stored {
                    continue;
                }
                seen.stored = merged;
            }
            slot => *slot = Some(state),
        }
        let Some(mut state) = states[pc].clone() else { continue };
        let instr = &f.code[pc];
        if let Instr::Load { slot } = instr {
            if !state.stored[slot.index()] {
                report(pc, format!("slot {} is read before some path stores it", slot.0));
            }
        }
        let e = effect(b, instr);
        if state.height < e.pops {
            report(pc, format!("takes {} values from a stack of {}", e.pops, state.height));
            continue;
        }
        state.height = state.height - e.pops + e.pushes;
        if let Instr::Store { slot } = instr {
            state.stored[slot.index()] = true;
        }
        match instr {
            Instr::Return if returns_value && state.height != 1 => {
                report(pc, format!("returns with {} values on the stack, not 1", state.height));
            }
            Instr::Return if !returns_value && state.height > 1 => {
                report(pc, format!("returns with {} values left on the stack", state.height));
            }
            Instr::End | Instr::Goto { .. } | Instr::Queue { .. } | Instr::Transfer | Instr::Fail { .. }
                if state.height != 0 =>
            {
                report(pc, format!("ends with {} values left on the stack", state.height));
            }
            Instr::Switch { targets } => {
                let wanted = match pc.checked_sub(1).map(|p| &f.code[p]) {
                    Some(Instr::Menu { menu }) => Some(b.menus[menu.index()].options.len() + 1),
                    Some(Instr::Choose { choice }) => Some(b.choices[choice.index()].options.len()),
                    _ => None,
                };
                if let Some(n) = wanted.filter(|n| *n != targets.len()) {
                    report(pc, format!("{} targets for {n} answers", targets.len()));
                }
            }
            _ => {}
        }
        for t in targets(instr) {
            work.push((*t as usize, state.clone()));
        }
        if !e.ends {
            work.push((pc + 1, state));
        }
    }
}
