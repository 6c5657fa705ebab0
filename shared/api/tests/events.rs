//! The api function's events (`events/api-*.json`: API Gateway HTTP API
//! payload 2.0, with the claims its JWT authorizer passes) against calls
//! stored on DynamoDB Local: each token sees its own tenant's calls and
//! nothing of another's, through every route, filter and cursor.

use calltrack_api::Api;
use calltrack_api::lambda::{request_of, to_event};
use calltrack_core::fixtures::{Lifecycle, T0, number};
use calltrack_core::ports::{ManageNumbers, RecordCalls};
use calltrack_core::tracking_number::TrackingNumber;
use calltrack_dynamo::DynamoStore;
use calltrack_dynamo::testing::{sibling, store};
use calltrack_service::Settings;
use calltrack_twilio::fields::{AccountSid, Field};
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use serde_json::{Value, json};

fn event(name: &str) -> Value {
    let path = format!("{}/../../events/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// `GET path?query` as `tenant`'s user `user` (no claims at all for `None`).
fn get(path: &str, query: &str, tenant: Option<&str>) -> Value {
    let mut event = event(if path == "/api/calls" { "api-calls.json" } else { "api-call.json" });
    event["rawPath"] = json!(path);
    event["requestContext"]["http"]["path"] = json!(path);
    event["rawQueryString"] = json!(query);
    match tenant {
        Some(tenant) => event["requestContext"]["authorizer"]["jwt"]["claims"]["custom:tenant_id"] = json!(tenant),
        None => {
            event["requestContext"].as_object_mut().unwrap().remove("authorizer");
        }
    }
    event
}

/// What the function answers: status, content type, and the body as JSON.
async fn answer(api: &Api<DynamoStore>, event: Value) -> (i64, String, Value) {
    let event: ApiGatewayV2httpRequest = serde_json::from_value(event).unwrap();
    let response = to_event(api.handle(&request_of(event)).await);
    let content_type = response.headers["content-type"].to_str().unwrap().to_owned();
    let body = match response.body.unwrap() {
        lambda_http::aws_lambda_events::encodings::Body::Text(text) => serde_json::from_str(&text).unwrap(),
        other => panic!("{other:?}"),
    };
    (response.status_code, content_type, body)
}

/// Five calls of `tenant-demo` (a minute apart; the 2nd and 4th qualify) and two of `tenant-other`.
async fn api() -> (Api<DynamoStore>, Vec<String>, Vec<String>) {
    let (api, demo, other, _) = api_and_store().await;
    (api, demo, other)
}

/// [`api`], and its tables for more calls.
async fn api_and_store() -> (Api<DynamoStore>, Vec<String>, Vec<String>, DynamoStore) {
    let store = store().await;
    let mut demo = Vec::new();
    let mut other = Vec::new();
    for n in 0..7u64 {
        let (tenant, sids) = if n < 5 { ("tenant-demo", &mut demo) } else { ("tenant-other", &mut other) };
        let call = Lifecycle::new(500 + n);
        let mut answer = call.answer(Some(&number(tenant, "user-demo", None)));
        let start = T0 + n as i64 * 60_000;
        (answer.call.started_at, answer.call.created_at, answer.call.updated_at) = (start, start, start);
        store.record(&answer).await.unwrap();
        let talk = if n % 2 == 1 { 40 } else { 5 };
        store.record(&call.dial("completed", Some(talk), 300)).await.unwrap();
        store.record(&call.parent_status(0, "completed", 300, Some(talk + 3))).await.unwrap();
        sids.push(call.call_sid);
    }
    demo.reverse();
    other.reverse();
    let more = sibling(&store);
    (Api::new(store, Settings::default()), demo, other, more)
}

fn sids(body: &Value) -> Vec<String> {
    body["calls"].as_array().unwrap().iter().map(|c| c["callSid"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn the_sample_events_answer_as_documented() {
    let (api, demo, _) = api().await;
    // events/api-calls.json: qualified calls, two a page.
    let (status, content_type, body) = answer(&api, event("api-calls.json")).await;
    assert_eq!((status, content_type.as_str()), (200, "application/json"));
    assert_eq!(sids(&body), [demo[1].clone(), demo[3].clone()], "the qualified ones, newest first");
    assert!(body["calls"][0]["qualified"].as_bool().unwrap());
    assert_eq!(body["nextCursor"], Value::Null, "no more");
    // events/api-call.json names a call nobody has.
    let (status, content_type, body) = answer(&api, event("api-call.json")).await;
    assert_eq!((status, content_type.as_str(), body["status"].as_i64()), (404, "application/problem+json", Some(404)));
}

#[tokio::test]
async fn pages_walk_a_tenants_calls_newest_first_without_skips_or_repeats() {
    let (api, demo, _, store) = api_and_store().await;
    let mut seen = Vec::new();
    let mut query = "limit=2".to_owned();
    loop {
        let (status, _, body) = answer(&api, get("/api/calls", &query, Some("tenant-demo"))).await;
        assert_eq!(status, 200, "{body}");
        seen.extend(sids(&body));
        // A new call comes in between pages: it lists first next time, and moves nothing on this walk.
        let call = Lifecycle::new(600 + seen.len() as u64);
        let mut newer = call.answer(Some(&number("tenant-demo", "user-demo", None)));
        let start = T0 + 3_600_000 + seen.len() as i64;
        (newer.call.started_at, newer.call.created_at, newer.call.updated_at) = (start, start, start);
        store.record(&newer).await.unwrap();
        match body["nextCursor"].as_str() {
            Some(cursor) => query = format!("limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, demo);

    let (_, _, body) =
        answer(&api, get("/api/calls", "since=2030-01-01T00%3A02%3A00Z&until=2030-01-01T00%3A03%3A00Z", Some("tenant-demo"))).await;
    assert_eq!(body["calls"].as_array().unwrap().len(), 0, "T0 is 2030-01-03: nothing that early");
    let (_, _, body) = answer(&api, get("/api/calls", "userId=user-demo&qualified=true", Some("tenant-demo"))).await;
    assert_eq!(sids(&body), [demo[1].clone(), demo[3].clone()]);
}

#[tokio::test]
async fn a_token_sees_nothing_of_another_tenant() {
    let (api, demo, other) = api().await;
    let (_, _, body) = answer(&api, get("/api/calls", "", Some("tenant-other"))).await;
    assert_eq!(sids(&body), other);
    // Another tenant's call is a 404 exactly like a call nobody has.
    let (status, _, theirs) = answer(&api, get(&format!("/api/calls/{}", demo[0]), "", Some("tenant-other"))).await;
    let (_, _, nobodys) = answer(&api, get("/api/calls/CA0123456789abcdef0123456789abcdef", "", Some("tenant-other"))).await;
    assert_eq!(status, 404);
    assert_eq!(theirs["detail"], format!("no call {}", demo[0]));
    assert_eq!((theirs["title"].clone(), theirs["status"].clone()), (nobodys["title"].clone(), nobodys["status"].clone()));
    // The owner reads it, with its events.
    let (status, _, mine) = answer(&api, get(&format!("/api/calls/{}", demo[0]), "", Some("tenant-demo"))).await;
    assert_eq!((status, mine["tenantId"].as_str(), mine["events"].as_array().map(Vec::len)), (200, Some("tenant-demo"), Some(3)));
    // A cursor from one tenant's listing continues only the other's own.
    let (_, _, first) = answer(&api, get("/api/calls", "limit=1", Some("tenant-demo"))).await;
    let cursor = first["nextCursor"].as_str().unwrap();
    let (_, _, crossed) = answer(&api, get("/api/calls", &format!("cursor={cursor}"), Some("tenant-other"))).await;
    assert!(sids(&crossed).iter().all(|sid| other.contains(sid)), "{crossed}");
    // No filter reaches across: tenantId is not a parameter.
    let (status, _, body) = answer(&api, get("/api/calls", "tenantId=tenant-demo", Some("tenant-other"))).await;
    assert_eq!((status, body["invalidParams"][0]["name"].as_str()), (400, Some("tenantId")));
}

#[tokio::test]
async fn refusals_are_problems_naming_what_is_wrong() {
    let (api, _, _) = api().await;
    let (status, content_type, body) = answer(&api, get("/api/calls", "", None)).await;
    assert_eq!((status, content_type.as_str(), body["title"].as_str()), (401, "application/problem+json", Some("Unauthorized")));
    let mut no_tenant = get("/api/calls", "", Some("x"));
    no_tenant["requestContext"]["authorizer"]["jwt"]["claims"].as_object_mut().unwrap().remove("custom:tenant_id");
    let (status, _, body) = answer(&api, no_tenant).await;
    assert_eq!((status, body["detail"].as_str()), (403, Some("the token has no custom:tenant_id claim naming its tenant")));
    let (status, _, body) = answer(&api, get("/api/calls", "limit=500", Some("tenant-demo"))).await;
    assert_eq!(
        (status, body["invalidParams"][0]["name"].as_str(), body["detail"].as_str()),
        (400, Some("limit"), Some("limit: must be 1 to 100, not 500"))
    );
    let (status, _, body) = answer(&api, get("/api/calls/not-a-sid", "", Some("tenant-demo"))).await;
    assert_eq!((status, body["invalidParams"][0]["name"].as_str()), (400, Some("callSid")));
    let mut delete = get("/api/calls", "", Some("tenant-demo"));
    delete["requestContext"]["http"]["method"] = json!("DELETE");
    let event: ApiGatewayV2httpRequest = serde_json::from_value(delete).unwrap();
    let response = to_event(api.handle(&request_of(event)).await);
    let allowed = (response.status_code, response.headers["allow"].to_str().unwrap());
    assert_eq!(allowed, (405, "GET, POST"), "RFC 9110: a 405 names what is allowed");
    // The description needs no token.
    let (status, content_type, doc) = answer(&api, get("/api/openapi.json", "", None)).await;
    assert_eq!((status, content_type.as_str(), doc["openapi"].as_str()), (200, "application/json", Some("3.1.0")));
    let (status, _, _) = answer(&api, get("/api/nothing", "", None)).await;
    assert_eq!(status, 404, "an unknown resource, token or not");
}

/// `events/api-number-put.json` as `tenant`'s admin (or member), for `number`, with `body`.
fn put_number(number: &str, body: Option<Value>, tenant: &str, admin: bool) -> Value {
    let mut event = event("api-number-put.json");
    let path = format!("/api/numbers/{}", number.replace('+', "%2B"));
    event["rawPath"] = json!(path);
    event["requestContext"]["http"]["path"] = json!(path);
    let claims = &mut event["requestContext"]["authorizer"]["jwt"]["claims"];
    claims["custom:tenant_id"] = json!(tenant);
    claims["cognito:groups"] = json!(if admin { "[admin]" } else { "[sales]" });
    if let Some(body) = body {
        event["body"] = json!(body.to_string());
    }
    event
}

fn with_method(mut event: Value, method: &str) -> Value {
    event["requestContext"]["http"]["method"] = json!(method);
    event
}

fn numbers(body: &Value) -> Vec<String> {
    body["numbers"].as_array().unwrap().iter().map(|n| n["phoneNumber"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn admins_manage_their_tenants_numbers_and_nobody_elses() {
    let (api, _, _, store) = api_and_store().await;
    // events/api-number-put.json: an admin changes a number the operator added.
    let (status, _, body) = answer(&api, event("api-number-put.json")).await;
    assert_eq!((status, body["detail"].as_str()), (404, Some("no tracking number +18005551212 in this tenant")), "not added yet");
    let account = "AC0123456789abcdef0123456789abcdef";
    let operators =
        TrackingNumber { account_sid: Some(AccountSid::parse("account", account).unwrap()), ..number("tenant-demo", "jane", None) };
    store.put_tracking_number(&operators).await.unwrap();
    let (status, _, changed) = answer(&api, event("api-number-put.json")).await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(
        (changed["phoneNumber"].as_str(), changed["tenantId"].as_str(), changed["userId"].as_str(), changed["minTalkSeconds"].as_u64()),
        (Some("+18005551212"), Some("tenant-demo"), Some("user-demo"), Some(45))
    );
    assert_eq!(changed["accountSid"].as_str(), Some(account), "the binding stays");
    let list = |tenant: &str| {
        let mut event = with_method(put_number("+18005551212", None, tenant, false), "GET");
        (event["rawPath"], event["body"]) = (json!("/api/numbers"), Value::Null);
        event
    };
    let (status, _, mine) = answer(&api, list("tenant-demo")).await;
    assert_eq!((status, numbers(&mine)), (200, vec!["+18005551212".to_owned()]), "a member lists them too");
    let (_, _, theirs) = answer(&api, list("tenant-other")).await;
    assert!(numbers(&theirs).is_empty());

    // Another tenant can neither take it over nor remove it, and learns nothing more than a 404.
    let takeover = json!({ "userId": "mallory", "forwardTo": "+14155550999" });
    let (status, _, body) = answer(&api, put_number("+18005551212", Some(takeover), "tenant-other", true)).await;
    assert_eq!((status, body["detail"].as_str()), (404, Some("no tracking number +18005551212 in this tenant")));
    let (status, _, _) = answer(&api, with_method(put_number("+18005551212", None, "tenant-other", true), "DELETE")).await;
    assert_eq!(status, 404);
    let (_, _, mine) = answer(&api, list("tenant-demo")).await;
    assert_eq!(mine["numbers"][0]["forwardTo"], "+14155550123", "unchanged");

    // Members may not change numbers.
    let (status, _, body) = answer(&api, put_number("+18005551212", None, "tenant-demo", false)).await;
    assert_eq!((status, body["detail"].as_str()), (403, Some("only the tenant's admins may change its numbers")));
    let (status, _, _) = answer(&api, with_method(put_number("+18005551212", None, "tenant-demo", false), "DELETE")).await;
    assert_eq!(status, 403);

    // A bad body or number is named; nothing is written. The binding is not the tenant's to change.
    let (status, _, body) = answer(&api, put_number("+18005551212", Some(json!({ "userId": "bob" })), "tenant-demo", true)).await;
    assert_eq!((status, body["invalidParams"][0]["name"].as_str()), (400, Some("forwardTo")));
    let rebind = json!({ "userId": "bob", "forwardTo": "+14155550123", "accountSid": "ACfedcba9876543210fedcba9876543210" });
    let (status, _, body) = answer(&api, put_number("+18005551212", Some(rebind), "tenant-demo", true)).await;
    assert_eq!((status, body["invalidParams"][0]["name"].as_str()), (400, Some("accountSid")));
    let (status, _, body) = answer(&api, put_number("8005550100", None, "tenant-demo", true)).await;
    assert_eq!((status, body["invalidParams"][0]["name"].as_str()), (400, Some("phoneNumber")));
    let (_, _, mine) = answer(&api, list("tenant-demo")).await;
    assert_eq!(numbers(&mine).len(), 1);

    // The admin removes it: 204, then it is gone.
    let delete = || with_method(put_number("+18005551212", None, "tenant-demo", true), "DELETE");
    let event: ApiGatewayV2httpRequest = serde_json::from_value(delete()).unwrap();
    let response = to_event(api.handle(&request_of(event)).await);
    assert_eq!((response.status_code, response.body.is_none()), (204, true));
    assert_eq!(answer(&api, delete()).await.0, 404);
    let (status, _, body) = answer(&api, with_method(put_number("+18005551212", None, "tenant-demo", true), "POST")).await;
    assert_eq!((status, body["detail"].as_str()), (405, Some("this resource allows PUT, DELETE")));
}

/// `events/api-call-patch.json` for `call_sid` as `tenant`'s member `user-demo`, with `body`.
fn patch(call_sid: &str, body: Value, tenant: &str) -> Value {
    let mut event = event("api-call-patch.json");
    let path = format!("/api/calls/{call_sid}");
    (event["rawPath"], event["requestContext"]["http"]["path"]) = (json!(path), json!(path));
    event["requestContext"]["authorizer"]["jwt"]["claims"]["custom:tenant_id"] = json!(tenant);
    event["body"] = json!(body.to_string());
    event
}

/// `events/api-stats.json` as `tenant`, with `query`.
fn stats(query: &str, tenant: &str) -> Value {
    let mut event = event("api-stats.json");
    event["rawQueryString"] = json!(query);
    event["requestContext"]["authorizer"]["jwt"]["claims"]["custom:tenant_id"] = json!(tenant);
    event
}

#[tokio::test]
async fn verdicts_filters_and_counts_stay_within_the_tenant() {
    let (api, demo, other, store) = api_and_store().await;
    // demo, newest first: n = 4 (5 s), 3 (40 s, qualified), 2, 1 (qualified), 0 (the caller's first call to tenant-demo).
    let (status, _, body) = answer(&api, event("api-stats.json")).await;
    assert_eq!(status, 200, "{body}");
    let google = &body["groups"][0];
    assert_eq!(
        (google["key"].as_str(), google["calls"].as_i64(), google["answered"].as_i64(), google["missed"].as_i64()),
        (Some("Google Ads"), Some(5), Some(5), Some(0))
    );
    assert_eq!((google["qualified"].as_i64(), google["firstTimeCallers"].as_i64()), (Some(2), Some(1)), "one caller, five calls");
    assert_eq!((google["talkSeconds"].as_i64(), google["medianTalkSeconds"].as_i64()), (Some(95), Some(5)));
    assert_eq!(body["total"]["calls"].as_i64(), Some(5));

    // The sample PATCH names a call nobody has; another tenant's is the same 404, and changes nothing.
    let (status, _, _) = answer(&api, event("api-call-patch.json")).await;
    assert_eq!(status, 404);
    let (status, _, body) = answer(&api, patch(&demo[0], json!({ "leadStatus": "spam" }), "tenant-other")).await;
    assert_eq!((status, body["detail"].as_str()), (404, Some(format!("no call {}", demo[0]).as_str())));

    // A member marks the first call a good lead (the rule said too short) and both qualified ones spam.
    let (status, _, good) =
        answer(&api, patch(&demo[4], json!({ "leadStatus": "good-lead", "tags": ["quote-sent"], "value": 1250 }), "tenant-demo")).await;
    assert_eq!(status, 200, "{good}");
    assert_eq!((good["qualified"].as_bool(), good["verdict"].as_str(), good["value"].as_f64()), (Some(true), Some("manual"), Some(1250.0)));
    assert!(good["qualificationReason"].as_str().unwrap().starts_with("marked good-lead by user-demo (the rule said: too short"), "{good}");
    assert_eq!(good["dispositionHistory"][0]["changedBy"].as_str(), Some("user-demo"));
    for sid in [&demo[1], &demo[3]] {
        let (status, _, spam) = answer(&api, patch(sid, json!({ "leadStatus": "spam" }), "tenant-demo")).await;
        assert_eq!((status, spam["qualified"].as_bool()), (200, Some(false)), "{spam}");
    }
    let (status, _, body) = answer(&api, patch(&demo[1], json!({ "leadStatus": "great" }), "tenant-demo")).await;
    assert_eq!((status, body["invalidParams"][0]["name"].as_str()), (400, Some("leadStatus")));

    // The counts follow the verdicts: spam leaves the qualified count, the good lead joins it.
    let (_, _, body) = answer(&api, stats("since=2030-01-01&until=2030-01-31&groupBy=user", "tenant-demo")).await;
    assert_eq!((body["groups"][0]["key"].as_str(), body["groups"][0]["qualified"].as_i64()), (Some("user-demo"), Some(1)));

    // Each filter is one key's query, pages and all, and never another tenant's.
    let listed = |query: &'static str, tenant: &'static str| {
        let api = &api;
        async move {
            let (status, _, body) = answer(api, get("/api/calls", query, Some(tenant))).await;
            assert_eq!(status, 200, "{query}: {body}");
            (sids(&body), body["nextCursor"].as_str().map(str::to_owned))
        }
    };
    let (page, cursor) = listed("leadStatus=spam&limit=1", "tenant-demo").await;
    assert_eq!(page, [demo[1].clone()]);
    let (status, _, body) =
        answer(&api, get("/api/calls", &format!("leadStatus=spam&limit=1&cursor={}", cursor.unwrap()), Some("tenant-demo"))).await;
    assert_eq!((status, sids(&body), body["nextCursor"].clone()), (200, vec![demo[3].clone()], Value::Null));
    assert_eq!(listed("tag=quote-sent", "tenant-demo").await.0, [demo[4].clone()]);
    assert_eq!(listed("firstTimeCaller=true", "tenant-demo").await.0, [demo[4].clone()]);
    assert_eq!(listed("firstTimeCaller=true", "tenant-other").await.0, [other[1].clone()], "first calls are counted per tenant");
    assert_eq!(listed("leadStatus=spam&qualified=true", "tenant-demo").await.0, Vec::<String>::new());
    assert_eq!(listed("leadStatus=spam", "tenant-other").await.0, Vec::<String>::new());
    assert_eq!(listed("answered=true&trackingNumber=%2B18005551212&leadSource=Google+Ads", "tenant-other").await.0, other);

    // A CRM's contact: the same contact id in two tenants lists each its own call.
    for (n, tenant) in [(700, "tenant-demo"), (701, "tenant-other")] {
        let mut answer = Lifecycle::new(n).answer(Some(&number(tenant, "user-demo", None)));
        answer.call.crm.insert("contactId".into(), "c-42".into());
        store.record(&answer).await.unwrap();
    }
    let (mine, _) = listed("contactId=c-42", "tenant-demo").await;
    let (theirs, _) = listed("contactId=c-42", "tenant-other").await;
    assert_eq!((mine.len(), theirs.len()), (1, 1));
    assert_ne!(mine, theirs);
    let (_, _, body) = answer(&api, get(&format!("/api/calls/{}", mine[0]), "", Some("tenant-demo"))).await;
    assert_eq!(body["crm"]["contactId"].as_str(), Some("c-42"));

    // And another tenant's counts are its own.
    let (_, _, body) = answer(&api, stats("since=2030-01-01&until=2030-01-31", "tenant-other")).await;
    assert_eq!(
        (body["groupBy"].as_str(), body["total"]["calls"].as_i64(), body["total"]["qualified"].as_i64()),
        (Some("day"), Some(3), Some(1))
    );
}
