//! The expire-sweeper (E1, O3, L6, L7, P5): idempotent under concurrency, driven by the
//! due index, ending what the clock ends.
use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{Duration, Timelike};
use market_adapters::queue::{QueueConsumer, Topic};
use market_adapters::store::embedded::EmbeddedStore;
use market_app::ports::captcha::HumanCheck;
use market_app::store::{Expect, Index, Item, Write};
use market_app::{orders, repo, sweep};
use market_core::ids::{AccountId, OrderId};
use market_tests::scene::Scene;
use market_tests::spawn_app;
use serde_json::json;

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
            &HumanCheck::new("pass"),
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
            &HumanCheck::new("pass"),
        )
        .await
        .unwrap();
    }
    // The registrar's messages of those writes, delivered as the stream delivers them.
    scene.stream().await;
    scene.clock.advance(Duration::minutes(11));
    let report = sweep::sweep(&scene.app).await.unwrap();
    assert_eq!(report.expired_orders.len(), 10);
    // Ten orders were due; thirty listings and domains wait weeks ahead: not read.
    assert_eq!(report.items_read, 10);
    let quiet = sweep::sweep(&scene.app).await.unwrap();
    assert_eq!(quiet.items_read, 0, "the cursor moved past what is done");
}

/// Places a one-domain order of `buyer` for each domain; returns the order ids.
async fn orders_for(scene: &Scene, domains: &[(String, String)]) -> Vec<String> {
    let mut ids = Vec::new();
    for (domain, _) in domains {
        let placed = orders::place(
            &scene.app,
            &AccountId::parse("buyer").unwrap(),
            std::slice::from_ref(domain),
            &HumanCheck::new("pass"),
        )
        .await
        .unwrap();
        ids.push(placed.orders[0].id.clone());
    }
    ids
}

/// Writes `item` straight to the store at its current version, bypassing the app.
async fn overwrite(scene: &Scene, item: Item) {
    let version = item.version;
    scene
        .app
        .store
        .transact(vec![Write::Put(item, Expect::Version(version))])
        .await
        .unwrap();
}

/// Asserts the next try is `wait` from now (the dev clock runs on with real time).
fn assert_waits(retry_at: Option<chrono::DateTime<chrono::Utc>>, scene: &Scene, wait: Duration) {
    let left = retry_at.expect("a time to try again") - scene.app.now();
    assert!(
        left <= wait && left > wait - Duration::seconds(5),
        "waits {left}, not {wait}"
    );
}

#[tokio::test]
async fn a_poison_item_is_deferred_with_backoff_and_never_stops_the_sweep() {
    let scene = Scene::over(Arc::new(EmbeddedStore::in_memory().unwrap()));
    scene.traders(&["buyer".to_owned()]).await;
    let listed = scene.listed(10, 2).await;
    let placed = orders_for(&scene, &listed).await;
    // A due entry whose item cannot be read: planted straight into the store.
    let due = scene.app.now() + Duration::minutes(5);
    let poison = repo::due_at(Item::new("ORDER#POISON", "O", "{not json".to_owned()), due);
    scene
        .app
        .store
        .transact(vec![Write::Put(poison, Expect::Absent)])
        .await
        .unwrap();
    scene.stream().await;
    scene.clock.advance(Duration::minutes(11));

    let report = sweep::sweep(&scene.app).await.unwrap();
    assert_eq!(
        report.expired_orders.len(),
        placed.len(),
        "every other item moved on"
    );
    assert_eq!((report.processed, report.failed), (placed.len(), 1));
    let failure = &report.failures[0];
    assert_eq!(failure.key, "ORDER#POISON/O");
    assert_eq!(failure.attempts, 1);
    assert_waits(failure.retry_at, &scene, sweep::backoff(1));

    let at_once = sweep::sweep(&scene.app).await.unwrap();
    assert_eq!(
        (at_once.processed, at_once.failed),
        (0, 0),
        "not retried before its time"
    );

    scene.clock.advance(Duration::minutes(2));
    let later = sweep::sweep(&scene.app).await.unwrap();
    assert_eq!(later.failed, 1, "retried once its time came");
    assert_eq!(later.failures[0].attempts, 2, "and its failures counted");
    // The backoff doubles.
    assert_waits(later.failures[0].retry_at, &scene, Duration::minutes(2));

    // The sweeper is alive: a listing freed by the expiry is ordered again and expires.
    let again = orders_for(&scene, &listed[..1]).await;
    scene.clock.advance(Duration::minutes(11));
    let report = sweep::sweep(&scene.app).await.unwrap();
    assert_eq!(report.expired_orders, again);
}

