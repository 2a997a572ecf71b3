//! The search indexer function (Q1) on the table's stream: the listings of a batch reach
//! the index (read again from the table: a record repeated or late changes nothing), a
//! batch the search engine refuses is reported by its first listing record for the stream
//! to retry, and the rebuild item's records take the rebuild's steps.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use market_app::ports::search::{Hits, SearchChange, SearchError, SearchIndex};
use market_core::search::query::Plan;

use serde_json::json;

use market_adapters::search::embedded::EmbeddedSearch;
use market_app::search::feed::SearchFeed;
use market_app::App;
use market_core::search::query::SearchParams;
use market_tests::scene::Scene;
use market_web::stream::StreamEvent;

/// An engine that refuses every change while `down` (a domain unreachable).
struct Flaky {
    inner: EmbeddedSearch,
    down: AtomicBool,
}

#[async_trait]
impl SearchIndex for Flaky {
    async fn apply(&self, changes: Vec<SearchChange>) -> Result<(), SearchError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(SearchError::Failed("the domain is unreachable".into()));
        }
        self.inner.apply(changes).await
    }
    async fn search(&self, plan: &Plan) -> Result<Hits, SearchError> {
        self.inner.search(plan).await
    }
    async fn count(&self) -> Result<u64, SearchError> {
        self.inner.count().await
    }
}

/// The scene's app as the cloud runs it: writes index nothing (the stream feeds the
/// indexer), and its own empty index.
fn cloud_app(scene: &Scene) -> Arc<App> {
    cloud_app_with(scene, Arc::new(EmbeddedSearch::in_memory().unwrap()))
}

fn cloud_app_with(scene: &Scene, search: Arc<dyn SearchIndex>) -> Arc<App> {
    let app = &scene.app;
    Arc::new(App {
        store: app.store.clone(),
        clock: app.clock.clone(),
        timer: app.timer.clone(),
        queue: app.queue.clone(),
        provider: app.provider.clone(),
        captcha: app.captcha.clone(),
        second_factor: app.second_factor.clone(),
        registrar: app.registrar.clone(),
        mailer: app.mailer.clone(),
        outbox_feed: app.outbox_feed.clone(),
        search,
        search_feed: SearchFeed::Stream,
        partner: app.partner.clone(),
        cards: app.cards.clone(),
        paypal: app.paypal.clone(),
        policy: app.policy.clone(),
        caches: Default::default(),
    })
}

/// A stream batch (keys only, as the table's stream sends) of changed items.
fn stream_event(keys: &[(String, &str)]) -> StreamEvent {
    market_tests::stream::event("MODIFY", keys)
}

async fn ids(app: &App) -> Vec<String> {
    let page = market_app::search::search(app, &SearchParams::default())
        .await
        .unwrap();
    page.items.iter().map(|i| i.listing.id.clone()).collect()
}

#[tokio::test]
async fn q1_the_indexer_indexes_the_listings_of_a_batch_once_and_reports_what_the_engine_refused() {
    let scene = Scene::over(Arc::new(
        market_adapters::store::embedded::EmbeddedStore::in_memory().unwrap(),
    ));
    scene.listed(3, 1).await;
    let listed = ids(&scene.app).await;
    assert_eq!(listed.len(), 3);
    let engine = Arc::new(Flaky {
        inner: EmbeddedSearch::in_memory().unwrap(),
        down: AtomicBool::new(true),
    });
    let cloud = cloud_app_with(&scene, engine.clone());
    assert!(
        ids(&cloud).await.is_empty(),
        "the cloud's writes index nothing"
    );
    let mut keys: Vec<(String, &str)> = vec![("ACCOUNT#x".into(), "A")];
    keys.extend(listed.iter().map(|id| (format!("LISTING#{id}"), "L")));
    let event = stream_event(&keys);

    // The engine refuses: reported from the first listing record.
    let answer = fn_indexer::handle(&cloud, event.clone()).await;
    assert_eq!(
        serde_json::to_value(&answer).unwrap(),
        json!({ "batchItemFailures": [{ "itemIdentifier": "101" }] })
    );
    assert!(ids(&cloud).await.is_empty());

    // The stream retries: indexed; the same records again change nothing.
    engine.down.store(false, Ordering::SeqCst);
    let answer = fn_indexer::handle(&cloud, event.clone()).await;
    assert!(answer.batch_item_failures.is_empty(), "{answer:?}");
    let answer = fn_indexer::handle(&cloud, event).await;
    assert!(answer.batch_item_failures.is_empty(), "{answer:?}");
    let mut found = ids(&cloud).await;
    found.sort();
    let mut want = listed.clone();
    want.sort();
    assert_eq!(found, want);
    assert_eq!(cloud.search.count().await.unwrap(), 3);

    // A listing delisted: its record removes it.
    let seller = market_core::ids::AccountId::parse("seller0").unwrap();
    let id = market_core::ids::ListingId::parse(&listed[0]).unwrap();
    market_app::listings::delist(&cloud, &seller, &id)
        .await
        .unwrap();
    assert_eq!(
        cloud.search.count().await.unwrap(),
        3,
        "not before its record"
    );
    let answer = fn_indexer::handle(&cloud, stream_event(&[(format!("LISTING#{id}"), "L")])).await;
    assert!(answer.batch_item_failures.is_empty());
    assert_eq!(cloud.search.count().await.unwrap(), 2);
}

