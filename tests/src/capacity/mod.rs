//! Capacity units per partition key, charged the way DynamoDB bills and throttles them
//! (TOOLING.md, "Capacity"): a store wrapper that prices every request it passes on, by
//! the partition key it lands on, on the table and on each index.
//!
//! DynamoDB throttles each partition key at 1,000 WCU/s and 3,000 RCU/s, indexes included
//! (a throttled index throttles the table write that feeds it). So the ceiling of an
//! operation is set by a key that every run of it touches: run it N times on independent
//! entities, sum the units each key took, and the key with the most units per run sets
//! `limit ÷ units per run`. A key only one run touched belongs to that run's entities and
//! scales out with them.
//!
//! A sharded partition (`{family}~{n}`, see `market_app::shards`) spreads a family's load
//! over its shards by a hash of each item's own key: the meter charges the family and
//! divides by its shard count, so the figure does not depend on how a few runs happened to
//! hash (the spread itself is a unit test of `market_app::shards`).
//!
//! What is charged, per request:
//! - a write: 1 WCU per KB of the larger of the old and the new item, twice inside a
//!   multi-action `TransactWriteItems` (a one-action write goes out as a plain conditional
//!   write: `market_app::store::sent_as_transaction`); a condition check is priced as a
//!   write of the item it checks;
//! - on each index, 1 WCU per KB of the entry written or removed where the item's index
//!   key (or, on an index that projects the whole item, the item) changed;
//! - a read: 1 RCU per 4 KB (per item for `GetItem`/`BatchGetItem`, per page for a
//!   `Query`), half for an eventually consistent one (every index read is);
//! - nothing for the local runner's stand-ins of other services (its queue, the sandbox
//!   provider, the mailbox, the registrar's and partners' logs, the dev clock): in the
//!   cloud those are SQS, Alipay, SES, EventBridge and HTTP, not the table.
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

pub mod operations;

use market_app::shards;
use market_app::store::{
    sent_as_transaction, sum_of, Expect, Index, Item, Page, Query, Store, StoreError, Write,
};

/// DynamoDB's per-partition-key throughput limits.
pub const WCU_PER_KEY: f64 = 1000.0;
pub const RCU_PER_KEY: f64 = 3000.0;

/// Key prefixes of the local runner's stand-ins for other AWS services and providers.
const NOT_THE_TABLE: [&str; 7] = [
    "QUEUE#",
    "QUEUEDEAD#",
    "SANDBOX#",
    "MAIL#",
    "PARTNERHOOK#",
    "REGISTRAR#",
    "DEVCLOCK",
];

/// Where a partition key lives: the table or one of its indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Space {
    Table,
    Index(Index),
}

impl Space {
    /// `table`, `gsi1` …
    pub fn name(self) -> &'static str {
        match self {
            Space::Table => "table",
            Space::Index(index) => index.name(),
        }
    }
}

/// What one partition key (or sharded family) took.
#[derive(Debug, Clone, Default)]
pub struct KeyUse {
    pub wcu: f64,
    pub rcu: f64,
    /// The runs that touched it.
    pub runs: BTreeSet<usize>,
    /// For a sharded family: the shards touched, and how many it has.
    pub shards_touched: BTreeSet<u32>,
    pub shards: u32,
}

#[derive(Default)]
struct Tally {
    run: Option<usize>,
    keys: HashMap<(Space, String), KeyUse>,
    /// Requests sent to the table (a `BatchGetItem` per 100 keys).
    requests: usize,
}

/// What every key took, and the requests sent, since the last take.
pub struct Taken {
    pub keys: HashMap<(Space, String), KeyUse>,
    pub requests: usize,
}

/// A store that prices every request made of it (see the module's doc).
pub struct CapacityStore {
    inner: Arc<dyn Store>,
    tally: Mutex<Tally>,
}

/// DynamoDB's size of a stored item: attribute names and values.
pub fn item_size(item: &Item) -> usize {
    let number = |n: u64| n.to_string().len().div_ceil(2) + 1;
    let mut size = 2 + item.pk.len() + 2 + item.sk.len() + 3 + number(item.version);
    size += 4 + item.body.len();
    if let Some(ttl) = item.ttl {
        size += 3 + number(ttl.unsigned_abs());
    }
    for (index, (ipk, isk)) in &item.indexes {
        size += 2 * (index.name().len() + 2) + ipk.len() + isk.len();
    }
    size
}

/// The size of an item's entry in `index`: the whole item, or its keys alone.
fn entry_size(index: Index, item: &Item) -> usize {
    if index.keys_only() {
        let (ipk, isk) = &item.indexes[&index];
        2 + item.pk.len() + 2 + item.sk.len() + 2 * (index.name().len() + 2) + ipk.len() + isk.len()
    } else {
        item_size(item)
    }
}

