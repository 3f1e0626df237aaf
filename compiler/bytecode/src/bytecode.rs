//! The compiled form of a project: a `Bundle` of functions in a small stack-machine
//! instruction set, a constant pool, a span side table, and the tables the engine needs
//! (queues, hours, sources, entries, scripts, surveys, retry strategies, replies, scorecards).
//!
//! The bundle is the unit of deployment: plain serde data, content-hashed, versioned.

use crate::span::{BinaryOp, FileId, Span};
use crate::types::{Channel, ChannelSet, Type};
use crate::value::{Currency, Value};
use serde::{Deserialize, Serialize};

/// Bumped whenever the bundle's layout or an instruction's meaning changes.
pub const FORMAT_VERSION: u32 = 4;

macro_rules! index {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub struct $name(pub u32);
        impl $name {
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
    )*};
}

index!(
    /// A function of the bundle: a flow body, a step, a survey, a handler, a `fn`.
    FuncId,
    /// An entry of the constant pool.
    ConstId,
    /// A local slot of the current frame.
    Slot,
    /// A slot shared by every function of one run (script `let`s, a retry's subject).
    Global,
    QueueId,
    SourceId,
    HoursId,
    RecordId,
    ExternId,
    FlowId,
    ScriptId,
    SurveyId,
    RetryId,
    AskId,
    MenuId,
    ChoiceId,
);

