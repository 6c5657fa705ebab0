//! Realistic calls for the tests of every layer: the callbacks Twilio sends
//! for one inbound call, built from Twilio's own parameters and parsed by the
//! same code as a real webhook. Behind the `fixtures` feature.

use crate::call::{CallUpdate, EventId};
use crate::tracking_number::TrackingNumber;
use calltrack_twilio::Params;
use calltrack_twilio::fields::PhoneNumber;
use calltrack_twilio::voice::{CallWebhook, DialWebhook, RecordingWebhook};

pub const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
/// Another subaccount, for calls that must not meet `ACCOUNT`'s.
pub const OTHER_ACCOUNT: &str = "ACfedcba9876543210fedcba9876543210";
pub const TRACKING: &str = "+18005551212";
pub const CALLER: &str = "+12125550199";
pub const BUSINESS: &str = "+14155550123";
/// 2030-01-02 17:00:00 UTC, in ms: in the future, so that DynamoDB Local's TTL
/// sweeper never deletes the events of these calls while a test runs.
pub const T0: i64 = 1_893_603_600_000;

/// The demo tracking number, owned by `tenant` and `user`, forwarded to the business.
pub fn number(tenant: &str, user: &str, min_talk_seconds: Option<u32>) -> TrackingNumber {
    TrackingNumber {
        phone_number: PhoneNumber::e164("To", TRACKING).unwrap(),
        tenant_id: tenant.into(),
        user_id: user.into(),
        account_sid: None,
        lead_source: Some("Google Ads".into()),
        forward_to: PhoneNumber::e164("forwardTo", BUSINESS).unwrap(),
        record: true,
        voicemail: true,
        whisper: Some("Call from Google Ads".into()),
        disclosure: None,
        screen: false,
        qualify_outbound: false,
        min_talk_seconds,
        active: true,
    }
}

/// A 34-character SID: `prefix` and `n` in hex.
pub fn sid(prefix: &str, n: u64) -> String {
    format!("{prefix}{n:032x}")
}

fn params(pairs: &[(&str, &str)]) -> Params {
    pairs.iter().copied().collect()
}

fn rfc2822(ms: i64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp(ms / 1000).unwrap();
    at.format(&time::format_description::well_known::Rfc2822).unwrap()
}

/// The callbacks of one inbound call, as Twilio would send them.
#[derive(Clone)]
pub struct Lifecycle {
    /// The account the callbacks come from: `ACCOUNT` unless told.
    pub account: &'static str,
    pub call_sid: String,
    pub child_sid: String,
    pub recording_sid: String,
}

impl Lifecycle {
    pub fn new(n: u64) -> Self {
        Lifecycle { account: ACCOUNT, call_sid: sid("CA", n), child_sid: sid("CA", n + (1 << 60)), recording_sid: sid("RE", n) }
    }

    /// The same call's callbacks, as if sent from `account`.
    pub fn in_account(self, account: &'static str) -> Self {
        Lifecycle { account, ..self }
    }

    /// The incoming call, answered at `T0` (Twilio sends no Timestamp here).
    pub fn answer(&self, number: Option<&TrackingNumber>) -> CallUpdate {
        let p = params(&[
            ("AccountSid", self.account),
            ("CallSid", &self.call_sid),
            ("CallStatus", "ringing"),
            ("Direction", "inbound"),
            ("From", CALLER),
            ("To", TRACKING),
            ("CallerName", "Ada Lovelace"),
            ("FromCity", "NEW YORK"),
            ("FromState", "NY"),
        ]);
        let hook = CallWebhook::parse(p).unwrap();
        CallUpdate::answer(&hook, number, number.is_some_and(|n| n.active), T0)
    }

    /// A parent-leg status callback, `at_s` seconds after `T0`.
    pub fn parent_status(&self, seq: u32, status: &str, at_s: i64, duration: Option<u32>) -> CallUpdate {
        let (seq, at, duration) = (seq.to_string(), rfc2822(T0 + at_s * 1000), duration.map(|d| d.to_string()));
        let mut pairs = vec![
            ("AccountSid", self.account),
            ("CallSid", self.call_sid.as_str()),
            ("CallStatus", status),
            ("Direction", "inbound"),
            ("From", CALLER),
            ("To", TRACKING),
            ("SequenceNumber", &seq),
            ("Timestamp", &at),
            ("CallbackSource", "call-progress-events"),
        ];
        if let Some(d) = &duration {
            pairs.push(("CallDuration", d));
        }
        CallUpdate::status(&CallWebhook::parse(params(&pairs)).unwrap(), T0 + at_s * 1000 + 150)
    }

