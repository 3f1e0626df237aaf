//! Projects become bundles: from the folder `serve` was given, or from a deploy's upload.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use switchboard_bytecode::bytecode::Bundle;
use switchboard_compiler::loader::Loader;
use switchboard_compiler::{check, codegen, render, ScriptCheck, SourceFile};
use switchboard_shell::project::{self, FsLoader};

/// Why a project did not become a bundle.
#[derive(Debug)]
pub enum Refused {
    /// It has errors: the diagnostics, as JSON (`switchboard check --format json`).
    Diagnostics(String),
    Other(String),
}

/// The project at `path`, checked and compiled. Errors come back rendered for people.
pub fn compile_dir(path: &Path) -> Result<Bundle, String> {
    match project::compile_one(path, &switchboard_stdlib::modules())? {
        (_, Some(bundle), _) => Ok(bundle),
        (checked, None, _) => Err(render::human(&checked.diagnostics, &checked.files, false)),
    }
}

/// A project sent to `POST /admin/deploy`: every file by its path in the project. `.flow`
/// files are the sources; the rest (CSV, rhai) are what they name.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Upload {
    pub files: BTreeMap<String, String>,
}

/// Files from the upload; SQLite databases are the daemon's, under its project folder.
struct UploadLoader<'a> {
    files: &'a BTreeMap<String, String>,
    local: FsLoader,
}

impl Loader for UploadLoader<'_> {
    fn load(&self, path: &str) -> Result<Vec<u8>, String> {
        self.files.get(path).map(|t| t.clone().into_bytes()).ok_or_else(|| "no such file in the upload".to_string())
    }

    fn sqlite_table(&self, path: &str, table: &str) -> Result<Option<Vec<String>>, String> {
        self.local.sqlite_table(path, table)
    }

    fn check_script(&self, path: &str, text: &str, name: &str, arity: usize) -> ScriptCheck {
        self.local.check_script(path, text, name, arity)
    }
}

pub fn compile_upload(upload: Upload, root: &Path) -> Result<Bundle, Refused> {
    let sources: Vec<SourceFile> = upload
        .files
        .iter()
        .filter(|(p, _)| p.ends_with(".flow"))
        .map(|(p, t)| SourceFile { path: p.clone(), text: Arc::from(t.as_str()) })
        .collect();
    if sources.is_empty() {
        return Err(Refused::Other("the upload holds no .flow file".to_string()));
    }
    for path in upload.files.keys() {
        let p = Path::new(path);
        if p.is_absolute() || p.components().any(|c| matches!(c, std::path::Component::ParentDir)) {
            return Err(Refused::Other(format!("`{path}`: project paths are relative and stay inside the project")));
        }
    }
    let std = switchboard_stdlib::modules();
    let loader = UploadLoader { files: &upload.files, local: FsLoader { root: root.to_path_buf() } };
    let checked = check::check(check::Input { files: sources, std: &std, loader: &loader, module: Arc::from("") });
    if checked.has_errors() {
        return Err(Refused::Diagnostics(render::json(&checked.diagnostics, &checked.files)));
    }
    codegen::compile(&checked, &loader).map_err(Refused::Other)
}

/// Every file of the project at `root` that a deploy sends: `.flow` files and what they
/// may name (CSV, rhai), skipping hidden folders and `target`.
pub fn upload_of(root: &Path) -> Result<Upload, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) -> Result<(), String> {
        let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read `{}`: {e}", dir.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| e.to_string())?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let kind = entry.file_type().map_err(|e| e.to_string())?;
            if kind.is_dir() {
                if !name.starts_with('.') && name != "target" {
                    walk(root, &path, out)?;
                }
            } else if kind.is_file() && [".flow", ".csv", ".rhai"].iter().any(|e| name.ends_with(e)) {
                let rel = path.strip_prefix(root).map_err(|e| e.to_string())?;
                let text =
                    std::fs::read_to_string(&path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
                out.insert(rel.to_string_lossy().replace('\\', "/"), text);
            }
        }
        Ok(())
    }
    let mut files = BTreeMap::new();
    walk(root, root, &mut files)?;
    Ok(Upload { files })
}
