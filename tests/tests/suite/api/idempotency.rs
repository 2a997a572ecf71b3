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

#[tokio::test]
async fn o2_the_largest_cart_of_the_longest_names_replays_its_first_answer_from_a_small_record() {
    the_largest_cart_replays_its_first_answer(spawn_app().await).await;
}

async fn the_largest_cart_replays_its_first_answer(app: market_tests::TestApp) {
    let runner = app.running.app.clone();
    let max_cart = runner.policy.max_cart;
    let sellers: Vec<String> = (0..40).map(|i| format!("seller{i}")).collect();
    for who in sellers.iter().map(String::as_str).chain(["buyer"]) {
        market_tests::scene::trader(&runner, who).await;
    }
    // The largest cart, of 63-character labels.
    let now = runner.now();
    let mut cart = Vec::new();
    for i in 0..max_cart {
        let name = format!("{}{i:08}.com", "a".repeat(55));
        assert_eq!(name.len(), 63 + ".com".len());
        let seller = market_core::ids::AccountId::parse(&sellers[i % sellers.len()]).unwrap();
        market_app::accounts::upsert_domain(
            &runner,
            market_app::accounts::DomainRecord {
                name: market_core::domain_name::DomainName::parse(&name).unwrap(),
                owner: seller.clone(),
                registered_at: now - chrono::Duration::days(365),
                expires_at: now + chrono::Duration::days(365),
                flags: Default::default(),
            },
        )
        .await
        .unwrap();
        market_app::listings::publish(
            &runner,
            &seller,
            market_app::listings::NewListing {
                domain: market_core::domain_name::DomainName::parse(&name).unwrap(),
                price: market_core::money::Money::parse("12345.67").unwrap(),
                ends_at: None,
                description: String::new(),
            },
        )
        .await
        .unwrap();
        cart.push(name);
    }
    app.advance(runner.policy.listing_cooldown.num_seconds() + 1)
        .await;
    let body = json!({ "domains": cart, "captcha_token": "pass" });
    let key = [("idempotency-key", "the-largest-cart")];
    let first = app
        .send(
            reqwest::Method::POST,
            "/orders",
            Some("buyer"),
            Some(body.clone()),
            &key,
        )
        .await;
    assert_eq!(first.status, 201, "{:?}", first.body["code"]);
    let ordered: usize = first.body["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["items"].as_array().unwrap().len())
        .sum();
    assert_eq!(ordered, max_cart, "every domain ordered");
    // The answer is past what one DynamoDB item holds (400 KB); its record is far below.
    let answer_bytes = first.body.to_string().len();
    let (pk, sk) = market_app::repo::idempotency_key(
        &market_core::ids::AccountId::parse("buyer").unwrap(),
        "the-largest-cart",
    );
    let record = runner.store.get(&pk, &sk).await.unwrap().unwrap();
    println!(
        "the largest cart: an answer of {answer_bytes} bytes kept in a record of {} bytes",
        record.body.len()
    );
    assert!(answer_bytes > 400 * 1024, "{answer_bytes}");
    assert!(record.body.len() < 100 * 1024, "{}", record.body.len());
    let again = app
        .send(
            reqwest::Method::POST,
            "/orders",
            Some("buyer"),
            Some(body),
            &key,
        )
        .await;
    assert_eq!((again.status, &again.body), (201, &first.body));
}
