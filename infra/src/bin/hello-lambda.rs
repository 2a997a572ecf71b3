//! The yardstick for start-up figures: a hello-world `lambda_runtime` function built the
//! same way as the marketplace's (`infra/startup-figures.sh`).
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|_event: LambdaEvent<serde_json::Value>| async {
        Ok::<_, Error>(serde_json::json!({ "hello": "world" }))
    }))
    .await
}
