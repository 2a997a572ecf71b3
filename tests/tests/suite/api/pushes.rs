//! Priced pushes over HTTP (P1–P10): every transition and refusal, all-or-nothing publish
//! and completion, lock arithmetic, expiry, invalidation, and the withdraw/accept race.
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use infra::Settings;
use market_tests::{spawn_app, spawn_app_with, Reply, TestApp};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::api::helpers::*;

/// alice pushes `domains` (created for her) to bob at `price`.
async fn push(app: &TestApp, domains: &[&str], price: &str, lock: bool) -> Value {
    for d in domains {
        app.domain(d, "alice").await;
    }
    let reply = app
        .post(
            "/pushes",
            Some("alice"),
            json!({ "domains": domains, "buyer": "bob", "price": price, "lock_60d": lock }),
        )
        .await;
    assert_eq!(reply.status, 201, "{reply:?}");
    reply.body
}

fn id(push: &Value) -> String {
    push["id"].as_str().unwrap().to_owned()
}

async fn accept(app: &TestApp, push_id: &str, who: &str) -> Reply {
    app.post(
        &format!("/pushes/{push_id}/accept"),
        Some(who),
        json!({ "captcha_token": "pass" }),
    )
    .await
}

async fn status(app: &TestApp, push_id: &str) -> String {
    app.get(&format!("/pushes/{push_id}"), Some("alice"))
        .await
        .body["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn domain_of(app: &TestApp, who: &str, domain: &str) -> Option<Value> {
    let reply = app.get("/me/domains", Some(who)).await;
    reply.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["domain"] == domain)
        .cloned()
}

fn time(v: &Value) -> DateTime<Utc> {
    serde_json::from_value(v.clone()).unwrap()
}

/// Accepts and pays a priced push as bob; returns the payment's out_trade_no.
async fn accept_and_pay(app: &TestApp, push_id: &str) -> String {
    let accepted = accept(app, push_id, "bob").await;
    assert_eq!(accepted.status, 200, "{accepted:?}");
    assert_eq!(accepted.body["status"], "accepted");
    let otn = accepted.body["payment"]["out_trade_no"]
        .as_str()
        .unwrap()
        .to_owned();
    let done = app.provider_says(&otn, "TRADE_SUCCESS").await;
    assert_eq!(done.status, 200, "{done:?}");
    otn
}

