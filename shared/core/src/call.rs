//! A call as it stands, and how each webhook's facts merge into it.
//!
//! Twilio delivers callbacks at least once and in any order, so every webhook
//! becomes a [`CallUpdate`]: a partial [`Call`] plus the event that carried it.
//! [`Call::merge`] joins facts with rules that do not depend on order:
//! - the status only moves forward (by [`CallProgress`](crate::progress::CallProgress));
//! - the start is the earliest seen and the end the latest;
//! - every other fact fills in once known. If two deliveries ever disagreed,
//!   the greater value would win, not the later one.
//!
//! A call is in one Twilio account, the `AccountSid` of its first callback:
//! [`Call::apply`] refuses the facts of a callback from another account
//! ([`ForeignAccount`]), so a call never mixes two accounts' facts.
//!
//! What is derived (answered, talk time, qualification, voicemail, attribution)
//! is recomputed from the merged facts. Merging is commutative, associative and
//! idempotent, so every order of delivery leaves the same call. [`Call::apply`]
//! also says what a callback changed (a new call, a newly qualified lead, a
//! newly attributed one), so storage only stores and never decides.

use crate::copy::RecordingCopy;
use crate::crm::CrmLinks;
use crate::disposition::{Disposition, DispositionChange, Verdict};
use crate::placement::Placement;
use crate::progress::CallProgress;
use crate::qualification::{CallOutcome, DEFAULT_MIN_TALK_SECONDS, qualify};
use crate::tracking_number::TrackingNumber;
use calltrack_twilio::Params;
use calltrack_twilio::fields::{AccountSid, CallSid, CallStatus, DialCallStatus, Direction, PhoneNumber, RecordingSid, RecordingStatus};
use calltrack_twilio::voice::{CallWebhook, DialWebhook, RecordingWebhook};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A call, keyed on the inbound (parent) leg's `CallSid`. Times are ms since the epoch.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Call {
    pub call_sid: CallSid,
    /// The Twilio account the call is in: its callbacks' `AccountSid`. Absent
    /// on calls stored before it was kept.
    pub account_sid: Option<AccountSid>,

    // The owner, from the tracking number; absent when the number is unknown.
    pub tenant_id: Option<String>,
    pub user_id: Option<String>,
    pub tracking_number: Option<PhoneNumber>,
    pub lead_source: Option<String>,
    /// The number's qualification minimum when the call came in.
    pub min_talk_seconds: Option<u32>,
    /// The number's [`TrackingNumber::qualify_outbound`] when the call came in
    /// or was placed: whether an outbound call may be a qualified lead.
    pub qualify_outbound: Option<bool>,

    // Who called whom.
    pub from_number: Option<PhoneNumber>,
    pub to_number: Option<PhoneNumber>,
    pub direction: Option<Direction>,
    pub caller_name: Option<String>,
    pub caller_city: Option<String>,
    pub caller_state: Option<String>,

    // How the inbound leg went.
    pub status: Option<CallStatus>,
    /// [`CallProgress::key`] of `status`: the status only moves to a greater one.
    pub progress: Option<u64>,
    /// The earliest time known for the call's start.
    pub started_at: i64,
    pub ended_at: Option<i64>,
    /// The inbound leg's `CallDuration`: for a forwarded call, ringing and voicemail too.
    pub duration_seconds: Option<u32>,

    // The forward to the business.
    /// We answered with `<Dial>`.
    #[serde(default)]
    pub forwarded: bool,
    pub dial_status: Option<DialCallStatus>,
    pub dial_call_sid: Option<CallSid>,
    /// `DialCallDuration` from the Dial outcome.
    pub dial_talk_seconds: Option<u32>,
    /// `CallDuration` of the `<Dial>` child leg.
    pub child_talk_seconds: Option<u32>,
    /// `DialBridged` from the Dial outcome: `false` when the business's line
    /// answered but the caller was never connected to it.
    pub dial_bridged: Option<bool>,
    /// Why Twilio did not place a call asked of our API (its code and
    /// message). Twilio gave such a call no SID: its `call_sid` is ours.
    pub placement_error: Option<String>,
    pub recording: Option<Recording>,
    /// What a CRM linked the call to through our webhook URLs' query:
    /// `contactId`, `dealId`, `jobId` and any `crm_*`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub crm: BTreeMap<String, String>,
    /// How many of the tenant's calls from the same caller started before this
    /// one, counted by storage when the call got its owner and caller.
    pub prior_calls: Option<u32>,
    /// A person's lead status, tags, note and value ([`Disposition`]).
    pub disposition: Option<Disposition>,

    // Derived from the facts above by `derive`.
    /// The business picked up: the forward connected, or (not forwarded) the call was answered.
    #[serde(default)]
    pub answered: bool,
    /// The conversation: the Dial's talk time for a forwarded call, else `durationSeconds`.
    pub talk_seconds: Option<u32>,
    #[serde(default)]
    pub qualified: bool,
    #[serde(default)]
    pub qualification_reason: String,
    /// Whether `qualified` is the rule's verdict or a person's lead status.
    #[serde(default)]
    pub verdict: Verdict,
    /// No call from this caller to the tenant started before this one.
    #[serde(default)]
    pub first_time_caller: bool,
    /// A voicemail was left.
    #[serde(default)]
    pub voicemail: bool,
    /// The tracking number was known: the call has an owner.
    #[serde(default)]
    pub attributed: bool,

    pub created_at: i64,
    pub updated_at: i64,
}

