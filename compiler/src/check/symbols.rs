//! The declarations of one module (the project, or one `std` module), by kind, with the
//! names it imports. One namespace per kind: a skill and a queue may share a name.

use crate::diagnostic::{did_you_mean, Code, Diagnostic, FileId};
use crate::syntax::ast::*;
use crate::types::Type;
use std::collections::HashMap;
use std::sync::Arc;

/// A declaration and where it stands.
#[derive(Debug)]
pub struct Def<'a, T> {
    pub file: FileId,
    pub name: &'a Ident,
    pub node: &'a T,
    /// The module that declared it ("" for the project, "std.surveys" …).
    pub module: Arc<str>,
}

impl<T> Clone for Def<'_, T> {
    fn clone(&self) -> Self {
        Def { file: self.file, name: self.name, node: self.node, module: self.module.clone() }
    }
}

/// A callable: a flow-language `fn` or an `extern fn`.
#[derive(Debug, Clone)]
pub enum Callable<'a> {
    Fn(Def<'a, FnDecl>),
    Extern(Def<'a, ExternFnDecl>),
}

impl<'a> Callable<'a> {
    pub fn params(&self) -> &'a [Param] {
        match self {
            Callable::Fn(d) => &d.node.params,
            Callable::Extern(d) => &d.node.params,
        }
    }
    pub fn ret(&self) -> &'a TypeExpr {
        match self {
            Callable::Fn(d) => &d.node.ret,
            Callable::Extern(d) => &d.node.ret,
        }
    }
    pub fn file(&self) -> FileId {
        match self {
            Callable::Fn(d) => d.file,
            Callable::Extern(d) => d.file,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Symbols<'a> {
    pub currency: Option<(FileId, &'a Ident)>,
    pub records: HashMap<&'a str, Def<'a, RecordDecl>>,
    pub enums: HashMap<&'a str, Def<'a, EnumDecl>>,
    pub skills: HashMap<&'a str, (FileId, &'a Ident)>,
    pub sources: HashMap<&'a str, Def<'a, SourceDecl>>,
    pub hours: HashMap<&'a str, Def<'a, HoursDecl>>,
    pub queues: HashMap<&'a str, Def<'a, QueueDecl>>,
    pub callables: HashMap<&'a str, Callable<'a>>,
    pub flows: HashMap<&'a str, Def<'a, FlowDecl>>,
    pub scripts: HashMap<&'a str, Def<'a, ScriptDecl>>,
    pub surveys: HashMap<&'a str, Def<'a, SurveyDecl>>,
    pub retries: HashMap<&'a str, Def<'a, RetryDecl>>,
    pub entries: Vec<Def<'a, EntryDecl>>,
    /// `reply` templates: named per queue, so in no namespace of their own.
    pub replies: Vec<Def<'a, ReplyDecl>>,
    /// `scorecard`s, in declaration order (the bundle keeps it, and the review page shows it).
    pub scorecards: Vec<Def<'a, ScorecardDecl>>,
    pub tests: Vec<(FileId, &'a TestDecl)>,
    /// `use` lines: (file, declaration).
    pub uses: Vec<(FileId, &'a UseDecl)>,
}

/// Which kinds of declaration a name may refer to, for "did you mean" and messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Type,
    Skill,
    Source,
    Hours,
    Queue,
    Function,
    Flow,
    Script,
    Survey,
    Retry,
}

impl Kind {
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Type => "type",
            Kind::Skill => "skill",
            Kind::Source => "source",
            Kind::Hours => "hours",
            Kind::Queue => "queue",
            Kind::Function => "function",
            Kind::Flow => "flow",
            Kind::Script => "script",
            Kind::Survey => "survey",
            Kind::Retry => "retry strategy",
        }
    }
}

