//! The status function. Call status callbacks, parent and child legs.
//! The routes' handlers are in `shared/src/routes/`.

use calltrack_shared::app::Route;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let app = calltrack_shared::lambda::init("status").await?;
    calltrack_shared::lambda::run(&app, Route::STATUS_FUNCTION).await
}
