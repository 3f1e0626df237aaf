//! Finding a project's files on disk: the edge where the pure compiler meets the file system.
//!
//! **Architecture Invariant:** a project file is a regular file inside the project folder
//! once every link is resolved, and no larger than [`MAX_FILE_BYTES`]. Its type is looked
//! at before it is opened, so a FIFO is never opened and a device never read; anything else
//! is refused with a `project-file` diagnostic that names it.

use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use switchboard_compiler::check::Checked;
use switchboard_compiler::check::Input;
use switchboard_compiler::{Code, Diagnostic, FileId, Loader, ScriptCheck, SourceFile};
use switchboard_sandbox::SandboxError;

/// The most a project's `.flow` or data file may hold: 8 MiB, far past any real flow or
/// look-up table, and little enough that reading it cannot exhaust memory.
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// One project to check, test or build: its root folder and its `.flow` files.
#[derive(Debug, Clone)]
pub struct Project {
    pub root: PathBuf,
    pub files: Vec<SourceFile>,
    /// Where each of `files` lies on disk and how it read, in the same order.
    pub on_disk: Vec<OnDisk>,
    /// `std.NAME` when this is a standard library module checked on its own, else "".
    pub module: Arc<str>,
}

/// One `.flow` file as found on disk.
#[derive(Debug, Clone)]
pub struct OnDisk {
    /// The path as found (not the display string, which may have lost bytes).
    pub path: PathBuf,
    pub loaded: Loaded,
}

/// What reading a `.flow` file gave: its [`SourceFile`] text is only what it held when `Text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loaded {
    /// Read whole; `canonical` is the file itself, every link resolved.
    Text { canonical: PathBuf },
    /// Read, but bytes from `valid_up_to` on are not UTF-8: the text shows them as U+FFFD,
    /// so the file is reported and never rewritten.
    NotUtf8 { valid_up_to: usize },
    /// Not read at all: the text is empty.
    Refused(Refusal),
}

/// Why a project file (or a file named on the command line) is not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Missing,
    /// Once its links are resolved, it lies outside the project folder.
    Outside,
    /// A FIFO, a device, a socket or a folder: what it is, in a word.
    NotRegular(&'static str),
    TooLarge {
        limit: u64,
    },
    /// The file system's own error.
    Unreadable(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Missing => write!(f, "no such file"),
            Refusal::Outside => write!(f, "it lies outside the project folder once its links are resolved"),
            Refusal::NotRegular(kind) => write!(f, "it is {kind}, not a regular file"),
            Refusal::TooLarge { limit } => write!(f, "it holds more than {} MiB", limit / (1024 * 1024)),
            Refusal::Unreadable(why) => write!(f, "{why}"),
        }
    }
}

impl Refusal {
    /// What to do about it.
    pub fn help(&self) -> &'static str {
        match self {
            Refusal::Missing => "paths are relative to the project folder",
            Refusal::Outside => "a project reads only its own files: copy the file into the project folder",
            Refusal::NotRegular(_) => "project files must be regular files",
            Refusal::TooLarge { .. } => "split the file, or keep large data in a `sqlite` source",
            Refusal::Unreadable(_) => "check the file's permissions",
        }
    }
}

/// Reads the regular file at `path` whole, refusing anything else (it is never opened
/// unless it is a regular file) and anything larger than `limit` bytes (it is never read
/// past the limit, so a file that grows cannot exhaust memory either).
pub fn read_regular(path: &Path, limit: u64) -> Result<Vec<u8>, Refusal> {
    let meta = std::fs::metadata(path).map_err(io_refusal)?;
    regular(&meta)?;
    if meta.len() > limit {
        return Err(Refusal::TooLarge { limit });
    }
    let file = std::fs::File::open(path).map_err(io_refusal)?;
    // What was opened is what was looked at (it may have been swapped since).
    regular(&file.metadata().map_err(io_refusal)?)?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(limit + 1).read_to_end(&mut bytes).map_err(io_refusal)?;
    if bytes.len() as u64 > limit {
        return Err(Refusal::TooLarge { limit });
    }
    Ok(bytes)
}

/// Reads the project file at `path` (as found under `root`, links and all) with
/// [`read_regular`], once it is known to lie inside `root`; with its resolved path.
pub fn read_inside(root: &Path, path: &Path, limit: u64) -> Result<(Vec<u8>, PathBuf), Refusal> {
    let canonical = resolve_inside(root, path)?;
    Ok((read_regular(&canonical, limit)?, canonical))
}

