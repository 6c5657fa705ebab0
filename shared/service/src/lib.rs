//! The webhooks as a service. A request reads top to bottom:
//! - [`apigw`]: the API Gateway event in, the response event out;
//! - [`app`]: find the [`route`], refuse what is too large, read the webhook
//!   ([`request`]: the public URL Twilio signed) and verify it, then run the
//!   route with a [`context`];
//! - [`routes`]: one file per route, each parse, decide, store, respond;
//! - [`reply`]: the answers and the [`reply::Outcome`] a log line names;
//!   [`metrics`] counts them;
//! - [`defer`]: a callback whose write failed goes to a queue, and [`replay`]
//!   applies it once storage is back.
//!
//! [`settings`] is the one settings type of every function and the command
//! line, [`aws`] the SDK's timeouts, [`lambda`] a function's init.

pub mod apigw;
pub mod app;
pub mod aws;
pub mod context;
pub mod defer;
pub mod lambda;
pub mod metrics;
pub mod numbers;
pub mod replay;
pub mod reply;
pub mod request;
pub mod route;
pub mod routes;
pub mod settings;
#[cfg(feature = "testing")]
pub mod testing;

pub use app::App;
pub use route::Route;
pub use settings::Settings;
