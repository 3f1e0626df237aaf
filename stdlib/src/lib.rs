//! The standard library, written in the flow language and embedded in the binary.

use std::collections::BTreeMap;
use std::sync::Arc;

include!(concat!(env!("OUT_DIR"), "/stdlib.rs"));

/// The `std` modules by name (`surveys` for `std.surveys`).
pub fn modules() -> BTreeMap<String, Arc<str>> {
    MODULES.iter().map(|(name, text)| (name.to_string(), Arc::from(*text))).collect()
}
