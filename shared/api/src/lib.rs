//! The API for the CRMs and dashboards this product serves: a tenant's calls
//! and tracking numbers as JSON, and calls placed for them. API Gateway's JWT authorizer checks each token (issuer, audience,
//! expiry, signature) before a request gets here; this crate reads the
//! caller's tenant, user and role from the token's claims ([`principal`]) and
//! never shows one tenant another's data: another tenant's call is a 404.
//! Errors are RFC 9457 problem details naming the field ([`problem`]).
//!
//! [`app`] routes a request; [`calls`], [`place`] (click-to-call), [`recording`] (a link that plays one), [`numbers`], [`stats`] and [`webhooks`] hold the routes; [`lambda`] is
//! the function's init and its API Gateway events.

pub mod app;
pub mod calls;
pub mod lambda;
pub mod numbers;
pub mod openapi;
pub mod place;
pub mod principal;
pub mod problem;
pub mod recording;
pub mod stats;
pub mod webhooks;

pub use app::{Api, ApiRequest, ApiResponse};
