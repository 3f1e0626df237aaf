//! What the VM computes with that is built once per bundle instead of on every use: the
//! bundle's business hours and the regexes of its `matches` conditions. The engine builds
//! the tables when it starts and lends them to every run through [`Host`](super::Host);
//! they are never part of a VM's state.

use super::ops;
use crate::calendar::Hours;
use switchboard_compiler::bytecode::{Bundle, ConstId, HoursId, Instr};

#[derive(Debug, Default)]
pub struct Tables {
    /// By `HoursId`; hours that cannot be built (an unknown zone) keep why.
    hours: Vec<Result<Hours, String>>,
    /// By `ConstId`: the regex of each pattern a `Matches` instruction names.
    regexes: Vec<Option<Result<regex::Regex, String>>>,
}

impl Tables {
    pub fn new(bundle: &Bundle) -> Tables {
        let hours = bundle.hours.iter().map(|h| Hours::new(&h.zone, h.weekly.clone(), h.closed.clone())).collect();
        let mut regexes: Vec<Option<Result<regex::Regex, String>>> = Vec::new();
        for instr in bundle.functions.iter().flat_map(|f| &f.code) {
            let Instr::Matches { regex } = instr else { continue };
            if regexes.len() <= regex.index() {
                regexes.resize_with(regex.index() + 1, || None);
            }
            let slot = &mut regexes[regex.index()];
            if slot.is_none() {
                *slot = Some(ops::regex(&bundle.constant(*regex).display()));
            }
        }
        Tables { hours, regexes }
    }

    /// The hours `id`, if the tables hold them.
    pub fn hours(&self, id: HoursId) -> Option<Result<&Hours, String>> {
        self.hours.get(id.index()).map(|h| h.as_ref().map_err(Clone::clone))
    }

    /// The regex of the pattern constant `id`, if the tables hold it.
    pub fn regex(&self, id: ConstId) -> Option<Result<&regex::Regex, String>> {
        self.regexes.get(id.index())?.as_ref().map(|r| r.as_ref().map_err(Clone::clone))
    }
}
