//! A phone number in a Twilio account (an IncomingPhoneNumber) and where its
//! calls go: `GET …/IncomingPhoneNumbers.json?PhoneNumber=` to find it,
//! `POST …/IncomingPhoneNumbers/{PN…}.json` to set its voice configuration.

use crate::{ApiError, TwilioApi};
use calltrack_twilio::fields::{AccountSid, PhoneNumber};
use serde::Deserialize;

/// A number as Twilio describes it: the fields calltrack reads.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IncomingNumber {
    /// `PN` and 32 hex digits.
    pub sid: String,
    pub account_sid: String,
    pub phone_number: String,
    pub voice_url: Option<String>,
    pub voice_method: Option<String>,
    pub status_callback: Option<String>,
    pub status_callback_method: Option<String>,
    pub voice_fallback_url: Option<String>,
    pub voice_fallback_method: Option<String>,
    /// A TwiML App that answers instead of `voice_url`, when set.
    pub voice_application_sid: Option<String>,
    /// A SIP trunk that takes the calls instead, when set.
    pub trunk_sid: Option<String>,
}

impl IncomingNumber {
    /// What answers its calls instead of its `voice_url`, if anything: Twilio
    /// ignores the voice URL while a TwiML App or a SIP trunk is set.
    pub fn voice_url_overridden_by(&self) -> Option<String> {
        let set = |v: &Option<String>| v.as_deref().filter(|v| !v.is_empty()).map(str::to_owned);
        set(&self.voice_application_sid)
            .map(|app| format!("the TwiML App {app}"))
            .or_else(|| set(&self.trunk_sid).map(|trunk| format!("the SIP trunk {trunk}")))
    }
}

/// Where a number's calls go, as calltrack sets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoiceConfig {
    /// Asked what to do when a call comes in (our answer route).
    pub voice_url: String,
    /// Told how the call ended (our status route).
    pub status_callback: String,
    /// Asked when `voice_url` fails, e.g. static TwiML that still forwards.
    pub voice_fallback_url: Option<String>,
}

/// One field a configuration changes: its API name, what it is, what it becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub field: &'static str,
    pub from: Option<String>,
    pub to: String,
}

impl VoiceConfig {
    /// The form fields to send: each URL with the method POST.
    fn form(&self) -> Vec<(&'static str, &str)> {
        let mut form = vec![
            ("VoiceUrl", self.voice_url.as_str()),
            ("VoiceMethod", "POST"),
            ("StatusCallback", self.status_callback.as_str()),
            ("StatusCallbackMethod", "POST"),
        ];
        if let Some(fallback) = &self.voice_fallback_url {
            form.extend([("VoiceFallbackUrl", fallback.as_str()), ("VoiceFallbackMethod", "POST")]);
        }
        form
    }

    /// Every field as `number` has it and as this sets it, changed or not.
    pub fn changes(&self, number: &IncomingNumber) -> Vec<Change> {
        let current = |field: &str| match field {
            "VoiceUrl" => number.voice_url.clone(),
            "VoiceMethod" => number.voice_method.clone(),
            "StatusCallback" => number.status_callback.clone(),
            "StatusCallbackMethod" => number.status_callback_method.clone(),
            "VoiceFallbackUrl" => number.voice_fallback_url.clone(),
            "VoiceFallbackMethod" => number.voice_fallback_method.clone(),
            _ => None,
        };
        self.form()
            .into_iter()
            .map(|(field, to)| Change { field, from: current(field).filter(|v| !v.is_empty()), to: to.to_owned() })
            .collect()
    }
}

impl Change {
    pub fn changes(&self) -> bool {
        self.from.as_deref() != Some(self.to.as_str())
    }
}

#[derive(Deserialize)]
struct NumberPage {
    incoming_phone_numbers: Vec<IncomingNumber>,
}

impl TwilioApi {
    /// `number` in `account`, if the account has it.
    pub async fn incoming_number(&self, account: &AccountSid, number: &PhoneNumber) -> Result<Option<IncomingNumber>, ApiError> {
        let url = self.url(&format!("/Accounts/{account}/IncomingPhoneNumbers.json"));
        let page: NumberPage = self.send(self.http.get(url).query(&[("PhoneNumber", number.as_str())])).await?;
        // Twilio filters on the number; take only an exact match all the same.
        Ok(page.incoming_phone_numbers.into_iter().find(|n| n.phone_number == number.as_str()))
    }

    /// Sets where the calls of the number `sid` (in `account`) go, and returns
    /// the number as Twilio then describes it.
    pub async fn configure_voice(&self, account: &AccountSid, sid: &str, config: &VoiceConfig) -> Result<IncomingNumber, ApiError> {
        let url = self.url(&format!("/Accounts/{account}/IncomingPhoneNumbers/{sid}.json"));
        self.send(self.http.post(url).form(&config.form())).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(voice_url: Option<&str>) -> IncomingNumber {
        IncomingNumber {
            sid: "PN0123456789abcdef0123456789abcdef".into(),
            account_sid: "AC0123456789abcdef0123456789abcdef".into(),
            phone_number: "+18005551212".into(),
            voice_url: voice_url.map(str::to_owned),
            voice_method: Some("POST".into()),
            status_callback: Some(String::new()),
            status_callback_method: Some("GET".into()),
            voice_fallback_url: None,
            voice_fallback_method: Some("GET".into()),
            voice_application_sid: Some(String::new()),
            trunk_sid: None,
        }
    }

    #[test]
    fn changes_list_every_field_with_what_it_was() {
        let config =
            VoiceConfig { voice_url: "https://x/answer".into(), status_callback: "https://x/status".into(), voice_fallback_url: None };
        let changes = config.changes(&number(Some("https://old/answer")));
        let shown: Vec<_> = changes.iter().map(|c| (c.field, c.from.as_deref(), c.to.as_str(), c.changes())).collect();
        assert_eq!(
            shown,
            [
                ("VoiceUrl", Some("https://old/answer"), "https://x/answer", true),
                ("VoiceMethod", Some("POST"), "POST", false),
                ("StatusCallback", None, "https://x/status", true),
                ("StatusCallbackMethod", Some("GET"), "POST", true),
            ]
        );
        let with_fallback = VoiceConfig { voice_fallback_url: Some("https://handler/twiml".into()), ..config };
        let changes = with_fallback.changes(&number(None));
        let fallback: Vec<_> = changes[4..].iter().map(|c| (c.field, c.to.as_str(), c.changes())).collect();
        assert_eq!(
            fallback,
            [("VoiceFallbackUrl", "https://handler/twiml", true), ("VoiceFallbackMethod", "POST", true)],
            "a GET fallback is set to POST"
        );
    }

    #[test]
    fn an_app_or_a_trunk_overrides_the_voice_url() {
        assert_eq!(number(None).voice_url_overridden_by(), None, "an empty App SID is none");
        let app = IncomingNumber { voice_application_sid: Some("AP1".into()), ..number(None) };
        assert_eq!(app.voice_url_overridden_by().as_deref(), Some("the TwiML App AP1"));
        let trunk = IncomingNumber { trunk_sid: Some("TK1".into()), ..number(None) };
        assert_eq!(trunk.voice_url_overridden_by().as_deref(), Some("the SIP trunk TK1"));
    }
}
