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
use lambda_http::Body;
use std::time::{Duration, Instant};

use common::{BASE, TOKEN, event, event_with_query};

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

    let no_sid = COMPLETED.replace("CallSid=CA0123456789abcdef0123456789abcdef&", "");
    let (status, body, _) = send(&app, Route::STATUS_FUNCTION, &event("POST", "/api/twilio/voice/status", form, &no_sid, true)).await;
    assert_eq!((status, body.as_str()), (400, "missing CallSid\n"));

    let bad_duration = "AccountSid=AC0123456789abcdef0123456789abcdef&CallSid=CA0123456789abcdef0123456789abcdef&CallStatus=completed&Direction=inbound&From=%2B12125550199&To=%2B18005551212&CallDuration=4x";
    let (status, body, _) = send(&app, Route::STATUS_FUNCTION, &event("POST", "/api/twilio/voice/status", form, bad_duration, true)).await;
    assert_eq!((status, body.as_str()), (400, "CallDuration is not a whole number: \"4x\"\n"));

    // No caller waits on a status callback: an invalid CRM link is refused there.
    let bad_crm = event_with_query("POST", "/api/twilio/voice/status", "contactId=%3Cx%3E", form, COMPLETED, true);
    let (status, body, _) = send(&app, Route::STATUS_FUNCTION, &bad_crm).await;
    assert_eq!((status, body.as_str()), (400, "contactId is not a valid id: \"<x>\" (1 to 128 of A-Z a-z 0-9 . _ : @ -)\n"));
    let tampered = bad_crm.replace("contactId=%3Cx%3E", "contactId=c-1");
    assert_eq!(send(&app, Route::STATUS_FUNCTION, &tampered).await.0, 403, "the query is signed too");
    let bad_crm = event_with_query("POST", "/api/twilio/voice/answer", "contactId=c-1", form, INCOMING, true);
    assert_eq!(send(&app, answer, &bad_crm.replace("contactId=c-1", "contactId=c-2")).await.0, 403, "on the answer route too");

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
    let dial = doc.descendants().find(|n| n.has_tag_name("Dial")).unwrap();
    assert_eq!(dial.attribute("record"), Some("do-not-record"), "the number's settings could not be read: never recorded");
    assert_eq!(dial.attribute("recordingStatusCallback"), None);
}

#[tokio::test]
async fn when_storage_hangs_a_status_callback_is_cut_off_at_the_deadline_and_queued() {
    let (queue, _) = calltrack_sqs::testing::queues(3).await;
    let app = app_with(store_at(&hanging_endpoint().await), Settings::default()).with_queue(queue.clone());
    let started = Instant::now();
    let (status, body, _) = send(
        &app,
        Route::STATUS_FUNCTION,
        &event("POST", "/api/twilio/voice/status", "application/x-www-form-urlencoded", COMPLETED, true),
    )
    .await;
    let took = started.elapsed();
    assert_eq!((status, body.as_str()), (204, ""), "taken: it is on the queue");
    let deadline = Settings::default().storage_deadline;
    assert!(took >= deadline && took < deadline + Duration::from_secs(1), "cut off after {took:?}, at the {deadline:?} deadline");
    assert_eq!(queue.receive(Duration::from_secs(1)).await.unwrap().len(), 1);
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

    // Status callbacks, by contrast, answer 503 when there is no queue to keep
    // them, so that Twilio redelivers them.
    let completed = INCOMING.replace("CallStatus=ringing", "CallStatus=completed");
    let (status, body, _) = send(
        &app,
        Route::STATUS_FUNCTION,
        &event("POST", "/api/twilio/voice/status", "application/x-www-form-urlencoded", &completed, true),
    )
    .await;
    assert_eq!((status, body.as_str()), (503, "storage unavailable; retry later\n"));
}

/// An incoming call from `from` (form-encoded as given), with its own CallSid `n`.
fn incoming_from(n: u64, from: &str) -> String {
    format!(
        "AccountSid=AC0123456789abcdef0123456789abcdef&CallSid={}&CallStatus=ringing&Direction=inbound&From={from}&To=%2B18005551212",
        common::sid("CA", n)
    )
}