/// A recording of the call: the conversation (`DialVerb`) or a voicemail (`RecordVerb`).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recording {
    pub sid: RecordingSid,
    pub status: RecordingStatus,
    pub url: Option<String>,
    pub duration_seconds: Option<u32>,
    pub channels: Option<u32>,
    pub source: Option<String>,
    /// Where our own bucket keeps its audio, once copied from Twilio
    /// ([`RecordingCopy::key`](crate::copy::RecordingCopy::key)).
    pub bucket_key: Option<String>,
}

impl Recording {
    /// Which of two recordings a call keeps: a finished one over one in progress
    /// over one that failed or is absent, then the greater SID.
    fn rank(&self) -> (u8, &RecordingSid) {
        let status = match self.status {
            RecordingStatus::Completed => 3,
            RecordingStatus::InProgress => 2,
            RecordingStatus::Failed => 1,
            RecordingStatus::Absent => 0,
        };
        (status, &self.sid)
    }

    /// The recording a call keeps of two: the greater [`Recording::rank`]. Two
    /// reports of the same recording complete each other (the copy into our
    /// bucket knows only its key), the greater rank's facts first; of equal
    /// ranks, the greater of each, so that their order never matters.
    fn merge(a: Recording, b: Recording) -> Recording {
        let (kept, other) = if a.rank() >= b.rank() { (a, b) } else { (b, a) };
        if kept.sid != other.sid {
            return kept;
        }
        let tie = kept.rank() == other.rank();
        fn pick<T: Ord>(tie: bool, kept: Option<T>, other: Option<T>) -> Option<T> {
            if tie { kept.max(other) } else { kept.or(other) }
        }
        Recording {
            url: pick(tie, kept.url, other.url),
            duration_seconds: pick(tie, kept.duration_seconds, other.duration_seconds),
            channels: pick(tie, kept.channels, other.channels),
            source: pick(tie, kept.source, other.source),
            bucket_key: pick(tie, kept.bucket_key, other.bucket_key),
            ..kept
        }
    }

    fn is_voicemail(&self) -> bool {
        self.source.as_deref() == Some("RecordVerb") && self.status == RecordingStatus::Completed
    }
}

