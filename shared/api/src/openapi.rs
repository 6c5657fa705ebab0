//! The API's OpenAPI 3.1 description, generated from its types with utoipa:
//! `GET /api/openapi.json` serves it, and `docs/openapi.json` is the same
//! document, committed (a test keeps the two equal). Each route's parameters
//! and answers are declared here, beside the routes' own code in
//! [`crate::calls`], [`crate::numbers`] and [`crate::stats`].

#![allow(dead_code)] // The functions below exist for their `#[utoipa::path]` only.

use crate::calls::{CallList, Disposed};
use crate::numbers::{NumberBody, NumberList};
use crate::place::PlaceCallBody;
use crate::problem::{InvalidParam, Problem};
use crate::recording::RecordingLink;
use crate::stats::{Group, Stats, Totals};
use crate::webhooks::{Deliveries, Endpoints, EndpointsBody};
use calltrack_core::disposition::LeadStatus;
use calltrack_core::outbox::WebhookPayload;
use calltrack_core::tracking_number::TrackingNumber;
use calltrack_core::view::{CallSummary, CallView};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The description, as JSON.
pub fn json() -> String {
    ApiDoc::openapi().to_pretty_json().expect("the description serialises") + "\n"
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "calltrack API",
        description = "A tenant's calls, their lead disposition, counts and tracking numbers, for CRMs and dashboards. \
Every route but this description needs a bearer JWT that API Gateway's authorizer accepted; the tenant, user and role come \
from its claims, and another tenant's data is a 404 as if it did not exist. Errors are RFC 9457 problem details naming the field.",
        license(name = "MIT")
    ),
    paths(
        list_calls,
        place_call,
        get_call,
        patch_call,
        get_recording,
        get_stats,
        list_numbers,
        put_number,
        delete_number,
        get_webhooks,
        put_webhooks,
        get_deliveries
    ),
    components(schemas(Problem, InvalidParam, Group, Totals, TrackingNumber, WebhookPayload)),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::builder().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

const PROBLEM: &str = "application/problem+json";

/// The answers every route may give, described once (a description only:
/// the routes answer them through `Problem`, never through this type).
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
enum AnyRoute {
    /// No token the authorizer accepted
    #[response(status = 401, content_type = PROBLEM)]
    Unauthorized(Problem),
    /// Storage failed; try again
    #[response(status = 503, content_type = PROBLEM)]
    Unavailable(Problem),
}

/// A tenant's calls, newest first, a page at a time; each filter is one key's query.
#[utoipa::path(
    get,
    path = "/api/calls",
    params(
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "Calls a page (default 50)"),
        ("cursor" = Option<String>, Query, pattern = r"^[0-9]{1,15}\.CA[0-9a-fA-F]{32}$", description = "The last page's nextCursor"),
        ("since" = Option<String>, Query, format = DateTime, description = "An RFC 3339 time, 2026-11-21T09:00:00Z; a day, 2026-11-21, is taken too, as its midnight UTC"),
        ("until" = Option<String>, Query, format = DateTime, description = "As since"),
        ("userId" = Option<String>, Query, pattern = r"\S", description = "Not only spaces"),
        ("qualified" = Option<String>, Query, description = "Only qualified calls", pattern = "^true$"),
        ("trackingNumber" = Option<String>, Query, pattern = r"^\+[1-9][0-9]{1,14}$"),
        ("leadSource" = Option<String>, Query, pattern = r"\S", description = "Not only spaces"),
        ("answered" = Option<String>, Query, pattern = "^(true|false)$"),
        ("direction" = Option<String>, Query, pattern = "^(inbound|outbound-api|outbound-dial|trunking-originating|trunking-terminating)$"),
        ("firstTimeCaller" = Option<String>, Query, pattern = "^(true|false)$"),
        ("leadStatus" = Option<LeadStatus>, Query),
        ("tag" = Option<String>, Query, pattern = r"\S", description = "Not only spaces"),
        ("contactId" = Option<String>, Query, pattern = r"\S", description = "Not only spaces"),
        ("dealId" = Option<String>, Query, pattern = r"\S", description = "Not only spaces"),
        ("jobId" = Option<String>, Query, pattern = r"\S", description = "Not only spaces"),
        ("caller" = Option<String>, Query, pattern = r"^\+[1-9][0-9]{1,14}$", description = "The customer's number: who called, or whom a placed call called"),
    ),
    responses(
        (status = 200, description = "A page of calls", body = CallList),
        (status = 400, description = "A parameter named in invalidParams", body = Problem, content_type = PROBLEM),
        (status = 403, description = "A token without a tenant", body = Problem, content_type = PROBLEM),
        AnyRoute,
    )
)]
fn list_calls() {}

