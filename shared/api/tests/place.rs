//! `POST /api/calls` (events/api-place-call.json, API Gateway HTTP API payload
//! 2.0 with its JWT claims) on DynamoDB Local, placing calls with a fake of
//! Twilio's REST API that answers as Twilio does, errors included
//! (`calltrack_twilio_api::testing`). The same request against Twilio's own
//! API description (Prism) is in cli/tests/outbound.rs.

use calltrack_api::Api;
use calltrack_api::lambda::{request_of, to_event};
use calltrack_api::place::Dialer;
use calltrack_core::fixtures::{BUSINESS, TRACKING, number};
use calltrack_core::ports::{ManageNumbers, ReadCalls};
use calltrack_core::tracking_number::TrackingNumber;
use calltrack_core::view::{CallQuery, Scope, TenantId};
use calltrack_dynamo::DynamoStore;
use calltrack_dynamo::testing::store;
use calltrack_service::Settings;
use calltrack_twilio::fields::{CallSid, CallStatus, Field, PhoneNumber};
use calltrack_twilio_api::testing::{Answer, FakeTwilio};
use calltrack_twilio_api::{Credentials, Retry, TwilioApi};
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use serde_json::{Value, json};
use std::time::Duration;

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const CUSTOMER: &str = "+14155550100";
const BASE: &str = "https://calls.example.com";

fn sid(n: u32) -> String {
    format!("CA{n:032x}")
}

/// events/api-place-call.json, as `tenant`, with `body` and `key` (none: no header).
fn post(tenant: &str, body: &Value, key: Option<&str>) -> Value {
    let path = format!("{}/../../events/api-place-call.json", env!("CARGO_MANIFEST_DIR"));
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    event["requestContext"]["authorizer"]["jwt"]["claims"]["custom:tenant_id"] = json!(tenant);
    event["body"] = json!(body.to_string());
    match key {
        Some(key) => event["headers"]["idempotency-key"] = json!(key),
        None => drop(event["headers"].as_object_mut().unwrap().remove("idempotency-key")),
    }
    event
}

/// The body events/api-place-call.json sends.
fn sample_body() -> Value {
    let path = format!("{}/../../events/api-place-call.json", env!("CARGO_MANIFEST_DIR"));
    let event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    serde_json::from_str(event["body"].as_str().unwrap()).unwrap()
}

/// Status, `Retry-After`, and the body as JSON.
async fn answer(api: &Api<DynamoStore>, event: Value) -> (i64, Option<String>, Value) {
    let event: ApiGatewayV2httpRequest = serde_json::from_value(event).unwrap();
    let response = to_event(api.handle(&request_of(event)).await);
    let retry_after = response.headers.get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    let body = match response.body {
        Some(lambda_http::aws_lambda_events::encodings::Body::Text(text)) => serde_json::from_str(&text).unwrap(),
        other => panic!("{other:?}"),
    };
    (response.status_code, retry_after, body)
}

/// The API on fresh tables with `tenant-demo`'s number (user `user-demo`,
/// the event's token), placing up to `per_second` calls a second through `twilio`.
async fn api(twilio: &FakeTwilio, per_second: u32) -> Api<DynamoStore> {
    let store = store().await;
    store.put_tracking_number(&number("tenant-demo", "user-demo", None)).await.unwrap();
    let other = TrackingNumber { phone_number: PhoneNumber::e164("n", "+18005550000").unwrap(), ..number("tenant-other", "bob", None) };
    store.put_tracking_number(&other).await.unwrap();
    let credentials = Credentials::new(ACCOUNT, "SK0123456789abcdef0123456789abcdef", "not-a-secret").unwrap();
    let twilio = TwilioApi::new(twilio.base_url(), credentials).unwrap().with_timeout(Duration::from_millis(500));
    let settings = Settings { public_base_url: Some(BASE.into()), outbound_calls_per_second: per_second, ..Settings::default() };
    Api::new(store, settings).with_dialer(Dialer { twilio, retry: Retry { attempts: 3, first_backoff: Duration::from_millis(1) } })
}

