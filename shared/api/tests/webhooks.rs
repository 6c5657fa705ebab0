//! `/api/webhooks` and `/api/webhooks/deliveries` (`events/api-webhooks-put.json`,
//! API Gateway's payload with an admin's claims) on DynamoDB Local: an admin
//! sets the tenant's endpoints and gets their secrets, a URL kept keeps its
//! secret, bad endpoints are refused naming the field, a member sees nothing,
//! and each tenant sees only its own deliveries.

use calltrack_api::Api;
use calltrack_api::lambda::{request_of, to_event};
use calltrack_core::endpoints::DeliveryAttempt;
use calltrack_core::fixtures::{T0, sid};
use calltrack_core::outbox::EventType;
use calltrack_core::ports::LogDeliveries;
use calltrack_core::view::TenantId;
use calltrack_dynamo::DynamoStore;
use calltrack_service::Settings;
use calltrack_twilio::fields::{CallSid, Field};
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use lambda_http::aws_lambda_events::encodings::Body;
use serde_json::{Value, json};

/// The sample event as `method path` with `body`, from `tenant`'s user, an admin or not.
fn event(method: &str, path: &str, body: Option<Value>, tenant: &str, admin: bool) -> ApiGatewayV2httpRequest {
    let file = format!("{}/../../events/api-webhooks-put.json", env!("CARGO_MANIFEST_DIR"));
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    let (route, query) = path.split_once('?').unwrap_or((path, ""));
    event["rawPath"] = json!(route);
    event["rawQueryString"] = json!(query);
    event["requestContext"]["http"]["method"] = json!(method);
    event["requestContext"]["http"]["path"] = json!(route);
    let claims = &mut event["requestContext"]["authorizer"]["jwt"]["claims"];
    claims["custom:tenant_id"] = json!(tenant);
    if !admin {
        claims["cognito:groups"] = json!("[sales]");
    }
    if let Some(body) = body {
        event["body"] = json!(body.to_string());
    }
    serde_json::from_value(event).unwrap()
}

async fn answer(api: &Api<DynamoStore>, event: ApiGatewayV2httpRequest) -> (i64, Value) {
    let response = to_event(api.handle(&request_of(event)).await);
    let Some(Body::Text(body)) = response.body else { panic!("a JSON body") };
    (response.status_code, serde_json::from_str(&body).unwrap())
}

