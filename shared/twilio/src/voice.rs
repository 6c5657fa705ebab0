//! Typed Twilio Voice webhooks, named as the seeds name their fields
//! (`callSid`, `fromNumber`, `toNumber`, `startedAt`, `durationSeconds`, …).
//!
//! Parsing validates what the product relies on and keeps every parameter,
//! known or not, in `params`: Twilio adds parameters over time, and an
//! unknown one is never a reason to refuse a callback.
//!
//! Each `parse` is strict: a missing or malformed field is an error naming it,
//! which the status and recording routes answer with a `400`. The routes a
//! caller waits on read leniently instead ([`IncomingCall::read`],
//! [`DialReading::read`]): a caller never hears an application error once the
//! signature is valid, so they keep what could be read, leave out the rest and
//! say what they left out.

use crate::error::Error;
use crate::fields::{
    AccountSid, CallSid, CallStatus, Caller, DialCallStatus, Direction, EpochMillis, Field, PhoneNumber, RecordingSid, RecordingStatus,
};
use crate::params::{Found, Params, find_params};
use serde::Serialize;

/// What Twilio says about one call leg: the incoming call (the answer webhook)
/// and every call status callback, for the parent leg and `<Dial>`'s child legs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallWebhook {
    /// `CallSid`.
    pub call_sid: CallSid,
    /// `AccountSid`.
    pub account_sid: AccountSid,
    /// `From`.
    pub from_number: PhoneNumber,
    /// `To`.
    pub to_number: PhoneNumber,
    /// Ours: `To` for inbound calls, `From` for `outbound-api`; none for a
    /// `<Dial>` child leg, which belongs to its parent's number.
    pub tracking_number: Option<PhoneNumber>,
    /// `Direction`.
    pub direction: Direction,
    /// `CallStatus`.
    pub status: CallStatus,
    /// `CallStatus` is `in-progress` or `completed`.
    pub answered: bool,
    /// `ParentCallSid`: set on `<Dial>` child legs.
    pub parent_call_sid: Option<CallSid>,
    /// `Timestamp`, in ms since the epoch: when this status happened (status
    /// callbacks only). The seeds call the first one `startedAt`.
    pub started_at: Option<EpochMillis>,
    /// `SequenceNumber`: this leg's callbacks count up from 0.
    pub sequence_number: Option<u32>,
    /// `CallDuration`, in seconds (on `completed` only). For a forwarded call's
    /// inbound leg this includes ringing and voicemail: it is not the conversation.
    pub duration_seconds: Option<u32>,
    /// `CallerName` (CNAM lookup), free text.
    pub caller_name: Option<String>,
    /// `FromCity`, `FromState`, `FromZip`, `FromCountry`.
    pub caller_city: Option<String>,
    pub caller_state: Option<String>,
    pub caller_zip: Option<String>,
    pub caller_country: Option<String>,
    /// Every parameter as received, the ones above included.
    #[serde(skip)]
    pub params: Params,
}

impl CallWebhook {
    pub fn parse(params: Params) -> Result<Self, Error> {
        find_params!(params => {
            call_sid: "CallSid", account_sid: "AccountSid", from: "From", to: "To", direction: "Direction",
            status: "CallStatus", parent_call_sid: "ParentCallSid", timestamp: "Timestamp",
            sequence_number: "SequenceNumber", call_duration: "CallDuration", caller_name: "CallerName",
            from_city: "FromCity", from_state: "FromState", from_zip: "FromZip", from_country: "FromCountry",
        });
        let call_sid = call_sid.required()?;
        let account_sid = account_sid.required()?;
        // The caller is stored as sent, whatever its kind (a SIP or Client
        // caller, a withheld or malformed caller ID): refusing it would lose
        // the call's status for good.
        let from_number = PhoneNumber::as_sent(Caller::read(from.value.ok_or(Error::Missing("From"))?).as_str());
        let to_number: PhoneNumber = to.required()?;
        let direction: Direction = direction.required()?;
        let status: CallStatus = status.required()?;
        let tracking_number = tracking_number(direction, &from_number, &to_number);
        Ok(CallWebhook {
            call_sid,
            account_sid,
            from_number,
            to_number,
            tracking_number,
            direction,
            status,
            answered: status.is_answered(),
            parent_call_sid: parent_call_sid.optional()?,
            started_at: timestamp.optional()?,
            sequence_number: sequence_number.optional()?,
            duration_seconds: call_duration.optional()?,
            caller_name: caller_name.optional()?,
            caller_city: from_city.optional()?,
            caller_state: from_state.optional()?,
            caller_zip: from_zip.optional()?,
            caller_country: from_country.optional()?,
            params,
        })
    }
}

