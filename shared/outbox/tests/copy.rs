//! A finished recording, from the calls table's stream (DynamoDB Local's) to
//! our bucket (moto's S3), through the callback queue (moto's SQS), fetched
//! from a fake of Twilio's media URLs: copied once, noted on its call, retried
//! after Twilio's failures, and deleted from Twilio when asked.

use calltrack_core::fixtures::*;
use calltrack_core::ports::{ReadCalls, RecordCalls};
use calltrack_core::view::Scope;
use calltrack_dynamo::DynamoStore;
use calltrack_outbox::copy::Copier;
use calltrack_outbox::dispatch::Dispatcher;
use calltrack_outbox::work::work_batch;
use calltrack_service::Settings;
use calltrack_sqs::SqsQueue;
use calltrack_twilio::fields::{CallSid, Field};
use calltrack_twilio_api::testing::{Answer, FakeTwilio};
use calltrack_twilio_api::{Credentials, TwilioApi};
use std::time::{Duration, Instant};
use support::{dispatch_all, store_and_stream};

mod support;

const AUDIO: &[u8] = b"ID3\x04\x00 an MP3 of a 45 s conversation";

fn settings() -> Settings {
    Settings { replay_backoff: Duration::from_secs(1), ..Settings::default() }
}

async fn copier(twilio: &FakeTwilio, delete_from_twilio: bool) -> Copier {
    let credentials = Credentials::new(ACCOUNT, "SK0123456789abcdef0123456789abcdef", "secret").unwrap();
    Copier {
        twilio: TwilioApi::new(twilio.base_url(), credentials).unwrap(),
        bucket: calltrack_s3::testing::bucket().await,
        delete_from_twilio,
    }
}

/// Works the queue as the replay function would until it is empty: each
/// message that failed comes back after its backoff.
async fn work_until_empty(store: &DynamoStore, copier: &Copier, queue: &SqsQueue) -> usize {
    let (mut batches, deadline) = (0, Instant::now() + Duration::from_secs(30));
    let mut idle_since = Instant::now();
    while idle_since.elapsed() < Duration::from_secs(5) {
        assert!(Instant::now() < deadline, "the queue did not empty");
        let messages = queue.receive(Duration::from_secs(1)).await.unwrap();
        if messages.is_empty() {
            continue;
        }
        idle_since = Instant::now();
        batches += 1;
        let failed = work_batch(store, &settings(), Some(copier), queue, &messages).await;
        for message in messages.iter().filter(|m| !failed.contains(&m.message_id)) {
            queue.delete(&message.receipt_handle).await.unwrap();
        }
    }
    batches
}

async fn record_call(store: &DynamoStore, call: &Lifecycle) -> usize {
    let updates = call.forwarded(Some(&number("acme", "jane", None)), 20, 45);
    for update in &updates {
        store.record(update).await.unwrap();
    }
    updates.len()
}

async fn fetched(store: &DynamoStore, call: &Lifecycle) -> Vec<u8> {
    let sid = CallSid::parse("CallSid", &call.call_sid).unwrap();
    let view = store.call(&Scope::Operator, &sid).await.unwrap().expect("stored");
    let recording = view.summary.recording.expect("recorded");
    assert!(recording.stored, "the call says its recording is in our bucket");
    assert_eq!(recording.url.as_deref().map(|u| u.ends_with(&call.recording_sid)), Some(true), "Twilio's URL is kept");
    let key = recording.bucket_key.expect("where");
    assert_eq!(key, format!("tenants/acme/{}/{}.mp3", call.call_sid, call.recording_sid));
    key.into_bytes()
}

