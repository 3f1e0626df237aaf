//! The functions a script may call: an allow-list, each charging the meter for what it
//! touches. Nothing else is registered: no clock, no sleep, no printing, no `eval`, no
//! blobs, no JSON, no timestamps. The list, with what each costs, is in the crate's doc.

use crate::meter::{charge, size, text_units};
use rhai::packages::{ArithmeticPackage, BasicMathPackage, LogicPackage, Package};
use rhai::{
    Array, Dynamic, Engine, EvalAltResult, FnPtr, ImmutableString, Map, NativeCallContext, Position, FLOAT, INT,
};
use std::cmp::Ordering;

type Result<T> = std::result::Result<T, Box<EvalAltResult>>;

/// Units for each new text a function makes (an allocation, then a copy).
const NEW_TEXT: u64 = 4;
/// Units for each look-up by key.
const LOOK_UP: u64 = 4;

/// Registers the allowed functions on `engine` (a raw one).
pub(crate) fn register(engine: &mut Engine) {
    // Numbers and truth: constant-time functions on numbers and bools only.
    engine.register_global_module(ArithmeticPackage::new().as_shared_module());
    engine.register_global_module(LogicPackage::new().as_shared_module());
    engine.register_global_module(BasicMathPackage::new().as_shared_module());
    engine.register_iterator::<std::ops::Range<INT>>();
    engine.register_iterator::<std::ops::RangeInclusive<INT>>();
    engine.register_fn("contains", |r: &mut std::ops::Range<INT>, n: INT| r.contains(&n));
    engine.register_fn("contains", |r: &mut std::ops::RangeInclusive<INT>, n: INT| r.contains(&n));
    engine.register_iterator::<Array>();
    text(engine);
    lists(engine);
    maps(engine);
    values(engine);
}

fn runtime(message: impl Into<String>) -> Box<EvalAltResult> {
    EvalAltResult::ErrorRuntime(Dynamic::from(message.into()), Position::NONE).into()
}

fn too_large(what: &str) -> Box<EvalAltResult> {
    EvalAltResult::ErrorDataTooLarge(what.into(), Position::NONE).into()
}

/// Fails when a text of `bytes` would pass the engine's limit, before it is built.
fn text_fits(ctx: &NativeCallContext, bytes: usize) -> Result<()> {
    let max = ctx.engine().max_string_size();
    if max > 0 && bytes > max {
        return Err(too_large("Length of string"));
    }
    Ok(())
}

fn list_fits(ctx: &NativeCallContext, items: usize) -> Result<()> {
    let max = ctx.engine().max_array_size();
    if max > 0 && items > max {
        return Err(too_large("Size of array/BLOB"));
    }
    Ok(())
}

/// A character position as rhai counts it: from the start, or from the end when negative.
fn char_start(text: &str, start: INT) -> usize {
    if start >= 0 {
        usize::try_from(start).unwrap_or(usize::MAX)
    } else {
        let from_end = usize::try_from(start.unsigned_abs()).unwrap_or(usize::MAX);
        text.chars().count().saturating_sub(from_end)
    }
}

/// An item position of a list of `len`: from the start, or from the end when negative.
fn item_index(len: usize, index: INT) -> Option<usize> {
    if index >= 0 {
        usize::try_from(index).ok().filter(|&i| i < len)
    } else {
        let from_end = usize::try_from(index.unsigned_abs()).ok()?;
        len.checked_sub(from_end)
    }
}

fn to_int(n: usize) -> INT {
    INT::try_from(n).unwrap_or(INT::MAX)
}

/// The text a value prints as, charged for its size.
pub(crate) fn display(value: &Dynamic) -> Result<String> {
    charge(size(value))?;
    Ok(value.to_string())
}

