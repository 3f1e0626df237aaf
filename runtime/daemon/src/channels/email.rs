//! Email: an SMTP listener for mail in (the `mailin` state machine, driven by tokio; MIME
//! read by `mail-parser`), replies threaded onto their contact by `In-Reply-To` and
//! `References` (a plus-address token as the fallback), and mail out through an SMTP
//! relay (`lettre`), each with a `Message-ID` made from its key, so a resend is the same
//! message to whoever receives it.

use super::{Outgoing, SendOutcome};
use crate::config::EmailSettings;
use crate::core::{CoreHandle, Request};
use crate::store::Reader;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchboard_bytecode::types::Channel;
use switchboard_engine::Arrival;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// The longest SMTP command line taken (RFC 5321 allows 512; data lines 1,000).
const MAX_LINE: usize = 4096;
/// How long a client may be silent.
const IDLE: Duration = Duration::from_secs(120);

/// A mail as the engine sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct Mail {
    pub message_id: Option<String>,
    pub from: String,
    pub name: Option<String>,
    pub subject: String,
    /// The plain-text part (or the HTML reduced to text), without the quoted earlier mail.
    pub text: String,
    /// `In-Reply-To` and `References`, newest first.
    pub refers_to: Vec<String>,
}

/// Reads a raw message, or says why it is not one.
pub fn parse(raw: &[u8]) -> Result<Mail, String> {
    let m = mail_parser::MessageParser::default().parse(raw).ok_or("the message cannot be read as MIME")?;
    let from = m.from().and_then(|a| a.first()).ok_or("the message has no From")?;
    let address = from.address().ok_or("the From has no address")?.trim().to_lowercase();
    let mut refers_to: Vec<String> = Vec::new();
    for header in [m.in_reply_to(), m.references()] {
        for id in header.as_text_list().unwrap_or_default().iter().rev() {
            let id = id.trim().trim_matches(['<', '>']).to_string();
            if !id.is_empty() && !refers_to.contains(&id) {
                refers_to.push(id);
            }
        }
    }
    let text = m.body_text(0).map(|t| t.into_owned()).unwrap_or_default();
    Ok(Mail {
        message_id: m.message_id().map(|id| id.trim_matches(['<', '>']).to_string()),
        from: address,
        name: from.name().map(str::to_string),
        subject: m.subject().unwrap_or_default().trim().to_string(),
        text: without_quote(&text),
        refers_to,
    })
}

/// The new part of a reply: up to the first quoted line (`> …`) or the line that
/// introduces a quote (`On … wrote:`), trimmed.
pub fn without_quote(text: &str) -> String {
    let mut kept = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('>') || (t.starts_with("On ") && t.ends_with("wrote:")) || t == "-----Original Message-----" {
            break;
        }
        kept.push(line.trim_end());
    }
    kept.join("\n").trim().to_string()
}

/// A `Message-ID` (without brackets) for the message keyed `key`, at `domain`: the key
/// with characters other than letters, digits, `.`, `-` and `_` written `=XX`.
pub fn message_id(key: &str, domain: &str) -> String {
    let mut id = String::from("sb.");
    for b in key.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'_' => id.push(b as char),
            b => id.push_str(&format!("={b:02X}")),
        }
    }
    format!("{id}@{domain}")
}

/// `local+cN@domain` → (`local@domain`, Some(N)).
pub fn plus_address(address: &str) -> (String, Option<u64>) {
    let address = address.trim().trim_matches(['<', '>']).to_lowercase();
    let Some((local, domain)) = address.rsplit_once('@') else { return (address, None) };
    match local.split_once('+') {
        Some((base, tag)) => (format!("{base}@{domain}"), tag.strip_prefix('c').and_then(|n| n.parse().ok())),
        None => (address.clone(), None),
    }
}

/// The relay mail goes out through.
pub struct Email {
    pub settings: EmailSettings,
    transport: Option<lettre::SmtpTransport>,
    /// The address flows' `send email` send from.
    pub from: Option<String>,
}

impl std::fmt::Debug for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Email").field("listen", &self.settings.listen).finish_non_exhaustive()
    }
}

