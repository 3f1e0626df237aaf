//! The web side: pages, the chat and agent WebSockets, the admin API, health and metrics.
//!
//! Handlers never touch the engine: they send requests to the core and read the store
//! with their own connection. A bad request gets a 4xx saying why and changes nothing.

use crate::config::{Agent, Role, Settings};
use crate::core::{AgentRequest, Answer, CoreHandle, Request};
use crate::store::{Reader, StoredFeed};
use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, DefaultBodyLimit, State as Extract};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value as Json_};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchboard_bytecode::bytecode::Bundle;
use switchboard_bytecode::types::Channel;
use switchboard_engine::{AgentView, Arrival, LogIn, Presence};
use tokio::sync::broadcast::error::RecvError;

/// The longest text a customer or agent may send in one message.
pub const MAX_TEXT: usize = 4000;
/// The largest WebSocket message accepted.
const MAX_FRAME: usize = 16 * 1024;
/// The largest bundle or project a deploy may upload.
const MAX_DEPLOY: usize = 16 * 1024 * 1024;
/// How long a socket may stay silent before its first message.
const HELLO_TIMEOUT: Duration = Duration::from_secs(30);

/// What every handler shares.
pub struct App {
    pub core: CoreHandle,
    pub reader: Mutex<Reader>,
    pub settings: Settings,
    pub admin_token: String,
    /// The origins the widget may be embedded from (scheme://host:port).
    pub origins: Vec<String>,
    /// Session tokens of agents logged in with a password: token → agent id.
    pub agent_tokens: Mutex<HashMap<String, String>>,
    /// Open agent connections, by agent (presence goes offline when the last closes).
    pub agent_sockets: Mutex<HashMap<String, usize>>,
    /// New conversations by IP address.
    pub new_chats: RateLimit,
    /// The writer of reviewers' scores, opened on the first review ([`crate::store::Reviews`]).
    pub reviews: Mutex<Option<crate::store::Reviews>>,
    /// The wallboard as last made ([`crate::wallboard`]).
    pub wallboard: tokio::sync::watch::Receiver<Arc<crate::wallboard::Snapshot>>,
    /// The messaging providers configured (their webhooks answer 404 without).
    pub providers: Arc<crate::channels::Providers>,
    /// The last feed row each call has heard (so a `Redirect` or a queue's `action` does
    /// not say a line again).
    pub heard: Mutex<HashMap<u64, i64>>,
}

impl App {
    pub fn new(core: CoreHandle, reader: Reader, settings: Settings, admin_token: String) -> App {
        let (_, wallboard) = tokio::sync::watch::channel(Arc::new(crate::wallboard::Snapshot::default()));
        App {
            wallboard,
            core,
            reader: Mutex::new(reader),
            origins: settings.allowed_origins.clone(),
            new_chats: RateLimit::per_minute(settings.new_chats_per_minute),
            settings,
            admin_token,
            agent_tokens: Mutex::new(HashMap::new()),
            agent_sockets: Mutex::new(HashMap::new()),
            reviews: Mutex::new(None),
            providers: Arc::default(),
            heard: Mutex::new(HashMap::new()),
        }
    }
}

/// A token bucket per IP address: a burst of `per_minute`, refilled evenly over the
/// minute. Addresses whose bucket has filled again are forgotten, so the map holds only
/// addresses active in the last minute.
#[derive(Debug)]
pub struct RateLimit {
    per_minute: u32,
    buckets: Mutex<HashMap<IpAddr, (f64, std::time::Instant)>>,
}

impl RateLimit {
    pub fn per_minute(per_minute: u32) -> RateLimit {
        RateLimit { per_minute, buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes one token for `ip`: `Err(seconds)` until the next one, when there is none.
    pub fn take(&self, ip: IpAddr, now: std::time::Instant) -> Result<(), u64> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let full = f64::from(self.per_minute);
        let per_second = full / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > 10_000 {
            buckets.retain(|_, (tokens, at)| *tokens + now.duration_since(*at).as_secs_f64() * per_second < full);
        }
        let (tokens, at) = buckets.entry(ip).or_insert((full, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * per_second).min(full);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / per_second).ceil() as u64)
        }
    }
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("App")
    }
}

type Shared = Arc<App>;

pub fn router(app: Shared) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/demo", get(demo))
        .route("/widget.js", get(widget))
        .route("/desktop", get(desktop))
        .route(
            "/desktop.js",
            get(|| async { asset("text/javascript; charset=utf-8", include_str!("assets/desktop.js")) }),
        )
        .route("/desktop.css", get(|| async { asset("text/css; charset=utf-8", include_str!("assets/desktop.css")) }))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/chat/ws", get(chat_ws))
        .route("/agent/ws", get(agent_ws))
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/wallboard", get(wallboard_page))
        .route(
            "/wallboard.js",
            get(|| async { asset("text/javascript; charset=utf-8", include_str!("assets/wallboard.js")) }),
        )
        .route("/wallboard/data", get(wallboard_data))
        .route("/wallboard/stream", get(wallboard_stream))
        .route("/wallboard/graph/{flow}", get(wallboard_graph))
        .route("/reports", get(reports))
        .route("/review", get(review_page))
        .route(
            "/review.js",
            get(|| async { asset("text/javascript; charset=utf-8", include_str!("assets/review.js")) }),
        )
        .route("/review/contacts", get(review_list))
        .route("/review/contacts/{id}", get(review_contact).post(review_post))
        .route(
            "/channels/twilio/sms",
            post(crate::channels::web::twilio_sms).layer(DefaultBodyLimit::max(crate::channels::twilio::MAX_BODY)),
        )
        .route(
            "/channels/twilio/status",
            post(crate::channels::web::twilio_status).layer(DefaultBodyLimit::max(crate::channels::twilio::MAX_BODY)),
        )
        .route(
            "/channels/whatsapp",
            get(crate::channels::web::whatsapp_verify)
                .post(crate::channels::web::whatsapp_post)
                .layer(DefaultBodyLimit::max(crate::channels::social::MAX_BODY)),
        )
        .route(
            "/channels/email/inbound",
            post(crate::channels::web::email_inbound)
                .layer(DefaultBodyLimit::max(crate::channels::social::MAX_BODY * 4)),
        )
        .route(
            "/channels/messenger",
            get(crate::channels::web::messenger_verify)
                .post(crate::channels::web::messenger_post)
                .layer(DefaultBodyLimit::max(crate::channels::social::MAX_BODY)),
        )
        .route(
            "/channels/telegram",
            post(crate::channels::web::telegram_post).layer(DefaultBodyLimit::max(crate::channels::social::MAX_BODY)),
        )
        .route("/channels/twilio/voice", post(crate::channels::voice::incoming))
        .route("/channels/twilio/voice/input", post(crate::channels::voice::input))
        .route("/channels/twilio/voice/next", post(crate::channels::voice::again))
        .route("/channels/twilio/voice/wait", post(crate::channels::voice::wait))
        .route("/channels/twilio/voice/after", post(crate::channels::voice::after))
        .route("/channels/twilio/voice/paid", post(crate::channels::voice::paid))
        .route("/channels/twilio/voice/status", post(crate::channels::voice::status))
        .route("/channels/twilio/voice/outbound", post(crate::channels::voice::outbound))
        .route("/admin/bundles", get(bundles))
        .route("/admin/deploy", post(deploy))
        .route("/admin/rollback", post(rollback))
        .layer(DefaultBodyLimit::max(MAX_DEPLOY))
        .with_state(app)
}

