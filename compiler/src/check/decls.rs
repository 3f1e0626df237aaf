//! Declarations: records, sources, hours, entries, queues, functions, flows, scripts,
//! surveys and retry strategies; and the `unused` lint over them.

use super::calls::Failure;
use super::env::{Context, Env};
use super::stmt::Unit;
use super::symbols::Kind;
use super::Checker;
use crate::diagnostic::{Code, Diagnostic, FileId};
use crate::syntax::ast::*;
use crate::types::{Channel, ChannelSet, Type};
use std::collections::{HashMap, HashSet};

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// The outcomes a retry strategy's call or message can have.
pub const RETRY_EVENTS: [&str; 9] =
    ["no_answer", "answered", "busy", "voicemail", "failed", "reply", "opted_out", "delivered", "bounced"];

impl Checker<'_, '_> {
    pub fn item(&self, file: FileId, item: &Item) {
        match &item.kind {
            ItemKind::Use(_) | ItemKind::Test(_) => {}
            ItemKind::Currency(c) => {
                if crate::value::Currency::parse(&c.name).is_none() {
                    self.report(
                        Diagnostic::new(
                            Code::InvalidValue,
                            file,
                            c.span,
                            format!("`{}` is not a currency code", c.name),
                        )
                        .with_help("use an ISO 4217 code such as GBP, USD or EUR"),
                    );
                }
            }
            ItemKind::Record(r) => self.record(file, r),
            ItemKind::Enum(e) => {
                for (i, v) in e.variants.iter().enumerate() {
                    if let Some(first) = e.variants[..i].iter().find(|f| f.name == v.name) {
                        self.report(Diagnostic::duplicate(
                            file,
                            v.span,
                            format!("`{}` is listed twice", v.name),
                            (file, first.span),
                        ));
                    }
                }
                if e.variants.is_empty() {
                    self.report(Diagnostic::new(
                        Code::InvalidValue,
                        file,
                        e.name.span,
                        "an enum needs at least one value",
                    ));
                }
            }
            ItemKind::Skills(_) => {}
            ItemKind::Source(s) => self.source(file, s),
            ItemKind::Hours(h) => self.hours(file, h),
            ItemKind::Entry(e) => self.entry(file, e),
            ItemKind::Queue(q) => self.queue(file, q),
            ItemKind::Fn(f) => {
                let mut env = Env::new(Context::Fn, ChannelSet::ALL);
                for p in &f.params {
                    let t = self.resolve_type(file, &p.ty);
                    env.bind(&p.name.name, t);
                }
                let ret = self.resolve_type(file, &f.ret);
                self.expect_type(file, &env, &f.body, &ret);
                self.text_len(file, &env, &f.body);
                self.fn_recursion(file, f);
            }
            ItemKind::ExternFn(f) => {
                for p in &f.params {
                    self.resolve_type(file, &p.ty);
                }
                self.resolve_type(file, &f.ret);
                self.extern_script(file, f);
            }
            ItemKind::Flow(f) => self.flow(file, f),
            ItemKind::Script(s) => self.script(file, s),
            ItemKind::Survey(s) => {
                let channels = match s.via.as_ref().map(|v| v.kind) {
                    Some(ViaKind::Sms) => ChannelSet::only(Channel::Sms),
                    Some(ViaKind::Email) => ChannelSet::only(Channel::Email),
                    _ => ChannelSet::ALL,
                };
                let mut env = Env::new(Context::Survey, channels);
                let mut unit = Unit::default();
                self.stmts(file, &mut env, &s.body.stmts, &mut unit);
            }
            ItemKind::Retry(r) => self.retry(file, r),
            ItemKind::Reply(r) => self.reply(file, r),
            ItemKind::Scorecard(c) => self.scorecard(file, c),
        }
    }

    /// A `scorecard`: at least one question, no question twice, each weight a whole number
    /// from 1 to 100.
    fn scorecard(&self, file: FileId, c: &ScorecardDecl) {
        if c.questions.is_empty() {
            self.report(
                Diagnostic::new(
                    Code::InvalidValue,
                    file,
                    c.name.span,
                    format!("scorecard `{}` has no questions", c.name.name),
                )
                .with_label("nothing to score")
                .with_help("add one, e.g. `question greeted \"Greeted the customer by name\" weight 10`"),
            );
        }
        for (i, q) in c.questions.iter().enumerate() {
            if let Some(first) = c.questions[..i].iter().find(|f| f.name.name == q.name.name) {
                self.report(
                    Diagnostic::duplicate(
                        file,
                        q.name.span,
                        format!("question `{}` is asked twice in scorecard `{}`", q.name.name, c.name.name),
                        (file, first.name.span),
                    )
                    .with_label("asked again here")
                    .with_help("rename one of them, or remove the copy"),
                );
            }
            let w = q.weight.value;
            if w.fract() != 0.0 || !(1.0..=100.0).contains(&w) {
                self.report(
                    Diagnostic::new(
                        Code::InvalidValue,
                        file,
                        q.weight.span,
                        format!("a question's weight is a whole number from 1 to 100, not {w}"),
                    )
                    .with_label("out of range")
                    .with_help("weights are relative: give the most important question 100 and the others less"),
                );
            }
            if q.text.value.trim().is_empty() {
                self.report(
                    Diagnostic::new(Code::InvalidValue, file, q.text.span, "a question needs a text")
                        .with_label("empty")
                        .with_help(
                            "write the question the reviewer answers, e.g. \"Confirmed the customer's identity\"",
                        ),
                );
            }
        }
    }

