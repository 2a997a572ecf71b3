//! Lambda entry point of the sweeper (SQS deadline messages and the EventBridge schedule).
#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    market_web::run_json_lambda(
        |app, event| async move { fn_expire_sweeper::handle(&app, event).await },
    )
    .await
}
