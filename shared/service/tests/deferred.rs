//! Nothing depends on Twilio's retry: a callback that storage cannot take goes
//! to the queue (moto's SQS) and is answered 2xx, and the replay applies it
//! once storage is back (DynamoDB Local), as its route would have. And the
//! callback URLs we give Twilio carry connection overrides, which the
//! signature check accepts exactly as we wrote them.

mod common;

use calltrack_core::ports::{ManageNumbers, ReadCalls};
use calltrack_core::view::Scope;
use calltrack_dynamo::{DynamoStore, TableNames};
use calltrack_service::replay;
use calltrack_service::reply::Outcome;
use calltrack_service::route::CONNECTION_OVERRIDES;
use calltrack_service::{App, Route, Settings};
use calltrack_sqs::SqsQueue;
use calltrack_sqs::testing::queues;
use calltrack_twilio::fields::{CallSid, CallStatus, Field};
use calltrack_twilio::signature::{self, Algorithm, Payload};
use calltrack_twilio::{Keyring, Params};
use lambda_http::Body;
use std::time::Duration;

const TOKEN: &str = "test-auth-token-not-a-secret";
const BASE: &str = "https://calls.example.com";
const SID: &str = "CA00000000000000000000000000000abc";
const FORM: &str = "application/x-www-form-urlencoded";

fn status(call_status: &str, seq: u32) -> String {
    format!(
        "AccountSid={}&CallSid={SID}&CallStatus={call_status}&CallDuration=52&Direction=inbound&From=%2B12125550199&To=%2B18005551212&SequenceNumber={seq}&Timestamp=Wed%2C+02+Jan+2030+17%3A01%3A00+%2B0000",
        common::ACCOUNT
    )
}

fn recording() -> String {
    format!(
        "AccountSid={}&CallSid={SID}&RecordingSid=RE00000000000000000000000000000abc&RecordingStatus=completed&RecordingDuration=50&RecordingChannels=2&RecordingSource=DialVerb&RecordingUrl=https%3A%2F%2Fapi.twilio.com%2F2010-04-01%2FAccounts%2F{}%2FRecordings%2FRE00000000000000000000000000000abc",
        common::ACCOUNT,
        common::ACCOUNT
    )
}

/// A request to `route` with `body`, signed on `signed_url`.
fn request(route: Route, body: &str, signed_url: &str) -> lambda_http::Request {
    let params = Params::from_form(body.as_bytes()).unwrap();
    let signature = signature::sign(TOKEN, Algorithm::HmacSha1, signed_url, Payload::Form(&params));
    lambda_http::http::Request::builder()
        .method("POST")
        .uri(format!("{BASE}{}", route.path()))
        .header("content-type", FORM)
        .header("x-twilio-signature", signature)
        .body(Body::Text(body.to_owned()))
        .unwrap()
}

async fn send(app: &App<DynamoStore>, route: Route, body: &str) -> (u16, String) {
    let response = app.handle(Route::ALL, &request(route, body, &format!("{BASE}{}", route.path()))).await;
    let body = match response.body() {
        Body::Text(text) => text.clone(),
        _ => String::new(),
    };
    (response.status().as_u16(), body)
}

fn settings() -> Settings {
    Settings { public_base_url: Some(BASE.into()), replay_backoff: Duration::from_secs(1), ..Settings::default() }
}

/// Storage that fails at once: tables that do not exist, on the DynamoDB Local that works.
fn broken_store() -> DynamoStore {
    DynamoStore::new(common::client(), TableNames::with_prefix("never-created-"), Duration::from_secs(86_400))
}

fn app(store: DynamoStore, queue: &SqsQueue) -> App<DynamoStore> {
    App::new(store, Keyring::default().with_token(TOKEN), settings(), "test").with_queue(queue.clone())
}

#[tokio::test]
async fn callbacks_that_storage_cannot_take_are_queued_answered_204_and_applied_when_it_is_back() {
    let (queue, dead_letter) = queues(3).await;
    let down = app(broken_store(), &queue);
    for (route, body) in
        [(Route::Status, status("in-progress", 1)), (Route::Status, status("completed", 2)), (Route::Recording, recording())]
    {
        assert_eq!(send(&down, route, &body).await, (204, String::new()), "{route:?}: taken, not refused");
    }
    let messages = queue.receive(Duration::from_secs(1)).await.unwrap();
    assert_eq!(messages.len(), 3, "each callback is on the queue: {messages:?}");

    // Storage is back: the replay applies them as the routes would have.
    let store = common::store().await;
    store.put_tracking_number(&common::number("tenant-a", "user-1", None)).await.unwrap();
    let failed = replay::apply_batch(&store, &settings(), &queue, &messages).await;
    assert_eq!(failed, Vec::<String>::new());
    let sid = CallSid::parse("CallSid", SID).unwrap();
    let call = store.call(&Scope::Operator, &sid).await.unwrap().expect("stored");
    assert_eq!(call.summary.status, Some(CallStatus::Completed));
    assert_eq!(call.summary.recording.as_ref().map(|r| r.sid.as_str()), Some("RE00000000000000000000000000000abc"));
    assert_eq!(call.summary.tenant_id.as_deref(), Some("tenant-a"), "the owner is claimed from the tracking number, as the route does");
    assert_eq!(call.events.len(), 3 + 1, "three callbacks and the owner's claim");

    // Applied again (a redelivery, or a message that was applied but not deleted): nothing changes.
    for message in &messages {
        let callback = serde_json::from_str(&message.body).unwrap();
        assert_eq!(replay::apply(&store, &settings(), &callback).await, Ok(Outcome::Duplicate));
    }
    assert_eq!(store.call(&Scope::Operator, &sid).await.unwrap().unwrap(), call);
    assert_eq!(dead_letter.receive(Duration::ZERO).await.unwrap(), []);
}