/// One instruction. Operands are named; jumps are absolute positions in the function.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Instr {
    // Values
    Const {
        value: ConstId,
    },
    Load {
        slot: Slot,
    },
    Store {
        slot: Slot,
    },
    LoadGlobal {
        global: Global,
    },
    StoreGlobal {
        global: Global,
    },
    /// `contact.FIELD`
    Contact {
        field: ContactField,
    },
    /// `contact.attributes.NAME` (text or none)
    Attribute {
        name: ConstId,
    },
    SetLanguage,
    SetAttribute {
        name: ConstId,
    },
    /// `agent.FIELD` in scripts
    AgentField {
        field: AgentField,
    },
    /// `queue.position` / `queue.ewt` in `while waiting`
    QueueField {
        field: QueueField,
    },
    Now,
    /// A record's field by name; the record must not be none. `index`: where the field
    /// stands in the record's declaration, when codegen knows the record's type (the name
    /// is checked there first, and searched for in a record laid out otherwise).
    Field {
        name: ConstId,
        index: Option<u16>,
    },
    /// `?.`: none stays none.
    OptField {
        name: ConstId,
        index: Option<u16>,
    },
    Pop,
    Dup,
    // Operators
    Not,
    Neg,
    Binary {
        op: BinaryOp,
    },
    Matches {
        regex: ConstId,
    },
    MakeList {
        len: u16,
    },
    /// Pops one value per field (declaration order) and builds the record.
    MakeRecord {
        record: RecordId,
    },
    /// Pops `parts` values and joins their display texts.
    Concat {
        parts: u16,
    },
    /// Pops one text per language in `languages` (a list constant) and keeps the one for
    /// the contact's language, falling back to the first.
    PerLanguage {
        languages: ConstId,
    },
    // Control
    Jump {
        to: u32,
    },
    JumpIfFalse {
        to: u32,
    },
    JumpIfTrue {
        to: u32,
    },
    /// Pops; jumps when the value is not none.
    JumpIfSome {
        to: u32,
    },
    /// Pops a number n and jumps to `targets[n]`, or to the last target when out of range.
    Switch {
        targets: Vec<u32>,
    },
    Call {
        func: FuncId,
        args: u16,
    },
    Builtin {
        builtin: Builtin,
        args: u16,
    },
    Return,
    /// `goto step`: replaces the current function with another step of the script.
    Goto {
        func: FuncId,
    },
    /// The contact takes the error route (`on error`), or ends with an error event.
    Fail {
        reason: ConstId,
    },
    // Effects: the VM yields them; the engine performs them and resumes it.
    Say,
    Note,
    Waypoint {
        name: ConstId,
    },
    /// Pops the prompt; resumes with the answer (none when there was none).
    Ask {
        ask: AskId,
    },
    /// Pops the prompt; resumes with the chosen option's index (the last index for time-out).
    Menu {
        menu: MenuId,
    },
    /// Pops the key; resumes with the record or none.
    Lookup {
        source: SourceId,
    },
    /// Pops the preferred agent when `prefer` is set; ends the flow.
    Queue {
        queue: QueueId,
        priority: i32,
        prefer_ms: Option<i64>,
        require: Vec<ConstId>,
        vip: bool,
    },
    Transfer,
    OfferCallback {
        keep_place: bool,
    },
    CollectPayment,
    /// Pops the text, then the address.
    Send {
        medium: Medium,
    },
    StartRetry {
        retry: RetryId,
    },
    Survey {
        survey: SurveyId,
    },
    End,
    /// Pops the prompt; resumes with the chosen option's index.
    Choose {
        choice: ChoiceId,
    },
    Outcome {
        name: ConstId,
    },
    /// Pops the number; a call through the routing engine.
    CallOut {
        queue: QueueId,
        script: Option<ScriptId>,
    },
    Again {
        delay_ms: i64,
        at_minutes: Option<u32>,
        max: u32,
    },
    Stop,
    /// Pops `args` values; resumes with the result, or takes the error route.
    Extern {
        func: ExternId,
        args: u16,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ContactField {
    Id,
    Channel,
    From,
    To,
    Text,
    Subject,
    Language,
    Country,
    StartedAt,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AgentField {
    Id,
    Name,
    Skills,
    Languages,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum QueueField {
    Position,
    Ewt,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Medium {
    Sms,
    Email,
}

/// Built-in functions that compute (they touch nothing outside the VM).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Builtin {
    Open(HoursId),
    Lower,
    Upper,
    Trim,
    Len,
    Left,
    Right,
    StartsWith,
    EndsWith,
    Replace,
    Round,
    Floor,
    Ceil,
    Abs,
    Min,
    Max,
    LocalTime,
    LocalDate,
    Weekday,
    DaysBetween,
    AddDays,
    Minutes,
}

impl Builtin {
    pub fn by_name(name: &str) -> Option<Builtin> {
        Some(match name {
            "lower" => Builtin::Lower,
            "upper" => Builtin::Upper,
            "trim" => Builtin::Trim,
            "len" => Builtin::Len,
            "left" => Builtin::Left,
            "right" => Builtin::Right,
            "starts_with" => Builtin::StartsWith,
            "ends_with" => Builtin::EndsWith,
            "replace" => Builtin::Replace,
            "round" => Builtin::Round,
            "floor" => Builtin::Floor,
            "ceil" => Builtin::Ceil,
            "abs" => Builtin::Abs,
            "min" => Builtin::Min,
            "max" => Builtin::Max,
            "local_time" => Builtin::LocalTime,
            "local_date" => Builtin::LocalDate,
            "weekday" => Builtin::Weekday,
            "days_between" => Builtin::DaysBetween,
            "add_days" => Builtin::AddDays,
            "minutes" => Builtin::Minutes,
            _ => return None,
        })
    }
}

/// A compiled function: code, how many local slots it uses, and where each instruction
/// came from (a side table parallel to `code`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Function {
    pub name: String,
    pub params: u16,
    pub locals: u16,
    pub code: Vec<Instr>,
    pub spans: Vec<SourceSpan>,
}

/// Where an instruction came from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceSpan {
    pub file: FileId,
    pub span: Span,
}

/// How an `ask` validates its answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AskInfo {
    pub name: String,
    pub kind: AnswerKind,
    pub timeout_ms: Option<i64>,
    pub retries: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum AnswerKind {
    Digits(u32),
    YesNo,
    Range(f64, f64),
    Number,
    Text,
    Date,
    Money,
    Phone,
    Email,
    Time,
    Enum(Vec<String>),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MenuInfo {
    /// Each option's key and label, in order; the resume index picks one.
    pub options: Vec<(String, Option<String>)>,
    pub timeout_ms: i64,
    pub retries: u32,
    /// Whether a `timeout` block follows the options (its index is `options.len()`).
    pub has_timeout: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChoiceInfo {
    pub options: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlowInfo {
    pub name: String,
    pub channels: ChannelSet,
    pub body: FuncId,
    pub on_error: Option<FuncId>,
    /// Global slots the flow's functions share.
    pub globals: u16,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScriptInfo {
    pub name: String,
    pub queue: Option<QueueId>,
    /// Runs first: the `let` lines every step sees (stored in globals).
    pub prelude: FuncId,
    pub steps: Vec<(String, FuncId)>,
    pub globals: u16,
}

/// A `reply` template: a response the agent's composer suggests for a contact.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReplyInfo {
    pub name: String,
    /// None: every queue. A reply for a queue replaces one of the same name for every queue.
    pub queue: Option<QueueId>,
    /// The record type of its `with` (global 0 of `text`): the reply is offered only for a
    /// contact whose flow found a record of that type.
    pub record: Option<RecordId>,
    /// Computes the text (a function of no parameters, returning a text).
    pub text: FuncId,
    pub globals: u16,
}

/// A `scorecard`: the questions a reviewer answers about an ended contact. A contact's
/// score is the sum of weight × answer (each 0 to 1) over the sum of the weights, out of 100.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScorecardInfo {
    pub name: String,
    pub questions: Vec<QuestionInfo>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuestionInfo {
    pub name: String,
    pub text: String,
    /// 1 to 100.
    pub weight: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SurveyInfo {
    pub name: String,
    pub via: SurveyVia,
    pub body: FuncId,
    pub globals: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SurveyVia {
    SameChannel,
    Sms,
    Email,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RetryInfo {
    pub name: String,
    pub param: Type,
    /// Computes the strategy's time zone from its subject (global 0); none: UTC.
    pub timezone: Option<FuncId>,
    /// Quiet hours as minutes after midnight (from, to).
    pub quiet: Option<(u32, u32)>,
    pub steps: Vec<RetryStep>,
    pub handlers: Vec<(String, FuncId)>,
    pub globals: u16,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RetryStep {
    pub when: StepTime,
    pub action: FuncId,
    /// Whether quiet hours hold this step (calls and SMS, never email).
    pub held: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StepTime {
    Immediately,
    /// The next such time of day after the step before.
    At(u32),
    After(i64),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueInfo {
    pub name: String,
    pub skills: Vec<String>,
    /// Service-level targets: channel, fraction (0.8), within (ms).
    pub targets: Vec<(Channel, f64, i64)>,
    /// Channel priority buckets.
    pub priorities: Vec<(Channel, i32)>,
    pub waiting: Vec<WaitingLine>,
    pub overflow: Option<(i64, QueueId)>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WaitingLine {
    pub repeat: bool,
    pub delay_ms: i64,
    pub action: WaitingAction,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum WaitingAction {
    /// A function computing the announcement.
    Say(FuncId),
    OfferCallback {
        keep_place: bool,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HoursInfo {
    pub name: String,
    pub zone: String,
    /// Monday first; minutes after midnight.
    pub weekly: [Vec<(u32, u32)>; 7],
    pub closed: Vec<jiff::civil::Date>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordInfo {
    pub name: String,
    pub fields: Vec<(String, Type)>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnumInfo {
    pub name: String,
    pub variants: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceInfo {
    pub name: String,
    pub record: RecordId,
    pub location: SourceLocation,
    pub keys: Vec<String>,
    pub timeout_ms: i64,
    pub cache_ms: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SourceLocation {
    /// A CSV file, relative to the project; its bytes are carried in the bundle.
    Csv {
        path: String,
        contents: Vec<u8>,
    },
    Sqlite {
        path: String,
        table: String,
    },
    Http {
        url: String,
    },
    Sql {
        query: String,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EntryInfo {
    pub channel: Channel,
    /// The address as written (E.164 for phones, lower-case for emails and names).
    pub address: String,
    pub flow: FlowId,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExternInfo {
    pub name: String,
    pub path: String,
    /// The rhai script's text, carried in the bundle.
    pub script: String,
    pub params: Vec<Type>,
    pub ret: Type,
}

/// A whole compiled project.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Bundle {
    pub format_version: u32,
    /// SHA-256 of the project's sources (paths and texts), hex.
    pub source_hash: String,
    pub currency: Option<Currency>,
    pub files: Vec<String>,
    /// Every skill the project declares (its own and its modules').
    pub skills: Vec<String>,
    pub constants: Vec<Value>,
    pub functions: Vec<Function>,
    pub flows: Vec<FlowInfo>,
    pub scripts: Vec<ScriptInfo>,
    pub surveys: Vec<SurveyInfo>,
    pub retries: Vec<RetryInfo>,
    pub queues: Vec<QueueInfo>,
    pub hours: Vec<HoursInfo>,
    pub records: Vec<RecordInfo>,
    pub enums: Vec<EnumInfo>,
    pub sources: Vec<SourceInfo>,
    pub entries: Vec<EntryInfo>,
    pub externs: Vec<ExternInfo>,
    pub asks: Vec<AskInfo>,
    pub menus: Vec<MenuInfo>,
    pub choices: Vec<ChoiceInfo>,
    /// Names the project sees that stand for declarations of `std` modules.
    pub imports: Vec<Import>,
    /// Response templates for agents (`reply`), in declaration order.
    pub replies: Vec<ReplyInfo>,
    /// Quality scorecards for reviewers (`scorecard`), in declaration order.
    pub scorecards: Vec<ScorecardInfo>,
}

/// `use std.surveys.{nps}`: the project's `nps` is the bundle's `std.surveys.nps`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Import {
    pub name: String,
    pub target: String,
}

impl Bundle {
    pub fn func(&self, id: FuncId) -> &Function {
        &self.functions[id.index()]
    }
    pub fn constant(&self, id: ConstId) -> &Value {
        &self.constants[id.index()]
    }
    /// The bundle name a project-visible name stands for.
    pub fn resolve<'a>(&'a self, name: &'a str) -> &'a str {
        self.imports.iter().find(|i| i.name == name).map_or(name, |i| i.target.as_str())
    }
    pub fn flow(&self, name: &str) -> Option<FlowId> {
        let name = self.resolve(name);
        self.flows.iter().position(|f| f.name == name).map(|i| FlowId(i as u32))
    }
    pub fn script(&self, name: &str) -> Option<ScriptId> {
        let name = self.resolve(name);
        self.scripts.iter().position(|f| f.name == name).map(|i| ScriptId(i as u32))
    }
    pub fn survey(&self, name: &str) -> Option<SurveyId> {
        let name = self.resolve(name);
        self.surveys.iter().position(|f| f.name == name).map(|i| SurveyId(i as u32))
    }
    pub fn retry(&self, name: &str) -> Option<RetryId> {
        let name = self.resolve(name);
        self.retries.iter().position(|f| f.name == name).map(|i| RetryId(i as u32))
    }
    pub fn queue(&self, name: &str) -> Option<QueueId> {
        let name = self.resolve(name);
        self.queues.iter().position(|f| f.name == name).map(|i| QueueId(i as u32))
    }
    pub fn source(&self, name: &str) -> Option<SourceId> {
        let name = self.resolve(name);
        self.sources.iter().position(|f| f.name == name).map(|i| SourceId(i as u32))
    }
    pub fn record(&self, name: &str) -> Option<RecordId> {
        let name = self.resolve(name);
        self.records.iter().position(|f| f.name == name).map(|i| RecordId(i as u32))
    }

    /// Compact binary form (postcard).
    pub fn to_bytes(&self) -> Result<Vec<u8>, String> {
        postcard::to_allocvec(self).map_err(|e| e.to_string())
    }

    /// Reads a bundle written by `to_bytes`, refusing other format versions and any bundle
    /// the verifier ([`crate::verify`]) finds unsound: what it returns, the VM and the engine
    /// can run without indexing past a table.
    pub fn from_bytes(bytes: &[u8]) -> Result<Bundle, String> {
        let b: Bundle = postcard::from_bytes(bytes).map_err(|e| format!("not a switchboard bundle: {e}"))?;
        if b.format_version != FORMAT_VERSION {
            return Err(format!(
                "bundle format {} cannot be read by this switchboard (format {FORMAT_VERSION})",
                b.format_version
            ));
        }
        b.verify()?;
        Ok(b)
    }

    /// `Ok` when the verifier finds nothing wrong; otherwise its first finding, and how
    /// many more there are.
    pub fn verify(&self) -> Result<(), String> {
        let problems = crate::verify::verify(self);
        match problems.as_slice() {
            [] => Ok(()),
            [one] => Err(format!("the bundle is unsound: {one}")),
            [first, rest @ ..] => Err(format!("the bundle is unsound: {first} (and {} more problems)", rest.len())),
        }
    }
}