/// A random token: 32 hex digits from the OS's generator.
pub fn random_token() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No randomness means no safe token: refuse to go on rather than guess.
        panic!("the operating system gave no random bytes");
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn refusal(status: u16, message: impl Into<String>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (status, Json(json!({"error": message.into()}))).into_response()
}

fn answer_response(answer: Answer) -> Response {
    match answer {
        Ok(v) => Json(v).into_response(),
        Err(r) => refusal(r.status, r.message),
    }
}

pub(crate) async fn read<T: Send + 'static>(app: &Shared, f: impl FnOnce(&Reader) -> T + Send + 'static) -> T {
    let app = app.clone();
    tokio::task::spawn_blocking(move || {
        let reader = app.reader.lock().unwrap_or_else(|e| e.into_inner());
        f(&reader)
    })
    .await
    .unwrap_or_else(|e| panic!("a store read panicked: {e}"))
}

// ---------------------------------------------------------------------------------------
// Pages

async fn home(Extract(app): Extract<Shared>) -> Html<String> {
    let agents = app
        .settings
        .agents
        .iter()
        .map(|a| format!("<li><code>{}</code> ({})</li>", esc(&a.id), esc(&a.name)))
        .collect::<String>();
    Html(
        include_str!("assets/index.html")
            .replace("{{agents}}", &agents)
            .replace("{{project}}", &esc(&app.settings.project.display().to_string())),
    )
}

async fn demo() -> Html<&'static str> {
    Html(include_str!("assets/demo.html"))
}

async fn widget() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], include_str!("assets/widget.js")).into_response()
}

/// The agent desktop: a page of its own origin only (scripts, styles and the socket).
async fn desktop() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
            ),
        ],
        include_str!("assets/desktop.html"),
    )
        .into_response()
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Ready when the core answers and the store can be read.
async fn readyz(Extract(app): Extract<Shared>) -> Response {
    let core = tokio::time::timeout(Duration::from_secs(2), app.core.query(|_, _| json!({}))).await;
    let store = read(&app, |r| r.bundles().map(|b| b.len())).await;
    match (core, store) {
        (Ok(Ok(_)), Ok(n)) if n > 0 => "ready\n".into_response(),
        (Ok(Ok(_)), _) => (StatusCode::SERVICE_UNAVAILABLE, "the store cannot be read\n").into_response(),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "the core is not answering\n").into_response(),
    }
}

async fn metrics(Extract(app): Extract<Shared>) -> Response {
    let counters = app.core.metrics.clone();
    let text = app
        .core
        .query(move |state, side| {
            let gauges = crate::metrics::Gauges {
                outbox: side.outbox.len(),
                offers: side.offers.len(),
                assigned: side.assigned.len(),
                ..crate::metrics::Gauges::of(state)
            };
            Json_::String(crate::metrics::render(&counters, &gauges))
        })
        .await;
    match text {
        Ok(Json_::String(text)) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response(),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "the core is not answering\n").into_response(),
    }
}

// ---------------------------------------------------------------------------------------
// Admin

fn authorized(app: &App, headers: &HeaderMap) -> Result<(), Box<Response>> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if constant_time_eq(given.as_bytes(), app.admin_token.as_bytes()) {
        Ok(())
    } else {
        Err(Box::new(refusal(401, "the admin API needs `Authorization: Bearer <admin token>`")))
    }
}

// ---------------------------------------------------------------------------------------
// Logging in to the pages, and roles

/// The cookie a page session rides on.
const SESSION_COOKIE: &str = "sb_session";

fn session_agent(app: &App, headers: &HeaderMap) -> Option<Agent> {
    let token = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().strip_prefix(SESSION_COOKIE)?.strip_prefix('='))
        .next()?;
    let id = app.agent_tokens.lock().unwrap_or_else(|e| e.into_inner()).get(token).cloned()?;
    app.settings.agents.iter().find(|a| a.id == id).cloned()
}

/// Lets in a page session of someone with `role`, or the admin token: 401 for no one,
/// 403 for someone without the role.
fn allowed(app: &App, headers: &HeaderMap, role: Role) -> Result<(), Box<Response>> {
    if authorized(app, headers).is_ok() {
        return Ok(());
    }
    match session_agent(app, headers) {
        Some(a) if a.has(role) => Ok(()),
        Some(a) => Err(Box::new(refusal(403, format!("`{}` is not a {}", a.id, role.name())))),
        None => Err(Box::new(refusal(401, "log in first (POST /login)"))),
    }
}

/// `POST /login` `{"agent","password"}`: a session cookie for the pages.
async fn login(Extract(app): Extract<Shared>, body: Bytes) -> Response {
    let Ok(v) = serde_json::from_slice::<Json_>(&body) else {
        return refusal(400, "the body is JSON: {\"agent\": \"…\", \"password\": \"…\"}");
    };
    let mut hello = v.clone();
    hello["type"] = json!("login");
    if hello.get("token").is_some() {
        return refusal(400, "log in with `agent` and `password`");
    }
    match log_in(&app, &hello).await {
        Ok((agent, token)) => {
            let cookie = format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict");
            let roles: Vec<&str> = agent.roles.iter().map(|r| r.name()).collect();
            ([(header::SET_COOKIE, cookie)], Json(json!({"agent": agent.id, "name": agent.name, "roles": roles})))
                .into_response()
        }
        Err(e) => refusal(401, e),
    }
}

