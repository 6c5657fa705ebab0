//! A callback whose storage met an outage, kept whole so that it can be
//! applied later: its signature was checked and its fields parsed when it
//! came in, so nothing about it is decided again except the write. The same
//! idempotent merge applies it, so a late or repeated delivery is harmless.

use calltrack_twilio::Params;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeferredCallback {
    /// The route's path, e.g. `/api/twilio/voice/status`.
    pub route: String,
    /// The URL Twilio signed; its query holds the CRM links.
    pub url: String,
    /// The parameters as Twilio sent them, in order.
    pub params: Params,
    /// When it came in, in ms since the epoch: its event's time whenever it is applied.
    pub received_at: i64,
    /// For an incoming call: whether the caller was forwarded to the business.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarded: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deferred_callback_reads_back_as_written() {
        let params = Params::from_form(b"CallSid=CA1&From=%2B14155550100&Empty=&Empty=again").unwrap();
        let callback = DeferredCallback {
            route: "/api/twilio/voice/answer".into(),
            url: "https://calls.example.com/api/twilio/voice/answer?dealId=d1".into(),
            params,
            received_at: 1_700_000_000_123,
            forwarded: Some(true),
        };
        let json = serde_json::to_string(&callback).unwrap();
        assert!(json.contains(r#""receivedAt":1700000000123"#), "{json}");
        assert_eq!(serde_json::from_str::<DeferredCallback>(&json).unwrap(), callback);
        let status = DeferredCallback { forwarded: None, ..callback };
        assert!(!serde_json::to_string(&status).unwrap().contains("forwarded"));
    }
}
