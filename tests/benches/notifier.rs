//! `cargo bench -p market-tests --bench notifier`: outbox messages delivered a second by
//! the notify function's handler (`fn_notify::handle`, a stream batch of 10 records) with
//! 1, 4 and 16 workers taking batches at once, on the embedded store. Each message is a
//! notice (inbox item) and an email (the local mailbox: in the cloud an SES call, whose
//! latency the concurrent delivery inside a batch overlaps).
use std::sync::Arc;
use std::time::Instant;

use market_adapters::store::embedded::EmbeddedStore;
use market_app::store::{Store, Write};
use market_core::ids::{AccountId, PaymentId};
use market_core::model::{Account, Refund, RefundStatus};
use market_core::money::Money;
use market_tests::scene::Scene;
use serde_json::json;

const MESSAGES: usize = 2_000;
const BATCH: usize = 10;

/// `n` new notices (a refund sent to `n` buyers), as the stream would name them.
async fn messages(scene: &Scene, n: usize) -> Vec<String> {
    let now = scene.app.now();
    let mut keys = Vec::with_capacity(n);
    for i in 0..n {
        let buyer = AccountId::parse(&format!("buyer{i}")).unwrap();
        let account = Account {
            id: buyer.clone(),
            real_name_verified: true,
            real_name: None,
            payout_account: None,
            email: Some(format!("buyer{i}@example.com")),
            enterprise: false,
            credit_control: false,
            locale: market_core::notice::Locale::En,
        };
        market_app::accounts::upsert_account(&scene.app, account)
            .await
            .unwrap();
        let refund = Refund {
            id: format!("rfd_{i}"),
            journal_id: format!("jrn_{i}"),
            payment_id: PaymentId::parse("pay_01jd0000000000000000000000").unwrap(),
            buyer,
            amount: Money::parse("12.50").unwrap(),
            reason: "the listing ended".into(),
            status: RefundStatus::Confirmed,
            attempts: 1,
            next_attempt_at: now,
            created_at: now,
            confirmed_at: Some(now),
        };
        let write = market_app::notifications::refund_sent(&scene.app, &refund).unwrap();
        let Write::Put(item, _) = &write else {
            panic!("a put")
        };
        keys.push(item.pk.clone());
        scene.app.transact(vec![write]).await.unwrap();
    }
    keys
}

fn stream_event(keys: &[String], first: usize) -> fn_notify::StreamEvent {
    let records: Vec<serde_json::Value> = keys
        .iter()
        .enumerate()
        .map(|(n, pk)| {
            json!({
                "eventID": format!("e{}", first + n), "eventName": "INSERT",
                "dynamodb": {
                    "Keys": {"pk": {"S": pk}, "sk": {"S": "O"}},
                    "SequenceNumber": format!("{}", first + n),
                    "StreamViewType": "KEYS_ONLY"
                }
            })
        })
        .collect();
    serde_json::from_value(json!({ "Records": records })).unwrap()
}

async fn run(workers: usize) -> f64 {
    let scene = Scene::over(Arc::new(EmbeddedStore::in_memory().unwrap()) as Arc<dyn Store>);
    let keys = messages(&scene, MESSAGES).await;
    let batches: Vec<fn_notify::StreamEvent> = keys
        .chunks(BATCH)
        .enumerate()
        .map(|(n, chunk)| stream_event(chunk, n * BATCH))
        .collect();
    let queue = Arc::new(std::sync::Mutex::new(batches));
    let started = Instant::now();
    let tasks: Vec<_> = (0..workers)
        .map(|_| {
            let (app, queue) = (scene.app.clone(), queue.clone());
            tokio::spawn(async move {
                loop {
                    let Some(batch) = queue.lock().unwrap().pop() else {
                        return;
                    };
                    let answer = fn_notify::handle(&app, batch).await;
                    assert!(answer.batch_item_failures.is_empty());
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    MESSAGES as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let runtime = market_tests::bench_runtime();
    runtime.block_on(async {
        println!(
            "outbox messages delivered by fn_notify::handle (batches of {BATCH}), embedded store"
        );
        println!("| workers | messages/s | per worker |\n|---|---|---|");
        for workers in [1, 4, 16] {
            let rate = run(workers).await;
            println!("| {workers} | {rate:.0} | {:.0} |", rate / workers as f64);
        }
    });
}