async fn logout(Extract(app): Extract<Shared>, headers: HeaderMap) -> Response {
    let cookie = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    if let Some(token) = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').find_map(|c| c.trim().strip_prefix(SESSION_COOKIE)?.strip_prefix('=')))
    {
        app.agent_tokens.lock().unwrap_or_else(|e| e.into_inner()).remove(token);
    }
    ([(header::SET_COOKIE, cookie)], Json(json!({}))).into_response()
}

// ---------------------------------------------------------------------------------------
// The wallboard

async fn wallboard_page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
            ),
        ],
        include_str!("assets/wallboard.html"),
    )
        .into_response()
}

/// The board now, as JSON.
async fn wallboard_data(Extract(app): Extract<Shared>, headers: HeaderMap) -> Response {
    if let Err(r) = allowed(&app, &headers, Role::Manager) {
        return *r;
    }
    let json = app.wallboard.borrow().json.clone();
    ([(header::CONTENT_TYPE, "application/json")], json).into_response()
}

/// The board as server-sent events: one `board` event each time it is made.
async fn wallboard_stream(Extract(app): Extract<Shared>, headers: HeaderMap) -> Response {
    use axum::response::sse::{Event, KeepAlive, Sse};
    if let Err(r) = allowed(&app, &headers, Role::Manager) {
        return *r;
    }
    let mut rx = app.wallboard.clone();
    rx.mark_changed();
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.changed().await.ok()?;
        let json = rx.borrow_and_update().json.clone();
        Some((Ok::<_, std::convert::Infallible>(Event::default().event("board").data(json)), rx))
    });
    Sse::new(stream).keep_alive(KeepAlive::default()).into_response()
}

/// A flow drawn with today's counts, as SVG.
async fn wallboard_graph(
    Extract(app): Extract<Shared>,
    headers: HeaderMap,
    axum::extract::Path(flow): axum::extract::Path<String>,
) -> Response {
    if let Err(r) = allowed(&app, &headers, Role::Manager) {
        return *r;
    }
    let flow = flow.strip_suffix(".svg").unwrap_or(&flow).to_string();
    match app.wallboard.borrow().graphs.get(&flow) {
        Some(svg) => ([(header::CONTENT_TYPE, "image/svg+xml")], svg.clone()).into_response(),
        None => refusal(404, format!("no flow `{flow}` is drawn")),
    }
}

/// `GET /reports?from=…&to=…&by=…&interval=…&segment=…&tz=…&fcr_hours=…&format=json|csv`:
/// the report `switchboard report` gives, for managers.
async fn reports(
    Extract(app): Extract<Shared>,
    headers: HeaderMap,
    axum::extract::Query(pairs): axum::extract::Query<Vec<(String, String)>>,
) -> Response {
    if let Err(r) = allowed(&app, &headers, Role::Manager) {
        return *r;
    }
    let mut query = crate::report::Query { fcr_window_ms: 24 * 3_600_000, ..Default::default() };
    let mut format = "json".to_string();
    for (key, value) in pairs {
        let value = Some(value).filter(|v| !v.is_empty());
        match (key.as_str(), value) {
            (_, None) => {}
            ("from", v) => query.from = v,
            ("to", v) => query.to = v,
            ("tz", v) => query.tz = v,
            ("segment", v) => query.segment = v,
            ("by", Some(v)) => match crate::report::By::parse(&v) {
                Some(by) => query.by = by,
                None => return refusal(400, format!("by: `{v}` is not queue, channel, flow, waypoint or agent")),
            },
            ("interval", Some(v)) => match crate::report::Interval::parse(&v) {
                Some(i) => query.interval = Some(i),
                None => return refusal(400, format!("interval: `{v}` is not 15m, 1h or 1d")),
            },
            ("fcr_hours", Some(v)) => match v.parse::<f64>() {
                Ok(h) if (0.0..=8784.0).contains(&h) => query.fcr_window_ms = (h * 3_600_000.0).round() as i64,
                _ => return refusal(400, format!("fcr_hours: `{v}` is not a number of hours up to a year")),
            },
            ("format", Some(v)) if v == "json" || v == "csv" => format = v,
            ("format", Some(v)) => return refusal(400, format!("format: `{v}` is not json or csv")),
            (other, _) => return refusal(400, format!("`{other}` is not a report parameter")),
        }
    }
    let answer = read(&app, move |r| query.run(r, &|name| name.to_string())).await;
    match answer {
        Ok((report, _)) if format == "csv" => {
            ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], report.to_csv()).into_response()
        }
        Ok((report, _)) => ([(header::CONTENT_TYPE, "application/json")], report.to_json()).into_response(),
        Err(e) => refusal(400, e),
    }
}

// ---------------------------------------------------------------------------------------
// Quality review (reviewers only)

async fn review_page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
            ),
        ],
        include_str!("assets/review.html"),
    )
        .into_response()
}

/// The scorecards of the bundle deployed now.
async fn scorecards(app: &Shared) -> Vec<switchboard_bytecode::bytecode::ScorecardInfo> {
    let cards = app
        .core
        .query_world(|state, _, world| {
            let cards = world.get(&state.current_bundle()).map(|d| d.bundle().scorecards.clone()).unwrap_or_default();
            serde_json::to_value(cards).unwrap_or_default()
        })
        .await;
    cards.ok().and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default()
}

