//! `switchboard disasm`: a bundle, or a project compiled on the spot, as readable text.
//!
//! A bundle's file table is data, never a path to open: source lines are shown from the
//! standard library embedded in the binary, and from the project the user names with
//! `--project`, read as `check` reads it (only its own regular files).

use super::output;
use super::EXIT_FAILED;
use std::path::Path;
use std::process::ExitCode;
use switchboard_bytecode::bytecode::Bundle;
use switchboard_compiler::{disasm, SourceFile};
use switchboard_shell::project::{self, Loaded};

/// The largest bundle `disasm` reads (256 MiB): a bundle carries its CSV files, each at
/// most [`project::MAX_FILE_BYTES`].
const MAX_BUNDLE_BYTES: u64 = 256 * 1024 * 1024;

pub fn run(path: &Path, project: Option<&Path>) -> Result<ExitCode, String> {
    let is_bundle = path.is_file() && path.extension().is_none_or(|e| e != "flow");
    if is_bundle {
        let bytes = project::read_regular(path, MAX_BUNDLE_BYTES)
            .map_err(|why| format!("cannot read `{}`: {why}", path.display()))?;
        let bundle = Bundle::from_bytes(&bytes)?;
        output::print(&disasm::disassemble(&bundle, &sources(project)?));
        return Ok(ExitCode::SUCCESS);
    }
    let Some(compiled) = super::build::compile(path)? else { return Ok(ExitCode::from(EXIT_FAILED)) };
    output::print(&disasm::disassemble(&compiled.bundle, &compiled.checked.files));
    Ok(ExitCode::SUCCESS)
}

/// The texts a bundle's spans may point into: the standard library's modules, under the
/// names `check` gives them, and the `.flow` files of `project` that read as text.
fn sources(project: Option<&Path>) -> Result<Vec<SourceFile>, String> {
    let mut sources: Vec<SourceFile> = switchboard_stdlib::modules()
        .into_iter()
        .map(|(name, text)| SourceFile { path: format!("<std>/{name}.flow"), text })
        .collect();
    if let Some(dir) = project {
        for p in project::discover(&[dir.to_path_buf()])? {
            let read = p.on_disk.iter().map(|d| matches!(d.loaded, Loaded::Text { .. }));
            sources.extend(p.files.iter().zip(read).filter(|(_, read)| *read).map(|(f, _)| f.clone()));
        }
    }
    Ok(sources)
}
