//! M3: an operator takes a listing down for a content breach. The seller reads the reason
//! (`GET /me/listings`); the public sees only `status: ended, end_reason: "taken_down"`.
//! The seller appeals once; an operator restores the listing (if it may still trade) or
//! confirms the takedown.
use std::sync::Arc;

use market_tests::{spawn_app, Reply, TestApp};
use serde_json::{json, Value};

use crate::api::helpers::*;

const REASON: &str = "counterfeit brand in the description (rule 4.2)";

async fn take_down(app: &TestApp, id: &str) -> Reply {
    app.post(
        &format!("/admin/listings/{id}/takedown"),
        Some("admin"),
        json!({ "reason": REASON }),
    )
    .await
}

async fn appeal(app: &TestApp, who: &str, id: &str, text: &str) -> Reply {
    app.post(
        &format!("/listings/{id}/appeal"),
        Some(who),
        json!({ "text": text }),
    )
    .await
}

async fn decide(app: &TestApp, id: &str, decision: &str) -> Reply {
    app.post(
        &format!("/admin/listings/{id}/appeal"),
        Some("admin"),
        json!({ "decision": decision }),
    )
    .await
}

/// alice's listing of `domain`, taken down; its id.
async fn taken_down(app: &TestApp, domain: &str) -> String {
    app.domain(domain, "alice").await;
    let listing = app.list("alice", domain, "120.00").await;
    let id = listing["id"].as_str().unwrap().to_owned();
    let down = take_down(app, &id).await;
    assert_eq!(down.status, 200, "{down:?}");
    id
}

/// alice's listing `id` as `GET /me/listings` shows it to her.
async fn in_my_listings(app: &TestApp, id: &str) -> Value {
    let mine = app.get("/me/listings?limit=200", Some("alice")).await;
    assert_eq!(mine.status, 200, "{mine:?}");
    mine.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("{id} not in alice's listings"))
}

