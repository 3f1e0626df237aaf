//! Bytes as a bundle, as `switchboard run` or `disasm` would meet a `.sbb` file: whatever
//! `Bundle::from_bytes` accepts must run in the VM without a panic, its verifier having
//! refused everything that could make the VM index past a table.
//!
//! An input that starts with `0` is an edit of a real bundle instead (the acme project of
//! `flows/`, compiled once): the rest is read as (offset, byte) pairs written over it, so
//! the fuzzer explores bundles close to real ones without a corpus.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, LazyLock};
use switchboard_compiler::bytecode::{Bundle, FuncId, WaitingAction};
use switchboard_compiler::check::{self, Input};
use switchboard_compiler::loader::MemoryLoader;
use switchboard_compiler::types::Channel;
use switchboard_compiler::value::Value;
use switchboard_compiler::{codegen, SourceFile};
use switchboard_vm::{Contact, Host, Resume, Step, Tables, Vm};

/// The acme project's bundle, as bytes.
static ACME: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../flows");
    let mut files = Vec::new();
    let mut loader = MemoryLoader::default();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "flow") {
                files.push(SourceFile { path: rel, text: Arc::from(std::fs::read_to_string(&path).unwrap()) });
            } else {
                loader.files.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let std = [
        ("callbacks", include_str!("../../stdlib/callbacks.flow")),
        ("surveys", include_str!("../../stdlib/surveys.flow")),
        ("text", include_str!("../../stdlib/text.flow")),
        ("time", include_str!("../../stdlib/time.flow")),
    ]
    .into_iter()
    .map(|(name, text)| (name.to_string(), Arc::from(text)))
    .collect();
    let checked = check::check(Input { files, std: &std, loader: &loader, module: Arc::from("") });
    codegen::compile(&checked, &loader).unwrap().to_bytes().unwrap()
});

fn contact() -> Box<Contact> {
    Box::new(Contact {
        id: Arc::from("c1"),
        channel: Channel::Voice,
        from: Value::Phone(Arc::from("+447700900001")),
        to: Arc::from("+441632960000"),
        text: Arc::from("hello"),
        subject: Arc::from(""),
        language: Arc::from("en"),
        country: Arc::from("GB"),
        started_at: "2026-11-23T10:00:00Z".parse().unwrap(),
        attributes: Default::default(),
    })
}

/// Runs every function a run can start at, answering each effect in turn with a number,
/// none, or a failure.
fn run_all(b: &Bundle) {
    let tables = Tables::new(b);
    let host = Host::new(&tables);
    let now = "2026-11-23T10:00:00Z".parse().unwrap();
    let none = |n: u16| vec![Value::None; n as usize];
    let mut starts: Vec<(FuncId, Vec<Value>, Option<FuncId>)> = Vec::new();
    starts.extend(b.flows.iter().map(|f| (f.body, none(f.globals), f.on_error)));
    for s in &b.scripts {
        starts.push((s.prelude, none(s.globals), None));
        starts.extend(s.steps.iter().map(|(_, f)| (*f, none(s.globals), None)));
    }
    starts.extend(b.surveys.iter().map(|s| (s.body, none(s.globals), None)));
    for r in &b.retries {
        let funcs = r.timezone.iter().chain(r.steps.iter().map(|s| &s.action)).chain(r.handlers.iter().map(|h| &h.1));
        starts.extend(funcs.map(|f| (*f, none(r.globals.max(1)), None)));
    }
    for line in b.queues.iter().flat_map(|q| &q.waiting) {
        if let WaitingAction::Say(f) = line.action {
            starts.push((f, Vec::new(), None));
        }
    }
    for (i, (func, globals, on_error)) in starts.into_iter().enumerate() {
        let mut vm = Vm::new(b, func, contact(), globals, on_error);
        for turn in 0..200 {
            let mut fuel = 10_000;
            match vm.run(b, &host, now, &mut fuel) {
                Step::Yield(_) => vm.resume(
                    b,
                    match (i + turn) % 3 {
                        0 => Resume::Value(Value::Number(0.0)),
                        1 => Resume::Value(Value::None),
                        _ => Resume::Failed("fuzz".into()),
                    },
                ),
                Step::Running => vm.resume(b, Resume::Unit),
                Step::Done | Step::Failed(_) => break,
            }
        }
        let _ = vm.position(b);
    }
}

fuzz_target!(|data: &[u8]| {
    let bytes = match data.split_first() {
        Some((0, edits)) => {
            let mut bytes = ACME.clone();
            for pair in edits.chunks_exact(3) {
                let at = usize::from(u16::from_le_bytes([pair[0], pair[1]])) * bytes.len() / 65_536;
                bytes[at] = pair[2];
            }
            bytes
        }
        _ => data.to_vec(),
    };
    if let Ok(bundle) = Bundle::from_bytes(&bytes) {
        run_all(&bundle);
    }
});
