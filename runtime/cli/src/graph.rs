//! `switchboard graph`: a flow drawn as SVG, DOT or Mermaid, with what contacts did in it
//! when a daemon's data folder is given.

use super::build::{compile, Compiled};
use super::output;
use super::EXIT_FAILED;
use std::path::Path;
use std::process::ExitCode;
use switchboard_compiler::graph::{flows_of, Counts};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Svg,
    Dot,
    Mermaid,
}

pub fn run(path: &Path, flow: Option<&str>, format: Format, data: Option<&Path>) -> Result<ExitCode, String> {
    let Some(Compiled { checked, bundle, .. }) = compile(path)? else { return Ok(ExitCode::from(EXIT_FAILED)) };
    let mut flows = flows_of(&checked);
    let names = || flows.iter().map(|f| format!("`{}`", f.flow)).collect::<Vec<_>>().join(", ");
    let chosen = match (flow, flows.len()) {
        (_, 0) => return Err("the project has no flow to draw".to_string()),
        (None, 1) => 0,
        (None, _) => return Err(format!("the project has several flows: name one with --flow ({})", names())),
        (Some(name), _) => match flows.iter().position(|f| f.flow == name) {
            Some(found) => found,
            None => return Err(format!("the project has no flow `{name}` (it has {})", names())),
        },
    };
    let mut graph = flows.swap_remove(chosen);
    if let Some(data) = data {
        let reader = switchboard_daemon::store::Reader::open(data).map_err(|e| e.to_string())?;
        let origins = reader.event_origins().map_err(|e| e.to_string())?;
        let named = origins
            .into_iter()
            .filter_map(|(s, f, start)| bundle.files.get(f as usize).map(|name| (s, (name.clone(), start))));
        graph.counts(&Counts::of_sessions(named));
    }
    output::print(&match format {
        Format::Svg => graph.to_svg(),
        Format::Dot => graph.to_dot(),
        Format::Mermaid => graph.to_mermaid(),
    });
    Ok(ExitCode::SUCCESS)
}
