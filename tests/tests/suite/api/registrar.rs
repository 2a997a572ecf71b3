//! The marketplace decides transfer-outs (P9, P11): `GET /admin/domains/{domain}/transfer-out`,
//! the 409 `TRANSFER_LOCKED` of a transfer-out event inside the 60-day lock, the lock on
//! `GET /me/domains`, and each lock change published to the registrar core exactly once
//! through the outbox (`GET /dev/registrar/events`), even when delivery fails and is retried.
use chrono::{DateTime, Duration, Utc};
use market_tests::{spawn_app, Reply, TestApp};
use serde_json::{json, Value};

use crate::api::helpers::*;

const DAY: i64 = 24 * 3600;

async fn transfer_out(app: &TestApp, domain: &str) -> Reply {
    app.get(
        &format!("/admin/domains/{domain}/transfer-out"),
        Some("admin"),
    )
    .await
}

async fn event(app: &TestApp, domain: &str, kind: &str) -> Reply {
    app.post(
        &format!("/admin/domains/{domain}/events"),
        Some("admin"),
        json!({ "type": kind }),
    )
    .await
}

async fn my_domain(app: &TestApp, who: &str, domain: &str) -> Value {
    let reply = app.get("/me/domains", Some(who)).await;
    reply.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["domain"] == domain)
        .cloned()
        .unwrap_or_else(|| panic!("{who} does not own {domain}: {reply:?}"))
}

/// The registrar events recorded for `domain`, oldest first.
async fn registrar_events(app: &TestApp, domain: &str) -> Vec<Value> {
    let reply = app.get("/dev/registrar/events", None).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["domain"] == domain)
        .cloned()
        .collect()
}

fn time(v: &Value) -> DateTime<Utc> {
    serde_json::from_value(v.clone()).unwrap()
}

async fn publish_push(app: &TestApp, domain: &str, price: &str, lock: bool) -> String {
    let reply = app
        .post(
            "/pushes",
            Some("alice"),
            json!({ "domains": [domain], "buyer": "bob", "price": price, "lock_60d": lock }),
        )
        .await;
    assert_eq!(reply.status, 201, "{reply:?}");
    reply.body["id"].as_str().unwrap().to_owned()
}

fn assert_refused(reply: &Reply, reason: &str) {
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.body["allowed"], false, "{reply:?}");
    assert_eq!(reply.body["reason"], reason, "{reply:?}");
}

fn assert_allowed(reply: &Reply) {
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(
        reply.body,
        json!({ "allowed": true, "reason": null, "until": null }),
        "{reply:?}"
    );
}

/// P11: a domain in a pending push cannot leave; a transfer-out event without a lock still
/// ends the push (L6, P10), after which it may.
pub async fn p11_no_transfer_out_during_a_pending_push(app: &TestApp) {
    alice_and_bob(app).await;
    app.domain("p11push.com", "alice").await;
    assert_allowed(&transfer_out(app, "p11push.com").await);
    let pid = publish_push(app, "p11push.com", "10.00", false).await;
    assert_refused(&transfer_out(app, "p11push.com").await, "in_trade");
    let mine = my_domain(app, "alice", "p11push.com").await;
    assert_eq!(mine["transfer_out_locked"], true, "{mine}");
    assert_eq!(mine["transfer_out_locked_reason"], "in_trade", "{mine}");
    // No 60-day lock: the event is taken and ends the push, as before.
    let ended = event(app, "p11push.com", "transfer_out_started").await;
    assert_eq!(ended.status, 202, "{ended:?}");
    assert_eq!(ended.body["push"], pid.as_str(), "{ended:?}");
    assert_allowed(&transfer_out(app, "p11push.com").await);
    let mine = my_domain(app, "alice", "p11push.com").await;
    assert_eq!(mine["transfer_out_locked"], false, "{mine}");
    assert_eq!(mine["transfer_out_locked_reason"], Value::Null, "{mine}");
    // Entering and leaving the push: two lock changes, each told once.
    let events = registrar_events(app, "p11push.com").await;
    let locked: Vec<&Value> = events.iter().map(|e| &e["locked"]).collect();
    assert_eq!(locked, [&json!(true), &json!(false)], "{events:?}");
    assert!(events
        .iter()
        .all(|e| e["type"] == "DomainTransferLockChanged"));
}

/// P11: a listed domain with an order inside its payment window cannot leave.
pub async fn p11_no_transfer_out_during_an_orders_payment_window(app: &TestApp) {
    alice_and_bob(app).await;
    orderable_listing(app, "p11order.com", "120.00").await;
    assert_refused(&transfer_out(app, "p11order.com").await, "in_trade");
    let placed = app.order("bob", &["p11order.com"]).await;
    assert_eq!(placed.status, 201, "{placed:?}");
    let answer = transfer_out(app, "p11order.com").await;
    assert_refused(&answer, "in_trade");
    assert!(time(&answer.body["until"]) > app.now().await, "{answer:?}");
    // An unknown domain: 404.
    assert_problem(
        &transfer_out(app, "nobody-has-it.com").await,
        404,
        "NOT_FOUND",
    );
    // Operators only.
    assert_eq!(
        app.get("/admin/domains/p11order.com/transfer-out", Some("bob"))
            .await
            .status,
        403
    );
}

