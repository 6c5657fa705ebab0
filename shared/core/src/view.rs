//! The read model: a call as its readers (the command line, a CRM, a
//! dashboard) see it, apart from how it is written. [`CallSummary`] is a row
//! of a listing, [`CallView`] one call with its events. Their JSON is camelCase
//! and stable: every field is always there, `null` when unknown.

use crate::call::{Call, EventKind, Recording};
use crate::call_index::Filter;
use crate::disposition::{Change, LeadStatus, Verdict};
use calltrack_twilio::Params;
use calltrack_twilio::fields::{
    AccountSid, CallSid, CallStatus, DialCallStatus, Direction, Field, PhoneNumber, RecordingSid, RecordingStatus,
};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// A tenant's id: 1 to 128 of `A-Z a-z 0-9 . _ : @ -`. No `#`, which joins a
/// tenant and a user in storage keys, so no two tenants' keys can meet.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct TenantId(String);

impl TenantId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Field for TenantId {
    fn parse(field: &str, raw: &str) -> Result<Self, calltrack_twilio::Error> {
        let valid = (1..=128).contains(&raw.len())
            && raw.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'@' | b'-'));
        if valid {
            Ok(TenantId(raw.to_owned()))
        } else {
            Err(calltrack_twilio::Error::invalid(field, format!("is not a valid tenant id: {raw:?} (1 to 128 of A-Z a-z 0-9 . _ : @ -)")))
        }
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whose calls a reader may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// One tenant's calls only.
    Tenant(TenantId),
    /// Every call, unattributed ones included: operators and their tools.
    Operator,
}

impl Scope {
    /// Whether a call owned by `tenant` (none: unattributed) is this scope's to see.
    pub fn allows(&self, tenant: Option<&str>) -> bool {
        match self {
            Scope::Tenant(own) => tenant == Some(own.as_str()),
            Scope::Operator => true,
        }
    }
}

/// Which calls to list: always one tenant's, so no listing crosses tenants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallQuery {
    pub tenant: TenantId,
    /// Only this user's calls (within the tenant).
    pub user_id: Option<String>,
    /// Calls that started at or after this time (ms since the epoch).
    pub since: Option<i64>,
    /// Calls that started at or before this time (ms since the epoch).
    pub until: Option<i64>,
    /// Only qualified calls.
    pub qualified_only: bool,
    /// Only calls with each of these values (`leadSource` = `google-ads`, …).
    pub filters: Vec<(Filter, String)>,
    /// At most this many calls per page.
    pub limit: Option<u32>,
    /// Where the previous page stopped.
    pub cursor: Option<Cursor>,
}

impl CallQuery {
    /// All of `tenant`'s calls.
    pub fn tenant(tenant: TenantId) -> Self {
        CallQuery { tenant, user_id: None, since: None, until: None, qualified_only: false, filters: Vec::new(), limit: None, cursor: None }
    }
}

/// One page of a listing, and where the next one starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<Cursor>,
}

/// The latest start a cursor may name: storage sorts starts as 15 digits.
pub const MAX_STARTED_AT: i64 = 999_999_999_999_999;

/// Where a page of a listing stopped: the last call's start and SID. It says
/// nothing of whose listing it was, so it can only ever continue the listing
/// it is given to, within that listing's tenant. Written `<ms>.<CallSid>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub started_at: i64,
    pub call_sid: CallSid,
}

impl Field for Cursor {
    fn parse(field: &str, raw: &str) -> Result<Self, calltrack_twilio::Error> {
        let invalid = || calltrack_twilio::Error::invalid(field, format!("is not a cursor a listing returned: {raw:?}"));
        let (started_at, call_sid) = raw.split_once('.').ok_or_else(invalid)?;
        // Up to the year 33658: storage writes a start as 15 digits.
        let started_at = started_at
            .parse::<i64>()
            .ok()
            .filter(|ms| (0..=MAX_STARTED_AT).contains(ms) && !started_at.starts_with('+'))
            .ok_or_else(invalid)?;
        let call_sid = CallSid::parse(field, call_sid).map_err(|_| invalid())?;
        Ok(Cursor { started_at, call_sid })
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.started_at, self.call_sid)
    }
}

