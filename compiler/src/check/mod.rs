//! Names, types, channels and lints: everything `switchboard check` reports after parsing.
//!
//! Analysis accumulates instead of failing: every file of every module is checked and
//! every diagnostic is kept, so one run reports every mistake.

mod calls;
mod decls;
pub mod env;
mod expr;
mod files;
mod sizes;
mod stmt;
pub mod symbols;
mod tests;

use crate::diagnostic::{did_you_mean, Code, Diagnostic, FileId};
use crate::loader::{Loader, SourceFile};
use crate::syntax::{self, ast};
use rayon::prelude::*;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use symbols::Symbols;

/// What a compilation starts from: the project's files, the standard library's modules,
/// and a way to read the data files and scripts the project names.
pub struct Input<'a> {
    pub files: Vec<SourceFile>,
    /// `std` modules by name (`surveys` for `std.surveys`), as flow-language source.
    pub std: &'a BTreeMap<String, Arc<str>>,
    pub loader: &'a dyn Loader,
    /// The name this project is known by: "" for a user's project, or `std.NAME` when a
    /// standard library module is checked (and tested) on its own.
    pub module: Arc<str>,
}

/// A module of a compilation: the project itself or one `std` module it uses.
#[derive(Clone, Debug)]
pub struct Module {
    pub name: Arc<str>,
    pub files: Vec<FileId>,
}

/// The result of checking: every file (project first, then `std` modules), their trees,
/// the modules, and every diagnostic.
#[derive(Debug)]
pub struct Checked {
    pub files: Vec<SourceFile>,
    pub asts: Vec<ast::File>,
    pub modules: Vec<Module>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The trees of one module's files, with their ids.
    pub fn module_files(&self, module: usize) -> Vec<(FileId, &ast::File)> {
        self.modules[module].files.iter().map(|&f| (f, &self.asts[f.0 as usize])).collect()
    }

    /// Every module's symbols, with imports resolved (no diagnostics).
    pub fn module_symbols(&self) -> Vec<Symbols<'_>> {
        let mut ignored = Vec::new();
        let mut resolved: Vec<Option<Symbols<'_>>> = (0..self.modules.len())
            .map(|m| Some(Symbols::collect(&self.modules[m].name, &self.module_files(m), &mut ignored)))
            .collect();
        let mut done = vec![false; self.modules.len()];
        let own_only: Vec<Symbols<'_>> = resolved.iter().map(|s| s.clone().unwrap_or_default()).collect();
        for m in 0..self.modules.len() {
            resolve_imports(self, &mut resolved, m, &mut ignored, &mut Vec::new(), &mut done, &own_only);
        }
        resolved.into_iter().map(Option::unwrap_or_default).collect()
    }
}

