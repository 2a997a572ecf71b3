//! Listings over HTTP: A1, A4, L2 refusals in order, L3–L5, browse.
use std::collections::BTreeSet;

use market_tests::{spawn_app, TestApp};
use serde_json::{json, Value};

use crate::api::helpers::*;

async fn my_listings(app: &TestApp, who: &str) -> Vec<Value> {
    app.get("/me/listings", Some(who)).await.body["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn in_trade(app: &TestApp, who: &str, domain: &str) -> bool {
    let reply = app.get("/me/domains", Some(who)).await;
    reply.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["domain"] == domain)
        .map(|d| d["in_trade"].as_bool().unwrap())
        .unwrap_or(false)
}

#[tokio::test]
async fn l2_every_refusal_has_its_code_and_changes_nothing() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    app.domain("bobs.com", "bob").await;
    let cases: Vec<(&str, i64, i64, Value, &str)> = vec![
        // (domain, age in days, days to expiry, flags, expected code)
        ("fresh.cn", 6, 365, json!({}), "TOO_SOON_AFTER_REGISTRATION"),
        (
            "fresh.com",
            0,
            365,
            json!({}),
            "TOO_SOON_AFTER_REGISTRATION",
        ),
        ("soon.com", 365, 6, json!({}), "NEAR_EXPIRY"),
        ("gone.com", 365, -1, json!({}), "DOMAIN_EXPIRED"),
        (
            "locked.com",
            365,
            365,
            json!({ "transfer_prohibited": true }),
            "TRANSFER_PROHIBITED",
        ),
        (
            "weizhan.cn",
            365,
            365,
            json!({ "special_product": true }),
            "SPECIAL_DOMAIN",
        ),
        ("city.gov.cn", 365, 365, json!({}), "SPECIAL_DOMAIN"),
        (
            "moving.com",
            365,
            365,
            json!({ "pending_operation": true }),
            "PENDING_OPERATION",
        ),
        (
            "disputed.com",
            365,
            365,
            json!({ "restricted": true }),
            "RESTRICTED",
        ),
    ];
    for (domain, age, left, flags, _) in &cases {
        let reply = app
            .domain_with(domain, "alice", *age, *left, flags.clone())
            .await;
        assert_eq!(reply.status, 200, "{reply:?}");
    }
    for (domain, _, _, _, code) in &cases {
        let reply = app
            .post(
                "/listings",
                Some("alice"),
                json!({ "domain": domain, "price": "100.00" }),
            )
            .await;
        assert_problem(&reply, 422, code);
        assert!(
            !in_trade(&app, "alice", domain).await,
            "{domain} must stay out of trade"
        );
    }
    let not_mine = app
        .post(
            "/listings",
            Some("alice"),
            json!({ "domain": "bobs.com", "price": "1.00" }),
        )
        .await;
    assert_problem(&not_mine, 422, "NOT_OWNER");
    let unknown = app
        .post(
            "/listings",
            Some("alice"),
            json!({ "domain": "nobody.com", "price": "1.00" }),
        )
        .await;
    assert_problem(&unknown, 422, "NOT_OWNER");
    app.domain("twice.com", "alice").await;
    app.list("alice", "twice.com", "5.00").await;
    let twice = app
        .post(
            "/listings",
            Some("alice"),
            json!({ "domain": "twice.com", "price": "6.00" }),
        )
        .await;
    assert_problem(&twice, 409, "ALREADY_IN_TRADE");
    assert_eq!(
        my_listings(&app, "alice").await.len(),
        1,
        "only the first listing exists"
    );
}

#[tokio::test]
async fn a1_unverified_or_unbound_sellers_are_refused() {
    let app = spawn_app().await;
    app.account("carol", false, Some("carol@example.com")).await;
    app.account("dave", true, None).await;
    app.domain("carol.com", "carol").await;
    app.domain("dave.com", "dave").await;
    let carol = app
        .post(
            "/listings",
            Some("carol"),
            json!({ "domain": "carol.com", "price": "1.00" }),
        )
        .await;
    assert_problem(&carol, 422, "NOT_VERIFIED");
    let dave = app
        .post(
            "/listings",
            Some("dave"),
            json!({ "domain": "dave.com", "price": "1.00" }),
        )
        .await;
    assert_problem(&dave, 422, "NO_PAYOUT_ACCOUNT");
    assert!(
        my_listings(&app, "carol").await.is_empty() && my_listings(&app, "dave").await.is_empty()
    );
}

