//! `switchboard fmt` end to end: the repository is in the canonical layout, a messy copy is
//! put back into it, and a file that does not parse is never touched.

mod support;
use support::*;

#[test]
fn the_repository_is_formatted() {
    let o = switchboard(&repo(), &["fmt", "--check", "flows", "examples", "stdlib"]);
    assert_eq!(code(&o), 0, "{}", both(&o));
    assert!(stdout(&o).is_empty(), "{}", both(&o));
}

#[test]
fn a_messy_copy_is_listed_then_formatted_back() {
    let dir = copy_of("flows");
    let inbound = dir.path().join("inbound.flow");
    let common = dir.path().join("common.flow");
    let original = (read(&inbound), read(&common));
    // Tabs, stray spaces, extra blank lines, and a record squeezed onto one line.
    let messy = original.0.replace("\n  ", "\n\t").replace("\n\n", "\n\n\n").replace("{\n", "{   \n");
    write(&inbound, messy.as_bytes());
    edit(&common, "skills billing, support", "skills   billing ,support");
    edit(
        &common,
        "record Warranty {\n  customer_id: text\n  product: text\n  active: bool\n}",
        "record Warranty { customer_id: text  product: text  active: bool }",
    );

    let o = switchboard(dir.path(), &["fmt", "--check", "."]);
    assert_eq!(code(&o), 1, "{}", both(&o));
    assert_eq!(stdout(&o).lines().collect::<Vec<_>>(), ["./common.flow", "./inbound.flow"], "{}", both(&o));
    assert_eq!(read(&inbound), messy, "--check writes nothing");

    let o = switchboard(dir.path(), &["fmt", "."]);
    assert_eq!(code(&o), 0, "{}", both(&o));
    assert_eq!((read(&inbound), read(&common)), original, "formatting restores the canonical layout");
    let o = switchboard(dir.path(), &["fmt", "--check", "."]);
    assert_eq!(code(&o), 0, "{}", both(&o));
    let o = switchboard(dir.path(), &["check", "--deny-warnings", "."]);
    assert_eq!(code(&o), 0, "{}", both(&o));
}

#[test]
fn formatting_twice_changes_nothing_more() {
    let dir = copy_of("examples/shop");
    let desk = dir.path().join("desk.flow");
    write(&desk, read(&desk).replace("\n  ", "\n      ").as_bytes());
    let o = switchboard(dir.path(), &["fmt", "."]);
    assert_eq!(code(&o), 0, "{}", both(&o));
    let once = read(&desk);
    let o = switchboard(dir.path(), &["fmt", "."]);
    assert_eq!(code(&o), 0, "{}", both(&o));
    assert!(stdout(&o).is_empty(), "{}", both(&o));
    assert_eq!(read(&desk), once);
}

#[test]
fn a_file_that_does_not_parse_is_left_untouched() {
    let broken = "flow inbound on voice {\n\t\tsay    \"Hello.\"\n  queue support\n\n\n\n  menu {\n";
    let tidy = HELLO.replace("\n  ", "\n    ");
    let dir = scratch(&[("broken.flow", broken), ("tidy.flow", &tidy)]);
    let broken_path = dir.path().join("broken.flow");
    for args in [&["fmt", "--check", "."][..], &["fmt", "."]] {
        let o = switchboard(dir.path(), args);
        assert_eq!(code(&o), 1, "{args:?}\n{}", both(&o));
        assert!(stdout(&o).contains("error[syntax]"), "{args:?}\n{}", both(&o));
        assert_eq!(std::fs::read(&broken_path).expect("readable"), broken.as_bytes(), "{args:?}");
    }
    assert_eq!(read(&dir.path().join("tidy.flow")), HELLO, "the files that parse are formatted all the same");
}

#[test]
fn a_file_that_is_not_utf8_is_reported_whole_and_never_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let bytes: &[u8] = b"skills support\n// Caf\xe9 hours\nqueue support {\n  skills nosuchskill\n}\n";
    let file = dir.path().join("main.flow");
    std::fs::write(&file, bytes).unwrap();
    // Everything after the bad byte is still checked.
    let checked = switchboard(dir.path(), &["check", "--format", "json", "."]);
    let out = stdout(&checked);
    assert!(out.contains("not UTF-8"), "{out}");
    assert!(out.contains("nosuchskill"), "the rest of the file was lost: {out}");
    assert_eq!(checked.status.code(), Some(1));
    // `fmt` refuses, and the bytes stay as they were.
    let formatted = switchboard(dir.path(), &["fmt", "."]);
    assert_eq!(formatted.status.code(), Some(1));
    assert_eq!(std::fs::read(&file).unwrap(), bytes);
}
