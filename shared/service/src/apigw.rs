//! API Gateway HTTP API (payload 2.0) events in and out of [`App::handle`].
//!
//! `lambda_http`'s own conversion of an event into an `http::Request` panics on
//! a few malformed ones (a body flagged base64 that is not, a query or host that
//! `http::Uri` refuses), which the runtime turns into a 500 and Twilio into a
//! retry; it also parses the URL three times and the query into a map nobody
//! reads. The functions build the request themselves, with `lambda_http`'s types
//! and extensions: the URL is parsed once, a base64 body decoded once, and what
//! would have panicked is answered with a 400 that says why.

use crate::app::App;
use crate::reply::{Outcome, plain};
use crate::route::Route;
use base64::Engine;
use calltrack_core::ports::{LookUpNumbers, ReadCalls, RecordCalls};
use calltrack_twilio::Error;
use lambda_http::aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use lambda_http::http::uri::{Authority, Scheme};
use lambda_http::http::{StatusCode, Uri};
use lambda_http::request::RequestContext;
use lambda_http::{Body, RequestExt, Response, tracing};

/// Answers one event for the function serving `routes`.
pub async fn handle_event<S: RecordCalls + LookUpNumbers + ReadCalls>(
    app: &App<S>,
    routes: &[Route],
    event: ApiGatewayV2httpRequest,
) -> ApiGatewayV2httpResponse {
    let raw_path = event.raw_path.clone();
    let response = match request_of(event) {
        Ok(request) => app.handle(routes, &request).await,
        Err(err) => {
            let outcome = Outcome::Refused.as_str();
            tracing::info!(route = raw_path.as_deref(), status = 400, outcome, reason = %err, "webhook");
            plain(StatusCode::BAD_REQUEST, &err.to_string())
        }
    };
    to_event(response)
}

/// The request an event stands for, as `lambda_http` would build it (scheme
/// from `X-Forwarded-Proto`, host from `Host` or the domain name, the raw path
/// and query), or why there is none.
fn request_of(event: ApiGatewayV2httpRequest) -> Result<lambda_http::Request, Error> {
    let body = match event.body {
        None => Body::Empty,
        Some(body) if event.is_base64_encoded => Body::Binary(
            base64::engine::general_purpose::STANDARD
                .decode(body)
                .map_err(|_| Error::MalformedBody("marked base64 but is not valid base64".into()))?,
        ),
        Some(body) => Body::Text(body),
    };
    let header = |name: &str| event.headers.get(name).and_then(|v| v.to_str().ok());
    let scheme = header("x-forwarded-proto").unwrap_or("https");
    let host = header("host").or(event.request_context.domain_name.as_deref());
    let raw_path = event.raw_path.unwrap_or_default();
    let mut uri = match host {
        Some(host) => [scheme, "://", host, &raw_path].concat(),
        None => raw_path.clone(),
    };
    if let Some(query) = event.raw_query_string.as_deref().filter(|q| !q.is_empty()) {
        uri.push('?');
        uri.push_str(query);
    }
    let uri = Uri::try_from(uri).map_err(|_| {
        // Only a refusal looks closer, to say which part is at fault.
        let bad_host = host.is_some_and(|host| Authority::try_from(host).is_err() || Scheme::try_from(scheme).is_err());
        if bad_host {
            Error::invalid("request URL", "has an invalid host or scheme")
        } else {
            Error::invalid("query string", "has characters a URL cannot carry")
        }
    })?;
    let mut request = lambda_http::Request::new(body);
    *request.method_mut() = event.request_context.http.method.clone();
    *request.uri_mut() = uri;
    *request.headers_mut() = event.headers;
    Ok(request.with_raw_http_path(raw_path).with_request_context(RequestContext::ApiGatewayV2(event.request_context)))
}

/// The HTTP API's response event for a response.
fn to_event(response: Response<Body>) -> ApiGatewayV2httpResponse {
    let (parts, body) = response.into_parts();
    let mut event = ApiGatewayV2httpResponse::default();
    event.status_code = i64::from(parts.status.as_u16());
    event.headers = parts.headers;
    event.is_base64_encoded = matches!(body, Body::Binary(_));
    event.body = Some(body).filter(|b| !matches!(b, Body::Empty));
    event
}