/// `GET /review/contacts[?limit=N&before=ID&from=T&to=T&tz=Z]`: ended contacts, newest
/// first, 50 to a page (at most 200); `next` is the `before` of the next page, if any.
async fn review_list(
    Extract(app): Extract<Shared>,
    headers: HeaderMap,
    axum::extract::Query(pairs): axum::extract::Query<Vec<(String, String)>>,
) -> Response {
    if let Err(r) = allowed(&app, &headers, Role::Reviewer) {
        return *r;
    }
    let mut page = crate::store::EndedPage { limit: 50, before: None, from_ms: None, to_ms: None };
    let (mut from, mut to, mut tz) = (None, None, None);
    for (key, value) in pairs {
        let value = Some(value).filter(|v| !v.is_empty());
        match (key.as_str(), value) {
            (_, None) => {}
            ("limit", Some(v)) => match v.parse::<usize>() {
                Ok(n) if (1..=200).contains(&n) => page.limit = n,
                _ => return refusal(400, format!("limit: `{v}` is not a number from 1 to 200")),
            },
            ("before", Some(v)) => match v.parse::<u64>() {
                Ok(n) => page.before = Some(n),
                Err(_) => return refusal(400, format!("before: `{v}` is not a contact id")),
            },
            ("from", v) => from = v,
            ("to", v) => to = v,
            ("tz", v) => tz = v,
            (other, _) => return refusal(400, format!("`{other}` is not a parameter of the list")),
        }
    }
    for (flag, text, slot) in [("from", from, &mut page.from_ms), ("to", to, &mut page.to_ms)] {
        let Some(text) = text else { continue };
        // A bare date is midnight in `tz` (UTC unless named), as the reports read it.
        let text = match (&tz, text.contains(' ') || text.contains('T')) {
            (Some(zone), false) => format!("{text} {zone}"),
            _ => text,
        };
        match crate::report::parse_time(flag, &text) {
            Ok(at) => *slot = Some(at.timestamp().as_millisecond()),
            Err(why) => return refusal(400, why),
        }
    }
    let limit = page.limit;
    match read(&app, move |r| r.ended_contacts(&page)).await {
        Ok(contacts) => {
            let next = contacts.last().filter(|_| contacts.len() == limit).map(|c| c.contact);
            Json(json!({"contacts": contacts, "next": next})).into_response()
        }
        Err(e) => refusal(500, e.to_string()),
    }
}

/// `GET /review/contacts/{id}`: an ended contact's transcript, the agent's script path,
/// its reviews so far and the project's scorecards.
async fn review_contact(
    Extract(app): Extract<Shared>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    if let Err(r) = allowed(&app, &headers, Role::Reviewer) {
        return *r;
    }
    let Ok(contact) = id.parse::<u64>() else {
        return refusal(404, format!("no contact `{id}`"));
    };
    let found =
        read(&app, move |r| Ok::<_, crate::store::StoreError>((r.ended_contact(contact)?, r.reviews_of(contact)?)))
            .await;
    match found {
        Ok((Some((past, path)), reviews)) => {
            let cards = scorecards(&app).await;
            Json(json!({"contact": past, "script_path": path, "reviews": reviews, "scorecards": cards})).into_response()
        }
        Ok((None, _)) => refusal(404, format!("contact {contact} does not exist or has not ended")),
        Err(e) => refusal(500, e.to_string()),
    }
}

/// `POST /review/contacts/{id}` `{"scorecard","answers":{…},"note"}`: scores the contact;
/// 409 if this reviewer has scored it on that scorecard already.
async fn review_post(
    Extract(app): Extract<Shared>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
    body: Bytes,
) -> Response {
    if let Err(r) = allowed(&app, &headers, Role::Reviewer) {
        return *r;
    }
    // The admin token reviews as `admin`.
    let reviewer = session_agent(&app, &headers).map(|a| a.id).unwrap_or_else(|| "admin".to_string());
    let Ok(contact) = id.parse::<u64>() else {
        return refusal(404, format!("no contact `{id}`"));
    };
    let Ok(body) = serde_json::from_slice::<Json_>(&body) else {
        return refusal(400, "the body is JSON: {\"scorecard\": \"…\", \"answers\": {\"question\": 0..1 or true/false}, \"note\": \"…\"}");
    };
    let past = match read(&app, move |r| r.ended_contact(contact)).await {
        Ok(Some((past, _))) => past,
        Ok(None) => return refusal(404, format!("contact {contact} does not exist or has not ended")),
        Err(e) => return refusal(500, e.to_string()),
    };
    let scored = match crate::review::score(&scorecards(&app).await, &body) {
        Ok(s) => s,
        Err(e) => return refusal(400, e),
    };
    let review = crate::store::Review {
        contact,
        reviewer,
        scorecard: scored.scorecard,
        agent: past.agent,
        at_ms: jiff::Timestamp::now().as_millisecond(),
        score: scored.score,
        answers: Json_::Object(scored.answers),
        note: scored.note,
    };
    let app2 = app.clone();
    let stored = tokio::task::spawn_blocking(move || {
        let mut writer = app2.reviews.lock().unwrap_or_else(|e| e.into_inner());
        if writer.is_none() {
            *writer =
                Some(crate::store::Reviews::open(&app2.settings.data).map_err(crate::store::ReviewRefused::Store)?);
        }
        let put = writer.as_mut().map(|w| w.put(&review)).unwrap_or(Ok(()));
        put.map(|()| review)
    })
    .await
    .unwrap_or_else(|e| panic!("a review write panicked: {e}"));
    match stored {
        Ok(review) => (StatusCode::CREATED, Json(json!(review))).into_response(),
        Err(crate::store::ReviewRefused::Already) => {
            refusal(409, format!("you have scored contact {contact} on this scorecard already"))
        }
        Err(crate::store::ReviewRefused::Store(e)) => refusal(500, e.to_string()),
    }
}

/// Compares in time that depends only on the lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn bundles(Extract(app): Extract<Shared>, headers: HeaderMap) -> Response {
    if let Err(r) = authorized(&app, &headers) {
        return *r;
    }
    let current = app.core.query(|state, side| json!({"current": state.current_bundle().to_string(), "history": side.deployed.iter().map(|h| h.to_string()).collect::<Vec<_>>()})).await;
    let rows = read(&app, |r| r.bundles()).await;
    match (current, rows) {
        (Ok(current), Ok(rows)) => {
            Json(json!({"current": current["current"], "history": current["history"], "bundles": rows})).into_response()
        }
        (Err(e), _) => refusal(e.status, e.message),
        (_, Err(e)) => refusal(500, e.to_string()),
    }
}

/// `POST /admin/deploy`: a bundle (`application/octet-stream`, as `switchboard build`
/// writes it) or a project (`application/json`: `{"files": {"path": "text", …}}`), checked
/// and compiled here; a project with errors gets 422 and its diagnostics as JSON.
async fn deploy(Extract(app): Extract<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = authorized(&app, &headers) {
        return *r;
    }
    let json_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let bundle = if json_body {
        let parsed: Result<crate::project::Upload, _> = serde_json::from_slice(&body);
        let upload = match parsed {
            Ok(u) => u,
            Err(e) => return refusal(400, format!("the body is not a project upload: {e}")),
        };
        let root = app.settings.project.clone();
        match tokio::task::spawn_blocking(move || crate::project::compile_upload(upload, &root)).await {
            Ok(Ok(bundle)) => bundle,
            Ok(Err(crate::project::Refused::Diagnostics(json))) => {
                return (StatusCode::UNPROCESSABLE_ENTITY, [(header::CONTENT_TYPE, "application/json")], json)
                    .into_response()
            }
            Ok(Err(crate::project::Refused::Other(why))) => return refusal(400, why),
            Err(e) => return refusal(500, e.to_string()),
        }
    } else {
        match Bundle::from_bytes(&body) {
            Ok(b) => b,
            Err(e) => return refusal(400, e),
        }
    };
    answer_response(app.core.ask(Request::Deploy { bundle: Arc::new(bundle) }).await)
}