fn sid(n: u64) -> calltrack_twilio::fields::CallSid {
    calltrack_twilio::fields::Field::parse("CallSid", &common::sid("CA", n)).unwrap()
}

fn dial_attribute(xml: &str, name: &str) -> Option<String> {
    let doc = roxmltree::Document::parse(xml).unwrap();
    doc.descendants().find(|n| n.has_tag_name("Dial")).and_then(|n| n.attribute(name)).map(str::to_owned)
}

async fn answer(app: &App<DynamoStore>, query: &str, body: &str) -> (u16, String) {
    let event = event_with_query("POST", "/api/twilio/voice/answer", query, "application/x-www-form-urlencoded", body, true);
    let (status, body, _) = send(app, Route::ANSWER_FUNCTION, &event).await;
    (status, body)
}

/// A call's `fromNumber` as DynamoDB holds it.
async fn stored_from(app: &App<DynamoStore>, n: u64) -> Option<aws_sdk_dynamodb::types::AttributeValue> {
    let key = aws_sdk_dynamodb::types::AttributeValue::S(common::sid("CA", n));
    let item = app.store().client().get_item().table_name(&app.store().tables().calls).key("callSid", key).send().await.unwrap();
    item.item.expect("the call is stored").get("fromNumber").cloned()
}

#[tokio::test]
async fn callers_of_every_kind_are_forwarded_and_stored_as_sent() {
    let store = common::store().await;
    store.put_tracking_number(&common::number("tenant-a", "user-1", None)).await.unwrap();
    let app = app_with(store, Settings::default());
    // From as sent (form-encoded), as stored, and the caller ID the business sees.
    let cases = [
        ("%2B12125550199", Some("+12125550199"), "+12125550199"),
        ("sip%3Aalice%40example.com", Some("sip:alice@example.com"), common::TRACKING),
        ("client%3Aalice", Some("client:alice"), common::TRACKING),
        ("anonymous", Some("anonymous"), common::TRACKING),
        ("266696687", Some("266696687"), common::TRACKING),
        ("%2B266696687", Some("+266696687"), common::TRACKING),
        ("%2B1+%28555%29+12", Some("+1 (555) 12"), common::TRACKING),
        ("", None, common::TRACKING),
    ];
    for (n, (from, stored, caller_id)) in (1..).zip(cases) {
        let (status, body) = answer(&app, "", &incoming_from(n, from)).await;
        assert_eq!(status, 200, "{from}: {body}");
        assert_eq!(
            common::elements(&body)[1..],
            [("Dial".into(), String::new()), ("Number".into(), common::BUSINESS.into())],
            "{from}: {body}"
        );
        assert_eq!(dial_attribute(&body, "callerId").as_deref(), Some(caller_id), "{from}");
        assert_eq!(dial_attribute(&body, "record").as_deref(), Some("record-from-answer-dual"), "{from}");

        let call = app.store().call(&calltrack_core::view::Scope::Operator, &sid(n)).await.unwrap().expect("stored");
        assert_eq!(call.summary.from_number.as_ref().map(|f| f.as_str()), stored, "{from}");
        assert_eq!((call.summary.tenant_id.as_deref(), call.summary.forwarded), (Some("tenant-a"), true), "{from}");
        let json = serde_json::to_value(&call.summary).unwrap();
        assert_eq!(json["fromNumber"], stored.map_or(serde_json::Value::Null, Into::into), "{from}: a string, as ever");
        let item = stored_from(&app, n).await;
        assert_eq!(item, stored.map(|s| aws_sdk_dynamodb::types::AttributeValue::S(s.into())), "{from}");
    }
}

