//! How the compiler reaches files without touching the file system itself.

use std::collections::BTreeMap;
use std::sync::Arc;

/// One source file of a compilation. `path` is as the user should see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFile {
    pub path: String,
    pub text: Arc<str>,
}

/// Gives the compiler the bytes of project files it names (CSV sources, rhai scripts) and
/// what it needs to know of the SQLite databases they name. Paths are relative to the
/// project folder, with `/` separators.
pub trait Loader: Sync {
    /// The file's bytes, or why they cannot be had.
    fn load(&self, path: &str) -> Result<Vec<u8>, String>;

    /// The column names of `table` in the SQLite database at `path`, in order, as the
    /// runtime will open it: `Ok(None)` when the database has no such table, `Err` with
    /// the reason when the file is missing or is not a database the runtime could read.
    fn sqlite_table(&self, path: &str, table: &str) -> Result<Option<Vec<String>>, String>;

    /// Whether `text`, the rhai script at `path`, loads in the sandbox that runs will use
    /// and defines `fn NAME` taking `arity` values. The compiler holds no script engine of
    /// its own: the runtime's one configuration answers, so `check` refuses exactly what a
    /// start would refuse.
    fn check_script(&self, path: &str, text: &str, name: &str, arity: usize) -> ScriptCheck;
}

/// The sandbox's answer about an `extern fn`'s script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScriptCheck {
    /// It loads and defines the function with that many parameters.
    Defined,
    /// This loader has no sandbox to ask (an in-memory project), so nothing was checked.
    NotChecked,
    /// It does not load: where (1-based, when known) and why.
    DoesNotCompile { line: Option<usize>, column: Option<usize>, message: String },
    /// It loads, but defines no function of that name taking that many values;
    /// `arities` are the parameter counts of the functions of that name it does define.
    NoFunction { arities: Vec<usize> },
}

/// A loader over files held in memory: for tests, fuzzing and embedded projects. It
/// holds bytes only, so it opens no SQLite database: a `sqlite` source's file is refused.
#[derive(Clone, Debug, Default)]
pub struct MemoryLoader {
    pub files: BTreeMap<String, Vec<u8>>,
}

impl Loader for MemoryLoader {
    fn load(&self, path: &str) -> Result<Vec<u8>, String> {
        self.files.get(path).cloned().ok_or_else(|| "no such file".to_string())
    }

    fn sqlite_table(&self, path: &str, _table: &str) -> Result<Option<Vec<String>>, String> {
        match self.files.contains_key(path) {
            true => Err("a project held in memory cannot open SQLite databases".to_string()),
            false => Err("no such file".to_string()),
        }
    }

    /// Memory holds the texts but no sandbox: scripts are checked by a loader that has one
    /// (the shell's, which the `switchboard` binary uses).
    fn check_script(&self, _path: &str, _text: &str, _name: &str, _arity: usize) -> ScriptCheck {
        ScriptCheck::NotChecked
    }
}
