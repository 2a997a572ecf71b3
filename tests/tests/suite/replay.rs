//! Exactly once under replay (issue "payments"): thousands of notifications, each genuine
//! one delivered 1–3 times (some as TRADE_FINISHED after TRADE_SUCCESS), shuffled, with
//! forged signatures, wrong amounts and wrong app ids mixed in, applied through the queue
//! consumer while the store crashes at random before and after writes. Failed messages are
//! redelivered, as SQS does. Then: every genuine payment applied once, every bad one never,
//! and the ledger balances to the fen.
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use rust_decimal::Decimal;

use market_adapters::store::embedded::EmbeddedStore;
use market_app::accounts::entries_of;
use market_app::repo;
use market_app::store::Store;
use market_core::ids::AccountId;
use market_core::ledger::LedgerAccount;
use market_core::model::{Order, OrderStatus, Payment, PaymentStatus};
use market_tests::faults::FaultyStore;
use market_tests::moto::fresh_table_store;
use market_tests::scene::{PaidOrder, Scene};

/// A notification and whether it is genuine.
struct Message {
    body: String,
    genuine: bool,
}

fn notifications(
    scene: &Scene,
    paid: &[PaidOrder],
    total: usize,
    rng: &mut fastrand::Rng,
) -> Vec<Message> {
    let now = scene.app.now();
    let mut messages = Vec::with_capacity(total);
    for p in paid {
        let body = scene
            .sandbox
            .notification(&p.out_trade_no, "TRADE_SUCCESS", p.amount, now);
        for _ in 0..rng.usize(1..=3) {
            messages.push(Message {
                body: body.clone(),
                genuine: true,
            });
        }
        if rng.f64() < 0.3 {
            let finished =
                scene
                    .sandbox
                    .notification(&p.out_trade_no, "TRADE_FINISHED", p.amount, now);
            messages.push(Message {
                body: finished,
                genuine: true,
            });
        }
    }
    // Forgeries are replayed too: a few hundred distinct ones, resent until the total is
    // reached (signing thousands of distinct ones would only slow the test down).
    let genuine_count = messages.len();
    let mut kind = 0;
    while messages.len() < total && messages.len() - genuine_count < 300 {
        let p = &paid[rng.usize(0..paid.len())];
        let genuine = scene
            .sandbox
            .notification(&p.out_trade_no, "TRADE_SUCCESS", p.amount, now);
        let mut params: Vec<(String, String)> = serde_urlencoded::from_str(&genuine).unwrap();
        params.retain(|(k, _)| k != "sign" && k != "sign_type");
        let set = |params: &mut Vec<(String, String)>, key: &str, value: String| {
            params.iter_mut().find(|(k, _)| k == key).unwrap().1 = value;
        };
        let body = match kind % 3 {
            // Forged: the amount changed after signing.
            0 => genuine.replacen(
                &format!("total_amount={}", p.amount),
                "total_amount=0.01",
                1,
            ),
            // Validly signed, but for another amount than the payment's.
            1 => {
                set(&mut params, "total_amount", "0.01".into());
                serde_urlencoded::to_string(scene.sandbox.sign_notification(params)).unwrap()
            }
            // Validly signed, but for another merchant application.
            _ => {
                set(&mut params, "app_id", "2021999999999999".into());
                serde_urlencoded::to_string(scene.sandbox.sign_notification(params)).unwrap()
            }
        };
        assert_ne!(body, genuine);
        messages.push(Message {
            body,
            genuine: false,
        });
        kind += 1;
    }
    let distinct_bad: Vec<String> = messages[genuine_count..]
        .iter()
        .map(|m| m.body.clone())
        .collect();
    for body in distinct_bad.iter().cycle().take(total - messages.len()) {
        messages.push(Message {
            body: body.clone(),
            genuine: false,
        });
    }
    rng.shuffle(&mut messages);
    messages
}

async fn sum_of(scene: &Scene, account: LedgerAccount) -> Decimal {
    entries_of(&scene.app, &account)
        .await
        .unwrap()
        .iter()
        .map(|e| e.posting.amount)
        .sum()
}

