//! Tenant binding, through the real app on DynamoDB Local: a tracking number
//! bound to subaccount A is A's alone. A callback signed with subaccount B's
//! own token (and carrying B's `AccountSid`, as B's token signs only B's) can
//! neither create an owned call on A's number, nor change A's call, nor claim
//! A's number for a call of its own; A's callbacks work as ever.

mod common;

use calltrack_core::deferred::DeferredCallback;
use calltrack_core::ports::{ManageNumbers, ReadCalls};
use calltrack_core::tracking_number::TrackingNumber;
use calltrack_core::view::{CallView, Scope, TenantId};
use calltrack_dynamo::DynamoStore;
use calltrack_service::replay;
use calltrack_service::reply::Outcome;
use calltrack_service::{App, Route, Settings};
use calltrack_twilio::fields::{AccountSid, CallSid, Field};
use calltrack_twilio::signature::{self, Algorithm, Payload};
use calltrack_twilio::{Keyring, Params};
use lambda_http::Body;

const BASE: &str = "https://calls.example.com";
const TOKEN_A: &str = "subaccount-a-token-not-a-secret";
const TOKEN_B: &str = "subaccount-b-token-not-a-secret";
const A: &str = common::ACCOUNT;
const B: &str = common::OTHER_ACCOUNT;
const FORM: &str = "application/x-www-form-urlencoded";

fn settings() -> Settings {
    Settings { public_base_url: Some(BASE.into()), ..Settings::default() }
}

/// The app with both subaccounts' own tokens, and the tracking number bound to A.
async fn app() -> App<DynamoStore> {
    let store = common::store().await;
    let bound = TrackingNumber { account_sid: Some(account(A)), ..common::number("tenant-a", "user-1", None) };
    store.put_tracking_number(&bound).await.unwrap();
    let keys = Keyring::default().with_account_token(A, TOKEN_A).with_account_token(B, TOKEN_B);
    App::new(store, keys, settings(), "test")
}

fn account(sid: &str) -> AccountSid {
    AccountSid::parse("AccountSid", sid).unwrap()
}

fn sid(n: u64) -> CallSid {
    CallSid::parse("CallSid", &common::sid("CA", n)).unwrap()
}

/// `route`'s callback with `body`, signed with `token` as Twilio signs it.
async fn send(app: &App<DynamoStore>, route: Route, token: &str, body: &str) -> (u16, String) {
    let url = format!("{BASE}{}", route.path());
    let params = Params::from_form(body.as_bytes()).unwrap();
    let request = lambda_http::http::Request::builder()
        .method("POST")
        .uri(&url)
        .header("content-type", FORM)
        .header("x-twilio-signature", signature::sign(token, Algorithm::HmacSha1, &url, Payload::Form(&params)))
        .body(Body::Text(body.to_owned()))
        .unwrap();
    let response = app.handle(Route::ALL, &request).await;
    let text = match response.body() {
        Body::Text(text) => text.clone(),
        _ => String::new(),
    };
    (response.status().as_u16(), text)
}

fn incoming(account: &str, n: u64) -> String {
    format!(
        "AccountSid={account}&CallSid={}&CallStatus=ringing&Direction=inbound&From=%2B12125550199&To=%2B18005551212",
        common::sid("CA", n)
    )
}

fn status_callback(account: &str, n: u64, seq: u32, call_status: &str) -> String {
    format!(
        "AccountSid={account}&CallSid={}&CallStatus={call_status}&CallDuration=67&Direction=inbound&From=%2B12125550199&To=%2B18005551212&SequenceNumber={seq}&Timestamp=Wed%2C+02+Jan+2030+17%3A01%3A07+%2B0000",
        common::sid("CA", n)
    )
}

fn dial(account: &str, n: u64, dial_status: &str, talk: u32) -> String {
    format!(
        "AccountSid={account}&CallSid={}&CallStatus=in-progress&DialCallStatus={dial_status}&DialCallDuration={talk}&Direction=inbound&From=%2B12125550199&To=%2B18005551212",
        common::sid("CA", n)
    )
}

fn recording(account: &str, n: u64) -> String {
    let recording = common::sid("RE", n);
    format!(
        "AccountSid={account}&CallSid={}&RecordingSid={recording}&RecordingStatus=completed&RecordingDuration=45&RecordingChannels=2&RecordingSource=DialVerb&RecordingUrl=https%3A%2F%2Fapi.twilio.com%2F2010-04-01%2FAccounts%2F{account}%2FRecordings%2F{recording}",
        common::sid("CA", n)
    )
}

async fn view(app: &App<DynamoStore>, n: u64) -> CallView {
    app.store().call(&Scope::Operator, &sid(n)).await.unwrap().expect("stored")
}

async fn tenant_a_sees(app: &App<DynamoStore>, n: u64) -> bool {
    let tenant = Scope::Tenant(TenantId::parse("tenant", "tenant-a").unwrap());
    app.store().call(&tenant, &sid(n)).await.unwrap().is_some()
}

/// The TwiML's element names, in document order.
fn elements(xml: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("not XML ({e}): {xml}"));
    doc.descendants().filter(|n| n.is_element()).map(|n| n.tag_name().name().to_owned()).collect()
}

