//! What tests of every layer share about the AWS parts `make test` runs:
//! the SDK's settings for moto's server (`scripts/with-moto`), which speaks
//! SSM. Behind the `testing` feature.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ssm::config::Credentials;

/// The SDK's settings for moto's SSM, with placeholder credentials moto takes.
pub async fn moto_ssm() -> SdkConfig {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_SSM")
        .expect("this test runs against moto: run it with `make test` (or scripts/with-moto cargo test)");
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "tests"))
        .endpoint_url(endpoint)
        .load()
        .await
}
