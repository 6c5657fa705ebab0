//! The AWS SDK's settings, the same for the functions and the command line:
//! timeouts well inside Twilio's 15 s, so that a storage call that hangs ends
//! in an answer Twilio can act on rather than in Twilio giving up.

use aws_config::retry::RetryConfig;
use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;
use std::time::Duration;

/// At most 5 s in all: 1 s to connect, 2 s per attempt.
pub fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(1))
        .operation_attempt_timeout(Duration::from_secs(2))
        .operation_timeout(Duration::from_secs(5))
        .build()
}

/// Three tries in all, with the SDK's exponential backoff between them (for
/// throttling too): a callback that still fails goes to the queue.
pub fn retries() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(3)
}

/// Reading the auth tokens at cold start: up to 5 tries with exponential
/// backoff (from 200 ms), as a burst of cold starts can meet SSM's throttling.
pub fn ssm_retries() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(5).with_initial_backoff(Duration::from_millis(200))
}

/// The SDK's settings from the environment, with our timeouts and retries.
/// With `dynamodb_endpoint` (DynamoDB Local) DynamoDB is there, and when no
/// credentials or region are set, placeholders stand in: DynamoDB Local takes
/// any, and users should not have to invent them.
pub async fn sdk_config(dynamodb_endpoint: Option<&str>) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).timeout_config(timeouts()).retry_config(retries());
    if let Some(endpoint) = dynamodb_endpoint {
        loader = loader.endpoint_url(endpoint);
        let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
        if !set("AWS_ACCESS_KEY_ID") && !set("AWS_PROFILE") {
            loader = loader.credentials_provider(Credentials::new("local", "local", None, None, "calltrack"));
        }
        if !set("AWS_REGION") && !set("AWS_DEFAULT_REGION") {
            loader = loader.region(Region::new("us-east-1"));
        }
    }
    loader.load().await
}

/// The DynamoDB client's settings: the SDK's, without stalled-stream
/// protection. DynamoDB's requests and answers are a few kilobytes, which the
/// attempt timeout (2 s) already bounds; the protection's throughput checks
/// would run on every poll of every body, in every warm invocation.
pub fn dynamodb_config(aws: &SdkConfig) -> aws_sdk_dynamodb::Config {
    aws_sdk_dynamodb::config::Builder::from(aws).stalled_stream_protection(StalledStreamProtectionConfig::disabled()).build()
}

/// The value of the SSM parameter `name` (a SecureString, decrypted), for the
/// secrets kept there. Throttling, which many functions starting at once can
/// meet, is retried with backoff. The error names the parameter and says why.
pub async fn secure_parameter(aws: &SdkConfig, name: &str) -> Result<String, String> {
    let config = aws_sdk_ssm::config::Builder::from(aws).retry_config(ssm_retries()).build();
    let output = aws_sdk_ssm::Client::from_conf(config)
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| format!("reading SSM parameter {name}: {}", aws_sdk_ssm::error::DisplayErrorContext(e)))?;
    output.parameter.and_then(|p| p.value).ok_or_else(|| format!("SSM parameter {name} has no value"))
}
