//! What a change to a stored call sets off, decided from the call before and
//! after it (a DynamoDB Streams record's two images): the webhook events its
//! tenant's endpoints hear ([`webhook_events`]) and the copy of a finished
//! recording into our own bucket ([`recording_to_copy`], [`crate::copy`]). Both read the two
//! states alone, so a change seen twice (a stream batch retried) sets off the
//! same events under the same ids, which a receiver drops as duplicates.

use crate::call::Call;
use crate::copy::RecordingCopy;
use crate::view::CallSummary;
use calltrack_twilio::fields::{CallSid, RecordingStatus};
use serde::Serialize;
use std::fmt;

/// What happened to a call, as a webhook's `type` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum EventType {
    /// We first heard of the tenant's call.
    #[serde(rename = "call.started")]
    Started,
    /// The call ended (answered or not): its status is final.
    #[serde(rename = "call.completed")]
    Completed,
    /// The call became a qualified lead: by the rule, or a person's lead status.
    #[serde(rename = "call.qualified")]
    Qualified,
    /// Its recording (the conversation or a voicemail) can be played.
    #[serde(rename = "call.recording")]
    Recording,
    /// After it ended, what a reader sees of it changed: a lead status, tags,
    /// a note, a value, or a verdict that came late.
    #[serde(rename = "call.updated")]
    Updated,
}

impl EventType {
    pub const ALL: [EventType; 5] =
        [EventType::Started, EventType::Completed, EventType::Qualified, EventType::Recording, EventType::Updated];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Started => "call.started",
            EventType::Completed => "call.completed",
            EventType::Qualified => "call.qualified",
            EventType::Recording => "call.recording",
            EventType::Updated => "call.updated",
        }
    }

    pub fn parse(raw: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == raw)
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One event about one of a tenant's calls, for each of its endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEvent {
    /// The same for the same change, however often it is seen: a receiver
    /// deduplicates on it (`webhook-id`).
    pub id: String,
    pub event_type: EventType,
    pub tenant_id: String,
    pub call_sid: CallSid,
    /// The call's version after the change: of two events about a call, the
    /// greater version is the newer state.
    pub version: u64,
    /// When the change was made (ms since the epoch).
    pub at: i64,
}

/// The events a change of a call from `before` (none: a new call) to `after`,
/// at `version`, sets off. Only a tenant's call has endpoints to hear them; a
/// call that gets its tenant late starts then. With `recordings_copied`, a
/// recording is told of once in our bucket, else once Twilio has it.
pub fn webhook_events(before: Option<&Call>, after: &Call, version: u64, recordings_copied: bool) -> Vec<WebhookEvent> {
    let Some(tenant_id) = after.tenant_id.clone() else { return Vec::new() };
    // What the tenant's endpoints were told of already: nothing before the tenant was known.
    let told = before.filter(|call| call.tenant_id.is_some());
    let ended = |call: &Call| call.status.is_some_and(|s| s.is_terminal());
    let playable = |call: &Call| {
        call.recording.as_ref().is_some_and(|r| r.status == RecordingStatus::Completed && (!recordings_copied || r.bucket_key.is_some()))
    };
    let mut types = Vec::new();
    if told.is_none() {
        types.push(EventType::Started);
    }
    let newly_ended = ended(after) && !told.is_some_and(ended);
    if newly_ended {
        types.push(EventType::Completed);
    }
    let newly_qualified = after.qualified && !told.is_some_and(|c| c.qualified);
    if newly_qualified {
        types.push(EventType::Qualified);
    }
    if playable(after) && !told.is_some_and(playable) {
        types.push(EventType::Recording);
    }
    if let Some(told) = told.filter(|c| ended(c))
        && !newly_qualified
        && seen_without_recording(told) != seen_without_recording(after)
    {
        types.push(EventType::Updated);
    }
    let event = |event_type: EventType| WebhookEvent {
        id: format!("evt_{}_{version}_{}", after.call_sid, &event_type.as_str()["call.".len()..]),
        event_type,
        tenant_id: tenant_id.clone(),
        call_sid: after.call_sid,
        version,
        at: after.updated_at,
    };
    types.into_iter().map(event).collect()
}

/// What a reader sees of a call but its recording and the voicemail it
/// makes (told of by `call.recording`).
fn seen_without_recording(call: &Call) -> CallSummary {
    let mut summary = CallSummary::from(call);
    summary.recording = None;
    summary.voicemail = false;
    summary
}

/// A webhook's body, as the Standard Webhooks convention shapes it: `type`,
/// `timestamp` (RFC 3339) and `data`, which is the call as `GET /api/calls`
/// lists it, with its `version`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookPayload {
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub timestamp: String,
    pub data: WebhookData,
}

/// A webhook's `data`: the call, and its version.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookData {
    #[serde(flatten)]
    pub call: CallSummary,
    /// Of two events about one call, the greater version is the newer state:
    /// a receiver keeps the call of the greatest version it has seen.
    pub version: u64,
}

impl WebhookPayload {
    pub fn new(event: &WebhookEvent, call: &Call) -> Self {
        let at =
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(event.at) * 1_000_000).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        let timestamp = at.format(&time::format_description::well_known::Rfc3339).expect("a time within RFC 3339's years");
        WebhookPayload {
            event_type: event.event_type,
            timestamp,
            data: WebhookData { call: CallSummary::from(call), version: event.version },
        }
    }
}

/// The copy a change sets off: when the call's recording has just finished
/// (and is not copied yet). None for a call whose account is unknown, as its
/// recording cannot be fetched.
pub fn recording_to_copy(before: Option<&Call>, after: &Call) -> Option<RecordingCopy> {
    let finished =
        |call: &Call| call.recording.as_ref().filter(|r| r.status == RecordingStatus::Completed).map(|r| (r.sid, r.bucket_key.is_some()));
    let (sid, copied) = finished(after)?;
    let already = before.and_then(finished).is_some_and(|(before_sid, _)| before_sid == sid);
    if copied || already {
        return None;
    }
    Some(RecordingCopy {
        call_sid: after.call_sid,
        account_sid: after.account_sid?,
        recording_sid: sid,
        tenant_id: after.tenant_id.clone(),
    })
}