#[tokio::test]
async fn p1_p3_a_batch_push_is_refused_as_a_whole_naming_every_offender() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    app.domain("ok1.com", "alice").await;
    app.domain("ok2.com", "alice").await;
    app.domain_with("soon.com", "alice", 365, 10, json!({}))
        .await; // P2: 15-day margin
    app.domain_with(
        "locked.com",
        "alice",
        365,
        365,
        json!({ "transfer_prohibited": true }),
    )
    .await;
    app.domain("bobs.com", "bob").await;
    let reply = app
        .post(
            "/pushes",
            Some("alice"),
            json!({ "domains": ["ok1.com", "soon.com", "ok2.com", "locked.com", "bobs.com", "not a domain"], "buyer": "bob", "price": "10.00", "lock_60d": false }),
        )
        .await;
    assert_problem(&reply, 422, "PUSH_REFUSED");
    let mut named: Vec<(String, String)> = reply.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["domain"].as_str().unwrap().to_owned(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    named.sort();
    assert_eq!(
        named,
        vec![
            ("bobs.com".into(), "NOT_OWNER".into()),
            ("locked.com".into(), "TRANSFER_PROHIBITED".into()),
            ("not a domain".into(), "INVALID_DOMAIN".into()),
            ("soon.com".into(), "NEAR_EXPIRY".into()),
        ]
    );
    // Nothing was written: the good domains are still free.
    for d in ["ok1.com", "ok2.com"] {
        assert_eq!(
            domain_of(&app, "alice", d).await.unwrap()["in_trade"],
            false
        );
    }
    assert!(
        app.get("/me/pushes?role=sent", Some("alice")).await.body["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // The 10-day domain can still be listed (7-day margin) but not pushed (15-day margin).
    assert_eq!(
        app.post(
            "/listings",
            Some("alice"),
            json!({ "domain": "soon.com", "price": "1.00" })
        )
        .await
        .status,
        201
    );
}

#[tokio::test]
async fn push_requests_are_checked() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    app.domain("self.com", "alice").await;
    let to_self = app.post("/pushes", Some("alice"), json!({ "domains": ["self.com"], "buyer": "alice", "price": "1.00", "lock_60d": false })).await;
    assert_problem(&to_self, 409, "SELF_PURCHASE");
    let nobody = app.post("/pushes", Some("alice"), json!({ "domains": ["self.com"], "buyer": "nobody", "price": "1.00", "lock_60d": false })).await;
    assert_problem(&nobody, 404, "NOT_FOUND");
    let big: Vec<String> = (0..51).map(|i| format!("d{i}.com")).collect();
    let too_big = app
        .post(
            "/pushes",
            Some("alice"),
            json!({ "domains": big, "buyer": "bob", "price": "1.00", "lock_60d": false }),
        )
        .await;
    assert_problem(&too_big, 400, "BATCH_TOO_LARGE");
    let bad_price = app
        .post(
            "/pushes",
            Some("alice"),
            json!({ "domains": ["self.com"], "buyer": "bob", "price": "-1", "lock_60d": false }),
        )
        .await;
    assert_problem(&bad_price, 400, "INVALID_AMOUNT");
    let in_listing = app.list("alice", "self.com", "5.00").await;
    assert_eq!(in_listing["status"], "active");
    let held = app
        .post(
            "/pushes",
            Some("alice"),
            json!({ "domains": ["self.com"], "buyer": "bob", "price": "1.00", "lock_60d": false }),
        )
        .await;
    assert_problem(&held, 422, "PUSH_REFUSED");
    assert_eq!(held.body["errors"][0]["code"], "ALREADY_IN_TRADE");
}

#[tokio::test]
async fn p7_only_the_seller_and_the_named_buyer_see_a_push() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    app.trader("eve").await;
    let p = push(&app, &["seen.com"], "10.00", false).await;
    let pid = id(&p);
    assert_eq!(
        app.get(&format!("/pushes/{pid}"), Some("bob")).await.status,
        200
    );
    assert_problem(
        &app.get(&format!("/pushes/{pid}"), Some("eve")).await,
        404,
        "NOT_FOUND",
    );
    assert_problem(&accept(&app, &pid, "eve").await, 404, "NOT_FOUND");
    assert_problem(
        &app.post(&format!("/pushes/{pid}/withdraw"), Some("eve"), json!({}))
            .await,
        404,
        "NOT_FOUND",
    );
    assert_problem(&accept(&app, &pid, "alice").await, 403, "FORBIDDEN");
    assert_problem(
        &app.post(&format!("/pushes/{pid}/withdraw"), Some("bob"), json!({}))
            .await,
        403,
        "FORBIDDEN",
    );
    let received = app.get("/me/pushes?role=received", Some("bob")).await;
    assert_eq!(received.body["items"][0]["id"], pid.as_str());
    assert!(
        app.get("/me/pushes?role=sent", Some("bob")).await.body["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        app.get("/me/pushes?role=sent&status=pending", Some("alice"))
            .await
            .body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(app
        .get("/me/pushes?role=sent&status=completed", Some("alice"))
        .await
        .body["items"]
        .as_array()
        .unwrap()
        .is_empty());
    let accepted = accept(&app, &pid, "bob").await;
    assert_eq!(accepted.status, 200);
    let bot = app
        .post(
            &format!("/pushes/{pid}/accept"),
            Some("bob"),
            json!({ "captcha_token": "robot" }),
        )
        .await;
    assert_problem(&bot, 400, "CAPTCHA_FAILED");
}

#[tokio::test]
async fn p6_withdraw_reject_and_the_illegal_moves() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    let withdrawn = id(&push(&app, &["w.com"], "10.00", false).await);
    let w = app
        .post(
            &format!("/pushes/{withdrawn}/withdraw"),
            Some("alice"),
            json!({}),
        )
        .await;
    assert_eq!(
        (w.status, w.body["status"].as_str()),
        (200, Some("withdrawn"))
    );
    assert_problem(
        &accept(&app, &withdrawn, "bob").await,
        409,
        "PUSH_NOT_PENDING",
    );
    assert_eq!(
        domain_of(&app, "alice", "w.com").await.unwrap()["in_trade"],
        false
    );

    let rejected = id(&push(&app, &["r.com"], "10.00", false).await);
    let r = app
        .post(
            &format!("/pushes/{rejected}/reject"),
            Some("bob"),
            json!({}),
        )
        .await;
    assert_eq!(r.body["status"], "rejected");
    assert_problem(
        &app.post(
            &format!("/pushes/{rejected}/withdraw"),
            Some("alice"),
            json!({}),
        )
        .await,
        409,
        "PUSH_NOT_PENDING",
    );

    let accepted = id(&push(&app, &["a.com"], "10.00", false).await);
    assert_eq!(
        accept(&app, &accepted, "bob").await.body["status"],
        "accepted"
    );
    assert_problem(
        &app.post(
            &format!("/pushes/{accepted}/withdraw"),
            Some("alice"),
            json!({}),
        )
        .await,
        409,
        "PUSH_NOT_PENDING",
    );
    assert_problem(
        &app.post(
            &format!("/pushes/{accepted}/reject"),
            Some("bob"),
            json!({}),
        )
        .await,
        409,
        "PUSH_NOT_PENDING",
    );
    assert_problem(
        &accept(&app, &accepted, "bob").await,
        409,
        "PUSH_NOT_PENDING",
    );
    // Pay twice: the same open attempt; once paid, no more.
    let first = app
        .post(
            &format!("/pushes/{accepted}/pay"),
            Some("bob"),
            json!({ "method": "alipay" }),
        )
        .await;
    let second = app
        .post(
            &format!("/pushes/{accepted}/pay"),
            Some("bob"),
            json!({ "method": "alipay" }),
        )
        .await;
    assert_eq!(first.body["out_trade_no"], second.body["out_trade_no"]);
    assert_problem(
        &app.post(
            &format!("/pushes/{accepted}/pay"),
            Some("bob"),
            json!({ "method": "credit_card" }),
        )
        .await,
        400,
        "PAYMENT_METHOD_NOT_ALLOWED",
    );
    app.provider_says(
        first.body["out_trade_no"].as_str().unwrap(),
        "TRADE_SUCCESS",
    )
    .await;
    assert_problem(
        &app.post(
            &format!("/pushes/{accepted}/pay"),
            Some("bob"),
            json!({ "method": "alipay" }),
        )
        .await,
        409,
        "ORDER_NOT_PAYABLE",
    );
    assert_problem(
        &app.post(
            &format!("/pushes/{accepted}/confirm"),
            Some("bob"),
            json!({}),
        )
        .await,
        403,
        "FORBIDDEN",
    );
}

#[tokio::test]
async fn p5_an_unaccepted_push_expires_after_seven_days_and_frees_its_domains() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    let pid = id(&push(&app, &["late.com"], "10.00", false).await);
    app.advance(7 * 24 * 3600 - 1).await;
    assert_eq!(status(&app, &pid).await, "pending");
    let sweep = app.advance(1).await;
    assert_eq!(sweep.body["sweep"]["pushes_expired"][0], pid.as_str());
    assert_eq!(status(&app, &pid).await, "expired");
    assert_problem(&accept(&app, &pid, "bob").await, 409, "PUSH_NOT_PENDING");
    assert_eq!(
        domain_of(&app, "alice", "late.com").await.unwrap()["in_trade"],
        false
    );
}

