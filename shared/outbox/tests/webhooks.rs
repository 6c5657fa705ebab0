//! Webhooks out, on the real parts: the calls table's stream (DynamoDB
//! Local's), the webhook queue and its dead-letter queue (moto's SQS), and
//! endpoints on local ports that check every signature as a receiver should.
//! A whole call's events each heard once, in an order its versions explain;
//! an endpoint down for a while, then up; one that never answers 2xx, which
//! holds up no other; and each attempt logged for the API to show.

use calltrack_core::endpoints::WebhookEndpoint;
use calltrack_core::fixtures::*;
use calltrack_core::ports::{KeepWebhookEndpoints, LogDeliveries, RecordCalls};
use calltrack_core::view::TenantId;
use calltrack_dynamo::DynamoStore;
use calltrack_outbox::deliver::deliver_batch;
use calltrack_outbox::dispatch::Dispatcher;
use calltrack_service::Settings;
use calltrack_sqs::SqsQueue;
use calltrack_twilio::fields::Field;
use calltrack_webhooks::testing::{Endpoint, Heard};
use calltrack_webhooks::{Secret, Sender};
use std::time::{Duration, Instant};
use support::{dispatch_all, store_and_stream};

mod support;

fn acme() -> TenantId {
    TenantId::parse("tenantId", "acme").unwrap()
}

fn settings(backoff: &[u64]) -> Settings {
    Settings { webhook_backoff: backoff.iter().copied().map(Duration::from_secs).collect(), ..Settings::default() }
}

/// An endpoint of acme's at `endpoint`, hearing `events` (all when empty).
fn registered(id: &str, endpoint: &Endpoint, secret: &Secret, events: &[&str]) -> WebhookEndpoint {
    WebhookEndpoint {
        id: id.into(),
        url: endpoint.url().into(),
        secret: secret.to_string(),
        events: events.iter().map(|e| calltrack_core::outbox::EventType::parse(e).unwrap()).collect(),
        created_at: T0,
    }
}

/// A forwarded call of 45 s, recorded, in Twilio's order: its writes.
async fn record_call(store: &DynamoStore, n: u64) -> usize {
    let updates = Lifecycle::new(n).forwarded(Some(&number("acme", "jane", None)), 20, 45);
    for update in &updates {
        store.record(update).await.unwrap();
    }
    updates.len()
}

/// Delivers from `queue` as the deliver function would, until nothing has
/// come for `quiet`.
async fn deliver_until_quiet(store: &DynamoStore, settings: &Settings, queue: &SqsQueue, quiet: Duration) {
    let sender = Sender::new().unwrap().with_timeout(Duration::from_secs(2));
    let (deadline, mut idle_since) = (Instant::now() + Duration::from_secs(60), Instant::now());
    while idle_since.elapsed() < quiet {
        assert!(Instant::now() < deadline, "deliveries went on for a minute");
        let messages = queue.receive(Duration::from_secs(1)).await.unwrap();
        if messages.is_empty() {
            continue;
        }
        idle_since = Instant::now();
        let failed = deliver_batch(store, &sender, settings, queue, &messages).await;
        for message in messages.iter().filter(|m| !failed.contains(&m.message_id)) {
            queue.delete(&message.receipt_handle).await.unwrap();
        }
    }
}

fn types(heard: &[Heard]) -> Vec<&str> {
    heard.iter().map(|h| h.event_type.as_str()).collect()
}

