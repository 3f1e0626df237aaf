//! pest pairs to the syntax tree, with syntax errors in the language's own words.

use super::ast::*;
use super::scan;
use crate::diagnostic::{Code, Diagnostic, FileId};
use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};
use pest::Parser as _;
use std::cell::Cell;
use std::sync::LazyLock;

#[derive(pest_derive::Parser)]
#[grammar = "syntax/grammar.pest"]
struct FlowParser;

/// How deep brackets may nest, and how deep an expression tree may grow, before the
/// parser refuses the file: keeps every later (recursive) stage far from the stack's end.
pub const MAX_NESTING: usize = 64;
const MAX_EXPR_DEPTH: u32 = 128;

/// The result of parsing one file: a tree (possibly partial) and its diagnostics.
#[derive(Debug, Default)]
pub struct Parsed {
    pub file: File,
    pub diagnostics: Vec<Diagnostic>,
    /// The file could not be read at all (pest stopped, or brackets nest too deep): `file`
    /// holds none of its declarations, though the file has some.
    pub failed: bool,
}

/// Parses one file. Never panics: a file that does not parse gives an empty tree and a
/// `syntax` diagnostic at the first place pest could not go past.
pub fn parse(file_id: FileId, text: &str) -> Parsed {
    let scanned = scan::scan(text);
    if let Some(span) = scanned.too_deep {
        let diag =
            Diagnostic::new(Code::Syntax, file_id, span, format!("brackets nest more than {MAX_NESTING} deep here"))
                .with_label("too deep")
                .with_help("split the logic into smaller flows, steps or `fn`s");
        return Parsed {
            file: File { items: Vec::new(), comments: scanned.comments },
            diagnostics: vec![diag],
            failed: true,
        };
    }
    let pairs = match FlowParser::parse(Rule::file, text) {
        Ok(pairs) => pairs,
        Err(error) => {
            return Parsed {
                file: File { items: Vec::new(), comments: scanned.comments },
                diagnostics: vec![syntax_error(file_id, text, error)],
                failed: true,
            }
        }
    };
    let builder = Builder { file: file_id, diagnostics: Vec::new(), too_deep_reported: Cell::new(false) };
    let mut builder = builder;
    let mut items = Vec::new();
    for pair in pairs.into_iter().next().map(Pair::into_inner).into_iter().flatten() {
        if pair.as_rule() == Rule::EOI {
            continue;
        }
        items.push(builder.item(pair));
    }
    Parsed { file: File { items, comments: scanned.comments }, diagnostics: builder.diagnostics, failed: false }
}

/// Parses a lone expression (used by the `run` simulator and tests).
pub fn parse_expr(file_id: FileId, text: &str) -> Result<Expr, Diagnostic> {
    let mut pairs = FlowParser::parse(Rule::expr, text).map_err(|e| syntax_error(file_id, text, e))?;
    let Some(pair) = pairs.next() else {
        return Err(Diagnostic::new(Code::Syntax, file_id, Span::new(0, text.len()), "expected a value"));
    };
    let end = pair.as_span().end();
    if !text[end..].trim().is_empty() {
        return Err(Diagnostic::new(
            Code::Syntax,
            file_id,
            Span::new(end, text.len()),
            "unexpected text after the value",
        ));
    }
    let mut builder = Builder { file: file_id, diagnostics: Vec::new(), too_deep_reported: Cell::new(false) };
    let expr = builder.expr(pair);
    match builder.diagnostics.into_iter().next() {
        Some(d) => Err(d),
        None => Ok(expr),
    }
}

fn syntax_error(file_id: FileId, text: &str, error: pest::error::Error<Rule>) -> Diagnostic {
    let (start, end) = match error.location {
        pest::error::InputLocation::Pos(p) => (p, p),
        pest::error::InputLocation::Span((s, e)) => (s, e),
    };
    let mut start = start.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    // Point at the whole word that could not be read, so the label has something to underline.
    let end = if end > start {
        end
    } else {
        let rest = &text[start..];
        let word = rest.find(|c: char| c.is_whitespace()).unwrap_or(rest.len());
        // At most 40 bytes, cut on a character boundary.
        let mut cut = word.min(40);
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        start + cut
    };
    let found = describe_found(&text[start..end.min(text.len())]);
    let (message, help) = match &error.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => {
            let mut wanted: Vec<&'static str> = positives.iter().filter_map(|r| describe_rule(*r)).collect();
            wanted.sort_unstable();
            wanted.dedup();
            let message = if wanted.is_empty() {
                format!("unexpected {found}")
            } else {
                format!("expected {}, found {found}", join_or(&wanted))
            };
            (message, hint_for(&text[start..], &wanted))
        }
        pest::error::ErrorVariant::CustomError { message } => (message.clone(), None),
    };
    let mut diag = Diagnostic::new(Code::Syntax, file_id, Span::new(start, end.min(text.len())), message)
        .with_label("the flow cannot be read past here");
    if let Some(help) = help {
        diag = diag.with_help(help);
    }
    diag
}

fn describe_found(s: &str) -> String {
    let s = s.trim();
    if s.is_empty() {
        "the end of the file".to_string()
    } else {
        let shown: String = s.chars().take(24).collect();
        format!("`{shown}`")
    }
}