#[tokio::test]
async fn an_incoming_call_without_a_readable_callsid_is_forwarded_and_not_stored() {
    let store = common::store().await;
    store.put_tracking_number(&common::number("tenant-a", "user-1", None)).await.unwrap();
    let app = app_with(store, Settings::default());
    for body in [
        INCOMING.replace("CallSid=CA0123456789abcdef0123456789abcdef&", ""),
        INCOMING.replace("CallSid=CA0123456789abcdef0123456789abcdef", "CallSid="),
        INCOMING.replace("CallSid=CA0123456789abcdef0123456789abcdef", "CallSid=CA123"),
        INCOMING.replace("Direction=inbound", "Direction=sideways"),
        INCOMING.replace("CallStatus=ringing", "CallStatus=exploded"),
        INCOMING.replace("AccountSid=AC0123456789abcdef0123456789abcdef&", ""),
    ] {
        let (status, answered) = answer(&app, "", &body).await;
        assert_eq!(status, 200, "{body}: {answered}");
        assert!(answered.contains(&format!(">{}</Number>", common::BUSINESS)), "{body}: forwarded: {answered}");
    }
    let scan = app.store().client().scan().table_name(&app.store().tables().calls).send().await.unwrap();
    assert_eq!(scan.items().len(), 0, "nothing to key a call on: nothing stored");
}

#[tokio::test]
async fn an_incoming_call_to_a_malformed_number_hears_the_message_and_is_stored_as_sent() {
    let app = app_with(common::store().await, Settings::default());
    let (status, body) = answer(&app, "", &incoming_from(1, "%2B12125550199").replace("To=%2B18005551212", "To=%2B1+%28800%29+555")).await;
    assert_eq!(status, 200);
    assert_eq!(
        common::elements(&body)[1..],
        [("Say".into(), Settings::default().unknown_number_message), ("Hangup".into(), String::new())]
    );
    let call = app.store().call(&calltrack_core::view::Scope::Operator, &sid(1)).await.unwrap().expect("stored");
    assert_eq!(call.summary.to_number.as_ref().map(|n| n.as_str()), Some("+1 (800) 555"));
    assert_eq!((call.summary.tracking_number, call.summary.forwarded), (None, false));
}

#[tokio::test]
async fn an_invalid_crm_link_is_left_out_and_the_caller_forwarded() {
    let store = common::store().await;
    store.put_tracking_number(&common::number("tenant-a", "user-1", None)).await.unwrap();
    let app = app_with(store, Settings::default());
    let (status, body) = answer(&app, "contactId=c-1&dealId=%3Cx%3E&userId=&crm_a%2Db=1&jobId=77", INCOMING).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(&format!(">{}</Number>", common::BUSINESS)), "{body}");
    let call = app.store().call(&calltrack_core::view::Scope::Operator, &sid_of(INCOMING)).await.unwrap().expect("stored");
    let crm: Vec<_> = call.summary.crm.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(crm, [("contactId", "c-1"), ("jobId", "77")], "the valid links kept");
    assert_eq!(call.summary.user_id.as_deref(), Some("user-1"), "an invalid userId leaves the number's user");
}

fn sid_of(form: &str) -> calltrack_twilio::fields::CallSid {
    let params = Params::from_form(form.as_bytes()).unwrap();
    calltrack_twilio::fields::Field::parse("CallSid", params.get("CallSid").unwrap()).unwrap()
}

#[tokio::test]
async fn the_disclosure_is_said_before_the_dial_only_on_recorded_calls() {
    let store = common::store().await;
    let disclosed = calltrack_core::tracking_number::TrackingNumber {
        disclosure: Some("This call may be recorded.".into()),
        ..common::number("tenant-a", "user-1", None)
    };
    store.put_tracking_number(&disclosed).await.unwrap();
    let app = app_with(store, Settings { number_cache: Duration::ZERO, ..Settings::default() });
    let (status, body) = answer(&app, "", &incoming_from(1, "%2B12125550199")).await;
    assert_eq!(status, 200);
    let names: Vec<_> = common::elements(&body).into_iter().map(|(name, text)| format!("{name} {text}").trim_end().to_owned()).collect();
    assert_eq!(names, ["Response", "Say This call may be recorded.", "Dial", &format!("Number {}", common::BUSINESS)]);
    assert_eq!(dial_attribute(&body, "record").as_deref(), Some("record-from-answer-dual"));

    // The same number, not recorded: nothing to disclose, and never recorded.
    let unrecorded = calltrack_core::tracking_number::TrackingNumber { record: false, ..disclosed };
    app.store().put_tracking_number(&unrecorded).await.unwrap();
    let (status, body) = answer(&app, "", &incoming_from(2, "%2B12125550199")).await;
    assert_eq!(status, 200);
    let names: Vec<_> = common::elements(&body).into_iter().map(|(name, _)| name).collect();
    assert_eq!(names, ["Response", "Dial", "Number"], "{body}");
    assert_eq!(dial_attribute(&body, "record").as_deref(), Some("do-not-record"));
    assert_eq!(dial_attribute(&body, "recordingStatusCallback"), None);
}

