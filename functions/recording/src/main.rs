//! The recording function. Recording status callbacks.
//! The routes' handlers are in `shared/src/routes/`.

use calltrack_shared::app::Route;
use lambda_http::{Error, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let app = calltrack_shared::lambda::init("recording").await?;
    let app = &app;
    lambda_http::run(service_fn(move |request| async move { Ok::<_, Error>(app.handle(Route::RECORDING_FUNCTION, &request).await) })).await
}
