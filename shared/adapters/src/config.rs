//! Building the ports from the environment: once per process, outside any handler.
use std::collections::HashMap;
use std::sync::Arc;

use crate::captcha::{Captcha, ClosedCaptcha, SandboxCaptcha, SiteverifyCaptcha, SiteverifyConfig};
use crate::payment::alipay::{AlipayConfig, AlipayProvider};
use crate::payment::{NoProvider, PaymentProvider, SandboxProvider};
use crate::queue::{Queue, SqsQueue, Topic};
use crate::sdk_http::SdkHttpClient;
use crate::second_factor::Argon2Password;
use crate::store::dynamo::DynamoStore;
use async_trait::async_trait;
use market_app::ports::clock::{Clock, SystemClock};
use market_app::ports::instruments::{CardProcessor, PayPal};
use market_app::store::{Item, Page, Query, Store, StoreError, Write};
use market_app::App;
use market_core::policy::Policy;
use tokio::sync::OnceCell;

fn required(name: &str) -> anyhow::Result<String> {
    std::env::var(name).map_err(|_| anyhow::anyhow!("{name} is not set"))
}

/// The AWS SDK configuration from the standard environment (`AWS_ENDPOINT_URL`, region,
/// credentials), over [`SdkHttpClient`]. Loading it makes no network call.
pub async fn aws() -> aws_config::SdkConfig {
    environment_loader()
        .http_client(SdkHttpClient::new().shared())
        .load()
        .await
}

/// The loader of the SDK configuration from the standard environment.
///
/// Credentials in the environment (as Lambda always sets them) are read from there alone:
/// the default chain would also build an STS client for its web-identity provider, whose
/// endpoint tables cost ~0.6 ms of a cold start (issue 15). Without them, the default chain.
fn environment_loader() -> aws_config::ConfigLoader {
    let loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    let in_environment = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
        .iter()
        .all(|name| std::env::var(name).is_ok_and(|v| !v.is_empty()));
    match in_environment {
        true => loader.credentials_provider(
            aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
        ),
        false => loader,
    }
}

/// The policy with what the environment overrides: `MARKET_TRANSFER_FEES` (P8) and
/// `MARKET_PUSH_SECURITY` (P12).
pub fn policy_from_env() -> anyhow::Result<Policy> {
    policy_from_lookup(&|name| std::env::var(name).ok())
}

