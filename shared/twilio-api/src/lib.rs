//! Twilio's REST API, as far as calltrack uses it: finding a phone number in
//! an account and setting where its calls go. Authenticated with an API key
//! (`SK…` and its secret), never the account's auth token; an account's key
//! works for its subaccounts too, so each request names the account it acts in.

mod credentials;
mod error;
mod numbers;

pub use credentials::Credentials;
pub use error::ApiError;
pub use numbers::{IncomingNumber, VoiceConfig};

use std::time::Duration;

/// Where Twilio's REST API is.
pub const DEFAULT_BASE_URL: &str = "https://api.twilio.com";

/// A client of Twilio's REST API, built once and shared.
#[derive(Clone, Debug)]
pub struct TwilioApi {
    http: reqwest::Client,
    base_url: String,
    credentials: Credentials,
}

impl TwilioApi {
    /// A client of the API at `base_url` ([`DEFAULT_BASE_URL`], or a mock in tests).
    pub fn new(base_url: &str, credentials: Credentials) -> Result<Self, ApiError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(10))
            .user_agent(concat!("calltrack/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ApiError::Network(e.to_string()))?;
        Ok(TwilioApi { http, base_url: base_url.trim_end_matches('/').to_owned(), credentials })
    }

    /// The account requests act in when none is named: the API key's own.
    pub fn account_sid(&self) -> &calltrack_twilio::fields::AccountSid {
        &self.credentials.account_sid
    }

    fn url(&self, path: &str) -> String {
        format!("{}/2010-04-01{path}", self.base_url)
    }

    /// Sends `request` with the API key, and reads a 2xx answer as `T`.
    async fn send<T: serde::de::DeserializeOwned>(&self, request: reqwest::RequestBuilder) -> Result<T, ApiError> {
        let response = request
            .basic_auth(&self.credentials.api_key_sid, Some(&self.credentials.api_key_secret))
            .send()
            .await
            .map_err(|e| ApiError::from_reqwest(&self.base_url, &e))?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(|e| ApiError::from_reqwest(&self.base_url, &e))?;
        if !(200..300).contains(&status) {
            return Err(ApiError::from_answer(status, &body));
        }
        serde_json::from_slice(&body).map_err(|e| ApiError::Unexpected(format!("Twilio's answer could not be read: {e}")))
    }
}
