//! Orders over HTTP: O1, O3–O5, O7, O8, carts, cancellation.
use infra::Settings;
use market_tests::{spawn_app, spawn_app_with};
use serde_json::json;

use crate::api::helpers::*;

#[tokio::test]
async fn o1_a_seller_cannot_buy_their_own_listing() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    orderable_listing(&app, "mine.com", "5.00").await;
    assert_problem(
        &app.order("alice", &["mine.com"]).await,
        409,
        "SELF_PURCHASE",
    );
}

#[tokio::test]
async fn a1_o7_buyers_must_be_verified_and_pass_the_human_check() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    app.account("carol", false, None).await;
    orderable_listing(&app, "human.com", "5.00").await;
    assert_problem(
        &app.order("carol", &["human.com"]).await,
        422,
        "NOT_VERIFIED",
    );
    let bot = app
        .post(
            "/orders",
            Some("bob"),
            json!({ "domains": ["human.com"], "captcha_token": "robot" }),
        )
        .await;
    assert_problem(&bot, 400, "CAPTCHA_FAILED");
    assert_problem(
        &app.post(
            "/orders",
            Some("bob"),
            json!({ "domains": [], "captcha_token": "pass" }),
        )
        .await,
        400,
        "EMPTY_ORDER",
    );
    let huge: Vec<String> = (0..2001).map(|i| format!("d{i}.com")).collect();
    let too_big = app
        .post(
            "/orders",
            Some("bob"),
            json!({ "domains": huge, "captcha_token": "pass" }),
        )
        .await;
    assert_problem(&too_big, 400, "BATCH_TOO_LARGE");
    // None of that held the listing.
    assert_eq!(app.order("bob", &["human.com"]).await.status, 201);
}

#[tokio::test]
async fn o7_order_attempts_are_rate_limited_per_account() {
    let mut settings = Settings::for_tests();
    settings.policy.order_rate_per_minute = 3;
    let app = spawn_app_with(settings).await;
    alice_and_bob(&app).await;
    app.trader("eve").await;
    for _ in 0..3 {
        assert_problem(&app.order("bob", &["nothing.com"]).await, 409, "NOT_FOUND");
    }
    assert_problem(
        &app.order("bob", &["nothing.com"]).await,
        429,
        "RATE_LIMITED",
    );
    // Another account has its own budget, and the next minute resets it.
    assert_problem(&app.order("eve", &["nothing.com"]).await, 409, "NOT_FOUND");
    app.advance(60).await;
    assert_problem(&app.order("bob", &["nothing.com"]).await, 409, "NOT_FOUND");
}

/// Issue 15: the attempt is counted inside the order's own transaction; a cart of 100
/// domains (holds in a transaction of their own, the order after them) is counted too.
#[tokio::test]
async fn o7_a_cart_too_large_for_one_transaction_still_counts_its_attempt() {
    let mut settings = Settings::for_tests();
    settings.policy.order_rate_per_minute = 2;
    let app = spawn_app_with(settings).await;
    alice_and_bob(&app).await;
    app.trader("dave").await;
    // 50 domains of each of two sellers: one O2 group of 100, over one transaction's room.
    let cart: Vec<String> = (0..100).map(|i| format!("bulk{i}.com")).collect();
    for (i, domain) in cart.iter().enumerate() {
        let seller = if i % 2 == 0 { "alice" } else { "dave" };
        app.domain(domain, seller).await;
        app.list(seller, domain, "1.00").await;
    }
    app.advance(180).await;
    let names: Vec<&str> = cart.iter().map(String::as_str).collect();
    let placed = app.order("bob", &names).await;
    assert_eq!(placed.status, 201, "{placed:?}");
    assert_eq!(
        placed.body["orders"][0]["items"].as_array().unwrap().len(),
        100
    );
    // One attempt left this minute, then the limit.
    assert_problem(&app.order("bob", &["nothing.com"]).await, 409, "NOT_FOUND");
    assert_problem(
        &app.order("bob", &["nothing.com"]).await,
        429,
        "RATE_LIMITED",
    );
}

