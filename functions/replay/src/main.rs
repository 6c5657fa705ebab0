//! The replay function. The callback queue: callbacks that met a storage
//! outage, and recordings to copy. What it does is in `shared/outbox/src/work.rs`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    calltrack_outbox::lambda::replay().await
}