/// A dial outcome for the call `n`, `DialCallStatus` `status`, with `extra` pairs.
fn dial_outcome(n: u64, status: &str, extra: &str) -> String {
    format!(
        "AccountSid=AC0123456789abcdef0123456789abcdef&CallSid={}&CallStatus=in-progress&DialCallStatus={status}&Direction=inbound&From=%2B12125550199{extra}",
        common::sid("CA", n)
    )
}

async fn dial_result(app: &App<DynamoStore>, body: &str) -> (u16, Vec<String>) {
    let event = event("POST", "/api/twilio/voice/dial-result", "application/x-www-form-urlencoded", body, true);
    let (status, xml, _) = send(app, Route::ANSWER_FUNCTION, &event).await;
    assert_eq!(status, 200, "{body}: {xml}");
    (status, common::elements(&xml).into_iter().map(|(name, _)| name).collect())
}

#[tokio::test]
async fn a_dial_result_the_caller_waits_on_is_answered_whatever_its_fields() {
    let store = common::store().await;
    let no_voicemail = calltrack_core::tracking_number::TrackingNumber { voicemail: false, ..common::number("tenant-a", "user-1", None) };
    store.put_tracking_number(&no_voicemail).await.unwrap();
    let app = app_with(store, Settings::default());
    let voicemail = ["Response", "Say", "Record", "Hangup"];
    let hang_up = ["Response", "Hangup"];

    // A malformed To: the number is read from Called, and takes no voicemail.
    let (_, got) = dial_result(&app, &dial_outcome(1, "no-answer", "&To=%2B1+%28800%29&Called=%2B18005551212")).await;
    assert_eq!(got, hang_up);
    // No number readable at all: a voicemail, rather than a lost lead.
    let (_, got) = dial_result(&app, &dial_outcome(2, "no-answer", "&To=sip%3Asales%40example.com")).await;
    assert_eq!(got, voicemail);
    // Malformed optional fields are left out; the outcome is stored.
    let (_, got) =
        dial_result(&app, &dial_outcome(3, "busy", "&To=%2B18005551212&DialCallDuration=4.5&DialCallSid=XX1&DialBridged=1")).await;
    assert_eq!(got, hang_up);
    let call = app.store().call(&calltrack_core::view::Scope::Operator, &sid(3)).await.unwrap().expect("stored");
    assert_eq!(call.summary.dial_status, Some(calltrack_twilio::fields::DialCallStatus::Busy));
    // An outcome that cannot be read: not stored, the caller still answered.
    let (_, got) = dial_result(&app, &dial_outcome(4, "maybe", "&To=%2B18005551212&DialCallDuration=45")).await;
    assert_eq!(got, hang_up, "45 s of talk: the caller was connected");
    let (_, got) = dial_result(&app, &dial_outcome(5, "maybe", "&To=%2B18005551212").replace("&CallSid=", "&CallSidX=")).await;
    assert_eq!(got, hang_up, "the number takes no voicemail");
    for n in [4, 5] {
        assert_eq!(app.store().call(&calltrack_core::view::Scope::Operator, &sid(n)).await.unwrap(), None);
    }
}