async fn rollback(Extract(app): Extract<Shared>, headers: HeaderMap) -> Response {
    if let Err(r) = authorized(&app, &headers) {
        return *r;
    }
    answer_response(app.core.ask(Request::Rollback).await)
}

// ---------------------------------------------------------------------------------------
// Web chat

/// Whether a page at `origin` may open a socket here. Browsers always send `Origin` on a
/// WebSocket; a client that sends none is not a page (it could send any origin anyway).
fn origin_allowed(app: &App, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else { return true };
    if app.origins.iter().any(|o| o == origin) {
        return true;
    }
    // The daemon's own pages.
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    origin == format!("http://{host}") || origin == format!("https://{host}")
}

async fn chat_ws(
    Extract(app): Extract<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if !origin_allowed(&app, &headers) {
        return refusal(403, "this origin may not open the chat: add it to allowed_origins");
    }
    sized(ws).on_upgrade(move |socket| async move {
        if let Err(e) = chat_session(socket, app, peer.ip()).await {
            tracing::debug!("chat socket closed: {e}");
        }
    })
}

/// How big a socket's buffers are. Messages are small (at most [`MAX_FRAME`]) and most
/// sockets sit idle, so a socket reads in chunks of [`READ_BUFFER`] (tungstenite's default
/// keeps 128 KiB per socket whether it reads anything or not) and writes each message as
/// it is sent instead of gathering them. The load benchmark's echo baseline uses the same.
pub fn sized(ws: WebSocketUpgrade) -> WebSocketUpgrade {
    ws.max_message_size(MAX_FRAME).read_buffer_size(READ_BUFFER).write_buffer_size(0)
}

/// How much a socket reads at a time.
const READ_BUFFER: usize = 4 * 1024;

async fn send(socket: &mut WebSocket, v: &Json_) -> Result<(), String> {
    socket.send(Message::Text(v.to_string().into())).await.map_err(|e| e.to_string())
}

/// The next message: `Ok(None)` when the socket closed, `Ok(Some(Err(why)))` for a frame
/// that is not JSON (answered with a 400, and the socket stays open). A frame over the
/// limit closes the socket with 1009.
async fn recv_json(socket: &mut WebSocket) -> Result<Option<Result<Json_, String>>, String> {
    loop {
        match socket.recv().await {
            None => return Ok(None),
            Some(Err(e)) => {
                let why = e.to_string();
                if why.contains("too long") || why.contains("Space limit") {
                    let frame = axum::extract::ws::CloseFrame {
                        code: axum::extract::ws::close_code::SIZE,
                        reason: format!("a message is at most {} KiB", MAX_FRAME / 1024).into(),
                    };
                    let _ = socket.send(Message::Close(Some(frame))).await;
                }
                return Err(why);
            }
            Some(Ok(Message::Text(t))) => {
                return Ok(Some(serde_json::from_str(t.as_str()).map_err(|e| format!("not JSON: {e}"))));
            }
            Some(Ok(Message::Close(_))) => return Ok(None),
            Some(Ok(_)) => continue,
        }
    }
}

fn row_json(row: &StoredFeed) -> Json_ {
    let mut v: Json_ = serde_json::from_str(&row.body).unwrap_or_else(|_| json!({}));
    v["id"] = json!(row.id);
    v["at_ms"] = json!(row.at_ms);
    v
}

fn text_field<'a>(v: &'a Json_, name: &str) -> Option<&'a str> {
    v.get(name).and_then(Json_::as_str)
}

/// A client's id for a message: short and plain, so it can be part of a key.
fn client_id(v: &Json_) -> Result<String, String> {
    let id = match v.get("id") {
        Some(Json_::String(s)) => s.clone(),
        Some(Json_::Number(n)) => n.to_string(),
        _ => return Err("a message needs an `id` (the client's, to make a resend harmless)".to_string()),
    };
    if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err("a message `id` is 1 to 64 letters, digits, `-` or `_`".to_string());
    }
    Ok(id)
}

fn message_text(v: &Json_) -> Result<String, String> {
    let text = text_field(v, "text").ok_or("a message needs `text`")?.trim();
    if text.is_empty() {
        return Err("the message is empty".to_string());
    }
    if text.len() > MAX_TEXT {
        return Err(format!("a message is at most {MAX_TEXT} bytes"));
    }
    if text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err("the message holds control characters".to_string());
    }
    // A card number typed into a chat is masked here, before anything keeps or shows it.
    Ok(switchboard_engine::cards::redact(text).into_owned())
}

/// A socket's first message (`hello` or `login`), within [`HELLO_TIMEOUT`]. `None`: the
/// client went away, or sent what is not JSON (and was told so).
async fn first_message(socket: &mut WebSocket) -> Result<Option<Json_>, String> {
    match tokio::time::timeout(HELLO_TIMEOUT, recv_json(socket)).await {
        Ok(Ok(Some(Ok(v)))) => Ok(Some(v)),
        Ok(Ok(Some(Err(e)))) => {
            send(socket, &json!({"type": "error", "status": 400, "message": e})).await?;
            Ok(None)
        }
        Ok(Ok(None)) => Ok(None),
        Ok(Err(e)) => Err(e),
        Err(_) => Err("nothing was said in time".to_string()),
    }
}

