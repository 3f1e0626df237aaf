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
    Bundle, ConstId, FuncId, Function, Instr, Slot, SourceId, SourceSpan, FORMAT_VERSION,
};
use switchboard_compiler::check::{self, Checked};
use switchboard_compiler::loader::MemoryLoader;
use switchboard_compiler::value::Value;
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

/// The verifier that every listing ends with finds what it is there to find.
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
    fn #5 "flow dangling" at 0001: an id points past its table: Lookup #4?
    "#);
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

// ---------------------------------------------------------------------------------------
// A small bytecode verifier: it follows every path through each function.

/// What one instruction takes from the stack and gives back, and where control goes.
struct Effect {
    pops: usize,
    pushes: usize,
    /// Control does not reach the next instruction.
    ends: bool,
    targets: Vec<u32>,
}

fn effect(b: &Bundle, i: &Instr) -> Effect {
    let (pops, pushes, ends, targets) = match i {
        Instr::Const { .. }
        | Instr::Load { .. }
        | Instr::LoadGlobal { .. }
        | Instr::Contact { .. }
        | Instr::Attribute { .. }
        | Instr::AgentField { .. }
        | Instr::QueueField { .. }
        | Instr::Now => (0, 1, false, vec![]),
        Instr::Store { .. } | Instr::StoreGlobal { .. } | Instr::SetLanguage | Instr::SetAttribute { .. } => {
            (1, 0, false, vec![])
        }
        Instr::Pop | Instr::Say | Instr::Note | Instr::CollectPayment | Instr::StartRetry { .. } => {
            (1, 0, false, vec![])
        }
        Instr::CallOut { .. } => (1, 0, false, vec![]),
        Instr::Field { .. } | Instr::OptField { .. } | Instr::Not | Instr::Neg | Instr::Matches { .. } => {
            (1, 1, false, vec![])
        }
        Instr::Ask { .. } | Instr::Menu { .. } | Instr::Lookup { .. } | Instr::Choose { .. } => (1, 1, false, vec![]),
        Instr::Dup => (1, 2, false, vec![]),
        Instr::Binary { .. } => (2, 1, false, vec![]),
        Instr::MakeList { len } => (*len as usize, 1, false, vec![]),
        Instr::MakeRecord { record } => (b.records.get(record.index()).map_or(0, |r| r.fields.len()), 1, false, vec![]),
        Instr::Concat { parts } => (*parts as usize, 1, false, vec![]),
        Instr::PerLanguage { languages } => match b.constants.get(languages.index()) {
            Some(Value::List(l)) => (l.len(), 1, false, vec![]),
            _ => (0, 1, false, vec![]),
        },
        Instr::Jump { to } => (0, 0, true, vec![*to]),
        Instr::JumpIfFalse { to } | Instr::JumpIfTrue { to } | Instr::JumpIfSome { to } => (1, 0, false, vec![*to]),
        Instr::Switch { targets } => (1, 0, true, targets.clone()),
        Instr::Call { args, .. } | Instr::Builtin { args, .. } | Instr::Extern { args, .. } => {
            (*args as usize, 1, false, vec![])
        }
        Instr::Return | Instr::Goto { .. } | Instr::Fail { .. } | Instr::End => (0, 0, true, vec![]),
        Instr::Queue { prefer_ms, .. } => (usize::from(prefer_ms.is_some()), 0, true, vec![]),
        Instr::Transfer => (1, 0, true, vec![]),
        Instr::Send { .. } => (2, 0, false, vec![]),
        Instr::Waypoint { .. }
        | Instr::OfferCallback { .. }
        | Instr::Survey { .. }
        | Instr::Outcome { .. }
        | Instr::Again { .. }
        | Instr::Stop => (0, 0, false, vec![]),
    };
    Effect { pops, pushes, ends, targets }
}

/// The state on entry to an instruction: stack height and the slots stored on every path.
#[derive(Clone, PartialEq)]
struct State {
    height: usize,
    stored: Vec<bool>,
}

