//! What a declared source holds: the record type of its rows, which fields a look-up may
//! match on, how long a look-up may take and how long its answers are kept.
//!
//! These are plain data; the engine builds them from the compiled bundle.

use super::SourceError;
use serde::{Deserialize, Serialize};
use switchboard_bytecode::value::Currency;

pub use switchboard_bytecode::cell::{base_type, FieldSchema, RecordSchema};

/// A `source` declaration, ready for the data behind it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceSpec {
    pub name: String,
    pub schema: RecordSchema,
    /// Names of the fields a look-up may match on (`key phone, email, handle`).
    pub keys: Vec<String>,
    /// A look-up that takes longer than this gives none (`timeout 500ms`).
    pub timeout_ms: i64,
    /// How long an answer is kept (`cache 5m`); `None` keeps nothing.
    pub cache_ms: Option<i64>,
    /// The project's currency: money cells without a symbol are in it.
    pub currency: Currency,
}

impl SourceSpec {
    /// Checks that rows of this schema can be read from cells and that every key names a
    /// field a look-up can match on. Sources call this when they are built.
    pub fn check(&self) -> Result<(), SourceError> {
        let fail = |message: String| Err(SourceError::Schema { source: self.name.clone(), message });
        self.schema.check().or_else(fail)?;
        if self.keys.is_empty() {
            return fail("a source needs at least one `key` field".to_string());
        }
        for key in &self.keys {
            if self.schema.field(key).is_none() {
                return fail(format!("key `{key}` is not a field of `{}`", self.schema.name));
            }
        }
        if self.timeout_ms <= 0 {
            return fail(format!("the timeout must be longer than zero, not {}ms", self.timeout_ms));
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::Arc;
    use switchboard_bytecode::types::Type;

    fn field(name: &str, ty: Type) -> FieldSchema {
        let enum_variants = match base_type(&ty) {
            Type::Enum(_) => Some(vec!["standard".into(), "gold".into(), "platinum".into()]),
            _ => None,
        };
        FieldSchema { name: name.into(), ty, enum_variants }
    }

    fn opt(ty: Type) -> Type {
        ty.optional()
    }

    /// `record Customer` and `source crm` from the acme sample project.
    pub(crate) fn crm() -> SourceSpec {
        SourceSpec {
            name: "crm".into(),
            schema: RecordSchema {
                name: "Customer".into(),
                fields: vec![
                    field("id", Type::Text),
                    field("name", Type::Text),
                    field("phone", opt(Type::Phone)),
                    field("email", opt(Type::Email)),
                    field("handle", opt(Type::Text)),
                    field("tier", Type::Enum(Arc::from("Tier"))),
                    field("language", Type::Text),
                    field("country", Type::Text),
                    field("last_agent", opt(Type::Agent)),
                    field("balance", Type::Money),
                ],
            },
            keys: vec!["phone".into(), "email".into(), "handle".into()],
            timeout_ms: 500,
            cache_ms: Some(300_000),
            currency: Currency::GBP,
        }
    }

    /// `record Warranty` and `source warranties` from the acme sample project.
    pub(crate) fn warranties() -> SourceSpec {
        SourceSpec {
            name: "warranties".into(),
            schema: RecordSchema {
                name: "Warranty".into(),
                fields: vec![
                    field("customer_id", Type::Text),
                    field("product", Type::Text),
                    field("active", Type::Bool),
                ],
            },
            keys: vec!["customer_id".into()],
            timeout_ms: 500,
            cache_ms: None,
            currency: Currency::GBP,
        }
    }

    #[test]
    fn the_acme_sources_are_well_formed() {
        assert_eq!(crm().check(), Ok(()));
        assert_eq!(warranties().check(), Ok(()));
    }

    #[test]
    fn ill_formed_specs_say_what_is_wrong() {
        type Change = Box<dyn Fn(&mut SourceSpec)>;
        let cases: Vec<(&str, Change)> = vec![
            ("key `mobile` is not a field of `Customer`", Box::new(|s| s.keys.push("mobile".into()))),
            ("a source needs at least one `key` field", Box::new(|s| s.keys.clear())),
            ("the timeout must be longer than zero, not 0ms", Box::new(|s| s.timeout_ms = 0)),
            (
                "field `tier` is an enum but its variants are not given",
                Box::new(|s| s.schema.fields[5].enum_variants = None),
            ),
            (
                "field `owner` is the record type `Agent`, which a data cell cannot hold",
                Box::new(|s| s.schema.fields.push(field("owner", Type::Record(Arc::from("Agent"))))),
            ),
            (
                "field `tags` is a list of `[text]`, which a data cell cannot hold",
                Box::new(|s| {
                    s.schema.fields.push(field("tags", Type::List(Box::new(Type::List(Box::new(Type::Text))))))
                }),
            ),
            ("`Customer` has two fields named `name`", Box::new(|s| s.schema.fields.push(field("name", Type::Text)))),
        ];
        for (expected, change) in cases {
            let mut spec = crm();
            change(&mut spec);
            let err = spec.check().expect_err(expected);
            assert_eq!(err.to_string(), format!("source `crm`: {expected}"));
        }
    }
}
