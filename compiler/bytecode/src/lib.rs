//! What the compiler and the runtime share: the bundle format (`bytecode`), the values a
//! flow computes with (`value`), the language's types (`types`), source positions (`span`),
//! and the one reader of data cells (`cell`, with the normal forms of phones, emails and
//! handles in `normalize`) that `check` and the runtime's sources both use, and the bundle
//! verifier (`verify`) that [`bytecode::Bundle::from_bytes`] runs.
//!
//! **Architecture Invariant:** this crate is pure data and pure functions: no file system,
//! no clock, no threads, no network (`clippy.toml`). Both the compiler and every runtime
//! crate depend on it; it depends on neither.

pub mod bytecode;
pub mod cell;
pub mod normalize;
pub mod span;
pub mod types;
pub mod value;
pub mod verify;