fn text(engine: &mut Engine) {
    engine.register_fn("len", |s: &mut ImmutableString| -> Result<INT> {
        charge(text_units(s.len()))?;
        Ok(to_int(s.chars().count()))
    });
    engine.register_fn("is_empty", |s: &mut ImmutableString| s.is_empty());
    engine.register_fn("to_upper", |s: &mut ImmutableString| -> Result<ImmutableString> {
        charge(2 * text_units(s.len()))?;
        Ok(s.to_uppercase().into())
    });
    engine.register_fn("to_lower", |s: &mut ImmutableString| -> Result<ImmutableString> {
        charge(2 * text_units(s.len()))?;
        Ok(s.to_lowercase().into())
    });
    engine.register_fn("to_upper", |c: char| c.to_uppercase().next().unwrap_or(c));
    engine.register_fn("to_lower", |c: char| c.to_lowercase().next().unwrap_or(c));
    engine.register_fn("trim", |s: &mut ImmutableString| -> Result<()> {
        charge(text_units(s.len()))?;
        let trimmed = s.trim();
        if trimmed.len() != s.len() {
            *s = trimmed.to_string().into();
        }
        Ok(())
    });
    engine.register_fn("contains", |s: &mut ImmutableString, find: ImmutableString| -> Result<bool> {
        charge(text_units(s.len()) + text_units(find.len()))?;
        Ok(s.contains(find.as_str()))
    });
    engine.register_fn("contains", |s: &mut ImmutableString, find: char| -> Result<bool> {
        charge(text_units(s.len()))?;
        Ok(s.contains(find))
    });
    engine.register_fn("starts_with", |s: &mut ImmutableString, find: ImmutableString| -> Result<bool> {
        charge(text_units(find.len()))?;
        Ok(s.starts_with(find.as_str()))
    });
    engine.register_fn("ends_with", |s: &mut ImmutableString, find: ImmutableString| -> Result<bool> {
        charge(text_units(find.len()))?;
        Ok(s.ends_with(find.as_str()))
    });
    engine.register_fn("index_of", |s: &mut ImmutableString, find: ImmutableString| -> Result<INT> {
        index_of_text(s, &find, 0)
    });
    engine.register_fn("index_of", |s: &mut ImmutableString, find: ImmutableString, start: INT| -> Result<INT> {
        index_of_text(s, &find, start)
    });
    engine.register_fn("index_of", |s: &mut ImmutableString, find: char| -> Result<INT> {
        index_of_text(s, &find.to_string(), 0)
    });
    engine.register_fn("sub_string", |s: &mut ImmutableString, start: INT, len: INT| -> Result<ImmutableString> {
        sub_string(s, start, len)
    });
    engine.register_fn("sub_string", |s: &mut ImmutableString, start: INT| -> Result<ImmutableString> {
        sub_string(s, start, INT::MAX)
    });
    engine.register_fn("split", |ctx: NativeCallContext, s: &mut ImmutableString, on: ImmutableString| {
        split(&ctx, s, on.as_str())
    });
    engine.register_fn("split", |ctx: NativeCallContext, s: &mut ImmutableString, on: char| {
        split(&ctx, s, on.encode_utf8(&mut [0; 4]))
    });
    engine.register_fn(
        "replace",
        |ctx: NativeCallContext, s: &mut ImmutableString, find: ImmutableString, with: ImmutableString| {
            replace(&ctx, s, &find, &with)
        },
    );
    engine.register_fn("replace", |ctx: NativeCallContext, s: &mut ImmutableString, find: char, with: char| {
        replace(&ctx, s, find.encode_utf8(&mut [0; 4]), with.encode_utf8(&mut [0; 4]))
    });
    engine.register_fn("pad", |ctx: NativeCallContext, s: &mut ImmutableString, len: INT, with: ImmutableString| {
        pad_text(&ctx, s, len, &with)
    });
    engine.register_fn("pad", |ctx: NativeCallContext, s: &mut ImmutableString, len: INT, with: char| {
        pad_text(&ctx, s, len, with.encode_utf8(&mut [0; 4]))
    });
    engine.register_fn("truncate", |s: &mut ImmutableString, len: INT| -> Result<()> {
        charge(text_units(s.len()))?;
        let keep = usize::try_from(len).unwrap_or(0);
        if let Some((at, _)) = s.char_indices().nth(keep) {
            *s = s[..at].to_string().into();
        }
        Ok(())
    });
    engine.register_fn("to_chars", |ctx: NativeCallContext, s: &mut ImmutableString| -> Result<Array> {
        let count = s.chars().count();
        list_fits(&ctx, count)?;
        charge(to_units(count))?;
        Ok(s.chars().map(Dynamic::from_char).collect())
    });

    // Joining texts: the builtin operators, overridden so that each pays for what it builds
    // (fast operators are off, so these are found before rhai's own).
    engine.register_fn("+", |ctx: NativeCallContext, a: ImmutableString, b: ImmutableString| join(&ctx, &a, &b));
    engine.register_fn("+", |ctx: NativeCallContext, a: ImmutableString, b: char| {
        join(&ctx, &a, b.encode_utf8(&mut [0; 4]))
    });
    engine.register_fn("+", |ctx: NativeCallContext, a: char, b: ImmutableString| {
        join(&ctx, a.encode_utf8(&mut [0; 4]), &b)
    });
    engine.register_fn("+=", |ctx: NativeCallContext, a: &mut ImmutableString, b: ImmutableString| -> Result<()> {
        *a = join(&ctx, a, &b)?;
        Ok(())
    });
    engine.register_fn("+=", |ctx: NativeCallContext, a: &mut ImmutableString, b: char| -> Result<()> {
        *a = join(&ctx, a, b.encode_utf8(&mut [0; 4]))?;
        Ok(())
    });
    macro_rules! join_shown {
        ($($ty:ty),*) => {$(
            engine.register_fn("+", |ctx: NativeCallContext, a: ImmutableString, b: $ty| {
                join(&ctx, &a, &display(&Dynamic::from(b))?)
            });
            engine.register_fn("+", |ctx: NativeCallContext, a: $ty, b: ImmutableString| {
                join(&ctx, &display(&Dynamic::from(a))?, &b)
            });
            engine.register_fn("+=", |ctx: NativeCallContext, a: &mut ImmutableString, b: $ty| -> Result<()> {
                *a = join(&ctx, a, &display(&Dynamic::from(b))?)?;
                Ok(())
            });
        )*};
    }
    join_shown!(INT, FLOAT, bool, (), Array, Map);
}

