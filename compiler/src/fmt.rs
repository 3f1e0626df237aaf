//! The one canonical layout of a `.flow` file, like `gofmt`: no options, every comment kept.
//!
//! `format` parses the file and prints its tree back. The printed tokens are the tokens of
//! the source (literals spelled canonically), so the result parses to the same tree. The
//! layout, chosen so that the acme samples come out unchanged:
//!
//! - Two spaces a level; `{` ends the line that opens it and `}` stands on its own line.
//!   One statement, clause, field, step, arm, option or test line a line; a `;` only where
//!   the next statement starts with `(`, `[`, `{`, `-`, `+` or `/` and would otherwise
//!   continue this one.
//! - Blank lines: one between top-level declarations, except that adjacent one-line
//!   declarations of one group stay together (`use`; `entry`; `fn` and `extern fn`;
//!   `currency`, `skills` and one-line `enum`s). Elsewhere a run of blank lines becomes
//!   one, and there is none after a `{` or before a `}`.
//! - Bodies on one line: an `enum` that fits (`enum Tier { standard, gold }`) and a retry's
//!   `on event { stop }` (one statement that fits). Everything else breaks.
//! - A record literal written across lines keeps one entry a line (no commas); one written
//!   on a line stays on it. A per-language text (a record where a text stands: `say`,
//!   prompts, `send`, `note`, expectations) also breaks when its line would pass 100
//!   columns. No other line is ever broken.
//! - Literals print canonically (`007` → `7`, `£12.5` → `£12.50`, `8:00` → `08:00`,
//!   `30m1h` → `1h30m`), except that a tidy duration keeps its units (`60s` stays `60s`)
//!   and `yes`/`no` keep their spelling; texts are re-escaped; parentheses stay as written.
//! - Comments: one on its own line stays before the thing that follows it, at that
//!   thing's indentation (or before the `}` that closes its block); one after code stays at
//!   the end of that line, and such trailing comments on consecutive lines are aligned.
//!   A comment from inside a line that the layout joins (an expression written across
//!   lines) moves up, before that line.
//! - The file is read with its lines ending at LF, CRLF or a lone CR, after an optional
//!   UTF-8 byte-order mark; it is written with LF line ends and no mark.

use crate::diagnostic::{Diagnostic, FileId};
use crate::syntax::ast::*;

/// Past this column a per-language text breaks into one language a line.
const MAX_WIDTH: usize = 100;

/// Formats one `.flow` file, or gives the syntax diagnostics of a file that does not parse.
pub fn format(source: &str) -> Result<String, Vec<Diagnostic>> {
    let parsed = crate::syntax::parse(FileId(0), source);
    if !parsed.diagnostics.is_empty() {
        return Err(parsed.diagnostics);
    }
    let mut printer = Printer::new(source, parsed.file.comments.clone());
    printer.file(&parsed.file);
    if printer.regexes.is_empty() {
        return Ok(printer.finish());
    }
    // The parser's comment scanner does not know regex literals: `/https?:\/\//` looks as if
    // it held a comment and `/"/` as if it opened a text. Now that the regexes are known,
    // find the comments again, stepping over them.
    let comments = scan_comments(source, &printer.regexes);
    if comments == parsed.file.comments {
        return Ok(printer.finish());
    }
    let mut printer = Printer::new(source, comments);
    printer.file(&parsed.file);
    Ok(printer.finish())
}

/// Where the line that `text` starts on ends (at LF, CR or CRLF), or its length.
fn line_end(text: &str) -> usize {
    text.find(['\n', '\r']).unwrap_or(text.len())
}

/// `text` cut at every line end (LF, CRLF or a lone CR), as `split('\n')` cuts at LF.
fn split_lines(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\n' || bytes[i] == b'\r' {
            out.push(&text[start..i]);
            if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
                i += 1;
            }
            start = i + 1;
        }
        i += 1;
    }
    out.push(&text[start..]);
    out
}

/// One output line.
enum Line {
    Blank,
    Comment { indent: usize, text: String },
    Code { indent: usize, text: String, comment: Option<String> },
}

/// Where an expression stands: a record literal where a text stands is a per-language text.
#[derive(Clone, Copy, PartialEq)]
enum Place {
    Value,
    Text,
}

