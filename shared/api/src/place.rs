//! `POST /api/calls`: the CRM's "Call" button. Twilio rings the agent first,
//! from one of the tenant's tracking numbers; our connect route asks the agent
//! to press 1 and only then dials the customer, so the agent's voicemail never
//! talks to a customer. The call is stored at once (queued, outbound, the
//! requester's, with its CRM links), and its callbacks complete it through the
//! webhook routes in whatever order they come: the URLs given to Twilio carry
//! the customer, the user and the links, which Twilio's signature covers.
//!
//! An `Idempotency-Key` makes a double click place one call: its first request
//! claims the key, and a repeat gets the first one's answer. A tenant places
//! at most `OUTBOUND_CALLS_PER_SECOND` calls a second (`429`, `Retry-After`).
//! Twilio's refusals are passed on: a number it will not call is a `422` with
//! its code and message; its `429` and `5xx` are retried, then `502`.

use crate::app::{ApiRequest, ApiResponse};
use crate::principal::Principal;
use crate::problem::{Problem, read_body};
use calltrack_core::call::CallUpdate;
use calltrack_core::crm::CrmLinks;
use calltrack_core::placement::Placement;
use calltrack_core::ports::{Claim, KeepIdempotencyKeys, KeptAnswer, LimitRate, LookUpNumbers, ManageTenantNumbers, RecordCalls, Recorded};
use calltrack_core::tracking_number::TrackingNumber;
use calltrack_core::view::{CallSummary, TenantId};
use calltrack_service::app::now_ms;
use calltrack_service::{Route, Settings};
use calltrack_twilio::fields::{CallSid, Field, PhoneNumber};
use calltrack_twilio_api::{ApiError, NewCall, Refusal, Retry, TwilioApi};
use lambda_http::tracing;
use serde::Deserialize;
use std::collections::BTreeMap;

/// How long an `Idempotency-Key` is kept, with its answer: a day.
const IDEMPOTENCY_SECONDS: i64 = 86_400;
/// The longest `Idempotency-Key` taken.
const MAX_KEY_CHARS: usize = 255;
/// Longer than a request can take (the function's timeout, template.yaml).
const LONGEST_REQUEST_SECONDS: i64 = 60;

/// Twilio's REST API, to place calls with; built once per process.
pub struct Dialer {
    pub twilio: TwilioApi,
    pub retry: Retry,
}

/// What `POST /api/calls` takes.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct PlaceCallBody {
    /// The customer to call, in E.164.
    #[schema(pattern = r"^\+[1-9][0-9]{1,14}$")]
    to: String,
    /// One of the tenant's tracking numbers, the caller ID; the requester's own
    /// (the first active one) when left out.
    #[schema(pattern = r"^\+[1-9][0-9]{1,14}$")]
    tracking_number: Option<String>,
    /// The agent's phone, rung first; the tracking number's forward-to when left out.
    #[schema(pattern = r"^\+[1-9][0-9]{1,14}$")]
    agent_phone: Option<String>,
    /// What the call belongs to in the CRM: 1 to 128 of `A-Z a-z 0-9 . _ : @ -`.
    #[schema(pattern = r"^[A-Za-z0-9._:@-]{1,128}$")]
    contact_id: Option<String>,
    #[schema(pattern = r"^[A-Za-z0-9._:@-]{1,128}$")]
    deal_id: Option<String>,
    #[schema(pattern = r"^[A-Za-z0-9._:@-]{1,128}$")]
    job_id: Option<String>,
    /// More links, each kept as `crm_{name}`.
    #[schema(schema_with = crm_links)]
    crm: Option<BTreeMap<String, String>>,
    /// Record the conversation; the tracking number's setting when left out.
    record: Option<bool>,
}

/// `crm`'s schema, as `CrmLinks` takes the links: a name becomes `crm_{name}`
/// unless it starts so, and must then be up to 44 of `A-Z a-z 0-9 _`; each
/// value is an id.
fn crm_links() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    let text = |pattern: &str| ObjectBuilder::new().schema_type(Type::String).pattern(Some(pattern));
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Object, Type::Null]))
        .description(Some("More links, each kept as `crm_{name}`."))
        .property_names(Some(text(r"^(crm_[A-Za-z0-9_]{0,40}|[A-Za-z0-9_]{0,40})$")))
        .additional_properties(Some(text(r"^[A-Za-z0-9._:@-]{1,128}$")))
        .build()
}

