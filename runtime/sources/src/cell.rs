//! Typed values from the text cells of a CSV file or a database row.
//!
//! Every cell is trimmed first. What each type accepts:
//!
//! | type | cell |
//! | --- | --- |
//! | `text`, `agent` | anything (an agent is its id) |
//! | `number` | `42`, `-3.5`, `1e3`; not `NaN` or infinity |
//! | `bool` | `true`/`false`, `yes`/`no`, `1`/`0`, any case |
//! | `money` | `250`, `250.00`, `1,250.50`, `£250`, `-£5`, `250 GBP`: the project's currency, two decimals at most |
//! | `phone` | international form, normalized to E.164 (`+44 7700 900001`, `0044…`) |
//! | `email` | an address, lower-cased |
//! | `date` | `YYYY-MM-DD` |
//! | `time` | `HH:MM`, 24-hour |
//! | `datetime` | RFC 3339 with an offset, `2026-01-05T12:00:00Z` |
//! | `duration` | `500ms`, `30s`, `5m`, `2h`, `1d`, or several: `1h 30m` |
//! | `channel` | `voice`, `chat`, `email`, `sms`, `social` |
//! | enum | a declared variant, any case (`Gold` reads as `gold`) |
//! | `[T]` | items separated by `;` (`billing; support`); an empty cell is the empty list |
//! | `T?` | an empty cell is none |
//!
//! An empty cell in a field that is neither optional nor a list is an error. Money assumes
//! two decimal places of minor units, as [`Money`]'s own formatting does.

use super::schema::{FieldSchema, SourceSpec};
use super::{normalize, SourceError};
use std::sync::Arc;
use switchboard_bytecode::types::{Channel, Type};
use switchboard_bytecode::value::{Currency, Money, Record, Value};

/// The value of one cell for a field, or a message saying why the cell does not fit.
pub(crate) fn parse_cell(field: &FieldSchema, cell: &str, currency: Currency) -> Result<Value, String> {
    let cell = cell.trim();
    match &field.ty {
        Type::Optional(_) if cell.is_empty() => Ok(Value::None),
        Type::Optional(inner) => parse_typed(inner, field, cell, currency),
        ty => parse_typed(ty, field, cell, currency),
    }
}

fn parse_typed(ty: &Type, field: &FieldSchema, cell: &str, currency: Currency) -> Result<Value, String> {
    if let Type::List(item) = ty {
        if cell.is_empty() {
            return Ok(Value::List(Arc::from(Vec::new())));
        }
        let mut items = Vec::new();
        for (i, part) in cell.split(';').enumerate() {
            let part = part.trim();
            if part.is_empty() {
                return Err(format!("item {} of the list is empty", i + 1));
            }
            let value = parse_scalar(item, field, part, currency).map_err(|why| format!("item {}: {why}", i + 1))?;
            items.push(value);
        }
        return Ok(Value::List(Arc::from(items)));
    }
    if cell.is_empty() {
        return Err(format!("empty, but `{}` must have a value", field.name));
    }
    parse_scalar(ty, field, cell, currency)
}

fn parse_scalar(ty: &Type, field: &FieldSchema, cell: &str, currency: Currency) -> Result<Value, String> {
    let value = match ty {
        Type::Text => Value::text(cell),
        Type::Agent => Value::Agent(Arc::from(cell)),
        Type::Number => Value::Number(parse_number(cell).ok_or_else(|| format!("`{cell}` is not a number"))?),
        Type::Bool => Value::Bool(parse_bool(cell).ok_or_else(|| format!("`{cell}` is not yes or no"))?),
        Type::Money => Value::Money(parse_money(cell, currency)?),
        Type::Phone => match normalize::normalize_phone(cell, None) {
            Some(phone) => Value::Phone(Arc::from(phone)),
            None => return Err(format!("`{cell}` is not a phone number in international form, like +447700900001")),
        },
        Type::Email => match normalize::normalize_email(cell) {
            Some(email) => Value::Email(Arc::from(email)),
            None => return Err(format!("`{cell}` is not an email address")),
        },
        Type::Date => Value::Date(parse_date(cell).ok_or_else(|| format!("`{cell}` is not a date like 2026-12-25"))?),
        Type::Time => Value::Time(parse_time(cell).ok_or_else(|| format!("`{cell}` is not a time of day like 14:00"))?),
        Type::DateTime => match cell.parse::<jiff::Timestamp>() {
            Ok(at) => Value::DateTime(at),
            Err(_) => return Err(format!("`{cell}` is not a date and time like 2026-01-05T12:00:00Z")),
        },
        Type::Duration => Value::Duration(
            parse_duration(cell).ok_or_else(|| format!("`{cell}` is not a duration like 30s or 1h 30m"))?,
        ),
        Type::Channel => match Channel::parse(&cell.to_ascii_lowercase()) {
            Some(channel) => Value::Channel(channel),
            None => return Err(format!("`{cell}` is not a channel (voice, chat, email, sms or social)")),
        },
        Type::Enum(name) => {
            let variants = field.enum_variants.as_deref().unwrap_or_default();
            let found =
                variants.iter().find(|v| *v == cell).or_else(|| variants.iter().find(|v| v.eq_ignore_ascii_case(cell)));
            match found {
                Some(variant) => Value::Enum(Arc::from(variant.as_str())),
                None => {
                    return Err(format!("`{cell}` is not a `{name}`; expected one of {}", variants.join(", ")));
                }
            }
        }
        Type::Optional(_) | Type::List(_) | Type::Record(_) | Type::None | Type::Regex | Type::Hours | Type::Error => {
            return Err(format!("a cell cannot hold a value of type `{ty}`"));
        }
    };
    Ok(value)
}

