//! A source behind an HTTP JSON API (a CRM): `http "https://crm.example/customers/{key}"`.
//!
//! A look-up is one `GET` of the URL with `{key}` replaced by the key's text, percent-
//! encoded (a phone is its E.164 form, `%2B447700900001`). The answer is a JSON object whose
//! members are the record's fields (matched to fields like CSV columns, and read with the
//! same cell rules: strings, numbers and booleans as their text, `null` as an empty cell), or
//! an array whose first object is taken. `404` and an empty array mean no match; any other
//! status, a body over 1 MiB, or a body that is not such JSON fails the look-up. The
//! source's `timeout` bounds the whole request. Headers given by [`HttpSource::with_headers`]
//! (the daemon's `[sources.NAME]` settings: an API key, a bearer token) go with every request
//! and are never shown in messages or `Debug`.

use super::cell::RowReader;
use super::schema::SourceSpec;
use super::{Source, SourceError};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use std::sync::Arc;
use std::time::Duration;
use switchboard_bytecode::value::{Currency, Record, Value};

/// The largest answer read.
const MAX_BODY: u64 = 1024 * 1024;

pub struct HttpSource {
    name: String,
    template: String,
    spec: SourceSpec,
    agent: ureq::Agent,
    /// Sent with every request (an API key, `Authorization`). Never shown: they may be
    /// secrets.
    headers: Vec<(String, String)>,
}

impl std::fmt::Debug for HttpSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSource").field("name", &self.name).field("template", &self.template).finish()
    }
}

impl HttpSource {
    pub fn new(spec: &SourceSpec, template: &str) -> Result<HttpSource, SourceError> {
        spec.check()?;
        let fail = |message: String| SourceError::Schema { source: spec.name.clone(), message };
        if !(template.starts_with("http://") || template.starts_with("https://")) {
            return Err(fail(format!("`{template}` is not an http:// or https:// URL")));
        }
        if !template.contains("{key}") {
            return Err(fail(format!("`{template}` has no `{{key}}` for the key to look up")));
        }
        let timeout = Duration::from_millis(spec.timeout_ms.max(1).unsigned_abs());
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        Ok(HttpSource {
            name: spec.name.clone(),
            template: template.to_string(),
            spec: spec.clone(),
            agent,
            headers: Vec::new(),
        })
    }

    /// Sends `headers` (name, value) with every request, after `Accept`. A name or value
    /// that cannot be a header is refused (by name only: values may be secrets).
    pub fn with_headers(mut self, headers: Vec<(String, String)>) -> Result<HttpSource, SourceError> {
        for (name, value) in &headers {
            let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
            if name.is_empty() || !name.chars().all(token) {
                return Err(SourceError::Schema {
                    source: self.name.clone(),
                    message: format!("`{name}` is not a header name"),
                });
            }
            if value.chars().any(|c| c.is_control() && c != '\t') {
                return Err(SourceError::Schema {
                    source: self.name.clone(),
                    message: format!("the value of header `{name}` has a control character"),
                });
            }
        }
        self.headers = headers;
        Ok(self)
    }

    fn unavailable(&self, message: String) -> SourceError {
        SourceError::Unavailable { source: self.name.clone(), message }
    }
}

/// The text a key is sent as (and bound as, by SQL sources).
pub fn key_text(key: &Value) -> String {
    match key {
        Value::Text(t) | Value::Phone(t) | Value::Email(t) | Value::Agent(t) | Value::Enum(t) => t.to_string(),
        other => other.display(),
    }
}

impl Source for HttpSource {
    fn lookup(&self, key: &Value) -> Result<Option<Arc<Record>>, SourceError> {
        if matches!(key, Value::None) {
            return Ok(None);
        }
        let text = key_text(key);
        let url = self.template.replace("{key}", &utf8_percent_encode(&text, NON_ALPHANUMERIC).to_string());
        let mut request = self.agent.get(&url).header("Accept", "application/json");
        for (name, value) in &self.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let mut response = request.call().map_err(|e| self.unavailable(format!("GET {}: {e}", redact(&url))))?;
        match response.status().as_u16() {
            200 => {}
            404 => return Ok(None),
            status => return Err(self.unavailable(format!("GET {} answered {status}", redact(&url)))),
        }
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_string()
            .map_err(|e| self.unavailable(format!("GET {}: {e}", redact(&url))))?;
        record_from_json(&self.spec, &body, self.spec.currency).map_err(|message| self.unavailable(message))
    }

    fn may_block(&self) -> bool {
        true
    }
}

