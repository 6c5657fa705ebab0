//! A tracking number: one Twilio number bought for one lead source, owned by a
//! tenant and a user, and how calls to it are handled. It may be bound to the
//! Twilio account (or subaccount) it was bought in, so that no other account's
//! callbacks can claim its calls.

use calltrack_twilio::fields::{AccountSid, PhoneNumber};
use serde::{Deserialize, Serialize};

/// A tracking number's owner and call handling, keyed on its E.164 number.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TrackingNumber {
    pub phone_number: PhoneNumber,
    pub tenant_id: String,
    pub user_id: String,
    /// The Twilio account or subaccount the number is in. When set, only calls
    /// whose callbacks carry this `AccountSid` are the number's: a call from
    /// another account is not forwarded and gets no owner. Absent (items stored
    /// before it existed, or a number added without `--account`): not bound,
    /// any account's calls are the number's.
    pub account_sid: Option<AccountSid>,
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
    /// Screen forwarded calls: the business hears the whisper, then "press 1",
    /// and only a press connects the caller. A call its voicemail (or nobody)
    /// takes is then never counted as a conversation: it goes to our voicemail.
    /// Off unless set (and in items stored before it existed).
    #[serde(default)]
    pub screen: bool,
    /// Said to the caller before the call is forwarded, e.g. `This call may be
    /// recorded.`, where both parties must consent to a recording. Said only when
    /// the call is recorded; absent (the default, and in items stored before it
    /// existed) says nothing.
    pub disclosure: Option<String>,
    /// Seconds of conversation that make a call a qualified lead; 30 when unset.
    pub min_talk_seconds: Option<u32>,
    /// Count outbound calls placed from the number (click-to-call) as leads
    /// when they qualify. Off unless set: their talk time is kept and shown,
    /// but a sales call is not a lead.
    #[serde(default)]
    pub qualify_outbound: bool,
    /// An inactive number's calls are still recorded but not forwarded.
    #[serde(default = "on")]
    pub active: bool,
}

fn on() -> bool {
    true
}

impl TrackingNumber {
    /// Whether a call in `account` (none: its `AccountSid` could not be read)
    /// is this number's: always for a number not bound to an account, else
    /// only in the account it is bound to.
    pub fn serves(&self, account: Option<&AccountSid>) -> bool {
        self.account_sid.as_ref().is_none_or(|own| Some(own) == account)
    }
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

    #[test]
    fn a_number_bound_to_an_account_serves_that_account_only() {
        use calltrack_twilio::fields::Field;
        let stored = r#"{"phoneNumber":"+18005551212","tenantId":"acme","userId":"jane","forwardTo":"+14155550123"}"#;
        let mut number: TrackingNumber = serde_json::from_str(stored).unwrap();
        let [a, b] = [1, 2].map(|n| AccountSid::parse("AccountSid", &format!("AC{n:032x}")).unwrap());
        assert_eq!(number.account_sid, None, "an item stored before accounts is bound to none");
        assert!(number.serves(Some(&a)) && number.serves(Some(&b)) && number.serves(None), "unbound: every account's");
        assert!(!serde_json::to_string(&number).unwrap().contains("accountSid"), "none is not stored");

        number.account_sid = Some(a);
        assert!(number.serves(Some(&a)));
        assert!(!number.serves(Some(&b)), "another account's call is not the number's");
        assert!(!number.serves(None), "nor a call whose account could not be read");
        let json = serde_json::to_value(&number).unwrap();
        assert_eq!(json["accountSid"], a.as_str());
        assert_eq!(serde_json::from_value::<TrackingNumber>(json).unwrap(), number);
    }
}
