//! How long a text can surely be: the least number of bytes each text expression holds, as
//! far as the checker can see, so that one built past `MAX_TEXT` is reported before it runs
//! (`"x"` doubled 40 times with `t = t + t` is a terabyte the run time would try to hold).
//!
//! Only what is certain counts: literals, joins (`+`, interpolation), names bound to such
//! texts in straight-line code, and `fn`s that join their arguments. Anything else (an
//! answer, a field, a built-in) counts as empty. Where paths meet, a name keeps the least
//! of what each path gave it, so the bound never exceeds what a run can hold.

use super::env::Env;
use super::Checker;
use crate::diagnostic::{Code, Diagnostic, FileId};
use crate::syntax::ast::*;

/// The most a text may hold: 1 MiB.
pub const MAX_TEXT: u64 = 1 << 20;

/// The least length of what a `fn` returns, as a function of the least lengths of its
/// arguments: `constant + Σ per_param[i] × length(argument i)`. Lengths only add up, so
/// this form is a lower bound wherever it is used; it saturates instead of overflowing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TextForm {
    pub constant: u64,
    pub per_param: Vec<u64>,
}

impl TextForm {
    fn zero(params: usize) -> TextForm {
        TextForm { constant: 0, per_param: vec![0; params] }
    }

    fn add(mut self, other: &TextForm) -> TextForm {
        self.constant = self.constant.saturating_add(other.constant);
        for (a, b) in self.per_param.iter_mut().zip(&other.per_param) {
            *a = a.saturating_add(*b);
        }
        self
    }

    /// Less than or equal to both, wherever their parameters stand.
    fn meet(mut self, other: &TextForm) -> TextForm {
        self.constant = self.constant.min(other.constant);
        for (a, b) in self.per_param.iter_mut().zip(&other.per_param) {
            *a = (*a).min(*b);
        }
        self
    }

    fn scaled(&self, by: u64) -> TextForm {
        TextForm {
            constant: self.constant.saturating_mul(by),
            per_param: self.per_param.iter().map(|c| c.saturating_mul(by)).collect(),
        }
    }

    /// The least length of a call, given the least lengths of its arguments.
    pub fn apply(&self, args: &[u64]) -> u64 {
        self.per_param.iter().zip(args).fold(self.constant, |sum, (c, a)| sum.saturating_add(c.saturating_mul(*a)))
    }
}

/// The form of a `fn` body over `params`, given the forms of the `fn`s it calls (`None`
/// for one not known, or in a ring with it: counted as empty).
pub fn fn_form(body: &Expr, params: &[Param], form_of: &dyn Fn(&str) -> Option<TextForm>) -> TextForm {
    let n = params.len();
    let form = |e: &Expr| fn_form(e, params, form_of);
    match &body.kind {
        ExprKind::Text(parts) => parts.iter().fold(TextForm::zero(n), |sum, part| match part {
            TextPart::Lit(s) => sum.add(&TextForm { constant: s.len() as u64, per_param: vec![0; n] }),
            TextPart::Expr(inner) => sum.add(&form(inner)),
        }),
        ExprKind::Name(name) => {
            let mut f = TextForm::zero(n);
            if let Some(i) = params.iter().position(|p| p.name.name == name.name) {
                f.per_param[i] = 1;
            }
            f
        }
        ExprKind::Paren(inner) => form(inner),
        ExprKind::Binary { op: BinaryOp::Add, lhs, rhs } => form(lhs).add(&form(rhs)),
        ExprKind::Binary { op: BinaryOp::Coalesce, lhs, rhs } => form(lhs).meet(&form(rhs)),
        ExprKind::Record(entries) => {
            entries.iter().map(|(_, value)| form(value)).reduce(|a, b| a.meet(&b)).unwrap_or_else(|| TextForm::zero(n))
        }
        ExprKind::Call { callee, args } => match form_of(&callee.name) {
            Some(callee_form) => callee_form
                .per_param
                .iter()
                .zip(args)
                .fold(TextForm { constant: callee_form.constant, per_param: vec![0; n] }, |sum, (c, arg)| {
                    sum.add(&form(arg).scaled(*c))
                }),
            None => TextForm::zero(n),
        },
        _ => TextForm::zero(n),
    }
}

impl Checker<'_, '_> {
    /// The least number of bytes the text `e` holds (0 when it is no text, or nothing is
    /// sure). Where a text first grows past `MAX_TEXT` it is reported, and counts as empty
    /// from then on, so that what is built from it is not reported again.
    pub fn text_len(&self, file: FileId, env: &Env, e: &Expr) -> u64 {
        let len = |inner: &Expr| self.text_len(file, env, inner);
        let least = match &e.kind {
            ExprKind::Text(parts) => parts.iter().fold(0u64, |sum, part| {
                sum.saturating_add(match part {
                    TextPart::Lit(s) => s.len() as u64,
                    TextPart::Expr(inner) => len(inner),
                })
            }),
            ExprKind::Name(name) => env.text_len(&name.name),
            ExprKind::Paren(inner) => len(inner),
            ExprKind::Binary { op: BinaryOp::Add, lhs, rhs } => len(lhs).saturating_add(len(rhs)),
            ExprKind::Binary { op: BinaryOp::Coalesce, lhs, rhs } => len(lhs).min(len(rhs)),
            ExprKind::Binary { lhs, rhs, .. } => {
                len(lhs);
                len(rhs);
                0
            }
            ExprKind::Unary { expr, .. } => {
                len(expr);
                0
            }
            ExprKind::Field { base, .. } => {
                len(base);
                0
            }
            ExprKind::List(items) => {
                items.iter().for_each(|i| {
                    len(i);
                });
                0
            }
            // A per-language text holds one of its entries: the shortest, at least.
            ExprKind::Record(entries) => entries.iter().map(|(_, v)| len(v)).min().unwrap_or(0),
            ExprKind::Call { callee, args } => {
                let lengths: Vec<u64> = args.iter().map(len).collect();
                self.calls.text_form(&callee.name).map_or(0, |form| form.apply(&lengths))
            }
            _ => 0,
        };
        if least <= MAX_TEXT {
            return least;
        }
        self.report(
            Diagnostic::new(Code::InvalidValue, file, e.span, "this text grows past 1 MiB")
                .with_label(format!("at least {}", size(least)))
                .with_help("a text holds at most 1 MiB: build a shorter one, or send long content as a link"),
        );
        0
    }
}

/// `3 MiB`, `1 TiB`: a size in the largest binary unit it fills, rounded down.
fn size(bytes: u64) -> String {
    let units = [("EiB", 60), ("PiB", 50), ("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)];
    for (unit, shift) in units {
        if bytes >= 1 << shift {
            return format!("{} {unit}", bytes >> shift);
        }
    }
    format!("{bytes} bytes")
}
