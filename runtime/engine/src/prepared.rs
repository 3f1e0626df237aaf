//! What the engine derives from its bundle once, so that every contact shares it instead
//! of building it again: which entry answers an address, the texts a contact on that entry
//! starts with, the names the transcript gives flows, queues and sources, and the VM's
//! tables (hours, regexes). A run borrows all of it through one `Arc<Prepared>`.

use super::events::Text;
use crate::country_of;
use jiff::Timestamp;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;
use switchboard_bytecode::bytecode::{Bundle, FlowId};
use switchboard_bytecode::normalize::{is_e164, normalize_phone};
use switchboard_bytecode::types::Channel;
use switchboard_bytecode::value::Value;
use switchboard_vm::{Contact, Tables};

/// Everything a run reads and nothing changes: the bundle and what is derived from it.
#[derive(Debug)]
pub(super) struct Prepared {
    pub bundle: Arc<Bundle>,
    /// The bundle's entries, by channel and address.
    pub entries: Entries,
    pub names: Names,
    /// The bundle's hours and regexes, lent to every run.
    pub tables: Tables,
    /// Texts most contacts start with: "" and `en`.
    pub empty: Arc<str>,
    pub english: Arc<str>,
}

impl Prepared {
    pub fn new(bundle: Arc<Bundle>) -> Prepared {
        Prepared {
            entries: Entries::new(&bundle),
            names: Names::new(&bundle),
            tables: Tables::new(&bundle),
            empty: Arc::from(""),
            english: Arc::from("en"),
            bundle,
        }
    }

    /// A contact with no one on the line, for what runs without one (a `fn`, an
    /// announcement, a retry strategy's step).
    pub fn nobody(&self, id: Arc<str>, now: Timestamp) -> Contact {
        Contact {
            id,
            channel: Channel::Voice,
            from: Value::None,
            to: self.empty.clone(),
            text: self.empty.clone(),
            subject: self.empty.clone(),
            language: self.english.clone(),
            country: self.empty.clone(),
            started_at: now,
            attributes: BTreeMap::new(),
        }
    }
}

/// One `entry` line, ready for the contacts it answers.
#[derive(Debug)]
pub(super) struct Entry {
    pub flow: FlowId,
    /// The address as entries store it (E.164, lower case).
    pub address: Arc<str>,
    /// The country of the address (`country_of`).
    pub country: Arc<str>,
    /// The country answers on this entry are read in (`ask x: phone`, `ask x: date`):
    /// its own; for an entry without one (a web chat), the one country its flow's numbers
    /// are in, else the one the project's numbers are in.
    pub answers_country: Option<Arc<str>>,
}

/// The bundle's entries by channel and address.
#[derive(Debug)]
pub(super) struct Entries {
    entries: Vec<Entry>,
    /// By channel (`Channel as usize`): each address and the first entry holding it,
    /// sorted by address (a handful of entries: a binary search beats hashing).
    by_address: [Vec<(Arc<str>, usize)>; Channel::ALL.len()],
    /// By channel: how many entries it has.
    count: [usize; Channel::ALL.len()],
    /// By channel: its first entry.
    first: [Option<usize>; Channel::ALL.len()],
}

impl Entries {
    pub fn new(bundle: &Bundle) -> Entries {
        let mut entries = Vec::with_capacity(bundle.entries.len());
        let mut by_address: [Vec<(Arc<str>, usize)>; Channel::ALL.len()] = Default::default();
        let mut count = [0; Channel::ALL.len()];
        let mut first = [None; Channel::ALL.len()];
        for (i, e) in bundle.entries.iter().enumerate() {
            let address: Arc<str> = Arc::from(e.address.as_str());
            let channel = e.channel as usize;
            if let Err(at) = by_address[channel].binary_search_by(|(a, _)| a.cmp(&address)) {
                by_address[channel].insert(at, (address.clone(), i));
            }
            count[channel] += 1;
            first[channel].get_or_insert(i);
            let country = Arc::from(country_of(&address));
            entries.push(Entry { flow: e.flow, country, address, answers_country: None });
        }
        // The one country of the entries `among` picks, if they have one between them.
        let only_country = |among: &dyn Fn(&Entry) -> bool| {
            let mut countries = entries.iter().filter(|e| among(e)).map(|e| &e.country).filter(|c| !c.is_empty());
            countries.next().filter(|first| countries.all(|c| c == *first)).cloned()
        };
        let project = only_country(&|_| true);
        let answers: Vec<Option<Arc<str>>> = entries
            .iter()
            .map(|e| match &e.country {
                own if !own.is_empty() => Some(own.clone()),
                _ => only_country(&|other| other.flow == e.flow).or_else(|| project.clone()),
            })
            .collect();
        for (e, country) in entries.iter_mut().zip(answers) {
            e.answers_country = country;
        }
        Entries { entries, by_address, count, first }
    }

    /// The country answers are read in on the entry for `channel` and `address`.
    pub fn answers_country(&self, channel: Channel, address: &str) -> Option<&str> {
        self.find(channel, Some(address)).ok().flatten()?.answers_country.as_deref()
    }

    /// The entry answering a contact on `channel` addressed to `to`. `Ok(None)`: the
    /// channel has no entry at all. Without `to`, the channel's only entry answers.
    pub fn find(&self, channel: Channel, to: Option<&str>) -> Result<Option<&Entry>, String> {
        let c = channel as usize;
        let found = match to {
            Some(to) => {
                let key = address_key(channel, to);
                match self.by_address[c].binary_search_by(|(a, _)| (**a).cmp(&*key)) {
                    Ok(at) => Some(self.by_address[c][at].1),
                    Err(_) if self.count[c] > 0 => return Err(format!("no {channel} entry answers {to}")),
                    Err(_) => None,
                }
            }
            None if self.count[c] > 1 => return Err(format!("several {channel} entries: say which with `to`")),
            None => self.first[c],
        };
        Ok(found.map(|i| &self.entries[i]))
    }
}

/// An address as entries store it: E.164 for voice and SMS (as written when it is not a
/// number), lower case otherwise.
pub fn address_key(channel: Channel, address: &str) -> Cow<'_, str> {
    match channel {
        Channel::Voice | Channel::Sms if is_e164(address) => Cow::Borrowed(address),
        Channel::Voice | Channel::Sms => {
            Cow::Owned(normalize_phone(address, None).unwrap_or_else(|| address.trim().to_string()))
        }
        _ => {
            let trimmed = address.trim();
            if trimmed.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()) {
                Cow::Borrowed(trimmed)
            } else {
                Cow::Owned(trimmed.to_lowercase())
            }
        }
    }
}

/// The bundle's names as the transcript writes them, by id.
#[derive(Debug)]
pub(super) struct Names {
    pub flows: Vec<Text>,
    pub queues: Vec<Text>,
    pub sources: Vec<Text>,
}

impl Names {
    pub fn new(bundle: &Bundle) -> Names {
        let names = |names: &mut dyn Iterator<Item = &String>| names.map(|n| Text::from(n.as_str())).collect();
        Names {
            flows: names(&mut bundle.flows.iter().map(|f| &f.name)),
            queues: names(&mut bundle.queues.iter().map(|q| &q.name)),
            sources: names(&mut bundle.sources.iter().map(|s| &s.name)),
        }
    }
}
