//! Running the built binary the way hostile input would be run: under a memory limit and
//! a time limit. A run that overruns its time is killed, and the test says so instead of
//! hanging; a run that crashes (a panic, an abort, a signal) is told apart from an exit.

// Each test file is its own crate and uses only some of these.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a guarded run may use.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Address space, as `ulimit -v` takes it.
    pub memory_kib: u64,
    pub time: Duration,
}

impl Default for Limits {
    /// 1 GiB and 20 s: far more than any command needs on a small project in debug.
    fn default() -> Limits {
        Limits { memory_kib: 1024 * 1024, time: Duration::from_secs(20) }
    }
}

/// How a guarded run ended.
#[derive(Debug)]
pub struct Ended {
    /// The exit code, when it exited.
    pub code: Option<i32>,
    /// The signal that ended it, when one did (SIGABRT is an abort, SIGKILL a time-out).
    pub signal: Option<i32>,
    pub timed_out: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Ended {
    /// Exit code, signal and output, for assertion messages.
    pub fn describe(&self) -> String {
        format!(
            "exit {:?}, signal {:?}, timed out {}\n--- stdout\n{}--- stderr\n{}",
            self.code,
            self.signal,
            self.timed_out,
            tail(&self.stdout),
            tail(&self.stderr)
        )
    }
}

fn tail(text: &str) -> &str {
    let mut from = text.len().saturating_sub(2000);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    &text[from..]
}

/// Runs `binary` with `args` in `dir`, `stdin` as its input, within `limits`. The memory
/// limit is set by a shell that then becomes the binary (`exec`), so the limit, the pid
/// and the exit status are the binary's own.
pub fn run<S: AsRef<OsStr>>(binary: &Path, dir: &Path, args: &[S], stdin: &[u8], limits: Limits) -> Ended {
    let script = format!("ulimit -v {} && exec \"$0\" \"$@\"", limits.memory_kib);
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(binary)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sh runs");
    let mut input = child.stdin.take().expect("stdin is piped");
    let stdin = stdin.to_vec();
    // The run may end before it reads everything; a closed pipe is not the test's concern.
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let out = reader(child.stdout.take().expect("stdout is piped"));
    let err = reader(child.stderr.take().expect("stderr is piped"));
    let deadline = Instant::now() + limits.time;
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait().expect("the run can be waited for") {
            break status;
        }
        if Instant::now() > deadline {
            timed_out = true;
            let _ = child.kill();
            break child.wait().expect("the killed run can be waited for");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let _ = writer.join();
    let stdout = out.join().expect("stdout is read");
    let stderr = err.join().expect("stderr is read");
    Ended { code: status.code(), signal: status.signal(), timed_out, stdout, stderr }
}

fn reader(mut from: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = from.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}
