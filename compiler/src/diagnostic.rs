//! One plain diagnostic struct, built by named constructors. Rendering lives in `render`.

use crate::syntax::ast::Span;
use serde::{Deserialize, Serialize};

pub use switchboard_bytecode::span::FileId;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// The stable codes of the language contract. Their strings never change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Code {
    Syntax,
    UnknownName,
    Duplicate,
    TypeMismatch,
    UncheckedOptional,
    Channel,
    Unbounded,
    QuietHours,
    InvalidValue,
    ImportCycle,
    NoRoute,
    Unreachable,
    Unused,
    /// A file the project names (a CSV, a rhai script) is missing or does not fit.
    ProjectFile,
}

impl Code {
    pub const ALL: [Code; 14] = [
        Code::Syntax,
        Code::UnknownName,
        Code::Duplicate,
        Code::TypeMismatch,
        Code::UncheckedOptional,
        Code::Channel,
        Code::Unbounded,
        Code::QuietHours,
        Code::InvalidValue,
        Code::ImportCycle,
        Code::NoRoute,
        Code::Unreachable,
        Code::Unused,
        Code::ProjectFile,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::Syntax => "syntax",
            Code::UnknownName => "unknown-name",
            Code::Duplicate => "duplicate",
            Code::TypeMismatch => "type-mismatch",
            Code::UncheckedOptional => "unchecked-optional",
            Code::Channel => "channel",
            Code::Unbounded => "unbounded",
            Code::QuietHours => "quiet-hours",
            Code::InvalidValue => "invalid-value",
            Code::ImportCycle => "import-cycle",
            Code::NoRoute => "no-route",
            Code::Unreachable => "unreachable",
            Code::Unused => "unused",
            Code::ProjectFile => "project-file",
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            Code::NoRoute | Code::Unreachable | Code::Unused => Severity::Warning,
            _ => Severity::Error,
        }
    }

    /// What the code means, for `--explain`-style help and SARIF rule descriptions.
    pub fn summary(self) -> &'static str {
        match self {
            Code::Syntax => "the text does not parse",
            Code::UnknownName => "a name that does not exist",
            Code::Duplicate => "two declarations, waypoints, menu keys or steps with one name",
            Code::TypeMismatch => "a value of the wrong type",
            Code::UncheckedOptional => "a field of an optional used before it is checked",
            Code::Channel => "a statement the flow's channels cannot do",
            Code::Unbounded => "a retry strategy or goto cycle with no bound",
            Code::QuietHours => "a retry step scheduled inside its own quiet hours",
            Code::InvalidValue => "a value out of range",
            Code::ImportCycle => "modules that use each other in a ring",
            Code::NoRoute => "a path that leaves the customer without a route",
            Code::Unreachable => "code no path reaches",
            Code::Unused => "a declared queue, source or hours never used",
            Code::ProjectFile => "a file the project names is missing or does not fit",
        }
    }
}

/// A secondary label: another place that explains the primary one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    pub file: FileId,
    pub span: Span,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub file: FileId,
    pub span: Span,
    pub message: String,
    /// What the primary span shows, in a few words.
    pub label: Option<String>,
    pub help: Option<String>,
    pub related: Vec<Label>,
}

impl Diagnostic {
    pub fn new(code: Code, file: FileId, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: code.severity(),
            file,
            span,
            message: message.into(),
            label: None,
            help: None,
            related: Vec::new(),
        }
    }

    /// `duplicate`: `message` at `span`, pointing back to where the name first stood.
    pub fn duplicate(file: FileId, span: Span, message: impl Into<String>, first: (FileId, Span)) -> Diagnostic {
        Diagnostic::new(Code::Duplicate, file, span, message).with_related(first.0, first.1, "first here")
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = Some(label.into());
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn with_related(mut self, file: FileId, span: Span, message: impl Into<String>) -> Diagnostic {
        self.related.push(Label { file, span, message: message.into() });
        self
    }

    /// Adds "did you mean `x`?" when one of `candidates` is close to `name`.
    pub fn suggest<'a>(self, name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Diagnostic {
        match did_you_mean(name, candidates) {
            Some(help) => self.with_help(help),
            None => self,
        }
    }

    /// Like `suggest`, with `fallback` as the help when nothing is close.
    pub fn suggest_or<'a>(
        self,
        name: &str,
        candidates: impl IntoIterator<Item = &'a str>,
        fallback: impl Into<String>,
    ) -> Diagnostic {
        match did_you_mean(name, candidates) {
            Some(help) => self.with_help(help),
            None => self.with_help(fallback),
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// "did you mean `x`?" for the closest of `candidates`, if any is close enough. Candidates
/// rank by closeness, then by name, so the answer never depends on the order they come in
/// (many come from hash maps).
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut best: Option<(f64, &str)> = None;
    for candidate in candidates {
        if candidate == name {
            continue;
        }
        let score = strsim::jaro_winkler(name, candidate);
        let close = score >= 0.8 || strsim::levenshtein(name, candidate) <= name.len().max(3) / 3;
        let better = |(b, c): (f64, &str)| score.total_cmp(&b).then_with(|| c.cmp(candidate)).is_gt();
        if close && best.is_none_or(better) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, c)| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn did_you_mean_is_the_same_whatever_order_the_candidates_come_in() {
        // `queue_y` and `queue_z` are equally close to `queue_x`: the first by name wins.
        let cases: Vec<(&str, Vec<&str>, Option<&str>)> = vec![
            ("queue_x", vec!["queue_z", "queue_y"], Some("did you mean `queue_y`?")),
            ("queue_x", vec!["queue_y", "queue_z"], Some("did you mean `queue_y`?")),
            ("suport", vec!["sales", "support", "supports"], Some("did you mean `support`?")),
            ("suport", vec!["supports", "support", "sales"], Some("did you mean `support`?")),
            ("billing", vec!["billing"], None),
            ("xyz", vec!["billing", "support"], None),
        ];
        for (name, candidates, expected) in cases {
            assert_eq!(
                did_you_mean(name, candidates.iter().copied()).as_deref(),
                expected,
                "{name} among {candidates:?}"
            );
        }
    }
}
