//! A request to the API, routed: which resource, then who asks, then the
//! route's answer as JSON or a problem. Logs one line per request.

use crate::place::{self, Dialer};
use crate::principal::Principal;
use crate::problem::Problem;
use crate::{calls, numbers, recording, stats, webhooks};
use calltrack_core::ports::{
    CountCalls, DisposeCalls, KeepIdempotencyKeys, KeepWebhookEndpoints, KeptAnswer, LimitRate, LogDeliveries, LookUpNumbers,
    ManageTenantNumbers, ReadCalls, RecordCalls,
};
use calltrack_s3::RecordingBucket;
use calltrack_service::Settings;
use lambda_http::tracing;
use std::collections::HashMap;

/// A request as the API reads it, from an API Gateway event or `calltrack serve`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiRequest {
    pub method: String,
    pub path: String,
    /// The query string as sent (still percent-encoded), without its `?`.
    pub query: String,
    pub body: Vec<u8>,
    /// The claims of the token the JWT authorizer accepted; `None` when no
    /// token was accepted (a route that needs one answers 401).
    pub claims: Option<HashMap<String, String>>,
    /// The `Idempotency-Key` header, when sent.
    pub idempotency_key: Option<String>,
    /// Where the request was sent (`https://abc.execute-api…`): the webhooks'
    /// public URL when `PUBLIC_BASE_URL` does not say it.
    pub origin: Option<String>,
}

/// An answer: JSON, or a problem's JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiResponse {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
    /// A 405's `Allow` header: the methods the resource allows.
    pub allow: Option<&'static str>,
    /// A 429's `Retry-After` header, in seconds.
    pub retry_after: Option<u32>,
}

impl ApiResponse {
    pub(crate) fn json(value: &impl serde::Serialize) -> Self {
        ApiResponse {
            status: 200,
            content_type: "application/json",
            body: serde_json::to_string(value).expect("the API's types serialise"),
            allow: None,
            retry_after: None,
        }
    }

    fn no_content() -> Self {
        ApiResponse { status: 204, content_type: "", body: String::new(), allow: None, retry_after: None }
    }

    pub(crate) fn problem(problem: &Problem) -> Self {
        ApiResponse {
            status: problem.status,
            content_type: "application/problem+json",
            body: serde_json::to_string(problem).expect("a problem serialises"),
            allow: problem.allow,
            retry_after: problem.retry_after,
        }
    }

    /// An answer kept under an `Idempotency-Key`, given again.
    pub(crate) fn kept(answer: KeptAnswer) -> Self {
        let content_type = if (200..300).contains(&answer.status) { "application/json" } else { "application/problem+json" };
        ApiResponse { status: answer.status, content_type, body: answer.body, allow: None, retry_after: None }
    }
}

