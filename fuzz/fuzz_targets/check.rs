//! Arbitrary bytes through the compiler, as the CLI would meet them: turned into text
//! (invalid UTF-8 becomes U+FFFD), parsed, then checked as a one-file project with the
//! real standard library. Nothing may panic, and every diagnostic must lie inside its file.
//!
//! A project that checks without errors goes on as `switchboard build` and `run` take it:
//! compiled to a bundle, written to bytes and read back through the verifier
//! (`Bundle::from_bytes`), which must accept it unchanged, then deployed in an engine
//! that a contact reaches on every entry. Codegen must never make a bundle the verifier
//! refuses, and nothing on the way may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};
use switchboard_compiler::bytecode::Bundle;
use switchboard_compiler::check::{self, Checked, Input};
use switchboard_compiler::loader::MemoryLoader;
use switchboard_compiler::{codegen, syntax, FileId, SourceFile};
use switchboard_engine::{Arrival, Input as EngineInput, NoExterns, State, World};

/// The standard library as the binary ships it.
static STD: LazyLock<BTreeMap<String, Arc<str>>> = LazyLock::new(|| {
    [
        ("callbacks", include_str!("../../stdlib/callbacks.flow")),
        ("surveys", include_str!("../../stdlib/surveys.flow")),
        ("text", include_str!("../../stdlib/text.flow")),
        ("time", include_str!("../../stdlib/time.flow")),
    ]
    .into_iter()
    .map(|(name, text)| (name.to_string(), Arc::from(text)))
    .collect()
});

/// A few data files, so that CSV and rhai checks run too when a source names them.
static LOADER: LazyLock<MemoryLoader> = LazyLock::new(|| {
    let mut loader = MemoryLoader::default();
    loader.files.insert("data/customers.csv".into(), include_bytes!("../../flows/data/customers.csv").to_vec());
    loader.files.insert("scripts/risk.rhai".into(), include_bytes!("../../flows/scripts/risk.rhai").to_vec());
    loader
});

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();

    let parsed = syntax::parse(FileId(0), &text);
    for d in &parsed.diagnostics {
        assert!(d.span.start <= d.span.end && d.span.end as usize <= text.len(), "{d:?}");
    }

    let files = vec![SourceFile { path: "fuzz.flow".into(), text: Arc::from(text) }];
    let checked = check::check(Input { files, std: &STD, loader: &*LOADER, module: Arc::from("") });
    for d in &checked.diagnostics {
        let file = &checked.files[d.file.0 as usize].text;
        assert!(d.span.start <= d.span.end && d.span.end as usize <= file.len(), "{d:?}");
        for r in &d.related {
            let file = &checked.files[r.file.0 as usize].text;
            assert!(r.span.start <= r.span.end && r.span.end as usize <= file.len(), "{d:?}");
        }
    }
    if !checked.has_errors() {
        build_and_load(&checked);
    }
});

/// Codegen, the bundle's bytes and back through the verifier, a deploy, and one contact on
/// each entry.
fn build_and_load(checked: &Checked) {
    let bundle = codegen::compile(checked, &*LOADER).expect("a project without errors compiles");
    let bytes = bundle.to_bytes().expect("a compiled bundle is written");
    let loaded = Bundle::from_bytes(&bytes).unwrap_or_else(|e| panic!("the verifier refuses a compiled bundle: {e}"));
    assert!(loaded == bundle, "a bundle read back differs from the one written");
    let mut world = World::new();
    let hash = world.deploy(Arc::new(loaded), Box::new(NoExterns)).expect("a verified bundle deploys");
    let now = "2026-11-23T10:00:00Z".parse().expect("a timestamp");
    let mut state = State::new(&world, hash, now).expect("an engine starts on a deployed bundle");
    for entry in &bundle.entries {
        let from = match entry.channel {
            switchboard_compiler::types::Channel::Voice | switchboard_compiler::types::Channel::Sms => "+447700900001",
            switchboard_compiler::types::Channel::Email => "ann@example.com",
            _ => "visitor-1",
        };
        let arrival = Arrival {
            channel: entry.channel,
            from: Arc::from(from),
            to: Some(Arc::from(entry.address.as_str())),
            subject: Arc::from("Help"),
            text: Arc::from("hello"),
        };
        // An engine error (an extern fn this world lacks, say) is an answer, not a bug.
        let _ = switchboard_engine::step(&mut state, &world, now, EngineInput::Arrive(arrival));
    }
}
