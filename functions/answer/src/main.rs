//! The answer function. The caller-facing routes: answer, dial-result, whisper and goodbye.
//! The routes' handlers are in `shared/src/routes/`.

use calltrack_shared::app::Route;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let app = calltrack_shared::lambda::init("answer").await?;
    calltrack_shared::lambda::run(&app, Route::ANSWER_FUNCTION).await
}
