//! How the call domain is laid out in DynamoDB items. The domain knows
//! nothing of this: a call's `version` (the optimistic lock), its index keys
//! (`tenantUser`, `qualifiedTenantId`), the events' keys and their expiry are
//! added here on the way in and dropped on the way out.

use aws_sdk_dynamodb::types::AttributeValue;
use calltrack_core::call::{Call, CallEvent, EventId, EventKind};
use calltrack_core::ports::StorageError;
use calltrack_core::view::EventView;
use calltrack_twilio::Params;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::Duration;

pub type Item = HashMap<String, AttributeValue>;

/// The attribute that counts the distinct callbacks merged into a call.
pub const VERSION: &str = "version";

/// A call's item: its facts, its version, and the keys of the indexes it belongs to.
pub fn call_item(call: &Call, version: u64) -> Result<Item, StorageError> {
    let mut item = to_item(call)?;
    item.insert(VERSION.into(), number(version));
    // `tenantId#userId`: the key of the by-user index, so user ids of two
    // tenants never meet (a tenant id holds no `#`).
    if let (Some(tenant), Some(user)) = (&call.tenant_id, &call.user_id) {
        item.insert("tenantUser".into(), AttributeValue::S(format!("{tenant}#{user}")));
    }
    // Set only on qualified calls: the key of the sparse index of qualified calls.
    if let Some(tenant) = call.tenant_id.as_ref().filter(|_| call.qualified) {
        item.insert("qualifiedTenantId".into(), AttributeValue::S(tenant.clone()));
    }
    Ok(item)
}

/// A call and its version from its item.
pub fn call_from_item(item: Item) -> Result<(Call, u64), StorageError> {
    let version = item.get(VERSION).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok()).unwrap_or(0);
    Ok((from_item(item)?, version))
}

/// The key of an event: the same for every delivery of one callback, which is
/// how storage tells a redelivery. A leg's sequence number is zero-padded so
/// that a call's events list in order.
pub fn event_key(id: &EventId) -> String {
    match id {
        EventId::Answer => "answer".into(),
        EventId::Dial => "dial".into(),
        EventId::Owner => "owner".into(),
        EventId::Status { child, sequence_number, status } => {
            let leg = child.as_ref().map_or("parent", |sid| sid.as_str());
            let seq = sequence_number.map_or_else(|| "-".to_owned(), |n| format!("{n:05}"));
            format!("status#{leg}#{seq}#{status}")
        }
        EventId::Recording { sid, status } => format!("recording#{sid}#{status}"),
    }
}

/// An event as stored in the CallEvents table.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredEvent {
    call_sid: String,
    event_key: String,
    kind: EventKind,
    status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sequence_number: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    occurred_at: Option<i64>,
    received_at: i64,
    params: Params,
    /// When DynamoDB's TTL deletes it, in seconds since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<i64>,
}

/// An event's item, which expires `retention` after it was received.
pub fn event_item(event: &CallEvent, retention: Duration) -> Result<Item, StorageError> {
    to_item(&StoredEvent {
        call_sid: event.call_sid.to_string(),
        event_key: event_key(&event.id),
        kind: event.kind(),
        status: Some(event.status.clone()),
        sequence_number: event.sequence_number(),
        occurred_at: event.occurred_at,
        received_at: event.received_at,
        params: event.params.clone(),
        expires_at: Some(event.received_at / 1000 + retention.as_secs() as i64),
    })
}

/// An event as its readers see it.
pub fn event_view(item: Item) -> Result<EventView, StorageError> {
    let stored: StoredEvent = from_item(item)?;
    Ok(EventView {
        kind: stored.kind,
        status: stored.status,
        sequence_number: stored.sequence_number,
        occurred_at: stored.occurred_at,
        received_at: stored.received_at,
        event_key: stored.event_key,
        params: stored.params,
    })
}

pub fn number(n: impl ToString) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

pub fn storage(err: impl std::fmt::Display) -> StorageError {
    StorageError(err.to_string())
}

pub fn to_item<T: Serialize>(value: &T) -> Result<Item, StorageError> {
    serde_dynamo::to_item(value).map_err(storage)
}

pub fn from_item<T: serde::de::DeserializeOwned>(item: Item) -> Result<T, StorageError> {
    serde_dynamo::from_item(item).map_err(storage)
}
