//! Buckets on the moto server that `make test` starts (`scripts/with-moto`),
//! for the tests of every layer. Behind the `testing` feature.

use crate::{RecordingBucket, create_local};
use aws_sdk_s3::Client;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use std::sync::atomic::{AtomicU32, Ordering};

/// A client for the moto server that `make test` started. Path-style
/// addressing (`http://127.0.0.1:port/bucket/key`), since a local server has
/// no DNS name per bucket as `bucket.s3.amazonaws.com` does.
pub fn client() -> Client {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_S3")
        .expect("these tests run against moto's S3: run them with `make test` (or scripts/with-moto cargo test)");
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "tests"))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .build();
    Client::from_conf(config)
}

/// A fresh bucket no other test uses, created as template.yaml deploys it.
pub async fn bucket() -> RecordingBucket {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let name = format!("test-{}-{}-recordings", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    create_local(&client(), &name).await.expect("bucket created")
}
