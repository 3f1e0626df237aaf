//! Project files, checked as a deploy would meet them: a CSV source's file must exist, its
//! header cover the record and every cell fit its field, read by the runtime's own cell
//! reader (`switchboard_bytecode::cell`); an `extern fn`'s rhai file must compile and
//! define it.

use super::Checker;
use crate::diagnostic::{Code, Diagnostic, FileId};
use crate::loader::ScriptCheck;
use crate::syntax::ast::*;
use crate::types::Type;
use crate::value::Currency;
use switchboard_bytecode::cell::{self, FieldSchema, ReadError, RecordSchema};

/// How many bad rows of one CSV file are reported before the rest are counted.
const MAX_CELL_REPORTS: usize = 5;

impl Checker<'_, '_> {
    pub fn source_file(&self, file: FileId, s: &SourceDecl, clause: &SourceClause, fields: &[(&str, Type)]) {
        match &clause.kind {
            SourceClauseKind::Csv(path) => self.csv_file(file, s, path, fields),
            SourceClauseKind::Sqlite { path, table } => {
                let ident_ok = !table.value.is_empty()
                    && table.value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !table.value.starts_with(|c: char| c.is_ascii_digit());
                if !ident_ok {
                    self.report(
                        Diagnostic::new(
                            Code::InvalidValue,
                            file,
                            table.span,
                            format!("`{}` is not a table name", table.value),
                        )
                        .with_help("table names are letters, digits and `_`"),
                    );
                    return;
                }
                self.sqlite_table(file, s, path, table, fields);
            }
            SourceClauseKind::Http(url) if !(url.value.starts_with("https://") || url.value.starts_with("http://")) => {
                self.report(
                    Diagnostic::new(Code::InvalidValue, file, url.span, "an http source needs a web address")
                        .with_help("write it like \"https://crm.example.com/customers/{key}\""),
                );
            }
            _ => {}
        }
    }

    fn missing(&self, file: FileId, path: &StrLit, why: &str) {
        self.report(
            Diagnostic::new(Code::ProjectFile, file, path.span, format!("cannot read `{}`: {why}", path.value))
                .with_label("file not found")
                .with_help("paths are relative to the project folder"),
        );
    }

    /// The table must exist and have a column for every field that must have a value,
    /// matched as the runtime matches them; the rows are read only when looked up.
    fn sqlite_table(&self, file: FileId, s: &SourceDecl, path: &StrLit, table: &StrLit, fields: &[(&str, Type)]) {
        let columns = match self.loader.sqlite_table(&path.value, &table.value) {
            Ok(Some(columns)) => columns,
            Ok(None) => {
                self.report(
                    Diagnostic::new(
                        Code::ProjectFile,
                        file,
                        table.span,
                        format!("`{}` has no table `{}`", path.value, table.value),
                    )
                    .with_label("no such table")
                    .with_related(file, path.span, "the database"),
                );
                return;
            }
            Err(why) if why == "no such file" => return self.missing(file, path, &why),
            Err(why) => {
                self.report(
                    Diagnostic::new(Code::ProjectFile, file, path.span, format!("cannot read `{}`: {why}", path.value))
                        .with_label("cannot be read as a database"),
                );
                return;
            }
        };
        let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
        let schema = self.cell_schema(s, fields);
        let diagnostic = match cell::RowReader::new(&schema, self.project_currency(), &columns) {
            Ok(_) => return,
            Err(ReadError::MissingColumns(missing)) => {
                let missing: Vec<&str> = missing.iter().map(String::as_str).collect();
                Diagnostic::new(
                    Code::ProjectFile,
                    file,
                    table.span,
                    format!(
                        "table `{}` has no column for {} of `{}`",
                        table.value,
                        super::expr::quote_list(&missing),
                        s.record.name
                    ),
                )
                .with_label("missing columns")
                .with_help(format!("add the column(s) {} to the table", missing.join(", ")))
            }
            Err(other) => Diagnostic::new(
                Code::ProjectFile,
                file,
                table.span,
                format!("table `{}` of `{}`: {other}", table.value, path.value),
            ),
        };
        self.report(diagnostic);
    }

