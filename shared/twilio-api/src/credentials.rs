//! The API key calltrack calls Twilio with, as kept in an SSM SecureString.

use calltrack_twilio::fields::{AccountSid, Field};
use serde::Deserialize;

/// An account and one of its API keys. Its `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The account the key belongs to; the key works for its subaccounts too.
    pub account_sid: AccountSid,
    /// `SK` and 32 hex digits.
    pub api_key_sid: String,
    pub api_key_secret: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("account_sid", &self.account_sid).field("api_key_sid", &self.api_key_sid).finish()
    }
}

/// As written in the SSM parameter.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Stored {
    account_sid: String,
    api_key_sid: String,
    api_key_secret: String,
}

impl Credentials {
    /// Checks each part, naming the one that is wrong.
    pub fn new(account_sid: &str, api_key_sid: &str, api_key_secret: &str) -> Result<Self, String> {
        let account_sid = AccountSid::parse("accountSid", account_sid.trim()).map_err(|e| e.to_string())?;
        let api_key_sid = api_key_sid.trim();
        let is_key = api_key_sid.len() == 34 && api_key_sid.starts_with("SK") && api_key_sid[2..].bytes().all(|b| b.is_ascii_hexdigit());
        if !is_key {
            return Err(format!("apiKeySid is not an API key SID (SK and 32 hex digits): {api_key_sid:?}"));
        }
        if api_key_secret.trim().is_empty() {
            return Err("apiKeySecret is empty".to_owned());
        }
        Ok(Credentials { account_sid, api_key_sid: api_key_sid.to_owned(), api_key_secret: api_key_secret.trim().to_owned() })
    }

    /// Reads `{"accountSid":"AC…","apiKeySid":"SK…","apiKeySecret":"…"}`, the
    /// value of the SSM parameter that holds them.
    pub fn parse(json: &str) -> Result<Self, String> {
        let stored: Stored = serde_json::from_str(json).map_err(|e| {
            // serde's message names the field; the text itself may hold the secret, so it is never echoed.
            format!(
                "not {{\"accountSid\":\"AC…\",\"apiKeySid\":\"SK…\",\"apiKeySecret\":\"…\"}}: {}",
                e.to_string().split(" at line").next().unwrap_or_default()
            )
        })?;
        Credentials::new(&stored.account_sid, &stored.api_key_sid, &stored.api_key_secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
    const KEY: &str = "SK0123456789abcdef0123456789abcdef";

    #[test]
    fn reads_the_parameter_and_names_what_is_wrong() {
        let json = format!(r#"{{"accountSid":"{ACCOUNT}","apiKeySid":"{KEY}","apiKeySecret":"s3cret"}}"#);
        let credentials = Credentials::parse(&json).unwrap();
        assert_eq!((credentials.account_sid.as_str(), credentials.api_key_sid.as_str()), (ACCOUNT, KEY));
        assert_eq!(credentials.api_key_secret, "s3cret");
        let wrong = [
            (format!(r#"{{"accountSid":"{ACCOUNT}","apiKeySid":"{KEY}"}}"#), "missing field `apiKeySecret`"),
            (
                format!(r#"{{"accountSid":"{ACCOUNT}","apiKeySid":"{KEY}","apiKeySecret":"x","authToken":"y"}}"#),
                "unknown field `authToken`",
            ),
            (format!(r#"{{"accountSid":"AC1","apiKeySid":"{KEY}","apiKeySecret":"x"}}"#), "accountSid"),
            (format!(r#"{{"accountSid":"{ACCOUNT}","apiKeySid":"{ACCOUNT}","apiKeySecret":"x"}}"#), "apiKeySid is not an API key SID"),
            (format!(r#"{{"accountSid":"{ACCOUNT}","apiKeySid":"{KEY}","apiKeySecret":" "}}"#), "apiKeySecret is empty"),
            ("s3cret-in-plain-text".to_owned(), "not {\"accountSid\""),
        ];
        for (text, expected) in wrong {
            let err = Credentials::parse(&text).unwrap_err();
            assert!(err.contains(expected), "{text}: {err}");
            assert!(!err.contains("s3cret"), "never echoes the secret: {err}");
        }
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let credentials = Credentials::new(ACCOUNT, KEY, "s3cret").unwrap();
        let shown = format!("{credentials:?}");
        assert!(shown.contains(KEY) && !shown.contains("s3cret"), "{shown}");
    }
}
