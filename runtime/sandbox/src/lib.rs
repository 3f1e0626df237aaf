//! `extern fn` in a rhai sandbox: the dynamic logic a manager may tune without a release.
//!
//! ```text
//! extern fn risk_score(c: Customer) -> number from "scripts/risk.rhai"
//! ```
//!
//! One configuration serves `check` and every run: [`check_script`] asks it whether a
//! script loads and defines its function, and [`Sandbox::for_bundle`] builds it for a
//! bundle, refusing to start when a script does not load.
//!
//! # The language a script has
//!
//! Functions (`fn`), `let` and `const`, `if`, `switch`, `while`, `loop`, `for … in` over
//! ranges (`0..n`, `0..=n`, which `in` also tests) and lists, `break`, `continue`, `return`, `throw`, `try`/`catch`,
//! numbers (integers and floats), text, chars, bools, `()`, lists `[…]`, maps `#{…}`,
//! indexing and fields, backtick interpolation, `type_of`, anonymous functions `|x| …` and
//! `Fn("name")` with `call` and `curry`.
//!
//! Left out, so a script is pure, bounded and deterministic under the test clock: modules
//! (`no_module`), `eval`, `print` and `debug` (no side channel: a script's only output is
//! its return value), `this` (method-style functions), closures that capture variables
//! (`no_closure`: a closure that captured a map holding itself made a reference cycle
//! of `Arc`s that was never freed, about 65 KB a call), timestamps and the clock
//! (`no_time`), `sleep`, `exit`, blobs, JSON, tags, bit fields and function metadata.
//!
//! # The functions it may call
//!
//! An allow-list (`library.rs`); nothing else is registered.
//!
//! - Numbers: the arithmetic and comparison operators, `abs`, `sign`, `is_zero`,
//!   `is_odd`, `is_even`, `min`, `max`, `floor`, `ceiling`, `round`, `int`, `fraction`,
//!   `sqrt`, `exp`, `ln`, `log`, `sin`, `cos`, `tan` and their inverses and hyperbolic
//!   forms, `to_degrees`, `to_radians`, `is_nan`, `is_finite`, `is_infinite`, `to_int`,
//!   `to_float`, `parse_int`, `parse_float`, `PI`, `E` (rhai's arithmetic, logic and
//!   math packages: constant time on numbers).
//! - Text: `+`, `+=`, comparisons, `len`, `is_empty`, `to_upper`, `to_lower`, `trim`,
//!   `contains`, `starts_with`, `ends_with`, `index_of`, `sub_string`, `split`,
//!   `replace`, `pad`, `truncate`, `to_chars`, and `to_string` of any value.
//! - Lists: `len`, `is_empty`, `push`, `pop`, `shift`, `insert`, `remove`, `clear`,
//!   `truncate`, `pad`, `append`, `+`, `+=`, `==`, `!=`, `contains` (and `in`), `index_of`,
//!   `reverse`, `extract`, `sort` (numbers, texts, chars or bools) and `sort(comparator)`,
//!   `map`, `filter`, `reduce`, `some`, `all`.
//! - Maps: `len`, `is_empty`, `contains` (and `in`), `keys`, `values`, `remove`, `clear`,
//!   `mixin`, `+`, `+=`, `==`, `!=`.
//!
//! A call of anything else fails the call with "no function …".
//!
//! # What a call may cost
//!
//! Every call is bounded by [`Limits`], and every bound is a count, never a clock, so a
//! replay decides each limit exactly as the first run did:
//!
//! - **operations**: 100,000 rhai operations (roughly, expressions evaluated), counted
//!   across comparators and callbacks too;
//! - **work**: 1,000,000 units, one for each list item or map entry a call copies,
//!   compares, searches or walks (at every depth), and one for each 32 bytes of text it
//!   reads or builds. Reading a variable costs its size, since rhai may copy it there (a
//!   list read inside a loop is paid for on each turn: `for x in list` pays once, indexing
//!   `list[i]` in a loop pays the whole list every time). A function pays for what it
//!   touches before it does it: `index_of` and `contains` one unit an item, `==` what the
//!   smaller side holds, `sort` n·log n, a text function its text, each new text it makes
//!   4 units and each key looked up 4. A comparator's or callback's copies are paid for
//!   too;
//! - **sizes**: texts of 64 KB, lists of 10,000 items, maps of 1,000 entries, checked on
//!   every read and on the returned value; calls 32 deep, expressions 64 deep;
//! - **stack**: 1 MiB, watched at every operation, since rhai's depth limit counts calls,
//!   not the size of their frames (a debug build's frames are large enough for 32 calls
//!   through callbacks to overflow a 2 MiB thread). The calling thread needs that much
//!   free; Rust's threads start with 2 MiB.
//!
//! On this machine's release build a unit is at most a few tens of nanoseconds, so the
//! most expensive call stops within about 50 ms of CPU (`tests/cost.rs` runs the patterns
//! that once took seconds). A limit the script swallows (a sort comparator's error, a
//! `catch`) still fails the call. Each failure is an [`ExternError`], which takes the
//! flow's `on error`.
//!
//! Values cross the boundary like this (the product contract in LANGUAGE.md):
//!
//! | flow | rhai |
//! | --- | --- |
//! | record | map, field name → value |
//! | text, phone, email, agent, enum, channel | string |
//! | number | float (an integer returned is taken too) |
//! | money | float of major units (`£250` → `250.0`); back in the project's currency |
//! | bool | bool |
//! | none | `()` |
//! | list | array |
//! | date | `"YYYY-MM-DD"` |
//! | time | `"HH:MM"` |
//! | datetime | RFC 3339 string, `"2026-01-05T12:00:00Z"` |
//! | duration | integer milliseconds |
//!
//! A returned value is checked against the declared return type: a wrong type is
//! [`ExternError::WrongType`], an optional return takes `()` as none, a phone or email
//! return must be one (it is normalized), an enum must be a declared variant.
//! Money has two decimal places of minor units, as everywhere in Switchboard.
//!
//! A script is compiled once by [`Sandbox::load`]; its top-level statements never run,
//! only the function called. Each call starts with a fresh scope, so calls do not share
//! state and a sandbox may serve many sessions at once.

mod library;
mod meter;

use meter::Spent;
use rhai::{CallFnOptions, Dynamic, Engine, EvalAltResult, Scope, AST};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use switchboard_bytecode::bytecode::Bundle;
use switchboard_bytecode::types::{Channel, Type};
use switchboard_bytecode::value::{Currency, Money, Record, Value};
use switchboard_sources::cell::{parse_date, parse_time};
use switchboard_sources::normalize::{normalize_email, normalize_phone};
use switchboard_sources::{FieldSchema, RecordSchema};

/// What `check` asks of an `extern fn`'s script: that `text` loads in the sandbox every
/// run uses ([`Sandbox::for_bundle`]'s) and defines `fn_name` taking `arity` values.
pub fn check_script(path: &str, text: &str, fn_name: &str, arity: usize) -> Result<(), SandboxError> {
    let mut sandbox = Sandbox::new(Limits::default());
    let id = sandbox.load(path, text)?;
    sandbox.scripts[id.0 as usize].defines(fn_name, arity)
}

/// How much one call may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Rhai operations (roughly: expressions evaluated) per call, callbacks included.
    pub max_operations: u64,
    /// Units of work per call: what a call's copies, searches, comparisons and texts
    /// cost beyond their operations (the crate's doc gives the cost model).
    pub max_work: u64,
    /// Bytes of stack a call may use: calls nest far less deep than `max_call_depth` when
    /// each level evaluates deep expressions, and a thread's stack is not rhai's to
    /// overflow. The thread that calls needs this much free, and some to spare.
    pub max_stack: usize,
    /// How deep function calls may nest.
    pub max_call_depth: usize,
    /// How deep expressions may nest, at compile time.
    pub max_expr_depth: usize,
    /// The longest text, in bytes.
    pub max_string_size: usize,
    /// The most items in a list.
    pub max_array_size: usize,
    /// The most entries in a map.
    pub max_map_size: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_operations: 100_000,
            max_work: 1_000_000,
            max_stack: 1024 * 1024,
            max_call_depth: 32,
            max_expr_depth: 64,
            max_string_size: 64 * 1024,
            max_array_size: 10_000,
            max_map_size: 1_000,
        }
    }
}

