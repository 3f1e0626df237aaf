//! UI tests: drop a `.flow` file into `tests/ui/<code>/` and it is checked as a project of
//! its own, with the real standard library; its snapshot is the human report, source lines
//! and all. Each case must give at least one diagnostic of its folder's code, so a snapshot
//! cannot quietly lose the very thing it is about.
//!
//! A case that needs more than its one file keeps it in a folder of the same name beside it:
//! `project-file/csv_bad_values/data/customers.csv` is read as `data/customers.csv`, and
//! `import-cycle/two_modules/std/greetings.flow` becomes the module `std.greetings`.
//!
//! A case's rhai scripts are checked by the runtime's sandbox, as the `switchboard` binary
//! checks them (the compiler has no script engine; its `MemoryLoader` checks none).
//!
//! `tests/ui/clean/` holds projects that must give no diagnostic at all; `tests/ui/formats/`
//! is one project with several mistakes, rendered as JSON and SARIF.
#![allow(clippy::disallowed_methods)] // tests read their cases from disk; the compiler never does

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use switchboard_compiler::check::{self, Checked, Input};
use switchboard_compiler::loader::{Loader, MemoryLoader, ScriptCheck};
use switchboard_compiler::{render, Code, SourceFile};
use switchboard_sandbox::SandboxError;

const UI: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ui");
const STDLIB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../stdlib");

/// Folders of `tests/ui` that are not named after a diagnostic code.
const OTHER_FOLDERS: [&str; 2] = ["clean", "formats"];

#[test]
fn ui() {
    insta::glob!("ui/*/*.flow", |path| {
        let folder = folder_of(path);
        if OTHER_FOLDERS.contains(&folder.as_str()) {
            return;
        }
        let code = Code::ALL
            .into_iter()
            .find(|c| c.as_str() == folder)
            .unwrap_or_else(|| panic!("`tests/ui/{folder}` is not named after a diagnostic code"));
        let checked = check_case(path);
        let report = render::human(&checked.diagnostics, &checked.files, false);
        assert_spans_inside(&checked);
        assert!(
            checked.diagnostics.iter().any(|d| d.code == code),
            "{} gives no `{code:?}` diagnostic:\n{report}",
            path.display(),
        );
        insta::assert_snapshot!(report);
    });
}

#[test]
fn clean() {
    insta::glob!("ui/clean/*.flow", |path| {
        let checked = check_case(path);
        assert!(
            checked.diagnostics.is_empty(),
            "{} should be clean, but:\n{}",
            path.display(),
            render::human(&checked.diagnostics, &checked.files, false)
        );
    });
}

/// Every code of the contract has cases, and every folder is a code (or `clean`/`formats`).
#[test]
fn every_code_has_cases() {
    for code in Code::ALL {
        let dir = Path::new(UI).join(code.as_str());
        let cases = flow_files(&dir);
        assert!(!cases.is_empty(), "no UI case for `{}`: add one to tests/ui/{}/", code.as_str(), code.as_str());
    }
    for entry in std::fs::read_dir(UI).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            OTHER_FOLDERS.contains(&name.as_str()) || Code::ALL.iter().any(|c| c.as_str() == name),
            "tests/ui/{name} is neither a diagnostic code nor one of {OTHER_FOLDERS:?}"
        );
    }
}

/// One project with mistakes in two files, as programs read it.
#[test]
fn formats() {
    let dir = Path::new(UI).join("formats");
    let files = flow_files(&dir)
        .iter()
        .map(|p| source(p, &format!("formats/{}", p.file_name().unwrap().to_string_lossy())))
        .collect();
    let checked = check_project(files, &dir);
    let codes: std::collections::BTreeSet<&str> = checked.diagnostics.iter().map(|d| d.code.as_str()).collect();
    assert!(codes.len() >= 5, "the formats project should show several codes, got {codes:?}");
    assert!(checked.diagnostics.iter().any(|d| d.file.0 == 0) && checked.diagnostics.iter().any(|d| d.file.0 == 1));
    insta::assert_snapshot!("formats_json", render::json(&checked.diagnostics, &checked.files));
    insta::assert_snapshot!("formats_sarif", render::sarif(&checked.diagnostics, &checked.files));
    insta::assert_snapshot!("formats_github", render::github(&checked.diagnostics, &checked.files));
}

/// `ui/<folder>/<case>.flow`, checked with the files of `ui/<folder>/<case>/` beside it.
fn check_case(path: &Path) -> Checked {
    let name = format!("{}/{}", folder_of(path), path.file_name().unwrap().to_string_lossy());
    check_project(vec![source(path, &name)], &path.with_extension(""))
}

/// A case's files in memory, with its scripts checked by the sandbox.
struct CaseLoader(MemoryLoader);

impl Loader for CaseLoader {
    fn load(&self, path: &str) -> Result<Vec<u8>, String> {
        self.0.load(path)
    }

    fn sqlite_table(&self, path: &str, table: &str) -> Result<Option<Vec<String>>, String> {
        self.0.sqlite_table(path, table)
    }

    fn check_script(&self, path: &str, text: &str, name: &str, arity: usize) -> ScriptCheck {
        match switchboard_sandbox::check_script(path, text, name, arity) {
            Ok(()) => ScriptCheck::Defined,
            Err(SandboxError::Compile { line, column, message, .. }) => {
                ScriptCheck::DoesNotCompile { line, column, message }
            }
            Err(SandboxError::NoFunction { defined, .. }) => ScriptCheck::NoFunction { arities: defined },
        }
    }
}

fn check_project(files: Vec<SourceFile>, extra: &Path) -> Checked {
    let mut std = stdlib();
    let mut loader = MemoryLoader::default();
    for file in files_under(extra) {
        let rel = file.strip_prefix(extra).unwrap().to_string_lossy().replace('\\', "/");
        let bytes = std::fs::read(&file).unwrap();
        match rel.strip_prefix("std/").and_then(|m| m.strip_suffix(".flow")) {
            Some(module) => {
                std.insert(module.to_string(), Arc::from(String::from_utf8(bytes).unwrap()));
            }
            None => {
                loader.files.insert(rel, bytes);
            }
        }
    }
    check::check(Input { files, std: &std, loader: &CaseLoader(loader), module: Arc::from("") })
}

/// The real standard library: `stdlib/NAME.flow` is `std.NAME`.
fn stdlib() -> BTreeMap<String, Arc<str>> {
    flow_files(Path::new(STDLIB))
        .into_iter()
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            (name, Arc::from(std::fs::read_to_string(&p).unwrap()))
        })
        .collect()
}

fn source(path: &Path, shown: &str) -> SourceFile {
    SourceFile { path: shown.to_string(), text: Arc::from(std::fs::read_to_string(path).unwrap()) }
}

fn folder_of(path: &Path) -> String {
    path.parent().and_then(Path::file_name).unwrap().to_string_lossy().into_owned()
}

/// The `.flow` files directly in `dir`, sorted.
fn flow_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut out: Vec<PathBuf> =
        entries.map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "flow")).collect();
    out.sort();
    out
}

/// Every file under `dir`, at any depth; none when there is no such folder.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn assert_spans_inside(checked: &Checked) {
    for d in &checked.diagnostics {
        let text = &checked.files[d.file.0 as usize].text;
        assert!(d.span.start <= d.span.end && d.span.end as usize <= text.len(), "span out of its file: {d:?}");
        for r in &d.related {
            let text = &checked.files[r.file.0 as usize].text;
            assert!(r.span.start <= r.span.end && r.span.end as usize <= text.len(), "label out of its file: {d:?}");
        }
    }
}
