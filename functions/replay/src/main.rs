//! The replay function. Callbacks that met a storage outage, from the queue.
//! What it does is in `shared/service/src/replay.rs`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    calltrack_service::lambda::replay().await
}