impl Call {
    /// A call about which nothing is known yet but when we first heard of it.
    pub fn new(call_sid: CallSid, received_at: i64) -> Self {
        Call {
            call_sid,
            account_sid: None,
            tenant_id: None,
            user_id: None,
            tracking_number: None,
            lead_source: None,
            min_talk_seconds: None,
            qualify_outbound: None,
            from_number: None,
            to_number: None,
            direction: None,
            caller_name: None,
            caller_city: None,
            caller_state: None,
            status: None,
            progress: None,
            started_at: received_at,
            ended_at: None,
            duration_seconds: None,
            forwarded: false,
            dial_status: None,
            dial_call_sid: None,
            dial_talk_seconds: None,
            child_talk_seconds: None,
            dial_bridged: None,
            placement_error: None,
            recording: None,
            crm: BTreeMap::new(),
            prior_calls: None,
            disposition: None,
            answered: false,
            talk_seconds: None,
            qualified: false,
            qualification_reason: String::new(),
            verdict: Verdict::Automatic,
            first_time_caller: false,
            voicemail: false,
            attributed: false,
            created_at: received_at,
            updated_at: received_at,
        }
        .derive()
    }

    /// Joins two views of the same call. The order of the arguments never
    /// matters, and neither does merging the same facts twice.
    pub fn merge(self, other: Call) -> Call {
        debug_assert_eq!(self.call_sid, other.call_sid);
        // Equal progress keys have equal statuses: the key encodes the status.
        let (progress, status) = (self.progress, self.status).max((other.progress, other.status));
        let recording = match (self.recording, other.recording) {
            (Some(a), Some(b)) => Some(Recording::merge(a, b)),
            (a, b) => a.or(b),
        };
        Call {
            call_sid: self.call_sid,
            // One account per call: `apply` refuses another's facts, so the
            // two only ever differ in a merge of facts nobody stored together.
            account_sid: self.account_sid.max(other.account_sid),
            tenant_id: self.tenant_id.max(other.tenant_id),
            user_id: self.user_id.max(other.user_id),
            tracking_number: self.tracking_number.max(other.tracking_number),
            lead_source: self.lead_source.max(other.lead_source),
            min_talk_seconds: self.min_talk_seconds.max(other.min_talk_seconds),
            qualify_outbound: self.qualify_outbound.max(other.qualify_outbound),
            from_number: self.from_number.max(other.from_number),
            to_number: self.to_number.max(other.to_number),
            direction: self.direction.max(other.direction),
            caller_name: self.caller_name.max(other.caller_name),
            caller_city: self.caller_city.max(other.caller_city),
            caller_state: self.caller_state.max(other.caller_state),
            status,
            progress,
            started_at: self.started_at.min(other.started_at),
            ended_at: self.ended_at.max(other.ended_at),
            duration_seconds: self.duration_seconds.max(other.duration_seconds),
            forwarded: self.forwarded || other.forwarded,
            dial_status: self.dial_status.max(other.dial_status),
            dial_call_sid: self.dial_call_sid.max(other.dial_call_sid),
            dial_talk_seconds: self.dial_talk_seconds.max(other.dial_talk_seconds),
            child_talk_seconds: self.child_talk_seconds.max(other.child_talk_seconds),
            dial_bridged: self.dial_bridged.max(other.dial_bridged),
            placement_error: self.placement_error.max(other.placement_error),
            recording,
            crm: merge_maps(self.crm, other.crm),
            // Counted once, when the call got its owner; should two writers
            // ever count, the fewer calls is the count made earlier.
            prior_calls: match (self.prior_calls, other.prior_calls) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
            disposition: Disposition::merge(self.disposition, other.disposition),
            created_at: self.created_at.min(other.created_at),
            updated_at: self.updated_at.max(other.updated_at),
            // Recomputed by `derive`.
            answered: false,
            talk_seconds: None,
            qualified: false,
            qualification_reason: String::new(),
            verdict: Verdict::Automatic,
            first_time_caller: false,
            voicemail: false,
            attributed: false,
        }
        .derive()
    }

