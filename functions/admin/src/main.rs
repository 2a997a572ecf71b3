//! Lambda entry point of `functions/admin`.
#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::web::run_http_lambda(fn_admin::router()).await
}
