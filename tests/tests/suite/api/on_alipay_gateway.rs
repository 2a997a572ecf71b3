//! The whole payment path once against a stand-in of Alipay's gateway
//! (`market_tests::gateway`), configured exactly as API.md says (`ALIPAY_GATEWAY` and the
//! keys): the buyer opens the signed page-pay URL, pays, the signed notification arrives
//! (or is lost and found by a refresh, O6), late money is refunded (E1), proceeds settle
//! (S4) and are paid out (S6) through transfers whose answers are lost, slow or busy, and
//! looked up before anything is decided. The stand-in refuses any request whose signature
//! does not verify and signs its answers.
use chrono::Utc;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use market_core::ids::AccountId;
use market_core::ledger::LedgerAccount;
use market_tests::client::spawn_app_with_env;
use market_tests::gateway::{Fault, Gateway};
use market_tests::TestApp;

use crate::api::helpers::*;

const TRANSFER: &str = "alipay.fund.trans.uni.transfer";

/// The marketplace on the stand-in; gateway calls time out after 1 s (API.md allows ≤ 10 s).
async fn app_on(gateway: &Gateway) -> TestApp {
    let mut vars = gateway.env();
    vars.push(("ALIPAY_TIMEOUT_MS", "1000".into()));
    spawn_app_with_env(infra::Settings::for_tests(), &vars).await
}

/// Orders `domain` as bob and opens its payment page: returns (order id, out_trade_no).
async fn ordered_and_opened(app: &TestApp, gateway: &Gateway, domain: &str) -> (String, String) {
    orderable_listing(app, domain, "100.00").await;
    let placed = app.order("bob", &[domain]).await;
    assert_eq!(placed.status, 201, "{placed:?}");
    let id = placed.body["orders"][0]["id"].as_str().unwrap().to_owned();
    let pay = app
        .post(
            &format!("/orders/{id}/pay"),
            Some("bob"),
            json!({ "method": "alipay" }),
        )
        .await;
    assert_eq!(pay.status, 200, "{pay:?}");
    let url = pay.body["pay_url"].as_str().unwrap();
    assert!(url.starts_with(&gateway.url()), "{url}");
    let page = reqwest::get(url).await.unwrap();
    assert_eq!(
        page.status(),
        200,
        "the stand-in verified the page-pay signature"
    );
    (id, pay.body["out_trade_no"].as_str().unwrap().to_owned())
}

async fn order_status(app: &TestApp, id: &str) -> Value {
    app.get(&format!("/orders/{id}"), Some("bob")).await.body["status"].clone()
}

