//! `World`: what the engine reads and never changes — the deployed bundles (more than one:
//! sessions finish on the version they started on), what is derived from each once, and
//! each bundle's `extern fn`s.
//!
//! The engine calls `extern fn`s inline: they are pure and capped (the rhai sandbox lives
//! in its own crate, behind [`Externs`]), so a call is a function of its arguments and the
//! same inputs still give the same outputs.

use crate::error::EngineError;
use crate::ids::BundleHash;
use crate::prepared::Prepared;
use std::collections::BTreeMap;
use std::sync::Arc;
use switchboard_bytecode::bytecode::{Bundle, ExternId};
use switchboard_bytecode::value::Value;

/// A bundle's `extern fn`s, ready to call.
pub trait Externs: Send + Sync {
    /// Calls `func` with `args`: its value (of the declared return type), or why it failed
    /// (the flow then takes its `on error`).
    fn call(&self, func: ExternId, args: &[Value]) -> Result<Value, String>;
}

/// For a bundle that declares no `extern fn`.
#[derive(Debug, Default)]
pub struct NoExterns;

impl Externs for NoExterns {
    fn call(&self, func: ExternId, _args: &[Value]) -> Result<Value, String> {
        Err(format!("extern function {} is not available here", func.0))
    }
}

/// One deployed bundle.
pub struct Deployed {
    pub hash: BundleHash,
    pub(crate) prepared: Prepared,
    pub(crate) externs: Box<dyn Externs>,
}

impl Deployed {
    /// Whether an entry of this bundle answers a contact on `channel` addressed to `to`:
    /// `Err` says why not, in words for the sender.
    pub fn answers(&self, channel: switchboard_bytecode::types::Channel, to: Option<&str>) -> Result<(), String> {
        match self.prepared.entries.find(channel, to)? {
            Some(_) => Ok(()),
            None => Err(format!("the project has no {channel} entry")),
        }
    }

    pub fn bundle(&self) -> &Arc<Bundle> {
        &self.prepared.bundle
    }
}

impl std::fmt::Debug for Deployed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deployed").field("hash", &self.hash).finish_non_exhaustive()
    }
}

/// The deployed bundles, by hash.
#[derive(Debug, Default)]
pub struct World {
    bundles: BTreeMap<BundleHash, Deployed>,
}

impl World {
    pub fn new() -> World {
        World::default()
    }

    /// Adds a bundle (deploying the same bundle again changes nothing) and returns its hash.
    /// Tell the engine with `Input::Deploy` that new contacts should start on it.
    pub fn deploy(&mut self, bundle: Arc<Bundle>, externs: Box<dyn Externs>) -> Result<BundleHash, EngineError> {
        let bytes = bundle.to_bytes().map_err(EngineError::Bundle)?;
        let hash = BundleHash::of(&bytes);
        self.bundles.entry(hash).or_insert_with(|| Deployed { hash, prepared: Prepared::new(bundle), externs });
        Ok(hash)
    }

    pub fn get(&self, hash: &BundleHash) -> Option<&Deployed> {
        self.bundles.get(hash)
    }

    /// The deployed bundles' hashes, in hash order.
    pub fn hashes(&self) -> impl Iterator<Item = BundleHash> + '_ {
        self.bundles.keys().copied()
    }
}
