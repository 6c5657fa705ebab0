//! A tenant's webhook endpoints, and the attempts at delivering events to
//! them: what `PUT /api/webhooks` keeps and `GET /api/webhooks/deliveries`
//! shows.

use crate::outbox::EventType;
use calltrack_twilio::fields::CallSid;
use serde::{Deserialize, Serialize};

/// How many endpoints a tenant may have.
pub const MAX_ENDPOINTS: usize = 10;

/// Where a tenant's events go, and the secret they are signed with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct WebhookEndpoint {
    /// Ours (`ep_…`): a delivery names it, so a URL can change under it
    /// (`PUT /api/webhooks` with the endpoint's `id`).
    pub id: String,
    pub url: String,
    /// `whsec_…`: the Standard Webhooks signing secret.
    pub secret: String,
    /// The events it hears; empty: all of them.
    #[serde(default)]
    pub events: Vec<EventType>,
    /// ms since the epoch.
    pub created_at: i64,
}

impl WebhookEndpoint {
    pub fn wants(&self, event_type: EventType) -> bool {
        self.events.is_empty() || self.events.contains(&event_type)
    }
}

/// One attempt at delivering one event to one endpoint, and its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DeliveryAttempt {
    /// The event's id (`webhook-id`): the same on every attempt.
    pub event_id: String,
    pub event_type: EventType,
    pub call_sid: CallSid,
    pub endpoint_id: String,
    pub url: String,
    /// 1 for the first.
    pub attempt: u32,
    /// When it was made, ms since the epoch.
    pub at: i64,
    /// The endpoint's HTTP status; none when it gave none (refused, timed out).
    pub status: Option<u16>,
    /// Why no status came, or why the answer was not taken.
    pub error: Option<String>,
    /// The start of the endpoint's answer.
    pub response: String,
    pub duration_ms: u64,
    /// A 2xx: done.
    pub delivered: bool,
    /// When it is tried again (ms since the epoch); none when delivered or given up.
    pub retry_at: Option<i64>,
}
