//! One received webhook: the public URL Twilio requested, its decoded parameters
//! and its signature headers, read from an API Gateway HTTP API (v2) request.

use crate::error::Error;
use crate::params::{Params, query_of};
use crate::signature::{Keyring, Payload, SIGNATURE_HEADER, SIGNATURE_SETTINGS_HEADER, SignedRequest};
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;

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

    /// Reads a webhook from a `lambda_http` request made from an API Gateway
    /// HTTP API (v2) event. `public_base_url` is the URL prefix configured in
    /// Twilio (see [`public_url`]); base64 bodies arrive already decoded.
    pub fn from_lambda(request: &lambda_http::Request, public_base_url: Option<&str>) -> Result<Self, Error> {
        let context = match request.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(context)) => Some(context),
            _ => None,
        };
        let domain = context.and_then(|c| c.domain_name.as_deref()).or(request.uri().host());
        let url = public_url(UrlParts {
            public_base_url,
            route_key: context.and_then(|c| c.route_key.as_deref()),
            stage: context.and_then(|c| c.stage.as_deref()),
            domain_name: domain,
            // Outside API Gateway (the local server) there is no raw path: the URI's is the one.
            raw_path: Some(request.raw_http_path()).filter(|p| !p.is_empty()).unwrap_or(request.uri().path()),
            raw_query: request.uri().query(),
        });
        let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok());
        let body: &[u8] = request.body().as_ref();
        Webhook::from_raw(RawRequest {
            method: request.method().as_str(),
            url: &url,
            content_type: header("content-type"),
            body,
            signature: header(SIGNATURE_HEADER),
            settings: header(SIGNATURE_SETTINGS_HEADER),
        })
    }

    /// Checks the signature against every key that may have signed it; the
    /// request's `AccountSid` picks the account's own token.
    pub fn verify(&self, keys: &Keyring) -> Result<(), Error> {
        let payload = match &self.body {
            BodyKind::Form => Payload::Form(&self.params),
            BodyKind::Json(bytes) => Payload::Json(bytes),
            BodyKind::None => Payload::UrlOnly,
        };
        keys.verify(&SignedRequest {
            url: &self.url,
            payload,
            signature: self.signature.as_deref(),
            settings: self.settings.as_deref(),
            account_sid: self.params.get("AccountSid"),
        })
    }
}

/// The parts of an API Gateway HTTP API (v2) event that locate the request.
#[derive(Debug, Clone, Copy, Default)]
pub struct UrlParts<'a> {
    /// The URL prefix configured in Twilio, e.g. `https://calls.example.com`
    /// (a custom domain, maybe with a base path) or `https://abc.execute-api.us-east-1.amazonaws.com/prod`.
    pub public_base_url: Option<&'a str>,
    /// `requestContext.routeKey`, e.g. `POST /api/twilio/voice/status`.
    pub route_key: Option<&'a str>,
    /// `requestContext.stage`, e.g. `$default` or `prod`.
    pub stage: Option<&'a str>,
    /// `requestContext.domainName`.
    pub domain_name: Option<&'a str>,
    /// `rawPath`: includes a named stage, never a custom domain's base path.
    pub raw_path: &'a str,
    /// `rawQueryString`, exactly as received.
    pub raw_query: Option<&'a str>,
}

/// Rebuilds the URL Twilio requested, which is the URL it signed.
///
/// With a configured public base URL it is that base plus the route's path plus
/// the raw query, which holds behind custom domains, base path mappings and
/// stages alike. Without one it is `https://` + the event's domain name + raw
/// path + raw query, which is right for the default `execute-api` URL.
pub fn public_url(parts: UrlParts<'_>) -> String {
    let query = parts.raw_query.filter(|q| !q.is_empty());
    let mut url = match parts.public_base_url.filter(|b| !b.is_empty()) {
        Some(base) => [base.trim_end_matches('/'), route_path(&parts)].concat(),
        None => ["https://", parts.domain_name.unwrap_or_default(), parts.raw_path].concat(),
    };
    if let Some(query) = query {
        url.push('?');
        url.push_str(query);
    }
    url
}

/// The route's own path: literal in the route key, else the raw path without its stage.
fn route_path<'a>(parts: &UrlParts<'a>) -> &'a str {
    let literal_route = parts.route_key.and_then(|key| key.split_once(' ')).map(|(_, path)| path).filter(|path| !path.contains('{'));
    literal_route.unwrap_or_else(|| {
        let stage_prefix = parts.stage.filter(|s| *s != "$default").and_then(|stage| {
            parts.raw_path.strip_prefix('/').and_then(|p| p.strip_prefix(stage)).filter(|rest| rest.is_empty() || rest.starts_with('/'))
        });
        stage_prefix.unwrap_or(parts.raw_path)
    })
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
