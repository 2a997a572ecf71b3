//! E1 over HTTP: every deadline holds with the sweeper late. Each test moves the clock with
//! `sweep: false` (nothing that became due runs: no sweep, no deadline message) and checks
//! what a user sees before any sweep has run; where a sweep runs at the end, its report
//! shows it really was the first to get there.
use chrono::{DateTime, Duration, Utc};
use market_tests::{spawn_app, Reply, TestApp};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::api::helpers::*;

const DAY: i64 = 24 * 3600;

fn time(v: &Value) -> DateTime<Utc> {
    serde_json::from_value(v.clone()).unwrap_or_else(|_| panic!("not a time: {v}"))
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

/// The caller's view of one of their domains, if they own it.
async fn my_domain(app: &TestApp, who: &str, domain: &str) -> Option<Value> {
    app.get("/me/domains", Some(who)).await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["domain"] == domain)
        .cloned()
}

/// The domains in the public market browse.
async fn on_the_market(app: &TestApp) -> Vec<String> {
    app.get("/listings?limit=200", None).await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| text(&l["domain"]).to_owned())
        .collect()
}

fn ledger_kinds(ledger: &Value) -> Vec<String> {
    ledger["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| text(&e["kind"]).to_owned())
        .collect()
}

async fn advance_by(app: &TestApp, body: Value) -> Reply {
    app.post("/dev/clock/advance", None, body).await
}

/// The registrar renews `domain` until `expires_at`.
async fn renew(app: &TestApp, domain: &str, expires_at: DateTime<Utc>) -> Reply {
    app.post(
        &format!("/admin/domains/{domain}/events"),
        Some("admin"),
        json!({ "type": "renewed", "expires_at": expires_at }),
    )
    .await
}

/// bob's order of `domain` (alice's, listed at `price`, cool-down passed): its id.
async fn bobs_order(app: &TestApp, domain: &str, price: &str) -> String {
    orderable_listing(app, domain, price).await;
    let placed = app.order("bob", &[domain]).await;
    assert_eq!(placed.status, 201, "{placed:?}");
    text(&placed.body["orders"][0]["id"]).to_owned()
}

/// alice pushes `domain` (created for her) to bob at `price`: the push.
async fn push_to_bob(app: &TestApp, domain: &str, price: &str, lock: bool) -> Value {
    app.domain(domain, "alice").await;
    let reply = app
        .post(
            "/pushes",
            Some("alice"),
            json!({ "domains": [domain], "buyer": "bob", "price": price, "lock_60d": lock }),
        )
        .await;
    assert_eq!(reply.status, 201, "{reply:?}");
    reply.body
}

#[tokio::test]
async fn e1_the_dev_clock_moves_without_a_sweep_and_refuses_moves_it_cannot_make() {
    let app = spawn_app().await;
    let before = app.now().await;
    let moved = advance_by(&app, json!({ "seconds": 3600, "sweep": false })).await;
    assert_eq!(moved.status, 200, "{moved:?}");
    assert!(moved.body["sweep"].is_null(), "no sweep ran: {moved:?}");
    assert!(time(&moved.body["now"]) >= before + Duration::hours(1));
    let swept = advance_by(&app, json!({ "seconds": 0 })).await;
    assert!(swept.body["sweep"].is_object(), "the default still sweeps");

    // Back, absurdly far, beyond any integer, not a whole number: refused, nothing moves.
    let now = app.now().await;
    for seconds in [
        json!(-1),
        json!(10 * 366 * DAY + 1),
        json!(i64::MAX),
        json!(1e30),
        json!(1.5),
        json!("60"),
    ] {
        let refused = advance_by(&app, json!({ "seconds": seconds, "sweep": false })).await;
        assert_problem(&refused, 400, "INVALID_REQUEST");
    }
    assert_problem(
        &advance_by(&app, json!({ "seconds": 60, "sweep": "no" })).await,
        400,
        "INVALID_REQUEST",
    );
    assert!(
        app.now().await - now < Duration::seconds(30),
        "refused moves changed nothing"
    );

    // Ten years at a time up to the end of year 9999: the move that would pass it is
    // refused and leaves the clock where it was.
    let mut last = app.now().await;
    let refused = loop {
        let reply = advance_by(&app, json!({ "seconds": 10 * 366 * DAY, "sweep": false })).await;
        if reply.status != 200 {
            break reply;
        }
        last = time(&reply.body["now"]);
    };
    assert_problem(&refused, 400, "INVALID_REQUEST");
    let end_of_9999: DateTime<Utc> = "9999-12-31T23:59:59Z".parse().unwrap();
    assert!(last > end_of_9999 - Duration::days(10 * 366) && last <= end_of_9999);
    assert!(app.now().await - last < Duration::seconds(30));
    assert_eq!(app.get("/health", None).await.status, 200);
}

#[tokio::test]
async fn e1_o3_an_unpaid_order_past_its_window_cannot_be_paid_before_any_sweep() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    app.trader("eve").await;
    let id = bobs_order(&app, "window.com", "30.00").await;
    app.advance_late(600).await;
    let pay = app
        .post(
            &format!("/orders/{id}/pay"),
            Some("bob"),
            json!({ "method": "alipay" }),
        )
        .await;
    assert_problem(&pay, 409, "PAYMENT_WINDOW_CLOSED");
    assert_eq!(
        app.get(&format!("/orders/{id}"), Some("bob")).await.body["status"],
        "expired"
    );
    assert!(
        app.get("/me/orders?status=unpaid", Some("bob")).await.body["items"]
            .as_array()
            .unwrap()
            .is_empty(),
        "O4: no longer unpaid"
    );
    // The listing is free again at once: another buyer can order it.
    let eve = app.order("eve", &["window.com"]).await;
    assert_eq!(eve.status, 201, "{eve:?}");
    let eves = text(&eve.body["orders"][0]["id"]).to_owned();
    // The deadline and the sweep come late and record bob's expiry; eve's hold stays.
    app.advance(0).await;
    assert_eq!(
        app.get(&format!("/orders/{id}"), Some("bob")).await.body["status"],
        "expired"
    );
    assert_eq!(
        app.get(&format!("/orders/{eves}"), Some("eve")).await.body["status"],
        "awaiting_payment"
    );
    assert_problem(
        &app.order("bob", &["window.com"]).await,
        409,
        "ORDER_PENDING",
    );
}