/// A script loaded into a [`Sandbox`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ScriptId(u32);

/// A script that cannot be loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SandboxError {
    /// The script does not compile (or uses `eval`, or nests too deep); `line` and
    /// `column` are 1-based where rhai knows them.
    Compile { path: String, line: Option<usize>, column: Option<usize>, message: String },
    /// The script compiles but has no `fn FUNCTION` taking `arity` values; `defined`
    /// lists the parameter counts of the functions of that name it has.
    NoFunction { path: String, function: String, arity: usize, defined: Vec<usize> },
}

impl fmt::Display for SandboxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SandboxError::Compile { path, line: Some(line), message, .. } => {
                write!(f, "`{path}` line {line}: {message}")
            }
            SandboxError::Compile { path, line: None, message, .. } => write!(f, "`{path}`: {message}"),
            SandboxError::NoFunction { path, function, arity, .. } => {
                let values = if *arity == 1 { "value" } else { "values" };
                write!(f, "`{path}` has no function `{function}` that takes {arity} {values}")
            }
        }
    }
}

impl std::error::Error for SandboxError {}

/// Why an `extern fn` call failed. Each fails the flow (its `on error` runs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExternError {
    /// A limit stopped the script.
    Limit(String),
    /// The script went wrong (a missing field, a division by zero, a `throw`).
    Runtime(String),
    /// The script returned a value that is not of the declared return type.
    WrongType { expected: String, got: String },
    /// The script has no function of that name taking that many values.
    NoSuchFunction { script: String, function: String, arity: usize },
}

impl fmt::Display for ExternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExternError::Limit(why) => write!(f, "the script was stopped: {why}"),
            ExternError::Runtime(why) => write!(f, "the script failed: {why}"),
            ExternError::WrongType { expected, got } => {
                write!(f, "the script returned {got} where {expected} was expected")
            }
            ExternError::NoSuchFunction { script, function, arity } => {
                let values = if *arity == 1 { "value" } else { "values" };
                write!(f, "`{script}` has no function `{function}` that takes {arity} {values}")
            }
        }
    }
}

impl std::error::Error for ExternError {}

struct Script {
    path: String,
    ast: AST,
}

impl Script {
    /// Whether the script defines `fn_name` taking `arity` values.
    fn defines(&self, fn_name: &str, arity: usize) -> Result<(), SandboxError> {
        let defined: Vec<usize> =
            self.ast.iter_functions().filter(|f| f.name == fn_name).map(|f| f.params.len()).collect();
        if defined.contains(&arity) {
            return Ok(());
        }
        Err(SandboxError::NoFunction { path: self.path.clone(), function: fn_name.to_string(), arity, defined })
    }
}

/// Compiled scripts and the one engine that runs them.
pub struct Sandbox {
    engine: Engine,
    limits: Limits,
    scripts: Vec<Script>,
    currency: Currency,
    records: HashMap<String, RecordSchema>,
    enums: HashMap<String, Vec<String>>,
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let paths: Vec<&str> = self.scripts.iter().map(|s| s.path.as_str()).collect();
        f.debug_struct("Sandbox").field("limits", &self.limits).field("scripts", &paths).finish_non_exhaustive()
    }
}

impl Sandbox {
    /// An empty sandbox whose calls are bounded by `limits`. Money returns are in GBP
    /// until [`Sandbox::set_currency`] says otherwise.
    pub fn new(limits: Limits) -> Sandbox {
        let mut engine = Engine::new_raw();
        library::register(&mut engine);
        // Operators are looked up among the registered functions first, so that the ones
        // that build text pay for it (see `library`).
        engine.set_fast_operators(false);
        for symbol in ["eval", "print", "debug", "this"] {
            engine.disable_symbol(symbol);
        }
        // Reading a variable may copy it: it costs the variable's size. (rhai marks `on_var`
        // deprecated only to say that it is "volatile"; it is the hook for this.)
        #[allow(deprecated)]
        engine.on_var(move |name, _, context| {
            if let Some(value) = context.scope().get(name) {
                fits(value, &limits)?;
                meter::charge(meter::size(value))?;
            }
            Ok(None)
        });
        // The meter counts operations (rhai's own count restarts in every callback).
        engine.on_progress(|_| meter::operation());
        engine.set_strict_variables(true);
        engine.set_fail_on_invalid_map_property(true);
        engine.set_max_operations(0);
        engine.set_max_call_levels(limits.max_call_depth);
        engine.set_max_expr_depths(limits.max_expr_depth, limits.max_expr_depth);
        engine.set_max_string_size(limits.max_string_size);
        engine.set_max_array_size(limits.max_array_size);
        engine.set_max_map_size(limits.max_map_size);
        Sandbox {
            engine,
            limits,
            scripts: Vec::new(),
            currency: Currency::GBP,
            records: HashMap::new(),
            enums: HashMap::new(),
        }
    }

    /// The project's currency: money a script returns is in it.
    pub fn set_currency(&mut self, currency: Currency) {
        self.currency = currency;
    }

    /// Makes a record type returnable (a map is checked field by field against it); the
    /// variants of its enum fields are declared too.
    pub fn declare_record(&mut self, schema: RecordSchema) {
        for field in &schema.fields {
            if let (Some(Type::Enum(name)), Some(variants)) = (enum_of(&field.ty), &field.enum_variants) {
                self.enums.insert(name.to_string(), variants.clone());
            }
        }
        self.records.insert(schema.name.clone(), schema);
    }

    /// Makes an enum returnable: a returned string must be one of `variants`.
    pub fn declare_enum(&mut self, name: &str, variants: Vec<String>) {
        self.enums.insert(name.to_string(), variants);
    }

    /// The sandbox a bundle runs in, the one configuration every run uses: default
    /// limits, the project's currency, every record and enum declared, and every
    /// `extern fn`'s script loaded and checked to define its function. The ids are the
    /// externs', in the bundle's order (externs of one script share its id). The first
    /// script that does not load, or lacks its function, is the error: a bundle whose
    /// scripts cannot run does not start.
    pub fn for_bundle(bundle: &Bundle) -> Result<(Sandbox, Vec<ScriptId>), SandboxError> {
        let mut sandbox = Sandbox::new(Limits::default());
        sandbox.set_currency(bundle.currency.unwrap_or(Currency::GBP));
        for e in &bundle.enums {
            sandbox.declare_enum(&e.name, e.variants.clone());
        }
        for record in &bundle.records {
            let fields = record
                .fields
                .iter()
                .map(|(name, ty)| FieldSchema {
                    name: name.clone(),
                    ty: ty.clone(),
                    enum_variants: match enum_of(ty) {
                        Some(Type::Enum(e)) => bundle.enums.iter().find(|x| *x.name == **e).map(|x| x.variants.clone()),
                        _ => None,
                    },
                })
                .collect();
            sandbox.declare_record(RecordSchema { name: record.name.clone(), fields });
        }
        let mut loaded: HashMap<(&str, &str), ScriptId> = HashMap::new();
        let mut ids = Vec::with_capacity(bundle.externs.len());
        for x in &bundle.externs {
            let id = match loaded.get(&(x.path.as_str(), x.script.as_str())) {
                Some(&id) => id,
                None => {
                    let id = sandbox.load(&x.path, &x.script)?;
                    loaded.insert((&x.path, &x.script), id);
                    id
                }
            };
            sandbox.scripts[id.0 as usize].defines(&x.name, x.params.len())?;
            ids.push(id);
        }
        Ok((sandbox, ids))
    }

