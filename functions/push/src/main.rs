//! Lambda entry point of `functions/push`.
#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    market_web::run_http_lambda(fn_push::router()).await
}
