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
use calltrack_core::ports::{ManageNumbers, ReadCalls};
use calltrack_dynamo::{DynamoStore, tables};
use calltrack_service::{App, Settings};
use calltrack_twilio::Keyring;
use calltrack_twilio::fields::{CallSid, Field};
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
        ("recording-completed", 204, 1),     // a redelivery: the same one write, refused by its condition
        ("status-parent-completed", 204, 1), // a redelivered parent status: its call has an owner, no read to know it
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

    // Twilio's redelivery of the parent's status, to the same status function and to another
    // (a new instance, which remembers nothing): the refused write shows the call's owner.
    for (app, case) in [(&status, "the same function"), (&function("status"), "a new instance")] {
        requests.0.store(0, Ordering::SeqCst);
        let answered = common::invoke(app, &read("status-parent-completed")).await;
        let sent = requests.0.load(Ordering::SeqCst);
        counted.push(format!("{:<9} {:<26} {sent} round trip(s), {case}", app.function(), "redelivered parent status"));
        assert_eq!((answered.status, sent), (204, 1), "{case}: {}", answered.body);
    }
    println!("{}", counted.join("\n"));
    assert_eq!(total, 13);
}

/// A parent status stored while its number was not known (the owner could not be claimed), then
/// redelivered once it is: the refused write shows a call without an owner, so the redelivery
/// reads whether it has one by now, then claims it as the first delivery would have.
#[tokio::test]
async fn a_redelivered_parent_status_claims_an_owner_the_first_delivery_could_not() {
    let (requests, function) = counted().await;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../events");
    let event = std::fs::read_to_string(format!("{dir}/status-parent-completed.json")).unwrap();
    let number = common::number("tenant-demo", "user-1", None);
    let call_sid = CallSid::parse("CallSid", "CA7c1e3f0a9b2d4c6e8f0a1b2c3d4e5f60").unwrap();
    let first = function("status");
    assert!(first.store().remove_tracking_number(&number.phone_number).await.unwrap());

    requests.0.store(0, Ordering::SeqCst);
    assert_eq!(common::invoke(&first, &event).await.status, 204);
    assert_eq!(requests.0.load(Ordering::SeqCst), 2, "the write, then the number read: not ours (yet)");
    assert_eq!(first.store().is_attributed(&call_sid).await.unwrap(), Some(false));

    first.store().put_tracking_number(&number).await.unwrap();
    // A new instance: the first one remembers, for a while, that the number is not ours.
    let again = function("status");
    requests.0.store(0, Ordering::SeqCst);
    assert_eq!(common::invoke(&again, &event).await.status, 204);
    assert_eq!(
        requests.0.load(Ordering::SeqCst),
        5,
        "the refused write, whether it has an owner, the number, the caller's earlier calls counted, the owner's write"
    );
    assert_eq!(again.store().is_attributed(&call_sid).await.unwrap(), Some(true));
}
