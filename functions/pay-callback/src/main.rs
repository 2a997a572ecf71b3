//! Lambda entry point of the notification consumer (SQS trigger).
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Logging first, so that even a failed start is logged.
    market_web::init_logging();
    let app = market_adapters::config::cloud().await.inspect_err(|e| {
        lambda_runtime::tracing::error!(error = format!("{e:#}"), "the function cannot start");
    })?;
    lambda_runtime::run(service_fn(
        |event: LambdaEvent<aws_lambda_events::event::sqs::SqsEvent>| {
            let app = app.clone();
            async move { Ok::<_, Error>(fn_pay_callback::handle_batch(&app, event.payload).await) }
        },
    ))
    .await
}
