//! The dispatch function. The calls table's stream: what each change to a
//! call sets off, queued. What it does is in `shared/outbox/src/dispatch.rs`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    calltrack_outbox::lambda::dispatch_stream().await
}
