//! Payments in depth over HTTP: refunds through the provider until confirmed, fee periods
//! (S5), refresh (O6), settlement (S4).
use market_tests::{spawn_app, TestApp};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::api::helpers::*;

async fn ledger(app: &TestApp, who: &str) -> Value {
    app.get("/me/ledger", Some(who)).await.body
}

async fn paying(app: &TestApp, domain: &str, price: &str) -> (String, String) {
    orderable_listing(app, domain, price).await;
    let id = app.order("bob", &[domain]).await.body["orders"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let otn = app.pay("bob", &id).await;
    (id, otn)
}

#[tokio::test]
async fn e1_a_late_payment_is_refunded_through_the_provider_once() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    let (_, otn) = paying(&app, "late.com", "66.00").await;
    app.advance(601).await;
    app.provider_says(&otn, "TRADE_SUCCESS").await;
    app.provider_says(&otn, "TRADE_SUCCESS").await;
    let refunds = app.running.sandbox.refunds();
    assert_eq!(refunds.len(), 1, "{refunds:?}");
    let (paid_trade, amount) = refunds.values().next().unwrap();
    assert_eq!(
        (paid_trade.as_str(), amount.to_string().as_str()),
        (otn.as_str(), "66.00")
    );
}

#[tokio::test]
async fn s1_a_refund_the_provider_refuses_is_retried_until_confirmed() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    let (_, otn) = paying(&app, "retry.com", "10.00").await;
    app.running.sandbox.fail_next_refunds(2);
    app.advance(601).await;
    app.provider_says(&otn, "TRADE_SUCCESS").await; // first attempt fails
    assert!(app.running.sandbox.refunds().is_empty());
    let sweep = app.advance(61).await; // second attempt, from the sweep: fails again
    assert_eq!(
        sweep.body["sweep"]["refunds_retrying"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "{sweep:?}"
    );
    assert!(app.running.sandbox.refunds().is_empty());
    let sweep = app.advance(3600).await;
    assert_eq!(
        sweep.body["sweep"]["refunds_confirmed"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "{sweep:?}"
    );
    assert_eq!(app.running.sandbox.refunds().len(), 1);
    let again = app.advance(3600).await;
    assert!(
        again.body["sweep"]["refunds_confirmed"]
            .as_array()
            .unwrap()
            .is_empty(),
        "confirmed refunds are done"
    );
    assert_eq!(app.running.sandbox.refunds().len(), 1);
    // The ledger shows the money in and out, once each.
    let kinds: Vec<String> = ledger(&app, "bob").await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, vec!["payment", "refund"]);
}

#[tokio::test]
async fn o9_only_the_undeliverable_domain_is_refunded_at_the_provider() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    app.trader("carl").await;
    orderable_listing(&app, "keep.com", "10.00").await;
    orderable_listing(&app, "gone.com", "30.00").await;
    let id = app.order("bob", &["keep.com", "gone.com"]).await.body["orders"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let otn = app.pay("bob", &id).await;
    app.domain("gone.com", "carl").await;
    app.provider_says(&otn, "TRADE_SUCCESS").await;
    let refunds: Vec<String> = app
        .running
        .sandbox
        .refunds()
        .values()
        .map(|(_, a)| a.to_string())
        .collect();
    assert_eq!(refunds, vec!["30.00"]);
}

