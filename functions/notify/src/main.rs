//! Lambda entry point of the notifier (the table's DynamoDB Stream).
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Logging first, so that even a failed start is logged.
    market_web::init_logging();
    let app = market_adapters::config::cloud().await.inspect_err(|e| {
        lambda_runtime::tracing::error!(error = format!("{e:#}"), "the function cannot start");
    })?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<fn_notify::StreamEvent>| {
        let app = app.clone();
        async move { Ok::<_, Error>(fn_notify::handle(&app, event.payload).await) }
    }))
    .await
}
