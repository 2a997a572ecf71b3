//! P12 through the use case directly (`market_app::security`), over both stores: what
//! cannot be raced on purpose over HTTP. Tries counted by requests racing across a minute's
//! edge are written into the store as such requests would have counted them, and the try
//! made now must see them (the recount after its increment). The HTTP contract is in
//! `api::security`.
use std::sync::Arc;

use chrono::{Duration, Timelike};

use market_adapters::store::embedded::EmbeddedStore;
use market_app::repo;
use market_app::security;
use market_app::store::Store;
use market_app::AppError;
use market_core::error::Code;
use market_core::ids::AccountId;
use market_core::security::{minute_of, SecurityPassword};
use market_tests::scene::Scene;

fn account(name: &str) -> AccountId {
    AccountId::parse(name).unwrap()
}

fn pw(text: &str) -> SecurityPassword {
    SecurityPassword::new("password", text.to_owned()).unwrap()
}

fn code(result: Result<(), AppError>) -> Option<Code> {
    match result {
        Ok(()) => None,
        Err(AppError::Refused(p)) => Some(p.code),
        Err(e) => panic!("{e:#}"),
    }
}

/// A scene over `store` whose clock is early in a minute, `who`'s password
/// `{who}-app-pw`.
async fn scene_with_password(store: Arc<dyn Store>, who: &AccountId) -> Scene {
    let scene = Scene::over(store);
    let second = scene.app.now().second();
    if second > 20 {
        scene
            .clock
            .try_advance(Duration::seconds(i64::from(61 - second)))
            .unwrap();
    }
    security::set_password(&scene.app, who, &pw(&format!("{who}-app-pw")), None)
        .await
        .unwrap();
    scene
}

/// Counts `n` tries of `who` in the minute starting at `minute`, as racing requests would
/// have (their checks unfinished: wrong).
async fn counted_elsewhere(
    scene: &Scene,
    who: &AccountId,
    minute: chrono::DateTime<chrono::Utc>,
    n: u64,
) {
    let ((pk, sk), _) = repo::security_try_keys(who, minute);
    for _ in 0..n {
        scene
            .app
            .store
            .increment(&pk, &sk, u64::MAX >> 1, None)
            .await
            .unwrap();
    }
}

async fn p12_tries_racing_across_a_minute_edge_are_seen(store: Arc<dyn Store>) {
    // Requests of the next minute that read this one before our try was counted.
    let alice = account("alice");
    let scene = scene_with_password(store.clone(), &alice).await;
    let now = minute_of(scene.app.now());
    counted_elsewhere(&scene, &alice, now + Duration::minutes(1), 5).await;
    assert_eq!(
        code(security::check(&scene.app, &alice, Some(&pw("alice-app-pw"))).await),
        Some(Code::SecurityLocked),
        "five counted next minute, this one the sixth"
    );

    // Four of them: the try is checked (and right).
    let carol = account("carol");
    let scene = scene_with_password(store, &carol).await;
    let now = minute_of(scene.app.now());
    counted_elsewhere(&scene, &carol, now + Duration::minutes(1), 4).await;
    assert_eq!(
        code(security::check(&scene.app, &carol, Some(&pw("carol-app-pw"))).await),
        None
    );
    // One more wrong makes five in the window (four unfinished): then even the right one is
    // refused.
    assert_eq!(
        code(security::check(&scene.app, &carol, Some(&pw("not-carols-pw"))).await),
        Some(Code::SecurityCheckFailed)
    );
    assert_eq!(
        code(security::check(&scene.app, &carol, Some(&pw("carol-app-pw"))).await),
        Some(Code::SecurityLocked)
    );
}

async fn p12_right_tries_never_lock_and_wrong_ones_slide_out(store: Arc<dyn Store>) {
    let alice = account("alice");
    let scene = scene_with_password(store, &alice).await;
    let right = pw("alice-app-pw");
    for _ in 0..12 {
        assert_eq!(
            code(security::check(&scene.app, &alice, Some(&right)).await),
            None
        );
    }
    for _ in 0..4 {
        assert_eq!(
            code(security::check(&scene.app, &alice, Some(&pw("a-wrong-guess"))).await),
            Some(Code::SecurityCheckFailed)
        );
    }
    // Ten minutes on, one more wrong: five in the window, locked.
    scene.clock.try_advance(Duration::minutes(10)).unwrap();
    assert_eq!(
        code(security::check(&scene.app, &alice, Some(&pw("a-wrong-guess"))).await),
        Some(Code::SecurityCheckFailed)
    );
    assert_eq!(
        code(security::check(&scene.app, &alice, Some(&right)).await),
        Some(Code::SecurityLocked)
    );
    // When the first four slide out (15 minutes after them), one wrong is left: free.
    scene.clock.try_advance(Duration::minutes(5)).unwrap();
    assert_eq!(
        code(security::check(&scene.app, &alice, Some(&right)).await),
        None
    );
}

#[tokio::test]
async fn p12_tries_racing_across_a_minute_edge_are_seen_embedded() {
    p12_tries_racing_across_a_minute_edge_are_seen(Arc::new(EmbeddedStore::in_memory().unwrap()))
        .await;
}

#[tokio::test]
async fn p12_tries_racing_across_a_minute_edge_are_seen_on_dynamodb() {
    p12_tries_racing_across_a_minute_edge_are_seen(Arc::new(
        market_tests::moto::fresh_table_store().await,
    ))
    .await;
}

#[tokio::test]
async fn p12_right_tries_never_lock_and_wrong_ones_slide_out_embedded() {
    p12_right_tries_never_lock_and_wrong_ones_slide_out(Arc::new(
        EmbeddedStore::in_memory().unwrap(),
    ))
    .await;
}

#[tokio::test]
async fn p12_right_tries_never_lock_and_wrong_ones_slide_out_on_dynamodb() {
    p12_right_tries_never_lock_and_wrong_ones_slide_out(Arc::new(
        market_tests::moto::fresh_table_store().await,
    ))
    .await;
}
