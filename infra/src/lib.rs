//! The local runner: every function's routes in one HTTP server, the embedded store (or
//! DynamoDB's API), the in-process queue and timers, the sandbox payment provider and the
//! dev routes. `cargo run` at the repo root starts it; the tests start it in-process.
use secrecy::{ExposeSecret, SecretString};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;

use market_adapters::config::CaptchaMode;
use market_adapters::instruments::{
    CardProcessor, SandboxCards, SandboxPayPal, StripeCards, StripeConfig,
};
use market_adapters::mail::{SmtpMailer, StoreMailer};
use market_adapters::payment::alipay::{AlipayConfig, AlipayProvider};
use market_adapters::payment::{PaymentProvider, SandboxProvider};
use market_adapters::queue::DurableQueue;
use market_adapters::registrar::StoreRegistrar;
use market_adapters::search::embedded::EmbeddedSearch;
use market_adapters::second_factor::Argon2Password;
use market_adapters::store::dynamo::DynamoStore;
use market_adapters::store::embedded::EmbeddedStore;
use market_app::ports::clock::DevClock;
use market_app::store::Store;
use market_app::App;
use market_core::policy::Policy;
use market_web::auth::{self, AuthMode};

pub mod console;
pub mod dev;
pub mod dev_console;
pub mod notifier;
pub mod openapi;
pub mod pump;
pub mod seed;

/// The secret the local runner signs and verifies tokens with unless `MARKET_JWT_SECRET`
/// says otherwise. It is printed at start: it guards nothing but a local demo.
pub const DEV_JWT_SECRET: &str = "local-dev-secret-change-me";

/// Where the store lives.
#[derive(Debug, Clone)]
pub enum StoreChoice {
    /// A `redb` file (kept across restarts).
    Embedded(PathBuf),
    /// Nothing kept (`MARKET_DATA=:memory:`).
    Memory,
    /// DynamoDB's API at `AWS_ENDPOINT_URL`, in this table (created if missing).
    Dynamo { table: String },
    /// A store built by the caller (tests and benches: a store wrapped in a meter).
    Given(GivenStore),
}

/// A caller's store, as a [`StoreChoice`].
#[derive(Clone)]
pub struct GivenStore(pub Arc<dyn Store>);

impl std::fmt::Debug for GivenStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GivenStore")
    }
}

/// The runner's settings (API.md "Local runner").
#[derive(Debug, Clone)]
pub struct Settings {
    pub addr: SocketAddr,
    /// `MARKET_JWT_SECRET` (HS256): never printed, not even by `Debug`.
    pub jwt_secret: SecretString,
    pub store: StoreChoice,
    /// `MARKET_QUEUE=sqs`: SQS at `AWS_ENDPOINT_URL` (queues created if missing), polled
    /// by the runner; otherwise the in-process queue.
    pub sqs: bool,
    pub dev_routes: bool,
    pub seed_demo: bool,
    /// With what the environment overrides, `MARKET_PUSH_SECURITY` (P12: `if_set`, the
    /// default, or `required`) among it.
    pub policy: Policy,
    /// `MARKET_CAPTCHA`: `sandbox` (default: `pass` passes), `closed`, or `siteverify`
    /// with `CAPTCHA_SECRET`, `CAPTCHA_VERIFY_URL` and `CAPTCHA_HOSTNAMES` (a fake service,
    /// or a real one with its test keys) — O7.
    pub captcha: CaptchaMode,
    /// How often the sweep's dispatcher runs on its own (real time).
    pub sweep_every: std::time::Duration,
    /// `MARKET_SWEEP_WORKERS`: the sweep's workers on the work queue (default 4; the
    /// template's `SweepWorkers`).
    pub sweep_workers: usize,
    /// `MARKET_SMTP_URL` (`smtp://host:port`): emails are also sent there (N1); they are
    /// always kept for `GET /dev/mail`.
    pub smtp_url: Option<String>,
    /// `MARKET_MAIL_FROM`: the sender of those emails.
    pub mail_from: String,
    /// `MARKET_PARTNER_KEYS`: the partners' HMAC keys, a JSON object of partner id → key
    /// (L10; the cloud reads them from Secrets Manager). Never printed.
    pub partner_keys: SecretString,
    /// `MARKET_CONSOLE_DIR`: the built web console served at `/` (default
    /// `shared/console/dist`, what `npm run build` writes).
    pub console_dir: PathBuf,
}