fn to_units(items: usize) -> u64 {
    items as u64
}

fn join(ctx: &NativeCallContext, a: &str, b: &str) -> Result<ImmutableString> {
    text_fits(ctx, a.len() + b.len())?;
    charge(text_units(a.len() + b.len()))?;
    let mut joined = String::with_capacity(a.len() + b.len());
    joined.push_str(a);
    joined.push_str(b);
    Ok(joined.into())
}

fn index_of_text(s: &str, find: &str, start: INT) -> Result<INT> {
    charge(text_units(s.len()) + text_units(find.len()))?;
    let skip = char_start(s, start);
    let Some((from, _)) = s.char_indices().nth(skip) else { return Ok(-1) };
    Ok(match s[from..].find(find) {
        Some(at) => to_int(skip + s[from..from + at].chars().count()),
        None => -1,
    })
}

fn sub_string(s: &str, start: INT, len: INT) -> Result<ImmutableString> {
    charge(text_units(s.len()))?;
    let skip = char_start(s, start);
    let take = usize::try_from(len).unwrap_or(0);
    Ok(s.chars().skip(skip).take(take).collect::<String>().into())
}

fn split(ctx: &NativeCallContext, s: &str, on: &str) -> Result<Array> {
    charge(text_units(s.len()))?;
    let pieces = if on.is_empty() { 1 } else { s.matches(on).count() + 1 };
    list_fits(ctx, pieces)?;
    charge(NEW_TEXT * to_units(pieces))?;
    if on.is_empty() {
        return Ok(vec![Dynamic::from(s.to_string())]);
    }
    Ok(s.split(on).map(|piece| Dynamic::from(piece.to_string())).collect())
}

