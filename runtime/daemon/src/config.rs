//! The daemon's settings: defaults, then `switchboard.toml`, then the environment, then
//! flags (each one overrides what came before).
//!
//! The file is found at `--config FILE`, else `$SWITCHBOARD_CONFIG`, else
//! `PROJECT/switchboard.toml` when there is one. Unknown keys are errors, so a misspelt
//! setting is not silently ignored.

use base64::Engine as _;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA: &str = "switchboard-data";
pub const DEFAULT_NEW_CHATS_PER_MINUTE: u32 = 30;

/// `switchboard.toml`, as written.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct File {
    pub listen: Option<String>,
    pub data: Option<PathBuf>,
    /// The admin API's bearer token. Prefer `$SWITCHBOARD_ADMIN_TOKEN` to writing it here.
    pub admin_token: Option<String>,
    /// Origins (`https://shop.example`) whose pages may open the chat widget. The daemon's
    /// own origin is always allowed.
    pub allowed_origins: Vec<String>,
    /// Take a snapshot after this many inputs.
    pub snapshot_every: Option<u64>,
    /// New conversations one IP address may open per minute; 0 turns the limit off.
    pub new_chats_per_minute: Option<u32>,
    pub agents: Vec<Agent>,
    /// How to reach each `http` and `sql` source the project declares (`[sources.crm]`).
    pub sources: BTreeMap<String, SourceFile>,
    /// Twilio (or any provider speaking its API): SMS in and out (`[twilio]`).
    pub twilio: Option<TwilioFile>,
    /// The WhatsApp Cloud API (`[whatsapp]`).
    pub whatsapp: Option<WhatsAppFile>,
    /// A Telegram bot (`[telegram]`).
    pub telegram: Option<TelegramFile>,
    /// A Facebook page's Messenger (`[messenger]`).
    pub messenger: Option<MessengerFile>,
    /// Email: the SMTP listener and the relay (`[email]`).
    pub email: Option<EmailFile>,
}

/// `[email]`, as written.
#[derive(Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmailFile {
    /// Where the SMTP listener listens (`0.0.0.0:25` for an MX; `127.0.0.1:2525` unless given).
    pub listen: Option<String>,
    /// The domains mail is taken for (`acme.example`); the project's email entries' unless given.
    pub domains: Vec<String>,
    /// The name the listener greets with (`mx.acme.example`).
    pub hostname: Option<String>,
    /// The largest mail taken, in bytes (10 MiB unless given).
    pub max_bytes: Option<usize>,
    /// Where mail goes out: `smtp://host:port` (plain), `smtp+starttls://…`, `smtps://…`.
    pub relay: Option<String>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub password_env: Option<String>,
    /// The address flows' `send email` send from (the project's only email entry otherwise).
    pub from: Option<String>,
    /// The signing key of a Mailgun-style inbound webhook (`POST /channels/email/inbound`);
    /// without one, that webhook answers 404.
    pub webhook_key: Option<Secret>,
    pub webhook_key_env: Option<String>,
}

impl std::fmt::Debug for EmailFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailFile").field("listen", &self.listen).field("relay", &self.relay).finish_non_exhaustive()
    }
}

/// `[email]`, resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct EmailSettings {
    pub listen: String,
    /// Lower case; empty: the project's email entries' domains.
    pub domains: Vec<String>,
    pub hostname: String,
    pub max_bytes: usize,
    pub relay: Option<Relay>,
    pub from: Option<String>,
    pub webhook_key: Option<Secret>,
}

/// An SMTP relay.
#[derive(Clone, Debug, PartialEq)]
pub struct Relay {
    pub host: String,
    pub port: u16,
    /// `none`, `starttls` or `tls`.
    pub security: String,
    pub username: Option<String>,
    pub password: Option<Secret>,
}

