//! The local shell: runs the engine for `switchboard test` and `run`, performing its
//! commands at once, and finds the files of projects.

pub mod clock;
pub mod local;
pub mod project;
pub mod testing;

pub use local::{LocalShell, Options, Rows, Services};
