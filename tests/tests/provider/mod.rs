//! The stand-in for Twilio's REST API the channel tests send to: Prism (`prism proxy`,
//! from npm) checks each request against Twilio's published OpenAPI description in
//! `tests/fixtures/twilio/` and forwards the valid ones to `tests/python/twilio_standin.py`,
//! which counts them.

#![allow(dead_code)]

use crate::support::*;
use std::process::{Child, Command, Stdio};

pub const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
pub const TOKEN: &str = "twilio-test-auth-token-1234";
pub const PUBLIC: &str = "https://switchboard.example.test";

pub struct Killed(Vec<Child>);

impl Drop for Killed {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The stand-in provider behind Prism: (the helpers, Prism's address, the stand-in's).
pub fn provider() -> (Killed, String, String) {
    let spec = repo().join("tests/fixtures/twilio/twilio_api_v2010.json");
    let standin_port = free_port();
    let standin = Command::new(python())
        .arg(repo().join("tests/python/twilio_standin.py"))
        .arg(standin_port.to_string())
        .arg(&spec)
        .spawn()
        .expect("the stand-in starts");
    let prism_port = free_port();
    let prism = Command::new(prism())
        .args(["proxy", "--errors", "--host", "127.0.0.1", "--port", &prism_port.to_string()])
        .arg(&spec)
        .arg(format!("http://127.0.0.1:{standin_port}"))
        .stdout(Stdio::null())
        .spawn()
        .expect("prism starts");
    let helpers = Killed(vec![standin, prism]);
    let (prism_addr, standin_addr) = (format!("127.0.0.1:{prism_port}"), format!("127.0.0.1:{standin_port}"));
    assert!(wait_listening(&standin_addr, 20), "the stand-in listens");
    assert!(wait_listening(&prism_addr, 60), "prism listens");
    (helpers, prism_addr, standin_addr)
}
