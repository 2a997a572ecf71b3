//! Issue "Nothing wedges": a large abandoned cart ends like a small one and the sweeper
//! stays alive; an unpaid order is never expired without asking the provider (O6, E1);
//! contention and limits answer 4xx/503, never 500; lists are bounded and paginated.
use std::collections::BTreeSet;
use std::sync::Arc;

use market_tests::{spawn_app, TestApp};
use serde_json::{json, Value};

use crate::api::helpers::*;

/// `per_seller` listings of each of `sellers`, orderable now; returns the domains.
async fn listed_by(app: &TestApp, sellers: &[&str], per_seller: usize) -> Vec<String> {
    let mut domains = Vec::new();
    for seller in sellers {
        app.trader(seller).await;
        for i in 0..per_seller {
            let domain = format!("{seller}-{i}.com");
            app.domain(&domain, seller).await;
            app.list(seller, &domain, "12.00").await;
            domains.push(domain);
        }
    }
    app.advance(180).await;
    domains
}

/// bob orders every domain as one order; asserts it took them all.
async fn one_order_of_all(app: &TestApp, domains: &[String]) -> String {
    let cart: Vec<&str> = domains.iter().map(String::as_str).collect();
    let placed = app.order("bob", &cart).await;
    assert_eq!(placed.status, 201, "{placed:?}");
    assert_eq!(placed.body["rejected"], json!([]), "every listing was free");
    assert_eq!(placed.body["orders"].as_array().unwrap().len(), 1);
    let order = &placed.body["orders"][0];
    assert_eq!(order["items"].as_array().unwrap().len(), domains.len());
    order["id"].as_str().unwrap().to_owned()
}

async fn status_of(app: &TestApp, order: &str) -> Value {
    app.get(&format!("/orders/{order}"), Some("bob")).await.body["status"].clone()
}