    /// Applies one callback's facts to the call as stored (none: the first
    /// callback of this call), and says what that changed. Facts from another
    /// Twilio account than the stored call's change nothing: they are refused,
    /// and the call keeps its account.
    pub fn apply(stored: Option<Call>, facts: Call) -> Result<Applied, ForeignAccount> {
        let Some(before) = stored else {
            let changes = Changes { created: true, newly_qualified: facts.qualified, newly_attributed: facts.attributed };
            return Ok(Applied { call: facts, changes });
        };
        if let Some(foreign) = before.foreign_account(&facts) {
            return Err(foreign);
        }
        let (was_qualified, was_attributed) = (before.qualified, before.attributed);
        let call = before.merge(facts);
        let changes = Changes {
            created: false,
            newly_qualified: call.qualified && !was_qualified,
            newly_attributed: call.attributed && !was_attributed,
        };
        Ok(Applied { call, changes })
    }

    /// The two accounts, when `facts` come from another Twilio account than
    /// this call's; none when they are the same, or either is unknown.
    pub fn foreign_account(&self, facts: &Call) -> Option<ForeignAccount> {
        match (self.account_sid, facts.account_sid) {
            (Some(call_account), Some(callback_account)) if call_account != callback_account => {
                Some(ForeignAccount { call_sid: self.call_sid, call_account, callback_account })
            }
            _ => None,
        }
    }

    /// Recomputes what follows from the facts.
    fn derive(mut self) -> Call {
        let talk = self.dial_talk_seconds.or(self.child_talk_seconds);
        let outcome = CallOutcome {
            status: self.status,
            duration_seconds: self.duration_seconds,
            forwarded: self.forwarded,
            dial_status: self.dial_status,
            talk_seconds: talk,
            bridged: self.dial_bridged,
        };
        let rule = qualify(&outcome, self.min_talk_seconds.unwrap_or(DEFAULT_MIN_TALK_SECONDS));
        self.answered = match self.forwarded {
            true => self.dial_status.is_some_and(DialCallStatus::connected) && self.dial_bridged != Some(false),
            false => self.status.is_some_and(CallStatus::is_answered),
        };
        // A Dial never bridged to the caller was no conversation, however long the business's line was open.
        self.talk_seconds = if self.forwarded { talk.filter(|_| self.dial_bridged != Some(false)) } else { self.duration_seconds };
        (self.qualified, self.qualification_reason, self.verdict) = match &self.disposition {
            Some(Disposition { lead_status: Some(status), changed_by, .. }) => {
                (status.qualified(), format!("marked {status} by {changed_by} (the rule said: {})", rule.reason), Verdict::Manual)
            }
            _ if self.placement_error.is_some() => {
                (false, format!("not placed: {}", self.placement_error.as_deref().unwrap_or_default()), Verdict::Automatic)
            }
            // An outbound call's talk time is kept and shown, but it is a lead only where its number says so.
            _ if self.direction == Some(Direction::OutboundApi) && self.qualify_outbound != Some(true) => {
                (false, format!("outbound, not counted as a lead ({})", rule.reason), Verdict::Automatic)
            }
            _ => (rule.qualified, rule.reason, Verdict::Automatic),
        };
        self.first_time_caller = self.prior_calls == Some(0);
        self.voicemail = self.recording.as_ref().is_some_and(Recording::is_voicemail);
        self.attributed = self.tenant_id.is_some();
        self
    }

    /// A person's change of the call's disposition, by `by` at `at`; `None`
    /// when it changes nothing.
    pub fn dispose(&self, change: &DispositionChange, by: &str, at: i64) -> Option<Call> {
        let disposition = Disposition::changed(self.disposition.as_ref(), change, by, at)?;
        Some(Call { disposition: Some(disposition), updated_at: self.updated_at.max(at), ..self.clone() }.derive())
    }

    /// The customer's number: who called a tracking number, or whom a call
    /// placed through our API (`outbound-api`) called. A contact's calls, and
    /// whether a caller is new, are counted by it, calls in and out alike.
    pub fn customer(&self) -> Option<&PhoneNumber> {
        match self.direction {
            Some(Direction::OutboundApi) => self.to_number.as_ref(),
            _ => self.from_number.as_ref(),
        }
    }