    /// Compiles `source` once; `path` names it in messages.
    pub fn load(&mut self, path: &str, source: &str) -> Result<ScriptId, SandboxError> {
        let mut ast = self.engine.compile(source).map_err(|error| SandboxError::Compile {
            path: path.to_string(),
            line: error.position().line(),
            column: error.position().position(),
            message: error.err_type().to_string(),
        })?;
        ast.set_source(path);
        let id = ScriptId(u32::try_from(self.scripts.len()).expect("fewer than 4 billion scripts"));
        self.scripts.push(Script { path: path.to_string(), ast });
        Ok(id)
    }

    /// Calls `fn_name` of `script` with `args` and checks what it returns against `ret`.
    pub fn call(&self, script: ScriptId, fn_name: &str, args: &[Value], ret: &Type) -> Result<Value, ExternError> {
        let script = self
            .scripts
            .get(script.0 as usize)
            .ok_or_else(|| ExternError::Runtime(format!("no script was loaded as {script:?}")))?;
        let defined = script.ast.iter_functions().any(|f| f.name == fn_name && f.params.len() == args.len());
        if !defined {
            return Err(ExternError::NoSuchFunction {
                script: script.path.clone(),
                function: fn_name.to_string(),
                arity: args.len(),
            });
        }
        let args: Vec<Dynamic> = args.iter().map(to_rhai).collect();
        let options = CallFnOptions::new().eval_ast(false).rewind_scope(true);
        let armed = meter::arm(self.limits.max_operations, self.limits.max_work, self.limits.max_stack);
        let result =
            self.engine.call_fn_with_options::<Dynamic>(options, &mut Scope::new(), &script.ast, fn_name, args);
        // A limit the script swallowed (a comparator's error, a `catch`) still fails it.
        let spent = meter::spent();
        drop(armed);
        let result = match (result, spent) {
            (result, Some(spent)) => {
                let at = result.err().map_or_else(|| format!(" (`{}`)", script.path), |e| at(&script.path, &e));
                return Err(self.spent(spent, &at));
            }
            (Err(error), None) => return Err(self.explain(&script.path, &error)),
            (Ok(result), None) => result,
        };
        self.check_size(&result, &script.path)?;
        self.returned(result, ret, "")
    }

    /// A manager-readable account of a failed call.
    fn explain(&self, path: &str, error: &EvalAltResult) -> ExternError {
        let root = error.unwrap_inner();
        let limits = &self.limits;
        let at = at(path, error);
        match root {
            EvalAltResult::ErrorTooManyOperations(_) => self.spent(Spent::Operations, &at),
            EvalAltResult::ErrorTerminated(token, _) if Spent::of(token).is_some() => {
                self.spent(Spent::of(token).unwrap_or(Spent::Operations), &at)
            }
            EvalAltResult::ErrorStackOverflow(_) => ExternError::Limit(format!(
                "it called functions more than {} deep; does it recurse forever?{at}",
                limits.max_call_depth
            )),
            EvalAltResult::ErrorDataTooLarge(what, _) => {
                let why = if what.contains("string") {
                    format!("a text grew longer than {} bytes", limits.max_string_size)
                } else if what.contains("array") {
                    format!("a list grew longer than {} items", limits.max_array_size)
                } else if what.contains("map") {
                    format!("a map grew larger than {} entries", limits.max_map_size)
                } else {
                    format!("{what} grew too large")
                };
                ExternError::Limit(format!("{why}{at}"))
            }
            EvalAltResult::ErrorTooManyVariables(_) | EvalAltResult::ErrorTerminated(..) => {
                ExternError::Limit(format!("{root}{at}"))
            }
            EvalAltResult::ErrorPropertyNotFound(name, _) => ExternError::Runtime(format!("no field `{name}`{at}")),
            EvalAltResult::ErrorVariableNotFound(name, _) => {
                ExternError::Runtime(format!("no value named `{name}`{at}"))
            }
            EvalAltResult::ErrorFunctionNotFound(signature, _) => {
                ExternError::Runtime(format!("no function `{signature}`{at}"))
            }
            EvalAltResult::ErrorArithmetic(message, _) => ExternError::Runtime(format!("{message}{at}")),
            EvalAltResult::ErrorRuntime(value, _) => ExternError::Runtime(format!("it threw `{value}`{at}")),
            other => ExternError::Runtime(format!("{other}{at}")),
        }
    }

    /// The limit a call ran past, in words; `at` says where.
    fn spent(&self, spent: Spent, at: &str) -> ExternError {
        ExternError::Limit(match spent {
            Spent::Operations => {
                format!("it ran past its limit of {} operations; does it loop forever?{at}", self.limits.max_operations)
            }
            Spent::Work => format!(
                "it did more than {} units of work; does it copy or search large values in a loop?{at}",
                self.limits.max_work
            ),
            Spent::Stack => format!(
                "it nested calls deeper than {} KiB of stack; does it recurse too deep?{at}",
                self.limits.max_stack / 1024
            ),
        })
    }

    /// Rhai checks sizes as values pass through calls, not every map insertion; so the
    /// returned value is measured once more, and nothing larger than the limits leaves.
    fn check_size(&self, value: &Dynamic, path: &str) -> Result<(), ExternError> {
        let (mut items, mut entries, mut bytes) = (0, 0, 0);
        measure(value, &mut items, &mut entries, &mut bytes);
        let limits = &self.limits;
        let why = if bytes > limits.max_string_size {
            format!("a text grew longer than {} bytes", limits.max_string_size)
        } else if items > limits.max_array_size {
            format!("a list grew longer than {} items", limits.max_array_size)
        } else if entries > limits.max_map_size {
            format!("a map grew larger than {} entries", limits.max_map_size)
        } else {
            return Ok(());
        };
        Err(ExternError::Limit(format!("{why} (`{path}`)")))
    }