#[tokio::test]
async fn every_event_of_a_call_is_heard_once_signed_and_in_an_order_its_versions_explain() {
    let secret = Secret::generate();
    let all = Endpoint::start(secret.clone(), |_| 204).await;
    let completed_only = Endpoint::start(secret.clone(), |_| 200).await;
    let (queue, dead) = calltrack_sqs::testing::queues(4).await;
    let (store, mut reader) = store_and_stream().await;
    let endpoints = [registered("ep_all", &all, &secret, &[]), registered("ep_done", &completed_only, &secret, &["call.completed"])];
    store.set_webhook_endpoints(&acme(), &endpoints).await.unwrap();

    let writes = record_call(&store, 1).await;
    let dispatcher = Dispatcher { copies: None, webhooks: Some(queue.clone()) };
    let dispatched = dispatch_all(&store, &mut reader, &dispatcher, writes).await;
    assert_eq!(dispatched.deliveries, 5, "4 events to one endpoint, 1 to the other");
    deliver_until_quiet(&store, &settings(&[1, 1, 1]), &queue, Duration::from_secs(3)).await;

    let mut heard = all.heard();
    assert!(heard.iter().all(|h| h.verified && !h.duplicate && h.status == 204), "{heard:?}");
    // Delivered in any order; a receiver orders them by version (events of one change share it).
    heard.sort_by_key(|h| (h.version, h.event_type.clone()));
    assert_eq!(types(&heard), ["call.started", "call.completed", "call.qualified", "call.recording"]);
    let call_sid = sid("CA", 1);
    assert!(heard.iter().all(|h| h.call_sid == call_sid));
    let last = &heard[3].body["data"];
    assert_eq!((last["qualified"].as_bool(), last["talkSeconds"].as_u64()), (Some(true), Some(45)), "the call as it then was");
    assert_eq!(last["recording"]["sid"], sid("RE", 1));
    assert_eq!(types(&completed_only.heard()), ["call.completed"]);

    let logged = store.deliveries(&acme(), 50).await.unwrap();
    assert_eq!(logged.len(), 5);
    assert!(logged.iter().all(|a| a.delivered && a.attempt == 1 && a.retry_at.is_none() && a.status.is_some_and(|s| s < 300)));
    assert!(logged.windows(2).all(|w| w[0].at >= w[1].at), "newest first");
    assert!(dead.receive(Duration::from_secs(1)).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_endpoint_down_for_a_while_gets_everything_once_it_is_back() {
    let secret = Secret::generate();
    // Down for its first 6 deliveries (503), then up.
    let flaky = Endpoint::start(secret.clone(), |n| if n < 6 { 503 } else { 204 }).await;
    let (queue, dead) = calltrack_sqs::testing::queues(4).await;
    let (store, mut reader) = store_and_stream().await;
    store.set_webhook_endpoints(&acme(), &[registered("ep_flaky", &flaky, &secret, &[])]).await.unwrap();
    let writes = record_call(&store, 3).await;
    dispatch_all(&store, &mut reader, &Dispatcher { copies: None, webhooks: Some(queue.clone()) }, writes).await;

    let started = Instant::now();
    deliver_until_quiet(&store, &settings(&[1, 2, 4]), &queue, Duration::from_secs(6)).await;
    let heard = flaky.heard();
    let taken: Vec<&Heard> = heard.iter().filter(|h| h.status == 204 && !h.duplicate).collect();
    assert_eq!(taken.len(), 4, "every event, once: {heard:?}");
    assert_eq!(heard.iter().filter(|h| h.status == 503).count(), 6);
    assert!(heard.iter().all(|h| h.verified), "each attempt signed afresh");
    assert!(started.elapsed() >= Duration::from_secs(1), "retried after a backoff");

    let logged = store.deliveries(&acme(), 50).await.unwrap();
    let failed: Vec<_> = logged.iter().filter(|a| !a.delivered).collect();
    assert_eq!(failed.len(), 6);
    assert!(failed.iter().all(|a| a.status == Some(503) && a.retry_at.is_some_and(|at| at > a.at)), "{failed:?}");
    assert!(logged.iter().any(|a| a.delivered && a.attempt > 1), "delivered on a later attempt");
    assert!(dead.receive(Duration::from_secs(1)).await.unwrap().is_empty(), "nothing given up");
}

#[tokio::test]
async fn an_endpoint_that_always_fails_ends_in_the_dead_letter_queue_and_holds_up_no_other() {
    let secret = Secret::generate();
    let broken = Endpoint::start(secret.clone(), |_| 500).await;
    let healthy = Endpoint::start(secret.clone(), |_| 204).await;
    // Three attempts: two waits of 1 s, then the dead-letter queue.
    let (queue, dead) = calltrack_sqs::testing::queues(3).await;
    let (store, mut reader) = store_and_stream().await;
    let endpoints = [registered("ep_broken", &broken, &secret, &["call.completed"]), registered("ep_ok", &healthy, &secret, &[])];
    store.set_webhook_endpoints(&acme(), &endpoints).await.unwrap();
    let writes = record_call(&store, 4).await;
    dispatch_all(&store, &mut reader, &Dispatcher { copies: None, webhooks: Some(queue.clone()) }, writes).await;

    deliver_until_quiet(&store, &settings(&[1, 1]), &queue, Duration::from_secs(4)).await;
    assert_eq!(types(&healthy.heard()).len(), 4, "the healthy endpoint heard every event");
    assert!(healthy.heard().iter().all(|h| h.status == 204 && !h.duplicate));
    assert_eq!(broken.heard().len(), 3, "three attempts");

    let given_up = dead.receive(Duration::from_secs(2)).await.unwrap();
    assert_eq!(given_up.len(), 1, "the broken endpoint's one delivery: {given_up:?}");
    let delivery: serde_json::Value = serde_json::from_str(&given_up[0].body).unwrap();
    assert_eq!((delivery["endpointId"].as_str(), delivery["eventType"].as_str()), (Some("ep_broken"), Some("call.completed")));
    let logged = store.deliveries(&acme(), 50).await.unwrap();
    let last = logged.iter().find(|a| a.endpoint_id == "ep_broken" && a.attempt == 3).expect("the last attempt logged");
    assert_eq!((last.status, last.retry_at, last.delivered), (Some(500), None, false), "given up: no next attempt");
}

#[tokio::test]
async fn a_change_dispatched_twice_is_heard_once_by_a_receiver_that_deduplicates() {
    let secret = Secret::generate();
    let endpoint = Endpoint::start(secret.clone(), |_| 204).await;
    let (queue, _dead) = calltrack_sqs::testing::queues(4).await;
    let (store, _) = store_and_stream().await;
    store.set_webhook_endpoints(&acme(), &[registered("ep", &endpoint, &secret, &[])]).await.unwrap();
    let dispatcher = Dispatcher { copies: None, webhooks: Some(queue.clone()) };
    // Two readers of the same stream: every batch dispatched twice, as a retried one is.
    let (mut first, mut second) = (calltrack_dynamo::testing::stream(&store).await, calltrack_dynamo::testing::stream(&store).await);
    let writes = record_call(&store, 5).await;
    dispatch_all(&store, &mut first, &dispatcher, writes).await;
    dispatch_all(&store, &mut second, &dispatcher, writes).await;
    deliver_until_quiet(&store, &settings(&[1]), &queue, Duration::from_secs(3)).await;
    let heard = endpoint.heard();
    assert_eq!(heard.len(), 8, "every event twice on the wire");
    assert_eq!(heard.iter().filter(|h| !h.duplicate).count(), 4, "once each for a receiver that deduplicates by id");
}
