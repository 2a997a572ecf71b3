//! O6 for pushes over HTTP: `POST /pushes/{id}/refresh` finds a payment whose notification
//! was lost and applies it through the same exactly-once path; only the buyer may ask; and
//! both refresh routes share one rate limit per account (each call may reach the provider).
use infra::Settings;
use market_tests::{spawn_app, spawn_app_with, TestApp};
use rust_decimal::Decimal;
use serde_json::json;

use crate::api::helpers::*;

/// alice pushes `domain` to `buyer`; `buyer` accepts: (push id, out_trade_no).
async fn accepted_push(app: &TestApp, domain: &str, buyer: &str, lock: bool) -> (String, String) {
    app.domain(domain, "alice").await;
    let push = app
        .post(
            "/pushes",
            Some("alice"),
            json!({ "domains": [domain], "buyer": buyer, "price": "50.00", "lock_60d": lock }),
        )
        .await;
    assert_eq!(push.status, 201, "{push:?}");
    let id = push.body["id"].as_str().unwrap().to_owned();
    let accepted = app
        .post(
            &format!("/pushes/{id}/accept"),
            Some(buyer),
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

/// The provider records the payment; its notification is lost.
async fn paid_but_lost(app: &TestApp, otn: &str) {
    let lost = app
        .post(
            &format!("/dev/payments/{otn}/complete"),
            None,
            json!({ "trade_status": "TRADE_SUCCESS", "notify": false }),
        )
        .await;
    assert_eq!(lost.body["payment_status"], "pending", "{lost:?}");
}

async fn refresh(app: &TestApp, push_id: &str, who: &str) -> market_tests::Reply {
    app.post(&format!("/pushes/{push_id}/refresh"), Some(who), json!({}))
        .await
}

/// O6: a refresh finds each lost push payment: locked → completed at once (P9); not locked
/// → awaiting the seller's confirmation. The notification arriving after changes nothing.
pub async fn o6_push_refresh_finds_lost_payments(app: &TestApp) {
    alice_and_bob(app).await;
    for (domain, lock, expected) in [
        ("plost.com", true, "completed"),
        ("plost2.com", false, "awaiting_seller_confirmation"),
    ] {
        let (id, otn) = accepted_push(app, domain, "bob", lock).await;
        paid_but_lost(app, &otn).await;
        let before = app.get(&format!("/pushes/{id}"), Some("bob")).await;
        assert_eq!(before.body["status"], "accepted", "{before:?}");
        let refreshed = refresh(app, &id, "bob").await;
        assert_eq!(refreshed.status, 200, "{refreshed:?}");
        assert_eq!(refreshed.body["status"], expected, "{refreshed:?}");
        assert!(refreshed.body["paid_at"].is_string(), "{refreshed:?}");
        let ledger = app.get("/me/ledger", Some("alice")).await.body;
        app.provider_says(&otn, "TRADE_SUCCESS").await;
        assert_eq!(app.get("/me/ledger", Some("alice")).await.body, ledger);
        // Nothing left to ask: a second refresh shows the push as it is.
        let again = refresh(app, &id, "bob").await;
        assert_eq!(again.body["status"], expected, "{again:?}");
    }
    assert!(app.running.sandbox.refunds().is_empty());
    assert_eq!(
        app.get("/me/ledger", Some("alice")).await.body["balances"]["frozen"],
        "50.00",
        "the locked push's money at once; the unlocked one's waits in escrow"
    );
    assert_eq!(
        ledger_sum(app, &sale_accounts("alice", "bob")).await,
        Decimal::ZERO
    );
}

#[tokio::test]
async fn o6_a_push_refresh_finds_a_payment_whose_notification_was_lost() {
    let app = spawn_app().await;
    o6_push_refresh_finds_lost_payments(&app).await;
}

#[tokio::test]
async fn o6_p7_only_the_buyer_refreshes_a_push() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    app.trader("carl").await;
    let (id, otn) = accepted_push(&app, "mine.com", "bob", true).await;
    paid_but_lost(&app, &otn).await;
    assert_problem(&refresh(&app, &id, "carl").await, 404, "NOT_FOUND");
    assert_problem(&refresh(&app, &id, "alice").await, 403, "FORBIDDEN");
    assert_problem(
        &app.post(
            "/pushes/psh_01jnothing0000000000000000/refresh",
            Some("bob"),
            json!({}),
        )
        .await,
        404,
        "NOT_FOUND",
    );
    let anonymous = app
        .post(&format!("/pushes/{id}/refresh"), None, json!({}))
        .await;
    assert_problem(&anonymous, 401, "UNAUTHENTICATED");
    // None of them asked the provider for bob: the push waits for his own refresh.
    assert_eq!(
        app.get(&format!("/pushes/{id}"), Some("bob")).await.body["status"],
        "accepted"
    );
    assert_eq!(refresh(&app, &id, "bob").await.body["status"], "completed");
}

/// O6: orders' and pushes' refreshes share one budget per account; past it, 429 with
/// `Retry-After`; another account has its own; the next minute resets it.
pub async fn o6_refreshes_are_rate_limited_per_account(app: &TestApp) {
    alice_and_bob(app).await;
    app.trader("carl").await;
    let (push, _) = accepted_push(app, "limited.com", "bob", true).await;
    let (carls, _) = accepted_push(app, "carls.com", "carl", true).await;
    orderable_listing(app, "limited-order.com", "5.00").await;
    let order = app.order("bob", &["limited-order.com"]).await.body["orders"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let order_refresh = |who: &'static str| {
        let path = format!("/orders/{order}/refresh");
        async move { app.post(&path, Some(who), json!({})).await }
    };
    assert_eq!(refresh(app, &push, "bob").await.status, 200);
    assert_eq!(order_refresh("bob").await.status, 200);
    assert_eq!(refresh(app, &push, "bob").await.status, 200);
    for limited in [refresh(app, &push, "bob").await, order_refresh("bob").await] {
        assert_problem(&limited, 429, "RATE_LIMITED");
        let wait: u32 = limited
            .retry_after
            .as_deref()
            .expect("Retry-After")
            .parse()
            .unwrap();
        assert!((1..=60).contains(&wait), "{limited:?}");
    }
    assert_eq!(refresh(app, &carls, "carl").await.status, 200);
    app.advance(60).await;
    assert_eq!(refresh(app, &push, "bob").await.status, 200);
}

/// A marketplace whose refresh limit is 3 a minute, on the store `dynamo` says.
pub async fn app_with_refresh_limit(dynamo: bool) -> TestApp {
    let mut settings = Settings::for_tests();
    settings.policy.refresh_rate_per_minute = 3;
    if dynamo {
        settings.store = infra::StoreChoice::Dynamo {
            table: market_tests::moto::fresh_table_name(),
        };
    }
    spawn_app_with(settings).await
}

#[tokio::test]
async fn o6_refreshes_are_rate_limited_per_account_on_both_routes() {
    let app = app_with_refresh_limit(false).await;
    o6_refreshes_are_rate_limited_per_account(&app).await;
}