#[tokio::test]
async fn e1_money_for_an_attempt_opened_in_time_but_paid_after_the_window_is_refunded() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    let id = bobs_order(&app, "late.com", "66.00").await;
    let listing_id =
        text(&app.get(&format!("/orders/{id}"), Some("bob")).await.body["items"][0]["listing_id"])
            .to_owned();
    let otn = app.pay("bob", &id).await; // opened inside the window
    app.advance_late(601).await;
    let notified = app.provider_says(&otn, "TRADE_SUCCESS").await;
    assert_eq!(notified.body["payment_status"], "refunded", "{notified:?}");
    assert_eq!(
        app.get(&format!("/orders/{id}"), Some("bob")).await.body["status"],
        "expired"
    );
    // The trade did not complete: alice keeps the domain, the listing is still for sale.
    assert!(my_domain(&app, "alice", "late.com").await.is_some());
    assert!(my_domain(&app, "bob", "late.com").await.is_none());
    let listing = app.get(&format!("/listings/{listing_id}"), None).await.body;
    assert_eq!(listing["status"], "active", "{listing:?}");
    assert!(on_the_market(&app).await.contains(&"late.com".to_owned()));
    // S1: the money went back, once, through the provider; no sale, no fee.
    let refunds = app.running.sandbox.refunds();
    assert_eq!(refunds.len(), 1, "{refunds:?}");
    let (trade, amount) = refunds.values().next().unwrap();
    assert_eq!(
        (trade.as_str(), amount.to_string().as_str()),
        (otn.as_str(), "66.00")
    );
    let bob = app.get("/me/ledger", Some("bob")).await.body;
    assert_eq!(ledger_kinds(&bob), vec!["payment", "refund"]);
    let alice = app.get("/me/ledger", Some("alice")).await.body;
    assert!(ledger_kinds(&alice).is_empty(), "{alice:?}");
    assert_eq!(
        ledger_sum(&app, &sale_accounts("alice", "bob")).await,
        Decimal::ZERO
    );
}