impl EmailFile {
    fn resolve(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<EmailSettings, String> {
        let at = "[email]";
        let listen = self.listen.clone().unwrap_or_else(|| "127.0.0.1:2525".to_string());
        listen.parse::<std::net::SocketAddr>().map_err(|_| format!("{at}: listen `{listen}` is not host:port"))?;
        let relay = match &self.relay {
            None => None,
            Some(url) => {
                let (security, rest, port) = if let Some(r) = url.strip_prefix("smtp+starttls://") {
                    ("starttls", r, 587)
                } else if let Some(r) = url.strip_prefix("smtps://") {
                    ("tls", r, 465)
                } else if let Some(r) = url.strip_prefix("smtp://") {
                    ("none", r, 25)
                } else {
                    return Err(format!("{at}: relay `{url}` must start smtp://, smtp+starttls:// or smtps://"));
                };
                let rest = rest.trim_end_matches('/');
                let (host, port) = match rest.rsplit_once(':') {
                    Some((h, p)) => (h, p.parse().map_err(|_| format!("{at}: relay port `{p}` is not a number"))?),
                    None => (rest, port),
                };
                if host.is_empty() || host.contains(['/', '@', '?']) {
                    return Err(format!("{at}: relay `{url}` has no host (credentials go in username and password)"));
                }
                let password = match (&self.password, &self.password_env) {
                    (None, None) => None,
                    _ => Some(secret_of(at, "password", &self.password, &self.password_env, env)?),
                };
                if password.is_some() != self.username.is_some() {
                    return Err(format!("{at}: username and password go together"));
                }
                Some(Relay {
                    host: host.to_string(),
                    port,
                    security: security.to_string(),
                    username: self.username.clone(),
                    password,
                })
            }
        };
        Ok(EmailSettings {
            listen,
            domains: self.domains.iter().map(|d| d.trim().to_lowercase()).collect(),
            hostname: self.hostname.clone().unwrap_or_else(|| "switchboard".to_string()),
            max_bytes: self.max_bytes.unwrap_or(10 * 1024 * 1024),
            relay,
            from: self.from.clone(),
            webhook_key: match (&self.webhook_key, &self.webhook_key_env) {
                (None, None) => None,
                _ => Some(secret_of(at, "webhook_key", &self.webhook_key, &self.webhook_key_env, env)?),
            },
        })
    }
}

/// `[whatsapp]`, as written: every secret may be named by a variable instead (`…_env`).
#[derive(Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WhatsAppFile {
    /// The app secret that signs webhooks (`X-Hub-Signature-256`).
    pub app_secret: Option<Secret>,
    pub app_secret_env: Option<String>,
    /// What Meta's verification `GET` must present (`hub.verify_token`).
    pub verify_token: Option<Secret>,
    pub verify_token_env: Option<String>,
    /// The Graph API token the send API is called with.
    pub access_token: Option<Secret>,
    pub access_token_env: Option<String>,
    /// The business number's id, which messages are sent from.
    pub phone_number_id: Option<String>,
    /// `https://graph.facebook.com/v21.0` unless given.
    pub api_base: Option<String>,
    /// The `social` entry WhatsApp messages start on (the project's only one otherwise).
    pub entry: Option<String>,
    /// Silence after which a customer's next message starts a new contact (`24h`).
    pub idle: Option<String>,
}

/// `[messenger]`, as written.
#[derive(Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MessengerFile {
    pub app_secret: Option<Secret>,
    pub app_secret_env: Option<String>,
    pub verify_token: Option<Secret>,
    pub verify_token_env: Option<String>,
    /// The page access token the Send API is called with.
    pub page_token: Option<Secret>,
    pub page_token_env: Option<String>,
    /// The page's id, which messages are sent from.
    pub page_id: Option<String>,
    /// The Instagram professional account linked to the page, whose comments are its own.
    pub instagram_id: Option<String>,
    pub api_base: Option<String>,
    pub entry: Option<String>,
    /// The entry public comments start at (social monitoring), when not `entry`.
    pub mentions_entry: Option<String>,
    pub idle: Option<String>,
}

impl std::fmt::Debug for MessengerFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessengerFile").field("page_id", &self.page_id).finish_non_exhaustive()
    }
}

/// `[messenger]`, resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct MessengerSettings {
    pub app_secret: Secret,
    pub verify_token: Secret,
    pub page_token: Secret,
    pub page_id: String,
    pub instagram_id: Option<String>,
    pub api_base: String,
    pub entry: Option<String>,
    pub mentions_entry: Option<String>,
    pub idle_ms: i64,
}

impl MessengerFile {
    fn resolve(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<MessengerSettings, String> {
        let at = "[messenger]";
        let page_id = match &self.page_id {
            Some(id) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) => id.clone(),
            Some(id) => return Err(format!("{at}: page_id `{id}` is not the page's numeric id")),
            None => return Err(format!("{at}: page_id is missing")),
        };
        let instagram_id = match &self.instagram_id {
            Some(id) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) => Some(id.clone()),
            Some(id) => return Err(format!("{at}: instagram_id `{id}` is not the account's numeric id")),
            None => None,
        };
        Ok(MessengerSettings {
            app_secret: secret_of(at, "app_secret", &self.app_secret, &self.app_secret_env, env)?,
            verify_token: secret_of(at, "verify_token", &self.verify_token, &self.verify_token_env, env)?,
            page_token: secret_of(at, "page_token", &self.page_token, &self.page_token_env, env)?,
            page_id,
            instagram_id,
            api_base: base_url(at, "api_base", self.api_base.as_deref().unwrap_or("https://graph.facebook.com/v21.0"))?,
            entry: self.entry.clone(),
            mentions_entry: self.mentions_entry.clone(),
            idle_ms: idle_of(at, &self.idle)?,
        })
    }
}