fn parse_number(cell: &str) -> Option<f64> {
    // Rust also reads `inf` and `NaN`; a spreadsheet number is neither.
    cell.parse::<f64>().ok().filter(|n| n.is_finite())
}

fn parse_bool(cell: &str) -> Option<bool> {
    const YES: [&str; 3] = ["true", "yes", "1"];
    const NO: [&str; 3] = ["false", "no", "0"];
    if YES.iter().any(|y| y.eq_ignore_ascii_case(cell)) {
        Some(true)
    } else if NO.iter().any(|n| n.eq_ignore_ascii_case(cell)) {
        Some(false)
    } else {
        None
    }
}

/// `250`, `250.5`, `1,250.00`, `£250`, `-£5`, `£-5`, `GBP 250`, `250 GBP` → minor units.
pub(crate) fn parse_money(cell: &str, currency: Currency) -> Result<Money, String> {
    let not_money = || format!("`{cell}` is not an amount of money");
    let wrong_currency = |other: Currency| {
        format!("`{cell}` is in {}, but the project's currency is {}", other.as_str(), currency.as_str())
    };
    let mut rest = cell.trim();
    let mut negative = false;
    if let Some(r) = rest.strip_prefix('-') {
        negative = true;
        rest = r.trim_start();
    }
    if let Some(symbol) = rest.chars().next().filter(|c| !c.is_ascii_alphanumeric() && *c != '.') {
        let named = Currency::from_symbol(symbol).ok_or_else(not_money)?;
        if named != currency {
            return Err(wrong_currency(named));
        }
        rest = rest[symbol.len_utf8()..].trim_start();
    }
    let is_code = |code: &str| code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase());
    if let Some((code, amount)) = rest.split_once(' ').filter(|(code, _)| is_code(code)) {
        let named = Currency::parse(code).ok_or_else(not_money)?;
        if named != currency {
            return Err(wrong_currency(named));
        }
        rest = amount.trim_start();
    } else if let Some((amount, code)) = rest.rsplit_once(' ') {
        let named = Currency::parse(code).ok_or_else(not_money)?;
        if named != currency {
            return Err(wrong_currency(named));
        }
        rest = amount.trim_end();
    }
    if !negative {
        if let Some(r) = rest.strip_prefix('-') {
            negative = true;
            rest = r;
        }
    }
    let (units, cents) = match rest.split_once('.') {
        Some((units, cents)) => (units, cents),
        None => (rest, ""),
    };
    if !cents.bytes().all(|b| b.is_ascii_digit()) || (units.is_empty() && cents.is_empty()) {
        return Err(not_money());
    }
    if cents.len() > 2 {
        return Err(format!("`{cell}` has more than two decimal places"));
    }
    let units = ungroup(units).ok_or_else(not_money)?;
    let too_large = || format!("`{cell}` is too large an amount");
    let whole: i64 = if units.is_empty() { 0 } else { units.parse().map_err(|_| too_large())? };
    let fraction: i64 = match cents.len() {
        0 => 0,
        1 => cents.parse::<i64>().map_err(|_| not_money())? * 10,
        _ => cents.parse().map_err(|_| not_money())?,
    };
    let minor = whole.checked_mul(100).and_then(|m| m.checked_add(fraction)).ok_or_else(too_large)?;
    Ok(Money { minor: if negative { -minor } else { minor }, currency })
}