#[tokio::test]
async fn p1_a_free_push_completes_at_once() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    let pid = id(&push(&app, &["gift.com", "gift2.com"], "0", false).await);
    let done = accept(&app, &pid, "bob").await;
    assert_eq!(done.body["status"], "completed", "{done:?}");
    assert!(
        domain_of(&app, "bob", "gift.com").await.is_some()
            && domain_of(&app, "bob", "gift2.com").await.is_some()
    );
    assert!(done.body["transfer_lock_until"].is_null(), "not locked");
}

#[tokio::test]
async fn p9_locked_the_change_is_forced_at_payment_with_a_60_day_lock_and_the_money_goes_at_once() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    app.domain("lock.com", "alice").await;
    let before = domain_of(&app, "alice", "lock.com").await.unwrap();
    let pid = id(&app
        .post(
            "/pushes",
            Some("alice"),
            json!({ "domains": ["lock.com"], "buyer": "bob", "price": "500.00", "lock_60d": true }),
        )
        .await
        .body);
    accept_and_pay(&app, &pid).await;
    let done = app.get(&format!("/pushes/{pid}"), Some("bob")).await.body;
    assert_eq!(done["status"], "completed");
    let owned = domain_of(&app, "bob", "lock.com").await.unwrap();
    assert_eq!(owned["expires_at"], before["expires_at"], "A3");
    assert_eq!(
        time(&owned["transfer_lock_until"]),
        time(&done["completed_at"]) + Duration::days(60)
    );
    let alice = app.get("/me/ledger", Some("alice")).await.body;
    assert_eq!(
        alice["balances"]["frozen"], "500.00",
        "P8: no fee on a push"
    );
    assert_eq!(
        ledger_sum(&app, &sale_accounts("alice", "bob")).await,
        Decimal::ZERO
    );
}

