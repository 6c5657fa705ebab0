//! Every sample event in `events/`, run as the functions run it (the raw API
//! Gateway event through `apigw::handle_event` and the real handlers), against
//! DynamoDB Local: the status code, the TwiML (parsed) and what was stored.
//! And `events/env.json`, the variables they need under `sam local invoke`.

mod common;

use calltrack_core::ports::{ManageNumbers, ReadCalls};
use calltrack_core::view::{CallSummary, CallView, Scope};
use calltrack_dynamo::DynamoStore;
use calltrack_service::route::Route;
use calltrack_service::{App, Settings};
use calltrack_twilio::fields::{CallSid, DialCallStatus, Field};
use calltrack_twilio::{Keyring, fields::CallStatus};
use common::Answer;

const TEST_TOKEN: &str = "test-auth-token-not-a-secret";
const LOCAL: &str = "http://127.0.0.1:3000";
/// The connection overrides on every callback URL we give Twilio.
const RC: &str = calltrack_service::route::CONNECTION_OVERRIDES;
const PARENT: &str = "CA7c1e3f0a9b2d4c6e8f0a1b2c3d4e5f60";

async fn app() -> App<DynamoStore> {
    let store = common::store().await;
    store.put_tracking_number(&common::number("tenant-demo", "user-1", None)).await.unwrap();
    let config = Settings { public_base_url: Some(LOCAL.into()), ..Settings::default() };
    App::new(store, Keyring::default().with_token(TEST_TOKEN), config, "test")
}

async fn run(app: &App<DynamoStore>, event: &str) -> Answer {
    common::invoke(app, event).await
}

/// The TwiML's elements as `name [attr=value ...] text`, one per line.
fn twiml(answer: &Answer) -> Vec<String> {
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.content_type.as_deref(), Some("text/xml; charset=utf-8"));
    let doc = roxmltree::Document::parse(&answer.body).expect("TwiML is XML");
    doc.descendants()
        .filter(|n| n.is_element())
        .map(|n| {
            let attrs: Vec<_> = n.attributes().map(|a| format!("{}={}", a.name(), a.value())).collect();
            let text: String = n.children().filter(|c| c.is_text()).filter_map(|c| c.text()).collect();
            [n.tag_name().name().to_owned(), attrs.join(" "), text].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ")
        })
        .collect()
}

async fn stored(app: &App<DynamoStore>, sid: &str) -> Option<CallView> {
    app.store().call(&Scope::Operator, &CallSid::parse("CallSid", sid).unwrap()).await.unwrap()
}

async fn call(app: &App<DynamoStore>, sid: &str) -> CallSummary {
    stored(app, sid).await.expect("the call is stored").summary
}

fn no_content(answer: &Answer) {
    assert_eq!((answer.status, answer.body.as_str()), (204, ""), "status and recording callbacks answer 204");
}

