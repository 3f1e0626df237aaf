//! The syntax tree of one `.flow` file: what the parser builds and every later stage reads.
//!
//! Every node carries the byte span it was parsed from. Nodes are plain data: no
//! resolution or type information lives here (see `check`).

use serde::{Deserialize, Serialize};

pub use switchboard_bytecode::span::Span;

/// A name as written, with where it was written.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A `// comment`, kept for the formatter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    pub text: String,
    pub span: Span,
}

/// One parsed file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct File {
    pub items: Vec<Item>,
    pub comments: Vec<Comment>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub kind: ItemKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ItemKind {
    Use(UseDecl),
    Currency(Ident),
    Record(RecordDecl),
    Enum(EnumDecl),
    Skills(Vec<Ident>),
    Source(SourceDecl),
    Hours(HoursDecl),
    Entry(EntryDecl),
    Queue(QueueDecl),
    Fn(FnDecl),
    ExternFn(ExternFnDecl),
    Flow(FlowDecl),
    Script(ScriptDecl),
    Survey(SurveyDecl),
    Retry(RetryDecl),
    Reply(ReplyDecl),
    Scorecard(ScorecardDecl),
    Test(TestDecl),
}

/// `use std.surveys.{csat, nps}` or `use std.surveys.csat`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UseDecl {
    /// The module path: `std`, `surveys`.
    pub module: Vec<Ident>,
    /// The names brought in.
    pub names: Vec<Ident>,
    /// Written with braces (`{csat}`), kept for the formatter.
    pub braced: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordDecl {
    pub name: Ident,
    pub fields: Vec<FieldDecl>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldDecl {
    pub name: Ident,
    pub ty: TypeExpr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnumDecl {
    pub name: Ident,
    pub variants: Vec<Ident>,
}

/// A type as written: `text`, `phone?`, `[text]`, `Customer`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TypeExpr {
    pub kind: TypeExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum TypeExprKind {
    Named(Ident),
    List(Box<TypeExpr>),
    Optional(Box<TypeExpr>),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceDecl {
    pub name: Ident,
    pub record: Ident,
    pub clauses: Vec<SourceClause>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceClause {
    pub kind: SourceClauseKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SourceClauseKind {
    /// `csv "data/customers.csv"`
    Csv(StrLit),
    /// `sqlite "data/crm.db" table "customers"`
    Sqlite { path: StrLit, table: StrLit },
    /// `http "https://crm.example/customers/{key}"`
    Http(StrLit),
    /// `sql "select …"`
    Sql(StrLit),
    /// `key phone, email`
    Key(Vec<Ident>),
    /// `timeout 500ms`
    Timeout(DurationLit),
    /// `cache 5m`
    Cache(DurationLit),
}

/// A plain string literal with no interpolation (paths, zone names, options).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StrLit {
    pub value: String,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DurationLit {
    pub millis: i64,
    pub span: Span,
}

/// A time of day as written: `14:00`. Out-of-range values are kept for the checker.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimeLit {
    pub hour: u32,
    pub minute: u32,
    pub span: Span,
}

impl TimeLit {
    pub fn minutes(self) -> u32 {
        self.hour * 60 + self.minute
    }
}

/// A calendar date as written: `2026-12-25`. Validity is the checker's business.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DateLit {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HoursDecl {
    pub name: Ident,
    pub clauses: Vec<HoursClause>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HoursClause {
    pub kind: HoursClauseKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum HoursClauseKind {
    /// `timezone "Europe/London"`
    Timezone(StrLit),
    /// `mon..fri 08:00-18:00`, `sat, sun 10:00-12:00 14:00-16:00`
    Open { days: Vec<DayRange>, ranges: Vec<(TimeLit, TimeLit)> },
    /// `closed 2026-12-25, 2026-12-26`
    Closed(Vec<DateLit>),
}

/// `mon` or `mon..fri`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DayRange {
    pub from: Ident,
    pub to: Option<Ident>,
    pub span: Span,
}

/// `entry voice +441632960000 -> inbound`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EntryDecl {
    pub channel: Ident,
    pub address: Expr,
    pub flow: Ident,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueDecl {
    pub name: Ident,
    pub clauses: Vec<QueueClause>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueClause {
    pub kind: QueueClauseKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum QueueClauseKind {
    /// `skills billing, spanish`
    Skills(Vec<Ident>),
    /// `target voice 80% in 20s`
    Target { channel: Ident, percent: NumberLit, within: DurationLit },
    /// `priority voice 10, chat 10`
    Priority(Vec<(Ident, NumberLit)>),
    /// `while waiting { … }`
    WhileWaiting(Vec<WaitingClause>),
    /// `overflow after 10m to support`
    Overflow { after: DurationLit, to: Ident },
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct NumberLit {
    pub value: f64,
    pub span: Span,
}

/// One line of `while waiting`: `every 45s say …` or `after 2m offer callback keep place`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WaitingClause {
    pub repeat: bool,
    pub delay: DurationLit,
    pub action: Stmt,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Param {
    pub name: Ident,
    pub ty: TypeExpr,
}

/// `fn greeting(c: Customer?) -> text = "Hello …"`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FnDecl {
    pub name: Ident,
    pub params: Vec<Param>,
    pub ret: TypeExpr,
    pub body: Expr,
}

/// `extern fn risk_score(c: Customer) -> number from "scripts/risk.rhai"`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExternFnDecl {
    pub name: Ident,
    pub params: Vec<Param>,
    pub ret: TypeExpr,
    pub path: StrLit,
}

/// `flow inbound on voice, chat { … }`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlowDecl {
    pub name: Ident,
    pub channels: Vec<Ident>,
    pub on_error: Option<Block>,
    pub body: Block,
}

/// `script billing_call for queue billing { let …  step … }`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScriptDecl {
    pub name: Ident,
    pub queue: Option<Ident>,
    /// `let` lines before the first step: names every step sees.
    pub prelude: Vec<Stmt>,
    pub steps: Vec<StepDecl>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepDecl {
    pub name: Ident,
    pub body: Block,
    pub span: Span,
}

/// `reply refund_delay for queue billing with customer: Customer "Sorry, {customer.name} …"`:
/// a response suggested to agents in the composer of the queue's contacts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReplyDecl {
    pub name: Ident,
    /// `for queue Q`; none: every queue.
    pub queue: Option<Ident>,
    /// `with customer: Customer`: the record the contact's flow looked up.
    pub with: Option<Param>,
    /// A text, or one per language (`{ en: "…", es: "…" }`).
    pub text: Expr,
}

/// `scorecard call_quality { question greeted "Greeted the customer by name" weight 10 … }`:
/// what a reviewer scores an ended contact against.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScorecardDecl {
    pub name: Ident,
    pub questions: Vec<QuestionDecl>,
}

/// `question greeted "Greeted the customer by name" weight 10`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuestionDecl {
    pub name: Ident,
    pub text: StrLit,
    pub weight: NumberLit,
    pub span: Span,
}

/// `survey csat { via same channel  ask … }`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SurveyDecl {
    pub name: Ident,
    pub via: Option<Via>,
    pub body: Block,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Via {
    pub kind: ViaKind,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ViaKind {
    SameChannel,
    Sms,
    Email,
}

/// `retry web_inquiry for lead: Lead { … }`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RetryDecl {
    pub name: Ident,
    pub param: Param,
    pub clauses: Vec<RetryClause>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RetryClause {
    pub kind: RetryClauseKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum RetryClauseKind {
    /// `timezone lead.timezone` or `timezone "Europe/London"`
    Timezone(Expr),
    /// `quiet 21:00-08:00`
    Quiet { from: TimeLit, to: TimeLit },
    /// `immediately …`, `at 11:00 …`, `after 2h …`
    Step { when: When, action: Stmt },
    /// `on no_answer { … }`
    On { event: Ident, body: Block },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum When {
    Immediately(Span),
    At(TimeLit),
    After(DurationLit),
}

/// A block of statements between braces.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum StmtKind {
    /// `let x = e`
    Let { name: Ident, value: Expr },
    /// `let x = lookup crm by e [else { … }]`
    Lookup { name: Ident, source: Ident, key: Expr, else_block: Option<Block> },
    /// `x = e`, `contact.language = e`
    Assign { target: Expr, value: Expr },
    /// `say TEXT`
    Say(Expr),
    /// `ask x: T TEXT [timeout D] [retries N] [else { … }]`
    Ask(Box<Ask>),
    /// `menu TEXT { … }`
    Menu(Box<Menu>),
    /// `if c { … } else if c { … } else { … }`
    If { branches: Vec<(Expr, Block)>, else_block: Option<Block> },
    /// `match e { pat -> … }`
    Match { scrutinee: Expr, arms: Vec<MatchArm> },
    /// `waypoint name`
    Waypoint(Ident),
    /// `queue Q [priority +N] [prefer e for D] [require skill s]`
    Queue(Box<QueueStmt>),
    /// `transfer to e`
    Transfer(Expr),
    /// `offer callback [keep place]`
    OfferCallback { keep_place: bool },
    /// `collect payment e`
    CollectPayment(Expr),
    /// `send sms to e TEXT`, `send email to e TEXT`
    Send { medium: Ident, to: Expr, text: Expr },
    /// `start retry R for e`
    StartRetry { retry: Ident, arg: Expr },
    /// `survey S`
    Survey(Ident),
    /// `end`
    End,
    /// `note TEXT` (scripts)
    Note(Expr),
    /// `choose TEXT { "option" -> step … }` (scripts)
    Choose { prompt: Expr, options: Vec<ChooseOption> },
    /// `goto step` (scripts)
    Goto(Ident),
    /// `outcome name` (scripts)
    Outcome(Ident),
    /// `call e queue Q [script S]` (retry strategies)
    Call { to: Expr, queue: Ident, script: Option<Ident> },
    /// `again in D [at T] max N` (retry strategies)
    Again { delay: DurationLit, at: Option<TimeLit>, max: NumberLit },
    /// `stop` (retry strategies)
    Stop,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ask {
    pub name: Ident,
    pub ty: AskType,
    pub prompt: Expr,
    pub timeout: Option<DurationLit>,
    pub retries: Option<NumberLit>,
    pub else_block: Option<Block>,
}

/// The type of answer an `ask` collects.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AskType {
    pub kind: AskTypeKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum AskTypeKind {
    /// `digits(8)`
    Digits(NumberLit),
    /// `yes/no`
    YesNo,
    /// `1..5`
    Range(NumberLit, NumberLit),
    /// `number`, `text`, `date`, `money`, …
    Named(TypeExpr),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Menu {
    pub prompt: Expr,
    pub options: Vec<MenuOption>,
    pub timeout: Option<MenuTimeout>,
}

/// `1 "billing" { … }`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MenuOption {
    pub key: StrLit,
    pub label: Option<StrLit>,
    pub body: Block,
    pub span: Span,
}

/// `timeout 8s retries 2 { … }`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MenuTimeout {
    pub timeout: DurationLit,
    pub retries: Option<NumberLit>,
    pub body: Block,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MatchArm {
    /// Alternatives (`voice | chat`); empty for `_`.
    pub patterns: Vec<Expr>,
    pub body: Block,
    /// `pat -> stmt` written without braces, kept for the formatter.
    pub braced: bool,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueStmt {
    pub queue: Ident,
    pub priority: Option<NumberLit>,
    pub prefer: Option<(Expr, DurationLit)>,
    pub require: Vec<Ident>,
    /// `vip`: ahead of every contact that is not.
    pub vip: bool,
}

/// `"A wrong amount" -> dispute`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChooseOption {
    pub label: StrLit,
    pub step: Ident,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ExprKind {
    Number(f64),
    /// `80%`, as written (80.0).
    Percent(f64),
    Bool(bool),
    Duration(i64),
    Time {
        hour: u32,
        minute: u32,
    },
    Date {
        year: i32,
        month: u32,
        day: u32,
    },
    /// `£12.50`: the symbol and the amount in minor units (pence, cents).
    Money {
        symbol: char,
        minor: i64,
    },
    /// `+441632960000`
    Phone(String),
    /// `"Hello {name}"`
    Text(Vec<TextPart>),
    /// `/regex/`
    Regex(String),
    List(Vec<Expr>),
    None,
    Name(Ident),
    /// `a.b` or `a?.b`
    Field {
        base: Box<Expr>,
        name: Ident,
        optional: bool,
    },
    Call {
        callee: Ident,
        args: Vec<Expr>,
    },
    /// `{ name: "Kim", … }`: a record, or a per-language text when it stands for a text.
    Record(Vec<(Ident, Expr)>),
    Unary {
        op: UnaryOp,
        expr: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Paren(Box<Expr>),
    /// Where the parser refused an expression (nested too deep, or a number too large to
    /// hold), after reporting why: it has no type, and nothing more is said of it.
    Error,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum TextPart {
    Lit(String),
    Expr(Expr),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum UnaryOp {
    Not,
    Neg,
}

pub use switchboard_bytecode::span::BinaryOp;

/// `test "name" { … }`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestDecl {
    pub name: StrLit,
    pub lines: Vec<TestLine>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestLine {
    pub kind: TestLineKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum TestLineKind {
    /// `given crm { … }`
    Given { source: Ident, row: Expr },
    /// `at 2026-11-23 10:00 "Europe/London"`
    At { date: DateLit, time: TimeLit, zone: Option<StrLit> },
    /// `agent kim skills billing, support languages en, es`
    Agent { name: Ident, skills: Vec<Ident>, languages: Vec<Ident> },
    /// `contact voice from A [to B] [subject T] [text T]`
    Contact { channel: Ident, from: Expr, to: Option<Expr>, subject: Option<Expr>, text: Option<Expr> },
    /// `script S`
    Script(Ident),
    /// `survey S`
    Survey(Ident),
    /// `start retry R for V`
    StartRetry { retry: Ident, arg: Expr },
    /// `press 1`
    Press(StrLit),
    /// `type "billing"`
    Type(Expr),
    /// `wait 8s`
    Wait(DurationLit),
    /// `advance to 2026-11-23 16:00`
    AdvanceTo { date: DateLit, time: TimeLit },
    /// `answer V`
    Answer(Expr),
    /// `choose "option"`
    Choose(StrLit),
    /// `event no_answer`
    Event(Ident),
    /// `accept`: the offered agent takes the contact.
    Accept,
    /// `hang up`: the customer abandons.
    HangUp,
    /// `expect …`
    Expect(Expectation),
    /// `expect no waypoint x`, `expect no call`
    ExpectNo { kind: Ident, name: Option<Ident> },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Expectation {
    Say(Expr),
    Note(Expr),
    Waypoint(Ident),
    Queue {
        queue: Ident,
        priority: Option<NumberLit>,
    },
    Transfer(Expr),
    Send {
        medium: Ident,
        to: Expr,
        text: Option<Expr>,
    },
    Call {
        to: Expr,
        queue: Option<Ident>,
    },
    Outcome(Ident),
    /// `expect offer kim [voice]`
    Offer {
        agent: Ident,
        channel: Option<Ident>,
    },
    Stop,
    End,
    Error,
}
