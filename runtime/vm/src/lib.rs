//! The VM: runs a bundle's bytecode for one contact, one bounded slice at a time.
//!
//! Architecture Invariant: the VM does no I/O and never reads a clock. Everything that
//! touches the world is an `Effect` it yields; the engine performs it and resumes the VM
//! with the result. Its whole state is serde data, so a session can be persisted after
//! any step and resumed by a later process.

pub mod limits;
mod ops;
mod tables;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use switchboard_bytecode::bytecode::*;
use switchboard_bytecode::span::BinaryOp;
use switchboard_bytecode::types::Channel;
use switchboard_bytecode::value::{Record, Value};

pub use ops::text_cow;
pub use tables::Tables;

/// What the VM knows of the contact it runs for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub id: Arc<str>,
    pub channel: Channel,
    /// A phone on voice and SMS, an email on email, text otherwise.
    pub from: Value,
    pub to: Arc<str>,
    pub text: Arc<str>,
    pub subject: Arc<str>,
    pub language: Arc<str>,
    pub country: Arc<str>,
    pub started_at: Timestamp,
    pub attributes: BTreeMap<String, String>,
}

/// The agent a script runs for.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentView {
    pub id: String,
    pub name: String,
    pub skills: Vec<String>,
    pub languages: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Frame {
    func: FuncId,
    pc: u32,
    base: u32,
}

/// Something the engine must do for the VM.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Effect {
    Say(Arc<str>),
    Note(Arc<str>),
    Waypoint(Arc<str>),
    /// Resume with the answer (none: no valid answer).
    Ask {
        ask: AskId,
        prompt: Arc<str>,
    },
    /// Resume with the option's index (`options.len()` for the time-out route).
    Menu {
        menu: MenuId,
        prompt: Arc<str>,
    },
    /// Resume with the option's index.
    Choose {
        choice: ChoiceId,
        prompt: Arc<str>,
    },
    /// Resume with the record, or none.
    Lookup {
        source: SourceId,
        key: Value,
    },
    Queue {
        queue: QueueId,
        priority: i32,
        prefer: Option<(Value, i64)>,
        require: Vec<Arc<str>>,
        vip: bool,
    },
    Transfer {
        to: Value,
    },
    OfferCallback {
        keep_place: bool,
    },
    CollectPayment {
        amount: Value,
    },
    Send {
        medium: Medium,
        to: Value,
        text: Arc<str>,
    },
    StartRetry {
        retry: RetryId,
        subject: Value,
    },
    Survey {
        survey: SurveyId,
    },
    End,
    Outcome(Arc<str>),
    Call {
        to: Value,
        queue: QueueId,
        script: Option<ScriptId>,
    },
    Again {
        delay_ms: i64,
        at_minutes: Option<u32>,
        max: u32,
    },
    Stop,
    /// Resume with the result, or with `Resume::Failed`.
    Extern {
        func: ExternId,
        args: Vec<Value>,
    },
}

impl Effect {
    /// Effects after which the run is over.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            Effect::Queue { .. }
                | Effect::Transfer { .. }
                | Effect::End
                | Effect::Outcome(_)
                | Effect::Again { .. }
                | Effect::Stop
        )
    }
}

/// How the engine answers an effect.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Resume {
    /// For effects that give nothing back.
    Unit,
    Value(Value),
    /// The effect failed (an `extern fn` erred): take the error route.
    Failed(String),
}

/// What one slice of running ended in.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// Out of fuel: call `run` again.
    Running,
    /// Perform this and `resume`.
    Yield(Effect),
    Done,
    Failed(String),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
enum State {
    Ready,
    /// Waiting for the result of the effect it yielded.
    Waiting {
        wants_value: bool,
    },
    Done,
    Failed(String),
    /// Waiting for an `extern fn`'s result, which must keep within [`limits`]: one that
    /// does not is a failing extern.
    WaitingExtern,
}

