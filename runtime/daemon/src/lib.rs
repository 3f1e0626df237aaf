//! `switchboard serve`: the daemon that runs flows for real contacts.
//!
//! One thread owns the engine ([`core`]); every input is journaled in the [`store`] before
//! it is applied, so a crash loses nothing and, since every delivery is keyed by its
//! command id, sends nothing twice. Around it, tokio serves the [`web`]: the chat widget
//! and its WebSocket, the agents' WebSocket, the admin API and the operators' endpoints.
//!
//! This is the only crate that depends on tokio.

pub mod channels;
pub mod config;
pub mod connect;
pub mod core;
pub mod metrics;
pub mod project;
pub mod report;
pub mod review;
pub mod sql;
pub mod store;
pub mod wallboard;
pub mod web;

use crate::config::Settings;
use std::path::Path;
use std::sync::Arc;

/// Prints a line to stdout; a closed stdout is no reason to stop serving.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// Runs the daemon until it is told to stop (Ctrl-C or SIGTERM). Returns when it has
/// stopped; `Err` says why it could not start.
pub fn serve(settings: Settings) -> Result<(), String> {
    let bundle = project::compile_dir(&settings.project)
        .map_err(|diagnostics| format!("{diagnostics}the project has errors; fix them and start again"))?;
    // What flows' `send sms` send from when `[twilio]` names no number: the only sms entry.
    let sms_entry = {
        let mut sms = bundle.entries.iter().filter(|e| e.channel == switchboard_bytecode::types::Channel::Sms);
        match (sms.next(), sms.next()) {
            (Some(e), None) => Some(e.address.clone()),
            _ => None,
        }
    };
    let voice_entry = bundle
        .entries
        .iter()
        .find(|e| e.channel == switchboard_bytecode::types::Channel::Voice)
        .map(|e| e.address.clone());
    let email_entries: Vec<String> = bundle
        .entries
        .iter()
        .filter(|e| e.channel == switchboard_bytecode::types::Channel::Email)
        .map(|e| e.address.to_lowercase())
        .collect();
    let store = store::Store::open(&settings.data).map_err(|e| e.to_string())?;
    let reader = store.reader().map_err(|e| e.to_string())?;
    let admin_token = admin_token(&settings)?;
    let tuning = core::Tuning { snapshot_every: settings.snapshot_every, ..core::Tuning::default() };
    let connections = Arc::new(connect::Connections::new(settings.sources.clone()));
    connections
        .check(&bundle, true)
        .map_err(|e| format!("{e}\nthe sources cannot be reached; fix switchboard.toml and start again"))?;
    let mut core =
        core::Core::open_connected(store, Arc::new(bundle.clone()), settings.project.clone(), tuning, connections)?;
    if let Some(hash) =
        core.deploy(Arc::new(bundle)).map_err(|e| format!("cannot deploy the project: {e}"))?.1.then(|| core.current())
    {
        tracing::info!(bundle = %hash.short(), "deployed the project as it is on disk");
    }
    let (handle, thread, perform_rx) = core.spawn()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("switchboard-web")
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let result = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(&settings.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", settings.listen))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let providers = Arc::new(channels::Providers {
            twilio: settings.twilio.clone().map(|t| {
                let from = t.sms_from.clone().or_else(|| sms_entry.clone());
                let mut twilio = channels::twilio::Twilio::new(t, from);
                twilio.voice_from = voice_entry.clone();
                Arc::new(twilio)
            }),
            whatsapp: settings.whatsapp.clone().map(|w| Arc::new(channels::social::WhatsApp::new(w))),
            telegram: settings.telegram.clone().map(|t| Arc::new(channels::social::Telegram::new(t))),
            messenger: settings.messenger.clone().map(|m| Arc::new(channels::social::Messenger::new(m))),
            email: match settings.email.clone() {
                None => None,
                Some(mut e) => {
                    if e.domains.is_empty() {
                        e.domains = email_entries
                            .iter()
                            .filter_map(|a| a.rsplit_once('@'))
                            .map(|(_, d)| d.to_string())
                            .collect();
                    }
                    let from = e.from.clone().or_else(|| (email_entries.len() == 1).then(|| email_entries[0].clone()));
                    Some(Arc::new(channels::email::Email::new(e, from)?))
                }
            },
        });
        if let Some(email) = providers.email.clone() {
            let listener = tokio::net::TcpListener::bind(&email.settings.listen)
                .await
                .map_err(|e| format!("cannot listen for mail on {}: {e}", email.settings.listen))?;
            let smtp_at = listener.local_addr().map_err(|e| e.to_string())?;
            say!("  mail:       smtp://{smtp_at} (for {})", email.settings.domains.join(", "));
            let reader = store::Reader::open(&settings.data).map_err(|e| e.to_string())?;
            let reader = Arc::new(std::sync::Mutex::new(reader));
            tokio::spawn(channels::email::listen(email, handle.clone(), reader, listener));
        }
        tokio::spawn(core::perform(perform_rx, handle.clone(), providers.clone()));
        let outbox_reader = store::Reader::open(&settings.data).map_err(|e| e.to_string())?;
        tokio::spawn(channels::outbox(handle.clone(), outbox_reader, providers.clone()));
        if settings.watch {
            tokio::spawn(watch(settings.project.clone(), handle.clone()));
        }
        let (board_tx, board_rx) = tokio::sync::watch::channel(Arc::new(wallboard::Snapshot::default()));
        let board_reader = store::Reader::open(&settings.data).map_err(|e| e.to_string())?;
        tokio::spawn(wallboard::run(handle.clone(), board_reader, settings.project.clone(), board_tx));
        let mut app = web::App::new(handle.clone(), reader, settings.clone(), admin_token);
        app.wallboard = board_rx;
        app.providers = providers;
        let app = Arc::new(app);
        let router = web::router(app).into_make_service_with_connect_info::<std::net::SocketAddr>();
        say!("switchboard is serving {} on http://{addr}/", settings.project.display());
        say!("  chat demo:  http://{addr}/demo");
        say!("  agents:     http://{addr}/desktop (the protocol: ws://{addr}/agent/ws)");
        say!("  managers:   http://{addr}/wallboard");
        say!("  data:       {}", settings.data.display());
        // No Nagle: a reply is often two small writes (an ack, then the flow's answer), and
        // the second would wait for the client's delayed ACK of the first (40 ms on Linux).
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        axum::serve(listener, router).with_graceful_shutdown(shutdown()).await.map_err(|e| e.to_string())
    });
    handle.tell(core::Request::Stop);
    let _ = thread.join();
    result
}

