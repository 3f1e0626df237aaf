//! Source text to syntax tree: the pest grammar, the tree, and the comment scanner.

pub mod ast;