/// A call in a listing: who called whom for which owner and lead source, how
/// it went, whether it is a qualified lead, and its recording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CallSummary {
    pub call_sid: CallSid,
    /// The Twilio account (or subaccount) the call is in.
    pub account_sid: Option<AccountSid>,
    pub tenant_id: Option<String>,
    pub user_id: Option<String>,
    pub tracking_number: Option<PhoneNumber>,
    pub lead_source: Option<String>,
    pub from_number: Option<PhoneNumber>,
    pub to_number: Option<PhoneNumber>,
    pub direction: Option<Direction>,
    pub caller_name: Option<String>,
    pub caller_city: Option<String>,
    pub caller_state: Option<String>,
    /// The inbound leg's status.
    pub status: Option<CallStatus>,
    pub answered: bool,
    /// ms since the epoch.
    pub started_at: i64,
    pub ended_at: Option<i64>,
    /// The inbound leg: for a forwarded call, ringing and voicemail too.
    pub duration_seconds: Option<u32>,
    /// The conversation with the business.
    pub talk_seconds: Option<u32>,
    pub forwarded: bool,
    pub dial_status: Option<DialCallStatus>,
    /// Why Twilio did not place a call asked of `POST /api/calls` (its code
    /// and message); such a call's `callSid` is ours, as Twilio gave it none.
    pub placement_error: Option<String>,
    pub qualified: bool,
    /// Why it is or is not qualified, e.g. `too short: 12 s < 30 s`.
    pub qualification_reason: String,
    /// `automatic` (the rule) or `manual` (a person's lead status).
    pub verdict: Verdict,
    pub voicemail: bool,
    /// No call from this caller to the tenant started before this one.
    pub first_time_caller: bool,
    /// How many of the tenant's calls from this caller started before this one.
    pub prior_calls: Option<u32>,
    pub lead_status: Option<LeadStatus>,
    pub tags: Vec<String>,
    pub note: Option<String>,
    /// What the lead is worth, in the tenant's currency.
    pub value: Option<Amount>,
    /// The tracking number was known: the call has an owner.
    pub attributed: bool,
    pub recording: Option<RecordingView>,
    /// What a CRM linked the call to: `contactId`, `dealId`, `jobId`, `crm_*`.
    pub crm: BTreeMap<String, String>,
}

/// A call's recording: the conversation, or a voicemail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RecordingView {
    pub sid: RecordingSid,
    pub status: RecordingStatus,
    pub url: Option<String>,
    pub duration_seconds: Option<u32>,
    pub channels: Option<u32>,
    /// `DialVerb` (the conversation) or `RecordVerb` (a voicemail).
    pub source: Option<String>,
    /// Copied into our own bucket: `GET /api/calls/{callSid}/recording` plays it.
    pub stored: bool,
    /// Where in the bucket: for the API's link, never shown.
    #[serde(skip)]
    #[cfg_attr(feature = "openapi", schema(ignore))]
    pub bucket_key: Option<String>,
}

/// One call and everything known about it, its events oldest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CallView {
    #[serde(flatten)]
    pub summary: CallSummary,
    /// The `<Dial>` child leg.
    pub dial_call_sid: Option<CallSid>,
    /// The number's qualification minimum when the call came in (none: the default).
    pub min_talk_seconds: Option<u32>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Who changed the lead status, tags, note or value, and when, oldest first.
    pub disposition_history: Vec<Change>,
    pub events: Vec<EventView>,
}

/// An amount in cents, written as a decimal number: `1250` is `12.5`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = f64, example = 1250.0))]
pub struct Amount(pub i64);

impl Serialize for Amount {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.0 as f64 / 100.0)
    }
}

/// One callback as received.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct EventView {
    pub kind: EventKind,
    /// The status it reported (`CallStatus`, `DialCallStatus` or `RecordingStatus`).
    pub status: Option<String>,
    pub sequence_number: Option<u32>,
    /// Twilio's `Timestamp`, when it sent one.
    pub occurred_at: Option<i64>,
    pub received_at: i64,
    /// Storage's key of the callback: the same for each redelivery.
    pub event_key: String,
    /// Every parameter as received, in order, as `[key, value]` pairs.
    pub params: Params,
}

impl EventView {
    /// The leg a status callback reports on (its `CallSid`: the caller's call,
    /// or a `<Dial>` child leg); none for other kinds.
    pub fn leg(&self) -> Option<&str> {
        (self.kind == EventKind::Status).then(|| self.params.get("CallSid")).flatten()
    }