    /// The call with its count of the caller's earlier calls to the tenant.
    pub fn with_prior_calls(mut self, prior_calls: u32) -> Call {
        self.prior_calls = Some(prior_calls);
        self.derive()
    }

    /// The tracking number's owner and settings, as they are when the call comes in.
    fn with_owner(mut self, number: &TrackingNumber) -> Self {
        self.tenant_id = Some(number.tenant_id.clone());
        self.user_id = Some(number.user_id.clone());
        self.lead_source = number.lead_source.clone();
        self.min_talk_seconds = number.min_talk_seconds;
        self.qualify_outbound = Some(number.qualify_outbound);
        self.tracking_number = Some(number.phone_number.clone());
        self
    }

    fn with_leg(mut self, hook: &CallWebhook) -> Self {
        self.account_sid = Some(hook.account_sid);
        self.from_number = Some(hook.from_number.clone());
        self.to_number = Some(hook.to_number.clone());
        self.direction = Some(hook.direction);
        self.tracking_number = hook.tracking_number.clone();
        self.caller_name = hook.caller_name.clone();
        self.caller_city = hook.caller_city.clone();
        self.caller_state = hook.caller_state.clone();
        self.status = Some(hook.status);
        self.progress = Some(CallProgress::of(hook).key());
        self
    }
}

/// The union of two maps; where both hold a key, the greater value.
fn merge_maps(mut a: BTreeMap<String, String>, b: BTreeMap<String, String>) -> BTreeMap<String, String> {
    for (key, value) in b {
        let slot = a.entry(key).or_default();
        *slot = std::mem::take(slot).max(value);
    }
    a
}

/// Where a call stands after one callback, and what that callback changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub call: Call,
    pub changes: Changes,
}

/// A callback from another Twilio account than its call's, refused: a token of
/// one account or subaccount cannot change another's calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForeignAccount {
    pub call_sid: CallSid,
    /// The account the call is in.
    pub call_account: AccountSid,
    /// The account the callback came from (its `AccountSid`).
    pub callback_account: AccountSid,
}

/// What one callback changed about its call: what a route logs and counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Changes {
    /// It was the first callback of this call.
    pub created: bool,
    /// It made the call a qualified lead.
    pub newly_qualified: bool,
    /// It gave the call its owner.
    pub newly_attributed: bool,
}

/// What one callback says happened, kept whole beside the call.
#[derive(Debug, Clone, PartialEq)]
pub struct CallEvent {
    /// The call it belongs to (for a child leg, its parent).
    pub call_sid: CallSid,
    /// Which callback this is: a redelivery has the same id.
    pub id: EventId,
    /// The status the callback reports (`CallStatus`, `DialCallStatus` or `RecordingStatus`).
    pub status: String,
    /// Twilio's `Timestamp`, when it sent one.
    pub occurred_at: Option<i64>,
    pub received_at: i64,
    /// Every parameter as received.
    pub params: Params,
}

/// Which callback an event is. Twilio delivers a callback at least once, so two
/// deliveries with the same id are one callback: the second changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventId {
    /// The incoming call (voice URL): once per call.
    Answer,
    /// The `<Dial>` outcome: once per call.
    Dial,
    /// The owner, filled in from the tracking number after the answer could not be stored.
    Owner,
    /// The call placed through our API (click-to-call): its owner, customer and CRM links.
    Placed,
    /// A call status callback: each leg numbers its own callbacks.
    Status {
        /// `None` for the parent leg; a `<Dial>` child leg's own `CallSid` otherwise.
        child: Option<CallSid>,
        sequence_number: Option<u32>,
        status: CallStatus,
    },
    /// A recording status callback: each recording reports each status once.
    Recording { sid: RecordingSid, status: RecordingStatus },
    /// A recording's audio copied into our own bucket: once per recording.
    RecordingCopied { sid: RecordingSid },
}