/// The partner keys of the tests (and of nothing else).
pub const TEST_PARTNER_KEYS: &str = r#"{"acme":"acme-test-key","globex":"globex-test-key"}"#;

/// The sweep's workers unless `MARKET_SWEEP_WORKERS` says otherwise.
pub const DEFAULT_SWEEP_WORKERS: usize = 4;

/// The sender of the local runner's emails unless `MARKET_MAIL_FROM` says otherwise.
pub const DEFAULT_MAIL_FROM: &str = "market@localhost";

impl Settings {
    /// Reads `MARKET_*` from the environment, with working defaults.
    pub fn from_env() -> anyhow::Result<Settings> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let addr = var("MARKET_ADDR").unwrap_or_else(|| "127.0.0.1:3000".into());
        let store = match var("MARKET_STORE").as_deref() {
            None | Some("embedded") => match var("MARKET_DATA").as_deref() {
                Some(":memory:") => StoreChoice::Memory,
                Some(path) => StoreChoice::Embedded(path.into()),
                None => StoreChoice::Embedded(default_data_path()),
            },
            Some("dynamodb") => StoreChoice::Dynamo {
                table: var("MARKET_TABLE").unwrap_or_else(|| "market".into()),
            },
            Some(other) => anyhow::bail!("MARKET_STORE is embedded or dynamodb, not {other}"),
        };
        let sqs = match var("MARKET_QUEUE").as_deref() {
            None | Some("inprocess") => false,
            Some("sqs") => true,
            Some(other) => anyhow::bail!("MARKET_QUEUE is inprocess or sqs, not {other}"),
        };
        let captcha = CaptchaMode::from_lookup(&var, "sandbox")?;
        let mut policy = market_adapters::config::policy_from_env()?;
        if let Some(rate) = var("MARKET_ORDER_RATE") {
            policy.order_rate_per_minute = rate
                .parse()
                .context("MARKET_ORDER_RATE must be a whole number")?;
        }
        if let Some(rate) = var("MARKET_PUSH_RATE") {
            policy.push_rate_per_minute = rate
                .parse()
                .context("MARKET_PUSH_RATE must be a whole number")?;
        }
        if let Some(rate) = var("MARKET_REFRESH_RATE") {
            policy.refresh_rate_per_minute = rate
                .parse()
                .context("MARKET_REFRESH_RATE must be a whole number")?;
        }
        Ok(Settings {
            addr: addr
                .parse()
                .with_context(|| format!("MARKET_ADDR={addr} is not host:port"))?,
            jwt_secret: var("MARKET_JWT_SECRET")
                .unwrap_or_else(|| DEV_JWT_SECRET.into())
                .into(),
            store,
            sqs,
            dev_routes: var("MARKET_DEV_ROUTES").is_none_or(|v| v != "0"),
            seed_demo: var("MARKET_SEED").is_none_or(|v| v != "0"),
            policy,
            captcha,
            sweep_every: std::time::Duration::from_secs(60),
            sweep_workers: match var("MARKET_SWEEP_WORKERS") {
                None => DEFAULT_SWEEP_WORKERS,
                Some(n) => n
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=256).contains(n))
                    .context("MARKET_SWEEP_WORKERS must be a whole number from 1 to 256")?,
            },
            smtp_url: var("MARKET_SMTP_URL"),
            mail_from: var("MARKET_MAIL_FROM").unwrap_or_else(|| DEFAULT_MAIL_FROM.into()),
            partner_keys: var("MARKET_PARTNER_KEYS")
                .unwrap_or_else(|| "{}".into())
                .into(),
            console_dir: var("MARKET_CONSOLE_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(console::default_dir),
        })
    }

    /// Settings for tests: in memory, any free port, no demo data.
    pub fn for_tests() -> Settings {
        Settings {
            addr: "127.0.0.1:0".parse().expect("valid"),
            jwt_secret: "test-secret".to_owned().into(),
            store: StoreChoice::Memory,
            sqs: false,
            dev_routes: true,
            seed_demo: false,
            policy: Policy::default(),
            captcha: CaptchaMode::Sandbox,
            sweep_every: std::time::Duration::from_secs(3600),
            sweep_workers: DEFAULT_SWEEP_WORKERS,
            smtp_url: None,
            mail_from: DEFAULT_MAIL_FROM.into(),
            partner_keys: TEST_PARTNER_KEYS.to_owned().into(),
            console_dir: console::default_dir(),
        }
    }
}

