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
    /// For a 405: the methods the resource allows, for the `Allow` header.
    #[serde(skip)]
    pub allow: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct InvalidParam {
    pub name: String,
    pub reason: String,
}

impl Problem {
    fn new(status: u16, title: &'static str, detail: impl Into<String>) -> Self {
        Problem { kind: "about:blank", title, status, detail: detail.into(), invalid_params: Vec::new(), allow: None }
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
