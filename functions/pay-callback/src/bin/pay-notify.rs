//! Lambda entry point of the notification ingress (HTTP).
#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    market_web::run_http_lambda(fn_pay_callback::router()).await
}
