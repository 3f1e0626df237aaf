//! The daemon's two WebSocket protocols, spoken by a client Switchboard did not write:
//! Python's `websockets` (from PyPI, pinned in `tests/python/requirements.txt`) drives a
//! customer through the acme flows (`flows/`) to an agent, who follows the script and
//! wraps up, and the customer's survey runs (`tests/python/acme_chat.py`).

mod serving;
mod support;
use serving::*;
use support::*;

#[test]
fn a_python_websockets_client_chats_through_the_acme_flows_to_an_agent_and_the_survey() {
    let project = copy_of("flows");
    let data = tempfile::tempdir().unwrap();
    let daemon = start(project.path(), data.path());
    let out = std::process::Command::new(python())
        .arg(repo().join("tests/python/acme_chat.py"))
        .arg(&daemon.addr)
        .output()
        .expect("python runs");
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && said.contains("OK"), "the Python client says:\n{said}");
}
