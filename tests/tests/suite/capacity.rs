//! The ceilings of the capacity bench, held: each operation run on independent entities
//! through the whole request, priced per partition key as DynamoDB throttles them
//! (`market_tests::capacity`). A change that puts a key every sale shares back on a hot
//! path lowers a ceiling below its floor here and fails.
//! `cargo bench -p market-tests --bench capacity` prints the same tables for both stores.
use std::sync::Arc;

use market_adapters::store::embedded::EmbeddedStore;
use market_app::store::Store;
use market_tests::capacity::{operations::measure, table, Capacity};

fn check(rows: &[Capacity], floors: &[(&str, f64)]) {
    let printed = table("this run", rows);
    // The whole request's reads and writes, the route's own included: a cart's partner
    // check reads every domain in one batch, never one request per domain (3 requests:
    // that batch, the order's batch read, its transaction; plus a fraction for what a
    // process reads once a minute or marks once an hour).
    let cart = rows
        .iter()
        .find(|r| r.operation == "POST /orders (50 domains of one seller)")
        .expect("the cart's row");
    assert!(
        cart.requests_per_run < 4.0,
        "a 50-domain cart took {} requests\n{printed}",
        cart.requests_per_run
    );
    for (operation, floor) in floors {
        let row = rows
            .iter()
            .find(|r| r.operation == *operation)
            .unwrap_or_else(|| panic!("no row {operation}\n{printed}"));
        assert!(
            row.ceiling() >= *floor,
            "{operation}: ceiling {:.0}/s, under its floor {floor}/s\n{printed}",
            row.ceiling()
        );
    }
}

/// The goals, in operations a second before the hottest shared key throttles: a
/// complete sale, a push cycle and a publish at 10,000/s; a listing view at 100,000/s (no
/// item every view reads); one seller's sales at 2,000/s.
const FLOORS: &[(&str, f64)] = &[
    ("one seller's sales (order + pay + delivery)", 2_000.0),
    ("GET /listings/{id}", 100_000.0),
    ("POST /listings", 10_000.0),
    ("POST /orders (1 domain)", 10_000.0),
    ("sale: order + pay + notification + delivery", 10_000.0),
    ("push accepted + paid + completed", 10_000.0),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capacity_ceilings_on_the_embedded_store() {
    let rows = measure(
        || async { Arc::new(EmbeddedStore::in_memory().unwrap()) as Arc<dyn Store> },
        16,
    )
    .await;
    println!("{}", table("embedded store", &rows));
    check(&rows, FLOORS);
}

/// The same operations on DynamoDB's API (moto): the adapter asks for the same items, so
/// the same keys carry the same units.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capacity_ceilings_on_dynamodb() {
    let rows = measure(
        || async { Arc::new(market_tests::moto::fresh_table_store().await) as Arc<dyn Store> },
        4,
    )
    .await;
    println!("{}", table("DynamoDB's API (moto)", &rows));
    check(&rows, FLOORS);
}
