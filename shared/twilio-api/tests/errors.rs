//! Placing a call when Twilio refuses, fails, or does not answer, against the
//! fake of `calltrack_twilio_api::testing`: what is retried, what never is, and
//! what each failure says.

use calltrack_twilio::fields::{AccountSid, Field};
use calltrack_twilio_api::testing::{Answer, FakeTwilio, call_to_place, unreachable_base_url};
use calltrack_twilio_api::{ApiError, Credentials, Refusal, Retry, TwilioApi};
use std::time::{Duration, Instant};

const ACCOUNT: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const CALL_SID: &str = "CA0123456789abcdef0123456789abcdef";
const UNVERIFIED: &str = "The number +14155550100 is unverified. Trial accounts may only make calls to verified numbers.";

/// Short waits, so the retries cost the tests nothing.
const QUICK: Retry = Retry { attempts: 3, first_backoff: Duration::from_millis(1) };

fn api(base_url: &str) -> TwilioApi {
    TwilioApi::new(base_url, Credentials::new(ACCOUNT, "SK0123456789abcdef0123456789abcdef", "secret").unwrap()).unwrap()
}

fn account() -> AccountSid {
    AccountSid::parse("account", ACCOUNT).unwrap()
}

#[tokio::test]
async fn a_number_twilio_refuses_is_not_retried_and_keeps_its_code_and_message() {
    let twilio = FakeTwilio::start([Answer::twilio_error(400, 21219, UNVERIFIED), Answer::call_created(CALL_SID)]).await;
    let err = api(twilio.base_url()).place_call(&account(), &call_to_place(), &QUICK).await.unwrap_err();
    assert_eq!(err, ApiError::Twilio { status: 400, code: Some(21219), message: UNVERIFIED.into(), retry_after: None });
    assert_eq!(err.refusal(), Some(Refusal::Number));
    assert_eq!(err.to_string(), format!("Twilio answered 400, error 21219: {UNVERIFIED}"));
    let requests = twilio.requests();
    assert_eq!(requests.len(), 1, "never asked twice");
    // The request as sent: the form create_call builds, events repeated, nothing else.
    let sent = &requests[0];
    assert_eq!((sent.method.as_str(), sent.path.as_str()), ("POST", "/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Calls.json"));
    assert_eq!(sent.values("StatusCallbackEvent"), ["initiated", "ringing", "answered", "completed"]);
    let fields: Vec<_> = sent.form.iter().map(|(name, _)| name.as_str()).filter(|name| *name != "StatusCallbackEvent").collect();
    assert_eq!(fields, ["To", "From", "Url", "Method", "StatusCallback", "StatusCallbackMethod", "Timeout"]);
    assert_eq!((sent.values("To"), sent.values("From"), sent.values("Timeout")), (vec!["+14155550100"], vec!["+18005551212"], vec!["20"]));
}

#[tokio::test]
async fn another_refusal_the_requester_can_fix_keeps_its_code_and_message() {
    let message = "Url is not a valid URL: not-a-url";
    let twilio = FakeTwilio::start([Answer::twilio_error(400, 21205, message)]).await;
    let err = api(twilio.base_url()).place_call(&account(), &call_to_place(), &QUICK).await.unwrap_err();
    assert_eq!(err.refusal(), Some(Refusal::Request));
    assert!(matches!(&err, ApiError::Twilio { code: Some(21205), message: m, .. } if m == message), "{err:?}");
    assert_eq!(twilio.requests().len(), 1);
}

#[tokio::test]
async fn unavailable_twice_then_placed() {
    let unavailable = || Answer::twilio_error(503, 20503, "Service Unavailable");
    let twilio = FakeTwilio::start([unavailable(), unavailable(), Answer::call_created(CALL_SID)]).await;
    let placed = api(twilio.base_url()).place_call(&account(), &call_to_place(), &QUICK).await.unwrap();
    assert_eq!((placed.sid.as_str(), placed.status.as_deref()), (CALL_SID, Some("queued")));
    let requests = twilio.requests();
    assert_eq!(requests.len(), 3);
    assert!(requests.iter().all(|r| *r == requests[0]), "the same request each time");
}

