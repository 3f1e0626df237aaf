//! Shared by the end-to-end tests: the built `switchboard` binary and the repository.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The repository's root folder.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ sits in the repository").to_path_buf()
}

/// Builds the binary once per test run (with the same profile as the tests) and returns it.
pub fn binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "-p", "switchboard-runtime", "--bin", "switchboard"])
            .current_dir(repo())
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the switchboard binary failed");
        let target = std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| repo().join("target"));
        target.join("debug").join("switchboard")
    })
}

/// Runs the binary with `args` in `dir`.
pub fn switchboard(dir: &Path, args: &[&str]) -> Output {
    Command::new(binary()).args(args).current_dir(dir).output().expect("switchboard runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