/// The order's status once the queued notification has been applied: the runner's
/// background pump may be applying it while the test asks, so ask again for up to 5 s
/// (the wait is for a consumer, never for a deadline: the clock does not move).
async fn status_once_applied(app: &TestApp, id: &str, want: &str) -> Value {
    for _ in 0..250 {
        app.advance(0).await;
        let status = order_status(app, id).await;
        if status == want {
            return status;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    order_status(app, id).await
}

async fn available(app: &TestApp) -> Value {
    app.get("/me/ledger?limit=200", Some("alice")).await.body["balances"]["available"].clone()
}

/// A payout of `amount` whose first answer is lost (`fault`), then found by the sweep's
/// lookup: paid once.
async fn payout_through(app: &TestApp, gateway: &Gateway, amount: &str, fault: Fault) {
    let before = gateway.transfers().len();
    let sends_before = gateway.calls(TRANSFER);
    gateway.fail_next(TRANSFER, fault);
    let requested = app
        .post("/me/payouts", Some("alice"), json!({ "amount": amount }))
        .await;
    assert_eq!(requested.status, 202, "{requested:?}");
    assert_eq!(
        requested.body["status"], "pending",
        "{fault:?}: the answer was lost"
    );
    let id = requested.body["id"].as_str().unwrap().to_owned();
    app.advance(120).await;
    let done = app.get(&format!("/me/payouts/{id}"), Some("alice")).await;
    assert_eq!(done.body["status"], "succeeded", "{fault:?}: {done:?}");
    let transfers = gateway.transfers();
    assert_eq!(transfers.len(), before + 1, "{fault:?}: paid exactly once");
    // A send that was done is found by the lookup, never sent again; a busy one is resent.
    let sends = if fault == Fault::Busy { 2 } else { 1 };
    assert_eq!(gateway.calls(TRANSFER) - sends_before, sends, "{fault:?}");
    assert_eq!(transfers[&id].amount, amount);
    assert_eq!(transfers[&id].identity, "alice@example.com");
    assert_eq!(transfers[&id].name.as_deref(), Some("Alice Li"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s1_s6_the_whole_payment_path_runs_against_a_stand_in_of_alipays_gateway() {
    let gateway = Gateway::start().await;
    let app = app_on(&gateway).await;
    gateway.add_payee("alice@example.com", "Alice Li");
    let alice = app
        .put(
            "/admin/accounts/alice",
            Some("admin"),
            json!({ "real_name_verified": true, "real_name": "Alice Li", "payout_account": "alice@example.com" }),
        )
        .await;
    assert_eq!(alice.status, 200, "{alice:?}");
    app.trader("bob").await;

    // A sale whose signed notification arrives.
    let (first, otn) = ordered_and_opened(&app, &gateway, "gw-one.com").await;
    let notification = gateway.buyer_pays(&otn, "ALIPAYACCOUNT", Utc::now());
    assert_eq!(app.notify_raw(notification.into_bytes()).await.status, 200);
    assert_eq!(
        status_once_applied(&app, &first, "completed").await,
        "completed"
    );

    // A sale whose notification is lost: the buyer's refresh asks the gateway (O6).
    let (second, otn) = ordered_and_opened(&app, &gateway, "gw-two.com").await;
    let _lost = gateway.buyer_pays(&otn, "ALIPAYACCOUNT", Utc::now());
    let refreshed = app
        .post(&format!("/orders/{second}/refresh"), Some("bob"), json!({}))
        .await;
    assert_eq!(refreshed.status, 200, "{refreshed:?}");
    assert_eq!(order_status(&app, &second).await, "completed");

    // Money after the window: refunded through alipay.trade.refund, once (E1).
    let (late, otn) = ordered_and_opened(&app, &gateway, "gw-late.com").await;
    app.advance(601).await;
    let notification = gateway.buyer_pays(&otn, "ALIPAYACCOUNT", Utc::now());
    app.notify_raw(notification.clone().into_bytes()).await;
    app.notify_raw(notification.into_bytes()).await;
    for _ in 0..250 {
        app.advance(0).await;
        if !gateway.refunds().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    app.advance(1).await; // the duplicate, if still queued, meets the refund already made
    assert_eq!(order_status(&app, &late).await, "expired");
    let refunds: Vec<(String, String)> = gateway.refunds().into_values().collect();
    assert_eq!(refunds, vec![(otn.clone(), "100.00".to_owned())]);

    // S4 then S6: 198.00 settles; paid out through a lost, a slow and a busy answer.
    app.advance(7 * 24 * 3600 + 60).await;
    assert_eq!(available(&app).await, "198.00");
    payout_through(&app, &gateway, "50.00", Fault::DoneThen502).await;
    payout_through(
        &app,
        &gateway,
        "40.00",
        Fault::DoneButSlow(std::time::Duration::from_secs(3)),
    )
    .await;
    payout_through(&app, &gateway, "30.00", Fault::Busy).await;
    assert_eq!(available(&app).await, "78.00");

    // A payee whose real name does not match is refused: the money comes back, with why.
    let renamed = app
        .put(
            "/admin/accounts/alice",
            Some("admin"),
            json!({ "real_name_verified": true, "real_name": "Alice Wrong", "payout_account": "alice@example.com" }),
        )
        .await;
    assert_eq!(renamed.status, 200);
    let refused = app.post("/me/payouts", Some("alice"), json!({})).await;
    assert_eq!(refused.body["status"], "failed", "{refused:?}");
    assert!(refused.body["failure_reason"]
        .as_str()
        .unwrap()
        .contains("PAYEE_USER_INFO_ERROR"));
    assert_eq!(available(&app).await, "78.00");

    assert_eq!(
        gateway.bad_signatures(),
        0,
        "every request was signed with the app key"
    );
    let methods = gateway.methods();
    for method in [
        "page.open",
        "alipay.trade.query",
        "alipay.trade.refund",
        TRANSFER,
        "alipay.fund.trans.common.query",
    ] {
        assert!(
            methods.iter().any(|m| m == method),
            "{method} never called: {methods:?}"
        );
    }
    let mut accounts = sale_accounts("alice", "bob");
    accounts.push(LedgerAccount::PayoutPending(
        AccountId::parse("alice").unwrap(),
    ));
    assert_eq!(ledger_sum(&app, &accounts).await, Decimal::ZERO);
}

#[tokio::test]
async fn o6_requests_signed_with_the_wrong_key_are_refused_by_the_gateway_and_change_nothing() {
    let gateway = Gateway::start().await;
    let mut vars = gateway.env();
    // Signed with a key Alipay does not know: the stand-in refuses every call.
    vars.retain(|(name, _)| *name != "ALIPAY_APP_PRIVATE_KEY_PEM");
    vars.push((
        "ALIPAY_APP_PRIVATE_KEY_PEM",
        market_tests::gateway::fixture("alipay_private.pem"),
    ));
    let app = spawn_app_with_env(infra::Settings::for_tests(), &vars).await;
    alice_and_bob(&app).await;
    orderable_listing(&app, "gw-bad.com", "100.00").await;
    let placed = app.order("bob", &["gw-bad.com"]).await;
    let order = placed.body["orders"][0]["id"].as_str().unwrap().to_owned();
    let pay = app
        .post(
            &format!("/orders/{order}/pay"),
            Some("bob"),
            json!({ "method": "alipay" }),
        )
        .await;
    assert_eq!(pay.status, 200, "{pay:?}");
    let url = pay.body["pay_url"].as_str().unwrap();
    assert_eq!(
        reqwest::get(url).await.unwrap().status(),
        400,
        "the cashier refuses it"
    );
    let refreshed = app
        .post(&format!("/orders/{order}/refresh"), Some("bob"), json!({}))
        .await;
    assert!(
        refreshed.status < 500 || refreshed.status == 503,
        "{refreshed:?}"
    );
    assert_eq!(order_status(&app, &order).await, "processing");
    assert!(gateway.bad_signatures() >= 2);
    let otn = pay.body["out_trade_no"].as_str().unwrap();
    assert!(gateway.trade(otn).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn o8_credit_is_hidden_at_the_cashier_and_a_credit_payment_is_refunded_not_delivered() {
    let gateway = Gateway::start().await;
    let app = app_on(&gateway).await;
    alice_and_bob(&app).await;
    let (id, otn) = ordered_and_opened(&app, &gateway, "gw-credit.com").await;
    let trade = gateway.trade(&otn).unwrap();
    for channel in ["credit_group", "pcredit", "creditCard"] {
        assert!(
            trade.disabled_channels.split(',').any(|c| c == channel),
            "{channel} offered: {}",
            trade.disabled_channels
        );
    }
    // Huabei anyway (an old app, a cashier that ignored the list): refunded in full.
    let notification = gateway.buyer_pays(&otn, "PCREDIT", Utc::now());
    app.notify_raw(notification.into_bytes()).await;
    for _ in 0..250 {
        app.advance(0).await;
        if !gateway.refunds().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let refunds: Vec<(String, String)> = gateway.refunds().into_values().collect();
    assert_eq!(refunds, vec![(otn.clone(), "100.00".to_owned())]);
    let order = app.get(&format!("/orders/{id}"), Some("bob")).await.body;
    assert_eq!(order["status"], "awaiting_payment", "{order}");
    let domains = app.get("/me/domains", Some("bob")).await.body;
    assert!(
        domains["items"].as_array().unwrap().is_empty(),
        "not delivered"
    );
    assert_eq!(gateway.bad_signatures(), 0);
}

/// alice with `balance` available to pay out, on a fresh stand-in.
async fn seller_with_money(gateway: &Gateway) -> TestApp {
    let app = app_on(gateway).await;
    gateway.add_payee("alice@example.com", "Alice Li");
    let alice = app
        .put(
            "/admin/accounts/alice",
            Some("admin"),
            json!({ "real_name_verified": true, "real_name": "Alice Li", "payout_account": "alice@example.com" }),
        )
        .await;
    assert_eq!(alice.status, 200);
    app.trader("bob").await;
    let (id, otn) = ordered_and_opened(&app, gateway, "gw-money.com").await;
    app.notify_raw(
        gateway
            .buyer_pays(&otn, "ALIPAYACCOUNT", Utc::now())
            .into_bytes(),
    )
    .await;
    status_once_applied(&app, &id, "completed").await;
    app.advance(7 * 24 * 3600 + 60).await;
    assert_eq!(available(&app).await, "99.00");
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s6_a_refused_resend_never_returns_money_an_earlier_send_paid() {
    let gateway = Gateway::start().await;
    let app = seller_with_money(&gateway).await;
    // The first send pays but its answer is lost; the lookup does not see it yet; the
    // resend is refused (as Alipay may refuse a resend): the money must not come back.
    gateway.fail_next(TRANSFER, Fault::DoneThen502);
    gateway.fail_next("alipay.fund.trans.common.query", Fault::NotSeenYet);
    gateway.fail_next(TRANSFER, Fault::Refuse("PAYEE_NOT_EXIST"));
    let requested = app.post("/me/payouts", Some("alice"), json!({})).await;
    assert_eq!(requested.body["status"], "pending", "{requested:?}");
    let id = requested.body["id"].as_str().unwrap().to_owned();
    app.advance(120).await;
    let done = app.get(&format!("/me/payouts/{id}"), Some("alice")).await;
    assert_eq!(done.body["status"], "succeeded", "{done:?}");
    assert_eq!(gateway.transfers().len(), 1);
    assert_eq!(gateway.calls(TRANSFER), 2);
    assert_eq!(
        available(&app).await,
        "0.00",
        "nothing came back to be paid twice"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s6_a_refused_resend_with_nothing_paid_fails_and_returns_the_money() {
    let gateway = Gateway::start().await;
    let app = seller_with_money(&gateway).await;
    gateway.fail_next(TRANSFER, Fault::Busy);
    gateway.fail_next(TRANSFER, Fault::Refuse("PAYEE_NOT_EXIST"));
    let requested = app.post("/me/payouts", Some("alice"), json!({})).await;
    let id = requested.body["id"].as_str().unwrap().to_owned();
    app.advance(120).await;
    let done = app.get(&format!("/me/payouts/{id}"), Some("alice")).await;
    assert_eq!(done.body["status"], "failed", "{done:?}");
    assert!(done.body["failure_reason"]
        .as_str()
        .unwrap()
        .contains("PAYEE_NOT_EXIST"));
    assert!(gateway.transfers().is_empty());
    assert_eq!(available(&app).await, "99.00");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s6_without_certificate_mode_a_payout_waits_in_flight_and_is_never_returned_blind() {
    let gateway = Gateway::start().await;
    let mut vars = gateway.env();
    vars.retain(|(name, _)| !name.ends_with("_CERT_SN"));
    vars.push(("ALIPAY_TIMEOUT_MS", "1000".into()));
    let app = spawn_app_with_env(infra::Settings::for_tests(), &vars).await;
    gateway.add_payee("alice@example.com", "Alice Li");
    app.put(
        "/admin/accounts/alice",
        Some("admin"),
        json!({ "real_name_verified": true, "real_name": "Alice Li", "payout_account": "alice@example.com" }),
    )
    .await;
    app.trader("bob").await;
    let (id, otn) = ordered_and_opened(&app, &gateway, "gw-nocert.com").await;
    app.notify_raw(
        gateway
            .buyer_pays(&otn, "ALIPAYACCOUNT", Utc::now())
            .into_bytes(),
    )
    .await;
    status_once_applied(&app, &id, "completed").await;
    app.advance(7 * 24 * 3600 + 60).await;
    let requested = app.post("/me/payouts", Some("alice"), json!({})).await;
    assert_eq!(requested.body["status"], "pending", "{requested:?}");
    for _ in 0..3 {
        app.advance(3600).await;
    }
    let payout = app
        .get(
            &format!("/me/payouts/{}", requested.body["id"].as_str().unwrap()),
            Some("alice"),
        )
        .await;
    assert_eq!(
        payout.body["status"], "pending",
        "refused calls decide nothing"
    );
    let balances = app.get("/me/ledger", Some("alice")).await.body["balances"].clone();
    assert_eq!(
        (
            balances["available"].as_str(),
            balances["paying_out"].as_str()
        ),
        (Some("0.00"), Some("99.00"))
    );
    assert!(gateway.transfers().is_empty());
}

/// S4 against the stand-in: a verified settlement account is paid, in the company's name;
/// a bank sub-account as a corporate bank account (`BANKCARD_ACCOUNT` under
/// `TRANS_BANKCARD_NO_PWD`), and a lost answer to it is looked up under that product.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s4_a_payout_to_the_verified_settlement_account_goes_through_the_gateway() {
    let gateway = Gateway::start().await;
    let app = seller_with_money(&gateway).await;
    const COMPANY: &str = "Alice Trading Co., Ltd.";
    app.put(
        "/admin/accounts/alice",
        Some("admin"),
        json!({ "real_name_verified": true, "real_name": COMPANY, "payout_account": "alice@example.com", "enterprise": true }),
    )
    .await;
    gateway.add_payee("finance@alice.example", COMPANY);
    gateway.add_payee("6228480012345678901", COMPANY);
    let bind = |kind: &str, account: &str| json!({ "kind": kind, "account": account, "company_name": COMPANY, "deduction_authorised": true });
    let verify = "/admin/accounts/alice/settlement-account/verify";

    let bound = app
        .put(
            "/me/settlement-account",
            Some("alice"),
            bind("enterprise_alipay", "finance@alice.example"),
        )
        .await;
    assert_eq!(bound.status, 200, "{bound:?}");
    assert_eq!(app.post(verify, Some("admin"), json!({})).await.status, 200);
    let paid = app
        .post("/me/payouts", Some("alice"), json!({ "amount": "40.00" }))
        .await;
    assert_eq!(paid.body["status"], "succeeded", "{paid:?}");
    let id = paid.body["id"].as_str().unwrap();
    let transfers = gateway.transfers();
    assert_eq!(transfers[id].identity, "finance@alice.example");
    assert_eq!(transfers[id].name.as_deref(), Some(COMPANY));

    app.put(
        "/me/settlement-account",
        Some("alice"),
        bind("bank_sub_account", "6228480012345678901"),
    )
    .await;
    assert_eq!(app.post(verify, Some("admin"), json!({})).await.status, 200);
    gateway.fail_next(TRANSFER, Fault::DoneThen502);
    let pending = app
        .post("/me/payouts", Some("alice"), json!({ "amount": "50.00" }))
        .await;
    assert_eq!(pending.body["status"], "pending", "{pending:?}");
    assert_eq!(pending.body["payee_kind"], "bank_account");
    let id = pending.body["id"].as_str().unwrap().to_owned();
    app.advance(120).await;
    let done = app.get(&format!("/me/payouts/{id}"), Some("alice")).await;
    assert_eq!(done.body["status"], "succeeded", "{done:?}");
    let transfers = gateway.transfers();
    assert_eq!(transfers.len(), 2, "paid once each");
    assert_eq!(
        gateway.calls(TRANSFER),
        2,
        "the lost answer was found by a lookup under the bank product, not sent again"
    );
    assert_eq!(transfers[&id].identity, "6228480012345678901");
    assert_eq!(transfers[&id].name.as_deref(), Some(COMPANY));
    assert_eq!(available(&app).await, "9.00");
}
