//! `switchboard staff`: agents needed for a workload, by Erlang C (or Erlang A).

use super::output;
use std::process::ExitCode;
use switchboard_planning::staffing::{self, StaffingRequest};

/// What `staff` prints: it has no diagnostics, so none of `check`'s GitHub or SARIF forms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
}

pub struct Args<'a> {
    pub rate: &'a str,
    pub aht: &'a str,
    pub target: &'a str,
    pub shrinkage: Option<&'a str>,
    pub max_occupancy: Option<&'a str>,
    pub patience: Option<&'a str>,
    pub format: Format,
}

pub fn run(a: Args<'_>) -> Result<ExitCode, String> {
    let err = |e: staffing::StaffingError| e.to_string();
    let request = StaffingRequest {
        rate: staffing::parse_rate(a.rate).map_err(err)?,
        aht_seconds: staffing::parse_aht(a.aht).map_err(err)?,
        target: staffing::parse_target(a.target).map_err(err)?,
        shrinkage: a.shrinkage.map(staffing::parse_shrinkage).transpose().map_err(err)?,
        max_occupancy: a.max_occupancy.map(staffing::parse_max_occupancy).transpose().map_err(err)?,
        patience_seconds: a.patience.map(staffing::parse_patience).transpose().map_err(err)?,
    };
    let result = staffing::staff(&request).map_err(err)?;
    match a.format {
        Format::Json => outln!("{}", staffing::render_json(&result)),
        Format::Human => output::print(&staffing::render_text(&request, &result)),
    }
    Ok(ExitCode::SUCCESS)
}
