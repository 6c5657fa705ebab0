//! One received webhook: the public URL Twilio requested, its decoded parameters
//! and its signature headers, however the request arrived (API Gateway, a local
//! server, the command line).

use crate::error::Error;
use crate::params::{Params, query_of};
use crate::signature::{Keyring, Payload, SignedRequest};

/// A webhook as received, before its signature is checked.
#[derive(Debug, Clone)]
pub struct Webhook {
    /// The URL Twilio signed: scheme, host, path and raw query.
    pub url: String,
    /// The form or JSON body's parameters; for a GET, the query's.
    pub params: Params,
    body: BodyKind,
    signature: Option<String>,
    settings: Option<String>,
}

#[derive(Debug, Clone)]
enum BodyKind {
    Form,
    /// JSON is signed through the hash of its raw bytes, so they are kept.
    Json(Vec<u8>),
    /// GET: the parameters are part of the signed URL.
    None,
}

/// A request's parts, however it arrived (API Gateway, the local server, the CLI).
#[derive(Debug, Clone, Copy)]
pub struct RawRequest<'a> {
    pub method: &'a str,
    pub url: &'a str,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
    pub signature: Option<&'a str>,
    pub settings: Option<&'a str>,
}

impl Webhook {
    /// Reads a webhook from its parts. Refuses methods other than POST and GET
    /// (405), bodies that are neither form-urlencoded nor JSON (415) and bodies
    /// that do not decode (400).
    pub fn from_raw(raw: RawRequest<'_>) -> Result<Self, Error> {
        let (params, body) = match raw.method {
            "GET" => (Params::from_form(query_of(raw.url).as_bytes())?, BodyKind::None),
            "POST" => match media_type(raw.content_type) {
                // JSON is checked through its hash even when empty, so it is read first.
                t if t.eq_ignore_ascii_case("application/json") => (Params::from_json(raw.body)?, BodyKind::Json(raw.body.to_vec())),
                // A POST without parameters needs no content type.
                _ if raw.body.is_empty() => (Params::default(), BodyKind::Form),
                t if t.eq_ignore_ascii_case("application/x-www-form-urlencoded") => (Params::from_form(raw.body)?, BodyKind::Form),
                other => return Err(Error::UnsupportedContentType(other.to_owned())),
            },
            other => return Err(Error::MethodNotAllowed(other.to_owned())),
        };
        Ok(Webhook {
            url: raw.url.to_owned(),
            params,
            body,
            signature: raw.signature.map(str::to_owned),
            settings: raw.settings.map(str::to_owned),
        })
    }

    /// Checks the signature against every key that may have signed it; the
    /// request's `AccountSid` picks the account's own token.
    pub fn verify(&self, keys: &Keyring) -> Result<(), Error> {
        self.verify_at(keys, &self.url)
    }

    /// [`Self::verify`] as if the request had been made to `url`: for a URL
    /// that Twilio was given with a part it does not send, such as a fragment.
    pub fn verify_at(&self, keys: &Keyring, url: &str) -> Result<(), Error> {
        let payload = match &self.body {
            BodyKind::Form => Payload::Form(&self.params),
            BodyKind::Json(bytes) => Payload::Json(bytes),
            BodyKind::None => Payload::UrlOnly,
        };
        keys.verify(&SignedRequest {
            url,
            payload,
            signature: self.signature.as_deref(),
            settings: self.settings.as_deref(),
            account_sid: self.params.get("AccountSid"),
        })
    }
}

/// `application/x-www-form-urlencoded; charset=utf-8` → `application/x-www-form-urlencoded`.
fn media_type(content_type: Option<&str>) -> &str {
    content_type.unwrap_or_default().split(';').next().unwrap_or_default().trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw<'a>(method: &'a str, content_type: Option<&'a str>, body: &'a [u8]) -> RawRequest<'a> {
        RawRequest {
            method,
            url: "https://calls.example.com/api/twilio/voice/status?a=1",
            content_type,
            body,
            signature: None,
            settings: None,
        }
    }

    #[test]
    fn an_empty_post_needs_no_content_type() {
        let hook = Webhook::from_raw(raw("POST", None, b"")).unwrap();
        assert!(hook.params.is_empty());
    }

    #[test]
    fn an_empty_json_body_is_malformed_not_skipped() {
        let err = Webhook::from_raw(raw("POST", Some("application/json"), b"")).unwrap_err();
        assert_eq!(err.http_status(), 400);
    }

    #[test]
    fn get_reads_its_parameters_from_the_query() {
        let hook = Webhook::from_raw(raw("GET", None, b"")).unwrap();
        assert_eq!(hook.params.get("a"), Some("1"));
    }

    #[test]
    fn content_type_is_matched_without_case_or_parameters() {
        assert!(Webhook::from_raw(raw("POST", Some("Application/X-WWW-Form-Urlencoded; charset=UTF-8"), b"a=1")).is_ok());
        let err = Webhook::from_raw(raw("POST", Some("text/plain"), b"a=1")).unwrap_err();
        assert_eq!((err.http_status(), err.to_string().starts_with("unsupported content type \"text/plain\"")), (415, true));
        assert_eq!(Webhook::from_raw(raw("POST", None, b"a=1")).unwrap_err().http_status(), 415);
    }
}