/// Parses and checks a project. Never panics on any input.
pub fn check(input: Input<'_>) -> Checked {
    let mut files = input.files;
    // Parse every project file, both cores at once.
    let parsed: Vec<syntax::Parsed> =
        files.par_iter().enumerate().map(|(i, f)| syntax::parse(FileId(i as u32), &f.text)).collect();
    let mut diagnostics = Vec::new();
    let mut asts = Vec::with_capacity(parsed.len());
    let mut failed = Vec::new();
    for (i, p) in parsed.into_iter().enumerate() {
        if p.failed {
            failed.push(FileId(i as u32));
        }
        diagnostics.extend(p.diagnostics);
        asts.push(p.file);
    }
    let mut modules = vec![Module { name: input.module.clone(), files: (0..files.len() as u32).map(FileId).collect() }];

    // Load the std modules the project uses, and the ones they use, once each.
    let mut pending: Vec<(usize, FileId, ast::Ident, Vec<String>)> = Vec::new();
    queue_uses(&asts, &modules[0], 0, &mut pending);
    let mut loaded: BTreeMap<String, usize> = BTreeMap::new();
    while let Some((_, file, ident, path)) = pending.pop() {
        let Some(name) = std_module_name(&path) else {
            diagnostics.push(
                Diagnostic::new(
                    Code::UnknownName,
                    file,
                    ident.span,
                    format!("there is no module `{}`", path.join(".")),
                )
                .with_label("unknown module")
                .with_help("standard library modules start with `std.`, e.g. `use std.surveys.{nps}`"),
            );
            continue;
        };
        if loaded.contains_key(&name) || format!("std.{name}") == *input.module {
            continue;
        }
        let Some(text) = input.std.get(&name) else {
            let mut d =
                Diagnostic::new(Code::UnknownName, file, ident.span, format!("there is no module `std.{name}`"))
                    .with_label("unknown module");
            if let Some(help) = did_you_mean(&name, input.std.keys().map(String::as_str)) {
                d = d.with_help(help.replacen('`', "`std.", 1));
            }
            diagnostics.push(d);
            continue;
        };
        let id = FileId(files.len() as u32);
        files.push(SourceFile { path: format!("<std>/{name}.flow"), text: text.clone() });
        let p = syntax::parse(id, text);
        if p.failed {
            failed.push(id);
        }
        diagnostics.extend(p.diagnostics);
        asts.push(p.file);
        modules.push(Module { name: Arc::from(format!("std.{name}")), files: vec![id] });
        let m = modules.len() - 1;
        loaded.insert(name, m);
        queue_uses(&asts, &modules[m], m, &mut pending);
    }

    let mut checked = Checked { files, asts, modules, diagnostics };
    let mut diags = std::mem::take(&mut checked.diagnostics);
    check_modules(&checked, input.loader, &failed, &mut diags);
    hold_back_follow_ons(&checked, &failed, &mut diags);
    sort_and_dedup(&mut diags);
    checked.diagnostics = diags;
    checked
}

fn queue_uses(
    asts: &[ast::File],
    module: &Module,
    index: usize,
    pending: &mut Vec<(usize, FileId, ast::Ident, Vec<String>)>,
) {
    for &f in &module.files {
        for item in &asts[f.0 as usize].items {
            if let ast::ItemKind::Use(u) = &item.kind {
                let path: Vec<String> = u.module.iter().map(|i| i.name.clone()).collect();
                let ident = u.module.first().cloned().unwrap_or(ast::Ident { name: String::new(), span: item.span });
                pending.push((index, f, ident, path));
            }
        }
    }
}

/// `["std", "surveys"]` → `surveys`.
fn std_module_name(path: &[String]) -> Option<String> {
    match path {
        [std, rest @ ..] if std == "std" && !rest.is_empty() => Some(rest.join(".")),
        _ => None,
    }
}

fn module_index(checked: &Checked, path: &[ast::Ident]) -> Option<usize> {
    let name: Vec<&str> = path.iter().map(|i| i.name.as_str()).collect();
    let name = name.join(".");
    checked.modules.iter().position(|m| *m.name == *name)
}