/// A thing printed on a line of its own inside braces.
enum Node<'a> {
    Stmt(&'a Stmt),
    OnError(&'a Block),
    Via(&'a Via),
    Step(&'a StepDecl),
    Field(&'a FieldDecl),
    Variant(&'a Ident),
    Source(&'a SourceClause),
    Hours(&'a HoursClause),
    Queue(&'a QueueClause),
    Waiting(&'a WaitingClause),
    Retry(&'a RetryClause),
    Test(&'a TestLine),
    Arm(&'a MatchArm),
    MenuOption(&'a MenuOption),
    MenuTimeout(&'a MenuTimeout),
    Choose(&'a ChooseOption),
    Entry(&'a Ident, &'a Expr),
    Question(&'a QuestionDecl),
}

/// A node with the source range it was parsed from.
struct Child<'a> {
    node: Node<'a>,
    start: usize,
    end: usize,
}

impl<'a> Child<'a> {
    fn new(node: Node<'a>, span: Span) -> Child<'a> {
        Child { node, start: span.start as usize, end: span.end as usize }
    }

    fn stmt(stmt: &'a Stmt) -> Child<'a> {
        Child::new(Node::Stmt(stmt), stmt.span)
    }

    /// Ends with a statement, which a `;` may close.
    fn ends_in_stmt(&self) -> bool {
        match self.node {
            Node::Stmt(_) => true,
            Node::Arm(arm) => !arm.braced,
            _ => false,
        }
    }

    /// Starts with a token that could continue the expression ending the line before.
    fn starts_risky(&self) -> bool {
        let first = match self.node {
            Node::Stmt(Stmt { kind: StmtKind::Assign { target, .. }, .. }) => first_char(target),
            Node::Arm(arm) => arm.patterns.first().map_or('_', first_char),
            _ => return false,
        };
        matches!(first, '(' | '[' | '{' | '-' | '+' | '/')
    }
}

struct Printer<'s> {
    src: &'s str,
    comments: Vec<Comment>,
    /// Which comments are printed.
    done: Vec<bool>,
    /// Every comment before this one is printed.
    next: usize,
    lines: Vec<Line>,
    indent: usize,
    /// The line being written, not yet pushed.
    cur: String,
    cur_indent: usize,
    cur_open: bool,
    /// The current line starts with a `}` closing a block or record opened lines above:
    /// comments from inside it wait for the next node rather than move up into the block.
    cur_closes: bool,
    /// Where in the source the last printed line or comment ended (for blank lines).
    last_end: usize,
    /// Just after a `{` or at the top of the file: no blank line here.
    fresh: bool,
    /// Every regex literal printed.
    regexes: Vec<Span>,
}

impl<'s> Printer<'s> {
    fn new(src: &'s str, comments: Vec<Comment>) -> Printer<'s> {
        Printer {
            src,
            done: vec![false; comments.len()],
            comments,
            next: 0,
            lines: Vec::new(),
            indent: 0,
            cur: String::new(),
            cur_indent: 0,
            cur_open: false,
            cur_closes: false,
            last_end: 0,
            fresh: true,
            regexes: Vec::new(),
        }
    }

    // -----------------------------------------------------------------------------------
    // Lines, blank lines and comments

    fn write_all(&mut self, parts: &[&str]) {
        for part in parts {
            self.write(part);
        }
    }

    fn write(&mut self, s: &str) {
        if !self.cur_open {
            self.cur_open = true;
            self.cur_indent = self.indent;
        }
        self.cur.push_str(s);
    }

    /// The column the next character written lands in.
    fn column(&self) -> usize {
        if self.cur_open {
            self.cur_indent * 2 + self.cur.chars().count()
        } else {
            self.indent * 2
        }
    }

    /// Ends the current line. Comments that start before `flush_to` (inside the line's
    /// source) move up before it; a comment after `trail_from` on the same source line
    /// stays at its end.
    fn end_line(&mut self, flush_to: usize, trail_from: usize) {
        if !self.cur_closes {
            self.comments_before(flush_to, false);
        }
        let comment = self.trailing(trail_from);
        let text = std::mem::take(&mut self.cur);
        self.lines.push(Line::Code { indent: self.cur_indent, text, comment });
        self.cur_open = false;
        self.cur_closes = false;
        self.fresh = false;
        self.last_end = self.last_end.max(trail_from);
    }

    /// Prints, each on its own line, the comments not yet printed that start before `limit`.
    fn comments_before(&mut self, limit: usize, keep_blank_lines: bool) {
        let mut i = self.next;
        while i < self.comments.len() && (self.comments[i].span.start as usize) < limit {
            if !self.done[i] {
                self.done[i] = true;
                let span = self.comments[i].span;
                if keep_blank_lines && self.blank_between(self.last_end, span.start as usize) {
                    self.blank();
                }
                self.lines.push(Line::Comment { indent: self.indent, text: self.comments[i].text.clone() });
                self.fresh = false;
                self.last_end = self.last_end.max(span.end as usize);
            }
            i += 1;
        }
        self.skip_done();
    }

    /// The comment that follows `from` on the same source line, with nothing but `;` or `,`
    /// between.
    fn trailing(&mut self, from: usize) -> Option<String> {
        let i = (self.next..self.comments.len())
            .find(|&i| !self.done[i] && self.comments[i].span.start as usize >= from)?;
        let span = self.comments[i].span;
        let between = self.src.get(from..span.start as usize)?;
        if !between.chars().all(|c| matches!(c, ' ' | '\t' | ';' | ',')) {
            return None;
        }
        self.done[i] = true;
        self.last_end = self.last_end.max(span.end as usize);
        self.skip_done();
        Some(self.comments[i].text.clone())
    }

    fn skip_done(&mut self) {
        while self.next < self.done.len() && self.done[self.next] {
            self.next += 1;
        }
    }

    /// Whether a comment not yet printed starts strictly between `open` and `close`.
    fn has_comments(&self, open: usize, close: usize) -> bool {
        (self.next..self.comments.len()).any(|i| {
            let start = self.comments[i].span.start as usize;
            !self.done[i] && open < start && start < close
        })
    }

    fn blank(&mut self) {
        if !self.fresh && !matches!(self.lines.last(), None | Some(Line::Blank)) {
            self.lines.push(Line::Blank);
        }
    }

    /// Whether the source holds an empty line between `from` and `to`.
    fn blank_between(&self, from: usize, to: usize) -> bool {
        if from >= to {
            return false;
        }
        let segments: Vec<&str> = split_lines(&self.src[from..to]).into_iter().skip(1).collect();
        segments.len() >= 2 && segments[..segments.len() - 1].iter().any(|s| s.trim().is_empty())
    }

    /// Where the code of a node that ends at `end` ends: pest lets a rule that closes with
    /// an optional part (`else_block?`, `("," ~ word)*`) take the white space and comments
    /// after it.
    fn code_end(&self, end: usize) -> usize {
        let mut end = end;
        loop {
            let trimmed = self.src[..end].trim_end().len();
            let i = self.comments.partition_point(|c| (c.span.start as usize) < trimmed);
            match i.checked_sub(1).map(|i| self.comments[i].span) {
                Some(c) if trimmed <= c.end as usize => end = c.start as usize,
                _ => return trimmed,
            }
        }
    }

    /// Before a node: its leading comments, and a blank line if the source had one.
    fn node_start(&mut self, start: usize) {
        self.comments_before(start, true);
        if self.blank_between(self.last_end, start) {
            self.blank();
        }
    }

    /// `{`, then the children one a line, then `}` (left open: the caller ends that line).
    /// `open` and `close` are where the braces stand in the source.
    fn braced(&mut self, open: usize, close: usize, children: &[Child<'_>]) {
        if children.is_empty() && !self.has_comments(open, close) {
            self.write("{}");
            return;
        }
        self.write("{");
        self.end_line(open + 1, open + 1);
        self.indent += 1;
        self.fresh = true;
        for (i, child) in children.iter().enumerate() {
            self.node_start(child.start);
            self.node(&child.node);
            if child.ends_in_stmt() && children.get(i + 1).is_some_and(Child::starts_risky) {
                self.write(";");
            }
            let end = self.code_end(child.end);
            self.end_line(end, end);
        }
        self.comments_before(close, true);
        self.indent -= 1;
        self.fresh = false;
        self.write("}");
        self.cur_closes = true;
    }

    fn block(&mut self, block: &Block) {
        let children: Vec<Child<'_>> = block.stmts.iter().map(Child::stmt).collect();
        self.braced(block.span.start as usize, block.span.end as usize - 1, &children);
    }

    /// Where the `{` after `from` stands, stepping over comments.
    fn brace_after(&self, from: usize) -> usize {
        let bytes = self.src.as_bytes();
        let mut i = from;
        while i < bytes.len() {
            match bytes[i] {
                b'{' => return i,
                b'/' if bytes.get(i + 1) == Some(&b'/') => {
                    i += line_end(&self.src[i..]);
                }
                _ => i += 1,
            }
        }
        bytes.len()
    }

    /// Where the next token after `from` starts, stepping over white space and comments.
    fn token_after(&self, from: usize) -> usize {
        let mut i = from;
        loop {
            let rest = &self.src[i..];
            let trimmed = rest.trim_start();
            i += rest.len() - trimmed.len();
            if !trimmed.starts_with("//") {
                return i;
            }
            i += line_end(&self.src[i..]);
        }
    }

    /// Prints with a scratch printer that has no comments; the text if it fits one line.
    fn measure(&self, print: impl FnOnce(&mut Printer<'s>)) -> Option<String> {
        let mut scratch = Printer::new(self.src, Vec::new());
        print(&mut scratch);
        scratch.lines.is_empty().then_some(scratch.cur)
    }

    fn finish(self) -> String {
        let lines = self.lines;
        // Trailing comments on consecutive lines start in one column.
        let mut columns = vec![0; lines.len()];
        let mut i = 0;
        while i < lines.len() {
            let mut j = i;
            let mut width = 0;
            while let Some(Line::Code { indent, text, comment: Some(_) }) = lines.get(j) {
                width = width.max(indent * 2 + text.chars().count());
                j += 1;
            }
            columns[i..j].fill(width);
            i = j.max(i + 1);
        }
        let mut out = String::new();
        for (line, column) in lines.iter().zip(columns) {
            match line {
                Line::Blank => {}
                Line::Comment { indent, text } => {
                    out.push_str(&"  ".repeat(*indent));
                    out.push_str(text);
                }
                Line::Code { indent, text, comment } => {
                    out.push_str(&"  ".repeat(*indent));
                    out.push_str(text);
                    if let Some(comment) = comment {
                        let width = indent * 2 + text.chars().count();
                        out.push_str(&" ".repeat(column - width + 1));
                        out.push_str(comment);
                    }
                }
            }
            out.push('\n');
        }
        out
    }

    // -----------------------------------------------------------------------------------
    // Declarations

    fn file(&mut self, file: &File) {
        for (i, item) in file.items.iter().enumerate() {
            if i > 0 && !self.stay_together(&file.items[i - 1], item) {
                self.blank();
            }
            self.node_start(item.span.start as usize);
            self.item(item);
            let end = self.code_end(item.span.end as usize);
            self.end_line(end, end);
        }
        self.comments_before(self.src.len() + 1, true);
    }

    /// Adjacent one-line declarations of one group keep no blank line between them.
    fn stay_together(&self, a: &Item, b: &Item) -> bool {
        let group = |item: &Item| match item.kind {
            ItemKind::Use(_) => Some(0),
            ItemKind::Entry(_) => Some(1),
            ItemKind::Fn(_) | ItemKind::ExternFn(_) => Some(2),
            ItemKind::Currency(_) | ItemKind::Skills(_) | ItemKind::Enum(_) => Some(3),
            ItemKind::Reply(_) => Some(4),
            _ => None,
        };
        let one_line = |item: &Item| match &item.kind {
            ItemKind::Enum(e) => self.enum_is_flat(item, e),
            _ => self.measure(|p| p.item(item)).is_some(),
        };
        group(a).is_some()
            && group(a) == group(b)
            && !self.blank_between(self.code_end(a.span.end as usize), b.span.start as usize)
            && one_line(a)
            && one_line(b)
    }

    fn item(&mut self, item: &Item) {
        let close = item.span.end as usize - 1;
        match &item.kind {
            ItemKind::Use(u) => {
                let module: Vec<&str> = u.module.iter().map(|m| m.name.as_str()).collect();
                self.write("use ");
                if u.braced {
                    self.write_all(&[&module.join("."), ".{", &names(&u.names, ", "), "}"]);
                } else {
                    let path: Vec<&str> = module.into_iter().chain(u.names.iter().map(|n| n.name.as_str())).collect();
                    self.write(&path.join("."));
                }
            }
            ItemKind::Currency(c) => self.write_all(&["currency ", &c.name]),
            ItemKind::Record(r) => {
                self.write_all(&["record ", &r.name.name, " "]);
                let children: Vec<Child<'_>> = r.fields.iter().map(|f| Child::new(Node::Field(f), f.span)).collect();
                self.braced(self.brace_after(r.name.span.end as usize), close, &children);
            }
            ItemKind::Enum(e) => {
                self.write_all(&["enum ", &e.name.name, " "]);
                if self.enum_is_flat(item, e) {
                    self.write(&format!("{{ {} }}", names(&e.variants, ", ")));
                } else {
                    let children: Vec<Child<'_>> =
                        e.variants.iter().map(|v| Child::new(Node::Variant(v), v.span)).collect();
                    self.braced(self.brace_after(e.name.span.end as usize), close, &children);
                }
            }
            ItemKind::Skills(skills) => self.write_all(&["skills ", &names(skills, ", ")]),
            ItemKind::Source(s) => {
                self.write_all(&["source ", &s.name.name, ": ", &s.record.name, " "]);
                let children: Vec<Child<'_>> = s.clauses.iter().map(|c| Child::new(Node::Source(c), c.span)).collect();
                self.braced(self.brace_after(s.record.span.end as usize), close, &children);
            }
            ItemKind::Hours(h) => {
                self.write_all(&["hours ", &h.name.name, " "]);
                let children: Vec<Child<'_>> = h.clauses.iter().map(|c| Child::new(Node::Hours(c), c.span)).collect();
                self.braced(self.brace_after(h.name.span.end as usize), close, &children);
            }
            ItemKind::Entry(e) => {
                self.write_all(&["entry ", &e.channel.name, " "]);
                self.expr(&e.address, Place::Value);
                self.write_all(&[" -> ", &e.flow.name]);
            }
            ItemKind::Queue(q) => {
                self.write_all(&["queue ", &q.name.name, " "]);
                let children: Vec<Child<'_>> = q.clauses.iter().map(|c| Child::new(Node::Queue(c), c.span)).collect();
                self.braced(self.brace_after(q.name.span.end as usize), close, &children);
            }
            ItemKind::Fn(f) => {
                self.write("fn ");
                self.signature(&f.name, &f.params, &f.ret);
                self.write(" = ");
                let place = match &f.ret.kind {
                    TypeExprKind::Named(n) if n.name == "text" => Place::Text,
                    _ => Place::Value,
                };
                self.expr(&f.body, place);
            }
            ItemKind::ExternFn(f) => {
                self.write("extern fn ");
                self.signature(&f.name, &f.params, &f.ret);
                self.write(" from ");
                self.str_lit(&f.path.value);
            }
            ItemKind::Flow(f) => {
                self.write_all(&["flow ", &f.name.name, " on ", &names(&f.channels, ", "), " "]);
                let after_channels = f.channels.last().map_or(f.name.span.end, |c| c.span.end);
                let open = self.brace_after(after_channels as usize);
                let mut children = Vec::new();
                if let Some(on_error) = &f.on_error {
                    let start = self.token_after(open + 1);
                    children.push(Child { node: Node::OnError(on_error), start, end: on_error.span.end as usize });
                }
                children.extend(f.body.stmts.iter().map(Child::stmt));
                self.braced(open, close, &children);
            }
            ItemKind::Script(s) => {
                self.write_all(&["script ", &s.name.name]);
                if let Some(queue) = &s.queue {
                    self.write_all(&[" for queue ", &queue.name]);
                }
                self.write(" ");
                let header_end = s.queue.as_ref().unwrap_or(&s.name).span.end;
                let mut children: Vec<Child<'_>> = s.prelude.iter().map(Child::stmt).collect();
                children.extend(s.steps.iter().map(|step| Child::new(Node::Step(step), step.span)));
                self.braced(self.brace_after(header_end as usize), close, &children);
            }
            ItemKind::Survey(s) => {
                self.write_all(&["survey ", &s.name.name, " "]);
                let mut children: Vec<Child<'_>> = s.via.iter().map(|v| Child::new(Node::Via(v), v.span)).collect();
                children.extend(s.body.stmts.iter().map(Child::stmt));
                self.braced(self.brace_after(s.name.span.end as usize), close, &children);
            }
            ItemKind::Retry(r) => {
                self.write_all(&["retry ", &r.name.name, " for "]);
                self.param(&r.param);
                self.write(" ");
                let children: Vec<Child<'_>> = r.clauses.iter().map(|c| Child::new(Node::Retry(c), c.span)).collect();
                self.braced(self.brace_after(r.param.ty.span.end as usize), close, &children);
            }
            ItemKind::Reply(r) => {
                self.write_all(&["reply ", &r.name.name]);
                if let Some(queue) = &r.queue {
                    self.write_all(&[" for queue ", &queue.name]);
                }
                if let Some(with) = &r.with {
                    self.write(" with ");
                    self.param(with);
                }
                self.write(" ");
                self.expr(&r.text, Place::Text);
            }
            ItemKind::Scorecard(c) => {
                self.write_all(&["scorecard ", &c.name.name, " "]);
                let children: Vec<Child<'_>> =
                    c.questions.iter().map(|q| Child::new(Node::Question(q), q.span)).collect();
                self.braced(self.brace_after(c.name.span.end as usize), close, &children);
            }
            ItemKind::Test(t) => {
                self.write("test ");
                self.str_lit(&t.name.value);
                self.write(" ");
                let children: Vec<Child<'_>> = t.lines.iter().map(|l| Child::new(Node::Test(l), l.span)).collect();
                self.braced(self.brace_after(t.name.span.end as usize), close, &children);
            }
        }
    }

    /// `enum Tier { standard, gold }`: when it has variants, no comment inside and fits.
    fn enum_is_flat(&self, item: &Item, e: &EnumDecl) -> bool {
        let line = format!("enum {} {{ {} }}", e.name.name, names(&e.variants, ", "));
        let open = self.brace_after(e.name.span.end as usize);
        !e.variants.is_empty()
            && line.chars().count() <= MAX_WIDTH
            && !self.has_comments(open, item.span.end as usize - 1)
    }

    fn signature(&mut self, name: &Ident, params: &[Param], ret: &TypeExpr) {
        self.write_all(&[&name.name, "("]);
        for (i, p) in params.iter().enumerate() {
            if i > 0 {
                self.write(", ");
            }
            self.param(p);
        }
        self.write_all(&[") -> ", &type_expr(ret)]);
    }

    fn param(&mut self, param: &Param) {
        self.write_all(&[&param.name.name, ": ", &type_expr(&param.ty)]);
    }

    /// One node inside braces, without its line end.
    fn node(&mut self, node: &Node<'_>) {
        match *node {
            Node::Stmt(s) => self.stmt(s),
            Node::OnError(block) => {
                self.write("on error ");
                self.block(block);
            }
            Node::Via(via) => self.write(match via.kind {
                ViaKind::SameChannel => "via same channel",
                ViaKind::Sms => "via sms",
                ViaKind::Email => "via email",
            }),
            Node::Step(step) => {
                self.write_all(&["step ", &step.name.name, " "]);
                self.block(&step.body);
            }
            Node::Field(f) => self.write_all(&[&f.name.name, ": ", &type_expr(&f.ty)]),
            Node::Variant(v) => self.write(&v.name),
            Node::Question(q) => {
                self.write_all(&["question ", &q.name.name, " "]);
                self.str_lit(&q.text.value);
                self.write(" weight ");
                self.number(&q.weight);
            }
            Node::Source(c) => self.source_clause(c),
            Node::Hours(c) => self.hours_clause(c),
            Node::Queue(c) => self.queue_clause(c),
            Node::Waiting(w) => {
                self.write(if w.repeat { "every " } else { "after " });
                self.duration(&w.delay);
                self.write(" ");
                self.stmt(&w.action);
            }
            Node::Retry(c) => self.retry_clause(c),
            Node::Test(line) => self.test_line(line),
            Node::Arm(arm) => {
                if arm.patterns.is_empty() {
                    self.write("_");
                }
                for (i, p) in arm.patterns.iter().enumerate() {
                    if i > 0 {
                        self.write(" | ");
                    }
                    self.expr(p, Place::Value);
                }
                self.write(" -> ");
                match (arm.braced, arm.body.stmts.as_slice()) {
                    (false, [stmt]) => self.stmt(stmt),
                    _ => self.block(&arm.body),
                }
            }
            Node::MenuOption(option) => {
                self.write(&option.key.value);
                if let Some(label) = &option.label {
                    self.write(" ");
                    self.str_lit(&label.value);
                }
                self.write(" ");
                self.block(&option.body);
            }
            Node::MenuTimeout(t) => {
                self.write("timeout ");
                self.duration(&t.timeout);
                if let Some(retries) = &t.retries {
                    self.write(" retries ");
                    self.number(retries);
                }
                self.write(" ");
                self.block(&t.body);
            }
            Node::Choose(option) => {
                self.str_lit(&option.label.value);
                self.write_all(&[" -> ", &option.step.name]);
            }
            Node::Entry(key, value) => {
                self.write_all(&[&key.name, ": "]);
                self.expr(value, Place::Value);
            }
        }
    }

    fn source_clause(&mut self, clause: &SourceClause) {
        match &clause.kind {
            SourceClauseKind::Csv(path) => {
                self.write("csv ");
                self.str_lit(&path.value);
            }
            SourceClauseKind::Sqlite { path, table } => {
                self.write("sqlite ");
                self.str_lit(&path.value);
                self.write(" table ");
                self.str_lit(&table.value);
            }
            SourceClauseKind::Http(url) => {
                // The URL's `{key}` placeholder is written as one, not as literal braces.
                let text = format!("\"{}\"", escape(&url.value)).replace("{{key}}", "{key}");
                self.write_all(&["http ", &text]);
            }
            SourceClauseKind::Sql(query) => {
                self.write("sql ");
                self.str_lit(&query.value);
            }
            SourceClauseKind::Key(keys) => self.write_all(&["key ", &names(keys, ", ")]),
            SourceClauseKind::Timeout(d) => {
                self.write("timeout ");
                self.duration(d);
            }
            SourceClauseKind::Cache(d) => {
                self.write("cache ");
                self.duration(d);
            }
        }
    }

    fn hours_clause(&mut self, clause: &HoursClause) {
        match &clause.kind {
            HoursClauseKind::Timezone(zone) => {
                self.write("timezone ");
                self.str_lit(&zone.value);
            }
            HoursClauseKind::Open { days, ranges } => {
                let days: Vec<String> = days
                    .iter()
                    .map(|d| match &d.to {
                        Some(to) => format!("{}..{}", d.from.name, to.name),
                        None => d.from.name.clone(),
                    })
                    .collect();
                self.write(&days.join(", "));
                for (from, to) in ranges {
                    self.write_all(&[" ", &time(from.hour, from.minute), "-", &time(to.hour, to.minute)]);
                }
            }
            HoursClauseKind::Closed(dates) => {
                let dates: Vec<String> = dates.iter().map(|d| date(d.year, d.month, d.day)).collect();
                self.write_all(&["closed ", &dates.join(", ")]);
            }
        }
    }

    fn queue_clause(&mut self, clause: &QueueClause) {
        match &clause.kind {
            QueueClauseKind::Skills(skills) => self.write_all(&["skills ", &names(skills, ", ")]),
            QueueClauseKind::Target { channel, percent, within } => {
                self.write_all(&["target ", &channel.name, " "]);
                self.number(percent);
                self.write("% in ");
                self.duration(within);
            }
            QueueClauseKind::Priority(entries) => {
                self.write("priority ");
                for (i, (channel, n)) in entries.iter().enumerate() {
                    if i > 0 {
                        self.write(", ");
                    }
                    self.write_all(&[&channel.name, " "]);
                    self.number(n);
                }
            }
            QueueClauseKind::WhileWaiting(clauses) => {
                self.write("while waiting ");
                let children: Vec<Child<'_>> = clauses.iter().map(|w| Child::new(Node::Waiting(w), w.span)).collect();
                let open = self.brace_after(clause.span.start as usize);
                self.braced(open, clause.span.end as usize - 1, &children);
            }
            QueueClauseKind::Overflow { after, to } => {
                self.write("overflow after ");
                self.duration(after);
                self.write_all(&[" to ", &to.name]);
            }
        }
    }

    fn retry_clause(&mut self, clause: &RetryClause) {
        match &clause.kind {
            RetryClauseKind::Timezone(zone) => {
                self.write("timezone ");
                self.expr(zone, Place::Value);
            }
            RetryClauseKind::Quiet { from, to } => {
                self.write_all(&["quiet ", &time(from.hour, from.minute), "-", &time(to.hour, to.minute)])
            }
            RetryClauseKind::Step { when, action } => {
                match when {
                    When::Immediately(_) => self.write("immediately "),
                    When::At(t) => self.write_all(&["at ", &time(t.hour, t.minute), " "]),
                    When::After(d) => {
                        self.write("after ");
                        self.duration(d);
                        self.write(" ");
                    }
                }
                self.stmt(action);
            }
            RetryClauseKind::On { event, body } => {
                self.write_all(&["on ", &event.name, " "]);
                match self.one_line_body(body) {
                    Some(stmt) => {
                        self.write("{ ");
                        self.stmt(stmt);
                        self.write(" }");
                    }
                    None => self.block(body),
                }
            }
        }
    }

    /// The lone statement of a body that may print as `{ stop }`: one statement, no
    /// comment, and the line fits.
    fn one_line_body<'b>(&self, body: &'b Block) -> Option<&'b Stmt> {
        let [stmt] = body.stmts.as_slice() else { return None };
        if self.has_comments(body.span.start as usize, body.span.end as usize) {
            return None;
        }
        let text = self.measure(|p| p.stmt(stmt))?;
        (self.column() + text.chars().count() + "{  }".len() <= MAX_WIDTH).then_some(stmt)
    }

    // -----------------------------------------------------------------------------------
    // Statements

    fn stmt(&mut self, stmt: &Stmt) {
        let close = stmt.span.end as usize - 1;
        match &stmt.kind {
            StmtKind::Let { name, value } => {
                self.write_all(&["let ", &name.name, " = "]);
                self.expr(value, Place::Value);
            }
            StmtKind::Lookup { name, source, key, else_block } => {
                self.write_all(&["let ", &name.name, " = lookup ", &source.name, " by "]);
                self.expr(key, Place::Value);
                if let Some(block) = else_block {
                    self.write(" else ");
                    self.block(block);
                }
            }
            StmtKind::Assign { target, value } => {
                self.expr(target, Place::Value);
                self.write(" = ");
                self.expr(value, Place::Value);
            }
            StmtKind::Say(text) => {
                self.write("say ");
                self.expr(text, Place::Text);
            }
            StmtKind::Ask(ask) => {
                self.write_all(&["ask ", &ask.name.name, ": "]);
                match &ask.ty.kind {
                    AskTypeKind::Digits(n) => {
                        self.write("digits(");
                        self.number(n);
                        self.write(")");
                    }
                    AskTypeKind::YesNo => self.write("yes/no"),
                    AskTypeKind::Range(lo, hi) => {
                        self.number(lo);
                        self.write("..");
                        self.number(hi);
                    }
                    AskTypeKind::Named(ty) => self.write(&type_expr(ty)),
                }
                self.write(" ");
                self.expr(&ask.prompt, Place::Text);
                if let Some(timeout) = &ask.timeout {
                    self.write(" timeout ");
                    self.duration(timeout);
                }
                if let Some(retries) = &ask.retries {
                    self.write(" retries ");
                    self.number(retries);
                }
                if let Some(block) = &ask.else_block {
                    self.write(" else ");
                    self.block(block);
                }
            }
            StmtKind::Menu(menu) => {
                self.write("menu ");
                self.expr(&menu.prompt, Place::Text);
                self.write(" ");
                let mut children: Vec<Child<'_>> =
                    menu.options.iter().map(|o| Child::new(Node::MenuOption(o), o.span)).collect();
                children.extend(menu.timeout.iter().map(|t| Child::new(Node::MenuTimeout(t), t.span)));
                self.braced(self.brace_after(menu.prompt.span.end as usize), close, &children);
            }
            StmtKind::If { branches, else_block } => {
                for (i, (condition, block)) in branches.iter().enumerate() {
                    self.write(if i == 0 { "if " } else { " else if " });
                    self.expr(condition, Place::Value);
                    self.write(" ");
                    self.block(block);
                }
                if let Some(block) = else_block {
                    self.write(" else ");
                    self.block(block);
                }
            }
            StmtKind::Match { scrutinee, arms } => {
                self.write("match ");
                self.expr(scrutinee, Place::Value);
                self.write(" ");
                let children: Vec<Child<'_>> = arms.iter().map(|a| Child::new(Node::Arm(a), a.span)).collect();
                self.braced(self.brace_after(scrutinee.span.end as usize), close, &children);
            }
            StmtKind::Waypoint(name) => self.write_all(&["waypoint ", &name.name]),
            StmtKind::Queue(q) => {
                self.write_all(&["queue ", &q.queue.name]);
                if let Some(priority) = &q.priority {
                    self.write_all(&[" priority ", &signed(priority.value, self.slice(priority.span))]);
                }
                if let Some((agent, wait)) = &q.prefer {
                    self.write(" prefer ");
                    self.expr(agent, Place::Value);
                    self.write(" for ");
                    self.duration(wait);
                }
                if !q.require.is_empty() {
                    self.write_all(&[" require skill ", &names(&q.require, ", ")]);
                }
                if q.vip {
                    self.write(" vip");
                }
            }
            StmtKind::Transfer(to) => {
                self.write("transfer to ");
                self.expr(to, Place::Value);
            }
            StmtKind::OfferCallback { keep_place } => {
                self.write(if *keep_place { "offer callback keep place" } else { "offer callback" })
            }
            StmtKind::CollectPayment(amount) => {
                self.write("collect payment ");
                self.expr(amount, Place::Value);
            }
            StmtKind::Send { medium, to, text } => {
                self.write_all(&["send ", &medium.name, " to "]);
                self.expr(to, Place::Value);
                self.write(" ");
                self.expr(text, Place::Text);
            }
            StmtKind::StartRetry { retry, arg } => {
                self.write_all(&["start retry ", &retry.name, " for "]);
                self.expr(arg, Place::Value);
            }
            StmtKind::Survey(name) => self.write_all(&["survey ", &name.name]),
            StmtKind::End => self.write("end"),
            StmtKind::Note(text) => {
                self.write("note ");
                self.expr(text, Place::Text);
            }
            StmtKind::Choose { prompt, options } => {
                self.write("choose ");
                self.expr(prompt, Place::Text);
                self.write(" ");
                let children: Vec<Child<'_>> = options.iter().map(|o| Child::new(Node::Choose(o), o.span)).collect();
                self.braced(self.brace_after(prompt.span.end as usize), close, &children);
            }
            StmtKind::Goto(step) => self.write_all(&["goto ", &step.name]),
            StmtKind::Outcome(name) => self.write_all(&["outcome ", &name.name]),
            StmtKind::Call { to, queue, script } => {
                self.write("call ");
                self.expr(to, Place::Value);
                self.write_all(&[" queue ", &queue.name]);
                if let Some(script) = script {
                    self.write_all(&[" script ", &script.name]);
                }
            }
            StmtKind::Again { delay, at, max } => {
                self.write("again in ");
                self.duration(delay);
                if let Some(at) = at {
                    self.write_all(&[" at ", &time(at.hour, at.minute)]);
                }
                self.write(" max ");
                self.number(max);
            }
            StmtKind::Stop => self.write("stop"),
        }
    }

    // -----------------------------------------------------------------------------------
    // Tests

    fn test_line(&mut self, line: &TestLine) {
        match &line.kind {
            TestLineKind::Given { source, row } => {
                self.write_all(&["given ", &source.name, " "]);
                self.expr(row, Place::Value);
            }
            TestLineKind::At { date: d, time: t, zone } => {
                self.write_all(&["at ", &date(d.year, d.month, d.day), " ", &time(t.hour, t.minute)]);
                if let Some(zone) = zone {
                    self.write(" ");
                    self.str_lit(&zone.value);
                }
            }
            TestLineKind::Agent { name, skills, languages } => {
                self.write_all(&["agent ", &name.name, " skills ", &names(skills, ", ")]);
                if !languages.is_empty() {
                    self.write_all(&[" languages ", &names(languages, ", ")]);
                }
            }
            TestLineKind::Contact { channel, from, to, subject, text } => {
                self.write_all(&["contact ", &channel.name, " from "]);
                self.expr(from, Place::Value);
                for (keyword, value) in [(" to ", to), (" subject ", subject), (" text ", text)] {
                    if let Some(value) = value {
                        self.write(keyword);
                        self.expr(value, Place::Value);
                    }
                }
            }
            TestLineKind::Script(name) => self.write_all(&["script ", &name.name]),
            TestLineKind::Survey(name) => self.write_all(&["survey ", &name.name]),
            TestLineKind::StartRetry { retry, arg } => {
                self.write_all(&["start retry ", &retry.name, " for "]);
                self.expr(arg, Place::Value);
            }
            TestLineKind::Press(keys) => self.write_all(&["press ", &keys.value]),
            TestLineKind::Type(text) => {
                self.write("type ");
                self.expr(text, Place::Value);
            }
            TestLineKind::Wait(d) => {
                self.write("wait ");
                self.duration(d);
            }
            TestLineKind::AdvanceTo { date: d, time: t } => {
                self.write_all(&["advance to ", &date(d.year, d.month, d.day), " ", &time(t.hour, t.minute)])
            }
            TestLineKind::Answer(value) => {
                self.write("answer ");
                self.expr(value, Place::Value);
            }
            TestLineKind::Choose(option) => {
                self.write("choose ");
                self.str_lit(&option.value);
            }
            TestLineKind::Event(name) => self.write_all(&["event ", &name.name]),
            TestLineKind::Accept => self.write("accept"),
            TestLineKind::HangUp => self.write("hang up"),
            TestLineKind::Expect(expectation) => {
                self.write("expect ");
                self.expectation(expectation);
            }
            TestLineKind::ExpectNo { kind, name } => {
                self.write_all(&["expect no ", &kind.name]);
                if let Some(name) = name {
                    self.write_all(&[" ", &name.name]);
                }
            }
        }
    }

    fn expectation(&mut self, expectation: &Expectation) {
        match expectation {
            Expectation::Say(text) => {
                self.write("say ");
                self.expr(text, Place::Text);
            }
            Expectation::Note(text) => {
                self.write("note ");
                self.expr(text, Place::Text);
            }
            Expectation::Waypoint(name) => self.write_all(&["waypoint ", &name.name]),
            Expectation::Queue { queue, priority } => {
                self.write_all(&["queue ", &queue.name]);
                if let Some(priority) = priority {
                    self.write_all(&[" priority ", &signed(priority.value, self.slice(priority.span))]);
                }
            }
            Expectation::Transfer(to) => {
                self.write("transfer to ");
                self.expr(to, Place::Value);
            }
            Expectation::Send { medium, to, text } => {
                self.write_all(&["send ", &medium.name, " to "]);
                self.expr(to, Place::Value);
                if let Some(text) = text {
                    self.write(" ");
                    self.expr(text, Place::Text);
                }
            }
            Expectation::Call { to, queue } => {
                self.write("call ");
                self.expr(to, Place::Value);
                if let Some(queue) = queue {
                    self.write_all(&[" queue ", &queue.name]);
                }
            }
            Expectation::Outcome(name) => self.write_all(&["outcome ", &name.name]),
            Expectation::Offer { agent, channel } => {
                self.write_all(&["offer ", &agent.name]);
                if let Some(c) = channel {
                    self.write_all(&[" on ", &c.name]);
                }
            }
            Expectation::Stop => self.write("stop"),
            Expectation::End => self.write("end"),
            Expectation::Error => self.write("error"),
        }
    }

    // -----------------------------------------------------------------------------------
    // Expressions

    fn expr(&mut self, expr: &Expr, place: Place) {
        match &expr.kind {
            ExprKind::Number(n) => self.write(&number(*n, self.slice(expr.span))),
            ExprKind::Percent(n) => self.write_all(&[&number(*n, self.slice(expr.span).trim_end_matches('%')), "%"]),
            // `yes` and `no` read better than `true` and `false` where they were chosen.
            ExprKind::Bool(b) => match self.slice(expr.span) {
                spelled @ ("yes" | "no") => self.write(spelled),
                _ => self.write(if *b { "true" } else { "false" }),
            },
            ExprKind::Duration(millis) => self.duration(&DurationLit { millis: *millis, span: expr.span }),
            ExprKind::Time { hour, minute } => self.write(&time(*hour, *minute)),
            ExprKind::Date { year, month, day } => self.write(&date(*year, *month, *day)),
            ExprKind::Money { symbol, minor } => self.write(&money(*symbol, *minor)),
            ExprKind::Phone(phone) => self.write(phone),
            ExprKind::Text(parts) => {
                self.write("\"");
                for part in parts {
                    match part {
                        TextPart::Lit(lit) => self.write(&escape(lit)),
                        TextPart::Expr(inner) => {
                            // `{ {…}.x }`: a record right after `{` would read as a literal `{{`.
                            let pad = if first_char(inner) == '{' { " " } else { "" };
                            self.write_all(&["{", pad]);
                            self.expr(inner, Place::Value);
                            self.write_all(&[pad, "}"]);
                        }
                    }
                }
                self.write("\"");
            }
            ExprKind::Regex(pattern) => {
                self.regexes.push(expr.span);
                self.write_all(&["/", pattern, "/"]);
            }
            ExprKind::List(items) => {
                self.write("[");
                self.comma_separated(items);
                self.write("]");
            }
            // Never met: a file with a syntax error is not formatted.
            ExprKind::None | ExprKind::Error => self.write("none"),
            ExprKind::Name(name) => self.write(&name.name),
            ExprKind::Field { base, name, optional } => {
                self.expr(base, Place::Value);
                self.write_all(&[if *optional { "?." } else { "." }, &name.name]);
            }
            ExprKind::Call { callee, args } => {
                self.write_all(&[&callee.name, "("]);
                self.comma_separated(args);
                self.write(")");
            }
            ExprKind::Record(entries) => self.record(expr, entries, place),
            ExprKind::Unary { op, expr: operand } => {
                self.write(match op {
                    UnaryOp::Not => "not ",
                    UnaryOp::Neg => "-",
                });
                self.expr(operand, Place::Value);
            }
            ExprKind::Binary { op, lhs, rhs } => {
                self.expr(lhs, Place::Value);
                self.write_all(&[" ", op.as_str(), " "]);
                self.expr(rhs, Place::Value);
            }
            ExprKind::Paren(inner) => {
                self.write("(");
                self.expr(inner, Place::Value);
                self.write(")");
            }
        }
    }

    fn comma_separated(&mut self, items: &[Expr]) {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.write(", ");
            }
            self.expr(item, Place::Value);
        }
    }

    /// `{ name: "Kim", tier: gold }` on one line, or one entry a line when it was written
    /// across lines (or is a per-language text too wide for one).
    fn record(&mut self, expr: &Expr, entries: &[(Ident, Expr)], place: Place) {
        let (open, close) = (expr.span.start as usize, expr.span.end as usize - 1);
        let one_line = !entries.is_empty()
            && !self.slice(expr.span).contains(['\n', '\r'])
            && (place == Place::Value || {
                let flat = self.measure(|p| p.expr(expr, Place::Value));
                flat.is_some_and(|flat| self.column() + flat.chars().count() <= MAX_WIDTH)
            });
        if !one_line {
            let children: Vec<Child<'_>> = entries
                .iter()
                .map(|(key, value)| Child::new(Node::Entry(key, value), key.span.to(value.span)))
                .collect();
            self.braced(open, close, &children);
            return;
        }
        self.write("{ ");
        for (i, (key, value)) in entries.iter().enumerate() {
            if i > 0 {
                self.write(", ");
            }
            self.write_all(&[&key.name, ": "]);
            self.expr(value, Place::Value);
        }
        self.write(" }");
    }

    /// A duration as written when that is tidy (`60s`, `1h30m`), else canonical.
    fn duration(&mut self, d: &DurationLit) {
        let written = self.slice(d.span);
        if is_tidy_duration(written) {
            self.write(written);
        } else {
            self.write(&duration(d.millis));
        }
    }

    fn number(&mut self, n: &NumberLit) {
        self.write(&number(n.value, self.slice(n.span)));
    }

    fn str_lit(&mut self, value: &str) {
        self.write_all(&["\"", &escape(value), "\""]);
    }

    fn slice(&self, span: Span) -> &'s str {
        &self.src[span.range()]
    }
}

// ---------------------------------------------------------------------------------------
// Tokens

fn names(ids: &[Ident], separator: &str) -> String {
    ids.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(separator)
}

fn type_expr(ty: &TypeExpr) -> String {
    match &ty.kind {
        TypeExprKind::Named(name) => name.name.clone(),
        TypeExprKind::List(item) => format!("[{}]", type_expr(item)),
        TypeExprKind::Optional(inner) => format!("{}?", type_expr(inner)),
    }
}

/// The shortest digits that read back as `value`; the source spelling if there are none
/// (a number too large for a float).
fn number(value: f64, written: &str) -> String {
    if value.is_finite() {
        format!("{value}")
    } else {
        written.to_string()
    }
}

/// `+5` or `-3`: priorities always carry their sign.
fn signed(value: f64, written: &str) -> String {
    match value.is_finite() {
        true if value.is_sign_negative() => format!("-{}", -value),
        true => format!("+{value}"),
        false => written.to_string(),
    }
}

/// Whether a duration is written tidily: units largest first, each at most once, no zero
/// part (but a lone `0s`), no leading zero, and after the first part no count that fills
/// the unit above (`1h30m`, `90m` and `60s` are tidy; `30m1h`, `0h5m` and `1m60s` are not).
fn is_tidy_duration(written: &str) -> bool {
    // Each unit with how many of it make the next larger one.
    const UNITS: [(&str, u64); 5] = [("d", u64::MAX), ("h", 24), ("m", 60), ("s", 60), ("ms", 1000)];
    let mut previous: Option<usize> = None;
    let mut parts = 0;
    let mut rest = written;
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let (count, tail) = rest.split_at(digits);
        let unit = if tail.starts_with("ms") { "ms" } else { tail.get(..1).unwrap_or("") };
        let Some(rank) = UNITS.iter().position(|(u, _)| *u == unit) else { return false };
        let Ok(n) = count.parse::<u64>() else { return false };
        let leading_zero = count.len() > 1 && count.starts_with('0');
        let out_of_order = previous.is_some_and(|p| rank <= p);
        let overflows = previous.is_some() && n >= UNITS[rank].1;
        if leading_zero || out_of_order || overflows || (n == 0 && written.len() > count.len() + unit.len()) {
            return false;
        }
        previous = Some(rank);
        parts += 1;
        rest = &tail[unit.len()..];
    }
    parts > 0
}

/// `5400000` → `1h30m`: largest units first.
fn duration(millis: i64) -> String {
    if millis <= 0 {
        return "0s".to_string();
    }
    let units = [(86_400_000, "d"), (3_600_000, "h"), (60_000, "m"), (1000, "s"), (1, "ms")];
    let mut rest = millis;
    let mut out = String::new();
    for (size, unit) in units {
        if rest >= size {
            out.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    out
}

fn time(hour: u32, minute: u32) -> String {
    format!("{hour:02}:{minute:02}")
}

fn date(year: i32, month: u32, day: u32) -> String {
    format!("{year:04}-{month:02}-{day:02}")
}

/// `£250`, `$12.50`.
fn money(symbol: char, minor: i64) -> String {
    match (minor / 100, minor % 100) {
        (units, 0) => format!("{symbol}{units}"),
        (units, cents) => format!("{symbol}{units}.{cents:02}"),
    }
}

/// The inside of a text literal: quotes, backslashes, braces and line breaks escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '{' => out.push_str("{{"),
            '}' => out.push_str("}}"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            // The language has no escape for a CR: only a backslash before one keeps it.
            '\r' => out.push_str("\\\r"),
            c => out.push(c),
        }
    }
    out
}

/// The first character `expr` prints as.
fn first_char(expr: &Expr) -> char {
    match &expr.kind {
        ExprKind::Binary { lhs, .. } => first_char(lhs),
        ExprKind::Field { base, .. } => first_char(base),
        ExprKind::Unary { op: UnaryOp::Neg, .. } => '-',
        ExprKind::Paren(_) => '(',
        ExprKind::List(_) => '[',
        ExprKind::Record(_) => '{',
        ExprKind::Text(_) => '"',
        ExprKind::Regex(_) => '/',
        ExprKind::Phone(_) => '+',
        ExprKind::Money { symbol, .. } => *symbol,
        _ => 'a',
    }
}

/// The `//` comments of `src`, as `syntax::parse` finds them, but stepping over the
/// given regex literals.
fn scan_comments(src: &str, regexes: &[Span]) -> Vec<Comment> {
    #[derive(Clone, Copy, PartialEq)]
    enum Frame {
        Bracket,
        Text,
        Interpolation,
    }
    let mut regexes = regexes.to_vec();
    regexes.sort_by_key(|s| s.start);
    let bytes = src.as_bytes();
    let mut comments = Vec::new();
    let mut stack = Vec::new();
    let mut regex = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let next = bytes.get(i + 1).copied();
        if stack.last() == Some(&Frame::Text) {
            match b {
                b'\\' => i += 1,
                b'"' | b'\n' | b'\r' => {
                    stack.pop();
                }
                b'{' if next == Some(b'{') => i += 1,
                b'}' if next == Some(b'}') => i += 1,
                b'{' => stack.push(Frame::Interpolation),
                _ => {}
            }
            i += 1;
            continue;
        }
        while regex < regexes.len() && (regexes[regex].start as usize) < i {
            regex += 1;
        }
        if regex < regexes.len() && regexes[regex].start as usize == i {
            i = regexes[regex].end as usize;
            continue;
        }
        match b {
            b'/' if next == Some(b'/') => {
                let end = i + line_end(&src[i..]);
                comments.push(Comment { text: src[i..end].trim_end().to_string(), span: Span::new(i, end) });
                i = end;
                continue;
            }
            b'"' => stack.push(Frame::Text),
            b'{' | b'[' | b'(' => stack.push(Frame::Bracket),
            b'}' | b']' | b')' => {
                stack.pop();
            }
            _ => {}
        }
        i += 1;
    }
    comments
}
