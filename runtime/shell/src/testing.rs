//! `switchboard test`: runs a project's `test` blocks on the real engine, with a virtual
//! clock and sources that hold exactly the `given` rows.

use crate::local::{LocalShell, Options};
use jiff::Timestamp;
use std::collections::BTreeMap;
use std::sync::Arc;
use switchboard_bytecode::bytecode::Bundle;
use switchboard_bytecode::types::{Channel, Type};
use switchboard_bytecode::value::{Currency, Money, Record, Value};
use switchboard_compiler::check::Checked;
use switchboard_compiler::render::line_col;
use switchboard_compiler::syntax::ast::*;
use switchboard_compiler::FileId;
use switchboard_engine::{AgentView, ContactId, Event, EventKind, Reply, SessionId};

/// Monday 2026-01-05 12:00 UTC: where the clock starts without `at`.
pub const DEFAULT_START: Timestamp = switchboard_calendar::TEST_START;

/// The outcome of one test.
#[derive(Clone, Debug)]
pub struct TestOutcome {
    pub name: String,
    pub file: String,
    pub line: usize,
    pub failure: Option<String>,
    pub events: Vec<Event>,
}

impl TestOutcome {
    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }
}

/// Runs every test of the project's own files whose name contains `filter`.
pub fn run_all(checked: &Checked, bundle: &Arc<Bundle>, filter: Option<&str>, options: &Options) -> Vec<TestOutcome> {
    let mut out = Vec::new();
    for (file, ast) in checked.module_files(0) {
        for item in &ast.items {
            if let ItemKind::Test(test) = &item.kind {
                if filter.is_some_and(|f| !test.name.value.contains(f)) {
                    continue;
                }
                out.push(run_one(checked, bundle, file, test, options));
            }
        }
    }
    out
}

struct Runner<'a> {
    checked: &'a Checked,
    bundle: &'a Arc<Bundle>,
    file: FileId,
    engine: LocalShell,
    zone: String,
    /// Where the next `expect` starts looking.
    cursor: usize,
    contact: Option<ContactId>,
    /// Where inputs go.
    focus: Option<SessionId>,
    agents: Vec<AgentView>,
}

fn run_one(checked: &Checked, bundle: &Arc<Bundle>, file: FileId, test: &TestDecl, options: &Options) -> TestOutcome {
    let text = &checked.files[file.0 as usize].text;
    let (line, _) = line_col(text, test.name.span.start as usize);
    let mut outcome = TestOutcome {
        name: test.name.value.clone(),
        file: checked.files[file.0 as usize].path.clone(),
        line,
        failure: None,
        events: Vec::new(),
    };
    // Sources hold exactly the `given` rows, wherever they stand in the test.
    let mut rows: Vec<Vec<Arc<Record>>> = vec![Vec::new(); bundle.sources.len()];
    for l in &test.lines {
        if let TestLineKind::Given { source, row } = &l.kind {
            let Some(id) = bundle.source(&source.name) else { continue };
            let record = &bundle.records[bundle.sources[id.index()].record.index()];
            match const_value(bundle, row, Some(&Type::Record(Arc::from(record.name.as_str())))) {
                Ok(Value::Record(r)) => rows[id.index()].push(r),
                Ok(_) => {}
                Err(e) => {
                    outcome.failure = Some(format!("given {}: {e}", source.name));
                    return outcome;
                }
            }
        }
    }
    let engine = match LocalShell::with_rows(bundle.clone(), rows, options.clone(), DEFAULT_START) {
        Ok(e) => e,
        Err(e) => {
            outcome.failure = Some(e);
            return outcome;
        }
    };
    let mut r = Runner {
        checked,
        bundle,
        file,
        engine,
        zone: "UTC".to_string(),
        cursor: 0,
        contact: None,
        focus: None,
        agents: Vec::new(),
    };
    for l in &test.lines {
        if let Err(message) = r.line(l) {
            outcome.failure = Some(r.failure(l, &message));
            break;
        }
    }
    if outcome.failure.is_none() && options.record {
        if let Err(why) = r.engine.replay() {
            outcome.failure = Some(format!("{}:{}: the replay check failed: {why}\n", outcome.file, outcome.line));
        }
    }
    outcome.events = r.engine.events().to_vec();
    outcome
}

