//! Expressions: every one gets exactly one type, or `Type::Error` after it was reported.

use super::env::{path_of, with_prefixes, Context, Env, Facts};
use super::symbols::Kind;
use super::Checker;
use crate::diagnostic::{did_you_mean, Code, Diagnostic, FileId};
use crate::syntax::ast::*;
use crate::types::{Channel, ChannelSet, Type};
use crate::value::Currency;
use std::sync::Arc;

/// Built-in functions: name, parameter types (`None` = checked by hand), result.
pub const BUILTINS: &[&str] = &[
    "open",
    "lower",
    "upper",
    "trim",
    "len",
    "left",
    "right",
    "starts_with",
    "ends_with",
    "replace",
    "round",
    "floor",
    "ceil",
    "abs",
    "min",
    "max",
    "local_time",
    "local_date",
    "weekday",
    "days_between",
    "add_days",
    "minutes",
];

/// The fields of the built-in `contact`.
pub const CONTACT_FIELDS: &[&str] =
    &["id", "channel", "from", "to", "text", "subject", "language", "country", "started_at", "attributes"];

/// The fields of the built-in `agent` in scripts.
pub const AGENT_FIELDS: &[&str] = &["id", "name", "skills", "languages"];

/// Type of `contact.from` for the channels that can reach this point: a phone when only
/// calls and texts can, an email when only email can, text otherwise.
pub fn address_type(channels: ChannelSet) -> Type {
    let phone_only = ChannelSet::only(Channel::Voice).union(ChannelSet::only(Channel::Sms));
    if !channels.is_empty() && channels.minus(phone_only).is_empty() {
        Type::Phone
    } else if channels == ChannelSet::only(Channel::Email) {
        Type::Email
    } else {
        Type::Text
    }
}

pub fn looks_like_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.contains(char::is_whitespace)
        && !domain.contains('@')
}

impl Checker<'_, '_> {
    pub fn mismatch(&self, file: FileId, span: Span, expected: &Type, found: &Type) {
        if expected.is_error() || found.is_error() {
            return;
        }
        let mut d = Diagnostic::new(Code::TypeMismatch, file, span, format!("expected {expected}, found {found}"))
            .with_label(format!("this is {}", article(found)));
        if found.is_optional() && found.unwrap_optional().fits(expected) {
            d = Diagnostic::new(
                Code::UncheckedOptional,
                file,
                span,
                format!("this may be none, but {expected} is needed here"),
            )
            .with_label(format!("this is {found}"))
            .with_help("check it first with `if … != none { … }`, or give a fallback with `??`");
        } else if *expected == Type::Email && *found == Type::Text {
            d = d.with_help("write an email address like \"name@example.com\"");
        } else if *expected == Type::Phone {
            d = d.with_help("phone numbers are written like +441632960000");
        }
        self.report(d);
    }

    /// Checks `e` against an expected type, reporting a mismatch; returns the type found.
    pub fn expect_type(&self, file: FileId, env: &Env, e: &Expr, expected: &Type) -> Type {
        let t = self.expr(file, env, e, Some(expected));
        if !t.fits(expected) {
            self.mismatch(file, e.span, expected, &t);
        }
        t
    }

    /// The type of `e` in `env`; `hint` is the type wanted there, used to type literals
    /// that take their type from where they stand (record literals, enum variants, emails).
    pub fn expr(&self, file: FileId, env: &Env, e: &Expr, hint: Option<&Type>) -> Type {
        let t = self.expr_inner(file, env, e, hint);
        // A path known not to be none here has the non-optional type.
        if t.is_optional() && !matches!(e.kind, ExprKind::None) {
            if let Some(path) = path_of(e) {
                if env.is_narrowed(&path) {
                    return t.unwrap_optional().clone();
                }
            }
        }
        t
    }

