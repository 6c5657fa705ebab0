//! schemathesis (PyPI) against `calltrack serve`, with the committed OpenAPI
//! description (`docs/openapi.json`): every operation, with data generated from
//! the description, valid and not, then stateful sequences; every check
//! (server errors, status codes and content types as described, responses
//! that match their schemas, valid data accepted and invalid data refused, an
//! `Allow` header on a 405). The test passes only when it finds nothing.
//!
//!   scripts/with-dynamodb-local scripts/with-moto scripts/with-prism cargo test -p calltrack --test schemathesis -- --nocapture

mod common;

use common::{NUMBER, TOKEN, add_number, queue_name, run_ok, serve_env, storage_args};
use std::process::Command;

#[test]
fn schemathesis_finds_nothing() {
    let storage = storage_args();
    add_number(&storage);
    // Calls are placed with Twilio's API as Prism mocks it (scripts/with-prism).
    let prism = std::env::var("TWILIO_API_BASE_URL").expect("run with `make test`, which starts the Prism mock");
    let twilio = [
        ("TWILIO_ACCOUNT_SID", "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        ("TWILIO_API_KEY", "SK0123456789abcdef0123456789abcdef"),
        ("TWILIO_API_SECRET", "not-a-secret"),
        ("TWILIO_API_BASE_URL", &prism),
    ];
    let (_server, url) = serve_env(&storage, &["--queue-name", &queue_name(), "--dev-tokens"], None, &twilio);
    let args = ["simulate", "--base-url", &url, "--auth-token", TOKEN, "--to", NUMBER, "--scenario", "mixed", "--calls", "5", "--quiet"];
    run_ok(&args, &storage);
    let token = run_ok(&["token", "--tenant", "acme", "--user", "jane", "--role", "admin"], &[]).trim().to_owned();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let output = Command::new(format!("{root}/scripts/python-tools"))
        .current_dir(root)
        .args([
            "schemathesis",
            "--config-file",
            "cli/tests/data/schemathesis.toml",
            "run",
            "docs/openapi.json",
            "--url",
            &url,
            "--checks",
            "all",
            "--max-examples",
            "30",
            "--seed",
            "20261124",
        ])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    println!("{report}");
    assert!(output.status.success() && report.contains("No issues found"), "{report}\n{}", String::from_utf8_lossy(&output.stderr));
}
