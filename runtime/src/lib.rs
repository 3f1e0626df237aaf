//! The Switchboard runtime: everything that runs a compiled bundle.

pub mod acd;
pub mod calendar;
pub mod cli;
pub mod engine;
pub mod project;
pub mod sandbox;
pub mod simulate;
pub mod sources;
pub mod staffing;
pub mod stdlib;
pub mod testing;
pub mod vm;