/// Which webhook an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    /// The incoming call (voice URL).
    Answer,
    /// A call status callback, parent or child leg.
    Status,
    /// The `<Dial>` outcome.
    Dial,
    /// A recording status callback.
    Recording,
    /// The owner, filled in from the tracking number after the answer could not be stored.
    Owner,
    /// The call placed through our API (click-to-call).
    Placed,
    /// A recording's audio copied into our own bucket.
    RecordingCopied,
}

impl EventKind {
    /// The kind's name, as stored and shown: `answer`, `status`, `dial`, `recording`, `owner`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Answer => "answer",
            EventKind::Status => "status",
            EventKind::Dial => "dial",
            EventKind::Recording => "recording",
            EventKind::Owner => "owner",
            EventKind::Placed => "placed",
            EventKind::RecordingCopied => "recording-copied",
        }
    }
}

impl EventId {
    pub fn kind(self) -> EventKind {
        match self {
            EventId::Answer => EventKind::Answer,
            EventId::Dial => EventKind::Dial,
            EventId::Owner => EventKind::Owner,
            EventId::Placed => EventKind::Placed,
            EventId::Status { .. } => EventKind::Status,
            EventId::Recording { .. } => EventKind::Recording,
            EventId::RecordingCopied { .. } => EventKind::RecordingCopied,
        }
    }
}

impl CallEvent {
    fn new(call_sid: CallSid, id: EventId, status: &str, received_at: i64, params: &Params) -> Self {
        CallEvent { call_sid, id, status: status.to_owned(), occurred_at: None, received_at, params: params.clone() }
    }

    pub fn kind(&self) -> EventKind {
        self.id.kind()
    }

    /// A status callback's `SequenceNumber`.
    pub fn sequence_number(&self) -> Option<u32> {
        match self.id {
            EventId::Status { sequence_number, .. } => sequence_number,
            _ => None,
        }
    }
}

/// One callback's facts about a call, and the event that carried them.
#[derive(Debug, Clone, PartialEq)]
pub struct CallUpdate {
    pub call: Call,
    pub event: CallEvent,
}

impl CallUpdate {
    /// Adds what a CRM linked the call to through the webhook URL; its `userId`
    /// names the call's user.
    pub fn with_crm(mut self, crm: &CrmLinks) -> Self {
        self.call.crm.extend(crm.links.clone());
        if let Some(user) = &crm.user_id {
            self.call.user_id = Some(user.clone());
        }
        self.call = self.call.derive();
        self
    }

    /// The incoming call. `number` is the tracking number's configuration, if
    /// known; `forwarded` says whether we answered with `<Dial>`. A number
    /// bound to another account than the call's gives it no owner.
    pub fn answer(hook: &CallWebhook, number: Option<&TrackingNumber>, forwarded: bool, received_at: i64) -> Self {
        let mut call = Call::new(hook.call_sid, received_at).with_leg(hook);
        if let Some(number) = number.filter(|n| n.serves(Some(&hook.account_sid))) {
            call = call.with_owner(number);
        }
        call.forwarded = forwarded;
        let event = CallEvent::new(hook.call_sid, EventId::Answer, hook.status.as_str(), received_at, &hook.params);
        CallUpdate { call: call.derive(), event }
    }

    /// The owner of a call stored without one because storage failed when it
    /// came in: what the answer would have recorded from the tracking number.
    /// A number bound to an account gives its account too, so that storage
    /// refuses it for a call in another account.
    pub fn owner(call_sid: CallSid, number: &TrackingNumber, received_at: i64) -> Self {
        let mut call = Call::new(call_sid, received_at).with_owner(number);
        call.account_sid = number.account_sid;
        let event = CallEvent::new(call_sid, EventId::Owner, "attributed", received_at, &Params::default());
        CallUpdate { call: call.derive(), event }
    }