#[tokio::test]
async fn e1_an_index_entry_that_shows_up_late_in_a_passed_bucket_is_swept_by_the_next_full_read() {
    let scene = Scene::over(Arc::new(EmbeddedStore::in_memory().unwrap()));
    scene.traders(&["buyer".to_owned()]).await;
    let listed = scene.listed(1, 1).await;
    // Place the order at :45 of an hour, so that it is due at :55 of the same hour.
    let now = scene.app.now();
    let to_45 = (45 + 60 - i64::from(now.minute())) % 60;
    scene.clock.advance(Duration::minutes(to_45));
    let id = orders_for(&scene, &listed).await.remove(0);
    let key = repo::order_key(&OrderId::parse(&id).unwrap());
    let written = scene.app.store.get(&key.0, &key.1).await.unwrap().unwrap();
    let entry = written.indexes[&Index::Gsi5].clone();
    // Its index entry is not visible yet (eventual consistency)...
    let mut hidden = written.clone();
    hidden.indexes.remove(&Index::Gsi5);
    overwrite(&scene, hidden).await;
    // ...when a sweep runs just after the hour turned.
    scene.clock.advance(Duration::minutes(17));
    let before = sweep::sweep(&scene.app).await.unwrap();
    assert!(before.expired_orders.is_empty());
    // The entry arrives, in the bucket of the hour that just passed.
    let mut late = scene.app.store.get(&key.0, &key.1).await.unwrap().unwrap();
    late.indexes.insert(Index::Gsi5, entry);
    overwrite(&scene, late).await;
    // The next runs read what became due since the last one (what the workers were handed
    // is theirs for the lease)...
    scene.clock.advance(Duration::minutes(1));
    let soon = sweep::sweep(&scene.app).await.unwrap();
    assert!(soon.expired_orders.is_empty(), "{soon:?}");
    // ...and the next full read starts from the hour the cursor kept.
    scene.clock.advance(sweep::LEASE);
    let after = sweep::sweep(&scene.app).await.unwrap();
    assert_eq!(
        after.expired_orders,
        vec![id],
        "the cursor waited for the late entry"
    );
}

#[tokio::test]
async fn l7_a_domain_said_to_have_expired_hours_ago_is_still_swept() {
    let app = spawn_app().await;
    app.trader("alice").await;
    app.domain("late-news.com", "alice").await;
    app.list("alice", "late-news.com", "9.00").await;
    // Sweeps run for a few hours: the cursor moves on.
    for _ in 0..3 {
        app.advance(3600).await;
    }
    // The registrar now says the domain expired three hours ago (its due time is in a
    // bucket the sweep has passed).
    let expired_at = app.now().await - Duration::hours(3);
    let record = app
        .put(
            "/admin/domains/late-news.com",
            Some("admin"),
            json!({
                "owner": "alice",
                "registered_at": expired_at - Duration::days(365),
                "expires_at": expired_at,
            }),
        )
        .await;
    assert_eq!(record.status, 200, "{record:?}");
    let swept = app.post("/dev/sweep", None, json!({})).await;
    assert_eq!(
        swept.body["domains_expired"],
        json!(["late-news.com"]),
        "{swept:?}"
    );
    let mine = app.get("/me/listings", Some("alice")).await;
    assert_eq!(mine.body["items"][0]["status"], "ended", "{mine:?}");
}