    fn expr_inner(&self, file: FileId, env: &Env, e: &Expr, hint: Option<&Type>) -> Type {
        let hint_inner = hint.map(Type::unwrap_optional);
        match &e.kind {
            ExprKind::Number(_) | ExprKind::Percent(_) => {
                if let ExprKind::Percent(p) = e.kind {
                    if !(0.0..=100.0).contains(&p) {
                        self.report(
                            Diagnostic::new(Code::InvalidValue, file, e.span, format!("{}% is not a percentage", p))
                                .with_help("percentages go from 0% to 100%"),
                        );
                    }
                }
                Type::Number
            }
            ExprKind::Bool(_) => Type::Bool,
            ExprKind::Duration(_) => Type::Duration,
            ExprKind::Time { hour, minute } => {
                self.check_time(file, e.span, *hour, *minute);
                Type::Time
            }
            ExprKind::Date { year, month, day } => {
                self.check_date(file, e.span, *year, *month, *day);
                Type::Date
            }
            ExprKind::Money { symbol, .. } => {
                self.check_currency(file, e.span, *symbol);
                Type::Money
            }
            ExprKind::Phone(p) => {
                let digits = p.len() - 1;
                if !(7..=15).contains(&digits) || p.as_bytes().get(1) == Some(&b'0') {
                    self.report(
                        Diagnostic::new(Code::InvalidValue, file, e.span, format!("`{p}` is not a phone number"))
                            .with_label("not E.164")
                            .with_help("write phone numbers in E.164: `+`, the country code, then 6 to 14 digits"),
                    );
                }
                Type::Phone
            }
            ExprKind::Text(parts) => {
                for part in parts {
                    if let TextPart::Expr(inner) = part {
                        let t = self.expr(file, env, inner, None);
                        if t.is_optional() && !t.is_error() {
                            self.report(
                                Diagnostic::new(
                                    Code::UncheckedOptional,
                                    file,
                                    inner.span,
                                    "this may be none, and would read as \"none\"",
                                )
                                .with_label(format!("this is {t}"))
                                .with_help("give a fallback with `??`, e.g. `{customer?.name ?? \"there\"}`"),
                            );
                        } else if matches!(t, Type::List(_) | Type::Record(_)) {
                            self.report(
                                Diagnostic::new(
                                    Code::TypeMismatch,
                                    file,
                                    inner.span,
                                    format!("{t} cannot be put into a text"),
                                )
                                .with_help("interpolate one field, e.g. `{customer.name}`"),
                            );
                        }
                    }
                }
                if let ([TextPart::Lit(s)], Some(Type::Email)) = (parts.as_slice(), hint_inner) {
                    if looks_like_email(s) {
                        return Type::Email;
                    }
                }
                // An agent is named by text: `last_agent: "kim"`.
                if hint_inner == Some(&Type::Agent) && parts.iter().all(|p| matches!(p, TextPart::Lit(_))) {
                    return Type::Agent;
                }
                if parts.is_empty() && hint_inner == Some(&Type::Email) {
                    return Type::Text;
                }
                Type::Text
            }
            ExprKind::Regex(r) => {
                if let Err(err) = regex::Regex::new(r) {
                    let first = err.to_string().lines().last().unwrap_or("").trim().to_string();
                    self.report(
                        Diagnostic::new(Code::InvalidValue, file, e.span, "this pattern is not a valid regex")
                            .with_label(first),
                    );
                }
                Type::Regex
            }
            ExprKind::List(items) => {
                let elem_hint = match hint_inner {
                    Some(Type::List(inner)) => Some(&**inner),
                    _ => None,
                };
                let mut elem: Option<Type> = elem_hint.cloned();
                for item in items {
                    let t = self.expr(file, env, item, elem.as_ref());
                    match &elem {
                        None => elem = Some(t),
                        Some(want) if !t.fits(want) => self.mismatch(file, item.span, want, &t),
                        _ => {}
                    }
                }
                Type::List(Box::new(elem.unwrap_or(Type::Error)))
            }
            ExprKind::None => Type::None,
            // Refused by the parser, which said why: nothing more to say.
            ExprKind::Error => Type::Error,
            ExprKind::Name(n) => self.name(file, env, n, hint_inner),
            ExprKind::Field { base, name, optional } => self.field(file, env, base, name, *optional),
            ExprKind::Call { callee, args } => self.call(file, env, callee, args, e.span),
            ExprKind::Record(entries) => self.record_lit(file, env, entries, e.span, hint_inner),
            ExprKind::Paren(inner) => self.expr(file, env, inner, hint),
            ExprKind::Unary { op, expr } => match op {
                UnaryOp::Not => {
                    self.expect_type(file, env, expr, &Type::Bool);
                    Type::Bool
                }
                UnaryOp::Neg => {
                    let t = self.expr(file, env, expr, None);
                    match t {
                        Type::Number | Type::Money | Type::Duration | Type::Error => t,
                        other => {
                            self.mismatch(file, expr.span, &Type::Number, &other);
                            Type::Error
                        }
                    }
                }
            },
            ExprKind::Binary { op, lhs, rhs } => self.binary(file, env, *op, lhs, rhs, e.span),
        }
    }

    /// Checks a value given to something not found (already reported), so of no known
    /// type: a record literal's values one by one, as the record itself cannot be typed
    /// and saying so would only repeat the first error; anything else as usual.
    pub fn expr_for_unknown(&self, file: FileId, env: &Env, e: &Expr) -> Type {
        if let ExprKind::Record(entries) = &e.kind {
            for (_, value) in entries {
                self.expr(file, env, value, None);
            }
            return Type::Error;
        }
        self.expr(file, env, e, None)
    }

    pub fn check_time(&self, file: FileId, span: Span, hour: u32, minute: u32) {
        if hour > 24 || minute > 59 || (hour == 24 && minute > 0) {
            self.report(
                Diagnostic::new(Code::InvalidValue, file, span, format!("{hour:02}:{minute:02} is not a time of day"))
                    .with_help("times go from 00:00 to 23:59 (24:00 may close a range)"),
            );
        }
    }