    /// A call placed through our API, as Twilio created it (`sid`, in
    /// `account`): it rings `placement`'s agent from its tracking number, then
    /// dials its customer. Outbound and owned by the requester from the start;
    /// its conversation is the `<Dial>` to the customer, as a forwarded call's is.
    pub fn placed(sid: CallSid, account: AccountSid, placement: &Placement, received_at: i64) -> Self {
        let mut call = Call::new(sid, received_at).with_owner(&placement.number);
        call.account_sid = Some(account);
        call.user_id = Some(placement.user_id.clone());
        call.direction = Some(Direction::OutboundApi);
        call.status = Some(CallStatus::Queued);
        call.progress = Some(CallProgress::new(CallStatus::Queued, None).key());
        call.from_number = Some(placement.number.phone_number.clone());
        call.to_number = Some(placement.customer.clone());
        call.forwarded = true;
        call.crm = placement.crm.clone();
        let event = CallEvent::new(sid, EventId::Placed, CallStatus::Queued.as_str(), received_at, &placement.params());
        CallUpdate { call: call.derive(), event }
    }

    /// A call asked of our API that Twilio (in `account`) did not place, for
    /// `error` (its code and message): kept under `call_sid`, an id of ours,
    /// so that the contact's calls show the attempt and why it failed.
    pub fn unplaced(call_sid: CallSid, account: AccountSid, placement: &Placement, error: &str, received_at: i64) -> Self {
        let mut update = CallUpdate::placed(call_sid, account, placement, received_at);
        update.call.status = Some(CallStatus::Failed);
        update.call.progress = Some(CallProgress::new(CallStatus::Failed, None).key());
        update.call.placement_error = Some(error.to_owned());
        update.event.status = CallStatus::Failed.as_str().to_owned();
        update.event.params.push("Error", error);
        update.call = update.call.derive();
        update
    }

    /// What a placed call's event says of it, read again from the event's
    /// parameters ([`Placement::params`]): what [`CallUpdate::placed`] stored
    /// but the number's settings, which are not in them.
    pub fn placed_facts(call_sid: CallSid, params: &Params, received_at: i64) -> Call {
        let mut call = Call::new(call_sid, received_at);
        // Numbers the API checked, so each is E.164.
        let number = |name: &str| params.get(name).and_then(|n| PhoneNumber::e164(name, n).ok());
        call.from_number = number("From");
        call.tracking_number = number("From");
        call.to_number = number("To");
        call.tenant_id = params.get("TenantId").map(str::to_owned);
        call.user_id = params.get("UserId").map(str::to_owned);
        call.direction = Some(Direction::OutboundApi);
        call.status = Some(CallStatus::Queued);
        call.progress = Some(CallProgress::new(CallStatus::Queued, None).key());
        call.forwarded = true;
        call.crm = CrmLinks::read_pairs(params.iter()).0.links;
        if let Some(error) = params.get("Error") {
            call.status = Some(CallStatus::Failed);
            call.progress = Some(CallProgress::new(CallStatus::Failed, None).key());
            call.placement_error = Some(error.to_owned());
        }
        call.derive()
    }

    /// The facts of a callback of a placed call's first leg, the one that rang
    /// the agent: its `To` is the agent, and the call's is `customer`, whom our
    /// `<Dial>` called (or was to call).
    pub fn for_customer(mut self, customer: &PhoneNumber) -> Self {
        self.call.to_number = Some(customer.clone());
        self.call.forwarded = true;
        self.call = self.call.derive();
        self
    }

