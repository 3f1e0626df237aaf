//! Project files are regular files inside the project once links are resolved, and at
//! most 8 MiB (issue 8). Each refusal is a `project-file` error naming the file, exit 1:
//! never its text, never a hang, never a panic. The runs are guarded (memory and time
//! limits), because before the fix a FIFO hung `check` and `/dev/zero` ate memory.

mod guard;
mod support;
use std::os::unix::fs::symlink;
use std::path::Path;
use support::*;

/// A project with HELLO and a CSV source at `data/people.csv`.
const WITH_CSV: &str = r#"record Person {
  phone: phone
  name: text
}

source people: Person {
  csv "data/people.csv"
  key phone
}
"#;

fn check(dir: &Path, args: &[&str]) -> guard::Ended {
    let ended = guard::run(binary(), dir, args, b"", guard::Limits::default());
    assert!(!ended.timed_out, "the run hung: {}", ended.describe());
    assert!(!ended.stderr.contains("panicked"), "{}", ended.describe());
    ended
}

/// The refusal every project-file case shares: exit 1, a `project-file` error that names
/// the file, and its help.
fn assert_refused(ended: &guard::Ended, file: &str, why: &str) {
    assert_eq!(ended.code, Some(1), "{}", ended.describe());
    assert!(ended.stdout.contains("error[project-file]"), "{}", ended.describe());
    assert!(ended.stdout.contains(file), "the error names `{file}`: {}", ended.describe());
    assert!(ended.stdout.contains(why), "the error says `{why}`: {}", ended.describe());
    assert!(ended.stdout.contains("help:"), "{}", ended.describe());
}

/// Reproduction: `notes.flow -> ../secret.txt` was read, and its text printed in the
/// diagnostics.
#[test]
fn a_flow_linked_from_outside_the_project_is_refused_and_never_shown() {
    let dir = scratch(&[("secret.txt", "the-secret-password\n"), ("project/main.flow", HELLO)]);
    symlink("../secret.txt", dir.path().join("project/notes.flow")).unwrap();
    for args in [&["check", "project"][..], &["check", "project/notes.flow"], &["fmt", "project"], &["test", "project"]]
    {
        let ended = check(dir.path(), args);
        assert_refused(&ended, "notes.flow", "outside the project folder");
        assert!(!ended.stdout.contains("the-secret-password"), "{args:?}: {}", ended.describe());
        assert!(!ended.stderr.contains("the-secret-password"), "{args:?}: {}", ended.describe());
    }
    assert_eq!(read(&dir.path().join("secret.txt")), "the-secret-password\n", "fmt left it alone");
}

/// Reproduction: a CSV linked from outside the project was embedded in the bundle.
#[test]
fn a_csv_linked_from_outside_the_project_is_refused_and_never_bundled() {
    let dir = scratch(&[
        ("outside.csv", "phone,name\n+447700900001,Secret Person\n"),
        ("project/main.flow", &format!("{HELLO}\n{WITH_CSV}")),
    ]);
    std::fs::create_dir_all(dir.path().join("project/data")).unwrap();
    symlink("../../outside.csv", dir.path().join("project/data/people.csv")).unwrap();
    let ended = check(dir.path(), &["build", "project", "-o", "out.bundle"]);
    assert_refused(&ended, "data/people.csv", "outside the project folder");
    assert!(!dir.path().join("out.bundle").exists(), "no bundle is written");
    let ended = check(dir.path(), &["check", "project"]);
    assert_refused(&ended, "data/people.csv", "outside the project folder");
}

/// A link inside the project to another file inside it is fine, for data and for flows
/// (a flow linked twice is checked once, not reported as declared twice).
#[test]
fn links_inside_the_project_are_followed() {
    let dir = scratch(&[
        ("project/main.flow", &format!("{HELLO}\n{WITH_CSV}")),
        ("project/data/real.csv", "phone,name\n+447700900001,Ana\n"),
    ]);
    symlink("real.csv", dir.path().join("project/data/people.csv")).unwrap();
    symlink("main.flow", dir.path().join("project/again.flow")).unwrap();
    let ended = check(dir.path(), &["check", "project"]);
    assert_eq!(ended.code, Some(0), "{}", ended.describe());
    assert!(ended.stdout.contains("0 errors, 1 warning"), "only `people` unused: {}", ended.describe());
    assert!(ended.stdout.contains("project/main.flow"), "the file's own name is shown: {}", ended.describe());
    let ended = check(dir.path(), &["test", "project"]);
    assert_eq!(ended.code, Some(0), "{}", ended.describe());
    assert!(ended.stdout.contains("1 passed, 0 failed"), "{}", ended.describe());
}

