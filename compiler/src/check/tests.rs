//! `test` blocks are checked too: `given` rows typed by their record, answers by the
//! questions that can take them, expected waypoints, queues and outcomes that exist.

use super::decls::{visit_block_stmts, RETRY_EVENTS};
use super::env::{Context, Env};
use super::symbols::Kind;
use super::Checker;
use crate::diagnostic::{did_you_mean, Code, Diagnostic, FileId};
use crate::syntax::ast::*;
use crate::types::{Channel, ChannelSet, Type};
use std::sync::Arc;

/// What a test line's inputs go to.
enum Target<'a> {
    None,
    Flow(&'a FlowDecl),
    Script(&'a ScriptDecl),
    Survey(&'a SurveyDecl),
    Retry,
}

const EVENT_KINDS: [&str; 16] = [
    "say",
    "note",
    "waypoint",
    "queue",
    "transfer",
    "send",
    "call",
    "outcome",
    "offer",
    "stop",
    "end",
    "error",
    "callback",
    "callback_taken",
    "callback_declined",
    "survey_skipped",
];

impl Checker<'_, '_> {
    pub fn test(&self, file: FileId, test: &TestDecl) {
        for (other_file, other) in &self.syms.tests {
            if std::ptr::eq(*other, test) {
                break;
            }
            if other.name.value == test.name.value {
                self.report(Diagnostic::duplicate(
                    file,
                    test.name.span,
                    format!("two tests are called \"{}\"", test.name.value),
                    (*other_file, other.name.span),
                ));
            }
        }
        let env = Env::new(Context::Flow, ChannelSet::ALL);
        let mut target = Target::None;
        let mut agents: Vec<&str> = Vec::new();
        for line in &test.lines {
            match &line.kind {
                TestLineKind::Given { source, row } => {
                    if self.syms.sources.contains_key(source.name.as_str()) {
                        let record = self.syms.sources[source.name.as_str()].node.record.name.as_str();
                        if self.syms.records.contains_key(record) {
                            self.expect_type(file, &env, row, &Type::Record(Arc::from(record)));
                        }
                    } else {
                        let mut d = Vec::new();
                        self.syms.expect(Kind::Source, file, source, &mut d);
                        d.into_iter().for_each(|d| self.report(d));
                    }
                }
                TestLineKind::At { date, time, zone } => {
                    self.check_date(file, date.span, date.year, date.month, date.day);
                    self.check_time(file, time.span, time.hour, time.minute);
                    if let Some(z) = zone {
                        self.check_zone(file, z.span, &z.value);
                    }
                }
                TestLineKind::Agent { name, skills, languages: _ } => {
                    if agents.contains(&name.name.as_str()) {
                        self.report(Diagnostic::new(
                            Code::Duplicate,
                            file,
                            name.span,
                            format!("agent `{}` is added twice", name.name),
                        ));
                    }
                    agents.push(&name.name);
                    for s in skills {
                        let mut d = Vec::new();
                        self.syms.expect(Kind::Skill, file, s, &mut d);
                        d.into_iter().for_each(|d| self.report(d));
                    }
                }
                TestLineKind::Contact { channel, from, to, subject, text } => {
                    target = Target::None;
                    let Some(ch) = self.channel_name(file, channel) else { continue };
                    let want = match ch {
                        Channel::Voice | Channel::Sms => Type::Phone,
                        Channel::Email => Type::Email,
                        _ => Type::Text,
                    };
                    self.expect_type(file, &env, from, &want);
                    for e in [subject, text].into_iter().flatten() {
                        self.expect_type(file, &env, e, &Type::Text);
                    }
                    if let Some(to) = to {
                        self.expr(file, &env, to, Some(&Type::Email));
                    }
                    target = self.entry_for(file, ch, channel, to.as_ref());
                }
                TestLineKind::Script(name) => {
                    if self.test_ref(Kind::Script, file, name) {
                        target = Target::Script(self.syms.scripts[name.name.as_str()].node);
                    }
                }
                TestLineKind::Survey(name) => {
                    if self.test_ref(Kind::Survey, file, name) {
                        target = Target::Survey(self.syms.surveys[name.name.as_str()].node);
                    }
                }
                TestLineKind::StartRetry { retry, arg } => {
                    self.start_retry(file, &env, retry, arg);
                    target = Target::Retry;
                }
                TestLineKind::Press(_) => {}
                TestLineKind::Type(e) => {
                    self.expect_type(file, &env, e, &Type::Text);
                }
                TestLineKind::Wait(d) => self.positive(file, d),
                TestLineKind::AdvanceTo { date, time } => {
                    self.check_date(file, date.span, date.year, date.month, date.day);
                    self.check_time(file, time.span, time.hour, time.minute);
                }
                TestLineKind::Answer(value) => self.answer(file, &env, &target, value, line.span),
                TestLineKind::Choose(option) => {
                    if let Target::Script(s) = &target {
                        let mut labels = Vec::new();
                        for step in &s.steps {
                            visit_block_stmts(&step.body, &mut |st| {
                                if let StmtKind::Choose { options, .. } = &st.kind {
                                    labels.extend(options.iter().map(|o| o.label.value.clone()));
                                }
                            });
                        }
                        if !labels.contains(&option.value) {
                            self.report(
                                Diagnostic::new(
                                    Code::UnknownName,
                                    file,
                                    option.span,
                                    format!("script `{}` offers no option \"{}\"", s.name.name, option.value),
                                )
                                .suggest(&option.value, labels.iter().map(String::as_str)),
                            );
                        }
                    } else {
                        self.report(
                            Diagnostic::new(Code::Syntax, file, line.span, "`choose` answers a script's choice")
                                .with_help("start the script first with `script NAME`"),
                        );
                    }
                }
                TestLineKind::Event(e) => {
                    if !RETRY_EVENTS.contains(&e.name.as_str()) {
                        self.report(
                            Diagnostic::new(
                                Code::UnknownName,
                                file,
                                e.span,
                                format!("there is no outcome `{}`", e.name),
                            )
                            .suggest(&e.name, RETRY_EVENTS),
                        );
                    }
                }
                TestLineKind::Accept | TestLineKind::HangUp => {}
                TestLineKind::Expect(e) => self.expectation(file, &env, e, &agents),
                TestLineKind::ExpectNo { kind, name } => {
                    if !EVENT_KINDS.contains(&kind.name.as_str()) {
                        self.report(
                            Diagnostic::new(
                                Code::UnknownName,
                                file,
                                kind.span,
                                format!("there is no event `{}`", kind.name),
                            )
                            .suggest(&kind.name, EVENT_KINDS),
                        );
                    }
                    if let (Some(name), "waypoint") = (name, kind.name.as_str()) {
                        self.known_waypoint(file, name);
                    }
                    if let (Some(name), "queue") = (name, kind.name.as_str()) {
                        self.test_ref(Kind::Queue, file, name);
                    }
                }
            }
        }
    }

    /// `expect` in tests does not count as using a declaration.
    fn test_ref(&self, kind: Kind, file: FileId, name: &Ident) -> bool {
        let mut d = Vec::new();
        let ok = self.syms.expect(kind, file, name, &mut d);
        d.into_iter().for_each(|d| self.report(d));
        ok
    }

    fn entry_for<'a>(&'a self, file: FileId, ch: Channel, channel: &Ident, to: Option<&Expr>) -> Target<'a> {
        let entries: Vec<_> = self
            .entries
            .by_channel
            .get(&channel.name)
            .map(|ix| ix.iter().map(|&i| &self.syms.entries[i]).collect())
            .unwrap_or_default();
        let chosen = match to {
            Some(to) => {
                let key = super::decls::address_key(to);
                let found = entries.iter().find(|e| super::decls::address_key(&e.node.address) == key);
                if found.is_none() && !entries.is_empty() {
                    self.report(
                        Diagnostic::new(
                            Code::UnknownName,
                            file,
                            to.span,
                            format!("no {ch} entry answers this address"),
                        )
                        .with_label("no entry")
                        .with_help(format!(
                            "{ch} entries answer {}",
                            entries
                                .iter()
                                .map(|e| super::decls::address_key(&e.node.address))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                    );
                }
                found.copied()
            }
            None if entries.len() > 1 => {
                self.report(
                    Diagnostic::new(
                        Code::Syntax,
                        file,
                        channel.span,
                        format!("several {ch} entries exist: say which with `to …`"),
                    )
                    .with_label("which entry?"),
                );
                None
            }
            None => entries.first().copied(),
        };
        match chosen.and_then(|e| self.syms.flows.get(e.node.flow.name.as_str())) {
            Some(flow) => Target::Flow(flow.node),
            None => Target::None,
        }
    }

    fn answer(&self, file: FileId, env: &Env, target: &Target<'_>, value: &Expr, span: Span) {
        let mut found: Vec<&Ask> = Vec::new();
        fn asks_in<'x>(stmts: &'x [Stmt], found: &mut Vec<&'x Ask>) {
            for st in stmts {
                super::decls::visit_stmt(st, &mut |s| {
                    if let StmtKind::Ask(a) = &s.kind {
                        found.push(a);
                    }
                });
            }
        }
        let mut collect = |stmts| asks_in(stmts, &mut found);
        match target {
            // The surveys a flow asks for run once its contact ends, and their questions are
            // answered in the same test.
            Target::Flow(f) => {
                collect(&f.body.stmts);
                let mut surveys: Vec<&str> = Vec::new();
                for st in &f.body.stmts {
                    super::decls::visit_stmt(st, &mut |s| {
                        if let StmtKind::Survey(name) = &s.kind {
                            surveys.push(&name.name);
                        }
                    });
                }
                for name in surveys {
                    if let Some(survey) = self.syms.surveys.get(name) {
                        collect(&survey.node.body.stmts);
                    }
                }
            }
            Target::Script(s) => {
                collect(&s.prelude);
                for st in &s.steps {
                    collect(&st.body.stmts);
                }
            }
            Target::Survey(s) => collect(&s.body.stmts),
            Target::None | Target::Retry => {}
        }
        let quiet = self.quiet();
        let asks: Vec<(Type, &Ask)> = found.into_iter().map(|a| (quiet.ask_type(file, &a.ty), a)).collect();
        if asks.is_empty() && matches!(target, Target::None) && self.partial {
            // The entry, and its flow's questions, may be in the file that does not parse.
            self.expr(file, env, value, None);
            return;
        }
        if asks.is_empty() {
            self.report(
                Diagnostic::new(Code::Syntax, file, span, "nothing running asks a question here")
                    .with_help("`answer` replies to an `ask` of the flow, script or survey that runs"),
            );
            self.expr(file, env, value, None);
            return;
        }
        let found = self.expr(file, env, value, asks.first().map(|(t, _)| t));
        let fits = asks.iter().any(|(t, a)| {
            found.fits(t)
                || matches!((&found, t), (Type::Number, Type::Text)) && matches!(a.ty.kind, AskTypeKind::Digits(_))
                || matches!(&found, Type::Text) && matches!(t, Type::Phone | Type::Email | Type::Date)
                || matches!(t, Type::Enum(_)) && matches!(value.kind, ExprKind::Name(_) | ExprKind::Text(_))
        });
        if !fits && !found.is_error() {
            let wanted: Vec<String> = asks.iter().map(|(t, _)| t.to_string()).collect();
            self.report(
                Diagnostic::new(
                    Code::TypeMismatch,
                    file,
                    value.span,
                    format!("no question here takes {}", super::expr::article(&found)),
                )
                .with_label("does not fit")
                .with_help(format!("the questions take {}", wanted.join(", "))),
            );
        }
    }

    fn known_waypoint(&self, file: FileId, name: &Ident) {
        let known = self.waypoints.borrow();
        if !known.contains(&name.name) {
            let mut d =
                Diagnostic::new(Code::UnknownName, file, name.span, format!("there is no waypoint `{}`", name.name))
                    .with_label("no flow passes such a waypoint");
            if let Some(h) = did_you_mean(&name.name, known.iter().map(String::as_str)) {
                d = d.with_help(h);
            }
            self.report(d);
        }
    }

    fn expectation(&self, file: FileId, env: &Env, e: &Expectation, agents: &[&str]) {
        match e {
            Expectation::Say(t) | Expectation::Note(t) => {
                self.expect_type(file, env, t, &Type::Text);
            }
            Expectation::Waypoint(w) => self.known_waypoint(file, w),
            Expectation::Queue { queue, .. } => {
                self.test_ref(Kind::Queue, file, queue);
            }
            Expectation::Transfer(to) => {
                self.expect_type(file, env, to, &Type::Phone);
            }
            Expectation::Send { medium, to, text } => {
                let want = match medium.name.as_str() {
                    "sms" => Type::Phone,
                    "email" => Type::Email,
                    _ => {
                        self.report(Diagnostic::new(
                            Code::UnknownName,
                            file,
                            medium.span,
                            format!("messages go by sms or email, not `{}`", medium.name),
                        ));
                        Type::Error
                    }
                };
                self.expect_type(file, env, to, &want);
                if let Some(t) = text {
                    self.expect_type(file, env, t, &Type::Text);
                }
            }
            Expectation::Call { to, queue } => {
                self.expect_type(file, env, to, &Type::Phone);
                if let Some(q) = queue {
                    self.test_ref(Kind::Queue, file, q);
                }
            }
            Expectation::Outcome(o) => {
                let known = self.outcomes.borrow();
                if !known.contains(&o.name) {
                    self.report(
                        Diagnostic::new(
                            Code::UnknownName,
                            file,
                            o.span,
                            format!("no script has the outcome `{}`", o.name),
                        )
                        .suggest(&o.name, known.iter().map(String::as_str)),
                    );
                }
            }
            Expectation::Offer { agent, channel } => {
                if let Some(c) = channel {
                    self.channel_name(file, c);
                }
                if !agents.contains(&agent.name.as_str()) {
                    let mut d = Diagnostic::new(
                        Code::UnknownName,
                        file,
                        agent.span,
                        format!("this test adds no agent `{}`", agent.name),
                    )
                    .with_label("unknown agent");
                    d = d.suggest_or(
                        &agent.name,
                        agents.iter().copied(),
                        format!("add one first: `agent {} skills …`", agent.name),
                    );
                    self.report(d);
                }
            }
            Expectation::Stop | Expectation::End | Expectation::Error => {}
        }
    }
}
