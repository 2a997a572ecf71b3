//! Port wrappers for tests and benchmarks: a store that injects crashes before and after
//! writes (the write may have happened when the caller is told it failed), one that counts
//! requests by kind, and a queue that only records what is sent to it.
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use market_adapters::queue::{Queue, Topic};
use market_adapters::store::embedded::EmbeddedStore;
use market_app::store::{Item, Page, Query, Store, StoreError, Write};

/// What a [`FaultyStore`] writes first, given a transaction it was asked for.
pub type Interposed = Box<dyn Fn(&[Write]) -> Option<Vec<Write>> + Send + Sync>;

/// A store that fails writes at random: before applying them (nothing written) or after
/// (written, but the caller sees an error, as when a Lambda dies before acknowledging).
pub struct FaultyStore {
    inner: Arc<dyn Store>,
    rng: Mutex<fastrand::Rng>,
    before: f64,
    after: f64,
    enabled: AtomicBool,
    poisoned: Mutex<Option<String>>,
    contended: AtomicBool,
    interposed: Mutex<Option<Interposed>>,
    /// How many faults were injected.
    pub injected: AtomicUsize,
}

impl FaultyStore {
    /// Wraps `inner`; each write fails before with probability `before`, after with `after`.
    pub fn new(inner: Arc<dyn Store>, seed: u64, before: f64, after: f64) -> FaultyStore {
        FaultyStore {
            inner,
            rng: Mutex::new(fastrand::Rng::with_seed(seed)),
            before,
            after,
            enabled: AtomicBool::new(false),
            poisoned: Mutex::new(None),
            contended: AtomicBool::new(false),
            interposed: Mutex::new(None),
            injected: AtomicUsize::new(0),
        }
    }

    /// [`FaultyStore::new`] over a fresh in-memory embedded store, shared.
    pub fn in_memory(seed: u64, before: f64, after: f64) -> Arc<FaultyStore> {
        let inner = EmbeddedStore::in_memory().expect("an in-memory embedded store");
        Arc::new(FaultyStore::new(Arc::new(inner), seed, before, after))
    }

    /// Turns fault injection on or off (off while a test sets its scene up).
    pub fn set_enabled(&self, on: bool) {
        self.enabled.store(on, Ordering::SeqCst);
    }

    /// Makes every transaction that writes a key containing `fragment` fail (a poison
    /// message's write), whatever the random faults.
    pub fn poison(&self, fragment: &str) {
        *self.poisoned.lock().expect("poison") = Some(fragment.to_owned());
    }

    /// Makes every transaction lose its race (another writer always got there first), as
    /// under heavy contention on one item.
    pub fn contend(&self, on: bool) {
        self.contended.store(on, Ordering::SeqCst);
    }

    /// Before each transaction asked for, writes what `interpose` makes of it (if anything):
    /// another writer's change landing between a use case's read and its write.
    pub fn interpose(&self, interpose: Interposed) {
        *self.interposed.lock().expect("interpose") = Some(interpose);
    }

    /// Lifts the poison: writes go through again.
    pub fn cure(&self) {
        *self.poisoned.lock().expect("poison") = None;
    }

    fn roll(&self) -> f64 {
        if !self.enabled.load(Ordering::SeqCst) {
            return 1.0;
        }
        self.rng.lock().expect("rng").f64()
    }
}

fn injected(when: &str) -> StoreError {
    StoreError::Other(anyhow::anyhow!("injected crash {when} the write"))
}

#[async_trait]
impl Store for FaultyStore {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        self.inner.get(pk, sk).await
    }

    async fn get_eventually(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        self.inner.get_eventually(pk, sk).await
    }

    async fn get_many(&self, keys: &[(String, String)]) -> Result<Vec<Item>, StoreError> {
        self.inner.get_many(keys).await
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        let first = match self.interposed.lock().expect("interpose").as_ref() {
            Some(interpose) => interpose(&writes),
            None => None,
        };
        if let Some(first) = first {
            self.inner.transact(first).await?;
        }
        if self.contended.load(Ordering::SeqCst) {
            return Err(StoreError::Conflict { failed: Vec::new() });
        }
        let poisoned = self.poisoned.lock().expect("poison").clone();
        if let Some(fragment) = poisoned {
            if writes.iter().any(|w| w.key().0.contains(&fragment)) {
                return Err(injected("(poisoned) before"));
            }
        }
        if self.roll() < self.before {
            self.injected.fetch_add(1, Ordering::SeqCst);
            return Err(injected("before"));
        }
        self.inner.transact(writes).await?;
        if self.roll() < self.after {
            self.injected.fetch_add(1, Ordering::SeqCst);
            return Err(injected("after"));
        }
        Ok(())
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        self.inner.query(query).await
    }

    async fn scan(
        &self,
        prefix: &str,
        limit: usize,
        cursor: Option<String>,
    ) -> Result<Page, StoreError> {
        self.inner.scan(prefix, limit, cursor).await
    }

    async fn increment(
        &self,
        pk: &str,
        sk: &str,
        ceiling: u64,
        ttl: Option<i64>,
    ) -> Result<Option<u64>, StoreError> {
        self.inner.increment(pk, sk, ceiling, ttl).await
    }

    fn cursor_after(&self, query: &Query, item: &Item) -> Result<String, StoreError> {
        self.inner.cursor_after(query, item)
    }
}

