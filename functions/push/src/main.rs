//! Lambda entry point of `functions/push`.
#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::web::run_http_lambda(fn_push::router()).await
}