    /// `value` as a flow value of type `ty`; `path` says where in the result it is.
    fn returned(&self, value: Dynamic, ty: &Type, path: &str) -> Result<Value, ExternError> {
        let wrong = |value: &Dynamic| ExternError::WrongType {
            expected: if path.is_empty() { format!("`{ty}`") } else { format!("`{ty}` for {path}") },
            got: describe(value),
        };
        if let Type::Optional(inner) = ty {
            return if value.is_unit() { Ok(Value::None) } else { self.returned(value, inner, path) };
        }
        let converted = match ty {
            Type::Number => number(&value).filter(|n| n.is_finite()).map(Value::Number),
            Type::Bool => value.as_bool().ok().map(Value::Bool),
            Type::Text => text(&value).map(|s| Value::text(&s)),
            Type::Agent => text(&value).filter(|s| !s.trim().is_empty()).map(|s| Value::Agent(Arc::from(s.trim()))),
            Type::Phone => text(&value).and_then(|s| normalize_phone(&s, None)).map(|p| Value::Phone(Arc::from(p))),
            Type::Email => text(&value).and_then(|s| normalize_email(&s)).map(|e| Value::Email(Arc::from(e))),
            Type::Channel => text(&value).and_then(|s| Channel::parse(&s)).map(Value::Channel),
            Type::Date => text(&value).and_then(|s| parse_date(&s)).map(Value::Date),
            Type::Time => text(&value).and_then(|s| parse_time(&s)).map(Value::Time),
            Type::DateTime => text(&value).and_then(|s| s.parse::<jiff::Timestamp>().ok()).map(Value::DateTime),
            Type::Duration => match (value.as_int(), value.as_float()) {
                (Ok(ms), _) => Some(Value::Duration(ms)),
                (_, Ok(ms)) if ms.is_finite() && ms.abs() < 9.0e15 => Some(Value::Duration(ms.round() as i64)),
                _ => None,
            },
            Type::Money => number(&value)
                .map(|major| (major * 100.0).round())
                .filter(|minor| minor.is_finite() && minor.abs() < 9.0e15)
                .map(|minor| Value::Money(Money { minor: minor as i64, currency: self.currency })),
            Type::Enum(name) => {
                let variants = self.enums.get(&**name).ok_or_else(|| {
                    ExternError::Runtime(format!("the enum `{name}` was not declared to the sandbox"))
                })?;
                text(&value)
                    .and_then(|s| variants.iter().find(|v| **v == s).map(|v| Value::Enum(Arc::from(v.as_str()))))
            }
            Type::List(item) => match value.clone().try_cast::<rhai::Array>() {
                Some(items) => {
                    let mut values = Vec::with_capacity(items.len());
                    for (i, item_value) in items.into_iter().enumerate() {
                        let where_ = if path.is_empty() {
                            format!("item {}", i + 1)
                        } else {
                            format!("item {} of {path}", i + 1)
                        };
                        values.push(self.returned(item_value, item, &where_)?);
                    }
                    Some(Value::List(Arc::from(values)))
                }
                None => None,
            },
            Type::Record(name) => {
                let schema = self.records.get(&**name).ok_or_else(|| {
                    ExternError::Runtime(format!("the record `{name}` was not declared to the sandbox"))
                })?;
                match value.clone().try_cast::<rhai::Map>() {
                    Some(map) => Some(self.record_from_map(schema, map, path)?),
                    None => None,
                }
            }
            Type::Optional(_) | Type::None | Type::Regex | Type::Hours | Type::Error => None,
        };
        converted.ok_or_else(|| wrong(&value))
    }

    fn record_from_map(&self, schema: &RecordSchema, mut map: rhai::Map, path: &str) -> Result<Value, ExternError> {
        let mut fields = Vec::with_capacity(schema.fields.len());
        for field in &schema.fields {
            let value = map.remove(field.name.as_str()).unwrap_or(Dynamic::UNIT);
            let where_ = if path.is_empty() {
                format!("field `{}`", field.name)
            } else {
                format!("field `{}` of {path}", field.name)
            };
            fields.push((Arc::from(field.name.as_str()), self.returned(value, &field.ty, &where_)?));
        }
        if let Some(extra) = map.keys().next() {
            return Err(ExternError::WrongType {
                expected: format!("`{}` (which has no field `{extra}`)", schema.name),
                got: format!("a map with field `{extra}`"),
            });
        }
        Ok(Value::Record(Arc::new(Record { type_name: Arc::from(schema.name.as_str()), fields })))
    }
}

/// Where a failed call went wrong: " (`path` line N)", from the innermost error.
fn at(path: &str, error: &EvalAltResult) -> String {
    match error.unwrap_inner().position().line() {
        Some(line) => format!(" (`{path}` line {line})"),
        None => format!(" (`{path}`)"),
    }
}

/// Rhai measures a value when it passes through a call, not when an item is set by
/// index; so every variable read measures its value too, and one grown past a limit
/// stops the script there.
fn fits(value: &Dynamic, limits: &Limits) -> Result<(), Box<EvalAltResult>> {
    let over = match () {
        _ if value.is_map() => value.read_lock::<rhai::Map>().is_some_and(|m| m.len() > limits.max_map_size),
        _ if value.is_array() => value.read_lock::<rhai::Array>().is_some_and(|a| a.len() > limits.max_array_size),
        _ => false,
    };
    if over {
        let what = if value.is_map() { "Size of object map" } else { "Size of array" };
        return Err(EvalAltResult::ErrorDataTooLarge(what.into(), rhai::Position::NONE).into());
    }
    Ok(())
}

fn enum_of(ty: &Type) -> Option<&Type> {
    match ty {
        Type::Optional(inner) | Type::List(inner) => enum_of(inner),
        Type::Enum(_) => Some(ty),
        _ => None,
    }
}

/// A flow value as rhai sees it.
fn to_rhai(value: &Value) -> Dynamic {
    match value {
        Value::None => Dynamic::UNIT,
        Value::Bool(b) => Dynamic::from_bool(*b),
        Value::Number(n) => Dynamic::from_float(*n),
        Value::Text(s) | Value::Phone(s) | Value::Email(s) | Value::Agent(s) | Value::Enum(s) => {
            Dynamic::from(s.to_string())
        }
        Value::Channel(c) => Dynamic::from(c.as_str().to_string()),
        Value::Duration(ms) => Dynamic::from_int(*ms),
        Value::Time(minutes) => Dynamic::from(format!("{:02}:{:02}", minutes / 60, minutes % 60)),
        Value::Date(date) => Dynamic::from(date.to_string()),
        Value::DateTime(at) => Dynamic::from(at.to_string()),
        Value::Money(money) => Dynamic::from_float(money.minor as f64 / 100.0),
        Value::Record(record) => {
            let map: rhai::Map =
                record.fields.iter().map(|(name, value)| (name.as_ref().into(), to_rhai(value))).collect();
            Dynamic::from_map(map)
        }
        Value::List(items) => Dynamic::from_array(items.iter().map(to_rhai).collect()),
    }
}

/// Adds up list items, map entries and text bytes in `value`, as rhai counts them.
fn measure(value: &Dynamic, items: &mut usize, entries: &mut usize, bytes: &mut usize) {
    if let Some(text) = value.read_lock::<rhai::ImmutableString>() {
        *bytes += text.len();
    } else if let Some(array) = value.read_lock::<rhai::Array>() {
        *items += array.len();
        array.iter().for_each(|item| measure(item, items, entries, bytes));
    } else if let Some(map) = value.read_lock::<rhai::Map>() {
        *entries += map.len();
        map.values().for_each(|entry| measure(entry, items, entries, bytes));
    } else if let Some(blob) = value.read_lock::<rhai::Blob>() {
        *items += blob.len();
    }
}

fn number(value: &Dynamic) -> Option<f64> {
    value.as_float().ok().or_else(|| value.as_int().ok().map(|n| n as f64))
}

fn text(value: &Dynamic) -> Option<String> {
    if value.is_string() {
        value.clone().into_string().ok()
    } else {
        value.as_char().ok().map(String::from)
    }
}