    /// A `reply`: its queue exists, its `with` names a record, and its text is a text in
    /// which `contact`, `agent` and the `with` record (never none: the reply is offered only
    /// when the contact's flow found one) may be used.
    fn reply(&self, file: FileId, r: &ReplyDecl) {
        if let Some(q) = &r.queue {
            if !self.syms.has(Kind::Queue, &q.name) {
                let queues = self.syms.names_of(Kind::Queue);
                let mut d = super::symbols::unknown(Kind::Queue, file, q, queues.clone());
                if d.help.is_none() {
                    d = d.with_help(match queues.as_slice() {
                        [] => "declare the queue first, or leave out `for queue` to offer the reply in every queue"
                            .to_string(),
                        _ => format!(
                            "the queues are {}; leave out `for queue` to offer the reply in every queue",
                            queues.iter().map(|q| format!("`{q}`")).collect::<Vec<_>>().join(", ")
                        ),
                    });
                }
                self.report(d);
            } else {
                self.mark_used(Kind::Queue, &q.name);
            }
        }
        let mut env = Env::new(
            Context::Reply,
            [Channel::Chat, Channel::Email, Channel::Sms, Channel::Social].into_iter().collect(),
        );
        if let Some(p) = &r.with {
            let t = self.resolve_type(file, &p.ty);
            if !t.is_error() && !matches!(t, Type::Record(_)) {
                self.report(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        file,
                        p.ty.span,
                        format!("a reply is given a record the flow looked up, and `{}` is not one", t),
                    )
                    .with_label("not a record")
                    .with_help("name the record type of a source, e.g. `with customer: Customer`"),
                );
            }
            env.bind(&p.name.name, t);
        }
        self.expect_type(file, &env, &r.text, &Type::Text);
        self.text_len(file, &env, &r.text);
    }

    fn record(&self, file: FileId, r: &RecordDecl) {
        for (i, f) in r.fields.iter().enumerate() {
            if let Some(first) = r.fields[..i].iter().find(|x| x.name.name == f.name.name) {
                self.report(Diagnostic::duplicate(
                    file,
                    f.name.span,
                    format!("field `{}` is declared twice", f.name.name),
                    (file, first.name.span),
                ));
            }
            let t = self.resolve_type(file, &f.ty);
            if matches!(t.unwrap_optional(), Type::Record(n) if **n == *r.name.name) {
                self.report(
                    Diagnostic::new(Code::TypeMismatch, file, f.ty.span, "a record cannot contain itself")
                        .with_help("hold an id of the other record instead"),
                );
            }
        }
    }

    fn source(&self, file: FileId, s: &SourceDecl) {
        let record_ok = if self.syms.records.contains_key(s.record.name.as_str()) {
            true
        } else if self.syms.enums.contains_key(s.record.name.as_str()) || Type::builtin(&s.record.name).is_some() {
            self.report(
                Diagnostic::new(
                    Code::TypeMismatch,
                    file,
                    s.record.span,
                    format!("a source holds records, and `{}` is not one", s.record.name),
                )
                .with_help("declare a `record` for the rows of this source"),
            );
            false
        } else {
            self.expect(Kind::Type, file, &s.record)
        };
        let fields = if record_ok { self.syms.record_fields(&s.record.name).unwrap_or_default() } else { Vec::new() };
        let mut data: Vec<&SourceClause> = Vec::new();
        let mut keys = 0;
        for c in &s.clauses {
            match &c.kind {
                SourceClauseKind::Csv(_)
                | SourceClauseKind::Sqlite { .. }
                | SourceClauseKind::Http(_)
                | SourceClauseKind::Sql(_) => data.push(c),
                SourceClauseKind::Key(names) => {
                    keys += names.len();
                    for k in names {
                        if !record_ok {
                            continue;
                        }
                        match fields.iter().find(|(f, _)| *f == k.name) {
                            Some((_, t)) => {
                                if !matches!(t.unwrap_optional(), Type::Phone | Type::Email | Type::Text) {
                                    self.report(
                                        Diagnostic::new(
                                            Code::TypeMismatch,
                                            file,
                                            k.span,
                                            format!(
                                                "`{}` is {}, and keys are phones, emails or texts",
                                                k.name,
                                                super::expr::article(t)
                                            ),
                                        )
                                        .with_label("cannot be a key"),
                                    );
                                }
                            }
                            None => {
                                self.report(
                                    Diagnostic::new(
                                        Code::UnknownName,
                                        file,
                                        k.span,
                                        format!("`{}` has no field `{}`", s.record.name, k.name),
                                    )
                                    .with_label("unknown field")
                                    .suggest(&k.name, fields.iter().map(|(f, _)| *f)),
                                );
                            }
                        }
                    }
                }
                SourceClauseKind::Timeout(d) | SourceClauseKind::Cache(d) => self.positive(file, d),
            }
        }
        match data.as_slice() {
            [] => self.report(
                Diagnostic::new(
                    Code::Syntax,
                    file,
                    s.name.span,
                    format!("source `{}` says nowhere to read from", s.name.name),
                )
                .with_help("add `csv \"data/file.csv\"` or `sqlite \"data/file.db\" table \"name\"`"),
            ),
            [one] => {
                if record_ok {
                    self.source_file(file, s, one, &fields);
                }
            }
            [_, second, ..] => self.report(
                Diagnostic::new(Code::Duplicate, file, second.span, "a source reads from one place").with_related(
                    file,
                    data[0].span,
                    "already reads from here",
                ),
            ),
        }
        if keys == 0 {
            self.report(
                Diagnostic::new(Code::Syntax, file, s.name.span, format!("source `{}` has no `key`", s.name.name))
                    .with_help("say which fields a look-up may match, e.g. `key phone, email`"),
            );
        }
    }

    fn hours(&self, file: FileId, h: &HoursDecl) {
        let mut zone = None;
        for c in &h.clauses {
            match &c.kind {
                HoursClauseKind::Timezone(z) => {
                    if zone.is_some() {
                        self.report(Diagnostic::new(Code::Duplicate, file, c.span, "the time zone is given twice"));
                    }
                    zone = Some(z);
                    self.check_zone(file, z.span, &z.value);
                }
                HoursClauseKind::Open { days, ranges } => {
                    for d in days {
                        for day in std::iter::once(&d.from).chain(d.to.as_ref()) {
                            if !DAYS.contains(&day.name.as_str()) {
                                let mut diag = Diagnostic::new(
                                    Code::InvalidValue,
                                    file,
                                    day.span,
                                    format!("`{}` is not a day", day.name),
                                )
                                .with_label("unknown day");
                                diag = diag.suggest_or(&day.name, DAYS, "days are mon, tue, wed, thu, fri, sat, sun");
                                self.report(diag);
                            }
                        }
                    }
                    for (from, to) in ranges {
                        self.check_time(file, from.span, from.hour, from.minute);
                        self.check_time(file, to.span, to.hour, to.minute);
                        if from.minutes() == to.minutes() {
                            self.report(
                                Diagnostic::new(
                                    Code::InvalidValue,
                                    file,
                                    from.span.to(to.span),
                                    "this range opens and closes at once",
                                )
                                .with_label("empty range"),
                            );
                        }
                    }
                }
                HoursClauseKind::Closed(dates) => {
                    for d in dates {
                        self.check_date(file, d.span, d.year, d.month, d.day);
                    }
                }
            }
        }
        if zone.is_none() {
            self.report(
                Diagnostic::new(Code::Syntax, file, h.name.span, format!("hours `{}` have no time zone", h.name.name))
                    .with_help("add a line like `timezone \"Europe/London\"`"),
            );
        }
    }

    fn entry(&self, file: FileId, e: &EntryDecl) {
        let Some(channel) = self.channel_name(file, &e.channel) else { return };
        let env = Env::new(Context::Flow, ChannelSet::ALL);
        let t = self.expr(
            file,
            &env,
            &e.address,
            match channel {
                Channel::Email => Some(&Type::Email),
                _ => None,
            },
        );
        let want = match channel {
            Channel::Voice | Channel::Sms => Type::Phone,
            Channel::Email => Type::Email,
            Channel::Chat | Channel::Social => Type::Text,
        };
        if !t.fits(&want) {
            if channel == Channel::Email {
                self.report(
                    Diagnostic::new(Code::TypeMismatch, file, e.address.span, "an email entry needs an email address")
                        .with_help("write it like \"support@example.com\""),
                );
            } else {
                self.mismatch(file, e.address.span, &want, &t);
            }
        }
        // Two entries for one address.
        let key = (e.channel.name.clone(), address_key(&e.address));
        if let Some(other) = self.entries.first.get(&key).map(|&i| &self.syms.entries[i]) {
            if !std::ptr::eq(other.node, e) {
                self.report(
                    Diagnostic::new(Code::Duplicate, file, e.address.span, "this address already has an entry")
                        .with_related(other.file, other.node.address.span, "first entry here")
                        .with_help("one address leads to one flow"),
                );
            }
        }
        if self.expect(Kind::Flow, file, &e.flow) {
            let flow = &self.syms.flows[e.flow.name.as_str()];
            if !flow.node.channels.iter().any(|c| c.name == e.channel.name) {
                self.report(
                    Diagnostic::new(
                        Code::Channel,
                        file,
                        e.channel.span,
                        format!("flow `{}` does not take {} contacts", e.flow.name, channel),
                    )
                    .with_related(flow.file, flow.node.name.span, "its `on` list is here")
                    .with_help(format!("add `{channel}` to the flow's `on` list")),
                );
            }
        }
    }

    pub fn channel_name(&self, file: FileId, name: &Ident) -> Option<Channel> {
        let c = Channel::parse(&name.name);
        if c.is_none() {
            let mut d =
                Diagnostic::new(Code::UnknownName, file, name.span, format!("there is no channel `{}`", name.name))
                    .with_label("unknown channel");
            d = d.suggest_or(
                &name.name,
                Channel::ALL.iter().map(|c| c.as_str()),
                "channels are voice, chat, email, sms and social",
            );
            self.report(d);
        }
        c
    }

    fn queue(&self, file: FileId, q: &QueueDecl) {
        let mut targets: HashMap<String, Span> = HashMap::new();
        let mut has_skills = false;
        for c in &q.clauses {
            match &c.kind {
                QueueClauseKind::Skills(skills) => {
                    has_skills = true;
                    for s in skills {
                        self.expect(Kind::Skill, file, s);
                    }
                }
                QueueClauseKind::Target { channel, percent, within } => {
                    self.channel_name(file, channel);
                    if let Some(first) = targets.insert(channel.name.clone(), channel.span) {
                        self.report(Diagnostic::duplicate(
                            file,
                            channel.span,
                            format!("the {} target is given twice", channel.name),
                            (file, first),
                        ));
                    }
                    if !(0.0..=100.0).contains(&percent.value) {
                        self.report(
                            Diagnostic::new(
                                Code::InvalidValue,
                                file,
                                percent.span,
                                format!("{}% is not a percentage", crate::value::format_number(percent.value)),
                            )
                            .with_label("out of range")
                            .with_help("a service level goes from 0% to 100%"),
                        );
                    }
                    self.positive(file, within);
                }
                QueueClauseKind::Priority(entries) => {
                    for (i, (ch, n)) in entries.iter().enumerate() {
                        self.channel_name(file, ch);
                        if entries[..i].iter().any(|(f, _)| f.name == ch.name) {
                            self.report(Diagnostic::new(
                                Code::Duplicate,
                                file,
                                ch.span,
                                format!("{} is given two priorities", ch.name),
                            ));
                        }
                        if n.value.fract() != 0.0 || !(0.0..=100.0).contains(&n.value) {
                            self.report(
                                Diagnostic::new(
                                    Code::InvalidValue,
                                    file,
                                    n.span,
                                    "a priority is a whole number from 0 to 100",
                                )
                                .with_label("out of range"),
                            );
                        }
                    }
                }
                QueueClauseKind::WhileWaiting(lines) => {
                    for line in lines {
                        self.waiting_line(file, line);
                    }
                }
                QueueClauseKind::Overflow { after, to } => {
                    self.positive(file, after);
                    if to.name == q.name.name {
                        self.report(
                            Diagnostic::new(Code::InvalidValue, file, to.span, "a queue cannot overflow into itself")
                                .with_help("name another queue"),
                        );
                    } else {
                        self.expect(Kind::Queue, file, to);
                    }
                }
            }
        }
        if !has_skills {
            self.report(
                Diagnostic::new(Code::Syntax, file, q.name.span, format!("queue `{}` names no skills", q.name.name))
                    .with_help("add `skills …`: the skills an agent needs to take these contacts"),
            );
        }
    }

    fn flow(&self, file: FileId, f: &FlowDecl) {
        let mut channels = ChannelSet::EMPTY;
        for (i, c) in f.channels.iter().enumerate() {
            if f.channels[..i].iter().any(|x| x.name == c.name) {
                self.report(Diagnostic::new(Code::Duplicate, file, c.span, format!("{} is listed twice", c.name)));
            }
            if let Some(ch) = self.channel_name(file, c) {
                channels.insert(ch);
            }
        }
        let mut unit = Unit::default();
        if let Some(on_error) = &f.on_error {
            let mut env = Env::new(Context::Flow, channels);
            if !self.block(file, &mut env, on_error, &mut unit) {
                self.report(
                    Diagnostic::new(
                        Code::NoRoute,
                        file,
                        on_error.span,
                        "after an error, customers are left without a route",
                    )
                    .with_help("end `on error` with `queue …`, `transfer to …` or `end`"),
                );
            }
        }
        let mut env = Env::new(Context::Flow, channels);
        let leaves = self.stmts(file, &mut env, &f.body.stmts, &mut unit);
        if !leaves {
            let at = f.body.stmts.last().map_or(f.name.span, |s| s.span);
            self.report(
                Diagnostic::new(
                    Code::NoRoute,
                    file,
                    at,
                    format!("customers can reach the end of flow `{}` without a queue, transfer or end", f.name.name),
                )
                .with_label("a path ends here")
                .with_help("finish every path with `queue …`, `transfer to …` or `end`"),
            );
        }
        if f.on_error.is_none() {
            let failing = self.failing_expr(&f.body).or(unit.can_fail.map(|span| (span, Failure::Call)));
            if let Some((span, why)) = failing {
                let d = match why {
                    Failure::Call => {
                        Diagnostic::new(Code::NoRoute, file, span, "if this fails, the contact ends with an error")
                            .with_label("can fail")
                            .with_help("open the flow with `on error { … }` to say where such contacts go")
                    }
                    Failure::Division => Diagnostic::new(
                        Code::NoRoute,
                        file,
                        span,
                        "if this divides by zero, the contact ends with an error",
                    )
                    .with_label("fails when the divisor is zero")
                    .with_help("open the flow with `on error { … }` to say where such contacts go"),
                };
                self.report(d);
            }
        }
    }

    /// The first expression in `block` that can fail the contact: a call to an `extern fn`
    /// (or a `fn` that can fail), or a division by what may be zero.
    fn failing_expr(&self, block: &Block) -> Option<(Span, Failure)> {
        let mut found = None;
        visit_block_exprs(block, &mut |e| {
            if found.is_none() {
                found = self.calls.failure(e).map(|why| (e.span, why));
            }
        });
        found
    }

    fn fn_recursion(&self, file: FileId, f: &FnDecl) {
        if let Some(span) = self.calls.calls_back(&f.name.name, &f.body) {
            self.report(
                Diagnostic::new(
                    Code::Unbounded,
                    file,
                    span,
                    format!("`{}` calls itself, and could run forever", f.name.name),
                )
                .with_label("calls back into it")
                .with_help("functions cannot call themselves, directly or through others"),
            );
        }
    }

    fn script(&self, file: FileId, s: &ScriptDecl) {
        if let Some(q) = &s.queue {
            self.expect(Kind::Queue, file, q);
        }
        let mut unit = Unit { steps: s.steps.iter().map(|st| st.name.name.clone()).collect(), ..Unit::default() };
        let mut env = Env::new(Context::Script, ChannelSet::ALL);
        for stmt in &s.prelude {
            if !matches!(stmt.kind, StmtKind::Let { .. } | StmtKind::Lookup { .. }) {
                self.report(
                    Diagnostic::new(Code::Syntax, file, stmt.span, "only `let` lines may stand before the steps")
                        .with_help("move this into a `step`"),
                );
            }
            self.stmt(file, &mut env, stmt, &mut unit);
        }
        if s.steps.is_empty() {
            self.report(
                Diagnostic::new(Code::Syntax, file, s.name.span, format!("script `{}` has no steps", s.name.name))
                    .with_help("add `step start { … }`"),
            );
            return;
        }
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for step in &s.steps {
            if let Some(first) = seen.insert(&step.name.name, step.name.span) {
                self.report(Diagnostic::duplicate(
                    file,
                    step.name.span,
                    format!("step `{}` is declared twice", step.name.name),
                    (file, first),
                ));
            }
            let mut step_env = env.clone();
            // Steps `goto` one another after changing what the prelude bound.
            step_env.forget_text_lens();
            if !self.block(file, &mut step_env, &step.body, &mut unit) {
                let at = step.body.stmts.last().map_or(step.name.span, |x| x.span);
                self.report(
                    Diagnostic::new(
                        Code::NoRoute,
                        file,
                        at,
                        format!("step `{}` can end without an outcome", step.name.name),
                    )
                    .with_label("the script stops here")
                    .with_help("end every path of a step with `outcome …`, `goto …` or `choose …`"),
                );
            }
        }
        self.script_graph(file, s);
    }

    /// Unreachable steps, and `goto` rings that no choice or question breaks.
    fn script_graph(&self, file: FileId, s: &ScriptDecl) {
        let index: HashMap<&str, usize> =
            s.steps.iter().enumerate().map(|(i, st)| (st.name.name.as_str(), i)).collect();
        let mut edges: Vec<Vec<(usize, Span, bool)>> = vec![Vec::new(); s.steps.len()];
        let mut waits: Vec<bool> = vec![false; s.steps.len()];
        for (i, step) in s.steps.iter().enumerate() {
            visit_block_stmts(&step.body, &mut |st| match &st.kind {
                StmtKind::Goto(t) => {
                    if let Some(&j) = index.get(t.name.as_str()) {
                        edges[i].push((j, t.span, true));
                    }
                }
                StmtKind::Choose { options, .. } => {
                    waits[i] = true;
                    for o in options {
                        if let Some(&j) = index.get(o.step.name.as_str()) {
                            edges[i].push((j, o.step.span, false));
                        }
                    }
                }
                StmtKind::Ask(_) | StmtKind::Menu(_) => waits[i] = true,
                _ => {}
            });
        }
        let mut reached = vec![false; s.steps.len()];
        let mut todo = vec![0];
        while let Some(i) = todo.pop() {
            if std::mem::replace(&mut reached[i], true) {
                continue;
            }
            todo.extend(edges[i].iter().map(|(j, _, _)| *j));
        }
        for (i, step) in s.steps.iter().enumerate() {
            if !reached[i] {
                self.report(
                    Diagnostic::new(
                        Code::Unreachable,
                        file,
                        step.name.span,
                        format!("no path reaches step `{}`", step.name.name),
                    )
                    .with_label("never reached")
                    .with_help("`goto` it or offer it in a `choose`, or remove it"),
                );
            }
        }
        // A ring of gotos through steps that never wait for anyone runs forever.
        for start in 0..s.steps.len() {
            if waits[start] {
                continue;
            }
            let mut seen = vec![false; s.steps.len()];
            let mut stack: Vec<(usize, Option<Span>)> = vec![(start, None)];
            while let Some((i, via)) = stack.pop() {
                for &(j, span, is_goto) in &edges[i] {
                    if !is_goto || waits[j] {
                        continue;
                    }
                    if j == start {
                        let span = via.unwrap_or(span);
                        self.report(
                            Diagnostic::new(
                                Code::Unbounded,
                                file,
                                span,
                                format!(
                                    "these steps `goto` each other forever, starting at `{}`",
                                    s.steps[start].name.name
                                ),
                            )
                            .with_label("closes the ring")
                            .with_help("break the ring with a `choose` or an `ask`, or end it with `outcome`"),
                        );
                        return;
                    }
                    if !seen[j] {
                        seen[j] = true;
                        stack.push((j, Some(via.unwrap_or(span))));
                    }
                }
            }
        }
    }

    fn retry(&self, file: FileId, r: &RetryDecl) {
        let mut env = Env::new(Context::Retry, ChannelSet::ALL);
        let param_t = self.resolve_type(file, &r.param.ty);
        env.bind(&r.param.name.name, param_t);
        let mut quiet: Option<(TimeLit, TimeLit)> = None;
        let mut steps = 0;
        let mut unit = Unit::default();
        for c in &r.clauses {
            match &c.kind {
                RetryClauseKind::Timezone(e) => {
                    self.expect_type(file, &env, e, &Type::Text);
                    if let ExprKind::Text(parts) = &e.kind {
                        if let [TextPart::Lit(z)] = parts.as_slice() {
                            self.check_zone(file, e.span, z);
                        }
                    }
                }
                RetryClauseKind::Quiet { from, to } => {
                    self.check_time(file, from.span, from.hour, from.minute);
                    self.check_time(file, to.span, to.hour, to.minute);
                    quiet = Some((*from, *to));
                }
                RetryClauseKind::Step { when, action } => {
                    steps += 1;
                    match when {
                        When::At(t) => self.check_time(file, t.span, t.hour, t.minute),
                        When::After(d) => self.positive(file, d),
                        When::Immediately(_) => {}
                    }
                    if !matches!(
                        action.kind,
                        StmtKind::Send { .. } | StmtKind::Call { .. } | StmtKind::StartRetry { .. } | StmtKind::Stop
                    ) {
                        self.report(
                            Diagnostic::new(
                                Code::Syntax,
                                file,
                                action.span,
                                "a retry step sends a message or makes a call",
                            )
                            .with_help("write `send sms to …`, `send email to …` or `call … queue …`"),
                        );
                    }
                    self.stmt(file, &mut env.clone(), action, &mut unit);
                }
                RetryClauseKind::On { event, body } => {
                    if !RETRY_EVENTS.contains(&event.name.as_str()) {
                        let mut d = Diagnostic::new(
                            Code::UnknownName,
                            file,
                            event.span,
                            format!("there is no outcome `{}`", event.name),
                        )
                        .with_label("unknown outcome");
                        d = d.suggest_or(
                            &event.name,
                            RETRY_EVENTS,
                            format!("outcomes are {}", RETRY_EVENTS.join(", ")),
                        );
                        self.report(d);
                    }
                    self.block(file, &mut env.clone(), body, &mut unit);
                }
            }
        }
        if steps == 0 {
            self.report(
                Diagnostic::new(
                    Code::Syntax,
                    file,
                    r.name.span,
                    format!("retry strategy `{}` has no steps", r.name.name),
                )
                .with_help("add a step like `immediately send email to …` or `after 1h call … queue …`"),
            );
        }
        if let Some((from, to)) = quiet {
            self.quiet_hours(file, r, from, to);
        }
        self.retry_ring(file, r);
    }

    /// A step fixed at a time inside its own quiet hours is never allowed to run then.
    fn quiet_hours(&self, file: FileId, r: &RetryDecl, from: TimeLit, to: TimeLit) {
        let inside = |t: TimeLit| {
            let (m, f, e) = (t.minutes(), from.minutes(), to.minutes());
            if f < e {
                m >= f && m < e
            } else if f > e {
                m >= f || m < e
            } else {
                false
            }
        };
        let held = |s: &Stmt| match &s.kind {
            StmtKind::Call { .. } => true,
            StmtKind::Send { medium, .. } => medium.name == "sms",
            _ => false,
        };
        let quiet_text = format!("{:02}:{:02}-{:02}:{:02}", from.hour, from.minute, to.hour, to.minute);
        let report = |t: &TimeLit, help: &str| {
            self.report(
                Diagnostic::new(
                    Code::QuietHours,
                    file,
                    t.span,
                    format!("{:02}:{:02} is inside this strategy's quiet hours ({quiet_text})", t.hour, t.minute),
                )
                .with_label("inside quiet hours")
                .with_help(help),
            )
        };
        for c in &r.clauses {
            match &c.kind {
                RetryClauseKind::Step { when: When::At(t), action } if inside(*t) && held(action) => {
                    report(t, "choose a time outside the quiet hours; calls and SMS are never made inside them")
                }
                RetryClauseKind::On { body, .. } => visit_block_stmts(body, &mut |s| {
                    if let StmtKind::Again { at: Some(t), .. } = &s.kind {
                        if inside(*t) {
                            report(t, "choose a time outside the quiet hours");
                        }
                    }
                }),
                _ => {}
            }
        }
    }

    /// A strategy that starts itself again (directly or through others) never ends.
    fn retry_ring(&self, file: FileId, r: &RetryDecl) {
        let started = |decl: &RetryDecl| -> Vec<(String, Span)> {
            let mut out = Vec::new();
            for c in &decl.clauses {
                let mut collect = |s: &Stmt| {
                    if let StmtKind::StartRetry { retry, .. } = &s.kind {
                        out.push((retry.name.clone(), retry.span));
                    }
                };
                match &c.kind {
                    RetryClauseKind::Step { action, .. } => visit_stmt(action, &mut collect),
                    RetryClauseKind::On { body, .. } => visit_block_stmts(body, &mut collect),
                    _ => {}
                }
            }
            out
        };
        for (first, span) in started(r) {
            let mut todo = vec![first];
            let mut seen = HashSet::new();
            while let Some(name) = todo.pop() {
                if name == r.name.name {
                    self.report(
                        Diagnostic::new(
                            Code::Unbounded,
                            file,
                            span,
                            format!("retry strategy `{}` starts itself again, so it never ends", r.name.name),
                        )
                        .with_label("starts the ring again")
                        .with_help("repeat a call with `again in … max N` instead"),
                    );
                    return;
                }
                if !seen.insert(name.clone()) {
                    continue;
                }
                if let Some(d) = self.syms.retries.get(name.as_str()) {
                    todo.extend(started(d.node).into_iter().map(|(n, _)| n));
                }
            }
        }
    }

    pub fn unused_lints(&self, files: &[(FileId, &File)]) {
        if !self.report_unused {
            return;
        }
        let used = self.used.borrow();
        let report = |kind: Kind, file: FileId, name: &Ident, what: &str| {
            if !used.contains(&(kind, name.name.clone())) {
                self.report(
                    Diagnostic::new(Code::Unused, file, name.span, format!("{what} `{}` is never used", name.name))
                        .with_label("unused")
                        .with_help(format!("use it, or remove the {what}")),
                );
            }
        };
        for &(file, ast) in files {
            for item in &ast.items {
                match &item.kind {
                    ItemKind::Queue(q) => report(Kind::Queue, file, &q.name, "queue"),
                    ItemKind::Source(s) => report(Kind::Source, file, &s.name, "source"),
                    ItemKind::Hours(h) => report(Kind::Hours, file, &h.name, "hours"),
                    _ => {}
                }
            }
        }
    }
}

