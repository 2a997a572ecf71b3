//! `cargo bench -p market-tests --bench capacity`: capacity units per partition key per
//! operation, priced as DynamoDB bills and throttles them, through the whole request, on
//! the embedded store and on DynamoDB's API through moto; printed as tables with the
//! ceiling each operation's hottest shared key sets. `tests/tests/suite/capacity.rs` holds
//! CI to the ceilings.
use std::sync::Arc;

use market_adapters::store::embedded::EmbeddedStore;
use market_app::store::Store;
use market_tests::capacity::{operations::measure, table};

fn main() {
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24);
    let runtime = market_tests::bench_runtime();
    runtime.block_on(async {
        let embedded = measure(
            || async { Arc::new(EmbeddedStore::in_memory().unwrap()) as Arc<dyn Store> },
            runs,
        )
        .await;
        println!("{}", table("embedded store", &embedded));
        let dynamo = measure(
            || async { Arc::new(market_tests::moto::fresh_table_store().await) as Arc<dyn Store> },
            runs.min(12),
        )
        .await;
        println!("{}", table("DynamoDB's API (moto)", &dynamo));
    });
}
