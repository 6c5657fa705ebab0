//! One signed delivery over HTTP, and what came of it.

use crate::{Secret, sign};
use std::error::Error as _;
use std::time::{Duration, Instant};

/// The default for one whole attempt, connection to last byte read. The spec
/// suggests 15 to 30 s; a delivery Lambda waits for each attempt, so less.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// How much of the receiver's answer is kept: enough for an error's message.
pub const RESPONSE_EXCERPT: usize = 256;

/// Sends deliveries; built once, as it holds the connection pool.
#[derive(Clone, Debug)]
pub struct Sender {
    http: reqwest::Client,
    timeout: Duration,
}

/// What one attempt got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// The answer's status; `None` when none came.
    pub status: Option<u16>,
    /// Why no answer came: connection refused, timed out, …
    pub error: Option<String>,
    /// The first [`RESPONSE_EXCERPT`] bytes of the answer's body, as lossy UTF-8.
    pub response: String,
    pub duration_ms: u64,
}

impl Attempt {
    /// Only a 2xx counts: a 3xx is a failure too, as the spec has it, since
    /// the URL should be updated rather than followed on every delivery.
    pub fn delivered(&self) -> bool {
        self.status.is_some_and(|status| (200..300).contains(&status))
    }
}

/// A sender that could not be built (e.g. no TLS roots), before anything is sent.
#[derive(Debug)]
pub struct BuildError(String);

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot build the webhook sender: {}", self.0)
    }
}

impl std::error::Error for BuildError {}

impl Sender {
    pub fn new() -> Result<Self, BuildError> {
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            // A redirect is the receiver's answer, not a place to deliver to: following
            // it would also send the signed body to wherever the Location points.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("calltrack-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| BuildError(chain(&e)))?;
        Ok(Sender { http, timeout: DEFAULT_TIMEOUT })
    }

    /// The same sender, giving each attempt at most `timeout` in all.
    pub fn with_timeout(self, timeout: Duration) -> Self {
        Sender { timeout, ..self }
    }

    /// POSTs `body` (JSON) to `url`, signed for `id` at `now_s` (unix seconds).
    /// Each attempt, retries included, is signed afresh with its own time, so
    /// that the receiver's tolerance applies to the attempt and not to the event.
    pub async fn deliver(&self, url: &str, secret: &Secret, id: &str, body: &[u8], now_s: i64) -> Attempt {
        let started = Instant::now();
        let mut attempt = Attempt { status: None, error: None, response: String::new(), duration_ms: 0 };
        match sign(secret, id, now_s, body) {
            Ok(signed) => self.send(url, &signed, body, &mut attempt).await,
            Err(not_utf8) => attempt.error = Some(not_utf8.to_string()),
        }
        attempt.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        attempt
    }

    async fn send(&self, url: &str, signed: &crate::Signed, body: &[u8], attempt: &mut Attempt) {
        let mut request = self.http.post(url).timeout(self.timeout).header(reqwest::header::CONTENT_TYPE, "application/json");
        for (name, value) in signed.headers() {
            request = request.header(name, value);
        }
        let mut response = match request.body(body.to_vec()).send().await {
            Ok(response) => response,
            Err(e) => {
                // Without its URL: an endpoint's path or query may hold a token of the
                // receiver's, and the error is logged and shown in the deliveries.
                attempt.error = Some(self.describe(&e.without_url()));
                return;
            }
        };
        attempt.status = Some(response.status().as_u16());
        // The status decides; a body cut short or slow past the excerpt changes nothing,
        // so reading stops there and its errors are not the attempt's.
        let mut excerpt = Vec::new();
        while excerpt.len() < RESPONSE_EXCERPT {
            match response.chunk().await {
                Ok(Some(chunk)) => excerpt.extend_from_slice(&chunk),
                Ok(None) | Err(_) => break,
            }
        }
        excerpt.truncate(RESPONSE_EXCERPT);
        attempt.response = String::from_utf8_lossy(&excerpt).into_owned();
    }

    /// One line an operator can act on.
    fn describe(&self, e: &reqwest::Error) -> String {
        if e.is_timeout() {
            return format!("timed out after {} ms", self.timeout.as_millis());
        }
        if e.is_builder() {
            return format!("bad URL: {}", chain(e));
        }
        let mut source = e.source();
        while let Some(cause) = source {
            if let Some(io) = cause.downcast_ref::<std::io::Error>() {
                match io.kind() {
                    std::io::ErrorKind::ConnectionRefused => return "connection refused".to_owned(),
                    std::io::ErrorKind::TimedOut => return format!("connect timed out after {} ms", CONNECT_TIMEOUT.as_millis()),
                    _ => {}
                }
            }
            source = cause.source();
        }
        if e.is_connect() { format!("cannot connect: {}", chain(e)) } else { chain(e) }
    }
}

/// reqwest's message and its causes: its own says only "error sending request".
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        source = cause.source();
    }
    text
}
