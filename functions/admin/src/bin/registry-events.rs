//! Lambda entry point of the registrar core's lifecycle events (EventBridge rule).
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let app = shared::config::cloud().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let app = app.clone();
        async move {
            fn_admin::handle_registry_event(&app, event.payload)
                .await
                .map_err(Error::from)
        }
    }))
    .await
}
