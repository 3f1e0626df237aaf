//! Everything the commands print goes through here, never `print!` (clippy.toml forbids it).
//!
//! A reader that stops reading (`switchboard disasm x | head -1`) closes the pipe: the next
//! write to stdout fails with `BrokenPipe`, and the program ends quietly with exit 0, as
//! Unix tools do, instead of panicking. Writing to stderr never fails a command.

use std::io::Write;

/// Writes `text` to stdout as it is, and flushes it, so a closed pipe is found at once.
pub fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => {
            error(&format!("error: cannot write the output: {e}\n"));
            std::process::exit(i32::from(super::EXIT_USAGE));
        }
    }
}

/// Writes `text` to stderr as it is; a stderr that cannot be written is left alone.
pub fn error(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// `println!` to stdout through [`print`].
macro_rules! outln {
    () => { $crate::output::print("\n") };
    ($($arg:tt)*) => { $crate::output::print(&format!("{}\n", format_args!($($arg)*))) };
}

/// `eprintln!` to stderr through [`error`].
macro_rules! errln {
    ($($arg:tt)*) => { $crate::output::error(&format!("{}\n", format_args!($($arg)*))) };
}
