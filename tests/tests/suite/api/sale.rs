//! A fixed-price sale end to end, and the payment path's guarantees so far: exactly once,
//! forgeries ignored, late money refunded, undeliverable domains refunded (S1, E1, O9).
use market_tests::spawn_app;
use market_tests::TestApp;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::api::helpers::*;

async fn ledger(app: &TestApp, who: &str) -> Value {
    let reply = app.get("/me/ledger", Some(who)).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.body
}

async fn owner_view(app: &TestApp, who: &str, domain: &str) -> Option<Value> {
    let reply = app.get("/me/domains", Some(who)).await;
    reply.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["domain"] == domain)
        .cloned()
}

/// Seeds, lists, cools down, orders, pays: returns (order id, out_trade_no).
async fn ordered_and_paying(app: &TestApp, domain: &str, price: &str) -> (String, String) {
    orderable_listing(app, domain, price).await;
    let order = app.order("bob", &[domain]).await;
    assert_eq!(order.status, 201, "{order:?}");
    let id = order.body["orders"][0]["id"].as_str().unwrap().to_owned();
    let otn = app.pay("bob", &id).await;
    (id, otn)
}

#[tokio::test]
async fn a_sale_moves_the_domain_and_the_money_end_to_end() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    app.domain("sold.com", "alice").await;
    let before = owner_view(&app, "alice", "sold.com").await.unwrap();
    let listing = app.list("alice", "sold.com", "1999.00").await;
    app.advance(180).await;
    let placed = app.order("bob", &["sold.com"]).await;
    assert_eq!(placed.status, 201, "{placed:?}");
    let order = &placed.body["orders"][0];
    assert_eq!(
        (order["status"].as_str(), order["total"].as_str()),
        (Some("awaiting_payment"), Some("1999.00"))
    );
    let id = order["id"].as_str().unwrap();
    let pay = app
        .post(
            &format!("/orders/{id}/pay"),
            Some("bob"),
            json!({ "method": "alipay" }),
        )
        .await;
    assert_eq!(pay.body["amount"], "1999.00");
    let otn = pay.body["out_trade_no"].as_str().unwrap();
    let notified = app.provider_says(otn, "TRADE_SUCCESS").await;
    assert_eq!(notified.body["payment_status"], "succeeded", "{notified:?}");

    let done = app.get(&format!("/orders/{id}"), Some("bob")).await.body;
    assert_eq!(done["status"], "completed");
    assert_eq!(done["items"][0]["status"], "completed");
    // O9 + A3: bob owns it, with the same expiry time.
    let after = owner_view(&app, "bob", "sold.com")
        .await
        .expect("bob owns sold.com");
    assert_eq!(after["expires_at"], before["expires_at"]);
    assert!(owner_view(&app, "alice", "sold.com").await.is_none());
    let sold = app
        .get(
            &format!("/listings/{}", listing["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(sold.body["status"], "sold");
    assert!(app.get("/listings", None).await.body["items"]
        .as_array()
        .unwrap()
        .is_empty());

    // L8: price, −1% fee (half-up), net; frozen until settlement (S4).
    let alice = ledger(&app, "alice").await;
    let amounts: Vec<(String, Decimal)> = alice["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["kind"].as_str().unwrap().to_owned(), dec(&e["amount"])))
        .collect();
    assert_eq!(
        amounts,
        vec![
            ("sale".into(), "1999.00".parse().unwrap()),
            ("fee".into(), "-19.99".parse().unwrap())
        ]
    );
    assert_eq!(alice["balances"]["frozen"], "1979.01");
    assert_eq!(alice["balances"]["available"], "0.00");
    // The buyer's escrow filled and emptied; every journal balances.
    let bob = ledger(&app, "bob").await;
    let escrow: Decimal = bob["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| dec(&e["amount"]))
        .sum();
    assert_eq!(escrow, Decimal::ZERO);
    assert_eq!(
        ledger_sum(&app, &sale_accounts("alice", "bob")).await,
        Decimal::ZERO
    );
    // S4: after the settlement period the proceeds are available.
    app.advance(7 * 24 * 3600).await;
    let alice = ledger(&app, "alice").await;
    assert_eq!(
        (
            alice["balances"]["available"].as_str(),
            alice["balances"]["frozen"].as_str()
        ),
        (Some("1979.01"), Some("0.00"))
    );
}

#[tokio::test]
async fn duplicate_and_finished_notifications_apply_once() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    let (id, otn) = ordered_and_paying(&app, "once.com", "100.00").await;
    app.provider_says(&otn, "TRADE_SUCCESS").await;
    let first = ledger(&app, "alice").await;
    app.provider_says(&otn, "TRADE_SUCCESS").await;
    app.provider_says(&otn, "TRADE_FINISHED").await;
    app.provider_says(&otn, "TRADE_CLOSED").await;
    assert_eq!(ledger(&app, "alice").await, first);
    assert_eq!(first["balances"]["frozen"], "99.00");
    assert_eq!(
        app.get(&format!("/orders/{id}"), Some("bob")).await.body["status"],
        "completed"
    );
    assert_eq!(
        ledger_sum(&app, &sale_accounts("alice", "bob")).await,
        Decimal::ZERO
    );
}

#[tokio::test]
async fn a_forged_notification_is_queued_but_changes_nothing() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    let (id, otn) = ordered_and_paying(&app, "forged.com", "100.00").await;
    let forged = format!(
        "notify_id=x&app_id=2021000000000000&out_trade_no={otn}&trade_no=1&trade_status=TRADE_SUCCESS&total_amount=100.00&sign_type=RSA2&sign=AAAA"
    );
    let response = app
        .http
        .post(format!("{}/payments/alipay/notify", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(forged)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.text().await.unwrap(),
        "success",
        "queued, so the provider may stop resending"
    );
    app.advance(1).await; // lets the queue deliver what is due
    assert_eq!(
        app.get(&format!("/orders/{id}"), Some("bob")).await.body["status"],
        "processing"
    );
    assert!(ledger(&app, "alice").await["items"]
        .as_array()
        .unwrap()
        .is_empty());
    assert!(owner_view(&app, "alice", "forged.com").await.is_some());
}

#[tokio::test]
async fn e1_money_after_the_window_is_refunded_not_sold() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    let (id, otn) = ordered_and_paying(&app, "late.com", "50.00").await;
    app.advance(601).await;
    let notified = app.provider_says(&otn, "TRADE_SUCCESS").await;
    assert_eq!(notified.body["payment_status"], "refunded", "{notified:?}");
    assert_eq!(
        app.get(&format!("/orders/{id}"), Some("bob")).await.body["status"],
        "expired"
    );
    assert!(
        owner_view(&app, "alice", "late.com").await.is_some(),
        "the domain did not move"
    );
    let bob = ledger(&app, "bob").await;
    let kinds: Vec<&str> = bob["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["payment", "refund"]);
    assert_eq!(
        ledger_sum(&app, &sale_accounts("alice", "bob")).await,
        Decimal::ZERO
    );
    assert!(ledger(&app, "alice").await["items"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn o9_a_domain_that_left_the_seller_is_refunded_alone() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    app.trader("carl").await;
    orderable_listing(&app, "keep.com", "10.00").await;
    orderable_listing(&app, "lost.com", "30.00").await;
    let placed = app.order("bob", &["keep.com", "lost.com"]).await;
    let id = placed.body["orders"][0]["id"].as_str().unwrap().to_owned();
    let otn = app.pay("bob", &id).await;
    // The registrar moves lost.com to another account before the money lands.
    app.domain("lost.com", "carl").await;
    app.provider_says(&otn, "TRADE_SUCCESS").await;
    let order = app.get(&format!("/orders/{id}"), Some("bob")).await.body;
    assert_eq!(order["status"], "completed");
    let items = order["items"].as_array().unwrap();
    let by_domain = |d: &str| items.iter().find(|i| i["domain"] == d).unwrap().clone();
    assert_eq!(by_domain("keep.com")["status"], "completed");
    assert_eq!(by_domain("lost.com")["status"], "failed");
    assert_eq!(by_domain("lost.com")["refund"], "30.00");
    assert!(owner_view(&app, "bob", "keep.com").await.is_some());
    assert!(owner_view(&app, "carl", "lost.com").await.is_some());
    assert_eq!(ledger(&app, "alice").await["balances"]["frozen"], "9.90");
    let bob = ledger(&app, "bob").await;
    let refunded: Decimal = bob["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "refund")
        .map(|e| dec(&e["amount"]))
        .sum();
    assert_eq!(refunded, "-30.00".parse::<Decimal>().unwrap());
    assert_eq!(
        ledger_sum(&app, &sale_accounts("alice", "bob")).await,
        Decimal::ZERO
    );
}

#[tokio::test]
async fn a_wrong_amount_is_rejected_and_audited() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    let (id, otn) = ordered_and_paying(&app, "amount.com", "100.00").await;
    // Correctly signed by the provider, but for another amount than the payment's.
    let store = app.running.app.store.clone();
    let body = app.running.sandbox.notification(
        &otn,
        "TRADE_SUCCESS",
        market_core::money::Money::parse("1.00").unwrap(),
        app.now().await,
    );
    let wrong = market_app::payments::apply(&app.running.app, &body)
        .await
        .unwrap();
    assert!(
        matches!(&wrong, market_app::payments::Applied::Rejected(why) if why.contains("total_amount")),
        "{wrong:?}"
    );
    let mut audited = 0;
    for pk in market_app::repo::audit_partitions(app.now().await) {
        audited += store
            .query(market_app::store::Query::table(pk))
            .await
            .unwrap()
            .items
            .len();
    }
    assert_eq!(audited, 1);
    assert_eq!(
        app.get(&format!("/orders/{id}"), Some("bob")).await.body["status"],
        "processing"
    );
}
