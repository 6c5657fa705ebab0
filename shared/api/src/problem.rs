//! Errors as RFC 9457 problem details (`application/problem+json`), mapped to
//! HTTP in this one place. A bad parameter or body names its field.

use serde::Serialize;

/// One problem, as the API answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// `about:blank`: the status and title say it all.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    /// Which request parameters or body fields were wrong, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub invalid_params: Vec<InvalidParam>,
    /// Twilio's own error code, when Twilio refused (e.g. `21219`, an
    /// unverified number; https://www.twilio.com/docs/errors/21219).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub twilio_code: Option<u32>,
    /// For a 405: the methods the resource allows, for the `Allow` header.
    #[serde(skip)]
    pub allow: Option<&'static str>,
    /// For a 429: the seconds to wait, for the `Retry-After` header.
    #[serde(skip)]
    pub retry_after: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct InvalidParam {
    pub name: String,
    pub reason: String,
}

impl Problem {
    fn new(status: u16, title: &'static str, detail: impl Into<String>) -> Self {
        Problem {
            kind: "about:blank",
            title,
            status,
            detail: detail.into(),
            invalid_params: Vec::new(),
            twilio_code: None,
            allow: None,
            retry_after: None,
        }
    }

    /// A parameter or field that is missing, unknown or malformed.
    pub fn invalid(name: &str, reason: impl Into<String>) -> Self {
        let reason = reason.into();
        let mut problem = Problem::new(400, "Bad Request", format!("{name}: {reason}"));
        problem.invalid_params.push(InvalidParam { name: name.to_owned(), reason });
        problem
    }

    /// No token, or one the authorizer did not accept.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Problem::new(401, "Unauthorized", detail)
    }

    /// A token that may not do this.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Problem::new(403, "Forbidden", detail)
    }

    /// Nothing there, or nothing there for this tenant: the two are never told apart.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Problem::new(404, "Not Found", detail)
    }

    pub fn method_not_allowed(allowed: &'static str) -> Self {
        Problem { allow: Some(allowed), ..Problem::new(405, "Method Not Allowed", format!("this resource allows {allowed}")) }
    }

    /// A field that names something this tenant does not have (another
    /// tenant's is the same): a 404, as the thing itself would be.
    pub fn unknown(name: &str, reason: impl Into<String>) -> Self {
        Problem { status: 404, title: "Not Found", ..Problem::invalid(name, reason) }
    }

    /// A field that reads but cannot be acted on as it is.
    pub fn unprocessable(name: &str, reason: impl Into<String>) -> Self {
        Problem { status: 422, title: "Unprocessable Content", ..Problem::invalid(name, reason) }
    }

    /// A request that clashes with one still being answered.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Problem::new(409, "Conflict", detail)
    }

    /// Too many requests: try again after `seconds`.
    pub fn too_many_requests(detail: impl Into<String>, seconds: u32) -> Self {
        Problem { retry_after: Some(seconds), ..Problem::new(429, "Too Many Requests", detail) }
    }

    /// Twilio refused a request that the requester can mend (a number it will
    /// not call, a country not enabled): its code and message, as it said them.
    pub fn twilio_refused(code: Option<u32>, message: &str) -> Self {
        Problem { twilio_code: code, ..Problem::new(422, "Unprocessable Content", format!("Twilio refused the call: {message}")) }
    }

    /// Twilio failed, or refused what only the operator can mend.
    pub fn bad_gateway(detail: impl Into<String>, twilio_code: Option<u32>) -> Self {
        Problem { twilio_code, ..Problem::new(502, "Bad Gateway", detail) }
    }

    /// What the deployment lacks to do this: said so the operator can add it.
    pub fn not_configured(detail: impl Into<String>) -> Self {
        Problem::new(503, "Service Unavailable", detail)
    }

    /// Storage failed: said without its internals, which the log keeps.
    pub fn unavailable() -> Self {
        Problem::new(503, "Service Unavailable", "storage did not answer; try again")
    }
}

impl From<calltrack_core::ports::StorageError> for Problem {
    /// Logged whole; the caller hears only that storage did not answer.
    fn from(err: calltrack_core::ports::StorageError) -> Self {
        lambda_http::tracing::error!(reason = %err, "api storage");
        Problem::unavailable()
    }
}

impl From<calltrack_twilio::Error> for Problem {
    /// A field's parse error names the field: `cursor is not a cursor …`.
    fn from(err: calltrack_twilio::Error) -> Self {
        match err {
            calltrack_twilio::Error::Invalid { field, problem } => Problem::invalid(&field, problem),
            calltrack_twilio::Error::Missing(field) => Problem::invalid(field, "is missing"),
            other => Problem::invalid("request", other.to_string()),
        }
    }
}

/// A JSON body as `T`, a field that is wrong named in the problem.
pub(crate) fn read_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Problem> {
    serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(body)).map_err(|err| {
        let path = err.path().to_string();
        let reason = err.inner().to_string();
        // At the top level serde names the field in its message: `missing field `userId``.
        let name = match path.as_str() {
            "." => reason.split('`').nth(1).unwrap_or("body").to_owned(),
            _ => path,
        };
        Problem::invalid(&name, reason.split(" at line ").next().unwrap_or_default().to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_is_rfc_9457_json_naming_the_field() {
        let json = serde_json::to_value(Problem::invalid("limit", "must be 1 to 100")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "type": "about:blank", "title": "Bad Request", "status": 400, "detail": "limit: must be 1 to 100",
                "invalidParams": [{ "name": "limit", "reason": "must be 1 to 100" }]
            })
        );
        let json = serde_json::to_value(Problem::not_found("no call CA1")).unwrap();
        assert_eq!(json, serde_json::json!({ "type": "about:blank", "title": "Not Found", "status": 404, "detail": "no call CA1" }));
    }

    #[test]
    fn a_field_error_names_its_field() {
        let err = calltrack_twilio::Error::invalid("cursor", "is not a cursor a listing returned: \"x\"".to_owned());
        let problem = Problem::from(err);
        assert_eq!(
            problem.invalid_params,
            [InvalidParam { name: "cursor".into(), reason: "is not a cursor a listing returned: \"x\"".into() }]
        );
    }
}
