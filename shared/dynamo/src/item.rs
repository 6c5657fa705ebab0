//! How the call domain is laid out in DynamoDB items. The domain knows
//! nothing of this: a call's `version` (the optimistic lock), its index keys
//! (`tenantUser`, `qualifiedTenantId`), the events' keys and their expiry are
//! added here on the way in and dropped on the way out.

use aws_sdk_dynamodb::types::AttributeValue;
use calltrack_core::call::{Call, CallEvent, EventId, EventKind};
use calltrack_core::ports::StorageError;
use calltrack_core::view::EventView;
use calltrack_twilio::Params;
use calltrack_twilio::fields::{CallSid, CallStatus, DialCallStatus, Direction, PhoneNumber};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::Duration;

pub type Item = HashMap<String, AttributeValue>;

/// The attribute that counts the distinct callbacks merged into a call.
pub const VERSION: &str = "version";

/// A call's item: its facts, its version, and the keys of the indexes it belongs to.
/// The same attributes `serde_dynamo` would write for the call (a test holds the
/// two together), built straight into the SDK's types: this runs for every
/// callback, and `serde_dynamo::to_item` builds each map twice (its own, then
/// the SDK's). Reading stays with `serde_dynamo`.
pub fn call_item(call: &Call, version: u64) -> Item {
    let mut item = Attributes::with_capacity(40);
    item.s("callSid", call.call_sid.as_str());
    item.opt_s("tenantId", call.tenant_id.as_deref());
    item.opt_s("userId", call.user_id.as_deref());
    item.opt_s("trackingNumber", call.tracking_number.as_ref().map(PhoneNumber::as_str));
    item.opt_s("leadSource", call.lead_source.as_deref());
    item.opt_n("minTalkSeconds", call.min_talk_seconds);
    item.opt_s("fromNumber", call.from_number.as_ref().map(PhoneNumber::as_str));
    item.opt_s("toNumber", call.to_number.as_ref().map(PhoneNumber::as_str));
    item.opt_s("direction", call.direction.map(Direction::as_str));
    item.opt_s("callerName", call.caller_name.as_deref());
    item.opt_s("callerCity", call.caller_city.as_deref());
    item.opt_s("callerState", call.caller_state.as_deref());
    item.opt_s("status", call.status.map(CallStatus::as_str));
    item.opt_n("progress", call.progress);
    item.n("startedAt", call.started_at);
    item.opt_n("endedAt", call.ended_at);
    item.opt_n("durationSeconds", call.duration_seconds);
    item.bool("forwarded", call.forwarded);
    item.opt_s("dialStatus", call.dial_status.map(DialCallStatus::as_str));
    item.opt_s("dialCallSid", call.dial_call_sid.as_ref().map(CallSid::as_str));
    item.opt_n("dialTalkSeconds", call.dial_talk_seconds);
    item.opt_n("childTalkSeconds", call.child_talk_seconds);
    if let Some(recording) = &call.recording {
        let mut map = Attributes::with_capacity(6);
        map.s("sid", recording.sid.as_str());
        map.s("status", recording.status.as_str());
        map.opt_s("url", recording.url.as_deref());
        map.opt_n("durationSeconds", recording.duration_seconds);
        map.opt_n("channels", recording.channels);
        map.opt_s("source", recording.source.as_deref());
        item.0.insert("recording".into(), AttributeValue::M(map.0));
    }
    if !call.crm.is_empty() {
        let links = call.crm.iter().map(|(k, v)| (k.clone(), AttributeValue::S(v.clone()))).collect();
        item.0.insert("crm".into(), AttributeValue::M(links));
    }
    item.bool("answered", call.answered);
    item.opt_n("talkSeconds", call.talk_seconds);
    item.bool("qualified", call.qualified);
    item.s("qualificationReason", &call.qualification_reason);
    item.bool("voicemail", call.voicemail);
    item.bool("attributed", call.attributed);
    item.n("createdAt", call.created_at);
    item.n("updatedAt", call.updated_at);

    // Storage's own: the version counts the callbacks merged (the optimistic lock).
    item.n(VERSION, version);
    // `tenantId#userId`: the key of the by-user index, so user ids of two
    // tenants never meet (a tenant id holds no `#`).
    if let (Some(tenant), Some(user)) = (&call.tenant_id, &call.user_id) {
        item.s("tenantUser", &format!("{tenant}#{user}"));
    }
    // Set only on qualified calls: the key of the sparse index of qualified calls.
    if call.qualified {
        item.opt_s("qualifiedTenantId", call.tenant_id.as_deref());
    }
    item.0
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

/// An event's item, which expires `retention` after it was received. Built
/// straight into the SDK's types, as [`call_item`] is; it reads back as a `StoredEvent`.
pub fn event_item(event: &CallEvent, retention: Duration) -> Item {
    let mut item = Attributes::with_capacity(9);
    item.s("callSid", event.call_sid.as_str());
    item.s("eventKey", &event_key(&event.id));
    item.s("kind", event.kind().as_str());
    item.s("status", &event.status);
    item.opt_n("sequenceNumber", event.sequence_number());
    item.opt_n("occurredAt", event.occurred_at);
    item.n("receivedAt", event.received_at);
    let pairs = event.params.iter().map(|(k, v)| AttributeValue::L(vec![AttributeValue::S(k.into()), AttributeValue::S(v.into())]));
    item.0.insert("params".into(), AttributeValue::L(pairs.collect()));
    item.n("expiresAt", event.received_at / 1000 + retention.as_secs() as i64);
    item.0
}

/// An item in the making.
struct Attributes(Item);

impl Attributes {
    fn with_capacity(attributes: usize) -> Self {
        Attributes(Item::with_capacity(attributes))
    }

    fn s(&mut self, name: &str, value: &str) {
        self.0.insert(name.to_owned(), AttributeValue::S(value.to_owned()));
    }

    fn n(&mut self, name: &str, value: impl ToString) {
        self.0.insert(name.to_owned(), number(value));
    }

    fn bool(&mut self, name: &str, value: bool) {
        self.0.insert(name.to_owned(), AttributeValue::Bool(value));
    }

    /// Absent values are left out, as `serde_dynamo` leaves out skipped fields.
    fn opt_s(&mut self, name: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.s(name, value);
        }
    }

    fn opt_n(&mut self, name: &str, value: Option<impl ToString>) {
        if let Some(value) = value {
            self.n(name, value);
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use calltrack_core::call::CallUpdate;
    use calltrack_core::fixtures::{self, Lifecycle};

    /// Every callback of a forwarded, recorded call, and the call they make.
    fn lifecycle() -> (Vec<CallUpdate>, Call) {
        let updates = Lifecycle::new(1).forwarded(Some(&fixtures::number("tenant-a", "user-1", None)), 20, 45);
        let call = updates.iter().fold(None, |call, u| Some(Call::apply(call, u.call.clone()).call)).unwrap();
        (updates, call)
    }

    /// What `serde_dynamo` writes for a call, with storage's own attributes beside it.
    fn through_serde(call: &Call, version: u64, own: &[(&str, &str)]) -> Item {
        let mut item: Item = serde_dynamo::to_item(call).unwrap();
        item.insert(VERSION.into(), number(version));
        item.extend(own.iter().map(|(k, v)| (k.to_string(), AttributeValue::S(v.to_string()))));
        item
    }

    #[test]
    fn a_call_item_holds_what_serde_would_write_and_reads_back() {
        let (updates, qualified) = lifecycle();
        let mut linked = qualified.clone();
        linked.crm = [("contactId", "c-1"), ("dealId", "d-2")].map(|(k, v)| (k.to_owned(), v.to_owned())).into();
        let unknown = updates[6].call.clone(); // a parent status alone: no owner, no recording
        let own = [("tenantUser", "tenant-a#user-1"), ("qualifiedTenantId", "tenant-a")];
        for (call, own) in [(&qualified, &own[..]), (&linked, &own[..]), (&unknown, &[][..])] {
            assert_eq!(call_item(call, 8), through_serde(call, 8, own), "{call:?}");
            assert_eq!(call_from_item(call_item(call, 8)).unwrap(), (call.clone(), 8));
        }
    }

    #[test]
    fn an_event_item_holds_what_serde_would_write_and_expires() {
        let (updates, _) = lifecycle();
        for update in &updates {
            let event = &update.event;
            let stored = StoredEvent {
                call_sid: event.call_sid.to_string(),
                event_key: event_key(&event.id),
                kind: event.kind(),
                status: Some(event.status.clone()),
                sequence_number: event.sequence_number(),
                occurred_at: event.occurred_at,
                received_at: event.received_at,
                params: event.params.clone(),
                expires_at: Some(event.received_at / 1000 + 86_400),
            };
            let item = event_item(event, Duration::from_secs(86_400));
            assert_eq!(item, serde_dynamo::to_item::<_, Item>(&stored).unwrap(), "{event:?}");
            let view = event_view(item).unwrap();
            assert_eq!((view.kind, view.sequence_number, view.params), (event.kind(), event.sequence_number(), event.params.clone()));
        }
    }
}
