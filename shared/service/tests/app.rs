//! The webhooks' HTTP answers beyond the sample events: refusals with their
//! status codes, and the caller still being answered when storage is down or hangs.

mod common;

use calltrack_core::ports::{ManageNumbers, ReadCalls};
use calltrack_dynamo::DynamoStore;
use calltrack_dynamo::TableNames;
use calltrack_service::aws;
use calltrack_service::{App, Route, Settings};
use calltrack_twilio::Keyring;
use calltrack_twilio::Params;
use calltrack_twilio::fields::PhoneNumber;
use calltrack_twilio::signature::{self, Algorithm, Payload};
use lambda_http::Body;
use std::time::{Duration, Instant};

const TOKEN: &str = "test-auth-token-not-a-secret";
const BASE: &str = "https://calls.example.com";

/// An API Gateway v2 event for `route`, its form body signed with `TOKEN` unless `signed` is false.
fn event(method: &str, route: &str, content_type: &str, body: &str, signed: bool) -> String {
    event_with_query(method, route, "", content_type, body, signed)
}

fn event_with_query(method: &str, route: &str, query: &str, content_type: &str, body: &str, signed: bool) -> String {
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

const INCOMING: &str = "AccountSid=AC0123456789abcdef0123456789abcdef&CallSid=CA0123456789abcdef0123456789abcdef&CallStatus=ringing&Direction=inbound&From=%2B12125550199&To=%2B18005551212";
const COMPLETED: &str = "AccountSid=AC0123456789abcdef0123456789abcdef&CallSid=CA0123456789abcdef0123456789abcdef&CallStatus=completed&CallDuration=52&Direction=inbound&From=%2B12125550199&To=%2B18005551212";

fn app_with(store: DynamoStore, config: Settings) -> App<DynamoStore> {
    App::new(store, Keyring::default().with_token(TOKEN), Settings { public_base_url: Some(BASE.into()), ..config }, "test")
}

async fn send(app: &App<DynamoStore>, routes: &[Route], event: &str) -> (u16, String, lambda_http::http::HeaderMap) {
    let request = lambda_http::request::from_str(event).unwrap();
    let response = app.handle(routes, &request).await;
    let body = match response.body() {
        Body::Text(text) => text.clone(),
        _ => String::new(),
    };
    (response.status().as_u16(), body, response.headers().clone())
}

#[tokio::test]
async fn refusals_carry_their_status_and_a_one_line_reason() {
    let app = app_with(common::store().await, Settings::default());
    let answer = Route::ANSWER_FUNCTION;
    let form = "application/x-www-form-urlencoded";

    let (status, body, _) = send(&app, answer, &event("POST", "/api/twilio/voice/nowhere", form, INCOMING, true)).await;
    assert_eq!((status, body.as_str()), (404, "no such route\n"));
    let (status, _, _) = send(&app, Route::STATUS_FUNCTION, &event("POST", "/api/twilio/voice/answer", form, INCOMING, true)).await;
    assert_eq!(status, 404, "each function serves only its own routes");

    let (status, body, headers) = send(&app, answer, &event("PUT", "/api/twilio/voice/answer", form, INCOMING, true)).await;
    assert_eq!(
        (status, body.as_str(), headers["allow"].to_str().unwrap()),
        (405, "method PUT not allowed: webhooks are POST or GET\n", "POST, GET")
    );

    let huge = format!("{INCOMING}&Padding={}", "x".repeat(70_000));
    assert_eq!(send(&app, answer, &event("POST", "/api/twilio/voice/answer", form, &huge, true)).await.0, 413);

    let (status, body, _) = send(&app, answer, &event("POST", "/api/twilio/voice/answer", "text/plain", INCOMING, true)).await;
    assert_eq!(status, 415, "{body}");

    let (status, body, _) = send(&app, answer, &event("POST", "/api/twilio/voice/answer", form, INCOMING, false)).await;
    assert_eq!((status, body.as_str()), (403, ""), "an unsigned request learns nothing");

    let no_sid = INCOMING.replace("CallSid=CA0123456789abcdef0123456789abcdef&", "");
    let (status, body, _) = send(&app, answer, &event("POST", "/api/twilio/voice/answer", form, &no_sid, true)).await;
    assert_eq!((status, body.as_str()), (400, "missing CallSid\n"));

    let bad_duration = "AccountSid=AC0123456789abcdef0123456789abcdef&CallSid=CA0123456789abcdef0123456789abcdef&CallStatus=completed&Direction=inbound&From=%2B12125550199&To=%2B18005551212&CallDuration=4x";
    let (status, body, _) = send(&app, Route::STATUS_FUNCTION, &event("POST", "/api/twilio/voice/status", form, bad_duration, true)).await;
    assert_eq!((status, body.as_str()), (400, "CallDuration is not a whole number: \"4x\"\n"));

    let bad_crm = event_with_query("POST", "/api/twilio/voice/answer", "contactId=%3Cx%3E", form, INCOMING, true);
    let (status, body, _) = send(&app, answer, &bad_crm).await;
    assert_eq!((status, body.as_str()), (400, "contactId is not a valid id: \"<x>\" (1 to 128 of A-Z a-z 0-9 . _ : @ -)\n"));
    let tampered = bad_crm.replace("contactId=%3Cx%3E", "contactId=c-1");
    assert_eq!(send(&app, answer, &tampered).await.0, 403, "the query is signed too");

    let sid = calltrack_twilio::fields::Field::parse("CallSid", "CA0123456789abcdef0123456789abcdef").unwrap();
    assert_eq!(app.store().call(&calltrack_core::view::Scope::Operator, &sid).await.unwrap(), None, "no refusal wrote anything");
}

/// A TCP server that accepts connections and never answers: storage that hangs.
async fn hanging_endpoint() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    format!("http://{address}")
}

