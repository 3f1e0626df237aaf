//! How a look-up key meets the key fields of a row, and the index that makes it O(1).
//!
//! A key and each key cell become *probes*: normal forms tagged with what they are. A row
//! matches when one of its key cells gives a probe the key gives too. So:
//!
//! - a `phone` key matches phone key fields by E.164;
//! - an `email` key matches email key fields, ignoring case;
//! - a `text` key (the `from` of a chat, SMS or social contact) is tried three ways: as a
//!   phone number (if it normalizes to E.164), as an email address (if it is one), and as
//!   text against text and agent key fields, exactly (after trimming) — except a text that
//!   starts with `@`, a handle, which matches text cells that start with `@`, ignoring case.
//!   Sources know no default region, so only an international number (`+44…`, `0044…`)
//!   is read as a phone; the channel adapter normalizes national numbers before this;
//! - an `agent` key matches text and agent key fields exactly;
//! - any other key (number, enum, date, …) matches key fields holding an equal value;
//! - `none` matches nothing; a list key field matches when any of its items does.
//!
//! When several rows match, the first in the data's order wins.

use super::normalize::{is_e164, normalize_email, normalize_handle, normalize_phone};
use std::collections::HashMap;
use std::sync::Arc;
use switchboard_bytecode::value::{Record, Value};

/// A normalized key, tagged with the kind of key field it can meet.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Probe {
    /// E.164.
    Phone(Arc<str>),
    /// Lower-cased.
    Email(Arc<str>),
    /// Lower-cased with its leading `@`.
    Handle(Arc<str>),
    /// Text or an agent id, trimmed, case kept.
    Text(Arc<str>),
    /// Any other value, by its type and its canonical text.
    Other(&'static str, Arc<str>),
}

/// The probes a look-up key gives; they also are its cache key.
pub(crate) fn key_probes(key: &Value) -> Vec<Probe> {
    match key {
        Value::Text(text) => {
            let text = text.trim();
            let mut probes = Vec::with_capacity(3);
            if let Some(phone) = normalize_phone(text, None) {
                probes.push(Probe::Phone(Arc::from(phone)));
            }
            if let Some(email) = normalize_email(text) {
                probes.push(Probe::Email(Arc::from(email)));
            }
            if text.starts_with('@') {
                probes.extend(normalize_handle(text).map(|h| Probe::Handle(Arc::from(h))));
            } else if !text.is_empty() {
                probes.push(Probe::Text(Arc::from(text)));
            }
            probes
        }
        Value::List(_) | Value::Record(_) | Value::None => Vec::new(),
        other => cell_probes(other),
    }
}

/// Calls `f` with the probes `key` gives (see [`key_probes`]); a key that gives exactly one
/// probe (a phone, an email, …) is probed without building a list.
pub(crate) fn with_key_probes<R>(key: &Value, f: impl FnOnce(&[Probe]) -> R) -> R {
    match key {
        Value::Text(_) | Value::Agent(_) | Value::List(_) | Value::Record(_) | Value::None => f(&key_probes(key)),
        other => match single_probe(other) {
            Some(probe) => f(std::slice::from_ref(&probe)),
            None => f(&key_probes(other)),
        },
    }
}

/// The probes one key cell of a row answers to.
pub(crate) fn cell_probes(value: &Value) -> Vec<Probe> {
    let mut probes = Vec::new();
    push_cell_probes(value, &mut probes);
    probes
}

fn push_cell_probes(value: &Value, probes: &mut Vec<Probe>) {
    match value {
        Value::None | Value::Record(_) => {}
        Value::List(items) => items.iter().for_each(|item| push_cell_probes(item, probes)),
        Value::Text(text) | Value::Agent(text) => {
            let text = text.trim();
            if text.starts_with('@') {
                probes.extend(normalize_handle(text).map(|h| Probe::Handle(Arc::from(h))));
            }
            probes.push(Probe::Text(Arc::from(text)));
        }
        other => probes.extend(single_probe(other)),
    }
}

/// The one probe a cell that is not text, a list, a record or none answers to.
fn single_probe(value: &Value) -> Option<Probe> {
    let probe = match value {
        Value::None | Value::Record(_) | Value::List(_) | Value::Text(_) | Value::Agent(_) => return None,
        Value::Phone(phone) if is_e164(phone) => Probe::Phone(phone.clone()),
        Value::Phone(phone) => Probe::Phone(normalize_phone(phone, None).map_or_else(|| phone.clone(), Arc::from)),
        Value::Email(email) => Probe::Email(Arc::from(normalize_email(email).unwrap_or_else(|| email.to_lowercase()))),
        Value::Number(n) => Probe::Other("number", Arc::from((if *n == 0.0 { 0.0 } else { *n }).to_string())),
        Value::Bool(b) => Probe::Other("bool", Arc::from(b.to_string())),
        Value::Duration(ms) => Probe::Other("duration", Arc::from(ms.to_string())),
        Value::Time(minutes) => Probe::Other("time", Arc::from(minutes.to_string())),
        Value::Date(date) => Probe::Other("date", Arc::from(date.to_string())),
        Value::DateTime(at) => Probe::Other("datetime", Arc::from(at.as_millisecond().to_string())),
        Value::Money(money) => Probe::Other("money", Arc::from(format!("{} {}", money.minor, money.currency.as_str()))),
        Value::Channel(channel) => Probe::Other("channel", Arc::from(channel.as_str())),
        Value::Enum(variant) => Probe::Other("enum", variant.clone()),
    };
    Some(probe)
}