#[tokio::test]
async fn a_cart_orders_what_it_can_and_names_every_refusal() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    orderable_listing(&app, "one.com", "1.00").await;
    orderable_listing(&app, "two.com", "2.50").await;
    app.domain("unlisted.com", "alice").await;
    app.domain("cooling.com", "alice").await;
    app.list("alice", "cooling.com", "3.00").await;
    let reply = app
        .order(
            "bob",
            &[
                "one.com",
                "two.com",
                "unlisted.com",
                "cooling.com",
                "bad domain",
                "one.com",
            ],
        )
        .await;
    assert_eq!(reply.status, 201, "{reply:?}");
    let orders = reply.body["orders"].as_array().unwrap();
    assert_eq!(orders.len(), 1, "one seller: one payment group (O2)");
    assert_eq!(orders[0]["total"], "3.50");
    assert_eq!(orders[0]["items"].as_array().unwrap().len(), 2);
    let mut rejected: Vec<(String, String)> = reply.body["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["domain"].as_str().unwrap().to_owned(),
                r["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    rejected.sort();
    assert_eq!(
        rejected,
        vec![
            ("bad domain".to_owned(), "INVALID_DOMAIN".to_owned()),
            ("cooling.com".to_owned(), "COOLING_DOWN".to_owned()),
            ("unlisted.com".to_owned(), "NOT_FOUND".to_owned())
        ]
    );
    let nothing = app.order("bob", &["unlisted.com", "cooling.com"]).await;
    assert_problem(&nothing, 409, "NOTHING_ORDERABLE");
    assert_eq!(nothing.body["errors"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn o2_domains_of_several_sellers_form_groups_within_the_limits() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    app.trader("sam").await;
    for i in 0..3 {
        app.domain(&format!("a{i}.com"), "alice").await;
        app.list("alice", &format!("a{i}.com"), "1.00").await;
        app.domain(&format!("s{i}.com"), "sam").await;
        app.list("sam", &format!("s{i}.com"), "2.00").await;
    }
    app.advance(180).await;
    let reply = app
        .order(
            "bob",
            &["a0.com", "s0.com", "a1.com", "s1.com", "a2.com", "s2.com"],
        )
        .await;
    assert_eq!(reply.status, 201, "{reply:?}");
    let orders = reply.body["orders"].as_array().unwrap();
    let items: usize = orders
        .iter()
        .map(|o| o["items"].as_array().unwrap().len())
        .sum();
    assert_eq!(items, 6);
    assert_eq!(
        orders.len(),
        1,
        "two sellers, six domains: within one group's limits"
    );
    assert_eq!(orders[0]["total"], "9.00");
}

#[tokio::test]
async fn o3_o4_an_unpaid_order_expires_after_ten_minutes_and_frees_its_listing() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    app.trader("eve").await;
    orderable_listing(&app, "window.com", "5.00").await;
    let placed = app.order("bob", &["window.com"]).await;
    let id = placed.body["orders"][0]["id"].as_str().unwrap().to_owned();
    let unpaid = app.get("/me/orders?status=unpaid", Some("bob")).await;
    assert_eq!(unpaid.body["items"][0]["id"], id.as_str());
    assert_problem(
        &app.order("eve", &["window.com"]).await,
        409,
        "ORDER_PENDING",
    );
    app.advance(599).await;
    assert_eq!(
        app.get(&format!("/orders/{id}"), Some("bob")).await.body["status"],
        "awaiting_payment"
    );
    app.advance(1).await;
    assert_eq!(
        app.get(&format!("/orders/{id}"), Some("bob")).await.body["status"],
        "expired"
    );
    assert!(
        app.get("/me/orders?status=unpaid", Some("bob")).await.body["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        app.get("/me/orders?status=all", Some("bob")).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let pay = app
        .post(
            &format!("/orders/{id}/pay"),
            Some("bob"),
            json!({ "method": "alipay" }),
        )
        .await;
    assert_problem(&pay, 409, "PAYMENT_WINDOW_CLOSED");
    assert_eq!(
        app.order("eve", &["window.com"]).await.status,
        201,
        "the listing is free again"
    );
}

#[tokio::test]
async fn o8_only_alipay_is_accepted() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    orderable_listing(&app, "alipay.com", "5.00").await;
    let id = app.order("bob", &["alipay.com"]).await.body["orders"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for method in ["credit_card", "huabei", "cash"] {
        let reply = app
            .post(
                &format!("/orders/{id}/pay"),
                Some("bob"),
                json!({ "method": method }),
            )
            .await;
        assert_problem(&reply, 400, "PAYMENT_METHOD_NOT_ALLOWED");
    }
    assert_eq!(
        app.get(&format!("/orders/{id}"), Some("bob")).await.body["status"],
        "awaiting_payment"
    );
}

#[tokio::test]
async fn o5_a_failed_payment_can_be_retried_inside_the_window() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    orderable_listing(&app, "retry.com", "5.00").await;
    let id = app.order("bob", &["retry.com"]).await.body["orders"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let first = app.pay("bob", &id).await;
    assert_eq!(
        app.pay("bob", &id).await,
        first,
        "a double click reuses the pending attempt"
    );
    assert_eq!(
        app.get(&format!("/orders/{id}"), Some("bob")).await.body["status"],
        "processing"
    );
    app.provider_says(&first, "TRADE_CLOSED").await;
    assert_eq!(
        app.get(&format!("/orders/{id}"), Some("bob")).await.body["status"],
        "awaiting_payment"
    );
    let second = app.pay("bob", &id).await;
    assert_ne!(first, second, "a new attempt gets a new out_trade_no");
    app.provider_says(&second, "TRADE_SUCCESS").await;
    assert_eq!(
        app.get(&format!("/orders/{id}"), Some("bob")).await.body["status"],
        "completed"
    );
}

#[tokio::test]
async fn cancel_frees_the_listing_at_once() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    app.trader("eve").await;
    orderable_listing(&app, "cancel.com", "5.00").await;
    let id = app.order("bob", &["cancel.com"]).await.body["orders"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cancelled = app
        .post(&format!("/orders/{id}/cancel"), Some("bob"), json!({}))
        .await;
    assert_eq!(
        (cancelled.status, cancelled.body["status"].as_str()),
        (200, Some("cancelled"))
    );
    assert_eq!(app.order("eve", &["cancel.com"]).await.status, 201);
    assert_problem(
        &app.post(&format!("/orders/{id}/cancel"), Some("bob"), json!({}))
            .await,
        409,
        "ORDER_NOT_CANCELLABLE",
    );
}