/// An entry's address as written, for telling two entries for one address apart.
pub fn address_key(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Phone(p) => p.clone(),
        ExprKind::Text(parts) => parts
            .iter()
            .map(|p| match p {
                TextPart::Lit(s) => s.to_ascii_lowercase(),
                TextPart::Expr(_) => "{…}".to_string(),
            })
            .collect(),
        _ => format!("{:?}", e.kind),
    }
}

/// Calls `f` on every statement in `block`, nested ones included.
pub fn visit_block_stmts<'a>(block: &'a Block, f: &mut dyn FnMut(&'a Stmt)) {
    for s in &block.stmts {
        visit_stmt(s, f);
    }
}

pub fn visit_stmt<'a>(s: &'a Stmt, f: &mut dyn FnMut(&'a Stmt)) {
    f(s);
    match &s.kind {
        StmtKind::Lookup { else_block: Some(b), .. } => visit_block_stmts(b, f),
        StmtKind::Ask(a) => {
            if let Some(b) = &a.else_block {
                visit_block_stmts(b, f);
            }
        }
        StmtKind::Menu(m) => {
            for o in &m.options {
                visit_block_stmts(&o.body, f);
            }
            if let Some(t) = &m.timeout {
                visit_block_stmts(&t.body, f);
            }
        }
        StmtKind::If { branches, else_block } => {
            for (_, b) in branches {
                visit_block_stmts(b, f);
            }
            if let Some(b) = else_block {
                visit_block_stmts(b, f);
            }
        }
        StmtKind::Match { arms, .. } => {
            for a in arms {
                visit_block_stmts(&a.body, f);
            }
        }
        _ => {}
    }
}

