//! Building the ports from the environment: once per process, outside any handler.
use std::collections::HashMap;
use std::sync::Arc;

use crate::adapters::alipay::{AlipayConfig, AlipayProvider};
use crate::adapters::captcha::SandboxCaptcha;
use crate::adapters::clock::SystemClock;
use crate::adapters::payment::{PaymentProvider, SandboxProvider};
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
/// Payments go through Alipay when `ALIPAY_*` is set (see `AlipayConfig::from_env`); the
/// sandbox only when `MARKET_PAYMENT_PROVIDER=sandbox` says so. The cloud captcha verifier
/// arrives with its issue: until then `MARKET_CAPTCHA=sandbox` must be explicit, so nothing
/// runs against a stand-in by accident.
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
    if required("MARKET_CAPTCHA")? != "sandbox" {
        anyhow::bail!(
            "only the sandbox captcha verifier exists yet: set MARKET_CAPTCHA=sandbox explicitly"
        );
    }
    let provider: Arc<dyn PaymentProvider> = match AlipayConfig::from_env()? {
        Some(config) => Arc::new(AlipayProvider::new(config)?),
        None if std::env::var("MARKET_PAYMENT_PROVIDER").as_deref() == Ok("sandbox") => Arc::new(
            SandboxProvider::new(std::env::var("MARKET_PUBLIC_URL").unwrap_or_default()),
        ),
        None => anyhow::bail!(
            "set ALIPAY_APP_ID, ALIPAY_SELLER_ID and ALIPAY_PUBLIC_KEY_PEM (or MARKET_PAYMENT_PROVIDER=sandbox)"
        ),
    };
    Ok(Arc::new(App {
        store: Arc::new(store),
        clock: Arc::new(SystemClock),
        queue: Arc::new(queue),
        provider,
        captcha: Arc::new(SandboxCaptcha),
        policy: Policy::default(),
        dev_clock: None,
    }))
}
