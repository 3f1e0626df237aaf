//! What the compiler and the runtime share: the bundle format (`bytecode`), the values a
//! flow computes with (`value`), the language's types (`types`), and source positions
//! (`span`).
//!
//! **Architecture Invariant:** this crate is pure data and pure functions: no file system,
//! no clock, no threads, no network (`clippy.toml`). Both the compiler and every runtime
//! crate depend on it; it depends on neither.

pub mod bytecode;
pub mod span;
pub mod types;
pub mod value;