/// A URL as messages show it: without its query (which may hold an API key).
fn redact(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

/// The record a JSON answer holds, if any.
pub fn record_from_json(spec: &SourceSpec, body: &str, currency: Currency) -> Result<Option<Arc<Record>>, String> {
    let value: serde_json::Value = serde_json::from_str(body).map_err(|e| format!("the answer is not JSON: {e}"))?;
    let object = match value {
        serde_json::Value::Object(o) => o,
        serde_json::Value::Array(items) => match items.into_iter().next() {
            Some(serde_json::Value::Object(o)) => o,
            Some(_) => return Err("the answer is an array of something other than objects".to_string()),
            None => return Ok(None),
        },
        _ => return Err("the answer is neither an object nor an array of objects".to_string()),
    };
    let mut columns = Vec::with_capacity(object.len());
    let mut cells = Vec::with_capacity(object.len());
    for (name, v) in &object {
        let cell = match v {
            serde_json::Value::Null => String::new(),
            serde_json::Value::Bool(b) => b.to_string(),
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::String(s) => s.clone(),
            _ => continue,
        };
        columns.push(name.as_str());
        cells.push(cell);
    }
    let reader = RowReader::new(&spec.schema, currency, &columns).map_err(|e| format!("{e}"))?;
    reader.read(1, |i| cells.get(i).map(String::as_str)).map(Some).map_err(|e| format!("{e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::tests::crm;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    /// A one-request-at-a-time HTTP server that answers `answer(path)` as (status, body),
    /// and records each path asked for.
    fn server(answer: fn(&str) -> (u16, String)) -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let path = line.split(' ').nth(1).unwrap_or("").to_string();
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).unwrap() <= 2 {
                        break;
                    }
                }
                log.lock().unwrap().push(path.clone());
                let (status, body) = answer(&path);
                if status == 0 {
                    std::thread::sleep(Duration::from_secs(3));
                    continue;
                }
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        (format!("http://{addr}"), seen)
    }

    fn answers(path: &str) -> (u16, String) {
        match path {
            "/customers/%2B447700900001" => {
                (200, r#"{"id": "c1", "name": "Ann", "phone": "+447700900001", "tier": "gold", "language": "en", "country": "GB", "balance": 12.5, "extra": {"x": 1}}"#.to_string())
            }
            "/customers/list" => (200, r#"[{"id": "c2", "name": "Bo", "tier": "standard", "language": "en", "country": "GB", "balance": 0}]"#.to_string()),
            "/customers/empty" => (200, "[]".to_string()),
            "/customers/broken" => (200, "{not json".to_string()),
            "/customers/down" => (503, String::new()),
            "/customers/slow" => (0, String::new()),
            _ => (404, String::new()),
        }
    }

    fn source(base: &str, timeout_ms: i64) -> HttpSource {
        let mut spec = crm();
        spec.timeout_ms = timeout_ms;
        HttpSource::new(&spec, &format!("{base}/customers/{{key}}")).unwrap()
    }

    #[test]
    fn a_look_up_gets_the_record_the_api_answers_with_the_key_encoded() {
        let (base, seen) = server(answers);
        let s = source(&base, 2000);
        let r = s.lookup(&Value::Phone(Arc::from("+447700900001"))).unwrap().expect("found");
        assert_eq!(r.get("name"), Some(&Value::text("Ann")));
        assert_eq!(seen.lock().unwrap().as_slice(), ["/customers/%2B447700900001"]);
        let r = s.lookup(&Value::text("list")).unwrap().expect("the first of an array");
        assert_eq!(r.get("id"), Some(&Value::text("c2")));
    }

    #[test]
    fn not_found_and_empty_answers_are_no_match() {
        let (base, _) = server(answers);
        let s = source(&base, 2000);
        assert_eq!(s.lookup(&Value::text("nobody")).unwrap(), None);
        assert_eq!(s.lookup(&Value::text("empty")).unwrap(), None);
    }

    #[test]
    fn bad_answers_slow_servers_and_errors_fail_the_look_up() {
        let (base, _) = server(answers);
        let s = source(&base, 500);
        for key in ["broken", "down", "slow"] {
            let e = s.lookup(&Value::text(key)).unwrap_err();
            assert!(matches!(e, SourceError::Unavailable { .. }), "{key}: {e:?}");
        }
    }

    #[test]
    fn a_template_that_is_not_an_http_url_with_a_key_is_refused() {
        assert!(HttpSource::new(&crm(), "file:///etc/passwd?{key}").is_err());
        assert!(HttpSource::new(&crm(), "https://crm.example/customers").is_err());
    }
}
