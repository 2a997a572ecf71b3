//! Lambda entry point of `functions/admin`.
#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    market_web::run_http_lambda(fn_admin::router()).await
}
