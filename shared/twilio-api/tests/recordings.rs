//! Fetching a recording's audio and deleting it from Twilio: against the fake
//! of `calltrack_twilio_api::testing` for what Twilio's description cannot show
//! (the audio itself, failures, redirects), and the delete against the Prism
//! mock (`scripts/with-prism`, which `make test` runs).

use calltrack_twilio::fields::{AccountSid, Field, RecordingSid};
use calltrack_twilio_api::testing::{Answer, Cut, FakeTwilio};
use calltrack_twilio_api::{ApiError, Credentials, RecordingAudio, Refusal, TwilioApi};
use futures_util::StreamExt;
use std::time::{Duration, Instant};

/// The account and recording of the description's own examples, which Prism answers with.
const ACCOUNT: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const RECORDING: &str = "REaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const AUDIO_PATH: &str = "/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Recordings/REaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.mp3";
const RESOURCE_PATH: &str = "/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Recordings/REaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.json";
/// `SK0123456789abcdef0123456789abcdef:secret`, as HTTP basic authentication sends it.
const BASIC_AUTH: &str = "Basic U0swMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjpzZWNyZXQ=";

fn api(base_url: &str) -> TwilioApi {
    TwilioApi::new(base_url, Credentials::new(ACCOUNT, "SK0123456789abcdef0123456789abcdef", "secret").unwrap()).unwrap()
}

fn account() -> AccountSid {
    AccountSid::parse("account", ACCOUNT).unwrap()
}

fn recording() -> RecordingSid {
    RecordingSid::parse("recording", RECORDING).unwrap()
}

/// A megabyte of "MP3": more than one chunk arrives.
fn mp3() -> Vec<u8> {
    let mut audio = b"ID3\x04\x00".to_vec();
    audio.extend((0..1_048_576u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    audio
}

/// Every chunk of `audio`, and the error that ended it if one did.
async fn read(audio: RecordingAudio) -> (Vec<u8>, usize, Option<ApiError>) {
    let (mut bytes, mut chunks) = (Vec::new(), 0);
    let mut body = audio.body;
    while let Some(chunk) = body.next().await {
        match chunk {
            Ok(chunk) => {
                bytes.extend_from_slice(&chunk);
                chunks += 1;
            }
            Err(err) => {
                assert!(body.next().await.is_none(), "nothing after an error");
                return (bytes, chunks, Some(err));
            }
        }
    }
    (bytes, chunks, None)
}

#[tokio::test]
async fn the_audio_streams_back_as_twilio_sent_it_with_the_api_key() {
    let mp3 = mp3();
    let twilio = FakeTwilio::start([Answer::audio(mp3.clone())]).await;
    let audio = api(twilio.base_url()).fetch_recording(&account(), &recording()).await.unwrap();
    assert_eq!((audio.content_type.as_str(), audio.content_length), ("audio/mpeg", Some(mp3.len() as u64)));
    let (bytes, chunks, err) = read(audio).await;
    assert_eq!(err, None);
    assert!(bytes == mp3, "byte-identical: {} bytes back for {}", bytes.len(), mp3.len());
    assert!(chunks > 1, "streamed, not read whole: {chunks} chunk(s)");

    let requests = twilio.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!((requests[0].method.as_str(), requests[0].path.as_str()), ("GET", AUDIO_PATH));
    assert_eq!(requests[0].authorization.as_deref(), Some(BASIC_AUTH));
}

#[tokio::test]
async fn a_redirect_to_twilios_storage_is_followed_without_the_key() {
    let storage = FakeTwilio::start([Answer::audio(b"ID3 audio".to_vec())]).await;
    let signed_link = format!("{}/recordings/signed?X-Amz-Signature=abc", storage.base_url());
    let twilio = FakeTwilio::start([Answer::redirect(&signed_link)]).await;
    let audio = api(twilio.base_url()).fetch_recording(&account(), &recording()).await.unwrap();
    assert_eq!(read(audio).await.0, b"ID3 audio");
    assert_eq!(twilio.requests()[0].authorization.as_deref(), Some(BASIC_AUTH));
    let fetched = &storage.requests()[0];
    assert_eq!((fetched.path.as_str(), fetched.authorization.as_deref()), ("/recordings/signed?X-Amz-Signature=abc", None));
}

#[tokio::test]
async fn a_missing_recording_and_an_unavailable_twilio_are_errors_as_any_request_gets() {
    let missing = "The requested resource /2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Recordings/REaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.mp3 was not found";
    let unavailable = Answer::twilio_error(503, 20503, "Service Unavailable").with_header("Retry-After", "3");
    let twilio = FakeTwilio::start([Answer::twilio_error(404, 20404, missing), unavailable]).await;

    let err = api(twilio.base_url()).fetch_recording(&account(), &recording()).await.unwrap_err();
    assert_eq!(err, ApiError::Twilio { status: 404, code: Some(20404), message: missing.into(), retry_after: None });
    assert_eq!(err.refusal(), Some(Refusal::NotFound));
    assert!(!err.is_retryable());

    let err = api(twilio.base_url()).fetch_recording(&account(), &recording()).await.unwrap_err();
    assert_eq!((err.refusal(), err.retry_after()), (Some(Refusal::Unavailable), Some(Duration::from_secs(3))));
    assert!(err.is_retryable());
    assert_eq!(err.to_string(), "Twilio answered 503, error 20503: Service Unavailable");
}

#[tokio::test]
async fn a_download_that_drops_or_stalls_ends_with_an_error_not_a_short_recording() {
    let mp3 = mp3();
    let twilio = FakeTwilio::start([
        Answer::audio(mp3.clone()).cut(Cut::Closed(300_000)),
        Answer::audio(mp3.clone()).cut(Cut::Stalled(300_000)),
        Answer::Silence,
    ])
    .await;
    let api = api(twilio.base_url()).with_timeout(Duration::from_millis(300));

    let (bytes, _, err) = read(api.fetch_recording(&account(), &recording()).await.unwrap()).await;
    assert_eq!(bytes.len(), 300_000);
    assert!(matches!(&err, Some(ApiError::NoAnswer(why)) if why.starts_with("no answer from http://127.0.0.1:")), "{err:?}");

    // The timeout is between chunks, not for the whole download: it ends a stall.
    let started = Instant::now();
    let (bytes, _, err) = read(api.fetch_recording(&account(), &recording()).await.unwrap()).await;
    assert_eq!(bytes.len(), 300_000);
    assert!(matches!(&err, Some(ApiError::NoAnswer(why)) if why.ends_with("stalled for 300ms")), "{err:?}");
    assert!(err.unwrap().outcome_unknown());
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());

    // No answer at all: the headers' timeout.
    let err = api.fetch_recording(&account(), &recording()).await.unwrap_err();
    assert!(matches!(&err, ApiError::NoAnswer(why) if why.ends_with(" in time")), "{err:?}");
}

#[tokio::test]
async fn a_long_download_is_not_cut_by_the_timeout() {
    // Five chunks each just within the timeout: a total deadline would end it.
    let mp3 = mp3();
    let server = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", server.local_addr().unwrap());
    let sent = mp3.clone();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut socket, _) = server.accept().await.unwrap();
        let mut request = [0u8; 4096];
        let _ = socket.read(&mut request).await.unwrap();
        let head = format!("HTTP/1.1 200 OK\r\nContent-Type: audio/mpeg\r\nContent-Length: {}\r\n\r\n", sent.len());
        socket.write_all(head.as_bytes()).await.unwrap();
        for part in sent.chunks(sent.len().div_ceil(5)) {
            tokio::time::sleep(Duration::from_millis(150)).await;
            socket.write_all(part).await.unwrap();
        }
    });
    let api = api(&base_url).with_timeout(Duration::from_millis(400));
    let started = Instant::now();
    let (bytes, _, err) = read(api.fetch_recording(&account(), &recording()).await.unwrap()).await;
    assert_eq!(err, None);
    assert!(bytes == mp3);
    assert!(started.elapsed() > Duration::from_millis(600), "longer than the timeout in all: {:?}", started.elapsed());
}

