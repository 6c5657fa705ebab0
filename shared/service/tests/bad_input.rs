//! The bad-input corpus: requests a webhook must refuse, each with the 4xx the
//! README documents (its "Refusals" table), run as the functions run them (raw
//! API Gateway HTTP API events through `apigw::handle_event`) against DynamoDB
//! Local. None may panic, and none may write anything. Beside it, the requests
//! with bad fields that the routes a caller waits on answer with TwiML anyway.
//!
//! Besides the refusals, injection attempts through the caller's name and the
//! stored whisper and forward-to configuration must come out as inert text.

mod common;

use base64::Engine;
use calltrack_core::ports::{ManageNumbers, ReadCalls};
use calltrack_core::view::Scope;
use calltrack_dynamo::DynamoStore;
use calltrack_service::{App, Route, Settings};
use calltrack_twilio::fields::{CallSid, Field};
use calltrack_twilio::signature::{self, Algorithm, Payload};
use calltrack_twilio::{Keyring, Params};
use common::{ACCOUNT, BUSINESS, CALLER, TRACKING};
use serde_json::json;

const TOKEN: &str = "test-auth-token-not-a-secret";
const BASE: &str = "http://127.0.0.1:3000";
const CALL: &str = "CA0000000000000000000000000000b4d1";
const CHILD: &str = "CA0000000000000000000000000000b4d2";
const RECORDING: &str = "RE0000000000000000000000000000b4d3";

