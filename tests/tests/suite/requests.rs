//! Issue 15: the store requests of each operation, held to their figures. A count is
//! deterministic (no timing): a change that adds a round trip to an operation fails here.
//! `cargo bench -p market-tests --bench requests` prints the same table for both stores.
use std::sync::Arc;

use market_adapters::store::embedded::EmbeddedStore;
use market_app::store::Store;
use market_tests::requests::{measure, table, Row};

/// (operation, requests) as measured; the goals are 1, 2, 3, 3, 12 and 3. The
/// figures only ratchet down: a round trip added anywhere fails this test. An order still
/// pays for its rate counter (an UpdateItem of its own) and the buyer's contact templates
/// (a Query), a notification for its separate reads of payment, order and listings.
const FIGURES: [(&str, usize); 6] = [
    ("GET /listings/{id}", 1),
    ("POST /listings", 2),
    ("POST /orders, 1 domain", 5),
    ("POST /orders, 50 domains of one seller", 5),
    ("POST /orders, 500 domains of 10 sellers", 21),
    ("notification applied (1-domain order, through delivery)", 5),
];

fn check(rows: &[Row]) {
    let measured: Vec<(&str, usize)> = rows
        .iter()
        .map(|r| (r.operation, r.counts.total()))
        .collect();
    assert_eq!(measured, FIGURES.to_vec(), "\n{}", table("this run", rows));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_requests_per_operation_on_the_embedded_store() {
    let rows =
        measure(|| async { Arc::new(EmbeddedStore::in_memory().unwrap()) as Arc<dyn Store> }).await;
    println!("{}", table("embedded store", &rows));
    check(&rows);
}
