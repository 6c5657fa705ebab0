//! The webhook in a request: the public URL Twilio requested (and signed),
//! rebuilt from what API Gateway or the local server saw, with the body and
//! the signature headers.

use calltrack_twilio::signature::{SIGNATURE_HEADER, SIGNATURE_SETTINGS_HEADER};
use calltrack_twilio::{Error, RawRequest, Webhook};
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;

/// Reads the webhook in a `lambda_http` request made from an API Gateway
/// HTTP API (v2) event. `public_base_url` is the URL prefix configured in
/// Twilio (see [`public_url`]); base64 bodies arrive already decoded.
pub fn webhook_of(request: &lambda_http::Request, public_base_url: Option<&str>) -> Result<Webhook, Error> {
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