/// Fills in each module's imports, depth first, reporting `import-cycle` for rings.
fn resolve_imports<'a>(
    checked: &'a Checked,
    syms: &mut [Option<Symbols<'a>>],
    m: usize,
    diags: &mut Vec<Diagnostic>,
    stack: &mut Vec<usize>,
    done: &mut Vec<bool>,
    own_only: &[Symbols<'a>],
) {
    if stack.contains(&m) || done[m] {
        return;
    }
    stack.push(m);
    let Some(mut own) = syms[m].take() else {
        stack.pop();
        return;
    };
    for (file, u) in own.uses.clone() {
        let Some(target) = module_index(checked, &u.module) else { continue };
        if stack.contains(&target) {
            let ring: Vec<&str> = stack[stack.iter().position(|&s| s == target).unwrap_or(0)..]
                .iter()
                .map(|&s| &*checked.modules[s].name)
                .collect();
            let first = u.module.first().map_or(ast::Span::default(), |i| i.span);
            let last = u.module.last().map_or(first, |i| i.span);
            diags.push(
                Diagnostic::new(
                    Code::ImportCycle,
                    file,
                    first.to(last),
                    format!(
                        "modules use each other in a ring: {} → {}",
                        ring.join(" → "),
                        checked.modules[target].name
                    ),
                )
                .with_label("this `use` closes the ring")
                .with_help("move what both need into a third module"),
            );
            // Still bring the names in (from the module's own declarations), so the ring is
            // the one error reported rather than every name it leaves unknown.
            if let Some(from) = own_only.get(target) {
                for name in &u.names {
                    own.import(from, &name.name);
                }
            }
            continue;
        }
        resolve_imports(checked, syms, target, diags, stack, done, own_only);
        let Some(from) = syms[target].as_ref() else { continue };
        // A module's types come with what the project imports from it, so one name
        // cannot mean two types.
        for (name, theirs) in &from.records {
            if let Some(mine) = own.records.get(name).filter(|d| d.module != theirs.module) {
                diags.push(
                    Diagnostic::new(
                        Code::Duplicate,
                        mine.file,
                        mine.name.span,
                        format!("type `{name}` is also declared by `{}`, which this project uses", theirs.module),
                    )
                    .with_label("declared again here")
                    .with_related(theirs.file, theirs.name.span, "declared there")
                    .with_help("rename this record"),
                );
            }
        }
        for name in &u.names {
            if !own.import(from, &name.name) {
                let mut d = Diagnostic::new(
                    Code::UnknownName,
                    file,
                    name.span,
                    format!("module `{}` has no `{}`", checked.modules[target].name, name.name),
                )
                .with_label("not in that module");
                if let Some(help) = did_you_mean(&name.name, from.all_names()) {
                    d = d.with_help(help);
                }
                diags.push(d);
            }
        }
    }
    syms[m] = Some(own);
    stack.pop();
    done[m] = true;
}

fn check_modules(checked: &Checked, loader: &dyn Loader, failed: &[FileId], diags: &mut Vec<Diagnostic>) {
    let mut module_syms: Vec<Option<Symbols<'_>>> = (0..checked.modules.len())
        .map(|m| Some(Symbols::collect(&checked.modules[m].name, &checked.module_files(m), diags)))
        .collect();
    let mut done = vec![false; checked.modules.len()];
    let own_only: Vec<Symbols<'_>> = module_syms.iter().map(|s| s.clone().unwrap_or_default()).collect();
    for m in 0..checked.modules.len() {
        resolve_imports(checked, &mut module_syms, m, diags, &mut Vec::new(), &mut done, &own_only);
    }
    let results: Vec<Vec<Diagnostic>> = module_syms
        .par_iter()
        .enumerate()
        .map(|(m, syms)| {
            let Some(syms) = syms else { return Vec::new() };
            let files = checked.module_files(m);
            let partial = checked.modules[m].files.iter().any(|f| failed.contains(f));
            check_module(syms, &checked.modules[m].name, loader, m == 0, partial, &files)
        })
        .collect();
    for r in results {
        diags.extend(r);
    }
}

/// A file that does not parse declares nothing the checker can see: the names it declares
/// read as unknown in the other files of its module, and what only it uses reads as unused.
/// While it does not parse, we hold back what it could explain, and keep the rest:
///
/// - in the other files of its module, `unknown-name` errors and `unused` warnings whose
///   name the broken file's text holds (as a word, or for an address as written): it may
///   declare or use it. A name the broken file never mentions is reported as usual, so a
///   plain misspelling elsewhere is still found;
/// - a test's `answer` with no question to answer, when the entry it calls may be in the
///   broken file (in `Checker::answer`, which knows the module is partial).
///
/// `no-route` warnings stay: they are judged from a flow's own statements and the `fn`s it
/// calls, and a call to a `fn` of the broken file is an unknown name (held back) that
/// counts as unable to fail, so a broken file can delay such a warning, never make one.
/// The held back diagnostics come back once the file parses, if they still hold.
fn hold_back_follow_ons(checked: &Checked, failed: &[FileId], diags: &mut Vec<Diagnostic>) {
    if failed.is_empty() {
        return;
    }
    let module_of = |file: FileId| checked.modules.iter().position(|m| m.files.contains(&file));
    // Per module with a broken file: the words of its broken files, and their texts.
    let mut broken: BTreeMap<usize, (HashSet<&str>, Vec<&str>)> = BTreeMap::new();
    for &f in failed {
        let Some(m) = module_of(f) else { continue };
        let text: &str = &checked.files[f.0 as usize].text;
        let entry = broken.entry(m).or_default();
        entry.0.extend(text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|w| !w.is_empty()));
        entry.1.push(text);
    }
    diags.retain(|d| {
        if !matches!(d.code, Code::UnknownName | Code::Unused) || failed.contains(&d.file) {
            return true;
        }
        let Some((words, texts)) = module_of(d.file).and_then(|m| broken.get(&m)) else { return true };
        let text: &str = &checked.files[d.file.0 as usize].text;
        let Some(name) = text.get(d.span.start as usize..d.span.end as usize) else { return true };
        let name = name.trim().trim_matches('"');
        let mentioned = if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            words.contains(name)
        } else {
            !name.is_empty() && texts.iter().any(|t| t.contains(name))
        };
        !mentioned
    });
}

