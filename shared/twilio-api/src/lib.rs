//! Twilio's REST API, as far as calltrack uses it: finding a phone number in
//! an account, setting where its calls go, placing an outbound call, and
//! fetching (then deleting) a recording's audio.
//! Authenticated with an API key (`SK…` and its secret), never the account's
//! auth token; an account's key works for its subaccounts too, so each request
//! names the account it acts in.

mod calls;
mod credentials;
mod error;
mod numbers;
mod recordings;
#[cfg(feature = "testing")]
pub mod testing;

pub use calls::{NewCall, PlacedCall, Retry};
pub use credentials::Credentials;
pub use error::{ApiError, NUMBER_CODES, Refusal};
pub use numbers::{IncomingNumber, VoiceConfig};
pub use recordings::RecordingAudio;

use std::time::Duration;

/// Where Twilio's REST API is.
pub const DEFAULT_BASE_URL: &str = "https://api.twilio.com";

/// How long a request may take, connecting included, unless [`TwilioApi::with_timeout`] says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// A client of Twilio's REST API, built once and shared.
#[derive(Clone, Debug)]
pub struct TwilioApi {
    http: reqwest::Client,
    base_url: String,
    credentials: Credentials,
    timeout: Duration,
}

impl TwilioApi {
    /// A client of the API at `base_url` ([`DEFAULT_BASE_URL`], or a mock in tests).
    pub fn new(base_url: &str, credentials: Credentials) -> Result<Self, ApiError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .user_agent(concat!("calltrack/", env!("CARGO_PKG_VERSION")))
            .build()
            // Building fails before anything is sent (e.g. no TLS roots).
            .map_err(|e| ApiError::Unreachable(e.to_string()))?;
        Ok(TwilioApi { http, base_url: base_url.trim_end_matches('/').to_owned(), credentials, timeout: DEFAULT_TIMEOUT })
    }

    /// The same client, giving each request at most `timeout` (a Lambda's
    /// remaining time, or a short one in tests).
    pub fn with_timeout(self, timeout: Duration) -> Self {
        TwilioApi { timeout, ..self }
    }

    /// The account requests act in when none is named: the API key's own.
    pub fn account_sid(&self) -> &calltrack_twilio::fields::AccountSid {
        &self.credentials.account_sid
    }

    fn url(&self, path: &str) -> String {
        format!("{}/2010-04-01{path}", self.base_url)
    }

    /// `request` with the API key.
    fn with_key(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request.basic_auth(&self.credentials.api_key_sid, Some(&self.credentials.api_key_secret))
    }

    /// Sends `request` with the API key, and reads a 2xx answer as `T`.
    async fn send<T: serde::de::DeserializeOwned>(&self, request: reqwest::RequestBuilder) -> Result<T, ApiError> {
        let body = self.answer(request).await?;
        serde_json::from_slice(&body).map_err(|e| ApiError::Unexpected(format!("Twilio's answer could not be read: {e}")))
    }

    /// Sends `request` with the API key: the body of a 2xx answer, or Twilio's error.
    async fn answer(&self, request: reqwest::RequestBuilder) -> Result<bytes::Bytes, ApiError> {
        let response = self.with_key(request).timeout(self.timeout).send().await.map_err(|e| ApiError::from_reqwest(&self.base_url, &e))?;
        let status = response.status().as_u16();
        let retry_after = error::retry_after(response.headers());
        let body = response.bytes().await.map_err(|e| ApiError::from_reqwest(&self.base_url, &e))?;
        if !(200..300).contains(&status) {
            return Err(ApiError::from_answer(status, &body).with_retry_after(retry_after));
        }
        Ok(body)
    }
}
