//! `switchboard build`: compiles a project into a bundle file.

use super::output;
use super::EXIT_FAILED;
use std::path::Path;
use std::process::ExitCode;
use switchboard_bytecode::bytecode::{Bundle, SourceLocation};
use switchboard_compiler::check::Checked;
use switchboard_compiler::render;
use switchboard_shell::project::{self, Loaded, Project};

/// A project compiled: what `check` found, the bundle, and the project it came from.
pub struct Compiled {
    pub checked: Checked,
    pub bundle: Bundle,
    pub project: Project,
}

/// Checks and compiles the one project at `path`; prints diagnostics when it has errors.
pub fn compile(path: &Path) -> Result<Option<Compiled>, String> {
    match project::compile_one(path, &switchboard_stdlib::modules())? {
        (checked, Some(bundle), project) => Ok(Some(Compiled { checked, bundle, project })),
        (checked, None, _) => {
            output::print(&render::human(&checked.diagnostics, &checked.files, false));
            Ok(None)
        }
    }
}

pub fn run(path: &Path, output: &Path) -> Result<ExitCode, String> {
    let Some(Compiled { bundle, project, .. }) = compile(path)? else { return Ok(ExitCode::from(EXIT_FAILED)) };
    if let Some(why) = overwrites_source(output, &bundle, &project) {
        errln!("error: `{}` is not written: {why}", output.display());
        errln!("  help: write the bundle to a file of its own, e.g. `-o out.bundle`");
        return Ok(ExitCode::from(EXIT_FAILED));
    }
    let bytes = bundle.to_bytes()?;
    std::fs::write(output, &bytes).map_err(|e| format!("cannot write `{}`: {e}", output.display()))?;
    outln!(
        "built {} ({} bytes, {} functions, source hash {})",
        output.display(),
        bytes.len(),
        bundle.functions.len(),
        &bundle.source_hash[..12]
    );
    Ok(ExitCode::SUCCESS)
}

/// Why writing the bundle to `output` would destroy a source of the project, if it would:
/// `output` is a `.flow` file, or (links resolved) one of the files the project reads.
fn overwrites_source(output: &Path, bundle: &Bundle, project: &Project) -> Option<String> {
    if output.extension().is_some_and(|e| e == "flow") {
        return Some("a bundle is not a `.flow` file, and writing one would overwrite or add a source".into());
    }
    let target = output.canonicalize().ok()?;
    let flows = project.on_disk.iter().filter_map(|d| match &d.loaded {
        Loaded::Text { canonical } => Some(canonical.clone()),
        _ => None,
    });
    let data = bundle
        .sources
        .iter()
        .filter_map(|s| match &s.location {
            SourceLocation::Csv { path, .. } | SourceLocation::Sqlite { path, .. } => Some(path),
            _ => None,
        })
        .chain(bundle.externs.iter().map(|e| &e.path))
        .filter_map(|p| project.root.join(p).canonicalize().ok());
    let mut sources = flows.chain(data);
    sources.any(|s| s == target).then(|| "it is a source of the project".to_string())
}