/// The policy with what `var` overrides (see [`policy_from_env`]); a malformed value fails
/// the start.
pub fn policy_from_lookup(var: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Policy> {
    let mut policy = Policy::default();
    if let Some(table) = var("MARKET_TRANSFER_FEES") {
        policy.transfer_fees = market_core::policy::parse_transfer_fees(&table)
            .map_err(|e| anyhow::anyhow!("MARKET_TRANSFER_FEES: {e}"))?;
    }
    // P12: `if_set` (default) or `required`; unset or empty, the default.
    if let Some(mode) = var("MARKET_PUSH_SECURITY").filter(|m| !m.trim().is_empty()) {
        policy.push_security = market_core::security::PushSecurity::parse(&mode)
            .map_err(|e| anyhow::anyhow!("MARKET_PUSH_SECURITY {e}"))?;
    }
    Ok(policy)
}

/// The mode of a Lambda function given no `MARKET_CAPTCHA` (O7: fail closed).
pub const CLOUD_CAPTCHA_UNSET: &str = "closed";

/// Which human check a deployment runs (O7): `MARKET_CAPTCHA`.
#[derive(Debug, Clone)]
pub enum CaptchaMode {
    /// `siteverify` (the cloud's: the template's default): the token is verified with the
    /// captcha service (Cloudflare Turnstile, hCaptcha or reCAPTCHA), once.
    Siteverify(SiteverifyConfig),
    /// `sandbox`: `pass` passes (the local runner's default; test stacks, by name only).
    Sandbox,
    /// `closed`: every token fails (a stack that must take no trades; a function given no
    /// mode).
    Closed,
}

impl CaptchaMode {
    /// Reads `MARKET_CAPTCHA` (and the siteverify settings) through `var`; unset, the mode is
    /// `default`. An unknown mode, or siteverify without its settings, fails the start.
    pub fn from_lookup(
        var: &dyn Fn(&str) -> Option<String>,
        default: &str,
    ) -> anyhow::Result<CaptchaMode> {
        let mode = var("MARKET_CAPTCHA")
            .map(|m| m.trim().to_owned())
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| default.to_owned());
        Ok(match mode.as_str() {
            "siteverify" => CaptchaMode::Siteverify(SiteverifyConfig::from_lookup(var)?),
            "sandbox" => CaptchaMode::Sandbox,
            "closed" => CaptchaMode::Closed,
            other => anyhow::bail!("MARKET_CAPTCHA is siteverify, sandbox or closed, not {other}"),
        })
    }

    /// The verifier of this mode; siteverify claims tokens in `store` at `clock`'s time.
    /// Makes no network call.
    pub fn verifier(
        self,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Arc<dyn Captcha>> {
        Ok(match self {
            CaptchaMode::Siteverify(config) => {
                Arc::new(SiteverifyCaptcha::new(config, store, clock)?)
            }
            CaptchaMode::Sandbox => Arc::new(SandboxCaptcha),
            CaptchaMode::Closed => Arc::new(ClosedCaptcha),
        })
    }
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

/// Which card processor and PayPal vault a function gets (S3).
#[derive(Debug)]
pub enum InstrumentsChoice {
    /// Stripe (`STRIPE_SECRET_ARN`), no PayPal vault adapter yet.
    Stripe(crate::instruments::StripeConfig),
    /// The sandboxes (test stacks: `MARKET_PAYMENT_PROVIDER=sandbox`).
    Sandbox,
    /// None: binding a card or PayPal account is answered "try again later".
    None,
}

/// A Lambda function's settings, read from the environment once, at start, and typed:
/// nothing else reads the environment afterwards. Secrets are not here: the Alipay keys
/// and the captcha service's secret key are read from Secrets Manager on first use
/// (`payment::keys`, `captcha::secret`); only their ARNs are settings.
pub struct CloudSettings {
    /// `TABLE_NAME`.
    pub table: String,
    /// `PAYMENTS_QUEUE_URL`, `DEADLINES_QUEUE_URL`, `SWEEP_WORK_QUEUE_URL` (a function gets
    /// the ones it sends to).
    pub queue_urls: HashMap<Topic, String>,
    /// `MARKET_CAPTCHA`: `siteverify` (with `CAPTCHA_*`), `sandbox`, or `closed` (also
    /// when unset).
    pub captcha: CaptchaMode,
    /// `ALIPAY_SECRET_ARN` (or the local runner's `ALIPAY_*`), else
    /// `MARKET_PAYMENT_PROVIDER=sandbox` (+ `MARKET_PUBLIC_URL`), else none.
    pub provider: ProviderChoice,
    /// The policy with `MARKET_TRANSFER_FEES` (P8) and `MARKET_PUSH_SECURITY` (P12: the
    /// template's `PushSecurity`, given to the push and account functions).
    pub policy: Policy,
    /// `REGISTRAR_BUS_NAME`: the EventBridge bus the registrar core reads (P9, P11).
    pub registrar_bus: Option<String>,
    /// `MAIL_FROM`: the verified SES identity the `notify` function sends email as (N1);
    /// a function without it sends none (its notices wait in the outbox for `notify`).
    pub mail_from: Option<String>,
    /// `PARTNER_KEYS_SECRET_ARN`: the Secrets Manager secret of the partners' HMAC keys (a
    /// JSON object of partner id → key, L10), read on first use; absent: no partner is
    /// served (every partner request is refused as unsigned).
    pub partner_keys_secret: Option<String>,
    /// S3: `STRIPE_SECRET_ARN` (+ `STRIPE_API_BASE`), else the sandboxes on a sandbox
    /// stack, else none.
    pub instruments: InstrumentsChoice,
    /// Q1: `SEARCH_URL` (the OpenSearch domain) of the functions that search or index.
    pub search: Option<crate::search::opensearch::OpenSearchConfig>,
}

impl CloudSettings {
    /// Reads and checks every setting; a missing or malformed one fails the start.
    pub fn from_env() -> anyhow::Result<CloudSettings> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let mut queue_urls = HashMap::new();
        for (topic, name) in [
            (Topic::PaymentNotifications, "PAYMENTS_QUEUE_URL"),
            (Topic::OrderDeadlines, "DEADLINES_QUEUE_URL"),
            (Topic::SweepWork, "SWEEP_WORK_QUEUE_URL"),
        ] {
            if let Some(url) = var(name) {
                queue_urls.insert(topic, url);
            }
        }
        // The template gives `siteverify` (its default) to the functions that check captchas
        // (order, push). A function given no mode checks none, and would refuse every token:
        // closed, so that list or admin never need the captcha settings to start.
        let captcha = CaptchaMode::from_lookup(&var, CLOUD_CAPTCHA_UNSET)?;
        let provider = match AlipayConfig::from_env()? {
            Some(config) => ProviderChoice::Alipay(Box::new(config)),
            None if var("MARKET_PAYMENT_PROVIDER").as_deref() == Some("sandbox") => {
                ProviderChoice::Sandbox {
                    public_url: var("MARKET_PUBLIC_URL").unwrap_or_default(),
                }
            }
            None => ProviderChoice::None,
        };
        let instruments = match crate::instruments::StripeConfig::from_lookup(&var)? {
            Some(config) => InstrumentsChoice::Stripe(config),
            None if matches!(provider, ProviderChoice::Sandbox { .. }) => {
                InstrumentsChoice::Sandbox
            }
            None => InstrumentsChoice::None,
        };
        Ok(CloudSettings {
            table: required("TABLE_NAME")?,
            queue_urls,
            captcha,
            provider,
            policy: policy_from_lookup(&var)?,
            registrar_bus: var("REGISTRAR_BUS_NAME"),
            mail_from: var("MAIL_FROM"),
            partner_keys_secret: var("PARTNER_KEYS_SECRET_ARN"),
            instruments,
            search: crate::search::opensearch::OpenSearchConfig::from_lookup(&var),
        })
    }
}

/// The app as a Lambda function runs it: its settings from the environment (see
/// [`CloudSettings`]), the DynamoDB client built ahead on another task (see
/// [`prepare_dynamodb_in_background`]), SQS clients built on first use, the system clock.
pub async fn cloud() -> anyhow::Result<Arc<App>> {
    let app = cloud_with(CloudSettings::from_env()?)?;
    prepare_dynamodb_in_background();
    Ok(app)
}

/// The app over these settings. Makes no network call: clients are built on first use.
pub fn cloud_with(settings: CloudSettings) -> anyhow::Result<Arc<App>> {
    let store: Arc<dyn Store> = Arc::new(LazyDynamo {
        table: settings.table,
        cell: OnceCell::new(),
    });
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let queue = LazySqs {
        urls: settings.queue_urls,
        cell: OnceCell::new(),
    };
    let captcha = settings.captcha.verifier(store.clone(), clock.clone())?;
    // P12: the security password's hash is in the table.
    let second_factor = Arc::new(Argon2Password::new(store.clone()));
    let provider: Arc<dyn PaymentProvider> = match settings.provider {
        ProviderChoice::Alipay(config) => Arc::new(AlipayProvider::new(*config)?),
        ProviderChoice::Sandbox { public_url } => Arc::new(SandboxProvider::new(public_url)),
        ProviderChoice::None => Arc::new(NoProvider),
    };
    // P9, P11: lock changes go to the registrar core over EventBridge; a function given no
    // bus leaves them in the outbox (retried by the sweep, never lost).
    let registrar: Arc<dyn crate::registrar::Registrar> = match settings.registrar_bus {
        Some(bus) => Arc::new(crate::registrar::EventBridgeRegistrar::new(bus)),
        None => Arc::new(crate::registrar::UnwiredRegistrar),
    };
    // N1: email through SES, from the notify function only.
    let mailer: Arc<dyn market_app::ports::mailer::Mailer> = match settings.mail_from {
        Some(from) => Arc::new(crate::mail::SesMailer::new(from)),
        None => Arc::new(crate::mail::NoMailer),
    };
    // L10: partners' keys from Secrets Manager on first use; webhooks over HTTPS.
    let partner_keys = match settings.partner_keys_secret {
        Some(arn) => crate::partner::PartnerKeys::managed(arn),
        None => crate::partner::PartnerKeys::none(),
    };
    let partner = Arc::new(crate::partner::HttpPartner::new(partner_keys)?);
    let (cards, paypal) = instruments(settings.instruments)?;
    Ok(Arc::new(App {
        store,
        clock,
        timer: Arc::new(crate::timer::TokioTimer),
        queue: Arc::new(queue),
        provider,
        captcha,
        second_factor,
        registrar,
        mailer,
        // The table's DynamoDB Stream hands new outbox items to the notify function.
        outbox_feed: Arc::new(market_app::ports::outbox_feed::StreamFeed),
        // Q1: the table's stream feeds the indexer function.
        search: match settings.search {
            Some(config) => Arc::new(crate::search::opensearch::CloudSearch::new(config)),
            None => Arc::new(crate::search::opensearch::NoSearch),
        },
        search_feed: market_app::search::feed::SearchFeed::Stream,
        partner,
        cards,
        paypal,
        policy: settings.policy,
        caches: Default::default(),
    }))
}

/// The card processor and PayPal vault of a choice (S3). Makes no network call.
pub fn instruments(
    choice: InstrumentsChoice,
) -> anyhow::Result<(Arc<dyn CardProcessor>, Arc<dyn PayPal>)> {
    use crate::instruments::{NoCards, NoPayPal, SandboxCards, SandboxPayPal, StripeCards};
    Ok(match choice {
        InstrumentsChoice::Stripe(config) => {
            (Arc::new(StripeCards::new(config)?), Arc::new(NoPayPal))
        }
        InstrumentsChoice::Sandbox => (Arc::new(SandboxCards::new()), Arc::new(SandboxPayPal)),
        InstrumentsChoice::None => (Arc::new(NoCards), Arc::new(NoPayPal)),
    })
}

/// The SDK configuration of a Lambda, its HTTPS connector built with it (every SDK client
/// made from it shares that connector). Loaded once, by the first of the background
/// preparation ([`prepare_dynamodb_in_background`]) and the first request that needs it.
pub(crate) async fn lambda_sdk() -> &'static aws_config::SdkConfig {
    static SDK: OnceCell<aws_config::SdkConfig> = OnceCell::const_new();
    SDK.get_or_init(|| SdkHttpClient::new().load_prepared(environment_loader()))
        .await
}

