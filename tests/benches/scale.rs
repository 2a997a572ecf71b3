//! `cargo bench -p market-tests --bench scale`: figures for carts and the sweeper, printed.
//!
//! - reserving a 500-domain payment group: store requests (counted) and wall time, on the
//!   embedded store and against DynamoDB's API (moto: its wall time is moto's, not AWS's);
//! - the sweeper's work against table size: 100,000 idle due-index entries (deadlines weeks
//!   ahead) and 1,000 orders due now; what the sweep reads is counted.
use std::sync::Arc;
use std::time::Instant;

use chrono::Duration;
use market_adapters::store::embedded::EmbeddedStore;
use market_app::ports::captcha::HumanCheck;
use market_app::repo::due_at;
use market_app::store::{Expect, Item, Store, Write};
use market_app::{orders, sweep};
use market_core::ids::AccountId;
use market_tests::faults::{CountingStore, Counts};
use market_tests::scene::Scene;

fn describe(c: Counts) -> String {
    format!(
        "{} requests ({} GetItem, {} BatchGetItem, {} TransactWriteItems, {} Query), {} items read",
        c.total(),
        c.gets,
        c.batch_gets,
        c.transactions,
        c.queries,
        c.items_read
    )
}

async fn reserve_500(label: &str, store: Arc<dyn Store>) {
    let counting = Arc::new(CountingStore::new(store));
    let scene = Scene::over(counting.clone() as Arc<dyn Store>);
    scene.traders(&["buyer".to_owned()]).await;
    let listed = scene.listed(500, 10).await;
    let cart: Vec<String> = listed.into_iter().map(|(d, _)| d).collect();
    counting.take();
    let started = Instant::now();
    let placed = orders::place(
        &scene.app,
        &AccountId::parse("buyer").unwrap(),
        &cart,
        &HumanCheck::new("pass"),
    )
    .await
    .unwrap();
    let wall = started.elapsed();
    let counts = counting.take();
    assert_eq!(
        placed.orders.iter().map(|o| o.items.len()).sum::<usize>(),
        500
    );
    println!(
        "{label}: a 500-domain group reserved in {:.0} ms: {}",
        wall.as_secs_f64() * 1000.0,
        describe(counts)
    );
}

async fn sweeper_vs_size() {
    let counting = Arc::new(CountingStore::new(Arc::new(
        EmbeddedStore::in_memory().unwrap(),
    )));
    let scene = Scene::over(counting.clone() as Arc<dyn Store>);
    scene.traders(&["buyer".to_owned()]).await;
    let now = scene.app.now();
    // 100,000 idle entries: deadlines spread over the next 30 days.
    for chunk in 0..1_000 {
        let writes: Vec<Write> = (0..100)
            .map(|k| {
                let i = chunk * 100 + k;
                let due = now + Duration::hours(1 + (i % 720) as i64);
                let pk = format!("ORDER#idle{i}");
                let item = due_at(Item::new(pk.clone(), "O", "{}".into()), due);
                Write::Put(item, Expect::Absent)
            })
            .collect();
        counting.transact(writes).await.unwrap();
    }
    let listed = scene.listed(1_000, 20).await;
    for (domain, _) in &listed {
        orders::place(
            &scene.app,
            &AccountId::parse("buyer").unwrap(),
            std::slice::from_ref(domain),
            &HumanCheck::new("pass"),
        )
        .await
        .unwrap();
    }
    scene.clock.advance(Duration::minutes(11));
    counting.take();
    let started = Instant::now();
    let report = sweep::sweep(&scene.app).await.unwrap();
    let wall = started.elapsed();
    let counts = counting.take();
    println!(
        "sweeper over 100,000 idle + 1,000 due entries (plus 1,000 listings and domains waiting): expired {} orders in {:.0} ms; index entries read {}; {}",
        report.expired_orders.len(),
        wall.as_secs_f64() * 1000.0,
        report.items_read,
        describe(counts)
    );
}

fn main() {
    let runtime = market_tests::bench_runtime();
    runtime.block_on(async {
        reserve_500(
            "embedded store",
            Arc::new(EmbeddedStore::in_memory().unwrap()),
        )
        .await;
        sweeper_vs_size().await;
        let moto: Arc<dyn Store> = Arc::new(market_tests::moto::fresh_table_store().await);
        reserve_500("DynamoDB API (moto)", moto).await;
    });
}
