//! A reader that stops reading (`switchboard disasm x | head -1`) closes the pipe: every
//! command then ends quietly, exit 0, instead of panicking on `BrokenPipe` (issue 8).

mod support;
use std::process::{Command, Stdio};
use support::*;

/// Runs `args` in the repository with stdout a pipe whose reading end is closed before
/// the command writes a byte, so its first write fails with `BrokenPipe`.
fn with_stdout_closed(args: &[&str], stdin: &str) -> (Option<i32>, String) {
    let mut child = Command::new(binary())
        .args(args)
        .current_dir(repo())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("switchboard runs");
    drop(child.stdout.take());
    let mut input = child.stdin.take().expect("stdin is piped");
    let _ = std::io::Write::write_all(&mut input, stdin.as_bytes());
    drop(input);
    let o = child.wait_with_output().expect("switchboard finishes");
    (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned())
}

/// Reproduction: `switchboard disasm flows | head -1` panicked with "failed printing to
/// stdout: Broken pipe" (exit 101); so did every other command's output.
#[test]
fn no_command_panics_when_its_reader_goes_away() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let bundle = dir.path().join("acme.bundle");
    let bundle = bundle.to_str().expect("a UTF-8 path");
    let o = switchboard(&repo(), &["build", "flows", "-o", bundle]);
    assert_eq!(code(&o), 0, "{}", both(&o));
    let messy = dir.path().join("messy.flow");
    write(&messy, HELLO.replace("  ", "      ").as_bytes());
    let messy = messy.to_str().expect("a UTF-8 path");
    let cases: &[(&[&str], &str)] = &[
        (&["disasm", bundle], ""),
        (&["disasm", "flows"], ""),
        (&["check", "flows"], ""),
        (&["check", "--format", "json", "flows"], ""),
        (&["test", "flows"], ""),
        (&["fmt", "--check", messy], ""),
        (&["build", "flows", "-o", bundle], ""),
        (&["run", "examples/helpdesk", "--at", "2026-11-23 10:00 Europe/London"], "1\n/wait 30s\n"),
        (
            &["simulate", "examples/helpdesk", "--agents", "examples/helpdesk/agents.csv", "--arrivals", "voice=60/h"]
                [..],
            "",
        ),
        (&["staff", "--rate", "100/30m", "--aht", "180s", "--target", "80%/20s"], ""),
        (&["--help"], ""),
    ];
    for (args, stdin) in cases {
        let mut args = args.to_vec();
        if args[0] == "simulate" {
            args.extend(["--aht", "voice=180s", "--hours", "1"]);
        }
        let (exit, stderr) = with_stdout_closed(&args, stdin);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(exit, Some(0), "{args:?} exits quietly: {stderr}");
        assert!(stderr.is_empty(), "{args:?} says nothing: {stderr}");
    }
}