type Pairs = Vec<(&'static str, String)>;

/// A valid webhook for each route, as Twilio sends it.
fn valid(route: Route) -> Pairs {
    let mut p: Pairs = vec![("AccountSid", ACCOUNT.into()), ("ApiVersion", "2010-04-01".into()), ("CallSid", CALL.into())];
    let call = [("Direction", "inbound"), ("From", CALLER), ("To", TRACKING)];
    match route {
        Route::Answer => {
            p.extend(call.map(|(k, v)| (k, v.to_owned())));
            p.extend([("CallStatus", "ringing".into()), ("CallerName", "Jane Doe".into())]);
        }
        Route::Status => {
            p.extend(call.map(|(k, v)| (k, v.to_owned())));
            p.extend([
                ("CallStatus", "completed".into()),
                ("CallDuration", "52".into()),
                ("SequenceNumber", "3".into()),
                ("Timestamp", "Tue, 02 Jan 2029 17:03:12 +0000".into()),
            ]);
        }
        Route::DialResult => {
            p.extend(call.map(|(k, v)| (k, v.to_owned())));
            p.extend([
                ("CallStatus", "in-progress".into()),
                ("DialCallSid", CHILD.into()),
                ("DialCallStatus", "completed".into()),
                ("DialCallDuration", "45".into()),
            ]);
        }
        Route::Recording => p.extend([
            ("RecordingSid", RECORDING.into()),
            ("RecordingUrl", format!("https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{RECORDING}")),
            ("RecordingStatus", "completed".into()),
            ("RecordingDuration", "44".into()),
            ("RecordingChannels", "2".into()),
            ("RecordingSource", "DialVerb".into()),
        ]),
        Route::Whisper | Route::Screen | Route::Connect | Route::Goodbye => p.push(("CallStatus", "in-progress".into())),
    }
    p
}

/// `pairs` with `key` set to `value`, or removed when `value` is `None`.
fn with(mut pairs: Pairs, key: &'static str, value: Option<&str>) -> Pairs {
    pairs.retain(|(k, _)| *k != key);
    pairs.extend(value.map(|v| (key, v.to_owned())));
    pairs
}

fn form(pairs: &Pairs) -> String {
    let encode = |s: &str| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string();
    pairs.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
}

/// Twilio's signature of a form POST to `path?query` with `pairs`.
fn sign(path: &str, query: &str, pairs: &Pairs) -> String {
    let url = if query.is_empty() { format!("{BASE}{path}") } else { format!("{BASE}{path}?{query}") };
    let params: Params = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    signature::sign(TOKEN, Algorithm::HmacSha1, &url, Payload::Form(&params))
}

/// One request of the corpus.
struct Request {
    method: &'static str,
    path: String,
    query: String,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    /// As API Gateway sends form bodies; `false` for text bodies.
    base64: bool,
    /// Sent as the body instead, flagged as base64 (what API Gateway never sends).
    false_base64: Option<&'static str>,
    signature: Option<String>,
    headers: Vec<(&'static str, String)>,
}

impl Request {
    /// A correctly signed form POST of `pairs` to `route`.
    fn signed(route: Route, pairs: &Pairs) -> Self {
        Request {
            method: "POST",
            path: route.path().into(),
            query: String::new(),
            content_type: Some("application/x-www-form-urlencoded; charset=utf-8"),
            body: form(pairs).into_bytes(),
            base64: true,
            false_base64: None,
            signature: Some(sign(route.path(), "", pairs)),
            headers: Vec::new(),
        }
    }

    /// The valid webhook for `route`, as Twilio sends it.
    fn valid(route: Route) -> Self {
        Request::signed(route, &valid(route))
    }

    /// The valid webhook for `route` with `extra` bytes after its signed body.
    fn appended(route: Route, extra: &[u8]) -> Self {
        let mut request = Request::valid(route);
        request.body.extend_from_slice(extra);
        request
    }

    fn event(&self) -> String {
        let mut headers = json!({
            "content-type": self.content_type,
            "host": "127.0.0.1:3000",
            "user-agent": "TwilioProxy/1.1",
            "x-forwarded-proto": "http",
            "x-twilio-signature": self.signature,
        });
        for (name, value) in &self.headers {
            headers[*name] = json!(value);
        }
        headers.as_object_mut().unwrap().retain(|_, v| !v.is_null());
        let body = match self.false_base64 {
            Some(garbage) => garbage.to_owned(),
            None if self.base64 => base64::engine::general_purpose::STANDARD.encode(&self.body),
            None => String::from_utf8(self.body.clone()).expect("a text body"),
        };
        let route_key = format!("{} {}", self.method, self.path);
        json!({
            "version": "2.0",
            "routeKey": route_key,
            "rawPath": self.path,
            "rawQueryString": self.query,
            "headers": headers,
            "requestContext": {
                "accountId": "123456789012", "apiId": "local", "domainName": "127.0.0.1:3000", "domainPrefix": "local",
                "http": { "method": self.method, "path": self.path, "protocol": "HTTP/1.1", "sourceIp": "54.172.60.1", "userAgent": "TwilioProxy/1.1" },
                "requestId": "bad-input", "routeKey": route_key, "stage": "$default", "time": "02/Jan/2029:17:03:12 +0000", "timeEpoch": 1861981392000_i64
            },
            "body": body,
            "isBase64Encoded": self.base64 || self.false_base64.is_some(),
        })
        .to_string()
    }
}

/// A request, and the status and body (or its start) it must get.
struct Case {
    name: String,
    request: Request,
    status: u16,
    body: &'static str,
}

fn case(name: impl Into<String>, request: Request, status: u16, body: &'static str) -> Case {
    Case { name: name.into(), request, status, body }
}

/// A correctly signed request whose one field is missing or malformed.
fn field(route: Route, key: &'static str, value: Option<&str>, body: &'static str) -> Case {
    let shown = value.map_or("missing".to_owned(), |v| format!("{v:?}"));
    case(format!("{} {key} {shown}", route.path()), Request::signed(route, &with(valid(route), key, value)), 400, body)
}

fn corpus() -> Vec<Case> {
    let mut cases = Vec::new();
    let webhooks = [Route::Answer, Route::DialResult, Route::Status, Route::Recording];

    // Signatures: 403 with an empty body, whatever the route.
    for route in webhooks {
        let path = route.path();
        cases.push(case(format!("{path} without a signature"), Request { signature: None, ..Request::valid(route) }, 403, ""));
        cases.push(case(
            format!("{path} with an empty signature"),
            Request { signature: Some(String::new()), ..Request::valid(route) },
            403,
            "",
        ));
        cases.push(case(
            format!("{path} with another token's signature"),
            {
                let pairs = valid(route);
                let params: Params = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let other = signature::sign("another-token", Algorithm::HmacSha1, &format!("{BASE}{path}"), Payload::Form(&params));
                Request { signature: Some(other), ..Request::valid(route) }
            },
            403,
            "",
        ));
    }
    cases.push(case(
        "signature that is not base64",
        Request { signature: Some("not base64!".into()), ..Request::valid(Route::Status) },
        403,
        "",
    ));
    cases.push(case(
        "signature of the wrong length",
        Request { signature: Some("c2hvcnQ=".into()), ..Request::valid(Route::Status) },
        403,
        "",
    ));
    cases.push(case(
        "signature with one character changed",
        {
            let mut request = Request::valid(Route::Status);
            let signature = request.signature.take().unwrap();
            let flipped = if signature.starts_with('A') { "B" } else { "A" };
            Request { signature: Some(format!("{flipped}{}", &signature[1..])), ..request }
        },
        403,
        "",
    ));
    // Replays: a genuine signature over a changed request.
    let replay = |name: &str, route: Route, pairs: Pairs| {
        case(
            format!("replayed signature, {name}"),
            Request { signature: Request::valid(route).signature, ..Request::signed(route, &pairs) },
            403,
            "",
        )
    };
    cases.push(replay("CallStatus changed", Route::Status, with(valid(Route::Status), "CallStatus", Some("busy"))));
    cases.push(replay("CallDuration changed", Route::Status, with(valid(Route::Status), "CallDuration", Some("520"))));
    cases.push(replay("parameter added", Route::Status, with(valid(Route::Status), "Extra", Some("1"))));
    cases.push(replay("parameter removed", Route::Status, with(valid(Route::Status), "SequenceNumber", None)));
    cases.push(replay("To changed", Route::Answer, with(valid(Route::Answer), "To", Some("+18005550000"))));
    cases.push(replay(
        "RecordingUrl changed",
        Route::Recording,
        with(valid(Route::Recording), "RecordingUrl", Some("https://evil.example/r.mp3")),
    ));
    cases.push(case(
        "replayed signature, sent to another route",
        {
            let status = Request::valid(Route::Status);
            Request { path: Route::Recording.path().into(), ..status }
        },
        403,
        "",
    ));
    cases.push(case("replayed signature, query added", Request { query: "userId=u-9".into(), ..Request::valid(Route::Answer) }, 403, ""));
    cases.push(case(
        "signature over a truncated form",
        {
            let mut request = Request::valid(Route::Status);
            request.body.truncate(request.body.len() / 2);
            request
        },
        403,
        "",
    ));
    cases.push(case(
        "JSON body with a mismatched bodySHA256",
        {
            let json = br#"{"CallSid":"CA0000000000000000000000000000b4d1"}"#.to_vec();
            let query = format!("bodySHA256={}", signature::body_sha256(b"{}"));
            let signature =
                signature::sign(TOKEN, Algorithm::HmacSha1, &format!("{BASE}{}?{query}", Route::Status.path()), Payload::UrlOnly);
            Request {
                query,
                content_type: Some("application/json"),
                body: json,
                base64: false,
                signature: Some(signature),
                ..Request::valid(Route::Status)
            }
        },
        403,
        "",
    ));

    // What the body is: 415, 413, 400 with a one-line reason.
    for content_type in ["text/plain", "application/xml", "multipart/form-data; boundary=x", "text/html; charset=utf-8"] {
        cases.push(case(
            format!("content type {content_type}"),
            Request { content_type: Some(content_type), ..Request::valid(Route::Status) },
            415,
            "unsupported content type",
        ));
    }
    cases.push(case(
        "form body without a content type",
        Request { content_type: None, ..Request::valid(Route::Status) },
        415,
        "unsupported content type",
    ));
    cases.push(case("invalid UTF-8, percent-encoded", Request::appended(Route::Status, b"&CallerName=%FF%FE"), 400, "malformed body"));
    cases.push(case("invalid UTF-8, raw bytes", Request::appended(Route::Answer, b"&CallerName=\xC3\x28"), 400, "malformed body"));
    cases.push(case(
        "a character split across two parameters (found by fuzzing)",
        Request::appended(Route::Status, b"&%D9&%AA"),
        400,
        "malformed body",
    ));
    cases.push(case("huge body (1 MB)", Request::appended(Route::Status, &[b'a'; 1 << 20]), 413, "body too large"));
    cases.push(case(
        "body just over 64 KB",
        {
            let mut request = Request::valid(Route::Recording);
            request.body = [&request.body[..], b"&Pad="].concat();
            request.body.resize(64 * 1024 + 1, b'x');
            request
        },
        413,
        "body too large",
    ));
    cases.push(case(
        "base64 garbage",
        Request { false_base64: Some("%%% not base64 %%%"), ..Request::valid(Route::Status) },
        400,
        "malformed body: marked base64",
    ));
    cases.push(case(
        "base64 with bad padding",
        Request { false_base64: Some("QUJD="), ..Request::valid(Route::Answer) },
        400,
        "malformed body: marked base64",
    ));
    cases.push(case(
        "JSON that does not parse",
        Request { content_type: Some("application/json"), body: b"{\"CallSid\":".to_vec(), base64: false, ..Request::valid(Route::Status) },
        400,
        "malformed body",
    ));
    cases.push(case(
        "JSON that is not an object",
        Request { content_type: Some("application/json"), body: b"[1,2,3]".to_vec(), base64: false, ..Request::valid(Route::Status) },
        400,
        "malformed body",
    ));
    cases.push(case(
        "query a URL cannot carry",
        Request { query: "userId=<script>\"x\"".into(), ..Request::valid(Route::Answer) },
        400,
        "query string has characters",
    ));
    cases.push(case(
        "query with a space",
        Request { query: "contactId=a b".into(), ..Request::valid(Route::Status) },
        400,
        "query string has characters",
    ));
    cases.push(case(
        "host a URL cannot carry",
        Request { headers: vec![("host", "exa mple.com".into())], ..Request::valid(Route::Status) },
        400,
        "request URL has an invalid host",
    ));

    // Missing and malformed fields, correctly signed: 400 naming the field, on
    // the routes no caller waits on (the answer and dial-result routes answer
    // a caller whatever the fields: see `caller_facing_routes_answer_twiml_whatever_the_fields`).
    let status = Route::Status;
    cases.push(field(status, "CallSid", None, "missing CallSid"));
    cases.push(field(status, "CallSid", Some("CA123"), "CallSid "));
    cases.push(field(status, "From", None, "missing From"));
    cases.push(field(status, "To", Some("+1 (800) 555"), "To "));
    cases.push(field(status, "CallStatus", None, "missing CallStatus"));
    cases.push(field(status, "CallDuration", Some("4x"), "CallDuration is not a whole number: \"4x\""));
    cases.push(field(status, "CallDuration", Some("-5"), "CallDuration "));
    cases.push(field(status, "CallDuration", Some("99999999999"), "CallDuration "));
    cases.push(field(status, "SequenceNumber", Some("third"), "SequenceNumber "));
    cases.push(field(status, "Timestamp", Some("yesterday"), "Timestamp "));
    cases.push(field(status, "ParentCallSid", Some("CAshort"), "ParentCallSid "));
    let recording = Route::Recording;
    cases.push(field(recording, "RecordingSid", None, "missing RecordingSid"));
    cases.push(field(recording, "RecordingSid", Some(CALL), "RecordingSid "));
    cases.push(field(recording, "RecordingStatus", Some("done"), "RecordingStatus "));
    cases.push(field(recording, "RecordingDuration", Some("-1"), "RecordingDuration "));
    cases.push(field(recording, "CallSid", None, "missing CallSid"));
    // A stored recording URL is one a user opens: only this recording, in this account, at Twilio.
    let recording_url = format!("https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{RECORDING}");
    for url in [
        "https://evil.example/r.mp3".to_owned(),
        recording_url.replace("https://", "http://"),
        recording_url.replace("api.twilio.com", "api.twilio.com.evil.example"),
        recording_url.replace(ACCOUNT, "ACfedcba9876543210fedcba9876543210"),
        recording_url.replace(RECORDING, "REfedcba9876543210fedcba9876543210"),
        format!("{recording_url}?u=https://evil.example"),
    ] {
        cases.push(field(recording, "RecordingUrl", Some(&url), "RecordingUrl is not the URL of recording "));
    }
    cases.push(case(
        "CRM link that is not an id",
        {
            let query = "contactId=%3Cb%3E";
            Request { query: query.into(), signature: Some(sign(status.path(), query, &valid(status))), ..Request::valid(status) }
        },
        400,
        "contactId ",
    ));
    cases.push(case("whisper without its text", Request::valid(Route::Whisper), 400, "missing text"));

    // Methods and routes.
    for method in ["PUT", "DELETE", "PATCH"] {
        cases.push(case(format!("{method} to the status route"), Request { method, ..Request::valid(Route::Status) }, 405, "method"));
    }
    cases.push(case(
        "unknown route",
        Request { path: "/api/twilio/voice/nope".into(), ..Request::valid(Route::Status) },
        404,
        "no such route",
    ));
    cases.push(case(
        "route of another function",
        Request { path: "/api/twilio/sms/incoming".into(), ..Request::valid(Route::Answer) },
        404,
        "no such route",
    ));
    cases
}

async fn app() -> App<DynamoStore> {
    let store = common::store().await;
    store.put_tracking_number(&common::number("tenant-1", "user-1", None)).await.unwrap();
    App::new(store, Keyring::default().with_token(TOKEN), Settings { public_base_url: Some(BASE.into()), ..Settings::default() }, "test")
}

/// How many items each table holds.
async fn counts(app: &App<DynamoStore>) -> Vec<usize> {
    let tables = app.store().tables();
    let mut counts = Vec::new();
    for table in [&tables.calls, &tables.events, &tables.numbers] {
        let scan = app.store().client().scan().table_name(table).send().await.unwrap();
        counts.push(scan.items().len());
    }
    counts
}

#[tokio::test]
async fn every_bad_request_gets_its_4xx_and_writes_nothing() {
    let app = app().await;
    let corpus = corpus();
    assert!(corpus.len() >= 60, "the corpus has {} requests", corpus.len());
    let mut failures = Vec::new();
    for case in &corpus {
        let answer = common::invoke(&app, &case.request.event()).await;
        if answer.status != case.status || !answer.body.starts_with(case.body) || (case.body.is_empty() && !answer.body.is_empty()) {
            failures.push(format!("{}: got {} {:?}, want {} {:?}…", case.name, answer.status, answer.body, case.status, case.body));
        }
    }
    assert!(failures.is_empty(), "{} of {} requests answered wrongly:\n{}", failures.len(), corpus.len(), failures.join("\n"));
    assert_eq!(counts(&app).await, [0, 0, 1], "nothing written: no call, no event, the one tracking number");

    // The control: the same requests, unspoiled, are accepted and written.
    for route in [Route::Answer, Route::DialResult, Route::Status, Route::Recording] {
        let answer = common::invoke(&app, &Request::valid(route).event()).await;
        assert!(matches!(answer.status, 200 | 204), "{}: {} {}", route.path(), answer.status, answer.body);
    }
    assert_eq!(counts(&app).await, [1, 4, 1]);
}

/// A correctly signed request to a route a caller waits on, whose one field is
/// missing or malformed (or whose CRM link is invalid).
fn lenient(route: Route, key: &'static str, value: Option<&str>) -> (String, Request) {
    let shown = value.map_or("missing".to_owned(), |v| format!("{v:?}"));
    (format!("{} {key} {shown}", route.path()), Request::signed(route, &with(valid(route), key, value)))
}

/// What the answer and dial-result routes read leniently, and the TwiML
/// elements the caller gets: never a 4xx once the signature is valid.
fn lenient_corpus() -> Vec<(String, Request, &'static [&'static str])> {
    let forwarded: &[&str] = &["Response", "Dial", "Number"];
    let not_forwarded: &[&str] = &["Response", "Say", "Hangup"];
    let hang_up: &[&str] = &["Response", "Hangup"];
    let answer = Route::Answer;
    let dial = Route::DialResult;
    let mut cases = Vec::new();
    let mut push = |(name, request): (String, Request), elements: &'static [&'static str]| cases.push((name, request, elements));
    for (key, value) in [
        ("CallSid", None),
        ("CallSid", Some("")),
        ("CallSid", Some("RE0000000000000000000000000000b4d1")),
        ("CallSid", Some("CA123")),
        ("CallSid", Some("CA0000000000000000000000000000b4dZ")),
        ("AccountSid", None),
        ("AccountSid", Some("AC-not-a-sid")),
        ("From", None),
        ("From", Some("")),
        ("From", Some("sip:alice@example.com")),
        ("From", Some("client:alice")),
        ("From", Some("266696687")),
        ("From", Some("+1 (555) 12")),
        ("Direction", Some("sideways")),
        ("CallStatus", Some("exploded")),
        ("ParentCallSid", Some("CAshort")),
        ("Timestamp", Some("yesterday")),
    ] {
        push(lenient(answer, key, value), forwarded);
    }
    for (key, value) in [("To", None), ("To", Some("+1 (800) 555")), ("To", Some("sip:sales@example.com"))] {
        push(lenient(answer, key, value), not_forwarded);
    }
    for query in ["contactId=%3Cb%3E", "userId=", "crm_a%2Db=1&dealId=d-1"] {
        let pairs = valid(answer);
        let request = Request { query: query.into(), signature: Some(sign(answer.path(), query, &pairs)), ..Request::valid(answer) };
        push((format!("{} ?{query}", answer.path()), request), forwarded);
    }
    for (key, value) in [
        ("CallSid", None),
        ("AccountSid", Some("x")),
        ("DialCallStatus", None),
        ("DialCallStatus", Some("maybe")),
        ("DialCallDuration", Some("4.5")),
        ("DialCallSid", Some("XX0000000000000000000000000000b4d2")),
        ("DialBridged", Some("1")),
        ("To", Some("+1 (800) 555")),
        ("To", None),
    ] {
        push(lenient(dial, key, value), hang_up);
    }
    cases
}

