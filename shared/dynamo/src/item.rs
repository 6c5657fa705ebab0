//! How the call domain is laid out in DynamoDB items. The domain knows
//! nothing of this: a call's `version` (the optimistic lock), its index keys
//! (`tenantUser`), the version of its index entries, the events' keys and their expiry are
//! added here on the way in and dropped on the way out.
//!
//! A call's item is only a cache of the merge of its events: every callback is
//! kept whole in CallEvents. So an item this version cannot read (written by
//! another version, imported, or edited by hand) is rebuilt ([`rebuild_call`])
//! from what of it can still be read and the facts of its events, never a
//! reason to refuse a callback.

use aws_sdk_dynamodb::types::AttributeValue;
use calltrack_core::call::{Call, CallEvent, CallUpdate, EventId, EventKind};
use calltrack_core::disposition::Verdict;
use calltrack_core::ports::StorageError;
use calltrack_core::view::EventView;
use calltrack_twilio::Params;
use calltrack_twilio::fields::{AccountSid, CallSid, CallStatus, DialCallStatus, Direction, PhoneNumber};
use calltrack_twilio::voice::{CallWebhook, DialReading, IncomingCall, RecordingWebhook};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::Duration;

pub type Item = HashMap<String, AttributeValue>;

/// The attribute that counts the distinct callbacks merged into a call.
pub const VERSION: &str = "version";
/// `true` on every call this version writes: its entries are in the calls'
/// index, keyed as its [`INDEX_VERSION_OF`] says.
pub const INDEXED: &str = "indexed";
/// The [`INDEX_VERSION`] that keyed a call's index entries; absent: 1. Beside
/// `indexed`, which stays `true`, so that a release that knows only version 1
/// (a rollback, or a function not yet updated during a deploy) still takes
/// the call as counted, and never adds its counts twice.
pub const INDEX_VERSION_OF: &str = "indexVersion";
/// How this version keys a call's index entries. 1 kept each listing in one
/// partition and had no listing of all or of qualified calls; 2 spreads the
/// busiest listings over shards. A call's next write, or `calltrack calls
/// reindex`, moves its entries from its version's keys.
pub const INDEX_VERSION: u8 = 2;
/// The attribute that holds the Twilio account a call is in, which a callback
/// from another account may not change.
pub const ACCOUNT: &str = "accountSid";

/// A call's item: its facts, its version, and the keys of the indexes it belongs to.
/// The same attributes `serde_dynamo` would write for the call (a test holds the
/// two together), built straight into the SDK's types: this runs for every
/// callback, and `serde_dynamo::to_item` builds each map twice (its own, then
/// the SDK's). Reading stays with `serde_dynamo`.
pub fn call_item(call: &Call, version: u64) -> Item {
    let mut item = Attributes::with_capacity(40);
    item.s("callSid", call.call_sid.as_str());
    item.opt_s(ACCOUNT, call.account_sid.as_ref().map(AccountSid::as_str));
    item.opt_s("tenantId", call.tenant_id.as_deref());
    item.opt_s("userId", call.user_id.as_deref());
    item.opt_s("trackingNumber", call.tracking_number.as_ref().map(PhoneNumber::as_str));
    item.opt_s("leadSource", call.lead_source.as_deref());
    item.opt_n("minTalkSeconds", call.min_talk_seconds);
    if let Some(qualify) = call.qualify_outbound {
        item.bool("qualifyOutbound", qualify);
    }
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
    if let Some(bridged) = call.dial_bridged {
        item.bool("dialBridged", bridged);
    }
    item.opt_n("childTalkSeconds", call.child_talk_seconds);
    item.opt_s("placementError", call.placement_error.as_deref());
    if let Some(recording) = &call.recording {
        let mut map = Attributes::with_capacity(6);
        map.s("sid", recording.sid.as_str());
        map.s("status", recording.status.as_str());
        map.opt_s("url", recording.url.as_deref());
        map.opt_n("durationSeconds", recording.duration_seconds);
        map.opt_n("channels", recording.channels);
        map.opt_s("source", recording.source.as_deref());
        map.opt_s("bucketKey", recording.bucket_key.as_deref());
        item.0.insert("recording".into(), AttributeValue::M(map.0));
    }
    if !call.crm.is_empty() {
        let links = call.crm.iter().map(|(k, v)| (k.clone(), AttributeValue::S(v.clone()))).collect();
        item.0.insert("crm".into(), AttributeValue::M(links));
    }
    item.opt_n("priorCalls", call.prior_calls);
    // Rare (a person's verdict), so serde_dynamo's double build costs nothing that matters.
    if let Some(disposition) = &call.disposition {
        let value = serde_dynamo::to_attribute_value(disposition).expect("a disposition is plain data");
        item.0.insert("disposition".into(), value);
    }
    item.bool("answered", call.answered);
    item.opt_n("talkSeconds", call.talk_seconds);
    item.bool("qualified", call.qualified);
    item.s("qualificationReason", &call.qualification_reason);
    item.s("verdict", if call.verdict == Verdict::Manual { "manual" } else { "automatic" });
    item.bool("firstTimeCaller", call.first_time_caller);
    item.bool("voicemail", call.voicemail);
    item.bool("attributed", call.attributed);
    item.n("createdAt", call.created_at);
    item.n("updatedAt", call.updated_at);

    // Storage's own: the version counts the callbacks merged (the optimistic lock).
    item.n(VERSION, version);
    item.bool(INDEXED, true);
    item.n(INDEX_VERSION_OF, INDEX_VERSION);
    // `tenantId#userId`: the key of the by-user index, so user ids of two
    // tenants never meet (a tenant id holds no `#`).
    if let (Some(tenant), Some(user)) = (&call.tenant_id, &call.user_id) {
        item.s("tenantUser", &format!("{tenant}#{user}"));
    }
    item.0
}

