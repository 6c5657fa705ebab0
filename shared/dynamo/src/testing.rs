//! Stores on fresh tables in the DynamoDB Local that `make test` starts
//! (`scripts/with-dynamodb-local`), for the tests of every layer. Behind the
//! `testing` feature.

use crate::{DynamoStore, TableNames, tables};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// How long the test stores keep events: the deployed default.
pub const RETENTION: Duration = Duration::from_secs(90 * 86_400);

/// A client for the DynamoDB Local that `make test` started.
pub fn client() -> Client {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB")
        .expect("these tests run against DynamoDB Local: run them with `make test` (or scripts/with-dynamodb-local cargo test)");
    Client::from_conf(config(&endpoint).build())
}

/// Client settings for a DynamoDB at `endpoint`, with local credentials.
pub fn config(endpoint: &str) -> aws_sdk_dynamodb::config::Builder {
    aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "tests"))
        .endpoint_url(endpoint)
}

/// Table names no other test uses, so tests run in parallel.
pub fn unique_tables() -> TableNames {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    TableNames::with_prefix(&format!("test-{}-{}-", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed)))
}

/// A store on fresh tables, created from template.yaml.
pub async fn store() -> DynamoStore {
    let client = client();
    let tables = unique_tables();
    tables::create(&client, &tables).await.expect("tables created");
    DynamoStore::new(client, tables, RETENTION)
}

/// Another store on the same tables: another Lambda, with nothing remembered.
pub fn sibling(store: &DynamoStore) -> DynamoStore {
    DynamoStore::new(store.client().clone(), store.tables().clone(), RETENTION)
}
