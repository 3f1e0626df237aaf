//! Statements: types, channels, narrowing through branches, and where paths leave.

use super::env::{path_of, Context, Env};
use super::symbols::Kind;
use super::Checker;
use crate::diagnostic::{did_you_mean, Code, Diagnostic, FileId};
use crate::syntax::ast::*;
use crate::types::{Channel, ChannelSet, Type};
use std::collections::HashMap;
use std::sync::Arc;

/// Per flow, script or survey: what its statements share.
#[derive(Debug, Default)]
pub struct Unit {
    pub waypoints: HashMap<String, Span>,
    /// The first place the contact could fail without a fallback (an `extern fn` call).
    pub can_fail: Option<Span>,
    /// The steps of the script being checked.
    pub steps: Vec<String>,
}

/// The shortest duration one clause may have, and what to say of a shorter one.
pub struct Minimum {
    pub millis: i64,
    pub message: &'static str,
    pub label: &'static str,
    pub help: &'static str,
}

/// `every` in a queue's `while waiting`: an announcement repeated more often than every
/// 5 s floods the caller, and every repetition is an event the run time keeps.
pub const EVERY: Minimum = Minimum {
    millis: 5_000,
    message: "a waiting announcement cannot repeat more often than every 5s",
    label: "too often",
    help: "repeat every 5s or more, e.g. `every 45s`: a shorter period floods the caller and the contact's events",
};

/// `ask … timeout` and a menu's `timeout`: nobody answers in under a second, so a shorter
/// wait only runs through the retries.
pub const ANSWER: Minimum = Minimum {
    millis: 1_000,
    message: "customers need at least 1s to answer",
    label: "too short",
    help: "wait 1s or more, e.g. `timeout 8s`",
};

/// `again in` in a retry strategy: repeating a call or a message within a minute harasses
/// the customer, and `max` is the only other bound on how fast the strategy spins.
pub const AGAIN: Minimum = Minimum {
    millis: 60_000,
    message: "a call or message cannot be repeated less than 1m after the last",
    label: "too soon",
    help: "repeat it after 1m or more, e.g. `again in 30m`",
};

/// Channels that can do each statement.
fn voice_chat_sms() -> ChannelSet {
    [Channel::Voice, Channel::Chat, Channel::Sms].into_iter().collect()
}

impl Checker<'_, '_> {
    /// Checks a block in a scope of its own; true when every path through it leaves.
    pub fn block(&self, file: FileId, env: &mut Env, block: &Block, unit: &mut Unit) -> bool {
        let mut inner = env.clone();
        let leaves = self.stmts(file, &mut inner, &block.stmts, unit);
        // Names bound inside stay inside; what was learned of outer names comes out.
        let outer_narrowed: Vec<String> = inner.narrowed().to_vec();
        env.join_paths(&[inner]);
        for p in outer_narrowed {
            env.narrow(&p);
        }
        leaves
    }

    /// Checks statements in order, in `env` itself; true when the sequence always leaves.
    pub fn stmts(&self, file: FileId, env: &mut Env, stmts: &[Stmt], unit: &mut Unit) -> bool {
        let mut left = false;
        for (i, s) in stmts.iter().enumerate() {
            if left {
                let last = stmts.last().map_or(s.span, |l| l.span);
                self.report(
                    Diagnostic::new(Code::Unreachable, file, s.span.to(last), "no customer can reach this")
                        .with_label("unreachable")
                        .with_related(file, stmts[i - 1].span, "the flow has already left here")
                        .with_help("remove it, or move it before the statement that leaves"),
                );
                // Still check it, so its mistakes are reported too.
                let mut scratch = env.clone();
                for rest in &stmts[i..] {
                    self.stmt(file, &mut scratch, rest, unit);
                }
                return true;
            }
            left = self.stmt(file, env, s, unit);
        }
        left
    }

    fn only_in(&self, file: FileId, env: &Env, span: Span, what: &str, contexts: &[Context]) -> bool {
        if contexts.contains(&env.context) {
            return true;
        }
        let place = match contexts.first() {
            Some(Context::Script) => "an agent script",
            Some(Context::Retry) => "a retry strategy",
            _ => "a flow",
        };
        self.report(
            Diagnostic::new(Code::Syntax, file, span, format!("`{what}` belongs in {place}"))
                .with_label(format!("not allowed in {}", context_name(env.context))),
        );
        false
    }