/// Rows in the data's order with an index from every key cell's probes to the first row
/// holding it. One map serves all key fields: a probe carries its kind, and the first row
/// to give a probe is the first row in the data to match it, whichever key field it is in.
#[derive(Debug)]
pub(crate) struct Table {
    rows: Vec<Arc<Record>>,
    index: HashMap<Probe, usize>,
}

impl Table {
    pub(crate) fn new(keys: &[String], rows: Vec<Arc<Record>>) -> Table {
        let mut index = HashMap::new();
        for (i, row) in rows.iter().enumerate() {
            for key in keys {
                let Some(value) = row.get(key) else { continue };
                for probe in cell_probes(value) {
                    index.entry(probe).or_insert(i);
                }
            }
        }
        Table { rows, index }
    }

    pub(crate) fn find(&self, probes: &[Probe]) -> Option<Arc<Record>> {
        let first = probes.iter().filter_map(|probe| self.index.get(probe)).min()?;
        Some(self.rows[*first].clone())
    }

    pub(crate) fn len(&self) -> usize {
        self.rows.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone(p: &str) -> Probe {
        Probe::Phone(Arc::from(p))
    }

    fn text(t: &str) -> Probe {
        Probe::Text(Arc::from(t))
    }

    #[test]
    fn a_text_key_is_tried_every_way_it_can_be_read() {
        assert_eq!(
            key_probes(&Value::text(" +44 7700 900001 ")),
            vec![phone("+447700900001"), text("+44 7700 900001")]
        );
        assert_eq!(
            key_probes(&Value::text("Ann@Example.com")),
            vec![Probe::Email(Arc::from("ann@example.com")), text("Ann@Example.com")]
        );
        assert_eq!(key_probes(&Value::text("@AnnB")), vec![Probe::Handle(Arc::from("@annb"))]);
        assert_eq!(key_probes(&Value::text("c1")), vec![text("c1")]);
        assert_eq!(key_probes(&Value::text("  ")), vec![]);
    }

    #[test]
    fn typed_keys_meet_only_their_own_kind() {
        assert_eq!(key_probes(&Value::Phone(Arc::from("+447700900001"))), vec![phone("+447700900001")]);
        assert_eq!(
            key_probes(&Value::Email(Arc::from("bo@example.com"))),
            vec![Probe::Email(Arc::from("bo@example.com"))]
        );
        assert_eq!(key_probes(&Value::Agent(Arc::from("agent-7"))), vec![text("agent-7")]);
        assert_eq!(key_probes(&Value::Number(-0.0)), key_probes(&Value::Number(0.0)));
        assert_ne!(key_probes(&Value::Number(1.0)), key_probes(&Value::text("1")));
        assert_eq!(key_probes(&Value::None), vec![]);
    }

    #[test]
    fn a_key_is_probed_the_same_with_or_without_a_list() {
        let keys = [
            Value::Phone(Arc::from("+447700900001")),
            Value::Phone(Arc::from("+44 7700 900001")),
            Value::Email(Arc::from("Bo@Example.com")),
            Value::Agent(Arc::from("@agent")),
            Value::text(" +44 7700 900001 "),
            Value::Number(-0.0),
            Value::Enum(Arc::from("gold")),
            Value::None,
        ];
        for key in keys {
            assert_eq!(with_key_probes(&key, <[Probe]>::to_vec), key_probes(&key), "{key:?}");
        }
    }

    #[test]
    fn the_first_matching_row_wins_across_key_fields() {
        let row = |id: &str, phone: &str, alt: &str| {
            Arc::new(Record {
                type_name: Arc::from("R"),
                fields: vec![
                    (Arc::from("id"), Value::text(id)),
                    (Arc::from("phone"), Value::Phone(Arc::from(phone))),
                    (Arc::from("alt"), Value::text(alt)),
                ],
            })
        };
        let table = Table::new(
            &["phone".into(), "alt".into()],
            vec![row("r1", "+15550000001", "+447700900001"), row("r2", "+447700900001", "x")],
        );
        let found = table.find(&key_probes(&Value::text("+447700900001"))).unwrap();
        assert_eq!(found.get("id"), Some(&Value::text("r1")));
        let found = table.find(&key_probes(&Value::Phone(Arc::from("+447700900001")))).unwrap();
        assert_eq!(found.get("id"), Some(&Value::text("r2")));
        assert_eq!(table.find(&key_probes(&Value::text("nobody"))), None);
        assert_eq!(table.len(), 2);
    }
}