#[tokio::test]
async fn p9_not_locked_the_seller_confirms_and_no_lock_applies() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    let pid = id(&push(&app, &["confirm.com"], "80.00", false).await);
    accept_and_pay(&app, &pid).await;
    let waiting = app.get(&format!("/pushes/{pid}"), Some("alice")).await.body;
    assert_eq!(waiting["status"], "awaiting_seller_confirmation");
    assert!(
        domain_of(&app, "alice", "confirm.com").await.is_some(),
        "nothing moved before confirmation"
    );
    assert!(
        app.get("/me/ledger", Some("alice")).await.body["items"]
            .as_array()
            .unwrap()
            .is_empty(),
        "money waits in escrow"
    );
    let confirmed = app
        .post(&format!("/pushes/{pid}/confirm"), Some("alice"), json!({}))
        .await;
    assert_eq!(confirmed.body["status"], "completed", "{confirmed:?}");
    let owned = domain_of(&app, "bob", "confirm.com").await.unwrap();
    assert!(owned["transfer_lock_until"].is_null());
    assert_eq!(
        app.get("/me/ledger", Some("alice")).await.body["balances"]["frozen"],
        "80.00"
    );
    assert_problem(
        &app.post(&format!("/pushes/{pid}/force"), Some("bob"), json!({}))
            .await,
        409,
        "PUSH_NOT_PENDING",
    );
}

#[tokio::test]
async fn p9_the_buyer_may_force_and_seven_days_force_it_too() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    let forced_by_buyer = id(&push(&app, &["force.com"], "10.00", false).await);
    accept_and_pay(&app, &forced_by_buyer).await;
    let forced = app
        .post(
            &format!("/pushes/{forced_by_buyer}/force"),
            Some("bob"),
            json!({}),
        )
        .await;
    assert_eq!(forced.body["status"], "completed");
    let lock = time(&domain_of(&app, "bob", "force.com").await.unwrap()["transfer_lock_until"]);
    assert_eq!(
        lock,
        time(&forced.body["completed_at"]) + Duration::days(60)
    );

    let auto = id(&push(&app, &["auto.com"], "10.00", false).await);
    accept_and_pay(&app, &auto).await;
    app.advance(7 * 24 * 3600 - 10).await;
    assert_eq!(status(&app, &auto).await, "awaiting_seller_confirmation");
    let sweep = app.advance(10).await;
    assert_eq!(
        sweep.body["sweep"]["pushes_forced"][0],
        auto.as_str(),
        "{sweep:?}"
    );
    let done = app.get(&format!("/pushes/{auto}"), Some("bob")).await.body;
    assert_eq!(done["status"], "completed");
    let lock = time(&domain_of(&app, "bob", "auto.com").await.unwrap()["transfer_lock_until"]);
    assert_eq!(lock, time(&done["completed_at"]) + Duration::days(60));
}

#[tokio::test]
async fn p9_repeated_forced_changes_never_add_up_and_a_locked_domain_can_be_pushed_again() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    app.trader("carol").await;
    let first = id(&push(&app, &["hop.com"], "10.00", true).await);
    accept_and_pay(&app, &first).await;
    let first_lock = time(&domain_of(&app, "bob", "hop.com").await.unwrap()["transfer_lock_until"]);
    app.advance(10 * 24 * 3600).await;
    // Locked, yet bob may push it on inside the platform.
    let second = app
        .post(
            "/pushes",
            Some("bob"),
            json!({ "domains": ["hop.com"], "buyer": "carol", "price": "20.00", "lock_60d": true }),
        )
        .await;
    assert_eq!(second.status, 201, "{second:?}");
    let sid = id(&second.body);
    let accepted = accept(&app, &sid, "carol").await;
    let otn = accepted.body["payment"]["out_trade_no"]
        .as_str()
        .unwrap()
        .to_owned();
    app.provider_says(&otn, "TRADE_SUCCESS").await;
    let done = app.get(&format!("/pushes/{sid}"), Some("carol")).await.body;
    let lock = time(&domain_of(&app, "carol", "hop.com").await.unwrap()["transfer_lock_until"]);
    assert_eq!(lock, time(&done["completed_at"]) + Duration::days(60));
    assert!(
        lock - first_lock >= Duration::days(10) && lock - first_lock < Duration::days(11),
        "60 days from the latest, not 120"
    );
}

