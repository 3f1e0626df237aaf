//! No result depends on hash order: every project of the repository (and the UI `formats`
//! project, which has many mistakes) is checked and compiled several times in one process,
//! where every hash map gets new random keys, and the bundle bytes and the rendered
//! diagnostics must be the same each time.
#![allow(clippy::disallowed_methods)] // tests read their projects from disk; the compiler never does

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use switchboard_compiler::check::{self, Input};
use switchboard_compiler::loader::MemoryLoader;
use switchboard_compiler::{codegen, render, SourceFile};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// `.flow` files as sources, every other file in the loader, by path relative to `root`.
fn project(root: &Path) -> (Vec<SourceFile>, MemoryLoader) {
    let mut paths = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
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
        let rel = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
        if path.extension().is_some_and(|e| e == "flow") {
            files.push(SourceFile { path: rel, text: Arc::from(std::fs::read_to_string(&path).unwrap()) });
        } else {
            loader.files.insert(rel, std::fs::read(&path).unwrap());
        }
    }
    (files, loader)
}

fn std_modules() -> BTreeMap<String, Arc<str>> {
    let (files, _) = project(&Path::new(ROOT).join("stdlib"));
    files
        .into_iter()
        .filter(|f| !f.path.contains('/'))
        .map(|f| (f.path.trim_end_matches(".flow").to_string(), f.text))
        .collect()
}

/// The rendered diagnostics and, when there are no errors, the bundle's bytes.
fn compile(root: &Path, std: &BTreeMap<String, Arc<str>>) -> (String, Option<Vec<u8>>) {
    let (files, loader) = project(root);
    let checked = check::check(Input { files, std, loader: &loader, module: Arc::from("") });
    let report = render::json(&checked.diagnostics, &checked.files);
    let bytes = if checked.diagnostics.iter().any(|d| d.is_error()) {
        None
    } else {
        Some(codegen::compile(&checked, &loader).unwrap().to_bytes().unwrap())
    };
    (report, bytes)
}

#[test]
fn checking_and_compiling_give_the_same_bytes_every_time() {
    let std = std_modules();
    let mut roots: Vec<PathBuf> =
        vec![Path::new(ROOT).join("flows"), Path::new(ROOT).join("compiler/tests/ui/formats")];
    let mut examples: Vec<PathBuf> = std::fs::read_dir(Path::new(ROOT).join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    examples.sort();
    roots.extend(examples);
    for root in roots {
        let first = compile(&root, &std);
        assert!(first.1.is_some() || first.0.contains("\"code\""), "{} gave nothing to compare", root.display());
        for run in 1..6 {
            assert!(compile(&root, &std) == first, "{}: run {run} differs from the first", root.display());
        }
    }
}