#[tokio::test]
async fn an_admin_sets_the_endpoints_and_a_kept_url_keeps_its_secret() {
    let api = Api::new(calltrack_dynamo::testing::store().await, Settings::default());
    let file = format!("{}/../../events/api-webhooks-put.json", env!("CARGO_MANIFEST_DIR"));
    let sample: ApiGatewayV2httpRequest = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    let (status, first) = answer(&api, sample).await;
    assert_eq!(status, 200, "{first}");
    let endpoint = &first["endpoints"][0];
    assert_eq!(endpoint["url"], "https://crm.example.com/hooks/calltrack");
    assert_eq!(endpoint["events"], json!(["call.completed", "call.qualified", "call.recording"]));
    assert!(endpoint["secret"].as_str().unwrap().starts_with("whsec_"));
    assert!(endpoint["id"].as_str().unwrap().starts_with("ep_"));

    // The same URL again, with another beside it: the first keeps its id and secret.
    let both = json!({ "endpoints": [
        { "url": "https://crm.example.com/hooks/calltrack" },
        { "url": "https://bi.example.com/in", "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" },
    ]});
    let (status, second) = answer(&api, event("PUT", "/api/webhooks", Some(both), "tenant-demo", true)).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!((&second["endpoints"][0]["id"], &second["endpoints"][0]["secret"]), (&endpoint["id"], &endpoint["secret"]));
    assert_eq!(second["endpoints"][0]["events"], json!([]), "all events");
    assert_eq!(second["endpoints"][1]["secret"], "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    let (status, read) = answer(&api, event("GET", "/api/webhooks", None, "tenant-demo", true)).await;
    assert_eq!((status, &read), (200, &second));
    // Named by its id, an endpoint moves to a new URL and keeps its secret (and its deliveries under way).
    let moved = json!({ "endpoints": [{ "id": endpoint["id"], "url": "https://crm2.example.com/hooks" }] });
    let (status, third) = answer(&api, event("PUT", "/api/webhooks", Some(moved), "tenant-demo", true)).await;
    assert_eq!(status, 200, "{third}");
    assert_eq!((&third["endpoints"][0]["id"], &third["endpoints"][0]["secret"]), (&endpoint["id"], &endpoint["secret"]));
    assert_eq!(third["endpoints"][0]["url"], "https://crm2.example.com/hooks");
    let (status, other) = answer(&api, event("GET", "/api/webhooks", None, "tenant-other", true)).await;
    assert_eq!((status, other), (200, json!({ "endpoints": [] })), "another tenant's are its own");
}

#[tokio::test]
async fn bad_endpoints_are_refused_naming_the_field_and_members_see_nothing() {
    let api = Api::new(calltrack_dynamo::testing::store().await, Settings::default());
    for (body, field) in [
        (json!({ "endpoints": [{ "url": "http://crm.example.com/hooks" }] }), "endpoints[0].url"),
        (json!({ "endpoints": [{ "url": "https://a.example.com" }, { "url": "https://a.example.com/" }] }), "endpoints[1].url"),
        (json!({ "endpoints": [{ "url": "https://a.example.com", "events": ["call.answered"] }] }), "endpoints[0].events[0]"),
        (json!({ "endpoints": [{ "url": "https://a.example.com", "secret": "hunter2" }] }), "endpoints[0].secret"),
        (json!({ "endpoints": [{ "url": "https://a.example.com", "extra": 1 }] }), "endpoints[0]"),
        (json!({ "endpoints": [{ "id": "ep_nobody", "url": "https://a.example.com" }] }), "endpoints[0].id"),
        (json!({ "endpoints": (0..11).map(|n| json!({ "url": format!("https://{n}.example.com") })).collect::<Vec<_>>() }), "endpoints"),
    ] {
        let (status, problem) = answer(&api, event("PUT", "/api/webhooks", Some(body.clone()), "tenant-demo", true)).await;
        assert_eq!(status, 400, "{body}: {problem}");
        assert!(problem["invalidParams"][0]["name"].as_str().unwrap().starts_with(field), "{body}: {problem}");
    }
    let (_, kept) = answer(&api, event("GET", "/api/webhooks", None, "tenant-demo", true)).await;
    assert_eq!(kept, json!({ "endpoints": [] }), "nothing refused was kept");
    for (method, path) in [("GET", "/api/webhooks"), ("PUT", "/api/webhooks"), ("GET", "/api/webhooks/deliveries")] {
        let body = (method == "PUT").then(|| json!({ "endpoints": [] }));
        let (status, problem) = answer(&api, event(method, path, body, "tenant-demo", false)).await;
        assert_eq!(status, 403, "{method} {path}: {problem}");
    }
}

#[tokio::test]
async fn each_tenant_sees_its_latest_deliveries_only() {
    let store = calltrack_dynamo::testing::store().await;
    let attempt = |n: u64, delivered: bool| DeliveryAttempt {
        event_id: format!("evt_{}_{n}_completed", sid("CA", n)),
        event_type: EventType::Completed,
        call_sid: CallSid::parse("CallSid", &sid("CA", n)).unwrap(),
        endpoint_id: "ep_1".into(),
        url: "https://crm.example.com/hooks".into(),
        attempt: 1,
        at: T0 + n as i64 * 1000,
        status: Some(if delivered { 204 } else { 503 }),
        error: None,
        response: String::new(),
        duration_ms: 12,
        delivered,
        retry_at: (!delivered).then_some(T0 + n as i64 * 1000 + 5000),
    };
    let demo = TenantId::parse("tenant", "tenant-demo").unwrap();
    for n in 1..=3 {
        store.log_delivery(&demo, &attempt(n, n != 2)).await.unwrap();
    }
    store.log_delivery(&TenantId::parse("tenant", "tenant-other").unwrap(), &attempt(9, true)).await.unwrap();
    let api = Api::new(store, Settings::default());

    let (status, body) = answer(&api, event("GET", "/api/webhooks/deliveries?limit=2", None, "tenant-demo", true)).await;
    assert_eq!(status, 200, "{body}");
    let seen: Vec<(&str, u64)> =
        body["deliveries"].as_array().unwrap().iter().map(|d| (d["eventId"].as_str().unwrap(), d["status"].as_u64().unwrap())).collect();
    assert_eq!(seen, [(attempt(3, true).event_id.as_str(), 204), (attempt(2, false).event_id.as_str(), 503)], "newest first");
    assert_eq!(body["deliveries"][1]["retryAt"], T0 + 7000);
    let (status, problem) = answer(&api, event("GET", "/api/webhooks/deliveries?limit=0", None, "tenant-demo", true)).await;
    assert_eq!((status, problem["invalidParams"][0]["name"].as_str()), (400, Some("limit")));
}
