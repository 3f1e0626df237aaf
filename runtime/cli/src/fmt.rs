//! `switchboard fmt`: one canonical layout for `.flow` files.
//!
//! A file is replaced whole or not at all: the new text is written to a temporary file
//! beside it (with its permissions) and renamed over it, so a failed write leaves the old
//! text. Files are written at their real paths, never at the names shown to people (a
//! name that is not UTF-8 is shown with U+FFFD in it).

use super::output;
use super::EXIT_FAILED;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use switchboard_compiler::{fmt, render, SourceFile};
use switchboard_shell::project::{self, Loaded};

pub fn run(paths: &[PathBuf], check: bool) -> Result<ExitCode, String> {
    let projects = project::discover(paths)?;
    let mut changed = Vec::new();
    let mut broken = false;
    for p in &projects {
        let refused = p.file_diagnostics();
        if !refused.is_empty() {
            output::print(&render::human(&refused, &p.files, false));
            broken = true;
        }
        for (file, disk) in p.files.iter().zip(&p.on_disk) {
            // A file not UTF-8 would lose its bytes to the U+FFFD stand-ins; one not read
            // has no text: both are reported above and left as they are.
            let Loaded::Text { canonical } = &disk.loaded else { continue };
            match fmt::format(&file.text) {
                Ok(formatted) if formatted == *file.text => {}
                Ok(formatted) => {
                    if check {
                        outln!("{}", file.path);
                    } else {
                        // A link inside the project stays a link: its target is rewritten.
                        replace(canonical, &formatted).map_err(|e| format!("cannot write `{}`: {e}", file.path))?;
                        outln!("formatted {}", file.path);
                    }
                    changed.push(file.path.clone());
                }
                Err(diagnostics) => {
                    // A file that does not parse is left exactly as it is.
                    let files = [SourceFile { path: file.path.clone(), text: file.text.clone() }];
                    output::print(&render::human(&diagnostics, &files, false));
                    broken = true;
                }
            }
        }
    }
    let failed = broken || (check && !changed.is_empty());
    Ok(if failed { ExitCode::from(EXIT_FAILED) } else { ExitCode::SUCCESS })
}

/// Replaces the file at `path` with `text`, whole or not at all.
fn replace(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let permissions = std::fs::metadata(path)?.permissions();
    let mut temporary = tempfile::NamedTempFile::new_in(dir)?;
    temporary.write_all(text.as_bytes())?;
    temporary.as_file().set_permissions(permissions)?;
    temporary.as_file().sync_all()?;
    temporary.persist(path).map_err(|e| e.error)?;
    Ok(())
}