/// A call and its version from its item, as this version writes them: an item
/// without a whole-number version, or whose call does not read, is an error
/// (and [`rebuild_call`]'s to read).
pub fn call_from_item(item: Item) -> Result<(Call, u64), StorageError> {
    let version = version_of(&item).ok_or_else(|| storage("version is missing or not a whole number"))?;
    Ok((from_item(item)?, version))
}

/// A call's version, when its item holds one as this version writes it.
/// A version past 2^53 is no count of callbacks but an edit, and would leave
/// no room to count on.
pub fn version_of(item: &Item) -> Option<u64> {
    item.get(VERSION).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok()).filter(|&v: &u64| v <= 1 << 53)
}

/// Which keys a call's index entries have ([`INDEX_VERSION`]): 0 when its
/// item says none (written before the index, or by hand).
pub fn index_version(item: &Item) -> u8 {
    match item.get(INDEXED) {
        Some(AttributeValue::Bool(true)) => {
            item.get(INDEX_VERSION_OF).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok()).unwrap_or(1)
        }
        _ => 0,
    }
}

/// The attributes storage adds to a call's item beside the call's own
/// (`qualifiedTenantId` keyed the retired `QualifiedByTenant` index: an
/// older item may still hold it).
const STORAGE_OWN: [&str; 5] = [VERSION, INDEXED, INDEX_VERSION_OF, "tenantUser", "qualifiedTenantId"];

/// A call rebuilt from an item that did not read, and its events.
#[derive(Debug, Clone, PartialEq)]
pub struct Rebuilt {
    pub call: Call,
    /// The version to write it back from: at least the item's own, when it had
    /// one, and at least the number of callbacks merged (its events).
    pub version: u64,
    /// What could not be read, each as `name (why)`: `createdAt (missing)`,
    /// `durationSeconds (wrong type or value)`, `event answer (unreadable)`. Names
    /// only, never values: an item holds phone numbers.
    pub unreadable: Vec<String>,
    /// How many events it was rebuilt from.
    pub events: usize,
}