/// `path` with every link resolved, when that lies inside `root` (also resolved).
pub fn resolve_inside(root: &Path, path: &Path) -> Result<PathBuf, Refusal> {
    let root = if root.as_os_str().is_empty() { Path::new(".") } else { root };
    let root = root.canonicalize().map_err(io_refusal)?;
    let canonical = path.canonicalize().map_err(io_refusal)?;
    if !canonical.starts_with(&root) {
        return Err(Refusal::Outside);
    }
    Ok(canonical)
}

fn regular(meta: &std::fs::Metadata) -> Result<(), Refusal> {
    let kind = meta.file_type();
    if kind.is_file() {
        return Ok(());
    }
    if kind.is_dir() {
        return Err(Refusal::NotRegular("a folder"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return Err(Refusal::NotRegular("a FIFO"));
        }
        if kind.is_char_device() || kind.is_block_device() {
            return Err(Refusal::NotRegular("a device"));
        }
        if kind.is_socket() {
            return Err(Refusal::NotRegular("a socket"));
        }
    }
    Err(Refusal::NotRegular("a special file"))
}

fn is_link(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

fn io_refusal(e: std::io::Error) -> Refusal {
    match e.kind() {
        std::io::ErrorKind::NotFound => Refusal::Missing,
        _ => Refusal::Unreadable(e.to_string()),
    }
}

/// Reads project files relative to the project folder, and never outside it.
#[derive(Debug, Clone)]
pub struct FsLoader {
    pub root: PathBuf,
}

impl Loader for FsLoader {
    fn load(&self, path: &str) -> Result<Vec<u8>, String> {
        let (bytes, _) = read_inside(&self.root, &self.inside(path)?, MAX_FILE_BYTES).map_err(loader_error)?;
        Ok(bytes)
    }

    /// Opens the database read-only, as a `sqlite` source does when the project loads.
    /// SQLite reads only the pages it needs, so the size limit does not apply.
    fn sqlite_table(&self, path: &str, table: &str) -> Result<Option<Vec<String>>, String> {
        let canonical = resolve_inside(&self.root, &self.inside(path)?).map_err(loader_error)?;
        regular(&std::fs::metadata(&canonical).map_err(|e| loader_error(io_refusal(e)))?).map_err(loader_error)?;
        switchboard_sources::describe_table(&canonical, table)
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

/// The compiler reports a loader's refusal after "cannot read `PATH`: ", so the reason
/// carries its help ("no such file" stays as it is: the compiler knows it).
fn loader_error(refusal: Refusal) -> String {
    match refusal {
        Refusal::Missing => refusal.to_string(),
        _ => format!("{refusal} ({})", refusal.help()),
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
/// the standard library itself gives one project per module. A file that may not be read
/// is still part of its project, empty, so that `check` reports it (see [`Loaded`]).
/// The one project at `path`, checked against the standard library `std` and, when it has
/// no errors, compiled: `build`, `serve` and the daemon's deploys all start here.
pub fn compile_one(
    path: &Path,
    std: &std::collections::BTreeMap<String, Arc<str>>,
) -> Result<(Checked, Option<switchboard_compiler::bytecode::Bundle>, Project), String> {
    let projects = discover(&[path.to_path_buf()])?;
    let [p] = projects.as_slice() else {
        return Err(format!("`{}` holds {} projects; name one", path.display(), projects.len()));
    };
    let checked = p.check(std);
    if checked.has_errors() {
        return Ok((checked, None, p.clone()));
    }
    let bundle = switchboard_compiler::codegen::compile(&checked, &p.loader())?;
    Ok((checked, Some(bundle), p.clone()))
}

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
                    let mut project = Project::empty(path.clone(), Arc::from(format!("std.{name}")));
                    project.add(&file, path);
                    projects.push(project);
                }
            } else {
                let mut project = Project::empty(path.clone(), Arc::from(""));
                for file in &found {
                    project.add(file, path);
                }
                projects.push(project);
            }
        } else {
            loose.push(path.clone());
        }
    }
    if let Some(first) = loose.first() {
        let root = first.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut project = Project::empty(root, Arc::from(""));
        for file in &loose {
            // A file named on the command line lies inside its own folder.
            project.add(file, file.parent().unwrap_or(Path::new("")));
        }
        projects.push(project);
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

/// Every `.flow` under `dir`. Links to folders are not followed (a link may loop).
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

/// Reads one source file inside `root`. Bytes that are not UTF-8 are shown as U+FFFD
/// (nothing after them is lost); a file that may not be read has no text.
fn read_source(root: &Path, path: &Path) -> (SourceFile, OnDisk) {
    let (text, loaded) = match read_inside(root, path, MAX_FILE_BYTES) {
        Ok((bytes, canonical)) => match String::from_utf8(bytes) {
            Ok(text) => (text, Loaded::Text { canonical }),
            Err(e) => {
                let valid_up_to = e.utf8_error().valid_up_to();
                (String::from_utf8_lossy(e.as_bytes()).into_owned(), Loaded::NotUtf8 { valid_up_to })
            }
        },
        Err(refusal) => (String::new(), Loaded::Refused(refusal)),
    };
    (SourceFile { path: display_path(path), text: Arc::from(text) }, OnDisk { path: path.to_path_buf(), loaded })
}

impl Project {
    fn empty(root: PathBuf, module: Arc<str>) -> Project {
        Project { root, files: Vec::new(), on_disk: Vec::new(), module }
    }

    /// Reads the `.flow` file at `path` into the project, unless it is a file the project
    /// holds already under another name (a link to it, or it is a link): checking it twice
    /// would report every declaration as a duplicate. The file's own name wins over a link's.
    fn add(&mut self, path: &Path, root: &Path) {
        let (file, on_disk) = read_source(root, path);
        if let Loaded::Text { canonical } = &on_disk.loaded {
            let seen =
                self.on_disk.iter().position(|d| matches!(&d.loaded, Loaded::Text { canonical: c } if c == canonical));
            if let Some(i) = seen {
                if is_link(&self.on_disk[i].path) && !is_link(path) {
                    self.files[i] = file;
                    self.on_disk[i] = on_disk;
                }
                return;
            }
        }
        self.files.push(file);
        self.on_disk.push(on_disk);
    }

    /// Checks the project: the compiler's diagnostics and [`Project::file_diagnostics`].
    pub fn check(&self, std: &std::collections::BTreeMap<String, Arc<str>>) -> Checked {
        let loader = self.loader();
        let mut checked = switchboard_compiler::check::check(self.input(std, &loader));
        checked.diagnostics.extend(self.file_diagnostics());
        checked.diagnostics.sort_by_key(|d| (d.file, d.span.start));
        checked
    }

    /// What reading the `.flow` files found: a `syntax` error for every file that is not
    /// UTF-8 text, and a `project-file` error for every file not read.
    pub fn file_diagnostics(&self) -> Vec<Diagnostic> {
        use switchboard_compiler::syntax::ast::Span;
        let mut diagnostics = Vec::new();
        for (i, (f, disk)) in self.files.iter().zip(&self.on_disk).enumerate() {
            let id = FileId(i as u32);
            match &disk.loaded {
                Loaded::Text { .. } => {}
                Loaded::NotUtf8 { valid_up_to } => {
                    // The text shows each bad byte as U+FFFD (3 bytes): point at the first.
                    let at = (*valid_up_to).min(f.text.len());
                    let end = (at + 3).min(f.text.len());
                    diagnostics.push(
                        Diagnostic::new(Code::Syntax, id, Span::new(at, end), "this file is not UTF-8 text")
                            .with_label("a byte that is not UTF-8")
                            .with_help("save the file as UTF-8"),
                    );
                }
                Loaded::Refused(refusal) => diagnostics.push(
                    Diagnostic::new(
                        Code::ProjectFile,
                        id,
                        Span::new(0, 0),
                        format!("`{}` is not read: {refusal}", f.path),
                    )
                    .with_label("not read")
                    .with_help(refusal.help()),
                ),
            }
        }
        diagnostics
    }

    pub fn loader(&self) -> FsLoader {
        FsLoader { root: self.root.clone() }
    }

    /// The compiler's input for this project.
    pub fn input<'a>(&self, std: &'a std::collections::BTreeMap<String, Arc<str>>, loader: &'a FsLoader) -> Input<'a> {
        Input { files: self.files.clone(), std, loader, module: self.module.clone() }
    }
}