    pub fn check_date(&self, file: FileId, span: Span, year: i32, month: u32, day: u32) -> bool {
        let ok = i16::try_from(year)
            .ok()
            .zip(i8::try_from(month).ok())
            .zip(i8::try_from(day).ok())
            .is_some_and(|((y, m), d)| jiff::civil::Date::new(y, m, d).is_ok());
        if !ok {
            self.report(
                Diagnostic::new(Code::InvalidValue, file, span, format!("{year:04}-{month:02}-{day:02} is not a date"))
                    .with_label("no such day"),
            );
        }
        ok
    }

    fn check_currency(&self, file: FileId, span: Span, symbol: char) {
        let Some(found) = Currency::from_symbol(symbol) else { return };
        if let Some((_, declared)) = self.syms.currency {
            match Currency::parse(&declared.name) {
                Some(c) if c == found => {}
                Some(c) => self.report(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        file,
                        span,
                        format!("this amount is in {}, but the project's currency is {}", found.as_str(), c.as_str()),
                    )
                    .with_label("another currency")
                    .with_help(match c.symbol() {
                        Some(s) => format!("write amounts with `{s}`"),
                        None => format!("amounts in {} have no symbol here", c.as_str()),
                    }),
                ),
                None => {}
            }
        }
    }

    fn name(&self, file: FileId, env: &Env, n: &Ident, hint: Option<&Type>) -> Type {
        if let Some(t) = env.lookup(&n.name) {
            return t.clone();
        }
        match n.name.as_str() {
            "now" => return Type::DateTime,
            "contact" if env.context == Context::Retry => {
                self.no_contact_in_retry(file, env, n);
                return Type::Error;
            }
            "contact" => return Type::Record(Arc::from("contact")),
            "agent" if matches!(env.context, Context::Script | Context::Reply) => {
                return Type::Record(Arc::from("agent"))
            }
            "queue" if env.context == Context::Waiting => return Type::Record(Arc::from("queue")),
            _ => {}
        }
        // An enum variant, typed by where it stands when it can be.
        if let Some(Type::Enum(en)) = hint {
            if let Some(def) = self.syms.enums.get(&**en) {
                if def.node.variants.iter().any(|v| v.name == n.name) {
                    return Type::Enum(en.clone());
                }
            }
        }
        if let Some(Type::Channel) = hint {
            if Channel::parse(&n.name).is_some() {
                return Type::Channel;
            }
        }
        let owners: Vec<&str> = {
            let mut o: Vec<&str> = self
                .syms
                .enums
                .iter()
                .filter(|(_, d)| d.node.variants.iter().any(|v| v.name == n.name))
                .map(|(k, _)| *k)
                .collect();
            o.sort_unstable();
            o
        };
        if let [one] = owners.as_slice() {
            return Type::Enum(Arc::from(*one));
        }
        if Channel::parse(&n.name).is_some() {
            return Type::Channel;
        }
        if self.syms.hours.contains_key(n.name.as_str()) {
            self.mark_used(Kind::Hours, &n.name);
            return Type::Hours;
        }
        if owners.len() > 1 {
            self.report(
                Diagnostic::new(
                    Code::TypeMismatch,
                    file,
                    n.span,
                    format!("`{}` is a value of several enums ({})", n.name, owners.join(", ")),
                )
                .with_help("compare it with a field of the enum you mean"),
            );
            return Type::Error;
        }
        let mut candidates: Vec<&str> = env.names().collect();
        candidates.extend(["now", "contact"]);
        if matches!(env.context, Context::Script | Context::Reply) {
            candidates.push("agent");
        }
        for d in self.syms.enums.values() {
            candidates.extend(d.node.variants.iter().map(|v| v.name.as_str()));
        }
        candidates.extend(self.syms.hours.keys().copied());
        let mut d = Diagnostic::new(Code::UnknownName, file, n.span, format!("there is no `{}` here", n.name))
            .with_label("unknown name");
        if let Some(help) = did_you_mean(&n.name, candidates) {
            d = d.with_help(help);
        } else if env.context == Context::Reply {
            // The record type to suggest: the one the project's sources hold, if one.
            let mut records: Vec<&str> = self.syms.sources.values().map(|s| s.node.record.name.as_str()).collect();
            records.sort_unstable();
            records.dedup();
            let record = match records.as_slice() {
                [one] => *one,
                _ => "RECORD",
            };
            d = d.with_help(format!(
                "a reply sees `contact`, `agent` and the record it is given: write `with {}: {record}` after its name",
                n.name
            ));
        } else {
            d = d.with_help("bind it first with `let`, or check the spelling");
        }
        self.report(d);
        Type::Error
    }

    /// A retry strategy runs for its subject (`for lead: Lead`), on a timeline of its own:
    /// no contact is there, not even in `on reply`, so `contact` is not a name in it.
    pub(super) fn no_contact_in_retry(&self, file: FileId, env: &Env, n: &Ident) {
        let help = match env.names().next() {
            Some(subject) => format!("a retry strategy runs for its subject: use `{subject}` (its `for` parameter)"),
            None => "a retry strategy runs for its subject: use its `for` parameter".to_string(),
        };
        self.report(
            Diagnostic::new(Code::UnknownName, file, n.span, "there is no `contact` in a retry strategy")
                .with_label("no contact here")
                .with_help(help),
        );
    }

    fn field(&self, file: FileId, env: &Env, base: &Expr, name: &Ident, optional: bool) -> Type {
        // `contact.attributes.NAME` is any text the flow sets or the channel brings.
        if let ExprKind::Field { base: inner, name: attrs, .. } = &base.kind {
            if attrs.name == "attributes" && is_builtin(env, inner, "contact") && env.context != Context::Retry {
                return Type::Text.optional();
            }
        }
        let base_t = self.expr(file, env, base, None);
        if base_t.is_error() {
            return Type::Error;
        }
        if base_t.is_optional() && !optional {
            let shown = path_of(base).unwrap_or_else(|| "this".to_string());
            self.report(
                Diagnostic::new(
                    Code::UncheckedOptional,
                    file,
                    name.span,
                    format!("`{shown}` may be none, so `.{}` cannot be used yet", name.name),
                )
                .with_label(format!("`{shown}` is {base_t}"))
                .with_help(format!(
                    "check it first with `if {shown} != none {{ … }}`, or use `{shown}?.{}`",
                    name.name
                )),
            );
        }
        let field_t = match base_t.unwrap_optional() {
            Type::Record(r) if &**r == "contact" => self.contact_field(file, env, name),
            Type::Record(r) if &**r == "agent" => match name.name.as_str() {
                "id" => Type::Agent,
                "name" => Type::Text,
                "skills" | "languages" => Type::List(Box::new(Type::Text)),
                _ => self.no_field(file, name, "agent", AGENT_FIELDS.to_vec()),
            },
            Type::Record(r) if &**r == "queue" => match name.name.as_str() {
                "position" => Type::Number,
                "ewt" => Type::Duration,
                _ => self.no_field(file, name, "queue", vec!["position", "ewt"]),
            },
            Type::Record(r) => match self.syms.record_fields(r) {
                Some(fields) => match fields.iter().find(|(f, _)| *f == name.name) {
                    Some((_, t)) => t.clone(),
                    None => self.no_field(file, name, r, fields.iter().map(|(f, _)| *f).collect()),
                },
                None => Type::Error,
            },
            other => {
                self.report(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        file,
                        name.span,
                        format!("{other} has no fields, so `.{}` cannot be used", name.name),
                    )
                    .with_label(format!("this is {}", article(other))),
                );
                Type::Error
            }
        };
        if base_t.is_optional() && optional {
            field_t.optional()
        } else {
            field_t
        }
    }

    fn contact_field(&self, file: FileId, env: &Env, name: &Ident) -> Type {
        match name.name.as_str() {
            "id" | "to" | "text" | "subject" | "language" | "country" => Type::Text,
            "from" => address_type(env.channels),
            "channel" => Type::Channel,
            "started_at" => Type::DateTime,
            "attributes" => {
                self.report(
                    Diagnostic::new(Code::TypeMismatch, file, name.span, "`contact.attributes` is read one at a time")
                        .with_help("write `contact.attributes.NAME`"),
                );
                Type::Error
            }
            _ => self.no_field(file, name, "contact", CONTACT_FIELDS.to_vec()),
        }
    }

    fn no_field(&self, file: FileId, name: &Ident, owner: &str, fields: Vec<&str>) -> Type {
        let mut d =
            Diagnostic::new(Code::UnknownName, file, name.span, format!("`{owner}` has no field `{}`", name.name))
                .with_label("unknown field");
        d = d.suggest_or(&name.name, fields.iter().copied(), format!("its fields are {}", fields.join(", ")));
        self.report(d);
        Type::Error
    }

    fn record_lit(&self, file: FileId, env: &Env, entries: &[(Ident, Expr)], span: Span, hint: Option<&Type>) -> Type {
        match hint {
            // A text given per language: `{ en: "Hello", es: "Hola" }`.
            Some(Type::Text) => {
                if entries.is_empty() {
                    self.report(Diagnostic::new(
                        Code::TypeMismatch,
                        file,
                        span,
                        "a text per language needs at least one language",
                    ));
                }
                for (lang, value) in entries {
                    if !is_language_code(&lang.name) {
                        self.report(
                            Diagnostic::new(
                                Code::InvalidValue,
                                file,
                                lang.span,
                                format!("`{}` is not a language code", lang.name),
                            )
                            .with_help("use codes like `en`, `es`, `fr` or `pt_br`"),
                        );
                    }
                    self.expect_type(file, env, value, &Type::Text);
                }
                self.duplicate_keys(file, entries);
                Type::Text
            }
            Some(Type::Record(r)) if self.syms.records.contains_key(&**r) => {
                let fields = self.syms.record_fields(r).unwrap_or_default();
                for (key, value) in entries {
                    match fields.iter().find(|(f, _)| *f == key.name) {
                        Some((_, t)) => {
                            self.expect_type(file, env, value, t);
                        }
                        None => {
                            self.no_field(file, key, r, fields.iter().map(|(f, _)| *f).collect());
                        }
                    }
                }
                self.duplicate_keys(file, entries);
                let missing: Vec<&str> = fields
                    .iter()
                    .filter(|(f, t)| !t.is_optional() && !entries.iter().any(|(k, _)| k.name == *f))
                    .map(|(f, _)| *f)
                    .collect();
                if !missing.is_empty() {
                    self.report(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            file,
                            span,
                            format!("this {r} is missing {}", quote_list(&missing)),
                        )
                        .with_label(format!("incomplete {r}"))
                        .with_help(format!("only optional fields may be left out; add {}", quote_list(&missing))),
                    );
                }
                Type::Record(r.clone())
            }
            _ => {
                self.report(
                    Diagnostic::new(Code::TypeMismatch, file, span, "the type of this record cannot be known here")
                        .with_help(
                            "record values stand where a record type is expected, e.g. `start retry R for { … }`",
                        ),
                );
                for (_, value) in entries {
                    self.expr(file, env, value, None);
                }
                Type::Error
            }
        }
    }

    fn duplicate_keys(&self, file: FileId, entries: &[(Ident, Expr)]) {
        for (i, (k, _)) in entries.iter().enumerate() {
            if let Some((first, _)) = entries[..i].iter().find(|(f, _)| f.name == k.name) {
                self.report(Diagnostic::duplicate(
                    file,
                    k.span,
                    format!("`{}` is given twice", k.name),
                    (file, first.span),
                ));
            }
        }
    }

    fn call(&self, file: FileId, env: &Env, callee: &Ident, args: &[Expr], span: Span) -> Type {
        if let Some(c) = self.syms.callables.get(callee.name.as_str()) {
            let params = c.params();
            if params.len() != args.len() {
                self.report(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        file,
                        span,
                        format!("`{}` takes {} value(s), but {} were given", callee.name, params.len(), args.len()),
                    )
                    .with_related(c.file(), callee_span(c), "declared here"),
                );
            }
            for (p, a) in params.iter().zip(args) {
                let mut ignored = Vec::new();
                let t = self.syms.resolve_type(c.file(), &p.ty, &mut ignored);
                self.expect_type(file, env, a, &t);
            }
            let mut ignored = Vec::new();
            return self.syms.resolve_type(c.file(), c.ret(), &mut ignored);
        }
        let builtin = BUILTINS.contains(&callee.name.as_str());
        let arg_types: Vec<Type> = args
            .iter()
            .map(|a| {
                if callee.name == "open" {
                    self.expr(file, env, a, Some(&Type::Hours))
                } else if builtin {
                    self.expr(file, env, a, None)
                } else {
                    self.expr_for_unknown(file, env, a)
                }
            })
            .collect();
        let sig: Option<(Vec<Type>, Type)> = match callee.name.as_str() {
            "open" => Some((vec![Type::Hours], Type::Bool)),
            "lower" | "upper" | "trim" => Some((vec![Type::Text], Type::Text)),
            "left" | "right" => Some((vec![Type::Text, Type::Number], Type::Text)),
            "starts_with" | "ends_with" => Some((vec![Type::Text, Type::Text], Type::Bool)),
            "replace" => Some((vec![Type::Text, Type::Text, Type::Text], Type::Text)),
            "round" | "floor" | "ceil" | "abs" => Some((vec![Type::Number], Type::Number)),
            "min" | "max" => Some((vec![Type::Number, Type::Number], Type::Number)),
            "local_time" => Some((vec![Type::DateTime, Type::Text], Type::Time)),
            "local_date" => Some((vec![Type::DateTime, Type::Text], Type::Date)),
            "weekday" => Some((vec![Type::Date], Type::Text)),
            "days_between" => Some((vec![Type::Date, Type::Date], Type::Number)),
            "add_days" => Some((vec![Type::Date, Type::Number], Type::Date)),
            "minutes" => Some((vec![Type::Duration], Type::Number)),
            "len" => {
                if args.len() != 1 {
                    self.arity(file, span, callee, 1, args.len());
                } else if !matches!(arg_types[0].unwrap_optional(), Type::Text | Type::List(_) | Type::Error)
                    || arg_types[0].is_optional()
                {
                    self.mismatch(file, args[0].span, &Type::Text, &arg_types[0]);
                }
                return Type::Number;
            }
            _ => None,
        };
        let Some((params, ret)) = sig else {
            let mut candidates: Vec<&str> = self.syms.callables.keys().copied().collect();
            candidates.extend(BUILTINS);
            self.report(
                Diagnostic::new(
                    Code::UnknownName,
                    file,
                    callee.span,
                    format!("there is no function `{}`", callee.name),
                )
                .with_label("unknown function")
                .suggest(&callee.name, candidates),
            );
            return Type::Error;
        };
        if params.len() != args.len() {
            self.arity(file, span, callee, params.len(), args.len());
        }
        for ((p, a), t) in params.iter().zip(args).zip(&arg_types) {
            if !t.fits(p) || (t.is_optional() && !p.is_optional()) {
                self.mismatch(file, a.span, p, t);
            }
        }
        if callee.name == "local_time" || callee.name == "local_date" {
            if let Some(ExprKind::Text(parts)) = args.get(1).map(|a| &a.kind) {
                if let [TextPart::Lit(zone)] = parts.as_slice() {
                    self.check_zone(file, args[1].span, zone);
                }
            }
        }
        ret
    }

    fn arity(&self, file: FileId, span: Span, callee: &Ident, want: usize, got: usize) {
        self.report(Diagnostic::new(
            Code::TypeMismatch,
            file,
            span,
            format!("`{}` takes {want} value(s), but {got} were given", callee.name),
        ));
    }

    /// Checks a time-zone name against the bundled tz database.
    pub fn check_zone(&self, file: FileId, span: Span, zone: &str) -> bool {
        if crate::tz::exists(zone) {
            return true;
        }
        let mut d = Diagnostic::new(Code::InvalidValue, file, span, format!("`{zone}` is not a time zone"))
            .with_label("unknown time zone");
        d = match crate::tz::closest(zone) {
            Some(c) => d.with_help(format!("did you mean `{c}`?")),
            None => d.with_help("use an IANA name such as \"Europe/London\" or \"America/New_York\""),
        };
        self.report(d);
        false
    }

    fn binary(&self, file: FileId, env: &Env, op: BinaryOp, lhs: &Expr, rhs: &Expr, span: Span) -> Type {
        match op {
            BinaryOp::And | BinaryOp::Or => {
                self.expect_type(file, env, lhs, &Type::Bool);
                // The right side sees what the left side proved: `a != none and a.x > 1`.
                let facts = self.facts(env, lhs);
                let mut right_env = env.clone();
                let known = if op == BinaryOp::And { facts.when_true } else { facts.when_false };
                right_env.narrow_all(&known);
                self.expect_type(file, &right_env, rhs, &Type::Bool);
                Type::Bool
            }
            BinaryOp::Eq | BinaryOp::Ne => {
                let (lt, rt) = self.pair(file, env, lhs, rhs);
                let ok = lt.is_error()
                    || rt.is_error()
                    || lt.fits(&rt)
                    || rt.fits(&lt)
                    || lt.unwrap_optional().fits(rt.unwrap_optional())
                    || text_like(lt.unwrap_optional()) && text_like(rt.unwrap_optional());
                if !ok {
                    self.report(
                        Diagnostic::new(Code::TypeMismatch, file, span, format!("{lt} and {rt} cannot be compared"))
                            .with_label("never equal"),
                    );
                }
                Type::Bool
            }
            BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
                let (lt, rt) = self.pair(file, env, lhs, rhs);
                for (t, e) in [(&lt, lhs), (&rt, rhs)] {
                    if t.is_optional() && !t.is_error() {
                        self.mismatch(file, e.span, t.unwrap_optional(), t);
                        return Type::Bool;
                    }
                }
                let orderable = matches!(
                    lt,
                    Type::Number | Type::Money | Type::Duration | Type::Time | Type::Date | Type::DateTime
                );
                if lt.is_error() || rt.is_error() {
                } else if !orderable {
                    self.report(
                        Diagnostic::new(Code::TypeMismatch, file, lhs.span, format!("{lt} values have no order"))
                            .with_help("`<` and `>` compare numbers, money, durations, times and dates"),
                    );
                } else if lt != rt {
                    self.mismatch(file, rhs.span, &lt, &rt);
                }
                Type::Bool
            }
            BinaryOp::Contains => {
                let lt = self.expr(file, env, lhs, None);
                match lt.unwrap_optional() {
                    Type::List(inner) => {
                        self.expect_type(file, env, rhs, inner);
                    }
                    _ => {
                        if (!lt.is_error() && !text_like(&lt)) || lt.is_optional() {
                            self.mismatch(file, lhs.span, &Type::Text, &lt);
                        }
                        self.expect_type(file, env, rhs, &Type::Text);
                    }
                }
                Type::Bool
            }
            BinaryOp::ContainsAny => {
                let lt = self.expr(file, env, lhs, None);
                if !lt.is_error() && (!text_like(&lt) || lt.is_optional()) {
                    self.mismatch(file, lhs.span, &Type::Text, &lt);
                }
                self.expect_type(file, env, rhs, &Type::List(Box::new(Type::Text)));
                Type::Bool
            }
            BinaryOp::Matches => {
                let lt = self.expr(file, env, lhs, None);
                if !lt.is_error() && (!text_like(&lt) || lt.is_optional()) {
                    self.mismatch(file, lhs.span, &Type::Text, &lt);
                }
                let rt = self.expr(file, env, rhs, None);
                if rt != Type::Regex && !rt.is_error() {
                    self.report(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            file,
                            rhs.span,
                            "`matches` takes a pattern like /^[0-9]+$/",
                        )
                        .with_label(format!("this is {}", article(&rt))),
                    );
                }
                Type::Bool
            }
            BinaryOp::In => {
                let lt = self.expr(file, env, lhs, None);
                let want = Type::List(Box::new(lt.unwrap_optional().clone()));
                let rt = self.expr(file, env, rhs, Some(&want));
                if let Type::List(inner) = &rt {
                    if !lt.unwrap_optional().fits(inner) && !inner.fits(lt.unwrap_optional()) {
                        self.mismatch(file, rhs.span, &want, &rt);
                    }
                } else if !rt.is_error() {
                    self.mismatch(file, rhs.span, &want, &rt);
                }
                Type::Bool
            }
            BinaryOp::Coalesce => {
                let lt = self.expr(file, env, lhs, None);
                if !lt.is_optional() && !lt.is_error() {
                    // Harmless, but says the author thought it could be none: no error.
                }
                let want = lt.unwrap_optional().clone();
                let rt = self.expr(file, env, rhs, Some(&want));
                if !rt.fits(&want.clone().optional()) && !want.is_error() {
                    self.mismatch(file, rhs.span, &want, &rt);
                }
                if rt.is_optional() {
                    want.optional()
                } else {
                    want
                }
            }
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div => {
                let (lt, rt) = self.pair(file, env, lhs, rhs);
                if op == BinaryOp::Div && super::calls::const_number(rhs) == Some(0.0) {
                    self.report(
                        Diagnostic::new(Code::InvalidValue, file, rhs.span, "this divides by zero")
                            .with_label("always zero")
                            .with_help("a division by zero fails the contact at run time: divide by another number"),
                    );
                }
                if lt.is_error() || rt.is_error() {
                    return Type::Error;
                }
                for (t, e) in [(&lt, lhs), (&rt, rhs)] {
                    if t.is_optional() {
                        self.mismatch(file, e.span, t.unwrap_optional(), t);
                        return Type::Error;
                    }
                }
                let result = match (op, &lt, &rt) {
                    (_, Type::Number, Type::Number) => Some(Type::Number),
                    (BinaryOp::Add | BinaryOp::Sub, Type::Money, Type::Money) => Some(Type::Money),
                    (BinaryOp::Mul | BinaryOp::Div, Type::Money, Type::Number)
                    | (BinaryOp::Mul, Type::Number, Type::Money) => Some(Type::Money),
                    (BinaryOp::Add | BinaryOp::Sub, Type::Duration, Type::Duration) => Some(Type::Duration),
                    (BinaryOp::Mul | BinaryOp::Div, Type::Duration, Type::Number) => Some(Type::Duration),
                    (BinaryOp::Add | BinaryOp::Sub, Type::DateTime, Type::Duration) => Some(Type::DateTime),
                    (BinaryOp::Add | BinaryOp::Sub, Type::Time, Type::Duration) => Some(Type::Time),
                    (BinaryOp::Sub, Type::DateTime, Type::DateTime) => Some(Type::Duration),
                    (BinaryOp::Add, Type::Text, Type::Text) => Some(Type::Text),
                    _ => None,
                };
                result.unwrap_or_else(|| {
                    self.report(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            file,
                            span,
                            format!("`{}` does not work on {lt} and {rt}", op.as_str()),
                        )
                        .with_label("no such operation"),
                    );
                    Type::Error
                })
            }
        }
    }

    /// Types both sides of a comparison, letting each side type the other's literals.
    fn pair(&self, file: FileId, env: &Env, lhs: &Expr, rhs: &Expr) -> (Type, Type) {
        let lt = self.expr(file, env, lhs, None);
        let rt = self.expr(file, env, rhs, Some(lt.unwrap_optional()));
        // `gold == customer.tier`: the bare variant on the left is typed by the right.
        if lt.is_error() && matches!(lhs.kind, ExprKind::Name(_)) {
            return (lt, rt);
        }
        (lt, rt)
    }

    /// What a condition proves about optionals and channels when true and when false.
    pub fn facts(&self, env: &Env, cond: &Expr) -> Facts {
        match &cond.kind {
            ExprKind::Paren(inner) => self.facts(env, inner),
            ExprKind::Unary { op: UnaryOp::Not, expr } => self.facts(env, expr).negate(),
            ExprKind::Binary { op: BinaryOp::And, lhs, rhs } => {
                let left = self.facts(env, lhs);
                let mut right_env = env.clone();
                right_env.narrow_all(&left.when_true);
                left.and(self.facts(&right_env, rhs))
            }
            ExprKind::Binary { op: BinaryOp::Or, lhs, rhs } => {
                let left = self.facts(env, lhs);
                let mut right_env = env.clone();
                right_env.narrow_all(&left.when_false);
                left.or(self.facts(&right_env, rhs))
            }
            ExprKind::Binary { op: op @ (BinaryOp::Eq | BinaryOp::Ne), lhs, rhs } => {
                let mut facts = Facts::default();
                // Channel narrowing: `contact.channel == voice`.
                let channel_side = |a: &Expr, b: &Expr| -> Option<Channel> {
                    if is_contact_channel(env, a) {
                        if let ExprKind::Name(n) = &b.kind {
                            return Channel::parse(&n.name);
                        }
                    }
                    None
                };
                if let Some(ch) = channel_side(lhs, rhs).or_else(|| channel_side(rhs, lhs)) {
                    let only = ChannelSet::only(ch);
                    facts.channels_true = Some(only);
                    facts.channels_false = Some(ChannelSet::ALL.minus(only));
                }
                // Optional narrowing: `x != none`, and `x?.f == value` (true only when x is set).
                match (path_of(lhs), path_of(rhs)) {
                    (Some(p), _) if is_none(rhs) => facts.when_false = with_prefixes(&p),
                    (_, Some(p)) if is_none(lhs) => facts.when_false = with_prefixes(&p),
                    (Some(p), _) if self.is_definitely_some(env, rhs) => facts.when_true = with_prefixes(&p),
                    (_, Some(p)) if self.is_definitely_some(env, lhs) => facts.when_true = with_prefixes(&p),
                    _ => {}
                }
                if *op == BinaryOp::Ne {
                    facts.negate()
                } else {
                    facts
                }
            }
            ExprKind::Binary { op: BinaryOp::In, lhs, rhs } if is_contact_channel(env, lhs) => {
                let mut facts = Facts::default();
                if let ExprKind::List(items) = &rhs.kind {
                    let set: ChannelSet = items
                        .iter()
                        .filter_map(|i| match &i.kind {
                            ExprKind::Name(n) => Channel::parse(&n.name),
                            _ => None,
                        })
                        .collect();
                    facts.channels_true = Some(set);
                    facts.channels_false = Some(ChannelSet::ALL.minus(set));
                }
                facts
            }
            _ => Facts::default(),
        }
    }

    /// Whether `e` can never be none (a literal, or a non-optional value).
    fn is_definitely_some(&self, env: &Env, e: &Expr) -> bool {
        match &e.kind {
            ExprKind::None => false,
            ExprKind::Name(n) => env.lookup(&n.name).is_none_or(|t| !t.is_optional()),
            ExprKind::Field { .. } => {
                let quiet = self.quiet();
                !quiet.expr(FileId(0), env, e, None).is_optional()
            }
            _ => true,
        }
    }
}

