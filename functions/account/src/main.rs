//! Lambda entry point of `functions/account`.
#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    market_web::run_http_lambda(fn_account::router()).await
}
