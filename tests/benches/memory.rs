//! `cargo bench -p market-tests --bench memory`: what the heaviest work of each function
//! takes in memory and CPU, measured in this process (Linux: `/proc/self`), so that each
//! function's `MemorySize` in the template is a measured figure, not a guess.
//!
//! Per scenario: the peak resident memory it added over what the process held before it
//! (the high-water mark is reset first, `/proc/self/clear_refs`; the embedded store's own
//! data is set up before, so it is not counted: in the cloud the data is DynamoDB's), and
//! the CPU time it took. Lambda gives a function CPU in proportion to its memory (1,769 MB
//! is one vCPU), so CPU time at 1 vCPU × 1,769 / MemorySize is the least its run takes.
use std::sync::Arc;

use market_adapters::store::embedded::EmbeddedStore;
use market_app::ports::captcha::HumanCheck;
use market_app::store::Store;
use market_app::{orders, sweep};
use market_core::ids::{AccountId, OrderId};
use market_tests::scene::Scene;

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// User + system CPU time of this process, in seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command's closing parenthesis; utime and stime are the 12th and
    // 13th of those.
    let after = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |n: usize| {
        fields
            .get(n)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// Runs `work`, and prints the memory it added at its peak and the CPU time it took.
async fn measured<F, Fut>(what: &str, work: F)
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let before = status_kb("VmRSS:");
    let cpu = cpu_seconds();
    work().await;
    let peak = status_kb("VmHWM:");
    let cpu = cpu_seconds() - cpu;
    let added = peak.saturating_sub(before) as f64 / 1024.0;
    println!(
        "{what}: {added:.1} MB at its peak over {:.0} MB held; {:.2} s of CPU (at 128 MB: ≥ {:.1} s; at 512 MB: ≥ {:.1} s)",
        before as f64 / 1024.0,
        cpu,
        cpu * 1769.0 / 128.0,
        cpu * 1769.0 / 512.0
    );
}

fn id(text: &str) -> AccountId {
    AccountId::parse(text).unwrap()
}

fn scene() -> Scene {
    let store: Arc<dyn Store> = Arc::new(EmbeddedStore::in_memory().unwrap());
    Scene::over(store)
}

/// order: the largest cart (O2: split into orders of 500).
async fn largest_cart() {
    let scene = scene();
    scene.traders(&["buyer".to_owned()]).await;
    let max = scene.app.policy.max_cart;
    let listed = scene.listed(max, 40).await;
    let cart: Vec<String> = listed.into_iter().map(|(d, _)| d).collect();
    measured(&format!("order: a {max}-domain cart placed"), || async {
        let placed = orders::place(&scene.app, &id("buyer"), &cart, &HumanCheck::new("pass"))
            .await
            .unwrap();
        assert!(placed.rejected.is_empty());
    })
    .await;
}

/// pay-callback: a 500-domain order's payment applied and the order delivered.
async fn largest_delivery() {
    let scene = scene();
    scene.traders(&["buyer".to_owned()]).await;
    let listed = scene.listed(500, 10).await;
    let cart: Vec<String> = listed.into_iter().map(|(d, _)| d).collect();
    let placed = orders::place(&scene.app, &id("buyer"), &cart, &HumanCheck::new("pass"))
        .await
        .unwrap();
    let order_id = OrderId::parse(&placed.orders[0].id).unwrap();
    let payment = orders::pay(
        &scene.app,
        &id("buyer"),
        &order_id,
        market_core::order::PaymentMethod::Alipay,
    )
    .await
    .unwrap();
    let body = scene.sandbox.notification(
        &payment.out_trade_no,
        "TRADE_SUCCESS",
        payment.amount,
        scene.app.now(),
    );
    measured(
        "pay-callback: a 500-domain order's payment applied and delivered",
        || async {
            fn_pay_callback::handle_message(&scene.app, &body)
                .await
                .unwrap();
        },
    )
    .await;
}

/// expire-sweeper: the dispatcher handing on 20,000 due orders, then one worker's batch.
async fn sweep_work() {
    let scene = scene();
    scene.traders(&["buyer".to_owned()]).await;
    sweep::sweep(&scene.app).await.unwrap();
    let listed = scene.listed(20_000, 400).await;
    for (domain, _) in &listed {
        orders::place(
            &scene.app,
            &id("buyer"),
            std::slice::from_ref(domain),
            &HumanCheck::new("pass"),
        )
        .await
        .unwrap();
    }
    scene.stream().await;
    scene.clock.advance(chrono::Duration::minutes(11));
    let collected = sweep::Collected::default();
    measured(
        "expire-sweeper: the dispatcher handing on 20,000 due items",
        || async {
            sweep::dispatch(&scene.app, &collected).await.unwrap();
        },
    )
    .await;
    let batch = collected.take().remove(0);
    measured(
        "expire-sweeper: a worker's batch of 50 items, 16 at once",
        || async {
            let worked = sweep::work(&scene.app, batch.due).await;
            assert_eq!(worked.report.processed, 50);
        },
    )
    .await;
}

fn main() {
    let runtime = market_tests::bench_runtime();
    runtime.block_on(async {
        largest_cart().await;
        largest_delivery().await;
        sweep_work().await;
    });
}