impl Email {
    pub fn new(settings: EmailSettings, from: Option<String>) -> Result<Email, String> {
        let transport = match &settings.relay {
            None => None,
            Some(relay) => {
                let builder = match relay.security.as_str() {
                    "tls" => lettre::SmtpTransport::relay(&relay.host),
                    "starttls" => lettre::SmtpTransport::starttls_relay(&relay.host),
                    _ => Ok(lettre::SmtpTransport::builder_dangerous(&relay.host)),
                }
                .map_err(|e| format!("[email] relay: {e}"))?;
                let mut builder = builder.port(relay.port).timeout(Some(Duration::from_secs(20)));
                if let (Some(user), Some(password)) = (&relay.username, &relay.password) {
                    builder = builder.credentials(lettre::transport::smtp::authentication::Credentials::new(
                        user.clone(),
                        password.expose().to_string(),
                    ));
                }
                Some(builder.build())
            }
        };
        Ok(Email { settings, transport, from })
    }

    /// Sends `out` through the relay, threaded onto `out.in_reply_to` when it answers a
    /// mail, with replies invited to `local+cN@domain` for contact N.
    pub fn send(&self, out: &Outgoing) -> SendOutcome {
        use lettre::message::{header::ContentType, Mailbox};
        let Some(transport) = &self.transport else {
            return SendOutcome::Refused("no relay is configured ([email] relay)".to_string());
        };
        let from: Mailbox = match out.from.parse() {
            Ok(m) => m,
            Err(e) => return SendOutcome::Refused(format!("the sender `{}` is not an address: {e}", out.from)),
        };
        let to: Mailbox = match out.to.parse() {
            Ok(m) => m,
            Err(e) => return SendOutcome::Refused(format!("`{}` is not an email address: {e}", out.to)),
        };
        let domain = from.email.domain().to_string();
        let subject = match &out.subject {
            Some(s) if s.to_lowercase().starts_with("re:") => s.clone(),
            Some(s) if !s.is_empty() => format!("Re: {s}"),
            _ => first_words(&out.text),
        };
        let mut builder = lettre::Message::builder()
            .from(from.clone())
            .to(to)
            .subject(subject)
            .message_id(Some(format!("<{}>", message_id(&out.key, &domain))))
            .header(ContentType::TEXT_PLAIN);
        if let Some(contact) = out.contact {
            let reply: Result<Mailbox, _> = format!("{}+c{contact}@{domain}", from.email.user())
                .parse()
                .map(|e| Mailbox::new(from.name.clone(), e));
            if let Ok(reply) = reply {
                builder = builder.reply_to(reply);
            }
        }
        if let Some(id) = &out.in_reply_to {
            builder = builder.in_reply_to(format!("<{id}>")).references(format!("<{id}>"));
        }
        let message = match builder.body(out.text.clone()) {
            Ok(m) => m,
            Err(e) => return SendOutcome::Refused(format!("the mail cannot be made: {e}")),
        };
        use lettre::Transport as _;
        match transport.send(&message) {
            Ok(_) => SendOutcome::Accepted(message_id(&out.key, &domain)),
            Err(e) if e.is_permanent() => SendOutcome::Refused(format!("the relay refused it: {e}")),
            Err(e) => SendOutcome::Transient(format!("the relay: {e}")),
        }
    }
}

/// A subject for a mail with none: its first words.
fn first_words(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    let mut out: String = line.chars().take(60).collect();
    if line.chars().count() > 60 {
        out.push('…');
    }
    out
}

/// What one SMTP session collects, shared between `mailin`'s handler and the loop.
#[derive(Default)]
struct Collected {
    rcpt: Vec<String>,
    data: Vec<u8>,
    too_big: bool,
    /// A message has ended (its `.` line came): the loop answers it.
    done: bool,
}

struct Handler {
    shared: Arc<Mutex<Collected>>,
    domains: Vec<String>,
    max_bytes: usize,
}

impl mailin::Handler for Handler {
    fn mail(&mut self, _ip: IpAddr, _domain: &str, _from: &str) -> mailin::Response {
        let mut c = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        *c = Collected::default();
        mailin::response::OK
    }