#[tokio::test]
async fn a_finished_recording_is_copied_into_our_bucket_once_and_noted_on_its_call() {
    let twilio = FakeTwilio::start([Answer::audio(AUDIO)]).await;
    let copier = copier(&twilio, false).await;
    let (queue, dead) = calltrack_sqs::testing::queues(5).await;
    let (store, mut reader) = store_and_stream().await;
    let call = Lifecycle::new(1);
    let writes = record_call(&store, &call).await;
    let dispatcher = Dispatcher { copies: Some(queue.clone()), webhooks: None };
    assert_eq!(dispatch_all(&store, &mut reader, &dispatcher, writes).await.copies, 1, "one copy, when the recording finished");

    work_until_empty(&store, &copier, &queue).await;
    let key = String::from_utf8(fetched(&store, &call).await).unwrap();
    let link = copier.bucket.presign_get(&key, Duration::from_secs(60)).await.unwrap();
    assert_eq!(reqwest::get(&link).await.unwrap().bytes().await.unwrap(), AUDIO);
    let requests = twilio.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].path, format!("/2010-04-01/Accounts/{ACCOUNT}/Recordings/{}.mp3", call.recording_sid));
    assert!(requests[0].authorization.is_some(), "with the API key");

    // Noting the copy was a write too: the stream gives it, and it sets off no second copy.
    assert_eq!(dispatch_all(&store, &mut reader, &dispatcher, 1).await.copies, 0);
    assert!(dead.receive(Duration::from_secs(1)).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_copy_that_fails_twice_is_tried_again_after_its_backoff_and_then_succeeds() {
    let twilio = FakeTwilio::start([
        Answer::twilio_error(503, 20503, "Service unavailable"),
        Answer::twilio_error(404, 20404, "The requested resource was not found"),
        Answer::audio(AUDIO),
        Answer::no_content(),
    ])
    .await;
    let copier = copier(&twilio, true).await;
    let (queue, dead) = calltrack_sqs::testing::queues(5).await;
    let (store, mut reader) = store_and_stream().await;
    let call = Lifecycle::new(2);
    let writes = record_call(&store, &call).await;
    dispatch_all(&store, &mut reader, &Dispatcher { copies: Some(queue.clone()), webhooks: None }, writes).await;

    let started = Instant::now();
    let batches = work_until_empty(&store, &copier, &queue).await;
    assert_eq!(batches, 3, "two failures, then the copy");
    assert!(started.elapsed() >= Duration::from_secs(3), "backoffs of 1 s then 2 s: {:?}", started.elapsed());
    fetched(&store, &call).await;
    let requests: Vec<(String, String)> = twilio.requests().into_iter().map(|r| (r.method, r.path)).collect();
    let media = format!("/2010-04-01/Accounts/{ACCOUNT}/Recordings/{}", call.recording_sid);
    let get = ("GET".to_owned(), format!("{media}.mp3"));
    assert_eq!(requests, [get.clone(), get.clone(), get, ("DELETE".to_owned(), format!("{media}.json"))], "deleted from Twilio once ours");
    assert!(dead.receive(Duration::from_secs(1)).await.unwrap().is_empty(), "nothing dead-lettered");
}

#[tokio::test]
async fn a_copy_already_in_the_bucket_is_not_fetched_again() {
    let twilio = FakeTwilio::start([Answer::audio(AUDIO), Answer::twilio_error(500, 20500, "Internal error"), Answer::no_content()]).await;
    let copier = copier(&twilio, true).await;
    let call = Lifecycle::new(3);
    let store = calltrack_dynamo::testing::store().await;
    record_call(&store, &call).await;
    let job = calltrack_core::copy::RecordingCopy {
        call_sid: CallSid::parse("CallSid", &call.call_sid).unwrap(),
        account_sid: calltrack_twilio::fields::AccountSid::parse("AccountSid", ACCOUNT).unwrap(),
        recording_sid: calltrack_twilio::fields::RecordingSid::parse("RecordingSid", &call.recording_sid).unwrap(),
        tenant_id: Some("acme".into()),
    };
    // Stored, noted, then Twilio's delete fails: the copy is tried again...
    let first = calltrack_outbox::copy::copy(&store, &copier, &job, T0).await;
    assert!(first.is_err(), "{first:?}");
    // ...and the next try only deletes.
    calltrack_outbox::copy::copy(&store, &copier, &job, T0).await.expect("copied");
    let methods: Vec<String> = twilio.requests().into_iter().map(|r| r.method).collect();
    assert_eq!(methods, ["GET", "DELETE", "DELETE"]);
    fetched(&store, &call).await;
}

#[tokio::test]
async fn a_copy_for_a_call_erased_since_stores_nothing_and_brings_nothing_back() {
    let twilio = FakeTwilio::start([Answer::audio(AUDIO)]).await;
    let copier = copier(&twilio, true).await;
    let store = calltrack_dynamo::testing::store().await;
    let call = Lifecycle::new(4);
    let job = calltrack_core::copy::RecordingCopy {
        call_sid: CallSid::parse("CallSid", &call.call_sid).unwrap(),
        account_sid: calltrack_twilio::fields::AccountSid::parse("AccountSid", ACCOUNT).unwrap(),
        recording_sid: calltrack_twilio::fields::RecordingSid::parse("RecordingSid", &call.recording_sid).unwrap(),
        tenant_id: Some("acme".into()),
    };
    let copied = calltrack_outbox::copy::copy(&store, &copier, &job, T0).await.expect("done with");
    assert_eq!(copied, calltrack_outbox::copy::Copied::CallGone);
    assert!(twilio.requests().is_empty(), "nothing fetched or deleted");
    assert!(!copier.bucket.contains(&job.key()).await.unwrap());
    assert!(store.call(&Scope::Operator, &job.call_sid).await.unwrap().is_none(), "the call is not stored again");
}