fn is_none(e: &Expr) -> bool {
    matches!(e.kind, ExprKind::None)
}

fn is_builtin(env: &Env, e: &Expr, name: &str) -> bool {
    matches!(&e.kind, ExprKind::Name(n) if n.name == name && env.lookup(name).is_none())
}

fn is_contact_channel(env: &Env, e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Field { base, name, .. } => name.name == "channel" && is_builtin(env, base, "contact"),
        ExprKind::Paren(inner) => is_contact_channel(env, inner),
        _ => false,
    }
}

fn text_like(t: &Type) -> bool {
    matches!(t.unwrap_optional(), Type::Text | Type::Email | Type::Phone | Type::Agent)
}

fn is_language_code(s: &str) -> bool {
    let (lang, region) = s.split_once('_').unwrap_or((s, ""));
    (2..=3).contains(&lang.len())
        && lang.chars().all(|c| c.is_ascii_lowercase())
        && (region.is_empty() || (2..=3).contains(&region.len()) && region.chars().all(|c| c.is_ascii_alphanumeric()))
}

fn callee_span(c: &super::symbols::Callable<'_>) -> Span {
    match c {
        super::symbols::Callable::Fn(d) => d.name.span,
        super::symbols::Callable::Extern(d) => d.name.span,
    }
}

pub fn article(t: &Type) -> String {
    let s = t.to_string();
    match s.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => format!("an {s}"),
        _ => format!("a {s}"),
    }
}

pub fn quote_list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
