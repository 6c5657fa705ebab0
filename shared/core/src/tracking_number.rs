//! A tracking number: one Twilio number bought for one lead source, owned by a
//! tenant and a user, and how calls to it are handled.

use calltrack_twilio::fields::PhoneNumber;
use serde::{Deserialize, Serialize};

/// A tracking number's owner and call handling, keyed on its E.164 number.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrackingNumber {
    pub phone_number: PhoneNumber,
    pub tenant_id: String,
    pub user_id: String,
    /// e.g. `Google Ads`, `Billboard I-80`.
    pub lead_source: Option<String>,
    /// The business's number that calls are forwarded to.
    pub forward_to: PhoneNumber,
    /// Record forwarded calls (on unless switched off).
    #[serde(default = "on")]
    pub record: bool,
    /// Take a voicemail when the business does not answer.
    #[serde(default = "on")]
    pub voicemail: bool,
    /// Read to the business before it is connected, e.g. `Call from Google Ads`.
    pub whisper: Option<String>,
    /// Said to the caller before the call is forwarded, e.g. `This call may be
    /// recorded.`, where both parties must consent to a recording. Said only when
    /// the call is recorded; absent (the default, and in items stored before it
    /// existed) says nothing.
    pub disclosure: Option<String>,
    /// Seconds of conversation that make a call a qualified lead; 30 when unset.
    pub min_talk_seconds: Option<u32>,
    /// An inactive number's calls are still recorded but not forwarded.
    #[serde(default = "on")]
    pub active: bool,
}

fn on() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recording_voicemail_and_forwarding_are_on_unless_switched_off() {
        let stored = r#"{"phoneNumber":"+18005551212","tenantId":"acme","userId":"jane","forwardTo":"+14155550123"}"#;
        let number: TrackingNumber = serde_json::from_str(stored).unwrap();
        assert!(number.record && number.voicemail && number.active);
        let off = stored.replace('}', r#","record":false,"voicemail":false,"active":false}"#);
        let number: TrackingNumber = serde_json::from_str(&off).unwrap();
        assert!(!number.record && !number.voicemail && !number.active);
    }

    #[test]
    fn the_disclosure_is_optional_and_absent_unless_set() {
        let stored = r#"{"phoneNumber":"+18005551212","tenantId":"acme","userId":"jane","forwardTo":"+14155550123"}"#;
        let mut number: TrackingNumber = serde_json::from_str(stored).unwrap();
        assert_eq!(number.disclosure, None, "an item stored before disclosures says nothing");
        assert!(!serde_json::to_string(&number).unwrap().contains("disclosure"), "none is not stored");
        number.disclosure = Some("This call may be recorded.".into());
        let json = serde_json::to_value(&number).unwrap();
        assert_eq!(json["disclosure"], "This call may be recorded.");
        assert_eq!(serde_json::from_value::<TrackingNumber>(json).unwrap(), number);
    }
}
