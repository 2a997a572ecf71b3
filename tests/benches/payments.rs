//! `cargo bench -p market-tests --bench payments`: figures for the payment path, printed.
//!
//! - notifications per second through the queue consumer on the embedded store (wall time,
//!   one consumer and four at once, each notification verified with RSA2 and applied);
//! - store requests per applied payment (counted, not timed), on the embedded store and on
//!   DynamoDB's API through moto (never timed: moto is no model of DynamoDB's latency).
use std::sync::Arc;
use std::time::Instant;

use market_adapters::store::embedded::EmbeddedStore;
use market_app::store::Store;
use market_tests::faults::{CountingStore, Counts};
use market_tests::scene::{PaidOrder, Scene};

fn bodies(scene: &Scene, paid: &[PaidOrder]) -> Vec<String> {
    let now = scene.app.now();
    paid.iter()
        .map(|p| {
            scene
                .sandbox
                .notification(&p.out_trade_no, "TRADE_SUCCESS", p.amount, now)
        })
        .collect()
}

async fn apply_all(scene: &Scene, bodies: Vec<String>, workers: usize) -> f64 {
    let queue = Arc::new(std::sync::Mutex::new(bodies));
    let started = Instant::now();
    let handles: Vec<_> = (0..workers)
        .map(|_| {
            let (queue, app) = (queue.clone(), scene.app.clone());
            tokio::spawn(async move {
                loop {
                    let Some(body) = queue.lock().unwrap().pop() else {
                        return;
                    };
                    fn_pay_callback::handle_message(&app, &body)
                        .await
                        .expect("applies");
                }
            })
        })
        .collect();
    for h in handles {
        h.await.unwrap();
    }
    started.elapsed().as_secs_f64()
}

fn per_payment(counts: Counts, n: usize) -> String {
    let n = n as f64;
    format!(
        "{:.1} requests ({:.1} GetItem, {:.1} BatchGetItem, {:.1} TransactWriteItems, {:.1} Query)",
        counts.total() as f64 / n,
        counts.gets as f64 / n,
        counts.batch_gets as f64 / n,
        counts.transactions as f64 / n,
        counts.queries as f64 / n
    )
}

async fn embedded(n: usize, workers: usize) {
    let counting = Arc::new(CountingStore::new(Arc::new(
        EmbeddedStore::in_memory().unwrap(),
    )));
    let scene = Scene::over(counting.clone() as Arc<dyn Store>);
    let paid = scene.paid_orders(n, 10, 50).await;
    let bodies = bodies(&scene, &paid);
    counting.take();
    let seconds = apply_all(&scene, bodies, workers).await;
    let counts = counting.take();
    println!(
        "embedded store, {n} one-domain orders, {workers} consumer(s): {:.0} notifications/s ({:.2} ms each); per applied payment: {}",
        n as f64 / seconds,
        seconds * 1000.0 / n as f64,
        per_payment(counts, n)
    );
}

async fn dynamodb(n: usize) {
    let store: Arc<dyn Store> = Arc::new(market_tests::moto::fresh_table_store().await);
    let counting = Arc::new(CountingStore::new(store));
    let scene = Scene::over(counting.clone() as Arc<dyn Store>);
    let paid = scene.paid_orders(n, 2, 5).await;
    let bodies = bodies(&scene, &paid);
    counting.take();
    apply_all(&scene, bodies.clone(), 1).await;
    let first = counting.take();
    apply_all(&scene, bodies, 1).await;
    let duplicate = counting.take();
    println!(
        "DynamoDB API (moto), {n} one-domain orders: per applied payment: {}",
        per_payment(first, n)
    );
    println!(
        "DynamoDB API (moto), the same notifications again (duplicates): {}",
        per_payment(duplicate, n)
    );
}

fn main() {
    let runtime = market_tests::bench_runtime();
    runtime.block_on(async {
        embedded(2_000, 1).await;
        embedded(2_000, 4).await;
        dynamodb(20).await;
    });
}
