//! Building the ports from the environment: once per process, outside any handler.
use std::collections::HashMap;
use std::sync::Arc;

use crate::captcha::{Captcha, ClosedCaptcha, SandboxCaptcha};
use crate::payment::alipay::{AlipayConfig, AlipayProvider};
use crate::payment::{NoProvider, PaymentProvider, SandboxProvider};
use crate::queue::{Queue, SqsQueue, Topic};
use crate::store::dynamo::DynamoStore;
use async_trait::async_trait;
use market_app::ports::clock::SystemClock;
use market_app::store::{Item, Page, Query, Store, StoreError, Write};
use market_app::App;
use market_core::policy::Policy;
use tokio::sync::OnceCell;

fn required(name: &str) -> anyhow::Result<String> {
    std::env::var(name).map_err(|_| anyhow::anyhow!("{name} is not set"))
}

/// The AWS SDK configuration from the standard environment (`AWS_ENDPOINT_URL`, region,
/// credentials). Loading it makes no network call.
pub async fn aws() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// The policy with what the environment overrides: `MARKET_TRANSFER_FEES` (P8).
pub fn policy_from_env() -> anyhow::Result<Policy> {
    let mut policy = Policy::default();
    if let Ok(table) = std::env::var("MARKET_TRANSFER_FEES") {
        policy.transfer_fees = market_core::policy::parse_transfer_fees(&table)
            .map_err(|e| anyhow::anyhow!("MARKET_TRANSFER_FEES: {e}"))?;
    }
    Ok(policy)
}

/// The app as a Lambda function runs it: DynamoDB table `TABLE_NAME`, SQS queues
/// `PAYMENTS_QUEUE_URL` and `DEADLINES_QUEUE_URL`, the system clock.
///
/// Payments go through Alipay when `ALIPAY_SECRET_ARN` (or the local runner's `ALIPAY_*`)
/// is set (see `AlipayConfig::from_env`; the secret is read on first use), the
/// sandbox only when `MARKET_PAYMENT_PROVIDER=sandbox` says so, and nowhere otherwise (the
/// functions that never pay get no keys). The captcha fails closed unless
/// `MARKET_CAPTCHA=sandbox`: the slider service's verifier is not built yet.
pub async fn cloud() -> anyhow::Result<Arc<App>> {
    let store = LazyDynamo {
        table: required("TABLE_NAME")?,
        cell: OnceCell::new(),
    };
    let mut urls = HashMap::new();
    for (topic, var) in [
        (Topic::PaymentNotifications, "PAYMENTS_QUEUE_URL"),
        (Topic::OrderDeadlines, "DEADLINES_QUEUE_URL"),
    ] {
        if let Ok(url) = std::env::var(var) {
            urls.insert(topic, url);
        }
    }
    let queue = LazySqs {
        urls,
        cell: OnceCell::new(),
    };
    // Fail closed: the sandbox verifier only when a deployment asks for it by name.
    let captcha: Arc<dyn Captcha> = match std::env::var("MARKET_CAPTCHA").as_deref() {
        Ok("sandbox") => Arc::new(SandboxCaptcha),
        _ => Arc::new(ClosedCaptcha),
    };
    // Only functions that take or return money are given Alipay's settings.
    let provider: Arc<dyn PaymentProvider> = match AlipayConfig::from_env()? {
        Some(config) => Arc::new(AlipayProvider::new(config)?),
        None if std::env::var("MARKET_PAYMENT_PROVIDER").as_deref() == Ok("sandbox") => Arc::new(
            SandboxProvider::new(std::env::var("MARKET_PUBLIC_URL").unwrap_or_default()),
        ),
        None => Arc::new(NoProvider),
    };
    Ok(Arc::new(App {
        store: Arc::new(store),
        clock: Arc::new(SystemClock),
        queue: Arc::new(queue),
        provider,
        captcha,
        policy: policy_from_env()?,
    }))
}

/// The SDK configuration of a Lambda, loaded on first use rather than at cold start: a
/// request that never reaches AWS never pays for it.
pub(crate) async fn lambda_sdk() -> &'static aws_config::SdkConfig {
    static SDK: OnceCell<aws_config::SdkConfig> = OnceCell::const_new();
    SDK.get_or_init(aws).await
}

/// The DynamoDB store, built on first use.
struct LazyDynamo {
    table: String,
    cell: OnceCell<DynamoStore>,
}

impl LazyDynamo {
    async fn store(&self) -> &DynamoStore {
        self.cell
            .get_or_init(|| async {
                DynamoStore::new(
                    aws_sdk_dynamodb::Client::new(lambda_sdk().await),
                    self.table.clone(),
                )
            })
            .await
    }
}

#[async_trait]
impl Store for LazyDynamo {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        self.store().await.get(pk, sk).await
    }

    async fn get_many(&self, keys: &[(String, String)]) -> Result<Vec<Item>, StoreError> {
        self.store().await.get_many(keys).await
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        self.store().await.transact(writes).await
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        self.store().await.query(query).await
    }

    async fn increment(
        &self,
        pk: &str,
        sk: &str,
        ceiling: u64,
        ttl: Option<i64>,
    ) -> Result<Option<u64>, StoreError> {
        self.store().await.increment(pk, sk, ceiling, ttl).await
    }

    fn cursor_after(&self, query: &Query, item: &Item) -> Result<String, StoreError> {
        crate::store::dynamo::cursor_after(query, item)
    }
}

/// The SQS queues, built on first use.
struct LazySqs {
    urls: HashMap<Topic, String>,
    cell: OnceCell<SqsQueue>,
}

#[async_trait]
impl Queue for LazySqs {
    async fn send(
        &self,
        topic: Topic,
        body: String,
        delay: chrono::Duration,
    ) -> anyhow::Result<()> {
        let queue = self
            .cell
            .get_or_init(|| async {
                SqsQueue::new(
                    aws_sdk_sqs::Client::new(lambda_sdk().await),
                    self.urls.clone(),
                )
            })
            .await;
        queue.send(topic, body, delay).await
    }
}