/// What a script returned, in the flow language's words.
fn describe(value: &Dynamic) -> String {
    const SHOWN: usize = 40;
    if value.is_unit() {
        return "none".to_string();
    }
    if let Some(s) = text(value) {
        let shown: String = s.chars().take(SHOWN).collect();
        let more = if s.chars().count() > SHOWN { "…" } else { "" };
        return format!("text \"{shown}{more}\"");
    }
    if let Some(n) = number(value) {
        return format!("number {n}");
    }
    if let Ok(b) = value.as_bool() {
        return format!("bool {b}");
    }
    if value.is_array() {
        return "a list".to_string();
    }
    if value.is_map() {
        return "a map".to_string();
    }
    format!("a rhai `{}`", value.type_name())
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_bytecode::bytecode::{EnumInfo, ExternInfo, RecordInfo};

    /// `scripts/risk.rhai` from the acme sample project.
    const RISK: &str = r#"// A manager-tunable risk score between 0 and 1.
fn risk_score(c) {
    let score = 0.0;
    if c.balance > 100.0 { score += 0.4; }
    if c.tier == "standard" { score += 0.3; }
    score
}
"#;

    fn tier() -> Type {
        Type::Enum(Arc::from("Tier"))
    }

    fn customer_schema() -> RecordSchema {
        let field = |name: &str, ty: Type| {
            let enum_variants = enum_of(&ty).map(|_| vec!["standard".into(), "gold".into(), "platinum".into()]);
            FieldSchema { name: name.into(), ty, enum_variants }
        };
        RecordSchema {
            name: "Customer".into(),
            fields: vec![
                field("id", Type::Text),
                field("name", Type::Text),
                field("phone", Type::Phone.optional()),
                field("tier", tier()),
                field("balance", Type::Money),
            ],
        }
    }

    fn customer(tier: &str, balance_minor: i64) -> Value {
        Value::Record(Arc::new(Record {
            type_name: Arc::from("Customer"),
            fields: vec![
                (Arc::from("id"), Value::text("c3")),
                (Arc::from("name"), Value::text("Sam Ortiz")),
                (Arc::from("phone"), Value::Phone(Arc::from("+447700900003"))),
                (Arc::from("tier"), Value::Enum(Arc::from(tier))),
                (Arc::from("balance"), Value::Money(Money { minor: balance_minor, currency: Currency::GBP })),
            ],
        }))
    }

    fn sandbox() -> Sandbox {
        let mut sandbox = Sandbox::new(Limits::default());
        sandbox.declare_record(customer_schema());
        sandbox
    }

    /// Loads `source` and calls `f` with `args`, expecting `ret`.
    fn run(source: &str, f: &str, args: &[Value], ret: &Type) -> Result<Value, ExternError> {
        let mut sandbox = sandbox();
        let id = sandbox.load("test.rhai", source).unwrap();
        sandbox.call(id, f, args, ret)
    }

    #[test]
    fn acme_risk_scores() {
        let mut sandbox = sandbox();
        let risk = sandbox.load("scripts/risk.rhai", RISK).unwrap();
        let score =
            |tier: &str, balance: i64| sandbox.call(risk, "risk_score", &[customer(tier, balance)], &Type::Number);
        let Ok(Value::Number(standard_owing)) = score("standard", 25_000) else {
            panic!("{:?}", score("standard", 25_000))
        };
        assert!((standard_owing - 0.7).abs() < 1e-9, "{standard_owing}");
        assert_eq!(score("standard", 0), Ok(Value::Number(0.3)));
        assert_eq!(score("gold", 25_000), Ok(Value::Number(0.4)));
        assert_eq!(score("gold", 10_000), Ok(Value::Number(0.0)), "£100 is not more than 100");
        assert_eq!(score("platinum", 10_001), Ok(Value::Number(0.4)));
    }

    #[test]
    fn values_cross_into_rhai_as_the_contract_says() {
        let script = r#"
            fn show(v) { type_of(v) + ":" + v }
            fn none(v) { type_of(v) }
            fn field(r, name) { r[name] }
            fn count(xs) { xs.len() }
        "#;
        let mut sandbox = sandbox();
        let id = sandbox.load("show.rhai", script).unwrap();
        let show = |v: Value| sandbox.call(id, "show", &[v], &Type::Text).unwrap().to_string();
        assert_eq!(show(Value::text("hi")), "string:hi");
        assert_eq!(show(Value::Phone(Arc::from("+447700900001"))), "string:+447700900001");
        assert_eq!(show(Value::Email(Arc::from("ann@example.com"))), "string:ann@example.com");
        assert_eq!(show(Value::Agent(Arc::from("agent-7"))), "string:agent-7");
        assert_eq!(show(Value::Enum(Arc::from("gold"))), "string:gold");
        assert_eq!(show(Value::Channel(Channel::Sms)), "string:sms");
        assert_eq!(show(Value::Number(3.5)), "f64:3.5");
        assert_eq!(show(Value::Bool(true)), "bool:true");
        assert_eq!(show(Value::Money(Money { minor: 25_000, currency: Currency::GBP })), "f64:250.0");
        assert_eq!(show(Value::Money(Money { minor: 1_999, currency: Currency::GBP })), "f64:19.99");
        assert_eq!(show(Value::Date(jiff::civil::date(2026, 12, 25))), "string:2026-12-25");
        assert_eq!(show(Value::Time(545)), "string:09:05");
        assert_eq!(show(Value::Duration(90_000)), "i64:90000");
        assert_eq!(show(Value::DateTime("2026-01-05T12:00:00Z".parse().unwrap())), "string:2026-01-05T12:00:00Z");
        assert_eq!(sandbox.call(id, "none", &[Value::None], &Type::Text), Ok(Value::text("()")));
        let list = Value::List(Arc::from(vec![Value::text("a"), Value::text("b")]));
        assert_eq!(sandbox.call(id, "count", &[list], &Type::Number), Ok(Value::Number(2.0)));
        let field =
            |name: &str, ty: Type| sandbox.call(id, "field", &[customer("gold", 1_050), Value::text(name)], &ty);
        assert_eq!(field("tier", tier()), Ok(Value::Enum(Arc::from("gold"))));
        assert_eq!(field("balance", Type::Money), Ok(Value::Money(Money { minor: 1_050, currency: Currency::GBP })));
        assert_eq!(field("phone", Type::Phone), Ok(Value::Phone(Arc::from("+447700900003"))));
    }

    #[test]
    fn returns_are_checked_against_the_declared_type() {
        let money = |minor| Value::Money(Money { minor, currency: Currency::EUR });
        let mut sandbox = sandbox();
        sandbox.set_currency(Currency::EUR);
        sandbox.declare_enum("Tier", vec!["standard".into(), "gold".into(), "platinum".into()]);
        let ret = |value: Dynamic, ty: Type| sandbox.returned(value, &ty, "");
        let s = |text: &str| Dynamic::from(text.to_string());
        let cases: Vec<(Dynamic, Type, Value)> = vec![
            (Dynamic::from_float(0.7), Type::Number, Value::Number(0.7)),
            (Dynamic::from_int(3), Type::Number, Value::Number(3.0)),
            (Dynamic::from_float(250.0), Type::Money, money(25_000)),
            (Dynamic::from_float(19.99), Type::Money, money(1_999)),
            (Dynamic::from_int(-5), Type::Money, money(-500)),
            (Dynamic::from_bool(false), Type::Bool, Value::Bool(false)),
            (s("hello"), Type::Text, Value::text("hello")),
            (Dynamic::from_char('x'), Type::Text, Value::text("x")),
            (s("+44 7700 900001"), Type::Phone, Value::Phone(Arc::from("+447700900001"))),
            (s("Ann@Example.com"), Type::Email, Value::Email(Arc::from("ann@example.com"))),
            (s("agent-7"), Type::Agent, Value::Agent(Arc::from("agent-7"))),
            (s("gold"), tier(), Value::Enum(Arc::from("gold"))),
            (s("chat"), Type::Channel, Value::Channel(Channel::Chat)),
            (s("2026-12-25"), Type::Date, Value::Date(jiff::civil::date(2026, 12, 25))),
            (s("14:00"), Type::Time, Value::Time(840)),
            (Dynamic::from_int(30_000), Type::Duration, Value::Duration(30_000)),
            (Dynamic::UNIT, Type::Number.optional(), Value::None),
            (Dynamic::from_float(1.0), Type::Number.optional(), Value::Number(1.0)),
            (
                Dynamic::from_array(vec![s("a"), s("b")]),
                Type::List(Box::new(Type::Text)),
                Value::List(Arc::from(vec![Value::text("a"), Value::text("b")])),
            ),
        ];
        for (value, ty, expected) in cases {
            assert_eq!(ret(value.clone(), ty.clone()), Ok(expected), "{value:?} as {ty}");
        }
        let long = format!("the script returned text \"{}…\" where `number` was expected", "x".repeat(40));
        let wrong: Vec<(Dynamic, Type, &str)> = vec![
            (s("high"), Type::Number, "the script returned text \"high\" where `number` was expected"),
            (Dynamic::UNIT, Type::Number, "the script returned none where `number` was expected"),
            (Dynamic::from_float(f64::NAN), Type::Number, "the script returned number NaN where `number` was expected"),
            (Dynamic::from_int(1), Type::Bool, "the script returned number 1 where `bool` was expected"),
            (Dynamic::from_bool(true), Type::Text, "the script returned bool true where `text` was expected"),
            (s("07700 900001"), Type::Phone, "the script returned text \"07700 900001\" where `phone` was expected"),
            (s("ann"), Type::Email, "the script returned text \"ann\" where `email` was expected"),
            (s("diamond"), tier(), "the script returned text \"diamond\" where `Tier` was expected"),
            (s("Gold"), tier(), "the script returned text \"Gold\" where `Tier` was expected"),
            (s("25/12/2026"), Type::Date, "the script returned text \"25/12/2026\" where `date` was expected"),
            (s("2.5"), Type::Money, "the script returned text \"2.5\" where `money` was expected"),
            (
                Dynamic::from_array(vec![s("a"), Dynamic::from_int(2)]),
                Type::List(Box::new(Type::Text)),
                "the script returned number 2 where `text` for item 2 was expected",
            ),
            (Dynamic::from_map(rhai::Map::new()), Type::Text, "the script returned a map where `text` was expected"),
            (s(&"x".repeat(100)), Type::Number, &long),
        ];
        for (value, ty, expected) in wrong {
            assert_eq!(
                ret(value.clone(), ty.clone()).map_err(|e| e.to_string()),
                Err(expected.to_string()),
                "{value:?} as {ty}"
            );
        }
    }

    #[test]
    fn a_returned_map_becomes_a_record_field_by_field() {
        let customer_type = Type::Record(Arc::from("Customer"));
        let script = r#"
            fn make(balance) { #{ id: "c7", name: "Kim", tier: "gold", balance: balance } }
            fn typo() { #{ id: "c7", name: "Kim", tier: "gold", balance: 1.0, balanse: 2.0 } }
            fn bad_tier() { #{ id: "c7", name: "Kim", tier: "bronze", balance: 1.0 } }
            fn no_name() { #{ id: "c7", tier: "gold", balance: 1.0 } }
        "#;
        let made = run(script, "make", &[Value::Number(12.5)], &customer_type).unwrap();
        let Value::Record(record) = made else { panic!("{made:?}") };
        assert_eq!(record.type_name.as_ref(), "Customer");
        let names: Vec<&str> = record.fields.iter().map(|(n, _)| n.as_ref()).collect();
        assert_eq!(names, ["id", "name", "phone", "tier", "balance"], "declaration order");
        assert_eq!(record.get("phone"), Some(&Value::None));
        assert_eq!(record.get("balance"), Some(&Value::Money(Money { minor: 1_250, currency: Currency::GBP })));
        let err = |f: &str| run(script, f, &[], &customer_type).unwrap_err().to_string();
        assert_eq!(
            err("typo"),
            "the script returned a map with field `balanse` where `Customer` (which has no field `balanse`) was expected"
        );
        assert_eq!(err("bad_tier"), "the script returned text \"bronze\" where `Tier` for field `tier` was expected");
        assert_eq!(err("no_name"), "the script returned none where `text` for field `name` was expected");
        let unknown = run(script, "make", &[Value::Number(1.0)], &Type::Record(Arc::from("Lead"))).unwrap_err();
        assert_eq!(unknown.to_string(), "the script failed: the record `Lead` was not declared to the sandbox");
    }

    #[test]
    fn a_script_that_loops_forever_is_stopped() {
        let err = run("fn spin() { let n = 0; loop { n += 1; } }", "spin", &[], &Type::Number).unwrap_err();
        assert!(matches!(err, ExternError::Limit(_)), "{err:?}");
        assert_eq!(
            err.to_string(),
            "the script was stopped: it ran past its limit of 100000 operations; does it loop forever? (`test.rhai`)"
        );
        let nested = "fn outer() { inner() } fn inner() { while true {} }";
        assert!(matches!(run(nested, "outer", &[], &Type::Number), Err(ExternError::Limit(_))));
    }

    #[test]
    fn deep_recursion_is_stopped() {
        let err = run("fn down(n) { down(n + 1) }", "down", &[Value::Number(0.0)], &Type::Number).unwrap_err();
        assert!(err.to_string().starts_with("the script was stopped: it called functions more than 32 deep"), "{err}");
        // Within the depth, recursion is fine.
        let fact = "fn fact(n) { if n <= 1.0 { 1.0 } else { n * fact(n - 1.0) } }";
        assert_eq!(run(fact, "fact", &[Value::Number(10.0)], &Type::Number), Ok(Value::Number(3_628_800.0)));
    }

    #[test]
    fn huge_values_are_stopped() {
        let strings = r#"fn grow() { let s = "x"; loop { s += s; } }"#;
        let err = run(strings, "grow", &[], &Type::Text).unwrap_err();
        assert!(err.to_string().starts_with("the script was stopped: a text grew longer than 65536 bytes"), "{err}");
        let lists = "fn grow() { let a = [1]; loop { a += a; } }";
        let err = run(lists, "grow", &[], &Type::Number).unwrap_err();
        assert!(err.to_string().starts_with("the script was stopped: a list grew longer than 10000 items"), "{err}");
        // Rhai checks a map's size when it passes through a call; what is returned is
        // measured again, so an oversized map never leaves the sandbox.
        let maps = "fn grow() { let m = #{}; for i in 0..2000 { m[`k${i}`] = i; } m }";
        let err = run(maps, "grow", &[], &Type::Record(Arc::from("Customer"))).unwrap_err();
        assert_eq!(err, ExternError::Limit("a map grew larger than 1000 entries (`test.rhai`)".into()));
        let maps = "fn grow() { let m = #{}; for i in 0..2000 { m[`k${i}`] = i; } m.len() }";
        let err = run(maps, "grow", &[], &Type::Number).unwrap_err();
        assert!(err.to_string().starts_with("the script was stopped: a map grew larger than 1000 entries"), "{err}");
    }

    #[test]
    fn limits_are_the_sandboxs_own() {
        let limits = Limits { max_operations: 50, ..Limits::default() };
        let mut sandbox = Sandbox::new(limits);
        let id = sandbox.load("count.rhai", "fn count(n) { let i = 0; while i < n { i += 1; } i }").unwrap();
        assert_eq!(sandbox.call(id, "count", &[Value::Number(3.0)], &Type::Number), Ok(Value::Number(3.0)));
        assert!(matches!(
            sandbox.call(id, "count", &[Value::Number(1_000.0)], &Type::Number),
            Err(ExternError::Limit(_))
        ));

        let mut small = Sandbox::new(Limits { max_string_size: 10, ..Limits::default() });
        let echo = small.load("echo.rhai", "fn echo(s) { s }").unwrap();
        assert_eq!(small.call(echo, "echo", &[Value::text("0123456789")], &Type::Text), Ok(Value::text("0123456789")));
        assert_eq!(
            small.call(echo, "echo", &[Value::text("0123456789!")], &Type::Text),
            Err(ExternError::Limit("a text grew longer than 10 bytes (`echo.rhai`)".into()))
        );
    }

    /// Issue 8: `sleep(1e9)` blocked the engine and `sleep(1e300)` panicked the process.
    /// Only the allowed functions exist: sleeping, the clock, printing, `eval`, modules and
    /// everything else outside the list fail cleanly, at load or as a call's error.
    #[test]
    fn only_the_allowed_functions_exist() {
        let mut sandbox = sandbox();
        let refused_at_load = [
            r#"fn f() { eval("1 + 1") }"#,
            r#"fn f() { print("hello"); 1 }"#,
            r#"fn f() { debug("there"); 1 }"#,
            r#"import "os" as os; fn f() { 1 }"#,
            "fn f() { this }",
            "fn f() { let n = 1; let g = || n + 1; g.call() }",
        ];
        for source in refused_at_load {
            let err = sandbox.load("refused.rhai", source).unwrap_err();
            assert!(matches!(&err, SandboxError::Compile { line: Some(1), .. }), "{source}: {err}");
        }
        let missing = [
            "sleep(1e300)",
            "sleep(1e9)",
            "sleep(1)",
            "timestamp()",
            "exit()",
            "exit(1)",
            "parse_json(\"{}\")",
            "#{a: 1}.to_json()",
            "blob(10)",
            "get_fn_metadata_list()",
            "tag()",
            "set_tag(1)",
            "take(1)",
            "[1, 2].chop(1)",
            "[1, 2].zip([3], |a, b| a + b)",
            "\"a\".to_blob()",
            "#{a: 1}.fill_with(#{b: 2})",
            "\"abc\".bytes()",
            "range(0, 10)",
            "back_trace()",
            "[1].dedup()",
            "[1].for_each(|x| x)",
            "[1].drain(0, 1)",
            "[1].find(|x| x > 0)",
            "\"ab\".crop(1)",
            "\"ab\".make_upper()",
            "\"ab\".chars()",
            "5.get_bit(1)",
            "elapsed(1)",
        ];
        for call in missing {
            let source = format!("fn f() {{ {call} }}");
            let id = sandbox.load("missing.rhai", &source).unwrap_or_else(|e| panic!("{call}: {e}"));
            let started = std::time::Instant::now();
            let err = sandbox.call(id, "f", &[], &Type::Number).unwrap_err();
            assert!(started.elapsed() < std::time::Duration::from_secs(1), "{call} took long");
            assert!(matches!(&err, ExternError::Runtime(m) if m.starts_with("no function")), "{call}: {err}");
        }
        // What is allowed works: arithmetic, text, lists, maps, math, logic.
        let allowed = r#"fn f() {
            let words = "Oxygen, dialysis".to_lower().split(", ");
            let m = #{ n: words.len(), first: words[0] };
            let x = sqrt(16.0) + abs(-2) + max(1, 3) + floor(2.7) + parse_int("5") + "ab".len();
            if "oxygen" in words && m.first.contains("oxy") && !m.is_empty() && 3 in 0..=3 { x + m.n } else { 0 }
        }"#;
        let id = sandbox.load("allowed.rhai", allowed).unwrap();
        assert_eq!(sandbox.call(id, "f", &[], &Type::Number), Ok(Value::Number(20.0)));
    }

    #[test]
    fn mistakes_read_well() {
        let mut sandbox = sandbox();
        let syntax = sandbox.load("scripts/bad.rhai", "fn f( {").unwrap_err();
        assert!(syntax.to_string().starts_with("`scripts/bad.rhai` line 1: "), "{syntax}");
        let typo = sandbox.load("typo.rhai", "fn f(c) { score }").unwrap_err();
        assert!(typo.to_string().contains("score"), "{typo}");
        let id = sandbox.load("scripts/risk.rhai", RISK).unwrap();
        assert_eq!(
            sandbox.call(id, "risk", &[customer("gold", 0)], &Type::Number).unwrap_err().to_string(),
            "`scripts/risk.rhai` has no function `risk` that takes 1 value"
        );
        assert_eq!(
            sandbox.call(id, "risk_score", &[], &Type::Number),
            Err(ExternError::NoSuchFunction {
                script: "scripts/risk.rhai".into(),
                function: "risk_score".into(),
                arity: 0
            })
        );
        let field = sandbox.load("field.rhai", "fn f(c) {\n  c.balanse\n}").unwrap();
        assert_eq!(
            sandbox.call(field, "f", &[customer("gold", 0)], &Type::Number).unwrap_err().to_string(),
            "the script failed: no field `balanse` (`field.rhai` line 2)"
        );
        let thrown = sandbox.load("throw.rhai", r#"fn f() { throw "no score today" }"#).unwrap();
        assert_eq!(
            sandbox.call(thrown, "f", &[], &Type::Number).unwrap_err().to_string(),
            "the script failed: it threw `no score today` (`throw.rhai` line 1)"
        );
        let other = Sandbox::new(Limits::default());
        assert!(matches!(other.call(id, "risk_score", &[], &Type::Number), Err(ExternError::Runtime(_))));
    }

    #[test]
    fn calls_share_no_state_and_the_sandbox_is_shareable() {
        fn shareable<T: Send + Sync>(_: &T) {}
        let mut sandbox = sandbox();
        let id = sandbox.load("counter.rhai", "let total = 0;\nfn bump(n) { n + 1 }").unwrap();
        shareable(&sandbox);
        let sandbox = Arc::new(sandbox);
        let threads: Vec<_> = (0..4)
            .map(|i| {
                let sandbox = sandbox.clone();
                std::thread::spawn(move || sandbox.call(id, "bump", &[Value::Number(i as f64)], &Type::Number))
            })
            .collect();
        for (i, thread) in threads.into_iter().enumerate() {
            assert_eq!(thread.join().unwrap(), Ok(Value::Number(i as f64 + 1.0)));
        }
    }

    fn extern_fn(name: &str, path: &str, script: &str, params: usize, ret: Type) -> ExternInfo {
        ExternInfo {
            name: name.into(),
            path: path.into(),
            script: script.into(),
            params: vec![Type::Number; params],
            ret,
        }
    }

    #[test]
    fn a_bundle_gets_one_sandbox_with_its_scripts_records_enums_and_currency() {
        let lead = Type::Record(Arc::from("Lead"));
        let bundle = Bundle {
            currency: Some(Currency::EUR),
            records: vec![RecordInfo {
                name: "Lead".into(),
                fields: vec![("name".into(), Type::Text), ("tier".into(), tier().optional())],
            }],
            enums: vec![EnumInfo { name: "Tier".into(), variants: vec!["gold".into(), "standard".into()] }],
            externs: vec![
                extern_fn(
                    "fee",
                    "scripts/money.rhai",
                    "fn fee(n) { n * 2.5 }\nfn lead() { #{ name: \"Kim\", tier: \"gold\" } }",
                    1,
                    Type::Money,
                ),
                extern_fn(
                    "lead",
                    "scripts/money.rhai",
                    "fn fee(n) { n * 2.5 }\nfn lead() { #{ name: \"Kim\", tier: \"gold\" } }",
                    0,
                    lead.clone(),
                ),
                extern_fn("twice", "scripts/twice.rhai", "fn twice(n) { n * 2 }", 1, Type::Number),
            ],
            ..Bundle::default()
        };
        let (sandbox, ids) = Sandbox::for_bundle(&bundle).unwrap();
        assert_eq!(ids.len(), 3);
        assert_eq!(ids[0], ids[1], "two externs of one script share it");
        assert_ne!(ids[0], ids[2]);
        assert_eq!(
            sandbox.call(ids[0], "fee", &[Value::Number(2.0)], &Type::Money),
            Ok(Value::Money(Money { minor: 500, currency: Currency::EUR }))
        );
        let Ok(Value::Record(made)) = sandbox.call(ids[1], "lead", &[], &lead) else { panic!("a lead") };
        assert_eq!(made.get("tier"), Some(&Value::Enum(Arc::from("gold"))), "a record no source reads is declared too");
        assert_eq!(sandbox.call(ids[2], "twice", &[Value::Number(4.0)], &Type::Number), Ok(Value::Number(8.0)));
    }

    #[test]
    fn a_bundle_whose_script_cannot_run_does_not_start() {
        let bundle = |script: &str, params: usize| Bundle {
            externs: vec![
                extern_fn("one", "scripts/one.rhai", "fn one() { 1 }", 0, Type::Number),
                extern_fn("score", "scripts/score.rhai", script, params, Type::Number),
            ],
            ..Bundle::default()
        };
        let err = Sandbox::for_bundle(&bundle("fn score(n) {\n  n *\n}", 1)).unwrap_err();
        assert!(
            matches!(&err, SandboxError::Compile { path, line: Some(3), .. } if path == "scripts/score.rhai"),
            "{err:?}"
        );
        let err = Sandbox::for_bundle(&bundle("fn score(n) { n * weight }", 1)).unwrap_err();
        assert!(
            err.to_string().starts_with("`scripts/score.rhai` line 1: ") && err.to_string().contains("weight"),
            "{err}"
        );
        let err = Sandbox::for_bundle(&bundle("fn score(n) { n }", 2)).unwrap_err();
        assert_eq!(
            err,
            SandboxError::NoFunction {
                path: "scripts/score.rhai".into(),
                function: "score".into(),
                arity: 2,
                defined: vec![1]
            }
        );
        assert_eq!(err.to_string(), "`scripts/score.rhai` has no function `score` that takes 2 values");
        assert!(Sandbox::for_bundle(&bundle("fn score(n) { n }", 1)).is_ok());
    }

    #[test]
    fn check_script_asks_the_same_configuration() {
        assert_eq!(check_script("risk.rhai", RISK, "risk_score", 1), Ok(()));
        let err = check_script("bad.rhai", "fn f(c) {\n  let x = 1\n  x\n}", "f", 1).unwrap_err();
        let SandboxError::Compile { line, column, message, .. } = &err else { panic!("{err:?}") };
        assert_eq!((*line, *column), (Some(3), Some(3)), "{message}");
        assert_eq!(
            check_script("risk.rhai", RISK, "risk_score", 2),
            Err(SandboxError::NoFunction {
                path: "risk.rhai".into(),
                function: "risk_score".into(),
                arity: 2,
                defined: vec![1]
            })
        );
        assert!(matches!(
            check_script("risk.rhai", RISK, "risk", 1),
            Err(SandboxError::NoFunction { defined, .. }) if defined.is_empty()
        ));
        // What runs refuse, `check` refuses: strict variables and no `eval`.
        assert!(matches!(check_script("t.rhai", "fn f() { score }", "f", 0), Err(SandboxError::Compile { .. })));
        assert!(matches!(check_script("t.rhai", "fn f() { eval(\"1\") }", "f", 0), Err(SandboxError::Compile { .. })));
    }

    /// Issue 8: a sort comparator that hit the limit had its error swallowed (rhai's sort
    /// falls back to ordering by type), and the script returned a normal value.
    #[test]
    fn a_limit_in_a_comparator_or_a_catch_still_fails_the_call() {
        let spin = "fn f() { let a = [3, 1, 2]; a.sort(|x, y| { loop {} }); 7 }";
        let err = run(spin, "f", &[], &Type::Number).unwrap_err();
        assert!(err.to_string().contains("operations"), "{err}");
        let heavy = "fn cmp(x, y) { let b = []; b.pad(9999, 1); loop { b.index_of(2); } }\n\
                     fn f() { let a = [3, 1, 2]; a.sort(Fn(\"cmp\")); 7 }";
        let err = run(heavy, "f", &[], &Type::Number).unwrap_err();
        assert!(err.to_string().contains("units of work"), "{err}");
        let callback = "fn f() { [1, 2].map(|x| { loop {} }); 7 }";
        assert!(matches!(run(callback, "f", &[], &Type::Number), Err(ExternError::Limit(_))));
        let caught = "fn spin() { loop {} }\nfn f() { try { spin() } catch (e) { } 7 }";
        assert!(matches!(run(caught, "f", &[], &Type::Number), Err(ExternError::Limit(_))));
        let caught = "fn heavy() { let b = []; b.pad(9999, 1); loop { b.index_of(2); } }\n\
                      fn f() { try { heavy() } catch (e) { } 7 }";
        assert!(matches!(run(caught, "f", &[], &Type::Number), Err(ExternError::Limit(_))));
        // A comparator's own mistakes fail the sort too, instead of a quiet type order.
        let thrown = r#"fn f() { let a = [3, 1, 2]; a.sort(|x, y| { throw "no order" }); 7 }"#;
        assert_eq!(
            run(thrown, "f", &[], &Type::Number).unwrap_err().to_string(),
            "the script failed: it threw `no order` (`test.rhai` line 1)"
        );
        let text = r#"fn f() { let a = [3, 1, 2]; a.sort(|x, y| "later"); 7 }"#;
        assert!(matches!(run(text, "f", &[], &Type::Number), Err(ExternError::Runtime(_))));
        // And a good comparator sorts, stably.
        let good = "fn f() { let a = [[2, 1], [1, 2], [2, 3], [1, 4]]; a.sort(|x, y| x[0] - y[0]); a.map(|p| p[1]) }";
        let sorted = run(good, "f", &[], &Type::List(Box::new(Type::Number))).unwrap();
        assert_eq!(
            sorted.to_string(),
            Value::List(Arc::from(vec![2.0, 4.0, 1.0, 3.0].into_iter().map(Value::Number).collect::<Vec<_>>()))
                .to_string()
        );
    }

    /// Found by the property test: recursion whose every level evaluates deep
    /// expressions and callbacks overflowed a 2 MiB thread (an abort, not an error) well
    /// before 32 calls deep, in a debug build. The meter stops a call that takes more
    /// than its stack budget.
    #[test]
    fn deep_calls_stop_before_the_stack_runs_out() {
        const NESTED: &str = r#"fn g(x) { [].len() }
fn h(x, y) { let v1 = #{}; h(h((h([1, 2], 3) + "x".to_chars()).filter(|p| ([1, 2].extract(2, -1).index_of(([1, 2] + [1, 2])) >= #{ k: 1 }.k.index_of("a,b,c".sub_string(10, 10000)))), y), parse_int("42")) }
fn f(n, s) { for v2 in #{ k: true, n: ["lives alone".to_string().contains("".to_lower()), ((1.0 >= 3) in #{ k: 1 }.values())] }.keys() { let v3 = h([true, 100.0], [1, 2].filter(|p| (2.5 == 0.0)).reduce(|p, q| p + q, 0)); s.pad(10000, [#{ k: 1 }["n"], -9223372036854775808].to_string()); min(-1e300, (parse_int("9223372036854775807") + `ab-${"a,b,c"}`.len())); } #{}.k.split(type_of(sqrt(1.0 + 0.0))).reduce(|p, q| p + q, 0); parse_int("9223372036854775807") }"#;
        let thread = std::thread::Builder::new().stack_size(2 << 20).spawn(|| {
            let mut sandbox = sandbox();
            let id = sandbox.load("nested.rhai", NESTED).unwrap();
            let list = Value::List(Arc::from(vec![Value::Number(1.0), Value::Number(2.0)]));
            sandbox.call(id, "f", &[list, Value::None], &Type::Text)
        });
        let result = thread.unwrap().join().expect("no overflow");
        assert!(matches!(result, Err(ExternError::Limit(_))), "{result:?}");
        let mut small = Sandbox::new(Limits { max_stack: 64 * 1024, ..Limits::default() });
        let id = small.load("down.rhai", "fn down(n) { if n > 0 { 1 + down(n - 1) } else { 0 } }").unwrap();
        assert_eq!(
            small.call(id, "down", &[Value::Number(30.0)], &Type::Number).unwrap_err().to_string(),
            "the script was stopped: it nested calls deeper than 64 KiB of stack; does it recurse too deep? (`down.rhai`)"
        );
        assert_eq!(small.call(id, "down", &[Value::Number(0.0)], &Type::Number), Ok(Value::Number(0.0)));
    }
}