    /// Reports a `channel` error when some channel that can reach here cannot do `what`.
    fn channels_can(&self, file: FileId, env: &Env, span: Span, what: &str, allowed: ChannelSet) {
        if !matches!(env.context, Context::Flow | Context::Waiting) {
            return;
        }
        let bad = env.channels.minus(allowed);
        if bad.is_empty() {
            return;
        }
        // Point at the statement's keyword(s), not its whole body.
        let span = Span { start: span.start, end: (span.start + what.len() as u32).min(span.end) };
        let mut d = Diagnostic::new(
            Code::Channel,
            file,
            span,
            format!("`{what}` cannot be done on {}, which can reach this point", bad),
        )
        .with_label(format!("not possible on {bad}"));
        let ok: Vec<&str> = env.channels.intersect(allowed).iter().map(Channel::as_str).collect();
        d = if let Some(first) = ok.first() {
            d.with_help(format!("put it inside `if contact.channel == {first} {{ … }}`"))
        } else {
            d.with_help(format!("`{what}` works on {}", allowed))
        };
        self.report(d);
    }

    /// Checks one statement; true when it always leaves the flow, step or handler.
    pub fn stmt(&self, file: FileId, env: &mut Env, s: &Stmt, unit: &mut Unit) -> bool {
        // How long the statement's texts surely are (reporting any built past the limit),
        // read before the statement changes what its names hold.
        let text_lens: Vec<u64> =
            super::decls::stmt_exprs(s).into_iter().map(|e| self.text_len(file, env, e)).collect();
        match &s.kind {
            StmtKind::Let { name, value } => {
                let t = self.expr(file, env, value, None);
                if t == Type::None {
                    self.report(
                        Diagnostic::new(Code::TypeMismatch, file, value.span, "`none` alone has no type")
                            .with_help("bind a value, or leave the name out until there is one"),
                    );
                }
                env.bind(&name.name, t);
                env.set_text_len(&name.name, text_lens[0]);
                if let Some(p) = path_of(value) {
                    if env.is_narrowed(&p) {
                        env.narrow(&name.name);
                    }
                }
                false
            }
            StmtKind::Lookup { name, source, key, else_block } => {
                let record = self.lookup(file, env, source, key);
                env.bind(&name.name, record.clone().optional());
                if let Some(b) = else_block {
                    let mut else_env = env.clone();
                    if self.block(file, &mut else_env, b, unit) {
                        env.narrow(&name.name);
                    } else {
                        env.meet_text_lens(&else_env);
                    }
                }
                false
            }
            StmtKind::Assign { target, value } => {
                self.assign(file, env, target, value);
                if let ExprKind::Name(n) = &target.kind {
                    env.set_text_len(&n.name, text_lens[1]);
                }
                false
            }
            StmtKind::Say(text) => {
                self.expect_type(file, env, text, &Type::Text);
                false
            }
            StmtKind::Ask(ask) => self.ask(file, env, ask, s.span, unit),
            StmtKind::Menu(menu) => self.menu(file, env, menu, s.span, unit),
            StmtKind::If { branches, else_block } => self.if_stmt(file, env, branches, else_block.as_ref(), unit),
            StmtKind::Match { scrutinee, arms } => self.match_stmt(file, env, scrutinee, arms, unit),
            StmtKind::Waypoint(name) => {
                if let Some(first) = unit.waypoints.get(&name.name) {
                    self.report(
                        Diagnostic::duplicate(
                            file,
                            name.span,
                            format!("waypoint `{}` appears twice", name.name),
                            (file, *first),
                        )
                        .with_help("each waypoint names one point; give this one its own name"),
                    );
                } else {
                    unit.waypoints.insert(name.name.clone(), name.span);
                }
                self.waypoints.borrow_mut().insert(name.name.clone());
                false
            }
            StmtKind::Queue(q) => {
                self.only_in(file, env, s.span, "queue", &[Context::Flow, Context::Script, Context::Survey]);
                self.expect(Kind::Queue, file, &q.queue);
                if let Some((e, d)) = &q.prefer {
                    let t = self.expr(file, env, e, Some(&Type::Agent));
                    if !t.fits(&Type::Agent.optional()) {
                        self.mismatch(file, e.span, &Type::Agent, &t);
                    }
                    self.positive(file, d);
                }
                for skill in &q.require {
                    self.expect(Kind::Skill, file, skill);
                }
                true
            }
            StmtKind::Transfer(to) => {
                self.expect_type(file, env, to, &Type::Phone);
                self.channels_can(file, env, s.span, "transfer", ChannelSet::only(Channel::Voice));
                true
            }
            StmtKind::OfferCallback { .. } => {
                self.channels_can(file, env, s.span, "offer callback", ChannelSet::only(Channel::Voice));
                false
            }
            StmtKind::CollectPayment(amount) => {
                self.expect_type(file, env, amount, &Type::Money);
                let allowed = ChannelSet::only(Channel::Voice).union(ChannelSet::only(Channel::Chat));
                self.channels_can(file, env, s.span, "collect payment", allowed);
                false
            }
            StmtKind::Send { medium, to, text } => {
                match medium.name.as_str() {
                    "sms" => {
                        self.expect_type(file, env, to, &Type::Phone);
                    }
                    "email" => {
                        self.expect_type(file, env, to, &Type::Email);
                    }
                    _ => {
                        self.report(
                            Diagnostic::new(
                                Code::UnknownName,
                                file,
                                medium.span,
                                format!("messages can be sent by sms or email, not `{}`", medium.name),
                            )
                            .suggest(&medium.name, ["sms", "email"]),
                        );
                        self.expr(file, env, to, None);
                    }
                }
                self.expect_type(file, env, text, &Type::Text);
                false
            }
            StmtKind::StartRetry { retry, arg } => {
                self.start_retry(file, env, retry, arg);
                false
            }
            StmtKind::Survey(name) => {
                self.expect(Kind::Survey, file, name);
                false
            }
            StmtKind::End => true,
            StmtKind::Note(text) => {
                self.only_in(file, env, s.span, "note", &[Context::Script]);
                self.expect_type(file, env, text, &Type::Text);
                false
            }
            StmtKind::Choose { prompt, options } => {
                self.only_in(file, env, s.span, "choose", &[Context::Script]);
                self.expect_type(file, env, prompt, &Type::Text);
                for (i, o) in options.iter().enumerate() {
                    if let Some(first) = options[..i].iter().find(|f| f.label.value == o.label.value) {
                        self.report(Diagnostic::duplicate(
                            file,
                            o.label.span,
                            format!("option \"{}\" appears twice", o.label.value),
                            (file, first.label.span),
                        ));
                    }
                    self.step_ref(file, &o.step, unit);
                }
                if options.is_empty() {
                    self.report(Diagnostic::new(Code::Syntax, file, s.span, "`choose` needs at least one option"));
                }
                true
            }
            StmtKind::Goto(step) => {
                self.only_in(file, env, s.span, "goto", &[Context::Script]);
                self.step_ref(file, step, unit);
                true
            }
            StmtKind::Outcome(name) => {
                self.only_in(file, env, s.span, "outcome", &[Context::Script]);
                self.outcomes.borrow_mut().insert(name.name.clone());
                true
            }
            StmtKind::Call { to, queue, script } => {
                self.only_in(file, env, s.span, "call", &[Context::Retry]);
                self.expect_type(file, env, to, &Type::Phone);
                self.expect(Kind::Queue, file, queue);
                if let Some(script) = script {
                    self.expect(Kind::Script, file, script);
                }
                false
            }
            StmtKind::Again { delay, at, max } => {
                self.only_in(file, env, s.span, "again", &[Context::Retry]);
                self.at_least(file, delay, &AGAIN);
                if let Some(t) = at {
                    self.check_time(file, t.span, t.hour, t.minute);
                }
                if max.value < 1.0 || max.value.fract() != 0.0 {
                    self.report(
                        Diagnostic::new(
                            Code::InvalidValue,
                            file,
                            max.span,
                            "`max` must be a whole number of attempts, at least 1",
                        )
                        .with_label("not a number of attempts"),
                    );
                }
                true
            }
            StmtKind::Stop => {
                self.only_in(file, env, s.span, "stop", &[Context::Retry]);
                true
            }
        }
    }

