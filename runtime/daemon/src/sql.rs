//! `sql` sources: `sql "select * from customers where phone = {key}"`, on PostgreSQL, MySQL
//! or SQLite through sqlx, the database named by `[sources.NAME] url` in `switchboard.toml`.
//!
//! **The key.** `{key}` in the query (one or more times, never inside quotes) is where the
//! look-up's key goes. It is *bound* as a parameter (`$1` on PostgreSQL, `?` on MySQL, `?1`
//! on SQLite), never written into the query, so no key can change what the query does. It
//! is bound as text: a phone as E.164 (`+447700900001`), an email address as written, other
//! values as they print. Compare case-insensitively or cast in the query where the column
//! needs it (`lower(email) = lower({key})`, `id = {key}::int`).
//!
//! **The answer.** The first row the query gives is the record; no row is no match. Columns
//! are matched to the record's fields by name, like a CSV file's header, and read with the
//! same cell rules (`null` is an empty cell; extra columns are ignored; a missing column is
//! an error unless its field is optional). On PostgreSQL the row is read as JSON
//! (`to_jsonb`), so every column type has a text form; on MySQL and SQLite, text, numbers
//! and booleans are read (cast dates to text in the query: `CAST(d AS CHAR)`).
//!
//! **Time.** The source's `timeout` bounds each look-up, from waiting for a connection to
//! the last byte; a database that does not answer fails the look-up (`lookup … timed out`)
//! and never holds up another contact: look-ups run on their own threads and the query on
//! this module's own runtime. One pool per `[sources.NAME]` is shared by every bundle that
//! declares the source.

use crate::config::Secret;
use sqlx::{Column, Row, TypeInfo, ValueRef};
use std::sync::Arc;
use std::time::Duration;
use switchboard_bytecode::value::{Record, Value};
use switchboard_sources::cell::RowReader;
use switchboard_sources::http::{key_text, record_from_json};
use switchboard_sources::{Source, SourceError, SourceSpec};

/// A pool of connections to one database.
#[derive(Clone)]
pub enum Pool {
    Postgres(sqlx::PgPool),
    MySql(sqlx::MySqlPool),
    Sqlite(sqlx::SqlitePool),
}

impl Pool {
    /// A pool for `url` that connects when first used. Must be called inside the runtime
    /// that will drive it (its upkeep runs there).
    pub fn connect_lazy(url: &Secret, max_connections: u32) -> Result<Pool, String> {
        let url = url.expose();
        let scheme = url.split(':').next().unwrap_or("");
        // sqlx's message may quote the URL, and with it a password: say only what is wrong.
        let bad = |e: sqlx::Error| format!("the {scheme} url cannot be used: {}", without_url(&e.to_string(), url));
        let max = max_connections.max(1);
        Ok(match scheme {
            "postgres" | "postgresql" => Pool::Postgres(
                sqlx::postgres::PgPoolOptions::new().max_connections(max).connect_lazy(url).map_err(bad)?,
            ),
            "mysql" | "mariadb" => {
                Pool::MySql(sqlx::mysql::MySqlPoolOptions::new().max_connections(max).connect_lazy(url).map_err(bad)?)
            }
            "sqlite" => Pool::Sqlite(
                sqlx::sqlite::SqlitePoolOptions::new().max_connections(max).connect_lazy(url).map_err(bad)?,
            ),
            other => return Err(format!("`{other}:` is not a database this daemon knows (postgres, mysql, sqlite)")),
        })
    }

    fn kind(&self) -> &'static str {
        match self {
            Pool::Postgres(_) => "postgres",
            Pool::MySql(_) => "mysql",
            Pool::Sqlite(_) => "sqlite",
        }
    }
}

/// A message with `url` (which may hold a password) taken out.
fn without_url(message: &str, url: &str) -> String {
    if url.is_empty() {
        message.to_string()
    } else {
        message.replace(url, "<url>")
    }
}

/// One `sql` source.
pub struct SqlSource {
    name: String,
    spec: SourceSpec,
    pool: Pool,
    /// The query as the database is sent it: `{key}` made a parameter.
    query: Arc<str>,
    /// How many times the key is bound (MySQL's `?` are one each).
    binds: usize,
    timeout: Duration,
    runtime: tokio::runtime::Handle,
}

impl std::fmt::Debug for SqlSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlSource")
            .field("name", &self.name)
            .field("database", &self.pool.kind())
            .field("query", &self.query)
            .finish_non_exhaustive()
    }
}

/// What a query must be: `{key}` at least once, and never in quotes.
pub fn check_query(query: &str) -> Result<(), String> {
    if !query.contains("{key}") {
        return Err(format!("the query `{query}` has no `{{key}}` for the key to look up"));
    }
    if ["'{key}'", "\"{key}\"", "`{key}`"].iter().any(|q| query.contains(q)) {
        return Err("`{key}` is a parameter, not text: write it without quotes".to_string());
    }
    Ok(())
}

impl SqlSource {
    /// `query` (with `{key}`) on `pool`, driven by `runtime`.
    pub fn new(
        spec: &SourceSpec,
        query: &str,
        pool: Pool,
        runtime: tokio::runtime::Handle,
    ) -> Result<SqlSource, SourceError> {
        spec.check()?;
        let fail = |message: String| SourceError::Schema { source: spec.name.clone(), message };
        check_query(query).map_err(fail)?;
        let query = query.trim().trim_end_matches(';').trim_end();
        let (query, binds) = match &pool {
            // Any column type reads as JSON text; the user's query is a subquery.
            Pool::Postgres(_) => {
                (format!("SELECT to_jsonb(q)::text FROM ({}) AS q LIMIT 1", query.replace("{key}", "$1")), 1)
            }
            Pool::MySql(_) => (query.replace("{key}", "?"), query.matches("{key}").count()),
            Pool::Sqlite(_) => (query.replace("{key}", "?1"), 1),
        };
        Ok(SqlSource {
            name: spec.name.clone(),
            spec: spec.clone(),
            pool,
            query: query.into(),
            binds,
            timeout: Duration::from_millis(spec.timeout_ms.max(1).unsigned_abs()),
            runtime,
        })
    }

