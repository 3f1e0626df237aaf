//! The data sources flows look things up in: `let customer = lookup crm by contact.from`.
//!
//! - [`schema`]: what a `source` declaration says ([`SourceSpec`]), built by the engine from
//!   the bundle.
//! - [`normalize`]: phone numbers, email addresses and handles in one normal form each, and
//!   [`cell`]: typed values from text cells and records from CSV files. Both live in
//!   `switchboard-bytecode` (so that `check` reads cells exactly as a source does) and are
//!   re-exported here.
//! - `matching`: how a key meets a row's key fields (the rules are written at the top of
//!   that file) and the index that makes it O(1).
//! - the sources themselves: [`CsvSource`] (the embedded default), [`SqliteSource`], and
//!   [`MemorySource`] (the rows a test's `given` lines list).
//! - [`Cached`] and [`Cache`]: `cache 5m`, with time passed in so a virtual clock drives it.
//! - [`lookup`]: a look-up as the engine runs it, within the source's timeout, giving a
//!   [`LookupOutcome`]. Look-ups never fail a flow: the engine turns anything but
//!   [`LookupOutcome::Found`] into none and an event.
//!
//! **Architecture Invariant:** a source never reads a clock for its data's sake: cache
//! expiry uses the time the caller passes; only the timeout measures real time.

mod cache;
mod csv_file;
pub mod http;
pub mod lookup;
mod matching;
mod memory;
pub mod schema;
mod sqlite_table;

pub use self::cache::{Cache, Cached};
pub use self::csv_file::CsvSource;
pub use self::http::HttpSource;
pub use self::lookup::{LiveSource, LookupOutcome};
pub use self::memory::MemorySource;
pub use self::schema::{FieldSchema, RecordSchema, SourceSpec};
pub use self::sqlite_table::{describe_table, SqliteSource};
pub use switchboard_bytecode::{cell, normalize};

use std::fmt;
use std::sync::Arc;
use switchboard_bytecode::value::{Record, Value};

/// Something a flow can look records up in.
pub trait Source: Send + Sync {
    /// The first row whose key fields match `key` (see `matching` for the rules), or
    /// `None` when no row does.
    fn lookup(&self, key: &Value) -> Result<Option<Arc<Record>>, SourceError>;

    /// Whether a look-up may wait on something outside this process (a network, a database
    /// lock). The engine runs such look-ups on a worker thread so that it can stop waiting
    /// at the timeout; the others it runs in place and only measures.
    fn may_block(&self) -> bool {
        false
    }
}

impl<S: Source + ?Sized> Source for Arc<S> {
    fn lookup(&self, key: &Value) -> Result<Option<Arc<Record>>, SourceError> {
        (**self).lookup(key)
    }

    fn may_block(&self) -> bool {
        (**self).may_block()
    }
}

impl<S: Source + ?Sized> Source for Box<S> {
    fn lookup(&self, key: &Value) -> Result<Option<Arc<Record>>, SourceError> {
        (**self).lookup(key)
    }

    fn may_block(&self) -> bool {
        (**self).may_block()
    }
}

/// Why a source could not be built, or could not answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceError {
    /// The declaration cannot be served (a key that is not a field, a field a cell
    /// cannot hold, a table name that is not a name).
    Schema { source: String, message: String },
    /// The data has no column for fields that must have a value.
    MissingColumns { source: String, columns: Vec<String> },
    /// One cell does not hold a value of its field's type. `row` is the line of a CSV
    /// file (the header is line 1) or the `rowid` of a database row.
    Cell { source: String, row: u64, column: String, message: String },
    /// A whole row is malformed (too many or too few cells, not UTF-8).
    Row { source: String, row: u64, message: String },
    /// The data could not be reached or read at all.
    Unavailable { source: String, message: String },
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceError::Schema { source, message } | SourceError::Unavailable { source, message } => {
                write!(f, "source `{source}`: {message}")
            }
            SourceError::MissingColumns { source, columns } => {
                let names: Vec<String> = columns.iter().map(|c| format!("`{c}`")).collect();
                let noun = if columns.len() == 1 { "column" } else { "columns" };
                write!(f, "source `{source}`: the data has no {noun} {}", names.join(", "))
            }
            SourceError::Cell { source, row, column, message } => {
                write!(f, "source `{source}`, row {row}, column `{column}`: {message}")
            }
            SourceError::Row { source, row, message } => write!(f, "source `{source}`, row {row}: {message}"),
        }
    }
}

impl std::error::Error for SourceError {}

impl SourceError {
    /// What the cell reader found, said of source `source`.
    pub fn from_read(source: &str, error: cell::ReadError) -> SourceError {
        let source = source.to_string();
        match error {
            cell::ReadError::Schema(message) => SourceError::Schema { source, message },
            cell::ReadError::Columns { field, count } => {
                SourceError::Schema { source, message: format!("the data has {count} columns for field `{field}`") }
            }
            cell::ReadError::MissingColumns(columns) => SourceError::MissingColumns { source, columns },
            cell::ReadError::Cell { row, column, message } => SourceError::Cell { source, row, column, message },
            cell::ReadError::Row { row, message } => SourceError::Row { source, row, message },
            cell::ReadError::Unreadable(message) => SourceError::Unavailable { source, message },
        }
    }
}