#[tokio::test]
async fn a_call_rings_the_agent_first_and_is_stored_at_once_outbound_owned_and_linked() {
    let twilio = FakeTwilio::start([Answer::call_created(&sid(1))]).await;
    let api = api(&twilio, 100).await;
    let (status, _, body) = answer(&api, post("tenant-demo", &sample_body(), None)).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["callSid"], sid(1));
    assert_eq!((body["status"].as_str(), body["direction"].as_str()), (Some("queued"), Some("outbound-api")));
    assert_eq!((body["tenantId"].as_str(), body["userId"].as_str()), (Some("tenant-demo"), Some("user-demo")), "the token's user");
    assert_eq!((body["fromNumber"].as_str(), body["toNumber"].as_str()), (Some(TRACKING), Some(CUSTOMER)));
    assert_eq!(body["crm"], json!({"contactId": "c-1001", "dealId": "d-77", "crm_campaign": "spring"}));

    // Twilio was asked to ring the agent (the number's forward-to) from the tracking number.
    let sent = twilio.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].path, format!("/2010-04-01/Accounts/{ACCOUNT}/Calls.json"));
    assert_eq!((sent[0].values("To"), sent[0].values("From")), (vec![BUSINESS], vec![TRACKING]));
    let overrides = "#rc=3&rp=5xx,ct,rt";
    assert_eq!(sent[0].values("Url"), [format!("{BASE}/api/twilio/voice/connect?customer=%2B14155550100&record=true{overrides}")]);
    assert_eq!(
        sent[0].values("StatusCallback"),
        [format!(
            "{BASE}/api/twilio/voice/status?customer=%2B14155550100&userId=user-demo&contactId=c-1001&crm_campaign=spring&dealId=d-77{overrides}"
        )]
    );
    assert_eq!(sent[0].values("StatusCallbackEvent"), ["initiated", "ringing", "answered", "completed"]);

    // Stored at once: the tenant sees it, linked to its contact.
    let call = api.store().call(&Scope::Operator, &CallSid::parse("callSid", &sid(1)).unwrap()).await.unwrap().expect("stored");
    assert_eq!(call.summary.crm.get("contactId").map(String::as_str), Some("c-1001"));
    assert_eq!(call.events.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(), ["placed"]);
}

