//! Payments through the use cases directly (`market_app::payments`, the sweep), over the
//! in-memory store with no HTTP in between: a notification delivered many times at once
//! applies once (S1), and a refund the provider refuses is retried by the sweep, with its
//! backoff, until confirmed (S1), checked on the stored refund record. The HTTP contract of
//! the same rules is in `api::sale` and `api::payments`.
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use futures::future::join_all;
use rust_decimal::Decimal;

use market_adapters::store::embedded::EmbeddedStore;
use market_app::payments::{self, Applied};
use market_app::sweep;
use market_core::ids::OrderId;
use market_core::ledger::LedgerAccount;
use market_core::model::{DomainFlags, OrderStatus, PaymentStatus, PushStatus, RefundStatus};
use market_tests::scene::Scene;

use crate::app_pushes::{
    accepted_push, alice_and_bob, domain, id, ledger_sum, payment, push_of, refund, register,
    sum_of, trade_success,
};

/// Asserts that `later` is `seconds` after `at`, give or take the real time a step takes
/// (the dev clock runs on from its offset).
fn about(at: DateTime<Utc>, later: DateTime<Utc>, seconds: i64) {
    let gap = later - at;
    assert!(
        (gap - Duration::seconds(seconds)).abs() < Duration::seconds(2),
        "{gap} is not {seconds}s"
    );
}

/// Applies `body` `n` times at once; returns the outcomes.
async fn concurrently(scene: &Scene, body: &str, n: usize) -> Vec<Applied> {
    let app = scene.app.clone();
    let tasks = (0..n).map(|_| {
        let app = app.clone();
        let body = body.to_owned();
        tokio::spawn(async move { payments::apply(&app, &body).await.unwrap() })
    });
    join_all(tasks)
        .await
        .into_iter()
        .map(|t| t.unwrap())
        .collect()
}

