//! Rendering diagnostics: for people (miette's graphical report), for programs (JSON), for
//! GitHub workflow annotations, and for code-scanning tools (SARIF 2.1.0).
//!
//! Every function returns a `String` ending in a newline, ready to print as is: printing is
//! the CLI's business. Positions are 1-based lines and columns counted in characters; an
//! end position is the one just after the span's last character.

use crate::diagnostic::{Code, Diagnostic, FileId, Severity};
use crate::loader::SourceFile;
use crate::syntax::ast::Span;
use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents, SourceCode, SourceSpan,
    SpanContents,
};
use serde::Serialize;
use serde_json::ser::{Formatter, PrettyFormatter};
use std::fmt::{self, Write as _};
use std::sync::Arc;

/// The width the human report wraps at, whatever the terminal: output is the same everywhere.
const WIDTH: usize = 100;

/// 1-based line and column (in characters) of byte `offset` in `text`. An offset past the
/// end is the end of the text; one inside a multi-byte character is that character. A line
/// ends at LF, CRLF or a lone CR; the CR of a CRLF is not a column of its line.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..char_boundary(text, offset)];
    let bytes = text.as_bytes();
    let mut line = 1;
    let mut line_start = 0;
    for (i, &byte) in before.as_bytes().iter().enumerate() {
        if byte == b'\n' || (byte == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
            line += 1;
            line_start = i + 1;
        }
    }
    let column = before[line_start..].trim_end_matches('\r').chars().count() + 1;
    (line, column)
}

/// `offset` clamped to the end of `text` and moved back to the start of the character it is in.
fn char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// "2 errors, 1 warning".
fn summary(diags: &[Diagnostic]) -> String {
    let (errors, warnings) = counts(diags);
    let plural = |n: usize, word: &str| if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") };
    format!("{}, {}", plural(errors, "error"), plural(warnings, "warning"))
}

fn counts(diags: &[Diagnostic]) -> (usize, usize) {
    let errors = diags.iter().filter(|d| d.severity == Severity::Error).count();
    (errors, diags.len() - errors)
}

/// Where a span is, as people and tools count.
struct Location<'a> {
    path: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
}

/// The file a diagnostic names, if the compilation has it.
fn file_of(files: &[SourceFile], file: FileId) -> Option<&SourceFile> {
    files.get(file.0 as usize)
}

fn locate(files: &[SourceFile], file: FileId, span: Span) -> Location<'_> {
    let (path, text) = match file_of(files, file) {
        Some(source) => (source.path.as_str(), &*source.text),
        None => ("<unknown file>", ""),
    };
    let start = span.start as usize;
    let (line, column) = line_col(text, start);
    let (end_line, end_column) = line_col(text, (span.end as usize).max(start));
    Location { path, line, column, end_line, end_column }
}

// ---------------------------------------------------------------------------------------
// For people

/// Lines shown around each label, before and after (miette's default, set explicitly
/// because every excerpt holds as many).
const CONTEXT_LINES: usize = 1;

/// Past this many characters a source line is shown as windows around the places its
/// diagnostic points at: miette cannot draw a label past column 65,535 (it panics), and
/// nobody reads so long a line whole.
const LONG_LINE: usize = 400;

/// Characters shown on either side of a place in a long line.
const WINDOW: usize = 60;

/// miette's graphical report of every diagnostic, in the order given, then a summary line
/// ("2 errors, 1 warning"). Without `color` the output is plain unicode, and always wrapped
/// at 100 columns, so it is the same on every machine.
///
/// Nothing from the source reaches the terminal raw: messages, labels and help show control
/// characters as escapes (`\u{1b}`), and source lines show them as control pictures (`␛`),
/// with line ends (LF, CRLF or CR) as line ends and long lines cut to windows.
pub fn human(diags: &[Diagnostic], files: &[SourceFile], color: bool) -> String {
    let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(WIDTH)
        .with_context_lines(CONTEXT_LINES)
        .with_show_related_as_nested(true);
    let mut out = String::new();
    for diag in diags {
        let report = Report::new(diag, files);
        handler.render_report(&mut out, &report).expect("writing to a String cannot fail");
        out.push('\n');
    }
    out.push_str(&summary(diags));
    out.push('\n');
    out
}

/// Whether `c` must not reach a terminal as it is: control characters (C0 but tab, DEL,
/// C1), the bidirectional controls that reorder what is shown, and the Unicode line and
/// paragraph separators.
fn unprintable(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        || matches!(c, '\u{2028}' | '\u{2029}')
}

