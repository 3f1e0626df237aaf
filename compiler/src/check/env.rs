//! What the checker knows at one point of a body: names in scope, which optionals are
//! known not to be none (narrowing), and which channels can reach this point.

use crate::types::{ChannelSet, Type};

/// Which kind of body is being checked: decides what statements mean and where they may stand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    Flow,
    Script,
    Survey,
    Retry,
    /// A queue's `while waiting` line.
    Waiting,
    Fn,
    /// A `reply` template's text.
    Reply,
}

#[derive(Clone, Debug)]
pub struct Env {
    vars: Vec<(String, Type)>,
    /// Dotted paths (`customer`, `customer.phone`) known not to be none here.
    narrowed: Vec<String>,
    /// Names known to hold a text of at least so many bytes here (see `check::sizes`).
    text_lens: Vec<(String, u64)>,
    pub channels: ChannelSet,
    pub context: Context,
}

impl Env {
    pub fn new(context: Context, channels: ChannelSet) -> Env {
        Env { vars: Vec::new(), narrowed: Vec::new(), text_lens: Vec::new(), channels, context }
    }

    pub fn bind(&mut self, name: &str, ty: Type) {
        self.forget(name);
        self.set_text_len(name, 0);
        self.vars.push((name.to_string(), ty));
    }

    /// The least number of bytes the text `name` holds here; 0 when nothing is sure.
    pub fn text_len(&self, name: &str) -> u64 {
        self.text_lens.iter().find(|(n, _)| n == name).map_or(0, |(_, len)| *len)
    }

    pub fn set_text_len(&mut self, name: &str, len: u64) {
        self.text_lens.retain(|(n, _)| n != name);
        if len > 0 {
            self.text_lens.push((name.to_string(), len));
        }
    }

    /// Forgets every text length: for bodies that other code may jump into (a script's
    /// steps, which `goto` one another after changing what they share).
    pub fn forget_text_lens(&mut self) {
        self.text_lens.clear();
    }

    /// Keeps for each name the least text length it has here or in `other`: after a block
    /// that may or may not have run.
    pub fn meet_text_lens(&mut self, other: &Env) {
        self.text_lens = std::mem::take(&mut self.text_lens)
            .into_iter()
            .map(|(n, len)| {
                let least = len.min(other.text_len(&n));
                (n, least)
            })
            .filter(|(_, len)| *len > 0)
            .collect();
    }

    pub fn lookup(&self, name: &str) -> Option<&Type> {
        self.vars.iter().rev().find(|(n, _)| n == name).map(|(_, t)| t)
    }

    pub fn is_narrowed(&self, path: &str) -> bool {
        self.narrowed.iter().any(|p| p == path)
    }

    pub fn narrow(&mut self, path: &str) {
        if !self.is_narrowed(path) {
            self.narrowed.push(path.to_string());
        }
    }

    pub fn narrow_all(&mut self, paths: &[String]) {
        for p in paths {
            self.narrow(p);
        }
    }

    /// A rebinding invalidates what was known of the name and its fields.
    pub fn forget(&mut self, name: &str) {
        let prefix = format!("{name}.");
        self.narrowed.retain(|p| p != name && !p.starts_with(&prefix));
    }

    pub fn narrowed(&self) -> &[String] {
        &self.narrowed
    }

    /// Keeps only what is known on every one of `ends` (the envs at the end of each path
    /// that continues after a branch), and the channels any of them can carry.
    pub fn join_paths(&mut self, ends: &[Env]) {
        let Some((first, rest)) = ends.split_first() else { return };
        self.narrowed = first.narrowed.iter().filter(|p| rest.iter().all(|e| e.is_narrowed(p))).cloned().collect();
        // A text length holds after the join if it held before and on every path (a
        // name bound inside a path is another name: the least of the two is still sure).
        for end in ends {
            self.meet_text_lens(end);
        }
        self.channels = ends.iter().fold(ChannelSet::EMPTY, |acc, e| acc.union(e.channels));
    }

    /// Names bound so far, for "did you mean".
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.vars.iter().map(|(n, _)| n.as_str())
    }
}

/// What a condition tells when it is true and when it is false.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    pub when_true: Vec<String>,
    pub when_false: Vec<String>,
    /// Channel sets: `None` means the condition says nothing about the channel.
    pub channels_true: Option<ChannelSet>,
    pub channels_false: Option<ChannelSet>,
}

impl Facts {
    pub fn negate(self) -> Facts {
        Facts {
            when_true: self.when_false,
            when_false: self.when_true,
            channels_true: self.channels_false,
            channels_false: self.channels_true,
        }
    }

    pub fn and(self, other: Facts) -> Facts {
        Facts {
            when_true: union(self.when_true, other.when_true),
            when_false: intersection(self.when_false, other.when_false),
            channels_true: meet(self.channels_true, other.channels_true),
            channels_false: join(self.channels_false, other.channels_false),
        }
    }

    pub fn or(self, other: Facts) -> Facts {
        Facts {
            when_true: intersection(self.when_true, other.when_true),
            when_false: union(self.when_false, other.when_false),
            channels_true: join(self.channels_true, other.channels_true),
            channels_false: meet(self.channels_false, other.channels_false),
        }
    }
}

fn union(mut a: Vec<String>, b: Vec<String>) -> Vec<String> {
    for p in b {
        if !a.contains(&p) {
            a.push(p);
        }
    }
    a
}

fn intersection(a: Vec<String>, b: Vec<String>) -> Vec<String> {
    a.into_iter().filter(|p| b.contains(p)).collect()
}

fn meet(a: Option<ChannelSet>, b: Option<ChannelSet>) -> Option<ChannelSet> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.intersect(y)),
        (x, None) | (None, x) => x,
    }
}

fn join(a: Option<ChannelSet>, b: Option<ChannelSet>) -> Option<ChannelSet> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.union(y)),
        _ => None,
    }
}

/// The dotted path an expression names (`customer?.phone` → `customer.phone`), if any.
pub fn path_of(e: &crate::syntax::ast::Expr) -> Option<String> {
    use crate::syntax::ast::ExprKind;
    match &e.kind {
        ExprKind::Name(n) => Some(n.name.clone()),
        ExprKind::Field { base, name, .. } => path_of(base).map(|b| format!("{b}.{}", name.name)),
        ExprKind::Paren(inner) => path_of(inner),
        _ => None,
    }
}

/// A path and every prefix of it: knowing `customer.phone` is set means `customer` is too.
pub fn with_prefixes(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut end = 0;
    for (i, c) in path.char_indices() {
        if c == '.' {
            out.push(path[..i].to_string());
        }
        end = i + c.len_utf8();
    }
    out.push(path[..end].to_string());
    out
}