#[tokio::test]
async fn rate_limited_is_retried_after_the_wait_twilio_asks_for() {
    let rate_limited = Answer::twilio_error(429, 20429, "Too Many Requests").with_header("Retry-After", "1");
    let twilio = FakeTwilio::start([rate_limited, Answer::call_created(CALL_SID)]).await;
    let started = Instant::now();
    let placed = api(twilio.base_url()).place_call(&account(), &call_to_place(), &QUICK).await.unwrap();
    assert_eq!(placed.sid.as_str(), CALL_SID);
    assert_eq!(twilio.requests().len(), 2);
    assert!(started.elapsed() >= Duration::from_secs(1), "waited as asked, not the 1 ms backoff: {:?}", started.elapsed());

    // Given up on, the answer still tells the caller how long to wait.
    let twilio = FakeTwilio::start([Answer::twilio_error(429, 20429, "Too Many Requests").with_header("Retry-After", "7")]).await;
    let once = Retry { attempts: 1, ..QUICK };
    let err = api(twilio.base_url()).place_call(&account(), &call_to_place(), &once).await.unwrap_err();
    assert_eq!((err.refusal(), err.retry_after()), (Some(Refusal::RateLimited), Some(Duration::from_secs(7))));
}

#[tokio::test]
async fn an_error_on_every_attempt_gives_up_with_the_last_answer() {
    let failed = |n: u32| Answer::twilio_error(500, 20500, &format!("Internal Server Error {n}"));
    let twilio = FakeTwilio::start([failed(1), failed(2), failed(3), Answer::call_created(CALL_SID)]).await;
    let err = api(twilio.base_url()).place_call(&account(), &call_to_place(), &QUICK).await.unwrap_err();
    assert_eq!(err.to_string(), "Twilio answered 500, error 20500: Internal Server Error 3");
    assert_eq!(err.refusal(), Some(Refusal::Unavailable));
    assert_eq!(twilio.requests().len(), 3, "QUICK allows 3 requests in all");
}

#[tokio::test]
async fn a_connection_refused_is_retried() {
    // Nothing to count requests on: the waits between attempts show the retries.
    let retry = Retry { attempts: 3, first_backoff: Duration::from_millis(100) };
    let started = Instant::now();
    let err = api(&unreachable_base_url()).place_call(&account(), &call_to_place(), &retry).await.unwrap_err();
    assert!(matches!(&err, ApiError::Unreachable(why) if why.starts_with("cannot reach http://127.0.0.1:")), "{err:?}");
    assert!(err.is_retryable() && !err.outcome_unknown());
    assert!(started.elapsed() >= Duration::from_millis(300), "waited 100 then 200 ms between 3 attempts: {:?}", started.elapsed());
}

#[tokio::test]
async fn no_answer_after_sending_is_never_retried() {
    let twilio = FakeTwilio::start([Answer::Silence, Answer::call_created(CALL_SID)]).await;
    let api = api(twilio.base_url()).with_timeout(Duration::from_millis(300));
    let err = api.place_call(&account(), &call_to_place(), &QUICK).await.unwrap_err();
    assert_eq!(
        err,
        ApiError::NoAnswer(format!("no answer from {} in time: Twilio may or may not have placed the call", twilio.base_url()))
    );
    assert!(err.outcome_unknown() && !err.is_retryable() && err.refusal().is_none());
    assert_eq!(twilio.requests().len(), 1, "a second request could ring the agent twice");
}

#[tokio::test]
async fn a_gateway_timeout_is_an_unknown_outcome_not_a_refusal() {
    // The gateway had passed the request on to Twilio, which may have placed the call.
    let twilio = FakeTwilio::start([Answer::twilio_error(504, 20504, "Gateway Timeout"), Answer::call_created(CALL_SID)]).await;
    let err = api(twilio.base_url()).place_call(&account(), &call_to_place(), &QUICK).await.unwrap_err();
    assert!(err.outcome_unknown() && !err.is_retryable(), "{err:?}");
    assert!(err.to_string().ends_with("Twilio may or may not have placed the call"), "{err}");
    assert_eq!(twilio.requests().len(), 1);
}

#[tokio::test]
async fn a_refused_key_is_the_operators_problem_and_not_retried() {
    let twilio = FakeTwilio::start([Answer::twilio_error(401, 20003, "Authenticate"), Answer::call_created(CALL_SID)]).await;
    let err = api(twilio.base_url()).place_call(&account(), &call_to_place(), &QUICK).await.unwrap_err();
    assert_eq!(err.refusal(), Some(Refusal::Credentials));
    assert!(err.to_string().starts_with("Twilio refused the API key (401, error 20003): Authenticate."), "{err}");
    assert_eq!(twilio.requests().len(), 1);
}

#[tokio::test]
async fn a_placed_call_whose_sid_cannot_be_read_is_unexpected_and_not_retried() {
    let twilio = FakeTwilio::start([Answer::call_created("CA1"), Answer::call_created(CALL_SID)]).await;
    let err = api(twilio.base_url()).place_call(&account(), &call_to_place(), &QUICK).await.unwrap_err();
    assert!(matches!(&err, ApiError::Unexpected(why) if why.starts_with("Twilio placed the call but its answer's sid")), "{err:?}");
    assert!(!err.is_retryable());
    assert_eq!(twilio.requests().len(), 1, "the call exists: asking again would ring twice");
}
