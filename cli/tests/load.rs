//! The stack under load: `calltrack serve` on DynamoDB Local, driven by
//! `calltrack simulate`, every stored call read back and checked against what
//! was sent (`--verify`), and the tenant's counters checked against a recount
//! of the stored calls (`stats --verify`). Webhooks are on: an endpoint of the
//! tenant's, which checks every signature, hears each call's `call.completed`.

mod common;

use calltrack_webhooks::Secret;
use calltrack_webhooks::testing::Endpoint;
use common::{NUMBER, TOKEN, add_number, run_ok, serve_with, storage_args};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// `LOAD_CALLS` calls (200 unless set; BENCHMARKS.md's figures are for 2000),
/// 32 at once, every scenario, each call's webhooks shuffled and sent twice.
#[test]
fn load_every_call_is_stored_as_sent() {
    let calls = std::env::var("LOAD_CALLS").unwrap_or_else(|_| "200".into());
    let storage = storage_args();
    add_number(&storage);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let secret = Secret::generate();
    let endpoint = runtime.block_on(Endpoint::start(secret.clone(), |_| 204));
    let (_server, url) = serve_with(&storage, &["--queue-name", &common::queue_name(), "--dev-tokens"]);
    let admin = run_ok(&["token", "--tenant", "acme", "--user", "ops", "--role", "admin"], &[]).trim().to_owned();
    let endpoints =
        serde_json::json!({ "endpoints": [{ "url": endpoint.url(), "events": ["call.completed"], "secret": secret.to_string() }] });
    let put = runtime
        .block_on(
            reqwest::Client::new()
                .put(format!("{url}/api/webhooks"))
                .bearer_auth(&admin)
                .header("content-type", "application/json")
                .body(endpoints.to_string())
                .send(),
        )
        .unwrap();
    assert_eq!(put.status(), 200);

    let args = ["simulate", "--base-url", &url, "--auth-token", TOKEN, "--to", NUMBER, "--scenario", "mixed", "--calls", &calls];
    // Under this load DynamoDB Local (whose calls table now also writes its stream) passes
    // the status route's storage deadline now and then: those callbacks are queued and
    // applied a second or more later, so the reading waits for them (up to a minute).
    let load = ["--concurrency", "32", "--shuffle", "--duplicates", "2", "--quiet", "--verify", "--settle-seconds", "60"];
    let output = run_ok(&[&args[..], &load[..]].concat(), &storage);
    println!("{output}");
    assert!(output.contains(&format!("verified {calls} calls: {calls} as sent, 0 lost, 0 wrong")), "{output}");
    // The counters, kept in each write's transaction, equal a recount of what was stored.
    let verified = run_ok(&["stats", "--tenant", "acme", "--verify"], &storage);
    println!("{verified}");
    assert!(verified.contains(&format!("stats match a recount of {calls} calls")), "{verified}");

    // Each call ends once: one `call.completed` each, taken once by a receiver that deduplicates by id.
    let calls: usize = calls.parse().unwrap();
    let started = Instant::now();
    let taken = loop {
        let heard = endpoint.heard();
        assert!(heard.iter().all(|h| h.verified && h.event_type == "call.completed"), "signed, and only what it asked for");
        let mut taken: HashMap<String, usize> = HashMap::new();
        for h in heard.iter().filter(|h| !h.duplicate) {
            *taken.entry(h.call_sid.clone()).or_default() += 1;
        }
        if taken.len() >= calls || started.elapsed() > Duration::from_secs(120) {
            break taken;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    println!("webhooks: {} calls' call.completed taken in {:.1} s after the load", taken.len(), started.elapsed().as_secs_f64());
    assert_eq!(taken.len(), calls, "every call's call.completed delivered");
    assert!(taken.values().all(|&n| n == 1), "none taken twice");
}