/// Ctrl-C or SIGTERM.
async fn shutdown() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("stopping");
}

/// The admin token: configured, or made once and kept in the data folder (readable by
/// its owner only), so that no admin API is ever open without one.
fn admin_token(settings: &Settings) -> Result<String, String> {
    if let Some(t) = &settings.admin_token {
        return Ok(t.clone());
    }
    let path = settings.data.join("admin-token");
    if let Ok(t) = std::fs::read_to_string(&path) {
        let t = t.trim().to_string();
        if t.len() >= 16 {
            return Ok(t);
        }
    }
    let token = web::random_token();
    write_private(&path, &token).map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
    say!("  admin token: made one in {}", path.display());
    Ok(token)
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

/// `serve --watch`: redeploys when a project file changes (polled every second, so it
/// works on every file system); a project with errors is reported and not deployed.
async fn watch(root: std::path::PathBuf, core: core::CoreHandle) {
    let mut last = fingerprint(&root);
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        let now = fingerprint(&root);
        if now == last {
            continue;
        }
        last = now;
        let r = root.clone();
        match tokio::task::spawn_blocking(move || project::compile_dir(&r)).await {
            Ok(Ok(bundle)) => match core.ask(core::Request::Deploy { bundle: Arc::new(bundle) }).await {
                Ok(v) => say!("deployed {}", v["bundle"].as_str().unwrap_or("?")),
                Err(e) => say!("the deploy was refused: {}", e.message),
            },
            Ok(Err(diagnostics)) => say!("{diagnostics}not deployed: the project has errors"),
            Err(e) => say!("the build stopped: {e}"),
        }
    }
}

/// Paths, sizes and modification times of a project's files.
fn fingerprint(root: &Path) -> Vec<(std::path::PathBuf, u64, Option<std::time::SystemTime>)> {
    fn walk(dir: &Path, out: &mut Vec<(std::path::PathBuf, u64, Option<std::time::SystemTime>)>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            match entry.metadata() {
                Ok(m) if m.is_dir() && !name.starts_with('.') && name != "target" => walk(&path, out),
                Ok(m) if m.is_file() => out.push((path, m.len(), m.modified().ok())),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(root, &mut out);
    out.sort();
    out
}