/// `[telegram]`, as written.
#[derive(Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelegramFile {
    pub bot_token: Option<Secret>,
    pub bot_token_env: Option<String>,
    /// What Telegram sends in `X-Telegram-Bot-Api-Secret-Token` (set with `setWebhook`).
    pub secret_token: Option<Secret>,
    pub secret_token_env: Option<String>,
    /// `https://api.telegram.org` unless given.
    pub api_base: Option<String>,
    pub entry: Option<String>,
    pub idle: Option<String>,
}

impl std::fmt::Debug for WhatsAppFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhatsAppFile").field("phone_number_id", &self.phone_number_id).finish_non_exhaustive()
    }
}

impl std::fmt::Debug for TelegramFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelegramFile").field("api_base", &self.api_base).finish_non_exhaustive()
    }
}

/// `[whatsapp]`, resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct WhatsAppSettings {
    pub app_secret: Secret,
    pub verify_token: Secret,
    pub access_token: Secret,
    pub phone_number_id: String,
    pub api_base: String,
    pub entry: Option<String>,
    pub idle_ms: i64,
}

/// `[telegram]`, resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct TelegramSettings {
    pub bot_token: Secret,
    pub secret_token: Secret,
    pub api_base: String,
    pub entry: Option<String>,
    pub idle_ms: i64,
}

/// A secret given in the file or named by a variable: exactly one of them.
fn secret_of(
    at: &str,
    key: &str,
    given: &Option<Secret>,
    var: &Option<String>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Secret, String> {
    match (given, var) {
        (Some(_), Some(_)) => Err(format!("{at}: give `{key}` or `{key}_env`, not both")),
        (Some(t), None) if !t.0.is_empty() => Ok(t.clone()),
        (Some(_), None) => Err(format!("{at}: {key} is empty")),
        (None, Some(var)) => match env(var).filter(|v| !v.is_empty()) {
            Some(v) => Ok(Secret(v)),
            None => Err(format!("{at}: `{key}_env` names ${var}, which is not set")),
        },
        (None, None) => Err(format!("{at}: {key} (or {key}_env) is missing")),
    }
}

fn base_url(at: &str, key: &str, text: &str) -> Result<String, String> {
    let text = text.trim_end_matches('/');
    match text.strip_prefix("https://").or_else(|| text.strip_prefix("http://")) {
        Some(host) if !host.is_empty() && !host.contains(['?', '#']) => Ok(text.to_string()),
        _ => Err(format!("{at}: {key} `{text}` must be http(s)://host[:port][/path]")),
    }
}

fn idle_of(at: &str, given: &Option<String>) -> Result<i64, String> {
    match given {
        None => Ok(DEFAULT_SMS_IDLE_MS),
        Some(text) => match duration_ms(text) {
            Some(ms) if ms >= 60_000 => Ok(ms),
            _ => Err(format!("{at}: idle `{text}` is not a time of at least a minute (30m, 2h, 1d)")),
        },
    }
}

impl WhatsAppFile {
    fn resolve(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<WhatsAppSettings, String> {
        let at = "[whatsapp]";
        let phone_number_id = match &self.phone_number_id {
            Some(id) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) => id.clone(),
            Some(id) => return Err(format!("{at}: phone_number_id `{id}` is not the number's numeric id")),
            None => return Err(format!("{at}: phone_number_id is missing")),
        };
        Ok(WhatsAppSettings {
            app_secret: secret_of(at, "app_secret", &self.app_secret, &self.app_secret_env, env)?,
            verify_token: secret_of(at, "verify_token", &self.verify_token, &self.verify_token_env, env)?,
            access_token: secret_of(at, "access_token", &self.access_token, &self.access_token_env, env)?,
            phone_number_id,
            api_base: base_url(at, "api_base", self.api_base.as_deref().unwrap_or("https://graph.facebook.com/v21.0"))?,
            entry: self.entry.clone(),
            idle_ms: idle_of(at, &self.idle)?,
        })
    }
}

impl TelegramFile {
    fn resolve(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<TelegramSettings, String> {
        let at = "[telegram]";
        let secret_token = secret_of(at, "secret_token", &self.secret_token, &self.secret_token_env, env)?;
        let ok = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
        if secret_token.0.len() > 256 || !secret_token.0.chars().all(ok) {
            return Err(format!("{at}: secret_token is 1 to 256 of A-Z, a-z, 0-9, _ and - (as Telegram takes it)"));
        }
        Ok(TelegramSettings {
            bot_token: secret_of(at, "bot_token", &self.bot_token, &self.bot_token_env, env)?,
            secret_token,
            api_base: base_url(at, "api_base", self.api_base.as_deref().unwrap_or("https://api.telegram.org"))?,
            entry: self.entry.clone(),
            idle_ms: idle_of(at, &self.idle)?,
        })
    }
}

/// `[twilio]`, as written.
#[derive(Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TwilioFile {
    /// `AC…`: the account the REST API is called for.
    pub account_sid: Option<String>,
    /// Signs the provider's webhooks and authenticates the REST calls. Prefer `auth_token_env`.
    pub auth_token: Option<Secret>,
    pub auth_token_env: Option<String>,
    /// The daemon's address as the provider reaches it (`https://cc.example.com`): the
    /// webhooks' signatures are over it, and status callbacks are sent to it.
    pub public_url: Option<String>,
    /// Where the REST API is (`https://api.twilio.com` unless given).
    pub api_base: Option<String>,
    /// The number flows' `send sms` send from (the project's only `sms` entry otherwise).
    pub sms_from: Option<String>,
    /// How long an SMS conversation may be silent before the next text starts a new contact.
    pub sms_idle: Option<String>,
}

impl std::fmt::Debug for TwilioFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioFile")
            .field("account_sid", &self.account_sid)
            .field("auth_token_env", &self.auth_token_env)
            .field("public_url", &self.public_url)
            .field("api_base", &self.api_base)
            .finish_non_exhaustive()
    }
}