fn join_or(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

fn hint_for(rest: &str, wanted: &[&str]) -> Option<String> {
    let rest = rest.trim_start();
    if rest.starts_with('"') && !rest[1..].contains('"') {
        return Some("a text must close with `\"` on the same line".to_string());
    }
    if rest.starts_with('\'') {
        return Some("texts are written between double quotes: \"like this\"".to_string());
    }
    if rest.starts_with("else") {
        return Some("`else` follows the `}` of an `if`, a `lookup` or an `ask`".to_string());
    }
    if wanted.contains(&"a statement") || wanted.contains(&"`}`") {
        return Some("each statement starts with a keyword such as `say`, `queue`, `if` or `let`".to_string());
    }
    None
}

/// Names for grammar rules as a manager would say them; `None` hides a rule.
fn describe_rule(rule: Rule) -> Option<&'static str> {
    use Rule::*;
    Some(match rule {
        EOI => "the end of the file",
        file => "a declaration",
        use_decl | currency_decl | record_decl | enum_decl | skills_decl | source_decl | hours_decl | entry_decl
        | queue_decl | fn_decl | extern_fn_decl | flow_decl | script_decl | survey_decl | retry_decl | reply_decl
        | scorecard_decl | test_decl => "a declaration",
        stmt | block => "a statement",
        expr => "a value",
        ident | name => "a name",
        word | word_list => "a name",
        text | text_chunk => "a text in double quotes",
        interp => "`{`",
        number | signed_int => "a number",
        percent => "a percentage like `80%`",
        duration => "a duration like `30s`",
        time | time_range => "a time like `14:00`",
        date => "a date like `2026-12-25`",
        money => "an amount like `£50`",
        phone => "a phone number like `+441632960000`",
        type_expr | named_type | list_type => "a type",
        field_decl => "a field like `name: text`",
        source_clause => "`csv`, `sqlite`, `key`, `timeout` or `cache`",
        hours_clause => "`timezone`, `closed` or days and times like `mon..fri 08:00-18:00`",
        queue_clause => "`skills`, `target`, `priority`, `while waiting` or `overflow`",
        waiting_clause => "`every` or `after`",
        retry_clause => "`timezone`, `quiet`, `immediately`, `at`, `after` or `on`",
        test_line => "a test line such as `contact`, `expect` or `press`",
        expectation => "what to expect: `say`, `waypoint`, `queue`, `send`, `call`, `end` …",
        menu_option => "a menu option like `1 \"billing\" { … }`",
        menu_timeout => "`timeout`",
        match_arm | pattern => "a match arm like `voice -> …`",
        choose_option => "an option like `\"Yes\" -> step_name`",
        step_decl => "a `step`",
        ask_type => "an answer type (`yes/no`, `1..5`, `digits(8)`, `number`, `text`, `money`, `date`)",
        record_lit | record_entry => "`{ field: value }`",
        assign_eq => "`=`",
        menu_key => "a key",
        kw_use => "`use`",
        kw_on => "`on`",
        kw_to => "`to`",
        kw_from => "`from`",
        kw_for => "`for`",
        kw_in => "`in`",
        kw_by => "`by`",
        kw_else => "`else`",
        kw_max => "`max`",
        kw_queue => "`queue`",
        kw_skill => "`skill`",
        kw_error => "`error`",
        kw_table => "`table`",
        kw_waiting => "`waiting`",
        kw_after => "`after`",
        or_op | and_op | eq | ne | le | lt | ge | gt | contains_any | contains_op | matches_op | in_op | coalesce
        | add | sub | mul | div => "an operator",
        field | opt_field => "`.`",
        _ => return None,
    })
}

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::or_op, Assoc::Left))
        .op(Op::infix(Rule::and_op, Assoc::Left))
        .op(Op::prefix(Rule::not_op))
        .op(Op::infix(Rule::eq, Assoc::Left)
            | Op::infix(Rule::ne, Assoc::Left)
            | Op::infix(Rule::lt, Assoc::Left)
            | Op::infix(Rule::le, Assoc::Left)
            | Op::infix(Rule::gt, Assoc::Left)
            | Op::infix(Rule::ge, Assoc::Left)
            | Op::infix(Rule::contains_any, Assoc::Left)
            | Op::infix(Rule::contains_op, Assoc::Left)
            | Op::infix(Rule::matches_op, Assoc::Left)
            | Op::infix(Rule::in_op, Assoc::Left))
        .op(Op::infix(Rule::coalesce, Assoc::Left))
        .op(Op::infix(Rule::add, Assoc::Left) | Op::infix(Rule::sub, Assoc::Left))
        .op(Op::infix(Rule::mul, Assoc::Left) | Op::infix(Rule::div, Assoc::Left))
        .op(Op::prefix(Rule::neg))
        .op(Op::postfix(Rule::field) | Op::postfix(Rule::opt_field))
});

fn is_keyword(rule: Rule) -> bool {
    use Rule::*;
    matches!(
        rule,
        kw_use
            | kw_currency
            | kw_record
            | kw_enum
            | kw_skills
            | kw_skill
            | kw_source
            | kw_csv
            | kw_sqlite
            | kw_table
            | kw_http
            | kw_sql
            | kw_key
            | kw_timeout
            | kw_cache
            | kw_hours
            | kw_timezone
            | kw_closed
            | kw_entry
            | kw_queue
            | kw_target
            | kw_in
            | kw_priority
            | kw_while
            | kw_waiting
            | kw_every
            | kw_after
            | kw_overflow
            | kw_to
            | kw_fn
            | kw_extern
            | kw_from
            | kw_flow
            | kw_on
            | kw_error
            | kw_script
            | kw_for
            | kw_step
            | kw_survey
            | kw_reply
            | kw_scorecard
            | kw_question
            | kw_weight
            | kw_with
            | kw_via
            | kw_same
            | kw_channel
            | kw_retry
            | kw_quiet
            | kw_immediately
            | kw_at
            | kw_let
            | kw_lookup
            | kw_by
            | kw_else
            | kw_say
            | kw_ask
            | kw_retries
            | kw_menu
            | kw_if
            | kw_match
            | kw_waypoint
            | kw_prefer
            | kw_require
            | kw_transfer
            | kw_offer
            | kw_callback
            | kw_keep
            | kw_place
            | kw_collect
            | kw_payment
            | kw_send
            | kw_start
            | kw_end
            | kw_note
            | kw_choose
            | kw_goto
            | kw_outcome
            | kw_call
            | kw_again
            | kw_max
            | kw_stop
            | kw_test
            | kw_given
            | kw_agent
            | kw_languages
            | kw_contact
            | kw_subject
            | kw_text
            | kw_press
            | kw_type
            | kw_wait
            | kw_advance
            | kw_answer
            | kw_event
            | kw_accept
            | kw_hang
            | kw_up
            | kw_expect
            | kw_no
    )
}

/// A pair's span, without the white space and comments pest takes in after a rule whose
/// last part is optional: a statement's span ends with its last token.
fn span_of(pair: &Pair<'_, Rule>) -> Span {
    let s = pair.as_span();
    Span::new(s.start(), s.start() + code_len(pair.as_str()))
}

/// The length of `text` once trailing white space and whole comment lines are taken off.
/// (A comment after code on the same line stays inside: telling it from a regex's
/// slashes takes the grammar.)
fn code_len(text: &str) -> usize {
    let mut end = text.trim_end().len();
    loop {
        let line_start = text[..end].rfind(['\n', '\r']).map_or(0, |i| i + 1);
        if line_start > 0 && text[line_start..end].trim_start().starts_with("//") {
            end = text[..line_start].trim_end().len();
        } else {
            return end;
        }
    }
}