fn replace(ctx: &NativeCallContext, s: &mut ImmutableString, find: &str, with: &str) -> Result<()> {
    charge(text_units(s.len()))?;
    if find.is_empty() {
        return Ok(());
    }
    let found = s.matches(find).count();
    let bytes = (s.len() - found * find.len()).saturating_add(found.saturating_mul(with.len()));
    text_fits(ctx, bytes)?;
    charge(text_units(bytes) + to_units(found))?;
    *s = s.replace(find, with).into();
    Ok(())
}

fn pad_text(ctx: &NativeCallContext, s: &mut ImmutableString, len: INT, with: &str) -> Result<()> {
    let have = s.chars().count();
    let want = usize::try_from(len).unwrap_or(0);
    if want <= have || with.is_empty() {
        return Ok(());
    }
    let filler = with.chars().count();
    let bytes = s.len().saturating_add((want - have).div_ceil(filler).saturating_mul(with.len()));
    text_fits(ctx, bytes)?;
    charge(text_units(bytes))?;
    let mut padded = s.to_string();
    padded.extend(with.chars().cycle().take(want - have));
    *s = padded.into();
    Ok(())
}

fn lists(engine: &mut Engine) {
    engine.register_fn("len", |a: &mut Array| to_int(a.len()));
    engine.register_fn("is_empty", |a: &mut Array| a.is_empty());
    engine.register_fn("push", |ctx: NativeCallContext, a: &mut Array, item: Dynamic| -> Result<()> {
        list_fits(&ctx, a.len() + 1)?;
        a.push(item);
        Ok(())
    });
    engine.register_fn("pop", |a: &mut Array| a.pop().unwrap_or(Dynamic::UNIT));
    engine.register_fn("shift", |a: &mut Array| -> Result<Dynamic> {
        charge(to_units(a.len()))?;
        Ok(if a.is_empty() { Dynamic::UNIT } else { a.remove(0) })
    });
    engine.register_fn("insert", |ctx: NativeCallContext, a: &mut Array, at: INT, item: Dynamic| -> Result<()> {
        list_fits(&ctx, a.len() + 1)?;
        charge(to_units(a.len()))?;
        let at = if at >= to_int(a.len()) { a.len() } else { item_index(a.len(), at).unwrap_or(0) };
        a.insert(at, item);
        Ok(())
    });
    engine.register_fn("remove", |a: &mut Array, at: INT| -> Result<Dynamic> {
        charge(to_units(a.len()))?;
        Ok(item_index(a.len(), at).map_or(Dynamic::UNIT, |i| a.remove(i)))
    });
    engine.register_fn("clear", |a: &mut Array| a.clear());
    engine.register_fn("truncate", |a: &mut Array, len: INT| -> Result<()> {
        charge(to_units(a.len()))?;
        a.truncate(usize::try_from(len).unwrap_or(0));
        Ok(())
    });
    engine.register_fn("pad", |ctx: NativeCallContext, a: &mut Array, len: INT, item: Dynamic| -> Result<()> {
        let want = usize::try_from(len).unwrap_or(0);
        if want <= a.len() {
            return Ok(());
        }
        list_fits(&ctx, want)?;
        charge(to_units(want - a.len()).saturating_mul(1 + size(&item)))?;
        a.resize(want, item);
        Ok(())
    });
    engine.register_fn("append", |ctx: NativeCallContext, a: &mut Array, more: Array| -> Result<()> {
        list_fits(&ctx, a.len() + more.len())?;
        charge(to_units(more.len()))?;
        a.extend(more);
        Ok(())
    });
    engine.register_fn("+", |ctx: NativeCallContext, a: Array, b: Array| -> Result<Array> {
        list_fits(&ctx, a.len() + b.len())?;
        charge(to_units(a.len() + b.len()))?;
        let mut joined = a;
        joined.extend(b);
        Ok(joined)
    });
    engine.register_fn("contains", |a: &mut Array, item: Dynamic| -> Result<bool> { Ok(position(a, &item, 0)? >= 0) });
    engine.register_fn("index_of", |a: &mut Array, item: Dynamic| position(a, &item, 0));
    engine.register_fn("index_of", |a: &mut Array, item: Dynamic, start: INT| {
        let start = if start < 0 { item_index(a.len(), start).unwrap_or(0) } else { start as usize };
        position(a, &item, start)
    });
    engine.register_fn("==", |a: &mut Array, b: Array| -> Result<bool> {
        charge(1 + list_size(a).min(list_size(&b)))?;
        Ok(equal_lists(a, &b))
    });
    engine.register_fn("!=", |a: &mut Array, b: Array| -> Result<bool> {
        charge(1 + list_size(a).min(list_size(&b)))?;
        Ok(!equal_lists(a, &b))
    });
    engine.register_fn("reverse", |a: &mut Array| -> Result<()> {
        charge(to_units(a.len()))?;
        a.reverse();
        Ok(())
    });
    engine.register_fn("extract", |a: &mut Array, start: INT, len: INT| extract(a, start, len));
    engine.register_fn("extract", |a: &mut Array, start: INT| extract(a, start, INT::MAX));
    engine.register_fn("sort", |a: &mut Array| -> Result<()> {
        charge(sort_cost(a.len()))?;
        let kind = sortable(a)?;
        let mut items = std::mem::take(a);
        items.sort_by(|x, y| natural(kind, x, y));
        *a = items;
        Ok(())
    });
    engine.register_fn("sort", |ctx: NativeCallContext, a: &mut Array, compare: FnPtr| -> Result<()> {
        charge(sort_cost(a.len()))?;
        let items = std::mem::take(a);
        *a = merge_sort(items, &mut |x, y| {
            charge(size(x) + size(y))?;
            let answer = compare.call_raw(&ctx, None, [x.clone(), y.clone()])?;
            match (answer.as_int(), answer.as_bool()) {
                (Ok(n), _) => Ok(n.cmp(&0)),
                (_, Ok(true)) => Ok(Ordering::Less),
                (_, Ok(false)) => Ok(Ordering::Greater),
                _ => Err(runtime(format!("a sort comparator returned {}, not a number", answer.type_name()))),
            }
        })?;
        Ok(())
    });
    engine.register_fn("map", |ctx: NativeCallContext, a: &mut Array, f: FnPtr| -> Result<Array> {
        a.iter().map(|item| each(&ctx, &f, item)).collect()
    });
    engine.register_fn("filter", |ctx: NativeCallContext, a: &mut Array, f: FnPtr| -> Result<Array> {
        let mut kept = Vec::new();
        for item in a.iter() {
            if truth(each(&ctx, &f, item)?)? {
                kept.push(item.clone());
            }
        }
        Ok(kept)
    });
    engine.register_fn("some", |ctx: NativeCallContext, a: &mut Array, f: FnPtr| -> Result<bool> {
        for item in a.iter() {
            if truth(each(&ctx, &f, item)?)? {
                return Ok(true);
            }
        }
        Ok(false)
    });
    engine.register_fn("all", |ctx: NativeCallContext, a: &mut Array, f: FnPtr| -> Result<bool> {
        for item in a.iter() {
            if !truth(each(&ctx, &f, item)?)? {
                return Ok(false);
            }
        }
        Ok(true)
    });
    engine.register_fn(
        "reduce",
        |ctx: NativeCallContext, a: &mut Array, f: FnPtr, initial: Dynamic| -> Result<Dynamic> {
            let mut total = initial;
            for item in a.iter() {
                charge(size(&total) + size(item))?;
                total = f.call_raw(&ctx, None, [total, item.clone()])?;
            }
            Ok(total)
        },
    );
}

