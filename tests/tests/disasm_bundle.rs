//! `switchboard disasm BUNDLE`: a bundle's file table is data, never a path to open
//! (issue 8). Source lines come from the standard library in the binary and from the
//! project named with `--project`, read as `check` reads it.

mod guard;
mod support;
use support::*;
use switchboard_bytecode::bytecode::Bundle;

/// A bundle of examples/helpdesk built from the repository's root, as `build` writes it.
fn helpdesk_bundle(dir: &std::path::Path) -> Bundle {
    let path = dir.join("helpdesk.bundle");
    let o = switchboard(&repo(), &["build", "examples/helpdesk", "-o", path.to_str().expect("a UTF-8 path")]);
    assert_eq!(code(&o), 0, "{}", both(&o));
    Bundle::from_bytes(&std::fs::read(&path).expect("the bundle is written")).expect("the bundle reads")
}

/// Reproduction: a crafted bundle whose file table names `/dev/zero` made `disasm` read
/// it until memory ran out, and one naming a FIFO hung it.
#[test]
fn a_bundle_naming_dev_zero_or_a_fifo_opens_neither() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let fifo = dir.path().join("pipe.flow");
    let status = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
    assert!(status.success());
    let bundle = helpdesk_bundle(dir.path());
    for (name, path) in [("zero", "/dev/zero"), ("fifo", fifo.to_str().expect("a UTF-8 path"))] {
        let mut crafted = bundle.clone();
        crafted.files = bundle.files.iter().map(|_| path.to_string()).collect();
        write(&dir.path().join(name), &crafted.to_bytes().expect("the bundle is written"));
        for args in [&["disasm", name][..], &["disasm", name, "--project", "."]] {
            let ended = guard::run(binary(), dir.path(), args, b"", guard::Limits::default());
            assert!(!ended.timed_out, "{args:?} hung: {}", ended.describe());
            assert_eq!(ended.code, Some(0), "{args:?}: {}", ended.describe());
            let offsets = format!("; {path}@");
            assert!(ended.stdout.contains(&offsets), "{args:?}: spans show offsets, not lines: {}", ended.describe());
        }
    }
}

/// With `--project`, the project's own files give the lines; without it, offsets.
#[test]
fn source_lines_come_from_the_named_project() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    helpdesk_bundle(dir.path());
    let bundle = dir.path().join("helpdesk.bundle");
    let bundle = bundle.to_str().expect("a UTF-8 path");
    let o = switchboard(&repo(), &["disasm", bundle, "--project", "examples/helpdesk"]);
    assert_eq!(code(&o), 0, "{}", both(&o));
    assert!(stdout(&o).contains("; examples/helpdesk/helpdesk.flow:"), "{}", both(&o));
    let o = switchboard(&repo(), &["disasm", bundle]);
    assert_eq!(code(&o), 0, "{}", both(&o));
    assert!(stdout(&o).contains("; examples/helpdesk/helpdesk.flow@"), "{}", both(&o));
    assert!(!stdout(&o).contains("; examples/helpdesk/helpdesk.flow:"), "{}", both(&o));
}
