//! Lambda entry point of the sweeper (SQS deadline messages and the EventBridge schedule).
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let app = shared::config::cloud().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let app = app.clone();
        async move {
            fn_expire_sweeper::handle(&app, event.payload)
                .await
                .map_err(Error::from)
        }
    }))
    .await
}