#[tokio::test]
async fn a_sweep_after_a_long_gap_reads_a_bounded_walk_and_the_next_ones_catch_up() {
    let scene = Scene::over(Arc::new(EmbeddedStore::in_memory().unwrap()));
    scene.traders(&["buyer".to_owned()]).await;
    let listed = scene.listed(1, 1).await;
    sweep::sweep(&scene.app).await.unwrap(); // the cursor is at now
    let placed = orders_for(&scene, &listed).await;
    // Two hundred days pass without a sweep (an outage, or a dev clock moved far).
    scene.clock.advance(Duration::days(200));
    let first = sweep::sweep(&scene.app).await.unwrap();
    assert_eq!(
        first.expired_orders, placed,
        "what was due first is handled first"
    );
    assert!(
        first.behind,
        "one sweep walks at most {} hours",
        sweep::MAX_BUCKETS_PER_SWEEP
    );
    let mut sweeps = 1;
    while sweep::sweep(&scene.app).await.unwrap().behind {
        sweeps += 1;
        assert!(sweeps < 10, "the sweeps catch up");
    }
    // 200 days are 4,800 hourly buckets: four walks of at most 1,488.
    assert_eq!(sweeps, 3);
}

#[tokio::test]
async fn a_worker_stops_starting_items_at_its_budget_and_hands_the_rest_on() {
    // The fault-injecting store with no faults: only its hook before each transaction.
    let slow = Arc::new(market_tests::faults::FaultyStore::new(
        Arc::new(EmbeddedStore::in_memory().unwrap()),
        0,
        0.0,
        0.0,
    ));
    let scene = Scene::over(slow.clone());
    scene.traders(&["buyer".to_owned()]).await;
    let count = 2 * sweep::ITEMS_AT_ONCE + 8;
    let listed = scene.listed(count, 2).await;
    let mut placed = orders_for(&scene, &listed).await;
    // Their notices delivered as the stream would: what is due is the orders alone.
    scene.stream().await;
    scene.clock.advance(Duration::minutes(11));
    let collected = sweep::Collected::default();
    let handed = sweep::dispatch(&scene.app, &collected).await.unwrap();
    assert_eq!(handed.items_read, count);
    let due: Vec<sweep::DueKey> = collected.take().into_iter().flat_map(|b| b.due).collect();
    // From here every write takes 10 s: a worker has time for its first items only.
    let clock = scene.clock.clone();
    slow.interpose(Box::new(move |_| {
        clock.advance(Duration::seconds(10));
        None
    }));
    let message = sweep::WorkBatch { due }.to_body();
    let first = sweep::handle_message(&scene.app, &message).await.unwrap();
    assert!(
        !first.expired_orders.is_empty() && first.expired_orders.len() < count,
        "{first:?}"
    );
    assert_eq!(first.failed, 0, "{first:?}");
    // The rest went back to the work queue as a batch of its own, and is worked from there.
    let mut expired = first.expired_orders.clone();
    for _ in 0..count {
        let next = scene
            .queue
            .receive(
                market_adapters::queue::Topic::SweepWork,
                10,
                Duration::minutes(6),
            )
            .await
            .unwrap();
        if next.is_empty() {
            break;
        }
        for message in next {
            let worked = sweep::handle_message(&scene.app, &message.body)
                .await
                .unwrap();
            assert_eq!(worked.failed, 0, "{worked:?}");
            expired.extend(worked.expired_orders);
            scene.queue.ack(&message).await.unwrap();
        }
    }
    expired.sort();
    placed.sort();
    assert_eq!(expired, placed, "every order expired, each once");
}

/// Runs the dispatcher into a collecting sink: what it read, and the batches it handed on.
async fn hand_on(scene: &Scene) -> (sweep::SweepReport, Vec<sweep::WorkBatch>) {
    let collected = sweep::Collected::default();
    let report = sweep::dispatch(&scene.app, &collected).await.unwrap();
    (report, collected.take())
}

/// Works every batch, one worker after another; returns the orders they expired.
async fn work_all(scene: &Scene, batches: Vec<sweep::WorkBatch>) -> Vec<String> {
    let mut expired = Vec::new();
    for batch in batches {
        let worked = sweep::work(&scene.app, batch.due).await;
        assert!(worked.left.is_empty(), "{worked:?}");
        expired.extend(worked.report.expired_orders);
    }
    expired.sort();
    expired
}

