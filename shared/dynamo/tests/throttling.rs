//! DynamoDB throttling is not contention: a throttled write gets the SDK's
//! few tries with exponential backoff, then fails, so that the route queues the
//! callback, rather than the store's many quick tries meant for a write race.
//! DynamoDB Local never throttles, so an endpoint of the test's own does.

use calltrack_core::fixtures::Lifecycle;
use calltrack_core::ports::RecordCalls;
use calltrack_dynamo::testing::{config, scripted_endpoint};
use calltrack_dynamo::{DynamoStore, TableNames};
use std::sync::atomic::Ordering;
use std::time::Duration;

/// The functions' retries (`calltrack_service::aws::retries`): three tries in all.
fn store_at(endpoint: &str) -> DynamoStore {
    let retries = aws_sdk_dynamodb::config::retry::RetryConfig::standard().with_max_attempts(3);
    let client = aws_sdk_dynamodb::Client::from_conf(config(endpoint).retry_config(retries).build());
    DynamoStore::new(client, TableNames::with_prefix("throttled-"), Duration::from_secs(86_400))
}

#[tokio::test]
async fn a_throttled_write_fails_after_the_sdks_three_tries() {
    for throttle in ["ProvisionedThroughputExceededException", "RequestLimitExceeded", "ThrottlingException"] {
        let body = format!(
            r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{throttle}","message":"Rate of requests exceeds the allowed throughput."}}"#
        );
        let (endpoint, requests) = scripted_endpoint(move |_| (400, body.clone())).await;
        let store = store_at(&endpoint);
        let err = store.record(&Lifecycle::new(1).answer(None)).await.expect_err("throttled");
        assert!(err.to_string().contains(throttle), "{throttle}: {err}");
        assert_eq!(requests.load(Ordering::SeqCst), 3, "{throttle}: the SDK's three tries, not the store's contention loop");
    }
}

#[tokio::test]
async fn a_transaction_throttled_on_its_items_is_tried_three_times_with_backoff_then_fails() {
    let body = r#"{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","Message":"Transaction cancelled, please refer cancellation reasons for specific reasons [None, ThrottlingError]","CancellationReasons":[{"Code":"None"},{"Code":"ThrottlingError","Message":"Throughput exceeds the current capacity for one or more global secondary indexes."}]}"#;
    let (endpoint, requests) = scripted_endpoint(move |_| (400, body.to_owned())).await;
    let store = store_at(&endpoint);
    let err = store.record(&Lifecycle::new(2).answer(None)).await.expect_err("throttled");
    assert!(err.to_string().contains("ThrottlingError"), "{err}");
    assert_eq!(requests.load(Ordering::SeqCst), 3, "three tries, not the contention loop's 64");
}