/// The DynamoDB client of a Lambda, built once (see [`prepare_dynamodb_in_background`]).
async fn lambda_dynamodb() -> &'static aws_sdk_dynamodb::Client {
    static CLIENT: OnceCell<aws_sdk_dynamodb::Client> = OnceCell::const_new();
    CLIENT
        .get_or_init(|| async {
            let sdk = lambda_sdk().await;
            let client = aws_sdk_dynamodb::Client::new(sdk);
            load_endpoint_rules(sdk).await;
            client
        })
        .await
}

/// Resolves DynamoDB's endpoint once, as a request would: the first resolution loads the
/// SDK's partition tables (~0.6 ms, once per process). A failure here costs only the head
/// start: the request resolves its own endpoint and reports its own error.
async fn load_endpoint_rules(sdk: &aws_config::SdkConfig) {
    use aws_sdk_dynamodb::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};
    let resolved = match Params::builder()
        .set_region(sdk.region().map(|r| r.to_string()))
        .set_endpoint(sdk.endpoint_url().map(str::to_owned))
        .build()
    {
        Ok(params) => DefaultResolver::new()
            .resolve_endpoint(&params)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    if let Err(error) = resolved {
        tracing::warn!(
            error,
            "DynamoDB's endpoint did not resolve ahead of a request"
        );
    }
}

