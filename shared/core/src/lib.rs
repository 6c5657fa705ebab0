//! The call domain: what a call is, how each callback's facts merge into it
//! whatever their order ([`call`], [`progress`]), which calls are qualified
//! leads ([`qualification`]), who owns a tracking number ([`tracking_number`]),
//! what a CRM linked a call to ([`crm`]), a callback kept for later
//! ([`deferred`]), how readers see calls ([`view`]), and
//! the small traits storage implements ([`ports`]). Plain functions over plain
//! types: no I/O here.

pub mod call;
pub mod crm;
pub mod deferred;
#[cfg(feature = "fixtures")]
pub mod fixtures;
pub mod ports;
pub mod progress;
pub mod qualification;
pub mod tracking_number;
pub mod view;