fn sort_and_dedup(diags: &mut Vec<Diagnostic>) {
    diags.sort_by_key(|d| (d.file, d.span.start, d.span.end, d.code));
    diags.dedup_by(|a, b| a.file == b.file && a.span == b.span && a.code == b.code && a.message == b.message);
}

/// Checks one module: its files in parallel (each with a checker of its own), then what
/// needs all of them (tests, which read every waypoint; the `unused` lint).
fn check_module<'a>(
    syms: &Symbols<'a>,
    module: &str,
    loader: &dyn Loader,
    root: bool,
    partial: bool,
    files: &[(FileId, &'a ast::File)],
) -> Vec<Diagnostic> {
    let entries = EntryIndex::new(syms);
    let calls = calls::CallGraph::new(syms);
    let shared = Shared { entries: &entries, calls: &calls, partial };
    let parts: Vec<Checker<'_, 'a>> = files
        .par_iter()
        .map(|&(file, ast)| {
            let c = Checker::new(syms, module, loader, root, shared);
            for item in &ast.items {
                c.item(file, item);
            }
            c
        })
        .collect();
    let all = Checker::new(syms, module, loader, root, shared);
    for part in parts {
        all.diags.borrow_mut().extend(part.diags.into_inner());
        all.used.borrow_mut().extend(part.used.into_inner());
        all.waypoints.borrow_mut().extend(part.waypoints.into_inner());
        all.outcomes.borrow_mut().extend(part.outcomes.into_inner());
    }
    all.finish_module(files)
}

/// Entries by channel and address (as written), built once per module.
pub(crate) struct EntryIndex {
    /// (channel, address) → the first entry with it, by index into `Symbols::entries`.
    pub first: std::collections::HashMap<(String, String), usize>,
    /// channel → its entries' indexes, in order.
    pub by_channel: std::collections::HashMap<String, Vec<usize>>,
}

impl EntryIndex {
    fn new(syms: &Symbols<'_>) -> EntryIndex {
        let mut first = std::collections::HashMap::new();
        let mut by_channel: std::collections::HashMap<String, Vec<usize>> = std::collections::HashMap::new();
        for (i, e) in syms.entries.iter().enumerate() {
            let channel = e.node.channel.name.clone();
            first.entry((channel.clone(), decls::address_key(&e.node.address))).or_insert(i);
            by_channel.entry(channel).or_default().push(i);
        }
        EntryIndex { first, by_channel }
    }
}

/// What every checker of one module reads, built once per module.
#[derive(Clone, Copy)]
struct Shared<'s, 'a> {
    entries: &'s EntryIndex,
    calls: &'s calls::CallGraph<'a>,
    partial: bool,
}

/// What the checker of one module carries: its symbols, and what has been used.
pub(crate) struct Checker<'s, 'a> {
    pub syms: &'s Symbols<'a>,
    pub module: &'s str,
    pub loader: &'s dyn Loader,
    /// Only the root module reports `unused`: a std module's unused parts are not the user's.
    pub report_unused: bool,
    pub entries: &'s EntryIndex,
    pub calls: &'s calls::CallGraph<'a>,
    /// A file of the module does not parse, so its declarations are missing (see
    /// `hold_back_follow_ons`).
    pub partial: bool,
    pub diags: RefCell<Vec<Diagnostic>>,
    pub used: RefCell<HashSet<(symbols::Kind, String)>>,
    /// Every waypoint and outcome name in the module, for checking tests.
    pub waypoints: RefCell<HashSet<String>>,
    pub outcomes: RefCell<HashSet<String>>,
}

impl<'s, 'a> Checker<'s, 'a> {
    fn new(
        syms: &'s Symbols<'a>,
        module: &'s str,
        loader: &'s dyn Loader,
        root: bool,
        shared: Shared<'s, 'a>,
    ) -> Checker<'s, 'a> {
        Checker {
            syms,
            module,
            loader,
            report_unused: root,
            entries: shared.entries,
            calls: shared.calls,
            partial: shared.partial,
            diags: RefCell::new(Vec::new()),
            used: RefCell::new(HashSet::new()),
            waypoints: RefCell::new(HashSet::new()),
            outcomes: RefCell::new(HashSet::new()),
        }
    }

    /// A checker that reports nothing: for looking at types a second time.
    pub fn quiet(&self) -> Checker<'_, '_> {
        Checker {
            syms: self.syms,
            module: self.module,
            loader: self.loader,
            report_unused: false,
            entries: self.entries,
            calls: self.calls,
            partial: self.partial,
            diags: Default::default(),
            used: Default::default(),
            waypoints: Default::default(),
            outcomes: Default::default(),
        }
    }

    pub fn report(&self, d: Diagnostic) {
        self.diags.borrow_mut().push(d);
    }

    pub fn mark_used(&self, kind: symbols::Kind, name: &str) {
        self.used.borrow_mut().insert((kind, name.to_string()));
    }

    /// `expect` on the symbol table, reporting into this checker.
    pub fn expect(&self, kind: symbols::Kind, file: FileId, name: &ast::Ident) -> bool {
        let mut d = Vec::new();
        let ok = self.syms.expect(kind, file, name, &mut d);
        self.diags.borrow_mut().extend(d);
        if ok {
            self.mark_used(kind, &name.name);
        }
        ok
    }

    pub fn resolve_type(&self, file: FileId, ty: &ast::TypeExpr) -> crate::types::Type {
        let mut d = Vec::new();
        let t = self.syms.resolve_type(file, ty, &mut d);
        self.diags.borrow_mut().extend(d);
        t
    }

    fn imported_names(&self) {
        let mut blocks: Vec<&ast::Block> = Vec::new();
        for d in self.syms.surveys.values().filter(|d| *d.module != *self.module) {
            blocks.push(&d.node.body);
        }
        for d in self.syms.flows.values().filter(|d| *d.module != *self.module) {
            blocks.push(&d.node.body);
        }
        for d in self.syms.scripts.values().filter(|d| *d.module != *self.module) {
            blocks.extend(d.node.steps.iter().map(|s| &s.body));
        }
        for b in blocks {
            decls::visit_block_stmts(b, &mut |s| match &s.kind {
                ast::StmtKind::Waypoint(w) => {
                    self.waypoints.borrow_mut().insert(w.name.clone());
                }
                ast::StmtKind::Outcome(o) => {
                    self.outcomes.borrow_mut().insert(o.name.clone());
                }
                _ => {}
            });
        }
    }

    fn finish_module(self, files: &[(FileId, &'a ast::File)]) -> Vec<Diagnostic> {
        // Tests read waypoints and outcomes found anywhere, so they go last; imported
        // surveys, scripts and flows bring theirs.
        self.imported_names();
        for &(file, test) in &self.syms.tests {
            if files.iter().any(|(f, _)| *f == file) {
                self.test(file, test);
            }
        }
        self.unused_lints(files);
        self.diags.into_inner()
    }
}
