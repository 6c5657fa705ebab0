//! What a page of `GET /api/calls` and `GET /api/stats` cost on DynamoDB Local: round trips and
//! read capacity as DynamoDB reports them, and the handler's latency
//! (BENCHMARKS.md, "The API's reads"). Asserts the round trips, prints the rest:
//!
//!   scripts/with-dynamodb-local cargo test -p calltrack-api --test read_costs -- --nocapture

use calltrack_api::{Api, ApiRequest};
use calltrack_core::call_index::LISTING_SHARDS;
use calltrack_core::fixtures::{Lifecycle, T0, number};
use calltrack_core::ports::RecordCalls;
use calltrack_dynamo::DynamoStore;
use calltrack_dynamo::testing::store;
use calltrack_service::Settings;
use std::collections::HashMap;
use std::time::{Duration, Instant};

const CALLS: u64 = 120;

fn request(query: &str) -> ApiRequest {
    get("/api/calls", query)
}

fn get(path: &str, query: &str) -> ApiRequest {
    let claims = HashMap::from([("custom:tenant_id".to_owned(), "acme".to_owned()), ("sub".to_owned(), "jane".to_owned())]);
    ApiRequest { method: "GET".into(), path: path.into(), query: query.into(), claims: Some(claims), ..ApiRequest::default() }
}

/// The 50th and 99th percentiles of `times` answers to `request`, in ms.
async fn percentiles(api: &Api<DynamoStore>, request: &ApiRequest, times: usize) -> (f64, f64) {
    let mut latencies: Vec<Duration> = Vec::new();
    for _ in 0..times {
        let started = Instant::now();
        let answer = api.handle(request).await;
        latencies.push(started.elapsed());
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1000.0;
    (at(0.5), at(0.99))
}

/// `CALLS` whole calls of tenant `acme`, a minute apart.
async fn api() -> Api<DynamoStore> {
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
    Api::new(store, Settings::default())
}

#[tokio::test]
async fn a_page_is_two_round_trips() {
    let api = api().await;
    let (mut pages, mut seen, mut query) = (0, 0, "limit=50".to_owned());
    loop {
        let before = api.store().reads();
        let answer = api.handle(&request(&query)).await;
        let after = api.store().reads();
        let body: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
        let calls = body["calls"].as_array().unwrap().len();
        let (requests, units) = (after.0 - before.0, after.1 - before.1);
        println!("page {pages}: {calls} calls, {requests} requests, {units} read capacity units");
        assert_eq!(
            requests,
            LISTING_SHARDS as u64 + 1,
            "two round trips: a query of each shard of all calls, at once, then one batch read"
        );
        pages += 1;
        seen += calls;
        match body["nextCursor"].as_str() {
            Some(cursor) => query = format!("limit=50&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!((pages, seen), (3, CALLS as usize));

    let (p50, p99) = percentiles(&api, &request("limit=50"), 200).await;
    println!("GET /api/calls?limit=50, 200 times: p50 {p50:.1} ms, p99 {p99:.1} ms");

    // A filter is one listing of the calls' index, sharded or not: the same two round trips.
    for (filter, queries) in [("leadSource=Google+Ads", LISTING_SHARDS as u64), ("trackingNumber=%2B18005551212", 1)] {
        let query = format!("{filter}&limit=50");
        let before = api.store().reads();
        let answer = api.handle(&request(&query)).await;
        let after = api.store().reads();
        let body: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
        let (requests, units) = (after.0 - before.0, after.1 - before.1);
        let calls = body["calls"].as_array().unwrap().len();
        println!("GET /api/calls?{query}: {calls} calls, {requests} requests, {units} read capacity units");
        assert_eq!((calls, requests), (50, queries + 1), "the listing's queries at once, then one batch read");
        let (p50, p99) = percentiles(&api, &request(&query), 200).await;
        println!("GET /api/calls?{query}, 200 times: p50 {p50:.1} ms, p99 {p99:.1} ms");
    }
}

#[tokio::test]
async fn the_stats_are_one_query_a_shard() {
    let api = api().await;
    for group_by in ["day", "leadSource"] {
        let query = format!("since=2030-01-01&until=2030-01-31&groupBy={group_by}");
        let before = api.store().reads();
        let answer = api.handle(&get("/api/stats", &query)).await;
        let after = api.store().reads();
        let body: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
        assert_eq!(body["total"]["calls"].as_i64(), Some(CALLS as i64), "{body}");
        let (requests, units) = (after.0 - before.0, after.1 - before.1);
        println!("GET /api/stats?groupBy={group_by}: {requests} requests, {units} read capacity units");
        assert_eq!(requests, 16, "one query of each counter shard, at once");
        let (p50, p99) = percentiles(&api, &get("/api/stats", &query), 200).await;
        println!("GET /api/stats?groupBy={group_by}, 200 times: p50 {p50:.1} ms, p99 {p99:.1} ms");
    }
}