/// Starts building a Lambda's DynamoDB client (the SDK configuration, the HTTPS connector
/// and its trust store, the endpoint rules) on another task, while the Lambda runtime asks
/// for the first event: the first request that reads the table finds it built, or waits for
/// it, instead of building it (issue 15). Every function reads the table; nothing here calls
/// the network.
fn prepare_dynamodb_in_background() {
    tokio::spawn(async {
        let started = std::time::Instant::now();
        lambda_dynamodb().await;
        tracing::debug!(
            elapsed_us = started.elapsed().as_micros() as u64,
            "DynamoDB client built ahead of the first request"
        );
    });
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
                DynamoStore::new(lambda_dynamodb().await.clone(), self.table.clone())
            })
            .await
    }
}

#[async_trait]
impl Store for LazyDynamo {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        self.store().await.get(pk, sk).await
    }

    async fn get_eventually(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        self.store().await.get_eventually(pk, sk).await
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

    async fn scan(
        &self,
        prefix: &str,
        limit: usize,
        cursor: Option<String>,
    ) -> Result<Page, StoreError> {
        self.store().await.scan(prefix, limit, cursor).await
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
        self.queue().await.send(topic, body, delay).await
    }

    async fn send_all(&self, topic: Topic, bodies: Vec<String>) -> anyhow::Result<()> {
        self.queue().await.send_all(topic, bodies).await
    }
}