    fn unavailable(&self, message: String) -> SourceError {
        SourceError::Unavailable { source: self.name.clone(), message }
    }

    /// The query, as sqlx takes it. It is the project's own text (checked with the flows,
    /// not a customer's), and the key goes in only as a bound parameter.
    fn sql(&self) -> sqlx::AssertSqlSafe<Arc<str>> {
        sqlx::AssertSqlSafe(self.query.clone())
    }

    async fn fetch(&self, key: &str) -> Result<Option<Arc<Record>>, SourceError> {
        let failed = |e: sqlx::Error| self.unavailable(format!("the {} query failed: {e}", self.pool.kind()));
        match &self.pool {
            Pool::Postgres(pool) => {
                let row: Option<(Option<String>,)> =
                    sqlx::query_as(self.sql()).bind(key).fetch_optional(pool).await.map_err(failed)?;
                match row {
                    Some((Some(json),)) => {
                        record_from_json(&self.spec, &json, self.spec.currency).map_err(|m| self.unavailable(m))
                    }
                    _ => Ok(None),
                }
            }
            Pool::MySql(pool) => {
                let mut query = sqlx::query(self.sql());
                for _ in 0..self.binds {
                    query = query.bind(key);
                }
                match query.fetch_optional(pool).await.map_err(failed)? {
                    Some(row) => self.record(&row, mysql_cell).map(Some),
                    None => Ok(None),
                }
            }
            Pool::Sqlite(pool) => {
                match sqlx::query(self.sql()).bind(key).fetch_optional(pool).await.map_err(failed)? {
                    Some(row) => self.record(&row, sqlite_cell).map(Some),
                    None => Ok(None),
                }
            }
        }
    }

    /// The record in `row`, its columns matched to fields by name and read as cells.
    fn record<R: Row>(
        &self,
        row: &R,
        cell: fn(&R, usize) -> Result<String, String>,
    ) -> Result<Arc<Record>, SourceError> {
        let columns: Vec<&str> = row.columns().iter().map(|c| c.name()).collect();
        let mut cells = Vec::with_capacity(columns.len());
        for (i, column) in columns.iter().enumerate() {
            cells.push(cell(row, i).map_err(|message| SourceError::Cell {
                source: self.name.clone(),
                row: 1,
                column: column.to_string(),
                message,
            })?);
        }
        let reader = RowReader::new(&self.spec.schema, self.spec.currency, &columns)
            .map_err(|e| SourceError::from_read(&self.name, e))?;
        reader.read(1, |i| cells.get(i).map(String::as_str)).map_err(|e| SourceError::from_read(&self.name, e))
    }
}

/// A MySQL cell as text: strings and decimals as sent, numbers and booleans printed.
fn mysql_cell(row: &sqlx::mysql::MySqlRow, i: usize) -> Result<String, String> {
    let raw = row.try_get_raw(i).map_err(|e| e.to_string())?;
    if raw.is_null() {
        return Ok(String::new());
    }
    let ty = raw.type_info().name().to_string();
    let text = match ty.as_str() {
        "BOOLEAN" => row.try_get::<bool, _>(i).map(|b| b.to_string()),
        t if t.ends_with("INT UNSIGNED") => row.try_get::<u64, _>(i).map(|n| n.to_string()),
        t if t.ends_with("INT") => row.try_get::<i64, _>(i).map(|n| n.to_string()),
        "FLOAT" => row.try_get::<f32, _>(i).map(|n| n.to_string()),
        "DOUBLE" => row.try_get::<f64, _>(i).map(|n| n.to_string()),
        "DECIMAL" | "CHAR" | "VARCHAR" | "TINYTEXT" | "TEXT" | "MEDIUMTEXT" | "LONGTEXT" | "ENUM" | "SET" | "JSON" => {
            row.try_get_unchecked::<String, _>(i)
        }
        other => {
            return Err(format!(
                "a {other} column cannot be read as a cell; cast it to text in the query (CAST(… AS CHAR))"
            ))
        }
    };
    text.map_err(|e| e.to_string())
}

/// An SQLite cell as text, as SQLite itself turns a value into text.
fn sqlite_cell(row: &sqlx::sqlite::SqliteRow, i: usize) -> Result<String, String> {
    let raw = row.try_get_raw(i).map_err(|e| e.to_string())?;
    if raw.is_null() {
        return Ok(String::new());
    }
    if raw.type_info().name() == "BLOB" {
        return Err("a BLOB cannot be read as a cell".to_string());
    }
    row.try_get_unchecked::<String, _>(i).map_err(|e| e.to_string())
}

impl Source for SqlSource {
    fn lookup(&self, key: &Value) -> Result<Option<Arc<Record>>, SourceError> {
        if matches!(key, Value::None) {
            return Ok(None);
        }
        let key = key_text(key);
        let timeout = self.timeout;
        // Looked up on a thread of its own (`may_block`), never on a runtime's worker.
        self.runtime.block_on(async {
            match tokio::time::timeout(timeout, self.fetch(key.trim())).await {
                Ok(answer) => answer,
                Err(_) => Err(self.unavailable(format!("no answer within {} ms", timeout.as_millis()))),
            }
        })
    }

    fn may_block(&self) -> bool {
        true
    }
}