/// `[twilio]`, resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct TwilioSettings {
    pub account_sid: String,
    pub auth_token: Secret,
    /// With no `/` at the end.
    pub public_url: String,
    /// With no `/` at the end.
    pub api_base: String,
    pub sms_from: Option<String>,
    pub sms_idle_ms: i64,
}

pub const DEFAULT_TWILIO_API: &str = "https://api.twilio.com";
pub const DEFAULT_SMS_IDLE_MS: i64 = 24 * 3_600_000;

impl TwilioFile {
    fn resolve(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<TwilioSettings, String> {
        let at = "[twilio]";
        let account_sid = match &self.account_sid {
            Some(sid)
                if sid.len() == 34 && sid.starts_with("AC") && sid[2..].bytes().all(|b| b.is_ascii_hexdigit()) =>
            {
                sid.clone()
            }
            Some(sid) => return Err(format!("{at}: account_sid `{sid}` is not AC and 32 hex digits")),
            None => return Err(format!("{at}: account_sid is missing")),
        };
        let auth_token = match (&self.auth_token, &self.auth_token_env) {
            (Some(_), Some(_)) => return Err(format!("{at}: give `auth_token` or `auth_token_env`, not both")),
            (Some(t), None) => t.clone(),
            (None, Some(var)) => match env(var).filter(|v| !v.is_empty()) {
                Some(v) => Secret(v),
                None => return Err(format!("{at}: `auth_token_env` names ${var}, which is not set")),
            },
            (None, None) => return Err(format!("{at}: auth_token (or auth_token_env) is missing")),
        };
        let url = |key: &str, given: Option<&str>| -> Result<String, String> {
            let Some(text) = given else { return Err(format!("{at}: {key} is missing")) };
            let text = text.trim_end_matches('/');
            let rest = text.strip_prefix("https://").or_else(|| text.strip_prefix("http://"));
            match rest {
                Some(host) if !host.is_empty() && !host.contains(['?', '#']) => Ok(text.to_string()),
                _ => Err(format!("{at}: {key} `{text}` must be http(s)://host[:port][/path]")),
            }
        };
        let public_url = url("public_url", self.public_url.as_deref())?;
        let api_base = url("api_base", Some(self.api_base.as_deref().unwrap_or(DEFAULT_TWILIO_API)))?;
        let sms_idle_ms = match &self.sms_idle {
            None => DEFAULT_SMS_IDLE_MS,
            Some(text) => match duration_ms(text) {
                Some(ms) if ms >= 60_000 => ms,
                _ => return Err(format!("{at}: sms_idle `{text}` is not a time of at least a minute (30m, 2h, 1d)")),
            },
        };
        Ok(TwilioSettings {
            account_sid,
            auth_token,
            public_url,
            api_base,
            sms_from: self.sms_from.clone(),
            sms_idle_ms,
        })
    }
}

/// `90s`, `30m`, `2h`, `1d` in milliseconds.
pub fn duration_ms(text: &str) -> Option<i64> {
    let text = text.trim();
    let unit = match text.chars().last()? {
        's' => 1_000,
        'm' => 60_000,
        'h' => 3_600_000,
        'd' => 86_400_000,
        _ => return None,
    };
    let n: i64 = text[..text.len() - 1].trim().parse().ok()?;
    n.checked_mul(unit).filter(|ms| *ms > 0)
}

/// `[sources.NAME]`, as written: a database for an `sql` source, or headers and
/// credentials for an `http` source. Every secret can be named by an environment variable
/// instead (`token_env = "CRM_TOKEN"`), so that it never needs to be in the file.
#[derive(Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SourceFile {
    /// `sql`: `postgres://…`, `mysql://…` or `sqlite://…` (it may hold a password).
    pub url: Option<Secret>,
    /// `sql`: the variable holding the URL.
    pub url_env: Option<String>,
    /// `sql`: the most connections the pool opens (4 unless given).
    pub max_connections: Option<u32>,
    /// `http`: headers sent with every request.
    pub headers: BTreeMap<String, Secret>,
    /// `http`: headers whose values are in these variables (`X-Api-Key = "CRM_KEY"`).
    pub headers_env: BTreeMap<String, String>,
    /// `http`: `Authorization: Bearer TOKEN`.
    pub token: Option<Secret>,
    pub token_env: Option<String>,
    /// `http`: `Authorization: Basic …` with this user and password.
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub password_env: Option<String>,
}