/// `text` with every unprintable character (and every tab) written as an escape, `\u{1b}`:
/// for messages, labels, help and paths, which are one line each.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(|c| unprintable(c) || c == '\t') {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unprintable(c) || c == '\t' {
            write!(out, "\\u{{{:x}}}", u32::from(c)).expect("writing to a String cannot fail");
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// How a source line shows `c`: C0 controls and DEL as their control pictures (one column
/// each, so the line keeps its shape), other unprintable characters as escapes.
fn push_shown(out: &mut String, c: char) {
    match c {
        '\u{0}'..='\u{1f}' if c != '\t' => out.push(char::from_u32(0x2400 + u32::from(c)).unwrap_or('\u{fffd}')),
        '\u{7f}' => out.push('\u{2421}'),
        c if unprintable(c) => write!(out, "\\u{{{:x}}}", u32::from(c)).expect("writing to a String cannot fail"),
        c => out.push(c),
    }
}

/// Where the line holding byte `at` starts: after the line end before it. `at` on the LF
/// of a CRLF is on the line that CRLF ends.
fn line_start(text: &str, at: usize) -> usize {
    let bytes = text.as_bytes();
    let at = if at > 0 && bytes[at - 1] == b'\r' && bytes.get(at) == Some(&b'\n') { at - 1 } else { at };
    text[..at].rfind(['\n', '\r']).map_or(0, |i| i + 1)
}

/// The line starting at `start`: where its text ends, and where the next line starts (the
/// text's end when there is none).
fn line_at(text: &str, start: usize) -> (usize, usize) {
    let end = start + text[start..].find(['\n', '\r']).unwrap_or(text.len() - start);
    let next = if text[end..].starts_with("\r\n") { end + 2 } else { (end + 1).min(text.len()) };
    (end, next)
}

/// What one diagnostic shows of one file, made safe to print: every line from the one
/// before its first span to the one after its last, with LF line ends, unprintable
/// characters shown (`push_shown`) and lines past `LONG_LINE` characters cut to windows
/// around the spans' ends. miette reads it in place of the file; its labels point into it,
/// and its line numbers and the `file:line:column` heading are the file's.
#[derive(Debug)]
struct Excerpt {
    path: String,
    text: String,
    /// The file's 0-based line that the excerpt starts with.
    first_line: usize,
    /// (offset in `text`, offset in the file) of each span end the excerpt was made for.
    places: Vec<(usize, usize)>,
    file: Arc<str>,
}

impl Excerpt {
    /// The excerpt of `file` for `spans`, and each span as it stands in the excerpt.
    fn new(file: &SourceFile, spans: &[Span]) -> (Excerpt, Vec<SourceSpan>) {
        let text: &str = &file.text;
        let spans: Vec<(usize, usize)> = spans
            .iter()
            .map(|span| {
                let start = char_boundary(text, span.start as usize);
                (start, char_boundary(text, span.end as usize).max(start))
            })
            .collect();
        let mut ends: Vec<usize> = spans.iter().flat_map(|&(start, end)| [start, end]).collect();
        ends.sort_unstable();
        ends.dedup();
        let (first, last) = (ends.first().copied().unwrap_or(0), ends.last().copied().unwrap_or(0));
        let mut start = line_start(text, first);
        for _ in 0..CONTEXT_LINES {
            if start > 0 {
                start = line_start(text, start - 1);
            }
        }
        let first_line = line_col(text, start).0 - 1;
        let mut excerpt = Excerpt {
            path: printable(&file.path).into_owned(),
            text: String::new(),
            first_line,
            places: Vec::new(),
            file: Arc::clone(&file.text),
        };
        // Lines still to show after the one holding the last span end, once it is shown.
        let mut after_last: Option<usize> = None;
        let mut at = start;
        loop {
            let (end, next) = line_at(text, at);
            excerpt.push_line(text, at, end, next, &ends);
            if next > end {
                excerpt.text.push('\n');
            }
            let holds_last = last < next || (next == end && last <= end);
            if holds_last && after_last.is_none() {
                after_last = Some(CONTEXT_LINES);
            }
            match after_last {
                Some(0) => break,
                Some(n) => after_last = Some(n - 1),
                None => {}
            }
            if next == end {
                break;
            }
            // At the text's end after a final line end, the (empty) last line is read
            // too: a span at the very end stands there.
            at = next;
        }
        let mapped = spans
            .iter()
            .map(|&(start, end)| {
                let (start, end) = (excerpt.shown(start), excerpt.shown(end));
                SourceSpan::from(start..end.max(start))
            })
            .collect();
        (excerpt, mapped)
    }

