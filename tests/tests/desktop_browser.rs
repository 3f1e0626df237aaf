//! The agent desktop and the chat widget in real Chromium (Debian's, installed by the test
//! if missing), driven by Selenium from Python (`tests/python/desktop_browser.py`): a
//! customer chats in the widget while an agent, in another browser, accepts the offer,
//! sees the record and the customer's earlier contact, follows the script through a choice
//! //! and an ask, picks a suggested reply and edits it before sending it, and wraps up; the
//! customer answers the survey; a manager watches the wallboard and, as a reviewer, scores
//! the chat. Screenshots of the desktop, the widget, the wallboard, the review page and the
//! flow graph are kept in `target/tmp/screenshots/`.

mod serving;
mod support;
use serving::*;
use support::*;

/// The `reply` templates the served copy of `flows/` gets: Raj (platinum) waits in `vip`.
const REPLIES: &str = r#"reply vip_welcome for queue vip with customer: Customer "Hello {customer.name}, this is {agent.name} from Acme."
reply billing_hello for queue billing "Hello, this is Acme billing."
reply thanks "Thank you for your patience."

scorecard chat_quality {
  question greeted "Greeted the customer by name" weight 10
  question resolved "Resolved the issue on this contact" weight 30
}
"#;

#[test]
fn an_agent_in_chromium_takes_a_chat_from_the_widget_and_follows_the_script() {
    chromium();
    let project = copy_of("flows");
    // Replies for the composer: `flows/` stays the spec's acme, so they go in the copy.
    std::fs::write(project.path().join("replies.flow"), REPLIES).unwrap();
    let data = tempfile::tempdir().unwrap();
    let daemon = start(project.path(), data.path());
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).unwrap();
    let graph = shots.join("inbound.svg");
    let o = switchboard(&repo(), &["graph", "flows", "--flow", "inbound"]);
    assert_eq!(code(&o), 0, "{}", both(&o));
    std::fs::write(&graph, stdout(&o)).unwrap();
    let out = std::process::Command::new(python())
        .arg(repo().join("tests/python/desktop_browser.py"))
        .arg(&daemon.addr)
        .arg(&shots)
        .arg(&graph)
        .output()
        .expect("python runs");
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && said.contains("OK"), "the browser test says:\n{said}");
    for shot in ["desktop.png", "desktop-phone.png", "widget.png", "wallboard.png", "review.png", "graph.png"] {
        let bytes = std::fs::read(shots.join(shot)).unwrap_or_default();
        assert!(bytes.starts_with(b"\x89PNG"), "{shot} is a PNG screenshot");
    }
    eprintln!("screenshots in {}", shots.display());
}