    /// A `<Dial>` child-leg status callback.
    pub fn child_status(&self, seq: u32, status: &str, at_s: i64, duration: Option<u32>) -> CallUpdate {
        let (seq, at, duration) = (seq.to_string(), rfc2822(T0 + at_s * 1000), duration.map(|d| d.to_string()));
        let mut pairs = vec![
            ("AccountSid", self.account),
            ("CallSid", self.child_sid.as_str()),
            ("ParentCallSid", self.call_sid.as_str()),
            ("CallStatus", status),
            ("Direction", "outbound-dial"),
            ("From", TRACKING),
            ("To", BUSINESS),
            ("SequenceNumber", &seq),
            ("Timestamp", &at),
        ];
        if let Some(d) = &duration {
            pairs.push(("CallDuration", d));
        }
        CallUpdate::status(&CallWebhook::parse(params(&pairs)).unwrap(), T0 + at_s * 1000 + 120)
    }

    /// The `<Dial>` outcome.
    pub fn dial(&self, status: &str, talk: Option<u32>, at_s: i64) -> CallUpdate {
        self.dial_bridged(status, talk, None, at_s)
    }

    /// The `<Dial>` outcome, saying whether the two parties were bridged (`DialBridged`).
    pub fn dial_bridged(&self, status: &str, talk: Option<u32>, bridged: Option<bool>, at_s: i64) -> CallUpdate {
        let talk = talk.map(|t| t.to_string());
        let bridged = bridged.map(|b| b.to_string());
        let mut pairs = vec![
            ("AccountSid", self.account),
            ("CallSid", self.call_sid.as_str()),
            ("CallStatus", "in-progress"),
            ("Direction", "inbound"),
            ("From", CALLER),
            ("To", TRACKING),
            ("DialCallSid", self.child_sid.as_str()),
            ("DialCallStatus", status),
        ];
        if let Some(t) = &talk {
            pairs.push(("DialCallDuration", t));
        }
        if let Some(b) = &bridged {
            pairs.push(("DialBridged", b));
        }
        CallUpdate::dial(&DialWebhook::parse(params(&pairs)).unwrap(), T0 + at_s * 1000 + 80)
    }

    /// A recording status callback; `source` is `DialVerb` or `RecordVerb` (voicemail).
    pub fn recording(&self, source: &str, duration: u32, at_s: i64) -> CallUpdate {
        let duration = duration.to_string();
        let url = format!("https://api.twilio.com/2010-04-01/Accounts/{}/Recordings/{}", self.account, self.recording_sid);
        let p = params(&[
            ("AccountSid", self.account),
            ("CallSid", &self.call_sid),
            ("RecordingSid", &self.recording_sid),
            ("RecordingUrl", &url),
            ("RecordingStatus", "completed"),
            ("RecordingDuration", &duration),
            ("RecordingChannels", "2"),
            ("RecordingSource", source),
        ]);
        CallUpdate::recording(&RecordingWebhook::parse(p).unwrap(), T0 + at_s * 1000 + 300)
    }

    /// A forwarded call: `ring_s` seconds of ringing at the business, then
    /// `talk_s` seconds of conversation, recorded. Eight callbacks, in Twilio's order.
    pub fn forwarded(&self, number: Option<&TrackingNumber>, ring_s: u32, talk_s: u32) -> Vec<CallUpdate> {
        let (ring, talk) = (i64::from(ring_s), i64::from(talk_s));
        vec![
            self.answer(number),
            self.child_status(0, "initiated", 1, None),
            self.child_status(1, "ringing", 1, None),
            self.child_status(2, "in-progress", 1 + ring, None),
            self.child_status(3, "completed", 1 + ring + talk, Some(talk_s)),
            self.dial("completed", Some(talk_s), 1 + ring + talk),
            self.parent_status(0, "completed", 2 + ring + talk, Some(2 + ring_s + talk_s)),
            self.recording("DialVerb", talk_s, 3 + ring + talk),
        ]
    }

    /// A forwarded, screened call that the business's line answered after
    /// `ring_s` (its voicemail, or an agent who did not accept it), for
    /// `message_s` seconds, never bridged to the caller: Twilio reports the
    /// Dial `completed`, with its duration, and `DialBridged=false`. Eight callbacks, in Twilio's order.
    pub fn never_bridged(&self, number: Option<&TrackingNumber>, ring_s: u32, message_s: u32) -> Vec<CallUpdate> {
        let mut updates = self.forwarded(number, ring_s, message_s);
        let dial = updates.iter().position(|u| u.event.id == EventId::Dial).expect("a forwarded call has a Dial outcome");
        let at = 1 + i64::from(ring_s) + i64::from(message_s);
        updates[dial] = self.dial_bridged("completed", Some(message_s), Some(false), at);
        updates
    }
}