/// Places a call, the CRM's "Call" button: Twilio rings the agent from the tracking number, and
/// dials the customer once the agent presses 1. The call is stored at once (queued, outbound, the
/// token's user's, with its CRM links); its callbacks complete it. An `Idempotency-Key` makes a
/// repeat (a double click) get the first request's answer instead of a second call.
#[utoipa::path(
    post,
    path = "/api/calls",
    params(("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "1 to 255 printable ASCII characters, kept a day: a repeat with it gets the same answer")),
    request_body(content = PlaceCallBody, content_type = "application/json"),
    responses(
        (status = 201, description = "The call, as stored when Twilio took it", body = CallSummary),
        (status = 400, description = "A field named in invalidParams", body = Problem, content_type = PROBLEM),
        (status = 403, description = "A token without a tenant", body = Problem, content_type = PROBLEM),
        (status = 404, description = "trackingNumber is none of this tenant's (another tenant's is the same)", body = Problem, content_type = PROBLEM),
        (status = 409, description = "A request with this Idempotency-Key is still being answered", body = Problem, content_type = PROBLEM),
        (status = 422, description = "Twilio refused the number (twilioCode: invalid or unverified, a country not enabled), the tracking number is not active (or the user has none of their own), or the Idempotency-Key was used for another body or user", body = Problem, content_type = PROBLEM),
        (status = 429, description = "The tenant placed its calls for this second", body = Problem, content_type = PROBLEM,
            headers(("Retry-After" = u32, description = "Seconds to wait"))),
        (status = 502, description = "Twilio failed after retries, refused the operator's key or callback URLs (twilioCode), or did not answer (it may have placed the call)", body = Problem, content_type = PROBLEM),
        AnyRoute,
        (status = 503, description = "Storage failed, or placing calls is not set up (no Twilio API key, no public URL): the detail says which", body = Problem, content_type = PROBLEM),
    )
)]
fn place_call() {}

/// One call of the tenant and its events, in the order they happened.
#[utoipa::path(
    get,
    path = "/api/calls/{callSid}",
    params(("callSid" = String, Path, pattern = "^CA[0-9a-fA-F]{32}$")),
    responses(
        (status = 200, description = "The call", body = CallView),
        (status = 400, description = "Not a CallSid", body = Problem, content_type = PROBLEM),
        (status = 403, description = "A token without a tenant", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such call in this tenant", body = Problem, content_type = PROBLEM),
        AnyRoute,
    )
)]
fn get_call() {}

/// What a PATCH of a call's disposition takes: each field optional, `null` clears it.
#[derive(utoipa::ToSchema, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(non_snake_case)]
struct DispositionPatch {
    #[schema(nullable)]
    leadStatus: Option<LeadStatus>,
    #[schema(nullable, max_items = 20)]
    tags: Option<Vec<Tag>>,
    #[schema(nullable, max_length = 1000)]
    note: Option<String>,
    /// An amount with at most two decimals.
    #[schema(nullable, minimum = 0, maximum = 1_000_000_000, multiple_of = 0.01)]
    value: Option<f64>,
}

/// A tag: 1 to 50 characters, no control characters, not only spaces.
#[derive(serde::Deserialize)]
struct Tag(String);

impl utoipa::PartialSchema for Tag {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .min_length(Some(1))
            .max_length(Some(calltrack_core::disposition::MAX_TAG_CHARS))
            .pattern(Some(r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"))
            .into()
    }
}

impl utoipa::ToSchema for Tag {}

/// A person's verdict on a call: lead status, tags, note, value. Kept with who changed what and when.
#[utoipa::path(
    patch,
    path = "/api/calls/{callSid}",
    params(("callSid" = String, Path, pattern = "^CA[0-9a-fA-F]{32}$")),
    request_body(content = DispositionPatch, content_type = "application/json"),
    responses(
        (status = 200, description = "The call as it now stands, with its disposition's history", body = Disposed),
        (status = 400, description = "A field named in invalidParams", body = Problem, content_type = PROBLEM),
        (status = 403, description = "A token without a tenant", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such call in this tenant", body = Problem, content_type = PROBLEM),
        AnyRoute,
    )
)]
fn patch_call() {}

/// A link that plays the call's recording (MP3) from our own bucket until it expires: no token needed to
/// follow it, so a CRM can give it to a browser's audio player. Recordings are copied there once Twilio
/// has finished them.
#[utoipa::path(
    get,
    path = "/api/calls/{callSid}/recording",
    params(("callSid" = String, Path, pattern = "^CA[0-9a-fA-F]{32}$")),
    responses(
        (status = 200, description = "The link", body = RecordingLink),
        (status = 400, description = "A callSid that is not one", body = Problem, content_type = PROBLEM),
        (status = 403, description = "A token without a tenant", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such call in this tenant, or no recording of it in our bucket (yet)", body = Problem, content_type = PROBLEM),
        AnyRoute,
    )
)]
fn get_recording() {}

/// The tenant's webhook endpoints, each with the secret its deliveries are signed with (Standard Webhooks).
#[utoipa::path(
    get,
    path = "/api/webhooks",
    responses(
        (status = 200, description = "The endpoints", body = Endpoints),
        (status = 403, description = "A token without a tenant, or not an admin's", body = Problem, content_type = PROBLEM),
        AnyRoute,
    )
)]
fn get_webhooks() {}