/// `f(item)` for a list function, paying for the copy of `item` it is handed.
fn each(ctx: &NativeCallContext, f: &FnPtr, item: &Dynamic) -> Result<Dynamic> {
    charge(1 + size(item))?;
    f.call_raw(ctx, None, [item.clone()])
}

fn truth(value: Dynamic) -> Result<bool> {
    value.as_bool().map_err(|got| runtime(format!("a test returned {got}, not a bool")))
}

fn position(a: &[Dynamic], item: &Dynamic, start: usize) -> Result<INT> {
    let per_item = 1 + size(item);
    for (i, candidate) in a.iter().enumerate().skip(start) {
        charge(per_item)?;
        if equal(candidate, item) {
            return Ok(to_int(i));
        }
    }
    Ok(-1)
}

fn extract(a: &[Dynamic], start: INT, len: INT) -> Result<Array> {
    let from = if start < 0 { item_index(a.len(), start).unwrap_or(0) } else { start as usize };
    let take = usize::try_from(len).unwrap_or(0);
    let slice = a.get(from..).unwrap_or_default();
    let slice = &slice[..take.min(slice.len())];
    charge(list_size(slice))?;
    Ok(slice.to_vec())
}

fn sort_cost(n: usize) -> u64 {
    let n = n as u64;
    n * (u64::from(n.max(1).ilog2()) + 1)
}