/// `target/market-data/market.redb` under the workspace root.
fn default_data_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
        .join("market-data")
        .join("market.redb")
}

/// Builds the chosen store.
pub async fn open_store(choice: &StoreChoice) -> anyhow::Result<Arc<dyn Store>> {
    Ok(match choice {
        StoreChoice::Embedded(path) => Arc::new(
            EmbeddedStore::open(path)
                .with_context(|| format!("opening the store at {}", path.display()))?,
        ),
        StoreChoice::Memory => Arc::new(EmbeddedStore::in_memory()?),
        StoreChoice::Given(given) => given.0.clone(),
        StoreChoice::Dynamo { table } => {
            let sdk = market_adapters::config::aws().await;
            let store = DynamoStore::new(aws_sdk_dynamodb_client(&sdk), table.clone());
            store
                .ensure_table()
                .await
                .context("creating the DynamoDB table (is AWS_ENDPOINT_URL set?)")?;
            Arc::new(store)
        }
    })
}

fn aws_sdk_dynamodb_client(sdk: &aws_config::SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(sdk)
}

/// The search engine of the chosen store, and whether it must be rebuilt from the store:
/// beside an embedded store's file (rebuilt when missing, of another layout, or not closed
/// cleanly); in memory otherwise (rebuilt at every start).
pub fn open_search(choice: &StoreChoice) -> anyhow::Result<(Arc<EmbeddedSearch>, bool)> {
    Ok(match choice {
        StoreChoice::Embedded(path) => {
            let dir = path
                .parent()
                .map(|d| d.join("search"))
                .unwrap_or_else(|| PathBuf::from("search"));
            let (search, stale) = EmbeddedSearch::open(&dir, 50_000_000)
                .with_context(|| format!("opening the search index at {}", dir.display()))?;
            (Arc::new(search), stale)
        }
        _ => (Arc::new(EmbeddedSearch::in_memory()?), true),
    })
}

/// A started marketplace.
pub struct Running {
    pub addr: SocketAddr,
    pub app: Arc<App>,
    /// The in-process queue (kept in the store), also when the app sends through SQS: the
    /// dev routes pause and resume it.
    pub queue: Arc<DurableQueue>,
    /// The sandbox provider (tests make it sign notifications of their own).
    pub sandbox: Arc<SandboxProvider>,
    /// The local registrar core (tests make it fail publishes, P9/P11).
    pub registrar: Arc<StoreRegistrar>,
    /// The local mailbox (N1; tests make it fail sends).
    pub mailer: Arc<StoreMailer>,
    /// The sandbox card processor (S3; tests read its pre-authorisations). Unused when
    /// `STRIPE_SECRET_KEY` points the runner at Stripe (or a stand-in).
    pub cards: Arc<SandboxCards>,
    /// How far the notifier is behind (benches wait for it before they count a run done).
    pub notifier: notifier::Progress,
    /// The embedded search engine (Q1), marked closed cleanly at a graceful shutdown.
    pub search: Arc<EmbeddedSearch>,
    pub settings: Settings,
    stop: tokio::sync::watch::Sender<bool>,
    server: tokio::task::JoinHandle<()>,
    timers: Vec<tokio::task::JoinHandle<()>>,
}

/// How long a graceful shutdown waits for requests and the batch in hand.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

impl Running {
    /// `http://host:port`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops serving and the timers at once (tests; nothing acknowledged is lost: the
    /// queue is in the store).
    pub fn stop(self) {
        self.server.abort();
        for t in self.timers {
            t.abort();
        }
    }

    /// Stops gracefully: no new connections, the requests in flight and the consumers'
    /// batch in hand finish, then everything stops; after `grace` what is left is cut off
    /// (a message being handled then comes back after its visibility timeout).
    pub async fn shutdown(self, grace: std::time::Duration) {
        let _ = self.stop.send(true);
        let search = self.search.clone();
        let app = self.app.clone();
        let mut tasks = self.timers;
        tasks.push(self.server);
        let aborts: Vec<_> = tasks.iter().map(|t| t.abort_handle()).collect();
        if tokio::time::timeout(grace, futures::future::join_all(tasks))
            .await
            .is_err()
        {
            tracing::warn!("shutdown took longer than {grace:?}; the rest is cut off");
            for abort in aborts {
                abort.abort();
            }
            return;
        }
        // Every write that finished was indexed (the last retries tried now): the next
        // start need not rebuild. With listings still waiting, it must.
        market_app::search::feed::retry(&app).await;
        let waiting = match &app.search_feed {
            market_app::search::feed::SearchFeed::Inline(retries) => retries.len(),
            market_app::search::feed::SearchFeed::Stream => 0,
        };
        if waiting > 0 {
            tracing::warn!(
                waiting,
                "listings still wait to be indexed; the next start rebuilds the search index"
            );
        } else if let Err(e) = search.mark_clean() {
            tracing::warn!(error = %e, "could not mark the search index clean; the next start rebuilds it");
        }
    }
}

