//! A source read from a CSV file (`csv "data/customers.csv"`), the embedded default.
//!
//! The first line names the columns. Every field that must have a value needs a column;
//! an optional field without one is none in every row; columns no field names are ignored.
//! The whole file is read and checked when the source is loaded, so a bad cell is reported
//! before the first customer arrives, naming its row (the line in the file) and column.
//! The rules (`switchboard_bytecode::cell`) are the ones `switchboard check` applies, and
//! its messages are the same.

use super::cell::read_csv;
use super::matching::{with_key_probes, Table};
use super::schema::SourceSpec;
use super::{Source, SourceError};
use std::sync::Arc;
use switchboard_bytecode::value::{Record, Value};

#[derive(Debug)]
pub struct CsvSource {
    table: Table,
}

impl CsvSource {
    /// Reads and indexes the whole of `bytes` (UTF-8 CSV with a header line), as the one
    /// cell reader (`cell::read_csv`) reads it for `check` too. The first problem found is
    /// the error.
    pub fn load(spec: &SourceSpec, bytes: &[u8]) -> Result<CsvSource, SourceError> {
        spec.check()?;
        let records = read_csv(&spec.schema, spec.currency, bytes, 1)
            .map_err(|refused| SourceError::from_read(&spec.name, refused.first().clone()))?;
        Ok(CsvSource { table: Table::new(&spec.keys, records) })
    }

    /// How many rows the file holds.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.len() == 0
    }
}

