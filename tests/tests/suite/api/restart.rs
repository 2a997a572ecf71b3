//! The local runner on a data file, stopped and started again (graceful stop here; the
//! SIGKILL cases are `infra/tests/crash.rs`): the market, the sandbox provider's key and
//! what it reported, and the dev clock all go on where they were.
use std::path::Path;

use serde_json::json;

use infra::{Settings, StoreChoice};
use market_tests::{spawn_app_with, TestApp};

use crate::api::helpers::*;

async fn runner_on(path: &Path) -> TestApp {
    let mut settings = Settings::for_tests();
    settings.store = StoreChoice::Embedded(path.to_owned());
    spawn_app_with(settings).await
}

async fn stop(app: TestApp) {
    let TestApp { running, http, .. } = app;
    drop(http);
    running.shutdown(infra::SHUTDOWN_GRACE).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn o6_the_sandbox_verifies_and_finds_after_a_restart_what_it_signed_before() {
    let path = std::env::temp_dir().join(format!("restart-{}.redb", ulid::Ulid::new()));
    let app = runner_on(&path).await;
    alice_and_bob(&app).await;
    orderable_listing(&app, "restart-1.com", "20.00").await;
    orderable_listing(&app, "restart-2.com", "30.00").await;
    let mut orders = Vec::new();
    for domain in ["restart-1.com", "restart-2.com"] {
        let placed = app.order("bob", &[domain]).await;
        let id = placed.body["orders"][0]["id"].as_str().unwrap().to_owned();
        let otn = app.pay("bob", &id).await;
        orders.push((id, otn));
    }
    // The first trade is paid at the provider but its notification is lost; for the second
    // a signed notification is in hand, not yet delivered.
    let lost = app
        .post(
            &format!("/dev/payments/{}/complete", orders[0].1),
            None,
            json!({ "trade_status": "TRADE_SUCCESS", "notify": false }),
        )
        .await;
    assert_eq!(lost.status, 200, "{lost:?}");
    let in_hand = app.running.sandbox.notification(
        &orders[1].1,
        "TRADE_SUCCESS",
        market_core::money::Money::parse("30.00").unwrap(),
        app.now().await,
    );
    let before = app.now().await;
    stop(app).await;

    let app = runner_on(&path).await;
    assert!(
        app.now().await >= before,
        "the dev clock goes on, never back"
    );
    let refreshed = app
        .post(
            &format!("/orders/{}/refresh", orders[0].0),
            Some("bob"),
            json!({}),
        )
        .await;
    assert_eq!(refreshed.status, 200, "{refreshed:?}");
    assert_eq!(
        app.get(&format!("/orders/{}", orders[0].0), Some("bob"))
            .await
            .body["status"],
        "completed",
        "the restarted sandbox answered trade.query about the trade it reported before"
    );
    assert_eq!(app.notify_raw(in_hand.into_bytes()).await.status, 200);
    for _ in 0..250 {
        app.advance(0).await;
        let status = app
            .get(&format!("/orders/{}", orders[1].0), Some("bob"))
            .await
            .body["status"]
            .clone();
        if status == "completed" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        app.get(&format!("/orders/{}", orders[1].0), Some("bob"))
            .await
            .body["status"],
        "completed",
        "a notification signed before the restart verifies after it"
    );
    stop(app).await;
    let _ = std::fs::remove_file(&path);
}