/// Replaces the tenant's webhook endpoints (at most 10). An endpoint whose URL was there keeps its id and secret
/// unless a secret is given; a new one gets a new secret. Each hears `call.started`, `call.completed`,
/// `call.qualified`, `call.recording` and `call.updated`, or the ones it names; the body of each is a `WebhookPayload`.
#[utoipa::path(
    put,
    path = "/api/webhooks",
    request_body(content = EndpointsBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The endpoints as kept, with their secrets", body = Endpoints),
        (status = 400, description = "A field named in invalidParams", body = Problem, content_type = PROBLEM),
        (status = 403, description = "A token without a tenant, or not an admin's", body = Problem, content_type = PROBLEM),
        AnyRoute,
    )
)]
fn put_webhooks() {}

/// The latest attempts at delivering the tenant's events (kept a week), newest first, with each endpoint's answer.
#[utoipa::path(
    get,
    path = "/api/webhooks/deliveries",
    params(("limit" = Option<u32>, Query, minimum = 1, maximum = 200, description = "How many (default 50)")),
    responses(
        (status = 200, description = "The attempts", body = Deliveries),
        (status = 400, description = "A parameter named in invalidParams", body = Problem, content_type = PROBLEM),
        (status = 403, description = "A token without a tenant, or not an admin's", body = Problem, content_type = PROBLEM),
        AnyRoute,
    )
)]
fn get_deliveries() {}

/// The tenant's counts over whole days (UTC), grouped, read from counters kept as calls are written.
#[utoipa::path(
    get,
    path = "/api/stats",
    params(
        ("since" = Option<String>, Query, format = Date, description = "First day (default: 29 days before until)"),
        ("until" = Option<String>, Query, format = Date, description = "Last day (default: today)"),
        ("groupBy" = Option<String>, Query, pattern = "^(day|leadSource|user|trackingNumber)$"),
    ),
    responses(
        (status = 200, description = "The counts", body = Stats),
        (status = 400, description = "A parameter named in invalidParams", body = Problem, content_type = PROBLEM),
        (status = 403, description = "A token without a tenant", body = Problem, content_type = PROBLEM),
        AnyRoute,
    )
)]
fn get_stats() {}

/// The tenant's tracking numbers.
#[utoipa::path(
    get,
    path = "/api/numbers",
    responses(
        (status = 200, description = "The numbers", body = NumberList),
        (status = 403, description = "A token without a tenant", body = Problem, content_type = PROBLEM),
        AnyRoute,
    )
)]
fn list_numbers() {}

/// Admins: replaces the settings of one of the tenant's numbers (the operator adds them).
#[utoipa::path(
    put,
    path = "/api/numbers/{phoneNumber}",
    params(("phoneNumber" = String, Path, pattern = r"^\+[1-9][0-9]{1,14}$", description = "E.164 (its + percent-encoded as %2B, or not)")),
    request_body(content = NumberBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The number as it now stands", body = TrackingNumber),
        (status = 400, description = "A field named in invalidParams", body = Problem, content_type = PROBLEM),
        (status = 403, description = "Not an admin, or a token without a tenant", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such number in this tenant", body = Problem, content_type = PROBLEM),
        AnyRoute,
    )
)]
fn put_number() {}

/// Admins: removes one of the tenant's numbers (its calls stay).
#[utoipa::path(
    delete,
    path = "/api/numbers/{phoneNumber}",
    params(("phoneNumber" = String, Path, pattern = r"^\+[1-9][0-9]{1,14}$", description = "E.164 (its + percent-encoded as %2B, or not)")),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "Not an E.164 number", body = Problem, content_type = PROBLEM),
        (status = 403, description = "Not an admin, or a token without a tenant", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such number in this tenant", body = Problem, content_type = PROBLEM),
        AnyRoute,
    )
)]
fn delete_number() {}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/openapi.json is what the code describes: `UPDATE_OPENAPI=1 cargo test -p calltrack-api openapi` rewrites it.
    #[test]
    fn the_committed_description_is_the_generated_one() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
        let generated = json();
        if std::env::var_os("UPDATE_OPENAPI").is_some() {
            std::fs::write(path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(committed == generated, "docs/openapi.json is out of date: UPDATE_OPENAPI=1 cargo test -p calltrack-api openapi");
    }

    #[test]
    fn it_describes_every_listing_parameter_and_is_openapi_3_1() {
        let doc: serde_json::Value = serde_json::from_str(&json()).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        let described: Vec<&str> =
            doc["paths"]["/api/calls"]["get"]["parameters"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
        let mut expected: Vec<&str> = crate::calls::list_parameters();
        expected.sort();
        let mut described_sorted = described.clone();
        described_sorted.sort();
        assert_eq!(described_sorted, expected);
        let stats: Vec<&str> =
            doc["paths"]["/api/stats"]["get"]["parameters"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
        assert_eq!(stats, crate::stats::STATS_PARAMETERS);
    }
}
