//! The client against a Prism mock built from Twilio's own OpenAPI description
//! (`scripts/with-prism`, which `make test` runs): every request it sends must
//! be one the description allows, or Prism refuses it.

use calltrack_twilio::fields::{AccountSid, Field, PhoneNumber};
use calltrack_twilio_api::{ApiError, Credentials, NewCall, TwilioApi, VoiceConfig};

/// The account, number and SID of the description's own examples, which Prism answers with.
const ACCOUNT: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const NUMBER: &str = "+18089255327";
const NUMBER_SID: &str = "PNaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

fn api() -> TwilioApi {
    let base = std::env::var("TWILIO_API_BASE_URL").expect("run with `make test`, which starts the Prism mock (scripts/with-prism)");
    TwilioApi::new(&base, Credentials::new(ACCOUNT, "SK0123456789abcdef0123456789abcdef", "secret").unwrap()).unwrap()
}

fn account() -> AccountSid {
    AccountSid::parse("account", ACCOUNT).unwrap()
}

fn config(voice_url: &str) -> VoiceConfig {
    VoiceConfig {
        voice_url: voice_url.to_owned(),
        status_callback: "https://calls.example.com/api/twilio/voice/status#rc=3&rp=5xx,ct,rt".to_owned(),
        voice_fallback_url: Some("https://handler.twilio.com/twiml/EH0123456789abcdef0123456789abcdef".to_owned()),
    }
}

#[tokio::test]
async fn finds_a_number_in_its_account() {
    let number =
        api().incoming_number(&account(), &PhoneNumber::e164("number", NUMBER).unwrap()).await.unwrap().expect("the example number");
    assert_eq!((number.sid.as_str(), number.account_sid.as_str(), number.phone_number.as_str()), (NUMBER_SID, ACCOUNT, NUMBER));
    assert_eq!(number.voice_url_overridden_by(), None);
    // Only an exact match counts, whatever the list holds.
    let other = api().incoming_number(&account(), &PhoneNumber::e164("number", "+18005551212").unwrap()).await.unwrap();
    assert_eq!(other, None);
}

#[tokio::test]
async fn sets_a_numbers_voice_configuration_as_the_description_allows() {
    let config = config("https://calls.example.com/api/twilio/voice/answer#rc=3&rp=5xx,ct,rt");
    let number = api().configure_voice(&account(), NUMBER_SID, &config).await.unwrap();
    assert_eq!(number.sid, NUMBER_SID);
}

#[tokio::test]
async fn a_request_the_description_forbids_is_refused_naming_the_field() {
    // Proves the mock checks what we send: a voice URL that is not a URL.
    let err = api().configure_voice(&account(), NUMBER_SID, &config("not a url")).await.unwrap_err();
    assert!(matches!(err, ApiError::Twilio { status: 422, .. }), "{err:?}");
    assert!(err.to_string().contains("VoiceUrl must match format \"uri\""), "{err}");
    let err = api().configure_voice(&account(), "PN1", &config("https://calls.example.com/")).await.unwrap_err();
    assert!(matches!(err, ApiError::Twilio { status: 422 | 404, .. }), "a malformed SID in the path: {err:?}");
}

#[tokio::test]
async fn no_answer_names_where_it_was_sent() {
    let credentials = Credentials::new(ACCOUNT, "SK0123456789abcdef0123456789abcdef", "secret").unwrap();
    let api = TwilioApi::new("http://127.0.0.1:9", credentials).unwrap();
    let err = api.incoming_number(&account(), &PhoneNumber::e164("number", NUMBER).unwrap()).await.unwrap_err();
    assert!(matches!(&err, ApiError::Unreachable(why) if why.starts_with("cannot reach http://127.0.0.1:9: ")), "{err:?}");
}

fn new_call(url: &str) -> NewCall {
    NewCall {
        to: PhoneNumber::e164("to", "+14155550100").unwrap(),
        from: PhoneNumber::e164("from", NUMBER).unwrap(),
        url: url.to_owned(),
        status_callback: "https://calls.example.com/api/twilio/voice/status#rc=3&rp=5xx,ct,rt".to_owned(),
        timeout_seconds: 20,
    }
}

#[tokio::test]
async fn places_a_call_as_the_description_allows() {
    // `scripts/with-prism` declares the form arrays strings, Prism reading a
    // form field as one string; everything else is checked as Twilio wrote it.
    let placed = api().create_call(&account(), &new_call("https://calls.example.com/api/twilio/voice/connect?to=%2B14155550123")).await;
    let placed = placed.unwrap();
    assert_eq!(placed.sid.as_str(), "CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "the description's example call");
}

#[tokio::test]
async fn a_call_request_the_description_forbids_is_refused_naming_the_field() {
    // Proves the mock checks what create_call sends: a TwiML URL that is not a URL.
    let err = api().create_call(&account(), &new_call("not a url")).await.unwrap_err();
    assert!(matches!(err, ApiError::Twilio { status: 422, .. }), "{err:?}");
    assert!(err.to_string().contains("Url must match format \"uri\""), "{err}");
    assert!(!err.is_retryable(), "a refused request is not sent again");
}
