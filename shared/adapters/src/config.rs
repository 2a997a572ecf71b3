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

/// Which human check a deployment runs (O7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptchaMode {
    /// Every token fails: the cloud's default until the slider service's verifier is built.
    Closed,
    /// `pass` passes (test stacks, by name only).
    Sandbox,
}

/// Which payment provider a function gets.
pub enum ProviderChoice {
    /// Alipay, with these settings (functions that take or return money).
    Alipay(Box<AlipayConfig>),
    /// The sandbox, paying at this public URL (test stacks, by name only).
    Sandbox { public_url: String },
    /// None: the function never pays (list, admin, account, …).
    None,
}

/// A Lambda function's settings, read from the environment once, at start, and typed:
/// nothing else reads the environment afterwards. Secrets are not here: the Alipay keys
/// are read from Secrets Manager on first use (`payment::keys`).
pub struct CloudSettings {
    /// `TABLE_NAME`.
    pub table: String,
    /// `PAYMENTS_QUEUE_URL`, `DEADLINES_QUEUE_URL` (a function gets the ones it sends to).
    pub queue_urls: HashMap<Topic, String>,
    /// `MARKET_CAPTCHA=sandbox`, else closed.
    pub captcha: CaptchaMode,
    /// `ALIPAY_SECRET_ARN` (or the local runner's `ALIPAY_*`), else
    /// `MARKET_PAYMENT_PROVIDER=sandbox` (+ `MARKET_PUBLIC_URL`), else none.
    pub provider: ProviderChoice,
    /// The policy with `MARKET_TRANSFER_FEES` (P8).
    pub policy: Policy,
}

impl CloudSettings {
    /// Reads and checks every setting; a missing or malformed one fails the start.
    pub fn from_env() -> anyhow::Result<CloudSettings> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let mut queue_urls = HashMap::new();
        for (topic, name) in [
            (Topic::PaymentNotifications, "PAYMENTS_QUEUE_URL"),
            (Topic::OrderDeadlines, "DEADLINES_QUEUE_URL"),
        ] {
            if let Some(url) = var(name) {
                queue_urls.insert(topic, url);
            }
        }
        // Fail closed: the sandbox verifier only when a deployment asks for it by name.
        let captcha = match var("MARKET_CAPTCHA").as_deref() {
            Some("sandbox") => CaptchaMode::Sandbox,
            _ => CaptchaMode::Closed,
        };
        let provider = match AlipayConfig::from_env()? {
            Some(config) => ProviderChoice::Alipay(Box::new(config)),
            None if var("MARKET_PAYMENT_PROVIDER").as_deref() == Some("sandbox") => {
                ProviderChoice::Sandbox {
                    public_url: var("MARKET_PUBLIC_URL").unwrap_or_default(),
                }
            }
            None => ProviderChoice::None,
        };
        Ok(CloudSettings {
            table: required("TABLE_NAME")?,
            queue_urls,
            captcha,
            provider,
            policy: policy_from_env()?,
        })
    }
}

/// The app as a Lambda function runs it: its settings from the environment (see
/// [`CloudSettings`]), DynamoDB and SQS clients built on first use, the system clock.
pub async fn cloud() -> anyhow::Result<Arc<App>> {
    cloud_with(CloudSettings::from_env()?)
}

/// The app over these settings. Makes no network call: clients are built on first use.
pub fn cloud_with(settings: CloudSettings) -> anyhow::Result<Arc<App>> {
    let store = LazyDynamo {
        table: settings.table,
        cell: OnceCell::new(),
    };
    let queue = LazySqs {
        urls: settings.queue_urls,
        cell: OnceCell::new(),
    };
    let captcha: Arc<dyn Captcha> = match settings.captcha {
        CaptchaMode::Sandbox => Arc::new(SandboxCaptcha),
        CaptchaMode::Closed => Arc::new(ClosedCaptcha),
    };
    let provider: Arc<dyn PaymentProvider> = match settings.provider {
        ProviderChoice::Alipay(config) => Arc::new(AlipayProvider::new(*config)?),
        ProviderChoice::Sandbox { public_url } => Arc::new(SandboxProvider::new(public_url)),
        ProviderChoice::None => Arc::new(NoProvider),
    };
    Ok(Arc::new(App {
        store: Arc::new(store),
        clock: Arc::new(SystemClock),
        queue: Arc::new(queue),
        provider,
        captcha,
        policy: settings.policy,
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
