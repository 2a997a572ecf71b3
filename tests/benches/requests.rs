//! `cargo bench -p market-tests --bench requests`: store requests per operation (issue 15),
//! counted, not timed, on the embedded store and on DynamoDB's API through moto; printed
//! as a table. `tests/tests/suite/requests.rs` holds CI to the same figures.
use std::sync::Arc;

use market_adapters::store::embedded::EmbeddedStore;
use market_app::store::Store;
use market_tests::requests::{measure, table};

fn main() {
    let runtime = market_tests::bench_runtime();
    runtime.block_on(async {
        let embedded =
            measure(|| async { Arc::new(EmbeddedStore::in_memory().unwrap()) as Arc<dyn Store> })
                .await;
        println!("{}", table("embedded store", &embedded));
        let dynamo = measure(|| async {
            Arc::new(market_tests::moto::fresh_table_store().await) as Arc<dyn Store>
        })
        .await;
        println!("{}", table("DynamoDB's API (moto)", &dynamo));
    });
}