/// Places the call `request` asks for, as `principal`, and answers `201` with
/// it; or the answer an earlier request with the same `Idempotency-Key` got.
pub async fn place<S>(store: &S, dialer: Option<&Dialer>, settings: &Settings, principal: &Principal, request: &ApiRequest) -> ApiResponse
where
    S: LookUpNumbers + ManageTenantNumbers + KeepIdempotencyKeys + LimitRate + RecordCalls,
{
    let key = match idempotency_key(request) {
        Ok(key) => key,
        Err(problem) => return ApiResponse::problem(&problem),
    };
    // A key is the tenant's, and a repeat is the same user's same body: one
    // user's key never hands them another's call.
    let body = format!("{}\n{}", principal.user_id, String::from_utf8_lossy(&request.body));
    if let Some(key) = &key {
        let now = now_ms() / 1000;
        match store.claim_key(&principal.tenant, key, &body, now + IDEMPOTENCY_SECONDS).await {
            Ok(Claim::First) => {}
            Ok(Claim::InFlight { request, claimed_at }) => {
                return ApiResponse::problem(&repeat(&request, &body).unwrap_or_else(|| in_flight(now - claimed_at)));
            }
            Ok(Claim::Answered { request, answer }) => {
                return match repeat(&request, &body) {
                    Some(reused) => ApiResponse::problem(&reused),
                    None => ApiResponse::kept(answer),
                };
            }
            Err(err) => return ApiResponse::problem(&Problem::from(err)),
        }
    }
    let outcome = placed(store, dialer, settings, principal, request).await;
    let response = match &outcome {
        Ok(summary) => ApiResponse { status: 201, ..ApiResponse::json(summary) },
        Err((problem, _)) => ApiResponse::problem(problem),
    };
    if let Some(key) = &key {
        // A request that placed nothing, and that Twilio did not refuse, lets its key go: a repeat tries afresh.
        let kept = match &outcome {
            Err((_, OnRepeat::TryAgain)) => store.release_key(&principal.tenant, key).await,
            _ => store.keep_answer(&principal.tenant, key, &KeptAnswer { status: response.status, body: response.body.clone() }).await,
        };
        if let Err(err) = kept {
            tracing::error!(reason = %err, "the answer to an Idempotency-Key could not be kept; a repeat will be told it is in flight");
        }
    }
    response
}

/// What a repeat of a failed request (its `Idempotency-Key`) gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OnRepeat {
    /// The same answer: Twilio refused the call, or may have placed it (no
    /// answer came), so trying again could ring the agent twice.
    SameAnswer,
    /// A new try: nothing was placed, and nothing decided but that (a bad
    /// request, the rate, Twilio busy or out of reach).
    TryAgain,
}