async fn chat_session(mut socket: WebSocket, app: Shared, peer: IpAddr) -> Result<(), String> {
    let Some(hello) = first_message(&mut socket).await? else { return Ok(()) };
    if text_field(&hello, "type") != Some("hello") {
        send(&mut socket, &json!({"type": "error", "message": "the first message is {\"type\":\"hello\"}"})).await?;
        return Ok(());
    }
    let cursor = hello.get("cursor").and_then(Json_::as_i64).unwrap_or(0);
    let (contact, token) = match text_field(&hello, "token") {
        Some(token) => {
            let t = token.to_string();
            match read(&app, move |r| r.conversation(&t)).await {
                Ok(Some(contact)) => (contact, token.to_string()),
                _ => {
                    send(&mut socket, &json!({"type": "error", "status": 404, "message": "no such conversation"}))
                        .await?;
                    return Ok(());
                }
            }
        }
        None => {
            // Opening conversations costs the store; a reconnect with a token does not.
            if let Err(wait) = app.new_chats.take(peer, std::time::Instant::now()) {
                app.core.metrics.refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let message = format!("too many new conversations from this address; try again in {wait} s");
                send(&mut socket, &json!({"type": "error", "status": 429, "message": message, "retry_after_s": wait}))
                    .await?;
                return Ok(());
            }
            let name = text_field(&hello, "name").unwrap_or("").trim().chars().take(100).collect::<String>();
            let name = switchboard_engine::cards::redact(&name).into_owned();
            let email = text_field(&hello, "email").unwrap_or("").trim().to_lowercase();
            if !email.is_empty() && (email.len() > 254 || !email.contains('@')) {
                send(
                    &mut socket,
                    &json!({"type": "error", "status": 400, "message": "the email address is not valid"}),
                )
                .await?;
                return Ok(());
            }
            let entry = text_field(&hello, "entry").unwrap_or("web").chars().take(100).collect::<String>();
            let token = random_token();
            // Pre-chat fields: the contact's attributes, and its `from`.
            let mut attributes: Vec<(Arc<str>, Arc<str>)> = Vec::new();
            if !name.is_empty() {
                attributes.push(("name".into(), name.as_str().into()));
            }
            if !email.is_empty() {
                attributes.push(("email".into(), email.as_str().into()));
            }
            let from = if !email.is_empty() {
                email
            } else if !name.is_empty() {
                name
            } else {
                format!("visitor-{}", &token[..8])
            };
            let arrival = Arrival {
                channel: Channel::Chat,
                from: from.as_str().into(),
                to: Some(entry.as_str().into()),
                subject: "".into(),
                text: "".into(),
                attributes,
            };
            match app.core.ask(Request::StartChat { token: token.clone(), arrival }).await {
                Ok(v) => (v["contact"].as_u64().unwrap_or(0), token),
                Err(r) => {
                    send(&mut socket, &json!({"type": "error", "status": r.status, "message": r.message})).await?;
                    return Ok(());
                }
            }
        }
    };
    let mut feed = app.core.feed.subscribe();
    let mut ephemeral = app.core.ephemeral.subscribe();
    send(&mut socket, &json!({"type": "conversation", "token": token, "contact": contact})).await?;
    let mut last = cursor;
    for row in read(&app, move |r| r.customer_feed(contact, cursor)).await.map_err(|e| e.to_string())? {
        last = last.max(row.id);
        send(&mut socket, &row_json(&row)).await?;
    }
    loop {
        tokio::select! {
            msg = recv_json(&mut socket) => {
                let Some(msg) = msg? else { return Ok(()) };
                let msg = match msg {
                    Ok(v) => v,
                    Err(e) => {
                        send(&mut socket, &json!({"type": "error", "status": 400, "message": e})).await?;
                        continue;
                    }
                };
                match text_field(&msg, "type") {
                    Some("message") => {
                        let reply = match client_id(&msg).and_then(|id| Ok((id, message_text(&msg)?))) {
                            Ok((id, text)) => {
                                let key = format!("in-{contact}-{id}");
                                match app.core.ask(Request::Customer { contact, key, text }).await {
                                    Ok(_) => json!({"type": "ack", "id": msg["id"]}),
                                    Err(r) => json!({"type": "error", "id": msg["id"], "status": r.status, "message": r.message}),
                                }
                            }
                            Err(e) => json!({"type": "error", "id": msg.get("id"), "status": 400, "message": e}),
                        };
                        send(&mut socket, &reply).await?;
                    }
                    Some("typing") => app.core.tell(Request::CustomerTyping { contact }),
                    _ => send(&mut socket, &json!({"type": "error", "status": 400, "message": "unknown message type; send `message` or `typing`"})).await?,
                }
            }
            pushed = feed.recv() => match pushed {
                Ok(p) => {
                    if p.row.contact == contact && p.row.audience == "customer" && p.id > last {
                        last = p.id;
                        let row = StoredFeed { id: p.id, contact, audience: "customer".into(), agent: p.row.agent.clone(), at_ms: p.row.at_ms, body: p.row.body.clone() };
                        send(&mut socket, &row_json(&row)).await?;
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    let after = last;
                    for row in read(&app, move |r| r.customer_feed(contact, after)).await.map_err(|e| e.to_string())? {
                        last = last.max(row.id);
                        send(&mut socket, &row_json(&row)).await?;
                    }
                }
                Err(RecvError::Closed) => return Ok(()),
            },
            e = ephemeral.recv() => if let Ok(e) = e {
                if e.contact == contact && !e.from_customer {
                    send(&mut socket, &e.body).await?;
                }
            },
        }
    }
}

// ---------------------------------------------------------------------------------------
// Agents

async fn agent_ws(Extract(app): Extract<Shared>, headers: HeaderMap, ws: WebSocketUpgrade) -> Response {
    if !origin_allowed(&app, &headers) {
        return refusal(403, "this origin may not open the agents' connection");
    }
    sized(ws).on_upgrade(move |socket| async move {
        if let Err(e) = agent_session(socket, app).await {
            tracing::debug!("agent socket closed: {e}");
        }
    })
}

/// An agent of the roster as routing and scripts see them.
fn login_of(agent: &Agent) -> LogIn {
    let view = AgentView {
        id: agent.id.clone(),
        name: agent.name.clone(),
        skills: agent.skills.keys().cloned().collect(),
        languages: agent.languages.clone(),
    };
    LogIn {
        view,
        proficiency: agent.skills.iter().map(|(skill, level)| (skill.clone(), *level)).collect(),
        capacity: agent
            .capacity
            .iter()
            .filter_map(|(channel, at_once)| Channel::parse(channel).map(|c| (c, *at_once)))
            .collect(),
    }
}

async fn log_in(app: &Shared, hello: &Json_) -> Result<(Agent, String), String> {
    if text_field(hello, "type") != Some("login") {
        return Err("the first message is {\"type\":\"login\", …}".to_string());
    }
    if let Some(token) = text_field(hello, "token") {
        let id = app.agent_tokens.lock().unwrap_or_else(|e| e.into_inner()).get(token).cloned();
        let agent = id.and_then(|id| app.settings.agents.iter().find(|a| a.id == id).cloned());
        return agent.map(|a| (a, token.to_string())).ok_or_else(|| "the token is not valid".to_string());
    }
    let id = text_field(hello, "agent").unwrap_or("");
    let password = text_field(hello, "password").unwrap_or("").to_string();
    let agent = app.settings.agents.iter().find(|a| a.id == id).cloned();
    let ok = match &agent {
        Some(a) => {
            let a = a.clone();
            tokio::task::spawn_blocking(move || a.verify(&password)).await.unwrap_or(false)
        }
        None => false,
    };
    match agent {
        Some(agent) if ok => {
            let token = random_token();
            app.agent_tokens.lock().unwrap_or_else(|e| e.into_inner()).insert(token.clone(), agent.id.clone());
            Ok((agent, token))
        }
        _ => {
            // The same answer, a little later, whether the agent or the password was wrong.
            tokio::time::sleep(Duration::from_millis(300)).await;
            Err("wrong agent or password".to_string())
        }
    }
}

async fn agent_session(mut socket: WebSocket, app: Shared) -> Result<(), String> {
    let Some(hello) = first_message(&mut socket).await? else { return Ok(()) };
    let (agent, token) = match log_in(&app, &hello).await {
        Ok(x) => x,
        Err(e) => {
            send(&mut socket, &json!({"type": "error", "status": 401, "message": e})).await?;
            return Ok(());
        }
    };
    let me = agent.id.clone();
    // Listen before logging in: an offer the log-in itself brings must not be missed.
    let feed = app.core.feed.subscribe();
    let ephemeral = app.core.ephemeral.subscribe();
    let answer =
        app.core.ask(Request::Agent { agent: me.clone(), request: AgentRequest::LogIn(login_of(&agent)) }).await;
    if let Err(r) = answer {
        send(&mut socket, &json!({"type": "error", "status": r.status, "message": r.message})).await?;
        return Ok(());
    }
    *app.agent_sockets.lock().unwrap_or_else(|e| e.into_inner()).entry(me.clone()).or_default() += 1;
    let result = agent_loop(&mut socket, &app, &agent, &token, &hello, feed, ephemeral).await;
    let last = {
        let mut sockets = app.agent_sockets.lock().unwrap_or_else(|e| e.into_inner());
        let n = sockets.entry(me.clone()).or_default();
        *n = n.saturating_sub(1);
        *n == 0
    };
    if last {
        // No screen is open: offers must not ring at an agent who cannot see them.
        let _ = app.core.ask(Request::Agent { agent: me, request: AgentRequest::Presence(Presence::Offline) }).await;
    }
    result
}

async fn agent_loop(
    socket: &mut WebSocket,
    app: &Shared,
    agent: &Agent,
    token: &str,
    hello: &Json_,
    mut feed: tokio::sync::broadcast::Receiver<Arc<crate::core::Pushed>>,
    mut ephemeral: tokio::sync::broadcast::Receiver<Arc<crate::core::Ephemeral>>,
) -> Result<(), String> {
    let me = agent.id.clone();
    let who = me.clone();
    let state = app
        .core
        .query(move |_, side| {
            let contacts: Vec<u64> = side.assigned.iter().filter(|(_, a)| **a == who).map(|(c, _)| *c).collect();
            let offers: Vec<Json_> = side
                .offers
                .iter()
                .filter(|(_, (_, a))| *a == who)
                .map(|(o, (c, _))| json!({"offer": o, "contact": c}))
                .collect();
            json!({"contacts": contacts, "offers": offers})
        })
        .await
        .map_err(|e| e.message)?;
    send(
        socket,
        &json!({"type": "welcome", "token": token, "agent": {"id": agent.id, "name": agent.name,
                "skills": agent.skills, "languages": agent.languages, "capacity": agent.capacity},
                "offers": state["offers"]}),
    )
    .await?;
    for contact in state["contacts"].as_array().cloned().unwrap_or_default() {
        if let Some(c) = contact.as_u64() {
            send(socket, &contact_json(app, c, &me).await).await?;
        }
    }
    let mut last = hello.get("cursor").and_then(Json_::as_i64).unwrap_or(i64::MAX);
    if last != i64::MAX {
        let (m, after) = (me.clone(), last);
        for row in read(app, move |r| r.agent_feed(&m, after)).await.map_err(|e| e.to_string())? {
            last = last.max(row.id);
            send(socket, &row_json(&row)).await?;
        }
    } else {
        last = 0;
    }
    loop {
        tokio::select! {
            msg = recv_json(socket) => {
                let Some(msg) = msg? else { return Ok(()) };
                let msg = match msg {
                    Ok(v) => v,
                    Err(e) => {
                        send(socket, &json!({"type": "error", "status": 400, "message": e})).await?;
                        continue;
                    }
                };
                let reference = msg.get("ref").cloned().unwrap_or(Json_::Null);
                let reply = match agent_request(&msg) {
                    Ok(request) => {
                        let accepted = match &request { AgentRequest::Accept { offer } => Some(*offer), _ => None };
                        let contact_of_offer = match accepted {
                            Some(offer) => app.core.query(move |_, side| json!(side.offers.get(&offer).and_then(|(c, _)| *c))).await.ok(),
                            None => None,
                        };
                        match app.core.ask(Request::Agent { agent: me.clone(), request }).await {
                            Ok(v) => {
                                if let Some(c) = contact_of_offer.and_then(|c| c.as_u64()) {
                                    send(socket, &contact_json(app, c, &me).await).await?;
                                }
                                json!({"type": "ok", "ref": reference, "result": v})
                            }
                            Err(r) => json!({"type": "error", "ref": reference, "status": r.status, "message": r.message}),
                        }
                    }
                    Err(e) => json!({"type": "error", "ref": reference, "status": 400, "message": e}),
                };
                send(socket, &reply).await?;
            }
            pushed = feed.recv() => match pushed {
                Ok(p) => {
                    let mine = p.row.agent.as_deref() == Some(me.as_str());
                    if mine && p.id > last {
                        last = p.id;
                        let row = StoredFeed { id: p.id, contact: p.row.contact, audience: p.row.audience.into(), agent: p.row.agent.clone(), at_ms: p.row.at_ms, body: p.row.body.clone() };
                        let mut v = row_json(&row);
                        v["contact"] = json!(p.row.contact);
                        send(socket, &v).await?;
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    let (m, after) = (me.clone(), last);
                    for row in read(app, move |r| r.agent_feed(&m, after)).await.map_err(|e| e.to_string())? {
                        last = last.max(row.id);
                        send(socket, &row_json(&row)).await?;
                    }
                }
                Err(RecvError::Closed) => return Ok(()),
            },
            e = ephemeral.recv() => if let Ok(e) = e {
                if e.from_customer && e.agent.as_deref() == Some(me.as_str()) {
                    send(socket, &e.body).await?;
                }
            },
        }
    }
}

/// A contact as its agent sees it: the conversation so far and the record the flow found.
async fn contact_json(app: &Shared, contact: u64, agent: &str) -> Json_ {
    let a = agent.to_string();
    let rows = read(app, move |r| r.agent_view(contact, &a)).await.unwrap_or_default();
    let transcript: Vec<Json_> = rows.iter().filter(|r| r.audience == "customer").map(row_json).collect();
    let history = read(app, move |r| r.history(contact, 20)).await.unwrap_or_default();
    let queue = read(app, move |r| r.queue_of(contact)).await.ok().flatten();
    let (in_queue, by) = (queue.clone(), agent.to_string());
    let info = app
        .core
        .query_world(move |state, side, world| {
            let replies = crate::core::replies_json(state, side, world, contact, in_queue.as_deref(), &by, MAX_TEXT);
            let view = state.contact(switchboard_engine::ContactId(contact));
            // What the agent may do with it: the scripts of its bundle (its queue's first)
            // and the queues it can be transferred to.
            let bundle = view.as_ref().and_then(|v| world.get(&v.bundle)).map(|d| d.bundle().clone());
            let (scripts, queues) = match &bundle {
                Some(b) => {
                    let queue_name = |q: &Option<switchboard_bytecode::bytecode::QueueId>| {
                        q.and_then(|q| b.queues.get(q.index())).map(|q| q.name.clone())
                    };
                    let scripts: Vec<Json_> =
                        b.scripts.iter().map(|s| json!({"name": s.name, "queue": queue_name(&s.queue)})).collect();
                    let queues: Vec<&str> = b.queues.iter().map(|q| q.name.as_str()).collect();
                    (json!(scripts), json!(queues))
                }
                None => (json!([]), json!([])),
            };
            json!({
                "channel": view.as_ref().map(|v| crate::core::channel_name(v.contact.channel)),
                "from": view.as_ref().map(|v| v.contact.from.to_string()),
                "record": side.records.get(&contact).and_then(|r| serde_json::from_str::<Json_>(r).ok()),
                // A retry strategy's call names the script its agent follows.
                "script": view.as_ref().and_then(|v| v.contact.attributes.get("script").cloned()),
                "scripts": scripts,
                "queues": queues,
                "replies": replies,
            })
        })
        .await
        .unwrap_or_default();
    json!({"type": "contact", "contact": contact, "channel": info["channel"], "from": info["from"], "queue": queue,
           "record": info["record"], "transcript": transcript, "history": history,
           "scripts": info["scripts"], "script": info["script"], "queues": info["queues"], "replies": info["replies"]})
}

fn agent_request(msg: &Json_) -> Result<AgentRequest, String> {
    let num = |name: &str| msg.get(name).and_then(Json_::as_u64).ok_or_else(|| format!("`{name}` must be a number"));
    let text = |name: &str| text_field(msg, name).map(str::to_string).ok_or_else(|| format!("`{name}` is missing"));
    Ok(match text_field(msg, "type").unwrap_or("") {
        "presence" => AgentRequest::Presence(match text_field(msg, "presence") {
            Some("available") => Presence::Available,
            Some("away") => Presence::Away,
            Some("offline") => Presence::Offline,
            _ => return Err("`presence` is available, away or offline".to_string()),
        }),
        "accept" => AgentRequest::Accept { offer: num("offer")? },
        "reject" => AgentRequest::Reject { offer: num("offer")? },
        "message" => {
            let contact = num("contact")?;
            let id = client_id(msg)?;
            AgentRequest::Message { contact, key: format!("agent-{contact}-{id}"), text: message_text(msg)? }
        }
        "script" => AgentRequest::Script { contact: num("contact")?, script: text("script")? },
        "script_reply" => {
            let reply = text("text")?;
            if reply.len() > MAX_TEXT {
                return Err(format!("an answer is at most {MAX_TEXT} bytes"));
            }
            let reply = switchboard_engine::cards::redact(&reply).into_owned();
            AgentRequest::ScriptReply { session: num("session")?, text: reply }
        }
        "finish" => AgentRequest::Finish { contact: num("contact")? },
        "transfer" => AgentRequest::Transfer { contact: num("contact")?, queue: text("queue")? },
        "outcome" => {
            let note = match text_field(msg, "note") {
                Some(n) if n.len() > MAX_TEXT => return Err(format!("a note is at most {MAX_TEXT} bytes")),
                Some(n) => Some(switchboard_engine::cards::redact(n).into_owned()),
                None => None,
            };
            AgentRequest::Outcome { contact: num("contact")?, outcome: text("outcome")?, note }
        }
        "typing" => AgentRequest::Typing { contact: num("contact")? },
        other => return Err(format!("unknown message type `{other}`")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn an_address_gets_a_burst_then_one_new_chat_as_each_share_of_the_minute_passes() {
        let limit = RateLimit::per_minute(6);
        let (one, other): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let t0 = Instant::now();
        for _ in 0..6 {
            assert_eq!(limit.take(one, t0), Ok(()));
        }
        assert_eq!(limit.take(one, t0), Err(10), "one more every 10 s");
        assert_eq!(limit.take(other, t0), Ok(()), "each address has its own");
        assert_eq!(limit.take(one, t0 + Duration::from_secs(9)), Err(1));
        assert_eq!(limit.take(one, t0 + Duration::from_secs(10)), Ok(()));
        assert_eq!(limit.take(one, t0 + Duration::from_secs(10)), Err(10));
        // Never more than the burst, however long it was quiet.
        let later = t0 + Duration::from_secs(3600);
        for _ in 0..6 {
            assert_eq!(limit.take(one, later), Ok(()));
        }
        assert!(limit.take(one, later).is_err());
    }

    #[test]
    fn no_limit_when_it_is_zero() {
        let limit = RateLimit::per_minute(0);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        assert!((0..1000).all(|_| limit.take(ip, Instant::now()).is_ok()));
    }
}
