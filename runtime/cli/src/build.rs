//! `switchboard build`: compiles a project into a bundle file.

use super::EXIT_FAILED;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use switchboard_bytecode::bytecode::Bundle;
use switchboard_compiler::check::Checked;
use switchboard_compiler::{codegen, render};
use switchboard_shell::project;

/// Checks and compiles the one project at `path`; prints diagnostics when it has errors.
pub fn compile(path: &Path) -> Result<Option<(Checked, Bundle, PathBuf)>, String> {
    let projects = project::discover(&[path.to_path_buf()])?;
    let [p] = projects.as_slice() else {
        return Err(format!("`{}` holds {} projects; name one", path.display(), projects.len()));
    };
    let std = switchboard_stdlib::modules();
    let loader = p.loader();
    let checked = p.check(&std);
    if checked.has_errors() {
        print!("{}", render::human(&checked.diagnostics, &checked.files, false));
        return Ok(None);
    }
    let bundle = codegen::compile(&checked, &loader)?;
    Ok(Some((checked, bundle, p.root.clone())))
}

pub fn run(path: &Path, output: &Path) -> Result<ExitCode, String> {
    let Some((_, bundle, _)) = compile(path)? else { return Ok(ExitCode::from(EXIT_FAILED)) };
    let bytes = bundle.to_bytes()?;
    std::fs::write(output, &bytes).map_err(|e| format!("cannot write `{}`: {e}", output.display()))?;
    println!(
        "built {} ({} bytes, {} functions, source hash {})",
        output.display(),
        bytes.len(),
        bundle.functions.len(),
        &bundle.source_hash[..12]
    );
    Ok(ExitCode::SUCCESS)
}