#[tokio::test]
async fn s5_a_fee_waiver_applies_to_orders_placed_inside_it() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    // Ordered before the waiver: its 1% is frozen on the order.
    let (before_id, before_otn) = paying(&app, "before.com", "100.00").await;
    let now = app.now().await;
    let waiver = app
        .put("/admin/fees", Some("admin"), json!({ "kind": "fixed_price", "rate": "0", "from": now, "until": now + chrono::Duration::hours(1) }))
        .await;
    assert_eq!(waiver.status, 200, "{waiver:?}");
    let during = orderable_listing(&app, "during.com", "100.00").await;
    assert_eq!(during["fee_rate"], "0");
    let during_id = app.order("bob", &["during.com"]).await.body["orders"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let during_otn = app.pay("bob", &during_id).await;
    app.provider_says(&during_otn, "TRADE_SUCCESS").await;
    app.provider_says(&before_otn, "TRADE_SUCCESS").await;
    let fees: Decimal = ledger(&app, "alice").await["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "fee")
        .map(|e| dec(&e["amount"]))
        .sum();
    assert_eq!(
        fees,
        "-1.00".parse::<Decimal>().unwrap(),
        "only the order placed before the waiver pays 1%"
    );
    assert_eq!(
        app.get(&format!("/orders/{before_id}"), Some("bob"))
            .await
            .body["status"],
        "completed"
    );
    // After the waiver the default applies again.
    app.advance(3600).await;
    app.domain("after.com", "alice").await;
    assert_eq!(
        app.list("alice", "after.com", "5.00").await["fee_rate"],
        "0.01"
    );
}

#[tokio::test]
async fn s5_fee_periods_are_validated_and_operator_only() {
    let app = spawn_app().await;
    for body in [
        json!({ "kind": "fixed_price", "rate": "1.5" }),
        json!({ "kind": "fixed_price", "rate": "-0.01" }),
        json!({ "kind": "fixed_price", "rate": "0.00001" }),
        json!({ "kind": "auction", "rate": "0.01" }),
        json!({ "kind": "push", "rate": "0.01", "from": "2026-12-01T00:00:00Z", "until": "2026-11-01T00:00:00Z" }),
    ] {
        assert_problem(
            &app.put("/admin/fees", Some("admin"), body).await,
            400,
            "INVALID_REQUEST",
        );
    }
    assert_problem(
        &app.put(
            "/admin/fees",
            Some("bob"),
            json!({ "kind": "push", "rate": "0" }),
        )
        .await,
        403,
        "FORBIDDEN",
    );
}

#[tokio::test]
async fn o6_refresh_finds_a_payment_whose_notification_was_lost() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    let (id, otn) = paying(&app, "lost.com", "20.00").await;
    let lost = app
        .post(
            &format!("/dev/payments/{otn}/complete"),
            None,
            json!({ "trade_status": "TRADE_SUCCESS", "notify": false }),
        )
        .await;
    assert_eq!(lost.body["payment_status"], "pending");
    assert_eq!(
        app.get(&format!("/orders/{id}"), Some("bob")).await.body["status"],
        "processing"
    );
    let refreshed = app
        .post(&format!("/orders/{id}/refresh"), Some("bob"), json!({}))
        .await;
    assert_eq!(refreshed.body["status"], "completed", "{refreshed:?}");
    // The notification arriving after all changes nothing.
    let before = ledger(&app, "alice").await;
    app.provider_says(&otn, "TRADE_SUCCESS").await;
    assert_eq!(ledger(&app, "alice").await, before);
    assert_eq!(
        ledger_sum(&app, &sale_accounts("alice", "bob")).await,
        Decimal::ZERO
    );
}

#[tokio::test]
async fn s4_proceeds_settle_once_after_the_settlement_period() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    let (_, otn) = paying(&app, "settle.com", "200.00").await;
    app.provider_says(&otn, "TRADE_SUCCESS").await;
    assert_eq!(
        ledger(&app, "alice").await["balances"],
        json!({ "available": "0.00", "frozen": "198.00", "paying_out": "0.00" })
    );
    app.advance(6 * 24 * 3600).await;
    assert_eq!(ledger(&app, "alice").await["balances"]["frozen"], "198.00");
    let sweep = app.advance(24 * 3600).await;
    assert_eq!(sweep.body["sweep"]["settled"].as_array().unwrap().len(), 1);
    let settled = ledger(&app, "alice").await;
    assert_eq!(
        settled["balances"],
        json!({ "available": "198.00", "frozen": "0.00", "paying_out": "0.00" })
    );
    let again = app.post("/dev/sweep", None, json!({})).await;
    assert!(again.body["settled"].as_array().unwrap().is_empty());
    assert_eq!(ledger(&app, "alice").await, settled);
    assert_eq!(
        ledger_sum(&app, &sale_accounts("alice", "bob")).await,
        Decimal::ZERO
    );
}