#[tokio::test]
async fn a_double_click_places_one_call_and_the_repeat_gets_the_same_answer() {
    let twilio = FakeTwilio::start([Answer::call_created(&sid(2)), Answer::call_created(&sid(3))]).await;
    let api = api(&twilio, 100).await;
    let body = sample_body();
    let (first, second) =
        tokio::join!(answer(&api, post("tenant-demo", &body, Some("click-1"))), answer(&api, post("tenant-demo", &body, Some("click-1"))));
    let statuses = [first.0, second.0];
    assert!(statuses.contains(&201), "{statuses:?}: {} {}", first.2, second.2);
    // The two raced: the other was told the first is under way, or got its answer.
    assert!(statuses.iter().all(|s| [201, 409].contains(s)), "{statuses:?}");
    let again = answer(&api, post("tenant-demo", &body, Some("click-1"))).await;
    assert_eq!((again.0, &again.2["callSid"]), (201, &json!(sid(2))), "a repeat is the first call");
    assert_eq!(twilio.requests().len(), 1, "one call placed");

    let mut another_user = post("tenant-demo", &body, Some("click-1"));
    another_user["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = json!("user-other");
    let (status, _, problem) = answer(&api, another_user).await;
    assert_eq!(status, 422, "one user's key never hands them another's call: {problem}");
    let changed = json!({"to": "+14155550199"});
    let (status, _, problem) = answer(&api, post("tenant-demo", &changed, Some("click-1"))).await;
    assert_eq!((status, problem["invalidParams"][0]["name"].as_str()), (422, Some("Idempotency-Key")), "{problem}");
    let theirs = json!({"to": CUSTOMER, "trackingNumber": "+18005550000", "agentPhone": "+14155550111"});
    let (status, _, body) = answer(&api, post("tenant-other", &theirs, Some("click-1"))).await;
    assert_eq!(status, 201, "another tenant's key is its own: {body}");
    assert_eq!(body["callSid"], sid(3));
}

#[tokio::test]
async fn twilios_refusal_of_a_number_is_a_422_with_its_code_and_a_repeat_gets_it_again() {
    let unverified = "The number +14155550100 is unverified. Trial accounts may only make calls to verified numbers.";
    let twilio = FakeTwilio::start([Answer::twilio_error(400, 21219, unverified)]).await;
    let api = api(&twilio, 100).await;
    for _ in 0..2 {
        let (status, _, problem) = answer(&api, post("tenant-demo", &sample_body(), Some("k-422"))).await;
        assert_eq!((status, problem["twilioCode"].as_u64()), (422, Some(21219)), "{problem}");
        assert_eq!(problem["detail"], format!("Twilio refused the call: {unverified}"));
    }
    assert_eq!(twilio.requests().len(), 1, "refused once, never retried, the repeat answered from the key");
    // The attempt is kept, under an id of ours (Twilio gave it none), and says why it failed.
    let calls = api.store().calls(&CallQuery::tenant(TenantId::parse("tenant", "tenant-demo").unwrap())).await.unwrap().items;
    assert_eq!(calls.len(), 1, "{calls:?}");
    let error = format!("Twilio refused the call: {unverified} (Twilio error 21219)");
    assert_eq!(calls[0].placement_error.as_deref(), Some(error.as_str()));
    assert_eq!((calls[0].status, calls[0].crm.get("contactId").map(String::as_str)), (Some(CallStatus::Failed), Some("c-1001")));
    assert_eq!(calls[0].qualification_reason, format!("not placed: {error}"));
}

#[tokio::test]
async fn twilio_failing_is_retried_then_a_502_and_the_key_lets_a_repeat_try_again() {
    let busy = || Answer::twilio_error(503, 20503, "Service Unavailable");
    let twilio = FakeTwilio::start([busy(), busy(), busy(), Answer::call_created(&sid(4))]).await;
    let api = api(&twilio, 100).await;
    let (status, _, problem) = answer(&api, post("tenant-demo", &sample_body(), Some("k-502"))).await;
    assert_eq!(status, 502, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("503"), "{problem}");
    assert_eq!(twilio.requests().len(), 3, "three tries");
    let (status, _, body) = answer(&api, post("tenant-demo", &sample_body(), Some("k-502"))).await;
    assert_eq!((status, &body["callSid"]), (201, &json!(sid(4))), "nothing was placed, so the repeat places it");
    let calls = api.store().calls(&CallQuery::tenant(TenantId::parse("tenant", "tenant-demo").unwrap())).await.unwrap().items;
    let failed: Vec<_> = calls.iter().filter_map(|c| c.placement_error.as_deref()).collect();
    assert_eq!(calls.len(), 2, "the failed attempt, and the call");
    assert!(failed.len() == 1 && failed[0].contains("Twilio answered 503"), "{failed:?}");
}

#[tokio::test]
async fn no_answer_from_twilio_is_a_502_that_a_repeat_never_places_again() {
    let twilio = FakeTwilio::start([Answer::Silence, Answer::call_created(&sid(5))]).await;
    let api = api(&twilio, 100).await;
    for _ in 0..2 {
        let (status, _, problem) = answer(&api, post("tenant-demo", &sample_body(), Some("k-silent"))).await;
        assert_eq!(status, 502, "{problem}");
        assert!(problem["detail"].as_str().unwrap().contains("may or may not have placed the call"), "{problem}");
    }
    assert_eq!(twilio.requests().len(), 1, "the agent may be ringing: never a second call");
    let calls = api.store().calls(&CallQuery::tenant(TenantId::parse("tenant", "tenant-demo").unwrap())).await.unwrap().items;
    assert!(calls.is_empty(), "no failed call for one Twilio may have placed: {calls:?}");
}

#[tokio::test]
async fn a_tenant_past_its_rate_is_answered_429_with_retry_after() {
    let twilio = FakeTwilio::start((10..20).map(|n| Answer::call_created(&sid(n)))).await;
    let api = api(&twilio, 1).await;
    let mut answers = Vec::new();
    for _ in 0..5 {
        answers.push(answer(&api, post("tenant-demo", &sample_body(), None)).await);
    }
    let limited: Vec<_> = answers.iter().filter(|(status, _, _)| *status == 429).collect();
    assert!(!limited.is_empty(), "five calls at once, one a second allowed: {:?}", answers.iter().map(|a| a.0).collect::<Vec<_>>());
    assert!(limited.iter().all(|(_, retry_after, _)| retry_after.as_deref() == Some("1")), "{limited:?}");
    let placed = answers.iter().filter(|(status, _, _)| *status == 201).count();
    assert_eq!(twilio.requests().len(), placed, "a call refused for the rate never reaches Twilio");
}

#[tokio::test]
async fn another_tenants_tracking_number_is_refused_and_nothing_is_placed() {
    let twilio = FakeTwilio::start([]).await;
    let api = api(&twilio, 100).await;
    // Another tenant's number, and one nobody has: the same 404.
    for number in ["+18005550000", "+18005559999"] {
        let (status, _, problem) = answer(&api, post("tenant-demo", &json!({"to": CUSTOMER, "trackingNumber": number}), None)).await;
        assert_eq!((status, problem["invalidParams"][0]["name"].as_str()), (404, Some("trackingNumber")), "{problem}");
        assert_eq!(problem["detail"], format!("trackingNumber: {number} is not one of this tenant's tracking numbers"));
    }
    let cases = [
        (json!({"to": "415-555-0100"}), "to", "is not an E.164 phone number"),
        (json!({"to": TRACKING}), "to", "is the tracking number the call is placed from"),
        (json!({"to": CUSTOMER, "agentPhone": TRACKING}), "agentPhone", "is the tracking number the call is placed from"),
        (json!({"to": CUSTOMER, "agentPhone": "x"}), "agentPhone", "is not an E.164"),
        (json!({"to": CUSTOMER, "contactId": "<b>"}), "contactId", "is not a valid id"),
        (json!({"to": CUSTOMER, "crm": {"a-b": "x"}}), "crm_a-b", "is not a valid CRM parameter name"),
        (json!({"to": CUSTOMER, "from": TRACKING}), "from", "unknown field `from`"),
        (json!({}), "to", "missing field `to`"),
    ];
    for (body, name, reason) in cases {
        let (status, _, problem) = answer(&api, post("tenant-demo", &body, None)).await;
        assert_eq!((status, problem["invalidParams"][0]["name"].as_str()), (400, Some(name)), "{body}: {problem}");
        assert!(problem["invalidParams"][0]["reason"].as_str().unwrap().contains(reason), "{body}: {problem}");
    }
    let (status, _, problem) = answer(&api, post("tenant-other", &json!({"to": CUSTOMER, "trackingNumber": TRACKING}), None)).await;
    assert_eq!(status, 404, "the other way round too: {problem}");

    // An inactive number places nothing, named or the user's own.
    let inactive = TrackingNumber { active: false, ..number("tenant-demo", "user-demo", None) };
    api.store().put_tracking_number(&inactive).await.unwrap();
    for body in [json!({"to": CUSTOMER, "trackingNumber": TRACKING}), json!({"to": CUSTOMER})] {
        let (status, _, problem) = answer(&api, post("tenant-demo", &body, None)).await;
        assert_eq!((status, problem["invalidParams"][0]["name"].as_str()), (422, Some("trackingNumber")), "{body}: {problem}");
    }
    assert_eq!(twilio.requests().len(), 0, "nothing reached Twilio");
}

#[tokio::test]
async fn without_a_twilio_api_key_placing_calls_is_a_503_saying_so() {
    let store = store().await;
    store.put_tracking_number(&number("tenant-demo", "user-demo", None)).await.unwrap();
    let api = Api::new(store, Settings { public_base_url: Some(BASE.into()), ..Settings::default() });
    let (status, _, problem) = answer(&api, post("tenant-demo", &sample_body(), Some("k"))).await;
    assert_eq!(status, 503);
    assert!(problem["detail"].as_str().unwrap().contains("TWILIO_API_KEY_PARAMETER"), "{problem}");
}

#[tokio::test]
async fn a_number_bound_to_a_subaccount_places_its_calls_in_that_subaccount() {
    let twilio = FakeTwilio::start([Answer::call_created(&sid(6))]).await;
    let api = api(&twilio, 100).await;
    let subaccount = "AC00000000000000000000000000000abc";
    let bound = TrackingNumber {
        account_sid: Some(calltrack_twilio::fields::AccountSid::parse("a", subaccount).unwrap()),
        ..number("tenant-demo", "user-demo", None)
    };
    api.store().put_tracking_number(&bound).await.unwrap();
    let (status, _, body) = answer(&api, post("tenant-demo", &sample_body(), None)).await;
    assert_eq!((status, body["accountSid"].as_str()), (201, Some(subaccount)), "{body}");
    assert_eq!(twilio.requests()[0].path, format!("/2010-04-01/Accounts/{subaccount}/Calls.json"), "the key's account acts for it");
}

#[tokio::test]
async fn a_refusal_of_what_we_sent_is_the_operators_502_and_not_the_requesters_422() {
    let twilio = FakeTwilio::start([Answer::twilio_error(400, 21205, "Url is not a valid URL: http://localhost/api")]).await;
    let api = api(&twilio, 100).await;
    let (status, _, problem) = answer(&api, post("tenant-demo", &sample_body(), None)).await;
    assert_eq!((status, problem["twilioCode"].as_u64()), (502, Some(21205)), "{problem}");
    assert_eq!(twilio.requests().len(), 1, "not retried");
}

#[tokio::test]
async fn a_key_whose_request_never_finished_says_so_and_places_nothing() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let twilio = FakeTwilio::start([]).await;
    let api = api(&twilio, 100).await;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    // What a process stopped mid-request leaves: the claim, two minutes old, and no answer.
    let body = sample_body().to_string();
    let claim = [
        ("pk", AttributeValue::S("K#tenant-demo#stuck".into())),
        ("sk", AttributeValue::S("key".into())),
        ("request", AttributeValue::S(format!("user-demo\n{body}"))),
        ("claimedAt", AttributeValue::N((now - 120).to_string())),
        ("expiresAt", AttributeValue::N((now + 86_400).to_string())),
    ];
    let item = claim.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    api.store().client().put_item().table_name(&api.store().tables().index).set_item(Some(item)).send().await.unwrap();
    let (status, _, problem) = answer(&api, post("tenant-demo", &sample_body(), Some("stuck"))).await;
    assert_eq!(status, 409, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("never finished, and whether it placed a call is unknown"), "{problem}");
    assert_eq!(twilio.requests().len(), 0);
}
