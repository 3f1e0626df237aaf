//! The Switchboard flow language compiler: a pure library.
//!
//! `pipeline` reads like the table of contents: source text is parsed (`syntax`),
//! names are resolved and types checked (`check`), lints run, and a checked project
//! compiles to a `bytecode::Bundle`. Nothing here touches a file, the environment or a
//! clock: files arrive through `loader::Loader`.

pub mod check;
pub mod codegen;
pub mod diagnostic;
pub mod disasm;
pub mod fmt;
pub mod graph;
pub mod loader;
pub mod render;
pub mod syntax;
pub mod tz;

pub use switchboard_bytecode::{bytecode, types, value, verify};

pub use diagnostic::{Code, Diagnostic, FileId, Severity};
pub use loader::{Loader, ScriptCheck, SourceFile};
