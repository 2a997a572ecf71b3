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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capacity_ceilings_on_the_embedded_store() {
    let rows = measure(
        || async { Arc::new(EmbeddedStore::in_memory().unwrap()) as Arc<dyn Store> },
        16,
    )
    .await;
    println!("{}", table("embedded store", &rows));
    check(&rows, &[]);
}