/// A stable merge sort whose comparator may fail; its first error is the sort's. (The
/// standard sort cannot stop at an error, and it may panic on a comparator that is not a
/// total order.)
fn merge_sort(
    mut items: Vec<Dynamic>,
    compare: &mut dyn FnMut(&Dynamic, &Dynamic) -> Result<Ordering>,
) -> Result<Vec<Dynamic>> {
    if items.len() <= 1 {
        return Ok(items);
    }
    let right = items.split_off(items.len() / 2);
    let left = merge_sort(items, compare)?;
    let right = merge_sort(right, compare)?;
    let mut merged = Vec::with_capacity(left.len() + right.len());
    let (mut left, mut right) = (left.into_iter().peekable(), right.into_iter().peekable());
    while let (Some(l), Some(r)) = (left.peek(), right.peek()) {
        if compare(l, r)? == Ordering::Greater {
            merged.extend(right.next());
        } else {
            merged.extend(left.next());
        }
    }
    merged.extend(left);
    merged.extend(right);
    Ok(merged)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Number,
    Text,
    Char,
    Bool,
}

fn kind(value: &Dynamic) -> Option<Kind> {
    if value.is_int() || value.is_float() {
        Some(Kind::Number)
    } else if value.is_string() {
        Some(Kind::Text)
    } else if value.is_char() {
        Some(Kind::Char)
    } else if value.is_bool() {
        Some(Kind::Bool)
    } else {
        None
    }
}

/// What `sort()` without a comparator can order: numbers, texts, chars or bools, one kind.
fn sortable(a: &[Dynamic]) -> Result<Option<Kind>> {
    let Some(first) = a.first() else { return Ok(None) };
    let want = kind(first);
    if want.is_none() || a.iter().any(|v| kind(v) != want) {
        return Err(runtime("sort() orders a list of numbers, texts, chars or bools, all of one kind; give it a comparator for anything else"));
    }
    if want == Some(Kind::Text) {
        charge(a.iter().map(size).sum::<u64>() * (u64::from((a.len() as u64).max(1).ilog2()) + 1))?;
    }
    Ok(want)
}

fn number(value: &Dynamic) -> FLOAT {
    value.as_float().unwrap_or_else(|_| value.as_int().unwrap_or(0) as FLOAT)
}

fn natural(kind: Option<Kind>, x: &Dynamic, y: &Dynamic) -> Ordering {
    match kind {
        Some(Kind::Number) => number(x).total_cmp(&number(y)),
        Some(Kind::Text) => {
            x.read_lock::<ImmutableString>().as_deref().cmp(&y.read_lock::<ImmutableString>().as_deref())
        }
        Some(Kind::Char) => x.as_char().ok().cmp(&y.as_char().ok()),
        Some(Kind::Bool) => x.as_bool().ok().cmp(&y.as_bool().ok()),
        None => Ordering::Equal,
    }
}

