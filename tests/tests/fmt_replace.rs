//! `switchboard fmt` replaces a file whole or not at all, at its real path (issue 8).

mod guard;
mod support;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use support::*;

fn messy() -> String {
    HELLO.replace("\n  ", "\n      ")
}

fn names(dir: &std::path::Path) -> Vec<Vec<u8>> {
    let mut names: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .expect("the folder is readable")
        .map(|e| e.expect("an entry").file_name().as_bytes().to_vec())
        .collect();
    names.sort();
    names
}

/// Reproduction: a file named `caf\xe9.flow` (Latin-1, not UTF-8) was written to its
/// shown name `caf\u{fffd}.flow`, a second file, and the real one was left messy.
#[test]
fn a_file_whose_name_is_not_utf8_is_formatted_in_place() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let file = dir.path().join(OsStr::from_bytes(b"caf\xe9.flow"));
    write(&file, messy().as_bytes());
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
    let o = switchboard(dir.path(), &["fmt", "."]);
    assert_eq!(code(&o), 0, "{}", both(&o));
    assert!(stdout(&o).contains("formatted "), "{}", both(&o));
    assert_eq!(names(dir.path()), vec![b"caf\xe9.flow".to_vec()], "no second file appears");
    assert_eq!(read(&file), HELLO);
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640, "the file keeps its permissions");
    let o = switchboard(dir.path(), &["fmt", "--check", "."]);
    assert_eq!(code(&o), 0, "{}", both(&o));
}

/// Reproduction: `fmt` wrote in place, so a write that failed part way (here: a file
/// size limit of 0 blocks, with SIGXFSZ ignored so the write fails with EFBIG instead
/// of killing the process) left the file cut short. The text goes to a temporary file
/// now and is renamed over the original only when whole; the original stays intact and
/// no temporary file is left behind. (A read-only folder would show the same, but these
/// tests may run as root, whom a folder's mode does not stop.)
#[test]
fn a_write_that_fails_leaves_the_file_as_it_was() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let file = dir.path().join("main.flow");
    write(&file, messy().as_bytes());
    let o = std::process::Command::new("sh")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 0 && exec \"$0\" \"$@\"")
        .arg(binary())
        .args(["fmt", "."])
        .current_dir(dir.path())
        .output()
        .expect("sh runs");
    assert_eq!(code(&o), 2, "the write fails: {}", both(&o));
    assert!(stderr(&o).contains("cannot write"), "{}", both(&o));
    assert!(!stderr(&o).contains("panicked"), "{}", both(&o));
    assert_eq!(read(&file), messy(), "the original is intact");
    assert_eq!(names(dir.path()), vec![b"main.flow".to_vec()], "no temporary file is left");
}

/// A link inside the project stays a link; its target gets the new text.
#[test]
fn a_linked_flow_keeps_its_link() {
    let dir = scratch(&[("flows/main.flow", &messy())]);
    std::os::unix::fs::symlink("flows/main.flow", dir.path().join("main.flow")).unwrap();
    let o = switchboard(dir.path(), &["fmt", "."]);
    assert_eq!(code(&o), 0, "{}", both(&o));
    assert!(std::fs::symlink_metadata(dir.path().join("main.flow")).unwrap().file_type().is_symlink());
    assert_eq!(read(&dir.path().join("flows/main.flow")), HELLO);
}
