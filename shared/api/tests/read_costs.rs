//! What a page of `GET /api/calls` costs on DynamoDB Local: round trips and
//! read capacity as DynamoDB reports them, and the handler's latency
//! (BENCHMARKS.md, "The API's reads"). Asserts the round trips, prints the rest:
//!
//!   scripts/with-dynamodb-local cargo test -p calltrack-api --test read_costs -- --nocapture

use calltrack_api::{Api, ApiRequest};
use calltrack_core::fixtures::{Lifecycle, T0, number};
use calltrack_core::ports::RecordCalls;
use calltrack_dynamo::DynamoStore;
use calltrack_dynamo::testing::store;
use calltrack_service::Settings;
use std::collections::HashMap;
use std::time::{Duration, Instant};

const CALLS: u64 = 120;

fn request(query: &str) -> ApiRequest {
    let claims = HashMap::from([("custom:tenant_id".to_owned(), "acme".to_owned()), ("sub".to_owned(), "jane".to_owned())]);
    ApiRequest { method: "GET".into(), path: "/api/calls".into(), query: query.into(), body: Vec::new(), claims: Some(claims) }
}

#[tokio::test]
async fn a_page_is_two_round_trips() {
    let store = store().await;
    let owner = number("acme", "jane", None);
    for n in 0..CALLS {
        // Whole calls, as a CRM lists them: answered, forwarded, recorded.
        let call = Lifecycle::new(700 + n);
        let mut updates = call.forwarded(Some(&owner), 10, 40);
        let start = T0 + n as i64 * 60_000;
        (updates[0].call.started_at, updates[0].call.created_at, updates[0].call.updated_at) = (start, start, start);
        for update in &updates {
            store.record(update).await.unwrap();
        }
    }
    let api: Api<DynamoStore> = Api::new(store, Settings::default());

    let (mut pages, mut seen, mut query) = (0, 0, "limit=50".to_owned());
    loop {
        let before = api.store().reads();
        let answer = api.handle(&request(&query)).await;
        let after = api.store().reads();
        let body: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
        let calls = body["calls"].as_array().unwrap().len();
        let (requests, units) = (after.0 - before.0, after.1 - before.1);
        println!("page {pages}: {calls} calls, {requests} requests, {units} read capacity units");
        assert_eq!(requests, 2, "one index query and one batch read a page");
        pages += 1;
        seen += calls;
        match body["nextCursor"].as_str() {
            Some(cursor) => query = format!("limit=50&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!((pages, seen), (3, CALLS as usize));

    let mut latencies: Vec<Duration> = Vec::new();
    for _ in 0..200 {
        let started = Instant::now();
        let answer = api.handle(&request("limit=50")).await;
        latencies.push(started.elapsed());
        assert_eq!(answer.status, 200);
    }
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1000.0;
    println!("GET /api/calls?limit=50, 200 times: p50 {:.1} ms, p99 {:.1} ms", at(0.5), at(0.99));
}
