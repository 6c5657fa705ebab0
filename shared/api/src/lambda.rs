//! The api function: its init (settings, the DynamoDB store, warmed), and
//! API Gateway HTTP API events (payload 2.0) in and out, with the claims of
//! the token API Gateway's JWT authorizer accepted.

use crate::app::{Api, ApiRequest, ApiResponse};
use crate::place::Dialer;
use base64::Engine;
use calltrack_dynamo::DynamoStore;
use calltrack_s3::RecordingBucket;
use calltrack_service::Settings;
use calltrack_service::aws::sdk_config;
use calltrack_twilio_api::{Credentials, Retry, TwilioApi};
use lambda_http::aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use lambda_http::aws_lambda_events::encodings::Body;
use lambda_http::http::HeaderValue;
use lambda_http::{LambdaEvent, service_fn};

/// Builds the API and serves its events until the runtime stops the process.
pub async fn run() -> Result<(), lambda_http::Error> {
    let settings = Settings::from_env()?;
    let aws = sdk_config(None).await;
    let store: DynamoStore = calltrack_service::lambda::store(&aws, &settings).await;
    let dialer = dialer(&aws, &settings).await?;
    let recording_bucket = settings.recording_bucket.clone();
    let api = Api::new(store, settings);
    let api = match dialer {
        Some(dialer) => api.with_dialer(dialer),
        None => api,
    };
    let api = match &recording_bucket {
        Some(bucket) => api.with_recordings(RecordingBucket::new(aws_sdk_s3::Client::new(&aws), bucket)),
        None => api,
    };
    let api = &api;
    let handler = service_fn(move |event: LambdaEvent<ApiGatewayV2httpRequest>| async move {
        Ok::<_, lambda_http::Error>(to_event(api.handle(&request_of(event.payload)).await))
    });
    lambda_http::lambda_runtime::run(handler).await
}

/// Twilio's REST API with the API key in the `TWILIO_API_KEY_PARAMETER`
/// SecureString, read once at init; none when the parameter is not set (the
/// API then answers `POST /api/calls` with a 503 saying so). A parameter that
/// cannot be read or does not hold a key fails the init, naming it.
pub async fn dialer(aws: &aws_config::SdkConfig, settings: &Settings) -> Result<Option<Dialer>, lambda_http::Error> {
    let Some(name) = &settings.twilio_api_key_parameter else { return Ok(None) };
    let value = calltrack_service::aws::secure_parameter(aws, name).await?;
    let credentials = Credentials::parse(&value).map_err(|e| format!("SSM parameter {name}: {e}"))?;
    let base_url = settings.twilio_api_base_url.as_deref().unwrap_or(calltrack_twilio_api::DEFAULT_BASE_URL);
    // Three tries of this, and their backoff, fit the function's timeout (template.yaml).
    let twilio = TwilioApi::new(base_url, credentials)?.with_timeout(std::time::Duration::from_secs(5));
    Ok(Some(Dialer { twilio, retry: Retry::default() }))
}

/// The request an event stands for: its method, raw path and query, body,
/// and the authorizer's claims.
pub fn request_of(event: ApiGatewayV2httpRequest) -> ApiRequest {
    let body = match event.body {
        Some(body) if event.is_base64_encoded => base64::engine::general_purpose::STANDARD.decode(body).unwrap_or_default(),
        Some(body) => body.into_bytes(),
        None => Vec::new(),
    };
    let idempotency_key = event.headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
    // An HTTP API's default stage has no path of its own; a named one is the path's first segment.
    let stage = event.request_context.stage.filter(|s| s != "$default").map_or(String::new(), |s| format!("/{s}"));
    let origin = event.request_context.domain_name.map(|domain| format!("https://{domain}{stage}"));
    let claims = event.request_context.authorizer.and_then(|a| a.jwt).map(|jwt| jwt.claims);
    ApiRequest {
        method: event.request_context.http.method.to_string(),
        path: event.raw_path.unwrap_or_default(),
        query: event.raw_query_string.unwrap_or_default(),
        body,
        claims,
        idempotency_key,
        origin,
    }
}

pub fn to_event(response: ApiResponse) -> ApiGatewayV2httpResponse {
    let mut event = ApiGatewayV2httpResponse::default();
    event.status_code = i64::from(response.status);
    if !response.content_type.is_empty() {
        event.headers.insert("content-type", HeaderValue::from_static(response.content_type));
        event.body = Some(Body::Text(response.body));
    }
    if let Some(allow) = response.allow {
        event.headers.insert("allow", HeaderValue::from_static(allow));
    }
    if let Some(seconds) = response.retry_after {
        event.headers.insert("retry-after", HeaderValue::from(seconds));
    }
    event
}