#[tokio::test]
async fn e1_l3_a_listing_past_its_end_time_leaves_the_market_before_any_sweep() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    app.domain("ending.com", "alice").await;
    let ends_at = app.now().await + Duration::hours(1);
    let listing = app
        .post(
            "/listings",
            Some("alice"),
            json!({ "domain": "ending.com", "price": "15.00", "ends_at": ends_at }),
        )
        .await
        .body;
    let lid = text(&listing["id"]).to_owned();
    app.advance(180).await;
    assert_eq!(on_the_market(&app).await, vec!["ending.com"]);
    app.advance_late(3600).await;
    assert!(on_the_market(&app).await.is_empty());
    let shown = app.get(&format!("/listings/{lid}"), None).await.body;
    assert_eq!(
        (shown["status"].as_str(), shown["end_reason"].as_str()),
        (Some("ended"), Some("ends_at_passed"))
    );
    assert_problem(
        &app.order("bob", &["ending.com"]).await,
        409,
        "LISTING_NOT_ACTIVE",
    );
    // The domain is free: the seller may list it again at once.
    let again = app
        .post(
            "/listings",
            Some("alice"),
            json!({ "domain": "ending.com", "price": "12.00" }),
        )
        .await;
    assert_eq!(again.status, 201, "{again:?}");
}

#[tokio::test]
async fn e1_l7_a_listing_of_a_domain_past_its_expiry_leaves_the_market_before_any_sweep() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    let reply = app
        .domain_with("expiring.com", "alice", 365, 8, json!({}))
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    // Listed for the default 30 days, longer than the domain has left.
    let listing = app.list("alice", "expiring.com", "40.00").await;
    let lid = text(&listing["id"]).to_owned();
    app.advance(180).await;
    assert_eq!(on_the_market(&app).await, vec!["expiring.com"]);
    app.advance_late(8 * DAY).await;
    assert!(
        on_the_market(&app).await.is_empty(),
        "not for sale any more"
    );
    let shown = app.get(&format!("/listings/{lid}"), None).await.body;
    assert_eq!(
        (shown["status"].as_str(), shown["end_reason"].as_str()),
        (Some("ended"), Some("domain_expired"))
    );
    assert_problem(
        &app.order("bob", &["expiring.com"]).await,
        409,
        "LISTING_NOT_ACTIVE",
    );
    assert_problem(
        &app.patch(
            &format!("/listings/{lid}"),
            Some("alice"),
            json!({ "price": "1.00" }),
        )
        .await,
        409,
        "LISTING_NOT_ACTIVE",
    );
    // The sweep comes late and records what the requests already honoured.
    let sweep = app.advance(0).await;
    assert_eq!(
        sweep.body["sweep"]["domains_expired"],
        json!(["expiring.com"]),
        "{sweep:?}"
    );
    let swept = app.get(&format!("/listings/{lid}"), None).await.body;
    assert_eq!(swept["end_reason"], "domain_expired");
}

