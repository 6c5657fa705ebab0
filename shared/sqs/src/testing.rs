//! Queues on the moto server that `make test` starts (`scripts/with-moto`),
//! for the tests of every layer. Behind the `testing` feature.

use crate::{SqsQueue, create_local};
use aws_sdk_sqs::Client;
use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
use std::sync::atomic::{AtomicU32, Ordering};

/// A client for the moto server that `make test` started.
pub fn client() -> Client {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_SQS")
        .expect("these tests run against moto's SQS: run them with `make test` (or scripts/with-moto cargo test)");
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "tests"))
        .endpoint_url(endpoint)
        .build();
    Client::from_conf(config)
}

/// A fresh queue no other test uses, and its dead-letter queue, which takes a
/// message after `max_receive_count` receives.
pub async fn queues(max_receive_count: u32) -> (SqsQueue, SqsQueue) {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let name = format!("test-{}-{}-callbacks", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    create_local(&client(), &name, max_receive_count).await.expect("queues created")
}