impl Source for CsvSource {
    fn lookup(&self, key: &Value) -> Result<Option<Arc<Record>>, SourceError> {
        Ok(with_key_probes(key, |probes| self.table.find(probes)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::tests::{crm, warranties};
    use switchboard_bytecode::value::{Currency, Money};

    /// `data/customers.csv` from the acme sample project.
    const CUSTOMERS: &str = "\
id,name,phone,email,handle,tier,language,country,last_agent,balance
c1,Ann Baker,+447700900001,ann@example.com,@annb,gold,en,GB,agent-7,0.00
c2,Bo Lind,+46700900002,bo@example.com,,standard,en,SE,,0.00
c3,Sam Ortiz,+447700900003,sam@example.org,,standard,es,GB,,250.00
c4,Lee Chan,+447700900004,,,standard,en,GB,,0.00
c9,Raj Kumar,+447700900009,raj@example.org,@raj_k,platinum,en,GB,agent-2,0.00
";

    /// `data/warranties.csv` from the acme sample project.
    const WARRANTIES: &str = "\
customer_id,product,active
c2,Kettle Pro,true
c3,Toaster 2,false
";

    fn customers() -> CsvSource {
        CsvSource::load(&crm(), CUSTOMERS.as_bytes()).unwrap()
    }

    fn id_of(source: &CsvSource, key: Value) -> Option<String> {
        source.lookup(&key).unwrap().map(|r| r.get("id").unwrap().to_string())
    }

    fn phone(p: &str) -> Value {
        Value::Phone(Arc::from(p))
    }

    #[test]
    fn acme_customers_load_as_typed_records() {
        let source = customers();
        assert_eq!(source.len(), 5);
        let ann = source.lookup(&phone("+447700900001")).unwrap().unwrap();
        let expected = Record {
            type_name: Arc::from("Customer"),
            fields: vec![
                (Arc::from("id"), Value::text("c1")),
                (Arc::from("name"), Value::text("Ann Baker")),
                (Arc::from("phone"), phone("+447700900001")),
                (Arc::from("email"), Value::Email(Arc::from("ann@example.com"))),
                (Arc::from("handle"), Value::text("@annb")),
                (Arc::from("tier"), Value::Enum(Arc::from("gold"))),
                (Arc::from("language"), Value::text("en")),
                (Arc::from("country"), Value::text("GB")),
                (Arc::from("last_agent"), Value::Agent(Arc::from("agent-7"))),
                (Arc::from("balance"), Value::Money(Money { minor: 0, currency: Currency::GBP })),
            ],
        };
        assert_eq!(*ann, expected);
        let sam = source.lookup(&Value::Email(Arc::from("sam@example.org"))).unwrap().unwrap();
        assert_eq!(sam.get("balance"), Some(&Value::Money(Money { minor: 25_000, currency: Currency::GBP })));
        assert_eq!(sam.get("handle"), Some(&Value::None));
        assert_eq!(sam.get("last_agent"), Some(&Value::None));
        let lee = source.lookup(&phone("+447700900004")).unwrap().unwrap();
        assert_eq!(lee.get("email"), Some(&Value::None));
    }

    #[test]
    fn keys_match_by_their_kind() {
        let source = customers();
        let cases: Vec<(Value, Option<&str>)> = vec![
            (phone("+447700900001"), Some("c1")),
            (phone("+46700900002"), Some("c2")),
            (phone("+447700900099"), None),
            (Value::Email(Arc::from("raj@example.org")), Some("c9")),
            (Value::Email(Arc::from("nobody@example.org")), None),
            // The `from` of a chat, SMS or social contact is text.
            (Value::text("+44 7700 900003"), Some("c3")),
            (Value::text("0044 7700 900009"), Some("c9")),
            (Value::text("Bo@Example.com"), Some("c2")),
            (Value::text("@annb"), Some("c1")),
            (Value::text("@ANNB"), Some("c1")),
            (Value::text(" @Raj_K "), Some("c9")),
            (Value::text("annb"), None),
            (Value::text("@nobody"), None),
            // `id` is not a key of crm, and a phone key never meets an email field.
            (Value::text("c1"), None),
            (Value::None, None),
        ];
        for (key, expected) in cases {
            assert_eq!(id_of(&source, key.clone()).as_deref(), expected, "{key:?}");
        }
    }

    #[test]
    fn the_first_row_in_the_file_wins() {
        let csv = format!("{CUSTOMERS}c10,Ann Again,+447700900001,ann@example.com,@annb,standard,en,GB,,0.00\n");
        let source = CsvSource::load(&crm(), csv.as_bytes()).unwrap();
        assert_eq!(id_of(&source, phone("+447700900001")).as_deref(), Some("c1"));
        assert_eq!(id_of(&source, Value::text("@AnnB")).as_deref(), Some("c1"));
    }

    #[test]
    fn acme_warranties_match_by_exact_text() {
        let source = CsvSource::load(&warranties(), WARRANTIES.as_bytes()).unwrap();
        let c2 = source.lookup(&Value::text("c2")).unwrap().unwrap();
        assert_eq!(c2.get("product"), Some(&Value::text("Kettle Pro")));
        assert_eq!(c2.get("active"), Some(&Value::Bool(true)));
        assert_eq!(source.lookup(&Value::text("c3")).unwrap().unwrap().get("active"), Some(&Value::Bool(false)));
        assert_eq!(source.lookup(&Value::text("C2")).unwrap(), None, "text keys are exact");
        assert_eq!(source.lookup(&Value::text("c1")).unwrap(), None);
    }

    #[test]
    fn columns_may_come_in_any_order_with_extras_and_without_optional_fields() {
        let csv = "notes,Balance,tier,country,language,name,id\n\
                   likes tea,£12.50,gold,GB,en,Ann,c1\n";
        let mut spec = crm();
        spec.keys = vec!["id".into()];
        let source = CsvSource::load(&spec, csv.as_bytes()).unwrap();
        let ann = source.lookup(&Value::text("c1")).unwrap().unwrap();
        assert_eq!(ann.get("balance"), Some(&Value::Money(Money { minor: 1_250, currency: Currency::GBP })));
        assert_eq!(ann.get("phone"), Some(&Value::None));
        assert_eq!(ann.fields.len(), 10);
    }

    #[test]
    fn a_byte_order_mark_and_crlf_lines_are_fine() {
        let csv = format!("\u{feff}{}", WARRANTIES.replace('\n', "\r\n"));
        let source = CsvSource::load(&warranties(), csv.as_bytes()).unwrap();
        assert_eq!(source.len(), 2);
        assert!(source.lookup(&Value::text("c3")).unwrap().is_some());
    }

    #[test]
    fn bad_data_is_reported_by_row_and_column() {
        let header = "id,name,phone,email,handle,tier,language,country,last_agent,balance\n";
        let cases: Vec<(String, &str)> = vec![
            (
                "id,name,phone,email\nc1,Ann,+447700900001,ann@example.com\n".to_string(),
                "source `crm`: the data has no columns `tier`, `language`, `country`, `balance`",
            ),
            (
                "id,name,tier,language,country\n".to_string(),
                "source `crm`: the data has no column `balance`",
            ),
            (String::new(), "source `crm`: the data has no columns `id`, `name`, `tier`, `language`, `country`, `balance`"),
            (
                format!("{header}c1,Ann,+447700900001,,,diamond,en,GB,,0\n"),
                "source `crm`, row 2, column `tier`: `diamond` is not a `Tier`; expected one of standard, gold, platinum",
            ),
            (
                format!("{header}c1,Ann,,,,gold,en,GB,,0\nc2,Bo,,,,gold,en,GB,,£ten\n"),
                "source `crm`, row 3, column `balance`: `£ten` is not an amount of money",
            ),
            (
                format!("{header}c1,Ann,,,,gold,en,GB,,$5\n"),
                "source `crm`, row 2, column `balance`: `$5` is in USD, but the project's currency is GBP",
            ),
            (
                format!("{header}c1,Ann,,,,,en,GB,,0\n"),
                "source `crm`, row 2, column `tier`: empty, but `tier` must have a value",
            ),
            (
                format!("{header}c1,Ann,,,,gold,en,GB,,\n"),
                "source `crm`, row 2, column `balance`: empty, but `balance` must have a value",
            ),
            (
                format!("{header}c1,Ann,,,,gold,en,GB,,0\nc2,\"Bo,,,,gold,en,GB,,0\n"),
                "source `crm`, row 3: a quoted cell is never closed (a `\"` is missing)",
            ),
            (
                format!("{header}c1,Ann,07700 900001,,,gold,en,GB,,0\n"),
                "source `crm`, row 2, column `phone`: `07700 900001` is not a phone number in international form, like +447700900001",
            ),
            (
                format!("{header}c1,Ann,,ann@,,gold,en,GB,,0\n"),
                "source `crm`, row 2, column `email`: `ann@` is not an email address",
            ),
            (
                format!("{header}c1,Ann,,,,gold,en,GB,,0\nc2,Bo,,,,gold,en\n"),
                "source `crm`, row 3: 7 cells, but the header names 10 columns",
            ),
            (
                "id,name,name,tier,language,country,balance\n".to_string(),
                "source `crm`: the data has 2 columns for field `name`",
            ),
        ];
        for (csv, expected) in cases {
            let err = CsvSource::load(&crm(), csv.as_bytes()).expect_err(expected);
            assert_eq!(err.to_string(), expected);
        }
    }

    #[test]
    fn a_blank_cell_in_a_required_text_field_is_the_empty_text() {
        let header = "id,name,phone,email,handle,tier,language,country,last_agent,balance\n";
        let csv = format!("{header}c1,  ,+447700900001,,,gold,,GB,,0\n");
        let source = CsvSource::load(&crm(), csv.as_bytes()).unwrap();
        let row = source.lookup(&phone("+447700900001")).unwrap().unwrap();
        assert_eq!(row.get("name"), Some(&Value::text("")));
        assert_eq!(row.get("language"), Some(&Value::text("")));
        assert_eq!(row.get("handle"), Some(&Value::None), "an optional text field is none");
    }

    #[test]
    fn quoted_cells_may_hold_commas_and_line_breaks() {
        let csv = "customer_id,product,active\n\"c5\",\"Kettle, Pro\nEdition\",yes\nc6,Toaster,no\n";
        let source = CsvSource::load(&warranties(), csv.as_bytes()).unwrap();
        let c5 = source.lookup(&Value::text("c5")).unwrap().unwrap();
        assert_eq!(c5.get("product"), Some(&Value::text("Kettle, Pro\nEdition")));
        let bad = "customer_id,product,active\n\"c5\",\"Kettle\nPro\",yes\nc6,Toaster,perhaps\n";
        let err = CsvSource::load(&warranties(), bad.as_bytes()).unwrap_err();
        assert_eq!(err.to_string(), "source `warranties`, row 4, column `active`: `perhaps` is not yes or no");
    }

    #[test]
    fn text_that_is_not_utf8_is_reported() {
        let mut bytes = b"customer_id,product,active\nc1,".to_vec();
        bytes.extend_from_slice(&[0xff, 0xfe]);
        bytes.extend_from_slice(b",true\n");
        let err = CsvSource::load(&warranties(), &bytes).unwrap_err();
        assert_eq!(err.to_string(), "source `warranties`, row 2: not UTF-8 text");
    }
}