fn insert<'a, T>(
    map: &mut HashMap<&'a str, T>,
    def: T,
    name: &'a Ident,
    file: FileId,
    what: &str,
    span_of: impl Fn(&T) -> (FileId, Span),
    diags: &mut Vec<Diagnostic>,
) {
    if let Some(existing) = map.get(name.name.as_str()) {
        let (efile, espan) = span_of(existing);
        diags.push(
            Diagnostic::new(Code::Duplicate, file, name.span, format!("{what} `{}` is declared twice", name.name))
                .with_label("declared again here")
                .with_related(efile, espan, "first declared here")
                .with_help("rename one of them, or remove the copy"),
        );
        return;
    }
    map.insert(name.name.as_str(), def);
}

impl<'a> Symbols<'a> {
    /// Collects the declarations of `files`, reporting duplicates.
    pub fn collect(module: &Arc<str>, files: &[(FileId, &'a File)], diags: &mut Vec<Diagnostic>) -> Symbols<'a> {
        let mut s = Symbols::default();
        for &(file, ast) in files {
            for item in &ast.items {
                s.add(module, file, item, diags);
            }
        }
        s
    }

    fn add(&mut self, module: &Arc<str>, file: FileId, item: &'a Item, diags: &mut Vec<Diagnostic>) {
        macro_rules! def {
            ($decl:expr) => {
                Def { file, name: &$decl.name, node: $decl, module: module.clone() }
            };
        }
        match &item.kind {
            ItemKind::Use(u) => self.uses.push((file, u)),
            ItemKind::Currency(c) => {
                if let Some((efile, existing)) = self.currency {
                    diags.push(
                        Diagnostic::duplicate(
                            file,
                            c.span,
                            "the project's currency is declared twice",
                            (efile, existing.span),
                        )
                        .with_help("a project has one currency"),
                    );
                } else {
                    self.currency = Some((file, c));
                }
            }
            ItemKind::Record(r) => {
                if let Some(e) = self.enums.get(r.name.name.as_str()) {
                    diags.push(Diagnostic::duplicate(
                        file,
                        r.name.span,
                        format!("type `{}` is declared twice", r.name.name),
                        (e.file, e.name.span),
                    ));
                    return;
                }
                insert(&mut self.records, def!(r), &r.name, file, "record", def_loc, diags)
            }
            ItemKind::Enum(e) => {
                if let Some(r) = self.records.get(e.name.name.as_str()) {
                    diags.push(Diagnostic::duplicate(
                        file,
                        e.name.span,
                        format!("type `{}` is declared twice", e.name.name),
                        (r.file, r.name.span),
                    ));
                    return;
                }
                insert(&mut self.enums, def!(e), &e.name, file, "enum", def_loc, diags)
            }
            ItemKind::Skills(names) => {
                for n in names {
                    insert(&mut self.skills, (file, n), n, file, "skill", |(f, i)| (*f, i.span), diags);
                }
            }
            ItemKind::Source(d) => insert(&mut self.sources, def!(d), &d.name, file, "source", def_loc, diags),
            ItemKind::Hours(d) => insert(&mut self.hours, def!(d), &d.name, file, "hours", def_loc, diags),
            ItemKind::Queue(d) => insert(&mut self.queues, def!(d), &d.name, file, "queue", def_loc, diags),
            ItemKind::Fn(d) => {
                insert(&mut self.callables, Callable::Fn(def!(d)), &d.name, file, "function", callable_loc, diags)
            }
            ItemKind::ExternFn(d) => {
                insert(&mut self.callables, Callable::Extern(def!(d)), &d.name, file, "function", callable_loc, diags)
            }
            ItemKind::Flow(d) => insert(&mut self.flows, def!(d), &d.name, file, "flow", def_loc, diags),
            ItemKind::Script(d) => insert(&mut self.scripts, def!(d), &d.name, file, "script", def_loc, diags),
            ItemKind::Survey(d) => insert(&mut self.surveys, def!(d), &d.name, file, "survey", def_loc, diags),
            ItemKind::Retry(d) => insert(&mut self.retries, def!(d), &d.name, file, "retry strategy", def_loc, diags),
            ItemKind::Reply(d) => {
                let queue = |r: &ReplyDecl| r.queue.as_ref().map(|q| q.name.clone());
                if let Some(first) =
                    self.replies.iter().find(|r| r.name.name == d.name.name && queue(r.node) == queue(d))
                {
                    let whose = match &d.queue {
                        Some(q) => format!("queue `{}`", q.name),
                        None => "every queue".to_string(),
                    };
                    diags.push(
                        Diagnostic::duplicate(
                            file,
                            d.name.span,
                            format!("reply `{}` for {whose} is declared twice", d.name.name),
                            (first.file, first.name.span),
                        )
                        .with_label("declared again here")
                        .with_help("rename one of them, or give them different queues"),
                    );
                    return;
                }
                self.replies.push(def!(d));
            }
            ItemKind::Scorecard(d) => {
                if let Some(first) = self.scorecards.iter().find(|c| c.name.name == d.name.name) {
                    diags.push(
                        Diagnostic::duplicate(
                            file,
                            d.name.span,
                            format!("scorecard `{}` is declared twice", d.name.name),
                            (first.file, first.name.span),
                        )
                        .with_label("declared again here")
                        .with_help("rename one of them, or merge their questions into one scorecard"),
                    );
                    return;
                }
                self.scorecards.push(def!(d));
            }
            ItemKind::Entry(d) => self.entries.push(Def { file, name: &d.flow, node: d, module: module.clone() }),
            ItemKind::Test(d) => self.tests.push((file, d)),
        }
    }

    /// Brings `name` of `from` into this module. Returns false when `from` has no such name.
    pub fn import(&mut self, from: &Symbols<'a>, name: &str) -> bool {
        let mut found = false;
        macro_rules! take {
            ($field:ident) => {
                if let Some((k, v)) = from.$field.get_key_value(name) {
                    self.$field.entry(k).or_insert_with(|| v.clone());
                    found = true;
                }
            };
        }
        take!(records);
        take!(enums);
        take!(sources);
        take!(hours);
        take!(queues);
        take!(callables);
        take!(flows);
        take!(scripts);
        take!(surveys);
        take!(retries);
        if let Some((k, v)) = from.skills.get_key_value(name) {
            self.skills.entry(k).or_insert(*v);
            found = true;
        }
        // What an imported declaration is made of comes with it: its module's record and
        // enum types (the project's own types of the same name win) and its skills.
        if found {
            for (k, v) in &from.records {
                if !self.enums.contains_key(k) {
                    self.records.entry(k).or_insert_with(|| v.clone());
                }
            }
            for (k, v) in &from.enums {
                if !self.records.contains_key(k) {
                    self.enums.entry(k).or_insert_with(|| v.clone());
                }
            }
            for (k, v) in &from.skills {
                self.skills.entry(k).or_insert(*v);
            }
        }
        found
    }

    /// Everything one module exports, for "did you mean" on `use`.
    pub fn all_names(&self) -> Vec<&'a str> {
        let mut names: Vec<&'a str> = Vec::new();
        names.extend(self.records.keys());
        names.extend(self.enums.keys());
        names.extend(self.sources.keys());
        names.extend(self.hours.keys());
        names.extend(self.queues.keys());
        names.extend(self.callables.keys());
        names.extend(self.flows.keys());
        names.extend(self.scripts.keys());
        names.extend(self.surveys.keys());
        names.extend(self.retries.keys());
        names.extend(self.skills.keys());
        names.sort_unstable();
        names
    }

    pub fn names_of(&self, kind: Kind) -> Vec<&'a str> {
        let mut names: Vec<&'a str> = match kind {
            Kind::Type => self.records.keys().chain(self.enums.keys()).copied().chain(Type::BUILTIN_NAMES).collect(),
            Kind::Skill => self.skills.keys().copied().collect(),
            Kind::Source => self.sources.keys().copied().collect(),
            Kind::Hours => self.hours.keys().copied().collect(),
            Kind::Queue => self.queues.keys().copied().collect(),
            Kind::Function => self.callables.keys().copied().collect(),
            Kind::Flow => self.flows.keys().copied().collect(),
            Kind::Script => self.scripts.keys().copied().collect(),
            Kind::Survey => self.surveys.keys().copied().collect(),
            Kind::Retry => self.retries.keys().copied().collect(),
        };
        names.sort_unstable();
        names
    }