#[tokio::test]
async fn p4_a_domain_deleted_before_payment_fails_the_whole_push_with_a_full_refund() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    let pid = id(&push(&app, &["stay.com", "vanish.com"], "100.00", true).await);
    let accepted = accept(&app, &pid, "bob").await;
    let otn = accepted.body["payment"]["out_trade_no"]
        .as_str()
        .unwrap()
        .to_owned();
    let event = app
        .post(
            "/admin/domains/vanish.com/events",
            Some("admin"),
            json!({ "type": "deleted" }),
        )
        .await;
    assert_eq!(event.status, 202, "{event:?}");
    // The event already ended the push; the money that arrives is refunded in full.
    app.provider_says(&otn, "TRADE_SUCCESS").await;
    let failed = app.get(&format!("/pushes/{pid}"), Some("bob")).await.body;
    assert_eq!(failed["status"], "failed");
    assert!(
        domain_of(&app, "alice", "stay.com").await.is_some(),
        "nothing moved"
    );
    assert_eq!(
        domain_of(&app, "alice", "stay.com").await.unwrap()["in_trade"],
        false
    );
    let refunds: Vec<String> = app
        .running
        .sandbox
        .refunds()
        .values()
        .map(|(_, a)| a.to_string())
        .collect();
    assert_eq!(refunds, vec!["100.00"]);
    assert_eq!(
        ledger_sum(&app, &sale_accounts("alice", "bob")).await,
        Decimal::ZERO
    );
}

#[tokio::test]
async fn p4_a_domain_that_becomes_undeliverable_while_paying_refunds_everything() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    let pid = id(&push(&app, &["one.com", "two.com"], "40.00", true).await);
    let accepted = accept(&app, &pid, "bob").await;
    let otn = accepted.body["payment"]["out_trade_no"]
        .as_str()
        .unwrap()
        .to_owned();
    // The registry flags one domain without an event reaching the push.
    app.domain_with("two.com", "alice", 365, 365, json!({ "restricted": true }))
        .await;
    app.provider_says(&otn, "TRADE_SUCCESS").await;
    let failed = app.get(&format!("/pushes/{pid}"), Some("bob")).await.body;
    assert_eq!(failed["status"], "failed", "{failed:?}");
    assert!(failed["end_reason"].as_str().unwrap().contains("two.com"));
    assert!(domain_of(&app, "alice", "one.com").await.is_some());
    assert_eq!(app.running.sandbox.refunds().len(), 1);
}

#[tokio::test]
async fn p8_the_registry_transfer_fee_is_shown_and_paid_on_top() {
    let mut settings = Settings::for_tests();
    settings.policy.transfer_fees.insert(
        "cn".into(),
        market_core::money::Money::parse("10.00").unwrap(),
    );
    let app = spawn_app_with(settings).await;
    alice_and_bob(&app).await;
    app.domain("fee.cn", "alice").await;
    app.domain("nofee.com", "alice").await;
    let p = app.post("/pushes", Some("alice"), json!({ "domains": ["fee.cn", "nofee.com"], "buyer": "bob", "price": "90.00", "lock_60d": true })).await.body;
    assert_eq!(
        (p["transfer_fee"].as_str(), p["amount_due"].as_str()),
        (Some("10.00"), Some("100.00"))
    );
    let accepted = accept(&app, &id(&p), "bob").await;
    assert_eq!(accepted.body["payment"]["amount"], "100.00");
    app.provider_says(
        accepted.body["payment"]["out_trade_no"].as_str().unwrap(),
        "TRADE_SUCCESS",
    )
    .await;
    assert_eq!(
        app.get("/me/ledger", Some("alice")).await.body["balances"]["frozen"],
        "90.00"
    );
    let mut accounts = sale_accounts("alice", "bob");
    accounts.push(market_core::ledger::LedgerAccount::Registry);
    assert_eq!(ledger_sum(&app, &accounts).await, Decimal::ZERO);
}

