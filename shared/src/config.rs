//! Building the ports from the environment: once per process, outside any handler.
use std::collections::HashMap;
use std::sync::Arc;

use crate::adapters::captcha::SandboxCaptcha;
use crate::adapters::clock::SystemClock;
use crate::adapters::payment::SandboxProvider;
use crate::adapters::queue::{SqsQueue, Topic};
use crate::core::policy::Policy;
use crate::store::dynamo::DynamoStore;
use crate::App;

fn required(name: &str) -> anyhow::Result<String> {
    std::env::var(name).map_err(|_| anyhow::anyhow!("{name} is not set"))
}

/// The AWS SDK configuration from the standard environment (`AWS_ENDPOINT_URL`, region,
/// credentials). Loading it makes no network call.
pub async fn aws() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// The app as a Lambda function runs it: DynamoDB table `TABLE_NAME`, SQS queues
/// `PAYMENTS_QUEUE_URL` and `DEADLINES_QUEUE_URL`, the system clock.
///
/// The Alipay adapter and the cloud captcha verifier arrive with their own issues; until
/// then a deployment must say `MARKET_PAYMENT_PROVIDER=sandbox` and `MARKET_CAPTCHA=sandbox`
/// explicitly, so nothing runs against a stand-in by accident.
pub async fn cloud() -> anyhow::Result<Arc<App>> {
    let sdk = aws().await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), required("TABLE_NAME")?);
    let mut urls = HashMap::new();
    for (topic, var) in [
        (Topic::PaymentNotifications, "PAYMENTS_QUEUE_URL"),
        (Topic::OrderDeadlines, "DEADLINES_QUEUE_URL"),
    ] {
        if let Ok(url) = std::env::var(var) {
            urls.insert(topic, url);
        }
    }
    let queue = SqsQueue::new(aws_sdk_sqs::Client::new(&sdk), urls);
    if required("MARKET_PAYMENT_PROVIDER")? != "sandbox" || required("MARKET_CAPTCHA")? != "sandbox"
    {
        anyhow::bail!("only the sandbox payment provider and captcha exist yet: set MARKET_PAYMENT_PROVIDER=sandbox and MARKET_CAPTCHA=sandbox");
    }
    let base_url = std::env::var("MARKET_PUBLIC_URL").unwrap_or_default();
    Ok(Arc::new(App {
        store: Arc::new(store),
        clock: Arc::new(SystemClock),
        queue: Arc::new(queue),
        provider: Arc::new(SandboxProvider::new(base_url)),
        captcha: Arc::new(SandboxCaptcha),
        policy: Policy::default(),
        dev_clock: None,
    }))
}