    fn step_ref(&self, file: FileId, step: &Ident, unit: &Unit) {
        if !unit.steps.contains(&step.name) {
            let mut d =
                Diagnostic::new(Code::UnknownName, file, step.span, format!("there is no step `{}`", step.name))
                    .with_label("unknown step");
            if let Some(help) = did_you_mean(&step.name, unit.steps.iter().map(String::as_str)) {
                d = d.with_help(help);
            }
            self.report(d);
        }
    }

    pub fn positive(&self, file: FileId, d: &DurationLit) {
        if d.millis <= 0 {
            self.report(
                Diagnostic::new(Code::InvalidValue, file, d.span, "this duration must be longer than zero")
                    .with_label("zero"),
            );
        }
    }

    /// A duration that must be longer than zero, and at least `minimum.millis`: the few
    /// places where a shorter one would make the run time spin or harass a customer.
    pub fn at_least(&self, file: FileId, d: &DurationLit, minimum: &Minimum) {
        self.positive(file, d);
        if d.millis > 0 && d.millis < minimum.millis {
            self.report(
                Diagnostic::new(Code::InvalidValue, file, d.span, minimum.message)
                    .with_label(minimum.label)
                    .with_help(minimum.help),
            );
        }
    }

    /// The record type a look-up gives, after checking the source and the key.
    pub fn lookup(&self, file: FileId, env: &Env, source: &Ident, key: &Expr) -> Type {
        let key_t = self.expr(file, env, key, None);
        if !self.expect(Kind::Source, file, source) {
            return Type::Error;
        }
        let def = &self.syms.sources[source.name.as_str()];
        let record = def.node.record.name.as_str();
        if !self.syms.records.contains_key(record) {
            return Type::Error;
        }
        let fields = self.syms.record_fields(record).unwrap_or_default();
        let keys: Vec<(&str, Type)> = def
            .node
            .clauses
            .iter()
            .filter_map(|c| match &c.kind {
                SourceClauseKind::Key(k) => Some(k),
                _ => None,
            })
            .flatten()
            .filter_map(|k| fields.iter().find(|(f, _)| *f == k.name).map(|(f, t)| (*f, t.unwrap_optional().clone())))
            .collect();
        if key_t.is_optional() && !key_t.is_error() {
            self.mismatch(file, key.span, key_t.unwrap_optional(), &key_t);
            return Type::Record(Arc::from(record));
        }
        let compatible = match key_t.unwrap_optional() {
            Type::Error => true,
            Type::Text => !keys.is_empty(),
            t => keys.iter().any(|(_, k)| k == t),
        };
        if !compatible {
            let names: Vec<String> = keys.iter().map(|(f, t)| format!("`{f}` ({t})")).collect();
            self.report(
                Diagnostic::new(
                    Code::TypeMismatch,
                    file,
                    key.span,
                    format!("source `{}` cannot be looked up by {}", source.name, key_t),
                )
                .with_label(format!("this is {}", super::expr::article(&key_t)))
                .with_help(if names.is_empty() {
                    format!("give `{}` a `key` clause", source.name)
                } else {
                    format!("its keys are {}", names.join(", "))
                }),
            );
        }
        Type::Record(Arc::from(record))
    }

