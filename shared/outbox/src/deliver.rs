//! Webhook deliveries, from their queue (the deliver function, or `calltrack
//! serve`'s loop): each event POSTed to its endpoint, signed with the
//! endpoint's secret at the time of the attempt, and the attempt logged for
//! `GET /api/webhooks/deliveries`. A delivery that fails comes back after its
//! backoff ([`Settings::webhook_backoff`]: Standard Webhooks' schedule, 27.6
//! hours); after the last, the queue moves it to its dead-letter queue. The
//! batch's deliveries go out at once, so one slow endpoint holds up no other.

use calltrack_core::endpoints::{DeliveryAttempt, WebhookEndpoint};
use calltrack_core::outbox::{EventType, WebhookEvent};
use calltrack_core::ports::{KeepWebhookEndpoints, LogDeliveries};
use calltrack_core::view::TenantId;
use calltrack_service::Settings;
use calltrack_sqs::{Received, SqsQueue};
use calltrack_twilio::fields::{CallSid, Field};
use calltrack_webhooks::{Secret, Sender};
use futures_util::future::join_all;
use lambda_http::tracing;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::Duration;

/// One event for one endpoint, as a queue message. The payload was made when
/// the change was dispatched: the call as it was at the event's version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub tenant_id: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub event_type: EventType,
    pub call_sid: CallSid,
    pub version: u64,
    pub payload: String,
}

impl Delivery {
    pub fn new(event: &WebhookEvent, endpoint_id: &str, payload: &str) -> Self {
        Delivery {
            tenant_id: event.tenant_id.clone(),
            endpoint_id: endpoint_id.to_owned(),
            event_id: event.id.clone(),
            event_type: event.event_type,
            call_sid: event.call_sid,
            version: event.version,
            payload: payload.to_owned(),
        }
    }

    pub fn body(&self) -> String {
        serde_json::to_string(self).expect("a delivery serialises")
    }
}

/// Delivers a batch of messages. Returns the ids of those that failed, each
/// set to come back after its backoff (or at once to the dead-letter queue,
/// after its last attempt); the others are done.
pub async fn deliver_batch<S: KeepWebhookEndpoints + LogDeliveries>(
    store: &S,
    sender: &Sender,
    settings: &Settings,
    queue: &SqsQueue,
    messages: &[Received],
) -> Vec<String> {
    // Each tenant's endpoints read once per batch; a read that fails leaves its deliveries to retry.
    let mut endpoints: HashMap<String, Option<Vec<WebhookEndpoint>>> = HashMap::new();
    let deliveries: Vec<Result<Delivery, String>> =
        messages.iter().map(|m| serde_json::from_str(&m.body).map_err(|e| format!("not a delivery: {e}"))).collect();
    for delivery in deliveries.iter().flatten() {
        if !endpoints.contains_key(&delivery.tenant_id) {
            let read = match TenantId::parse("tenantId", &delivery.tenant_id) {
                Ok(tenant) => {
                    store.webhook_endpoints(&tenant).await.map_err(|e| tracing::warn!(reason = %e, "webhook endpoints unread")).ok()
                }
                Err(_) => Some(Vec::new()),
            };
            endpoints.insert(delivery.tenant_id.clone(), read);
        }
    }
    let mut attempts = Vec::with_capacity(messages.len());
    for (message, delivery) in messages.iter().zip(&deliveries) {
        let endpoint =
            delivery.as_ref().ok().map(|d| endpoints[&d.tenant_id].as_ref().map(|all| all.iter().find(|e| e.id == d.endpoint_id)));
        attempts.push(attempt(store, sender, settings, queue, message, delivery, endpoint));
    }
    join_all(attempts).await.into_iter().flatten().collect()
}

