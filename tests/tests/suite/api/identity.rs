//! Identity (API.md conventions): tokens, roles, and what a caller may see.
use chrono::{Duration, Utc};
use market_tests::spawn_app;
use market_web::auth::sign_token;
use serde_json::json;

use crate::api::helpers::*;

#[tokio::test]
async fn no_token_bad_signature_or_expired_token_is_401() {
    let app = spawn_app().await;
    assert_problem(&app.get("/me/listings", None).await, 401, "UNAUTHENTICATED");
    let forged = sign_token(
        "another-secret",
        "alice",
        &[],
        (Utc::now() + Duration::hours(1)).timestamp(),
    );
    let expired = sign_token(
        secrecy::ExposeSecret::expose_secret(&app.running.settings.jwt_secret),
        "alice",
        &[],
        (Utc::now() - Duration::minutes(5)).timestamp(),
    );
    for token in [forged, expired, "garbage".to_owned()] {
        let auth = format!("Bearer {token}");
        let reply = app
            .send(
                reqwest::Method::GET,
                "/me/listings",
                None,
                None,
                &[("authorization", &auth)],
            )
            .await;
        assert_problem(&reply, 401, "UNAUTHENTICATED");
    }
}

#[tokio::test]
async fn operator_routes_need_the_admin_role() {
    let app = spawn_app().await;
    let reply = app
        .put(
            "/admin/accounts/mallory",
            Some("mallory"),
            json!({ "real_name_verified": true }),
        )
        .await;
    assert_problem(&reply, 403, "FORBIDDEN");
    // Nothing was written: mallory is still unknown, so cannot sell.
    app.trader("alice").await;
    app.domain("mallory.com", "mallory").await;
    let listing = app
        .post(
            "/listings",
            Some("mallory"),
            json!({ "domain": "mallory.com", "price": "1.00" }),
        )
        .await;
    assert_problem(&listing, 422, "NOT_VERIFIED");
}

#[tokio::test]
async fn the_seller_is_the_token_never_the_body() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    app.domain("alice.com", "alice").await;
    let reply = app
        .post(
            "/listings",
            Some("bob"),
            json!({ "domain": "alice.com", "price": "1.00", "seller": "alice" }),
        )
        .await;
    assert_problem(&reply, 400, "INVALID_REQUEST");
    let reply = app
        .post(
            "/listings",
            Some("bob"),
            json!({ "domain": "alice.com", "price": "1.00" }),
        )
        .await;
    assert_problem(&reply, 422, "NOT_OWNER");
}

#[tokio::test]
async fn another_buyers_order_is_not_found_and_another_sellers_listing_is_forbidden() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    app.trader("eve").await;
    let listing = orderable_listing(&app, "shared.com", "10.00").await;
    let id = listing["id"].as_str().unwrap();
    let order = app.order("bob", &["shared.com"]).await;
    let order_id = order.body["orders"][0]["id"].as_str().unwrap();
    assert_problem(
        &app.get(&format!("/orders/{order_id}"), Some("eve")).await,
        404,
        "NOT_FOUND",
    );
    let pay = app
        .post(
            &format!("/orders/{order_id}/pay"),
            Some("eve"),
            json!({ "method": "alipay" }),
        )
        .await;
    assert_problem(&pay, 404, "NOT_FOUND");
    assert_problem(
        &app.patch(
            &format!("/listings/{id}"),
            Some("eve"),
            json!({ "price": "1.00" }),
        )
        .await,
        403,
        "FORBIDDEN",
    );
    assert_problem(
        &app.delete(&format!("/listings/{id}"), Some("eve")).await,
        403,
        "FORBIDDEN",
    );
}

#[tokio::test]
async fn unknown_routes_answer_problem_json() {
    let app = spawn_app().await;
    assert_problem(&app.get("/nowhere", None).await, 404, "NOT_FOUND");
    assert_eq!(app.get("/health", None).await.body["status"], "ok");
}
