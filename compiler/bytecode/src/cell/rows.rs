//! Rows of cells as records: which column holds each field, and whole CSV files.
//!
//! Columns are matched to fields by exact name first, then ignoring case and surrounding
//! spaces. Columns no field names are ignored; a field that must have a value needs a
//! column, and an optional one reads as none in every row without one.
//!
//! A CSV file's first line names the columns. Cells are trimmed; a cell may be quoted
//! (`"Kettle, Pro"`, with `""` for a quote inside), and a quoted cell may hold line breaks.
//! A file is refused whole when a row has more or fewer cells than the header names, when
//! it is not UTF-8, or when a quoted cell is never closed. A row is named by the line of
//! the file it starts on (the header is line 1).

use super::{parse_cell, FieldSchema, RecordSchema};
use crate::value::{Currency, Record};
use std::fmt;
use std::sync::Arc;

/// Why data cannot be read as records of a schema. `Display` gives the message without
/// saying which file or source: the checker and the sources each put that in front.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// The schema itself cannot be read from cells (see [`RecordSchema::check`]).
    Schema(String),
    /// The data has no column for these fields, which must have a value.
    MissingColumns(Vec<String>),
    /// More than one column could hold the field.
    Columns { field: String, count: usize },
    /// One cell does not hold a value of its field's type.
    Cell { row: u64, column: String, message: String },
    /// A whole row is malformed (too many or too few cells, not UTF-8, a quote not closed).
    Row { row: u64, message: String },
    /// The data cannot be read at all.
    Unreadable(String),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Schema(message) | ReadError::Unreadable(message) => f.write_str(message),
            ReadError::MissingColumns(columns) => {
                let names: Vec<String> = columns.iter().map(|c| format!("`{c}`")).collect();
                let noun = if columns.len() == 1 { "column" } else { "columns" };
                write!(f, "the data has no {noun} {}", names.join(", "))
            }
            ReadError::Columns { field, count } => write!(f, "the data has {count} columns for field `{field}`"),
            ReadError::Cell { row, column, message } => write!(f, "row {row}, column `{column}`: {message}"),
            ReadError::Row { row, message } => write!(f, "row {row}: {message}"),
        }
    }
}

impl std::error::Error for ReadError {}

/// Turns rows of cells into records of one schema, knowing which column holds each field.
#[derive(Debug)]
pub struct RowReader {
    type_name: Arc<str>,
    currency: Currency,
    fields: Vec<ColumnField>,
}

#[derive(Debug)]
struct ColumnField {
    name: Arc<str>,
    schema: FieldSchema,
    /// The column holding the field; `None` for an optional field the data does not have.
    column: Option<usize>,
    column_name: String,
}

impl RowReader {
    /// Matches the fields of `schema` to the named columns (see the module's rules). Money
    /// cells without a currency are in `currency`, and cells in another are refused.
    pub fn new(schema: &RecordSchema, currency: Currency, columns: &[&str]) -> Result<RowReader, ReadError> {
        schema.check().map_err(ReadError::Schema)?;
        let mut fields = Vec::with_capacity(schema.fields.len());
        let mut missing = Vec::new();
        for field in &schema.fields {
            let exact: Vec<usize> = (0..columns.len()).filter(|&i| columns[i] == field.name).collect();
            let loose: Vec<usize> =
                (0..columns.len()).filter(|&i| columns[i].trim().eq_ignore_ascii_case(&field.name)).collect();
            let candidates = if exact.is_empty() { loose } else { exact };
            if candidates.len() > 1 {
                return Err(ReadError::Columns { field: field.name.clone(), count: candidates.len() });
            }
            let column = candidates.first().copied();
            if column.is_none() && !field.is_optional() {
                missing.push(field.name.clone());
            }
            fields.push(ColumnField {
                name: Arc::from(field.name.as_str()),
                schema: field.clone(),
                column,
                column_name: column.map_or_else(|| field.name.clone(), |i| columns[i].trim().to_string()),
            });
        }
        if !missing.is_empty() {
            return Err(ReadError::MissingColumns(missing));
        }
        Ok(RowReader { type_name: Arc::from(schema.name.as_str()), currency, fields })
    }

    /// The columns some field reads, in column order.
    pub fn columns_used(&self) -> Vec<usize> {
        let mut used: Vec<usize> = self.fields.iter().filter_map(|f| f.column).collect();
        used.sort_unstable();
        used
    }

    /// The column that holds field `name`, if the data has one.
    pub fn column_of(&self, name: &str) -> Option<usize> {
        self.fields.iter().find(|f| &*f.name == name).and_then(|f| f.column)
    }