fn write_units(bytes: usize) -> f64 {
    bytes.div_ceil(1024).max(1) as f64
}

fn read_units(bytes: usize, consistent: bool) -> f64 {
    let units = bytes.div_ceil(4096).max(1) as f64;
    if consistent {
        units
    } else {
        units / 2.0
    }
}

/// The family a partition key is charged to, and its shard (`None`: not sharded).
fn family_of(pk: &str) -> (String, Option<(u32, u32)>) {
    match shards::split(pk) {
        Some((family, shard)) => match shards::count_of(family) {
            Some(count) => (format!("{family}~*"), Some((shard, count))),
            None => (pk.to_owned(), None),
        },
        None => (pk.to_owned(), None),
    }
}

impl CapacityStore {
    /// Wraps `inner`; nothing is charged until [`CapacityStore::begin`].
    pub fn new(inner: Arc<dyn Store>) -> CapacityStore {
        CapacityStore {
            inner,
            tally: Mutex::new(Tally::default()),
        }
    }

    /// Starts charging to run `run` (until the next `begin` or [`CapacityStore::pause`]).
    pub fn begin(&self, run: usize) {
        self.tally.lock().expect("tally").run = Some(run);
    }

    /// Stops charging (set-up between runs).
    pub fn pause(&self) {
        self.tally.lock().expect("tally").run = None;
    }

    /// What every key took since the last `take`, and forgets it.
    pub fn take(&self) -> Taken {
        let mut tally = self.tally.lock().expect("tally");
        tally.run = None;
        Taken {
            keys: std::mem::take(&mut tally.keys),
            requests: std::mem::take(&mut tally.requests),
        }
    }

    /// Counts `n` requests to the table (none for a stand-in's key).
    fn sent(&self, pk: &str, n: usize) {
        if NOT_THE_TABLE.iter().any(|p| pk.starts_with(p)) {
            return;
        }
        let mut tally = self.tally.lock().expect("tally");
        if tally.run.is_some() {
            tally.requests += n;
        }
    }

    fn charge(&self, space: Space, pk: &str, wcu: f64, rcu: f64) {
        if NOT_THE_TABLE.iter().any(|p| pk.starts_with(p)) {
            return;
        }
        let mut tally = self.tally.lock().expect("tally");
        let Some(run) = tally.run else {
            return;
        };
        let (family, shard) = family_of(pk);
        let entry = tally.keys.entry((space, family)).or_default();
        entry.wcu += wcu;
        entry.rcu += rcu;
        entry.runs.insert(run);
        if let Some((shard, count)) = shard {
            entry.shards_touched.insert(shard);
            entry.shards = count;
        }
    }

    fn charging(&self) -> bool {
        self.tally.lock().expect("tally").run.is_some()
    }

    /// Charges one write of `new` over `old` (either may be absent), `times` the table units.
    fn charge_write(&self, old: Option<&Item>, new: Option<&Item>, times: f64) {
        let Some(pk) = new.or(old).map(|i| i.pk.clone()) else {
            return;
        };
        let size = old.map_or(0, item_size).max(new.map_or(0, item_size));
        self.charge(Space::Table, &pk, times * write_units(size), 0.0);
        for index in Index::ALL {
            let was = old.and_then(|i| i.indexes.get(&index));
            let is = new.and_then(|i| i.indexes.get(&index));
            match (was, is) {
                (Some(w), Some(i)) if w == i => {
                    // Same entry: rewritten only where it carries the item's attributes.
                    let changed = old.map(|o| &o.body) != new.map(|n| &n.body);
                    if !index.keys_only() && changed {
                        let size = entry_size(index, new.expect("present"));
                        self.charge(Space::Index(index), &i.0, write_units(size), 0.0);
                    }
                }
                (was, is) => {
                    if let Some(w) = was {
                        let size = entry_size(index, old.expect("present"));
                        self.charge(Space::Index(index), &w.0, write_units(size), 0.0);
                    }
                    if let Some(i) = is {
                        let size = entry_size(index, new.expect("present"));
                        self.charge(Space::Index(index), &i.0, write_units(size), 0.0);
                    }
                }
            }
        }
    }
}

