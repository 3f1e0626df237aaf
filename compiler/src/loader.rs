//! How the compiler reaches files without touching the file system itself.

use std::sync::Arc;

/// One source file of a compilation. `path` is as the user should see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFile {
    pub path: String,
    pub text: Arc<str>,
}

/// Gives the compiler the bytes of project files it names (CSV sources, rhai scripts).
/// Paths are relative to the project folder, with `/` separators.
pub trait Loader: Sync {
    /// The file's bytes, or why they cannot be had.
    fn load(&self, path: &str) -> Result<Vec<u8>, String>;
}

/// A loader over files held in memory: for tests, fuzzing and embedded projects.
#[derive(Clone, Debug, Default)]
pub struct MemoryLoader {
    pub files: std::collections::BTreeMap<String, Vec<u8>>,
}

impl Loader for MemoryLoader {
    fn load(&self, path: &str) -> Result<Vec<u8>, String> {
        self.files.get(path).cloned().ok_or_else(|| "no such file".to_string())
    }
}