#[tokio::test]
async fn e1_l7_a_listing_follows_its_domains_renewal_but_an_expired_one_stays_ended() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    for name in ["renewed.com", "lapsed.com"] {
        let reply = app.domain_with(name, "alice", 365, 8, json!({})).await;
        assert_eq!(reply.status, 200, "{reply:?}");
        app.list("alice", name, "40.00").await;
    }
    let next_year = app.now().await + Duration::days(365);
    // Renewed in time: the listing runs on past the old expiry.
    assert_eq!(renew(&app, "renewed.com", next_year).await.status, 202);
    app.advance_late(9 * DAY).await;
    assert_eq!(on_the_market(&app).await, vec!["renewed.com"]);
    let ordered = app.order("bob", &["renewed.com"]).await;
    assert_eq!(ordered.status, 201, "{ordered:?}");
    // Renewed after it expired (the sweep still late): L7, the listing stays ended and the
    // seller lists again by hand.
    assert_eq!(renew(&app, "lapsed.com", next_year).await.status, 202);
    assert_eq!(on_the_market(&app).await, vec!["renewed.com"]);
    let mine = app.get("/me/listings", Some("alice")).await.body;
    let lapsed = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["domain"] == "lapsed.com")
        .cloned()
        .unwrap();
    assert_eq!(
        (lapsed["status"].as_str(), lapsed["end_reason"].as_str()),
        (Some("ended"), Some("domain_expired"))
    );
    assert_eq!(
        my_domain(&app, "alice", "lapsed.com").await.unwrap()["in_trade"],
        false
    );
    let relisted = app
        .post(
            "/listings",
            Some("alice"),
            json!({ "domain": "lapsed.com", "price": "45.00" }),
        )
        .await;
    assert_eq!(relisted.status, 201, "{relisted:?}");
}

#[tokio::test]
async fn e1_p5_an_unanswered_push_past_seven_days_cannot_be_accepted_before_any_sweep() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    let push = push_to_bob(&app, "unanswered.com", "10.00", false).await;
    let pid = text(&push["id"]).to_owned();
    app.advance_late(7 * DAY).await;
    let accepted = app
        .post(
            &format!("/pushes/{pid}/accept"),
            Some("bob"),
            json!({ "captcha_token": "pass" }),
        )
        .await;
    assert_problem(&accepted, 409, "PUSH_NOT_PENDING");
    assert_eq!(
        app.get(&format!("/pushes/{pid}"), Some("bob")).await.body["status"],
        "expired"
    );
    assert_problem(
        &app.post(&format!("/pushes/{pid}/reject"), Some("bob"), json!({}))
            .await,
        409,
        "PUSH_NOT_PENDING",
    );
    // Its domain is free again: not in a trade, and the seller may list it.
    assert_eq!(
        my_domain(&app, "alice", "unanswered.com").await.unwrap()["in_trade"],
        false
    );
    assert_eq!(
        app.list("alice", "unanswered.com", "20.00").await["status"],
        "active"
    );
    let sweep = app.advance(0).await;
    assert_eq!(
        sweep.body["sweep"]["pushes_expired"],
        json!([pid]),
        "{sweep:?}"
    );
}

