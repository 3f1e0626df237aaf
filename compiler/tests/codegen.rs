//! Codegen snapshots. Each `codegen/*.flow` is a one-file project: it must check without
//! errors, then its numbered source and its disassembly are snapshotted together, so a
//! reviewer reads what was written beside what it compiled to. The acme sample project is
//! snapshotted whole, and its bundle goes through the binary form and back.
//!
//! Every listing ends with what `verify` found: jump targets past the code, paths that run
//! off the end of a function, stack heights that disagree where paths meet, slots read
//! before any path stored them, ids that point past their tables.
//!
//! The cases share one loader holding `scripts/double.rhai` and `data/people.csv`.
#![allow(clippy::disallowed_methods)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use switchboard_compiler::bytecode::{
    Bundle, ConstId, FuncId, Function, Instr, QuestionInfo, QueueId, RecordId, ReplyInfo, ScorecardInfo, Slot,
    SourceId, SourceSpan, FORMAT_VERSION,
};
use switchboard_compiler::check::{self, Checked};
use switchboard_compiler::loader::MemoryLoader;
use switchboard_compiler::value::Value;
use switchboard_compiler::verify::verify;
use switchboard_compiler::{codegen, disasm, SourceFile};

#[test]
fn cases() {
    let loader = case_loader();
    insta::glob!("codegen/*.flow", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let files = vec![SourceFile { path: name, text: Arc::from(text.as_str()) }];
        let (checked, bundle) = compile(files, &loader);
        let mut out = numbered(&text);
        out.push_str(&listing(&checked, &bundle));
        insta::assert_snapshot!(out);
    });
}

#[test]
fn acme() {
    let (files, loader) = acme_project();
    let (checked, bundle) = compile(files, &loader);
    insta::assert_snapshot!(listing(&checked, &bundle));
}

#[test]
fn acme_bundle_round_trips_through_bytes() {
    let (files, loader) = acme_project();
    let (_, bundle) = compile(files, &loader);
    let bytes = bundle.to_bytes().unwrap();
    assert_eq!(Bundle::from_bytes(&bytes).unwrap(), bundle);
}

#[test]
fn from_bytes_refuses_garbage_and_other_formats() {
    let (files, loader) = acme_project();
    let (_, bundle) = compile(files, &loader);
    let bytes = bundle.to_bytes().unwrap();

    assert!(Bundle::from_bytes(&[]).is_err());
    assert!(Bundle::from_bytes(b"this is not a bundle at all").is_err());
    assert!(Bundle::from_bytes(&[0xff; 64]).is_err());
    assert!(Bundle::from_bytes(&bytes[..bytes.len() / 2]).is_err());

    for version in [0, FORMAT_VERSION + 1, u32::MAX] {
        let other = Bundle { format_version: version, ..bundle.clone() };
        let err = Bundle::from_bytes(&other.to_bytes().unwrap()).unwrap_err();
        assert!(err.contains("format"), "{err}");
    }

    // Damaged bundles give `Err` or some bundle, never a panic.
    let mut rng = fastrand::Rng::with_seed(7);
    for _ in 0..300 {
        let mut damaged = bytes.clone();
        match rng.u8(0..3) {
            0 => damaged.truncate(rng.usize(0..bytes.len())),
            1 => {
                for _ in 0..rng.usize(1..8) {
                    let at = rng.usize(0..damaged.len());
                    damaged[at] = rng.u8(..);
                }
            }
            _ => damaged = (0..rng.usize(0..512)).map(|_| rng.u8(..)).collect(),
        }
        let _ = Bundle::from_bytes(&damaged);
    }
}

