//! Finding a project's files on disk: the edge where the pure compiler meets the file system.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use switchboard_compiler::check::Checked;
use switchboard_compiler::check::Input;
use switchboard_compiler::{Code, Diagnostic, FileId, Loader, ScriptCheck, SourceFile};
use switchboard_sandbox::SandboxError;

/// One project to check, test or build: its root folder and its `.flow` files.
#[derive(Debug, Clone)]
pub struct Project {
    pub root: PathBuf,
    pub files: Vec<SourceFile>,
    /// `std.NAME` when this is a standard library module checked on its own, else "".
    pub module: Arc<str>,
}

/// Reads project files relative to the project folder, and never outside it.
#[derive(Debug, Clone)]
pub struct FsLoader {
    pub root: PathBuf,
}

impl Loader for FsLoader {
    fn load(&self, path: &str) -> Result<Vec<u8>, String> {
        std::fs::read(self.inside(path)?).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_string(),
            _ => e.to_string(),
        })
    }

    /// Opens the database read-only, as a `sqlite` source does when the project loads.
    fn sqlite_table(&self, path: &str, table: &str) -> Result<Option<Vec<String>>, String> {
        let full = self.inside(path)?;
        match std::fs::metadata(&full) {
            Ok(meta) if meta.is_file() => switchboard_sources::describe_table(&full, table),
            Ok(_) => Err("not a file".to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err("no such file".to_string()),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Asks the one sandbox configuration that runs use.
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

impl FsLoader {
    /// The file `path` names inside the project folder, or why it may not be read.
    fn inside(&self, path: &str) -> Result<PathBuf, String> {
        let rel = Path::new(path);
        if rel.is_absolute() || rel.components().any(|c| matches!(c, Component::ParentDir)) {
            return Err("project files must stay inside the project folder".to_string());
        }
        Ok(self.root.join(rel))
    }
}

/// How a path is shown to people: relative to the working folder when it can be.
pub fn display_path(path: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    let shown = cwd.as_deref().and_then(|c| path.strip_prefix(c).ok()).unwrap_or(path);
    shown.display().to_string()
}

/// Turns command-line paths into projects: a folder is a project (every `.flow` under it);
/// files named together form one project rooted at the first file's folder. The folder of
/// the standard library itself gives one project per module.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<Project>, String> {
    let mut projects = Vec::new();
    let mut loose: Vec<PathBuf> = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        if meta.is_dir() {
            let mut found = Vec::new();
            collect_flows(path, &mut found).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
            found.sort();
            if is_stdlib(path) {
                for file in found {
                    let name = file.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
                    projects.push(Project {
                        root: path.clone(),
                        files: vec![read_source(&file)?],
                        module: Arc::from(format!("std.{name}")),
                    });
                }
            } else {
                let files = found.iter().map(|f| read_source(f)).collect::<Result<Vec<_>, _>>()?;
                projects.push(Project { root: path.clone(), files, module: Arc::from("") });
            }
        } else {
            loose.push(path.clone());
        }
    }
    if let Some(first) = loose.first() {
        let root = first.parent().map(Path::to_path_buf).unwrap_or_default();
        let files = loose.iter().map(|f| read_source(f)).collect::<Result<Vec<_>, _>>()?;
        projects.push(Project { root, files, module: Arc::from("") });
    }
    Ok(projects)
}

fn is_stdlib(path: &Path) -> bool {
    let own = Path::new(env!("CARGO_MANIFEST_DIR")).join("../stdlib");
    match (path.canonicalize(), own.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => path.file_name().is_some_and(|n| n == "stdlib"),
    }
}

fn collect_flows(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            let hidden = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.') || n == "target");
            if !hidden {
                collect_flows(&path, out)?;
            }
        } else if path.extension().is_some_and(|e| e == "flow") {
            out.push(path);
        }
    }
    Ok(())
}

/// Reads one source file. Bytes that are not UTF-8 are shown as U+FFFD (nothing after
/// them is lost) and remembered, so the file is reported and never rewritten.
pub fn read_source(path: &Path) -> Result<SourceFile, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
            INVALID.with(|m| m.borrow_mut().push((display_path(path), valid)));
            lossy
        }
    };
    Ok(SourceFile { path: display_path(path), text: Arc::from(text) })
}

thread_local! {
    /// Files read on this thread that were not UTF-8: path and the first bad byte.
    static INVALID: std::cell::RefCell<Vec<(String, usize)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Whether the file at `path` (as displayed) held bytes that are not UTF-8.
pub fn is_invalid_utf8(path: &str) -> Option<usize> {
    INVALID.with(|m| m.borrow().iter().find(|(p, _)| p == path).map(|(_, o)| *o))
}

impl Project {
    /// Checks the project: the compiler's diagnostics, and a `syntax` error for every file
    /// that is not UTF-8 text.
    pub fn check(&self, std: &std::collections::BTreeMap<String, Arc<str>>) -> Checked {
        let loader = self.loader();
        let mut checked = switchboard_compiler::check::check(self.input(std, &loader));
        for (i, f) in self.files.iter().enumerate() {
            if let Some(offset) = is_invalid_utf8(&f.path) {
                // The text shows each bad byte as U+FFFD (3 bytes): point at the first.
                let at = offset.min(f.text.len());
                let end = (at + 3).min(f.text.len());
                checked.diagnostics.push(
                    Diagnostic::new(
                        Code::Syntax,
                        FileId(i as u32),
                        switchboard_compiler::syntax::ast::Span::new(at, end),
                        "this file is not UTF-8 text",
                    )
                    .with_label("a byte that is not UTF-8")
                    .with_help("save the file as UTF-8"),
                );
            }
        }
        checked.diagnostics.sort_by_key(|d| (d.file, d.span.start));
        checked
    }

    pub fn loader(&self) -> FsLoader {
        FsLoader { root: self.root.clone() }
    }

    /// The compiler's input for this project.
    pub fn input<'a>(&self, std: &'a std::collections::BTreeMap<String, Arc<str>>, loader: &'a FsLoader) -> Input<'a> {
        Input { files: self.files.clone(), std, loader, module: self.module.clone() }
    }
}
