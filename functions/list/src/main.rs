//! Lambda entry point of `functions/list`.
#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::web::run_http_lambda(fn_list::router()).await
}