/// Request counts by kind.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub gets: usize,
    pub batch_gets: usize,
    pub transactions: usize,
    pub queries: usize,
    /// Atomic increments (`UpdateItem`).
    pub updates: usize,
    /// Items returned by every read.
    pub items_read: usize,
    /// Sequential waves: requests sent together (concurrently) are one wave; a request
    /// sent after another's answer is a wave later.
    pub waves: usize,
    /// The latest wave answered.
    answered: usize,
}

impl Counts {
    /// Every request.
    pub fn total(&self) -> usize {
        self.gets + self.batch_gets + self.transactions + self.queries + self.updates
    }
}

/// A store that counts the requests made of it.
pub struct CountingStore {
    inner: Arc<dyn Store>,
    counts: Mutex<Counts>,
}

/// A request's wave, taken when it is sent: one after the latest wave answered so far.
struct Sent(usize);

impl CountingStore {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn Store>) -> CountingStore {
        CountingStore {
            inner,
            counts: Mutex::new(Counts::default()),
        }
    }

    /// The counts so far, and resets them.
    pub fn take(&self) -> Counts {
        std::mem::take(&mut *self.counts.lock().expect("counts"))
    }

    fn count(&self, f: impl FnOnce(&mut Counts)) {
        f(&mut self.counts.lock().expect("counts"));
    }

    /// Marks a request sent. Then it gives way once, so that requests sent together (a
    /// `join_all`) are all sent before any is answered, on a store that answers at once
    /// (the embedded one) as on one that answers later: the waves are counted the same.
    async fn send(&self) -> Sent {
        let wave = self.counts.lock().expect("counts").answered + 1;
        tokio::task::yield_now().await;
        Sent(wave)
    }

    /// One `GetItem`, counted (strongly or eventually consistent alike).
    async fn counted_get(
        &self,
        get: impl std::future::Future<Output = Result<Option<Item>, StoreError>>,
    ) -> Result<Option<Item>, StoreError> {
        let sent = self.send().await;
        let found = get.await;
        self.answered(sent);
        let found = found?;
        self.count(|c| {
            c.gets += 1;
            c.items_read += usize::from(found.is_some());
        });
        Ok(found)
    }

    /// Marks a request answered.
    fn answered(&self, sent: Sent) {
        let mut counts = self.counts.lock().expect("counts");
        counts.answered = counts.answered.max(sent.0);
        counts.waves = counts.waves.max(sent.0);
    }
}

#[async_trait]
impl Store for CountingStore {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        self.counted_get(self.inner.get(pk, sk)).await
    }

    async fn get_eventually(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        self.counted_get(self.inner.get_eventually(pk, sk)).await
    }

    async fn get_many(&self, keys: &[(String, String)]) -> Result<Vec<Item>, StoreError> {
        if keys.is_empty() {
            return self.inner.get_many(keys).await;
        }
        // The DynamoDB adapter sends the 100-key requests of one read together: one wave.
        let sent = self.send().await;
        let found = self.inner.get_many(keys).await;
        self.answered(sent);
        let found = found?;
        self.count(|c| {
            // What the wire sees: one BatchGetItem per 100 keys, none for no keys.
            c.batch_gets += keys.len().div_ceil(100);
            c.items_read += found.len();
        });
        Ok(found)
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        self.count(|c| c.transactions += 1);
        let sent = self.send().await;
        let done = self.inner.transact(writes).await;
        self.answered(sent);
        done
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        let sent = self.send().await;
        let page = self.inner.query(query).await;
        self.answered(sent);
        let page = page?;
        self.count(|c| {
            c.queries += 1;
            c.items_read += page.items.len();
        });
        Ok(page)
    }

    async fn scan(
        &self,
        prefix: &str,
        limit: usize,
        cursor: Option<String>,
    ) -> Result<Page, StoreError> {
        self.inner.scan(prefix, limit, cursor).await
    }

    async fn increment(
        &self,
        pk: &str,
        sk: &str,
        ceiling: u64,
        ttl: Option<i64>,
    ) -> Result<Option<u64>, StoreError> {
        self.count(|c| c.updates += 1);
        let sent = self.send().await;
        let counted = self.inner.increment(pk, sk, ceiling, ttl).await;
        self.answered(sent);
        counted
    }

    fn cursor_after(&self, query: &Query, item: &Item) -> Result<String, StoreError> {
        self.inner.cursor_after(query, item)
    }
}

/// A queue that keeps what is sent to it and delivers nothing (to see what a route queued).
#[derive(Default)]
pub struct RecordingQueue {
    sent: Mutex<Vec<(Topic, String)>>,
}

impl RecordingQueue {
    /// Everything sent so far, in order.
    pub fn sent(&self) -> Vec<(Topic, String)> {
        self.sent.lock().expect("queue").clone()
    }
}

#[async_trait]
impl Queue for RecordingQueue {
    async fn send(
        &self,
        topic: Topic,
        body: String,
        _delay: chrono::Duration,
    ) -> anyhow::Result<()> {
        self.sent.lock().expect("queue").push((topic, body));
        Ok(())
    }
}
