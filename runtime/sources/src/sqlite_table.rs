//! A source that is one table of a SQLite database, opened read-only.
//!
//! Columns are matched to fields as in a CSV file, and each row found is read with the
//! same cell rules (an `INTEGER` or `REAL` cell reads as its decimal text, `NULL` as an
//! empty cell, so `1`/`0` are yes/no and `250.5` is £250.50). Rows are read when looked up,
//! so a bad cell fails that look-up, naming the row by its `rowid`.
//!
//! Each look-up is one query with the key's normal forms as parameters; table and column
//! names are checked to be plain identifiers before they are quoted into the query, and no
//! value is ever written into SQL text. Key columns are compared as the matching rules
//! say, in SQL: phone and text columns exactly as stored (so an index on them is used;
//! phone columns must hold E.164), email columns and handles ignoring case and surrounding
//! spaces. The first row by `rowid` wins. Key fields may be phone, email, text, agent,
//! number, enum or date.

use super::cell::RowReader;
use super::matching::{key_probes, Probe};
use super::schema::{base_type, SourceSpec};
use super::{Source, SourceError};
use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchboard_bytecode::types::Type;
use switchboard_bytecode::value::{Record, Value};

pub struct SqliteSource {
    name: String,
    connection: Mutex<Connection>,
    rows: RowReader,
    /// `SELECT rowid, "a", "b" FROM "t"`.
    select: String,
    /// The table column each selected column after `rowid` is.
    selected: Vec<usize>,
    column_count: usize,
    keys: Vec<KeyColumn>,
}

#[derive(Debug)]
struct KeyColumn {
    /// Quoted.
    column: String,
    kind: KeyKind,
}

#[derive(Clone, Copy, Debug)]
enum KeyKind {
    Phone,
    Email,
    Text,
    Number,
    Enum,
    Date,
}

impl SqliteSource {
    /// Opens `table` in the database at `path` for look-ups as `spec` declares them.
    pub fn open(spec: &SourceSpec, path: impl AsRef<Path>, table: &str) -> Result<SqliteSource, SourceError> {
        spec.check()?;
        let fail = |message: String| SourceError::Schema { source: spec.name.clone(), message };
        let unavailable = |error: rusqlite::Error| SourceError::Unavailable {
            source: spec.name.clone(),
            message: format!("cannot read the database: {error}"),
        };
        let quoted_table = quote(table).ok_or_else(|| fail(format!("`{table}` is not a table name")))?;
        let connection = open_read_only(path.as_ref()).map_err(unavailable)?;
        connection.busy_timeout(Duration::from_millis(spec.timeout_ms.unsigned_abs())).map_err(unavailable)?;
        let columns = table_columns(&connection, table).map_err(unavailable)?;
        if columns.is_empty() {
            return Err(fail(format!("the database has no table `{table}`")));
        }
        let column_names: Vec<&str> = columns.iter().map(String::as_str).collect();
        let rows = RowReader::new(&spec.schema, spec.currency, &column_names)
            .map_err(|error| SourceError::from_read(&spec.name, error))?;
        let selected = rows.columns_used();
        let mut select = String::from("SELECT rowid");
        for &i in &selected {
            let column = quote(&columns[i]).ok_or_else(|| fail(format!("`{}` is not a column name", columns[i])))?;
            select.push_str(", ");
            select.push_str(&column);
        }
        select.push_str(" FROM ");
        select.push_str(&quoted_table);

        let mut keys = Vec::new();
        for key in &spec.keys {
            let field = spec.schema.field(key).expect("checked by SourceSpec::check");
            if matches!(field.ty.unwrap_optional(), Type::List(_)) {
                return Err(fail(format!("key `{key}` is a list; a database key must be one value")));
            }
            let kind = match base_type(&field.ty) {
                Type::Phone => KeyKind::Phone,
                Type::Email => KeyKind::Email,
                Type::Text | Type::Agent => KeyKind::Text,
                Type::Number => KeyKind::Number,
                Type::Enum(_) => KeyKind::Enum,
                Type::Date => KeyKind::Date,
                other => return Err(fail(format!("key `{key}` is of type `{other}`, which a database key cannot be"))),
            };
            // An optional key field without a column matches nothing.
            if let Some(i) = rows.column_of(key) {
                keys.push(KeyColumn { column: quote(&columns[i]).expect("selected columns are identifiers"), kind });
            }
        }
        // Prepare once now, so that a table SQLite cannot query (no `rowid`) fails here.
        connection.prepare(&select).map_err(unavailable)?;
        Ok(SqliteSource {
            name: spec.name.clone(),
            connection: Mutex::new(connection),
            rows,
            select,
            selected,
            column_count: columns.len(),
            keys,
        })
    }

