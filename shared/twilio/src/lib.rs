//! Twilio's side of a call, as pure functions over plain types: prove a
//! webhook came from Twilio ([`signature`]), decode its parameters
//! ([`params`]), read them into typed webhooks ([`voice`], [`fields`]), and
//! answer in TwiML ([`twiml`]). No I/O, no AWS, no HTTP framework: the fuzz
//! targets and every layer above build on this alone.
//!
//! ```
//! use calltrack_twilio::{Keyring, RawRequest, Webhook, signature, voice::CallWebhook};
//! # let url = "https://calls.example.com/api/twilio/voice/status";
//! # let body = b"AccountSid=AC0123456789abcdef0123456789abcdef&CallSid=CA0123456789abcdef0123456789abcdef&CallStatus=ringing&Direction=inbound&From=%2B12125550199&To=%2B18005551212";
//! # let params = calltrack_twilio::Params::from_form(body).unwrap();
//! # let signed = signature::sign("token", signature::Algorithm::HmacSha1, url, signature::Payload::Form(&params));
//! let keys = Keyring::default().with_token("token");
//! let raw = RawRequest { method: "POST", url, content_type: Some("application/x-www-form-urlencoded"), body, signature: Some(&signed), settings: None };
//! let hook = Webhook::from_raw(raw)?; // 405 / 415 / 400
//! hook.verify(&keys)?;                // 403
//! let call = CallWebhook::parse(hook.params)?; // 400: "missing CallSid"
//! assert_eq!(call.to_number.as_str(), "+18005551212");
//! # Ok::<(), calltrack_twilio::Error>(())
//! ```

pub mod error;
pub mod fields;
pub mod params;
pub mod signature;
pub mod twiml;
pub mod voice;
pub mod webhook;

pub use error::Error;
pub use params::Params;
pub use signature::{Algorithm, Keyring, Payload, SignedRequest};
pub use webhook::{RawRequest, Webhook};