async fn placed<S>(
    store: &S,
    dialer: Option<&Dialer>,
    settings: &Settings,
    principal: &Principal,
    request: &ApiRequest,
) -> Result<CallSummary, (Problem, OnRepeat)>
where
    S: LookUpNumbers + ManageTenantNumbers + LimitRate + RecordCalls,
{
    let try_again = |problem: Problem| (problem, OnRepeat::TryAgain);
    let dialer = dialer.ok_or_else(|| {
        try_again(Problem::not_configured("placing calls is not set up: the api function has no Twilio API key (TWILIO_API_KEY_PARAMETER)"))
    })?;
    let body: PlaceCallBody = read_body(&request.body).map_err(try_again)?;
    let placement = placement(store, principal, body).await.map_err(try_again)?;
    let base_url = settings
        .public_base_url
        .as_deref()
        .or(request.origin.as_deref())
        .ok_or_else(|| try_again(Problem::not_configured("placing calls needs the webhooks' public URL: set PUBLIC_BASE_URL")))?;
    let second = now_ms() / 1000;
    if !store.take(&principal.tenant, second, settings.outbound_calls_per_second).await.map_err(|e| try_again(e.into()))? {
        let limit = settings.outbound_calls_per_second;
        return Err(try_again(Problem::too_many_requests(format!("this tenant places at most {limit} calls a second; try again"), 1)));
    }
    let account = placement.number.account_sid.unwrap_or(*dialer.twilio.account_sid());
    let call = new_call(&placement, base_url, settings);
    let placed = match dialer.twilio.place_call(&account, &call, &dialer.retry).await {
        Ok(placed) => placed,
        Err(err) => {
            // A call Twilio may have placed is left to its callbacks; one it did not is kept, and why.
            let kept = !err.outcome_unknown();
            let (problem, on_repeat) = twilio_problem(err);
            if kept {
                let error = match problem.twilio_code {
                    Some(code) => format!("{} (Twilio error {code})", problem.detail),
                    None => problem.detail.clone(),
                };
                let update = CallUpdate::unplaced(our_call_sid(&principal.tenant), account, &placement, &error, now_ms());
                if let Err(err) = store.record(&update).await {
                    tracing::error!(reason = %err, "a call Twilio did not place could not be kept");
                }
            }
            return Err((problem, on_repeat));
        }
    };
    tracing::info!(call_sid = placed.sid.as_str(), tenant = principal.tenant.as_str(), "call placed");
    let update = CallUpdate::placed(placed.sid, account, &placement, now_ms());
    // The call is placed whatever storage says: its callbacks carry all of it
    // (see the status route), so a failed write is logged, never refused.
    let call = match store.record(&update).await {
        Ok(Recorded::Applied(applied)) => applied.call,
        Ok(_) => update.call,
        Err(err) => {
            tracing::error!(call_sid = placed.sid.as_str(), reason = %err, "placed call not stored; its callbacks will store it");
            update.call
        }
    };
    Ok(CallSummary::from(&call))
}