#[tokio::test]
async fn bad_input_is_a_400_with_a_stable_code_and_writes_nothing() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    app.domain("good.com", "alice").await;
    for price in [
        json!("1.001"),
        json!("-1.00"),
        json!("100000000.01"),
        json!("abc"),
        json!(12.5),
        json!(""),
    ] {
        let reply = app
            .post(
                "/listings",
                Some("alice"),
                json!({ "domain": "good.com", "price": price }),
            )
            .await;
        assert_problem(&reply, 400, "INVALID_AMOUNT");
    }
    for domain in ["not a domain", "com", "-bad-.com", ""] {
        let reply = app
            .post(
                "/listings",
                Some("alice"),
                json!({ "domain": domain, "price": "1.00" }),
            )
            .await;
        assert_problem(&reply, 400, "INVALID_DOMAIN");
    }
    let unknown_field = app
        .post(
            "/listings",
            Some("alice"),
            json!({ "domain": "good.com", "price": "1.00", "discount": "5" }),
        )
        .await;
    assert_problem(&unknown_field, 400, "INVALID_REQUEST");
    let not_json = app
        .send(
            reqwest::Method::POST,
            "/listings",
            Some("alice"),
            None,
            &[("content-type", "text/plain")],
        )
        .await;
    assert_problem(&not_json, 400, "INVALID_REQUEST");
    let past_end = app
        .post(
            "/listings",
            Some("alice"),
            json!({ "domain": "good.com", "price": "1.00", "ends_at": "2001-01-01T00:00:00Z" }),
        )
        .await;
    assert_problem(&past_end, 400, "INVALID_REQUEST");
    assert!(my_listings(&app, "alice").await.is_empty());
    assert!(!in_trade(&app, "alice", "good.com").await);
}

#[tokio::test]
async fn a4_unicode_and_punycode_name_one_domain() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    app.domain("xn--fsqu00a.xn--fiqs8s", "alice").await;
    let listing = app.list("alice", "例子.中国", "88.00").await;
    assert_eq!(listing["domain"], "xn--fsqu00a.xn--fiqs8s");
    assert_eq!(listing["domain_unicode"], "例子.中国");
    let browse = app.get("/listings?tld=xn--fiqs8s", None).await;
    assert_eq!(browse.body["items"][0]["id"], listing["id"]);
    app.advance(180).await;
    let order = app.order("bob", &["XN--FSQU00A.xn--fiqs8s"]).await;
    assert_eq!(order.status, 201, "{order:?}");
}