/// A store at `endpoint` with the functions' own timeouts and retries.
fn store_at(endpoint: &str) -> DynamoStore {
    let config = common::config(endpoint).timeout_config(aws::timeouts()).retry_config(aws::retries()).build();
    let client = aws_sdk_dynamodb::Client::from_conf(config);
    DynamoStore::new(client, TableNames::with_prefix("unreachable-"), Duration::from_secs(86_400))
}

#[tokio::test]
async fn when_storage_hangs_the_caller_is_still_forwarded_within_two_seconds() {
    let fallback = PhoneNumber::e164("FALLBACK_FORWARD_TO", "+14155550999").unwrap();
    let app = app_with(store_at(&hanging_endpoint().await), Settings { fallback_forward_to: Some(fallback), ..Settings::default() });
    let started = Instant::now();
    let (status, body, _) =
        send(&app, Route::ANSWER_FUNCTION, &event("POST", "/api/twilio/voice/answer", "application/x-www-form-urlencoded", INCOMING, true))
            .await;
    let took = started.elapsed();
    assert_eq!(status, 200);
    let doc = roxmltree::Document::parse(&body).unwrap();
    let number = doc.descendants().find(|n| n.has_tag_name("Number")).expect("forwarded");
    assert_eq!(number.text(), Some("+14155550999"), "to the fallback number");
    assert!(took < Duration::from_secs(2), "answered in {took:?}");
}

#[tokio::test]
async fn when_storage_hangs_a_status_callback_is_cut_off_by_the_timeouts_and_answers_503() {
    let app = app_with(store_at(&hanging_endpoint().await), Settings::default());
    let started = Instant::now();
    let (status, body, _) = send(
        &app,
        Route::STATUS_FUNCTION,
        &event("POST", "/api/twilio/voice/status", "application/x-www-form-urlencoded", COMPLETED, true),
    )
    .await;
    let took = started.elapsed();
    assert_eq!((status, body.as_str()), (503, "storage unavailable; retry later\n"), "so that Twilio delivers it again");
    assert!(took >= Duration::from_secs(2) && took < Duration::from_secs(7), "cut off after {took:?}: 2 attempts of 2 s, 5 s in all");
}

#[tokio::test]
async fn when_storage_fails_the_caller_is_forwarded_with_the_last_known_configuration() {
    let store = common::store().await;
    store.put_tracking_number(&common::number("tenant-a", "user-1", None)).await.unwrap();
    let (client, tables) = (store.client().clone(), store.tables().clone());
    // Read the number on every call, so the second one has to go to storage.
    let app = app_with(store, Settings { number_cache: Duration::ZERO, ..Settings::default() });
    let answer = event("POST", "/api/twilio/voice/answer", "application/x-www-form-urlencoded", INCOMING, true);
    let (status, body, _) = send(&app, Route::ANSWER_FUNCTION, &answer).await;
    assert_eq!(status, 200);
    assert!(body.contains(common::BUSINESS), "{body}");

    // Storage breaks: both tables the answer route uses are gone.
    for table in [&tables.numbers, &tables.calls] {
        client.delete_table().table_name(table).send().await.unwrap();
    }
    let started = Instant::now();
    let (status, body, _) = send(&app, Route::ANSWER_FUNCTION, &answer).await;
    assert_eq!(status, 200);
    assert!(body.contains(&format!(">{}</Number>", common::BUSINESS)), "forwarded as last known: {body}");
    assert!(started.elapsed() < Duration::from_secs(2));

    // Status callbacks, by contrast, answer 503 so that Twilio redelivers them.
    let completed = INCOMING.replace("CallStatus=ringing", "CallStatus=completed");
    let (status, body, _) = send(
        &app,
        Route::STATUS_FUNCTION,
        &event("POST", "/api/twilio/voice/status", "application/x-www-form-urlencoded", &completed, true),
    )
    .await;
    assert_eq!((status, body.as_str()), (503, "storage unavailable; retry later\n"));
}
