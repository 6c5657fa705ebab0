//! What the call-tracking Lambdas and tools share: prove a webhook came from
//! Twilio, turn its parameters into typed facts, decide whether a call is a
//! qualified lead, and answer with TwiML.

pub mod error;
pub mod params;
pub mod signature;

pub use error::Error;
pub use params::Params;
pub use signature::{Algorithm, Keyring, Payload, SignedRequest};
pub mod webhook;
pub use webhook::{RawRequest, Webhook};
pub mod fields;
pub mod progress;
pub mod qualification;
pub mod twiml;
pub mod voice;
