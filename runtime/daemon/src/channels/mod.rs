//! Channel adapters beyond web chat: messages in from providers' webhooks, become inputs;
//! what flows and agents say goes out through the providers' APIs.
//!
//! Out is an outbox: a customer's message is a feed row (written with the step that made
//! it), and [`outbox`] sends every row that no provider has taken yet, keyed by the row's
//! key, in order per contact. A provider that took a message is marked in the store's
//! `sent` table; after a crash the rest go again with the same key, which the provider
//! takes as the same message (Twilio's idempotency token).

pub mod email;
pub mod social;
pub mod twilio;
pub mod voice;
pub mod web;

use crate::core::{CoreHandle, Delivery, Request};
use crate::store::{Reader, Unsent};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

/// One message to send.
#[derive(Clone, Debug, PartialEq)]
pub struct Outgoing {
    /// What makes a resend the same message.
    pub key: String,
    pub to: String,
    pub from: String,
    pub text: String,
    /// When the customer last wrote (WhatsApp's 24-hour window is counted from it).
    pub last_in_ms: Option<i64>,
    /// An email's subject, and the `Message-ID` it answers.
    pub subject: Option<String>,
    pub in_reply_to: Option<String>,
    /// The contact it is for (an email invites replies to it).
    pub contact: Option<u64>,
}

/// What a provider made of a message.
#[derive(Clone, Debug, PartialEq)]
pub enum SendOutcome {
    /// Taken, with the provider's id for it.
    Accepted(String),
    /// The recipient has opted out (Twilio's 21610).
    OptedOut(String),
    /// Refused for good (a bad number, say).
    Refused(String),
    /// Worth trying again (the network, a 5xx, a 429).
    Transient(String),
}

/// The providers configured.
#[derive(Clone, Debug, Default)]
pub struct Providers {
    pub twilio: Option<Arc<twilio::Twilio>>,
    pub whatsapp: Option<Arc<social::WhatsApp>>,
    pub telegram: Option<Arc<social::Telegram>>,
    pub messenger: Option<Arc<social::Messenger>>,
    pub email: Option<Arc<email::Email>>,
}

impl Providers {
    /// Sends `out` on `channel` (blocking: call it off the runtime's threads).
    pub fn send(&self, channel: &str, out: &Outgoing) -> SendOutcome {
        match (channel, &self.twilio, &self.whatsapp, &self.telegram) {
            ("sms", Some(t), _, _) => t.send_sms(out),
            ("whatsapp", _, Some(w), _) => w.send(out, out.last_in_ms, jiff::Timestamp::now().as_millisecond()),
            ("telegram", _, _, Some(t)) => t.send(out),
            ("messenger", ..) => match &self.messenger {
                Some(m) => m.send(out, out.last_in_ms, jiff::Timestamp::now().as_millisecond()),
                None => SendOutcome::Refused("no messenger adapter is configured".to_string()),
            },
            // A public comment is answered in public, under it.
            (network @ ("facebook" | "instagram"), ..) => match &self.messenger {
                Some(m) => m.reply_publicly(network, out),
                None => SendOutcome::Refused(format!("no {network} adapter is configured ([messenger])")),
            },
            ("email", ..) => match &self.email {
                Some(e) => e.send(out),
                None => SendOutcome::Refused("no email adapter is configured".to_string()),
            },
            (channel, ..) => SendOutcome::Refused(format!("no {channel} adapter is configured")),
        }
    }

    /// Sends with retries for what may pass (after 0.5, 1, 2, 4 and 8 seconds).
    pub async fn send_retrying(self: &Arc<Self>, channel: String, out: Outgoing) -> SendOutcome {
        let mut wait = Duration::from_millis(500);
        let mut tries = 0;
        loop {
            let (me, c, o) = (self.clone(), channel.clone(), out.clone());
            let outcome = tokio::task::spawn_blocking(move || me.send(&c, &o))
                .await
                .unwrap_or_else(|e| SendOutcome::Transient(format!("the send stopped: {e}")));
            tries += 1;
            match outcome {
                SendOutcome::Transient(why) if tries < 6 => {
                    tracing::warn!(key = %out.key, %why, "a send failed; trying again");
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                }
                other => return other,
            }
        }
    }
}

/// How many messages are in flight at once (one per contact at most).
const IN_FLIGHT: usize = 32;