/// Whatever the VM computes with besides its own state: read-only run context.
#[derive(Clone, Copy, Debug)]
pub struct Host<'a> {
    /// `queue.position` and `queue.ewt` (milliseconds) in `while waiting` lines.
    pub queue_position: f64,
    pub queue_ewt_ms: i64,
    /// The bundle's hours and regexes, built once.
    pub tables: &'a Tables,
}

impl Host<'_> {
    /// A host with no queue around it.
    pub fn new(tables: &Tables) -> Host<'_> {
        Host { queue_position: 0.0, queue_ewt_ms: 0, tables }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Vm {
    frames: Vec<Frame>,
    stack: Vec<Value>,
    globals: Vec<Value>,
    /// Boxed: it outlives the VM (the engine keeps it), and a VM moves cheaply.
    pub contact: Box<Contact>,
    /// The agent a script runs for (boxed: most runs have none).
    pub agent: Option<Box<AgentView>>,
    on_error: Option<FuncId>,
    in_error_route: bool,
    state: State,
    /// Where `Concat` writes; empty between instructions, so never part of the state.
    #[serde(skip)]
    text: String,
}

/// The room a finished VM leaves for the next one: empty buffers, not state.
#[derive(Debug, Default)]
pub struct Spare {
    frames: Vec<Frame>,
    stack: Vec<Value>,
    text: String,
}

impl Vm {
    /// A VM that will run `func` for `contact`.
    pub fn new(
        bundle: &Bundle,
        func: FuncId,
        contact: Box<Contact>,
        globals: Vec<Value>,
        on_error: Option<FuncId>,
    ) -> Vm {
        Vm::reusing(Spare::default(), bundle, func, contact, globals, on_error)
    }

    /// Like `new`, in the room a finished VM left.
    pub fn reusing(
        spare: Spare,
        bundle: &Bundle,
        func: FuncId,
        contact: Box<Contact>,
        globals: Vec<Value>,
        on_error: Option<FuncId>,
    ) -> Vm {
        let Spare { frames, mut stack, text } = spare;
        stack.reserve(16);
        let mut vm = Vm {
            frames,
            stack,
            globals,
            contact,
            agent: None,
            on_error,
            in_error_route: false,
            state: State::Ready,
            text,
        };
        vm.enter(bundle, func, 0);
        vm
    }