/// The children of a pair, without keyword tokens.
fn kids<'i>(pair: Pair<'i, Rule>) -> impl Iterator<Item = Pair<'i, Rule>> {
    pair.into_inner().filter(|p| !is_keyword(p.as_rule()))
}

struct Builder {
    file: FileId,
    diagnostics: Vec<Diagnostic>,
    too_deep_reported: Cell<bool>,
}

/// Takes the next child, which the grammar guarantees.
fn next<'i>(it: &mut impl Iterator<Item = Pair<'i, Rule>>) -> Pair<'i, Rule> {
    it.next().expect("the grammar guarantees this child")
}

impl Builder {
    fn error(&mut self, span: Span, message: impl Into<String>) -> &mut Diagnostic {
        self.diagnostics.push(Diagnostic::new(Code::Syntax, self.file, span, message));
        self.diagnostics.last_mut().expect("just pushed")
    }

    fn item(&mut self, pair: Pair<'_, Rule>) -> Item {
        let span = span_of(&pair);
        let rule = pair.as_rule();
        let mut it = kids(pair);
        let kind = match rule {
            Rule::use_decl => {
                let mut module = Vec::new();
                let mut names = Vec::new();
                let mut braced = false;
                for p in it {
                    match p.as_rule() {
                        Rule::word => module.push(self.ident(p)),
                        Rule::use_names => {
                            braced = true;
                            names = kids(p).map(|w| self.ident(w)).collect();
                        }
                        _ => {}
                    }
                }
                if !braced {
                    if let Some(last) = module.pop() {
                        names.push(last);
                    }
                }
                ItemKind::Use(UseDecl { module, names, braced })
            }
            Rule::currency_decl => ItemKind::Currency(self.ident(next(&mut it))),
            Rule::record_decl => {
                let name = self.ident(next(&mut it));
                let fields = it
                    .map(|f| {
                        let span = span_of(&f);
                        let mut fi = kids(f);
                        let name = self.ident(next(&mut fi));
                        let ty = self.type_expr(next(&mut fi));
                        FieldDecl { name, ty, span }
                    })
                    .collect();
                ItemKind::Record(RecordDecl { name, fields })
            }
            Rule::enum_decl => {
                let name = self.ident(next(&mut it));
                let variants = it.map(|p| self.ident(p)).collect();
                ItemKind::Enum(EnumDecl { name, variants })
            }
            Rule::skills_decl => ItemKind::Skills(self.word_list(next(&mut it))),
            Rule::source_decl => {
                let name = self.ident(next(&mut it));
                let record = self.ident(next(&mut it));
                let clauses = it.map(|c| self.source_clause(c)).collect();
                ItemKind::Source(SourceDecl { name, record, clauses })
            }
            Rule::hours_decl => {
                let name = self.ident(next(&mut it));
                let clauses = it.map(|c| self.hours_clause(c)).collect();
                ItemKind::Hours(HoursDecl { name, clauses })
            }
            Rule::entry_decl => {
                let channel = self.ident(next(&mut it));
                let address = self.expr(next(&mut it));
                let flow = self.ident(next(&mut it));
                ItemKind::Entry(EntryDecl { channel, address, flow })
            }
            Rule::queue_decl => {
                let name = self.ident(next(&mut it));
                let clauses = it.map(|c| self.queue_clause(c)).collect();
                ItemKind::Queue(QueueDecl { name, clauses })
            }
            Rule::fn_decl => {
                let (name, params, ret) = self.signature(&mut it);
                let body = self.expr(next(&mut it));
                ItemKind::Fn(FnDecl { name, params, ret, body })
            }
            Rule::extern_fn_decl => {
                let (name, params, ret) = self.signature(&mut it);
                let path = self.str_lit(next(&mut it));
                ItemKind::ExternFn(ExternFnDecl { name, params, ret, path })
            }
            Rule::flow_decl => {
                let name = self.ident(next(&mut it));
                let channels = self.word_list(next(&mut it));
                let mut on_error = None;
                let mut stmts = Vec::new();
                let mut body_span: Option<Span> = None;
                for p in it {
                    match p.as_rule() {
                        Rule::on_error => on_error = Some(self.block(next(&mut kids(p)))),
                        _ => {
                            let s = self.stmt(p);
                            body_span = Some(body_span.map_or(s.span, |b| b.to(s.span)));
                            stmts.push(s);
                        }
                    }
                }
                let body = Block { stmts, span: body_span.unwrap_or(Span::new(span.end as usize, span.end as usize)) };
                ItemKind::Flow(FlowDecl { name, channels, on_error, body })
            }
            Rule::script_decl => {
                let name = self.ident(next(&mut it));
                let mut queue = None;
                let mut prelude = Vec::new();
                let mut steps = Vec::new();
                for p in it {
                    match p.as_rule() {
                        Rule::script_for => queue = Some(self.ident(next(&mut kids(p)))),
                        Rule::step_decl => {
                            let span = span_of(&p);
                            let mut si = kids(p);
                            let name = self.ident(next(&mut si));
                            let body = self.block(next(&mut si));
                            steps.push(StepDecl { name, body, span });
                        }
                        _ => prelude.push(self.stmt(p)),
                    }
                }
                ItemKind::Script(ScriptDecl { name, queue, prelude, steps })
            }
            Rule::survey_decl => {
                let name = self.ident(next(&mut it));
                let mut via = None;
                let mut stmts = Vec::new();
                let mut body_span: Option<Span> = None;
                for p in it {
                    if p.as_rule() == Rule::via_clause {
                        let vspan = span_of(&p);
                        let inner = p.into_inner().nth(1).expect("via has a kind");
                        let kind = match inner.as_rule() {
                            Rule::via_same => ViaKind::SameChannel,
                            Rule::kw_sms => ViaKind::Sms,
                            _ => ViaKind::Email,
                        };
                        via = Some(Via { kind, span: vspan });
                    } else {
                        let s = self.stmt(p);
                        body_span = Some(body_span.map_or(s.span, |b| b.to(s.span)));
                        stmts.push(s);
                    }
                }
                let body = Block { stmts, span: body_span.unwrap_or(Span::new(span.end as usize, span.end as usize)) };
                ItemKind::Survey(SurveyDecl { name, via, body })
            }
            Rule::reply_decl => {
                let name = self.ident(next(&mut it));
                let mut queue = None;
                let mut with = None;
                let mut text = None;
                for p in it {
                    match p.as_rule() {
                        Rule::script_for => queue = Some(self.ident(next(&mut kids(p)))),
                        Rule::reply_with => with = Some(self.param(next(&mut kids(p)))),
                        _ => text = Some(self.expr(p)),
                    }
                }
                let text = text.expect("a reply has a text");
                ItemKind::Reply(ReplyDecl { name, queue, with, text })
            }
            Rule::scorecard_decl => {
                let name = self.ident(next(&mut it));
                let questions = it
                    .map(|q| {
                        let span = span_of(&q);
                        let mut qi = kids(q);
                        let name = self.ident(next(&mut qi));
                        let text = self.str_lit(next(&mut qi));
                        let weight = self.number(next(&mut qi));
                        QuestionDecl { name, text, weight, span }
                    })
                    .collect();
                ItemKind::Scorecard(ScorecardDecl { name, questions })
            }
            Rule::retry_decl => {
                let name = self.ident(next(&mut it));
                let param = self.param(next(&mut it));
                let clauses = it.map(|c| self.retry_clause(c)).collect();
                ItemKind::Retry(RetryDecl { name, param, clauses })
            }
            Rule::test_decl => {
                let name = self.str_lit(next(&mut it));
                let lines = it.map(|l| self.test_line(l)).collect();
                ItemKind::Test(TestDecl { name, lines })
            }
            other => unreachable!("not a declaration: {other:?}"),
        };
        Item { kind, span }
    }