/// The must-show of the issue, on whichever store `app` runs: a 2-seller × 50 cart (one
/// order of 100 listings) cancelled, another lapsed, and the sweeper still alive after.
pub async fn a_large_abandoned_cart_ends_and_the_sweeper_lives_on(app: &TestApp) {
    app.trader("bob").await;
    let domains = listed_by(app, &["alice", "carol"], 50).await;

    let cancelled = one_order_of_all(app, &domains).await;
    let reply = app
        .post(
            &format!("/orders/{cancelled}/cancel"),
            Some("bob"),
            json!({}),
        )
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.body["status"], "cancelled");

    // Every listing is free: the same 100 are one order again, left to lapse.
    let lapsed = one_order_of_all(app, &domains).await;
    let advanced = app.advance(601).await;
    assert_eq!(advanced.status, 200);
    assert_eq!(status_of(app, &lapsed).await, "expired");

    // Free again; a small order placed now still expires on time.
    let small = app.order("bob", &[domains[0].as_str()]).await;
    assert_eq!(small.status, 201, "{small:?}");
    let small = small.body["orders"][0]["id"].as_str().unwrap().to_owned();
    app.advance(601).await;
    assert_eq!(status_of(app, &small).await, "expired");

    // And a sale still settles after 7 days.
    let sale = app.order("bob", &[domains[1].as_str()]).await;
    let sale = sale.body["orders"][0]["id"].as_str().unwrap().to_owned();
    let otn = app.pay("bob", &sale).await;
    app.provider_says(&otn, "TRADE_SUCCESS").await;
    assert_eq!(status_of(app, &sale).await, "completed");
    let seller = if domains[1].starts_with("alice") {
        "alice"
    } else {
        "carol"
    };
    let before = app.get("/me/ledger", Some(seller)).await.body["balances"].clone();
    assert_eq!(before["frozen"], "11.88", "{before}");
    app.advance(7 * 24 * 3600 + 60).await;
    let after = app.get("/me/ledger", Some(seller)).await.body["balances"].clone();
    assert_eq!(
        after,
        json!({ "available": "11.88", "frozen": "0.00", "paying_out": "0.00" })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_large_abandoned_cart_never_wedges_the_sweeper() {
    let app = spawn_app().await;
    a_large_abandoned_cart_ends_and_the_sweeper_lives_on(&app).await;
}

/// An order with a payment attempt open, and the attempt's out_trade_no.
async fn paying(app: &TestApp, domain: &str) -> (String, String) {
    alice_and_bob(app).await;
    orderable_listing(app, domain, "30.00").await;
    let placed = app.order("bob", &[domain]).await;
    let id = placed.body["orders"][0]["id"].as_str().unwrap().to_owned();
    let otn = app.pay("bob", &id).await;
    (id, otn)
}

/// The provider has the result, but its notification is lost.
async fn lost_notification(app: &TestApp, otn: &str, trade_status: &str) {
    let lost = app
        .post(
            &format!("/dev/payments/{otn}/complete"),
            None,
            json!({ "trade_status": trade_status, "notify": false }),
        )
        .await;
    assert_eq!(lost.status, 200, "{lost:?}");
}

#[tokio::test]
async fn o6_a_paid_order_whose_notification_was_lost_is_completed_by_the_sweep_not_expired() {
    let app = spawn_app().await;
    let (id, otn) = paying(&app, "paidintime.com").await;
    lost_notification(&app, &otn, "TRADE_SUCCESS").await;
    app.advance(601).await;
    assert_eq!(status_of(&app, &id).await, "completed");
    assert!(app.running.sandbox.refunds().is_empty(), "nothing refunded");
}

#[tokio::test]
async fn o6_an_order_whose_buyer_never_paid_is_expired_after_asking() {
    let app = spawn_app().await;
    // The buyer opened no cashier: the provider knows no such trade.
    let (id, _) = paying(&app, "neverpaid.com").await;
    app.advance(601).await;
    assert_eq!(status_of(&app, &id).await, "expired");
}

#[tokio::test]
async fn o6_with_no_answer_from_the_provider_the_order_waits_for_the_next_sweep() {
    let app = spawn_app().await;
    let (id, otn) = paying(&app, "noanswer.com").await;
    lost_notification(&app, &otn, "TRADE_SUCCESS").await;
    // The provider is down (the deadline message and the sweep both ask, and get nothing).
    app.running.sandbox.fail_next_queries(1_000);
    let swept = app.advance(601).await;
    assert_eq!(
        swept.status, 200,
        "a failing item never fails the sweep: {swept:?}"
    );
    assert_eq!(
        status_of(&app, &id).await,
        "processing",
        "never expired blind"
    );
    let again = app.post("/dev/sweep", None, json!({})).await;
    assert_eq!(
        again.body["failed"], 0,
        "not asked again before its backoff: {again:?}"
    );
    // The provider is back: the next sweep after the backoff asks again and applies it.
    app.running.sandbox.fail_next_queries(0);
    app.advance(61).await;
    assert_eq!(status_of(&app, &id).await, "completed");
}

#[tokio::test]
async fn e1_money_that_came_after_the_window_is_refunded_by_the_sweep_that_finds_it() {
    let app = spawn_app().await;
    let (id, otn) = paying(&app, "paidlate.com").await;
    // The clock passes the window with no sweep; then the buyer pays, notification lost.
    let moved = app
        .post(
            "/dev/clock/advance",
            None,
            json!({ "seconds": 601, "sweep": false }),
        )
        .await;
    assert_eq!(moved.status, 200, "{moved:?}");
    lost_notification(&app, &otn, "TRADE_SUCCESS").await;
    app.post("/dev/sweep", None, json!({})).await;
    assert_eq!(status_of(&app, &id).await, "expired");
    let refunds = app.running.sandbox.refunds();
    assert_eq!(refunds.len(), 1, "the late money went back: {refunds:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn o7_sixty_four_concurrent_orders_of_one_account_get_no_5xx() {
    let app = Arc::new(spawn_app().await);
    alice_and_bob(&app).await;
    orderable_listing(&app, "burst.com", "5.00").await;
    // The burst starts a few seconds into a minute: the limit counts per clock minute, and
    // a burst slowed by a loaded machine must not straddle two of them.
    let now = app.now().await;
    app.advance(65 - i64::from(chrono::Timelike::second(&now)))
        .await;
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move { app.order("bob", &["burst.com"]).await })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        let reply = task.await.unwrap();
        if reply.status == 429 {
            assert_eq!(reply.code(), "RATE_LIMITED");
            let wait: u32 = reply.retry_after.as_deref().unwrap().parse().unwrap();
            assert!((1..=60).contains(&wait), "{reply:?}");
        }
        statuses.push(reply.status);
    }
    let created = statuses.iter().filter(|s| **s == 201).count();
    let counted = statuses.iter().filter(|s| **s != 429).count();
    let kinds: BTreeSet<u16> = statuses.iter().copied().collect();
    assert_eq!(created, 1, "{statuses:?}");
    assert_eq!(counted, 30, "exactly the per-minute limit was let through");
    assert!(
        kinds.is_subset(&BTreeSet::from([201, 409, 429])),
        "{kinds:?}"
    );
}

#[tokio::test]
async fn push_publications_are_rate_limited_per_seller() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    let mut last = None;
    for i in 0..31 {
        let domain = format!("flood{i}.com");
        app.domain(&domain, "alice").await;
        let reply = app
            .post(
                "/pushes",
                Some("alice"),
                json!({ "domains": [domain], "buyer": "bob", "price": "1.00", "lock_60d": false }),
            )
            .await;
        last = Some(reply);
    }
    let refused = last.unwrap();
    assert_problem(&refused, 429, "RATE_LIMITED");
    assert!(refused.retry_after.is_some());
    let received = app
        .get("/me/pushes?role=received&limit=200", Some("bob"))
        .await;
    assert_eq!(received.body["items"].as_array().unwrap().len(), 30);
}