impl std::fmt::Debug for SourceFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceFile")
            .field("url_env", &self.url_env)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("headers_env", &self.headers_env)
            .field("token_env", &self.token_env)
            .field("username", &self.username)
            .field("password_env", &self.password_env)
            .finish_non_exhaustive()
    }
}

/// Text that must never be shown: `Debug` and `Display` print `<secret>`.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(text: impl Into<String>) -> Secret {
        Secret(text.into())
    }

    /// The text itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<secret>")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<secret>")
    }
}

/// How to reach one source, resolved (secrets read from the environment).
#[derive(Clone, Debug, PartialEq)]
pub enum SourceSettings {
    /// An `sql` source's database.
    Sql { url: Secret, max_connections: u32 },
    /// An `http` source's headers, `Authorization` among them when credentials were given.
    Http { headers: Vec<(String, Secret)> },
}

/// One agent of the roster.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Agent {
    pub id: String,
    pub name: String,
    /// Skill names with a proficiency from 1 to 10 (`billing = 8`); routing offers a
    /// contact to the most proficient free agent first.
    #[serde(default)]
    pub skills: BTreeMap<String, u8>,
    #[serde(default)]
    pub languages: Vec<String>,
    /// How many contacts of each channel at once (`chat = 3`); the engine's defaults for
    /// channels not named.
    #[serde(default)]
    pub capacity: BTreeMap<String, u8>,
    /// An Argon2 hash in PHC form (`switchboard hash-password` writes one).
    pub password_hash: String,
    /// What they may open besides their own contacts: `manager` (the wallboard and
    /// reports), `reviewer` (quality reviews). Every entry may take contacts.
    #[serde(default)]
    pub roles: Vec<Role>,
}

/// A role beyond taking contacts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Manager,
    Reviewer,
}

/// What the command line gave.
#[derive(Clone, Debug, Default)]
pub struct Flags {
    pub project: PathBuf,
    pub data: Option<PathBuf>,
    pub listen: Option<String>,
    pub config: Option<PathBuf>,
    pub watch: bool,
}

/// The settings in force.
#[derive(Clone, Debug)]
pub struct Settings {
    pub project: PathBuf,
    pub data: PathBuf,
    pub listen: String,
    pub admin_token: Option<String>,
    pub allowed_origins: Vec<String>,
    pub snapshot_every: u64,
    /// New conversations one IP address may open per minute (a burst of that many, then
    /// evenly as the minute passes); 0: no limit.
    pub new_chats_per_minute: u32,
    pub agents: Vec<Agent>,
    pub watch: bool,
    /// Where the file came from, if there was one.
    pub file: Option<PathBuf>,
    /// `[sources.NAME]`, resolved; checked against the project when it is served.
    pub sources: BTreeMap<String, SourceSettings>,
    /// `[twilio]`, resolved: without it, the Twilio webhooks answer 404.
    pub twilio: Option<TwilioSettings>,
    pub whatsapp: Option<WhatsAppSettings>,
    pub telegram: Option<TelegramSettings>,
    pub messenger: Option<MessengerSettings>,
    pub email: Option<EmailSettings>,
}

