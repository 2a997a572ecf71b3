//! O8 over HTTP: money that reaches us through a credit instrument despite the cashier's
//! refusal (`disable_pay_channels`, see `alipay`) is refunded in full, exactly once, and
//! never delivered; the attempt fails with an O8 reason the buyer sees, and the buyer pays
//! again with other funds while the window is open (O5). For orders and for pushes; the
//! same bodies run on DynamoDB's API (`api::on_dynamodb`).
use market_core::ids::AccountId;
use market_core::ledger::LedgerAccount;
use market_tests::{spawn_app, Reply, TestApp};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::api::helpers::*;

/// Every credit fund channel Alipay reports (O8), one test case each.
pub const CREDIT_CHANNELS: [&str; 4] = [
    "CREDIT_CARD",
    "PCREDIT",
    "CREDITCARD",
    "PCREDITPAY_INSTALLMENT",
];

/// A `fund_bill_list` as Alipay sends it: a JSON array in a string.
pub fn funds(channels: &[(&str, &str)]) -> String {
    let bills: Vec<Value> = channels
        .iter()
        .map(|(channel, amount)| json!({ "amount": amount, "fundChannel": channel }))
        .collect();
    Value::Array(bills).to_string()
}

/// Makes the sandbox provider notify `status` for `otn`, funded as `fund_bill_list` says.
pub async fn provider_funds(app: &TestApp, otn: &str, status: &str, fund_bill_list: &str) -> Reply {
    let reply = app
        .post(
            &format!("/dev/payments/{otn}/complete"),
            None,
            json!({ "trade_status": status, "fund_bill_list": fund_bill_list }),
        )
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    reply
}

/// The refunds the provider made for `otn`, as amounts.
pub fn refunds_of(app: &TestApp, otn: &str) -> Vec<String> {
    app.running
        .sandbox
        .refunds()
        .values()
        .filter(|(trade, _)| trade == otn)
        .map(|(_, amount)| amount.to_string())
        .collect()
}

/// bob's escrow: back to zero once his money went back.
async fn escrow_of_bob(app: &TestApp) -> Decimal {
    ledger_sum(
        app,
        &[LedgerAccount::Escrow(AccountId::parse("bob").unwrap())],
    )
    .await
}

fn assert_o8_reason(view: &Value, channel: &str) {
    let reason = view["payment_failure_reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("O8:") && reason.contains(channel),
        "the buyer is told why (O8, {channel}): {view}"
    );
}

async fn owner_of(app: &TestApp, who: &str, domain: &str) -> bool {
    app.get("/me/domains", Some(who)).await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["domain"] == domain)
}