/// The placement `body` asks for, checked: every field named when it is wrong.
async fn placement<S: LookUpNumbers + ManageTenantNumbers>(
    store: &S,
    principal: &Principal,
    body: PlaceCallBody,
) -> Result<Placement, Problem> {
    let customer = PhoneNumber::e164("to", &body.to)?;
    let number = match &body.tracking_number {
        Some(number) => {
            let number = PhoneNumber::e164("trackingNumber", number)?;
            let theirs = store.tracking_number(&number).await?.filter(|n| n.tenant_id == principal.tenant.as_str());
            // Another tenant's number and none at all are told apart by nobody.
            theirs.ok_or_else(|| Problem::unknown("trackingNumber", format!("{number} is not one of this tenant's tracking numbers")))?
        }
        None => own_number(store, principal).await?,
    };
    if !number.active {
        return Err(Problem::unprocessable("trackingNumber", format!("{} is not active", number.phone_number)));
    }
    let agent = match &body.agent_phone {
        Some(agent) => PhoneNumber::e164("agentPhone", agent)?,
        None => number.forward_to.clone(),
    };
    // Dialling the tracking number would come back to us as a call in.
    if customer == number.phone_number {
        return Err(Problem::invalid("to", format!("{customer} is the tracking number the call is placed from")));
    }
    if agent == number.phone_number {
        return Err(Problem::invalid("agentPhone", format!("{agent} is the tracking number the call is placed from")));
    }
    // The status URL names the call's user, so that its callbacks give it the requester whatever their order.
    if !CrmLinks::carries_user(&principal.user_id) {
        return Err(Problem::unprocessable(
            "userId",
            "the token's user id cannot be carried in a URL (1 to 256 characters, no control characters)",
        ));
    }
    let named = [("contactId", &body.contact_id), ("dealId", &body.deal_id), ("jobId", &body.job_id)];
    let named = named.into_iter().filter_map(|(name, value)| Some((name.to_owned(), value.clone()?)));
    let extra = body.crm.unwrap_or_default().into_iter().map(|(name, value)| match name.starts_with("crm_") {
        true => (name, value),
        false => (format!("crm_{name}"), value),
    });
    let links: Vec<(String, String)> = named.chain(extra).collect();
    let (crm, refused) = CrmLinks::read_pairs(links.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    if let Some(first) = refused.into_iter().next() {
        return Err(first.into());
    }
    Ok(Placement {
        record: body.record.unwrap_or(number.record),
        number,
        user_id: principal.user_id.clone(),
        agent,
        customer,
        crm: crm.links,
    })
}

/// The requester's own tracking number: their first active one.
async fn own_number<S: ManageTenantNumbers>(store: &S, principal: &Principal) -> Result<TrackingNumber, Problem> {
    let numbers = store.numbers_of(&principal.tenant).await?;
    numbers.into_iter().find(|n| n.user_id == principal.user_id && n.active).ok_or_else(|| {
        Problem::unprocessable(
            "trackingNumber",
            format!("is needed: user {} has no active tracking number of their own", principal.user_id),
        )
    })
}

/// The call Twilio is asked to place: the agent rung from the tracking number;
/// when they answer, our connect route; every status to our status route, with
/// whom the call is for and whose it is.
fn new_call(placement: &Placement, base_url: &str, settings: &Settings) -> NewCall {
    NewCall {
        to: placement.agent.clone(),
        from: placement.number.phone_number.clone(),
        url: Route::Connect.twilio_url_with_query(base_url, &placement.connect_query()),
        status_callback: Route::Status.twilio_url_with_query(base_url, &placement.status_query()),
        timeout_seconds: settings.dial_timeout_seconds,
    }
}

/// What Twilio's refusal means to the requester, and what a repeat gets.
fn twilio_problem(err: ApiError) -> (Problem, OnRepeat) {
    tracing::warn!(reason = %err, "Twilio did not place the call");
    // Retried already: Twilio did not act on it, so a later repeat may try afresh.
    let on_repeat = if err.is_retryable() { OnRepeat::TryAgain } else { OnRepeat::SameAnswer };
    let problem = match (err.refusal(), &err) {
        (Some(Refusal::Number), ApiError::Twilio { code, message, .. }) => Problem::twilio_refused(*code, message),
        // Something of ours Twilio would not take (a callback URL, from PUBLIC_BASE_URL): the operator's to mend.
        (Some(Refusal::Request), ApiError::Twilio { code, .. }) => {
            Problem::bad_gateway(format!("Twilio refused the request we sent for the call: {err}"), *code)
        }
        (Some(Refusal::Credentials | Refusal::NotFound), _) => {
            Problem::bad_gateway(format!("Twilio refused the operator's API key or account: {err}"), None)
        }
        (_, ApiError::Twilio { code, .. }) => Problem::bad_gateway(format!("Twilio did not place the call: {err}"), *code),
        _ => Problem::bad_gateway(err.to_string(), None),
    };
    (problem, on_repeat)
}

/// The `Idempotency-Key` header, when sent: 1 to 255 printable ASCII characters.
fn idempotency_key(request: &ApiRequest) -> Result<Option<String>, Problem> {
    let Some(key) = &request.idempotency_key else { return Ok(None) };
    let printable = key.bytes().all(|b| b.is_ascii_graphic());
    if key.is_empty() || key.len() > MAX_KEY_CHARS || !printable {
        return Err(Problem::invalid("Idempotency-Key", format!("must be 1 to {MAX_KEY_CHARS} printable ASCII characters")));
    }
    Ok(Some(key.clone()))
}

/// The problem with a repeat whose body is not its key's first request's.
fn repeat(first: &str, this: &str) -> Option<Problem> {
    (first != this)
        .then(|| Problem::unprocessable("Idempotency-Key", "was used for another request: a repeat is the same user's, with the same body"))
}

/// A repeat of a request claimed `seconds` ago and not answered. Past the
/// longest a request takes, it never will be: its process stopped, and
/// whether it placed a call is unknown, so it is never placed again.
fn in_flight(seconds: i64) -> Problem {
    if seconds <= LONGEST_REQUEST_SECONDS {
        return Problem::conflict("a request with this Idempotency-Key is still being answered; try again in a few seconds");
    }
    Problem::conflict(
        "the request with this Idempotency-Key never finished, and whether it placed a call is unknown: \
look for the call (GET /api/calls?contactId=…), and place it with a new key if it is not there",
    )
}

/// An id for a call Twilio gave none (it did not place it): `CA` and 32 hex
/// digits, as a CallSid, so that it lists and reads as any call; 128 random
/// bits, which no Twilio SID will ever equal.
fn our_call_sid(tenant: &TenantId) -> CallSid {
    use std::hash::{BuildHasher, RandomState};
    let (random, at) = (RandomState::new(), now_ms());
    let hex = format!("{:016x}{:016x}", random.hash_one((tenant, at, 1u8)), random.hash_one((tenant, at, 2u8)));
    CallSid::parse("callSid", &format!("CA{hex}")).expect("CA and 32 hex digits")
}