/// Every route of every function, plus the dev routes when enabled, and the web console
/// from `console_dir` for every GET no route takes.
pub fn routes(dev: Option<dev::DevState>, console_dir: PathBuf) -> Router<market_web::AppState> {
    let dev_sign_in = dev.is_some();
    let mut router = Router::new()
        .merge(fn_list::router())
        .merge(fn_order::router())
        .merge(fn_pay_callback::router())
        .merge(fn_push::router())
        .merge(fn_admin::router())
        .merge(fn_account::router())
        .route(
            "/health",
            axum::routing::get(|| async { axum::Json(serde_json::json!({ "status": "ok" })) }),
        );
    if let Some(dev) = dev {
        router = router.merge(dev::router(dev));
    }
    console::attach(router, console_dir, dev_sign_in)
}

/// Sets every answer's `Date` header from the marketplace's clock, which `POST
/// /dev/clock/advance` moves: a client counting down to a `pay_by` or `buyable_at` reads
/// "now" from the server it asked (hyper adds a `Date` only where none is set).
async fn date_from_clock(
    axum::extract::State(app): axum::extract::State<market_web::AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let now = app.now();
    let mut response = next.run(request).await;
    let date = now.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    if let Ok(value) = axum::http::HeaderValue::from_str(&date) {
        response
            .headers_mut()
            .insert(axum::http::header::DATE, value);
    }
    response
}

