//! Table-driven tests of the one cell reader: (type, cell) → value or message, and whole
//! CSV files → records or the row and column at fault.

use super::*;
use crate::value::Money;

fn field(ty: Type) -> FieldSchema {
    let enum_variants = match base_type(&ty) {
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
        (Type::Phone, "07700 900001", "`07700 900001` is not a phone number in international form, like +447700900001"),
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

fn schema(fields: Vec<(&str, Type)>) -> RecordSchema {
    RecordSchema {
        name: "Row".into(),
        fields: fields.into_iter().map(|(name, ty)| FieldSchema { name: name.into(), ..field(ty) }).collect(),
    }
}

fn people() -> RecordSchema {
    schema(vec![
        ("id", Type::Text),
        ("name", Type::Text),
        ("tier", Type::Enum(Arc::from("Tier"))),
        ("joined", Type::Date.optional()),
        ("tags", Type::List(Box::new(Type::Text))),
    ])
}

fn read(csv: &str) -> Result<Vec<Vec<Value>>, Vec<String>> {
    match read_csv(&people(), Currency::GBP, csv.as_bytes(), 3) {
        Ok(records) => Ok(records.iter().map(|r| r.fields.iter().map(|(_, v)| v.clone()).collect()).collect()),
        Err(refused) => {
            let mut all: Vec<String> = refused.errors.iter().map(ToString::to_string).collect();
            if refused.more > 0 {
                all.push(format!("and {} more", refused.more));
            }
            Err(all)
        }
    }
}

#[test]
fn csv_files_that_read() {
    let gold = || Value::Enum(Arc::from("gold"));
    let cases: Vec<(&str, Vec<Vec<Value>>)> = vec![
        ("id,name,tier,joined,tags\n", vec![]),
        (
            "id,name,tier,joined,tags\nc1,Ann,gold,2026-01-02,a;b\n",
            vec![vec![
                Value::text("c1"),
                Value::text("Ann"),
                gold(),
                date(2026, 1, 2),
                list(vec![Value::text("a"), Value::text("b")]),
            ]],
        ),
        // Blank cells: empty text, none, the empty list; spaces around cells and names.
        (
            " id , name ,tier,joined,tags\r\nc1,  ,Gold,,\r\n",
            vec![vec![Value::text("c1"), Value::text(""), gold(), Value::None, list(vec![])]],
        ),
        // A byte-order mark, columns in another order and case, an extra column, no
        // column for the optional field, and no line break at the end.
        (
            "\u{feff}NOTES,Tags,TIER,Name,ID\nhi,,gold,Bo,c2",
            vec![vec![Value::text("c2"), Value::text("Bo"), gold(), Value::None, list(vec![])]],
        ),
        // Quoted cells hold commas, quotes and line breaks.
        (
            "id,name,tier,joined,tags\n\"c3\",\"Lind, \"\"Bo\"\"\nJr\",gold,,\"x, y\"\n",
            vec![vec![
                Value::text("c3"),
                Value::text("Lind, \"Bo\"\nJr"),
                gold(),
                Value::None,
                list(vec![Value::text("x, y")]),
            ]],
        ),
    ];
    for (csv, expected) in cases {
        assert_eq!(read(csv), Ok(expected), "{csv:?}");
    }
}

#[test]
fn csv_files_that_are_refused_name_the_row_and_column() {
    let header = "id,name,tier,joined,tags\n";
    let cases: Vec<(String, Vec<&str>)> = vec![
        ("id,name\n".into(), vec!["the data has no columns `tier`, `tags`"]),
        (String::new(), vec!["the data has no columns `id`, `name`, `tier`, `tags`"]),
        ("id,name,TIER,Tier,tags\n".into(), vec!["the data has 2 columns for field `tier`"]),
        (format!("{header}c1,Ann,,,\n"), vec!["row 2, column `tier`: empty, but `tier` must have a value"]),
        (
            format!("{header}c1,Ann,gold,2026-02-30,\nc2,Bo,silver,,\n"),
            vec![
                "row 2, column `joined`: `2026-02-30` is not a date like 2026-12-25",
                "row 3, column `tier`: `silver` is not a `Tier`; expected one of standard, gold, platinum",
            ],
        ),
        // A quoted cell over two lines: the next row starts on line 4.
        (
            format!("{header}c1,\"Ann\nBaker\",gold,,\nc2,Bo,gold,soon,\n"),
            vec!["row 4, column `joined`: `soon` is not a date like 2026-12-25"],
        ),
        (format!("{header}c1,Ann,gold\n"), vec!["row 2: 3 cells, but the header names 5 columns"]),
        (format!("{header}c1,Ann,gold,,,extra\n"), vec!["row 2: 6 cells, but the header names 5 columns"]),
        (
            format!("{header}{}", "c1,Ann,lead,,\n".repeat(5)),
            vec![
                "row 2, column `tier`: `lead` is not a `Tier`; expected one of standard, gold, platinum",
                "row 3, column `tier`: `lead` is not a `Tier`; expected one of standard, gold, platinum",
                "row 4, column `tier`: `lead` is not a `Tier`; expected one of standard, gold, platinum",
                "and 2 more",
            ],
        ),
        // A quoted cell that is never closed swallows the rest of the file: refused.
        (
            format!("{header}c1,\"Ann,gold,,\nc2,Bo,gold,,\n"),
            vec!["row 2: a quoted cell is never closed (a `\"` is missing)"],
        ),
        (format!("{header}c1,Ann,gold,,\"a;b"), vec!["row 2: a quoted cell is never closed (a `\"` is missing)"]),
        (format!("{header}c1,Ann,gold,,\"a\"\"\n"), vec!["row 2: a quoted cell is never closed (a `\"` is missing)"]),
        ("\"id,name,tier,joined,tags\n".into(), vec!["row 1: a quoted cell is never closed (a `\"` is missing)"]),
    ];
    for (csv, expected) in cases {
        assert_eq!(read(&csv), Err(expected.iter().map(ToString::to_string).collect()), "{csv:?}");
    }
}

#[test]
fn quotes_inside_a_cell_do_not_open_one() {
    // A quote that is not a cell's first character is text, as the `csv` crate reads it.
    let csv = "id,name,tier,joined,tags\nc1,5\" screen,gold,,\nc2, \"Bo,gold,,\n";
    let rows = read(csv).unwrap();
    assert_eq!(rows[0][1], Value::text("5\" screen"));
    assert_eq!(rows[1][1], Value::text("\"Bo"));
}

#[test]
fn text_that_is_not_utf8_is_refused() {
    let mut bytes = b"id,name,tier,joined,tags\nc1,".to_vec();
    bytes.extend_from_slice(&[0xff, 0xfe]);
    bytes.extend_from_slice(b",gold,,\n");
    let refused = read_csv(&people(), Currency::GBP, &bytes, 1).unwrap_err();
    assert_eq!(refused.first().to_string(), "row 2: not UTF-8 text");
}

#[test]
fn schemas_a_cell_cannot_hold_are_refused() {
    let cases: Vec<(RecordSchema, &str)> = vec![
        (schema(vec![("a", Type::Text), ("a", Type::Number)]), "`Row` has two fields named `a`"),
        (
            schema(vec![("owner", Type::Record(Arc::from("Agent")))]),
            "field `owner` is the record type `Agent`, which a data cell cannot hold",
        ),
        (
            schema(vec![("m", Type::List(Box::new(Type::List(Box::new(Type::Text)))))]),
            "field `m` is a list of `[text]`, which a data cell cannot hold",
        ),
        (schema(vec![("h", Type::Hours)]), "field `h` is of type `hours`, which a data cell cannot hold"),
        (
            RecordSchema {
                name: "Row".into(),
                fields: vec![FieldSchema { name: "t".into(), ty: Type::Enum(Arc::from("Tier")), enum_variants: None }],
            },
            "field `t` is an enum but its variants are not given",
        ),
    ];
    for (schema, expected) in cases {
        let refused = read_csv(&schema, Currency::GBP, b"a\n", 1).unwrap_err();
        assert_eq!(refused.first(), &ReadError::Schema(expected.to_string()));
    }
}