fn count(outcomes: &[Applied], which: &Applied) -> usize {
    outcomes.iter().filter(|o| *o == which).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s1_a_notification_delivered_eight_times_at_once_applies_once() {
    // An order: one Paid, seven NoChange, one sale, the money in once.
    let scene = Scene::over(Arc::new(EmbeddedStore::in_memory().unwrap()));
    let paid = scene.paid_orders(1, 1, 1).await.remove(0);
    let amount = paid.amount.to_string();
    let body = trade_success(&scene, &paid.out_trade_no, &amount);
    let outcomes = concurrently(&scene, &body, 8).await;
    assert_eq!(count(&outcomes, &Applied::Paid), 1, "{outcomes:?}");
    assert_eq!(count(&outcomes, &Applied::NoChange), 7, "{outcomes:?}");
    // TRADE_FINISHED after TRADE_SUCCESS is the same payment: nothing new.
    let finished = scene.sandbox.notification(
        &paid.out_trade_no,
        "TRADE_FINISHED",
        paid.amount,
        scene.app.now(),
    );
    assert_eq!(
        payments::apply(&scene.app, &finished).await.unwrap(),
        Applied::NoChange
    );
    let order =
        market_app::order_store::load(&*scene.app.store, &OrderId::parse(&paid.order_id).unwrap())
            .await
            .unwrap()
            .unwrap()
            .value;
    assert_eq!(order.status, OrderStatus::Completed);
    assert_eq!(domain(&scene, "d0.com").await.owner, id(&paid.buyer));
    let provider = sum_of(&scene, LedgerAccount::Provider).await;
    assert_eq!(provider, -paid.amount.amount(), "the money came in once");
    assert_eq!(
        sum_of(&scene, LedgerAccount::Escrow(id(&paid.buyer))).await,
        Decimal::ZERO
    );
    assert!(scene.sandbox.refunds().is_empty());

    // A push: the same, through the push's own path.
    let scene = alice_and_bob().await;
    let (push_id, otn) = accepted_push(&scene, &["once.com"], "25.00", true).await;
    let body = trade_success(&scene, &otn, "25.00");
    let outcomes = concurrently(&scene, &body, 8).await;
    assert_eq!(count(&outcomes, &Applied::Paid), 1, "{outcomes:?}");
    assert_eq!(count(&outcomes, &Applied::NoChange), 7, "{outcomes:?}");
    assert_eq!(
        push_of(&scene, &push_id, "bob").await.status,
        PushStatus::Completed
    );
    assert_eq!(
        sum_of(&scene, LedgerAccount::SellerFrozen(id("alice"))).await,
        Decimal::new(2500, 2)
    );
    assert_eq!(ledger_sum(&scene).await, Decimal::ZERO);
    assert!(scene.sandbox.refunds().is_empty());
}

#[tokio::test]
async fn s1_a_refund_the_provider_refuses_is_retried_by_the_sweep_with_backoff_until_confirmed() {
    let scene = alice_and_bob().await;
    let (push_id, otn) = accepted_push(&scene, &["fine.com", "flagged.com"], "75.00", true).await;
    // P4: a domain the registry flags after acceptance fails the push at payment; the
    // provider is down for the first three refund attempts.
    let restricted = DomainFlags {
        restricted: true,
        ..DomainFlags::default()
    };
    register(&scene, "flagged.com", "alice", restricted).await;
    scene.sandbox.fail_next_refunds(3);
    let applied = payments::apply(&scene.app, &trade_success(&scene, &otn, "75.00"))
        .await
        .unwrap();
    assert_eq!(applied, Applied::Refunded);
    assert_eq!(
        push_of(&scene, &push_id, "bob").await.status,
        PushStatus::Failed
    );
    // Attempt 1 (at once, after the refund was recorded) failed; the refund waits 60 s.
    let pending = refund(&scene, &otn).await;
    assert_eq!(
        (pending.status, pending.attempts),
        (RefundStatus::Pending, 1)
    );
    about(pending.created_at, pending.next_attempt_at, 60);
    assert_eq!(payment(&scene, &otn).await.status, PaymentStatus::Refunded);
    // Recorded in the ledger once, whatever the provider says: escrow is already empty.
    assert_eq!(ledger_sum(&scene).await, Decimal::ZERO);
    assert_eq!(
        sum_of(&scene, LedgerAccount::Escrow(id("bob"))).await,
        Decimal::ZERO
    );

    // Not due yet: the sweep leaves it alone.
    let report = sweep::sweep(&scene.app).await.unwrap();
    assert!(
        report.refunds_retrying.is_empty() && report.refunds_confirmed.is_empty(),
        "{report:?}"
    );
    assert_eq!(refund(&scene, &otn).await.attempts, 1);

    // Attempts 2 and 3 from the sweep fail, each waiting twice as long as the one before.
    let journal = format!("refund:{otn}:all");
    for (attempts, wait) in [(2, 120), (3, 240)] {
        let due = refund(&scene, &otn).await.next_attempt_at;
        scene
            .clock
            .advance(due - scene.app.now() + Duration::seconds(1));
        let report = sweep::sweep(&scene.app).await.unwrap();
        assert_eq!(report.refunds_retrying, vec![journal.clone()], "{report:?}");
        let retrying = refund(&scene, &otn).await;
        assert_eq!(
            (retrying.status, retrying.attempts),
            (RefundStatus::Pending, attempts)
        );
        about(scene.app.now(), retrying.next_attempt_at, wait);
        assert!(scene.sandbox.refunds().is_empty());
    }

    // Attempt 4: confirmed, the whole payment refunded once.
    let due = refund(&scene, &otn).await.next_attempt_at;
    scene
        .clock
        .advance(due - scene.app.now() + Duration::seconds(1));
    let report = sweep::sweep(&scene.app).await.unwrap();
    assert_eq!(report.refunds_confirmed, vec![journal], "{report:?}");
    let confirmed = refund(&scene, &otn).await;
    assert_eq!(
        (confirmed.status, confirmed.attempts),
        (RefundStatus::Confirmed, 4)
    );
    assert!(confirmed
        .confirmed_at
        .is_some_and(|at| at >= due && at <= scene.app.now()));
    let refunds: Vec<_> = scene.sandbox.refunds().into_values().collect();
    assert_eq!(refunds, vec![(otn.clone(), confirmed.amount)]);
    assert_eq!(confirmed.amount.to_string(), "75.00");

    // Confirmed refunds are done: later sweeps send nothing more.
    scene.clock.advance(Duration::hours(2));
    let report = sweep::sweep(&scene.app).await.unwrap();
    assert!(
        report.refunds_retrying.is_empty() && report.refunds_confirmed.is_empty(),
        "{report:?}"
    );
    assert_eq!(scene.sandbox.refunds().len(), 1);
    assert_eq!(ledger_sum(&scene).await, Decimal::ZERO);
    // The seller keeps the domain that could be delivered, free again.
    let fine = domain(&scene, "fine.com").await;
    assert_eq!((fine.owner, fine.trade), (id("alice"), None));
}
