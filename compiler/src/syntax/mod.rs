//! Source text to syntax tree: the pest grammar, the tree, and the comment scanner.

pub mod ast;
pub mod parse;
mod scan;

pub use parse::{parse, parse_expr, Parsed};
