//! `switchboard test`: runs `test` blocks, one line per test, then `N passed, N failed`.

use super::output;
use super::EXIT_FAILED;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use switchboard_compiler::{codegen, render};
use switchboard_shell::testing::{self, TestOutcome};
use switchboard_shell::{project, Options};

/// `test --replay --data DIR`: the replay check on a daemon's own store.
pub fn replay_store(data: &std::path::Path, paths: &[PathBuf]) -> Result<ExitCode, String> {
    let root = match paths {
        [] => PathBuf::from("."),
        [one] => one.clone(),
        _ => return Err("with --data, name at most one project (where its SQLite sources are)".to_string()),
    };
    match switchboard_daemon::core::check_replay(data, &root) {
        Ok(check) => {
            outln!("{}: {check}", data.display());
            Ok(ExitCode::SUCCESS)
        }
        Err(why) => {
            errln!("{}: the replay check failed: {why}", data.display());
            Ok(ExitCode::from(EXIT_FAILED))
        }
    }
}

pub fn run(paths: &[PathBuf], filter: Option<&str>, roundtrip: bool, replay: bool) -> Result<ExitCode, String> {
    let paths = if paths.is_empty() { vec![PathBuf::from(".")] } else { paths.to_vec() };
    let projects = project::discover(&paths)?;
    let std = switchboard_stdlib::modules();
    let (mut passed, mut failed) = (0usize, 0usize);
    for p in &projects {
        let loader = p.loader();
        let checked = p.check(&std);
        if checked.has_errors() {
            output::print(&render::human(&checked.diagnostics, &checked.files, false));
            let tests = checked
                .module_files(0)
                .iter()
                .flat_map(|(_, f)| &f.items)
                .filter(|i| matches!(i.kind, switchboard_compiler::syntax::ast::ItemKind::Test(_)))
                .count();
            outln!("{}: does not compile, so its {tests} test(s) fail", project::display_path(&p.root));
            failed += tests.max(1);
            continue;
        }
        let bundle = Arc::new(codegen::compile(&checked, &loader)?);
        let outcomes = testing::run_all(&checked, &bundle, filter, &Options { record: replay, ..Options::default() });
        let again = roundtrip
            .then(|| testing::run_all(&checked, &bundle, filter, &Options { roundtrip: true, ..Options::default() }));
        for (i, o) in outcomes.iter().enumerate() {
            let mut failure = o.failure.clone();
            if let Some(again) = &again {
                if failure.is_none() && again[i].events != o.events {
                    failure = Some(
                        "the transcript changed when the engine's whole state was saved and restored after every step"
                            .into(),
                    );
                }
            }
            report(o, failure.as_deref());
            if failure.is_none() {
                passed += 1;
            } else {
                failed += 1;
            }
        }
    }
    outln!("{passed} passed, {failed} failed");
    Ok(if failed > 0 { ExitCode::from(EXIT_FAILED) } else { ExitCode::SUCCESS })
}

fn report(o: &TestOutcome, failure: Option<&str>) {
    match failure {
        None => outln!("ok    {}  ({}:{})", o.name, o.file, o.line),
        Some(why) => {
            outln!("FAIL  {}  ({}:{})", o.name, o.file, o.line);
            for line in why.lines() {
                outln!("      {line}");
            }
        }
    }
}
