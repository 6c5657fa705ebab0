//! The callback queue on moto's SQS server: what is deferred comes back whole,
//! a message that failed waits before it comes again, and one that keeps
//! failing ends in the dead-letter queue.

use calltrack_core::deferred::DeferredCallback;
use calltrack_core::ports::DeferCallbacks;
use calltrack_sqs::testing::queues;
use calltrack_twilio::Params;
use std::time::Duration;

fn callback(n: i64) -> DeferredCallback {
    DeferredCallback {
        route: "/api/twilio/voice/status".into(),
        url: "https://calls.example.com/api/twilio/voice/status?dealId=d1".into(),
        params: Params::from_form(format!("CallSid=CA{n:032x}&CallStatus=completed").as_bytes()).unwrap(),
        received_at: 1_700_000_000_000 + n,
        forwarded: None,
    }
}

#[tokio::test]
async fn a_deferred_callback_is_received_whole_and_deleted_once_applied() {
    let (queue, _) = queues(5).await;
    queue.defer(&callback(1)).await.unwrap();
    queue.defer(&callback(2)).await.unwrap();

    let mut received = queue.receive(Duration::from_secs(1)).await.unwrap();
    received.sort_by(|a, b| a.body.cmp(&b.body));
    let bodies: Vec<DeferredCallback> = received.iter().map(|m| serde_json::from_str(&m.body).unwrap()).collect();
    assert_eq!(bodies, [callback(1), callback(2)]);
    assert!(received.iter().all(|m| m.receive_count == 1), "{received:?}");

    for message in &received {
        queue.delete(&message.receipt_handle).await.unwrap();
    }
    assert_eq!(queue.receive(Duration::from_secs(1)).await.unwrap(), []);
}

#[tokio::test]
async fn a_failed_message_comes_back_after_its_backoff_then_goes_to_the_dead_letter_queue() {
    let (queue, dead_letter) = queues(2).await;
    queue.defer(&callback(3)).await.unwrap();

    let first = queue.receive(Duration::from_secs(1)).await.unwrap();
    assert_eq!(first.len(), 1);
    queue.retry_later(&first[0].receipt_handle, Duration::from_secs(1)).await.unwrap();
    assert_eq!(queue.receive(Duration::ZERO).await.unwrap(), [], "hidden during its backoff");

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let second = queue.receive(Duration::from_secs(1)).await.unwrap();
    assert_eq!(second.iter().map(|m| (m.body.as_str(), m.receive_count)).collect::<Vec<_>>(), [(first[0].body.as_str(), 2)]);
    queue.retry_later(&second[0].receipt_handle, Duration::ZERO).await.unwrap();

    // Its third receive is past maxReceiveCount: SQS moves it instead.
    assert_eq!(queue.receive(Duration::from_secs(1)).await.unwrap(), []);
    let dead = dead_letter.receive(Duration::from_secs(1)).await.unwrap();
    assert_eq!(dead.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), [first[0].body.as_str()]);
}
