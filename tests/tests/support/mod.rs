//! Shared by the end-to-end tests: the built `switchboard` binary, the repository, and
//! scratch projects in temporary folders.

// Each test file is its own crate and uses only some of these.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use tempfile::TempDir;

/// The repository's root folder.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ sits in the repository").to_path_buf()
}

/// Every example project under `examples/`.
pub fn examples() -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(repo().join("examples"))
        .expect("examples/ exists")
        .map(|e| e.expect("examples/ is readable").path())
        .filter(|p| p.is_dir())
        .collect();
    found.sort();
    assert!(!found.is_empty(), "examples/ holds no projects");
    found
}

/// Builds the binary once per test run (with the same profile as the tests) and returns it.
pub fn binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "-p", "switchboard", "--bin", "switchboard"])
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

/// Runs the binary with `args` in `dir`, with `input` as its stdin (then end of input).
pub fn switchboard_with_input(dir: &Path, args: &[&str], input: &str) -> Output {
    let mut child = Command::new(binary())
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("switchboard runs");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    // The run may end before it reads everything; a closed pipe is not the test's concern.
    let _ = stdin.write_all(input.as_bytes());
    drop(stdin);
    child.wait_with_output().expect("switchboard finishes")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The exit code; a run killed by a signal (a crash) fails the test here.
pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or_else(|| panic!("switchboard was killed: {o:?}"))
}

/// stdout and stderr together, for assertion messages.
pub fn both(o: &Output) -> String {
    format!("exit {:?}\n--- stdout\n{}--- stderr\n{}", o.status.code(), stdout(o), stderr(o))
}

/// A temporary project made of `files` (path, contents).
pub fn scratch(files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    for (path, text) in files {
        write(&dir.path().join(path), text.as_bytes());
    }
    dir
}

/// A temporary copy of the repository's folder `from` (e.g. `flows`).
pub fn copy_of(from: &str) -> TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    copy_dir(&repo().join(from), dir.path());
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("the copy's folder is created");
    for entry in std::fs::read_dir(from).expect("the folder is readable") {
        let entry = entry.expect("the folder is readable");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("the file is copied");
        }
    }
}

pub fn write(path: &Path, bytes: &[u8]) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("the folder is created");
    }
    std::fs::write(path, bytes).expect("the file is written");
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Replaces the one occurrence of `from` in the file at `path`.
pub fn edit(path: &Path, from: &str, to: &str) {
    let text = read(path);
    assert_eq!(text.matches(from).count(), 1, "`{from}` should occur once in {}", path.display());
    write(path, text.replacen(from, to, 1).as_bytes());
}

/// A small project that checks clean and has one passing test.
pub const HELLO: &str = r#"skills support

queue support {
  skills support
}

entry voice +441632960000 -> inbound

flow inbound on voice {
  waypoint start
  say "Hello."
  queue support
}

test "greets the caller" {
  contact voice from +447700900001
  expect say "Hello."
  expect queue support
}
"#;

/// A Python with the packages `tests/python/requirements.txt` pins, in a virtual
/// environment made once under the build's temporary folder: PyPI is reached the first
/// time only, and nothing is installed outside the build's own folders.
pub fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let requirements = repo().join("tests/python/requirements.txt");
        let pins = std::fs::read(&requirements).expect("tests/python/requirements.txt is readable");
        // A new pin makes a new environment.
        let tag = pins.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3));
        let home = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("venv-{tag:016x}"));
        let python = home.join("bin").join("python");
        if python.exists() {
            return python;
        }
        // Made beside its place and renamed into it, so a run cut off half-way, or another
        // test binary making it at the same time, never leaves a broken one behind.
        let making = home.with_extension(format!("making-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&making);
        let made = Command::new("python3").args(["-m", "venv"]).arg(&making).status();
        assert!(
            made.is_ok_and(|s| s.success()),
            "the tests need python3 with its venv module (Debian: python3-venv) to make {}",
            making.display()
        );
        let installed = Command::new(making.join("bin").join("python"))
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(&requirements)
            .status()
            .expect("pip runs");
        assert!(installed.success(), "pip could not install {}", requirements.display());
        if std::fs::rename(&making, &home).is_err() {
            // Another run made it first.
            let _ = std::fs::remove_dir_all(&making);
        }
        assert!(python.exists(), "no python in {}", home.display());
        python
    })
}

/// Debian's Chromium and ChromeDriver, for the browser tests: installed with apt-get when
/// they are missing and this runs as root (as on CI and a fresh machine); otherwise the
/// test fails saying how to install them.
pub fn chromium() {
    static READY: OnceLock<()> = OnceLock::new();
    READY.get_or_init(|| {
        let present = || Path::new("/usr/bin/chromium").exists() && Path::new("/usr/bin/chromedriver").exists();
        if present() {
            return;
        }
        eprintln!("installing Debian's chromium and chromium-driver for the browser tests (once)");
        apt_install(&["chromium", "chromium-driver"], "the browser tests");
        assert!(present(), "chromium and chromedriver are not in /usr/bin after installing them");
    });
}

/// The pinned Prism (`@stoplight/prism-cli` from npm), installed once under the build's
/// temporary folder with the machine's npm: the stand-in that checks requests against a
/// provider's published OpenAPI description.
pub fn prism() -> &'static Path {
    const VERSION: &str = "5.16.0";
    static PRISM: OnceLock<PathBuf> = OnceLock::new();
    PRISM.get_or_init(|| {
        let home = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("prism-{VERSION}"));
        let bin = home.join("node_modules/.bin/prism");
        if bin.exists() {
            return bin;
        }
        let making = home.with_extension(format!("making-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&making);
        std::fs::create_dir_all(&making).expect("a folder for prism");
        let installed = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix"])
            .arg(&making)
            .arg(format!("@stoplight/prism-cli@{VERSION}"))
            .status();
        assert!(
            installed.is_ok_and(|s| s.success()),
            "the provider tests need Node.js and npm to install @stoplight/prism-cli@{VERSION}"
        );
        if std::fs::rename(&making, &home).is_err() {
            let _ = std::fs::remove_dir_all(&making);
        }
        bin
    })
}

/// A port free on 127.0.0.1 now (for a helper process that needs one given).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// Waits until something listens on `addr`, for up to `seconds`.
pub fn wait_listening(addr: &str, seconds: u64) -> bool {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while std::time::Instant::now() < until {
        if std::net::TcpStream::connect(addr).is_ok() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    false
}

/// Debian's `swaks`, the SMTP test tool, installed with apt-get when missing (as root).
pub fn swaks() -> &'static Path {
    static READY: OnceLock<PathBuf> = OnceLock::new();
    READY.get_or_init(|| {
        let path = PathBuf::from("/usr/bin/swaks");
        if path.exists() {
            return path;
        }
        apt_install(&["swaks"], "the email tests");
        path
    })
}

/// Installs Debian `packages` with apt-get (as root, as on CI), for `who`.
fn apt_install(packages: &[&str], who: &str) {
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    assert!(root, "{who} need Debian's {}: sudo apt-get install {}", packages.join(" and "), packages.join(" "));
    let apt = |args: &[&str]| {
        Command::new("apt-get").args(args).env("DEBIAN_FRONTEND", "noninteractive").status().is_ok_and(|s| s.success())
    };
    let install: Vec<&str> = ["install", "-y", "-q"].iter().chain(packages).copied().collect();
    if !apt(&install) {
        assert!(apt(&["update", "-q"]), "apt-get update failed");
        assert!(apt(&install), "apt-get could not install {}", packages.join(" "));
    }
}
