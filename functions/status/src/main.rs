//! The status function. Call status callbacks, parent and child legs.
//! The routes' handlers are in `shared/service/src/routes/`.

use calltrack_service::Route;

// One thread: a function takes one event at a time, and waking another thread costs CPU.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let app = calltrack_service::lambda::init("status").await?;
    calltrack_service::lambda::run(&app, Route::STATUS_FUNCTION).await
}