#[tokio::test]
async fn e1_p5_an_accepted_push_unpaid_after_seven_days_frees_its_domain_and_late_money_goes_back()
{
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    let push = push_to_bob(&app, "unpaid.com", "25.00", true).await;
    let pid = text(&push["id"]).to_owned();
    let accepted = app
        .post(
            &format!("/pushes/{pid}/accept"),
            Some("bob"),
            json!({ "captcha_token": "pass" }),
        )
        .await;
    assert_eq!(accepted.body["status"], "accepted", "{accepted:?}");
    let otn = text(&accepted.body["payment"]["out_trade_no"]).to_owned();
    // A second past the 7 days: the provider reports payment times to the second.
    app.advance_late(7 * DAY + 1).await;
    assert_eq!(
        app.get(&format!("/pushes/{pid}"), Some("bob")).await.body["status"],
        "expired"
    );
    assert_problem(
        &app.post(
            &format!("/pushes/{pid}/pay"),
            Some("bob"),
            json!({ "method": "alipay" }),
        )
        .await,
        409,
        "ORDER_NOT_PAYABLE",
    );
    // P5: the domain is free at once; the seller lists it.
    assert_eq!(
        my_domain(&app, "alice", "unpaid.com").await.unwrap()["in_trade"],
        false
    );
    let listing = app.list("alice", "unpaid.com", "30.00").await;
    // Money that comes now is refunded in full and moves nothing.
    let notified = app.provider_says(&otn, "TRADE_SUCCESS").await;
    assert_eq!(notified.body["payment_status"], "refunded", "{notified:?}");
    assert!(my_domain(&app, "bob", "unpaid.com").await.is_none());
    assert_eq!(
        app.get(&format!("/pushes/{pid}"), Some("bob")).await.body["status"],
        "expired"
    );
    let refunds = app.running.sandbox.refunds();
    assert_eq!(refunds.len(), 1, "{refunds:?}");
    assert_eq!(refunds.values().next().unwrap().1.to_string(), "25.00");
    assert_eq!(
        ledger_sum(&app, &sale_accounts("alice", "bob")).await,
        Decimal::ZERO
    );
    // The late sweep expires the push and leaves the new listing alone.
    let sweep = app.advance(0).await;
    assert_eq!(
        sweep.body["sweep"]["pushes_expired"],
        json!([pid]),
        "{sweep:?}"
    );
    let lid = text(&listing["id"]);
    assert_eq!(
        app.get(&format!("/listings/{lid}"), None).await.body["status"],
        "active"
    );
    assert_eq!(
        my_domain(&app, "alice", "unpaid.com").await.unwrap()["in_trade"],
        true
    );
}

#[tokio::test]
async fn e1_p9_a_sellers_confirmation_after_seven_days_is_a_forced_change_with_the_lock() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    let push = push_to_bob(&app, "slow.com", "70.00", false).await;
    let pid = text(&push["id"]).to_owned();
    let accepted = app
        .post(
            &format!("/pushes/{pid}/accept"),
            Some("bob"),
            json!({ "captcha_token": "pass" }),
        )
        .await;
    let otn = text(&accepted.body["payment"]["out_trade_no"]).to_owned();
    app.provider_says(&otn, "TRADE_SUCCESS").await;
    let waiting = app.get(&format!("/pushes/{pid}"), Some("alice")).await.body;
    assert_eq!(waiting["status"], "awaiting_seller_confirmation");
    // Paid: the domain stays held past the push's own 7 days.
    app.advance_late(7 * DAY).await;
    assert_eq!(
        my_domain(&app, "alice", "slow.com").await.unwrap()["in_trade"],
        true
    );
    let confirmed = app
        .post(&format!("/pushes/{pid}/confirm"), Some("alice"), json!({}))
        .await;
    assert_eq!(confirmed.status, 200, "{confirmed:?}");
    assert_eq!(confirmed.body["status"], "completed");
    // P9: past the confirmation window the change is forced: the 60-day lock applies.
    let completed_at = time(&confirmed.body["completed_at"]);
    assert_eq!(
        time(&confirmed.body["transfer_lock_until"]),
        completed_at + Duration::days(60)
    );
    let owned = my_domain(&app, "bob", "slow.com").await.unwrap();
    assert_eq!(
        time(&owned["transfer_lock_until"]),
        completed_at + Duration::days(60)
    );
    assert_eq!(
        app.get("/me/ledger", Some("alice")).await.body["balances"]["frozen"],
        "70.00"
    );
    let sweep = app.advance(0).await;
    assert_eq!(sweep.body["sweep"]["pushes_forced"], json!([]), "{sweep:?}");
}

#[tokio::test]
async fn the_dev_clock_takes_whole_seconds_written_either_way() {
    let app = spawn_app().await;
    let before = app.now().await;
    let moved = app
        .post(
            "/dev/clock/advance",
            None,
            json!({ "seconds": 60.0, "sweep": false }),
        )
        .await;
    assert_eq!(moved.status, 200, "{moved:?}");
    assert!(app.now().await - before >= chrono::Duration::seconds(60));
    let half = app
        .post("/dev/clock/advance", None, json!({ "seconds": 60.5 }))
        .await;
    assert_problem(&half, 400, "INVALID_REQUEST");
}
