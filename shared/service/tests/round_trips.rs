//! DynamoDB round trips per webhook, counted at the SDK as requests go out,
//! through the functions' own path (sample events, `apigw::handle_event`):
//! one conditional write per webhook when the function wrote the call last,
//! two when another function did; one more for a cold number cache, and one
//! more on the write that gives a call its owner, which counts the caller's
//! earlier calls (`firstTimeCaller`, `priorCalls`).

mod common;

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use calltrack_core::ports::ManageNumbers;
use calltrack_dynamo::{DynamoStore, tables};
use calltrack_service::{App, Settings};
use calltrack_twilio::Keyring;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Counts the requests a client sends, retries included.
#[derive(Debug, Clone, Default)]
struct Requests(Arc<AtomicUsize>);

impl Intercept for Requests {
    fn name(&self) -> &'static str {
        "Requests"
    }

    fn read_before_transmit(
        &self,
        _: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// Fresh tables, and a function on them (`function(name)`, each with a store of its own)
/// whose DynamoDB requests are counted.
async fn counted() -> (Requests, impl Fn(&'static str) -> App<DynamoStore>) {
    let requests = Requests::default();
    let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB").expect("run with `make test`");
    let client = aws_sdk_dynamodb::Client::from_conf(common::config(&endpoint).interceptor(requests.clone()).build());
    let tables = common::unique_tables();
    tables::create(&client, &tables).await.unwrap();
    let store = DynamoStore::new(client.clone(), tables.clone(), Duration::from_secs(86_400));
    store.put_tracking_number(&common::number("tenant-demo", "user-1", None)).await.unwrap();
    let function = move |name| {
        let store = DynamoStore::new(client.clone(), tables.clone(), Duration::from_secs(86_400));
        let config = Settings { public_base_url: Some("http://127.0.0.1:3000".into()), ..Settings::default() };
        App::new(store, Keyring::default().with_token("test-auth-token-not-a-secret"), config, name)
    };
    (requests, function)
}

#[tokio::test]
async fn one_round_trip_per_webhook_and_three_for_a_cold_answer() {
    let (requests, function) = counted().await;
    let app = function("test");

    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../events");
    let mut counted = Vec::new();
    for (event, status, round_trips) in [
        ("answer-known-number", 200, 3), // the number's configuration read, the caller's calls counted, the call written
        ("answer-crm-outbound", 200, 2), // another call to the same number: its configuration is cached
        ("status-child-ringing", 204, 1),
        ("status-child-completed", 204, 1),
        ("dial-result-answered", 200, 1),
        ("status-parent-completed", 204, 1),
        ("recording-completed", 204, 1),
        ("recording-completed", 204, 1), // a redelivery: the same one write, refused by its condition
    ] {
        requests.0.store(0, Ordering::SeqCst);
        let answer = common::invoke(&app, &std::fs::read_to_string(format!("{dir}/{event}.json")).unwrap()).await;
        let sent = requests.0.load(Ordering::SeqCst);
        counted.push(format!("{event:<26} {sent} round trip(s)"));
        assert_eq!((answer.status, sent), (status, round_trips), "{event}: {}", answer.body);
    }
    println!("{}", counted.join("\n"));
}

/// The same lifecycle as deployed: three functions, each its own store (and
/// memory of the versions it wrote). A callback that follows another
/// function's write finds the call at a version it does not know: its
/// conditional write fails, returns the call, and the merge is written again.
#[tokio::test]
async fn a_lifecycle_across_the_three_functions() {
    let (requests, function) = counted().await;
    let (answer, status, recording) = (function("answer"), function("status"), function("recording"));
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../events");
    let read = |event: &str| std::fs::read_to_string(format!("{dir}/{event}.json")).unwrap();
    // A warm answer function: an earlier call to the same number cached its configuration.
    common::invoke(&answer, &read("answer-crm-outbound")).await;

    let mut counted = Vec::new();
    let mut total = 0;
    for (app, event, round_trips) in [
        (&answer, "answer-known-number", 2),    // the caller's earlier calls counted, then the call written
        (&status, "status-child-initiated", 2), // the answer function wrote last
        (&status, "status-child-ringing", 1),
        (&status, "status-child-in-progress", 1),
        (&status, "status-child-completed", 1),
        (&answer, "dial-result-answered", 2), // the status function wrote last
        (&status, "status-parent-completed", 2),
        (&recording, "recording-completed", 2),
    ] {
        requests.0.store(0, Ordering::SeqCst);
        let answered = common::invoke(app, &read(event)).await;
        let sent = requests.0.load(Ordering::SeqCst);
        total += sent;
        counted.push(format!("{:<9} {event:<26} {sent} round trip(s)", app.function()));
        assert_eq!(sent, round_trips, "{event}: {}", answered.body);
    }
    counted.push(format!("{:<36} {total} round trips for 8 webhooks", "whole lifecycle"));
    println!("{}", counted.join("\n"));
    assert_eq!(total, 13);
}
