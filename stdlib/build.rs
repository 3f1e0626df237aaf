//! Embeds the standard library (`stdlib/*.flow`) into the binary.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    // Read when the script runs, not when it was compiled: a build script compiled in one
    // checkout may be run for another (its compiled form is shared by path-independent hashes).
    let dir = std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut modules: Vec<(String, String)> = Vec::new();
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "flow") {
                println!("cargo:rerun-if-changed={}", path.display());
                let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
                let path = path.canonicalize().unwrap_or(path);
                modules.push((name, path.display().to_string()));
            }
        }
    }
    assert!(!modules.is_empty(), "no standard library modules (*.flow) in {}", dir.display());
    modules.sort();
    let mut out = String::from(
        "/// The `std` modules: name and flow-language source.\npub static MODULES: &[(&str, &str)] = &[\n",
    );
    for (name, path) in &modules {
        writeln!(out, "    ({name:?}, include_str!({path:?})),").unwrap();
    }
    out.push_str("];\n");
    let target = Path::new(&std::env::var("OUT_DIR").unwrap()).join("stdlib.rs");
    std::fs::write(target, out).unwrap();
}
