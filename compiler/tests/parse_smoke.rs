//! Every sample file parses without a syntax error.
#![allow(clippy::disallowed_methods)]

use switchboard_compiler::syntax;
use switchboard_compiler::FileId;

#[test]
fn acme_parses() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../flows");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "flow") {
            let text = std::fs::read_to_string(&path).unwrap();
            let parsed = syntax::parse(FileId(0), &text);
            for d in &parsed.diagnostics {
                let (l, c) = line_col(&text, d.span.start as usize);
                eprintln!("{}:{l}:{c}: {} {:?}", path.display(), d.message, d.help);
            }
            assert!(parsed.diagnostics.is_empty(), "{}", path.display());
            assert!(!parsed.file.items.is_empty());
        }
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    (before.matches('\n').count() + 1, before.len() - before.rfind('\n').map_or(0, |n| n + 1) + 1)
}