impl LazySqs {
    async fn queue(&self) -> &SqsQueue {
        self.cell
            .get_or_init(|| async {
                SqsQueue::new(
                    aws_sdk_sqs::Client::new(lambda_sdk().await),
                    self.urls.clone(),
                )
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::captcha::secret::SecretSetting;
    use crate::captcha::settings::TURNSTILE_VERIFY_URL;

    fn mode(vars: &[(&str, &str)], default: &str) -> anyhow::Result<CaptchaMode> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        CaptchaMode::from_lookup(&|name| vars.get(name).cloned(), default)
    }

    #[test]
    fn o7_the_mode_is_one_of_three_and_an_unknown_one_fails_the_start() {
        assert!(matches!(
            mode(&[("MARKET_CAPTCHA", "sandbox")], "siteverify"),
            Ok(CaptchaMode::Sandbox)
        ));
        assert!(matches!(
            mode(&[("MARKET_CAPTCHA", "closed")], "siteverify"),
            Ok(CaptchaMode::Closed)
        ));
        assert!(matches!(mode(&[], "sandbox"), Ok(CaptchaMode::Sandbox)));
        for unknown in ["open", "Sandbox", "turnstile", "pass"] {
            let err = mode(&[("MARKET_CAPTCHA", unknown)], "siteverify").unwrap_err();
            assert!(
                err.to_string().contains("MARKET_CAPTCHA"),
                "{unknown}: {err}"
            );
        }
    }

    #[test]
    fn p12_push_security_is_if_set_unless_the_environment_says_required() {
        use market_core::security::PushSecurity;
        let policy = |vars: &[(&str, &str)]| {
            let vars: HashMap<String, String> = vars
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            policy_from_lookup(&|name| vars.get(name).cloned())
        };
        assert_eq!(policy(&[]).unwrap().push_security, PushSecurity::IfSet);
        assert_eq!(
            policy(&[("MARKET_PUSH_SECURITY", "")])
                .unwrap()
                .push_security,
            PushSecurity::IfSet
        );
        assert_eq!(
            policy(&[("MARKET_PUSH_SECURITY", "required")])
                .unwrap()
                .push_security,
            PushSecurity::Required
        );
        let err = policy(&[("MARKET_PUSH_SECURITY", "always")]).unwrap_err();
        assert!(err.to_string().contains("MARKET_PUSH_SECURITY"), "{err}");
    }

    #[test]
    fn o7_a_function_given_no_mode_fails_closed() {
        assert!(matches!(
            mode(&[], CLOUD_CAPTCHA_UNSET),
            Ok(CaptchaMode::Closed)
        ));
    }

    #[test]
    fn o7_siteverify_reads_its_settings() {
        let CaptchaMode::Siteverify(config) = mode(
            &[
                ("MARKET_CAPTCHA", "siteverify"),
                ("CAPTCHA_HOSTNAMES", " Market.example , www.market.example,"),
                (
                    "CAPTCHA_SECRET_ARN",
                    "arn:aws:secretsmanager:us-east-1:123456789012:secret:captcha",
                ),
            ],
            CLOUD_CAPTCHA_UNSET,
        )
        .unwrap() else {
            panic!("siteverify by name");
        };
        assert_eq!(config.verify_url, TURNSTILE_VERIFY_URL);
        assert_eq!(config.hostnames, ["market.example", "www.market.example"]);
        assert!(matches!(config.secret, SecretSetting::Arn(a) if a.ends_with(":secret:captcha")));
    }

    #[test]
    fn o7_siteverify_without_hostnames_fails_the_start() {
        for hostnames in [None, Some(""), Some(" , ")] {
            let mut vars = vec![
                ("MARKET_CAPTCHA", "siteverify"),
                ("CAPTCHA_SECRET", "s3cr3t"),
            ];
            if let Some(h) = hostnames {
                vars.push(("CAPTCHA_HOSTNAMES", h));
            }
            let err = mode(&vars, "sandbox").unwrap_err().to_string();
            assert!(err.contains("CAPTCHA_HOSTNAMES"), "{err}");
            assert!(!err.contains("s3cr3t"), "{err}");
        }
    }

    #[test]
    fn o7_siteverify_needs_exactly_one_secret_and_a_safe_url() {
        let base = [
            ("MARKET_CAPTCHA", "siteverify"),
            ("CAPTCHA_HOSTNAMES", "market.example"),
        ];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut vars = base.to_vec();
            vars.extend_from_slice(extra);
            mode(&vars, "sandbox")
        };
        assert!(with(&[])
            .unwrap_err()
            .to_string()
            .contains("CAPTCHA_SECRET_ARN"));
        assert!(with(&[("CAPTCHA_SECRET", "a"), ("CAPTCHA_SECRET_ARN", "arn:x")]).is_err());
        let secret = ("CAPTCHA_SECRET", "a");
        for bad in [
            "http://challenges.example/siteverify",
            "not a url",
            "ftp://127.0.0.1/",
        ] {
            let err = with(&[secret, ("CAPTCHA_VERIFY_URL", bad)]).unwrap_err();
            assert!(
                err.to_string().contains("CAPTCHA_VERIFY_URL"),
                "{bad}: {err}"
            );
        }
        for good in [
            "https://api.hcaptcha.com/siteverify",
            "http://127.0.0.1:4567/siteverify",
            "http://[::1]:4567/siteverify",
            "http://localhost:4567/siteverify",
        ] {
            let Ok(CaptchaMode::Siteverify(config)) = with(&[secret, ("CAPTCHA_VERIFY_URL", good)])
            else {
                panic!("{good} is accepted");
            };
            assert_eq!(config.verify_url, good);
        }
    }

    #[test]
    fn o7_the_settings_never_print_the_secret() {
        let printed = format!(
            "{:?}",
            mode(
                &[
                    ("MARKET_CAPTCHA", "siteverify"),
                    ("CAPTCHA_HOSTNAMES", "market.example"),
                    ("CAPTCHA_SECRET", "0x4AAA-very-secret"),
                ],
                "sandbox"
            )
            .unwrap()
        );
        assert!(!printed.contains("very-secret"), "{printed}");
    }
}
