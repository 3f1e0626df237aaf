//! A call through the acme voice flow as Twilio drives it (`tests/python/twilio_voice.py`,
//! with the `twilio` library from PyPI signing the webhooks and building the TwiML the
//! answers must equal): the menu with a wrong key, the billing queue's announcements
//! through `Enqueue`'s waitUrl, the callback it offers, kept, and the status callback;
//! then a caller connected to an agent by `Dial`, whose script takes a payment through
//! `Pay` (the call moved there by the REST API, checked by Prism against Twilio's
//! OpenAPI description).

mod provider;
mod serving;
mod support;
use provider::*;
use serving::*;
use std::process::Command;
use support::*;

#[test]
fn a_call_walks_the_menu_the_queue_and_keeps_a_callback() {
    let (_helpers, prism, standin) = provider();
    let project = copy_of("flows");
    // Open at any hour, and a queue that announces and offers its callback in seconds, so
    // the walk does not depend on the clock (the acme in `flows/` is kept as it is).
    let common = project.path().join("common.flow");
    edit(&common, "  mon..fri 08:00-18:00\n  sat 09:00-13:00\n", "  mon..sun 00:00-23:59\n");
    edit(&common, "every 45s say", "every 5s say");
    edit(&common, "after 2m offer callback keep place", "after 7s offer callback keep place");
    let config = project.path().join("switchboard.toml");
    let mut toml = std::fs::read_to_string(&config).unwrap();
    toml.push_str(&format!(
        "\n[twilio]\naccount_sid = \"{ACCOUNT}\"\nauth_token = \"{TOKEN}\"\npublic_url = \"{PUBLIC}\"\napi_base = \"http://{prism}\"\n"
    ));
    std::fs::write(&config, toml).unwrap();
    let data = tempfile::tempdir().unwrap();
    let daemon = start(project.path(), data.path());
    let out = Command::new(python())
        .arg(repo().join("tests/python/twilio_voice.py"))
        .args([daemon.addr.as_str(), PUBLIC, ACCOUNT, TOKEN, standin.as_str()])
        .output()
        .expect("python runs");
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && said.contains("OK"), "the voice test says:\n{said}");
}
