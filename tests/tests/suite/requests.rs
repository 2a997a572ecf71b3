//! Issue 15: the store requests of each operation, held to their figures. A count is
//! deterministic (no timing): a change that adds a round trip to an operation fails here.
//! `cargo bench -p market-tests --bench requests` prints the same table for both stores.
use std::sync::Arc;

use market_adapters::store::embedded::EmbeddedStore;
use market_app::store::Store;
use market_tests::requests::{measure, table, Row};

/// (operation, requests, sequential waves) as measured; the goals are 1, 2, 3, 3,
/// 12 in at most 3 waves, and 3 requests. The figures only ratchet down: a round trip added
/// anywhere fails this test. An order reads one item per domain (its listing's terms and
/// any order's hold are on the domain's trade hold), so the 500-domain cart is 504 keys
/// read at once (6 BatchGetItem), 5 transactions of 100 holds at once, then the order's
/// transaction, which counts the attempt.
const FIGURES: [(&str, usize, usize); 6] = [
    ("GET /listings/{id}", 1, 1),
    ("POST /listings", 2, 2),
    ("POST /orders, 1 domain", 2, 2),
    ("POST /orders, 50 domains of one seller", 2, 2),
    ("POST /orders, 500 domains of 10 sellers", 12, 3),
    (
        "notification applied (1-domain order, through delivery)",
        3,
        3,
    ),
];

fn check(rows: &[Row]) {
    let measured: Vec<(&str, usize, usize)> = rows
        .iter()
        .map(|r| (r.operation, r.counts.total(), r.counts.waves))
        .collect();
    assert_eq!(measured, FIGURES.to_vec(), "\n{}", table("this run", rows));
    for row in rows {
        assert!(
            row.counts.total() <= row.goal,
            "{}: over its goal",
            row.operation
        );
        if let Some(waves) = row.goal_waves {
            assert!(
                row.counts.waves <= waves,
                "{}: more waves than its goal",
                row.operation
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_requests_per_operation_on_the_embedded_store() {
    let rows =
        measure(|| async { Arc::new(EmbeddedStore::in_memory().unwrap()) as Arc<dyn Store> }).await;
    println!("{}", table("embedded store", &rows));
    check(&rows);
}

/// The same figures on DynamoDB's API (moto): the adapter makes exactly the requests the
/// embedded store is counted for (a BatchGetItem per 100 keys, none for none).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_requests_per_operation_on_dynamodb() {
    market_adapters::payment::alipay::install_crypto_provider();
    let rows = measure(|| async {
        Arc::new(market_tests::moto::fresh_table_store().await) as Arc<dyn Store>
    })
    .await;
    println!("{}", table("DynamoDB's API (moto)", &rows));
    check(&rows);
}