/// `1,250` → `1250`; commas must separate groups of three digits.
fn ungroup(units: &str) -> Option<String> {
    if !units.bytes().all(|b| b.is_ascii_digit() || b == b',') {
        return None;
    }
    if !units.contains(',') {
        return Some(units.to_string());
    }
    let mut groups = units.split(',');
    let first = groups.next()?;
    if first.is_empty() || first.len() > 3 {
        return None;
    }
    let mut out = first.to_string();
    for group in groups {
        if group.len() != 3 {
            return None;
        }
        out.push_str(group);
    }
    Some(out)
}

/// `YYYY-MM-DD` and nothing else (jiff alone would also take other ISO 8601 forms).
pub fn parse_date(cell: &str) -> Option<jiff::civil::Date> {
    let b = cell.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return None;
    }
    cell.parse().ok()
}

/// `HH:MM` (or `H:MM`), 24-hour, as minutes after midnight.
pub fn parse_time(cell: &str) -> Option<u32> {
    let (hours, minutes) = cell.split_once(':')?;
    let digits =
        |s: &str, len: std::ops::RangeInclusive<usize>| len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(hours, 1..=2) || !digits(minutes, 2..=2) {
        return None;
    }
    let (hours, minutes): (u32, u32) = (hours.parse().ok()?, minutes.parse().ok()?);
    (hours < 24 && minutes < 60).then_some(hours * 60 + minutes)
}

/// `500ms`, `30s`, `5m`, `2h`, `1d`, and sums of them (`1h 30m`, `1h30m`), in milliseconds.
pub(crate) fn parse_duration(cell: &str) -> Option<i64> {
    let mut rest = cell.trim();
    if rest.is_empty() {
        return None;
    }
    let mut total: i64 = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let amount: i64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let size = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return None,
        };
        total = total.checked_add(amount.checked_mul(size)?)?;
        rest = rest[unit_len..].trim_start();
    }
    Some(total)
}

/// Turns rows of cells into records of one schema, knowing which column holds each field.
#[derive(Debug)]
pub(crate) struct RowReader {
    source: String,
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
    /// Matches the fields of `spec` to the named columns: by exact name first, then ignoring
    /// case and surrounding spaces. Columns no field names are ignored; a field that must have
    /// a value needs a column, an optional one reads as none without one.
    pub(crate) fn new(spec: &SourceSpec, columns: &[&str]) -> Result<RowReader, SourceError> {
        spec.check()?;
        let mut fields = Vec::with_capacity(spec.schema.fields.len());
        let mut missing = Vec::new();
        for field in &spec.schema.fields {
            let exact: Vec<usize> = (0..columns.len()).filter(|&i| columns[i] == field.name).collect();
            let loose: Vec<usize> =
                (0..columns.len()).filter(|&i| columns[i].trim().eq_ignore_ascii_case(&field.name)).collect();
            let candidates = if exact.is_empty() { loose } else { exact };
            if candidates.len() > 1 {
                return Err(SourceError::Schema {
                    source: spec.name.clone(),
                    message: format!("the data has {} columns for field `{}`", candidates.len(), field.name),
                });
            }
            let column = candidates.first().copied();
            if column.is_none() && !field.is_optional() {
                missing.push(field.name.clone());
            }
            fields.push(ColumnField {
                name: Arc::from(field.name.as_str()),
                schema: field.clone(),
                column,
                column_name: column.map_or_else(|| field.name.clone(), |i| columns[i].to_string()),
            });
        }
        if !missing.is_empty() {
            return Err(SourceError::MissingColumns { source: spec.name.clone(), columns: missing });
        }
        Ok(RowReader {
            source: spec.name.clone(),
            type_name: Arc::from(spec.schema.name.as_str()),
            currency: spec.currency,
            fields,
        })
    }

    /// The columns some field reads, in column order.
    pub(crate) fn columns_used(&self) -> Vec<usize> {
        let mut used: Vec<usize> = self.fields.iter().filter_map(|f| f.column).collect();
        used.sort_unstable();
        used
    }

    /// The column that holds field `name`, if the data has one.
    pub(crate) fn column_of(&self, name: &str) -> Option<usize> {
        self.fields.iter().find(|f| &*f.name == name).and_then(|f| f.column)
    }