    fn rcpt(&mut self, to: &str) -> mailin::Response {
        let (address, _) = plus_address(to);
        let domain = address.rsplit_once('@').map(|(_, d)| d.to_string()).unwrap_or_default();
        if !self.domains.iter().any(|d| d.eq_ignore_ascii_case(&domain)) {
            return mailin::Response::custom(550, format!("5.1.1 <{address}>: not a domain served here"));
        }
        self.shared.lock().unwrap_or_else(|e| e.into_inner()).rcpt.push(to.to_string());
        mailin::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        let mut c = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        if c.data.len() + buf.len() > self.max_bytes {
            c.too_big = true;
        } else {
            c.data.extend_from_slice(buf);
        }
        Ok(())
    }

    fn data_end(&mut self) -> mailin::Response {
        self.shared.lock().unwrap_or_else(|e| e.into_inner()).done = true;
        mailin::response::OK
    }
}

/// Serves SMTP on `settings.listen` until the daemon stops.
pub async fn listen(
    email: Arc<Email>,
    core: CoreHandle,
    reader: Arc<Mutex<Reader>>,
    listener: tokio::net::TcpListener,
) {
    loop {
        let Ok((socket, peer)) = listener.accept().await else { continue };
        let (email, core, reader) = (email.clone(), core.clone(), reader.clone());
        tokio::spawn(async move {
            if let Err(e) = session(socket, peer.ip(), &email, &core, &reader).await {
                tracing::debug!(%peer, "an SMTP session ended: {e}");
            }
        });
    }
}

async fn session(
    socket: tokio::net::TcpStream,
    ip: IpAddr,
    email: &Email,
    core: &CoreHandle,
    reader: &Arc<Mutex<Reader>>,
) -> std::io::Result<()> {
    let shared = Arc::new(Mutex::new(Collected::default()));
    let handler = Handler {
        shared: shared.clone(),
        domains: email.settings.domains.clone(),
        max_bytes: email.settings.max_bytes,
    };
    let mut session = mailin::SessionBuilder::new(email.settings.hostname.clone()).build(ip, handler);
    let (read, mut write) = socket.into_split();
    let mut read = BufReader::new(read);
    write.write_all(&session.greeting().buffer()?).await?;
    let mut line = Vec::with_capacity(256);
    loop {
        line.clear();
        let n = tokio::time::timeout(IDLE, (&mut read).take(MAX_LINE as u64).read_until(b'\n', &mut line))
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "idle"))??;
        if n == 0 {
            return Ok(());
        }
        if !line.ends_with(b"\n") {
            write.write_all(b"500 5.5.2 line too long\r\n").await?;
            return Ok(());
        }
        let mut response = session.process(&line);
        let finished = std::mem::take(&mut shared.lock().unwrap_or_else(|e| e.into_inner()).done);
        if finished {
            let collected = std::mem::take(&mut *shared.lock().unwrap_or_else(|e| e.into_inner()));
            response = deliver(collected, email, core, reader).await;
        }
        match response.action {
            mailin::Action::NoReply => {}
            mailin::Action::Close => {
                write.write_all(&response.buffer()?).await?;
                return Ok(());
            }
            _ => write.write_all(&response.buffer()?).await?,
        }
    }
}

/// A mail received whole: journaled before it is acknowledged (250), so a crash after
/// the answer loses nothing; a mail no entry answers is refused (550), one the daemon
/// cannot take now deferred (451), and the sender's server tries again.
async fn deliver(c: Collected, email: &Email, core: &CoreHandle, reader: &Arc<Mutex<Reader>>) -> mailin::Response {
    if c.too_big {
        return mailin::Response::custom(552, format!("5.3.4 a message is at most {} bytes", email.settings.max_bytes));
    }
    let mail = match parse(&c.data) {
        Ok(m) => m,
        Err(why) => return mailin::Response::custom(550, format!("5.6.0 {why}")),
    };
    let Some((to, tag)) = c.rcpt.first().map(|r| plus_address(r)) else {
        return mailin::Response::custom(554, "5.5.1 no recipient".to_string());
    };
    match inbound(core, reader, mail, to, tag, "smtp").await {
        Ok(()) => mailin::response::OK,
        Err((404, why)) => mailin::Response::custom(550, format!("5.1.1 {why}")),
        Err((status, why)) if status >= 500 => mailin::Response::custom(451, format!("4.3.0 {why}")),
        Err((_, why)) => mailin::Response::custom(550, format!("5.7.1 {why}")),
    }
}