#[tokio::test]
async fn l3_l8_a_listing_shows_price_end_time_description_and_fee_rate() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    app.domain("shown.com", "alice").await;
    let now = app.now().await;
    let ends_at = now + chrono::Duration::days(3);
    let reply = app
        .post("/listings", Some("alice"), json!({ "domain": "shown.com", "price": "1999", "ends_at": ends_at, "description": "short" }))
        .await;
    assert_eq!(reply.status, 201, "{reply:?}");
    let l = &reply.body;
    assert_eq!(
        (
            l["price"].as_str(),
            l["fee_rate"].as_str(),
            l["status"].as_str()
        ),
        (Some("1999.00"), Some("0.01"), Some("active"))
    );
    assert_eq!(l["description"], "short");
    let got = app
        .get(&format!("/listings/{}", l["id"].as_str().unwrap()), None)
        .await;
    assert_eq!(got.body["ends_at"], l["ends_at"]);
    // L3 + E1: past its end time the listing shows ended even before any sweep.
    app.advance(3 * 24 * 3600 + 1).await;
    let got = app
        .get(&format!("/listings/{}", l["id"].as_str().unwrap()), None)
        .await;
    assert_eq!(got.body["status"], "ended");
    assert!(app.get("/listings", None).await.body["items"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn l4_a_new_or_changed_listing_cools_down_for_three_minutes() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    app.domain("cool.com", "alice").await;
    let listing = app.list("alice", "cool.com", "10.00").await;
    let refused = app.order("bob", &["cool.com"]).await;
    assert_problem(&refused, 409, "COOLING_DOWN");
    assert_eq!(refused.body["buyable_at"], listing["buyable_at"]);
    app.advance(179).await;
    assert_problem(&app.order("bob", &["cool.com"]).await, 409, "COOLING_DOWN");
    // A change restarts the cool-down.
    let id = listing["id"].as_str().unwrap();
    let changed = app
        .patch(
            &format!("/listings/{id}"),
            Some("alice"),
            json!({ "price": "12.00" }),
        )
        .await;
    assert_eq!(changed.status, 200, "{changed:?}");
    app.advance(1).await;
    assert_problem(&app.order("bob", &["cool.com"]).await, 409, "COOLING_DOWN");
    app.advance(180).await;
    let ordered = app.order("bob", &["cool.com"]).await;
    assert_eq!(ordered.status, 201, "{ordered:?}");
    assert_eq!(ordered.body["orders"][0]["total"], "12.00");
}

#[tokio::test]
async fn l5_no_change_or_delist_while_an_order_awaits_payment() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    let listing = orderable_listing(&app, "held.com", "10.00").await;
    let id = listing["id"].as_str().unwrap();
    assert_eq!(app.order("bob", &["held.com"]).await.status, 201);
    assert_problem(
        &app.patch(
            &format!("/listings/{id}"),
            Some("alice"),
            json!({ "price": "1.00" }),
        )
        .await,
        409,
        "ORDER_PENDING",
    );
    assert_problem(
        &app.delete(&format!("/listings/{id}"), Some("alice")).await,
        409,
        "ORDER_PENDING",
    );
    assert_eq!(
        app.get(&format!("/listings/{id}"), None).await.body["price"],
        "10.00"
    );
    // O3: once the window closes the hold is gone and the seller may act again.
    app.advance(600).await;
    let delisted = app.delete(&format!("/listings/{id}"), Some("alice")).await;
    assert_eq!(
        (delisted.status, delisted.body["end_reason"].as_str()),
        (200, Some("delisted"))
    );
    // The domain is free again: it can be listed anew.
    assert_eq!(
        app.post(
            "/listings",
            Some("alice"),
            json!({ "domain": "held.com", "price": "9.00" })
        )
        .await
        .status,
        201
    );
}

#[tokio::test]
async fn browse_filters_sorts_and_pages_through_every_active_listing_once() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    let mut expected = BTreeSet::new();
    for i in 0..23 {
        let tld = if i % 3 == 0 { "cn" } else { "com" };
        let domain = format!("name{i:02}.{tld}");
        app.domain(&domain, "alice").await;
        let price = format!("{}.{:02}", 10 + i * 7 % 50, i);
        app.list("alice", &domain, &price).await;
        expected.insert(domain);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/listings?sort=price&limit=5&cursor={c}"),
            None => "/listings?sort=price&limit=5".into(),
        };
        let page = app.get(&path, None).await;
        assert_eq!(page.status, 200, "{page:?}");
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= 5);
        seen.extend(
            items
                .iter()
                .map(|l| (l["domain"].as_str().unwrap().to_owned(), dec(&l["price"]))),
        );
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(
        seen.iter().map(|s| s.0.clone()).collect::<BTreeSet<_>>(),
        expected
    );
    assert_eq!(seen.len(), expected.len(), "no listing twice");
    assert!(seen.windows(2).all(|w| w[0].1 <= w[1].1), "price ascending");

    let desc = app.get("/listings?sort=-price&limit=200", None).await;
    let prices: Vec<_> = desc.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| dec(&l["price"]))
        .collect();
    assert!(prices.windows(2).all(|w| w[0] >= w[1]));
    let cn = app.get("/listings?tld=cn&limit=200", None).await;
    assert!(cn.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["domain"].as_str().unwrap().ends_with(".cn")));
    assert_eq!(cn.body["items"].as_array().unwrap().len(), 8);
    let band = app
        .get("/listings?min_price=20.00&max_price=40.00&limit=200", None)
        .await;
    let band_prices: Vec<_> = band.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| dec(&l["price"]))
        .collect();
    let want = seen
        .iter()
        .filter(|s| s.1 >= "20".parse().unwrap() && s.1 <= "40".parse().unwrap())
        .count();
    assert_eq!(band_prices.len(), want);
    let q = app.get("/listings?q=name1&limit=200", None).await;
    assert_eq!(q.body["items"].as_array().unwrap().len(), 10);
    let newest = app.get("/listings?sort=newest&limit=1", None).await;
    assert_eq!(newest.body["items"][0]["domain"], "name22.com");
    assert_problem(
        &app.get("/listings?sort=cheap", None).await,
        400,
        "INVALID_QUERY",
    );
    assert_problem(
        &app.get("/listings?cursor=bogus", None).await,
        400,
        "INVALID_REQUEST",
    );
    assert_problem(
        &app.get("/listings?min_price=1.234", None).await,
        400,
        "INVALID_AMOUNT",
    );
}

