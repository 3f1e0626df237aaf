//! `switchboard check`: every diagnostic of every project, in the format asked for.

use super::output;
use super::{Format, EXIT_FAILED};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use switchboard_compiler::check::Checked;
use switchboard_compiler::{render, Diagnostic, Severity, SourceFile};
use switchboard_shell::project;

/// Checks every project; all their diagnostics are printed together.
pub fn run(format: Format, deny_warnings: bool, paths: &[PathBuf]) -> Result<ExitCode, String> {
    let projects = project::discover(paths)?;
    let std = switchboard_stdlib::modules();
    let mut files: Vec<SourceFile> = Vec::new();
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    for p in &projects {
        let checked = p.check(&std);
        append(&mut files, &mut diagnostics, checked);
    }
    let out = match format {
        Format::Human => render::human(&diagnostics, &files, std::io::stdout().is_terminal()),
        Format::Json => render::json(&diagnostics, &files),
        Format::Github => render::github(&diagnostics, &files),
        Format::Sarif => render::sarif(&diagnostics, &files),
    };
    output::print(&out);
    if !out.ends_with('\n') && !out.is_empty() {
        outln!();
    }
    let errors = diagnostics.iter().filter(|d| d.severity == Severity::Error).count();
    let warnings = diagnostics.len() - errors;
    let failed = errors > 0 || (deny_warnings && warnings > 0);
    Ok(if failed { ExitCode::from(EXIT_FAILED) } else { ExitCode::SUCCESS })
}

/// Merges one project's files and diagnostics into the run's, renumbering file ids.
fn append(files: &mut Vec<SourceFile>, diagnostics: &mut Vec<Diagnostic>, checked: Checked) {
    let offset = files.len() as u32;
    files.extend(checked.files);
    for mut d in checked.diagnostics {
        d.file.0 += offset;
        for r in &mut d.related {
            r.file.0 += offset;
        }
        diagnostics.push(d);
    }
}
