//! The api function: a tenant's calls as JSON, for CRMs and dashboards.
//! API Gateway's JWT authorizer checks the token before a request gets here;
//! the routes are in `shared/api/src/`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    calltrack_api::lambda::run().await
}