#[async_trait]
impl Store for CapacityStore {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        let found = self.inner.get(pk, sk).await?;
        let size = found.as_ref().map_or(0, item_size);
        self.sent(pk, 1);
        self.charge(Space::Table, pk, 0.0, read_units(size, true));
        Ok(found)
    }

    async fn get_eventually(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        let found = self.inner.get_eventually(pk, sk).await?;
        let size = found.as_ref().map_or(0, item_size);
        self.sent(pk, 1);
        self.charge(Space::Table, pk, 0.0, read_units(size, false));
        Ok(found)
    }

    async fn get_many(&self, keys: &[(String, String)]) -> Result<Vec<Item>, StoreError> {
        let found = self.inner.get_many(keys).await?;
        if let Some((pk, _)) = keys.first() {
            self.sent(pk, keys.len().div_ceil(100));
        }
        let sizes: HashMap<(&str, &str), usize> = found
            .iter()
            .map(|i| ((i.pk.as_str(), i.sk.as_str()), item_size(i)))
            .collect();
        for (pk, sk) in keys {
            let size = sizes.get(&(pk.as_str(), sk.as_str())).copied().unwrap_or(0);
            self.charge(Space::Table, pk, 0.0, read_units(size, true));
        }
        Ok(found)
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        // The items as they were, to price index changes (a peek the bill does not count).
        let mut before = Vec::new();
        if self.charging() {
            for write in &writes {
                let (pk, sk) = write.key();
                before.push(self.inner.get(pk, sk).await?);
            }
        }
        let times = if sent_as_transaction(&writes) {
            2.0
        } else {
            1.0
        };
        let priced: Vec<(Option<Item>, Option<Item>)> = writes
            .iter()
            .enumerate()
            .map(|(n, write)| {
                let old = before.get(n).cloned().flatten();
                let new = match write {
                    Write::Put(item, expect) => {
                        let mut item = item.clone();
                        item.version = match expect {
                            Expect::Absent | Expect::Any => 1,
                            Expect::Version(v) => v + 1,
                        };
                        Some(item)
                    }
                    Write::Add { pk, sk, by } => {
                        let sum = old
                            .as_ref()
                            .and_then(|o| sum_of(o).ok())
                            .unwrap_or_default()
                            + by;
                        let mut item = Item::new(pk.clone(), sk.clone(), sum.to_string());
                        item.version = old.as_ref().map_or(1, |o| o.version + 1);
                        Some(item)
                    }
                    Write::Delete { .. } | Write::Check { .. } => None,
                };
                (old, new)
            })
            .collect();
        let kinds: Vec<bool> = writes
            .iter()
            .map(|w| matches!(w, Write::Check { .. }))
            .collect();
        let keys: Vec<String> = writes.iter().map(|w| w.key().0.to_owned()).collect();
        let done = self.inner.transact(writes).await;
        if let Some(pk) = keys.first() {
            self.sent(pk, 1);
        }
        if self.charging() {
            for (n, (old, new)) in priced.iter().enumerate() {
                if kinds[n] {
                    let size = old.as_ref().map_or(0, item_size);
                    self.charge(Space::Table, &keys[n], times * write_units(size), 0.0);
                } else if done.is_ok() {
                    self.charge_write(old.as_ref(), new.as_ref(), times);
                } else {
                    // A refused write is still billed, on the table alone.
                    let size = old.as_ref().map_or(0, item_size);
                    self.charge(Space::Table, &keys[n], times * write_units(size), 0.0);
                }
            }
        }
        done
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        let space = query.index.map_or(Space::Table, Space::Index);
        let pk = query.pk.clone();
        let index = query.index;
        let page = self.inner.query(query).await?;
        self.sent(&pk, 1);
        let bytes: usize = page
            .items
            .iter()
            .map(|i| match index {
                Some(index) => entry_size(index, i),
                None => item_size(i),
            })
            .sum();
        self.charge(space, &pk, 0.0, read_units(bytes, index.is_none()));
        Ok(page)
    }

    async fn scan(
        &self,
        prefix: &str,
        limit: usize,
        cursor: Option<String>,
    ) -> Result<Page, StoreError> {
        let page = self.inner.scan(prefix, limit, cursor).await?;
        // A scan reads across partitions: each item is charged to its own.
        for item in &page.items {
            self.sent(&item.pk, 1);
            self.charge(
                Space::Table,
                &item.pk,
                0.0,
                read_units(item_size(item), true),
            );
        }
        Ok(page)
    }

    async fn increment(
        &self,
        pk: &str,
        sk: &str,
        ceiling: u64,
        ttl: Option<i64>,
    ) -> Result<Option<u64>, StoreError> {
        let counted = self.inner.increment(pk, sk, ceiling, ttl).await?;
        self.sent(pk, 1);
        self.charge(Space::Table, pk, 1.0, 0.0);
        Ok(counted)
    }

    fn cursor_after(&self, query: &Query, item: &Item) -> Result<String, StoreError> {
        self.inner.cursor_after(query, item)
    }
}

