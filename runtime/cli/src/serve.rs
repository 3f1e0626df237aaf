//! `switchboard serve`, `deploy` and `hash-password`: the daemon and its admin client.

use super::{EXIT_FAILED, EXIT_USAGE};
use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;
use switchboard_daemon::config::{Flags, Settings};

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// The project to serve
    #[arg(default_value = "flows")]
    pub project: PathBuf,
    /// Where the store lives (default ./switchboard-data; env SWITCHBOARD_DATA)
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// host:port to listen on (default 127.0.0.1:8080; env SWITCHBOARD_LISTEN)
    #[arg(long)]
    pub listen: Option<String>,
    /// Settings file (default PROJECT/switchboard.toml; env SWITCHBOARD_CONFIG)
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Redeploy when a project file changes
    #[arg(long)]
    pub watch: bool,
    /// How logs are written to stderr (SWITCHBOARD_LOG sets the level, e.g. debug)
    #[arg(long, value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(clap::Args, Debug)]
pub struct DeployArgs {
    /// The project to deploy
    pub project: PathBuf,
    /// The daemon's base URL, e.g. http://127.0.0.1:8080
    #[arg(long)]
    pub to: String,
    /// The admin token (default: env SWITCHBOARD_ADMIN_TOKEN)
    #[arg(long)]
    pub token: Option<String>,
}

pub fn serve(args: ServeArgs) -> Result<ExitCode, String> {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SWITCHBOARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match args.log_format {
        LogFormat::Human => logs.try_init(),
        LogFormat::Json => logs.json().try_init(),
    };
    let flags =
        Flags { project: args.project, data: args.data, listen: args.listen, config: args.config, watch: args.watch };
    let settings = Settings::resolve(flags, &|k| std::env::var(k).ok())?;
    match switchboard_daemon::serve(settings) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) if e.contains("the project has errors") => {
            outln!("{e}");
            Ok(ExitCode::from(EXIT_FAILED))
        }
        Err(e) => Err(e),
    }
}

pub fn deploy(args: DeployArgs) -> Result<ExitCode, String> {
    let token = args
        .token
        .or_else(|| std::env::var("SWITCHBOARD_ADMIN_TOKEN").ok())
        .ok_or("give the admin token with --token or SWITCHBOARD_ADMIN_TOKEN")?;
    let upload = switchboard_daemon::project::upload_of(&args.project)?;
    let body = serde_json::json!({"files": upload.files}).to_string();
    let url = format!("{}/admin/deploy", args.to.trim_end_matches('/'));
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut response = agent
        .post(&url)
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", "application/json")
        .send(body.as_bytes())
        .map_err(|e| format!("cannot reach {url}: {e}"))?;
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().map_err(|e| format!("{url}: {e}"))?;
    match status {
        200 => {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            let hash = v["bundle"].as_str().unwrap_or("?");
            if v["changed"].as_bool() == Some(false) {
                outln!("unchanged: {hash} is already current");
            } else {
                outln!("deployed {hash}");
            }
            Ok(ExitCode::SUCCESS)
        }
        422 => {
            // The daemon's diagnostics, as `check --format json` prints them.
            outln!("{text}");
            errln!("error: the project has errors; nothing was deployed");
            Ok(ExitCode::from(EXIT_FAILED))
        }
        _ => {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            let why = v["error"].as_str().map(str::to_string).unwrap_or(text);
            errln!("error: the daemon refused the deploy ({status}): {why}");
            Ok(ExitCode::from(EXIT_USAGE))
        }
    }
}

pub fn hash_password() -> Result<ExitCode, String> {
    let mut password = String::new();
    std::io::stdin().take(4096).read_to_string(&mut password).map_err(|e| format!("cannot read stdin: {e}"))?;
    let password = password.trim_end_matches(['\n', '\r']);
    if password.len() < 4 {
        return Err("a password is at least 4 characters".to_string());
    }
    outln!("{}", switchboard_daemon::config::hash_password(password)?);
    Ok(ExitCode::SUCCESS)
}