#[tokio::test]
async fn every_sample_event() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../events");
    let mut names: Vec<String> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    // env.json is `sam local`'s settings; api-* are the api function's (shared/api/tests/events.rs).
    names.retain(|n| n != "env.json" && !n.starts_with("api-"));
    names.sort();
    assert!(names.len() >= 29, "{names:?}");
    let mut routes = Vec::new();
    for name in names {
        let event = std::fs::read_to_string(format!("{dir}/{name}")).unwrap();
        // Each event meets a fresh stack, holding only the demo tracking number.
        let app = app().await;
        let answer = run(&app, &event).await;
        let path: serde_json::Value = serde_json::from_str(&event).unwrap();
        routes.extend(Route::find(Route::ALL, path["rawPath"].as_str().unwrap()));
        let stem = name.trim_end_matches(".json");
        match stem {
            "answer-known-number" => {
                assert_eq!(
                    twiml(&answer),
                    [
                        "Response".to_owned(),
                        format!(
                            "Dial action={LOCAL}/api/twilio/voice/dial-result#{RC} timeout=20 callerId=+12125550199 answerOnBridge=true record=record-from-answer-dual recordingStatusCallback={LOCAL}/api/twilio/voice/recording#{RC} recordingStatusCallbackEvent=completed absent"
                        ),
                        format!(
                            "Number statusCallback={LOCAL}/api/twilio/voice/status#{RC} statusCallbackEvent=initiated ringing answered completed url={LOCAL}/api/twilio/voice/whisper?text=Call%20from%20Google%20Ads#{RC} +14155550123"
                        ),
                    ]
                );
                let c = call(&app, PARENT).await;
                assert!(c.attributed && c.forwarded);
                assert_eq!(
                    (c.tenant_id.as_deref(), c.lead_source.as_deref(), c.status),
                    (Some("tenant-demo"), Some("Google Ads"), Some(CallStatus::Ringing))
                );
            }
            "answer-unknown-number" => {
                assert_eq!(twiml(&answer), ["Response", "Say Sorry, this number is not in service.", "Hangup"]);
                let c = call(&app, PARENT).await;
                assert!(!c.attributed && !c.forwarded, "stored all the same, without an owner");
            }
            "answer-bad-signature" => {
                assert_eq!((answer.status, answer.body.as_str()), (403, ""), "nothing echoed");
                assert_eq!(stored(&app, PARENT).await, None, "nothing written");
            }
            "answer-crm-outbound" => {
                assert_eq!(twiml(&answer)[1].split(' ').next(), Some("Dial"));
                let c = call(&app, "CA00000000000000000000000000000042").await;
                assert_eq!((c.tenant_id.as_deref(), c.user_id.as_deref()), (Some("tenant-demo"), Some("u-7")), "userId names the user");
                assert_eq!(c.tracking_number.map(|n| n.to_string()).as_deref(), Some("+18005551212"), "From, for outbound-api");
                let crm: Vec<_> = c.crm.iter().map(|(k, v)| format!("{k}={v}")).collect();
                assert_eq!(crm, ["contactId=c-1001", "dealId=d-55"]);
            }
            "dial-result-answered" => {
                assert_eq!(twiml(&answer), ["Response", "Hangup"]);
                let c = call(&app, PARENT).await;
                assert_eq!((c.dial_status, c.talk_seconds), (Some(DialCallStatus::Completed), Some(45)));
            }
            "dial-result-no-answer" => {
                assert_eq!(
                    twiml(&answer),
                    [
                        "Response".to_owned(),
                        "Say Sorry, nobody can take your call right now. Please leave a message after the beep.".to_owned(),
                        format!(
                            "Record maxLength=120 playBeep=true timeout=5 action={LOCAL}/api/twilio/voice/goodbye#{RC} recordingStatusCallback={LOCAL}/api/twilio/voice/recording#{RC} recordingStatusCallbackEvent=completed absent"
                        ),
                        "Hangup".to_owned(),
                    ]
                );
                assert_eq!(call(&app, PARENT).await.dial_status, Some(DialCallStatus::NoAnswer));
            }
            // The same, as Twilio sends it when the URL is set to GET: the parameters in the query.
            "whisper" | "whisper-get" => {
                assert_eq!(twiml(&answer), ["Response", "Say Call from Google Ads"], "the text of the <Number url>");
                assert_eq!(stored(&app, PARENT).await, None, "nothing to store");
            }
            "screen" => {
                assert_eq!(
                    twiml(&answer),
                    [
                        "Response".to_owned(),
                        format!("Gather numDigits=1 timeout=6 action={LOCAL}/api/twilio/voice/screen#{RC}"),
                        "Say Call from Google Ads".to_owned(),
                        "Say Press 1 to take this call.".to_owned(),
                        "Hangup".to_owned(),
                    ],
                    "the whisper, then the prompt"
                );
                assert_eq!(stored(&app, PARENT).await, None, "nothing to store");
            }
            "screen-pressed-1" => {
                assert_eq!(twiml(&answer), ["Response"], "the TwiML ends: Twilio connects the caller");
                assert_eq!(stored(&app, PARENT).await, None, "nothing to store");
            }
            // A call placed through the API reached the agent: press 1, then the customer is dialled.
            "connect" => {
                let connect = format!("{LOCAL}/api/twilio/voice/connect?customer=%2B14155550100&record=true#{RC}");
                let expected = [
                    "Response".to_owned(),
                    format!("Gather numDigits=1 timeout=6 action={connect}"),
                    "Say Press 1 to place your call.".to_owned(),
                    "Hangup".to_owned(),
                ];
                assert_eq!(twiml(&answer), expected);
            }
            "connect-pressed-1" => {
                assert_eq!(
                    twiml(&answer),
                    [
                        "Response".to_owned(),
                        format!(
                            "Dial action={LOCAL}/api/twilio/voice/dial-result#{RC} timeout=20 callerId=+18005551212 record=record-from-answer-dual recordingStatusCallback={LOCAL}/api/twilio/voice/recording#{RC} recordingStatusCallbackEvent=completed absent"
                        ),
                        format!(
                            "Number statusCallback={LOCAL}/api/twilio/voice/status#{RC} statusCallbackEvent=initiated ringing answered completed +14155550100"
                        ),
                    ]
                );
            }
            "goodbye" => {
                assert_eq!(twiml(&answer), ["Response", "Say Thank you. Goodbye.", "Hangup"]);
                assert_eq!(stored(&app, PARENT).await, None, "nothing to store");
            }
            "recording-completed" => {
                no_content(&answer);
                let recording = call(&app, PARENT).await.recording.expect("attached");
                assert_eq!((recording.sid.as_str(), recording.duration_seconds), ("RE5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d", Some(44)));
            }
            "recording-absent" => {
                no_content(&answer);
                let detail = stored(&app, PARENT).await.unwrap();
                assert_eq!(detail.events[0].status.as_deref(), Some("absent"));
                assert!(!detail.summary.voicemail, "no message, no voicemail");
            }
            _ if stem.starts_with("status-parent-") => {
                no_content(&answer);
                let status = CallStatus::parse("CallStatus", &stem["status-parent-".len()..]).unwrap();
                let c = call(&app, PARENT).await;
                assert_eq!(c.status, Some(status), "{name}");
                assert_eq!(c.tenant_id.as_deref(), Some("tenant-demo"), "with no answer stored, the owner comes from the tracking number");
            }
            _ if stem.starts_with("status-child-") => {
                no_content(&answer);
                let status = &stem["status-child-".len()..];
                let detail = stored(&app, PARENT).await.expect("filed under the parent");
                assert_eq!(detail.events.len(), 1);
                assert!(
                    detail.events[0].event_key.starts_with("status#CA1f2e3d4c5b6a79808f7e6d5c4b3a2910#"),
                    "{}",
                    detail.events[0].event_key
                );
                assert_eq!(detail.events[0].status.as_deref(), Some(status));
                assert_eq!(detail.summary.status, None, "a child leg does not move the parent's status");
                assert_eq!(detail.summary.talk_seconds, (status == "completed").then_some(45));
            }
            _ => panic!("events/{name} has no expectation here: add one"),
        }
    }
    for route in Route::ALL {
        assert!(routes.contains(route), "no sample event for {}", route.path());
    }
}

/// `sam local invoke --env-vars events/env.json` runs the events as documented:
/// the test token given directly, the local base URL they are signed for. SAM
/// passes a function only the variables its template declares, so each must be.
#[test]
fn env_json_runs_the_events() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let env: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(format!("{root}/events/env.json")).unwrap()).unwrap();
    let vars = env["Parameters"].as_object().expect("one set of variables for every function");
    assert_eq!(vars["TWILIO_AUTH_TOKEN"], TEST_TOKEN);
    assert_eq!(vars["PUBLIC_BASE_URL"], LOCAL);
    let template = std::fs::read_to_string(format!("{root}/template.yaml")).unwrap();
    for name in vars.keys() {
        assert!(template.contains(&format!("        {name}: ")), "template.yaml's Globals do not declare {name}");
    }
    assert!(template.contains("        TWILIO_AUTH_TOKEN: \"\"\n"), "a deployed stack gives no token directly");
}