    pub fn has(&self, kind: Kind, name: &str) -> bool {
        match kind {
            Kind::Type => {
                self.records.contains_key(name) || self.enums.contains_key(name) || Type::builtin(name).is_some()
            }
            Kind::Skill => self.skills.contains_key(name),
            Kind::Source => self.sources.contains_key(name),
            Kind::Hours => self.hours.contains_key(name),
            Kind::Queue => self.queues.contains_key(name),
            Kind::Function => self.callables.contains_key(name),
            Kind::Flow => self.flows.contains_key(name),
            Kind::Script => self.scripts.contains_key(name),
            Kind::Survey => self.surveys.contains_key(name),
            Kind::Retry => self.retries.contains_key(name),
        }
    }

    /// Checks that `name` is a declared `kind`; reports `unknown-name` with help otherwise.
    pub fn expect(&self, kind: Kind, file: FileId, name: &Ident, diags: &mut Vec<Diagnostic>) -> bool {
        if self.has(kind, &name.name) {
            return true;
        }
        diags.push(unknown(kind, file, name, self.names_of(kind)));
        false
    }

    /// The type a written type denotes; `Type::Error` (reported) when it names nothing.
    pub fn resolve_type(&self, file: FileId, ty: &TypeExpr, diags: &mut Vec<Diagnostic>) -> Type {
        match &ty.kind {
            TypeExprKind::Named(name) => {
                if let Some(t) = Type::builtin(&name.name) {
                    t
                } else if self.records.contains_key(name.name.as_str()) {
                    Type::Record(Arc::from(name.name.as_str()))
                } else if self.enums.contains_key(name.name.as_str()) {
                    Type::Enum(Arc::from(name.name.as_str()))
                } else {
                    diags.push(unknown(Kind::Type, file, name, self.names_of(Kind::Type)));
                    Type::Error
                }
            }
            TypeExprKind::List(inner) => Type::List(Box::new(self.resolve_type(file, inner, diags))),
            TypeExprKind::Optional(inner) => self.resolve_type(file, inner, diags).optional(),
        }
    }