async fn replay(inner: Arc<dyn Store>, orders: usize, total: usize, seed: u64) {
    let faulty = Arc::new(FaultyStore::new(inner, seed, 0.05, 0.05));
    let scene = Scene::over(faulty.clone());
    let sellers = 10.min(orders);
    let buyers = 50.min(orders);
    let paid = scene.paid_orders(orders, sellers, buyers).await;
    let mut rng = fastrand::Rng::with_seed(seed);
    let queue: VecDeque<Message> = notifications(&scene, &paid, total, &mut rng).into();
    let bad = queue.iter().filter(|m| !m.genuine).count();
    assert_eq!(queue.len(), total);

    // Four consumers at once, as several Lambda instances would drain the queue: duplicates
    // of one notification are applied concurrently too.
    faulty.set_enabled(true);
    let queue = Arc::new(std::sync::Mutex::new(queue));
    let deliveries = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (queue, deliveries, app) = (queue.clone(), deliveries.clone(), scene.app.clone());
            tokio::spawn(async move {
                loop {
                    let Some(message) = queue.lock().unwrap().pop_front() else {
                        return;
                    };
                    let n = deliveries.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    assert!(n < total * 20, "the queue does not drain");
                    if fn_pay_callback::handle_message(&app, &message.body)
                        .await
                        .is_err()
                    {
                        queue.lock().unwrap().push_back(message); // SQS redelivers what was not acknowledged
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }
    faulty.set_enabled(false);
    assert!(
        faulty.injected.load(std::sync::atomic::Ordering::SeqCst) > 0,
        "faults were injected"
    );
    assert!(bad > 0);

    // Every genuine payment applied, once.
    let mut expected_net: HashMap<String, Decimal> = HashMap::new();
    let mut expected_fees = Decimal::ZERO;
    let mut total_paid = Decimal::ZERO;
    for p in &paid {
        let order: Order = repo::load(
            &*scene.app.store,
            repo::order_key(&market_core::ids::OrderId::parse(&p.order_id).unwrap()),
        )
        .await
        .unwrap()
        .unwrap()
        .value;
        assert_eq!(order.status, OrderStatus::Completed, "{}", p.order_id);
        let payment: Payment = repo::load(&*scene.app.store, repo::payment_key(&p.out_trade_no))
            .await
            .unwrap()
            .unwrap()
            .value;
        assert_eq!(payment.status, PaymentStatus::Succeeded);
        let fee = p.amount.percent_of(order.items[0].fee_rate).amount();
        *expected_net.entry(p.seller.clone()).or_default() += p.amount.amount() - fee;
        expected_fees += fee;
        total_paid += p.amount.amount();
    }
    // Money: the provider took exactly what was paid, once; escrow is empty; each seller
    // holds exactly their net proceeds; the platform exactly its fees.
    assert_eq!(sum_of(&scene, LedgerAccount::Provider).await, -total_paid);
    assert_eq!(sum_of(&scene, LedgerAccount::Fees).await, expected_fees);
    for buyer in (0..50.min(orders)).map(|i| format!("buyer{i}")) {
        assert_eq!(
            sum_of(
                &scene,
                LedgerAccount::Escrow(AccountId::parse(&buyer).unwrap())
            )
            .await,
            Decimal::ZERO
        );
    }
    let mut sellers_total = Decimal::ZERO;
    for (seller, net) in &expected_net {
        let frozen = sum_of(
            &scene,
            LedgerAccount::SellerFrozen(AccountId::parse(seller).unwrap()),
        )
        .await;
        assert_eq!(&frozen, net, "{seller}");
        sellers_total += frozen;
    }
    assert_eq!(
        sellers_total + expected_fees,
        total_paid,
        "every fen accounted for"
    );
    let provider_entries = entries_of(&scene.app, &LedgerAccount::Provider)
        .await
        .unwrap();
    assert_eq!(
        provider_entries.len(),
        paid.len(),
        "one payment entry per order, no refunds"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_notifications_for_a_thousand_orders_apply_exactly_once() {
    replay(
        Arc::new(EmbeddedStore::in_memory().unwrap()),
        1_000,
        10_000,
        7,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_on_dynamodb_applies_exactly_once() {
    replay(Arc::new(fresh_table_store().await), 20, 200, 11).await;
}
