//! Random rhai scripts within the sandbox's language, built from a stream of choices. The
//! seeded property test (`tests/property.rs`) and the fuzz target (`fuzz/fuzz_targets/
//! sandbox.rs`) share it: the test draws its choices from a seeded generator, the fuzzer
//! from its input bytes.
//!
//! Every script defines `fn f(n, s)` (the function called, given a number and a text) and
//! two helpers. The grammar is lightly typed (numbers, texts, lists, maps, bools), so most
//! scripts run far instead of failing at their first mismatch: they loop, recurse, grow
//! texts and lists, copy, search and sort them, call the allowed functions with arguments
//! big and small, and now and then something mistyped or not allowed (`sleep`,
//! `timestamp`, `exit`), which must fail cleanly.

/// Where a script's choices come from.
pub trait Choices {
    /// A number below `n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize;
}

/// The script for these choices.
pub fn script(choices: &mut impl Choices) -> String {
    let mut g = Grammar { choices, vars: Vec::new(), depth: 0, fresh: 0 };
    g.vars = vec![("x".into(), Kind::Number)];
    let helper = g.number();
    g.vars = vec![("x".into(), Kind::List), ("y".into(), Kind::Number)];
    let walker = g.block(Kind::List);
    g.vars = vec![("n".into(), Kind::Number), ("s".into(), Kind::Text)];
    let kind = g.kind();
    let body = g.block(kind);
    format!("fn g(x) {{ {helper} }}\nfn h(x, y) {{ {walker} }}\nfn f(n, s) {{ {body} }}\n")
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Number,
    Text,
    List,
    Map,
    Bool,
}

const NUMBERS: &[&str] = &["0.0", "1.0", "2", "-1.0", "3", "7.0", "10", "100.0", "0.5", "2.5", "1e9", "65000.0"];
/// Integers, for indices, counts and lengths.
const INTS: &[&str] = &["0", "1", "2", "3", "-1", "-2", "10", "100", "999", "9999", "10000", "65000", "100000"];
const HUGE: &[&str] = &["1e300", "-1e300", "9223372036854775807", "-9223372036854775808", "1e18"];
const TEXTS: &[&str] =
    &[r#""""#, r#""x""#, r#""ab""#, r#"" ""#, r#""é""#, r#""oxygen""#, r#""a,b,c""#, r#""lives alone""#];

struct Grammar<'c, C: Choices> {
    choices: &'c mut C,
    vars: Vec<(String, Kind)>,
    depth: usize,
    fresh: usize,
}

