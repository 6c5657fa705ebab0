//! API Gateway HTTP API (payload 2.0) events in and out of [`App::handle`].
//!
//! `lambda_http` converts an event into an `http::Request` but panics on a few
//! malformed ones (a body flagged base64 that is not, a query or host that
//! `http::Uri` refuses), which the runtime turns into a 500 and Twilio into a
//! retry. The functions take the raw event instead: what would panic is answered
//! with a 400 that says why, and everything else goes through `lambda_http`'s
//! own conversion, so handlers see exactly the request they always did.

use crate::app::{App, Route, plain};
use crate::error::Error;
use crate::store::Store;
use base64::Engine;
use lambda_http::aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use lambda_http::http::StatusCode;
use lambda_http::request::LambdaRequest;
use lambda_http::{Body, Response, tracing};

/// Answers one event for the function serving `routes`.
pub async fn handle_event<S: Store>(app: &App<S>, routes: &[Route], event: ApiGatewayV2httpRequest) -> ApiGatewayV2httpResponse {
    let response = match malformed(&event) {
        None => app.handle(routes, &lambda_http::Request::from(LambdaRequest::ApiGatewayV2(event))).await,
        Some(err) => {
            tracing::info!(route = event.raw_path.as_deref(), status = 400, outcome = "refused", reason = %err, "webhook");
            plain(StatusCode::BAD_REQUEST, &err.to_string()).response
        }
    };
    to_event(response)
}

/// Why `lambda_http` could not turn this event into a request, if it could not.
fn malformed(event: &ApiGatewayV2httpRequest) -> Option<Error> {
    if event.is_base64_encoded
        && let Some(body) = &event.body
        && base64::engine::general_purpose::STANDARD.decode(body).is_err()
    {
        return Some(Error::MalformedBody("marked base64 but is not valid base64".into()));
    }
    // The URL lambda_http builds: scheme from X-Forwarded-Proto, host from Host or domainName.
    let header = |name: &str| event.headers.get(name).and_then(|v| v.to_str().ok());
    let scheme = header("x-forwarded-proto").unwrap_or("https");
    let path = event.raw_path.as_deref().unwrap_or_default();
    let mut uri = match header("host").or(event.request_context.domain_name.as_deref()) {
        Some(host) => match url::Url::parse(&format!("{scheme}://{host}{path}")) {
            Ok(url) => String::from(url),
            Err(_) => return Some(Error::invalid("request URL", "has an invalid host or scheme")),
        },
        None => path.to_owned(),
    };
    if let Some(query) = event.raw_query_string.as_deref().filter(|q| !q.is_empty()) {
        uri.push('?');
        uri.push_str(query);
    }
    lambda_http::http::Uri::try_from(uri).err().map(|_| Error::invalid("query string", "has characters a URL cannot carry"))
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
