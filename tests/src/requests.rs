//! Store requests per operation (issue 15): each operation of the table below run once
//! through the use case its handler calls, over a store that counts what is asked of it.
//! A count is deterministic (no timing), so `cargo bench --bench requests` prints the table
//! and a test holds every row to its figure: a change that adds a round trip fails CI.
use std::sync::Arc;

use chrono::{Duration, Timelike};

use crate::faults::{CountingStore, Counts};
use crate::scene::Scene;
use market_app::accounts::{self, DomainRecord};
use market_app::listings::{self, NewListing};
use market_app::orders;
use market_app::ports::captcha::HumanCheck;
use market_app::store::Store;
use market_core::domain_name::DomainName;
use market_core::ids::{AccountId, ListingId};
use market_core::model::DomainFlags;
use market_core::money::Money;

/// One operation's figures.
#[derive(Debug, Clone)]
pub struct Row {
    pub operation: &'static str,
    pub counts: Counts,
    /// The goal (requests), the physical limit of the operation.
    pub goal: usize,
    /// The goal in sequential waves, where it sets one.
    pub goal_waves: Option<usize>,
}

fn id(text: &str) -> AccountId {
    AccountId::parse(text).expect("valid")
}

/// Brings the scene's process to its steady state before a count: the fee schedule in its
/// cache (any request within the last minute reads it) — what a busy process has; a cold
/// one reads it once a minute.
async fn warm(scene: &Scene) {
    market_app::fees::schedule_item(&scene.app, market_core::model::FeeKind::FixedPrice)
        .await
        .expect("the fee schedule");
}

/// A fresh scene over a counting wrapper of the store `fresh` makes.
async fn scene<F, Fut>(fresh: &F) -> (Scene, Arc<CountingStore>)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Arc<dyn Store>>,
{
    let counting = Arc::new(CountingStore::new(fresh().await));
    let scene = Scene::over(counting.clone() as Arc<dyn Store>);
    // A minute past the hour: the scene's set-up and its counted operation file their due
    // entries in the same hours, whatever the time of day the test runs at (a process
    // marks an hour of the due index once; the set-up has).
    let now = scene.app.now();
    let past_the_hour = i64::from(now.minute()) * 60 + i64::from(now.second());
    scene.clock.advance(Duration::seconds(3660 - past_the_hour));
    (scene, counting)
}

/// `n` domains `{prefix}{i}.com` of `sellers` sellers, registered a year ago.
async fn domains(scene: &Scene, prefix: &str, n: usize, sellers: usize) -> Vec<(String, String)> {
    let seller_ids: Vec<String> = (0..sellers).map(|i| format!("seller{i}")).collect();
    scene.traders(&seller_ids).await;
    let now = scene.app.now();
    let mut made = Vec::with_capacity(n);
    for i in 0..n {
        let seller = seller_ids[i % sellers].clone();
        let name = format!("{prefix}{i}.com");
        let record = DomainRecord {
            name: DomainName::parse(&name).expect("valid"),
            owner: id(&seller),
            registered_at: now - Duration::days(365),
            expires_at: now + Duration::days(365),
            flags: DomainFlags::default(),
        };
        accounts::upsert_domain(&scene.app, record)
            .await
            .expect("domain");
        made.push((name, seller));
    }
    made
}

async fn list(scene: &Scene, domain: &str, seller: &str) -> ListingId {
    let new = NewListing {
        domain: DomainName::parse(domain).expect("valid"),
        price: Money::parse("10.00").expect("price"),
        ends_at: None,
        description: String::new(),
    };
    let view = listings::publish(&scene.app, &id(seller), new)
        .await
        .expect("listing");
    ListingId::parse(&view.id).expect("id")
}