    fn csv_file(&self, file: FileId, s: &SourceDecl, path: &StrLit, fields: &[(&str, Type)]) {
        let bytes = match self.loader.load(&path.value) {
            Ok(b) => b,
            Err(why) => return self.missing(file, path, &why),
        };
        // The file is read by the one cell reader the runtime loads it with.
        let schema = self.cell_schema(s, fields);
        let refused = match cell::read_csv(&schema, self.project_currency(), &bytes, MAX_CELL_REPORTS) {
            Ok(_) => return,
            Err(refused) => refused,
        };
        let diagnostic = match refused.first() {
            ReadError::MissingColumns(missing) => {
                let missing: Vec<&str> = missing.iter().map(String::as_str).collect();
                Diagnostic::new(
                    Code::ProjectFile,
                    file,
                    path.span,
                    format!(
                        "`{}` has no column for {} of `{}`",
                        path.value,
                        super::expr::quote_list(&missing),
                        s.record.name
                    ),
                )
                .with_label("missing columns")
                .with_help(format!("add the column(s) {} to the file's first line", missing.join(", ")))
            }
            ReadError::Cell { .. } | ReadError::Row { .. } => {
                let mut list = refused.errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
                if refused.more > 0 {
                    list.push_str(&format!("; and {} more", refused.more));
                }
                Diagnostic::new(
                    Code::ProjectFile,
                    file,
                    path.span,
                    format!("`{}` has values that do not fit `{}`", path.value, s.record.name),
                )
                .with_label("bad rows")
                .with_help(list)
            }
            other @ (ReadError::Schema(_) | ReadError::Columns { .. } | ReadError::Unreadable(_)) => {
                Diagnostic::new(Code::ProjectFile, file, path.span, format!("`{}`: {other}", path.value))
            }
        };
        self.report(diagnostic);
    }

    /// The record of a source as the cell reader sees it, with the variants of its enums.
    fn cell_schema(&self, s: &SourceDecl, fields: &[(&str, Type)]) -> RecordSchema {
        let fields = fields
            .iter()
            .map(|(name, ty)| FieldSchema {
                name: name.to_string(),
                ty: ty.clone(),
                enum_variants: match cell::base_type(ty) {
                    Type::Enum(e) => {
                        self.syms.enums.get(&**e).map(|d| d.node.variants.iter().map(|v| v.name.clone()).collect())
                    }
                    _ => None,
                },
            })
            .collect();
        RecordSchema { name: s.record.name.clone(), fields }
    }

    /// The project's currency, as the bundle will carry it (GBP when none is declared).
    fn project_currency(&self) -> Currency {
        self.syms.currency.and_then(|(_, c)| Currency::parse(&c.name)).unwrap_or(Currency::GBP)
    }

    pub fn extern_script(&self, file: FileId, f: &ExternFnDecl) {
        let bytes = match self.loader.load(&f.path.value) {
            Ok(b) => b,
            Err(why) => return self.missing(file, &f.path, &why),
        };
        let Ok(source) = String::from_utf8(bytes) else {
            self.report(Diagnostic::new(
                Code::ProjectFile,
                file,
                f.path.span,
                format!("`{}` is not UTF-8 text", f.path.value),
            ));
            return;
        };
        let arity = f.params.len();
        let defined = match self.loader.check_script(&f.path.value, &source, &f.name.name, arity) {
            ScriptCheck::Defined | ScriptCheck::NotChecked => return,
            ScriptCheck::DoesNotCompile { line, column, message } => {
                let (line, column) = (line.unwrap_or(0), column.unwrap_or(0));
                self.report(
                    Diagnostic::new(
                        Code::ProjectFile,
                        file,
                        f.path.span,
                        format!("`{}` does not compile", f.path.value),
                    )
                    .with_label(format!("line {line}, column {column}: {message}")),
                );
                return;
            }
            ScriptCheck::NoFunction { arities } => arities,
        };
        let message = match defined.first() {
            None => format!("`{}` defines no function `{}`", f.path.value, f.name.name),
            Some(other) => format!(
                "`{}` defines `{}` with {other} parameter(s), but it is declared with {arity}",
                f.path.value, f.name.name
            ),
        };
        self.report(
            Diagnostic::new(Code::ProjectFile, file, f.name.span, message)
                .with_related(file, f.path.span, "the script")
                .with_help(format!("define `fn {}({})` in the script", f.name.name, param_names(f))),
        );
    }
}

fn param_names(f: &ExternFnDecl) -> String {
    f.params.iter().map(|p| p.name.name.as_str()).collect::<Vec<_>>().join(", ")
}