    /// Shows the file's line `text[start..end]` (the next starts at `next`), noting where
    /// each of `ends` on it lands; those on its line end land at the shown line's end.
    fn push_line(&mut self, text: &str, start: usize, end: usize, next: usize, ends: &[usize]) {
        let line = &text[start..end];
        let here: Vec<usize> = ends.iter().copied().filter(|&e| start <= e && (e <= end || e < next)).collect();
        let chars: Vec<(usize, char)> = line.char_indices().map(|(i, c)| (start + i, c)).collect();
        // Which characters to show: all of a short line; windows of a long one.
        let windows: Vec<(usize, usize)> = if chars.len() <= LONG_LINE {
            vec![(0, chars.len())]
        } else {
            let index_of = |offset: usize| chars.partition_point(|&(o, _)| o < offset);
            let mut windows: Vec<(usize, usize)> = Vec::new();
            let centres: Vec<usize> =
                if here.is_empty() { vec![WINDOW] } else { here.iter().map(|&e| index_of(e)).collect() };
            for c in centres {
                let (from, to) = (c.saturating_sub(WINDOW), (c + WINDOW).min(chars.len()));
                match windows.last_mut() {
                    Some(last) if from <= last.1 + 1 => last.1 = last.1.max(to),
                    _ => windows.push((from, to)),
                }
            }
            windows
        };
        let mut shown_to = 0;
        for (from, to) in windows {
            if from > shown_to {
                self.text.push('…');
            }
            for &(offset, c) in &chars[from..to] {
                if here.contains(&offset) {
                    self.places.push((self.text.len(), offset));
                }
                push_shown(&mut self.text, c);
            }
            shown_to = to;
        }
        if shown_to < chars.len() {
            // A span end in the part cut off cannot be: windows are centred on them.
            self.text.push('…');
        }
        // Span ends on the line end (at its CR or LF) stand at the shown line's end.
        for &e in &here {
            if !self.places.iter().any(|&(_, o)| o == e) {
                self.places.push((self.text.len(), e));
            }
        }
    }

    /// Where the file's byte `offset`, a span end, stands in the excerpt.
    fn shown(&self, offset: usize) -> usize {
        self.places.iter().find(|&&(_, o)| o == offset).map_or(self.text.len(), |&(shown, _)| shown)
    }
}

impl SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let contents = self.text.read_span(span, context_lines_before, context_lines_after)?;
        // miette reports a column only when it reads no lines before the span: the column
        // of the span's start, which is the file's, counted in characters.
        let column = match self.places.iter().find(|&&(shown, _)| shown == span.offset()) {
            Some(&(_, offset)) if context_lines_before == 0 => line_col(&self.file, offset).1 - 1,
            _ => contents.column(),
        };
        // Lines count from the file's start: `line_count` too, which miette counts from
        // the start of what it reads (the line ends before the span's end, and more) and
        // compares with line numbers to join two labels' snippets into one.
        Ok(Box::new(MietteSpanContents::new_named(
            self.path.clone(),
            contents.data(),
            *contents.span(),
            contents.line() + self.first_line,
            column,
            contents.line_count() + self.first_line,
        )))
    }
}

/// One of our diagnostics as miette sees it. Related labels in the diagnostic's own file
/// join its snippets; those in other files become notes nested under it, with their own.
#[derive(Debug)]
struct Report<'a> {
    diagnostic: &'a Diagnostic,
    /// "error[unknown-name]"
    heading: String,
    message: String,
    help: Option<String>,
    source: Option<Excerpt>,
    labels: Vec<LabeledSpan>,
    elsewhere: Vec<Elsewhere>,
}

impl<'a> Report<'a> {
    fn new(diagnostic: &'a Diagnostic, files: &[SourceFile]) -> Report<'a> {
        let heading = format!("{}[{}]", diagnostic.severity.as_str(), diagnostic.code.as_str());
        let label_text = |text: &str| Some(printable(text).into_owned());
        let home = file_of(files, diagnostic.file);
        let mut labels = Vec::new();
        let mut elsewhere = Vec::new();
        let mut source = None;
        if let Some(home) = home {
            let beside: Vec<&crate::diagnostic::Label> =
                diagnostic.related.iter().filter(|r| r.file == diagnostic.file).collect();
            let spans: Vec<Span> = std::iter::once(diagnostic.span).chain(beside.iter().map(|r| r.span)).collect();
            let (excerpt, mapped) = Excerpt::new(home, &spans);
            labels
                .push(LabeledSpan::new_primary_with_span(diagnostic.label.as_deref().and_then(label_text), mapped[0]));
            for (related, span) in beside.iter().zip(&mapped[1..]) {
                labels.push(LabeledSpan::new_with_span(label_text(&related.message), *span));
            }
            source = Some(excerpt);
        }
        for related in diagnostic.related.iter().filter(|r| home.is_none() || r.file != diagnostic.file) {
            let message = printable(&related.message).into_owned();
            match file_of(files, related.file) {
                Some(file) => {
                    let (excerpt, mapped) = Excerpt::new(file, &[related.span]);
                    elsewhere.push(Elsewhere {
                        message,
                        source: Some(excerpt),
                        label: Some(LabeledSpan::new_primary_with_span(None, mapped[0])),
                    });
                }
                None => elsewhere.push(Elsewhere { message, source: None, label: None }),
            }
        }
        Report {
            diagnostic,
            heading,
            message: printable(&diagnostic.message).into_owned(),
            help: diagnostic.help.as_deref().map(|help| printable(help).into_owned()),
            source,
            labels,
            elsewhere,
        }
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(&self.heading))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.help.as_ref().map(|help| Box::new(help) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|source| source as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }

    fn related<'b>(&'b self) -> Option<Box<dyn Iterator<Item = &'b dyn miette::Diagnostic> + 'b>> {
        if self.elsewhere.is_empty() {
            None
        } else {
            Some(Box::new(self.elsewhere.iter().map(|note| note as &dyn miette::Diagnostic)))
        }
    }
}