/// The API's resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resource<'a> {
    /// `/api/calls`
    Calls,
    /// `/api/calls/{callSid}`
    Call(&'a str),
    /// `/api/calls/{callSid}/recording`
    Recording(&'a str),
    /// `/api/numbers`
    Numbers,
    /// `/api/numbers/{phoneNumber}`
    Number(&'a str),
    /// `/api/stats`
    Stats,
    /// `/api/webhooks`
    Webhooks,
    /// `/api/webhooks/deliveries`
    WebhookDeliveries,
    /// `/api/openapi.json`, the only resource that needs no token
    OpenApi,
}

impl<'a> Resource<'a> {
    fn find(path: &'a str) -> Option<Self> {
        // Behind a custom domain's API mapping the path may start with its base path.
        let path = &path[path.find("/api/")?..];
        match path.trim_end_matches('/') {
            "/api/stats" => return Some(Resource::Stats),
            "/api/openapi.json" => return Some(Resource::OpenApi),
            "/api/webhooks" => return Some(Resource::Webhooks),
            "/api/webhooks/deliveries" => return Some(Resource::WebhookDeliveries),
            _ => {}
        }
        let (collection, rest) = [("/api/calls", Resource::Calls), ("/api/numbers", Resource::Numbers)]
            .into_iter()
            .find_map(|(prefix, collection)| Some((collection, path.strip_prefix(prefix)?)))?;
        match rest.trim_end_matches('/') {
            "" => Some(collection),
            item if collection == Resource::Calls && item.ends_with("/recording") => {
                let sid = item.strip_prefix('/')?.strip_suffix("/recording").filter(|sid| !sid.is_empty() && !sid.contains('/'))?;
                Some(Resource::Recording(sid))
            }
            item => {
                let item = item.strip_prefix('/').filter(|item| !item.contains('/'))?;
                Some(if collection == Resource::Calls { Resource::Call(item) } else { Resource::Number(item) })
            }
        }
    }

    /// The methods it allows, as a 405 names them.
    fn allows(self) -> &'static str {
        match self {
            Resource::Calls => "GET, POST",
            Resource::Numbers | Resource::Stats | Resource::OpenApi | Resource::Recording(_) | Resource::WebhookDeliveries => "GET",
            Resource::Webhooks => "GET, PUT",
            Resource::Call(_) => "GET, PATCH",
            Resource::Number(_) => "PUT, DELETE",
        }
    }
}

/// The API: its storage, settings and Twilio's API, built once per process.
pub struct Api<S> {
    store: S,
    settings: Settings,
    /// Places calls; `None` without a Twilio API key.
    dialer: Option<Dialer>,
    /// Where recordings are kept; `None` when they stay at Twilio.
    recordings: Option<RecordingBucket>,
}

impl<S> Api<S>
where
    S: ReadCalls
        + DisposeCalls
        + CountCalls
        + LookUpNumbers
        + ManageTenantNumbers
        + KeepIdempotencyKeys
        + LimitRate
        + RecordCalls
        + KeepWebhookEndpoints
        + LogDeliveries
        + Sync,
{
    pub fn new(store: S, settings: Settings) -> Self {
        Api { store, settings, dialer: None, recordings: None }
    }

    /// The API linking to recordings in `bucket` (`GET /api/calls/{callSid}/recording`).
    pub fn with_recordings(self, bucket: RecordingBucket) -> Self {
        Api { recordings: Some(bucket), ..self }
    }

    /// The API placing calls through `dialer` (`POST /api/calls`).
    pub fn with_dialer(self, dialer: Dialer) -> Self {
        Api { dialer: Some(dialer), ..self }
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub async fn handle(&self, request: &ApiRequest) -> ApiResponse {
        let started = std::time::Instant::now();
        let (response, principal) = match self.answer(request).await {
            Ok((response, principal)) => (response, principal),
            Err(problem) => (ApiResponse::problem(&problem), None),
        };
        tracing::info!(
            method = %request.method,
            path = %request.path,
            status = response.status,
            tenant = principal.as_ref().map(|p| p.tenant.as_str()),
            ms = started.elapsed().as_secs_f64() * 1000.0,
            "api"
        );
        response
    }

    async fn answer(&self, request: &ApiRequest) -> Result<(ApiResponse, Option<Principal>), Problem> {
        // An unknown resource is a 404 whoever asks, as API Gateway answers it.
        let resource = Resource::find(&request.path).ok_or_else(|| Problem::not_found(format!("no resource {}", request.path)))?;
        if resource == Resource::OpenApi {
            return match request.method.as_str() {
                "GET" => Ok((ApiResponse { body: crate::openapi::json(), ..ApiResponse::json(&()) }, None)),
                _ => Err(Problem::method_not_allowed(resource.allows())),
            };
        }
        let claims = request.claims.as_ref().ok_or_else(|| Problem::unauthorized("a valid bearer token is required"))?;
        let principal = Principal::from_claims(claims, &self.settings.claims)?;
        let response = match (resource, request.method.as_str()) {
            (Resource::Calls, "GET") => ApiResponse::json(&calls::list(&self.store, &principal, &request.query).await?),
            (Resource::Calls, "POST") => place::place(&self.store, self.dialer.as_ref(), &self.settings, &principal, request).await,
            (Resource::Call(sid), "GET") => ApiResponse::json(&calls::get(&self.store, &principal, sid).await?),
            (Resource::Recording(sid), "GET") => {
                let lasts = self.settings.recording_link;
                ApiResponse::json(&recording::link(&self.store, self.recordings.as_ref(), lasts, &principal, sid).await?)
            }
            (Resource::Call(sid), "PATCH") => ApiResponse::json(&calls::dispose(&self.store, &principal, sid, &request.body).await?),
            (Resource::Stats, "GET") => ApiResponse::json(&stats::stats(&self.store, &principal, &request.query).await?),
            (Resource::Webhooks, "GET") => ApiResponse::json(&webhooks::get(&self.store, &principal).await?),
            (Resource::Webhooks, "PUT") => {
                let (local, now) = (self.settings.local_webhooks, calltrack_service::app::now_ms());
                ApiResponse::json(&webhooks::put(&self.store, &principal, &request.body, local, now).await?)
            }
            (Resource::WebhookDeliveries, "GET") => {
                ApiResponse::json(&webhooks::deliveries(&self.store, &principal, &request.query).await?)
            }
            (Resource::Numbers, "GET") => ApiResponse::json(&numbers::list(&self.store, &principal).await?),
            (Resource::Number(number), "PUT") => ApiResponse::json(&numbers::put(&self.store, &principal, number, &request.body).await?),
            (Resource::Number(number), "DELETE") => {
                numbers::delete(&self.store, &principal, number).await?;
                ApiResponse::no_content()
            }
            (resource, _) => return Err(Problem::method_not_allowed(resource.allows())),
        };
        Ok((response, Some(principal)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_are_found_by_path() {
        assert_eq!(Resource::find("/api/calls"), Some(Resource::Calls));
        assert_eq!(Resource::find("/api/calls/"), Some(Resource::Calls));
        assert_eq!(Resource::find("/api/calls/CA1"), Some(Resource::Call("CA1")));
        assert_eq!(Resource::find("/api/calls/CA1/"), Some(Resource::Call("CA1")));
        assert_eq!(Resource::find("/api/calls/CA1/recording"), Some(Resource::Recording("CA1")));
        assert_eq!(Resource::find("/api/calls/CA1/recording/"), Some(Resource::Recording("CA1")));
        assert_eq!(Resource::find("/api/numbers"), Some(Resource::Numbers));
        assert_eq!(Resource::find("/api/stats"), Some(Resource::Stats));
        assert_eq!(Resource::find("/api/openapi.json"), Some(Resource::OpenApi));
        assert_eq!(Resource::find("/api/webhooks"), Some(Resource::Webhooks));
        assert_eq!(Resource::find("/api/webhooks/deliveries/"), Some(Resource::WebhookDeliveries));
        assert_eq!(Resource::find("/calltrack/api/calls"), Some(Resource::Calls), "under a custom domain's base path");
        assert_eq!(Resource::find("/api/numbers/%2B18005551212"), Some(Resource::Number("%2B18005551212")));
        for none in [
            "/api",
            "/api/callsx",
            "/api/calls/CA1/events",
            "/api/calls//recording",
            "/api/calls/CA1/x/recording",
            "/api/numbers/1/recording",
            "/api/numbersx",
            "/api/numbers/1/2",
            "/api/stats/x",
            "/api/statsx",
            "/api/webhooks/x",
            "/api/twilio/voice/answer",
            "/",
        ] {
            assert_eq!(Resource::find(none), None, "{none}");
        }
    }
}
