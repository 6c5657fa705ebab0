//! What the service's tests share: the realistic calls of `calltrack_core::fixtures`,
//! stores on fresh tables in DynamoDB Local (`calltrack_dynamo::testing`), and
//! running an API Gateway event through a function's routes.
#![allow(dead_code, unused_imports)] // each test file uses its own part

pub use calltrack_core::fixtures::*;
pub use calltrack_dynamo::testing::{client, config, sibling, store, unique_tables};

use calltrack_dynamo::DynamoStore;
use calltrack_service::{App, Route, apigw};
use calltrack_twilio::Params;
use calltrack_twilio::signature::{self, Algorithm, Payload};
use lambda_http::Body;
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequest;

/// The routes of the function that serves `path`; none for a path no function serves.
pub fn function_of(path: &str) -> &'static [Route] {
    [Route::ANSWER_FUNCTION, Route::STATUS_FUNCTION, Route::RECORDING_FUNCTION]
        .into_iter()
        .find(|routes| routes.iter().any(|r| path.ends_with(r.path())))
        .unwrap_or(&[])
}

/// A function's answer to an event.
pub struct Answer {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: String,
}

/// Runs an API Gateway HTTP API event (JSON) as the function serving its path does.
pub async fn invoke(app: &App<DynamoStore>, event: &str) -> Answer {
    let event: ApiGatewayV2httpRequest = serde_json::from_str(event).expect("an API Gateway v2 event");
    let routes = function_of(event.raw_path.as_deref().unwrap_or_default());
    let response = apigw::handle_event(app, routes, event).await;
    let body = match response.body {
        Some(Body::Text(text)) => text,
        Some(Body::Binary(bytes)) => String::from_utf8(bytes).unwrap(),
        _ => String::new(),
    };
    let content_type = response.headers.get("content-type").map(|v| v.to_str().unwrap().to_owned());
    Answer { status: response.status_code as u16, content_type, body }
}

/// The TwiML's elements as `(name, text)`, in document order; panics unless it is XML.
pub fn elements(xml: &str) -> Vec<(String, String)> {
    let doc = roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("not XML ({e}): {xml}"));
    doc.descendants()
        .filter(|n| n.is_element())
        .map(|n| (n.tag_name().name().to_owned(), n.text().unwrap_or_default().to_owned()))
        .collect()
}

/// The auth token the events are signed with, and the base URL they are signed for.
pub const TOKEN: &str = "test-auth-token-not-a-secret";
pub const BASE: &str = "https://calls.example.com";

/// An API Gateway v2 event for `route`, its form body signed with `TOKEN` unless `signed` is false.
pub fn event(method: &str, route: &str, content_type: &str, body: &str, signed: bool) -> String {
    event_with_query(method, route, "", content_type, body, signed)
}

pub fn event_with_query(method: &str, route: &str, query: &str, content_type: &str, body: &str, signed: bool) -> String {
    let params = Params::from_form(body.as_bytes()).unwrap_or_default();
    let url = if query.is_empty() { format!("{BASE}{route}") } else { format!("{BASE}{route}?{query}") };
    let signature = if signed { signature::sign(TOKEN, Algorithm::HmacSha1, &url, Payload::Form(&params)) } else { String::new() };
    serde_json::json!({
        "version": "2.0",
        "routeKey": format!("{method} {route}"),
        "rawPath": route,
        "rawQueryString": query,
        "headers": { "content-type": content_type, "host": "calls.example.com", "x-twilio-signature": signature },
        "requestContext": {
            "accountId": "123456789012", "apiId": "api", "domainName": "calls.example.com", "domainPrefix": "calls",
            "http": { "method": method, "path": route, "protocol": "HTTP/1.1", "sourceIp": "54.172.60.1", "userAgent": "TwilioProxy/1.1" },
            "requestId": "id", "routeKey": format!("{method} {route}"), "stage": "$default", "time": "02/Jan/2030:17:03:12 +0000", "timeEpoch": 0
        },
        "body": body,
        "isBase64Encoded": false
    })
    .to_string()
}