#[tokio::test]
async fn queued_callbacks_that_still_cannot_be_applied_come_back_after_their_backoff() {
    let (queue, _) = queues(3).await;
    let down = app(broken_store(), &queue);
    assert_eq!(send(&down, Route::Status, &status("completed", 2)).await.0, 204);
    assert_eq!(send(&down, Route::Recording, &recording()).await.0, 204);
    let mut first = queue.receive(Duration::from_secs(1)).await.unwrap();
    first.sort_by(|a, b| a.body.cmp(&b.body));
    assert_eq!(first.len(), 2);

    // The first meets the outage; the second is not tried, but kept too.
    let mut failed = replay::apply_batch(down.store(), &settings(), &queue, &first).await;
    failed.sort_by_key(|id| first.iter().position(|m| &m.message_id == id));
    assert_eq!(failed, first.iter().map(|m| m.message_id.clone()).collect::<Vec<_>>(), "reported, so that the event source keeps them");
    assert_eq!(queue.receive(Duration::ZERO).await.unwrap(), [], "hidden for their backoff");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let mut again = queue.receive(Duration::from_secs(1)).await.unwrap();
    again.sort_by(|a, b| a.body.cmp(&b.body));
    let again: Vec<(&str, u32)> = again.iter().map(|m| (m.body.as_str(), m.receive_count)).collect();
    assert_eq!(again, first.iter().map(|m| (m.body.as_str(), 2)).collect::<Vec<_>>());
}

#[tokio::test]
async fn when_the_queue_fails_too_the_callback_is_answered_503_for_twilio_to_retry() {
    let unreachable = SqsQueue::new(calltrack_sqs::testing::client(), "http://127.0.0.1:9/000000000000/nowhere");
    let down = app(broken_store(), &unreachable);
    assert_eq!(send(&down, Route::Status, &status("completed", 2)).await, (503, "storage unavailable; retry later\n".into()));
}

#[tokio::test]
async fn a_message_that_is_not_a_callback_is_reported_failed_not_dropped() {
    let (queue, _) = queues(3).await;
    let store = common::store().await;
    let messages =
        [calltrack_sqs::Received { message_id: "m1".into(), receipt_handle: "r1".into(), body: "{\"route\":1}".into(), receive_count: 1 }];
    assert_eq!(replay::apply_batch(&store, &settings(), &queue, &messages).await, ["m1"]);
}

/// Every URL attribute of the answer's TwiML that points at one of our routes.
fn callback_urls(twiml: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(twiml).unwrap();
    doc.descendants()
        .flat_map(|n| n.attributes().map(|a| a.value().to_owned()).collect::<Vec<_>>())
        .filter(|v| v.starts_with(BASE))
        .collect()
}

#[tokio::test]
async fn our_callback_urls_carry_connection_overrides_and_are_accepted_signed_with_or_without_them() {
    let store = common::store().await;
    store.put_tracking_number(&common::number("tenant-a", "user-1", None)).await.unwrap();
    let (queue, _) = queues(3).await;
    let up = app(store, &queue);
    let incoming = status("ringing", 0);
    let (code, twiml) = send(&up, Route::Answer, &incoming).await;
    assert_eq!(code, 200, "{twiml}");
    let urls = callback_urls(&twiml);
    assert_eq!(urls.len(), 4, "action, statusCallback, recordingStatusCallback, whisper: {twiml}");
    for url in &urls {
        assert!(url.ends_with(&format!("#{CONNECTION_OVERRIDES}")), "{url}");
    }
    let whisper = urls.iter().find(|u| u.contains("/whisper")).unwrap();
    assert!(whisper.contains("?text=Call%20from%20Google%20Ads#"), "the query goes before the fragment: {whisper}");

    // API Gateway never sees the fragment: a signature on the URL with it, or without it, is accepted.
    let status_url = format!("{BASE}{}", Route::Status.path());
    let body = status("completed", 2);
    for signed in [status_url.clone(), format!("{status_url}#{CONNECTION_OVERRIDES}")] {
        let response = up.handle(Route::ALL, &request(Route::Status, &body, &signed)).await;
        assert_eq!(response.status().as_u16(), 204, "signed on {signed}");
    }
    // Any other fragment is not ours.
    for signed in [format!("{status_url}#rc=5"), format!("{status_url}#{CONNECTION_OVERRIDES}&x=1"), format!("{status_url}#")] {
        let response = up.handle(Route::ALL, &request(Route::Status, &body, &signed)).await;
        assert_eq!(response.status().as_u16(), 403, "signed on {signed}");
    }
}
