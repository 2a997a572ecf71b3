//! O8 through the use cases directly, over the in-memory store: a credit-funded payment's
//! notification, signed by the sandbox with the `fund_bill_list` Alipay sends (here in its
//! HTML-escaped form), delivered eight times at once, is refunded exactly once and buys
//! nothing, for an order and for a push; checked on the stored records themselves. The
//! HTTP contract of the same rule is in `api::credit`.
use std::sync::Arc;

use futures::future::join_all;
use rust_decimal::Decimal;

use market_adapters::store::embedded::EmbeddedStore;
use market_app::payments::{self, Applied};
use market_core::ids::OrderId;
use market_core::ledger::LedgerAccount;
use market_core::model::{OrderStatus, PaymentStatus, PushStatus, RefundStatus};
use market_tests::scene::Scene;

use crate::app_pushes::{
    accepted_push, alice_and_bob, domain, id, payment, push_of, refund, sum_of,
};

/// A genuine `TRADE_SUCCESS` for `otn` whose funds were part balance, part Huabei, with
/// `fund_bill_list` HTML-escaped as some versions of Alipay send it; signed by the sandbox.
fn credit_notification(scene: &Scene, otn: &str, amount: &str) -> String {
    let genuine = scene.sandbox.notification(
        otn,
        "TRADE_SUCCESS",
        market_core::money::Money::parse(amount).unwrap(),
        scene.app.now(),
    );
    let mut params: Vec<(String, String)> = serde_urlencoded::from_str(&genuine).unwrap();
    params.retain(|(k, _)| k != "sign" && k != "sign_type");
    params.push((
        "fund_bill_list".into(),
        r#"[{&quot;amount&quot;:&quot;0.01&quot;,&quot;fundChannel&quot;:&quot;ALIPAYACCOUNT&quot;},{&quot;amount&quot;:&quot;1.00&quot;,&quot;fundChannel&quot;:&quot;PCREDIT&quot;}]"#.into(),
    ));
    serde_urlencoded::to_string(scene.sandbox.sign_notification(params)).unwrap()
}

/// Applies `body` eight times at once: one `Refunded`, seven `NoChange`.
async fn eight_at_once(scene: &Scene, body: &str) {
    let tasks = (0..8).map(|_| {
        let (app, body) = (scene.app.clone(), body.to_owned());
        tokio::spawn(async move { payments::apply(&app, &body).await.unwrap() })
    });
    let outcomes: Vec<Applied> = join_all(tasks)
        .await
        .into_iter()
        .map(|t| t.unwrap())
        .collect();
    let count = |which: &Applied| outcomes.iter().filter(|o| *o == which).count();
    assert_eq!(count(&Applied::Refunded), 1, "{outcomes:?}");
    assert_eq!(count(&Applied::NoChange), 7, "{outcomes:?}");
}

/// The payment refunded whole, once, confirmed by the provider; the money in and out once.
async fn refunded_once(scene: &Scene, otn: &str, amount: &str, buyer: &str) {
    assert_eq!(payment(scene, otn).await.status, PaymentStatus::Refunded);
    let refund = refund(scene, otn).await;
    assert_eq!(refund.status, RefundStatus::Confirmed);
    assert_eq!(refund.amount.to_string(), amount);
    assert!(
        refund.reason.starts_with("O8: paid through PCREDIT"),
        "{}",
        refund.reason
    );
    let at_provider = scene.sandbox.refunds();
    assert_eq!(at_provider.len(), 1, "{at_provider:?}");
    assert_eq!(sum_of(scene, LedgerAccount::Provider).await, Decimal::ZERO);
    assert_eq!(
        sum_of(scene, LedgerAccount::Escrow(id(buyer))).await,
        Decimal::ZERO
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn o8_a_credit_notification_delivered_eight_times_at_once_refunds_an_order_once() {
    let scene = Scene::over(Arc::new(EmbeddedStore::in_memory().unwrap()));
    let paid = scene.paid_orders(1, 1, 1).await.remove(0);
    let amount = paid.amount.to_string();
    eight_at_once(
        &scene,
        &credit_notification(&scene, &paid.out_trade_no, &amount),
    )
    .await;
    refunded_once(&scene, &paid.out_trade_no, &amount, &paid.buyer).await;
    let order =
        market_app::order_store::load(&*scene.app.store, &OrderId::parse(&paid.order_id).unwrap())
            .await
            .unwrap()
            .unwrap()
            .value;
    assert_eq!(order.status, OrderStatus::AwaitingPayment, "O5: pay again");
    let attempt = order.payment.unwrap();
    assert_eq!(attempt.status, PaymentStatus::Failed);
    assert!(attempt.failure.unwrap().starts_with("O8:"));
    assert_eq!(domain(&scene, "d0.com").await.owner, id(&paid.seller));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn o8_a_credit_notification_delivered_eight_times_at_once_refunds_a_push_once() {
    let scene = alice_and_bob().await;
    let (push_id, otn) = accepted_push(&scene, &["credit.com"], "25.00", true).await;
    eight_at_once(&scene, &credit_notification(&scene, &otn, "25.00")).await;
    refunded_once(&scene, &otn, "25.00", "bob").await;
    let push = push_of(&scene, &push_id, "bob").await;
    assert_eq!(push.status, PushStatus::Accepted, "O5: pay again");
    assert!(
        push.payment_failure_reason.unwrap().starts_with("O8:"),
        "the buyer sees why"
    );
    assert_eq!(domain(&scene, "credit.com").await.owner, id("alice"));
    assert_eq!(
        sum_of(&scene, LedgerAccount::SellerFrozen(id("alice"))).await,
        Decimal::ZERO,
        "nothing for the seller"
    );
}