/// M3 over either store: the reason for the seller only, one appeal, a confirmation.
pub async fn m3_the_seller_reads_the_reason_the_public_never_does(app: &TestApp) {
    alice_and_bob(app).await;
    let id = taken_down(app, "m3reason.com").await;

    // The public: ended, taken_down, nothing more — not in the listing, not in browse.
    let public = app.get(&format!("/listings/{id}"), None).await;
    assert_eq!(public.status, 200, "{public:?}");
    assert_eq!(public.body["status"], "ended");
    assert_eq!(public.body["end_reason"], "taken_down");
    assert!(public.body.get("takedown").is_none(), "{public:?}");
    assert!(
        !public.body.to_string().contains("counterfeit"),
        "{public:?}"
    );
    let as_bob = app.get(&format!("/listings/{id}"), Some("bob")).await;
    assert!(
        !as_bob.body.to_string().contains("counterfeit"),
        "{as_bob:?}"
    );
    let browse = app.get("/listings?q=m3reason", None).await;
    assert_eq!(browse.status, 200, "{browse:?}");
    assert!(browse.body["items"].as_array().unwrap().is_empty());
    assert!(!browse.body.to_string().contains("counterfeit"));
    // Another seller's own listings never carry it either.
    assert!(!app
        .get("/me/listings", Some("bob"))
        .await
        .body
        .to_string()
        .contains("counterfeit"));

    // The seller: the reason, and no appeal yet.
    let mine = in_my_listings(app, &id).await;
    assert_eq!(mine["status"], "ended");
    assert_eq!(mine["end_reason"], "taken_down");
    assert_eq!(mine["takedown"]["reason"], REASON);
    assert!(mine["takedown"]["taken_down_at"].is_string());
    assert!(mine["takedown"]["appeal"].is_null());

    // One appeal, then a clear refusal of a second.
    let filed = appeal(
        app,
        "alice",
        &id,
        "The brand is ours; see the trademark filing.",
    )
    .await;
    assert_eq!(filed.status, 201, "{filed:?}");
    assert_eq!(filed.body["takedown"]["appeal"]["status"], "pending");
    let again = appeal(app, "alice", &id, "Please look again.").await;
    assert_problem(&again, 409, "APPEAL_ALREADY_FILED");
    assert_eq!(
        in_my_listings(app, &id).await["takedown"]["appeal"]["text"],
        "The brand is ours; see the trademark filing."
    );
    // The appeal's text is the seller's too.
    assert!(!app
        .get(&format!("/listings/{id}"), None)
        .await
        .body
        .to_string()
        .contains("trademark"));

    // Confirmed: the listing stays ended; the decision is final.
    let confirmed = decide(app, &id, "confirm").await;
    assert_eq!(confirmed.status, 200, "{confirmed:?}");
    assert_eq!(confirmed.body["status"], "ended");
    assert_eq!(confirmed.body["takedown"]["appeal"]["status"], "confirmed");
    assert!(confirmed.body["takedown"]["appeal"]["decided_at"].is_string());
    assert_problem(&decide(app, &id, "restore").await, 409, "NO_PENDING_APPEAL");
    assert_problem(
        &appeal(app, "alice", &id, "once more").await,
        409,
        "APPEAL_ALREADY_FILED",
    );
    assert_eq!(
        app.get(&format!("/listings/{id}"), None).await.body["end_reason"],
        "taken_down"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn m3_the_seller_reads_the_reason_the_public_never_does_and_appeals_once() {
    m3_the_seller_reads_the_reason_the_public_never_does(&spawn_app().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn m3_every_appeal_refusal() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    app.domain("m3open.com", "alice").await;
    let open = app.list("alice", "m3open.com", "10.00").await;
    let open_id = open["id"].as_str().unwrap();
    // Not taken down: an active listing, then a delisted one.
    assert_problem(
        &appeal(&app, "alice", open_id, "why").await,
        409,
        "NOT_TAKEN_DOWN",
    );
    assert_eq!(
        app.delete(&format!("/listings/{open_id}"), Some("alice"))
            .await
            .status,
        200
    );
    assert_problem(
        &appeal(&app, "alice", open_id, "why").await,
        409,
        "NOT_TAKEN_DOWN",
    );
    // An operator's decision without an appeal.
    let id = taken_down(&app, "m3refuse.com").await;
    assert_problem(
        &decide(&app, &id, "confirm").await,
        409,
        "NO_PENDING_APPEAL",
    );
    // Only the seller; a text that is blank or over 500 characters; an unknown listing.
    assert_problem(
        &appeal(&app, "bob", &id, "not mine").await,
        403,
        "FORBIDDEN",
    );
    assert_problem(
        &appeal(&app, "alice", &id, "   ").await,
        400,
        "INVALID_REQUEST",
    );
    assert_problem(
        &appeal(&app, "alice", &id, &"x".repeat(501)).await,
        400,
        "INVALID_REQUEST",
    );
    assert_problem(
        &app.post(
            &format!("/listings/{id}/appeal"),
            Some("alice"),
            json!({ "text": "ok", "extra": 1 }),
        )
        .await,
        400,
        "INVALID_REQUEST",
    );
    assert_problem(
        &appeal(&app, "alice", "lst_01jdxw0000000000000000000z", "where").await,
        404,
        "NOT_FOUND",
    );
    let anonymous = app
        .post(
            &format!("/listings/{id}/appeal"),
            None,
            json!({ "text": "hi" }),
        )
        .await;
    assert_problem(&anonymous, 401, "UNAUTHENTICATED");
    // Operators only decide, with a known decision.
    let by_seller = app
        .post(
            &format!("/admin/listings/{id}/appeal"),
            Some("alice"),
            json!({ "decision": "restore" }),
        )
        .await;
    assert_problem(&by_seller, 403, "FORBIDDEN");
    // Nothing above was an appeal: the one appeal is still there to file, at 500 characters.
    let filed = appeal(&app, "alice", &id, &"y".repeat(500)).await;
    assert_eq!(filed.status, 201, "{filed:?}");
    assert_problem(&decide(&app, &id, "maybe").await, 400, "INVALID_REQUEST");
    // A takedown of a listing already ended is refused.
    assert_problem(&take_down(&app, &id).await, 409, "LISTING_NOT_ACTIVE");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn m3_a_restore_puts_the_listing_back_with_its_domain_held() {
    m3_a_restore_reactivates_the_listing_and_holds_its_domain(&spawn_app().await).await;
}

/// M3 over either store: a restore is one transaction over the listing and its domain.
pub async fn m3_a_restore_reactivates_the_listing_and_holds_its_domain(app: &TestApp) {
    alice_and_bob(app).await;
    let id = taken_down(app, "m3back.com").await;
    let domain = app.get("/me/domains", Some("alice")).await.body;
    assert_eq!(
        domain["items"][0]["in_trade"], false,
        "a takedown frees the domain"
    );
    assert_eq!(
        appeal(app, "alice", &id, "Fixed the description.")
            .await
            .status,
        201
    );
    let restored = decide(app, &id, "restore").await;
    assert_eq!(restored.status, 200, "{restored:?}");
    assert_eq!(restored.body["status"], "active");
    assert!(restored.body.get("end_reason").is_none(), "{restored:?}");
    assert_eq!(restored.body["takedown"]["appeal"]["status"], "restored");
    // Back on the market for everyone, without the history.
    let public = app.get(&format!("/listings/{id}"), None).await.body;
    assert_eq!(public["status"], "active");
    assert!(public.get("takedown").is_none());
    let browse = app.get("/listings?q=m3back", None).await.body;
    assert_eq!(browse["items"][0]["id"], id.as_str());
    // The domain is held by it again: no second listing, and it sells after the cool-down.
    let second = app
        .post(
            "/listings",
            Some("alice"),
            json!({ "domain": "m3back.com", "price": "1.00" }),
        )
        .await;
    assert_problem(&second, 409, "ALREADY_IN_TRADE");
    app.advance(180).await;
    let placed = app.order("bob", &["m3back.com"]).await;
    assert_eq!(placed.status, 201, "{placed:?}");
    // Decided once.
    assert_problem(&decide(app, &id, "confirm").await, 409, "NO_PENDING_APPEAL");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn m3_a_restore_is_refused_when_the_listing_may_no_longer_trade() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;

    // The domain went into another trade (a push of the seller's) meanwhile.
    let pushed = taken_down(&app, "m3pushed.com").await;
    appeal(&app, "alice", &pushed, "please").await;
    let push = app
        .post(
            "/pushes",
            Some("alice"),
            json!({ "domains": ["m3pushed.com"], "buyer": "bob", "price": "5.00", "lock_60d": false }),
        )
        .await;
    assert_eq!(push.status, 201, "{push:?}");
    let refused = decide(&app, &pushed, "restore").await;
    assert_problem(&refused, 409, "RESTORE_NOT_ALLOWED");
    assert_eq!(refused.body["errors"][0]["code"], "ALREADY_IN_TRADE");
    assert_eq!(refused.body["errors"][0]["domain"], "m3pushed.com");
    // Nothing changed: still ended, the appeal pending; the operator can still confirm.
    let mine = in_my_listings(&app, &pushed).await;
    assert_eq!(mine["status"], "ended");
    assert_eq!(mine["takedown"]["appeal"]["status"], "pending");
    assert_eq!(decide(&app, &pushed, "confirm").await.status, 200);

    // The domain changed hands.
    let moved = taken_down(&app, "m3moved.com").await;
    appeal(&app, "alice", &moved, "please").await;
    app.post(
        "/admin/domains/m3moved.com/events",
        Some("admin"),
        json!({ "type": "owner_changed", "owner": "bob" }),
    )
    .await;
    let refused = decide(&app, &moved, "restore").await;
    assert_problem(&refused, 409, "RESTORE_NOT_ALLOWED");
    assert_eq!(refused.body["errors"][0]["code"], "NOT_OWNER");

    // The domain is flagged restricted now (L2.8).
    let flagged = taken_down(&app, "m3flag.com").await;
    appeal(&app, "alice", &flagged, "please").await;
    app.post(
        "/admin/domains/m3flag.com/events",
        Some("admin"),
        json!({ "type": "restricted" }),
    )
    .await;
    let refused = decide(&app, &flagged, "restore").await;
    assert_eq!(
        refused.body["errors"][0]["code"], "RESTRICTED",
        "{refused:?}"
    );

    // The listing's own end time passed while the appeal waited.
    let late = taken_down(&app, "m3late.com").await;
    appeal(&app, "alice", &late, "please").await;
    app.advance(366 * 24 * 3600).await;
    let refused = decide(&app, &late, "restore").await;
    assert_problem(&refused, 409, "RESTORE_NOT_ALLOWED");
    assert!(
        ["DOMAIN_EXPIRED", "LISTING_NOT_ACTIVE"]
            .contains(&refused.body["errors"][0]["code"].as_str().unwrap()),
        "{refused:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn m3_a_restore_is_refused_for_an_expired_domain() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    let reply = app
        .domain_with("m3exp.com", "alice", 365, 20, json!({}))
        .await;
    assert_eq!(reply.status, 200);
    let listing = app
        .post(
            "/listings",
            Some("alice"),
            json!({ "domain": "m3exp.com", "price": "9.00", "ends_at": app.now().await + chrono::Duration::days(10) }),
        )
        .await;
    let id = listing.body["id"].as_str().unwrap().to_owned();
    assert_eq!(take_down(&app, &id).await.status, 200);
    appeal(&app, "alice", &id, "please").await;
    // 15 days on: the domain is 5 days from expiry (L2.3) — and the listing's end passed.
    app.advance(15 * 24 * 3600).await;
    let refused = decide(&app, &id, "restore").await;
    assert_problem(&refused, 409, "RESTORE_NOT_ALLOWED");
    assert_eq!(
        refused.body["errors"][0]["code"], "NEAR_EXPIRY",
        "{refused:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn m3_a_restore_is_refused_for_a_seller_no_longer_verified() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    let id = taken_down(&app, "m3unverified.com").await;
    appeal(&app, "alice", &id, "please").await;
    app.account("alice", false, Some("alice@example.com")).await;
    let refused = decide(&app, &id, "restore").await;
    assert_problem(&refused, 409, "RESTORE_NOT_ALLOWED");
    assert_eq!(refused.body["errors"][0]["code"], "NOT_VERIFIED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn m3_a_retried_appeal_replays_and_racing_appeals_file_one() {
    let app = Arc::new(spawn_app().await);
    alice_and_bob(&app).await;
    // A retry with the same Idempotency-Key gets the first answer, not a refusal.
    let id = taken_down(&app, "m3retry.com").await;
    let key = [("idempotency-key", "appeal-1")];
    let body = json!({ "text": "first" });
    let path = format!("/listings/{id}/appeal");
    let first = app
        .send(
            reqwest::Method::POST,
            &path,
            Some("alice"),
            Some(body.clone()),
            &key,
        )
        .await;
    assert_eq!(first.status, 201, "{first:?}");
    let retried = app
        .send(
            reqwest::Method::POST,
            &path,
            Some("alice"),
            Some(body),
            &key,
        )
        .await;
    assert_eq!((retried.status, retried.body.clone()), (201, first.body));

    // Eight appeals at once: exactly one is filed, the others are refused.
    let id = taken_down(&app, "m3race.com").await;
    let tasks: Vec<_> = (0..8)
        .map(|n| {
            let (app, id) = (app.clone(), id.clone());
            tokio::spawn(async move { appeal(&app, "alice", &id, &format!("appeal {n}")).await })
        })
        .collect();
    let mut filed = 0;
    for task in tasks {
        let reply = task.await.unwrap();
        match reply.status {
            201 => filed += 1,
            _ => assert_problem(&reply, 409, "APPEAL_ALREADY_FILED"),
        }
    }
    assert_eq!(filed, 1);
    // Restore and confirm at once: one decision wins.
    let (restore, confirm) =
        tokio::join!(decide(&app, &id, "restore"), decide(&app, &id, "confirm"));
    assert!(
        (restore.status == 200) ^ (confirm.status == 200),
        "{restore:?} {confirm:?}"
    );
    let status = in_my_listings(&app, &id).await;
    let expected = if restore.status == 200 {
        ("active", "restored")
    } else {
        ("ended", "confirmed")
    };
    assert_eq!(
        (
            status["status"].as_str().unwrap(),
            status["takedown"]["appeal"]["status"].as_str().unwrap()
        ),
        expected
    );
}
