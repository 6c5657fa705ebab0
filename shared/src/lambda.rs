//! A Lambda's init, run once per cold start: settings from the environment, a
//! DynamoDB client with timeouts well inside Twilio's 15 s (and its connection
//! warmed), and the auth tokens from SSM Parameter Store. Then [`run`] serves
//! API Gateway events until the runtime stops the process.

use crate::apigw;
use crate::app::{App, Config, Route};
use crate::error::Error;
use crate::fields::Field;
use crate::signature::Keyring;
use crate::store::{DynamoStore, TableNames};
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig, retry::RetryConfig};
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use lambda_http::{LambdaEvent, service_fn, tracing};
use std::time::Duration;

/// Builds the app a function serves. Fails (and so fails the cold start,
/// loudly) when a setting is wrong or no auth token can be read.
pub async fn init(function: &'static str) -> Result<App<DynamoStore>, Error> {
    let config = Config::from_env()?;
    let aws = aws_config::defaults(BehaviorVersion::latest()).timeout_config(timeouts()).retry_config(retries()).load().await;
    let keys = auth_tokens(&aws).await?;
    let tables = table_names();
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    warm(&dynamodb, &tables.calls).await;
    let store = DynamoStore::new(dynamodb, tables, event_retention()?);
    Ok(App::new(store, keys, config, function))
}

/// How long an AWS call may take: well inside Twilio's 15 s, so that a
/// storage call that hangs ends in a 503 (and a redelivery) rather than in
/// Twilio giving up. At most 5 s in all: 1 s to connect, 2 s per attempt.
pub fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(1))
        .operation_attempt_timeout(Duration::from_secs(2))
        .operation_timeout(Duration::from_secs(5))
        .build()
}

/// One retry: Twilio redelivers what still fails.
pub fn retries() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(2)
}

/// Serves the function's `routes` on the Lambda runtime, one API Gateway event at a time.
pub async fn run(app: &App<DynamoStore>, routes: &'static [Route]) -> Result<(), lambda_http::Error> {
    let handler = service_fn(move |event: LambdaEvent<ApiGatewayV2httpRequest>| async move {
        Ok::<_, lambda_http::Error>(apigw::handle_event(app, routes, event.payload).await)
    });
    lambda_http::lambda_runtime::run(handler).await
}

/// `CALLS_TABLE`, `CALL_EVENTS_TABLE`, `TRACKING_NUMBERS_TABLE`; locally
/// `calltrack-calls`, `calltrack-call-events`, `calltrack-tracking-numbers`.
pub fn table_names() -> TableNames {
    let defaults = TableNames::with_prefix("calltrack-");
    let var = |name: &str, default: String| std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or(default);
    TableNames {
        calls: var("CALLS_TABLE", defaults.calls),
        events: var("CALL_EVENTS_TABLE", defaults.events),
        numbers: var("TRACKING_NUMBERS_TABLE", defaults.numbers),
    }
}

/// `EVENT_RETENTION_DAYS` (90 unless set): how long raw callbacks are kept.
pub fn event_retention() -> Result<Duration, Error> {
    let days = match std::env::var("EVENT_RETENTION_DAYS") {
        Ok(days) if !days.is_empty() => u32::parse("EVENT_RETENTION_DAYS", &days)?,
        _ => 90,
    };
    Ok(Duration::from_secs(u64::from(days) * 86_400))
}

/// The auth tokens: from the SSM parameter named by
/// `TWILIO_AUTH_TOKEN_PARAMETER` (a SecureString, in a deployed stack), else
/// from `TWILIO_AUTH_TOKEN` (locally). Either holds the list
/// [`Keyring::parse`] reads: one token, or several for rotation and subaccounts.
pub async fn auth_tokens(aws: &SdkConfig) -> Result<Keyring, Error> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    match (var("TWILIO_AUTH_TOKEN_PARAMETER"), var("TWILIO_AUTH_TOKEN")) {
        (Some(parameter), _) => keyring_from_ssm(aws, &parameter).await,
        (None, Some(tokens)) => Keyring::parse(&tokens),
        (None, None) => Err(Error::Missing("TWILIO_AUTH_TOKEN_PARAMETER (deployed) or TWILIO_AUTH_TOKEN (local)")),
    }
}

/// The auth tokens kept in the SSM parameter `name` (a SecureString, decrypted).
pub async fn keyring_from_ssm(aws: &SdkConfig, name: &str) -> Result<Keyring, Error> {
    let output = aws_sdk_ssm::Client::new(aws)
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| Error::Storage(format!("reading SSM parameter {name}: {}", aws_sdk_ssm::error::DisplayErrorContext(e))))?;
    let value = output.parameter.and_then(|p| p.value).ok_or_else(|| Error::Storage(format!("SSM parameter {name} has no value")))?;
    Keyring::parse(&value)
}

/// Opens the connection (DNS, TCP, TLS) during init, so that the first
/// request does not pay for it. A failure here is only logged: storage may be
/// back by the time a call comes in.
async fn warm(client: &aws_sdk_dynamodb::Client, table: &str) {
    if let Err(err) = client.describe_table().table_name(table).send().await {
        tracing::warn!(table, reason = %aws_sdk_dynamodb::error::DisplayErrorContext(err), "could not warm the DynamoDB connection");
    }
}