/// An order of alice's `domain` by bob with an attempt open: (order id, out_trade_no).
async fn order_paying(app: &TestApp, domain: &str, price: &str) -> (String, String) {
    orderable_listing(app, domain, price).await;
    let id = app.order("bob", &[domain]).await.body["orders"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let otn = app.pay("bob", &id).await;
    (id, otn)
}

/// A push of alice's `domain` to bob, accepted, with its attempt open: (push id, otn).
async fn push_paying(app: &TestApp, domain: &str, price: &str, lock: bool) -> (String, String) {
    app.domain(domain, "alice").await;
    let push = app
        .post(
            "/pushes",
            Some("alice"),
            json!({ "domains": [domain], "buyer": "bob", "price": price, "lock_60d": lock }),
        )
        .await;
    assert_eq!(push.status, 201, "{push:?}");
    let id = push.body["id"].as_str().unwrap().to_owned();
    let accepted = app
        .post(
            &format!("/pushes/{id}/accept"),
            Some("bob"),
            json!({ "captcha_token": "pass" }),
        )
        .await;
    assert_eq!(accepted.status, 200, "{accepted:?}");
    let otn = accepted.body["payment"]["out_trade_no"]
        .as_str()
        .unwrap()
        .to_owned();
    (id, otn)
}

/// The credit cases: each credit channel alone, and a mixed payment (balance + PCREDIT)
/// in the HTML-escaped form some versions of Alipay send.
fn credit_cases(price: &str) -> Vec<(String, String)> {
    let mut cases: Vec<(String, String)> = CREDIT_CHANNELS
        .iter()
        .map(|c| (c.to_string(), funds(&[(c, price)])))
        .collect();
    let mixed = funds(&[("ALIPAYACCOUNT", "10.00"), ("PCREDIT", "2.34")]).replace('"', "&quot;");
    cases.push(("PCREDIT".into(), mixed));
    cases
}

/// O8 for orders: every credit case is refunded in full once, the order waits for another
/// attempt with the reason shown, nothing is delivered and the ledger is balanced; then
/// the Alipay balance pays and the domain is delivered (O5).
pub async fn o8_credit_paid_orders_are_refunded_and_the_balance_then_pays(app: &TestApp) {
    alice_and_bob(app).await;
    let price = "12.34";
    let mut last = (String::new(), String::new());
    for (i, (channel, list)) in credit_cases(price).into_iter().enumerate() {
        let domain = format!("credit{i}.com");
        let (id, otn) = order_paying(app, &domain, price).await;
        let sent = provider_funds(app, &otn, "TRADE_SUCCESS", &list).await;
        assert_eq!(
            sent.body["payment_status"], "refunded",
            "{channel}: {sent:?}"
        );
        let order = app.get(&format!("/orders/{id}"), Some("bob")).await.body;
        assert_eq!(order["status"], "awaiting_payment", "{channel}: {order}");
        assert_o8_reason(&order, &channel);
        assert_eq!(
            refunds_of(app, &otn),
            vec![price],
            "{channel}: in full, once"
        );
        assert!(
            !owner_of(app, "bob", &domain).await,
            "{channel}: never delivered"
        );
        assert!(owner_of(app, "alice", &domain).await);
        assert_eq!(escrow_of_bob(app).await, Decimal::ZERO, "{channel}");
        assert_eq!(
            ledger_sum(app, &sale_accounts("alice", "bob")).await,
            Decimal::ZERO,
            "{channel}"
        );
        last = (id, otn);
    }
    // O5: the last order is paid again, from the Alipay balance alone: delivered.
    let (id, refused) = last;
    let otn = app.pay("bob", &id).await;
    assert_ne!(otn, refused, "a new attempt (O5)");
    let sent = provider_funds(
        app,
        &otn,
        "TRADE_SUCCESS",
        &funds(&[("ALIPAYACCOUNT", price)]),
    )
    .await;
    assert_eq!(sent.body["payment_status"], "succeeded", "{sent:?}");
    let order = app.get(&format!("/orders/{id}"), Some("bob")).await.body;
    assert_eq!(order["status"], "completed", "{order}");
    assert!(order["payment_failure_reason"].is_null(), "{order}");
    assert!(owner_of(app, "bob", "credit4.com").await);
    assert!(refunds_of(app, &otn).is_empty());
    assert_eq!(escrow_of_bob(app).await, Decimal::ZERO);
    assert_eq!(
        ledger_sum(app, &sale_accounts("alice", "bob")).await,
        Decimal::ZERO
    );
}

/// O8 for pushes: as for orders; the push stays accepted with the reason shown, its domain
/// stays alice's, and a new attempt from the balance completes it (locked: at once, P9).
pub async fn o8_credit_paid_pushes_are_refunded_and_the_balance_then_pays(app: &TestApp) {
    alice_and_bob(app).await;
    let price = "12.34";
    let mut last = String::new();
    for (i, (channel, list)) in credit_cases(price).into_iter().enumerate() {
        let domain = format!("pcredit{i}.com");
        let (id, otn) = push_paying(app, &domain, price, true).await;
        let sent = provider_funds(app, &otn, "TRADE_SUCCESS", &list).await;
        assert_eq!(
            sent.body["payment_status"], "refunded",
            "{channel}: {sent:?}"
        );
        let push = app.get(&format!("/pushes/{id}"), Some("bob")).await.body;
        assert_eq!(push["status"], "accepted", "{channel}: {push}");
        assert_o8_reason(&push, &channel);
        assert_eq!(
            refunds_of(app, &otn),
            vec![price],
            "{channel}: in full, once"
        );
        assert!(
            !owner_of(app, "bob", &domain).await,
            "{channel}: never delivered"
        );
        assert!(owner_of(app, "alice", &domain).await);
        assert_eq!(escrow_of_bob(app).await, Decimal::ZERO, "{channel}");
        assert_eq!(
            ledger_sum(app, &sale_accounts("alice", "bob")).await,
            Decimal::ZERO,
            "{channel}"
        );
        last = id;
    }
    let again = app
        .post(
            &format!("/pushes/{last}/pay"),
            Some("bob"),
            json!({ "method": "alipay" }),
        )
        .await;
    assert_eq!(again.status, 200, "O5: {again:?}");
    let otn = again.body["out_trade_no"].as_str().unwrap().to_owned();
    let sent = provider_funds(
        app,
        &otn,
        "TRADE_SUCCESS",
        &funds(&[("ALIPAYACCOUNT", price)]),
    )
    .await;
    assert_eq!(sent.body["payment_status"], "succeeded", "{sent:?}");
    let push = app.get(&format!("/pushes/{last}"), Some("bob")).await.body;
    assert_eq!(push["status"], "completed", "{push}");
    assert!(push["payment_failure_reason"].is_null(), "{push}");
    assert!(owner_of(app, "bob", "pcredit4.com").await);
    assert!(refunds_of(app, &otn).is_empty());
    assert_eq!(
        app.get("/me/ledger", Some("alice")).await.body["balances"]["frozen"],
        price
    );
    assert_eq!(
        ledger_sum(app, &sale_accounts("alice", "bob")).await,
        Decimal::ZERO
    );
}

#[tokio::test]
async fn o8_credit_paid_orders_are_refunded_in_full_never_delivered_and_the_balance_pays() {
    let app = spawn_app().await;
    o8_credit_paid_orders_are_refunded_and_the_balance_then_pays(&app).await;
}

#[tokio::test]
async fn o8_credit_paid_pushes_are_refunded_in_full_never_delivered_and_the_balance_pays() {
    let app = spawn_app().await;
    o8_credit_paid_pushes_are_refunded_and_the_balance_then_pays(&app).await;
}

#[tokio::test]
async fn o8_the_alipay_balance_alone_pays_an_unlocked_push() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    let (id, otn) = push_paying(&app, "balance.com", "30.00", false).await;
    let list = funds(&[("ALIPAYACCOUNT", "20.00"), ("FINANCEACCOUNT", "10.00")]);
    let sent = provider_funds(&app, &otn, "TRADE_SUCCESS", &list).await;
    assert_eq!(sent.body["payment_status"], "succeeded", "{sent:?}");
    let push = app.get(&format!("/pushes/{id}"), Some("bob")).await.body;
    assert_eq!(push["status"], "awaiting_seller_confirmation", "{push}");
    assert!(app.running.sandbox.refunds().is_empty());
}

