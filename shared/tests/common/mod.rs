//! What the storage tests share: a DynamoDB Local store with tables of its own,
//! and the callbacks of realistic calls, built from Twilio's parameters.
#![allow(dead_code)] // each test file uses its own part

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use calltrack_shared::Params;
use calltrack_shared::apigw;
use calltrack_shared::app::{App, Route};
use calltrack_shared::call::CallUpdate;
use calltrack_shared::fields::PhoneNumber;
use calltrack_shared::store::{DynamoStore, TableNames, schema};
use calltrack_shared::tracking_number::TrackingNumber;
use calltrack_shared::voice::{CallWebhook, DialWebhook, RecordingWebhook};
use lambda_http::Body;
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

pub const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
pub const TRACKING: &str = "+18005551212";
pub const CALLER: &str = "+12125550199";
pub const BUSINESS: &str = "+14155550123";
/// 2030-01-02 17:00:00 UTC, in ms: in the future, so that DynamoDB Local's TTL
/// sweeper never deletes the events of these calls while a test runs.
pub const T0: i64 = 1_893_603_600_000;

/// A client for the DynamoDB Local that `make test` started.
pub fn client() -> Client {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB")
        .expect("these tests run against DynamoDB Local: run them with `make test` (or scripts/with-dynamodb-local cargo test)");
    Client::from_conf(config(&endpoint).build())
}

/// Client settings for a DynamoDB at `endpoint`, with local credentials.
pub fn config(endpoint: &str) -> aws_sdk_dynamodb::config::Builder {
    aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "tests"))
        .endpoint_url(endpoint)
}

/// Table names no other test uses, so tests run in parallel.
pub fn unique_tables() -> TableNames {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    TableNames::with_prefix(&format!("test-{}-{}-", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed)))
}

/// A store on fresh tables, created from template.yaml.
pub async fn store() -> DynamoStore {
    let client = client();
    let tables = unique_tables();
    schema::create_tables(&client, &tables).await.expect("tables created");
    DynamoStore::new(client, tables, Duration::from_secs(90 * 86_400))
}

/// Another store on the same tables: another Lambda, with nothing remembered.
pub fn sibling(store: &DynamoStore) -> DynamoStore {
    DynamoStore::new(store.client().clone(), store.tables().clone(), Duration::from_secs(90 * 86_400))
}

pub fn number(tenant: &str, user: &str, min_talk_seconds: Option<u32>) -> TrackingNumber {
    TrackingNumber {
        phone_number: PhoneNumber::e164("To", TRACKING).unwrap(),
        tenant_id: tenant.into(),
        user_id: user.into(),
        lead_source: Some("Google Ads".into()),
        forward_to: PhoneNumber::e164("forwardTo", BUSINESS).unwrap(),
        record: true,
        voicemail: true,
        whisper: Some("Call from Google Ads".into()),
        min_talk_seconds,
        active: true,
    }
}

/// A 34-character SID: `prefix` and `n` in hex.
pub fn sid(prefix: &str, n: u64) -> String {
    format!("{prefix}{n:032x}")
}

fn params(pairs: &[(&str, &str)]) -> Params {
    pairs.iter().copied().collect()
}

fn rfc2822(ms: i64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp(ms / 1000).unwrap();
    at.format(&time::format_description::well_known::Rfc2822).unwrap()
}

/// The callbacks of one inbound call, as Twilio would send them.
#[derive(Clone)]
pub struct Lifecycle {
    pub call_sid: String,
    pub child_sid: String,
    pub recording_sid: String,
}

impl Lifecycle {
    pub fn new(n: u64) -> Self {
        Lifecycle { call_sid: sid("CA", n), child_sid: sid("CA", n + (1 << 60)), recording_sid: sid("RE", n) }
    }

    /// The incoming call, answered at `T0` (Twilio sends no Timestamp here).
    pub fn answer(&self, number: Option<&TrackingNumber>) -> CallUpdate {
        let p = params(&[
            ("AccountSid", ACCOUNT),
            ("CallSid", &self.call_sid),
            ("CallStatus", "ringing"),
            ("Direction", "inbound"),
            ("From", CALLER),
            ("To", TRACKING),
            ("CallerName", "Ada Lovelace"),
            ("FromCity", "NEW YORK"),
            ("FromState", "NY"),
        ]);
        let hook = CallWebhook::parse(p).unwrap();
        CallUpdate::answer(&hook, number, number.is_some_and(|n| n.active), T0)
    }

