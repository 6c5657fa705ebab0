//! `calltrack numbers add --disclosure`: the recording disclosure a number's
//! callers hear before the call is forwarded, stored with the number and
//! listed back; on DynamoDB Local.

mod common;

use common::{calltrack, run_ok, storage_args, text};

const ADD: [&str; 9] = ["numbers", "add", "+18005551212", "--tenant", "acme", "--user", "jane", "--forward-to", "+14155550123"];

fn listed(storage: &[String]) -> serde_json::Value {
    let numbers: serde_json::Value = serde_json::from_str(&run_ok(&["numbers", "list", "--json"], storage)).unwrap();
    numbers[0].clone()
}

#[test]
fn a_disclosure_is_stored_with_its_number_and_absent_unless_given() {
    let storage = storage_args();
    run_ok(&["tables", "create"], &storage);
    run_ok(&ADD, &storage);
    assert_eq!(listed(&storage).get("disclosure"), None, "none unless given");

    run_ok(&[&ADD[..], &["--disclosure", "This call may be recorded."]].concat(), &storage);
    assert_eq!(listed(&storage)["disclosure"], "This call may be recorded.");

    // Replacing the number without one removes it.
    run_ok(&ADD, &storage);
    assert_eq!(listed(&storage).get("disclosure"), None);
}

#[test]
fn an_empty_disclosure_is_an_error() {
    let output = calltrack(&[&ADD[..], &["--disclosure", " ", "--endpoint-url", "http://127.0.0.1:9"]].concat());
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(text(&output.stderr).trim_end(), "error: --disclosure must not be empty");
}

#[test]
fn the_flag_is_documented() {
    let help = text(&calltrack(&["numbers", "add", "--help"]).stdout);
    assert!(help.contains("--disclosure <DISCLOSURE>"), "{help}");
    assert!(help.contains("said only when the call is recorded"), "{help}");
}