    fn query(&self, key: &Value) -> Result<Option<Arc<Record>>, SourceError> {
        let mut conditions = Vec::new();
        let mut params: Vec<SqlValue> = Vec::new();
        for probe in key_probes(key) {
            for key in &self.keys {
                let (condition, param) = match (key.kind, &probe) {
                    (KeyKind::Phone, Probe::Phone(phone)) => ("{} = ?", SqlValue::Text(phone.to_string())),
                    (KeyKind::Email, Probe::Email(email)) => ("lower(trim({})) = ?", SqlValue::Text(email.to_string())),
                    (KeyKind::Text, Probe::Text(text)) => ("{} = ?", SqlValue::Text(text.to_string())),
                    (KeyKind::Text, Probe::Handle(handle)) => {
                        ("lower(trim({})) = ?", SqlValue::Text(handle.to_string()))
                    }
                    (KeyKind::Number, Probe::Other("number", n)) => match n.parse::<f64>() {
                        Ok(n) => ("{} = ?", SqlValue::Real(n)),
                        Err(_) => continue,
                    },
                    (KeyKind::Enum, Probe::Other("enum", variant)) => {
                        ("trim({}) = ? COLLATE NOCASE", SqlValue::Text(variant.to_string()))
                    }
                    (KeyKind::Date, Probe::Other("date", date)) => ("trim({}) = ?", SqlValue::Text(date.to_string())),
                    _ => continue,
                };
                conditions.push(format!("({})", condition.replace("{}", &key.column)));
                params.push(param);
            }
        }
        if conditions.is_empty() {
            return Ok(None);
        }
        let sql = format!("{} WHERE {} ORDER BY rowid LIMIT 1", self.select, conditions.join(" OR "));
        let unavailable = |error: rusqlite::Error| SourceError::Unavailable {
            source: self.name.clone(),
            message: format!("the look-up failed: {error}"),
        };
        let connection = self.connection.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut statement = connection.prepare_cached(&sql).map_err(unavailable)?;
        let mut found = statement.query(rusqlite::params_from_iter(params)).map_err(unavailable)?;
        let Some(row) = found.next().map_err(unavailable)? else { return Ok(None) };
        let rowid: i64 = row.get(0).map_err(unavailable)?;
        let rowid = u64::try_from(rowid).unwrap_or(0);
        let mut cells: Vec<Option<String>> = vec![None; self.column_count];
        for (n, &column) in self.selected.iter().enumerate() {
            let cell = match row.get_ref(n + 1).map_err(unavailable)? {
                ValueRef::Null => None,
                ValueRef::Integer(i) => Some(i.to_string()),
                ValueRef::Real(r) => Some(r.to_string()),
                ValueRef::Text(bytes) => match std::str::from_utf8(bytes) {
                    Ok(text) => Some(text.to_string()),
                    Err(_) => {
                        return Err(SourceError::Row {
                            source: self.name.clone(),
                            row: rowid,
                            message: "not UTF-8 text".into(),
                        })
                    }
                },
                ValueRef::Blob(_) => {
                    return Err(SourceError::Row {
                        source: self.name.clone(),
                        row: rowid,
                        message: "a cell holds binary data".into(),
                    })
                }
            };
            cells[column] = cell;
        }
        self.rows
            .read(rowid, |i| cells.get(i).and_then(|c| c.as_deref()))
            .map(Some)
            .map_err(|error| SourceError::from_read(&self.name, error))
    }
}

impl Source for SqliteSource {
    fn lookup(&self, key: &Value) -> Result<Option<Arc<Record>>, SourceError> {
        self.query(key)
    }

    /// A database can be locked by a writer, or slow on a large table without an index.
    fn may_block(&self) -> bool {
        true
    }
}

impl std::fmt::Debug for SqliteSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteSource").field("name", &self.name).field("select", &self.select).finish_non_exhaustive()
    }
}

fn open_read_only(path: &Path) -> rusqlite::Result<Connection> {
    Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
}

