//! `/api/webhooks`: where a tenant's call events are sent, signed (`GET`, and
//! `PUT` to replace the list), and `/api/webhooks/deliveries`: the latest
//! attempts and their answers. Admins only: an endpoint's secret signs what
//! its receiver trusts.

use crate::principal::{Principal, Role};
use crate::problem::{Problem, read_body};
use calltrack_core::endpoints::{DeliveryAttempt, MAX_ENDPOINTS, WebhookEndpoint};
use calltrack_core::outbox::EventType;
use calltrack_core::ports::{KeepWebhookEndpoints, LogDeliveries};
use calltrack_webhooks::{Secret, endpoint_url};
use serde::{Deserialize, Serialize};

/// A tenant's endpoints, each with its signing secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Endpoints {
    pub endpoints: Vec<WebhookEndpoint>,
}

/// The endpoints `PUT /api/webhooks` keeps, in place of the tenant's.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointsBody {
    #[schema(max_items = 10)]
    endpoints: Vec<EndpointBody>,
}

/// One endpoint. An endpoint already there, named by its `id` or else found
/// under the same URL, keeps its id and secret (unless a secret is given), and
/// its deliveries under way go on to its new URL.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointBody {
    /// An endpoint of the tenant's (`ep_…`), to change its URL or events.
    id: Option<String>,
    /// HTTPS, without credentials or a fragment (locally, `calltrack serve` also takes plain HTTP to localhost).
    #[schema(max_length = 2048, pattern = "^(https://|http://(localhost|127[.]0[.]0[.]1|\\[::1\\])[:/])")]
    url: String,
    /// The events it hears; absent or empty: all of them.
    #[serde(default)]
    events: Vec<EventType>,
    /// `whsec_` and 24 to 64 bytes in base64; absent: one is made.
    #[schema(pattern = "^whsec_[A-Za-z0-9+/=]+$")]
    secret: Option<String>,
}

/// The latest attempts, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Deliveries {
    pub deliveries: Vec<DeliveryAttempt>,
}

fn admin_only(principal: &Principal) -> Result<(), Problem> {
    match principal.role {
        Role::Admin => Ok(()),
        Role::Member => Err(Problem::forbidden("only the tenant's admins may see or change its webhooks")),
    }
}

pub async fn get<S: KeepWebhookEndpoints>(store: &S, principal: &Principal) -> Result<Endpoints, Problem> {
    admin_only(principal)?;
    Ok(Endpoints { endpoints: store.webhook_endpoints(&principal.tenant).await? })
}

/// `local`: endpoints on this machine are taken (`calltrack serve`).
pub async fn put<S: KeepWebhookEndpoints>(
    store: &S,
    principal: &Principal,
    body: &[u8],
    local: bool,
    now: i64,
) -> Result<Endpoints, Problem> {
    admin_only(principal)?;
    let body: EndpointsBody = read_body(body)?;
    if body.endpoints.len() > MAX_ENDPOINTS {
        return Err(Problem::invalid("endpoints", format!("holds {} endpoints; a tenant may have {MAX_ENDPOINTS}", body.endpoints.len())));
    }
    let before = store.webhook_endpoints(&principal.tenant).await?;
    let mut endpoints: Vec<WebhookEndpoint> = Vec::with_capacity(body.endpoints.len());
    for (n, asked) in body.endpoints.into_iter().enumerate() {
        let url = endpoint_url(&asked.url, local).map_err(|why| Problem::invalid(&format!("endpoints[{n}].url"), why))?;
        if endpoints.iter().any(|e| e.url == url) {
            return Err(Problem::invalid(&format!("endpoints[{n}].url"), "is another endpoint's too"));
        }
        let secret = match asked.secret {
            Some(secret) => {
                Some(secret.parse::<Secret>().map_err(|why| Problem::invalid(&format!("endpoints[{n}].secret"), why.to_string()))?)
            }
            None => None,
        };
        let kept = match &asked.id {
            Some(id) => Some(
                before
                    .iter()
                    .find(|e| &e.id == id)
                    .ok_or_else(|| Problem::invalid(&format!("endpoints[{n}].id"), format!("is no endpoint of the tenant's: {id}")))?,
            ),
            None => before.iter().find(|e| e.url == url),
        };
        if let Some(kept) = kept
            && endpoints.iter().any(|e| e.id == kept.id)
        {
            return Err(Problem::invalid(&format!("endpoints[{n}]"), format!("is {} again", kept.id)));
        }
        let mut events = asked.events;
        events.sort();
        events.dedup();
        endpoints.push(WebhookEndpoint {
            id: kept.map_or_else(endpoint_id, |e| e.id.clone()),
            secret: match (secret, kept) {
                (Some(secret), _) => secret.to_string(),
                (None, Some(kept)) => kept.secret.clone(),
                (None, None) => Secret::generate().to_string(),
            },
            url,
            events,
            created_at: kept.map_or(now, |e| e.created_at),
        });
    }
    store.set_webhook_endpoints(&principal.tenant, &endpoints).await?;
    Ok(Endpoints { endpoints })
}

/// `?limit=` (1 to 200, default 50).
pub async fn deliveries<S: LogDeliveries>(store: &S, principal: &Principal, query: &str) -> Result<Deliveries, Problem> {
    admin_only(principal)?;
    let mut limit = 50;
    for (name, value) in query.split('&').filter(|p| !p.is_empty()).map(|p| p.split_once('=').unwrap_or((p, ""))) {
        match name {
            "limit" => {
                limit = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=200).contains(n))
                    .ok_or_else(|| Problem::invalid("limit", "is a whole number from 1 to 200"))?
            }
            other => return Err(Problem::invalid(other, "is not a parameter of this resource (limit is)")),
        }
    }
    Ok(Deliveries { deliveries: store.deliveries(&principal.tenant, limit).await? })
}

/// A new endpoint's id: `ep_` and 16 random hex digits.
fn endpoint_id() -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("the operating system's random numbers");
    format!("ep_{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}