/// Starts the marketplace with `settings` and returns once it takes requests.
pub async fn start(settings: Settings) -> anyhow::Result<Running> {
    let listener = tokio::net::TcpListener::bind(settings.addr)
        .await
        .with_context(|| format!("binding {}", settings.addr))?;
    let addr = listener.local_addr()?;
    let clock = Arc::new(DevClock::default());
    let store = open_store(&settings.store).await?;
    dev::restore_clock(&*store, &clock).await?;
    // Kept in the store: a message acknowledged to its sender survives a crash.
    let queue = Arc::new(DurableQueue::new(store.clone(), clock.clone()));
    // Keeps its key and trades in the store: after a restart it verifies what it signed.
    let sandbox = Arc::new(
        SandboxProvider::durable(format!("http://{addr}"), store.clone())
            .await
            .context("opening the sandbox provider")?,
    );
    // With ALIPAY_* set the runner verifies notifications exactly as the cloud does.
    let provider: Arc<dyn PaymentProvider> = match AlipayConfig::from_env()? {
        Some(config) => Arc::new(AlipayProvider::new(config)?),
        None => sandbox.clone(),
    };
    let sqs = match settings.sqs {
        true => Some(
            pump::SqsQueues::open()
                .await
                .context("creating the SQS queues (is AWS_ENDPOINT_URL set?)")?,
        ),
        false => None,
    };
    let app_queue: Arc<dyn market_adapters::queue::Queue> = match &sqs {
        Some(sqs) => sqs.adapter(),
        None => queue.clone(),
    };
    let captcha = settings
        .captcha
        .clone()
        .verifier(store.clone(), clock.clone())?;
    // P12: the security password's hash, in the same store.
    let second_factor = Arc::new(Argon2Password::new(store.clone()));
    // P9, P11: the registrar core's events, recorded in the same store.
    let registrar = Arc::new(StoreRegistrar::new(store.clone()));
    // N1: emails kept in the same store for /dev/mail, and sent over SMTP when configured.
    let smtp = match &settings.smtp_url {
        Some(url) => Some(SmtpMailer::new(url, &settings.mail_from)?),
        None => None,
    };
    let mailer = Arc::new(StoreMailer::new(store.clone(), clock.clone(), smtp));
    let (feed, committed, notified) = notifier::LocalFeed::new();
    // Q1: Tantivy beside the store's file (in memory for the other stores).
    let (search, search_stale) = open_search(&settings.store)?;
    // L10: partner keys from MARKET_PARTNER_KEYS; webhooks recorded in the same store.
    let partner_keys =
        market_adapters::partner::PartnerKeys::from_json(settings.partner_keys.expose_secret())
            .context("MARKET_PARTNER_KEYS")?;
    let partner = Arc::new(market_adapters::partner::StorePartner::new(
        partner_keys,
        store.clone(),
        clock.clone(),
    ));
    // S3: Stripe (or a stand-in) when `STRIPE_SECRET_KEY` is set, else the sandbox that
    // knows Stripe's test PaymentMethod ids; the sandbox PayPal vault.
    let sandbox_cards = Arc::new(SandboxCards::new());
    let cards: Arc<dyn CardProcessor> =
        match StripeConfig::from_lookup(&|name| std::env::var(name).ok())? {
            Some(config) => Arc::new(StripeCards::new(config)?),
            None => sandbox_cards.clone(),
        };
    let app = Arc::new(App {
        store,
        clock: clock.clone(),
        timer: Arc::new(market_adapters::timer::TokioTimer),
        queue: app_queue,
        provider,
        captcha,
        second_factor,
        registrar: registrar.clone(),
        mailer: mailer.clone(),
        outbox_feed: Arc::new(feed),
        search: search.clone(),
        search_feed: market_app::search::feed::SearchFeed::Inline(Default::default()),
        partner,
        cards,
        paypal: Arc::new(SandboxPayPal),
        policy: settings.policy.clone(),
        caches: Default::default(),
    });
    if settings.seed_demo {
        seed::seed_if_empty(&app)
            .await
            .context("seeding the demo market")?;
    }
    if search_stale {
        let started = std::time::Instant::now();
        let indexed = market_app::search::rebuild::all(&app)
            .await
            .map_err(|e| anyhow::anyhow!("rebuilding the search index: {e:?}"))?;
        tracing::info!(
            indexed,
            took_ms = started.elapsed().as_millis() as u64,
            "the search index was missing or not closed cleanly: rebuilt from the store"
        );
    }
    let dev = settings.dev_routes.then(|| dev::DevState {
        clock: clock.clone(),
        sandbox: sandbox.clone(),
        queue: queue.clone(),
        through_sqs: sqs.is_some(),
        registrar: registrar.clone(),
        mailer: mailer.clone(),
        notifier: notified.clone(),
        jwt_secret: settings.jwt_secret.clone(),
    });
    let router = routes(dev, settings.console_dir.clone())
        .with_state(app.clone())
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            date_from_clock,
        ))
        .layer(axum::middleware::from_fn(market_web::trace::request_span))
        .layer(auth::layer(AuthMode::hs256(
            settings.jwt_secret.expose_secret(),
        )));
    // The socket peer is the client's address the human check passes on (O7).
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let mut server_stop = stopping.clone();
    let server = tokio::spawn(async move {
        let stopped = async move {
            let _ = server_stop.wait_for(|stop| *stop).await;
        };
        if let Err(e) = axum::serve(listener, service)
            .with_graceful_shutdown(stopped)
            .await
        {
            tracing::error!(error = %e, "the server stopped");
        }
    });
    let mut timers = vec![
        tokio::spawn(pump::run_queue(
            app.clone(),
            queue.clone(),
            stopping.clone(),
        )),
        tokio::spawn(notifier::run_notifier(
            app.clone(),
            committed,
            notified.clone(),
            stopping.clone(),
        )),
        tokio::spawn(pump::run_search_commits(search.clone(), stopping.clone())),
        tokio::spawn(pump::run_sweeper(
            app.clone(),
            queue.clone(),
            settings.sweep_every,
            stopping.clone(),
        )),
    ];
    if let Some(sqs) = sqs {
        timers.extend(sqs.spawn_pollers(app.clone(), settings.sweep_workers, stopping.clone()));
    } else {
        timers.extend(pump::spawn_sweep_workers(
            app.clone(),
            queue.clone(),
            settings.sweep_workers,
            stopping.clone(),
        ));
    }
    Ok(Running {
        addr,
        app,
        queue,
        sandbox,
        registrar,
        mailer,
        cards: sandbox_cards,
        notifier: notified,
        search,
        settings,
        stop,
        server,
        timers,
    })
}
