//! A Lambda's init, run once per cold start: settings from the environment, a
//! DynamoDB client with our timeouts (and its connection warmed), the callback
//! queue, and the auth tokens from SSM Parameter Store. Then [`run`] serves API
//! Gateway events until the runtime stops the process. (The replay function,
//! on the queue's events, is `calltrack-outbox`'s.)

use crate::apigw;
use crate::app::App;
use crate::aws::{sdk_config, secure_parameter};
use crate::route::Route;
use crate::settings::Settings;
use aws_config::SdkConfig;

use calltrack_dynamo::DynamoStore;
use calltrack_sqs::{Received, SqsQueue};
use calltrack_twilio::Keyring;
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use lambda_http::{LambdaEvent, service_fn, tracing};

/// The token the sample events are signed with (README, "Sample events and the
/// test token"): anyone can sign with it, so a deployed stack refuses it.
pub const TEST_AUTH_TOKEN: &str = "test-auth-token-not-a-secret";

/// Builds the app a function serves. Fails (and so fails the cold start,
/// loudly) when a setting is wrong or no auth token can be read.
pub async fn init(function: &'static str) -> Result<App<DynamoStore>, lambda_http::Error> {
    let settings = Settings::from_env()?;
    let aws = sdk_config(None).await;
    let keys = auth_tokens(&aws).await?;
    let store = store(&aws, &settings).await;
    let app = App::new(store, keys, settings, function);
    Ok(match app.settings().callback_queue_url.clone() {
        Some(url) => app.with_queue(SqsQueue::new(aws_sdk_sqs::Client::new(&aws), url)),
        None => {
            tracing::warn!("CALLBACK_QUEUE_URL is not set: a callback that storage cannot take is answered 503");
            app
        }
    })
}

/// The DynamoDB store, its connection warmed.
pub async fn store(aws: &SdkConfig, settings: &Settings) -> DynamoStore {
    let dynamodb = aws_sdk_dynamodb::Client::from_conf(crate::aws::dynamodb_config(aws));
    warm(&dynamodb, &settings.tables.calls).await;
    DynamoStore::new(dynamodb, settings.tables.clone(), settings.event_retention)
}

/// A message of the event as the queue gave it.
pub fn received(message: aws_lambda_events::sqs::SqsMessage) -> Option<Received> {
    let receive_count = message.attributes.get("ApproximateReceiveCount").and_then(|n| n.parse().ok()).unwrap_or(1);
    Some(Received { message_id: message.message_id?, receipt_handle: message.receipt_handle?, body: message.body?, receive_count })
}

/// Serves the function's `routes` on the Lambda runtime, one API Gateway event at a time.
pub async fn run(app: &App<DynamoStore>, routes: &'static [Route]) -> Result<(), lambda_http::Error> {
    let handler = service_fn(move |event: LambdaEvent<ApiGatewayV2httpRequest>| async move {
        Ok::<_, lambda_http::Error>(apigw::handle_event(app, routes, event.payload).await)
    });
    lambda_http::lambda_runtime::run(handler).await
}

/// The auth tokens: from `TWILIO_AUTH_TOKEN` when it is set (locally, e.g.
/// `sam local invoke --env-vars events/env.json`), else from the SSM parameter
/// named by `TWILIO_AUTH_TOKEN_PARAMETER` (a SecureString; a deployed stack sets
/// only this one). Either holds the list [`Keyring::parse`] reads: one token, or
/// several for rotation and subaccounts. Logs which was used, never the token.
pub async fn auth_tokens(aws: &SdkConfig) -> Result<Keyring, lambda_http::Error> {
    let var = |name: &str| std::env::var(name).ok();
    match token_source(var("TWILIO_AUTH_TOKEN"), var("TWILIO_AUTH_TOKEN_PARAMETER"))? {
        TokenSource::Direct(tokens) => {
            tracing::info!(source = "TWILIO_AUTH_TOKEN", "auth tokens given directly; TWILIO_AUTH_TOKEN_PARAMETER, if set, is not read");
            Ok(Keyring::parse(&tokens)?)
        }
        TokenSource::Parameter(name) => {
            tracing::info!(source = "TWILIO_AUTH_TOKEN_PARAMETER", parameter = %name, "auth tokens read from SSM");
            keyring_from_ssm(aws, &name).await
        }
    }
}

/// Where the auth tokens come from.
#[derive(Debug, PartialEq, Eq)]
enum TokenSource {
    /// `TWILIO_AUTH_TOKEN`: the tokens themselves.
    Direct(String),
    /// `TWILIO_AUTH_TOKEN_PARAMETER`: the name of the SSM parameter holding them.
    Parameter(String),
}

/// A token given directly wins over a parameter name; an empty variable counts as unset.
fn token_source(token: Option<String>, parameter: Option<String>) -> Result<TokenSource, &'static str> {
    let set = |v: Option<String>| v.filter(|v| !v.trim().is_empty());
    match (set(token), set(parameter)) {
        (Some(tokens), _) => Ok(TokenSource::Direct(tokens)),
        (None, Some(name)) => Ok(TokenSource::Parameter(name)),
        (None, None) => Err("missing TWILIO_AUTH_TOKEN_PARAMETER (deployed) or TWILIO_AUTH_TOKEN (local)"),
    }
}

/// The auth tokens kept in the SSM parameter `name` (a SecureString,
/// decrypted). Throttling, which many functions starting at once can meet, is
/// retried with backoff. The documented test token is refused.
pub async fn keyring_from_ssm(aws: &SdkConfig, name: &str) -> Result<Keyring, lambda_http::Error> {
    let value = secure_parameter(aws, name).await?;
    if value.contains(TEST_AUTH_TOKEN) {
        return Err(format!(
            "SSM parameter {name} holds the documented test token, which anyone can sign with: put your Twilio auth token there"
        )
        .into());
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_given_directly_wins_over_a_parameter_name() {
        let some = |v: &str| Some(v.to_owned());
        assert_eq!(token_source(some("t"), some("/calltrack/twilio-auth-token")), Ok(TokenSource::Direct("t".into())));
        assert_eq!(token_source(some("t"), None), Ok(TokenSource::Direct("t".into())));
        assert_eq!(token_source(None, some("/p")), Ok(TokenSource::Parameter("/p".into())));
        assert_eq!(token_source(some(" "), some("/p")), Ok(TokenSource::Parameter("/p".into())), "empty counts as unset");
        assert!(token_source(some(""), some("")).is_err());
        assert!(token_source(None, None).is_err());
    }
}
