//! Scenes built through the use cases directly (no HTTP), for tests and benchmarks that
//! need many orders fast or a store wrapped in a test double.
use std::sync::Arc;

use chrono::Duration;

use market_adapters::captcha::SandboxCaptcha;
use market_adapters::payment::SandboxProvider;
use market_adapters::queue::DurableQueue;
use market_adapters::second_factor::Argon2Password;
use market_adapters::store::embedded::EmbeddedStore;
use market_app::accounts::{self, DomainRecord};
use market_app::listings::{self, NewListing};
use market_app::orders;
use market_app::ports::captcha::HumanCheck;
use market_app::ports::clock::DevClock;
use market_app::store::Store;
use market_app::App;
use market_core::domain_name::DomainName;
use market_core::ids::AccountId;
use market_core::model::{Account, DomainFlags};
use market_core::money::Money;
use market_core::policy::Policy;

/// An app over a given store, with the dev clock and the sandbox provider.
pub struct Scene {
    pub app: Arc<App>,
    pub clock: Arc<DevClock>,
    pub sandbox: Arc<SandboxProvider>,
    /// What the table's stream would carry to the notify function.
    pub feed: Arc<StreamStandIn>,
    /// The app's queue (its own in-memory store): what was sent, to receive in a test.
    pub queue: Arc<DurableQueue>,
}

/// One order of a scene, paid (a payment attempt opened).
#[derive(Debug, Clone)]
pub struct PaidOrder {
    pub order_id: String,
    pub out_trade_no: String,
    pub amount: Money,
    pub seller: String,
    pub buyer: String,
}

/// A verified trader with Alipay bound, written through `app` (a scene's, or a runner's).
pub async fn trader(app: &App, who: &str) {
    let account = Account {
        id: id(who),
        real_name_verified: true,
        real_name: None,
        payout_account: Some(format!("{who}@example.com")),
        email: None,
        enterprise: false,
        credit_control: false,
        locale: Default::default(),
    };
    accounts::upsert_account(app, account)
        .await
        .expect("account");
}

fn id(text: &str) -> AccountId {
    AccountId::parse(text).expect("scene ids are valid")
}

impl Scene {
    /// A scene over `store`, with no order rate limit to reach.
    pub fn over(store: Arc<dyn Store>) -> Scene {
        Scene::with_policy(
            store,
            Policy {
                order_rate_per_minute: u32::MAX,
                ..Policy::default()
            },
        )
    }

    /// A scene over `store` under `policy` (e.g. a rate limit to reach).
    pub fn with_policy(store: Arc<dyn Store>, policy: Policy) -> Scene {
        let clock = Arc::new(DevClock::default());
        let sandbox = Arc::new(SandboxProvider::new("http://sandbox"));
        let second_factor = Arc::new(Argon2Password::new(store.clone()));
        let registrar = Arc::new(market_adapters::registrar::StoreRegistrar::new(
            store.clone(),
        ));
        let store_for_mail = store.clone();
        let partner_store = store.clone();
        let feed = Arc::new(StreamStandIn::default());
        // A queue of its own (in memory): what the scene's store counts is the app's work.
        let queue = Arc::new(DurableQueue::new(
            Arc::new(EmbeddedStore::in_memory().expect("an in-memory store")),
            clock.clone(),
        ));
        let app = Arc::new(App {
            store,
            clock: clock.clone(),
            timer: Arc::new(market_adapters::timer::TokioTimer),
            queue: queue.clone(),
            provider: sandbox.clone(),
            captcha: Arc::new(SandboxCaptcha),
            second_factor,
            registrar,
            mailer: Arc::new(market_adapters::mail::StoreMailer::new(
                store_for_mail,
                clock.clone(),
                None,
            )),
            cards: Arc::new(market_adapters::instruments::SandboxCards::new()),
            paypal: Arc::new(market_adapters::instruments::SandboxPayPal),
            // As the cloud's stream would: kept for `Scene::stream` to deliver.
            outbox_feed: feed.clone(),
            search: Arc::new(
                market_adapters::search::embedded::EmbeddedSearch::in_memory()
                    .expect("an in-memory search index"),
            ),
            search_feed: market_app::search::feed::SearchFeed::Inline(Default::default()),
            partner: Arc::new(market_adapters::partner::StorePartner::new(
                market_adapters::partner::PartnerKeys::from_json(infra::TEST_PARTNER_KEYS)
                    .expect("test keys"),
                partner_store,
                clock.clone(),
            )),
            policy,
            caches: Default::default(),
        });
        Scene {
            app,
            clock,
            sandbox,
            feed,
            queue,
        }
    }

