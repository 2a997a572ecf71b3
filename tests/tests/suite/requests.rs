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
/// transaction (its header and the 50 pages of its lines), which counts the attempt.
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

/// `GET /me/ledger` of a seller with 100,000 postings: the balances are their accounts'
/// running sums (one BatchGetItem, whatever the history), read in the same wave as the
/// page of each partition; and they are the sums of the postings.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s4_a_ledger_of_100000_postings_answers_its_balances_in_one_request() {
    use market_app::repo::journal_writes;
    use market_core::ids::AccountId;
    use market_core::ledger::{EntryKind, Journal, LedgerAccount, Posting};
    use market_tests::faults::CountingStore;
    use market_tests::scene::Scene;
    use rust_decimal::Decimal;

    let counting = Arc::new(CountingStore::new(Arc::new(
        EmbeddedStore::in_memory().unwrap(),
    )));
    let scene = Scene::over(counting.clone() as Arc<dyn Store>);
    let alice = AccountId::parse("alice").unwrap();
    let posting = |account: LedgerAccount, amount: Decimal| Posting {
        account: account.key(),
        kind: EntryKind::Sale,
        amount,
        settles_at: None,
    };
    // 50,000 sales of 1.01 each: 100,000 postings to alice's frozen proceeds, 20 journals
    // (and one running-sum add) a transaction.
    let at = scene.app.now();
    for chunk in 0..2_500 {
        let mut writes = Vec::new();
        for n in 0..20 {
            let journal = Journal {
                id: format!("jrn_seed_{chunk}_{n}"),
                at,
                order_id: None,
                push_id: None,
                payment_id: None,
                domain: None,
                payout_id: None,
                reason: None,
                postings: vec![
                    posting(
                        LedgerAccount::SellerFrozen(alice.clone()),
                        Decimal::new(102, 2),
                    ),
                    posting(
                        LedgerAccount::SellerFrozen(alice.clone()),
                        Decimal::new(-1, 2),
                    ),
                    posting(LedgerAccount::Provider, Decimal::new(-101, 2)),
                ],
            };
            writes.extend(journal_writes(&journal));
        }
        scene.app.transact(writes).await.unwrap();
    }
    counting.take();
    let view = market_app::accounts::my_ledger(&scene.app, &alice, 50, None)
        .await
        .unwrap();
    let counts = counting.take();
    assert_eq!(view.balances.frozen.to_string(), "50500.00");
    assert_eq!(view.items.len(), 50);
    // Every partition of the 4 accounts shown (a seller's proceeds are spread over 16 each).
    let partitions: usize = [
        LedgerAccount::Seller(alice.clone()),
        LedgerAccount::SellerFrozen(alice.clone()),
        LedgerAccount::Escrow(alice.clone()),
        LedgerAccount::PayoutPending(alice.clone()),
    ]
    .iter()
    .map(|a| market_app::repo::ledger_partitions(&a.key()).len())
    .sum();
    assert_eq!(
        counts.batch_gets, 1,
        "the balances, every running sum: {counts:?}"
    );
    assert_eq!(
        counts.total(),
        1 + partitions,
        "the balances and a page of each partition: {counts:?}"
    );
    // Sent together; the counting store sees the requests past the 32nd one turn late
    // (`join_all` of more than 30 futures polls 32 of them a turn).
    assert!(counts.waves <= 2, "all at once: {counts:?}");
    let postings =
        market_app::balances::sum_of(&scene.app, &LedgerAccount::SellerFrozen(alice.clone()))
            .await
            .unwrap();
    assert_eq!(postings, view.balances.frozen);
}
