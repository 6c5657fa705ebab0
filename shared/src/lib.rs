//! What the call-tracking Lambdas and tools share: prove a webhook came from
//! Twilio, turn its parameters into typed facts, decide whether a call is a
//! qualified lead, answer with TwiML, and store calls.

pub mod apigw;
pub mod app;
pub mod call;
pub mod crm;
pub mod error;
pub mod fields;
pub mod lambda;
pub mod metrics;
pub mod params;
pub mod progress;
pub mod qualification;
pub mod routes;
pub mod signature;
pub mod store;
pub mod tracking_number;
pub mod twiml;
pub mod voice;
pub mod webhook;

pub use error::Error;
pub use params::Params;
pub use signature::{Algorithm, Keyring, Payload, SignedRequest};
pub use webhook::{RawRequest, Webhook};