/// Ours: the tracking number is `To` for inbound calls, `From` for
/// `outbound-api`, none for a `<Dial>` child leg; only an E.164 value counts.
fn tracking_number(direction: Direction, from: &PhoneNumber, to: &PhoneNumber) -> Option<PhoneNumber> {
    match direction {
        Direction::Inbound | Direction::TrunkingTerminating => Some(to),
        Direction::OutboundApi | Direction::TrunkingOriginating => Some(from),
        Direction::OutboundDial => None,
    }
    .filter(|number| number.is_e164())
    .cloned()
}

/// Reads an optional field for a caller-facing route: a malformed value is
/// left out, and the reason kept in `unread`.
fn lenient<T: Field>(found: Found<'_>, unread: &mut Vec<Error>) -> Option<T> {
    found.optional().unwrap_or_else(|err| {
        unread.push(err);
        None
    })
}

/// Reads a required field for a caller-facing route: `None`, and the reason
/// kept in `unread`, when it is missing or malformed.
fn lenient_required<T: Field>(found: Found<'_>, unread: &mut Vec<Error>) -> Option<T> {
    found.required().map_err(|err| unread.push(err)).ok()
}

/// The incoming call (the voice URL) as the answer route reads it. A caller is
/// on the line, so nothing here refuses: the route answers with TwiML whatever
/// came, forwards when the tracking number can be read, and stores what could be.
///
/// - `From` is kept as sent ([`Caller`]): E.164, SIP, Client, withheld or other.
/// - `To` (the tracking number of an inbound call) is kept as sent; it is a
///   tracking number only when E.164.
/// - The call can be stored when `CallSid`, `AccountSid`, `Direction` and
///   `CallStatus` can be read (the call's key and where it stands, as the
///   status route requires them); otherwise [`IncomingCall::call`] is none.
/// - An optional field that does not parse (`ParentCallSid`, `Timestamp`, …)
///   is left out.
///
/// Every field left out or unread is in [`IncomingCall::unread`], naming it.
#[derive(Debug, Clone, PartialEq)]
pub struct IncomingCall {
    /// The call to store, when its key and state could be read. Its
    /// `from_number` and `to_number` hold `From` and `To` as sent.
    pub call: Option<CallWebhook>,
    /// `CallSid`, when it could be read (even if the call cannot be stored).
    pub call_sid: Option<CallSid>,
    /// `AccountSid`, when it could be read: the account whose number was called.
    pub account_sid: Option<AccountSid>,
    /// `From`, as sent.
    pub caller: Caller,
    /// `To`, as sent; none when empty or absent.
    pub to_number: Option<PhoneNumber>,
    /// Where the call came in: `To` for an inbound call (and when `Direction`
    /// cannot be read, as the voice URL serves inbound calls), `From` for
    /// `outbound-api`; only an E.164 value counts.
    pub tracking_number: Option<PhoneNumber>,
    /// What could not be read, each naming its field.
    pub unread: Vec<Error>,
}

impl IncomingCall {
    /// Reads the voice URL's parameters; never fails.
    pub fn read(params: Params) -> Self {
        find_params!(params => {
            call_sid: "CallSid", account_sid: "AccountSid", from: "From", to: "To", direction: "Direction",
            status: "CallStatus", parent_call_sid: "ParentCallSid", timestamp: "Timestamp",
            sequence_number: "SequenceNumber", call_duration: "CallDuration", caller_name: "CallerName",
            from_city: "FromCity", from_state: "FromState", from_zip: "FromZip", from_country: "FromCountry",
        });
        let mut unread = Vec::new();
        let caller = Caller::read(from.value.unwrap_or_default());
        let from_number = PhoneNumber::as_sent(caller.as_str());
        let to_number = PhoneNumber::as_sent(to.value.unwrap_or_default());
        let call_sid: Option<CallSid> = lenient_required(call_sid, &mut unread);
        let account_sid: Option<AccountSid> = lenient_required(account_sid, &mut unread);
        let direction: Option<Direction> = lenient_required(direction, &mut unread);
        let status: Option<CallStatus> = lenient_required(status, &mut unread);
        let tracking_number = tracking_number(direction.unwrap_or(Direction::Inbound), &from_number, &to_number);
        let parent_call_sid = lenient(parent_call_sid, &mut unread);
        let started_at = lenient(timestamp, &mut unread);
        let sequence_number = lenient(sequence_number, &mut unread);
        let duration_seconds = lenient(call_duration, &mut unread);
        let text = |found: Found<'_>| found.value.filter(|v| !v.is_empty()).map(str::to_owned);
        let (caller_name, caller_city, caller_state, caller_zip, caller_country) =
            (text(caller_name), text(from_city), text(from_state), text(from_zip), text(from_country));
        let call = match (call_sid, account_sid, direction, status) {
            (Some(call_sid), Some(account_sid), Some(direction), Some(status)) => Some(CallWebhook {
                call_sid,
                account_sid,
                from_number,
                to_number: to_number.clone(),
                tracking_number: tracking_number.clone(),
                direction,
                status,
                answered: status.is_answered(),
                parent_call_sid,
                started_at,
                sequence_number,
                duration_seconds,
                caller_name,
                caller_city,
                caller_state,
                caller_zip,
                caller_country,
                params,
            }),
            _ => None,
        };
        let to_number = Some(to_number).filter(|n| !n.as_str().is_empty());
        IncomingCall { call, call_sid, account_sid, caller, to_number, tracking_number, unread }
    }
}