/// A related label in another file than its diagnostic: shown as a note with its own snippet.
#[derive(Debug)]
struct Elsewhere {
    message: String,
    source: Option<Excerpt>,
    label: Option<LabeledSpan>,
}

impl fmt::Display for Elsewhere {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Elsewhere {}

impl miette::Diagnostic for Elsewhere {
    fn severity(&self) -> Option<miette::Severity> {
        Some(miette::Severity::Advice)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|source| source as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.label.as_ref().map(|label| Box::new(std::iter::once(label.clone())) as Box<dyn Iterator<Item = _>>)
    }
}

// ---------------------------------------------------------------------------------------
// For programs

#[derive(Serialize)]
struct JsonReport<'a> {
    diagnostics: Vec<JsonDiagnostic<'a>>,
    errors: usize,
    warnings: usize,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: &'static str,
    severity: &'static str,
    file: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    message: &'a str,
    help: Option<&'a str>,
}

/// One pretty-printed JSON object:
/// `{"diagnostics":[{"code","severity","file","line","column","end_line","end_column","message","help"}],"errors":N,"warnings":N}`,
/// with `help` null when there is none.
pub fn json(diags: &[Diagnostic], files: &[SourceFile]) -> String {
    let diagnostics = diags
        .iter()
        .map(|diag| {
            let at = locate(files, diag.file, diag.span);
            JsonDiagnostic {
                code: diag.code.as_str(),
                severity: diag.severity.as_str(),
                file: at.path,
                line: at.line,
                column: at.column,
                end_line: at.end_line,
                end_column: at.end_column,
                message: &diag.message,
                help: diag.help.as_deref(),
            }
        })
        .collect();
    let (errors, warnings) = counts(diags);
    let mut out = pretty_json(&JsonReport { diagnostics, errors, warnings });
    out.push('\n');
    out
}

/// Pretty-printed JSON in which no string holds a character a terminal would act on:
/// serde_json escapes C0 controls as JSON must, and `SafeStrings` the rest of what
/// `unprintable` names (DEL, C1, bidirectional controls) as `\u` escapes, which read back
/// as the same text.
fn pretty_json(value: &impl Serialize) -> String {
    let mut bytes = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut bytes, SafeStrings(PrettyFormatter::new()));
    value.serialize(&mut serializer).expect("a report of strings and numbers always serializes");
    String::from_utf8(bytes).expect("serde_json writes UTF-8")
}

/// serde_json's pretty layout, with the string escapes of `pretty_json`.
struct SafeStrings(PrettyFormatter<'static>);

impl Formatter for SafeStrings {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut rest = fragment;
        while let Some((at, c)) = rest.char_indices().find(|&(_, c)| unprintable(c)) {
            writer.write_all(&rest.as_bytes()[..at])?;
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write!(writer, "\\u{:04x}", unit)?;
            }
            rest = &rest[at + c.len_utf8()..];
        }
        writer.write_all(rest.as_bytes())
    }

    fn begin_array<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.0.begin_array(writer)
    }

    fn end_array<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.0.end_array(writer)
    }

    fn begin_array_value<W: ?Sized + std::io::Write>(&mut self, writer: &mut W, first: bool) -> std::io::Result<()> {
        self.0.begin_array_value(writer, first)
    }

    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.0.end_array_value(writer)
    }

    fn begin_object<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.0.begin_object(writer)
    }

    fn end_object<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.0.end_object(writer)
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(&mut self, writer: &mut W, first: bool) -> std::io::Result<()> {
        self.0.begin_object_key(writer, first)
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.0.begin_object_value(writer)
    }

    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.0.end_object_value(writer)
    }
}

// ---------------------------------------------------------------------------------------
// For GitHub Actions

