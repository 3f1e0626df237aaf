//! `switchboard build` end to end: a bundle file for a good project, nothing for a broken one.

mod support;
use support::*;

#[test]
fn building_acme_writes_a_bundle() {
    let out = tempfile::tempdir().expect("a temporary folder");
    let bundle = out.path().join("acme.bundle");
    let o = switchboard(&repo(), &["build", "flows", "-o", bundle.to_str().expect("a UTF-8 path")]);
    assert_eq!(code(&o), 0, "{}", both(&o));
    let bytes = std::fs::read(&bundle).expect("the bundle is written");
    assert!(!bytes.is_empty());
    assert!(stdout(&o).starts_with("built "), "{}", both(&o));
    assert!(stdout(&o).contains(&format!("({} bytes,", bytes.len())), "{}", both(&o));
}

#[test]
fn the_same_project_builds_the_same_bundle() {
    let out = tempfile::tempdir().expect("a temporary folder");
    let mut bundles = Vec::new();
    for name in ["one.bundle", "two.bundle"] {
        let path = out.path().join(name);
        let o = switchboard(&repo(), &["build", "examples/outage", "--output", path.to_str().expect("a UTF-8 path")]);
        assert_eq!(code(&o), 0, "{}", both(&o));
        bundles.push(std::fs::read(&path).expect("the bundle is written"));
    }
    assert!(bundles[0] == bundles[1], "two builds of one project differ");
}

#[test]
fn a_broken_project_builds_nothing() {
    let dir = scratch(&[("main.flow", &HELLO.replace("  queue support\n}\n\ntest", "  queue suport\n}\n\ntest"))]);
    let o = switchboard(dir.path(), &["build", ".", "-o", "out.bundle"]);
    assert_eq!(code(&o), 1, "{}", both(&o));
    assert!(stdout(&o).contains("error[unknown-name]"), "{}", both(&o));
    assert!(!dir.path().join("out.bundle").exists(), "no bundle is written");
}

#[test]
fn building_a_missing_project_is_a_usage_error() {
    let dir = scratch(&[]);
    let o = switchboard(dir.path(), &["build", "nowhere", "-o", "out.bundle"]);
    assert_eq!(code(&o), 2, "{}", both(&o));
    assert!(stderr(&o).contains("nowhere"), "{}", both(&o));
    assert!(!dir.path().join("out.bundle").exists());
}