#[tokio::test]
async fn s4_a_refund_after_settlement_is_clawed_back_from_the_seller_never_from_fees() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    let (settled_order, settled_otn) = paying(&app, "settled.com", "100.00").await;
    app.provider_says(&settled_otn, "TRADE_SUCCESS").await;
    app.advance(7 * 24 * 3600).await; // settles 99.00 into alice's available balance
    let (frozen_order, frozen_otn) = paying(&app, "frozen.com", "50.00").await;
    app.provider_says(&frozen_otn, "TRADE_SUCCESS").await;
    assert_eq!(
        ledger(&app, "alice").await["balances"],
        json!({ "available": "99.00", "frozen": "49.50", "paying_out": "0.00" })
    );
    let fees_before = ledger_sum(&app, &[market_core::ledger::LedgerAccount::Fees]).await;

    let refund = |order: String, domain: &'static str| {
        let app = &app;
        async move {
            app.post(
                &format!("/admin/orders/{order}/refund"),
                Some("admin"),
                json!({ "domain": domain, "reason": "arbitration ruling" }),
            )
            .await
        }
    };
    let after_settlement = refund(settled_order.clone(), "settled.com").await;
    assert_eq!(after_settlement.status, 200, "{after_settlement:?}");
    assert_eq!(after_settlement.body["items"][0]["refund"], "100.00");
    let before_settlement = refund(frozen_order.clone(), "frozen.com").await;
    assert_eq!(before_settlement.status, 200, "{before_settlement:?}");
    // The seller bears both refunds in full: 99.00 − 1.00 − 99.00 = −1.00 available (a debt
    // recovered by the authorised deduction), 49.50 frozen clawed back; the fees stay.
    assert_eq!(
        ledger(&app, "alice").await["balances"],
        json!({ "available": "-1.50", "frozen": "0.00", "paying_out": "0.00" })
    );
    assert_eq!(
        ledger_sum(&app, &[market_core::ledger::LedgerAccount::Fees]).await,
        fees_before
    );
    let refunded: Vec<String> = {
        let mut r: Vec<String> = app
            .running
            .sandbox
            .refunds()
            .values()
            .map(|(_, a)| a.to_string())
            .collect();
        r.sort();
        r
    };
    assert_eq!(refunded, vec!["100.00", "50.00"]);
    // Once only; and the cancelled settlement never settles.
    assert_problem(
        &refund(settled_order, "settled.com").await,
        409,
        "NOT_REFUNDABLE",
    );
    app.advance(8 * 24 * 3600).await;
    assert_eq!(
        ledger(&app, "alice").await["balances"],
        json!({ "available": "-1.50", "frozen": "0.00", "paying_out": "0.00" })
    );
    assert_eq!(
        ledger_sum(&app, &sale_accounts("alice", "bob")).await,
        Decimal::ZERO
    );
    assert_problem(
        &app.post(
            &format!("/admin/orders/{frozen_order}/refund"),
            Some("bob"),
            json!({ "domain": "frozen.com", "reason": "x" }),
        )
        .await,
        403,
        "FORBIDDEN",
    );
}

/// Every audit record of today (refused notifications).
async fn audit_records(app: &TestApp) -> usize {
    let store = &app.running.app.store;
    let mut n = 0;
    for pk in market_app::repo::audit_partitions(app.running.app.now()) {
        n += store
            .query(market_app::store::Query::table(pk))
            .await
            .unwrap()
            .items
            .len();
    }
    n
}

#[tokio::test]
async fn the_notify_route_refuses_junk_at_the_door_and_queues_none_of_it() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    let (_, otn) = paying(&app, "door.com", "10.00").await;
    let form = |extra: &str| {
        format!("notify_id=n1&out_trade_no={otn}&trade_status=TRADE_SUCCESS&sign=AAAA{extra}")
            .into_bytes()
    };
    let too_big = app
        .notify_raw(form(&format!("&pad={}", "x".repeat(16 * 1024))))
        .await;
    assert_problem(&too_big, 413, "PAYLOAD_TOO_LARGE");
    let unsigned = app
        .notify_raw(
            format!("notify_id=n2&out_trade_no={otn}&trade_status=TRADE_SUCCESS").into_bytes(),
        )
        .await;
    assert_problem(&unsigned, 400, "INVALID_REQUEST");
    let no_trade = app.notify_raw(b"notify_id=n3&sign=AAAA".to_vec()).await;
    assert_problem(&no_trade, 400, "INVALID_REQUEST");
    // Nothing was queued: nothing waits, and nothing was delivered and refused later.
    assert_eq!(
        app.running
            .queue
            .depth(market_adapters::queue::Topic::PaymentNotifications)
            .await
            .unwrap(),
        0
    );
    app.advance(1).await;
    assert_eq!(audit_records(&app).await, 0);
    // A forgery that passes the door is queued, refused by the consumer, and audited.
    let forged = app.notify_raw(form("")).await;
    assert_eq!(
        (forged.status, forged.body.as_str()),
        (200, Some("success"))
    );
    app.advance(1).await;
    assert_eq!(audit_records(&app).await, 1);
}