impl Settings {
    /// Resolves the settings; `env` reads a variable (the process's, or a test's).
    pub fn resolve(flags: Flags, env: &dyn Fn(&str) -> Option<String>) -> Result<Settings, String> {
        let path = flags
            .config
            .clone()
            .or_else(|| env("SWITCHBOARD_CONFIG").map(PathBuf::from))
            .or_else(|| Some(flags.project.join("switchboard.toml")).filter(|p| p.is_file()));
        let file = match &path {
            Some(p) => read(p)?,
            None => File::default(),
        };
        for agent in &file.agents {
            agent.validate()?;
        }
        let mut ids = std::collections::BTreeSet::new();
        if let Some(dup) = file.agents.iter().find(|a| !ids.insert(a.id.as_str())) {
            return Err(format!("agent `{}` is in the roster twice", dup.id));
        }
        let listen = flags
            .listen
            .or_else(|| env("SWITCHBOARD_LISTEN"))
            .or(file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.to_string());
        listen
            .parse::<std::net::SocketAddr>()
            .map_err(|_| format!("the listen address `{listen}` is not host:port (for example 127.0.0.1:8080)"))?;
        let data = flags
            .data
            .or_else(|| env("SWITCHBOARD_DATA").map(PathBuf::from))
            .or(file.data)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA));
        let admin_token = env("SWITCHBOARD_ADMIN_TOKEN").or(file.admin_token).filter(|t| !t.is_empty());
        if let Some(t) = &admin_token {
            if t.len() < 16 {
                return Err("the admin token must be at least 16 characters".to_string());
            }
        }
        let snapshot_every = file.snapshot_every.unwrap_or(1000);
        if snapshot_every == 0 {
            return Err("snapshot_every must be at least 1".to_string());
        }
        for origin in &file.allowed_origins {
            if !(origin.starts_with("http://") || origin.starts_with("https://")) || origin.ends_with('/') {
                return Err(format!(
                    "allowed origin `{origin}` must be scheme://host[:port], with no path (for example https://shop.example)"
                ));
            }
        }
        let mut sources = BTreeMap::new();
        for (name, source) in &file.sources {
            sources.insert(name.clone(), source.resolve(name, env)?);
        }
        let twilio = file.twilio.as_ref().map(|t| t.resolve(env)).transpose()?;
        let whatsapp = file.whatsapp.as_ref().map(|t| t.resolve(env)).transpose()?;
        let telegram = file.telegram.as_ref().map(|t| t.resolve(env)).transpose()?;
        let email = file.email.as_ref().map(|t| t.resolve(env)).transpose()?;
        let messenger = file.messenger.as_ref().map(|t| t.resolve(env)).transpose()?;
        Ok(Settings {
            messenger,
            email,
            twilio,
            whatsapp,
            telegram,
            sources,
            project: flags.project,
            data,
            listen,
            admin_token,
            allowed_origins: file.allowed_origins,
            snapshot_every,
            new_chats_per_minute: file.new_chats_per_minute.unwrap_or(DEFAULT_NEW_CHATS_PER_MINUTE),
            agents: file.agents,
            watch: flags.watch,
            file: path,
        })
    }
}

fn read(path: &Path) -> Result<File, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| format!("`{}`: {e}", path.display()))
}

impl SourceFile {
    /// What `[sources.NAME]` says, with its secrets read: `url` or `url_env` for a database;
    /// headers and at most one of a token and a user with a password for an API.
    fn resolve(&self, name: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<SourceSettings, String> {
        let at = format!("[sources.{name}]");
        let secret = |given: &Option<Secret>, var: &Option<String>, key: &str| -> Result<Option<Secret>, String> {
            match (given, var) {
                (Some(_), Some(_)) => Err(format!("{at}: give `{key}` or `{key}_env`, not both")),
                (Some(s), None) => Ok(Some(s.clone())),
                (None, Some(var)) => match env(var).filter(|v| !v.is_empty()) {
                    Some(v) => Ok(Some(Secret(v))),
                    None => Err(format!("{at}: `{key}_env` names ${var}, which is not set")),
                },
                (None, None) => Ok(None),
            }
        };
        let url = secret(&self.url, &self.url_env, "url")?;
        let token = secret(&self.token, &self.token_env, "token")?;
        let password = secret(&self.password, &self.password_env, "password")?;
        let http = !self.headers.is_empty() || !self.headers_env.is_empty() || token.is_some() || password.is_some();
        let http = http || self.username.is_some();
        if let Some(url) = url {
            if http {
                return Err(format!(
                    "{at}: `url` is for an sql source, headers and credentials for an http source; give one or the other"
                ));
            }
            let scheme = url.expose().split(':').next().unwrap_or("");
            if !["postgres", "postgresql", "mysql", "mariadb", "sqlite"].contains(&scheme) {
                return Err(format!(
                    "{at}: the url must start postgres://, mysql:// or sqlite:// (it starts `{scheme}:`)"
                ));
            }
            let max_connections = self.max_connections.unwrap_or(4);
            if max_connections == 0 {
                return Err(format!("{at}: max_connections must be at least 1"));
            }
            return Ok(SourceSettings::Sql { url, max_connections });
        }
        if self.max_connections.is_some() {
            return Err(format!("{at}: max_connections is for an sql source, which needs a `url`"));
        }
        if !http {
            return Err(format!(
                "{at} says nothing: give `url` (an sql source) or headers or credentials (an http source)"
            ));
        }
        let mut headers: Vec<(String, Secret)> = Vec::new();
        for (header, value) in &self.headers {
            headers.push((header.clone(), value.clone()));
        }
        for (header, var) in &self.headers_env {
            if self.headers.contains_key(header) {
                return Err(format!("{at}: header `{header}` is in both `headers` and `headers_env`"));
            }
            match env(var).filter(|v| !v.is_empty()) {
                Some(v) => headers.push((header.clone(), Secret(v))),
                None => return Err(format!("{at}: header `{header}` is in ${var}, which is not set")),
            }
        }
        let authorization = match (token, &self.username, password) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return Err(format!("{at}: give a `token` or a `username` and `password`, not both"))
            }
            (Some(token), None, None) => Some(Secret(format!("Bearer {}", token.expose()))),
            (None, Some(user), Some(password)) => {
                if user.contains(':') {
                    return Err(format!("{at}: a username cannot hold `:`"));
                }
                Some(Secret(format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{}", password.expose()))
                )))
            }
            (None, Some(_), None) => return Err(format!("{at}: `username` needs `password` or `password_env`")),
            (None, None, Some(_)) => return Err(format!("{at}: `password` needs `username`")),
            (None, None, None) => None,
        };
        if let Some(authorization) = authorization {
            if headers.iter().any(|(h, _)| h.eq_ignore_ascii_case("authorization")) {
                return Err(format!("{at}: an `Authorization` header and credentials; give one"));
            }
            headers.push(("Authorization".to_string(), authorization));
        }
        for (header, value) in &headers {
            let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
            if header.is_empty() || !header.chars().all(token) {
                return Err(format!("{at}: `{header}` is not a header name"));
            }
            if value.expose().chars().any(|c| c.is_control() && c != '\t') {
                return Err(format!("{at}: the value of header `{header}` has a control character"));
            }
        }
        Ok(SourceSettings::Http { headers })
    }
}