/// The hottest key of one space: the one with the most units per run among those that
/// more than one run touched, and the ceiling it sets.
#[derive(Debug, Clone)]
pub struct Hottest {
    pub key: String,
    pub wcu_per_run: f64,
    pub rcu_per_run: f64,
    /// Operations a second before that key throttles.
    pub ceiling: f64,
    /// For a sharded family: shards touched / shards.
    pub shards: Option<(usize, u32)>,
}

/// One operation's figures over `runs` runs.
#[derive(Debug, Clone)]
pub struct Capacity {
    pub operation: String,
    pub runs: usize,
    /// Requests to the table per run (the whole request's, not only its use case's).
    pub requests_per_run: f64,
    pub wcu_per_run: f64,
    pub rcu_per_run: f64,
    /// Per space (table, gsi1 …), the hottest shared key (absent: none shared).
    pub hottest: BTreeMap<Space, Hottest>,
}

impl Capacity {
    /// Sums what was taken over `runs` runs of `operation`.
    pub fn of(operation: impl Into<String>, runs: usize, taken: &Taken) -> Capacity {
        let keys = &taken.keys;
        let n = runs as f64;
        let mut hottest: BTreeMap<Space, Hottest> = BTreeMap::new();
        for ((space, key), used) in keys {
            if used.runs.len() < 2 {
                continue;
            }
            let spread = f64::from(used.shards.max(1));
            let (wcu, rcu) = (used.wcu / n / spread, used.rcu / n / spread);
            let ceiling = (WCU_PER_KEY / wcu).min(RCU_PER_KEY / rcu);
            if hottest.get(space).is_none_or(|h| ceiling < h.ceiling) {
                hottest.insert(
                    *space,
                    Hottest {
                        key: key.clone(),
                        wcu_per_run: wcu,
                        rcu_per_run: rcu,
                        ceiling,
                        shards: (used.shards > 0)
                            .then_some((used.shards_touched.len(), used.shards)),
                    },
                );
            }
        }
        Capacity {
            operation: operation.into(),
            runs,
            requests_per_run: taken.requests as f64 / n,
            wcu_per_run: keys.values().map(|k| k.wcu).sum::<f64>() / n,
            rcu_per_run: keys.values().map(|k| k.rcu).sum::<f64>() / n,
            hottest,
        }
    }

    /// The lowest ceiling over every space (infinite: no key is shared by two runs).
    pub fn ceiling(&self) -> f64 {
        self.hottest
            .values()
            .map(|h| h.ceiling)
            .fold(f64::INFINITY, f64::min)
    }

    /// The hottest key of all.
    pub fn limiting(&self) -> Option<(Space, &Hottest)> {
        self.hottest
            .iter()
            .min_by(|a, b| a.1.ceiling.total_cmp(&b.1.ceiling))
            .map(|(s, h)| (*s, h))
    }
}

fn rate(ceiling: f64) -> String {
    if ceiling.is_infinite() {
        "no shared key".into()
    } else {
        format!("{:.0}/s", ceiling)
    }
}

/// The table the bench prints: per operation, units per run, the key that sets the
/// ceiling, and the hottest shared key of each space.
pub fn table(store: &str, rows: &[Capacity]) -> String {
    let mut out = format!(
        "capacity per operation, {store} (units per run; a sharded family ~* is charged per shard)\n| operation | runs | requests | WCU | RCU | hottest shared key | its WCU + RCU per run | ceiling |\n|---|---|---|---|---|---|---|---|\n"
    );
    for row in rows {
        let (key, units) = match row.limiting() {
            Some((space, h)) => (
                format!(
                    "{} `{}`{}",
                    space.name(),
                    h.key,
                    h.shards
                        .map(|(t, s)| format!(" ({t}/{s} shards touched)"))
                        .unwrap_or_default()
                ),
                format!("{:.2} + {:.2}", h.wcu_per_run, h.rcu_per_run),
            ),
            None => ("—".into(), "—".into()),
        };
        out.push_str(&format!(
            "| {} | {} | {:.1} | {:.1} | {:.1} | {} | {} | {} |\n",
            row.operation,
            row.runs,
            row.requests_per_run,
            // A run that wrote nothing is 0.0, not the -0.0 a float sum can end at.
            row.wcu_per_run + 0.0,
            row.rcu_per_run + 0.0,
            key,
            units,
            rate(row.ceiling())
        ));
    }
    out.push_str("\nhottest shared key per space\n| operation | space | key | WCU + RCU per run | ceiling |\n|---|---|---|---|---|\n");
    for row in rows {
        for (space, h) in &row.hottest {
            out.push_str(&format!(
                "| {} | {} | `{}` | {:.2} + {:.2} | {} |\n",
                row.operation,
                space.name(),
                h.key,
                h.wcu_per_run,
                h.rcu_per_run,
                rate(h.ceiling)
            ));
        }
    }
    out
}