/// The table's column names in order; none when the database has no such table.
fn table_columns(connection: &Connection, table: &str) -> rusqlite::Result<Vec<String>> {
    let mut statement = connection.prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid")?;
    let names = statement.query_map([table], |row| row.get(0))?;
    names.collect()
}

/// The columns of `table` in the database file at `path`, opened read-only as a source
/// opens it: `Ok(None)` when the database has no such table, `Err` when the file cannot be
/// read as a database or the table cannot be queried by `rowid` (a view). This is what
/// `switchboard check` asks (through its loader), to refuse what opening would refuse.
pub fn describe_table(path: &Path, table: &str) -> Result<Option<Vec<String>>, String> {
    let quoted = quote(table).ok_or_else(|| format!("`{table}` is not a table name"))?;
    let connection = open_read_only(path).map_err(|e| format!("cannot read the database: {e}"))?;
    let columns = table_columns(&connection, table).map_err(|e| format!("cannot read the database: {e}"))?;
    if columns.is_empty() {
        return Ok(None);
    }
    connection.prepare(&format!("SELECT rowid FROM {quoted}")).map_err(|e| format!("cannot read the database: {e}"))?;
    Ok(Some(columns))
}

/// `"name"` when `name` is a plain identifier (ASCII letter or `_`, then letters, digits,
/// `_`); `None` otherwise, so nothing else is ever spliced into SQL.
fn quote(name: &str) -> Option<String> {
    let mut chars = name.chars();
    let first = chars.next()?;
    let plain = (first.is_ascii_alphabetic() || first == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    plain.then(|| format!("\"{name}\""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::tests::{crm, warranties};
    use switchboard_bytecode::value::{Currency, Money};

    /// A database file holding the acme customers and warranties.
    fn acme_database() -> tempfile::TempPath {
        let path = tempfile::NamedTempFile::new().unwrap().into_temp_path();
        let db = Connection::open(&path).unwrap();
        db.execute_batch(
            "CREATE TABLE customers (
                id TEXT, name TEXT, phone TEXT, email TEXT, handle TEXT, tier TEXT,
                language TEXT, country TEXT, last_agent TEXT, balance NUMERIC, notes TEXT
            );
            CREATE TABLE warranties (customer_id TEXT, product TEXT, active INTEGER);
            INSERT INTO warranties VALUES ('c2', 'Kettle Pro', 1), ('c3', 'Toaster 2', 0);",
        )
        .unwrap();
        // Balances as text, integer and real: each reads as money.
        db.execute_batch(
            "INSERT INTO customers VALUES
             ('c1', 'Ann Baker', '+447700900001', 'ann@example.com', '@annb', 'gold', 'en', 'GB', 'agent-7', '0.00', NULL),
             ('c2', 'Bo Lind', '+46700900002', 'Bo@Example.com', NULL, 'standard', 'en', 'SE', NULL, 0, NULL),
             ('c3', 'Sam Ortiz', '+447700900003', 'sam@example.org', NULL, 'standard', 'es', 'GB', NULL, 250.0, NULL),
             ('c4', 'Lee Chan', '+447700900004', NULL, NULL, 'standard', 'en', 'GB', NULL, 19.99, 'n/a'),
             ('c9', 'Raj Kumar', '+447700900009', 'raj@example.org', '@raj_k', 'platinum', 'en', 'GB', 'agent-2', '£0', NULL);",
        )
        .unwrap();
        path
    }

    fn id_of(source: &SqliteSource, key: Value) -> Option<String> {
        source.lookup(&key).unwrap().map(|r| r.get("id").unwrap().to_string())
    }

    fn gbp(minor: i64) -> Value {
        Value::Money(Money { minor, currency: Currency::GBP })
    }

    #[test]
    fn rows_round_trip_through_a_database_file() {
        let path = acme_database();
        let source = SqliteSource::open(&crm(), &path, "customers").unwrap();
        assert!(source.may_block());
        let ann = source.lookup(&Value::Phone(Arc::from("+447700900001"))).unwrap().unwrap();
        let csv = crate::CsvSource::load(
            &crm(),
            b"id,name,phone,email,handle,tier,language,country,last_agent,balance\n\
              c1,Ann Baker,+447700900001,ann@example.com,@annb,gold,en,GB,agent-7,0.00\n",
        )
        .unwrap();
        assert_eq!(ann, csv.lookup(&Value::text("@annb")).unwrap().unwrap(), "the same record as from CSV");
        let balance = |key: &str| source.lookup(&Value::text(key)).unwrap().unwrap().get("balance").cloned();
        assert_eq!(balance("+46700900002"), Some(gbp(0)));
        assert_eq!(balance("bo@example.com"), Some(gbp(0)));
        assert_eq!(balance("sam@example.org"), Some(gbp(25_000)));
        assert_eq!(balance("+447700900004"), Some(gbp(1_999)));
        assert_eq!(balance("@raj_k"), Some(gbp(0)));
    }

    #[test]
    fn keys_match_as_in_a_csv_file() {
        let path = acme_database();
        let source = SqliteSource::open(&crm(), &path, "customers").unwrap();
        let cases: Vec<(Value, Option<&str>)> = vec![
            (Value::Phone(Arc::from("+46700900002")), Some("c2")),
            (Value::text("+44 7700 900003"), Some("c3")),
            (Value::Email(Arc::from("bo@example.com")), Some("c2")),
            (Value::text("BO@example.COM"), Some("c2")),
            (Value::text("@AnnB"), Some("c1")),
            (Value::text("@nobody"), None),
            (Value::text("c1"), None),
            (Value::text("' OR 1=1 --"), None),
            (Value::text("\" OR \"\"=\""), None),
            (Value::None, None),
        ];
        for (key, expected) in cases {
            assert_eq!(id_of(&source, key.clone()).as_deref(), expected, "{key:?}");
        }
        let warranties = SqliteSource::open(&warranties(), &path, "warranties").unwrap();
        let c3 = warranties.lookup(&Value::text("c3")).unwrap().unwrap();
        assert_eq!(c3.get("active"), Some(&Value::Bool(false)));
        assert_eq!(warranties.lookup(&Value::text("c2")).unwrap().unwrap().get("active"), Some(&Value::Bool(true)));
    }

    #[test]
    fn the_first_row_by_rowid_wins() {
        let path = acme_database();
        Connection::open(&path)
            .unwrap()
            .execute_batch(
                "INSERT INTO customers VALUES ('c10', 'Ann Again', '+447700900001', NULL, '@AnnB', 'gold', 'en', 'GB', NULL, 0, NULL)",
            )
            .unwrap();
        let source = SqliteSource::open(&crm(), &path, "customers").unwrap();
        assert_eq!(id_of(&source, Value::text("+447700900001")).as_deref(), Some("c1"));
        assert_eq!(id_of(&source, Value::text("@annb")).as_deref(), Some("c1"));
    }

    #[test]
    fn a_bad_cell_fails_its_look_up_by_rowid() {
        let path = acme_database();
        Connection::open(&path)
            .unwrap()
            .execute_batch(
                "INSERT INTO customers VALUES ('c11', 'Kim', '+447700900011', NULL, NULL, 'diamond', 'en', 'GB', NULL, 0, NULL)",
            )
            .unwrap();
        let source = SqliteSource::open(&crm(), &path, "customers").unwrap();
        let err = source.lookup(&Value::text("+447700900011")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "source `crm`, row 6, column `tier`: `diamond` is not a `Tier`; expected one of standard, gold, platinum"
        );
        assert_eq!(id_of(&source, Value::text("+447700900001")).as_deref(), Some("c1"), "other rows still serve");
    }

    #[test]
    fn tables_and_columns_are_checked_when_opened() {
        let path = acme_database();
        let err = |spec: &SourceSpec, table: &str| SqliteSource::open(spec, &path, table).unwrap_err().to_string();
        assert_eq!(
            err(&crm(), "customers; DROP TABLE customers"),
            "source `crm`: `customers; DROP TABLE customers` is not a table name"
        );
        assert_eq!(err(&crm(), "clients"), "source `crm`: the database has no table `clients`");
        assert_eq!(
            err(&crm(), "warranties"),
            "source `crm`: the data has no columns `id`, `name`, `tier`, `language`, `country`, `balance`"
        );
        let mut by_active = warranties();
        by_active.keys = vec!["active".into()];
        assert_eq!(
            err(&by_active, "warranties"),
            "source `warranties`: key `active` is of type `bool`, which a database key cannot be"
        );
        let missing = SqliteSource::open(&crm(), path.with_extension("absent"), "customers").unwrap_err();
        assert!(matches!(missing, SourceError::Unavailable { .. }), "{missing}");
        assert!(SqliteSource::open(&crm(), &path, "customers").is_ok(), "nothing was dropped");
    }
}