/// Sends the customers' messages on messaging channels, forever: every row no provider has
/// taken, oldest first, one at a time per contact so that a conversation keeps its order.
/// Woken by each new feed row, and every second for retries.
pub async fn outbox(core: CoreHandle, reader: Reader, providers: Arc<Providers>) {
    let mut feed = core.feed.subscribe();
    let reader = Arc::new(std::sync::Mutex::new(reader));
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<(u64, String)>();
    // Keys being sent or marked, and the contacts they belong to.
    let mut in_flight: HashSet<String> = HashSet::new();
    let mut busy: HashSet<u64> = HashSet::new();
    // Every row at or below `floor` has been taken.
    let mut floor = 0i64;
    loop {
        let r = reader.clone();
        let after = floor;
        // The end first: a row written after it is read is found by the next pass.
        let read = tokio::task::spawn_blocking(move || {
            let r = r.lock().unwrap_or_else(|e| e.into_inner());
            r.feed_end().and_then(|end| Ok((end, r.unsent(after, 512)?)))
        })
        .await;
        let (end, rows) = match read {
            Ok(Ok(read)) => read,
            Ok(Err(e)) => {
                tracing::warn!("the outbox cannot be read: {e}");
                (floor, Vec::new())
            }
            Err(_) => (floor, Vec::new()),
        };
        match rows.first() {
            Some(first) => floor = floor.max(first.id - 1),
            // Nothing waits below the end, and nothing is in flight: start there next time.
            None if in_flight.is_empty() => floor = floor.max(end),
            None => {}
        }
        let mut seen: HashSet<u64> = HashSet::new();
        for row in rows {
            // The first waiting row of each contact, if none of its rows is in flight.
            if !seen.insert(row.contact) || busy.contains(&row.contact) || in_flight.contains(&row.key) {
                continue;
            }
            if busy.len() >= IN_FLIGHT {
                break;
            }
            busy.insert(row.contact);
            in_flight.insert(row.key.clone());
            let (core, providers, done) = (core.clone(), providers.clone(), done_tx.clone());
            tokio::spawn(async move {
                let (contact, key) = (row.contact, row.key.clone());
                send_row(&core, &providers, row).await;
                let _ = done.send((contact, key));
            });
        }
        tokio::select! {
            Some((contact, key)) = done_rx.recv() => {
                busy.remove(&contact);
                in_flight.remove(&key);
            }
            pushed = feed.recv() => {
                if let Err(tokio::sync::broadcast::error::RecvError::Closed) = pushed {
                    return;
                }
            }
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
        while let Ok((contact, key)) = done_rx.try_recv() {
            busy.remove(&contact);
            in_flight.remove(&key);
        }
    }
}

/// Sends one row and tells the core how it went (a provider's refusal is final and kept;
/// a message that cannot go now stays in the outbox for the next pass).
async fn send_row(core: &CoreHandle, providers: &Arc<Providers>, row: Unsent) {
    let out = Outgoing {
        key: row.key.clone(),
        to: row.address.clone(),
        from: row.via.clone(),
        text: row.text,
        last_in_ms: row.last_in_ms,
        subject: Some(row.subject).filter(|s| !s.is_empty()),
        // The customer's message it answers, by the provider's id: an email's
        // `Message-ID`, the comment a public reply goes under.
        in_reply_to: row.reply_to_key.and_then(|k| k.strip_prefix(&format!("{}:", row.channel)).map(str::to_string)),
        contact: Some(row.contact),
    };
    let thread = crate::core::thread_key(&row.channel, &row.address);
    let outcome = providers.send_retrying(row.channel.clone(), out).await;
    let request = match outcome {
        SendOutcome::Accepted(provider_id) => Request::Sent { key: row.key, provider_id },
        SendOutcome::OptedOut(why) => {
            Request::Delivery(Delivery { key: row.key, thread, status: "opted_out".to_string(), error: Some(why) })
        }
        SendOutcome::Refused(why) => {
            tracing::warn!(contact = row.contact, %why, "a message was refused");
            Request::Delivery(Delivery { key: row.key, thread, status: "failed".to_string(), error: Some(why) })
        }
        SendOutcome::Transient(why) => {
            tracing::warn!(contact = row.contact, %why, "a message could not be sent; it stays in the outbox");
            tokio::time::sleep(Duration::from_secs(5)).await;
            return;
        }
    };
    if let Err(e) = core.ask(request).await {
        tracing::warn!("a sent message could not be marked: {}", e.message);
    }
}