/// The same credit notification delivered twice as it was (same `notify_id`), then again as
/// `TRADE_FINISHED` (another `notify_id`): one refund, one pair of journals.
async fn deliver_credit_thrice(app: &TestApp, otn: &str, amount: &str) {
    let list = funds(&[("PCREDIT", amount)]);
    let body = app.running.sandbox.notification_funded(
        otn,
        "TRADE_SUCCESS",
        market_core::money::Money::parse(amount).unwrap(),
        app.now().await,
        Some(&list),
    );
    for _ in 0..2 {
        let queued = app.notify_raw(body.clone().into_bytes()).await;
        assert_eq!(queued.status, 200, "{queued:?}");
    }
    app.advance(1).await; // the queue is delivered
    let finished = provider_funds(app, otn, "TRADE_FINISHED", &list).await;
    assert_eq!(finished.body["payment_status"], "refunded", "{finished:?}");
    assert_eq!(refunds_of(app, otn), vec![amount], "refunded once");
    let kinds: Vec<String> = app.get("/me/ledger", Some("bob")).await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, vec!["payment", "refund"], "one journal each");
    assert_eq!(escrow_of_bob(app).await, Decimal::ZERO);
}

#[tokio::test]
async fn o8_a_duplicated_credit_notification_refunds_an_order_once() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    let (id, otn) = order_paying(&app, "twice.com", "40.00").await;
    deliver_credit_thrice(&app, &otn, "40.00").await;
    let order = app.get(&format!("/orders/{id}"), Some("bob")).await.body;
    assert_eq!(order["status"], "awaiting_payment", "{order}");
    assert_o8_reason(&order, "PCREDIT");
    assert!(owner_of(&app, "alice", "twice.com").await);
}

