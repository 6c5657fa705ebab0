//! The call domain: what a call is, how each callback's facts merge into it
//! whatever their order ([`call`], [`progress`]), which calls are qualified
//! leads ([`qualification`]), who owns a tracking number ([`tracking_number`]),
//! what a CRM linked a call to ([`crm`]), a person's verdict on it
//! ([`disposition`]), what it puts in the calls' index for listings and
//! counts ([`call_index`]), a callback kept for later
//! ([`deferred`]), a call placed through our API ([`placement`]), how readers see calls ([`view`]), what a
//! change to a call sets off (webhook events, a recording's copy: [`outbox`], [`copy`]), a tenant's webhook
//! endpoints and the deliveries to them ([`endpoints`]), and
//! the small traits storage implements ([`ports`]). Plain functions over plain
//! types: no I/O here.

pub mod call;
pub mod call_index;
pub mod copy;
pub mod crm;
pub mod deferred;
pub mod disposition;
pub mod endpoints;
#[cfg(feature = "fixtures")]
pub mod fixtures;
pub mod outbox;
pub mod placement;
pub mod ports;
pub mod progress;
pub mod qualification;
pub mod tracking_number;
pub mod view;
