//! `calltrack numbers add --account`: the Twilio account (or subaccount) a
//! tracking number is bound to, stored with the number and listed back; on
//! DynamoDB Local.

mod common;

use common::{calltrack, run_ok, storage_args, text};

const ADD: [&str; 9] = ["numbers", "add", "+18005551212", "--tenant", "acme", "--user", "jane", "--forward-to", "+14155550123"];
const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";

fn listed(storage: &[String]) -> serde_json::Value {
    let numbers: serde_json::Value = serde_json::from_str(&run_ok(&["numbers", "list", "--json"], storage)).unwrap();
    numbers[0].clone()
}

#[test]
fn a_number_is_bound_to_its_account_only_when_given_one() {
    let storage = storage_args();
    run_ok(&["tables", "create"], &storage);
    let added = run_ok(&ADD, &storage);
    assert!(!added.contains("account"), "{added}");
    assert_eq!(listed(&storage).get("accountSid"), None, "bound to no account unless given");
    assert!(run_ok(&["numbers", "list"], &storage).lines().nth(1).unwrap().ends_with("(any)"));

    let added = run_ok(&[&ADD[..], &["--account", ACCOUNT]].concat(), &storage);
    assert_eq!(added.trim_end(), format!("added +18005551212 in account {ACCOUNT} for tenant acme (user jane), forwarded to +14155550123"));
    assert_eq!(listed(&storage)["accountSid"], ACCOUNT);
    let table = run_ok(&["numbers", "list"], &storage);
    assert!(table.lines().next().unwrap().ends_with("ACCOUNT"), "{table}");
    assert!(table.lines().nth(1).unwrap().ends_with(ACCOUNT), "{table}");

    // Replacing the number without one unbinds it.
    run_ok(&ADD, &storage);
    assert_eq!(listed(&storage).get("accountSid"), None);
}

#[test]
fn an_account_that_is_no_account_sid_is_an_error() {
    for bad in ["AC123", "CA0123456789abcdef0123456789abcdef", ""] {
        let output = calltrack(&[&ADD[..], &["--account", bad, "--endpoint-url", "http://127.0.0.1:9"]].concat());
        assert_eq!(output.status.code(), Some(1), "{bad:?}");
        assert_eq!(
            text(&output.stderr).trim_end(),
            format!("error: --account is not a valid SID (AC + 32 hex digits): {bad:?}"),
            "{bad:?}"
        );
    }
}

#[test]
fn the_flag_is_documented() {
    let help = text(&calltrack(&["numbers", "add", "--help"]).stdout);
    assert!(help.contains("--account <ACCOUNT>"), "{help}");
    assert!(help.contains("Without it the number is bound to no account"), "{help}");
}