/// The `<Dial>` outcome: Twilio requests the Dial `action` URL, with the
/// parent's `CallSid`, once the attempt to reach the business has ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DialWebhook {
    /// `CallSid`: the inbound (parent) call.
    pub call_sid: CallSid,
    /// `AccountSid`.
    pub account_sid: AccountSid,
    /// `DialCallStatus`.
    pub dial_call_status: DialCallStatus,
    /// `DialCallSid`: the child leg, absent when none was created.
    pub dial_call_sid: Option<CallSid>,
    /// `DialCallDuration`: seconds the caller and the business talked.
    pub talk_seconds: Option<u32>,
    /// `DialBridged`.
    pub bridged: Option<bool>,
    /// `RecordingUrl`, when `<Dial record>` recorded the conversation.
    pub recording_url: Option<String>,
    #[serde(skip)]
    pub params: Params,
}

impl DialWebhook {
    pub fn parse(params: Params) -> Result<Self, Error> {
        find_params!(params => {
            call_sid: "CallSid", account_sid: "AccountSid", dial_call_status: "DialCallStatus",
            dial_call_sid: "DialCallSid", dial_call_duration: "DialCallDuration", dial_bridged: "DialBridged",
            recording_url: "RecordingUrl",
        });
        Ok(DialWebhook {
            call_sid: call_sid.required()?,
            account_sid: account_sid.required()?,
            dial_call_status: dial_call_status.required()?,
            dial_call_sid: dial_call_sid.optional()?,
            talk_seconds: dial_call_duration.optional()?,
            bridged: dial_bridged.optional()?,
            recording_url: recording_url.optional()?,
            params,
        })
    }
}

/// The `<Dial>` outcome as the dial-result route reads it. The caller is still
/// on the line, so nothing here refuses: the route answers with TwiML whatever
/// came, and stores the outcome when `CallSid`, `AccountSid` and
/// `DialCallStatus` can be read. An optional field that does not parse is left
/// out; every field left out or unread is in [`DialReading::unread`].
#[derive(Debug, Clone, PartialEq)]
pub struct DialReading {
    /// The outcome to store, when it could be read.
    pub dial: Option<DialWebhook>,
    /// `CallSid`, when it could be read.
    pub call_sid: Option<CallSid>,
    /// Whether the caller talked with the business: `DialCallStatus` says so,
    /// unless `DialBridged` is `false` (the business's line answered, a
    /// screened call it did not accept); when it cannot be read, a
    /// `DialCallDuration` above 0 does.
    pub connected: bool,
    /// The tracking number that was called: `To`, else `Called` (Twilio sends
    /// both), when E.164.
    pub tracking_number: Option<PhoneNumber>,
    /// What could not be read, each naming its field.
    pub unread: Vec<Error>,
}

impl DialReading {
    /// Reads the Dial action's parameters; never fails.
    pub fn read(params: Params) -> Self {
        find_params!(params => {
            call_sid: "CallSid", account_sid: "AccountSid", dial_call_status: "DialCallStatus",
            dial_call_sid: "DialCallSid", dial_call_duration: "DialCallDuration", dial_bridged: "DialBridged",
            recording_url: "RecordingUrl", to: "To", called: "Called",
        });
        let mut unread = Vec::new();
        let call_sid: Option<CallSid> = lenient_required(call_sid, &mut unread);
        let account_sid: Option<AccountSid> = lenient_required(account_sid, &mut unread);
        let dial_call_status: Option<DialCallStatus> = lenient_required(dial_call_status, &mut unread);
        let dial_call_sid = lenient(dial_call_sid, &mut unread);
        let talk_seconds: Option<u32> = lenient(dial_call_duration, &mut unread);
        let bridged = lenient(dial_bridged, &mut unread);
        let recording_url = recording_url.value.filter(|v| !v.is_empty()).map(str::to_owned);
        let tracking_number = [to, called].into_iter().find_map(|found| found.value.and_then(|v| PhoneNumber::e164(found.name, v).ok()));
        if tracking_number.is_none()
            && let Some(raw) = to.value.filter(|v| !v.is_empty())
        {
            unread.push(Error::invalid("To", format!("is not an E.164 phone number: {raw:?}")));
        }
        let connected = dial_call_status.map_or(talk_seconds.is_some_and(|t| t > 0), DialCallStatus::connected) && bridged != Some(false);
        let dial = match (call_sid, account_sid, dial_call_status) {
            (Some(call_sid), Some(account_sid), Some(dial_call_status)) => {
                Some(DialWebhook { call_sid, account_sid, dial_call_status, dial_call_sid, talk_seconds, bridged, recording_url, params })
            }
            _ => None,
        };
        DialReading { dial, call_sid, connected, tracking_number, unread }
    }
}

