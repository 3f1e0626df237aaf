//! How the daemon reaches the sources the project declares but does not hold: the
//! `[sources.NAME]` settings of `switchboard.toml` made into sources (`sql` on a shared
//! pool, `http` with its headers and credentials).
//!
//! What an operator would expect is checked when the project is served, and again at
//! every deploy: a source the settings name that the project does not declare, settings
//! of the wrong kind for the source (a `url` for an `http` source), and an `sql` source
//! with no database are errors that stop `serve` (or refuse the deploy) with the fix. A
//! mistake there would otherwise only show as every customer's look-up failing. Bundles
//! kept in the store from before (contacts still on them) are never refused: their
//! unreachable sources fail each look-up, which the flow sees as none and reports as an
//! event.

use crate::config::SourceSettings;
use crate::sql::{Pool, SqlSource};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use switchboard_bytecode::bytecode::{Bundle, SourceLocation};
use switchboard_shell::local::Connector;
use switchboard_sources::{HttpSource, Source, SourceError, SourceSpec};

/// The sources' settings, with the pools made so far and the runtime that drives them.
pub struct Connections {
    settings: BTreeMap<String, SourceSettings>,
    pools: Mutex<BTreeMap<String, Pool>>,
    runtime: Mutex<Option<tokio::runtime::Runtime>>,
}

impl std::fmt::Debug for Connections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connections").field("sources", &self.settings.keys().collect::<Vec<_>>()).finish()
    }
}

impl Drop for Connections {
    fn drop(&mut self) {
        // Dropped wherever the core is, perhaps inside another runtime: never wait there.
        if let Some(runtime) = self.runtime.get_mut().ok().and_then(Option::take) {
            runtime.shutdown_background();
        }
    }
}

impl Connections {
    pub fn new(settings: BTreeMap<String, SourceSettings>) -> Connections {
        Connections { settings, pools: Mutex::new(BTreeMap::new()), runtime: Mutex::new(None) }
    }

    /// No settings: `http` sources without headers, `sql` sources refused.
    pub fn none() -> Connections {
        Connections::new(BTreeMap::new())
    }

    /// Whether `bundle` can be served with these settings. `all_named` also refuses
    /// settings for a source the bundle does not declare (at `serve`; a deploy that drops
    /// a source only warns, so that its settings can go after it).
    pub fn check(&self, bundle: &Bundle, all_named: bool) -> Result<(), String> {
        let mut problems = Vec::new();
        for info in &bundle.sources {
            let name = info.name.as_str();
            match (&info.location, self.settings.get(name)) {
                (SourceLocation::Sql { .. }, None) => problems.push(format!(
                    "sql source `{name}` has no database: add `[sources.{name}]` with `url = \"postgres://…\"` (or `url_env`) to switchboard.toml"
                )),
                (SourceLocation::Sql { .. }, Some(SourceSettings::Http { .. })) => problems.push(format!(
                    "`{name}` is an sql source, but `[sources.{name}]` gives headers or credentials: give its `url`"
                )),
                (SourceLocation::Http { .. }, Some(SourceSettings::Sql { .. })) => problems.push(format!(
                    "`{name}` is an http source (its URL is in the project), but `[sources.{name}]` gives a database `url`: give headers or credentials"
                )),
                (SourceLocation::Csv { .. } | SourceLocation::Sqlite { .. }, Some(_)) => problems.push(format!(
                    "`{name}` is read from the project's files; `[sources.{name}]` is only for http and sql sources"
                )),
                _ => {}
            }
            if let SourceLocation::Sql { query } = &info.location {
                if let Err(e) = crate::sql::check_query(query) {
                    problems.push(format!("sql source `{name}`: {e}"));
                }
            }
        }
        for name in self.settings.keys() {
            if !bundle.sources.iter().any(|s| *s.name == **name) {
                let declared: Vec<&str> = bundle.sources.iter().map(|s| &*s.name).collect();
                let message = format!(
                    "switchboard.toml has `[sources.{name}]`, but the project declares no source `{name}` (it declares: {})",
                    if declared.is_empty() { "none".to_string() } else { declared.join(", ") }
                );
                if all_named {
                    problems.push(message);
                } else {
                    tracing::warn!("{message}");
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n"))
        }
    }

    /// The runtime sql queries run on (one worker: they only wait on sockets).
    fn runtime(&self) -> Result<tokio::runtime::Handle, String> {
        let mut runtime = self.runtime.lock().map_err(|_| "the sql runtime is poisoned".to_string())?;
        if runtime.is_none() {
            *runtime = Some(
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .thread_name("switchboard-sql")
                    .enable_all()
                    .build()
                    .map_err(|e| format!("cannot start the sql runtime: {e}"))?,
            );
        }
        Ok(runtime.as_ref().map(|r| r.handle().clone()).expect("made above"))
    }

    /// The shared pool of `[sources.NAME]`.
    fn pool(&self, name: &str, settings: &SourceSettings) -> Result<(Pool, tokio::runtime::Handle), String> {
        let SourceSettings::Sql { url, max_connections } = settings else {
            return Err(format!("`[sources.{name}]` gives no database url"));
        };
        let runtime = self.runtime()?;
        let mut pools = self.pools.lock().map_err(|_| "the sql pools are poisoned".to_string())?;
        if let Some(pool) = pools.get(name) {
            return Ok((pool.clone(), runtime));
        }
        let _inside = runtime.enter();
        let pool = Pool::connect_lazy(url, *max_connections).map_err(|e| format!("`[sources.{name}]`: {e}"))?;
        pools.insert(name.to_string(), pool.clone());
        Ok((pool, runtime))
    }
}

/// Fails every look-up with why the source cannot be reached.
struct Unreachable(SourceError);

impl Source for Unreachable {
    fn lookup(
        &self,
        _: &switchboard_bytecode::value::Value,
    ) -> Result<Option<Arc<switchboard_bytecode::value::Record>>, SourceError> {
        Err(self.0.clone())
    }
}

impl Connector for Connections {
    fn connect(&self, spec: &SourceSpec, location: &SourceLocation) -> Option<Result<Arc<dyn Source>, String>> {
        let name = spec.name.as_str();
        let unreachable = |message: String| -> Arc<dyn Source> {
            Arc::new(Unreachable(SourceError::Unavailable { source: name.to_string(), message }))
        };
        Some(Ok(match (location, self.settings.get(name)) {
            (SourceLocation::Sql { query }, Some(settings)) => {
                let made = self
                    .pool(name, settings)
                    .and_then(|(pool, runtime)| SqlSource::new(spec, query, pool, runtime).map_err(|e| e.to_string()));
                match made {
                    Ok(source) => Arc::new(source),
                    Err(e) => unreachable(e),
                }
            }
            (SourceLocation::Sql { .. }, None) => unreachable(format!(
                "no database is configured for sql source `{name}` ([sources.{name}] url in switchboard.toml)"
            )),
            (SourceLocation::Http { url }, settings) => {
                let headers = match settings {
                    Some(SourceSettings::Http { headers }) => {
                        headers.iter().map(|(h, v)| (h.clone(), v.expose().to_string())).collect()
                    }
                    _ => Vec::new(),
                };
                match HttpSource::new(spec, url).and_then(|s| s.with_headers(headers)) {
                    Ok(source) => Arc::new(source),
                    Err(e) => unreachable(e.to_string()),
                }
            }
            _ => return None,
        }))
    }
}