impl Runner<'_> {
    fn line_text(&self, span: Span) -> (usize, String) {
        let text = &self.checked.files[self.file.0 as usize].text;
        let (line, _) = line_col(text, span.start as usize);
        let src = text.get(span.range()).unwrap_or("").lines().next().unwrap_or("").trim().to_string();
        (line, src)
    }

    fn failure(&self, l: &TestLine, message: &str) -> String {
        let (line, src) = self.line_text(l.span);
        let path = &self.checked.files[self.file.0 as usize].path;
        let mut out = format!("{path}:{line}: {src}\n  {message}\n");
        let events = &self.engine.events()[self.cursor.min(self.engine.events().len())..];
        let shown: Vec<&Event> = events.iter().filter(|e| !matches!(e.kind, EventKind::Input { .. })).collect();
        if shown.is_empty() {
            out.push_str("  nothing happened after the previous match\n");
        } else {
            out.push_str("  what happened after the previous match:\n");
            for e in shown {
                let place = e
                    .origin
                    .map(|o| {
                        let f = &self.checked.files[o.file.0 as usize];
                        let (l, _) = line_col(&f.text, o.span.start as usize);
                        format!("  ({}:{l})", f.path)
                    })
                    .unwrap_or_default();
                out.push_str(&format!("    {}{place}\n", e.kind));
            }
        }
        out
    }

    fn target(&self) -> Result<SessionId, String> {
        self.focus
            .filter(|f| self.engine.state().is_live(*f))
            .or_else(|| self.engine.state().waiting_session())
            .ok_or_else(|| "nothing is waiting for input here".to_string())
    }

    fn local(&self, date: &DateLit, time: &TimeLit) -> Result<Timestamp, String> {
        switchboard_calendar::parse_local(
            &format!("{:04}-{:02}-{:02} {:02}:{:02}", date.year, date.month, date.day, time.hour, time.minute),
            &self.zone,
        )
    }

    fn line(&mut self, l: &TestLine) -> Result<(), String> {
        match &l.kind {
            TestLineKind::Given { .. } => Ok(()),
            TestLineKind::At { date, time, zone } => {
                if let Some(z) = zone {
                    self.zone = z.value.clone();
                }
                let at = self.local(date, time)?;
                self.engine.advance(at);
                Ok(())
            }
            TestLineKind::AdvanceTo { date, time } => {
                let at = self.local(date, time)?;
                if at < self.engine.now() {
                    return Err("time cannot go backwards".to_string());
                }
                self.engine.advance(at);
                Ok(())
            }
            TestLineKind::Wait(d) => {
                let to = self
                    .engine
                    .now()
                    .checked_add(jiff::SignedDuration::from_millis(d.millis))
                    .map_err(|e| e.to_string())?;
                self.engine.advance(to);
                Ok(())
            }
            TestLineKind::Agent { name, skills, languages } => {
                let agent = AgentView {
                    id: name.name.clone(),
                    name: name.name.clone(),
                    skills: skills.iter().map(|s| s.name.clone()).collect(),
                    languages: languages.iter().map(|s| s.name.clone()).collect(),
                };
                self.agents.push(agent.clone());
                Ok(self.engine.add_agent(agent)?)
            }
            TestLineKind::Contact { channel, from, to, subject, text } => {
                let channel = Channel::parse(&channel.name).ok_or("unknown channel")?;
                let text_of = |e: &Option<Expr>| -> Result<String, String> {
                    e.as_ref()
                        .map(|e| const_value(self.bundle, e, None).map(|v| v.display()))
                        .transpose()
                        .map(|o| o.unwrap_or_default())
                };
                let from = const_value(self.bundle, from, None)?.display();
                let to = to.as_ref().map(|e| const_value(self.bundle, e, None).map(|v| v.display())).transpose()?;
                let id = self.engine.contact(channel, &from, to.as_deref(), &text_of(subject)?, &text_of(text)?)?;
                self.contact = Some(id);
                self.focus = Some(id.session());
                Ok(())
            }
            TestLineKind::Script(name) => {
                self.bundle.script(&name.name).ok_or("no such script")?;
                let contact = self.contact.ok_or("start a contact first with `contact …`")?;
                let agent = self.agents.first().cloned().unwrap_or(AgentView {
                    id: "agent-1".to_string(),
                    name: "Alex".to_string(),
                    skills: Vec::new(),
                    languages: vec!["en".to_string()],
                });
                self.focus = Some(self.engine.start_script(contact, &name.name, agent)?);
                Ok(())
            }
            TestLineKind::Survey(name) => {
                self.bundle.survey(&name.name).ok_or("no such survey")?;
                let contact = self.contact.ok_or("start a contact first with `contact …`")?;
                self.focus = Some(self.engine.start_survey(contact, &name.name)?);
                Ok(())
            }
            TestLineKind::StartRetry { retry, arg } => {
                let id = self.bundle.retry(&retry.name).ok_or("no such retry strategy")?;
                let param = self.bundle.retries[id.index()].param.clone();
                let subject = const_value(self.bundle, arg, Some(&param))?;
                self.engine.start_retry(&retry.name, subject)?;
                Ok(())
            }
            TestLineKind::Press(keys) => {
                let t = self.target()?;
                Ok(self.engine.input(t, Reply::Keys(keys.value.clone()))?)
            }
            TestLineKind::Type(e) => {
                let t = self.target()?;
                let text = const_value(self.bundle, e, None)?.display();
                Ok(self.engine.input(t, Reply::Text(text))?)
            }
            TestLineKind::Answer(e) => {
                let t = self.target()?;
                let v = const_value(self.bundle, e, None)?;
                Ok(self.engine.input(t, Reply::Value(v))?)
            }
            TestLineKind::Choose(option) => {
                let t = self.target()?;
                Ok(self.engine.input(t, Reply::Text(option.value.clone()))?)
            }
            TestLineKind::Event(outcome) => Ok(self.engine.retry_event(&outcome.name)?),
            TestLineKind::Accept => {
                let offer = self.engine.state().ringing_offer().ok_or("no offer is ringing for an agent to accept")?;
                Ok(self.engine.accept(offer)?)
            }
            TestLineKind::HangUp => {
                let contact = self.contact.ok_or("start a contact first with `contact …`")?;
                Ok(self.engine.hang_up(contact)?)
            }
            TestLineKind::Expect(e) => self.expect(e),
            TestLineKind::ExpectNo { kind, name } => {
                let events = &self.engine.events()[self.cursor.min(self.engine.events().len())..];
                let hit = events.iter().find(|ev| {
                    ev.kind.word() == kind.name
                        && name.as_ref().is_none_or(|n| {
                            ev.kind.name().is_some_and(|x| x == self.bundle.resolve(&n.name) || x == n.name)
                        })
                });
                match hit {
                    Some(ev) => Err(format!("expected no {}, but got: {}", kind.name, ev.kind)),
                    None => Ok(()),
                }
            }
        }
    }

    fn expect(&mut self, e: &Expectation) -> Result<(), String> {
        let events = self.engine.events();
        let start = self.cursor.min(events.len());
        for (i, ev) in events[start..].iter().enumerate() {
            if self.matches(&ev.kind, e)? {
                self.cursor = start + i + 1;
                return Ok(());
            }
        }
        Err(format!("expected {}, but it did not happen", describe(e)))
    }

    fn matches(&self, ev: &EventKind, e: &Expectation) -> Result<bool, String> {
        let b = self.bundle;
        let text = |x: &Expr| const_value(b, x, Some(&Type::Text)).map(|v| v.display());
        let same_name = |actual: &str, expected: &str| actual == b.resolve(expected) || actual == expected;
        Ok(match (ev, e) {
            (EventKind::Say { text: t }, Expectation::Say(x)) => *t == text(x)?,
            (EventKind::Note { text: t }, Expectation::Note(x)) => *t == text(x)?,
            (EventKind::Waypoint { name }, Expectation::Waypoint(w)) => *name == w.name,
            (EventKind::Queue { queue, priority }, Expectation::Queue { queue: q, priority: p }) => {
                same_name(queue, &q.name) && p.is_none_or(|p| *priority == p.value as i32)
            }
            (EventKind::Transfer { to }, Expectation::Transfer(x)) => *to == const_value(b, x, None)?.display(),
            (EventKind::Send { medium, to, text: t }, Expectation::Send { medium: m, to: x, text: body }) => {
                *medium == m.name
                    && to.eq_ignore_ascii_case(&const_value(b, x, None)?.display())
                    && match body {
                        Some(body) => *t == text(body)?,
                        None => true,
                    }
            }
            (EventKind::Call { to, queue }, Expectation::Call { to: x, queue: q }) => {
                *to == const_value(b, x, None)?.display() && q.as_ref().is_none_or(|q| same_name(queue, &q.name))
            }
            (EventKind::Outcome { name }, Expectation::Outcome(o)) => *name == o.name,
            (EventKind::Offer { agent, channel }, Expectation::Offer { agent: a, channel: c }) => {
                *agent == a.name && c.as_ref().is_none_or(|c| *channel == c.name)
            }
            (EventKind::Stop, Expectation::Stop) | (EventKind::End, Expectation::End) => true,
            (EventKind::Error { .. }, Expectation::Error) => true,
            _ => false,
        })
    }
}

