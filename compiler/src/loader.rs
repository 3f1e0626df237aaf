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
}