/// Reproduction: `zero.flow -> /dev/zero` (or a CSV linked to it) was read until memory
/// ran out.
#[test]
fn a_link_to_dev_zero_is_refused_without_reading_it() {
    let dir = scratch(&[("main.flow", &format!("{HELLO}\n{WITH_CSV}"))]);
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    symlink("/dev/zero", dir.path().join("data/people.csv")).unwrap();
    assert_refused(&check(dir.path(), &["check", "."]), "data/people.csv", "outside the project folder");
    std::fs::remove_file(dir.path().join("data/people.csv")).unwrap();
    symlink("/dev/zero", dir.path().join("zero.flow")).unwrap();
    assert_refused(&check(dir.path(), &["check", "."]), "zero.flow", "outside the project folder");
    // Named on the command line, it is neither a project nor a bundle: still refused.
    assert_refused(&check(dir.path(), &["check", "zero.flow"]), "zero.flow", "outside the project folder");
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo").arg(path).status().expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
}

/// Reproduction: a FIFO named `x.flow` (or a project's CSV) hung `check` forever, waiting
/// for a writer. It is never opened now; the guard kills a hung run and fails the test.
#[test]
fn a_fifo_is_refused_without_opening_it() {
    let dir = scratch(&[("main.flow", &format!("{HELLO}\n{WITH_CSV}"))]);
    mkfifo(&dir.path().join("pipe.flow"));
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    mkfifo(&dir.path().join("data/people.csv"));
    let ended = check(dir.path(), &["check", "."]);
    assert_refused(&ended, "pipe.flow", "a FIFO, not a regular file");
    assert_refused(&ended, "data/people.csv", "a FIFO, not a regular file");
    for args in
        [&["fmt", "--check", "."][..], &["test", "."], &["build", ".", "-o", "out.bundle"], &["disasm", "pipe.flow"]]
    {
        let ended = check(dir.path(), args);
        assert_eq!(ended.code, Some(1), "{args:?}: {}", ended.describe());
        assert!(ended.stdout.contains("a FIFO"), "{args:?}: {}", ended.describe());
    }
}

/// A project file larger than 8 MiB is refused, unread past the limit.
#[test]
fn an_oversized_file_is_refused() {
    let big = format!("{HELLO}\n// {}\n", "x".repeat(8 * 1024 * 1024));
    let dir = scratch(&[("main.flow", &big)]);
    assert_refused(&check(dir.path(), &["check", "."]), "main.flow", "more than 8 MiB");
    let csv = format!("phone,name\n{}", "+447700900001,Ana\n".repeat(8 * 1024 * 1024 / 18 + 1));
    let dir = scratch(&[("main.flow", &format!("{HELLO}\n{WITH_CSV}")), ("data/people.csv", &csv)]);
    assert_refused(&check(dir.path(), &["check", "."]), "data/people.csv", "more than 8 MiB");
}

/// `simulate --agents` names a file on the command line: it may lie anywhere, but it is
/// read only when it is a regular file, within the limit.
#[test]
fn an_agents_file_that_is_a_fifo_is_refused() {
    let dir = scratch(&[("main.flow", HELLO)]);
    mkfifo(&dir.path().join("agents.csv"));
    let args =
        ["simulate", ".", "--agents", "agents.csv", "--arrivals", "voice=10/h", "--aht", "voice=60s", "--hours", "1"];
    let ended = check(dir.path(), &args);
    assert_eq!(ended.code, Some(2), "{}", ended.describe());
    assert!(ended.stderr.contains("a FIFO, not a regular file"), "{}", ended.describe());
}

/// Reproduction: `build -o main.flow` wrote the bundle over the project's own source.
#[test]
fn build_refuses_to_overwrite_a_source_of_the_project() {
    let dir = scratch(&[("main.flow", &format!("{HELLO}\n{WITH_CSV}")), ("data/people.csv", "phone,name\n")]);
    symlink("main.flow", dir.path().join("link.bundle")).unwrap();
    for output in ["main.flow", "./main.flow", "data/people.csv", "link.bundle", "new.flow"] {
        let before = read(&dir.path().join("main.flow"));
        let o = switchboard(dir.path(), &["build", ".", "-o", output]);
        assert_eq!(code(&o), 1, "-o {output}: {}", both(&o));
        assert!(stderr(&o).contains(&format!("`{output}` is not written")), "-o {output}: {}", both(&o));
        assert!(stderr(&o).contains("help:"), "-o {output}: {}", both(&o));
        assert_eq!(read(&dir.path().join("main.flow")), before, "-o {output} changed the source");
    }
    assert_eq!(read(&dir.path().join("data/people.csv")), "phone,name\n");
    assert!(!dir.path().join("new.flow").exists());
    let o = switchboard(dir.path(), &["build", ".", "-o", "out.bundle"]);
    assert_eq!(code(&o), 0, "{}", both(&o));
}