/// Rebuilds a call whose item does not read as this version writes it: every
/// attribute of the item that reads on its own, merged ([`Call::merge`]) with the
/// facts of each of its stored events, re-read from their raw parameters. The
/// merge does not depend on order and repeats nothing, so the result is the
/// call the events make, plus what only the item knew (the owner, the CRM
/// links, whether we forwarded it); a missing time is the earliest (or, for
/// `updatedAt`, the latest) time known, else `fallback_at`.
pub fn rebuild_call(call_sid: CallSid, item: &Item, events: Vec<Item>, fallback_at: i64) -> Rebuilt {
    let (salvaged, mut unreadable) = salvage_call(call_sid, item);
    let count = events.len();
    let mut call = salvaged;
    for event in events {
        let key = event.get("eventKey").and_then(|k| k.as_s().ok()).cloned().unwrap_or_else(|| "(no eventKey)".into());
        match event_facts(call_sid, event) {
            Some(facts) => call = call.merge(facts),
            None => unreadable.push(format!("event {key} (unreadable)")),
        }
    }
    let known: Vec<i64> = [call.started_at, call.created_at]
        .into_iter()
        .filter(|&t| t != i64::MAX)
        .chain(Some(call.updated_at).filter(|&t| t != i64::MIN))
        .collect();
    let earliest = known.iter().copied().min().unwrap_or(fallback_at);
    let latest = known.iter().copied().max().unwrap_or(fallback_at);
    if call.started_at == i64::MAX {
        call.started_at = earliest;
    }
    if call.created_at == i64::MAX {
        call.created_at = earliest;
    }
    if call.updated_at == i64::MIN {
        call.updated_at = latest;
    }
    // Merging with a call that knows nothing recomputes what is derived.
    let call = call.merge(Call { started_at: i64::MAX, created_at: i64::MAX, updated_at: i64::MIN, ..Call::new(call_sid, 0) });
    let version = version_of(item).unwrap_or(0).max(count as u64);
    Rebuilt { call, version, unreadable, events: count }
}

/// Every attribute of a call's item that reads on its own, over a call that
/// knows nothing (its times the merge's neutral ones), and the names of those
/// that did not read.
fn salvage_call(call_sid: CallSid, item: &Item) -> (Call, Vec<String>) {
    let blank = Call { started_at: i64::MAX, created_at: i64::MAX, updated_at: i64::MIN, ..Call::new(call_sid, 0) };
    let mut unreadable = Vec::new();
    match item.get(VERSION) {
        None => unreadable.push(format!("{VERSION} (missing)")),
        Some(_) if version_of(item).is_none() => unreadable.push(format!("{VERSION} (not a whole number)")),
        Some(_) => {}
    }
    for required in ["startedAt", "createdAt", "updatedAt"] {
        if !item.contains_key(required) {
            unreadable.push(format!("{required} (missing)"));
        }
    }
    let mut salvaged = call_item(&blank, 0);
    let mut names: Vec<&String> = item.keys().filter(|name| *name != "callSid" && !STORAGE_OWN.contains(&name.as_str())).collect();
    names.sort();
    for name in names {
        let mut probe = salvaged.clone();
        probe.insert(name.clone(), item[name].clone());
        if from_item::<Call>(probe.clone()).is_ok() {
            salvaged = probe;
        } else {
            unreadable.push(format!("{name} (wrong type or value)"));
        }
    }
    // The status and its progress key go together: one is no use without the other.
    if unreadable.iter().any(|u| u.starts_with("status ") || u.starts_with("progress ")) {
        salvaged.remove("status");
        salvaged.remove("progress");
    }
    (from_item(salvaged).unwrap_or(blank), unreadable)
}

/// The facts a stored event's callback gave its call, read again from its raw
/// parameters as the webhook's route read them. What a route knew beside them
/// (the tracking number's owner, whether it forwarded) is not in them: the
/// owner event's facts are its time alone. A placed call's event keeps what
/// the API placed (its owner, customer and links), and gives it back. `None` when the event does not read,
/// or is not `call_sid`'s.
fn event_facts(call_sid: CallSid, item: Item) -> Option<Call> {
    let stored: StoredEvent = from_item(item).ok()?;
    let at = stored.received_at;
    let facts = match stored.kind {
        EventKind::Answer => CallUpdate::answer(&IncomingCall::read(stored.params).call?, None, false, at).call,
        EventKind::Status => {
            let hook = CallWebhook::parse(stored.params).ok()?;
            let mut facts = CallUpdate::status(&hook, at).call;
            // A placed call's first leg rang the agent: its `To` is no customer (the URL said who was, and is not kept).
            if hook.direction == Direction::OutboundApi && hook.parent_call_sid.is_none() {
                facts.to_number = None;
            }
            facts
        }
        EventKind::Dial => CallUpdate::dial(&DialReading::read(stored.params).dial?, at).call,
        EventKind::Recording => CallUpdate::recording(&RecordingWebhook::parse(stored.params).ok()?, at).call,
        EventKind::Owner => Call::new(call_sid, at),
        EventKind::Placed => CallUpdate::placed_facts(call_sid, &stored.params, at),
        EventKind::RecordingCopied => CallUpdate::recording_copied_from(&stored.params, at)?.call,
    };
    (facts.call_sid == call_sid && stored.call_sid == call_sid.as_str()).then_some(facts)
}