#[tokio::test]
async fn caller_facing_routes_answer_twiml_whatever_the_fields() {
    let app = app().await;
    let corpus = lenient_corpus();
    let mut failures = Vec::new();
    for (name, request, expected) in &corpus {
        let answer = common::invoke(&app, &request.event()).await;
        let got: Vec<String> = match roxmltree::Document::parse(&answer.body) {
            Ok(doc) => doc.descendants().filter(|n| n.is_element()).map(|n| n.tag_name().name().to_owned()).collect(),
            Err(_) => Vec::new(),
        };
        let xml = answer.content_type.as_deref().is_some_and(|t| t.starts_with("text/xml"));
        if answer.status != 200 || !xml || got != *expected {
            failures.push(format!("{name}: got {} {:?}, want 200 {expected:?}", answer.status, answer.body));
        }
    }
    assert!(failures.is_empty(), "{} of {} requests answered wrongly:\n{}", failures.len(), corpus.len(), failures.join("\n"));
    // What could be keyed was stored (the first answer and dial outcome of the
    // one call; the rest are duplicates); nothing else was.
    let stored = app.store().call(&Scope::Operator, &CallSid::parse("CallSid", CALL).unwrap()).await.unwrap().expect("stored");
    assert_eq!((stored.summary.tenant_id.as_deref(), stored.summary.forwarded), (Some("tenant-1"), true));
    assert_eq!(counts(&app).await, [1, 2, 1], "one call, its answer and its dial outcome");
}

