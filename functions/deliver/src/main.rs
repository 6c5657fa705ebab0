//! The deliver function. The webhook queue: each event sent, signed, to its
//! endpoint. What it does is in `shared/outbox/src/deliver.rs`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    calltrack_outbox::lambda::deliver_webhooks().await
}
