//! The stack under load: `calltrack serve` on DynamoDB Local, driven by
//! `calltrack simulate`, every stored call read back and checked against what
//! was sent (`--verify`), and the tenant's counters checked against a recount
//! of the stored calls (`stats --verify`).

mod common;

use common::{NUMBER, TOKEN, add_number, run_ok, serve, storage_args};

/// `LOAD_CALLS` calls (200 unless set; BENCHMARKS.md's figures are for 2000),
/// 32 at once, every scenario, each call's webhooks shuffled and sent twice.
#[test]
fn load_every_call_is_stored_as_sent() {
    let calls = std::env::var("LOAD_CALLS").unwrap_or_else(|_| "200".into());
    let storage = storage_args();
    add_number(&storage);
    let (_server, url) = serve(&storage);
    let args = ["simulate", "--base-url", &url, "--auth-token", TOKEN, "--to", NUMBER, "--scenario", "mixed", "--calls", &calls];
    let output = run_ok(&[&args[..], &["--concurrency", "32", "--shuffle", "--duplicates", "2", "--quiet", "--verify"]].concat(), &storage);
    println!("{output}");
    assert!(output.contains(&format!("verified {calls} calls: {calls} as sent, 0 lost, 0 wrong")), "{output}");
    // The counters, kept in each write's transaction, equal a recount of what was stored.
    let verified = run_ok(&["stats", "--tenant", "acme", "--verify"], &storage);
    println!("{verified}");
    assert!(verified.contains(&format!("stats match a recount of {calls} calls")), "{verified}");
}