#[tokio::test]
async fn the_dispatcher_hands_each_due_item_on_once_in_batches_at_the_edges() {
    for count in [0usize, 1, 99, 100, 101] {
        let scene = Scene::over(Arc::new(EmbeddedStore::in_memory().unwrap()));
        scene.traders(&["buyer".to_owned()]).await;
        let listed = scene.listed(count, 4).await;
        let mut placed = orders_for(&scene, &listed).await;
        scene.stream().await;
        scene.clock.advance(Duration::minutes(11));
        let (report, batches) = hand_on(&scene).await;
        assert_eq!(report.items_read, count);
        assert_eq!(batches.len(), count.div_ceil(sweep::WORK_BATCH), "{count}");
        assert!(batches
            .iter()
            .all(|b| !b.due.is_empty() && b.due.len() <= sweep::WORK_BATCH));
        let keys: BTreeSet<&sweep::DueKey> = batches.iter().flat_map(|b| &b.due).collect();
        assert_eq!(keys.len(), count, "each item handed on once");
        placed.sort();
        assert_eq!(work_all(&scene, batches).await, placed, "{count}");
    }
}

#[tokio::test]
async fn what_was_handed_on_is_the_workers_until_the_lease_ends_then_it_is_handed_on_again() {
    let scene = Scene::over(Arc::new(EmbeddedStore::in_memory().unwrap()));
    scene.traders(&["buyer".to_owned()]).await;
    let listed = scene.listed(10, 2).await;
    let mut placed = orders_for(&scene, &listed).await;
    scene.stream().await;
    scene.clock.advance(Duration::minutes(11));
    let (first, lost) = hand_on(&scene).await;
    assert_eq!(first.items_read, 10);
    drop(lost); // the worker that had them died
    scene.clock.advance(Duration::minutes(1));
    let (again, none) = hand_on(&scene).await;
    assert_eq!(
        (again.items_read, none.len()),
        (0, 0),
        "not handed twice while the workers have them"
    );
    scene.clock.advance(sweep::LEASE);
    let (full, batches) = hand_on(&scene).await;
    assert_eq!(
        full.items_read, 10,
        "the full read hands on what is still due"
    );
    placed.sort();
    assert_eq!(work_all(&scene, batches).await, placed);
    scene.clock.advance(sweep::LEASE);
    let (done, _) = hand_on(&scene).await;
    assert_eq!(done.items_read, 0, "nothing is left once it is done");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_local_runners_workers_drain_the_work_queue_and_each_item_changes_once() {
    four_workers_drain_the_work_queue(Arc::new(EmbeddedStore::in_memory().unwrap()), 120).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_local_runners_workers_drain_the_work_queue_on_dynamodb() {
    let store = market_tests::moto::fresh_table_store().await;
    four_workers_drain_the_work_queue(Arc::new(store), 60).await;
}

/// `count` orders expire through the dispatcher, the work queue and four workers racing for
/// its batches; each once.
async fn four_workers_drain_the_work_queue(store: Arc<dyn market_app::store::Store>, count: usize) {
    let scene = Scene::over(store);
    scene.traders(&["buyer".to_owned()]).await;
    let listed = scene.listed(count, 4).await;
    let placed = orders_for(&scene, &listed).await;
    scene.stream().await;
    scene.clock.advance(Duration::minutes(11));
    let handed = sweep::dispatch(&scene.app, &sweep::ToQueue(&scene.app))
        .await
        .unwrap();
    assert_eq!(handed.items_read, count);
    assert_eq!(
        scene.queue.depth(Topic::SweepWork).await.unwrap(),
        count.div_ceil(sweep::WORK_BATCH)
    );
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let workers =
        infra::pump::spawn_sweep_workers(scene.app.clone(), scene.queue.clone(), 4, stopping);
    let mut waited = 0;
    while scene.queue.depth(Topic::SweepWork).await.unwrap() > 0 {
        waited += 1;
        assert!(waited < 3_000, "the workers drain the queue");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    stop.send(true).unwrap();
    for worker in workers {
        worker.await.unwrap();
    }
    let buyer = AccountId::parse("buyer").unwrap();
    for id in &placed {
        let order = orders::get(&scene.app, &buyer, &OrderId::parse(id).unwrap())
            .await
            .unwrap();
        assert_eq!(serde_json::to_value(order.status).unwrap(), "expired");
    }
    // Each changed once: a second pass over the same keys changes nothing.
    scene.clock.advance(sweep::LEASE);
    let again = sweep::sweep(&scene.app).await.unwrap();
    assert_eq!((again.items_read, again.expired_orders.len()), (0, 0));
}

/// A store whose first read of one key, once chosen, never answers (a request that hangs).
struct HangingStore {
    inner: Arc<dyn market_app::store::Store>,
    pk: std::sync::Mutex<Option<String>>,
}

#[async_trait::async_trait]
impl market_app::store::Store for HangingStore {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, market_app::store::StoreError> {
        let hangs = {
            let mut chosen = self.pk.lock().unwrap();
            let hangs = chosen.as_deref() == Some(pk);
            if hangs {
                *chosen = None;
            }
            hangs
        };
        if hangs {
            std::future::pending::<()>().await;
        }
        self.inner.get(pk, sk).await
    }
    async fn get_many(
        &self,
        keys: &[(String, String)],
    ) -> Result<Vec<Item>, market_app::store::StoreError> {
        self.inner.get_many(keys).await
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), market_app::store::StoreError> {
        self.inner.transact(writes).await
    }
    async fn query(
        &self,
        query: market_app::store::Query,
    ) -> Result<market_app::store::Page, market_app::store::StoreError> {
        self.inner.query(query).await
    }
    async fn scan(
        &self,
        prefix: &str,
        limit: usize,
        cursor: Option<String>,
    ) -> Result<market_app::store::Page, market_app::store::StoreError> {
        self.inner.scan(prefix, limit, cursor).await
    }
    async fn increment(
        &self,
        pk: &str,
        sk: &str,
        ceiling: u64,
        ttl: Option<i64>,
    ) -> Result<Option<u64>, market_app::store::StoreError> {
        self.inner.increment(pk, sk, ceiling, ttl).await
    }
    fn cursor_after(
        &self,
        query: &market_app::store::Query,
        item: &Item,
    ) -> Result<String, market_app::store::StoreError> {
        self.inner.cursor_after(query, item)
    }
}

// Tokio's clock is paused and jumps ahead when every task waits: the item's budget runs out
// without a test that waits for it.
#[tokio::test(start_paused = true)]
async fn an_item_that_hangs_is_deferred_at_its_budget_and_holds_up_no_other() {
    let hanging = Arc::new(HangingStore {
        inner: Arc::new(EmbeddedStore::in_memory().unwrap()),
        pk: std::sync::Mutex::new(None),
    });
    let scene = Scene::over(hanging.clone());
    scene.traders(&["buyer".to_owned()]).await;
    let listed = scene.listed(5, 1).await;
    let mut placed = orders_for(&scene, &listed).await;
    scene.stream().await;
    scene.clock.advance(Duration::minutes(11));
    let (_, batches) = hand_on(&scene).await;
    let due: Vec<sweep::DueKey> = batches.into_iter().flat_map(|b| b.due).collect();
    let stuck = due[2].clone();
    // From here the first read of one order never answers.
    *hanging.pk.lock().unwrap() = Some(stuck.pk.clone());
    let worked = sweep::work(&scene.app, due).await;
    assert!(worked.left.is_empty());
    let report = worked.report;
    assert_eq!((report.processed, report.failed), (4, 1), "{report:?}");
    let failure = &report.failures[0];
    assert_eq!(failure.key, stuck.to_string());
    assert!(failure.error.contains("not done within"), "{failure:?}");
    assert!(failure.retry_at.is_some(), "moved to its next try");
    let stuck_id = stuck.pk.trim_start_matches("ORDER#").to_owned();
    placed.retain(|id| *id != stuck_id);
    placed.sort();
    let mut expired = report.expired_orders.clone();
    expired.sort();
    assert_eq!(expired, placed, "the others moved on");
}
