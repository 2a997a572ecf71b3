//! `cargo bench -p market-tests --bench contention`: contention and bounded reads, printed.
//!
//! - one account sending 64 concurrent `POST /orders` (with the default per-minute limit,
//!   and with the limit lifted so all 64 race for the listing): answers by status, share
//!   of 5xx (must be 0);
//! - 256 buyers racing for one listing, over HTTP on loopback: attempts a second, and
//!   exactly one order per listing;
//! - store requests of `GET /listings?q=<no match>&limit=1` over 5,000 active listings
//!   (must be at most 3), counted at the store port.
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use market_adapters::store::embedded::EmbeddedStore;
use market_app::store::Store;
use market_core::search::query::SearchParams;
use market_tests::faults::CountingStore;
use market_tests::scene::Scene;
use market_tests::{spawn_app, spawn_app_with, TestApp};

async fn orderable(app: &TestApp, domain: &str) {
    app.domain(domain, "alice").await;
    app.list("alice", domain, "5.00").await;
}

/// `n` concurrent orders of `domain` by the given buyers; statuses counted.
async fn burst(app: &Arc<TestApp>, domain: &str, buyers: &[String]) -> BTreeMap<u16, usize> {
    let tasks: Vec<_> = buyers
        .iter()
        .map(|buyer| {
            let (app, buyer, domain) = (app.clone(), buyer.clone(), domain.to_owned());
            tokio::spawn(async move { app.order(&buyer, &[domain.as_str()]).await.status })
        })
        .collect();
    let mut statuses = BTreeMap::new();
    for task in tasks {
        *statuses.entry(task.await.unwrap()).or_default() += 1;
    }
    statuses
}

fn share_5xx(statuses: &BTreeMap<u16, usize>) -> (usize, f64) {
    let total: usize = statuses.values().sum();
    let errors: usize = statuses.range(500..600).map(|(_, n)| n).sum();
    (errors, errors as f64 * 100.0 / total as f64)
}

async fn one_account_64_connections(label: &str, app: TestApp) {
    let app = Arc::new(app);
    app.trader("alice").await;
    app.trader("bob").await;
    let rounds = 5;
    let mut all = BTreeMap::new();
    let started = Instant::now();
    for round in 0..rounds {
        let domain = format!("burst{round}.com");
        orderable(&app, &domain).await;
        app.advance(180).await; // cool-down, and a new minute for the limiter
        let buyers = vec!["bob".to_owned(); 64];
        for (status, n) in burst(&app, &domain, &buyers).await {
            *all.entry(status).or_default() += n;
        }
    }
    let (errors, share) = share_5xx(&all);
    println!(
        "{label}: {rounds} rounds of 64 concurrent POST /orders from one account in {:.0} ms: {all:?} → {errors} answers of 5xx ({share:.1}%)",
        started.elapsed().as_secs_f64() * 1000.0
    );
    assert_eq!(errors, 0);
}

async fn race_256_buyers() {
    let mut settings = infra::Settings::for_tests();
    settings.policy.order_rate_per_minute = 100_000;
    let app = Arc::new(spawn_app_with(settings).await);
    app.trader("alice").await;
    let buyers: Vec<String> = (0..256).map(|i| format!("racer{i}")).collect();
    for buyer in &buyers {
        app.trader(buyer).await;
    }
    let listings = 5;
    let mut attempts = 0;
    let mut racing = std::time::Duration::ZERO;
    let mut all = BTreeMap::new();
    for round in 0..listings {
        let domain = format!("contested{round}.com");
        orderable(&app, &domain).await;
        app.advance(180).await;
        let started = Instant::now();
        let statuses = burst(&app, &domain, &buyers).await;
        racing += started.elapsed();
        attempts += buyers.len();
        assert_eq!(
            statuses.get(&201),
            Some(&1),
            "exactly one order: {statuses:?}"
        );
        for (status, n) in statuses {
            *all.entry(status).or_default() += n;
        }
    }
    let (errors, _) = share_5xx(&all);
    println!(
        "256 buyers racing for one listing ×{listings}: {:.0} attempts/s ({attempts} attempts in {:.0} ms), exactly one order per listing, answers {all:?}, {errors} of 5xx",
        attempts as f64 / racing.as_secs_f64(),
        racing.as_secs_f64() * 1000.0
    );
    assert_eq!(errors, 0);
}

async fn browse_no_match_over_5000() {
    let counting = Arc::new(CountingStore::new(Arc::new(
        EmbeddedStore::in_memory().unwrap(),
    )));
    let scene = Scene::over(counting.clone() as Arc<dyn Store>);
    scene.listed(5_000, 100).await;
    for sort in ["price", "newest"] {
        counting.take();
        let started = Instant::now();
        let params = SearchParams {
            q: Some("no-such-name".into()),
            sort: Some(sort.into()),
            limit: Some(1),
            ..SearchParams::default()
        };
        let page = market_app::search::search(&scene.app, &params)
            .await
            .unwrap();
        let wall = started.elapsed();
        let counts = counting.take();
        println!(
            "GET /listings?q=<no match>&limit=1&sort={sort} over 5,000 active listings: {} store requests, {} entries read, {:.1} ms; {} items, total {}, a cursor: {}",
            counts.total(),
            counts.items_read,
            wall.as_secs_f64() * 1000.0,
            page.items.len(),
            page.total,
            page.next_cursor.is_some()
        );
        // The search engine answers; the table is read at most for the fee schedule.
        assert!(counts.total() <= 1);
        assert_eq!(page.total, 0);
    }
}

fn main() {
    let runtime = market_tests::bench_runtime();
    runtime.block_on(async {
        one_account_64_connections("default limit (30/min)", spawn_app().await).await;
        let mut settings = infra::Settings::for_tests();
        settings.policy.order_rate_per_minute = 100_000;
        one_account_64_connections("limit lifted", spawn_app_with(settings).await).await;
        race_256_buyers().await;
        browse_no_match_over_5000().await;
    });
}
