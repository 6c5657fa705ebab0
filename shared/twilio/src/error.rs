//! Why a webhook request is refused. Each variant maps to the HTTP status a
//! webhook answers with, so a handler never has to decide that itself.

use std::fmt;

/// Why a webhook request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The request does not prove it came from Twilio. The reason is for our logs
    /// only: a 403 response never echoes it.
    BadSignature(&'static str),
    /// A required parameter is absent (or empty).
    Missing(&'static str),
    /// A parameter is present but not valid; `problem` reads after the field name,
    /// e.g. `is not a whole number: "4x"`.
    Invalid { field: String, problem: String },
    /// The body is not form-urlencoded or JSON.
    UnsupportedContentType(String),
    /// Webhooks are POST (or GET); anything else is refused.
    MethodNotAllowed(String),
    /// The body cannot be decoded at all (bad percent-encoding, invalid UTF-8, bad JSON).
    MalformedBody(String),
}

impl Error {
    pub fn invalid(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Error::Invalid { field: field.into(), problem: problem.into() }
    }

    /// The parameter this error is about, if it is about one: what a log may
    /// name without the value, which can be a phone number.
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::Missing(field) => Some(field),
            Error::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }

    /// The HTTP status a webhook answers this error with.
    pub fn http_status(&self) -> u16 {
        match self {
            Error::BadSignature(_) => 403,
            Error::MethodNotAllowed(_) => 405,
            Error::UnsupportedContentType(_) => 415,
            Error::Missing(_) | Error::Invalid { .. } | Error::MalformedBody(_) => 400,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BadSignature(reason) => write!(f, "invalid signature: {reason}"),
            Error::Missing(field) => write!(f, "missing {field}"),
            Error::Invalid { field, problem } => write!(f, "{field} {problem}"),
            Error::UnsupportedContentType(ct) => {
                write!(f, "unsupported content type {ct:?}: expected application/x-www-form-urlencoded or application/json")
            }
            Error::MethodNotAllowed(method) => write!(f, "method {method} not allowed: webhooks are POST or GET"),
            Error::MalformedBody(reason) => write!(f, "malformed body: {reason}"),
        }
    }
}

impl std::error::Error for Error {}
