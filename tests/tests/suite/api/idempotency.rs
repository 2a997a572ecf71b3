//! `Idempotency-Key` on creating POSTs (API.md conventions).
use std::sync::Arc;

use market_tests::spawn_app;
use serde_json::json;

use crate::api::helpers::*;

#[tokio::test]
async fn a_retry_with_the_same_key_replays_the_first_answer() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    app.domain("idem.com", "alice").await;
    let body = json!({ "domain": "idem.com", "price": "10.00" });
    let key = [("idempotency-key", "k-1")];
    let first = app
        .send(
            reqwest::Method::POST,
            "/listings",
            Some("alice"),
            Some(body.clone()),
            &key,
        )
        .await;
    let again = app
        .send(
            reqwest::Method::POST,
            "/listings",
            Some("alice"),
            Some(body),
            &key,
        )
        .await;
    assert_eq!(first.status, 201);
    assert_eq!((again.status, &again.body), (201, &first.body));
    assert_eq!(
        app.get("/me/listings", Some("alice")).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let other = app
        .send(
            reqwest::Method::POST,
            "/listings",
            Some("alice"),
            Some(json!({ "domain": "idem.com", "price": "11.00" })),
            &key,
        )
        .await;
    assert_problem(&other, 422, "IDEMPOTENCY_KEY_REUSED");
}

#[tokio::test]
async fn a_refusal_releases_the_key_for_a_corrected_retry() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    orderable_listing(&app, "later.com", "10.00").await;
    let key = [("idempotency-key", "order-1")];
    let body = json!({ "domains": ["later.com"], "captcha_token": "pass" });
    let first = app
        .send(
            reqwest::Method::POST,
            "/orders",
            Some("bob"),
            Some(body.clone()),
            &key,
        )
        .await;
    let replay = app
        .send(
            reqwest::Method::POST,
            "/orders",
            Some("bob"),
            Some(body.clone()),
            &key,
        )
        .await;
    assert_eq!(first.status, 201);
    assert_eq!(
        replay.body["orders"][0]["id"], first.body["orders"][0]["id"],
        "the retry reserved nothing new"
    );
    assert_eq!(
        app.get("/me/orders", Some("bob")).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Keys are per account: eve's "order-1" is hers.
    app.trader("eve").await;
    let eve = app
        .send(
            reqwest::Method::POST,
            "/orders",
            Some("eve"),
            Some(body),
            &key,
        )
        .await;
    assert_problem(&eve, 409, "ORDER_PENDING");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_retries_with_one_key_create_one_listing() {
    let app = Arc::new(spawn_app().await);
    alice_and_bob(&app).await;
    app.domain("burst.com", "alice").await;
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move {
                app.send(
                    reqwest::Method::POST,
                    "/listings",
                    Some("alice"),
                    Some(json!({ "domain": "burst.com", "price": "10.00" })),
                    &[("idempotency-key", "burst")],
                )
                .await
            })
        })
        .collect();
    let mut ids = std::collections::BTreeSet::new();
    for t in tasks {
        let reply = t.await.unwrap();
        match reply.status {
            201 => {
                ids.insert(reply.body["id"].as_str().unwrap().to_owned());
            }
            409 => assert_eq!(reply.code(), "IDEMPOTENCY_IN_PROGRESS", "{reply:?}"),
            _ => panic!("{reply:?}"),
        }
    }
    assert_eq!(ids.len(), 1, "every success is the same listing");
    assert_eq!(
        app.get("/me/listings", Some("alice")).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_retried_payment_start_or_push_acceptance_replays_its_first_answer() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    orderable_listing(&app, "retry-pay.com", "10.00").await;
    let order = app.order("bob", &["retry-pay.com"]).await.body["orders"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let key = [("idempotency-key", "pay-1")];
    let path = format!("/orders/{order}/pay");
    let first = app
        .send(
            reqwest::Method::POST,
            &path,
            Some("bob"),
            Some(json!({ "method": "alipay" })),
            &key,
        )
        .await;
    let again = app
        .send(
            reqwest::Method::POST,
            &path,
            Some("bob"),
            Some(json!({ "method": "alipay" })),
            &key,
        )
        .await;
    assert_eq!((first.status, &first.body), (again.status, &again.body));

    app.domain("retry-push.com", "alice").await;
    let push = app.post("/pushes", Some("alice"), json!({ "domains": ["retry-push.com"], "buyer": "bob", "price": "5.00", "lock_60d": false })).await;
    let accept = format!("/pushes/{}/accept", push.body["id"].as_str().unwrap());
    let key = [("idempotency-key", "accept-1")];
    let first = app
        .send(
            reqwest::Method::POST,
            &accept,
            Some("bob"),
            Some(json!({ "captcha_token": "pass" })),
            &key,
        )
        .await;
    let again = app
        .send(
            reqwest::Method::POST,
            &accept,
            Some("bob"),
            Some(json!({ "captcha_token": "pass" })),
            &key,
        )
        .await;
    assert_eq!(first.status, 200, "{first:?}");
    assert_eq!(
        again.body, first.body,
        "the retry gets the acceptance, not PUSH_NOT_PENDING"
    );
    let without_key = app
        .post(&accept, Some("bob"), json!({ "captcha_token": "pass" }))
        .await;
    assert_problem(&without_key, 409, "PUSH_NOT_PENDING");
}
