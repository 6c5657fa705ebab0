//! What a failed request to Twilio means, in one line, and what a caller may
//! do about it: repeat it ([`ApiError::is_retryable`]), tell the requester to
//! change it ([`Refusal`]), or say that Twilio may have carried it out
//! ([`ApiError::outcome_unknown`]).

use std::time::Duration;

/// Why a request to Twilio's REST API failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// Twilio answered with an error: its HTTP status, its own error code and
    /// message when it sent them (`{"code":20404,"message":…}`), and how long
    /// it asked us to wait when it sent `Retry-After` in seconds.
    Twilio { status: u16, code: Option<u32>, message: String, retry_after: Option<Duration> },
    /// No connection could be made (refused, DNS, TLS, connect timeout): nothing
    /// was sent, so Twilio did nothing.
    Unreachable(String),
    /// The request was sent but no answer came (timed out, connection dropped,
    /// or Twilio's gateway gave up waiting, 504): Twilio may or may not have
    /// carried it out.
    NoAnswer(String),
    /// An answer that is not what the API describes.
    Unexpected(String),
}

/// What kind of refusal a Twilio error answer is, for a caller to turn into
/// its own answer. The codes are Twilio's, each at `https://www.twilio.com/docs/api/errors/{code}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A 4xx about a number in the request, `To` or `From`: invalid, not
    /// callable, not verified, or a country the account may not call. The
    /// requester can fix it by changing (or verifying) the number, or the
    /// operator by enabling the country. See [`NUMBER_CODES`].
    Number,
    /// Any other 4xx but 401, 403, 404 and 429: the requester can fix the
    /// request; Twilio's code and message say how.
    Request,
    /// 401 or 403: the operator's API key is wrong or may not do this.
    Credentials,
    /// 404: no such account (or resource) for this key.
    NotFound,
    /// 429: too many requests at once; Twilio did nothing (error 20429 says
    /// such a request "is never processed and is always safe to retry").
    RateLimited,
    /// 5xx: Twilio failed to handle the request.
    Unavailable,
}

/// Twilio's codes for a number it will not call, or call from, as its error
/// dictionary describes them: 21202 `To` is a premium number; 21210 `From` is neither a
/// Twilio number nor a verified caller ID; 21211 invalid `To`; 21214 `To`
/// cannot be reached; 21215 the account's voice geographic permissions do not
/// allow the destination; 21216 the destination is blocked by Twilio (fraud
/// risk, regulation); 21217 the number does not appear to be valid; 21219 a
/// trial account may only call verified numbers (as Twilio's 400 answers say).
/// 13223 and 13224 (invalid format, not callable) are documented for `<Dial>`;
/// in an answer they would mean the same.
pub const NUMBER_CODES: &[u32] = &[21202, 21210, 21211, 21214, 21215, 21216, 21217, 21219, 13223, 13224];

impl ApiError {
    /// A non-2xx answer: Twilio's error body when it is one, else its first line.
    /// A 504 is a gateway that stopped waiting for Twilio, which had the request:
    /// no answer, not a refusal.
    pub(crate) fn from_answer(status: u16, body: &[u8]) -> Self {
        #[derive(serde::Deserialize)]
        struct TwilioError {
            code: Option<u32>,
            message: Option<String>,
            /// Prism's problem+json, which a mock answers an invalid request with.
            detail: Option<String>,
            validation: Option<Vec<serde_json::Value>>,
        }
        let text = String::from_utf8_lossy(body);
        let (code, message) = match serde_json::from_slice::<TwilioError>(body) {
            Ok(e) => {
                let violations =
                    e.validation.unwrap_or_default().iter().filter_map(|v| v["message"].as_str().map(str::to_owned)).collect::<Vec<_>>();
                let message = e.message.or(e.detail).unwrap_or_default();
                let message = if violations.is_empty() { message } else { format!("{message} {}", violations.join("; ")) };
                (e.code, message)
            }
            Err(_) => (None, text.lines().next().unwrap_or_default().chars().take(200).collect()),
        };
        if status == 504 {
            return ApiError::NoAnswer(format!("Twilio's gateway stopped waiting for an answer (504{}): {message}", code_of(code)));
        }
        ApiError::Twilio { status, code, message, retry_after: None }
    }

    /// Keeps the `Retry-After` an error answer came with.
    pub(crate) fn with_retry_after(mut self, wait: Option<Duration>) -> Self {
        if let ApiError::Twilio { retry_after, .. } = &mut self {
            *retry_after = wait;
        }
        self
    }

