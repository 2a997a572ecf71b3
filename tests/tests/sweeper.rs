//! The expire-sweeper (E1, O3, L6, L7, P5): idempotent under concurrency, driven by the
//! due index, ending what the clock ends.
use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::Duration;
use market_tests::scene::Scene;
use market_tests::spawn_app;
use serde_json::json;
use shared::app::{orders, sweep};
use shared::core::ids::AccountId;
use shared::store::embedded::EmbeddedStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_sweeps_at_once_change_each_due_item_once() {
    let scene = Scene::over(Arc::new(EmbeddedStore::in_memory().unwrap()));
    scene.traders(&["buyer".to_owned()]).await;
    let listed = scene.listed(60, 3).await;
    let mut placed = BTreeSet::new();
    for (domain, _) in &listed {
        let p = orders::place(
            &scene.app,
            &AccountId::parse("buyer").unwrap(),
            std::slice::from_ref(domain),
            "pass",
        )
        .await
        .unwrap();
        placed.insert(p.orders[0].id.clone());
    }
    scene.clock.advance(Duration::minutes(11));
    let (a, b) = tokio::join!(sweep::sweep(&scene.app), sweep::sweep(&scene.app));
    let (a, b) = (a.unwrap(), b.unwrap());
    let mut expired: Vec<String> = a
        .expired_orders
        .iter()
        .chain(&b.expired_orders)
        .cloned()
        .collect();
    expired.sort();
    let unique: BTreeSet<String> = expired.iter().cloned().collect();
    assert_eq!(expired.len(), unique.len(), "no order expired twice");
    assert_eq!(unique, placed, "every due order expired");
    let again = sweep::sweep(&scene.app).await.unwrap();
    assert!(again.expired_orders.is_empty());
}

#[tokio::test]
async fn l7_a_listing_whose_domain_expires_leaves_browse_within_one_sweep() {
    let app = spawn_app().await;
    app.trader("alice").await;
    app.domain_with("fading.com", "alice", 365, 8, json!({}))
        .await;
    let listing = app.list("alice", "fading.com", "9.00").await;
    assert_eq!(
        app.get("/listings", None).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let sweep = app.advance(8 * 24 * 3600).await;
    assert_eq!(
        sweep.body["sweep"]["domains_expired"][0], "fading.com",
        "{sweep:?}"
    );
    assert!(app.get("/listings", None).await.body["items"]
        .as_array()
        .unwrap()
        .is_empty());
    let ended = app
        .get(
            &format!("/listings/{}", listing["id"].as_str().unwrap()),
            None,
        )
        .await
        .body;
    assert_eq!(
        (ended["status"].as_str(), ended["end_reason"].as_str()),
        (Some("ended"), Some("domain_expired"))
    );
    // Renewal does not relist (L7).
    app.post(
        "/admin/domains/fading.com/events",
        Some("admin"),
        json!({ "type": "renewed", "expires_at": "2031-01-01T00:00:00Z" }),
    )
    .await;
    assert!(app.get("/listings", None).await.body["items"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn l3_a_listing_past_its_end_is_ended_and_its_domain_freed() {
    let app = spawn_app().await;
    app.trader("alice").await;
    app.domain("ending.com", "alice").await;
    let ends_at = app.now().await + Duration::hours(2);
    let listing = app
        .post(
            "/listings",
            Some("alice"),
            json!({ "domain": "ending.com", "price": "3.00", "ends_at": ends_at }),
        )
        .await
        .body;
    let sweep = app.advance(2 * 3600).await;
    assert_eq!(
        sweep.body["sweep"]["listings_ended"][0], listing["id"],
        "{sweep:?}"
    );
    let domains = app.get("/me/domains", Some("alice")).await.body;
    assert_eq!(domains["items"][0]["in_trade"], false);
}

#[tokio::test]
async fn l6_every_lifecycle_event_but_renewal_ends_the_listing_with_its_reason() {
    let app = spawn_app().await;
    app.trader("alice").await;
    for (i, event) in [
        "deleted",
        "transfer_out_started",
        "owner_changed",
        "auth_code_issued",
        "blacklisted",
        "restricted",
        "transfer_prohibited",
    ]
    .iter()
    .enumerate()
    {
        let domain = format!("event{i}.com");
        app.domain(&domain, "alice").await;
        let listing = app.list("alice", &domain, "1.00").await;
        let reply = app
            .post(
                &format!("/admin/domains/{domain}/events"),
                Some("admin"),
                json!({ "type": event, "owner": "carol" }),
            )
            .await;
        assert_eq!(reply.status, 202, "{reply:?}");
        let ended = app
            .get(
                &format!("/listings/{}", listing["id"].as_str().unwrap()),
                None,
            )
            .await
            .body;
        assert_eq!(
            (ended["status"].as_str(), ended["end_reason"].as_str()),
            (Some("ended"), Some(*event)),
            "{event}"
        );
    }
}

#[tokio::test]
async fn the_sweep_reads_what_is_due_not_what_waits() {
    let scene = Scene::over(Arc::new(EmbeddedStore::in_memory().unwrap()));
    scene.traders(&["buyer".to_owned()]).await;
    let listed = scene.listed(30, 2).await;
    for (domain, _) in listed.iter().take(10) {
        orders::place(
            &scene.app,
            &AccountId::parse("buyer").unwrap(),
            std::slice::from_ref(domain),
            "pass",
        )
        .await
        .unwrap();
    }
    scene.clock.advance(Duration::minutes(11));
    let report = sweep::sweep(&scene.app).await.unwrap();
    assert_eq!(report.expired_orders.len(), 10);
    // Ten orders were due; thirty listings and domains wait weeks ahead: not read.
    assert_eq!(report.items_read, 10);
    let quiet = sweep::sweep(&scene.app).await.unwrap();
    assert_eq!(quiet.items_read, 0, "the cursor moved past what is done");
}