    /// A parent-leg status callback, `at_s` seconds after `T0`.
    pub fn parent_status(&self, seq: u32, status: &str, at_s: i64, duration: Option<u32>) -> CallUpdate {
        let (seq, at, duration) = (seq.to_string(), rfc2822(T0 + at_s * 1000), duration.map(|d| d.to_string()));
        let mut pairs = vec![
            ("AccountSid", ACCOUNT),
            ("CallSid", self.call_sid.as_str()),
            ("CallStatus", status),
            ("Direction", "inbound"),
            ("From", CALLER),
            ("To", TRACKING),
            ("SequenceNumber", &seq),
            ("Timestamp", &at),
            ("CallbackSource", "call-progress-events"),
        ];
        if let Some(d) = &duration {
            pairs.push(("CallDuration", d));
        }
        CallUpdate::status(&CallWebhook::parse(params(&pairs)).unwrap(), T0 + at_s * 1000 + 150)
    }

    /// A `<Dial>` child-leg status callback.
    pub fn child_status(&self, seq: u32, status: &str, at_s: i64, duration: Option<u32>) -> CallUpdate {
        let (seq, at, duration) = (seq.to_string(), rfc2822(T0 + at_s * 1000), duration.map(|d| d.to_string()));
        let mut pairs = vec![
            ("AccountSid", ACCOUNT),
            ("CallSid", self.child_sid.as_str()),
            ("ParentCallSid", self.call_sid.as_str()),
            ("CallStatus", status),
            ("Direction", "outbound-dial"),
            ("From", TRACKING),
            ("To", BUSINESS),
            ("SequenceNumber", &seq),
            ("Timestamp", &at),
        ];
        if let Some(d) = &duration {
            pairs.push(("CallDuration", d));
        }
        CallUpdate::status(&CallWebhook::parse(params(&pairs)).unwrap(), T0 + at_s * 1000 + 120)
    }

    /// The `<Dial>` outcome.
    pub fn dial(&self, status: &str, talk: Option<u32>, at_s: i64) -> CallUpdate {
        let talk = talk.map(|t| t.to_string());
        let mut pairs = vec![
            ("AccountSid", ACCOUNT),
            ("CallSid", self.call_sid.as_str()),
            ("CallStatus", "in-progress"),
            ("Direction", "inbound"),
            ("From", CALLER),
            ("To", TRACKING),
            ("DialCallSid", self.child_sid.as_str()),
            ("DialCallStatus", status),
        ];
        if let Some(t) = &talk {
            pairs.push(("DialCallDuration", t));
        }
        CallUpdate::dial(&DialWebhook::parse(params(&pairs)).unwrap(), T0 + at_s * 1000 + 80)
    }

    /// A recording status callback; `source` is `DialVerb` or `RecordVerb` (voicemail).
    pub fn recording(&self, source: &str, duration: u32, at_s: i64) -> CallUpdate {
        let duration = duration.to_string();
        let url = format!("https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{}", self.recording_sid);
        let p = params(&[
            ("AccountSid", ACCOUNT),
            ("CallSid", &self.call_sid),
            ("RecordingSid", &self.recording_sid),
            ("RecordingUrl", &url),
            ("RecordingStatus", "completed"),
            ("RecordingDuration", &duration),
            ("RecordingChannels", "2"),
            ("RecordingSource", source),
        ]);
        CallUpdate::recording(&RecordingWebhook::parse(p).unwrap(), T0 + at_s * 1000 + 300)
    }

    /// A forwarded call: `ring_s` seconds of ringing at the business, then
    /// `talk_s` seconds of conversation, recorded. Eight callbacks, in Twilio's order.
    pub fn forwarded(&self, number: Option<&TrackingNumber>, ring_s: u32, talk_s: u32) -> Vec<CallUpdate> {
        let (ring, talk) = (i64::from(ring_s), i64::from(talk_s));
        vec![
            self.answer(number),
            self.child_status(0, "initiated", 1, None),
            self.child_status(1, "ringing", 1, None),
            self.child_status(2, "in-progress", 1 + ring, None),
            self.child_status(3, "completed", 1 + ring + talk, Some(talk_s)),
            self.dial("completed", Some(talk_s), 1 + ring + talk),
            self.parent_status(0, "completed", 2 + ring + talk, Some(2 + ring_s + talk_s)),
            self.recording("DialVerb", talk_s, 3 + ring + talk),
        ]
    }
}

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