    /// In the order they happened, as far as it can be told. Every kind is put
    /// in order by when it was received (a deferred callback keeps the time it
    /// first came in): one clock in milliseconds, where Twilio's `Timestamp`
    /// has whole seconds and comes on status callbacks only. Then each leg's
    /// numbered status callbacks take their places in that leg's
    /// `SequenceNumber` order, so one that Twilio delivered late, or again,
    /// still lists where it happened.
    pub fn sort(events: &mut [EventView]) {
        events.sort_by(|a, b| (a.received_at, &a.event_key).cmp(&(b.received_at, &b.event_key)));
        let numbered = |e: &EventView| e.sequence_number.and(e.leg()).map(str::to_owned);
        let legs: std::collections::BTreeSet<String> = events.iter().filter_map(numbered).collect();
        for leg in legs {
            let places: Vec<usize> = (0..events.len()).filter(|&i| numbered(&events[i]).as_deref() == Some(leg.as_str())).collect();
            let mut in_sequence: Vec<EventView> = places.iter().map(|&i| events[i].clone()).collect();
            in_sequence.sort_by_key(|e| e.sequence_number);
            for (place, event) in places.into_iter().zip(in_sequence) {
                events[place] = event;
            }
        }
    }
}

impl From<&Recording> for RecordingView {
    fn from(r: &Recording) -> Self {
        RecordingView {
            sid: r.sid,
            status: r.status,
            url: r.url.clone(),
            duration_seconds: r.duration_seconds,
            channels: r.channels,
            source: r.source.clone(),
            stored: r.bucket_key.is_some(),
            bucket_key: r.bucket_key.clone(),
        }
    }
}

impl From<&Call> for CallSummary {
    fn from(c: &Call) -> Self {
        CallSummary {
            call_sid: c.call_sid,
            account_sid: c.account_sid,
            tenant_id: c.tenant_id.clone(),
            user_id: c.user_id.clone(),
            tracking_number: c.tracking_number.clone(),
            lead_source: c.lead_source.clone(),
            from_number: c.from_number.clone(),
            to_number: c.to_number.clone(),
            direction: c.direction,
            caller_name: c.caller_name.clone(),
            caller_city: c.caller_city.clone(),
            caller_state: c.caller_state.clone(),
            status: c.status,
            answered: c.answered,
            started_at: c.started_at,
            ended_at: c.ended_at,
            duration_seconds: c.duration_seconds,
            talk_seconds: c.talk_seconds,
            forwarded: c.forwarded,
            dial_status: c.dial_status,
            placement_error: c.placement_error.clone(),
            qualified: c.qualified,
            qualification_reason: c.qualification_reason.clone(),
            verdict: c.verdict,
            voicemail: c.voicemail,
            first_time_caller: c.first_time_caller,
            prior_calls: c.prior_calls,
            lead_status: c.disposition.as_ref().and_then(|d| d.lead_status),
            tags: c.disposition.as_ref().map(|d| d.tags.iter().cloned().collect()).unwrap_or_default(),
            note: c.disposition.as_ref().and_then(|d| d.note.clone()),
            value: c.disposition.as_ref().and_then(|d| d.value_cents).map(Amount),
            attributed: c.attributed,
            recording: c.recording.as_ref().map(RecordingView::from),
            crm: c.crm.clone(),
        }
    }
}

