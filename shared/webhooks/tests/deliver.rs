//! `Sender::deliver` against a real HTTP receiver on a local port: a raw
//! TcpListener, so that each answer (a redirect, silence) is exactly scripted.

use calltrack_webhooks::{Secret, Sender, Verifier};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

/// One request as the receiver read it.
#[derive(Debug, Clone)]
struct Received {
    head: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// A receiver answering every request with `answer` (a whole HTTP response), or never when `None`.
async fn receiver(answer: Option<&'static str>) -> (String, Arc<Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks/crm", listener.local_addr().unwrap());
    let received = Arc::new(Mutex::new(Vec::new()));
    let log = received.clone();
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let log = log.clone();
            tokio::spawn(async move {
                let Some(request) = read_request(&mut socket).await else { return };
                log.lock().unwrap().push(request);
                match answer {
                    Some(answer) => {
                        let _ = socket.write_all(answer.as_bytes()).await;
                        let _ = socket.shutdown().await;
                    }
                    None => tokio::time::sleep(Duration::from_secs(60)).await,
                }
            });
        }
    });
    (url, received)
}

async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<Received> {
    let (head, headers, body) = calltrack_webhooks::testing::read_request(socket).await?;
    Some(Received { head, headers, body })
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

const BODY: &[u8] =
    br#"{"type":"call.qualified","timestamp":"2026-11-21T10:00:00Z","data":{"callSid":"CA0123456789abcdef0123456789abcdef","version":3}}"#;

#[tokio::test]
async fn a_2xx_is_delivered_signed_as_standard_webhooks_has_it() {
    let (url, received) = receiver(Some("HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")).await;
    let secret = Secret::generate();
    let now = now();
    let attempt = Sender::new().unwrap().deliver(&url, &secret, "msg_ok", BODY, now).await;
    assert!(attempt.delivered(), "{attempt:?}");
    assert_eq!((attempt.status, attempt.error.as_deref(), attempt.response.as_str()), (Some(204), None, ""));

    let request = received.lock().unwrap()[0].clone();
    assert_eq!(request.head, "POST /hooks/crm HTTP/1.1");
    assert_eq!(request.body, BODY);
    let header = |name: &str| request.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    assert_eq!(header("content-type"), Some("application/json"));
    assert_eq!(header("user-agent"), Some(concat!("calltrack-webhooks/", env!("CARGO_PKG_VERSION"))));
    assert_eq!(header("webhook-id"), Some("msg_ok"));
    assert_eq!(header("webhook-timestamp"), Some(now.to_string().as_str()));
    let verified = Verifier::new(secret).verify(request.headers.as_slice(), &request.body, now).unwrap();
    assert_eq!((verified.id.as_str(), verified.duplicate), ("msg_ok", false));
}

#[tokio::test]
async fn a_500_is_not_delivered_and_keeps_its_status_and_an_excerpt() {
    let long =
        Box::leak(format!("HTTP/1.1 500 Internal Server Error\r\ncontent-length: 1000\r\n\r\nboom {}", "x".repeat(995)).into_boxed_str());
    let (url, _) = receiver(Some(long)).await;
    let attempt = Sender::new().unwrap().deliver(&url, &Secret::generate(), "msg_500", BODY, now()).await;
    assert!(!attempt.delivered());
    assert_eq!((attempt.status, attempt.error.as_deref()), (Some(500), None));
    assert_eq!(attempt.response.len(), 256);
    assert!(attempt.response.starts_with("boom x"));
}

#[tokio::test]
async fn a_redirect_is_a_failure_and_not_followed() {
    let (url, received) = receiver(Some("HTTP/1.1 302 Found\r\nlocation: /elsewhere\r\ncontent-length: 5\r\n\r\nmoved")).await;
    let attempt = Sender::new().unwrap().deliver(&url, &Secret::generate(), "msg_302", BODY, now()).await;
    assert!(!attempt.delivered());
    assert_eq!((attempt.status, attempt.response.as_str()), (Some(302), "moved"));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let paths: Vec<String> = received.lock().unwrap().iter().map(|r| r.head.clone()).collect();
    assert_eq!(paths, ["POST /hooks/crm HTTP/1.1"]);
}

#[tokio::test]
async fn a_closed_port_is_connection_refused() {
    let port = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
    let attempt = Sender::new().unwrap().deliver(&format!("http://127.0.0.1:{port}/"), &Secret::generate(), "msg_no", BODY, now()).await;
    assert!(!attempt.delivered());
    assert_eq!((attempt.status, attempt.error.as_deref()), (None, Some("connection refused")));
}

#[tokio::test]
async fn a_receiver_that_never_answers_times_out_on_time() {
    let (url, received) = receiver(None).await;
    let sender = Sender::new().unwrap().with_timeout(Duration::from_millis(500));
    let started = Instant::now();
    let attempt = sender.deliver(&url, &Secret::generate(), "msg_slow", BODY, now()).await;
    let took = started.elapsed();
    assert!(!attempt.delivered());
    assert_eq!((attempt.status, attempt.error.as_deref()), (None, Some("timed out after 500 ms")));
    assert!(took >= Duration::from_millis(500) && took < Duration::from_secs(3), "{took:?}");
    assert!((500..3000).contains(&attempt.duration_ms), "{}", attempt.duration_ms);
    assert_eq!(received.lock().unwrap().len(), 1, "the request was sent, then no answer came");
}

#[tokio::test]
async fn a_bad_url_is_an_error_not_a_panic() {
    let attempt = Sender::new().unwrap().deliver("not a url", &Secret::generate(), "msg_bad", BODY, now()).await;
    assert_eq!(attempt.status, None);
    assert!(attempt.error.as_deref().is_some_and(|e| e.starts_with("bad URL")), "{attempt:?}");
}

#[tokio::test]
async fn an_error_never_repeats_the_endpoints_path_or_query() {
    // A receiver may keep a token of its own in its URL (Zapier-style hooks): errors are logged and shown.
    let url = "https://calltrack-test.invalid/hooks/tok_SECRET123?key=SECRET456";
    let attempt =
        Sender::new().unwrap().with_timeout(Duration::from_secs(5)).deliver(url, &Secret::generate(), "msg_dns", BODY, now()).await;
    let error = attempt.error.expect("no such host");
    assert!(!error.contains("SECRET"), "{error}");
}