#[tokio::test]
async fn p10_events_and_takedowns_end_listings_and_pushes() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    let listing = app
        .list(
            "alice",
            &{
                app.domain("ev.com", "alice").await;
                "ev.com".to_owned()
            },
            "5.00",
        )
        .await;
    let lid = listing["id"].as_str().unwrap();
    let renewed = app
        .post(
            "/admin/domains/ev.com/events",
            Some("admin"),
            json!({ "type": "renewed", "expires_at": "2030-01-01T00:00:00Z" }),
        )
        .await;
    assert_eq!(renewed.status, 202);
    assert_eq!(
        app.get(&format!("/listings/{lid}"), None).await.body["status"],
        "active",
        "L7: renewal ends nothing"
    );
    let blacklisted = app
        .post(
            "/admin/domains/ev.com/events",
            Some("admin"),
            json!({ "type": "blacklisted" }),
        )
        .await;
    assert_eq!(blacklisted.body["listing"], lid);
    let ended = app.get(&format!("/listings/{lid}"), None).await.body;
    assert_eq!(
        (ended["status"].as_str(), ended["end_reason"].as_str()),
        (Some("ended"), Some("blacklisted"))
    );
    assert_problem(
        &app.post(
            "/admin/domains/ev.com/events",
            Some("admin"),
            json!({ "type": "hacked" }),
        )
        .await,
        400,
        "INVALID_REQUEST",
    );
    assert_problem(
        &app.post(
            "/admin/domains/nope.com/events",
            Some("admin"),
            json!({ "type": "deleted" }),
        )
        .await,
        404,
        "NOT_FOUND",
    );

    let pid = id(&push(&app, &["taken.com"], "5.00", false).await);
    let taken = app
        .post(
            &format!("/admin/pushes/{pid}/takedown"),
            Some("admin"),
            json!({ "reason": "fraud report" }),
        )
        .await;
    assert_eq!(taken.status, 200, "{taken:?}");
    assert_eq!(status(&app, &pid).await, "taken_down");
    assert_eq!(
        domain_of(&app, "alice", "taken.com").await.unwrap()["in_trade"],
        false
    );

    app.domain("policy.com", "alice").await;
    let l2 = app.list("alice", "policy.com", "5.00").await;
    let down = app
        .post(
            &format!("/admin/listings/{}/takedown", l2["id"].as_str().unwrap()),
            Some("admin"),
            json!({ "reason": "illegal content" }),
        )
        .await;
    // M3: the reason is the seller's (the operator's answer shows it); the end reason is not.
    assert_eq!(down.body["end_reason"], "taken_down");
    assert_eq!(down.body["takedown"]["reason"], "illegal content");

    let owner = id(&push(&app, &["moved.com"], "5.00", false).await);
    app.post(
        "/admin/domains/moved.com/events",
        Some("admin"),
        json!({ "type": "owner_changed", "owner": "carol" }),
    )
    .await;
    let p = app
        .get(&format!("/pushes/{owner}"), Some("alice"))
        .await
        .body;
    assert_eq!(
        (p["status"].as_str(), p["end_reason"].as_str()),
        (Some("failed"), Some("owner_changed"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn p6_withdraw_racing_accept_ends_each_push_exactly_one_way() {
    let app = Arc::new(spawn_app().await);
    alice_and_bob(&app).await;
    let mut ids = Vec::new();
    for i in 0..100 {
        if i % 25 == 24 {
            // Push publications are rate limited per seller per minute.
            app.advance(61).await;
        }
        ids.push(id(
            &push(&app, &[&format!("race{i}.com")], "10.00", false).await
        ));
    }
    let tasks: Vec<_> = ids
        .iter()
        .flat_map(|pid| {
            let (a, b) = (app.clone(), app.clone());
            let (p1, p2) = (pid.clone(), pid.clone());
            [
                tokio::spawn(async move {
                    (
                        "withdraw",
                        a.post(&format!("/pushes/{p1}/withdraw"), Some("alice"), json!({}))
                            .await
                            .status,
                    )
                }),
                tokio::spawn(async move { ("accept", accept(&b, &p2, "bob").await.status) }),
            ]
        })
        .collect();
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.unwrap());
    }
    for (i, pid) in ids.iter().enumerate() {
        let (withdraw, accept) = (outcomes[2 * i], outcomes[2 * i + 1]);
        let won: Vec<&str> = [withdraw, accept]
            .iter()
            .filter(|o| o.1 == 200)
            .map(|o| o.0)
            .collect();
        assert_eq!(won.len(), 1, "{pid}: {withdraw:?} {accept:?}");
        let loser = if won[0] == "withdraw" {
            accept
        } else {
            withdraw
        };
        assert_eq!(loser.1, 409);
        let final_status = status(&app, pid).await;
        assert_eq!(
            final_status,
            if won[0] == "withdraw" {
                "withdrawn"
            } else {
                "accepted"
            }
        );
    }
}

#[tokio::test]
async fn a1_a_push_to_or_accepted_by_an_unverified_or_unbound_buyer_is_refused() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    app.account("carol", false, Some("carol@example.com")).await;
    app.account("dave", true, None).await;
    app.domain("named.com", "alice").await;
    for (buyer, code) in [("carol", "NOT_VERIFIED"), ("dave", "NO_PAYOUT_ACCOUNT")] {
        let reply = app
            .post(
                "/pushes",
                Some("alice"),
                json!({ "domains": ["named.com"], "buyer": buyer, "price": "10.00", "lock_60d": false }),
            )
            .await;
        assert_problem(&reply, 422, code);
        assert!(
            reply.body["detail"].as_str().unwrap().contains(buyer),
            "{reply:?}"
        );
    }
    assert!(
        app.get("/me/pushes?role=sent", Some("alice")).await.body["items"]
            .as_array()
            .unwrap()
            .is_empty(),
        "nothing written"
    );
    assert_eq!(
        domain_of(&app, "alice", "named.com").await.unwrap()["in_trade"],
        false
    );

    // bob was verified when the push went out, and is no longer when he accepts.
    let priced = id(&push(&app, &["priced.com"], "10.00", false).await);
    let free = id(&push(&app, &["gift.com"], "0", true).await);
    for (verified, payout, code) in [
        (false, Some("bob@example.com"), "NOT_VERIFIED"),
        (true, None, "NO_PAYOUT_ACCOUNT"),
    ] {
        app.account("bob", verified, payout).await;
        for pid in [&priced, &free] {
            assert_problem(&accept(&app, pid, "bob").await, 422, code);
            let p = app.get(&format!("/pushes/{pid}"), Some("bob")).await.body;
            assert_eq!(p["status"], "pending", "nothing written: {p:?}");
            assert!(p["payment"].is_null());
        }
        assert!(domain_of(&app, "alice", "gift.com").await.is_some());
        assert!(domain_of(&app, "bob", "gift.com").await.is_none());
    }
    app.trader("bob").await;
    assert_eq!(
        accept(&app, &priced, "bob").await.body["status"],
        "accepted"
    );
    assert_eq!(accept(&app, &free, "bob").await.body["status"], "completed");
}