impl Agent {
    fn validate(&self) -> Result<(), String> {
        if self.id.is_empty() || !self.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
        {
            return Err(format!("agent id `{}` must be letters, digits, `_`, `-` or `.`", self.id));
        }
        for (skill, level) in &self.skills {
            if !(1..=10).contains(level) {
                return Err(format!("agent `{}`: proficiency of `{skill}` must be 1 to 10, not {level}", self.id));
            }
        }
        for channel in self.capacity.keys() {
            if !["voice", "chat", "sms", "email", "social"].contains(&channel.as_str()) {
                return Err(format!("agent `{}`: capacity names unknown channel `{channel}`", self.id));
            }
        }
        argon2::PasswordHash::new(&self.password_hash)
            .map_err(|e| format!("agent `{}`: password_hash is not a PHC string ({e})", self.id))?;
        Ok(())
    }

    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Manager => "manager",
            Role::Reviewer => "reviewer",
        }
    }
}

impl Agent {
    /// Whether `password` is this agent's (Argon2, constant-time).
    pub fn verify(&self, password: &str) -> bool {
        use argon2::PasswordVerifier;
        match argon2::PasswordHash::new(&self.password_hash) {
            Ok(hash) => argon2::Argon2::default().verify_password(password.as_bytes(), &hash).is_ok(),
            Err(_) => false,
        }
    }
}