/// The open contact a mail answers, by the ids it refers to: a mail the daemon sent (its
/// id holds its key, so this holds even before the relay's acceptance is marked), or one
/// the customer sent before.
pub fn thread_of(reader: &Reader, mail: &Mail) -> Option<u64> {
    mail.refers_to.iter().find_map(|id| {
        let key = key_of_message_id(id).unwrap_or_else(|| format!("email:{id}"));
        reader.contact_of_key(&key).ok().flatten()
    })
}

/// The key a `Message-ID` made by [`message_id`] was made from.
pub fn key_of_message_id(id: &str) -> Option<String> {
    let (local, _) = id.rsplit_once('@')?;
    let escaped = local.strip_prefix("sb.")?.as_bytes();
    let mut key = Vec::with_capacity(escaped.len());
    let mut i = 0;
    while i < escaped.len() {
        if escaped[i] == b'=' {
            let hex = std::str::from_utf8(escaped.get(i + 1..i + 3)?).ok()?;
            key.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            key.push(escaped[i]);
            i += 1;
        }
    }
    String::from_utf8(key).ok()
}

/// Threads `mail` onto its contact (by the ids it refers to, then by the plus-address
/// token) and hands it to the core; `Err` has a status and why.
pub async fn inbound(
    core: &CoreHandle,
    reader: &Arc<Mutex<Reader>>,
    mail: Mail,
    to: String,
    tag: Option<u64>,
    via: &str,
) -> Result<(), (u16, String)> {
    let r = reader.clone();
    let m = mail.clone();
    let threaded = tokio::task::spawn_blocking(move || thread_of(&r.lock().unwrap_or_else(|e| e.into_inner()), &m))
        .await
        .ok()
        .flatten()
        .or(tag);
    hand_in(core, mail, to, threaded, via).await
}

/// Hands `mail` to the core, on contact `threaded` if it is open, else as a new contact.
pub async fn hand_in(
    core: &CoreHandle,
    mail: Mail,
    to: String,
    threaded: Option<u64>,
    via: &str,
) -> Result<(), (u16, String)> {
    if mail.text.len() > 64 * 1024 {
        return Err((413, "the text of a mail is at most 64 KiB".to_string()));
    }
    let text = switchboard_engine::cards::redact(&mail.text).into_owned();
    let subject = switchboard_engine::cards::redact(&mail.subject).into_owned();
    let mut attributes = vec![("adapter".into(), "email".into()), ("via".into(), via.into())];
    if let Some(name) = &mail.name {
        attributes.push(("name".into(), switchboard_engine::cards::redact(name).into_owned().into()));
    }
    let key = match &mail.message_id {
        Some(id) => format!("email:{id}"),
        // No Message-ID: a resend cannot be told from a new mail.
        None => format!("email:none-{}", crate::web::random_token()),
    };
    let arrival = Arrival {
        channel: Channel::Email,
        from: mail.from.as_str().into(),
        to: Some(to.as_str().into()),
        subject: subject.into(),
        text: text.into(),
        attributes,
    };
    let request = Request::Inbound {
        arrival,
        key,
        idle_ms: 0,
        adapter: "email",
        reply_to: mail.from.clone(),
        thread_to: threaded,
    };
    core.ask(request).await.map(|_| ()).map_err(|r| (r.status, r.message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_give_back_their_keys() {
        for key in ["s12-3", "pay-s1-2", "note:7/x y", "é"] {
            let id = message_id(key, "acme.example");
            assert!(id.ends_with("@acme.example") && !id.contains(' '), "{id}");
            assert_eq!(key_of_message_id(&id).as_deref(), Some(key), "{id}");
        }
        assert_eq!(key_of_message_id("m1.raj@example.org"), None);
        assert_eq!(key_of_message_id("sb.=Z1@x"), None);
        assert_eq!(plus_address("Support+c42@Acme.Example"), ("support@acme.example".to_string(), Some(42)));
        assert_eq!(without_quote("Thanks!\n\nOn Thu, Acme wrote:\n> old"), "Thanks!");
    }
}