    fn assign(&self, file: FileId, env: &mut Env, target: &Expr, value: &Expr) {
        match &target.kind {
            ExprKind::Name(n) => match env.lookup(&n.name).cloned() {
                Some(t) => {
                    self.expect_type(file, env, value, &t);
                    env.forget(&n.name);
                }
                None => {
                    self.report(
                        Diagnostic::new(Code::UnknownName, file, n.span, format!("there is no `{}` to change", n.name))
                            .with_help(format!("bind it first with `let {} = …`", n.name)),
                    );
                    self.expr(file, env, value, None);
                }
            },
            ExprKind::Field { base, name, .. } => {
                let contact =
                    matches!(&base.kind, ExprKind::Name(b) if b.name == "contact" && env.lookup("contact").is_none());
                let attribute = matches!(&base.kind, ExprKind::Field { base: inner, name: a, .. }
                    if a.name == "attributes" && matches!(&inner.kind, ExprKind::Name(c) if c.name == "contact"));
                if (contact || attribute) && env.context == Context::Retry {
                    if let Some(n) = root_name(base) {
                        self.no_contact_in_retry(file, env, n);
                    }
                    self.expr(file, env, value, None);
                } else if (contact && name.name == "language") || attribute {
                    self.expect_type(file, env, value, &Type::Text);
                } else {
                    self.report(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            file,
                            target.span,
                            "only `contact.language` and `contact.attributes.NAME` can be changed",
                        )
                        .with_label("cannot be changed")
                        .with_help("bind a new name with `let` instead"),
                    );
                    self.expr(file, env, value, None);
                }
            }
            _ => {
                self.report(Diagnostic::new(
                    Code::Syntax,
                    file,
                    target.span,
                    "only a name or a contact field can be changed",
                ));
            }
        }
    }

    fn ask(&self, file: FileId, env: &mut Env, ask: &Ask, span: Span, unit: &mut Unit) -> bool {
        self.only_in(file, env, span, "ask", &[Context::Flow, Context::Script, Context::Survey]);
        self.channels_can(file, env, span, "ask", voice_chat_sms());
        self.expect_type(file, env, &ask.prompt, &Type::Text);
        let ty = self.ask_type(file, &ask.ty);
        if let Some(t) = &ask.timeout {
            self.at_least(file, t, &ANSWER);
        }
        if let Some(r) = &ask.retries {
            self.retries(file, r);
        }
        let mut answered = ty.clone();
        if let Some(b) = &ask.else_block {
            let mut else_env = env.clone();
            if !self.block(file, &mut else_env, b, unit) {
                // The flow goes on without an answer: the name may be none.
                answered = ty.optional();
                env.meet_text_lens(&else_env);
            }
        }
        env.bind(&ask.name.name, answered);
        false
    }

    fn retries(&self, file: FileId, r: &NumberLit) {
        if r.value < 0.0 || r.value.fract() != 0.0 || r.value > 10.0 {
            self.report(
                Diagnostic::new(Code::InvalidValue, file, r.span, "retries must be a whole number from 0 to 10")
                    .with_label("out of range"),
            );
        }
    }

    /// The type an `ask` gives its name.
    pub fn ask_type(&self, file: FileId, ty: &AskType) -> Type {
        match &ty.kind {
            AskTypeKind::Digits(n) => {
                if !(1.0..=32.0).contains(&n.value) || n.value.fract() != 0.0 {
                    self.report(
                        Diagnostic::new(Code::InvalidValue, file, n.span, "`digits(n)` takes 1 to 32 digits")
                            .with_label("out of range"),
                    );
                }
                Type::Text
            }
            AskTypeKind::YesNo => Type::Bool,
            AskTypeKind::Range(lo, hi) => {
                if lo.value > hi.value {
                    self.report(
                        Diagnostic::new(
                            Code::InvalidValue,
                            file,
                            ty.span,
                            format!(
                                "the range {}..{} is empty",
                                crate::value::format_number(lo.value),
                                crate::value::format_number(hi.value)
                            ),
                        )
                        .with_label("empty range")
                        .with_help("write the smaller number first"),
                    );
                }
                Type::Number
            }
            AskTypeKind::Named(t) => {
                let resolved = self.resolve_type(file, t);
                match resolved {
                    Type::Number
                    | Type::Text
                    | Type::Date
                    | Type::Money
                    | Type::Phone
                    | Type::Email
                    | Type::Bool
                    | Type::Time
                    | Type::Error => resolved,
                    Type::Enum(_) => resolved,
                    other => {
                        self.report(
                            Diagnostic::new(Code::TypeMismatch, file, t.span, format!("a customer cannot answer with {}", super::expr::article(&other)))
                                .with_help("ask for `yes/no`, `1..5`, `digits(n)`, `number`, `text`, `date`, `money`, `phone` or `email`"),
                        );
                        Type::Error
                    }
                }
            }
        }
    }

    fn menu(&self, file: FileId, env: &mut Env, menu: &Menu, span: Span, unit: &mut Unit) -> bool {
        self.only_in(file, env, span, "menu", &[Context::Flow, Context::Survey, Context::Script]);
        self.channels_can(file, env, span, "menu", voice_chat_sms());
        self.expect_type(file, env, &menu.prompt, &Type::Text);
        let mut all_leave = !menu.options.is_empty();
        let mut ends = Vec::new();
        for (i, o) in menu.options.iter().enumerate() {
            if let Some(first) = menu.options[..i].iter().find(|f| f.key.value == o.key.value) {
                self.report(
                    Diagnostic::duplicate(
                        file,
                        o.key.span,
                        format!("key {} is used twice in this menu", o.key.value),
                        (file, first.key.span),
                    )
                    .with_help("give each option its own key"),
                );
            }
            if let Some(label) = &o.label {
                if let Some(first) = menu.options[..i]
                    .iter()
                    .filter_map(|f| f.label.as_ref())
                    .find(|l| l.value.eq_ignore_ascii_case(&label.value))
                {
                    self.report(Diagnostic::duplicate(
                        file,
                        label.span,
                        format!("label \"{}\" is used twice in this menu", label.value),
                        (file, first.span),
                    ));
                }
            }
            let mut branch = env.clone();
            if !self.block(file, &mut branch, &o.body, unit) {
                all_leave = false;
                ends.push(branch);
            }
        }
        if menu.options.is_empty() {
            self.report(Diagnostic::new(Code::Syntax, file, span, "a menu needs at least one option"));
        }
        match &menu.timeout {
            Some(t) => {
                self.at_least(file, &t.timeout, &ANSWER);
                if let Some(r) = &t.retries {
                    self.retries(file, r);
                }
                let mut branch = env.clone();
                if !self.block(file, &mut branch, &t.body, unit) {
                    all_leave = false;
                    ends.push(branch);
                }
            }
            None => {
                // Without a `timeout` block a silent customer takes the error route.
                if env.context == Context::Flow && unit.can_fail.is_none() {
                    unit.can_fail = Some(span);
                }
            }
        }
        if !ends.is_empty() {
            env.join_paths(&ends);
        }
        all_leave && menu.timeout.is_some()
    }

    fn if_stmt(
        &self,
        file: FileId,
        env: &mut Env,
        branches: &[(Expr, Block)],
        else_block: Option<&Block>,
        unit: &mut Unit,
    ) -> bool {
        let mut rest = env.clone();
        let mut ends: Vec<Env> = Vec::new();
        for (cond, block) in branches {
            self.expect_type(file, &rest, cond, &Type::Bool);
            let facts = self.facts(&rest, cond);
            let mut branch = rest.clone();
            branch.narrow_all(&facts.when_true);
            if let Some(ch) = facts.channels_true {
                branch.channels = branch.channels.intersect(ch);
            }
            if !self.block(file, &mut branch, block, unit) {
                ends.push(branch);
            }
            rest.narrow_all(&facts.when_false);
            if let Some(ch) = facts.channels_false {
                rest.channels = rest.channels.intersect(ch);
            }
        }
        match else_block {
            Some(b) => {
                if !self.block(file, &mut rest, b, unit) {
                    ends.push(rest);
                }
            }
            None => ends.push(rest),
        }
        if ends.is_empty() {
            return true;
        }
        env.join_paths(&ends);
        false
    }

    fn match_stmt(&self, file: FileId, env: &mut Env, scrutinee: &Expr, arms: &[MatchArm], unit: &mut Unit) -> bool {
        let t = self.expr(file, env, scrutinee, None);
        if t.is_optional() && !t.is_error() {
            self.mismatch(file, scrutinee.span, t.unwrap_optional(), &t);
        }
        let on_channel = matches!(&scrutinee.kind, ExprKind::Field { base, name, .. }
            if name.name == "channel" && matches!(&base.kind, ExprKind::Name(c) if c.name == "contact"));
        let mut remaining = env.channels;
        let mut covered_variants: Vec<String> = Vec::new();
        let mut has_wildcard = false;
        let mut ends = Vec::new();
        for arm in arms {
            let mut branch = env.clone();
            if arm.patterns.is_empty() {
                has_wildcard = true;
                branch.channels = remaining;
            } else {
                let mut set = ChannelSet::EMPTY;
                for p in &arm.patterns {
                    let pt = self.expr(file, env, p, Some(t.unwrap_optional()));
                    if !pt.fits(t.unwrap_optional()) && !t.is_error() {
                        self.mismatch(file, p.span, t.unwrap_optional(), &pt);
                    }
                    if let ExprKind::Name(n) = &p.kind {
                        if let Some(ch) = Channel::parse(&n.name) {
                            set.insert(ch);
                        }
                        if covered_variants.contains(&n.name) {
                            self.report(
                                Diagnostic::new(
                                    Code::Unreachable,
                                    file,
                                    p.span,
                                    format!("`{}` is already matched above", n.name),
                                )
                                .with_label("never taken"),
                            );
                        }
                        covered_variants.push(n.name.clone());
                    }
                }
                if on_channel {
                    branch.channels = env.channels.intersect(set);
                    remaining = remaining.minus(set);
                }
            }
            if !self.block(file, &mut branch, &arm.body, unit) {
                ends.push(branch);
            }
        }
        let exhaustive = has_wildcard
            || (on_channel && remaining.is_empty())
            || match t.unwrap_optional() {
                Type::Enum(e) => self
                    .syms
                    .enums
                    .get(&**e)
                    .is_some_and(|d| d.node.variants.iter().all(|v| covered_variants.contains(&v.name))),
                Type::Bool => false,
                _ => false,
            };
        if !exhaustive {
            let mut fall = env.clone();
            if on_channel {
                fall.channels = remaining;
            }
            ends.push(fall);
        }
        if ends.is_empty() {
            return true;
        }
        env.join_paths(&ends);
        false
    }

    pub fn start_retry(&self, file: FileId, env: &Env, retry: &Ident, arg: &Expr) {
        if !self.expect(Kind::Retry, file, retry) {
            self.expr_for_unknown(file, env, arg);
            return;
        }
        let def = &self.syms.retries[retry.name.as_str()];
        let mut ignored = Vec::new();
        let param_t = self.syms.resolve_type(def.file, &def.node.param.ty, &mut ignored);
        self.expect_type(file, env, arg, &param_t);
    }

    /// Checks a queue's `while waiting` line.
    pub fn waiting_line(&self, file: FileId, line: &WaitingClause) {
        let mut env = Env::new(Context::Waiting, ChannelSet::ALL);
        let mut unit = Unit::default();
        if line.repeat {
            self.at_least(file, &line.delay, &EVERY);
        } else {
            self.positive(file, &line.delay);
        }
        match &line.action.kind {
            StmtKind::Say(text) => {
                self.expect_type(file, &env, text, &Type::Text);
                self.text_len(file, &env, text);
            }
            StmtKind::OfferCallback { .. } => {}
            _ => {
                self.report(
                    Diagnostic::new(
                        Code::Syntax,
                        file,
                        line.action.span,
                        "while waiting, a queue can only `say` or `offer callback`",
                    )
                    .with_label("not possible while waiting"),
                );
                self.stmt(file, &mut env, &line.action, &mut unit);
            }
        }
    }
}

pub fn context_name(c: Context) -> &'static str {
    match c {
        Context::Flow => "a flow",
        Context::Script => "an agent script",
        Context::Survey => "a survey",
        Context::Retry => "a retry strategy",
        Context::Waiting => "a queue's `while waiting`",
        Context::Fn => "a function",
        Context::Reply => "a reply",
    }
}

/// The name a field path starts from (`contact` in `contact.attributes.x`).
fn root_name(e: &Expr) -> Option<&Ident> {
    match &e.kind {
        ExprKind::Name(n) => Some(n),
        ExprKind::Field { base, .. } => root_name(base),
        _ => None,
    }
}
