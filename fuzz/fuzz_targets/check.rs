//! Arbitrary bytes through the compiler, as the CLI would meet them: turned into text
//! (invalid UTF-8 becomes U+FFFD), parsed, then checked as a one-file project with the
//! real standard library. Nothing may panic, and every diagnostic must lie inside its file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};
use switchboard_compiler::check::{self, Input};
use switchboard_compiler::loader::MemoryLoader;
use switchboard_compiler::{syntax, FileId, SourceFile};

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
});