/// A recording status callback: a `<Dial>` recording or a voicemail `<Record>`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordingWebhook {
    /// `CallSid`: always the parent (inbound) call.
    pub call_sid: CallSid,
    /// `AccountSid`.
    pub account_sid: AccountSid,
    /// `RecordingSid`.
    pub recording_sid: RecordingSid,
    /// `RecordingStatus`.
    pub status: RecordingStatus,
    /// `RecordingUrl` (add `.mp3` or `.wav` to download).
    pub recording_url: Option<String>,
    /// `RecordingDuration`, in seconds.
    pub duration_seconds: Option<u32>,
    /// `RecordingChannels`: 1 or 2.
    pub channels: Option<u32>,
    /// `RecordingSource`: `DialVerb`, `RecordVerb` (voicemail), `OutboundAPI`, …
    pub source: Option<String>,
    /// `RecordingStartTime`, in ms since the epoch.
    pub started_at: Option<EpochMillis>,
    /// `ErrorCode`, when Twilio could not record.
    pub error_code: Option<String>,
    #[serde(skip)]
    pub params: Params,
}

impl RecordingWebhook {
    pub fn parse(params: Params) -> Result<Self, Error> {
        find_params!(params => {
            call_sid: "CallSid", account_sid: "AccountSid", recording_sid: "RecordingSid", status: "RecordingStatus",
            recording_url: "RecordingUrl", duration: "RecordingDuration", channels: "RecordingChannels",
            source: "RecordingSource", start_time: "RecordingStartTime", error_code: "ErrorCode",
        });
        let call_sid = call_sid.required()?;
        let account_sid = account_sid.required()?;
        let recording_sid = recording_sid.required()?;
        let status = status.required()?;
        let recording_url =
            recording_url.optional::<String>()?.map(|url| checked_recording_url(url, &account_sid, &recording_sid)).transpose()?;
        Ok(RecordingWebhook {
            call_sid,
            account_sid,
            recording_sid,
            status,
            recording_url,
            duration_seconds: duration.optional()?,
            channels: channels.optional()?,
            source: source.optional()?,
            started_at: start_time.optional()?,
            error_code: error_code.optional()?,
            params,
        })
    }

    /// A voicemail left through `<Record>`, as opposed to a recorded conversation.
    pub fn is_voicemail(&self) -> bool {
        self.source.as_deref() == Some("RecordVerb")
    }
}

/// Where Twilio keeps a recording: its REST API, under the account the callback
/// came from. The download formats `.mp3` and `.wav` may be appended.
const RECORDINGS_API: &str = "https://api.twilio.com/2010-04-01/Accounts/";

/// `RecordingUrl` must be this recording's URL in this callback's account:
/// `https://api.twilio.com/2010-04-01/Accounts/{AccountSid}/Recordings/{RecordingSid}`,
/// as Twilio sends it (without an extension), or with `.mp3` or `.wav`. A
/// stored URL is one a user will open, so nothing else is taken.
fn checked_recording_url(url: String, account: &AccountSid, recording: &RecordingSid) -> Result<String, Error> {
    let rest = url.strip_prefix(RECORDINGS_API).and_then(|rest| rest.strip_prefix(account.as_str()));
    let sid = rest.and_then(|rest| rest.strip_prefix("/Recordings/"));
    let sid = sid.map(|sid| sid.strip_suffix(".mp3").or_else(|| sid.strip_suffix(".wav")).unwrap_or(sid));
    if sid == Some(recording.as_str()) {
        return Ok(url);
    }
    Err(Error::invalid(
        "RecordingUrl",
        format!("is not the URL of recording {recording} of account {account} ({RECORDINGS_API}{account}/Recordings/{recording}): {url:?}"),
    ))
}
