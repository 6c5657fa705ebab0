//! Real API Gateway HTTP API (v2) events, run through `lambda_http`'s own request
//! conversion, then rebuilt into the URL Twilio signed and verified. The events
//! and their signatures come from tests/data/apigw/generate.py (Python's hmac).

use calltrack_service::request::{UrlParts, public_url, webhook_of};
use calltrack_twilio::Keyring;
use calltrack_twilio::voice::CallWebhook;

const TEST_TOKEN: &str = "test-auth-token-not-a-secret";

fn request(event: &str) -> lambda_http::Request {
    lambda_http::request::from_str(event).expect("a valid API Gateway v2 event")
}

fn keys() -> Keyring {
    Keyring::default().with_token(TEST_TOKEN)
}

#[test]
fn default_stage_falls_back_to_the_event_domain_and_raw_path() {
    let hook = webhook_of(&request(include_str!("data/apigw/default-stage.json")), None).unwrap();
    assert_eq!(hook.url, "https://abc123defg.execute-api.us-east-1.amazonaws.com/api/twilio/voice/status");
    assert_eq!(hook.verify(&keys()), Ok(()));
    // The base64 body was decoded into the 14 parameters.
    let call = CallWebhook::parse(hook.params).unwrap();
    assert_eq!((call.call_sid.as_str(), call.duration_seconds), ("CA0123456789abcdef0123456789abcdef", Some(47)));
}

#[test]
fn named_stage_is_part_of_the_fallback_url() {
    let hook = webhook_of(&request(include_str!("data/apigw/named-stage.json")), None).unwrap();
    assert_eq!(hook.url, "https://abc123defg.execute-api.us-east-1.amazonaws.com/prod/api/twilio/voice/status");
    assert_eq!(hook.verify(&keys()), Ok(()));
}

#[test]
fn named_stage_with_a_configured_base_url() {
    let base = "https://abc123defg.execute-api.us-east-1.amazonaws.com/prod";
    let hook = webhook_of(&request(include_str!("data/apigw/named-stage.json")), Some(base)).unwrap();
    assert_eq!(hook.url, "https://abc123defg.execute-api.us-east-1.amazonaws.com/prod/api/twilio/voice/status");
    assert_eq!(hook.verify(&keys()), Ok(()));
}

#[test]
fn custom_domain_needs_the_configured_base_url() {
    let event = include_str!("data/apigw/custom-domain.json");
    let hook = webhook_of(&request(event), Some("https://calls.example.com/twilio/")).unwrap();
    assert_eq!(hook.url, "https://calls.example.com/twilio/api/twilio/voice/status");
    assert_eq!(hook.verify(&keys()), Ok(()));
    // Without it, the base path mapping is lost and the signature cannot match.
    let hook = webhook_of(&request(event), None).unwrap();
    assert_eq!(hook.url, "https://calls.example.com/api/twilio/voice/status");
    assert!(hook.verify(&keys()).is_err());
}

#[test]
fn raw_query_string_is_kept_byte_for_byte() {
    let hook = webhook_of(&request(include_str!("data/apigw/raw-query.json")), None).unwrap();
    assert_eq!(
        hook.url,
        "https://abc123defg.execute-api.us-east-1.amazonaws.com/api/twilio/voice/status?tenant=t1&note=a+b%20c&name=O'Brien&crm_id=%7B42%7D"
    );
    assert_eq!(hook.verify(&keys()), Ok(()));
}

#[test]
fn json_body_is_verified_through_its_hash() {
    let hook = webhook_of(&request(include_str!("data/apigw/json-body.json")), None).unwrap();
    assert_eq!(hook.verify(&keys()), Ok(()));
    assert_eq!(hook.params.get("CallStatus"), Some("completed"));
}

#[test]
fn a_changed_body_or_token_fails() {
    let event = include_str!("data/apigw/raw-query.json").replace("CallDuration=47", "CallDuration=99");
    let hook = webhook_of(&request(&event), None).unwrap();
    assert_eq!(hook.params.get("CallDuration"), Some("99"));
    assert!(hook.verify(&keys()).is_err());
    let hook = webhook_of(&request(include_str!("data/apigw/default-stage.json")), None).unwrap();
    assert!(hook.verify(&Keyring::default().with_token("another-token")).is_err());
}

#[test]
fn public_url_rules() {
    let parts = UrlParts {
        public_base_url: Some("https://calls.example.com"),
        route_key: Some("POST /api/twilio/voice/status"),
        stage: Some("prod"),
        domain_name: Some("abc.execute-api.us-east-1.amazonaws.com"),
        raw_path: "/prod/api/twilio/voice/status",
        raw_query: Some("a=1"),
    };
    assert_eq!(public_url(parts), "https://calls.example.com/api/twilio/voice/status?a=1");
    // A catch-all route has no literal path: the raw path without its stage stands in.
    let catch_all = UrlParts { route_key: Some("$default"), ..parts };
    assert_eq!(public_url(catch_all), "https://calls.example.com/api/twilio/voice/status?a=1");
    let templated = UrlParts { route_key: Some("POST /api/{proxy+}"), ..parts };
    assert_eq!(public_url(templated), "https://calls.example.com/api/twilio/voice/status?a=1");
    // A stage name that merely prefixes the first segment is not stripped.
    let lookalike = UrlParts { route_key: None, stage: Some("api"), raw_path: "/apiary/x", ..parts };
    assert_eq!(public_url(lookalike), "https://calls.example.com/apiary/x?a=1");
    // No base URL: the event's domain and raw path.
    let fallback = UrlParts { public_base_url: None, raw_query: Some(""), ..parts };
    assert_eq!(public_url(fallback), "https://abc.execute-api.us-east-1.amazonaws.com/prod/api/twilio/voice/status");
    let empty_base = UrlParts { public_base_url: Some(""), raw_query: None, ..parts };
    assert_eq!(public_url(empty_base), "https://abc.execute-api.us-east-1.amazonaws.com/prod/api/twilio/voice/status");
}

#[test]
fn methods_and_content_types_are_refused_with_their_status() {
    let event = include_str!("data/apigw/default-stage.json");
    let put = event.replace(r#""method": "POST""#, r#""method": "PUT""#);
    let err = webhook_of(&request(&put), None).unwrap_err();
    assert_eq!((err.http_status(), err.to_string()), (405, "method PUT not allowed: webhooks are POST or GET".into()));
    let xml = event.replace(r#""content-type": "application/x-www-form-urlencoded""#, r#""content-type": "text/xml""#);
    let err = webhook_of(&request(&xml), None).unwrap_err();
    assert_eq!(err.http_status(), 415);
    // A charset parameter is fine.
    let charset = event.replace(
        r#""content-type": "application/x-www-form-urlencoded""#,
        r#""content-type": "application/x-www-form-urlencoded; charset=UTF-8""#,
    );
    assert!(webhook_of(&request(&charset), None).unwrap().verify(&keys()).is_ok());
}
