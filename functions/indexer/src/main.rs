//! Lambda entry point of the search indexer (the table's DynamoDB Stream).
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Logging first, so that even a failed start is logged.
    market_web::init_logging();
    let app = market_adapters::config::cloud().await.inspect_err(|e| {
        lambda_runtime::tracing::error!(error = format!("{e:#}"), "the function cannot start");
    })?;
    lambda_runtime::run(service_fn(
        |event: LambdaEvent<market_web::stream::StreamEvent>| {
            let app = app.clone();
            async move { Ok::<_, Error>(fn_indexer::handle(&app, event.payload).await) }
        },
    ))
    .await
}
