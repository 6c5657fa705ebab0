//! `GET /api/calls/{callSid}/recording` (`events/api-call-recording.json`, API
//! Gateway's payload with its authorizer's claims) on DynamoDB Local and
//! moto's S3: the owner's tenant gets a presigned link that plays the audio
//! without a token; another tenant, a call with no copy, and a stack with no
//! bucket get a problem saying which.

use calltrack_api::Api;
use calltrack_api::lambda::{request_of, to_event};
use calltrack_core::call::CallUpdate;
use calltrack_core::copy::RecordingCopy;
use calltrack_core::fixtures::{ACCOUNT, Lifecycle, number};
use calltrack_core::ports::RecordCalls;
use calltrack_dynamo::DynamoStore;
use calltrack_s3::RecordingBucket;
use calltrack_service::Settings;
use calltrack_twilio::fields::{AccountSid, CallSid, Field, RecordingSid};
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use lambda_http::aws_lambda_events::encodings::Body;
use serde_json::{Value, json};
use std::time::Duration;

const AUDIO: &[u8] = b"ID3\x04\x00 a voicemail";

/// The sample event, for `call`, as a user of `tenant`.
fn event(call: &str, tenant: &str) -> ApiGatewayV2httpRequest {
    let path = format!("{}/../../events/api-call-recording.json", env!("CARGO_MANIFEST_DIR"));
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let route = format!("/api/calls/{call}/recording");
    event["rawPath"] = json!(route);
    event["requestContext"]["http"]["path"] = json!(route);
    event["requestContext"]["authorizer"]["jwt"]["claims"]["custom:tenant_id"] = json!(tenant);
    serde_json::from_value(event).unwrap()
}

async fn answer(api: &Api<DynamoStore>, event: ApiGatewayV2httpRequest) -> (i64, Value) {
    let response = to_event(api.handle(&request_of(event)).await);
    let Some(Body::Text(body)) = response.body else { panic!("a JSON body") };
    (response.status_code, serde_json::from_str(&body).unwrap())
}

/// A voicemail of `tenant-demo`, its audio copied into `bucket` when `copied`.
async fn voicemail(store: &DynamoStore, bucket: &RecordingBucket, n: u64, copied: bool) -> String {
    let call = Lifecycle::new(n);
    store.record(&call.answer(Some(&number("tenant-demo", "user-demo", None)))).await.unwrap();
    store.record(&call.recording("RecordVerb", 12, 30)).await.unwrap();
    if copied {
        let copy = RecordingCopy {
            call_sid: CallSid::parse("CallSid", &call.call_sid).unwrap(),
            account_sid: AccountSid::parse("AccountSid", ACCOUNT).unwrap(),
            recording_sid: RecordingSid::parse("RecordingSid", &call.recording_sid).unwrap(),
            tenant_id: Some("tenant-demo".into()),
        };
        let chunks = futures_util::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from_static(AUDIO))]);
        bucket.put_stream(&copy.key(), "audio/mpeg", chunks).await.unwrap();
        store.record(&CallUpdate::recording_copied(&copy, calltrack_core::fixtures::T0 + 60_000)).await.unwrap();
    }
    call.call_sid
}

#[tokio::test]
async fn the_owner_gets_a_link_that_plays_the_recording_and_nobody_else_does() {
    let store = calltrack_dynamo::testing::store().await;
    let bucket = calltrack_s3::testing::bucket().await;
    let copied = voicemail(&store, &bucket, 1, true).await;
    let not_yet = voicemail(&store, &bucket, 2, false).await;
    let settings = Settings { recording_link: Duration::from_secs(120), ..Settings::default() };
    let api = Api::new(store, settings).with_recordings(bucket);

    let (status, body) = answer(&api, event(&copied, "tenant-demo")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["contentType"].as_str(), body["durationSeconds"].as_u64()), (Some("audio/mpeg"), Some(12)));
    let url = body["url"].as_str().unwrap();
    assert!(url.contains("X-Amz-Expires=120") && url.contains("X-Amz-Signature="), "{url}");
    let expires_at = time::OffsetDateTime::parse(body["expiresAt"].as_str().unwrap(), &time::format_description::well_known::Rfc3339);
    let left = expires_at.unwrap() - time::OffsetDateTime::now_utc();
    assert!(left > time::Duration::seconds(100) && left <= time::Duration::seconds(120), "{left}");
    let played = reqwest::get(url).await.unwrap();
    assert_eq!(played.status(), 200);
    assert_eq!(played.bytes().await.unwrap(), AUDIO, "the link plays the audio, no token needed");

    let (status, body) = answer(&api, event(&copied, "tenant-other")).await;
    assert_eq!((status, body["detail"].as_str()), (404, Some(format!("no call {copied}").as_str())), "as if it did not exist");
    assert!(body.get("url").is_none());
    let (status, body) = answer(&api, event(&not_yet, "tenant-demo")).await;
    assert_eq!(status, 404);
    assert!(body["detail"].as_str().unwrap().contains("not in our bucket yet"), "{body}");
    let (status, body) = answer(&api, event("CA1", "tenant-demo")).await;
    assert_eq!((status, body["invalidParams"][0]["name"].as_str()), (400, Some("callSid")));
}

#[tokio::test]
async fn without_a_bucket_the_route_says_recordings_are_not_kept() {
    let store = calltrack_dynamo::testing::store().await;
    let call = Lifecycle::new(3);
    store.record(&call.answer(Some(&number("tenant-demo", "user-demo", None)))).await.unwrap();
    let api = Api::new(store, Settings::default());
    let (status, body) = answer(&api, event(&call.call_sid, "tenant-demo")).await;
    assert_eq!(status, 503, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("not kept in our own bucket"), "{body}");
}