    /// Only a failure to connect (or to build the request) proves nothing was
    /// sent; any other failure may come after the request left (a timeout, a
    /// dropped connection, an unreadable answer).
    pub(crate) fn from_reqwest(base_url: &str, err: &reqwest::Error) -> Self {
        let mut cause: &dyn std::error::Error = err;
        while let Some(inner) = cause.source() {
            cause = inner;
        }
        if err.is_connect() || err.is_builder() {
            ApiError::Unreachable(format!("cannot reach {base_url}: {cause}"))
        } else if err.is_timeout() {
            ApiError::NoAnswer(format!("no answer from {base_url} in time"))
        } else {
            ApiError::NoAnswer(format!("no answer from {base_url}: {cause}"))
        }
    }

    /// Whether sending the same request again cannot make Twilio do it twice:
    /// Twilio refused it without acting (429, 5xx), or it never left (no
    /// connection). A request that got no answer may have been carried out, so
    /// it is not retryable, even though a GET would be harmless to repeat.
    pub fn is_retryable(&self) -> bool {
        match self {
            ApiError::Twilio { status, .. } => *status == 429 || (500..=599).contains(status),
            ApiError::Unreachable(_) => true,
            ApiError::NoAnswer(_) | ApiError::Unexpected(_) => false,
        }
    }

    /// Whether Twilio may have carried out the request though we cannot know:
    /// it was sent and no answer came.
    pub fn outcome_unknown(&self) -> bool {
        matches!(self, ApiError::NoAnswer(_))
    }

    /// How long Twilio asked us to wait, from the answer's `Retry-After` (in
    /// seconds; the HTTP-date form is ignored).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::Twilio { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// What kind of refusal Twilio's answer is; `None` when Twilio did not
    /// answer with a 4xx or 5xx.
    pub fn refusal(&self) -> Option<Refusal> {
        let ApiError::Twilio { status, code, .. } = self else { return None };
        Some(match status {
            401 | 403 => Refusal::Credentials,
            404 => Refusal::NotFound,
            429 => Refusal::RateLimited,
            400..=499 if code.is_some_and(|c| NUMBER_CODES.contains(&c)) => Refusal::Number,
            400..=499 => Refusal::Request,
            500..=599 => Refusal::Unavailable,
            _ => return None,
        })
    }
}

/// The seconds of a `Retry-After` header; `None` for the HTTP-date form.
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse().ok().map(Duration::from_secs)
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Twilio { status: 401, code, message, .. } => {
                write!(
                    f,
                    "Twilio refused the API key (401{}): {message}. Check the key's SID and secret, and that it belongs to the account",
                    code_of(*code)
                )
            }
            ApiError::Twilio { status: 404, code, message, .. } => {
                write!(f, "Twilio has no such resource (404{}): {message}. Is the number in this account or subaccount?", code_of(*code))
            }
            ApiError::Twilio { status, code, message, .. } => write!(f, "Twilio answered {status}{}: {message}", code_of(*code)),
            ApiError::Unreachable(why) | ApiError::NoAnswer(why) | ApiError::Unexpected(why) => f.write_str(why),
        }
    }
}

fn code_of(code: Option<u32>) -> String {
    code.map_or(String::new(), |c| format!(", error {c}"))
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twilios_error_body_gives_its_code_and_message() {
        let body = br#"{"code": 20404, "message": "The requested resource was not found", "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404}"#;
        let err = ApiError::from_answer(404, body);
        assert_eq!(
            err,
            ApiError::Twilio { status: 404, code: Some(20404), message: "The requested resource was not found".into(), retry_after: None }
        );
        assert!(err.to_string().starts_with("Twilio has no such resource (404, error 20404): The requested resource was not found."));
        let err = ApiError::from_answer(401, br#"{"code":20003,"message":"Authenticate","status":401}"#);
        assert!(err.to_string().starts_with("Twilio refused the API key (401, error 20003): Authenticate."), "{err}");
        let err = ApiError::from_answer(503, b"<html>\nService Unavailable</html>");
        assert_eq!(err.to_string(), "Twilio answered 503: <html>");
    }

    #[test]
    fn a_mocks_validation_errors_are_listed() {
        let body = br#"{"type":"https://stoplight.io/prism/errors#UNPROCESSABLE_ENTITY","title":"Invalid request","status":422,"detail":"Your request is not valid.","validation":[{"location":["body","VoiceUrl"],"message":"Request body property VoiceUrl must match format \"uri\""}]}"#;
        let err = ApiError::from_answer(422, body);
        assert_eq!(
            err.to_string(),
            "Twilio answered 422: Your request is not valid. Request body property VoiceUrl must match format \"uri\""
        );
    }
}
