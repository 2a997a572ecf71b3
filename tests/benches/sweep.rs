//! `cargo bench -p market-tests --bench sweep`: the sweep fanned out, on the embedded store.
//!
//! Seeds due items through the use cases (`ITEMS`, default 100,000: a ninth each of unpaid
//! orders past their window, pushes unanswered for 7 days and sales whose settlement came,
//! and the rest the outbox messages of all of them that nobody delivered yet), then
//! drains them with the dispatcher and 1, 4 and 16 workers of the local runner on the
//! durable work queue. Prints, per worker count: items a second in all and per worker, and
//! the store requests per item (each a round trip to DynamoDB in the cloud: the ground of
//! the README's arithmetic for a million items in ten minutes).
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use chrono::Duration;
use market_adapters::queue::Topic;
use market_adapters::store::embedded::EmbeddedStore;
use market_app::accounts::{self, DomainRecord};
use market_app::ports::captcha::HumanCheck;
use market_app::pushes::{self, NewPush};
use market_app::store::Store;
use market_app::{orders, sweep};
use market_core::domain_name::DomainName;
use market_core::ids::AccountId;
use market_core::model::DomainFlags;
use market_core::money::Money;
use market_tests::faults::CountingStore;
use market_tests::scene::Scene;

fn id(text: &str) -> AccountId {
    AccountId::parse(text).unwrap()
}

/// A scene holding about `items` due items once the clock has moved past them all.
async fn seeded(items: usize) -> (Scene, Arc<CountingStore>) {
    let counting = Arc::new(CountingStore::new(Arc::new(
        EmbeddedStore::in_memory().unwrap(),
    )));
    let policy = market_core::policy::Policy {
        order_rate_per_minute: u32::MAX,
        push_rate_per_minute: u32::MAX,
        ..Default::default()
    };
    let scene = Scene::with_policy(counting.clone() as Arc<dyn Store>, policy);
    // A sweep before anything: the cursor is at now, as in a running market (a first sweep
    // looks back only 72 hours).
    sweep::sweep(&scene.app).await.unwrap();
    // Each kind's own items; their notices nobody delivered come to about six per sale,
    // order and push together (2/3 of the whole).
    let per_kind = (items / 9).max(1);
    let buyers: Vec<String> = (0..50).map(|i| format!("buyer{i}")).collect();
    scene.traders(&buyers).await;
    // Sales, paid: their settlement is due after the settlement period.
    let paid = scene.paid_orders(per_kind, 50, 50).await;
    let now = scene.app.now();
    for p in &paid {
        let body = scene
            .sandbox
            .notification(&p.out_trade_no, "TRADE_SUCCESS", p.amount, now);
        fn_pay_callback::handle_message(&scene.app, &body)
            .await
            .expect("applied");
    }
    // Unpaid orders: due at the end of their window.
    let listed = scene.listed_from(per_kind, 50, per_kind).await;
    for (i, (domain, _)) in listed.iter().enumerate() {
        orders::place(
            &scene.app,
            &id(&buyers[i % buyers.len()]),
            std::slice::from_ref(domain),
            &HumanCheck::new("pass"),
        )
        .await
        .expect("order");
    }
    // Pushes nobody answers: due after 7 days (P5).
    for i in 0..per_kind {
        let seller = format!("seller{}", i % 50);
        let name = format!("p{i}.com");
        accounts::upsert_domain(
            &scene.app,
            DomainRecord {
                name: DomainName::parse(&name).unwrap(),
                owner: id(&seller),
                registered_at: now - Duration::days(365),
                expires_at: now + Duration::days(365),
                flags: DomainFlags::default(),
            },
        )
        .await
        .expect("domain");
        pushes::publish(
            &scene.app,
            &id(&seller),
            NewPush {
                domains: vec![name],
                buyer: id(&buyers[i % buyers.len()]),
                price: Money::parse("88.00").unwrap(),
                lock_60d: false,
                buyer_email: None,
                message: None,
                security_password: None,
            },
        )
        .await
        .expect("push");
    }
    // Past every one of them (the outbox messages nobody delivered are due too).
    let past = scene.app.policy.settlement_period.max(Duration::days(7)) + Duration::hours(1);
    scene.clock.advance(past);
    (scene, counting)
}

/// The kinds of what the dispatcher handed on, by key prefix.
fn kinds(batches: &[sweep::WorkBatch]) -> BTreeMap<String, usize> {
    let mut kinds = BTreeMap::new();
    for key in batches.iter().flat_map(|b| &b.due) {
        let kind = key.pk.split('#').next().unwrap_or_default().to_lowercase();
        *kinds.entry(kind).or_insert(0) += 1;
    }
    kinds
}

async fn drain(items: usize, workers: usize) {
    let started_seeding = Instant::now();
    let (scene, counting) = seeded(items).await;
    let seeding = started_seeding.elapsed().as_secs_f64();
    counting.take();
    let started = Instant::now();
    let collected = sweep::Collected::default();
    let handed = sweep::dispatch(&scene.app, &collected).await.unwrap();
    let batches = collected.take();
    let by_kind = kinds(&batches);
    let bodies = batches.iter().map(sweep::WorkBatch::to_body).collect();
    scene
        .app
        .queue
        .send_all(Topic::SweepWork, bodies)
        .await
        .unwrap();
    let dispatched = started.elapsed().as_secs_f64();
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let running =
        infra::pump::spawn_sweep_workers(scene.app.clone(), scene.queue.clone(), workers, stopping);
    while scene.queue.depth(Topic::SweepWork).await.unwrap() > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    stop.send(true).unwrap();
    for worker in running {
        worker.await.unwrap();
    }
    let counts = counting.take();
    let n = handed.items_read;
    // What the next full read finds: only what the items set off (their notices' outbox
    // messages, due 5 minutes after they were written), nothing failed.
    scene.clock.advance(sweep::LEASE);
    let after = sweep::sweep(&scene.app).await.unwrap();
    println!(
        "{workers:>2} worker(s): {n} due items {by_kind:?} (seeded in {seeding:.0} s) drained in {seconds:.1} s (dispatch {dispatched:.1} s): {:.0} items/s, {:.0} items/s per worker; {:.1} store requests per item ({:.1} GetItem, {:.1} BatchGetItem, {:.1} writes, {:.1} Query); then due: {} (what they set off), of which failed: {}",
        n as f64 / seconds,
        n as f64 / seconds / workers as f64,
        counts.total() as f64 / n as f64,
        counts.gets as f64 / n as f64,
        counts.batch_gets as f64 / n as f64,
        counts.transactions as f64 / n as f64,
        counts.queries as f64 / n as f64,
        after.items_read,
        after.failed,
    );
}

fn main() {
    let items: usize = std::env::var("ITEMS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let runtime = market_tests::bench_runtime();
    runtime.block_on(async {
        for workers in [1, 4, 16] {
            drain(items, workers).await;
        }
    });
}
