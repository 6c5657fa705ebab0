//! The calls table's stream, dispatched: each write to a call is read as the
//! call before and after it ([`calltrack_dynamo::changes`]) and what it sets
//! off ([`calltrack_core::outbox`]) is queued, never done here, so that a slow
//! recording or endpoint never holds up the stream: a webhook delivery per
//! event and endpoint that wants it, and a finished recording's copy. A batch
//! that cannot be queued fails whole and the stream gives it again: what was
//! queued already is queued twice, and copying twice or telling an event twice
//! (under the same id, which receivers deduplicate on) is harmless.

use crate::copy::CopyMessage;
use crate::deliver::Delivery;
use calltrack_core::endpoints::WebhookEndpoint;
use calltrack_core::outbox::{WebhookPayload, recording_to_copy, webhook_events};
use calltrack_core::ports::{KeepWebhookEndpoints, StorageError};
use calltrack_core::view::TenantId;
use calltrack_dynamo::changes::call_change;
use calltrack_dynamo::item::Item;
use calltrack_sqs::SqsQueue;
use calltrack_twilio::fields::Field;
use lambda_http::tracing;
use std::collections::HashMap;

/// Where a change's consequences are queued.
#[derive(Debug, Clone, Default)]
pub struct Dispatcher {
    /// The callback queue, when recordings are copied into our bucket.
    pub copies: Option<SqsQueue>,
    /// The webhook deliveries' queue, when webhooks are sent.
    pub webhooks: Option<SqsQueue>,
}

/// What a batch set off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Dispatched {
    pub changes: usize,
    pub copies: usize,
    pub deliveries: usize,
}

/// Dispatches a batch of stream records, (old image, new image) in the
/// stream's order, reading each tenant's endpoints once.
pub async fn dispatch<E: KeepWebhookEndpoints>(
    dispatcher: &Dispatcher,
    endpoints: &E,
    records: Vec<(Item, Item)>,
) -> Result<Dispatched, StorageError> {
    let mut dispatched = Dispatched::default();
    let (mut copies, mut deliveries) = (Vec::new(), Vec::new());
    let mut tenants: HashMap<String, Vec<WebhookEndpoint>> = HashMap::new();
    for (old_image, new_image) in records {
        let change = match call_change(old_image, new_image) {
            Ok(Some(change)) => change,
            Ok(None) => continue,
            Err(err) => {
                tracing::warn!(reason = %err, "a call this version cannot read: nothing dispatched for this change");
                continue;
            }
        };
        dispatched.changes += 1;
        if dispatcher.copies.is_some()
            && let Some(job) = recording_to_copy(change.before.as_ref(), &change.after)
        {
            copies.push(CopyMessage::new(&job).body());
        }
        if dispatcher.webhooks.is_none() {
            continue;
        }
        for event in webhook_events(change.before.as_ref(), &change.after, change.version, dispatcher.copies.is_some()) {
            if !tenants.contains_key(&event.tenant_id) {
                // A tenant id the API never took names no endpoints.
                let listening = match TenantId::parse("tenantId", &event.tenant_id) {
                    Ok(tenant) => endpoints.webhook_endpoints(&tenant).await?,
                    Err(_) => Vec::new(),
                };
                tenants.insert(event.tenant_id.clone(), listening);
            }
            let listening: Vec<&WebhookEndpoint> = tenants[&event.tenant_id].iter().filter(|e| e.wants(event.event_type)).collect();
            if listening.is_empty() {
                // Most tenants have no endpoint: no payload to make.
                continue;
            }
            let payload = serde_json::to_string(&WebhookPayload::new(&event, &change.after)).expect("a payload serialises");
            for endpoint in listening {
                deliveries.push(Delivery::new(&event, &endpoint.id, &payload).body());
            }
        }
    }
    if let Some(queue) = &dispatcher.copies {
        queue.send_all(&copies).await?;
    }
    if let Some(queue) = &dispatcher.webhooks {
        queue.send_all(&deliveries).await?;
    }
    (dispatched.copies, dispatched.deliveries) = (copies.len(), deliveries.len());
    Ok(dispatched)
}