/// One message's attempt; its id when it failed. `endpoint` is none for a
/// message that is no delivery, `Some(None)` when the tenant's endpoints
/// could not be read, `Some(Some(None))` when the endpoint is gone.
async fn attempt<S: LogDeliveries>(
    store: &S,
    sender: &Sender,
    settings: &Settings,
    queue: &SqsQueue,
    message: &Received,
    delivery: &Result<Delivery, String>,
    endpoint: Option<Option<Option<&WebhookEndpoint>>>,
) -> Option<String> {
    let delivery = match delivery {
        Ok(delivery) => delivery,
        Err(reason) => return give_back(queue, message, settings, reason).await,
    };
    let endpoint = match endpoint.flatten() {
        None => return give_back(queue, message, settings, "the tenant's endpoints could not be read").await,
        Some(None) => {
            tracing::info!(event_id = delivery.event_id, endpoint_id = delivery.endpoint_id, "endpoint removed: delivery dropped");
            return None;
        }
        Some(Some(endpoint)) => endpoint,
    };
    let Ok(secret) = endpoint.secret.parse::<Secret>() else {
        return give_back(queue, message, settings, "the endpoint's secret is not a whsec_ secret").await;
    };
    let now_ms = calltrack_service::app::now_ms();
    let sent = sender.deliver(&endpoint.url, &secret, &delivery.event_id, delivery.payload.as_bytes(), now_ms / 1000).await;
    let delivered = sent.delivered();
    let wait = if delivered { None } else { backoff(settings, message.receive_count) };
    let logged = DeliveryAttempt {
        event_id: delivery.event_id.clone(),
        event_type: delivery.event_type,
        call_sid: delivery.call_sid,
        endpoint_id: endpoint.id.clone(),
        url: endpoint.url.clone(),
        attempt: message.receive_count,
        at: now_ms,
        status: sent.status,
        error: sent.error.clone(),
        response: sent.response.clone(),
        duration_ms: sent.duration_ms,
        delivered,
        retry_at: wait.map(|w| now_ms + w.as_millis() as i64),
    };
    if let Ok(tenant) = TenantId::parse("tenantId", &delivery.tenant_id)
        && let Err(err) = store.log_delivery(&tenant, &logged).await
    {
        tracing::warn!(event_id = delivery.event_id, reason = %err, "delivery attempt not logged");
    }
    tracing::info!(
        event_id = delivery.event_id,
        endpoint_id = endpoint.id,
        attempt = message.receive_count,
        status = sent.status,
        error = sent.error,
        ms = sent.duration_ms,
        delivered,
        "webhook attempt"
    );
    if delivered {
        return None;
    }
    let answer = sent.status.map_or_else(|| sent.error.clone().unwrap_or_default(), |s| format!("answered {s}"));
    give_back(queue, message, settings, &answer).await
}

/// How long a delivery that failed its `attempt`th try waits; none after the last.
pub fn backoff(settings: &Settings, attempt: u32) -> Option<Duration> {
    settings.webhook_backoff.get(attempt.saturating_sub(1) as usize).copied()
}

/// A message not delivered, for `reason`: it comes back after its backoff,
/// or at once after its last attempt, when the queue moves it to the
/// dead-letter queue. Its id, as failed.
async fn give_back(queue: &SqsQueue, message: &Received, settings: &Settings, reason: &str) -> Option<String> {
    let wait = backoff(settings, message.receive_count);
    let retry_in_s = wait.map(|w| w.as_secs());
    tracing::warn!(message_id = message.message_id, tries = message.receive_count, retry_in_s, reason, "webhook not delivered");
    if let Err(err) = queue.retry_later(&message.receipt_handle, wait.unwrap_or(Duration::ZERO)).await {
        tracing::warn!(message_id = message.message_id, reason = %err, "could not set the backoff; the queue's visibility timeout applies");
    }
    Some(message.message_id.clone())
}

/// `calltrack serve`'s deliverer: takes deliveries from `queue` until the
/// process stops, as the deliver function does in a deployed stack.
pub async fn poll<S: KeepWebhookEndpoints + LogDeliveries>(store: &S, sender: &Sender, settings: &Settings, queue: &SqsQueue) {
    loop {
        let messages = match queue.receive(Duration::from_secs(1)).await {
            Ok(messages) => messages,
            Err(err) => {
                tracing::warn!(reason = %err, "could not read the webhook queue");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let failed = deliver_batch(store, sender, settings, queue, &messages).await;
        for message in messages.iter().filter(|m| !failed.contains(&m.message_id)) {
            if let Err(err) = queue.delete(&message.receipt_handle).await {
                tracing::warn!(message_id = message.message_id, reason = %err, "delivered, but not deleted: it will be delivered again, under the same id");
            }
        }
    }
}
