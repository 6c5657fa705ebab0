//! What a failed request to Twilio means, in one line.

/// Why a request to Twilio's REST API failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// Twilio answered with an error: its HTTP status, and its own error code
    /// and message when it sent them (`{"code":20404,"message":…}`).
    Twilio { status: u16, code: Option<u32>, message: String },
    /// No answer: the connection failed or timed out.
    Network(String),
    /// An answer that is not what the API describes.
    Unexpected(String),
}

impl ApiError {
    /// A non-2xx answer: Twilio's error body when it is one, else its first line.
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
        ApiError::Twilio { status, code, message }
    }

    pub(crate) fn from_reqwest(base_url: &str, err: &reqwest::Error) -> Self {
        if err.is_timeout() {
            return ApiError::Network(format!("no answer from {base_url} in time"));
        }
        let mut cause: &dyn std::error::Error = err;
        while let Some(inner) = cause.source() {
            cause = inner;
        }
        ApiError::Network(format!("cannot reach {base_url}: {cause}"))
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Twilio { status: 401, code, message } => {
                write!(
                    f,
                    "Twilio refused the API key (401{}): {message}. Check the key's SID and secret, and that it belongs to the account",
                    code_of(*code)
                )
            }
            ApiError::Twilio { status: 404, code, message } => {
                write!(f, "Twilio has no such resource (404{}): {message}. Is the number in this account or subaccount?", code_of(*code))
            }
            ApiError::Twilio { status, code, message } => write!(f, "Twilio answered {status}{}: {message}", code_of(*code)),
            ApiError::Network(why) | ApiError::Unexpected(why) => f.write_str(why),
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
        assert_eq!(err, ApiError::Twilio { status: 404, code: Some(20404), message: "The requested resource was not found".into() });
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