    /// The fields of a record type, in declaration order, with their types.
    pub fn record_fields(&self, name: &str) -> Option<Vec<(&'a str, Type)>> {
        let def = self.records.get(name)?;
        let mut ignored = Vec::new();
        Some(
            def.node
                .fields
                .iter()
                .map(|f| (f.name.name.as_str(), self.resolve_type(def.file, &f.ty, &mut ignored)))
                .collect(),
        )
    }
}

fn def_loc<T>(d: &Def<'_, T>) -> (FileId, Span) {
    (d.file, d.name.span)
}

fn callable_loc(c: &Callable<'_>) -> (FileId, Span) {
    match c {
        Callable::Fn(d) => (d.file, d.name.span),
        Callable::Extern(d) => (d.file, d.name.span),
    }
}

/// `unknown-name` for `name` of `kind`, with the closest candidate as help.
pub fn unknown(kind: Kind, file: FileId, name: &Ident, candidates: Vec<&str>) -> Diagnostic {
    let mut d =
        Diagnostic::new(Code::UnknownName, file, name.span, format!("there is no {} `{}`", kind.noun(), name.name))
            .with_label(format!("unknown {}", kind.noun()));
    if let Some(help) = did_you_mean(&name.name, candidates.iter().copied()) {
        d = d.with_help(help);
    } else if candidates.is_empty() {
        d = d.with_help(format!("declare it first, e.g. `{} {} {{ … }}`", kind.noun(), name.name));
    }
    d
}