/// An order of `n` domains of `sellers` sellers, placed by a verified buyer: its counts.
async fn order_of<F, Fut>(fresh: &F, n: usize, sellers: usize) -> Counts
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Arc<dyn Store>>,
{
    let (scene, counting) = scene(fresh).await;
    scene.traders(&["buyer".to_owned()]).await;
    let made = domains(&scene, "o", n, sellers).await;
    for (domain, seller) in &made {
        list(&scene, domain, seller).await;
    }
    scene.clock.advance(scene.app.policy.listing_cooldown);
    let cart: Vec<String> = made.into_iter().map(|(d, _)| d).collect();
    warm(&scene).await;
    counting.take();
    let placed = orders::place(&scene.app, &id("buyer"), &cart, &HumanCheck::new("pass"))
        .await
        .expect("placed");
    assert_eq!(
        placed.orders.iter().map(|o| o.items.len()).sum::<usize>(),
        n
    );
    counting.take()
}

/// Every row of the table, each on a fresh store that `fresh` makes.
pub async fn measure<F, Fut>(fresh: F) -> Vec<Row>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Arc<dyn Store>>,
{
    let mut rows = Vec::new();

    let (s, counting) = scene(&fresh).await;
    let made = domains(&s, "v", 1, 1).await;
    let listing = list(&s, &made[0].0, &made[0].1).await;
    counting.take();
    listings::get(&s.app, &listing).await.expect("read");
    rows.push(Row {
        operation: "GET /listings/{id}",
        counts: counting.take(),
        goal: 1,
        goal_waves: None,
    });

    // The second of two listings published in the same hour: the first marked the due
    // index's hours they are due in (a process marks an hour once).
    let (s, counting) = scene(&fresh).await;
    let made = domains(&s, "p", 2, 1).await;
    list(&s, &made[0].0, &made[0].1).await;
    counting.take();
    list(&s, &made[1].0, &made[1].1).await;
    rows.push(Row {
        operation: "POST /listings",
        counts: counting.take(),
        goal: 2,
        goal_waves: None,
    });

    rows.push(Row {
        operation: "POST /orders, 1 domain",
        counts: order_of(&fresh, 1, 1).await,
        goal: 3,
        goal_waves: None,
    });
    rows.push(Row {
        operation: "POST /orders, 50 domains of one seller",
        counts: order_of(&fresh, 50, 1).await,
        goal: 3,
        goal_waves: None,
    });
    rows.push(Row {
        operation: "POST /orders, 500 domains of 10 sellers",
        counts: order_of(&fresh, 500, 10).await,
        goal: 12,
        goal_waves: Some(3),
    });

    // The second of two sales applied in the same hour (the first marked the hour its
    // settlement is due in).
    let (s, counting) = scene(&fresh).await;
    let paid = s.paid_orders(2, 1, 1).await;
    let notification = |n: usize| {
        s.sandbox.notification(
            &paid[n].out_trade_no,
            "TRADE_SUCCESS",
            paid[n].amount,
            s.app.now(),
        )
    };
    market_app::payments::apply(&s.app, &notification(0))
        .await
        .expect("applied");
    let body = notification(1);
    counting.take();
    market_app::payments::apply(&s.app, &body)
        .await
        .expect("applied");
    rows.push(Row {
        operation: "notification applied (1-domain order, through delivery)",
        counts: counting.take(),
        goal: 3,
        goal_waves: None,
    });
    rows
}

/// The table, as the bench prints it.
pub fn table(store: &str, rows: &[Row]) -> String {
    let mut out = format!(
        "store requests per operation, {store}\n| operation | requests | waves | GetItem | BatchGetItem | Query | TransactWriteItems | UpdateItem | goal |\n|---|---|---|---|---|---|---|---|---|\n"
    );
    for row in rows {
        let c = &row.counts;
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            row.operation,
            c.total(),
            c.waves,
            c.gets,
            c.batch_gets,
            c.queries,
            c.transactions,
            c.updates,
            match row.goal_waves {
                Some(waves) => format!("{} in ≤ {waves} waves", row.goal),
                None => row.goal.to_string(),
            }
        ));
    }
    out
}
