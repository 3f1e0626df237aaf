//! `switchboard fmt`: one canonical layout for `.flow` files.

use super::EXIT_FAILED;
use std::path::PathBuf;
use std::process::ExitCode;
use switchboard_compiler::{fmt, render, SourceFile};
use switchboard_shell::project;

pub fn run(paths: &[PathBuf], check: bool) -> Result<ExitCode, String> {
    let projects = project::discover(paths)?;
    let mut changed = Vec::new();
    let mut broken = false;
    for p in &projects {
        for file in &p.files {
            if project::is_invalid_utf8(&file.path).is_some() {
                // Formatting would write the U+FFFD stand-ins over the original bytes.
                eprintln!("{}: not UTF-8 text; left as it is", file.path);
                broken = true;
                continue;
            }
            match fmt::format(&file.text) {
                Ok(formatted) if formatted == *file.text => {}
                Ok(formatted) => {
                    if check {
                        println!("{}", file.path);
                    } else {
                        std::fs::write(&file.path, formatted)
                            .map_err(|e| format!("cannot write `{}`: {e}", file.path))?;
                        println!("formatted {}", file.path);
                    }
                    changed.push(file.path.clone());
                }
                Err(diagnostics) => {
                    // A file that does not parse is left exactly as it is.
                    let files = [SourceFile { path: file.path.clone(), text: file.text.clone() }];
                    print!("{}", render::human(&diagnostics, &files, false));
                    broken = true;
                }
            }
        }
    }
    let failed = broken || (check && !changed.is_empty());
    Ok(if failed { ExitCode::from(EXIT_FAILED) } else { ExitCode::SUCCESS })
}