#[tokio::test]
async fn q1_the_indexer_takes_the_rebuilds_steps_off_the_stream() {
    let scene = Scene::over(Arc::new(
        market_adapters::store::embedded::EmbeddedStore::in_memory().unwrap(),
    ));
    scene.listed(7, 2).await;
    let cloud = cloud_app(&scene);
    let started = market_app::search::rebuild::start(&cloud).await.unwrap();
    assert!(
        started.finished_at.is_none(),
        "the cloud's request only starts it"
    );
    assert!(ids(&cloud).await.is_empty());
    let record = stream_event(&[("SEARCH#rebuild".into(), "R")]);
    let answer = fn_indexer::handle(&cloud, record.clone()).await;
    assert!(answer.batch_item_failures.is_empty(), "{answer:?}");
    let status = market_app::search::rebuild::status(&cloud)
        .await
        .unwrap()
        .unwrap();
    assert!(status.finished_at.is_some(), "{status:?}");
    assert_eq!((status.listings, status.indexed, status.pages), (7, 7, 1));
    assert_eq!(ids(&cloud).await.len(), 7);
    // The finished rebuild's own record (its last write) takes no further step.
    let answer = fn_indexer::handle(&cloud, record).await;
    assert!(answer.batch_item_failures.is_empty());
    let again = market_app::search::rebuild::status(&cloud)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.pages, 1);
}

#[tokio::test]
async fn q1_a_rebuild_of_one_more_than_a_step_takes_two_steps_and_indexes_each_listing_once() {
    let scene = Scene::over(Arc::new(
        market_adapters::store::embedded::EmbeddedStore::in_memory().unwrap(),
    ));
    let step = market_app::search::rebuild::STEP;
    scene.listed(step + 1, 4).await;
    let cloud = cloud_app(&scene);
    market_app::search::rebuild::start(&cloud).await.unwrap();
    let record = stream_event(&[("SEARCH#rebuild".into(), "R")]);
    let answer = fn_indexer::handle(&cloud, record.clone()).await;
    assert!(answer.batch_item_failures.is_empty(), "{answer:?}");
    let first = market_app::search::rebuild::status(&cloud)
        .await
        .unwrap()
        .unwrap();
    assert!(first.finished_at.is_none(), "one step: {first:?}");
    assert!(first.cursor.is_some());
    // The first step's write reaches the indexer as the next record.
    let answer = fn_indexer::handle(&cloud, record).await;
    assert!(answer.batch_item_failures.is_empty(), "{answer:?}");
    let done = market_app::search::rebuild::status(&cloud)
        .await
        .unwrap()
        .unwrap();
    assert!(done.finished_at.is_some(), "{done:?}");
    assert_eq!(done.pages, 2);
    assert_eq!(done.listings, step as u64 + 1);
    assert_eq!(cloud.search.count().await.unwrap(), step as u64 + 1);
}