impl<C: Choices> Grammar<'_, C> {
    fn below(&mut self, n: usize) -> usize {
        self.choices.below(n)
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }

    fn kind(&mut self) -> Kind {
        [Kind::Number, Kind::Text, Kind::List, Kind::Map, Kind::Bool][self.below(5)]
    }

    /// A variable of `kind`, if one is in scope.
    fn var(&mut self, kind: Kind) -> Option<String> {
        let named: Vec<String> = self.vars.iter().filter(|(_, k)| *k == kind).map(|(n, _)| n.clone()).collect();
        if named.is_empty() {
            return None;
        }
        let at = self.below(named.len());
        Some(named[at].clone())
    }

    fn fresh(&mut self, kind: Kind) -> String {
        self.fresh += 1;
        let name = format!("v{}", self.fresh);
        self.vars.push((name.clone(), kind));
        name
    }

    fn deeper(&mut self, build: impl FnOnce(&mut Self) -> String, shallow: impl FnOnce(&mut Self) -> String) -> String {
        if self.depth > 4 {
            return shallow(self);
        }
        self.depth += 1;
        let built = build(self);
        self.depth -= 1;
        built
    }

    fn block(&mut self, result: Kind) -> String {
        let before = self.vars.len();
        let count = 1 + self.below(3);
        let body: Vec<String> = (0..count).map(|_| self.statement()).collect();
        let last = self.of(result);
        self.vars.truncate(before);
        format!("{} {last}", body.join(" "))
    }

    fn statement(&mut self) -> String {
        if self.depth > 2 {
            return format!("{};", self.any());
        }
        self.depth += 1;
        let statement = match self.below(10) {
            0..=2 => {
                let kind = self.kind();
                let value = self.of(kind);
                format!("let {} = {value};", self.fresh(kind))
            }
            3 => {
                let kind = self.kind();
                match self.var(kind) {
                    Some(name) => format!("{name} = {};", self.of(kind)),
                    None => format!("{};", self.of(kind)),
                }
            }
            4 => format!(
                "if {} {{ {}; }} else {{ {}; }}",
                self.boolean(),
                self.block(Kind::Bool),
                self.block(Kind::Number)
            ),
            5 => {
                let (over, item) = match self.below(3) {
                    0 => (format!("0..{}", self.index()), Kind::Number),
                    1 => (self.list(), self.kind()),
                    _ => (format!("{}.keys()", self.map()), Kind::Text),
                };
                let before = self.vars.len();
                let name = self.fresh(item);
                let body = self.block(Kind::Number);
                self.vars.truncate(before);
                format!("for {name} in {over} {{ {body}; }}")
            }
            6 => format!("while {} {{ {}; }}", self.boolean(), self.block(Kind::Number)),
            7 => format!("loop {{ {}; if {} {{ break; }} }}", self.block(Kind::Number), self.boolean()),
            8 => self.mutation(),
            _ => format!("{};", self.any()),
        };
        self.depth -= 1;
        statement
    }

    /// A statement that changes a variable in place.
    fn mutation(&mut self) -> String {
        match self.below(4) {
            0 => match self.var(Kind::List) {
                Some(l) => {
                    let call = match self.below(8) {
                        0 => format!("push({})", self.any()),
                        1 => format!("pad({}, {})", self.index(), self.any()),
                        2 => format!("append({})", self.list()),
                        3 => format!("insert({}, {})", self.index(), self.any()),
                        4 => "sort()".to_string(),
                        5 => "reverse()".to_string(),
                        6 => format!("truncate({})", self.index()),
                        _ => format!("sort(|p, q| {})", self.with_items(&["p", "q"], |g| g.comparison())),
                    };
                    format!("{l}.{call};")
                }
                None => format!("{};", self.list()),
            },
            1 => match self.var(Kind::Text) {
                Some(t) => {
                    let call = match self.below(5) {
                        0 => format!("pad({}, {})", self.index(), self.text()),
                        1 => format!("replace({}, {})", self.text(), self.text()),
                        2 => "trim()".to_string(),
                        3 => format!("truncate({})", self.index()),
                        _ => return format!("{t} += {};", self.any()),
                    };
                    format!("{t}.{call};")
                }
                None => format!("{};", self.text()),
            },
            2 => match self.var(Kind::Map) {
                Some(m) => match self.below(3) {
                    0 => format!("{m}[{}] = {};", self.text(), self.any()),
                    1 => format!("{m}.mixin({});", self.map()),
                    _ => format!("{m}.k = {};", self.any()),
                },
                None => format!("{};", self.map()),
            },
            _ => match self.var(Kind::Number) {
                Some(v) => format!("{v} {} {};", self.pick(&["+=", "-=", "*=", "/="]), self.number()),
                None => format!("{};", self.number()),
            },
        }
    }

    fn of(&mut self, kind: Kind) -> String {
        match kind {
            Kind::Number => self.number(),
            Kind::Text => self.text(),
            Kind::List => self.list(),
            Kind::Map => self.map(),
            Kind::Bool => self.boolean(),
        }
    }

    fn any(&mut self) -> String {
        // Now and then something the sandbox does not have, or a mistyped call.
        match self.below(200) {
            0 => self.pick(&["sleep(1e9)", "sleep(1e300)", "timestamp()", "exit(1)", "blob(10)"]).to_string(),
            1 => format!("{}.{}()", self.text(), self.pick(&["keys", "sort", "pop"])),
            _ => {
                let kind = self.kind();
                self.of(kind)
            }
        }
    }

    fn number(&mut self) -> String {
        self.deeper(
            |g| match g.below(14) {
                0 | 1 => g.var(Kind::Number).unwrap_or_else(|| "1".into()),
                2 => g.pick(NUMBERS).to_string(),
                3 => g.pick(HUGE).to_string(),
                4 | 5 => format!("({} {} {})", g.number(), g.pick(&["+", "-", "*", "/", "%", "**"]), g.number()),
                6 => format!("{}.len()", g.pick_of(&[Kind::Text, Kind::List, Kind::Map])),
                7 => format!("{}.index_of({})", g.list(), g.any()),
                8 => format!("{}.index_of({})", g.text(), g.text()),
                9 => format!("{}({} + 0.0)", g.pick(&["abs", "sqrt", "floor", "g"]), g.number()),
                10 => format!("{}({}, {})", g.pick(&["max", "min"]), g.number(), g.number()),
                11 => {
                    let digits = g.pick(&[r#""42""#, r#""-7""#, r#""9223372036854775807""#]).to_string();
                    format!("parse_int({})", if g.below(4) == 0 { g.var(Kind::Text).unwrap_or(digits) } else { digits })
                }
                12 => format!("{}.reduce(|p, q| p + q, 0)", g.list()),
                _ => format!("{}[{}]", g.list(), g.pick(&["0", "0", "1", "-1"])),
            },
            |g| g.pick(NUMBERS).to_string(),
        )
    }

    /// An integer: an index, a count or a length.
    fn index(&mut self) -> String {
        match self.below(5) {
            0 => format!("to_int({})", self.number()),
            1 => format!("{}.len()", self.pick_of(&[Kind::Text, Kind::List])),
            _ => self.pick(INTS).to_string(),
        }
    }

    fn pick_of(&mut self, kinds: &[Kind]) -> String {
        let kind = kinds[self.below(kinds.len())];
        self.of(kind)
    }

    fn text(&mut self) -> String {
        self.deeper(
            |g| match g.below(12) {
                0 | 1 => g.var(Kind::Text).unwrap_or_else(|| r#""t""#.into()),
                2 | 3 => g.pick(TEXTS).to_string(),
                4 => format!("({} + {})", g.text(), g.any()),
                5 => format!("`{}-${{{}}}`", g.pick(TEXTS).trim_matches('"'), g.any()),
                6 => format!("{}.{}()", g.text(), g.pick(&["to_upper", "to_lower", "to_string"])),
                7 => format!("{}.sub_string({}, {})", g.text(), g.index(), g.index()),
                8 => format!("{}.to_string()", g.any()),
                9 => format!("{}[{}]", g.map(), g.pick(&[r#""k""#, r#""n""#])),
                10 => format!("type_of({})", g.any()),
                _ => format!("{}.k", g.map()),
            },
            |g| g.pick(TEXTS).to_string(),
        )
    }

    fn list(&mut self) -> String {
        self.deeper(
            |g| match g.below(12) {
                0 | 1 => g.var(Kind::List).unwrap_or_else(|| "[]".into()),
                2 | 3 => format!("[{}, {}]", g.any(), g.any()),
                4 => format!("({} + {})", g.list(), g.list()),
                5 => format!("{}.split({})", g.text(), g.text()),
                6 => format!("{}.{}()", g.map(), g.pick(&["keys", "values"])),
                7 => format!("{}.map(|p| {})", g.list(), g.with_items(&["p"], |g| g.number())),
                8 => format!("{}.filter(|p| {})", g.list(), g.with_items(&["p"], |g| g.comparison())),
                9 => format!("{}.extract({}, {})", g.list(), g.index(), g.index()),
                10 => format!("h({}, {})", g.list(), g.number()),
                _ => format!("{}.to_chars()", g.text()),
            },
            |_| "[1, 2]".to_string(),
        )
    }

    fn map(&mut self) -> String {
        self.deeper(
            |g| match g.below(6) {
                0 | 1 => g.var(Kind::Map).unwrap_or_else(|| "#{}".into()),
                2 | 3 => format!("#{{ k: {}, n: {} }}", g.any(), g.any()),
                4 => format!("({} + {})", g.map(), g.map()),
                _ => "#{}".to_string(),
            },
            |_| "#{ k: 1 }".to_string(),
        )
    }

    fn boolean(&mut self) -> String {
        self.deeper(
            |g| match g.below(8) {
                0 => g.var(Kind::Bool).unwrap_or_else(|| "true".into()),
                1 => g.pick(&["true", "false"]).to_string(),
                2 | 3 => g.comparison(),
                4 => format!("({} {} {})", g.boolean(), g.pick(&["&&", "||"]), g.boolean()),
                5 => format!("({} in {})", g.any(), g.list()),
                6 => format!("{}.contains({})", g.text(), g.text()),
                _ => format!("{}.some(|p| {})", g.list(), g.with_items(&["p"], |g| g.comparison())),
            },
            |g| g.pick(&["true", "false"]).to_string(),
        )
    }

    /// `p` and `q` compared, inside a callback, or two numbers.
    fn comparison(&mut self) -> String {
        let op = self.pick(&["==", "!=", "<", ">=", ">"]);
        let (a, b) = (self.number(), self.number());
        format!("({a} {op} {b})")
    }

    /// A callback body: only its (number) parameters are in scope, since closures
    /// capture nothing.
    fn with_items(&mut self, params: &[&str], body: impl FnOnce(&mut Self) -> String) -> String {
        let params = params.iter().map(|p| (p.to_string(), Kind::Number)).collect();
        let outer = std::mem::replace(&mut self.vars, params);
        let built = body(self);
        self.vars = outer;
        built
    }
}
