//! The README's verifiers for receivers (docs/webhooks/verify.mjs and
//! verify.py) accept what `sign` produces and refuse what they must: so the
//! snippets a CRM developer copies are known to work against our signatures.

use calltrack_webhooks::{Secret, Signed, sign};
use serde_json::json;
use std::io::Write;
use std::process::{Command, Stdio};

const DOCS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/webhooks/");
const BODY: &str = r#"{"type":"call.qualified","timestamp":"2026-11-21T10:00:00Z","data":{"callSid":"CAa1","version":2,"caller":"Zoë"}}"#;

/// What one verifier prints for one case, and whether it exited 0.
fn run(program: &str, script: &str, secret: &Secret, headers: serde_json::Value, body: &str) -> (bool, String) {
    let mut child = Command::new(program)
        .arg(format!("{DOCS}{script}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program} runs (CI has it): {e}"));
    let case = json!({ "secret": secret.as_str(), "headers": headers, "body": body });
    child.stdin.take().unwrap().write_all(case.to_string().as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    let printed = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    assert!(printed == "valid" || printed.starts_with("invalid: "), "{script}: {printed} {}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(output.status.success(), printed == "valid", "{script}: the exit status agrees with what it printed");
    (output.status.success(), printed)
}

fn headers(signed: &Signed) -> serde_json::Value {
    json!({ "webhook-id": signed.id, "webhook-timestamp": signed.timestamp.to_string(), "webhook-signature": signed.signature })
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

#[test]
fn node_and_python_verify_what_we_sign_and_refuse_the_rest() {
    let secret = Secret::generate();
    let now = now();
    let good = sign(&secret, "msg_2Kw", now, BODY.as_bytes()).unwrap();
    let old = sign(&secret, "msg_2Kw", now - 600, BODY.as_bytes()).unwrap();
    let other = sign(&Secret::generate(), "msg_2Kw", now, BODY.as_bytes()).unwrap();
    let rotated = json!({
        "webhook-id": "msg_2Kw",
        "webhook-timestamp": now.to_string(),
        "webhook-signature": format!("{} v1a,c29tZXRoaW5n {}", other.signature, good.signature),
    });
    let tampered = BODY.replace("\"version\":2", "\"version\":3");
    let cases = [
        ("signed by us", headers(&good), BODY, Ok(())),
        ("one of several signatures", rotated, BODY, Ok(())),
        ("a changed body", headers(&good), tampered.as_str(), Err("signature does not match")),
        ("another secret", headers(&other), BODY, Err("signature does not match")),
        ("ten minutes old", headers(&old), BODY, Err("timestamp too old or too new")),
        ("no signature", json!({ "webhook-id": "msg_2Kw", "webhook-timestamp": now.to_string() }), BODY, Err("missing webhook headers")),
    ];
    for (program, script) in [("node", "verify.mjs"), ("python3", "verify.py")] {
        for (name, headers, body, expected) in &cases {
            let (valid, printed) = run(program, script, &secret, headers.clone(), body);
            match expected {
                Ok(()) => assert!(valid, "{script}, {name}: {printed}"),
                Err(reason) => assert_eq!(printed, format!("invalid: {reason}"), "{script}, {name}"),
            }
        }
    }
}

#[test]
fn a_timestamp_that_is_not_a_number_is_refused() {
    let secret = Secret::generate();
    let good = sign(&secret, "msg_n", now(), b"{}").unwrap();
    let headers = json!({ "webhook-id": "msg_n", "webhook-timestamp": "soon", "webhook-signature": good.signature });
    for (program, script) in [("node", "verify.mjs"), ("python3", "verify.py")] {
        let (valid, printed) = run(program, script, &secret, headers.clone(), "{}");
        assert!(!valid, "{script}: {printed}");
    }
}
