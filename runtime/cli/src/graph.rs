//! `switchboard graph`: a flow drawn as SVG, DOT or Mermaid, with what contacts did in it
//! when a daemon's data folder is given.

use super::build::{compile, Compiled};
use super::output;
use super::EXIT_FAILED;
use std::path::Path;
use std::process::ExitCode;
use switchboard_compiler::graph::{Counts, FlowGraph};
use switchboard_compiler::syntax::ast::ItemKind;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Svg,
    Dot,
    Mermaid,
}

pub fn run(path: &Path, flow: Option<&str>, format: Format, data: Option<&Path>) -> Result<ExitCode, String> {
    let Some(Compiled { checked, bundle, .. }) = compile(path)? else { return Ok(ExitCode::from(EXIT_FAILED)) };
    // The project's own flows (module 0), with the file each is in.
    let mut flows = Vec::new();
    for (file, ast) in checked.module_files(0) {
        for item in &ast.items {
            if let ItemKind::Flow(f) = &item.kind {
                flows.push((f, &checked.files[file.0 as usize]));
            }
        }
    }
    let names = || flows.iter().map(|(f, _)| format!("`{}`", f.name.name)).collect::<Vec<_>>().join(", ");
    let chosen = match (flow, flows.len()) {
        (_, 0) => return Err("the project has no flow to draw".to_string()),
        (None, 1) => &flows[0],
        (None, _) => return Err(format!("the project has several flows: name one with --flow ({})", names())),
        (Some(name), _) => match flows.iter().find(|(f, _)| f.name.name == name) {
            Some(found) => found,
            None => return Err(format!("the project has no flow `{name}` (it has {})", names())),
        },
    };
    let (decl, file) = chosen;
    let mut graph = FlowGraph::of(decl, &file.path, &file.text);
    if let Some(data) = data {
        let reader = switchboard_daemon::store::Reader::open(data).map_err(|e| e.to_string())?;
        let origins = reader.event_origins().map_err(|e| e.to_string())?;
        let mut counts = Counts::default();
        let mut path = Vec::new();
        let mut session = None;
        for (s, f, start) in origins {
            if session != Some(s) {
                counts.add_path(&path);
                path.clear();
                session = Some(s);
            }
            if let Some(name) = bundle.files.get(f as usize) {
                path.push((name.clone(), start));
            }
        }
        counts.add_path(&path);
        graph.counts(&counts);
    }
    output::print(&match format {
        Format::Svg => graph.to_svg(),
        Format::Dot => graph.to_dot(),
        Format::Mermaid => graph.to_mermaid(),
    });
    Ok(ExitCode::SUCCESS)
}