/// Problems in the bundle's code, one line each.
fn verify(b: &Bundle) -> Vec<String> {
    let mut problems = Vec::new();
    let globals = globals_by_function(b);
    for (fi, f) in b.functions.iter().enumerate() {
        let mut report = |pc: usize, what: String| problems.push(format!("fn #{fi} {:?} at {pc:04}: {what}", f.name));
        if f.spans.len() != f.code.len() {
            report(0, format!("{} spans for {} instructions", f.spans.len(), f.code.len()));
        }
        let len = f.code.len();
        let mut states: Vec<Option<State>> = vec![None; len];
        let mut stored = vec![false; f.locals as usize];
        stored.iter_mut().take(f.params as usize).for_each(|s| *s = true);
        let mut work = vec![(0usize, State { height: 0, stored })];
        let expects_value =
            f.name.starts_with("fn ") || f.name.ends_with(" while waiting") || f.name.ends_with(" timezone");
        while let Some((pc, state)) = work.pop() {
            if pc >= len {
                report(pc, "control runs off the end of the function".into());
                continue;
            }
            match &mut states[pc] {
                Some(seen) if *seen == state => continue,
                Some(seen) => {
                    if seen.height != state.height {
                        report(pc, format!("paths meet with stack heights {} and {}", seen.height, state.height));
                        continue;
                    }
                    let merged: Vec<bool> = seen.stored.iter().zip(&state.stored).map(|(a, b)| *a && *b).collect();
                    if merged == seen.stored {
                        continue;
                    }
                    seen.stored = merged;
                }
                slot => *slot = Some(state),
            }
            let mut state = states[pc].clone().unwrap();
            let instr = &f.code[pc];
            let text = disasm::instruction(b, instr);
            if has_dangling_id(&text) {
                report(pc, format!("an id points past its table: {text}"));
            }
            match instr {
                Instr::Load { slot } | Instr::Store { slot } if slot.index() >= f.locals as usize => {
                    report(pc, format!("slot {} but the function has {} locals", slot.0, f.locals));
                    continue;
                }
                Instr::Load { slot } if !state.stored[slot.index()] => {
                    report(pc, format!("slot {} is read before some path stores it", slot.0));
                }
                Instr::LoadGlobal { global } | Instr::StoreGlobal { global } if global.index() >= globals[fi] => {
                    report(pc, format!("global {} but the unit has {} globals", global.0, globals[fi]));
                }
                _ => {}
            }
            let e = effect(b, instr);
            if state.height < e.pops {
                report(pc, format!("takes {} values from a stack of {}", e.pops, state.height));
                continue;
            }
            state.height = state.height - e.pops + e.pushes;
            if let Instr::Store { slot } = instr {
                state.stored[slot.index()] = true;
            }
            match instr {
                Instr::Return if expects_value && state.height != 1 => {
                    report(pc, format!("returns with {} values on the stack, not 1", state.height));
                }
                Instr::Return if !expects_value && state.height != 0 => {
                    report(pc, format!("returns with {} values left on the stack", state.height));
                }
                Instr::End | Instr::Goto { .. } | Instr::Queue { .. } | Instr::Transfer | Instr::Fail { .. }
                    if state.height != 0 =>
                {
                    report(pc, format!("ends with {} values left on the stack", state.height));
                }
                Instr::Switch { targets } => {
                    let wanted = match pc.checked_sub(1).map(|p| &f.code[p]) {
                        Some(Instr::Menu { menu }) => b.menus.get(menu.index()).map(|m| m.options.len() + 1),
                        Some(Instr::Choose { choice }) => b.choices.get(choice.index()).map(|c| c.options.len()),
                        _ => None,
                    };
                    if let Some(n) = wanted.filter(|n| *n != targets.len()) {
                        report(pc, format!("{} targets for {n} answers", targets.len()));
                    }
                }
                _ => {}
            }
            for t in &e.targets {
                if *t as usize >= len {
                    report(pc, format!("jumps to {t:04}, past the last instruction"));
                } else {
                    work.push((*t as usize, state.clone()));
                }
            }
            if !e.ends {
                work.push((pc + 1, state));
            }
        }
    }
    problems
}

/// `#12?`: the disassembler's mark for an id with no table entry.
fn has_dangling_id(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().filter(|(_, c)| **c == b'#').any(|(i, _)| {
        let digits = bytes[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        digits > 0 && bytes.get(i + 1 + digits) == Some(&b'?')
    })
}

/// How many globals each function's unit (flow, script, survey, retry) has.
fn globals_by_function(b: &Bundle) -> Vec<usize> {
    let mut globals = vec![0; b.functions.len()];
    let mut set = |f: FuncId, n: u16| {
        if let Some(g) = globals.get_mut(f.index()) {
            *g = n as usize;
        }
    };
    for s in &b.scripts {
        set(s.prelude, s.globals);
        for (_, f) in &s.steps {
            set(*f, s.globals);
        }
    }
    for s in &b.surveys {
        set(s.body, s.globals);
    }
    for f in &b.flows {
        set(f.body, f.globals);
        if let Some(e) = f.on_error {
            set(e, f.globals);
        }
    }
    for r in &b.retries {
        for f in r.timezone.iter().chain(r.steps.iter().map(|s| &s.action)).chain(r.handlers.iter().map(|(_, f)| f)) {
            set(*f, r.globals);
        }
    }
    globals
}