#[tokio::test]
async fn o8_a_duplicated_credit_notification_refunds_a_push_once() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    let (id, otn) = push_paying(&app, "ptwice.com", "40.00", false).await;
    deliver_credit_thrice(&app, &otn, "40.00").await;
    let push = app.get(&format!("/pushes/{id}"), Some("bob")).await.body;
    assert_eq!(push["status"], "accepted", "{push}");
    assert_o8_reason(&push, "PCREDIT");
    assert!(owner_of(&app, "alice", "ptwice.com").await);
}

#[tokio::test]
async fn o8_o3_an_order_refused_for_credit_ends_failed_when_its_window_closes() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    let (id, otn) = order_paying(&app, "closing.com", "15.00").await;
    provider_funds(
        &app,
        &otn,
        "TRADE_SUCCESS",
        &funds(&[("CREDIT_CARD", "15.00")]),
    )
    .await;
    app.advance(601).await;
    let order = app.get(&format!("/orders/{id}"), Some("bob")).await.body;
    assert_eq!(order["status"], "failed", "{order}");
    assert_o8_reason(&order, "CREDIT_CARD");
    assert_problem(
        &app.post(
            &format!("/orders/{id}/pay"),
            Some("bob"),
            json!({ "method": "alipay" }),
        )
        .await,
        409,
        "PAYMENT_WINDOW_CLOSED",
    );
    assert_eq!(refunds_of(&app, &otn), vec!["15.00"]);
    // Never delivered.
    assert!(owner_of(&app, "alice", "closing.com").await);
}

#[tokio::test]
async fn o6_o8_a_refresh_that_finds_credit_funds_refunds_them() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    let lost = |otn: String, list: String| {
        let app = &app;
        async move {
            let reply = app
                .post(
                    &format!("/dev/payments/{otn}/complete"),
                    None,
                    json!({ "trade_status": "TRADE_SUCCESS", "notify": false, "fund_bill_list": list }),
                )
                .await;
            assert_eq!(reply.body["payment_status"], "pending", "{reply:?}");
        }
    };
    // An order: trade.query reports the funds, and the refresh refuses them.
    let (order_id, order_otn) = order_paying(&app, "queried.com", "9.00").await;
    lost(
        order_otn.clone(),
        funds(&[("PCREDITPAY_INSTALLMENT", "9.00")]),
    )
    .await;
    let order = app
        .post(
            &format!("/orders/{order_id}/refresh"),
            Some("bob"),
            json!({}),
        )
        .await;
    assert_eq!(order.status, 200, "{order:?}");
    assert_eq!(order.body["status"], "awaiting_payment", "{order:?}");
    assert_o8_reason(&order.body, "PCREDITPAY_INSTALLMENT");
    assert_eq!(refunds_of(&app, &order_otn), vec!["9.00"]);
    // A push, the same through its own refresh.
    let (push_id, push_otn) = push_paying(&app, "pqueried.com", "19.00", true).await;
    lost(push_otn.clone(), funds(&[("CREDITCARD", "19.00")])).await;
    let push = app
        .post(
            &format!("/pushes/{push_id}/refresh"),
            Some("bob"),
            json!({}),
        )
        .await;
    assert_eq!(push.status, 200, "{push:?}");
    assert_eq!(push.body["status"], "accepted", "{push:?}");
    assert_o8_reason(&push.body, "CREDITCARD");
    assert_eq!(refunds_of(&app, &push_otn), vec!["19.00"]);
    assert!(owner_of(&app, "alice", "pqueried.com").await);
    // The lost notifications arriving after all change nothing.
    app.provider_says(&order_otn, "TRADE_SUCCESS").await;
    app.provider_says(&push_otn, "TRADE_SUCCESS").await;
    assert_eq!(app.running.sandbox.refunds().len(), 2);
    assert_eq!(escrow_of_bob(&app).await, Decimal::ZERO);
    assert_eq!(
        ledger_sum(&app, &sale_accounts("alice", "bob")).await,
        Decimal::ZERO
    );
}
