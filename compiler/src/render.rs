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

/// miette's graphical report of every diagnostic, in the order given, then a summary line
/// ("2 errors, 1 warning"). Without `color` the output is plain unicode, and always wrapped
/// at 100 columns, so it is the same on every machine.
pub fn human(diags: &[Diagnostic], files: &[SourceFile], color: bool) -> String {
    let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(WIDTH).with_show_related_as_nested(true);
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

/// A source file as miette reads it, except that the `file:line:column` heading each
/// snippet counts columns in characters, as `line_col` and the other formats do (miette
/// itself counts bytes).
#[derive(Debug)]
struct Source {
    path: String,
    text: Arc<str>,
}

fn named_source(file: &SourceFile) -> Source {
    Source { path: file.path.clone(), text: Arc::clone(&file.text) }
}

impl SourceCode for Source {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let contents = self.text.read_span(span, context_lines_before, context_lines_after)?;
        // miette reports a column only when it reads no lines before the span: the column
        // of the span's start.
        let column =
            if context_lines_before == 0 { line_col(&self.text, span.offset()).1 - 1 } else { contents.column() };
        Ok(Box::new(MietteSpanContents::new_named(
            self.path.clone(),
            contents.data(),
            *contents.span(),
            contents.line(),
            column,
            contents.line_count(),
        )))
    }
}

/// A span that miette can read: on character boundaries, inside the text, not reversed.
fn source_span(text: &str, span: Span) -> SourceSpan {
    let start = char_boundary(text, span.start as usize);
    let end = char_boundary(text, span.end as usize).max(start);
    SourceSpan::from(start..end)
}

/// One of our diagnostics as miette sees it. Related labels in the diagnostic's own file
/// join its snippets; those in other files become notes nested under it, with their own.
#[derive(Debug)]
struct Report<'a> {
    diagnostic: &'a Diagnostic,
    /// "error[unknown-name]"
    heading: String,
    source: Option<Source>,
    labels: Vec<LabeledSpan>,
    elsewhere: Vec<Elsewhere>,
}

impl<'a> Report<'a> {
    fn new(diagnostic: &'a Diagnostic, files: &[SourceFile]) -> Report<'a> {
        let heading = format!("{}[{}]", diagnostic.severity.as_str(), diagnostic.code.as_str());
        let home = file_of(files, diagnostic.file);
        let mut labels = Vec::new();
        let mut elsewhere = Vec::new();
        if let Some(home) = home {
            labels.push(LabeledSpan::new_primary_with_span(
                diagnostic.label.clone(),
                source_span(&home.text, diagnostic.span),
            ));
        }
        for related in &diagnostic.related {
            match file_of(files, related.file) {
                Some(file) if related.file == diagnostic.file => labels.push(LabeledSpan::new_with_span(
                    Some(related.message.clone()),
                    source_span(&file.text, related.span),
                )),
                Some(file) => elsewhere.push(Elsewhere {
                    message: related.message.clone(),
                    source: Some(named_source(file)),
                    label: Some(LabeledSpan::new_primary_with_span(None, source_span(&file.text, related.span))),
                }),
                None => elsewhere.push(Elsewhere { message: related.message.clone(), source: None, label: None }),
            }
        }
        Report { diagnostic, heading, source: home.map(named_source), labels, elsewhere }
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message)
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
        self.diagnostic.help.as_ref().map(|help| Box::new(help) as Box<dyn fmt::Display>)
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
    source: Option<Source>,
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
    let mut out = serde_json::to_string_pretty(&JsonReport { diagnostics, errors, warnings })
        .expect("a report of strings and numbers always serializes");
    out.push('\n');
    out
}

// ---------------------------------------------------------------------------------------
// For GitHub Actions

/// One workflow command per diagnostic:
/// `::error file=F,line=L,col=C,endLine=L,endColumn=C,title=CODE::message`, with the help
/// on a second line of the message. Escaped as `@actions/core` does: `%`, CR and LF in the
/// message; those and `,` and `:` in properties.
pub fn github(diags: &[Diagnostic], files: &[SourceFile]) -> String {
    let mut out = String::new();
    for diag in diags {
        let at = locate(files, diag.file, diag.span);
        let mut message = diag.message.clone();
        if let Some(help) = &diag.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        writeln!(
            out,
            "::{} file={},line={},col={},endLine={},endColumn={},title={}::{}",
            diag.severity.as_str(),
            escape_property(at.path),
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
    let mut out = serde_json::to_string_pretty(&log).expect("a SARIF log of strings and numbers always serializes");
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