/// Calls `f` on every expression in `block`.
fn visit_block_exprs<'a>(block: &'a Block, f: &mut dyn FnMut(&'a Expr)) {
    visit_block_stmts(block, &mut |s| {
        for e in stmt_exprs(s) {
            visit_expr(e, f);
        }
    });
}

/// The expressions a statement holds directly (not those of nested blocks).
pub fn stmt_exprs(s: &Stmt) -> Vec<&Expr> {
    match &s.kind {
        StmtKind::Let { value, .. } => vec![value],
        StmtKind::Lookup { key, .. } => vec![key],
        StmtKind::Assign { target, value } => vec![target, value],
        StmtKind::Say(e) | StmtKind::Transfer(e) | StmtKind::CollectPayment(e) | StmtKind::Note(e) => vec![e],
        StmtKind::Ask(a) => vec![&a.prompt],
        StmtKind::Menu(m) => vec![&m.prompt],
        StmtKind::If { branches, .. } => branches.iter().map(|(c, _)| c).collect(),
        StmtKind::Match { scrutinee, arms } => {
            let mut v = vec![scrutinee];
            for a in arms {
                v.extend(a.patterns.iter());
            }
            v
        }
        StmtKind::Queue(q) => q.prefer.iter().map(|(e, _)| e).collect(),
        StmtKind::Send { to, text, .. } => vec![to, text],
        StmtKind::StartRetry { arg, .. } => vec![arg],
        StmtKind::Choose { prompt, .. } => vec![prompt],
        StmtKind::Call { to, .. } => vec![to],
        _ => Vec::new(),
    }
}

/// Calls `f` on `e` and every expression inside it.
pub fn visit_expr<'a>(e: &'a Expr, f: &mut dyn FnMut(&'a Expr)) {
    f(e);
    match &e.kind {
        ExprKind::Text(parts) => {
            for p in parts {
                if let TextPart::Expr(inner) = p {
                    visit_expr(inner, f);
                }
            }
        }
        ExprKind::List(items) => items.iter().for_each(|i| visit_expr(i, f)),
        ExprKind::Field { base, .. } => visit_expr(base, f),
        ExprKind::Call { args, .. } => args.iter().for_each(|a| visit_expr(a, f)),
        ExprKind::Record(entries) => entries.iter().for_each(|(_, v)| visit_expr(v, f)),
        ExprKind::Unary { expr, .. } | ExprKind::Paren(expr) => visit_expr(expr, f),
        ExprKind::Binary { lhs, rhs, .. } => {
            visit_expr(lhs, f);
            visit_expr(rhs, f);
        }
        _ => {}
    }
}