impl CallView {
    /// The view of `call`, with its events in any order.
    pub fn new(call: &Call, mut events: Vec<EventView>) -> Self {
        EventView::sort(&mut events);
        CallView {
            summary: CallSummary::from(call),
            dial_call_sid: call.dial_call_sid,
            min_talk_seconds: call.min_talk_seconds,
            created_at: call.created_at,
            updated_at: call.updated_at,
            disposition_history: call.disposition.as_ref().map(|d| d.history.clone()).unwrap_or_default(),
            events,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: EventKind, key: &str, received_at: i64, leg_and_sequence: Option<(&str, u32)>) -> EventView {
        let params =
            leg_and_sequence.map_or_else(Params::default, |(leg, _)| Params::from_form(format!("CallSid={leg}").as_bytes()).unwrap());
        EventView {
            kind,
            status: None,
            sequence_number: leg_and_sequence.map(|(_, n)| n),
            occurred_at: Some(0),
            received_at,
            event_key: key.into(),
            params,
        }
    }

    fn keys(events: &[EventView]) -> Vec<&str> {
        events.iter().map(|e| e.event_key.as_str()).collect()
    }

    #[test]
    fn a_tenant_sees_only_its_own_calls_and_an_operator_every_call() {
        let tenant = Scope::Tenant(TenantId::parse("tenant", "acme").unwrap());
        assert!(tenant.allows(Some("acme")));
        assert!(!tenant.allows(Some("acme2")) && !tenant.allows(None), "another tenant's, or nobody's");
        assert!(Scope::Operator.allows(Some("acme")) && Scope::Operator.allows(None));
    }

    #[test]
    fn tenant_ids_refuse_what_could_join_two_keys() {
        for good in ["acme", "a", "tenant-1.eu_west:x@y", &"t".repeat(128)] {
            let tenant = TenantId::parse("--tenant", good).unwrap();
            assert_eq!((tenant.as_str(), tenant.to_string().as_str()), (good, good));
        }
        for bad in ["", "a#b", "a b", "<x>", &"t".repeat(129)] {
            let err = TenantId::parse("--tenant", bad).unwrap_err();
            assert!(err.to_string().starts_with("--tenant is not a valid tenant id"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn events_list_in_the_order_received_whatever_twilio_stamped() {
        use EventKind::*;
        let mut events = vec![
            event(Recording, "recording", 5_000, None),
            event(Dial, "dial", 4_000, None),
            event(Status, "completed", 4_500, Some(("CA1", 2))),
            event(Answer, "answer", 1_000, None),
            event(Status, "b", 4_000, None),
            event(Status, "a", 4_000, None),
        ];
        EventView::sort(&mut events);
        assert_eq!(keys(&events), ["answer", "a", "b", "dial", "completed", "recording"], "one instant: by key");
    }

    #[test]
    fn a_legs_late_status_callback_lists_where_its_sequence_number_puts_it() {
        use EventKind::*;
        let mut events = vec![
            event(Status, "parent-2", 9_000, Some(("CA1", 2))),
            event(Status, "child-1", 2_000, Some(("CA2", 1))),
            event(Status, "parent-0", 1_000, Some(("CA1", 0))),
            event(Dial, "dial", 3_000, None),
            event(Status, "parent-1", 4_000, Some(("CA1", 1))),
            event(Status, "child-0", 8_000, Some(("CA2", 0))),
        ];
        EventView::sort(&mut events);
        assert_eq!(
            keys(&events),
            ["parent-0", "child-0", "dial", "parent-1", "child-1", "parent-2"],
            "each leg keeps its own numbers; the other events stay where they came in"
        );
        assert_eq!((events[0].leg(), events[1].leg(), events[2].leg()), (Some("CA1"), Some("CA2"), None));
    }

    #[test]
    fn a_cursor_reads_back_what_it_wrote_and_refuses_anything_else() {
        let sid = "CA0123456789abcdef0123456789abcdef";
        let cursor = Cursor::parse("cursor", &format!("1764000000000.{sid}")).unwrap();
        assert_eq!((cursor.started_at, cursor.call_sid.as_str()), (1_764_000_000_000, sid));
        assert_eq!(Cursor::parse("cursor", &cursor.to_string()), Ok(cursor));
        assert!(Cursor::parse("cursor", &format!("999999999999999.{sid}")).is_ok());
        for bad in [
            "",
            "1764000000000",
            &format!("x.{sid}"),
            &format!("-1.{sid}"),
            &format!("1000000000000000.{sid}"),
            &format!("+1.{sid}"),
            "1.CA1",
            &format!("1.{sid}.2"),
        ] {
            let err = Cursor::parse("cursor", bad).unwrap_err();
            assert_eq!(err.to_string(), format!("cursor is not a cursor a listing returned: {bad:?}"));
        }
    }

    #[test]
    fn an_amount_in_cents_is_written_as_a_decimal_number() {
        let json = |cents| serde_json::to_string(&Amount(cents)).unwrap();
        assert_eq!((json(1250), json(7), json(100_000)), ("12.5".into(), "0.07".into(), "1000.0".into()));
    }

    #[test]
    fn a_listing_query_starts_with_every_call_of_its_tenant() {
        let query = CallQuery::tenant(TenantId::parse("tenant", "acme").unwrap());
        assert_eq!(query.tenant.as_str(), "acme");
        assert_eq!(
            (query.user_id, query.since, query.until, query.qualified_only, query.limit, query.cursor),
            (None, None, None, false, None, None)
        );
    }
}