    /// A call status callback: the parent leg's own status, or a `<Dial>` child
    /// leg's, which is filed under its parent and only adds talk time.
    pub fn status(hook: &CallWebhook, received_at: i64) -> Self {
        let occurred_at = hook.started_at.map(|t| t.0);
        let call = match hook.parent_call_sid {
            Some(parent) => {
                let mut call = Call::new(parent, received_at);
                call.account_sid = Some(hook.account_sid);
                // Only our `<Dial>` makes child legs, and its final status is the
                // Dial's outcome: known even when the dial-result could not be stored.
                call.forwarded = true;
                call.dial_call_sid = Some(hook.call_sid);
                call.dial_status = DialCallStatus::of_child(hook.status);
                call.child_talk_seconds = hook.duration_seconds.filter(|_| hook.status == CallStatus::Completed);
                call
            }
            None => {
                let mut call = Call::new(hook.call_sid, received_at).with_leg(hook);
                call.duration_seconds = hook.duration_seconds;
                if let Some(at) = occurred_at {
                    // A call that ended at `at` after `CallDuration` seconds started before it.
                    let lasted = if hook.status.is_terminal() { i64::from(hook.duration_seconds.unwrap_or(0)) * 1000 } else { 0 };
                    call.started_at = call.started_at.min(at - lasted);
                    call.ended_at = Some(at).filter(|_| hook.status.is_terminal());
                }
                call
            }
        };
        let child = hook.parent_call_sid.map(|_| hook.call_sid);
        let id = EventId::Status { child, sequence_number: hook.sequence_number, status: hook.status };
        let event = CallEvent { occurred_at, ..CallEvent::new(call.call_sid, id, hook.status.as_str(), received_at, &hook.params) };
        CallUpdate { call: call.derive(), event }
    }

    /// The `<Dial>` outcome: how the forward to the business went.
    pub fn dial(hook: &DialWebhook, received_at: i64) -> Self {
        let mut call = Call::new(hook.call_sid, received_at);
        call.account_sid = Some(hook.account_sid);
        call.forwarded = true;
        call.dial_status = Some(hook.dial_call_status);
        call.dial_call_sid = hook.dial_call_sid;
        call.dial_talk_seconds = hook.talk_seconds;
        call.dial_bridged = hook.bridged;
        let event = CallEvent::new(hook.call_sid, EventId::Dial, hook.dial_call_status.as_str(), received_at, &hook.params);
        CallUpdate { call: call.derive(), event }
    }

    /// A recording status callback: the recorded conversation or a voicemail.
    pub fn recording(hook: &RecordingWebhook, received_at: i64) -> Self {
        let mut call = Call::new(hook.call_sid, received_at);
        call.account_sid = Some(hook.account_sid);
        call.recording = Some(Recording {
            sid: hook.recording_sid,
            status: hook.status,
            url: hook.recording_url.clone(),
            duration_seconds: hook.duration_seconds,
            channels: hook.channels,
            source: hook.source.clone(),
            bucket_key: None,
        });
        let id = EventId::Recording { sid: hook.recording_sid, status: hook.status };
        let event = CallEvent::new(hook.call_sid, id, hook.status.as_str(), received_at, &hook.params);
        CallUpdate { call: call.derive(), event }
    }

    /// A recording's audio copied into our own bucket under `copy`'s key: the
    /// call keeps where, and the event keeps the copy's parameters, so that a
    /// call rebuilt from its events still finds its audio.
    pub fn recording_copied(copy: &RecordingCopy, received_at: i64) -> Self {
        CallUpdate::recording_copied_from(&copy.params(), received_at).expect("a copy's own parameters read back")
    }

    /// [`CallUpdate::recording_copied`] from its event's parameters; none when
    /// they do not name a call, a recording and a key.
    pub fn recording_copied_from(params: &Params, received_at: i64) -> Option<Self> {
        let copy = RecordingCopy::from_params(params)?;
        let mut call = Call::new(copy.call_sid, received_at);
        call.account_sid = Some(copy.account_sid);
        call.recording = Some(Recording {
            sid: copy.recording_sid,
            // Only a completed recording is copied.
            status: RecordingStatus::Completed,
            url: None,
            duration_seconds: None,
            channels: None,
            source: None,
            bucket_key: Some(copy.key()),
        });
        let event = CallEvent::new(copy.call_sid, EventId::RecordingCopied { sid: copy.recording_sid }, "copied", received_at, params);
        Some(CallUpdate { call: call.derive(), event })
    }
}