/// P9: 59 days after a forced change the domain cannot leave, and a transfer-out event is
/// refused with 409 TRANSFER_LOCKED, changing nothing; 61 days after, it may.
pub async fn p9_no_transfer_out_59_days_after_a_forced_change_and_free_after_61(app: &TestApp) {
    alice_and_bob(app).await;
    app.domain("p9lock.com", "alice").await;
    let pid = publish_push(app, "p9lock.com", "50.00", true).await;
    let accepted = app
        .post(
            &format!("/pushes/{pid}/accept"),
            Some("bob"),
            json!({ "captcha_token": "pass" }),
        )
        .await;
    assert_eq!(accepted.status, 200, "{accepted:?}");
    let otn = accepted.body["payment"]["out_trade_no"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(app.provider_says(&otn, "TRADE_SUCCESS").await.status, 200);
    let done = app.get(&format!("/pushes/{pid}"), Some("bob")).await.body;
    assert_eq!(done["status"], "completed", "{done}");
    let lock_end = time(&done["completed_at"]) + Duration::days(60);

    app.advance(59 * DAY).await;
    let answer = transfer_out(app, "p9lock.com").await;
    assert_refused(&answer, "transfer_locked");
    assert_eq!(time(&answer.body["until"]), lock_end, "{answer:?}");
    let before = my_domain(app, "bob", "p9lock.com").await;
    assert_eq!(before["transfer_out_locked"], true, "{before}");
    assert_eq!(before["transfer_out_locked_reason"], "transfer_locked");
    let events_before = registrar_events(app, "p9lock.com").await;
    for kind in ["transfer_out_started", "auth_code_issued"] {
        assert_problem(
            &event(app, "p9lock.com", kind).await,
            409,
            "TRANSFER_LOCKED",
        );
    }
    // Nothing changed: the domain as before (no pending operation: it can still be pushed
    // again inside the platform, P9), and nothing told.
    assert_eq!(my_domain(app, "bob", "p9lock.com").await, before);
    assert_eq!(registrar_events(app, "p9lock.com").await, events_before);
    let again = app
        .post(
            "/pushes",
            Some("bob"),
            json!({ "domains": ["p9lock.com"], "buyer": "alice", "price": "1.00", "lock_60d": false }),
        )
        .await;
    assert_eq!(
        again.status, 201,
        "P9: a locked domain can be pushed again: {again:?}"
    );
    let withdrawn = app
        .post(
            &format!("/pushes/{}/withdraw", again.body["id"].as_str().unwrap()),
            Some("bob"),
            json!({}),
        )
        .await;
    assert_eq!(withdrawn.status, 200, "{withdrawn:?}");

    app.advance(2 * DAY).await;
    assert_allowed(&transfer_out(app, "p9lock.com").await);
    let after = my_domain(app, "bob", "p9lock.com").await;
    assert_eq!(after["transfer_out_locked"], false, "{after}");
    let started = event(app, "p9lock.com", "transfer_out_started").await;
    assert_eq!(started.status, 202, "{started:?}");
}

/// P9, P11: a lock change is published to the registrar core exactly once, even when the
/// first deliveries fail (the sweep retries with backoff) and when one is published again
/// (a deliverer that crashed after publishing).
pub async fn p9_p11_a_lock_change_is_published_exactly_once_through_failures(app: &TestApp) {
    alice_and_bob(app).await;
    app.domain("p11once.com", "alice").await;
    assert!(registrar_events(app, "p11once.com").await.is_empty());
    app.running.registrar.fail_next(2);
    let pid = publish_push(app, "p11once.com", "10.00", false).await;
    // The delivery right after commit failed: nothing told yet, the push stands.
    assert!(registrar_events(app, "p11once.com").await.is_empty());
    // The sweep's retry 30 s later fails too; the next one, a minute after, delivers.
    app.advance(40).await;
    assert!(registrar_events(app, "p11once.com").await.is_empty());
    app.advance(90).await;
    let events = registrar_events(app, "p11once.com").await;
    assert_eq!(events.len(), 1, "{events:?}");
    let told = &events[0];
    assert_eq!(told["type"], "DomainTransferLockChanged");
    assert_eq!(told["locked"], true);
    assert_eq!(told["reason"], "in_trade");
    // Later sweeps deliver nothing again.
    app.advance(3600).await;
    assert_eq!(registrar_events(app, "p11once.com").await.len(), 1);
    // Published again by a deliverer that crashed before marking it: still once.
    let event: market_app::ports::registrar::RegistrarEvent =
        serde_json::from_value(told.clone()).unwrap();
    app.running.app.registrar.publish(&event).await.unwrap();
    assert_eq!(registrar_events(app, "p11once.com").await.len(), 1);
    // The push ends: the lock is lifted, told once more.
    let withdrawn = app
        .post(&format!("/pushes/{pid}/withdraw"), Some("alice"), json!({}))
        .await;
    assert_eq!(withdrawn.status, 200, "{withdrawn:?}");
    let events = registrar_events(app, "p11once.com").await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[1]["locked"], false);
    assert_eq!(events[1]["reason"], Value::Null);
    assert_ne!(events[0]["id"], events[1]["id"]);
}

#[tokio::test]
async fn p11_no_transfer_out_during_a_pending_push_embedded() {
    p11_no_transfer_out_during_a_pending_push(&spawn_app().await).await;
}

#[tokio::test]
async fn p11_no_transfer_out_during_an_orders_payment_window_embedded() {
    p11_no_transfer_out_during_an_orders_payment_window(&spawn_app().await).await;
}

#[tokio::test]
async fn p9_no_transfer_out_59_days_after_a_forced_change_and_free_after_61_embedded() {
    p9_no_transfer_out_59_days_after_a_forced_change_and_free_after_61(&spawn_app().await).await;
}

#[tokio::test]
async fn p9_p11_a_lock_change_is_published_exactly_once_through_failures_embedded() {
    p9_p11_a_lock_change_is_published_exactly_once_through_failures(&spawn_app().await).await;
}