#[tokio::test]
async fn fields_over_their_limits_are_refused_before_anything_is_written() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    app.domain("limits.com", "alice").await;
    let key = [("Idempotency-Key", "limits-1")];
    let long_email = format!("{}@example.com", "a".repeat(243));
    let too_long = app
        .send(
            reqwest::Method::POST,
            "/pushes",
            Some("alice"),
            Some(
                json!({ "domains": ["limits.com"], "buyer": "bob", "price": "1.00",
                "lock_60d": false, "buyer_email": long_email }),
            ),
            &key,
        )
        .await;
    assert_problem(&too_long, 400, "INVALID_REQUEST");
    let message = app
        .post(
            "/pushes",
            Some("alice"),
            json!({ "domains": ["limits.com"], "buyer": "bob", "price": "1.00",
                "lock_60d": false, "message": "字".repeat(501) }),
        )
        .await;
    assert_problem(&message, 400, "INVALID_REQUEST");
    let description = app
        .post(
            "/listings",
            Some("alice"),
            json!({ "domain": "limits.com", "price": "1.00", "description": "x".repeat(501) }),
        )
        .await;
    assert_problem(&description, 400, "INVALID_REQUEST");
    let cart: Vec<String> = (0..2001).map(|i| format!("c{i}.com")).collect();
    let big = app
        .post(
            "/orders",
            Some("bob"),
            json!({ "domains": cart, "captcha_token": "pass" }),
        )
        .await;
    assert_problem(&big, 400, "BATCH_TOO_LARGE");
    // Nothing was written: the key is still free for a valid request, and no push exists.
    assert_eq!(
        app.get("/me/pushes", Some("alice")).await.body["items"],
        json!([])
    );
    let valid = app
        .send(
            reqwest::Method::POST,
            "/pushes",
            Some("alice"),
            Some(
                json!({ "domains": ["limits.com"], "buyer": "bob", "price": "1.00",
                "lock_60d": false, "buyer_email": "bob@example.com" }),
            ),
            &key,
        )
        .await;
    assert_eq!(valid.status, 201, "{valid:?}");
}

/// `min_price` above `max_price` is a contradiction, on any store.
pub async fn a_contradictory_price_range_is_invalid_query(app: &TestApp) {
    let reply = app
        .get("/listings?min_price=10.00&max_price=5.00", None)
        .await;
    assert_problem(&reply, 400, "INVALID_QUERY");
}

#[tokio::test]
async fn min_price_above_max_price_is_invalid_query() {
    let app = spawn_app().await;
    a_contradictory_price_range_is_invalid_query(&app).await;
}

#[tokio::test]
async fn browse_with_a_filter_that_matches_nothing_answers_a_page_and_a_cursor_to_read_on() {
    let app = spawn_app().await;
    let domains = listed_by(&app, &["alice"], 12).await;
    app.domain("zzneedle.com", "alice").await;
    app.list("alice", "zzneedle.com", "99.00").await;
    app.advance(180).await;
    // Follow the cursor: every page is answered, and the one match is found once.
    let mut found = Vec::new();
    let mut cursor = String::new();
    for _ in 0..20 {
        let page = app
            .get(&format!("/listings?q=needle&limit=1&cursor={cursor}"), None)
            .await;
        assert_eq!(page.status, 200, "{page:?}");
        for item in page.body["items"].as_array().unwrap() {
            found.push(item["domain"].as_str().unwrap().to_owned());
        }
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(found, vec!["zzneedle.com".to_owned()]);
    assert_eq!(domains.len(), 12);
}

#[tokio::test]
async fn the_ledger_pages_through_every_entry_once_in_time_order() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    for i in 0..3 {
        let domain = format!("led{i}.com");
        orderable_listing(&app, &domain, "10.00").await;
        let id = app.order("bob", &[domain.as_str()]).await.body["orders"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let otn = app.pay("bob", &id).await;
        app.provider_says(&otn, "TRADE_SUCCESS").await;
    }
    app.advance(8 * 24 * 3600).await; // settled: entries in both seller partitions
    let all = app.get("/me/ledger?limit=200", Some("alice")).await.body;
    let everything = all["items"].as_array().unwrap().clone();
    assert!(everything.len() >= 6, "{all}");
    assert_eq!(all["next_cursor"], Value::Null);
    let mut paged = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = app
            .get(
                &format!("/me/ledger?limit=2&cursor={cursor}"),
                Some("alice"),
            )
            .await;
        assert_eq!(page.status, 200, "{page:?}");
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        assert_eq!(page.body["balances"], all["balances"]);
        paged.extend(items.iter().cloned());
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(
        paged, everything,
        "the same entries, once each, in the same order"
    );
    let bad = app.get("/me/ledger?cursor=nonsense", Some("alice")).await;
    assert_problem(&bad, 400, "INVALID_REQUEST");
}

#[tokio::test]
async fn o6_a_push_paid_in_time_whose_notification_was_lost_completes_instead_of_expiring() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    app.domain("pushlost.com", "alice").await;
    let push = app
        .post(
            "/pushes",
            Some("alice"),
            json!({ "domains": ["pushlost.com"], "buyer": "bob", "price": "40.00", "lock_60d": true }),
        )
        .await;
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
    lost_notification(&app, &otn, "TRADE_SUCCESS").await;
    app.advance(7 * 24 * 3600 + 60).await;
    let push = app.get(&format!("/pushes/{id}"), Some("bob")).await.body;
    assert_eq!(push["status"], "completed", "asked before expiring: {push}");
    assert!(app.running.sandbox.refunds().is_empty());
}
