//! The api function: its init (settings, the DynamoDB store, warmed), and
//! API Gateway HTTP API events (payload 2.0) in and out, with the claims of
//! the token API Gateway's JWT authorizer accepted.

use crate::app::{Api, ApiRequest, ApiResponse};
use base64::Engine;
use calltrack_dynamo::DynamoStore;
use calltrack_service::Settings;
use calltrack_service::aws::sdk_config;
use lambda_http::aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use lambda_http::aws_lambda_events::encodings::Body;
use lambda_http::http::HeaderValue;
use lambda_http::{LambdaEvent, service_fn};

/// Builds the API and serves its events until the runtime stops the process.
pub async fn run() -> Result<(), lambda_http::Error> {
    let settings = Settings::from_env()?;
    let aws = sdk_config(None).await;
    let store: DynamoStore = calltrack_service::lambda::store(&aws, &settings).await;
    let api = Api::new(store, settings);
    let api = &api;
    let handler = service_fn(move |event: LambdaEvent<ApiGatewayV2httpRequest>| async move {
        Ok::<_, lambda_http::Error>(to_event(api.handle(&request_of(event.payload)).await))
    });
    lambda_http::lambda_runtime::run(handler).await
}

/// The request an event stands for: its method, raw path and query, body,
/// and the authorizer's claims.
pub fn request_of(event: ApiGatewayV2httpRequest) -> ApiRequest {
    let body = match event.body {
        Some(body) if event.is_base64_encoded => base64::engine::general_purpose::STANDARD.decode(body).unwrap_or_default(),
        Some(body) => body.into_bytes(),
        None => Vec::new(),
    };
    let claims = event.request_context.authorizer.and_then(|a| a.jwt).map(|jwt| jwt.claims);
    ApiRequest {
        method: event.request_context.http.method.to_string(),
        path: event.raw_path.unwrap_or_default(),
        query: event.raw_query_string.unwrap_or_default(),
        body,
        claims,
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
    event
}
