//! Project files, checked as a deploy would meet them: a CSV source's file must exist and
//! its header cover the record; an `extern fn`'s rhai file must compile and define it.

use super::Checker;
use crate::diagnostic::{Code, Diagnostic, FileId};
use crate::loader::ScriptCheck;
use crate::syntax::ast::*;
use crate::types::Type;

/// How many bad cells of one CSV file are reported before the rest are summed up.
const MAX_CELL_REPORTS: usize = 5;

impl Checker<'_, '_> {
    pub fn source_file(&self, file: FileId, s: &SourceDecl, clause: &SourceClause, fields: &[(&str, Type)]) {
        match &clause.kind {
            SourceClauseKind::Csv(path) => self.csv_file(file, s, path, fields),
            SourceClauseKind::Sqlite { path, table } => {
                if let Err(why) = self.loader.load(&path.value) {
                    self.missing(file, path, &why);
                }
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
                }
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

    fn csv_file(&self, file: FileId, s: &SourceDecl, path: &StrLit, fields: &[(&str, Type)]) {
        let bytes = match self.loader.load(&path.value) {
            Ok(b) => b,
            Err(why) => return self.missing(file, path, &why),
        };
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes.as_slice());
        let header: Vec<String> = match reader.headers() {
            Ok(h) => h.iter().map(|c| c.trim().to_string()).collect(),
            Err(e) => {
                self.report(Diagnostic::new(
                    Code::ProjectFile,
                    file,
                    path.span,
                    format!("`{}` is not a CSV file: {e}", path.value),
                ));
                return;
            }
        };
        let missing: Vec<&str> = fields
            .iter()
            .filter(|(f, t)| !t.is_optional() && !header.iter().any(|h| h == f))
            .map(|(f, _)| *f)
            .collect();
        if !missing.is_empty() {
            self.report(
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
                .with_help(format!("add the column(s) {} to the file's first line", missing.join(", "))),
            );
            return;
        }
        // Every cell must read as its field's type, as the runtime will read it.
        let columns: Vec<(usize, &str, &Type)> =
            fields.iter().filter_map(|(f, t)| header.iter().position(|h| h == f).map(|i| (i, *f, t))).collect();
        let mut bad = Vec::new();
        for (row, record) in reader.records().enumerate() {
            let Ok(record) = record else {
                bad.push(format!("line {} cannot be read", row + 2));
                continue;
            };
            for &(i, name, t) in &columns {
                let cell = record.get(i).unwrap_or("").trim();
                if let Err(why) = self.cell_fits(cell, t) {
                    bad.push(format!("line {}, column `{name}`: {why}", row + 2));
                }
            }
        }
        if !bad.is_empty() {
            let more = bad.len().saturating_sub(MAX_CELL_REPORTS);
            let mut list = bad.into_iter().take(MAX_CELL_REPORTS).collect::<Vec<_>>().join("; ");
            if more > 0 {
                list.push_str(&format!("; and {more} more"));
            }
            self.report(
                Diagnostic::new(
                    Code::ProjectFile,
                    file,
                    path.span,
                    format!("`{}` has values that do not fit `{}`", path.value, s.record.name),
                )
                .with_label("bad rows")
                .with_help(list),
            );
        }
    }

    fn cell_fits(&self, cell: &str, t: &Type) -> Result<(), String> {
        if cell.is_empty() {
            return if t.is_optional() { Ok(()) } else { Err("empty, but the field is required".to_string()) };
        }
        match t.unwrap_optional() {
            Type::Number => cell.parse::<f64>().map(|_| ()).map_err(|_| format!("`{cell}` is not a number")),
            Type::Bool => match cell.to_ascii_lowercase().as_str() {
                "true" | "false" | "yes" | "no" => Ok(()),
                _ => Err(format!("`{cell}` is not true or false")),
            },
            Type::Money => {
                let digits = cell.trim_start_matches(['£', '$', '€', '-']);
                digits.parse::<f64>().map(|_| ()).map_err(|_| format!("`{cell}` is not an amount"))
            }
            Type::Phone => {
                let digits: String = cell.chars().filter(char::is_ascii_digit).collect();
                if (7..=15).contains(&digits.len()) {
                    Ok(())
                } else {
                    Err(format!("`{cell}` is not a phone number"))
                }
            }
            Type::Email => {
                if super::expr::looks_like_email(cell) {
                    Ok(())
                } else {
                    Err(format!("`{cell}` is not an email address"))
                }
            }
            Type::Date => cell
                .parse::<jiff::civil::Date>()
                .map(|_| ())
                .map_err(|_| format!("`{cell}` is not a date (YYYY-MM-DD)")),
            Type::Enum(e) => match self.syms.enums.get(&**e) {
                Some(d) if d.node.variants.iter().any(|v| v.name == cell) => Ok(()),
                Some(d) => Err(format!(
                    "`{cell}` is not a {e} (one of {})",
                    d.node.variants.iter().map(|v| v.name.as_str()).collect::<Vec<_>>().join(", ")
                )),
                None => Ok(()),
            },
            _ => Ok(()),
        }
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