/// The verifier that every listing ends with (and that `Bundle::from_bytes` runs) finds what
/// it is there to find.
#[test]
fn verify_reports_broken_code() {
    let function = |name: &str, locals: u16, code: Vec<Instr>| Function {
        name: name.to_string(),
        params: 0,
        locals,
        spans: vec![SourceSpan::default(); code.len()],
        code,
    };
    let none = ConstId(0);
    let bundle = Bundle {
        format_version: FORMAT_VERSION,
        source_hash: "0".repeat(64),
        files: vec!["main.flow".into()],
        constants: vec![Value::None],
        functions: vec![
            function("flow past", 0, vec![Instr::Jump { to: 7 }]),
            function("flow off the end", 0, vec![Instr::Const { value: none }, Instr::Say]),
            function(
                "flow heights",
                0,
                vec![
                    Instr::Const { value: none },
                    Instr::JumpIfSome { to: 3 },
                    Instr::Const { value: none },
                    Instr::End,
                ],
            ),
            function("flow unset", 1, vec![Instr::Load { slot: Slot(0) }, Instr::Pop, Instr::End]),
            function("flow underflow", 0, vec![Instr::Say, Instr::End]),
            function(
                "flow dangling",
                0,
                vec![Instr::Const { value: none }, Instr::Lookup { source: SourceId(4) }, Instr::Pop, Instr::End],
            ),
            function("flow loops", 0, vec![Instr::Const { value: none }, Instr::Pop, Instr::Jump { to: 0 }]),
            function("fn a", 0, vec![Instr::Call { func: FuncId(8), args: 0 }, Instr::Return]),
            function("fn b", 0, vec![Instr::Call { func: FuncId(7), args: 0 }, Instr::Return]),
            function("fn silent", 0, vec![Instr::Goto { func: FuncId(0) }]),
            function("flow calls", 0, vec![Instr::Call { func: FuncId(9), args: 1 }, Instr::Pop, Instr::End]),
            function("flow slot", 0, vec![Instr::Store { slot: Slot(3) }, Instr::End]),
        ],
        ..Bundle::default()
    };
    let problems = verify(&bundle).join("\n");
    insta::assert_snapshot!(problems, @r#"
    fn #0 "flow past" at 0000: jumps to 0007, past the last instruction
    fn #1 "flow off the end" at 0002: control runs off the end of the function
    fn #2 "flow heights" at 0003: ends with 1 values left on the stack
    fn #2 "flow heights" at 0003: paths meet with stack heights 1 and 0
    fn #3 "flow unset" at 0000: slot 0 is read before some path stores it
    fn #4 "flow underflow" at 0000: takes 1 values from a stack of 0
    fn #5 "flow dangling" at 0001: source #4, but the bundle has 0
    fn #6 "flow loops" at 0002: jumps back to 0000
    fn #9 "fn silent" at 0000: a function that is called cannot `goto`
    fn #10 "flow calls" at 0000: calls fn #9 with 1 arguments, but it has 0 parameters
    fn #11 "flow slot" at 0000: slot 3, but the function has 0 locals
    fn #7 "fn a" calls itself through fn #8
    "#);
    assert!(Bundle::from_bytes(&bundle.to_bytes().unwrap()).unwrap_err().starts_with("the bundle is unsound: "));
}

/// A reply's text must take no parameters and return a text; its queue, record and
/// function must exist, and a record needs a global to stand in.
#[test]
fn verify_reports_broken_replies() {
    let text = Function {
        name: "reply broken".to_string(),
        params: 1,
        locals: 1,
        spans: vec![SourceSpan::default(); 2],
        code: vec![Instr::Const { value: ConstId(0) }, Instr::Return],
    };
    let silent = Function {
        name: "reply silent".to_string(),
        spans: vec![SourceSpan::default(); 1],
        code: vec![Instr::Return],
        ..Function::default()
    };
    let bundle = Bundle {
        format_version: FORMAT_VERSION,
        source_hash: "0".repeat(64),
        files: vec!["main.flow".into()],
        constants: vec![Value::text("hi")],
        functions: vec![text, silent],
        replies: vec![
            ReplyInfo {
                name: "broken".into(),
                queue: Some(QueueId(2)),
                record: Some(RecordId(0)),
                text: FuncId(0),
                globals: 0,
            },
            ReplyInfo { name: "gone".into(), queue: None, record: None, text: FuncId(5), globals: 0 },
            ReplyInfo { name: "silent".into(), queue: None, record: None, text: FuncId(1), globals: 0 },
        ],
        ..Bundle::default()
    };
    insta::assert_snapshot!(verify(&bundle).join("\n"), @r#"
    reply #0 `broken`: queue #2, but the bundle has 0 queues
    reply #0 `broken`: record #0, but the bundle has 0
    reply #0 `broken`: it is given a record but has no global to hold it
    reply #0 `broken`: its text takes 1 parameters, not none
    reply #1 `gone`: fn #5, but the bundle has 2 functions
    fn #1 "reply silent" at 0000: returns with 0 values on the stack, not 1
    "#);
}

/// A scorecard needs a question, each named once and weighed 1 to 100, and its own name.
#[test]
fn verify_reports_broken_scorecards() {
    let q = |name: &str, weight| QuestionInfo { name: name.into(), text: "?".into(), weight };
    let bundle = Bundle {
        format_version: FORMAT_VERSION,
        source_hash: "0".repeat(64),
        files: vec!["main.flow".into()],
        scorecards: vec![
            ScorecardInfo { name: "empty".into(), questions: vec![] },
            ScorecardInfo { name: "odd".into(), questions: vec![q("a", 0), q("a", 10), q("b", 101)] },
            ScorecardInfo { name: "odd".into(), questions: vec![q("c", 100)] },
        ],
        ..Bundle::default()
    };
    insta::assert_snapshot!(verify(&bundle).join("\n"), @r"
    scorecard #0 `empty`: it has no questions
    scorecard #1 `odd`: question `a` weighs 0, not 1 to 100
    scorecard #1 `odd`: question `a` is there twice
    scorecard #1 `odd`: question `b` weighs 101, not 1 to 100
    scorecard #2 `odd`: its name is taken by an earlier scorecard
    ");
}

/// Checks the project (it must have no errors) and compiles it.
fn compile(files: Vec<SourceFile>, loader: &MemoryLoader) -> (Checked, Bundle) {
    let std = std_modules();
    let checked = check::check(check::Input { files, std: &std, loader, module: Arc::from("") });
    let errors: Vec<String> = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| {
            let file = &checked.files[d.file.0 as usize];
            let line = file.text[..d.span.start as usize].matches('\n').count() + 1;
            format!("{}:{line}: {:?} {}", file.path, d.code, d.message)
        })
        .collect();
    assert!(errors.is_empty(), "the project has errors:\n{}", errors.join("\n"));
    let bundle = codegen::compile(&checked, loader).unwrap();
    (checked, bundle)
}

/// The disassembly, the warnings the checker gave, and what `verify` found.
fn listing(checked: &Checked, bundle: &Bundle) -> String {
    let mut out = disasm::disassemble(bundle, &checked.files);
    for d in checked.diagnostics.iter().filter(|d| !d.is_error()) {
        let file = &checked.files[d.file.0 as usize];
        let line = file.text[..d.span.start as usize].matches('\n').count() + 1;
        let _ = writeln!(out, "\nwarning {:?} at {}:{line}: {}", d.code, file.path, d.message);
    }
    let problems = verify(bundle);
    if problems.is_empty() {
        out.push_str("\nverify: ok\n");
    } else {
        out.push_str("\nverify:\n");
        for p in problems {
            let _ = writeln!(out, "  {p}");
        }
    }
    out
}

fn numbered(text: &str) -> String {
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        let _ = writeln!(out, "{:>3} | {line}", i + 1);
    }
    out.push_str("---\n");
    out
}

fn case_loader() -> MemoryLoader {
    let mut loader = MemoryLoader::default();
    loader.files.insert("scripts/double.rhai".into(), b"fn double(n) { n * 2 }\n".to_vec());
    loader.files.insert(
        "data/people.csv".into(),
        b"id,name,nickname,tier,email\n1,Ann,,gold,ann@example.com\n2,Bo,Bobby,standard,\n".to_vec(),
    );
    loader
}

fn std_modules() -> BTreeMap<String, Arc<str>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../stdlib");
    let mut modules = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "flow") {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            modules.insert(name, Arc::from(std::fs::read_to_string(&path).unwrap()));
        }
    }
    modules
}

/// The repository's `flows/` folder: `.flow` files as sources, everything else (CSVs,
/// rhai scripts) in the loader, by path relative to the folder.
fn acme_project() -> (Vec<SourceFile>, MemoryLoader) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../flows");
    let mut paths = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                paths.push(path);
            }
        }
    }
    paths.sort();
    let mut files = Vec::new();
    let mut loader = MemoryLoader::default();
    for path in paths {
        let rel = path.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
        if path.extension().is_some_and(|e| e == "flow") {
            files.push(SourceFile { path: rel, text: Arc::from(std::fs::read_to_string(&path).unwrap()) });
        } else {
            loader.files.insert(rel, std::fs::read(&path).unwrap());
        }
    }
    (files, loader)
}