/// An Argon2id hash of `password`, in PHC form.
pub fn hash_password(password: &str) -> Result<String, String> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| e.to_string())?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(dir: &Path) -> Flags {
        Flags { project: dir.to_path_buf(), ..Flags::default() }
    }

    #[test]
    fn every_setting_has_a_default() {
        let dir = tempfile::tempdir().unwrap();
        let s = Settings::resolve(flags(dir.path()), &|_| None).unwrap();
        assert_eq!(s.listen, DEFAULT_LISTEN);
        assert_eq!(s.data, PathBuf::from(DEFAULT_DATA));
        assert_eq!(s.admin_token, None);
        assert!(s.agents.is_empty());
    }

    #[test]
    fn a_flag_beats_the_environment_which_beats_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("switchboard.toml"), "listen = \"127.0.0.1:1001\"\ndata = \"from-file\"\n")
            .unwrap();
        let env = |k: &str| (k == "SWITCHBOARD_LISTEN").then(|| "127.0.0.1:1002".to_string());
        let s = Settings::resolve(flags(dir.path()), &env).unwrap();
        assert_eq!((s.listen.as_str(), s.data.to_str().unwrap()), ("127.0.0.1:1002", "from-file"));
        let f = Flags { listen: Some("127.0.0.1:1003".into()), ..flags(dir.path()) };
        assert_eq!(Settings::resolve(f, &env).unwrap().listen, "127.0.0.1:1003");
    }

    #[test]
    fn a_misspelt_setting_is_an_error_that_names_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("switchboard.toml"), "lisen = \"x\"\n").unwrap();
        let e = Settings::resolve(flags(dir.path()), &|_| None).unwrap_err();
        assert!(e.contains("lisen"), "{e}");
    }

    #[test]
    fn bad_values_are_refused_with_what_is_wanted() {
        let dir = tempfile::tempdir().unwrap();
        let f = Flags { listen: Some("localhost".into()), ..flags(dir.path()) };
        assert!(Settings::resolve(f, &|_| None).unwrap_err().contains("host:port"));
        let short = |k: &str| (k == "SWITCHBOARD_ADMIN_TOKEN").then(|| "short".to_string());
        assert!(Settings::resolve(flags(dir.path()), &short).unwrap_err().contains("16"));
        std::fs::write(
            dir.path().join("switchboard.toml"),
            "[[agents]]\nid = \"ann\"\nname = \"Ann\"\nskills = { billing = 11 }\npassword_hash = \"x\"\n",
        )
        .unwrap();
        assert!(Settings::resolve(flags(dir.path()), &|_| None).unwrap_err().contains("1 to 10"));
    }

    fn sources(toml: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<BTreeMap<String, SourceSettings>, String> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("switchboard.toml"), toml).unwrap();
        Settings::resolve(flags(dir.path()), env).map(|s| s.sources)
    }

    #[test]
    fn sources_get_a_database_or_headers_with_secrets_from_the_environment() {
        let env = |k: &str| match k {
            "CRM_URL" => Some("postgres://sb:hunter2@db.example/crm".to_string()),
            "CRM_TOKEN" => Some("tok-123".to_string()),
            "CRM_KEY" => Some("key-456".to_string()),
            _ => None,
        };
        let s = sources(
            r#"
[sources.crm]
url_env = "CRM_URL"
max_connections = 8

[sources.orders]
headers = { "X-Tenant" = "acme" }
headers_env = { "X-Api-Key" = "CRM_KEY" }
token_env = "CRM_TOKEN"

[sources.legacy]
username = "ann"
password = "open sesame"
"#,
            &env,
        )
        .unwrap();
        assert_eq!(
            s["crm"],
            SourceSettings::Sql { url: Secret::new("postgres://sb:hunter2@db.example/crm"), max_connections: 8 }
        );
        let SourceSettings::Http { headers } = &s["orders"] else { panic!("{:?}", s["orders"]) };
        let shown: Vec<(&str, &str)> = headers.iter().map(|(h, v)| (h.as_str(), v.expose())).collect();
        assert_eq!(shown, [("X-Tenant", "acme"), ("X-Api-Key", "key-456"), ("Authorization", "Bearer tok-123")]);
        let SourceSettings::Http { headers } = &s["legacy"] else { panic!() };
        assert_eq!(headers[0].1.expose(), format!("Basic {}", "YW5uOm9wZW4gc2VzYW1l"));
        // Nothing secret is ever shown.
        let debug = format!("{s:?}");
        for secret in ["hunter2", "tok-123", "key-456", "acme", "YW5u", "sesame"] {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
    }

    #[test]
    fn source_settings_that_cannot_work_are_refused_with_the_reason() {
        let none = |_: &str| None;
        for (toml, wanted) in [
            (
                "[sources.crm]
url_env = \"NOPE\"
",
                "$NOPE, which is not set",
            ),
            (
                "[sources.crm]
url = \"http://x\"
",
                "postgres://",
            ),
            (
                "[sources.crm]
url = \"sqlite://x\"
token = \"t\"
",
                "one or the other",
            ),
            (
                "[sources.crm]
token = \"t\"
token_env = \"T\"
",
                "not both",
            ),
            (
                "[sources.crm]
",
                "says nothing",
            ),
            (
                "[sources.crm]
username = \"ann\"
",
                "needs `password`",
            ),
            (
                "[sources.crm]
headers = { \"Bad Name\" = \"x\" }
",
                "not a header name",
            ),
            (
                "[sources.crm]
url = \"sqlite://x\"
pasword = \"x\"
",
                "pasword",
            ),
            (
                "[sources.crm]
url = \"sqlite://x\"
max_connections = 0
",
                "at least 1",
            ),
        ] {
            let e = sources(toml, &none).unwrap_err();
            assert!(e.contains(wanted), "{toml}: {e}");
        }
    }

    #[test]
    fn a_password_verifies_against_its_hash_and_no_other() {
        let hash = hash_password("correct horse").unwrap();
        let agent = Agent {
            id: "ann".into(),
            name: "Ann".into(),
            skills: BTreeMap::new(),
            languages: vec![],
            capacity: BTreeMap::new(),
            password_hash: hash,
            roles: vec![],
        };
        assert!(agent.validate().is_ok());
        assert!(agent.verify("correct horse"));
        assert!(!agent.verify("correct horse "));
    }
}
