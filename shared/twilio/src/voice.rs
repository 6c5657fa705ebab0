//! Typed Twilio Voice webhooks, named as the seeds name their fields
//! (`callSid`, `fromNumber`, `toNumber`, `startedAt`, `durationSeconds`, …).
//!
//! Parsing validates what the product relies on and keeps every parameter,
//! known or not, in `params`: Twilio adds parameters over time, and an
//! unknown one is never a reason to refuse a callback.

use crate::error::Error;
use crate::fields::{AccountSid, CallSid, CallStatus, DialCallStatus, Direction, EpochMillis, PhoneNumber, RecordingSid, RecordingStatus};
use crate::params::{Params, find_params};
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
        let from_number: PhoneNumber = from.required()?;
        let to_number: PhoneNumber = to.required()?;
        let direction: Direction = direction.required()?;
        let status: CallStatus = status.required()?;
        let tracking_number = match direction {
            Direction::Inbound | Direction::TrunkingTerminating => Some(&to_number),
            Direction::OutboundApi | Direction::TrunkingOriginating => Some(&from_number),
            Direction::OutboundDial => None,
        }
        .filter(|number| number.is_e164())
        .cloned();
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
        Ok(RecordingWebhook {
            call_sid: call_sid.required()?,
            account_sid: account_sid.required()?,
            recording_sid: recording_sid.required()?,
            status: status.required()?,
            recording_url: recording_url.optional()?,
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