#[tokio::test]
async fn l2_9_an_order_placed_before_the_end_keeps_the_domain_until_it_is_paid() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    app.domain("lastcall.com", "alice").await;
    let ends_at = app.now().await + chrono::Duration::minutes(5);
    let reply = app
        .post(
            "/listings",
            Some("alice"),
            json!({ "domain": "lastcall.com", "price": "20.00", "ends_at": ends_at }),
        )
        .await;
    assert_eq!(reply.status, 201, "{reply:?}");
    app.advance(180).await;
    let id = app.order("bob", &["lastcall.com"]).await.body["orders"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.advance(150).await; // the listing's end time has passed; bob's window has not
    let relist = app
        .post(
            "/listings",
            Some("alice"),
            json!({ "domain": "lastcall.com", "price": "99.00" }),
        )
        .await;
    assert_problem(&relist, 409, "ALREADY_IN_TRADE");
    let otn = app.pay("bob", &id).await;
    app.provider_says(&otn, "TRADE_SUCCESS").await;
    assert_eq!(
        app.get(&format!("/orders/{id}"), Some("bob")).await.body["items"][0]["status"],
        "completed"
    );
}

#[tokio::test]
async fn l1_a_listing_at_zero_is_refused_and_nothing_is_written() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    app.domain("free.com", "alice").await;
    for zero in ["0", "0.00"] {
        let reply = app
            .post(
                "/listings",
                Some("alice"),
                json!({ "domain": "free.com", "price": zero }),
            )
            .await;
        assert_problem(&reply, 400, "INVALID_AMOUNT");
    }
    assert!(my_listings(&app, "alice").await.is_empty());
    assert!(!in_trade(&app, "alice", "free.com").await);

    app.domain("priced.com", "alice").await;
    let listing = app.list("alice", "priced.com", "10.00").await;
    let id = listing["id"].as_str().unwrap();
    for zero in ["0", "0.00"] {
        let reply = app
            .patch(
                &format!("/listings/{id}"),
                Some("alice"),
                json!({ "price": zero }),
            )
            .await;
        assert_problem(&reply, 400, "INVALID_AMOUNT");
    }
    let unchanged = app.get(&format!("/listings/{id}"), None).await.body;
    assert_eq!(
        (&unchanged["price"], &unchanged["buyable_at"]),
        (&listing["price"], &listing["buyable_at"]),
        "no change, no new cool-down"
    );
    // P1: a push may be free; the domain the refused listing left untouched can go as one.
    let gift = app
        .post(
            "/pushes",
            Some("alice"),
            json!({ "domains": ["free.com"], "buyer": "bob", "price": "0.00", "lock_60d": false }),
        )
        .await;
    assert_eq!(gift.status, 201, "{gift:?}");
    assert_eq!(gift.body["price"], "0.00");
}
