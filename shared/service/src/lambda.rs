//! A Lambda's init, run once per cold start: settings from the environment, a
//! DynamoDB client with our timeouts (and its connection warmed), and the auth
//! tokens from SSM Parameter Store. Then [`run`] serves API Gateway events
//! until the runtime stops the process.

use crate::apigw;
use crate::app::App;
use crate::aws::sdk_config;
use crate::route::Route;
use crate::settings::Settings;
use aws_config::SdkConfig;
use calltrack_dynamo::DynamoStore;
use calltrack_twilio::Keyring;
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use lambda_http::{LambdaEvent, service_fn, tracing};

/// Builds the app a function serves. Fails (and so fails the cold start,
/// loudly) when a setting is wrong or no auth token can be read.
pub async fn init(function: &'static str) -> Result<App<DynamoStore>, lambda_http::Error> {
    let settings = Settings::from_env()?;
    let aws = sdk_config(None).await;
    let keys = auth_tokens(&aws).await?;
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    warm(&dynamodb, &settings.tables.calls).await;
    let store = DynamoStore::new(dynamodb, settings.tables.clone(), settings.event_retention);
    Ok(App::new(store, keys, settings, function))
}

/// Serves the function's `routes` on the Lambda runtime, one API Gateway event at a time.
pub async fn run(app: &App<DynamoStore>, routes: &'static [Route]) -> Result<(), lambda_http::Error> {
    let handler = service_fn(move |event: LambdaEvent<ApiGatewayV2httpRequest>| async move {
        Ok::<_, lambda_http::Error>(apigw::handle_event(app, routes, event.payload).await)
    });
    lambda_http::lambda_runtime::run(handler).await
}

/// The auth tokens: from the SSM parameter named by
/// `TWILIO_AUTH_TOKEN_PARAMETER` (a SecureString, in a deployed stack), else
/// from `TWILIO_AUTH_TOKEN` (locally). Either holds the list
/// [`Keyring::parse`] reads: one token, or several for rotation and subaccounts.
pub async fn auth_tokens(aws: &SdkConfig) -> Result<Keyring, lambda_http::Error> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    match (var("TWILIO_AUTH_TOKEN_PARAMETER"), var("TWILIO_AUTH_TOKEN")) {
        (Some(parameter), _) => keyring_from_ssm(aws, &parameter).await,
        (None, Some(tokens)) => Ok(Keyring::parse(&tokens)?),
        (None, None) => Err("missing TWILIO_AUTH_TOKEN_PARAMETER (deployed) or TWILIO_AUTH_TOKEN (local)".into()),
    }
}

/// The auth tokens kept in the SSM parameter `name` (a SecureString, decrypted).
pub async fn keyring_from_ssm(aws: &SdkConfig, name: &str) -> Result<Keyring, lambda_http::Error> {
    let output = aws_sdk_ssm::Client::new(aws)
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| format!("reading SSM parameter {name}: {}", aws_sdk_ssm::error::DisplayErrorContext(e)))?;
    let value = output.parameter.and_then(|p| p.value).ok_or_else(|| format!("SSM parameter {name} has no value"))?;
    Ok(Keyring::parse(&value)?)
}

/// Opens the connection (DNS, TCP, TLS) during init, so that the first
/// request does not pay for it. A failure here is only logged: storage may be
/// back by the time a call comes in.
async fn warm(client: &aws_sdk_dynamodb::Client, table: &str) {
    if let Err(err) = client.describe_table().table_name(table).send().await {
        tracing::warn!(table, reason = %aws_sdk_dynamodb::error::DisplayErrorContext(err), "could not warm the DynamoDB connection");
    }
}
