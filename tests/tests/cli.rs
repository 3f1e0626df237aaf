//! The CLI end to end: check, test, fmt, build, staff on the real binary.

mod support;
use support::*;

#[test]
fn acme_checks_clean() {
    let o = switchboard(&repo(), &["check", "--deny-warnings", "flows"]);
    assert!(o.status.success(), "{}", stdout(&o));
}
