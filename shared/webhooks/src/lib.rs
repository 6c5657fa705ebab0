//! Signed webhooks out to CRMs, as Standard Webhooks has them
//! (<https://www.standardwebhooks.com/>): each delivery is a JSON POST with
//! `webhook-id`, `webhook-timestamp` (unix seconds) and `webhook-signature`
//! (`v1,` + base64 of HMAC-SHA256(key, `{id}.{timestamp}.{body}`)), the key
//! given to the receiver as `whsec_` + base64.
//!
//! The adapter only: a [`Secret`], the URLs taken ([`endpoint_url`]), [`sign`], a [`Sender`] for one attempt and
//! a [`Verifier`] for the receiving end (`calltrack webhooks listen`, tests).
//! What to send, when to retry and what to store are decided elsewhere.

mod endpoint;
mod secret;
mod send;
mod signature;
#[cfg(feature = "testing")]
pub mod testing;

pub use endpoint::{MAX_URL_BYTES, endpoint_url};
pub use secret::{BadSecret, Secret};
pub use send::{Attempt, BuildError, DEFAULT_TIMEOUT, RESPONSE_EXCERPT, Sender};
pub use signature::{
    DEFAULT_TOLERANCE, HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, Headers, NotUtf8, Refused, Signed, Verified, Verifier, sign,
};
