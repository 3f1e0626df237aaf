//! A source that holds its rows in memory: what a test's `given` lines fill.
//!
//! It is a real source, indexed and matched like a CSV file, not a mock.

use super::matching::{with_key_probes, Table};
use super::schema::SourceSpec;
use super::{Source, SourceError};
use std::sync::Arc;
use switchboard_bytecode::value::{Record, Value};

#[derive(Debug)]
pub struct MemorySource {
    table: Table,
}

impl MemorySource {
    /// A source holding `rows`, first row first. The rows are the engine's records of the
    /// source's type; a field a row does not have reads as none and matches nothing.
    pub fn new(spec: &SourceSpec, rows: Vec<Arc<Record>>) -> MemorySource {
        MemorySource { table: Table::new(&spec.keys, rows) }
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.len() == 0
    }
}

impl Source for MemorySource {
    fn lookup(&self, key: &Value) -> Result<Option<Arc<Record>>, SourceError> {
        Ok(with_key_probes(key, |probes| self.table.find(probes)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::tests::crm;

    fn given(fields: &[(&str, Value)]) -> Arc<Record> {
        Arc::new(Record {
            type_name: Arc::from("Customer"),
            fields: fields.iter().map(|(name, value)| (Arc::from(*name), value.clone())).collect(),
        })
    }

    #[test]
    fn given_rows_are_found_by_any_key() {
        let source = MemorySource::new(
            &crm(),
            vec![
                given(&[
                    ("id", Value::text("c1")),
                    ("name", Value::text("Ann")),
                    ("phone", Value::Phone(Arc::from("+447700900001"))),
                    ("handle", Value::text("@annb")),
                ]),
                given(&[("id", Value::text("c2")), ("email", Value::Email(Arc::from("bo@example.com")))]),
            ],
        );
        let id = |key: Value| source.lookup(&key).unwrap().map(|r| r.get("id").cloned().unwrap());
        assert_eq!(id(Value::Phone(Arc::from("+447700900001"))), Some(Value::text("c1")));
        assert_eq!(id(Value::text("+44 7700 900001")), Some(Value::text("c1")));
        assert_eq!(id(Value::text("@AnnB")), Some(Value::text("c1")));
        assert_eq!(id(Value::Email(Arc::from("bo@example.com"))), Some(Value::text("c2")));
        assert_eq!(id(Value::text("BO@example.com")), Some(Value::text("c2")));
        assert_eq!(id(Value::text("c1")), None, "`id` is not a key of crm");
        assert_eq!(source.len(), 2);
    }

    #[test]
    fn a_source_with_no_given_rows_misses_every_look_up() {
        let source = MemorySource::new(&crm(), Vec::new());
        assert!(source.is_empty());
        assert_eq!(source.lookup(&Value::Phone(Arc::from("+447700900001"))), Ok(None));
    }
}