#[tokio::test]
async fn l2_9_l5_a_domain_whose_listing_ended_under_a_pending_order_cannot_be_pushed_until_the_order_ends(
) {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    app.trader("carol").await;
    app.domain("reserved.com", "alice").await;
    let ends_at = app.now().await + Duration::minutes(5);
    let listed = app
        .post(
            "/listings",
            Some("alice"),
            json!({ "domain": "reserved.com", "price": "20.00", "ends_at": ends_at }),
        )
        .await;
    assert_eq!(listed.status, 201, "{listed:?}");
    app.advance(180).await;
    assert_eq!(app.order("bob", &["reserved.com"]).await.status, 201);
    app.advance(150).await; // the listing's end time has passed; bob's window has not
    let to_carol =
        json!({ "domains": ["reserved.com"], "buyer": "carol", "price": "5.00", "lock_60d": true });
    let refused = app.post("/pushes", Some("alice"), to_carol.clone()).await;
    assert_problem(&refused, 422, "PUSH_REFUSED");
    assert_eq!(
        (
            refused.body["errors"][0]["domain"].as_str(),
            refused.body["errors"][0]["code"].as_str()
        ),
        (Some("reserved.com"), Some("ALREADY_IN_TRADE"))
    );
    assert!(
        app.get("/me/pushes?role=sent", Some("alice")).await.body["items"]
            .as_array()
            .unwrap()
            .is_empty(),
        "nothing written"
    );
    // bob's window closes unpaid (no sweep needed): the domain may go now.
    app.advance_late(600).await;
    let pushed = app.post("/pushes", Some("alice"), to_carol).await;
    assert_eq!(pushed.status, 201, "{pushed:?}");
}
