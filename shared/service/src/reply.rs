//! What a route answers, and what is logged and counted about it.

use crate::metrics::Counts;
use calltrack_twilio::fields::CallSid;
use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Response};
use std::fmt;

/// A route's answer, and what to log about it.
pub struct Handled {
    pub response: Response<Body>,
    pub call_sid: Option<CallSid>,
    pub outcome: Outcome,
    pub counts: Counts,
}

/// What became of a request, as its log line says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The caller was forwarded to the business, and the call recorded.
    Forwarded,
    /// The caller heard a message and the call ended (an unknown or inactive number).
    NotForwarded,
    /// A callback was stored.
    Recorded,
    /// A callback had been stored before.
    Duplicate,
    /// A callback came from another Twilio account than its call's: nothing
    /// was stored, and a status or recording callback is answered 403.
    ForeignAccount,
    /// Storage failed and the callback was queued, to be applied when storage is back.
    Deferred,
    /// Storage failed and so did the queue: the caller was answered anyway, or a
    /// 503 asks Twilio for the callback again.
    StorageFailed,
    /// The business heard its whisper.
    Whispered,
    /// The business heard its whisper and was asked to press 1 (a screened call).
    Screened,
    /// The business pressed 1: the caller is connected.
    Accepted,
    /// The business pressed another key: its leg hangs up, unbridged.
    Declined,
    /// The caller was thanked for a voicemail.
    Goodbye,
    /// A 4xx: the request was refused.
    Refused,
    /// A 5xx.
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Forwarded => "forwarded",
            Outcome::NotForwarded => "not forwarded",
            Outcome::Recorded => "recorded",
            Outcome::Duplicate => "duplicate",
            Outcome::ForeignAccount => "foreign account",
            Outcome::Deferred => "deferred",
            Outcome::StorageFailed => "storage failed",
            Outcome::Whispered => "whispered",
            Outcome::Screened => "screened",
            Outcome::Accepted => "accepted",
            Outcome::Declined => "declined",
            Outcome::Goodbye => "goodbye",
            Outcome::Refused => "refused",
            Outcome::Failed => "failed",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Handled {
    /// A refusal (4xx) or failure (5xx) in plain text, about no call.
    pub fn plain(status: StatusCode, text: &str) -> Self {
        let outcome = if status.is_client_error() { Outcome::Refused } else { Outcome::Failed };
        Handled { response: plain(status, text), call_sid: None, outcome, counts: Counts::default() }
    }
}

/// A plain-text answer (empty for an empty `text`).
pub fn plain(status: StatusCode, text: &str) -> Response<Body> {
    let mut response = Response::builder().status(status);
    if text.is_empty() {
        return response.body(Body::Empty).expect("a valid response");
    }
    response = response.header(header::CONTENT_TYPE, "text/plain; charset=utf-8");
    response.body(Body::Text(format!("{text}\n"))).expect("a valid response")
}

/// A TwiML answer.
pub fn twiml(xml: String) -> Response<Body> {
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/xml; charset=utf-8")
        .body(Body::Text(xml))
        .expect("a valid response")
}

/// `204 No Content`: what Twilio wants from status and recording callbacks.
pub fn no_content() -> Response<Body> {
    Response::builder().status(StatusCode::NO_CONTENT).body(Body::Empty).expect("a valid response")
}