    /// Verified traders with Alipay bound.
    pub async fn traders(&self, ids: &[String]) {
        for who in ids {
            trader(&self.app, who).await;
        }
    }

    /// `n` domains `d{i}.com` of `sellers` sellers (`seller{i % sellers}`), each listed at
    /// a price that varies with `i`, and the cool-down passed. Returns (domain, seller).
    pub async fn listed(&self, n: usize, sellers: usize) -> Vec<(String, String)> {
        self.listed_from(n, sellers, 0).await
    }

    /// [`Scene::listed`] of the domains `d{first}.com` onwards (beside those listed before).
    pub async fn listed_from(
        &self,
        n: usize,
        sellers: usize,
        first: usize,
    ) -> Vec<(String, String)> {
        let seller_ids: Vec<String> = (0..sellers).map(|i| format!("seller{i}")).collect();
        self.traders(&seller_ids).await;
        let now = self.app.now();
        let mut listed = Vec::with_capacity(n);
        for i in first..first + n {
            let seller = &seller_ids[i % sellers];
            let name = DomainName::parse(&format!("d{i}.com")).expect("valid");
            let record = DomainRecord {
                name: name.clone(),
                owner: id(seller),
                registered_at: now - Duration::days(365),
                expires_at: now + Duration::days(365),
                flags: DomainFlags::default(),
            };
            accounts::upsert_domain(&self.app, record)
                .await
                .expect("domain");
            let price = Money::parse(&format!("{}.{:02}", 1 + i % 997, i % 100)).expect("price");
            let new = NewListing {
                domain: name.clone(),
                price,
                ends_at: None,
                description: String::new(),
            };
            listings::publish(&self.app, &id(seller), new)
                .await
                .expect("listing");
            listed.push((name.to_string(), seller.clone()));
        }
        self.clock.advance(self.app.policy.listing_cooldown);
        listed
    }

    /// `n` orders of one domain each: domains of `sellers` sellers listed, bought by `buyers`
    /// buyers in turn, each with a payment attempt open.
    pub async fn paid_orders(&self, n: usize, sellers: usize, buyers: usize) -> Vec<PaidOrder> {
        let buyer_ids: Vec<String> = (0..buyers).map(|i| format!("buyer{i}")).collect();
        self.traders(&buyer_ids).await;
        let listed = self.listed(n, sellers).await;
        let mut paid = Vec::with_capacity(n);
        for (i, (domain, seller)) in listed.into_iter().enumerate() {
            let buyer = &buyer_ids[i % buyers];
            let placed = orders::place(&self.app, &id(buyer), &[domain], &HumanCheck::new("pass"))
                .await
                .expect("order");
            let order = &placed.orders[0];
            let order_id = market_core::ids::OrderId::parse(&order.id).expect("id");
            let payment = orders::pay(
                &self.app,
                &id(buyer),
                &order_id,
                market_core::order::PaymentMethod::Alipay,
            )
            .await
            .expect("pay");
            paid.push(PaidOrder {
                order_id: order.id.clone(),
                out_trade_no: payment.out_trade_no,
                amount: payment.amount,
                seller,
                buyer: buyer.clone(),
            });
        }
        paid
    }
}

/// The table's stream, as a scene has it: the outbox messages committed, kept until
/// [`Scene::stream`] hands them to the deliverer as the notify function would.
#[derive(Default)]
pub struct StreamStandIn {
    committed: std::sync::Mutex<Vec<String>>,
}

impl market_app::ports::outbox_feed::OutboxFeed for StreamStandIn {
    fn committed(&self, ids: &[String]) {
        self.committed.lock().expect("feed").extend_from_slice(ids);
    }
}

impl Scene {
    /// Delivers every outbox message committed so far, as the notify function does with
    /// the stream's records (the sweep only retries what that left).
    pub async fn stream(&self) {
        let ids = std::mem::take(&mut *self.feed.committed.lock().expect("feed"));
        for id in ids {
            market_app::outbox::deliver(&self.app, &id)
                .await
                .expect("delivered");
        }
    }
}