    /// The record for one row; `cell(i)` gives the text of column `i` (`None` past the end
    /// or for a database `NULL`, read as an empty cell). `row` is where the row stands in
    /// the data, for messages. The first cell that does not fit is the error.
    pub fn read<'a>(&self, row: u64, cell: impl Fn(usize) -> Option<&'a str>) -> Result<Arc<Record>, ReadError> {
        let mut fields = Vec::with_capacity(self.fields.len());
        for field in &self.fields {
            let text = field.column.and_then(&cell).unwrap_or("");
            let value = parse_cell(&field.schema, text, self.currency).map_err(|message| ReadError::Cell {
                row,
                column: field.column_name.clone(),
                message,
            })?;
            fields.push((field.name.clone(), value));
        }
        Ok(Arc::new(Record { type_name: self.type_name.clone(), fields }))
    }
}

/// Why a CSV file was refused: the first `errors` found (in file order), and how many more
/// problems there were after them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    pub errors: Vec<ReadError>,
    pub more: usize,
}

impl Refused {
    fn one(error: ReadError) -> Refused {
        Refused { errors: vec![error], more: 0 }
    }

    /// The first problem found.
    pub fn first(&self) -> &ReadError {
        &self.errors[0]
    }
}

/// Reads every row of a CSV file (UTF-8, a header line, an optional byte-order mark, any
/// line endings) as a record of `schema`, first row first. On failure, gives up to
/// `keep` problems (at least one) and counts the rest; a problem with the header or the
/// schema is the only one.
pub fn read_csv(
    schema: &RecordSchema,
    currency: Currency,
    bytes: &[u8],
    keep: usize,
) -> Result<Vec<Arc<Record>>, Refused> {
    if let Some(row) = unclosed_quote(bytes) {
        return Err(Refused::one(ReadError::Row {
            row,
            message: "a quoted cell is never closed (a `\"` is missing)".to_string(),
        }));
    }
    let mut reader = csv::ReaderBuilder::new().has_headers(true).trim(csv::Trim::All).from_reader(bytes);
    let header = reader.headers().map_err(|e| Refused::one(csv_error(e)))?.clone();
    let columns: Vec<&str> = header.iter().collect();
    let rows = RowReader::new(schema, currency, &columns).map_err(Refused::one)?;
    let keep = keep.max(1);
    let mut records = Vec::new();
    let mut refused = Refused { errors: Vec::new(), more: 0 };
    for result in reader.records() {
        let read = result.map_err(csv_error).and_then(|line| {
            let row = line.position().map_or(0, |p| p.line());
            rows.read(row, |i| line.get(i))
        });
        match read {
            Ok(record) if refused.errors.is_empty() => records.push(record),
            Ok(_) => {}
            Err(error) if refused.errors.len() < keep => refused.errors.push(error),
            Err(_) => refused.more += 1,
        }
    }
    if refused.errors.is_empty() {
        Ok(records)
    } else {
        Err(refused)
    }
}

fn csv_error(error: csv::Error) -> ReadError {
    match error.kind() {
        csv::ErrorKind::UnequalLengths { pos, expected_len, len } => ReadError::Row {
            row: pos.as_ref().map_or(0, |p| p.line()),
            message: format!("{len} cells, but the header names {expected_len} columns"),
        },
        csv::ErrorKind::Utf8 { pos, .. } => {
            ReadError::Row { row: pos.as_ref().map_or(0, |p| p.line()), message: "not UTF-8 text".to_string() }
        }
        _ => ReadError::Unreadable(format!("not a CSV file: {error}")),
    }
}

/// The line on which the row starts whose quoted cell runs to the end of the file, if one
/// does. The `csv` crate reads such a cell as if it were closed there; this reads the bytes
/// as it does (a quote opens a cell only as its first character; `""` inside is a quote;
/// `\n`, `\r` and `\r\n` end a row) to refuse it instead.
fn unclosed_quote(bytes: &[u8]) -> Option<u64> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut line = 1;
    let mut row_line = 1;
    let mut at_cell_start = true;
    let mut quoted = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        i += 1;
        if quoted {
            match b {
                b'"' if bytes.get(i) == Some(&b'"') => i += 1,
                b'"' => quoted = false,
                b'\n' => line += 1,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' if at_cell_start => {
                quoted = true;
                at_cell_start = false;
            }
            b',' | b'\r' => at_cell_start = true,
            b'\n' => {
                line += 1;
                at_cell_start = true;
            }
            _ => at_cell_start = false,
        }
        if at_cell_start && b != b',' {
            row_line = line;
        }
    }
    quoted.then_some(row_line)
}