    /// Ends the VM: the contact as the run left it (`contact.language = …` outlives the
    /// flow), and the room it leaves for the next VM.
    pub fn finish(self) -> (Box<Contact>, Spare) {
        let Vm { mut frames, mut stack, mut text, contact, .. } = self;
        frames.clear();
        stack.clear();
        text.clear();
        (contact, Spare { frames, stack, text })
    }

    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done | State::Failed(_))
    }

    /// The source position of the instruction about to run (or that yielded).
    pub fn position(&self, bundle: &Bundle) -> Option<SourceSpan> {
        let f = self.frames.last()?;
        let func = bundle.func(f.func);
        let pc = (f.pc as usize).saturating_sub(1).min(func.spans.len().saturating_sub(1));
        func.spans.get(pc).copied()
    }

    fn enter(&mut self, bundle: &Bundle, func: FuncId, args: usize) {
        let f = bundle.func(func);
        let base = self.stack.len() - args;
        self.stack.resize(base + f.locals as usize, Value::None);
        self.frames.push(Frame { func, pc: 0, base: base as u32 });
    }

    /// Hands the VM the result of the effect it yielded.
    pub fn resume(&mut self, bundle: &Bundle, resume: Resume) {
        match (&self.state, resume) {
            (State::Waiting { wants_value }, Resume::Value(v)) => {
                if *wants_value {
                    self.stack.push(v);
                }
                self.state = State::Ready;
            }
            (State::Waiting { wants_value }, Resume::Unit) => {
                if *wants_value {
                    self.stack.push(Value::None);
                }
                self.state = State::Ready;
            }
            (State::WaitingExtern, Resume::Value(v)) => {
                self.state = State::Ready;
                match limits::check(&v) {
                    Ok(()) => self.stack.push(v),
                    Err(why) => self.fail(bundle, format!("an `extern fn` returned too much: {why}")),
                }
            }
            (State::WaitingExtern, Resume::Unit) => {
                self.stack.push(Value::None);
                self.state = State::Ready;
            }
            (State::Waiting { .. } | State::WaitingExtern, Resume::Failed(why)) => {
                self.state = State::Ready;
                self.fail(bundle, why);
            }
            _ => {}
        }
    }

    /// Takes the error route: `on error` if the flow has one (once), else the run fails.
    fn fail(&mut self, bundle: &Bundle, why: String) {
        match self.on_error {
            Some(handler) if !self.in_error_route => {
                self.in_error_route = true;
                self.frames.clear();
                self.stack.clear();
                self.enter(bundle, handler, 0);
                self.state = State::Ready;
            }
            _ => self.state = State::Failed(why),
        }
    }

    /// Runs until the VM yields, finishes, fails, or uses up `fuel` instructions.
    pub fn run(&mut self, bundle: &Bundle, host: &Host<'_>, now: Timestamp, fuel: &mut u32) -> Step {
        loop {
            match &self.state {
                State::Ready => {}
                State::Waiting { .. } | State::WaitingExtern => return Step::Running,
                State::Done => return Step::Done,
                State::Failed(why) => return Step::Failed(why.clone()),
            }
            if *fuel == 0 {
                return Step::Running;
            }
            *fuel -= 1;
            match self.exec(bundle, host, now) {
                Ok(None) => {}
                Ok(Some(effect)) => {
                    if effect.is_final() {
                        // Frames stay, so the engine can tell where the run ended.
                        self.state = State::Done;
                    } else if matches!(effect, Effect::Extern { .. }) {
                        self.state = State::WaitingExtern;
                    } else {
                        let wants_value = matches!(
                            effect,
                            Effect::Ask { .. } | Effect::Menu { .. } | Effect::Choose { .. } | Effect::Lookup { .. }
                        );
                        self.state = State::Waiting { wants_value };
                    }
                    return Step::Yield(effect);
                }
                Err(why) => self.fail(bundle, why),
            }
        }
    }

    fn pop(&mut self) -> Value {
        self.stack.pop().unwrap_or(Value::None)
    }

    /// The value on top as a text; its display, within the text limit, when it is no text.
    fn pop_text(&mut self) -> Result<Arc<str>, String> {
        Ok(match self.pop() {
            Value::Text(t) => t,
            other => Arc::from(limits::display(&other)?),
        })
    }

    /// A text constant (a waypoint's name, a skill) as the shared text it is.
    fn const_text(bundle: &Bundle, id: ConstId) -> Arc<str> {
        match bundle.constant(id) {
            Value::Text(t) => t.clone(),
            other => Arc::from(other.display()),
        }
    }

    /// Runs one instruction; returns the effect it yields, if any.
    fn exec(&mut self, bundle: &Bundle, host: &Host<'_>, now: Timestamp) -> Result<Option<Effect>, String> {
        let Some(frame) = self.frames.last_mut() else {
            self.state = State::Done;
            return Ok(None);
        };
        let func = bundle.func(frame.func);
        let Some(instr) = func.code.get(frame.pc as usize) else {
            return self.ret(bundle).map(|_| None);
        };
        frame.pc += 1;
        let base = frame.base as usize;
        match instr {
            Instr::Const { value } => {
                let constant = bundle.constant(*value);
                // `x == CONSTANT`: compared in place, never copied onto the stack.
                match func.code.get(frame.pc as usize) {
                    Some(Instr::Binary { op: op @ (BinaryOp::Eq | BinaryOp::Ne) }) => {
                        frame.pc += 1;
                        let same = ops::equal(&self.stack.pop().unwrap_or(Value::None), constant);
                        self.stack.push(Value::Bool(same == (*op == BinaryOp::Eq)));
                    }
                    _ => self.stack.push(constant.clone()),
                }
            }
            Instr::Load { slot } => {
                let local = &self.stack[base + slot.index()];
                // What the next instructions do with the local, done where it lies instead of
                // on a copy: `record.field`, `if x …`, `x == CONSTANT`.
                let next = func.code.get(frame.pc as usize);
                let v = match (next, local) {
                    (Some(Instr::Field { name, index } | Instr::OptField { name, index }), Value::Record(r)) => {
                        frame.pc += 1;
                        ops::field(r, bundle.constant(*name), *index)?
                    }
                    (Some(Instr::JumpIfSome { to }), _) => {
                        frame.pc = if local.is_none() { frame.pc + 1 } else { *to };
                        return Ok(None);
                    }
                    (Some(Instr::JumpIfFalse { to }), _) => {
                        frame.pc = if ops::truthy(local) { frame.pc + 1 } else { *to };
                        return Ok(None);
                    }
                    (Some(Instr::JumpIfTrue { to }), _) => {
                        frame.pc = if ops::truthy(local) { *to } else { frame.pc + 1 };
                        return Ok(None);
                    }
                    (Some(Instr::Const { value }), _) => match func.code.get(frame.pc as usize + 1) {
                        Some(Instr::Binary { op: op @ (BinaryOp::Eq | BinaryOp::Ne) }) => {
                            frame.pc += 2;
                            Value::Bool(ops::equal(local, bundle.constant(*value)) == (*op == BinaryOp::Eq))
                        }
                        _ => local.clone(),
                    },
                    _ => local.clone(),
                };
                self.stack.push(v);
            }
            Instr::Store { slot } => {
                let v = self.pop();
                self.stack[base + slot.index()] = v;
            }
            Instr::LoadGlobal { global } => {
                let v = self.globals.get(global.index()).cloned().unwrap_or(Value::None);
                self.stack.push(v);
            }
            Instr::StoreGlobal { global } => {
                let v = self.pop();
                if self.globals.len() <= global.index() {
                    self.globals.resize(global.index() + 1, Value::None);
                }
                self.globals[global.index()] = v;
            }
            Instr::Contact { field } => {
                let c = &self.contact;
                let v = match field {
                    ContactField::Id => Value::Text(c.id.clone()),
                    ContactField::Channel => Value::Channel(c.channel),
                    ContactField::From => c.from.clone(),
                    ContactField::To => Value::Text(c.to.clone()),
                    ContactField::Text => Value::Text(c.text.clone()),
                    ContactField::Subject => Value::Text(c.subject.clone()),
                    ContactField::Language => Value::Text(c.language.clone()),
                    ContactField::Country => Value::Text(c.country.clone()),
                    ContactField::StartedAt => Value::DateTime(c.started_at),
                };
                self.stack.push(v);
            }
            Instr::Attribute { name } => {
                let key = bundle.constant(*name).display();
                let v = self.contact.attributes.get(&key).map_or(Value::None, |s| Value::text(s));
                self.stack.push(v);
            }
            Instr::SetLanguage => self.contact.language = self.pop_text()?,
            Instr::SetAttribute { name } => {
                let key = bundle.constant(*name).display();
                match self.pop() {
                    Value::None => {
                        self.contact.attributes.remove(&key);
                    }
                    v => {
                        self.contact.attributes.insert(key, limits::display(&v)?);
                    }
                }
            }
            Instr::AgentField { field } => {
                let none = AgentView::default();
                let a = self.agent.as_deref().unwrap_or(&none);
                let list = |items: &[String]| Value::List(items.iter().map(|s| Value::text(s)).collect());
                let v = match field {
                    AgentField::Id => Value::Agent(Arc::from(a.id.as_str())),
                    AgentField::Name => Value::text(&a.name),
                    AgentField::Skills => list(&a.skills),
                    AgentField::Languages => list(&a.languages),
                };
                self.stack.push(v);
            }
            Instr::QueueField { field } => self.stack.push(match field {
                QueueField::Position => Value::Number(host.queue_position),
                QueueField::Ewt => Value::Duration(host.queue_ewt_ms),
            }),
            Instr::Now => self.stack.push(Value::DateTime(now)),
            Instr::Field { name, index } => {
                let field = bundle.constant(*name);
                let v = match self.pop() {
                    Value::Record(r) => ops::field(&r, field, *index)?,
                    Value::None => return Err(format!("`{}` was read from a value that is none", field.display())),
                    other => return Err(format!("`{other}` has no field `{}`", field.display())),
                };
                self.stack.push(v);
            }
            Instr::OptField { name, index } => {
                let field = bundle.constant(*name);
                let v = match self.pop() {
                    Value::Record(r) => ops::field(&r, field, *index)?,
                    _ => Value::None,
                };
                self.stack.push(v);
            }
            Instr::Pop => {
                self.pop();
            }
            Instr::Dup => {
                let v = self.stack.last().cloned().unwrap_or(Value::None);
                self.stack.push(v);
            }
            Instr::Not => {
                let v = self.pop();
                self.stack.push(Value::Bool(!ops::truthy(&v)));
            }
            Instr::Neg => {
                let v = ops::negate(self.pop())?;
                self.stack.push(v);
            }
            Instr::Binary { op } => {
                let rhs = self.pop();
                let lhs = self.pop();
                self.stack.push(ops::binary(*op, lhs, rhs)?);
            }
            Instr::Matches { regex } => {
                let text = self.pop();
                let text = ops::text_cow(&text);
                let matched = match host.tables.regex(*regex) {
                    Some(r) => r?.is_match(&text),
                    None => ops::matches(&text, &bundle.constant(*regex).display())?,
                };
                self.stack.push(Value::Bool(matched));
            }
            Instr::MakeList { len } => {
                if *len as usize > limits::MAX_LIST_ITEMS {
                    return Err(limits::list_too_long(*len as usize));
                }
                let at = self.stack.len() - *len as usize;
                let items: Arc<[Value]> = self.stack.drain(at..).collect();
                self.stack.push(Value::List(items));
            }
            Instr::MakeRecord { record } => {
                let info = &bundle.records[record.index()];
                let at = self.stack.len() - info.fields.len();
                let values = self.stack.drain(at..);
                let fields = info.fields.iter().map(|(n, _)| Arc::from(n.as_str())).zip(values).collect();
                self.stack.push(Value::Record(Arc::new(Record { type_name: Arc::from(info.name.as_str()), fields })));
            }
            Instr::Concat { parts } => {
                let at = self.stack.len() - *parts as usize;
                let mut out = std::mem::take(&mut self.text);
                let joined = self.stack.drain(at..).try_for_each(|v| limits::push_value(&mut out, &v));
                if joined.is_ok() {
                    self.stack.push(Value::Text(Arc::from(out.as_str())));
                }
                out.clear();
                // A text that reached the limit leaves its room to the next, not its size.
                out.shrink_to(limits::MAX_TEXT_BYTES / 16);
                self.text = out;
                joined?;
            }
            Instr::PerLanguage { languages } => {
                let Value::List(langs) = bundle.constant(*languages) else { return Err("bad language table".into()) };
                let at = self.stack.len() - langs.len();
                let texts: Vec<Value> = self.stack.drain(at..).collect();
                let pick = ops::pick_language(&self.contact.language, langs);
                self.stack.push(texts.into_iter().nth(pick).unwrap_or(Value::None));
            }
            Instr::Jump { to } => self.jump(*to),
            Instr::JumpIfFalse { to } => {
                if !ops::truthy(&self.pop()) {
                    self.jump(*to);
                }
            }
            Instr::JumpIfTrue { to } => {
                if ops::truthy(&self.pop()) {
                    self.jump(*to);
                }
            }
            Instr::JumpIfSome { to } => {
                if !self.pop().is_none() {
                    self.jump(*to);
                }
            }
            Instr::Switch { targets } => {
                let n = self.pop().as_number().unwrap_or(-1.0);
                let i = if n >= 0.0 && (n as usize) < targets.len() { n as usize } else { targets.len() - 1 };
                let to = targets[i];
                self.jump(to);
            }
            Instr::Call { func, args } => self.enter(bundle, *func, *args as usize),
            Instr::Builtin { builtin, args } => {
                let at = self.stack.len() - *args as usize;
                let values: Vec<Value> = self.stack.drain(at..).collect();
                let v = ops::builtin(bundle, host.tables, *builtin, values, now)?;
                self.stack.push(v);
            }
            Instr::Return => self.ret(bundle)?,
            Instr::Goto { func } => {
                let func = *func;
                self.frames.pop();
                self.stack.clear();
                self.enter(bundle, func, 0);
            }
            Instr::Fail { reason } => return Err(bundle.constant(*reason).display()),
            Instr::Say => return Ok(Some(Effect::Say(self.pop_text()?))),
            Instr::Note => return Ok(Some(Effect::Note(self.pop_text()?))),
            Instr::Waypoint { name } => return Ok(Some(Effect::Waypoint(Vm::const_text(bundle, *name)))),
            Instr::Ask { ask } => return Ok(Some(Effect::Ask { ask: *ask, prompt: self.pop_text()? })),
            Instr::Menu { menu } => return Ok(Some(Effect::Menu { menu: *menu, prompt: self.pop_text()? })),
            Instr::Choose { choice } => return Ok(Some(Effect::Choose { choice: *choice, prompt: self.pop_text()? })),
            Instr::Lookup { source } => return Ok(Some(Effect::Lookup { source: *source, key: self.pop() })),
            Instr::Queue { queue, priority, prefer_ms, require, vip } => {
                let prefer = prefer_ms.map(|ms| (self.pop(), ms)).filter(|(agent, _)| !agent.is_none());
                let require = require.iter().map(|c| Vm::const_text(bundle, *c)).collect();
                return Ok(Some(Effect::Queue { queue: *queue, priority: *priority, prefer, require, vip: *vip }));
            }
            Instr::Transfer => return Ok(Some(Effect::Transfer { to: self.pop() })),
            Instr::OfferCallback { keep_place } => return Ok(Some(Effect::OfferCallback { keep_place: *keep_place })),
            Instr::CollectPayment => return Ok(Some(Effect::CollectPayment { amount: self.pop() })),
            Instr::Send { medium } => {
                let text = self.pop_text()?;
                let to = self.pop();
                return Ok(Some(Effect::Send { medium: *medium, to, text }));
            }
            Instr::StartRetry { retry } => return Ok(Some(Effect::StartRetry { retry: *retry, subject: self.pop() })),
            Instr::Survey { survey } => return Ok(Some(Effect::Survey { survey: *survey })),
            Instr::End => return Ok(Some(Effect::End)),
            Instr::Outcome { name } => return Ok(Some(Effect::Outcome(Vm::const_text(bundle, *name)))),
            Instr::CallOut { queue, script } => {
                return Ok(Some(Effect::Call { to: self.pop(), queue: *queue, script: *script }));
            }
            Instr::Again { delay_ms, at_minutes, max } => {
                return Ok(Some(Effect::Again { delay_ms: *delay_ms, at_minutes: *at_minutes, max: *max }))
            }
            Instr::Stop => return Ok(Some(Effect::Stop)),
            Instr::Extern { func, args } => {
                let at = self.stack.len() - *args as usize;
                let args = self.stack.drain(at..).collect();
                return Ok(Some(Effect::Extern { func: *func, args }));
            }
        }
        Ok(None)
    }

    fn jump(&mut self, to: u32) {
        if let Some(f) = self.frames.last_mut() {
            f.pc = to;
        }
    }

    /// Leaves the current function, carrying its result to the caller. Leaving the
    /// outermost function ends the run, its result (if any) kept on the stack.
    fn ret(&mut self, bundle: &Bundle) -> Result<(), String> {
        let Some(frame) = self.frames.pop() else {
            self.state = State::Done;
            return Ok(());
        };
        let locals = bundle.func(frame.func).locals as usize;
        let result = if self.stack.len() > frame.base as usize + locals { self.stack.pop() } else { None };
        self.stack.truncate(frame.base as usize);
        if let Some(v) = result {
            self.stack.push(v);
        }
        if self.frames.is_empty() {
            self.state = State::Done;
        }
        Ok(())
    }

    /// The value a finished function returned (for `fn`s, time zones, announcements).
    pub fn result(&self) -> Option<&Value> {
        self.stack.last()
    }
}