fn describe(e: &Expectation) -> String {
    match e {
        Expectation::Say(_) => "that say".to_string(),
        Expectation::Note(_) => "that note".to_string(),
        Expectation::Waypoint(w) => format!("waypoint {}", w.name),
        Expectation::Queue { queue, priority: Some(p) } => format!("queue {} priority {:+}", queue.name, p.value),
        Expectation::Queue { queue, .. } => format!("queue {}", queue.name),
        Expectation::Transfer(_) => "that transfer".to_string(),
        Expectation::Send { medium, .. } => format!("that {} message", medium.name),
        Expectation::Call { .. } => "that call".to_string(),
        Expectation::Outcome(o) => format!("outcome {}", o.name),
        Expectation::Offer { agent, .. } => format!("an offer to {}", agent.name),
        Expectation::Stop => "stop".to_string(),
        Expectation::End => "end".to_string(),
        Expectation::Error => "an error".to_string(),
    }
}

/// The value of a literal written in a test line (no names but enum values and channels).
pub fn const_value(bundle: &Bundle, e: &Expr, hint: Option<&Type>) -> Result<Value, String> {
    Ok(match &e.kind {
        ExprKind::Number(n) => Value::Number(*n),
        ExprKind::Percent(p) => Value::Number(p / 100.0),
        ExprKind::Bool(b) => Value::Bool(*b),
        ExprKind::Duration(d) => Value::Duration(*d),
        ExprKind::Time { hour, minute } => Value::Time(hour * 60 + minute),
        ExprKind::Date { year, month, day } => {
            Value::Date(jiff::civil::Date::new(*year as i16, *month as i8, *day as i8).map_err(|e| e.to_string())?)
        }
        ExprKind::Money { symbol, minor } => Value::Money(Money {
            minor: *minor,
            currency: Currency::from_symbol(*symbol).or(bundle.currency).unwrap_or(Currency::GBP),
        }),
        ExprKind::Phone(p) => Value::Phone(Arc::from(p.as_str())),
        ExprKind::Text(parts) => {
            let mut s = String::new();
            for p in parts {
                match p {
                    TextPart::Lit(l) => s.push_str(l),
                    TextPart::Expr(x) => s.push_str(&const_value(bundle, x, None)?.display()),
                }
            }
            match hint.map(Type::unwrap_optional) {
                Some(Type::Email) => Value::Email(Arc::from(s.to_lowercase())),
                Some(Type::Agent) => Value::Agent(Arc::from(s)),
                _ => Value::Text(Arc::from(s)),
            }
        }
        ExprKind::None => Value::None,
        ExprKind::Paren(inner) => const_value(bundle, inner, hint)?,
        ExprKind::Unary { op: UnaryOp::Neg, expr } => match const_value(bundle, expr, hint)? {
            Value::Number(n) => Value::Number(-n),
            other => return Err(format!("cannot negate {other}")),
        },
        ExprKind::List(items) => {
            let inner = match hint.map(Type::unwrap_optional) {
                Some(Type::List(t)) => Some((**t).clone()),
                _ => None,
            };
            Value::List(items.iter().map(|i| const_value(bundle, i, inner.as_ref())).collect::<Result<_, _>>()?)
        }
        ExprKind::Name(n) => {
            if let Some(Type::Enum(_)) = hint.map(Type::unwrap_optional) {
                Value::Enum(Arc::from(n.name.as_str()))
            } else if let Some(c) = Channel::parse(&n.name) {
                Value::Channel(c)
            } else if bundle.enums.iter().any(|en| en.variants.contains(&n.name)) {
                Value::Enum(Arc::from(n.name.as_str()))
            } else {
                return Err(format!("`{}` is not a value a test can write", n.name));
            }
        }
        ExprKind::Record(entries) => {
            let Some(Type::Record(name)) = hint.map(Type::unwrap_optional) else {
                return Err("the type of this record is not known here".to_string());
            };
            let info = bundle.records.iter().find(|r| *r.name == **name).ok_or("unknown record")?;
            let given: BTreeMap<&str, &Expr> = entries.iter().map(|(k, v)| (k.name.as_str(), v)).collect();
            let mut fields = Vec::new();
            for (fname, ty) in &info.fields {
                let v = match given.get(fname.as_str()) {
                    Some(x) => const_value(bundle, x, Some(ty))?,
                    None => Value::None,
                };
                fields.push((Arc::from(fname.as_str()), v));
            }
            Value::Record(Arc::new(Record { type_name: Arc::from(info.name.as_str()), fields }))
        }
        _ => return Err("tests can only write plain values here".to_string()),
    })
}