/// Deep equality as rhai's `==` has it for plain values: numbers across int and float,
/// texts, chars, bools, `()`, and lists and maps item by item. Values of different kinds
/// are unequal.
fn equal(x: &Dynamic, y: &Dynamic) -> bool {
    if let (Some(a), Some(b)) = (x.read_lock::<Array>(), y.read_lock::<Array>()) {
        return equal_lists(&a, &b);
    }
    if let (Some(a), Some(b)) = (x.read_lock::<Map>(), y.read_lock::<Map>()) {
        return equal_maps(&a, &b);
    }
    if (x.is_int() || x.is_float()) && (y.is_int() || y.is_float()) {
        return match (x.as_int(), y.as_int()) {
            (Ok(a), Ok(b)) => a == b,
            _ => number(x) == number(y),
        };
    }
    if let (Some(a), Some(b)) = (x.read_lock::<ImmutableString>(), y.read_lock::<ImmutableString>()) {
        return *a == *b;
    }
    match (x.as_char(), y.as_char(), x.as_bool(), y.as_bool()) {
        (Ok(a), Ok(b), ..) => a == b,
        (_, _, Ok(a), Ok(b)) => a == b,
        _ => x.is_unit() && y.is_unit(),
    }
}

fn equal_lists(a: &[Dynamic], b: &[Dynamic]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| equal(x, y))
}

fn equal_maps(a: &Map, b: &Map) -> bool {
    a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| equal(v, w)))
}

/// What a list holds, as [`size`] counts it.
fn list_size(a: &[Dynamic]) -> u64 {
    a.iter().fold(to_units(a.len()), |total, item| total.saturating_add(size(item)))
}

fn map_size(m: &Map) -> u64 {
    m.values().fold(to_units(m.len()), |total, entry| total.saturating_add(size(entry)))
}

fn maps(engine: &mut Engine) {
    engine.register_fn("len", |m: &mut Map| to_int(m.len()));
    engine.register_fn("is_empty", |m: &mut Map| m.is_empty());
    engine.register_fn("contains", |m: &mut Map, key: ImmutableString| m.contains_key(key.as_str()));
    engine.register_fn("keys", |m: &mut Map| -> Result<Array> {
        charge(NEW_TEXT * to_units(m.len()))?;
        Ok(m.keys().map(|k| Dynamic::from(k.to_string())).collect())
    });
    engine.register_fn("values", |m: &mut Map| -> Result<Array> {
        charge(map_size(m))?;
        Ok(m.values().cloned().collect())
    });
    engine.register_fn("remove", |m: &mut Map, key: ImmutableString| m.remove(key.as_str()).unwrap_or(Dynamic::UNIT));
    engine.register_fn("clear", |m: &mut Map| m.clear());
    engine.register_fn("mixin", |ctx: NativeCallContext, m: &mut Map, more: Map| mixin(&ctx, m, more));
    engine.register_fn("+=", |ctx: NativeCallContext, m: &mut Map, more: Map| mixin(&ctx, m, more));
    engine.register_fn("+", |ctx: NativeCallContext, mut m: Map, more: Map| -> Result<Map> {
        charge(to_units(m.len()))?;
        mixin(&ctx, &mut m, more)?;
        Ok(m)
    });
    engine.register_fn("==", |m: &mut Map, other: Map| -> Result<bool> {
        charge(1 + LOOK_UP * map_size(m).min(map_size(&other)))?;
        Ok(equal_maps(m, &other))
    });
    engine.register_fn("!=", |m: &mut Map, other: Map| -> Result<bool> {
        charge(1 + LOOK_UP * map_size(m).min(map_size(&other)))?;
        Ok(!equal_maps(m, &other))
    });
}

fn mixin(ctx: &NativeCallContext, m: &mut Map, more: Map) -> Result<()> {
    charge(to_units(more.len()))?;
    let max = ctx.engine().max_map_size();
    if max > 0 && m.len() + more.keys().filter(|k| !m.contains_key(*k)).count() > max {
        return Err(too_large("Size of object map"));
    }
    m.extend(more);
    Ok(())
}

fn values(engine: &mut Engine) {
    macro_rules! shown {
        ($($ty:ty),*) => {$(
            engine.register_fn("to_string", |v: $ty| -> Result<ImmutableString> { Ok(display(&Dynamic::from(v))?.into()) });
        )*};
    }
    shown!(INT, FLOAT, bool, char, ImmutableString, (), Array, Map);
}