#[tokio::test]
async fn the_accounts_own_callbacks_work_end_to_end() {
    let app = app().await;
    let (status, twiml) = send(&app, Route::Answer, TOKEN_A, &incoming(A, 1)).await;
    assert_eq!(status, 200);
    assert!(twiml.contains(&format!(">{}</Number>", common::BUSINESS)), "forwarded: {twiml}");
    assert_eq!(
        send(&app, Route::DialResult, TOKEN_A, &dial(A, 1, "completed", 45)).await,
        (200, r#"<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>"#.into())
    );
    assert_eq!(send(&app, Route::Status, TOKEN_A, &status_callback(A, 1, 0, "completed")).await, (204, String::new()));
    assert_eq!(send(&app, Route::Recording, TOKEN_A, &recording(A, 1)).await, (204, String::new()));
    let call = view(&app, 1).await.summary;
    assert_eq!((call.account_sid, call.tenant_id.as_deref()), (Some(account(A)), Some("tenant-a")));
    assert!(call.attributed && call.forwarded && call.qualified && call.recording.is_some(), "{call:?}");
    let json = serde_json::to_value(&call).unwrap();
    assert_eq!(json["accountSid"], A, "shown with the call");
    assert!(tenant_a_sees(&app, 1).await);

    // Its answer lost, A's call still gets its owner from its status callback.
    assert_eq!(send(&app, Route::Status, TOKEN_A, &status_callback(A, 2, 0, "completed")).await.0, 204);
    assert_eq!(view(&app, 2).await.summary.tenant_id.as_deref(), Some("tenant-a"));

    // B's token cannot sign as A: the keyring picks the token by AccountSid.
    assert_eq!(send(&app, Route::Status, TOKEN_B, &status_callback(A, 1, 1, "completed")).await, (403, String::new()));
}

#[tokio::test]
async fn another_accounts_call_to_the_number_is_not_forwarded_and_has_no_owner() {
    let app = app().await;
    let (status, twiml) = send(&app, Route::Answer, TOKEN_B, &incoming(B, 3)).await;
    assert_eq!(status, 200);
    assert_eq!(elements(&twiml), ["Response", "Say", "Hangup"], "{twiml}");
    assert!(twiml.contains(&settings().unknown_number_message), "the unknown number's message: {twiml}");
    let call = view(&app, 3).await.summary;
    assert_eq!((call.account_sid, call.tenant_id, call.user_id), (Some(account(B)), None, None));
    assert!(!call.attributed && !call.forwarded);
    assert_eq!(call.tracking_number.as_ref().map(|n| n.as_str()), Some(common::TRACKING));
    assert!(!tenant_a_sees(&app, 3).await, "no tenant sees it");

    // Nor does the same call queued when storage was down get an owner when replayed.
    let queued = DeferredCallback {
        route: Route::Answer.path().into(),
        url: format!("{BASE}{}", Route::Answer.path()),
        params: Params::from_form(incoming(B, 4).as_bytes()).unwrap(),
        received_at: common::T0,
        forwarded: Some(false),
    };
    assert_eq!(replay::apply(app.store(), &settings(), &queued).await, Ok(Outcome::Recorded));
    let call = view(&app, 4).await.summary;
    assert_eq!((call.account_sid, call.tenant_id, call.attributed), (Some(account(B)), None, false));
}

#[tokio::test]
async fn another_accounts_callbacks_cannot_change_the_accounts_call() {
    let app = app().await;
    send(&app, Route::Answer, TOKEN_A, &incoming(A, 5)).await;
    assert_eq!(send(&app, Route::Status, TOKEN_A, &status_callback(A, 5, 0, "in-progress")).await.0, 204);
    let before = view(&app, 5).await;

    assert_eq!(send(&app, Route::Status, TOKEN_B, &status_callback(B, 5, 1, "completed")).await, (403, String::new()));
    assert_eq!(send(&app, Route::Status, TOKEN_B, &status_callback(B, 5, 0, "in-progress")).await, (403, String::new()), "not a duplicate");
    assert_eq!(send(&app, Route::Recording, TOKEN_B, &recording(B, 5)).await, (403, String::new()));
    let (status, twiml) = send(&app, Route::DialResult, TOKEN_B, &dial(B, 5, "no-answer", 0)).await;
    assert_eq!((status, elements(&twiml)), (200, vec!["Response".to_owned(), "Hangup".to_owned()]), "no voicemail: {twiml}");
    let (status, twiml) = send(&app, Route::Answer, TOKEN_B, &incoming(B, 5)).await;
    assert_eq!((status, elements(&twiml)), (200, vec!["Response".to_owned(), "Say".to_owned(), "Hangup".to_owned()]));
    assert_eq!(view(&app, 5).await, before, "the call and its events unchanged");

    // Queued, it is refused all the same, and done with.
    let queued = DeferredCallback {
        route: Route::Status.path().into(),
        url: format!("{BASE}{}", Route::Status.path()),
        params: Params::from_form(status_callback(B, 5, 2, "completed").as_bytes()).unwrap(),
        received_at: common::T0,
        forwarded: None,
    };
    assert_eq!(replay::apply(app.store(), &settings(), &queued).await, Ok(Outcome::ForeignAccount));
    assert_eq!(view(&app, 5).await, before);
}

#[tokio::test]
async fn another_accounts_call_claims_no_owner_from_the_number() {
    let app = app().await;
    // B's call to A's number, its answer lost: its status names the number.
    assert_eq!(send(&app, Route::Status, TOKEN_B, &status_callback(B, 6, 0, "completed")).await, (204, String::new()));
    let call = view(&app, 6).await;
    assert_eq!((call.summary.account_sid, call.summary.tenant_id.as_deref()), (Some(account(B)), None));
    assert!(!call.summary.attributed);
    let kinds: Vec<_> = call.events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["status"], "no owner event");
    // A redelivery checks again, and claims nothing either.
    assert_eq!(send(&app, Route::Status, TOKEN_B, &status_callback(B, 6, 0, "completed")).await.0, 204);
    assert_eq!(view(&app, 6).await, call);
    assert!(!tenant_a_sees(&app, 6).await);
}
