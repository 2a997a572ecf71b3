//! Lambda entry point of `functions/list`.
#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    market_web::run_http_lambda(fn_list::router()).await
}