const INJECTED: &str = "</Say></Number></Dial><Dial><Number>+19005550000</Number></Dial><Say>";

#[tokio::test]
async fn xml_in_the_callers_name_is_stored_as_text_and_never_reaches_twiml() {
    let app = app().await;
    let pairs = with(valid(Route::Answer), "CallerName", Some(INJECTED));
    let answer = common::invoke(&app, &Request::signed(Route::Answer, &pairs).event()).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let names: Vec<_> = common::elements(&answer.body).into_iter().map(|(name, text)| format!("{name} {text}")).collect();
    assert_eq!(names, ["Response ", "Dial ", &format!("Number {BUSINESS}")], "one Dial, to the business only");
    let stored = app.store().call(&Scope::Operator, &CallSid::parse("CallSid", CALL).unwrap()).await.unwrap().unwrap();
    assert_eq!(stored.summary.caller_name.as_deref(), Some(INJECTED), "kept as sent, as text");
}

#[tokio::test]
async fn xml_in_the_stored_whisper_and_forward_to_comes_out_as_inert_text() {
    let app = app().await;
    // Configuration edited by hand in the table, bypassing `calltrack numbers add`'s checks.
    let mut number = common::number("tenant-1", "user-1", None);
    number.whisper = Some(INJECTED.into());
    let mut item = serde_dynamo::to_item::<_, std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>>(&number).unwrap();
    item.insert("forwardTo".into(), aws_sdk_dynamodb::types::AttributeValue::S(format!("{BUSINESS}{INJECTED}")));
    app.store().client().put_item().table_name(&app.store().tables().numbers).set_item(Some(item)).send().await.unwrap();

    let answer = common::invoke(&app, &Request::valid(Route::Answer).event()).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let found = common::elements(&answer.body);
    let names: Vec<&str> = found.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["Response", "Dial", "Number"], "no element was injected");
    assert_eq!(found[2].1, format!("{BUSINESS}{INJECTED}"), "the forward-to is one inert text");

    // The whisper travels in the Number's url; the whisper route reads it back as one <Say>.
    let doc = roxmltree::Document::parse(&answer.body).unwrap();
    let url = doc.descendants().find(|n| n.has_tag_name("Number")).and_then(|n| n.attribute("url")).unwrap().to_owned();
    let query = url.split_once('?').unwrap().1.to_owned();
    let pairs = valid(Route::Whisper);
    let whisper = Request {
        query: query.clone(),
        signature: Some(sign(Route::Whisper.path(), &query, &pairs)),
        ..Request::signed(Route::Whisper, &pairs)
    };
    let answer = common::invoke(&app, &whisper.event()).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(common::elements(&answer.body), [("Response".to_owned(), String::new()), ("Say".to_owned(), INJECTED.to_owned())]);
}
