//! A webhook secret as Standard Webhooks writes it: `whsec_` + base64 of the key.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use std::fmt;
use std::str::FromStr;

const PREFIX: &str = "whsec_";

/// The spec's bounds for an HMAC-SHA256 key: "at least 24 bytes … 512 maximum" (bits: 64 bytes).
const MIN_KEY: usize = 24;
const MAX_KEY: usize = 64;

/// The key one endpoint's deliveries are signed with. Its `Debug` never shows
/// the key, so a secret inside a logged struct does not leak.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    key: Vec<u8>,
    text: String,
}

impl Secret {
    /// 32 bytes from the operating system's random numbers.
    ///
    /// # Panics
    /// Only when the operating system gives no random numbers at all, where no
    /// secret could be made safely anyway.
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).expect("the operating system's random numbers");
        Self::from_key(&key)
    }

    fn from_key(key: &[u8]) -> Self {
        Secret { key: key.to_vec(), text: format!("{PREFIX}{}", STANDARD.encode(key)) }
    }

    /// `whsec_…`, as given to the receiver.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub(crate) fn key(&self) -> &[u8] {
        &self.key
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(whsec_…redacted)")
    }
}

/// Why a text is not a webhook secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadSecret(String);

impl fmt::Display for BadSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadSecret {}

impl FromStr for Secret {
    type Err = BadSecret;

    fn from_str(text: &str) -> Result<Self, BadSecret> {
        // The receiver's libraries accept a bare base64 key too; refusing it here
        // keeps a pasted token or password from being taken for a secret.
        let encoded = text.trim().strip_prefix(PREFIX).ok_or_else(|| BadSecret(format!("a webhook secret starts with {PREFIX}")))?;
        let key = STANDARD.decode(encoded).map_err(|e| BadSecret(format!("a webhook secret is {PREFIX} then base64: {e}")))?;
        if !(MIN_KEY..=MAX_KEY).contains(&key.len()) {
            return Err(BadSecret(format!("a webhook secret's key has {MIN_KEY} to {MAX_KEY} bytes; this one has {}", key.len())));
        }
        Ok(Self::from_key(&key))
    }
}

impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_secret_reads_back_and_differs_each_time() {
        let secret = Secret::generate();
        assert!(secret.as_str().starts_with("whsec_"));
        assert_eq!(secret.key().len(), 32);
        assert_eq!(secret.to_string().parse::<Secret>().unwrap(), secret);
        assert_ne!(Secret::generate(), secret);
    }

    #[test]
    fn debug_never_shows_the_key() {
        let secret = Secret::generate();
        let shown = format!("{secret:?} {:?}", Some(&secret));
        assert!(!shown.contains(&secret.as_str()["whsec_".len()..]), "{shown}");
        assert!(shown.contains("redacted"));
    }

    #[test]
    fn anything_but_a_whsec_secret_is_refused_clearly() {
        for (text, says) in [
            ("C2FVsBQIhrscChlQIMV+b5sSYspob7oD", "starts with whsec_"),
            ("whsec_not base64!", "base64"),
            ("whsec_dG9vLXNob3J0", "this one has 9"),
            ("", "starts with whsec_"),
        ] {
            let err = text.parse::<Secret>().unwrap_err().to_string();
            assert!(err.contains(says), "{text}: {err}");
        }
    }

    #[test]
    fn serde_writes_and_reads_the_whsec_text() {
        let secret: Secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD".parse().unwrap();
        let json = serde_json::to_string(&secret).unwrap();
        assert_eq!(json, r#""whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD""#);
        assert_eq!(serde_json::from_str::<Secret>(&json).unwrap(), secret);
        assert!(serde_json::from_str::<Secret>(r#""hunter2""#).unwrap_err().to_string().contains("whsec_"));
    }
}