/// The `url` of the `<Number>` an answer dials, without its connection overrides.
fn number_url(xml: &str) -> Option<String> {
    let doc = roxmltree::Document::parse(xml).unwrap();
    let url = doc.descendants().find(|n| n.has_tag_name("Number"))?.attribute("url")?;
    Some(url.split('#').next().unwrap_or_default().to_owned())
}

/// The business's side of a screened call: the screen route, with `form`.
async fn screen(app: &App<DynamoStore>, query: &str, form: &str) -> Vec<(String, String)> {
    let event = event_with_query("POST", "/api/twilio/voice/screen", query, "application/x-www-form-urlencoded", form, true);
    let (status, xml, _) = send(app, Route::ANSWER_FUNCTION, &event).await;
    assert_eq!(status, 200, "{form}: {xml}");
    common::elements(&xml)
}

#[tokio::test]
async fn a_screened_call_connects_on_a_press_of_1_and_otherwise_goes_to_voicemail_unanswered() {
    let store = common::store().await;
    let screened = calltrack_core::tracking_number::TrackingNumber { screen: true, ..common::number("tenant-a", "user-1", None) };
    store.put_tracking_number(&screened).await.unwrap();
    let app = app_with(store, Settings { number_cache: Duration::ZERO, ..Settings::default() });

    // The business is asked, after its whisper, to press 1.
    let (_, body) = answer(&app, "", &incoming_from(1, "%2B12125550199")).await;
    let url = number_url(&body).expect("the business hears TwiML before it is connected");
    assert_eq!(url, format!("{BASE}/api/twilio/voice/screen?text=Call%20from%20Google%20Ads"));
    let business_leg = format!(
        "AccountSid=AC0123456789abcdef0123456789abcdef&CallSid={}&CallStatus=in-progress&Direction=outbound-dial&From=%2B18005551212&To=%2B14155550123",
        common::sid("CA", 101)
    );
    let asked = screen(&app, "text=Call%20from%20Google%20Ads", &business_leg).await;
    let said: Vec<_> = asked.iter().map(|(name, text)| format!("{name} {text}").trim_end().to_owned()).collect();
    assert_eq!(said, ["Response", "Gather", "Say Call from Google Ads", "Say Press 1 to take this call.", "Hangup"]);
    let pressed = |digits: &str| format!("{business_leg}&Digits={digits}");
    assert_eq!(screen(&app, "", &pressed("1")).await, [("Response".into(), String::new())], "1: the TwiML ends, the caller is connected");
    assert_eq!(screen(&app, "", &pressed("7")).await[1..], [("Hangup".into(), String::new())], "another key declines");

    // Accepted: Twilio bridges the call, and the caller hangs up after.
    let (_, got) = dial_result(&app, &dial_outcome(1, "completed", "&To=%2B18005551212&DialCallDuration=45&DialBridged=true")).await;
    assert_eq!(got, ["Response", "Hangup"]);
    let call = app.store().call(&calltrack_core::view::Scope::Operator, &sid(1)).await.unwrap().expect("stored");
    assert!(call.summary.answered, "{:?}", call.summary.qualification_reason);

    // Not accepted (the business's voicemail took the call for 40 s): the caller gets ours, and the call is unanswered.
    answer(&app, "", &incoming_from(2, "%2B12125550199")).await;
    let (_, got) = dial_result(&app, &dial_outcome(2, "completed", "&To=%2B18005551212&DialCallDuration=40&DialBridged=false")).await;
    assert_eq!(got, ["Response", "Say", "Record", "Hangup"]);
    let call = app.store().call(&calltrack_core::view::Scope::Operator, &sid(2)).await.unwrap().expect("stored");
    assert!(!call.summary.answered && !call.summary.qualified);

    // Unscreened, as ever: the whisper alone, and the call connects when the business picks up.
    app.store().put_tracking_number(&calltrack_core::tracking_number::TrackingNumber { screen: false, ..screened }).await.unwrap();
    let (_, body) = answer(&app, "", &incoming_from(3, "%2B12125550199")).await;
    assert_eq!(number_url(&body).unwrap(), format!("{BASE}/api/twilio/voice/whisper?text=Call%20from%20Google%20Ads"));
}