    /// `name(params) -> type`, shared by `fn` and `extern fn`.
    fn signature<'i>(&mut self, it: &mut impl Iterator<Item = Pair<'i, Rule>>) -> (Ident, Vec<Param>, TypeExpr) {
        let name = self.ident(next(it));
        let mut params = Vec::new();
        let mut p = next(it);
        if p.as_rule() == Rule::params {
            params = self.params(p);
            p = next(it);
        }
        (name, params, self.type_expr(p))
    }

    fn ident(&mut self, pair: Pair<'_, Rule>) -> Ident {
        Ident { name: pair.as_str().to_string(), span: span_of(&pair) }
    }

    fn word_list(&mut self, pair: Pair<'_, Rule>) -> Vec<Ident> {
        kids(pair).map(|w| self.ident(w)).collect()
    }

    fn params(&mut self, pair: Pair<'_, Rule>) -> Vec<Param> {
        kids(pair).map(|p| self.param(p)).collect()
    }

    fn param(&mut self, pair: Pair<'_, Rule>) -> Param {
        let mut it = kids(pair);
        let name = self.ident(next(&mut it));
        let ty = self.type_expr(next(&mut it));
        Param { name, ty }
    }

    fn type_expr(&mut self, pair: Pair<'_, Rule>) -> TypeExpr {
        let span = span_of(&pair);
        let mut it = kids(pair);
        let base = next(&mut it);
        let base_span = span_of(&base);
        let mut ty = match base.as_rule() {
            Rule::list_type => {
                TypeExpr { kind: TypeExprKind::List(Box::new(self.type_expr(next(&mut kids(base))))), span: base_span }
            }
            _ => TypeExpr { kind: TypeExprKind::Named(self.ident(next(&mut kids(base)))), span: base_span },
        };
        if it.next().is_some() {
            ty = TypeExpr { kind: TypeExprKind::Optional(Box::new(ty)), span };
        }
        ty
    }

    fn str_lit(&mut self, pair: Pair<'_, Rule>) -> StrLit {
        let span = span_of(&pair);
        let mut value = String::new();
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::text_chunk => value.push_str(&unescape(part.as_str())),
                _ => {
                    let ispan = span_of(&part);
                    // `http "https://crm/{key}"` keeps its placeholder.
                    if part.as_str().trim_matches(|c: char| c == '{' || c == '}' || c.is_whitespace()) == "key" {
                        value.push_str("{key}");
                        continue;
                    }
                    self.error(ispan, "this text cannot contain `{…}`").help =
                        Some("write `{{` for a literal brace".to_string());
                }
            }
        }
        StrLit { value, span }
    }

    fn duration(&mut self, pair: Pair<'_, Rule>) -> DurationLit {
        let span = span_of(&pair);
        let millis = parse_duration(pair.as_str()).unwrap_or_else(|| {
            self.error(span, "this duration is too long");
            0
        });
        DurationLit { millis, span }
    }

    fn time(&mut self, pair: Pair<'_, Rule>) -> TimeLit {
        let span = span_of(&pair);
        let (h, m) = pair.as_str().split_once(':').unwrap_or(("0", "0"));
        TimeLit { hour: h.parse().unwrap_or(99), minute: m.parse().unwrap_or(99), span }
    }

    fn date(&mut self, pair: Pair<'_, Rule>) -> DateLit {
        let span = span_of(&pair);
        let mut parts = pair.as_str().split('-');
        let year = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        let month = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        let day = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        DateLit { year, month, day, span }
    }

    /// A number as written; one too large to hold (it would read as infinity) is an
    /// `invalid-value` error, and reads as the largest number there is.
    fn number(&mut self, pair: Pair<'_, Rule>) -> NumberLit {
        let span = span_of(&pair);
        let text = pair.as_str().trim_end_matches('%');
        let mut value = text.parse::<f64>().unwrap_or_else(|_| {
            self.error(span, "this number cannot be read");
            0.0
        });
        if value.is_infinite() {
            self.diagnostics.push(
                Diagnostic::new(Code::InvalidValue, self.file, span, "this number is too large")
                    .with_label("too large")
                    .with_help("write a number of at most 308 digits"),
            );
            value = f64::MAX;
        }
        NumberLit { value, span }
    }

    /// A number or percentage in an expression: where it is too large, the expression is
    /// refused (`ExprKind::Error`), so that nothing more is said of it.
    fn number_expr(&mut self, pair: Pair<'_, Rule>, kind: fn(f64) -> ExprKind) -> ExprKind {
        let before = self.diagnostics.len();
        let n = self.number(pair);
        if self.diagnostics.len() > before {
            ExprKind::Error
        } else {
            kind(n.value)
        }
    }

    fn source_clause(&mut self, pair: Pair<'_, Rule>) -> SourceClause {
        let span = span_of(&pair);
        let inner = next(&mut kids(pair));
        let rule = inner.as_rule();
        let mut it = kids(inner);
        let kind = match rule {
            Rule::csv_clause => SourceClauseKind::Csv(self.str_lit(next(&mut it))),
            Rule::sqlite_clause => {
                let path = self.str_lit(next(&mut it));
                let table = self.str_lit(next(&mut it));
                SourceClauseKind::Sqlite { path, table }
            }
            Rule::http_clause => SourceClauseKind::Http(self.str_lit(next(&mut it))),
            Rule::sql_clause => SourceClauseKind::Sql(self.str_lit(next(&mut it))),
            Rule::key_clause => SourceClauseKind::Key(self.word_list(next(&mut it))),
            Rule::timeout_clause => SourceClauseKind::Timeout(self.duration(next(&mut it))),
            _ => SourceClauseKind::Cache(self.duration(next(&mut it))),
        };
        SourceClause { kind, span }
    }

    fn hours_clause(&mut self, pair: Pair<'_, Rule>) -> HoursClause {
        let span = span_of(&pair);
        let inner = next(&mut kids(pair));
        let rule = inner.as_rule();
        let it = kids(inner);
        let kind = match rule {
            Rule::tz_clause => HoursClauseKind::Timezone(self.str_lit(next(&mut { it }))),
            Rule::closed_clause => HoursClauseKind::Closed(it.map(|d| self.date(d)).collect()),
            _ => {
                let mut days = Vec::new();
                let mut ranges = Vec::new();
                for p in it {
                    match p.as_rule() {
                        Rule::day_range => {
                            let dspan = span_of(&p);
                            let mut di = kids(p);
                            let from = self.ident(next(&mut di));
                            let to = di.next().map(|t| self.ident(t));
                            days.push(DayRange { from, to, span: dspan });
                        }
                        _ => ranges.push(self.time_range(p)),
                    }
                }
                HoursClauseKind::Open { days, ranges }
            }
        };
        HoursClause { kind, span }
    }

    fn time_range(&mut self, pair: Pair<'_, Rule>) -> (TimeLit, TimeLit) {
        let mut it = kids(pair);
        let from = self.time(next(&mut it));
        let to = self.time(next(&mut it));
        (from, to)
    }

    fn queue_clause(&mut self, pair: Pair<'_, Rule>) -> QueueClause {
        let span = span_of(&pair);
        let inner = next(&mut kids(pair));
        let rule = inner.as_rule();
        let mut it = kids(inner);
        let kind = match rule {
            Rule::q_skills => QueueClauseKind::Skills(self.word_list(next(&mut it))),
            Rule::q_target => {
                let channel = self.ident(next(&mut it));
                let percent = self.number(next(&mut it));
                let within = self.duration(next(&mut it));
                QueueClauseKind::Target { channel, percent, within }
            }
            Rule::q_priority => {
                let mut entries = Vec::new();
                while let Some(channel) = it.next() {
                    let channel = self.ident(channel);
                    let n = self.number(next(&mut it));
                    entries.push((channel, n));
                }
                QueueClauseKind::Priority(entries)
            }
            Rule::q_while => {
                let clauses = it
                    .map(|w| {
                        let wspan = span_of(&w);
                        let mut wi = w.into_inner();
                        let repeat = next(&mut wi).as_rule() == Rule::kw_every;
                        let delay = self.duration(next(&mut wi));
                        let action = self.stmt(next(&mut wi));
                        WaitingClause { repeat, delay, action, span: wspan }
                    })
                    .collect();
                QueueClauseKind::WhileWaiting(clauses)
            }
            _ => {
                let after = self.duration(next(&mut it));
                let to = self.ident(next(&mut it));
                QueueClauseKind::Overflow { after, to }
            }
        };
        QueueClause { kind, span }
    }

    fn retry_clause(&mut self, pair: Pair<'_, Rule>) -> RetryClause {
        let span = span_of(&pair);
        let inner = next(&mut kids(pair));
        let rule = inner.as_rule();
        let mut it = kids(inner);
        let kind = match rule {
            Rule::r_timezone => RetryClauseKind::Timezone(self.expr(next(&mut it))),
            Rule::r_quiet => {
                let (from, to) = self.time_range(next(&mut it));
                RetryClauseKind::Quiet { from, to }
            }
            Rule::r_on => {
                let event = self.ident(next(&mut it));
                let body = self.block(next(&mut it));
                RetryClauseKind::On { event, body }
            }
            _ => {
                let when_pair = next(&mut it);
                let wspan = span_of(&when_pair);
                let when = match when_pair.as_rule() {
                    Rule::when_immediately => When::Immediately(wspan),
                    Rule::when_at => When::At(self.time(next(&mut kids(when_pair)))),
                    _ => When::After(self.duration(next(&mut kids(when_pair)))),
                };
                let action = self.stmt(next(&mut it));
                RetryClauseKind::Step { when, action }
            }
        };
        RetryClause { kind, span }
    }

    fn block(&mut self, pair: Pair<'_, Rule>) -> Block {
        let span = span_of(&pair);
        let stmts = kids(pair).map(|s| self.stmt(s)).collect();
        Block { stmts, span }
    }

    fn else_block(&mut self, pair: Pair<'_, Rule>) -> Block {
        let b = next(&mut kids(pair));
        self.block(b)
    }

    fn stmt(&mut self, pair: Pair<'_, Rule>) -> Stmt {
        let span = span_of(&pair);
        let inner = next(&mut kids(pair));
        let span = Span::new(span.start as usize, span_of(&inner).end as usize);
        let rule = inner.as_rule();
        let mut it = kids(inner);
        let kind = match rule {
            Rule::let_lookup => {
                let name = self.ident(next(&mut it));
                let source = self.ident(next(&mut it));
                let key = self.expr(next(&mut it));
                let else_block = it.next().map(|e| self.else_block(e));
                StmtKind::Lookup { name, source, key, else_block }
            }
            Rule::let_stmt => {
                let name = self.ident(next(&mut it));
                let value = self.expr(next(&mut it));
                StmtKind::Let { name, value }
            }
            Rule::assign_stmt => {
                let target = self.expr(next(&mut it));
                let _eq = next(&mut it);
                let value = self.expr(next(&mut it));
                StmtKind::Assign { target, value }
            }
            Rule::say_stmt => StmtKind::Say(self.expr(next(&mut it))),
            Rule::ask_stmt => {
                let name = self.ident(next(&mut it));
                let ty = self.ask_type(next(&mut it));
                let prompt = self.expr(next(&mut it));
                let mut ask = Ask { name, ty, prompt, timeout: None, retries: None, else_block: None };
                for p in it {
                    match p.as_rule() {
                        Rule::ask_timeout => ask.timeout = Some(self.duration(next(&mut kids(p)))),
                        Rule::ask_retries => ask.retries = Some(self.number(next(&mut kids(p)))),
                        _ => ask.else_block = Some(self.else_block(p)),
                    }
                }
                StmtKind::Ask(Box::new(ask))
            }
            Rule::menu_stmt => {
                let prompt = self.expr(next(&mut it));
                let mut options = Vec::new();
                let mut timeout = None;
                for p in it {
                    let pspan = span_of(&p);
                    match p.as_rule() {
                        Rule::menu_option => {
                            let mut oi = kids(p);
                            let key_pair = next(&mut oi);
                            let key = StrLit { value: key_pair.as_str().to_string(), span: span_of(&key_pair) };
                            let mut label = None;
                            let mut body_pair = next(&mut oi);
                            if body_pair.as_rule() == Rule::text {
                                label = Some(self.str_lit(body_pair));
                                body_pair = next(&mut oi);
                            }
                            let body = self.block(body_pair);
                            options.push(MenuOption { key, label, body, span: pspan });
                        }
                        _ => {
                            let mut ti = kids(p);
                            let t = self.duration(next(&mut ti));
                            let mut retries = None;
                            let mut body_pair = next(&mut ti);
                            if body_pair.as_rule() == Rule::ask_retries {
                                retries = Some(self.number(next(&mut kids(body_pair))));
                                body_pair = next(&mut ti);
                            }
                            let body = self.block(body_pair);
                            timeout = Some(MenuTimeout { timeout: t, retries, body, span: pspan });
                        }
                    }
                }
                StmtKind::Menu(Box::new(Menu { prompt, options, timeout }))
            }
            Rule::if_stmt => {
                let cond = self.expr(next(&mut it));
                let block = self.block(next(&mut it));
                let mut branches = vec![(cond, block)];
                let mut else_block = None;
                for p in it {
                    match p.as_rule() {
                        Rule::else_if => {
                            let mut ei = kids(p);
                            let c = self.expr(next(&mut ei));
                            let b = self.block(next(&mut ei));
                            branches.push((c, b));
                        }
                        _ => else_block = Some(self.else_block(p)),
                    }
                }
                StmtKind::If { branches, else_block }
            }
            Rule::match_stmt => {
                let scrutinee = self.expr(next(&mut it));
                let arms = it
                    .map(|arm| {
                        let aspan = span_of(&arm);
                        let mut ai = kids(arm);
                        let pattern = next(&mut ai);
                        let patterns =
                            kids(pattern).filter(|p| p.as_rule() == Rule::expr).map(|p| self.expr(p)).collect();
                        let body_pair = next(&mut ai);
                        let (body, braced) = if body_pair.as_rule() == Rule::block {
                            (self.block(body_pair), true)
                        } else {
                            let s = self.stmt(body_pair);
                            (Block { span: s.span, stmts: vec![s] }, false)
                        };
                        MatchArm { patterns, body, braced, span: aspan }
                    })
                    .collect();
                StmtKind::Match { scrutinee, arms }
            }
            Rule::waypoint_stmt => StmtKind::Waypoint(self.ident(next(&mut it))),
            Rule::queue_stmt => {
                let queue = self.ident(next(&mut it));
                let mut q = QueueStmt { queue, priority: None, prefer: None, require: Vec::new(), vip: false };
                for p in it {
                    match p.as_rule() {
                        Rule::q_prio => q.priority = Some(self.number(next(&mut kids(p)))),
                        Rule::q_prefer => {
                            let mut pi = kids(p);
                            let e = self.expr(next(&mut pi));
                            let d = self.duration(next(&mut pi));
                            q.prefer = Some((e, d));
                        }
                        Rule::q_vip => q.vip = true,
                        _ => q.require.extend(self.word_list(next(&mut kids(p)))),
                    }
                }
                StmtKind::Queue(Box::new(q))
            }
            Rule::transfer_stmt => StmtKind::Transfer(self.expr(next(&mut it))),
            Rule::offer_stmt => StmtKind::OfferCallback { keep_place: it.next().is_some() },
            Rule::collect_stmt => StmtKind::CollectPayment(self.expr(next(&mut it))),
            Rule::send_stmt => {
                let medium = self.ident(next(&mut it));
                let to = self.expr(next(&mut it));
                let text = self.expr(next(&mut it));
                StmtKind::Send { medium, to, text }
            }
            Rule::start_retry_stmt => {
                let retry = self.ident(next(&mut it));
                let arg = self.expr(next(&mut it));
                StmtKind::StartRetry { retry, arg }
            }
            Rule::survey_stmt => StmtKind::Survey(self.ident(next(&mut it))),
            Rule::end_stmt => StmtKind::End,
            Rule::note_stmt => StmtKind::Note(self.expr(next(&mut it))),
            Rule::choose_stmt => {
                let prompt = self.expr(next(&mut it));
                let options = it
                    .map(|o| {
                        let ospan = span_of(&o);
                        let mut oi = kids(o);
                        let label = self.str_lit(next(&mut oi));
                        let step = self.ident(next(&mut oi));
                        ChooseOption { label, step, span: ospan }
                    })
                    .collect();
                StmtKind::Choose { prompt, options }
            }
            Rule::goto_stmt => StmtKind::Goto(self.ident(next(&mut it))),
            Rule::outcome_stmt => StmtKind::Outcome(self.ident(next(&mut it))),
            Rule::call_stmt => {
                let to = self.expr(next(&mut it));
                let queue = self.ident(next(&mut it));
                let script = it.next().map(|s| self.ident(next(&mut kids(s))));
                StmtKind::Call { to, queue, script }
            }
            Rule::again_stmt => {
                let delay = self.duration(next(&mut it));
                let mut p = next(&mut it);
                let mut at = None;
                if p.as_rule() == Rule::again_at {
                    at = Some(self.time(next(&mut kids(p))));
                    p = next(&mut it);
                }
                let max = self.number(p);
                StmtKind::Again { delay, at, max }
            }
            Rule::stop_stmt => StmtKind::Stop,
            other => unreachable!("not a statement: {other:?}"),
        };
        Stmt { kind, span }
    }

    fn ask_type(&mut self, pair: Pair<'_, Rule>) -> AskType {
        let span = span_of(&pair);
        let inner = next(&mut kids(pair));
        let rule = inner.as_rule();
        let kind = match rule {
            Rule::ask_digits => AskTypeKind::Digits(self.number(next(&mut kids(inner)))),
            Rule::ask_yes_no => AskTypeKind::YesNo,
            Rule::ask_range => {
                let mut it = kids(inner);
                let lo = self.number(next(&mut it));
                let hi = self.number(next(&mut it));
                AskTypeKind::Range(lo, hi)
            }
            _ => AskTypeKind::Named(self.type_expr(inner)),
        };
        AskType { kind, span }
    }

    fn test_line(&mut self, pair: Pair<'_, Rule>) -> TestLine {
        let span = span_of(&pair);
        let inner = next(&mut kids(pair));
        let span = Span::new(span.start as usize, span_of(&inner).end as usize);
        let rule = inner.as_rule();
        let mut it = kids(inner);
        let kind = match rule {
            Rule::t_given => {
                let source = self.ident(next(&mut it));
                let row = self.record_lit(next(&mut it));
                TestLineKind::Given { source, row }
            }
            Rule::t_at => {
                let date = self.date(next(&mut it));
                let time = self.time(next(&mut it));
                let zone = it.next().map(|z| self.str_lit(z));
                TestLineKind::At { date, time, zone }
            }
            Rule::t_agent => {
                let name = self.ident(next(&mut it));
                let skills = self.word_list(next(&mut it));
                let languages = it.next().map(|l| self.word_list(next(&mut kids(l)))).unwrap_or_default();
                TestLineKind::Agent { name, skills, languages }
            }
            Rule::t_contact => {
                let channel = self.ident(next(&mut it));
                let from = self.expr(next(&mut it));
                let (mut to, mut subject, mut text) = (None, None, None);
                for p in it {
                    let rule = p.as_rule();
                    let e = self.expr(next(&mut kids(p)));
                    match rule {
                        Rule::t_to => to = Some(e),
                        Rule::t_subject => subject = Some(e),
                        _ => text = Some(e),
                    }
                }
                TestLineKind::Contact { channel, from, to, subject, text }
            }
            Rule::t_script => TestLineKind::Script(self.ident(next(&mut it))),
            Rule::t_survey => TestLineKind::Survey(self.ident(next(&mut it))),
            Rule::t_start_retry => {
                let retry = self.ident(next(&mut it));
                let arg = self.expr(next(&mut it));
                TestLineKind::StartRetry { retry, arg }
            }
            Rule::t_press => {
                let k = next(&mut it);
                TestLineKind::Press(StrLit { value: k.as_str().to_string(), span: span_of(&k) })
            }
            Rule::t_type => TestLineKind::Type(self.expr(next(&mut it))),
            Rule::t_wait => TestLineKind::Wait(self.duration(next(&mut it))),
            Rule::t_advance => {
                let date = self.date(next(&mut it));
                let time = self.time(next(&mut it));
                TestLineKind::AdvanceTo { date, time }
            }
            Rule::t_answer => TestLineKind::Answer(self.expr(next(&mut it))),
            Rule::t_choose => TestLineKind::Choose(self.str_lit(next(&mut it))),
            Rule::t_event => TestLineKind::Event(self.ident(next(&mut it))),
            Rule::t_accept => TestLineKind::Accept,
            Rule::t_hang_up => TestLineKind::HangUp,
            Rule::t_expect_no => {
                let kind = self.ident(next(&mut it));
                let name = it.next().map(|n| self.ident(n));
                TestLineKind::ExpectNo { kind, name }
            }
            Rule::t_expect => TestLineKind::Expect(self.expectation(next(&mut it))),
            other => unreachable!("not a test line: {other:?}"),
        };
        TestLine { kind, span }
    }

    fn expectation(&mut self, pair: Pair<'_, Rule>) -> Expectation {
        let inner = next(&mut kids(pair));
        let rule = inner.as_rule();
        let mut it = kids(inner);
        match rule {
            Rule::e_say => Expectation::Say(self.expr(next(&mut it))),
            Rule::e_note => Expectation::Note(self.expr(next(&mut it))),
            Rule::e_waypoint => Expectation::Waypoint(self.ident(next(&mut it))),
            Rule::e_queue => {
                let queue = self.ident(next(&mut it));
                let priority = it.next().map(|p| self.number(p));
                Expectation::Queue { queue, priority }
            }
            Rule::e_transfer => Expectation::Transfer(self.expr(next(&mut it))),
            Rule::e_send => {
                let medium = self.ident(next(&mut it));
                let to = self.expr(next(&mut it));
                let text = it.next().map(|t| {
                    let t = next(&mut kids(t));
                    if t.as_rule() == Rule::text {
                        self.text_expr(t)
                    } else {
                        self.record_lit(t)
                    }
                });
                Expectation::Send { medium, to, text }
            }
            Rule::e_call => {
                let to = self.expr(next(&mut it));
                let queue = it.next().map(|q| self.ident(q));
                Expectation::Call { to, queue }
            }
            Rule::e_outcome => Expectation::Outcome(self.ident(next(&mut it))),
            Rule::e_offer => {
                let agent = self.ident(next(&mut it));
                let channel = it.next().map(|c| self.ident(c));
                Expectation::Offer { agent, channel }
            }
            Rule::e_stop => Expectation::Stop,
            Rule::e_end => Expectation::End,
            _ => Expectation::Error,
        }
    }

    fn record_lit(&mut self, pair: Pair<'_, Rule>) -> Expr {
        let span = span_of(&pair);
        let entries = kids(pair)
            .map(|e| {
                let mut ei = kids(e);
                let name = self.ident(next(&mut ei));
                let value = self.expr(next(&mut ei));
                (name, value)
            })
            .collect();
        Expr { kind: ExprKind::Record(entries), span }
    }

    fn text_expr(&mut self, pair: Pair<'_, Rule>) -> Expr {
        let span = span_of(&pair);
        let mut parts = Vec::new();
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::text_chunk => {
                    let s = unescape(part.as_str());
                    if let Some(TextPart::Lit(prev)) = parts.last_mut() {
                        prev.push_str(&s);
                    } else {
                        parts.push(TextPart::Lit(s));
                    }
                }
                _ => {
                    let e = next(&mut part.into_inner());
                    parts.push(TextPart::Expr(self.expr(e)));
                }
            }
        }
        Expr { kind: ExprKind::Text(parts), span }
    }

    fn expr(&mut self, pair: Pair<'_, Rule>) -> Expr {
        self.expr_depth(pair.into_inner()).0
    }

    /// Builds an expression, with the depth of its tree so that a runaway chain is cut.
    fn expr_depth(&mut self, pairs: Pairs<'_, Rule>) -> (Expr, u32) {
        let this = std::cell::RefCell::new(&mut *self);
        let built = PRATT
            .map_primary(|p| this.borrow_mut().primary(p))
            .map_prefix(|op, (rhs, d)| {
                let span = span_of(&op).to(rhs.span);
                let op = if op.as_rule() == Rule::not_op { UnaryOp::Not } else { UnaryOp::Neg };
                this.borrow_mut().capped(Expr { kind: ExprKind::Unary { op, expr: Box::new(rhs) }, span }, d + 1)
            })
            .map_postfix(|(lhs, d), op| {
                let span = lhs.span.to(span_of(&op));
                let optional = op.as_rule() == Rule::opt_field;
                let mut b = this.borrow_mut();
                let name = b.ident(next(&mut op.into_inner()));
                b.capped(Expr { kind: ExprKind::Field { base: Box::new(lhs), name, optional }, span }, d + 1)
            })
            .map_infix(|(lhs, dl), op, (rhs, dr)| {
                let span = lhs.span.to(rhs.span);
                let op = match op.as_rule() {
                    Rule::or_op => BinaryOp::Or,
                    Rule::and_op => BinaryOp::And,
                    Rule::eq => BinaryOp::Eq,
                    Rule::ne => BinaryOp::Ne,
                    Rule::lt => BinaryOp::Lt,
                    Rule::le => BinaryOp::Le,
                    Rule::gt => BinaryOp::Gt,
                    Rule::ge => BinaryOp::Ge,
                    Rule::contains_any => BinaryOp::ContainsAny,
                    Rule::contains_op => BinaryOp::Contains,
                    Rule::matches_op => BinaryOp::Matches,
                    Rule::in_op => BinaryOp::In,
                    Rule::coalesce => BinaryOp::Coalesce,
                    Rule::add => BinaryOp::Add,
                    Rule::sub => BinaryOp::Sub,
                    Rule::mul => BinaryOp::Mul,
                    _ => BinaryOp::Div,
                };
                let e = Expr { kind: ExprKind::Binary { op, lhs: Box::new(lhs), rhs: Box::new(rhs) }, span };
                this.borrow_mut().capped(e, dl.max(dr) + 1)
            })
            .parse(pairs);
        built
    }

    fn capped(&mut self, expr: Expr, depth: u32) -> (Expr, u32) {
        if depth <= MAX_EXPR_DEPTH {
            return (expr, depth);
        }
        if !self.too_deep_reported.replace(true) {
            self.error(expr.span, format!("this expression is more than {MAX_EXPR_DEPTH} operations deep")).help =
                Some("break it into named parts with `let`".to_string());
        }
        // Not `none`, which the checker would type and could report again.
        (Expr { kind: ExprKind::Error, span: expr.span }, 1)
    }

    fn primary(&mut self, pair: Pair<'_, Rule>) -> (Expr, u32) {
        let span = span_of(&pair);
        let kind = match pair.as_rule() {
            Rule::paren => {
                let (inner, d) = self.expr_depth(next(&mut pair.into_inner()).into_inner());
                return self.capped(Expr { kind: ExprKind::Paren(Box::new(inner)), span }, d + 1);
            }
            Rule::list_lit => {
                let mut depth = 0;
                let items = pair
                    .into_inner()
                    .map(|p| {
                        let (e, d) = self.expr_depth(p.into_inner());
                        depth = depth.max(d);
                        e
                    })
                    .collect();
                return self.capped(Expr { kind: ExprKind::List(items), span }, depth + 1);
            }
            Rule::record_lit => return (self.record_lit(pair), 2),
            Rule::call => {
                let mut it = pair.into_inner();
                let callee = self.ident(next(&mut it));
                let args = it.map(|a| self.expr(a)).collect();
                ExprKind::Call { callee, args }
            }
            Rule::name => ExprKind::Name(self.ident(next(&mut pair.into_inner()))),
            Rule::text => return (self.text_expr(pair), 2),
            Rule::date => {
                let d = self.date(pair);
                ExprKind::Date { year: d.year, month: d.month, day: d.day }
            }
            Rule::time => {
                let t = self.time(pair);
                ExprKind::Time { hour: t.hour, minute: t.minute }
            }
            Rule::duration => ExprKind::Duration(self.duration(pair).millis),
            Rule::money => {
                let s = pair.as_str();
                let symbol = s.chars().next().unwrap_or('£');
                let amount = &s[symbol.len_utf8()..];
                match parse_minor(amount) {
                    Some(minor) => ExprKind::Money { symbol, minor },
                    None => {
                        self.error(span, "this amount cannot be read").help =
                            Some("write amounts like `£50` or `$12.50`".to_string());
                        ExprKind::Money { symbol, minor: 0 }
                    }
                }
            }
            Rule::percent => self.number_expr(pair, ExprKind::Percent),
            Rule::number => self.number_expr(pair, ExprKind::Number),
            Rule::phone => ExprKind::Phone(pair.as_str().to_string()),
            Rule::regex => {
                let s = pair.as_str();
                ExprKind::Regex(s[1..s.len() - 1].to_string())
            }
            Rule::bool_lit => ExprKind::Bool(matches!(pair.as_str(), "true" | "yes")),
            Rule::none_lit => ExprKind::None,
            other => unreachable!("not a primary: {other:?}"),
        };
        (Expr { kind, span }, 1)
    }
}

/// `30s` → 30 000. `None` when it overflows.
pub fn parse_duration(text: &str) -> Option<i64> {
    let mut total: i64 = 0;
    let mut digits = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let n: i64 = digits.parse().ok()?;
        digits.clear();
        let unit: i64 = match c {
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                1
            }
            's' => 1000,
            'm' => 60_000,
            'h' => 3_600_000,
            'd' => 86_400_000,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(unit)?)?;
    }
    Some(total)
}

/// `12.50` → 1250 minor units.
fn parse_minor(amount: &str) -> Option<i64> {
    let (units, cents) = amount.split_once('.').unwrap_or((amount, ""));
    if cents.len() > 2 {
        return None;
    }
    let units: i64 = units.parse().ok()?;
    let cents: i64 = if cents.is_empty() { 0 } else { format!("{cents:0<2}").parse().ok()? };
    units.checked_mul(100)?.checked_add(cents)
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => {}
            },
            '{' | '}' => {
                // `{{` and `}}` stand for one brace.
                out.push(c);
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}