/// Something stored that this version could not read as it stands, and what was
/// done about it: what the store warns of (see `DynamoStore::on_warning`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The call's key, as stored.
    pub call_sid: String,
    /// What could not be read, as in [`Rebuilt::unreadable`].
    pub unreadable: Vec<String>,
    /// What was done: `rebuilt from its 8 events and written back`, …
    pub action: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "call {}: could not read {}; {}", self.call_sid, self.unreadable.join(", "), self.action)
    }
}

/// The key of an event: the same for every delivery of one callback, which is
/// how storage tells a redelivery. A leg's sequence number is zero-padded so
/// that a call's events list in order.
pub fn event_key(id: &EventId) -> String {
    match id {
        EventId::Answer => "answer".into(),
        EventId::Dial => "dial".into(),
        EventId::Owner => "owner".into(),
        EventId::Placed => "placed".into(),
        EventId::Status { child, sequence_number, status } => {
            let leg = child.as_ref().map_or("parent", |sid| sid.as_str());
            let seq = sequence_number.map_or_else(|| "-".to_owned(), |n| format!("{n:05}"));
            format!("status#{leg}#{seq}#{status}")
        }
        EventId::Recording { sid, status } => format!("recording#{sid}#{status}"),
        EventId::RecordingCopied { sid } => format!("copied#{sid}"),
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
        let call = updates.iter().fold(None, |call, u| Some(Call::apply(call, u.call.clone()).expect("one account").call)).unwrap();
        (updates, call)
    }

    /// What `serde_dynamo` writes for a call, with storage's own attributes beside it.
    fn through_serde(call: &Call, version: u64, own: &[(&str, &str)]) -> Item {
        let mut item: Item = serde_dynamo::to_item(call).unwrap();
        item.insert(VERSION.into(), number(version));
        item.insert(INDEXED.into(), AttributeValue::Bool(true));
        item.insert(INDEX_VERSION_OF.into(), number(INDEX_VERSION));
        item.extend(own.iter().map(|(k, v)| (k.to_string(), AttributeValue::S(v.to_string()))));
        item
    }

    #[test]
    fn a_call_item_holds_what_serde_would_write_and_reads_back() {
        let (updates, qualified) = lifecycle();
        let mut linked = qualified.clone();
        linked.crm = [("contactId", "c-1"), ("dealId", "d-2")].map(|(k, v)| (k.to_owned(), v.to_owned())).into();
        let unknown = updates[6].call.clone(); // a parent status alone: no owner, no recording
        let change = calltrack_core::disposition::DispositionChange {
            lead_status: Some(Some(calltrack_core::disposition::LeadStatus::Spam)),
            tags: Some(["vip".to_owned()].into()),
            note: Some(Some("asked for a quote".into())),
            value_cents: Some(Some(1250)),
        };
        let spam = linked.clone().with_prior_calls(2).dispose(&change, "jane", linked.updated_at + 1).unwrap();
        assert!(!spam.qualified && spam.verdict == Verdict::Manual, "a person's verdict overrides the rule");
        let own = [("tenantUser", "tenant-a#user-1")];
        let number = fixtures::number("tenant-a", "user-1", None);
        let screened = Lifecycle::new(2).never_bridged(Some(&number), 20, 40);
        let screened = screened.iter().fold(None, |call, u| Some(Call::apply(call, u.call.clone()).expect("one account").call)).unwrap();
        assert_eq!(screened.dial_bridged, Some(false));
        let placement = calltrack_core::placement::Placement {
            agent: number.forward_to.clone(),
            number: number.clone(),
            user_id: "user-1".into(),
            customer: PhoneNumber::e164("to", fixtures::CALLER).unwrap(),
            record: true,
            crm: Default::default(),
        };
        let account = <AccountSid as calltrack_twilio::fields::Field>::parse("a", &fixtures::sid("AC", 1)).unwrap();
        let unplaced =
            CallUpdate::unplaced(qualified.call_sid, account, &placement, "Twilio refused the call (Twilio error 21219)", 0).call;
        let calls = [
            (&qualified, &own[..]),
            (&linked, &own[..]),
            (&unknown, &[][..]),
            (&spam, &own[..]),
            (&screened, &own[..]),
            (&unplaced, &own[..]),
        ];
        for (call, own) in calls {
            assert_eq!(call_item(call, 8), through_serde(call, 8, own), "{call:?}");
            assert_eq!(call_from_item(call_item(call, 8)).unwrap(), (call.clone(), 8));
        }
    }

    /// The items of a call's events, as stored.
    fn event_items(updates: &[CallUpdate]) -> Vec<Item> {
        updates.iter().map(|u| event_item(&u.event, Duration::from_secs(86_400))).collect()
    }

    #[test]
    fn an_unreadable_item_is_rebuilt_from_what_reads_and_its_events() {
        let (updates, call) = lifecycle();
        let mut item = call_item(&call, 8);
        item.remove("createdAt");
        item.insert("durationSeconds".into(), AttributeValue::S("sixty-seven".into()));
        item.insert(VERSION.into(), AttributeValue::S("v2".into()));
        item.insert("importedFrom".into(), AttributeValue::S("legacy".into()));
        assert!(call_from_item(item.clone()).is_err());

        let rebuilt = rebuild_call(call.call_sid, &item, event_items(&updates), 0);
        assert_eq!(rebuilt.call, call);
        assert_eq!((rebuilt.version, rebuilt.events), (8, 8));
        assert_eq!(rebuilt.unreadable, ["version (not a whole number)", "createdAt (missing)", "durationSeconds (wrong type or value)"]);
        assert!(!format!("{:?}", rebuilt.unreadable).contains("sixty"), "names, never values");
    }

    #[test]
    fn what_only_the_item_knew_is_kept_and_a_version_never_goes_back() {
        let (updates, call) = lifecycle();
        // The answer's event holds no owner: the owner is only in the item.
        let mut item = call_item(&call, 30);
        item.insert("status".into(), AttributeValue::N("3".into()));
        let rebuilt = rebuild_call(call.call_sid, &item, event_items(&updates), 0);
        assert_eq!(rebuilt.call, call);
        assert_eq!(rebuilt.version, 30);
        assert_eq!(rebuilt.unreadable, ["status (wrong type or value)"]);
    }

    #[test]
    fn without_events_a_missing_time_is_the_earliest_known() {
        let (_, call) = lifecycle();
        let mut item = call_item(&call, 8);
        item.remove("createdAt");
        let rebuilt = rebuild_call(call.call_sid, &item, Vec::new(), 0);
        assert_eq!(rebuilt.call.created_at, call.started_at);
        assert_eq!(rebuilt.call, Call { created_at: call.started_at, ..call.clone() });
        // Nothing but the key, and no events: the fallback time.
        let bare = Item::from([("callSid".to_owned(), AttributeValue::S(call.call_sid.to_string()))]);
        let rebuilt = rebuild_call(call.call_sid, &bare, Vec::new(), 42);
        assert_eq!(rebuilt.call, Call::new(call.call_sid, 42));
        assert_eq!(rebuilt.version, 0);
    }

    #[test]
    fn an_unreadable_event_is_named_and_left_out() {
        let (updates, call) = lifecycle();
        let mut events = event_items(&updates);
        events[1].insert("kind".into(), AttributeValue::S("telegram".into()));
        let stranger = Lifecycle::new(2).answer(None);
        events.push(event_item(&stranger.event, Duration::from_secs(60)));
        let item = call_item(&call, 8);
        let rebuilt = rebuild_call(call.call_sid, &item, events, 0);
        assert_eq!(rebuilt.call, call);
        assert_eq!(
            rebuilt.unreadable,
            [format!("event {} (unreadable)", event_key(&updates[1].event.id)), "event answer (unreadable)".into()]
        );
    }

    #[test]
    fn a_version_past_two_to_the_53_is_no_version() {
        let (_, call) = lifecycle();
        assert_eq!(version_of(&call_item(&call, 1 << 53)), Some(1 << 53));
        assert_eq!(version_of(&call_item(&call, (1 << 53) + 1)), None);
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