#[tokio::test]
async fn deleting_a_recording_already_gone_is_done() {
    let twilio = FakeTwilio::start([
        Answer::no_content(),
        Answer::twilio_error(404, 20404, "The requested resource was not found"),
        Answer::twilio_error(503, 20503, "Service Unavailable"),
    ])
    .await;
    let api = api(twilio.base_url());
    api.delete_recording(&account(), &recording()).await.unwrap();
    api.delete_recording(&account(), &recording()).await.unwrap();
    let err = api.delete_recording(&account(), &recording()).await.unwrap_err();
    assert_eq!(err.refusal(), Some(Refusal::Unavailable));
    let requests = twilio.requests();
    assert!(requests.iter().all(|r| (r.method.as_str(), r.path.as_str()) == ("DELETE", RESOURCE_PATH)), "{requests:?}");
    assert!(requests.iter().all(|r| r.authorization.as_deref() == Some(BASIC_AUTH)));
}

#[tokio::test]
async fn deletes_a_recording_as_the_description_allows() {
    let base = std::env::var("TWILIO_API_BASE_URL").expect("run with `make test`, which starts the Prism mock (scripts/with-prism)");
    api(&base).delete_recording(&account(), &recording()).await.unwrap();
    // delete_recording takes a 404 as done, so Ok alone would not show the
    // description allows the request. The fake above shows what it sends;
    // sent as is, the description's answer is its 204.
    let http = reqwest::Client::new();
    let sent = http.delete(format!("{base}{RESOURCE_PATH}")).header("Authorization", BASIC_AUTH).send().await.unwrap();
    assert_eq!(sent.status(), 204);
    let unknown = http.delete(format!("{base}{}", RESOURCE_PATH.replace("Recordings", "Recording"))).header("Authorization", BASIC_AUTH);
    assert_eq!(unknown.send().await.unwrap().status(), 404, "the mock knows which paths exist");
}