    /// The record for one row; `cell(i)` gives the text of column `i` (`None` past the end).
    /// `row` is where the row stands in the data, for messages.
    pub(crate) fn read<'a>(
        &self,
        row: u64,
        cell: impl Fn(usize) -> Option<&'a str>,
    ) -> Result<Arc<Record>, SourceError> {
        let mut fields = Vec::with_capacity(self.fields.len());
        for field in &self.fields {
            let text = field.column.and_then(&cell).unwrap_or("");
            let value = parse_cell(&field.schema, text, self.currency).map_err(|message| SourceError::Cell {
                source: self.source.clone(),
                row,
                column: field.column_name.clone(),
                message,
            })?;
            fields.push((field.name.clone(), value));
        }
        Ok(Arc::new(Record { type_name: self.type_name.clone(), fields }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(ty: Type) -> FieldSchema {
        let enum_variants = match super::super::schema::base_type(&ty) {
            Type::Enum(_) => Some(vec!["standard".into(), "gold".into(), "platinum".into()]),
            _ => None,
        };
        FieldSchema { name: "f".into(), ty, enum_variants }
    }

    fn parse(ty: Type, cell: &str) -> Result<Value, String> {
        parse_cell(&field(ty), cell, Currency::GBP)
    }

    fn gbp(minor: i64) -> Value {
        Value::Money(Money { minor, currency: Currency::GBP })
    }

    fn date(y: i16, m: i8, d: i8) -> Value {
        Value::Date(jiff::civil::date(y, m, d))
    }

    fn list(items: Vec<Value>) -> Value {
        Value::List(Arc::from(items))
    }

    #[test]
    fn cells_that_fit() {
        let tier = Type::Enum(Arc::from("Tier"));
        let cases: Vec<(Type, &str, Value)> = vec![
            (Type::Text, " Ann Baker ", Value::text("Ann Baker")),
            (Type::Agent, "agent-7", Value::Agent(Arc::from("agent-7"))),
            (Type::Number, "42", Value::Number(42.0)),
            (Type::Number, "-3.5", Value::Number(-3.5)),
            (Type::Number, "1e3", Value::Number(1000.0)),
            (Type::Bool, "true", Value::Bool(true)),
            (Type::Bool, "Yes", Value::Bool(true)),
            (Type::Bool, "1", Value::Bool(true)),
            (Type::Bool, "FALSE", Value::Bool(false)),
            (Type::Bool, "no", Value::Bool(false)),
            (Type::Bool, "0", Value::Bool(false)),
            (Type::Money, "250.00", gbp(25_000)),
            (Type::Money, "250", gbp(25_000)),
            (Type::Money, "250.5", gbp(25_050)),
            (Type::Money, "0.07", gbp(7)),
            (Type::Money, ".5", gbp(50)),
            (Type::Money, "£250", gbp(25_000)),
            (Type::Money, "£ 19.99", gbp(1_999)),
            (Type::Money, "-£5", gbp(-500)),
            (Type::Money, "£-5.10", gbp(-510)),
            (Type::Money, "-12.30", gbp(-1_230)),
            (Type::Money, "1,250.00", gbp(125_000)),
            (Type::Money, "£1,000,000", gbp(100_000_000)),
            (Type::Money, "250 GBP", gbp(25_000)),
            (Type::Money, "GBP 250.25", gbp(25_025)),
            (Type::Phone, "+44 7700 900001", Value::Phone(Arc::from("+447700900001"))),
            (Type::Phone, "0046700900002", Value::Phone(Arc::from("+46700900002"))),
            (Type::Email, "Ann@Example.com", Value::Email(Arc::from("ann@example.com"))),
            (Type::Date, "2026-12-25", date(2026, 12, 25)),
            (Type::Time, "14:00", Value::Time(840)),
            (Type::Time, "9:05", Value::Time(545)),
            (Type::Time, "00:00", Value::Time(0)),
            (Type::Time, "23:59", Value::Time(1439)),
            (Type::Duration, "500ms", Value::Duration(500)),
            (Type::Duration, "30s", Value::Duration(30_000)),
            (Type::Duration, "5m", Value::Duration(300_000)),
            (Type::Duration, "2h", Value::Duration(7_200_000)),
            (Type::Duration, "1d", Value::Duration(86_400_000)),
            (Type::Duration, "1h 30m", Value::Duration(5_400_000)),
            (Type::Duration, "1m30s", Value::Duration(90_000)),
            (Type::DateTime, "2026-01-05T12:00:00Z", Value::DateTime("2026-01-05T12:00:00Z".parse().unwrap())),
            (Type::Channel, "Voice", Value::Channel(Channel::Voice)),
            (tier.clone(), "gold", Value::Enum(Arc::from("gold"))),
            (tier.clone(), "Platinum", Value::Enum(Arc::from("platinum"))),
            (Type::Text.optional(), "", Value::None),
            (Type::Money.optional(), "  ", Value::None),
            (Type::Phone.optional(), "+447700900004", Value::Phone(Arc::from("+447700900004"))),
            (tier.clone().optional(), "", Value::None),
            (
                Type::List(Box::new(Type::Text)),
                "billing; support",
                list(vec![Value::text("billing"), Value::text("support")]),
            ),
            (Type::List(Box::new(Type::Text)), "", list(vec![])),
            (Type::List(Box::new(Type::Text)).optional(), "", Value::None),
            (
                Type::List(Box::new(Type::Phone)),
                "+447700900001;+46 70 090 0002",
                list(vec![Value::Phone(Arc::from("+447700900001")), Value::Phone(Arc::from("+46700900002"))]),
            ),
            (Type::List(Box::new(tier.clone())), "gold", list(vec![Value::Enum(Arc::from("gold"))])),
        ];
        for (ty, cell, expected) in cases {
            assert_eq!(parse(ty.clone(), cell), Ok(expected), "{cell:?} as {ty}");
        }
    }

    #[test]
    fn cells_that_do_not_fit() {
        let tier = Type::Enum(Arc::from("Tier"));
        let cases: Vec<(Type, &str, &str)> = vec![
            (Type::Text, "", "empty, but `f` must have a value"),
            (Type::Money, "   ", "empty, but `f` must have a value"),
            (Type::Number, "abc", "`abc` is not a number"),
            (Type::Number, "NaN", "`NaN` is not a number"),
            (Type::Number, "inf", "`inf` is not a number"),
            (Type::Bool, "maybe", "`maybe` is not yes or no"),
            (Type::Money, "$250", "`$250` is in USD, but the project's currency is GBP"),
            (Type::Money, "250 EUR", "`250 EUR` is in EUR, but the project's currency is GBP"),
            (Type::Money, "250.505", "`250.505` has more than two decimal places"),
            (Type::Money, "2x0", "`2x0` is not an amount of money"),
            (Type::Money, "£", "`£` is not an amount of money"),
            (Type::Money, "12,50", "`12,50` is not an amount of money"),
            (Type::Money, "1.2.3", "`1.2.3` is not an amount of money"),
            (Type::Money, "#5", "`#5` is not an amount of money"),
            (Type::Money, "--5", "`--5` is not an amount of money"),
            (Type::Money, "99999999999999999999", "`99999999999999999999` is too large an amount"),
            (
                Type::Phone,
                "07700 900001",
                "`07700 900001` is not a phone number in international form, like +447700900001",
            ),
            (Type::Email, "ann@", "`ann@` is not an email address"),
            (Type::Date, "25/12/2026", "`25/12/2026` is not a date like 2026-12-25"),
            (Type::Date, "2026-02-30", "`2026-02-30` is not a date like 2026-12-25"),
            (Type::Date, "20261225", "`20261225` is not a date like 2026-12-25"),
            (Type::Time, "25:00", "`25:00` is not a time of day like 14:00"),
            (Type::Time, "12:60", "`12:60` is not a time of day like 14:00"),
            (Type::Time, "12:00:00", "`12:00:00` is not a time of day like 14:00"),
            (Type::Time, "noon", "`noon` is not a time of day like 14:00"),
            (Type::DateTime, "2026-01-05", "`2026-01-05` is not a date and time like 2026-01-05T12:00:00Z"),
            (Type::Duration, "5 minutes", "`5 minutes` is not a duration like 30s or 1h 30m"),
            (Type::Duration, "30", "`30` is not a duration like 30s or 1h 30m"),
            (Type::Duration, "m", "`m` is not a duration like 30s or 1h 30m"),
            (Type::Channel, "fax", "`fax` is not a channel (voice, chat, email, sms or social)"),
            (tier.clone(), "diamond", "`diamond` is not a `Tier`; expected one of standard, gold, platinum"),
            (tier.clone(), "", "empty, but `f` must have a value"),
            (Type::List(Box::new(Type::Text)), "a;;b", "item 2 of the list is empty"),
            (Type::List(Box::new(Type::Number)), "1; two", "item 2: `two` is not a number"),
        ];
        for (ty, cell, expected) in cases {
            assert_eq!(parse(ty.clone(), cell), Err(expected.to_string()), "{cell:?} as {ty}");
        }
    }
}
