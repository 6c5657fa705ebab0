//! `calltrack webhooks listen` as a CRM developer runs it, fed by the sender
//! the product delivers with (`calltrack_webhooks::Sender`): what it answers
//! and the line it prints for each delivery.

use calltrack_webhooks::{Secret, Sender, sign};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BODY: &[u8] =
    br#"{"type":"call.qualified","timestamp":"2026-11-21T10:00:00Z","data":{"callSid":"CA0123456789abcdef0123456789abcdef","version":4}}"#;

/// `calltrack webhooks listen` on a free port, and the lines it prints.
struct Listen {
    child: Child,
    url: String,
    lines: mpsc::Receiver<String>,
}

impl Drop for Listen {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Listen {
    fn start(secret: &Secret, extra: &[&str]) -> Listen {
        let mut child = Command::new(env!("CARGO_BIN_EXE_calltrack"))
            .args(["webhooks", "listen", "--port", "0"])
            .args(extra)
            // The secret from the environment, as a developer would keep it out of the shell's history.
            .env("CALLTRACK_WEBHOOK_SECRET", secret.as_str())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let mut listen = Listen { child, url: String::new(), lines };
        let first = listen.line();
        listen.url = first.strip_prefix("listening on ").unwrap_or_else(|| panic!("{first}")).to_owned();
        assert!(listen.url.starts_with("http://127.0.0.1:"), "{first}");
        listen
    }

    fn line(&self) -> String {
        self.lines.recv_timeout(Duration::from_secs(10)).expect("calltrack webhooks listen prints a line")
    }
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

#[tokio::test]
async fn listen_verifies_acknowledges_duplicates_and_refuses_forgeries_and_replays() {
    let secret = Secret::generate();
    let listen = Listen::start(&secret, &[]);
    let sender = Sender::new().unwrap();

    let attempt = sender.deliver(&listen.url, &secret, "msg_good", BODY, now()).await;
    assert_eq!(attempt.status, Some(204), "{attempt:?}");
    assert_eq!(listen.line(), "verified msg_good call.qualified call CA0123456789abcdef0123456789abcdef version 4");

    let attempt = sender.deliver(&listen.url, &secret, "msg_good", BODY, now()).await;
    assert_eq!(attempt.status, Some(204), "{attempt:?}");
    assert_eq!(listen.line(), "duplicate msg_good (already received; acknowledged)");

    let attempt = sender.deliver(&listen.url, &Secret::generate(), "msg_forged", BODY, now()).await;
    assert_eq!(attempt.status, Some(401));
    assert_eq!(listen.line(), "refused msg_forged: signature does not match (another secret, or a changed body)");
    assert!(attempt.response.contains("signature does not match"), "{attempt:?}");

    let attempt = sender.deliver(&listen.url, &secret, "msg_replayed", BODY, now() - 600).await;
    assert_eq!(attempt.status, Some(401));
    let line = listen.line();
    assert!(line.starts_with("refused msg_replayed: timestamp is 60") && line.contains("replayed"), "{line}");

    // Signed for one body, sent with another: what a tampering proxy would do.
    let signed = sign(&secret, "msg_changed", now(), BODY).unwrap();
    let changed = String::from_utf8_lossy(BODY).replace("\"version\":4", "\"version\":5");
    let mut request = reqwest::Client::new().post(&listen.url).header("content-type", "application/json").body(changed);
    for (name, value) in signed.headers() {
        request = request.header(name, value);
    }
    assert_eq!(request.send().await.unwrap().status().as_u16(), 401);
    assert_eq!(listen.line(), "refused msg_changed: signature does not match (another secret, or a changed body)");

    let unsigned = reqwest::Client::new().post(&listen.url).body("{}").send().await.unwrap();
    assert_eq!(unsigned.status().as_u16(), 401);
    assert_eq!(listen.line(), "refused -: no webhook-id header");
}

#[tokio::test]
async fn listen_fail_answers_503_until_the_third_attempt() {
    let secret = Secret::generate();
    let listen = Listen::start(&secret, &["--fail", "2", "--print-body"]);
    let sender = Sender::new().unwrap();
    for k in 1..=2 {
        let attempt = sender.deliver(&listen.url, &secret, "msg_retried", BODY, now()).await;
        assert_eq!(attempt.status, Some(503), "attempt {k}: {attempt:?}");
        assert!(!attempt.delivered());
        assert_eq!(listen.line(), format!("failing on purpose ({k} of 2): 503 to msg_retried"));
    }
    let attempt = sender.deliver(&listen.url, &secret, "msg_retried", BODY, now()).await;
    assert!(attempt.delivered(), "{attempt:?}");
    assert_eq!(listen.line(), "verified msg_retried call.qualified call CA0123456789abcdef0123456789abcdef version 4");
    // --print-body: the JSON, pretty, in the order sent.
    assert_eq!(listen.line(), "{");
    assert_eq!(listen.line(), r#"  "type": "call.qualified","#);
}

#[tokio::test]
async fn listen_prints_a_dash_for_what_the_body_lacks() {
    let secret = Secret::generate();
    let listen = Listen::start(&secret, &[]);
    let attempt = Sender::new().unwrap().deliver(&listen.url, &secret, "msg_bare", br#"{"data":{}}"#, now()).await;
    assert!(attempt.delivered(), "{attempt:?}");
    assert_eq!(listen.line(), "verified msg_bare - call - version -");
}

#[test]
fn listen_refuses_a_secret_that_is_not_whsec() {
    let output = Command::new(env!("CARGO_BIN_EXE_calltrack"))
        .args(["webhooks", "listen", "--port", "0", "--secret", "hunter2"])
        .env_remove("CALLTRACK_WEBHOOK_SECRET")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("a webhook secret starts with whsec_"));
}