/// One workflow command per diagnostic:
/// `::error file=F,line=L,col=C,endLine=L,endColumn=C,title=CODE::message`, with the help
/// on a second line of the message. Escaped as `@actions/core` does: `%`, CR and LF in the
/// message; those and `,` and `:` in properties. Before that, control characters from the
/// source (the log shows ANSI escapes as colours) are written as `\u{1b}`, as `human` does.
pub fn github(diags: &[Diagnostic], files: &[SourceFile]) -> String {
    let mut out = String::new();
    for diag in diags {
        let at = locate(files, diag.file, diag.span);
        let mut message = printable(&diag.message).into_owned();
        if let Some(help) = &diag.help {
            message.push_str("\nhelp: ");
            message.push_str(&printable(help));
        }
        writeln!(
            out,
            "::{} file={},line={},col={},endLine={},endColumn={},title={}::{}",
            diag.severity.as_str(),
            escape_property(&printable(at.path)),
            at.line,
            at.column,
            at.end_line,
            at.end_column,
            escape_property(diag.code.as_str()),
            escape_data(&message),
        )
        .expect("writing to a String cannot fail");
    }
    out
}

fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

// ---------------------------------------------------------------------------------------
// For code scanning

const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

#[derive(Serialize)]
struct Sarif {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [SarifRun; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifRun {
    tool: SarifTool,
    /// Our columns count characters, not SARIF's default UTF-16 code units.
    column_kind: &'static str,
    results: Vec<SarifResult>,
}

#[derive(Serialize)]
struct SarifTool {
    driver: SarifDriver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifDriver {
    name: &'static str,
    rules: Vec<SarifRule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifRule {
    id: &'static str,
    short_description: SarifText,
    default_configuration: SarifConfiguration,
}

#[derive(Serialize)]
struct SarifConfiguration {
    level: &'static str,
}

#[derive(Serialize)]
struct SarifText {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: &'static str,
    rule_index: usize,
    level: &'static str,
    message: SarifText,
    locations: [SarifLocation; 1],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<SarifLocation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifLocation {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<usize>,
    physical_location: SarifPhysicalLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<SarifText>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifPhysicalLocation {
    artifact_location: SarifArtifact,
    region: SarifRegion,
}

#[derive(Serialize)]
struct SarifArtifact {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifRegion {
    start_line: usize,
    start_column: usize,
    end_line: usize,
    end_column: usize,
}

fn sarif_location(files: &[SourceFile], file: FileId, span: Span) -> SarifLocation {
    let at = locate(files, file, span);
    SarifLocation {
        id: None,
        physical_location: SarifPhysicalLocation {
            artifact_location: SarifArtifact { uri: uri_path(at.path) },
            region: SarifRegion {
                start_line: at.line,
                start_column: at.column,
                end_line: at.end_line,
                end_column: at.end_column,
            },
        },
        message: None,
    }
}

/// A relative path as a URI reference: unreserved characters and `/` as they are, every
/// other byte percent-encoded.
fn uri_path(path: &str) -> String {
    let mut uri = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            uri.push(char::from(byte));
        } else {
            write!(uri, "%{byte:02X}").expect("writing to a String cannot fail");
        }
    }
    uri
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// A SARIF 2.1.0 log with one run of the `switchboard` tool: a rule for every code, and a
/// result per diagnostic, related labels as related locations. The help follows the
/// message on a second line.
pub fn sarif(diags: &[Diagnostic], files: &[SourceFile]) -> String {
    let rules = Code::ALL
        .iter()
        .map(|code| SarifRule {
            id: code.as_str(),
            short_description: SarifText { text: code.summary().to_string() },
            default_configuration: SarifConfiguration { level: level(code.severity()) },
        })
        .collect();
    let results = diags
        .iter()
        .map(|diag| {
            let mut text = diag.message.clone();
            if let Some(help) = &diag.help {
                text.push_str("\nhelp: ");
                text.push_str(help);
            }
            let related_locations = diag
                .related
                .iter()
                .enumerate()
                .map(|(id, related)| SarifLocation {
                    id: Some(id),
                    message: Some(SarifText { text: related.message.clone() }),
                    ..sarif_location(files, related.file, related.span)
                })
                .collect();
            SarifResult {
                rule_id: diag.code.as_str(),
                rule_index: Code::ALL.iter().position(|code| *code == diag.code).unwrap_or_default(),
                level: level(diag.severity),
                message: SarifText { text },
                locations: [sarif_location(files, diag.file, diag.span)],
                related_locations,
            }
        })
        .collect();
    let log = Sarif {
        schema: SARIF_SCHEMA,
        version: "2.1.0",
        runs: [SarifRun {
            tool: SarifTool { driver: SarifDriver { name: "switchboard", rules } },
            column_kind: "unicodeCodePoints",
            results,
        }],
    };
    let mut out = pretty_json(&log);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const INBOUND: &str = "\
// Café support line: greet, confirm by text, queue.
flow inbound on voice, chat {
  say \"Bonjour — welcome to Café Lumière\"
  send sms to contact.from \"Réf: {contact.idd}\"
  queue suport
}
";

    const COMMON: &str = "\
queue support {
  skills support
}

queue sales {
  skills billing
}
";

    fn files() -> Vec<SourceFile> {
        vec![
            SourceFile { path: "inbound.flow".to_string(), text: INBOUND.into() },
            SourceFile { path: "common.flow".to_string(), text: COMMON.into() },
        ]
    }

    /// The span of the `nth` (0-based) occurrence of `needle` in `text`.
    fn span_of(text: &str, needle: &str, nth: usize) -> Span {
        let start = text.match_indices(needle).nth(nth).map(|(at, _)| at).expect("needle in sample");
        Span::new(start, start + needle.len())
    }

    /// Two errors and a warning across two files: a cross-file related label, a column after
    /// multi-byte characters (`é`, `—`), a message with `%`, `:` and `,` to escape.
    fn sample() -> Vec<Diagnostic> {
        vec![
            Diagnostic::new(Code::UnknownName, FileId(0), span_of(INBOUND, "suport", 0), "unknown queue `suport`")
                .with_label("no queue has this name")
                .with_help("did you mean `support`?")
                .with_related(FileId(1), span_of(COMMON, "support", 0), "`support` is declared here"),
            Diagnostic::new(
                Code::UnknownName,
                FileId(0),
                span_of(INBOUND, "idd", 0),
                "`contact` has no field `idd`: fields are id, channel, from, ...",
            )
            .with_label("not a field of `contact`")
            .with_help("did you mean `id`?"),
            Diagnostic::new(
                Code::Unused,
                FileId(1),
                span_of(COMMON, "sales", 0),
                "queue `sales` is never used (0% of flows)",
            )
            .with_label("declared here"),
        ]
    }

    /// The sources, then the rendering: a reviewer sees both in one snapshot.
    fn with_sources(rendered: &str) -> String {
        let mut out = String::new();
        for file in files() {
            writeln!(out, "--- {}\n{}", file.path, file.text).unwrap();
        }
        writeln!(out, "--- rendered\n{rendered}").unwrap();
        out
    }

    #[test]
    fn line_col_counts_lines_and_characters() {
        let text = "ab\ncafé x\n\nend";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 2), (1, 3));
        assert_eq!(line_col(text, 3), (2, 1));
        // `x` is byte 9 but the 6th character of its line.
        assert_eq!(line_col(text, 9), (2, 6));
        // Inside the two bytes of `é`: the `é` itself.
        assert_eq!(line_col(text, 7), (2, 4));
        assert_eq!(line_col(text, 6), (2, 4));
        assert_eq!(line_col(text, 11), (3, 1));
        assert_eq!(line_col(text, 12), (4, 1));
        // Past the end: the end.
        assert_eq!(line_col(text, text.len()), (4, 4));
        assert_eq!(line_col(text, 1000), (4, 4));
        assert_eq!(line_col("", 5), (1, 1));
    }

    /// Issue 8: a file with CR-only line ends (old Mac) counted as one line. CRLF and a
    /// lone CR end a line as LF does, and the CR of a CRLF is no column.
    #[test]
    fn line_col_ends_lines_at_cr_and_crlf() {
        for text in ["ab\ncafé x\n\nend", "ab\r\ncafé x\r\n\r\nend", "ab\rcafé x\r\rend"] {
            let at = |needle: &str| line_col(text, text.find(needle).unwrap());
            assert_eq!(at("b"), (1, 2), "{text:?}");
            assert_eq!(at("x"), (2, 6), "{text:?}");
            assert_eq!(at("end"), (4, 1), "{text:?}");
            assert_eq!(line_col(text, text.len()), (4, 4), "{text:?}");
        }
        // At the line end itself: the CR and the LF of a CRLF are one place.
        assert_eq!(line_col("ab\r\nc", 2), (1, 3));
        assert_eq!(line_col("ab\r\nc", 3), (1, 3));
        assert_eq!(line_col("ab\rc", 2), (1, 3));
        assert_eq!(line_col("ab\rc", 3), (2, 1));
    }

    #[test]
    fn human_report() {
        insta::assert_snapshot!("human", with_sources(&human(&sample(), &files(), false)));
    }

    #[test]
    fn json_report() {
        insta::assert_snapshot!("json", json(&sample(), &files()));
    }

    #[test]
    fn github_annotations() {
        insta::assert_snapshot!("github", github(&sample(), &files()));
    }

    #[test]
    fn sarif_log() {
        insta::assert_snapshot!("sarif", sarif(&sample(), &files()));
    }

    #[test]
    fn human_report_in_colour_differs_only_by_escapes() {
        let plain = human(&sample(), &files(), false);
        let coloured = human(&sample(), &files(), true);
        assert!(coloured.contains("\u{1b}["));
        let stripped = strip_ansi(&coloured);
        assert_eq!(stripped, plain);
    }

    fn strip_ansi(text: &str) -> String {
        let mut out = String::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            if c == '\u{1b}' {
                // CSI: ESC [ parameters final-byte
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    #[test]
    fn related_label_in_the_same_file_joins_the_snippet() {
        let duplicate =
            Diagnostic::new(Code::Duplicate, FileId(1), span_of(COMMON, "support", 0), "two queues named `support`")
                .with_label("declared again here")
                .with_related(FileId(1), span_of(COMMON, "sales", 0), "first declared here");
        let text = human(&[duplicate], &files(), false);
        insta::assert_snapshot!("human_same_file_related", text);
    }

    #[test]
    fn summary_counts() {
        assert_eq!(human(&[], &files(), false), "0 errors, 0 warnings\n");
        let diags = sample();
        assert_eq!(summary(&diags[..1]), "1 error, 0 warnings");
        assert_eq!(summary(&diags[2..]), "0 errors, 1 warning");
        assert_eq!(summary(&diags), "2 errors, 1 warning");
    }

    /// A span past the end, one inside a character and a file the compilation does not have
    /// render without panicking, at the nearest sensible place.
    #[test]
    fn broken_positions_do_not_panic() {
        let past_end = Diagnostic::new(Code::Syntax, FileId(1), Span::new(500, 900), "expected `}`");
        let inside_char = Diagnostic::new(Code::Syntax, FileId(0), Span::new(7, 9), "inside `é`");
        let reversed = Diagnostic::new(Code::Syntax, FileId(0), Span::new(9, 3), "reversed");
        let nowhere = Diagnostic::new(Code::ProjectFile, FileId(7), Span::new(1, 2), "no such file").with_related(
            FileId(9),
            Span::new(0, 1),
            "named here",
        );
        let diags = [past_end, inside_char, reversed, nowhere];
        let text = human(&diags, &files(), false);
        assert!(text.ends_with("4 errors, 0 warnings\n"), "{text}");
        let json: serde_json::Value = serde_json::from_str(&json(&diags, &files())).unwrap();
        let at = |i: usize, key: &str| json["diagnostics"][i][key].as_u64().unwrap();
        // COMMON ends with a newline after line 7: its end is line 8, column 1.
        assert_eq!((at(0, "line"), at(0, "column"), at(0, "end_line"), at(0, "end_column")), (8, 1, 8, 1));
        // Byte 7 is inside `é` (bytes 6 and 7), the 7th character of line 1.
        assert_eq!((at(1, "line"), at(1, "column")), (1, 7));
        // A reversed span is empty at its start: byte 9 is after "// Café ", 8 characters.
        assert_eq!((at(2, "column"), at(2, "end_column")), (9, 9));
        assert_eq!(json["diagnostics"][3]["file"], "<unknown file>");
        assert!(github(&diags, &files()).contains("file=<unknown file>,line=1,col=1,"));
        let sarif: serde_json::Value = serde_json::from_str(&sarif(&diags, &files())).unwrap();
        assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 4);
    }

    /// Issue 8: a diagnostic past column 65,535 of a line panicked in miette ("Formatting
    /// argument out of range"), in every command. A long line is shown as windows around
    /// the places its diagnostics point at, and the heading keeps the file's real column.
    #[test]
    fn a_label_past_column_65535_is_shown_in_a_window_of_its_line() {
        let text = format!("flow f on voice {{\n  say \"{}\" + 1\n  end\n}}\n", "a".repeat(70_000));
        let files = vec![SourceFile { path: "long.flow".to_string(), text: Arc::from(text.as_str()) }];
        let plus = text.find("+ 1").unwrap();
        let quote = text.find('"').unwrap();
        let diags = [
            // Past column 65,535, with a related label on the first line.
            Diagnostic::new(
                Code::TypeMismatch,
                FileId(0),
                Span::new(plus, plus + 3),
                "`+` does not work on text and number",
            )
            .with_label("no such operation")
            .with_related(FileId(0), Span::new(0, 4), "in this flow"),
            // From column 7 to past 70,000: both ends shown, the middle cut.
            Diagnostic::new(Code::TypeMismatch, FileId(0), Span::new(quote, plus - 1), "a long text")
                .with_label("this text"),
            // Empty, at the end of the long line.
            Diagnostic::new(Code::Syntax, FileId(0), Span::new(plus + 3, plus + 3), "expected a statement"),
        ];
        let rendered = human(&diags, &files, false);
        assert!(rendered.lines().all(|l| l.chars().count() < 300), "{rendered}");
        assert!(rendered.contains("[long.flow:2:70010]") && rendered.contains("[long.flow:2:7]"), "{rendered}");
        insta::assert_snapshot!("human_long_line", rendered);
        // Every other format had it right, and still has.
        let json: serde_json::Value = serde_json::from_str(&json(&diags, &files)).unwrap();
        assert_eq!(json["diagnostics"][0]["column"], 70_010);
    }

    /// Issue 8: control characters and terminal escapes in the source were printed raw, so a
    /// file could recolour, retitle or rewrite the terminal of whoever checked it. Source
    /// lines show them as control pictures, messages as escapes; JSON and SARIF escape them
    /// and read back as the same text; GitHub annotations escape them too.
    #[test]
    fn control_characters_never_reach_the_terminal() {
        let hostile = "\u{1b}[31mred\u{7}\u{0}\u{7f}\u{9b}2J\u{202e}kcab";
        // CR line ends as well: each is a line end, not a character to print.
        let text = format!("// {hostile}\rflow f on voice {{\r  say \"{hostile}\"\r  queue nowhere\r}}\r");
        let files =
            vec![SourceFile { path: "bad\u{1b}]0;title\u{7}.flow".to_string(), text: Arc::from(text.as_str()) }];
        let say = text.find("say").unwrap();
        let diags = [Diagnostic::new(
            Code::UnknownName,
            FileId(0),
            span_of(&text, "nowhere", 0),
            format!("there is no queue `{hostile}`"),
        )
        .with_label(format!("unknown {hostile}"))
        .with_help(format!("did you mean `{hostile}`?"))
        .with_related(FileId(0), Span::new(say, say + 3), format!("said {hostile}"))];
        let allowed = |c: char| c == '\n' || !unprintable(c);
        let rendered = human(&diags, &files, false);
        assert!(rendered.chars().all(allowed), "{rendered:?}");
        assert!(rendered.contains("␛[31mred␇␀␡\\u{9b}2J\\u{202e}kcab"), "source lines show pictures:\n{rendered}");
        assert!(
            rendered.contains("there is no queue `\\u{1b}[31mred\\u{7}\\u{0}\\u{7f}\\u{9b}2J\\u{202e}kcab`"),
            "{rendered}"
        );
        assert!(rendered.contains("bad\\u{1b}]0;title\\u{7}.flow:4:9"), "{rendered}");
        insta::assert_snapshot!("human_control_characters", rendered);
        let coloured = human(&diags, &files, true);
        assert_eq!(strip_ansi(&coloured), rendered);

        for (format, out) in [("json", json(&diags, &files)), ("sarif", sarif(&diags, &files))] {
            assert!(out.chars().all(allowed), "{format}: {out}");
            let value: serde_json::Value = serde_json::from_str(&out).unwrap();
            let message = match format {
                "json" => &value["diagnostics"][0]["message"],
                _ => &value["runs"][0]["results"][0]["message"]["text"],
            };
            assert!(message.as_str().unwrap().starts_with(&diags[0].message), "{format} reads back the same text");
        }
        let annotations = github(&diags, &files);
        assert!(annotations.chars().all(allowed), "{annotations}");
        assert_eq!(annotations.lines().count(), 1);
    }

    /// A span that ends between the CR and the LF of a line end, or starts there, is drawn
    /// at that line's end, as it is in a file with LF line ends.
    #[test]
    fn a_span_on_a_crlf_line_end_is_drawn_at_the_end_of_its_line() {
        let crlf = "flow f on voice {\r\n  end\r\n}\r\n";
        let lf = "flow f on voice {\n  end\n}\n";
        let render = |text: &str, span: Span| {
            let files = vec![SourceFile { path: "f.flow".to_string(), text: Arc::from(text) }];
            human(&[Diagnostic::new(Code::Syntax, FileId(0), span, "here").with_label("this")], &files, false)
        };
        let brace = lf.find('{').unwrap();
        // To the LF (CRLF: the LF itself, one past its CR) and from the line end.
        assert_eq!(render(crlf, Span::new(brace, brace + 2)), render(lf, Span::new(brace, brace + 1)));
        assert_eq!(render(crlf, Span::new(brace + 2, brace + 2)), render(lf, Span::new(brace + 1, brace + 1)));
    }

    #[test]
    fn github_escaping_follows_the_actions_toolkit() {
        assert_eq!(escape_data("50% done\r\nnext: a, b"), "50%25 done%0D%0Anext: a, b");
        assert_eq!(escape_property("dir,a/b:c%.flow"), "dir%2Ca/b%3Ac%25.flow");
    }

    #[test]
    fn sarif_has_a_rule_per_code_and_encodes_paths() {
        let log: serde_json::Value = serde_json::from_str(&sarif(&sample(), &files())).unwrap();
        let rules = log["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
        let ids: Vec<&str> = rules.iter().map(|rule| rule["id"].as_str().unwrap()).collect();
        let codes: Vec<&str> = Code::ALL.iter().map(|code| code.as_str()).collect();
        assert_eq!(ids, codes);
        for result in log["runs"][0]["results"].as_array().unwrap() {
            let index = result["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[index]["id"], result["ruleId"]);
        }
        assert_eq!(uri_path("flows/my café.flow"), "flows/my%20caf%C3%A9.flow");
    }
}
