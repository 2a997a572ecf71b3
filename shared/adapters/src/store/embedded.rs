//! The embedded store for the local runner: `redb`, a maintained pure-Rust embedded
//! database with serialisable write transactions. Conditions are checked inside the write
//! transaction, so they hold exactly as DynamoDB's do.
use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use redb::{Database, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;

use market_app::store::{
    sum_of, validate_transaction, Expect, Index, Item, Page, Query, SkRange, Store, StoreError,
    Write,
};

/// Items by `pk \0 sk`.
const ITEMS: TableDefinition<&str, &[u8]> = TableDefinition::new("items");
/// Index entries by `index \0 ipk \0 isk \0 pk \0 sk`, pointing at the item key.
const INDEX: TableDefinition<&str, &str> = TableDefinition::new("index");

const SEP: char = '\0';

#[derive(Serialize, Deserialize)]
struct Stored {
    version: u64,
    indexes: Vec<(Index, String, String)>,
    ttl: Option<i64>,
    body: String,
}

/// The embedded store. Cheap to clone.
#[derive(Clone)]
pub struct EmbeddedStore {
    db: Arc<Database>,
    /// Nothing touches a disk: writes run where they are asked, like reads.
    in_memory: bool,
}

impl EmbeddedStore {
    /// Opens (or creates) the database file at `path`.
    pub fn open(path: &Path) -> anyhow::Result<EmbeddedStore> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let db = Database::create(path)?;
        Self::init(db, false)
    }

    /// A store that keeps nothing after the process ends (`MARKET_DATA=:memory:`, tests).
    pub fn in_memory() -> anyhow::Result<EmbeddedStore> {
        let db = Database::builder().create_with_backend(redb::backends::InMemoryBackend::new())?;
        Self::init(db, true)
    }

    fn init(db: Database, in_memory: bool) -> anyhow::Result<EmbeddedStore> {
        let tx = db.begin_write()?;
        tx.open_table(ITEMS)?;
        tx.open_table(INDEX)?;
        tx.commit()?;
        Ok(EmbeddedStore {
            db: Arc::new(db),
            in_memory,
        })
    }

    /// Runs a read where it is asked: a redb read transaction never waits for a writer
    /// (MVCC) and takes microseconds, less than handing it to the blocking pool and back
    /// (issue 15: the thread hand-off was what dominated a listing view's profile).
    fn reading<T>(
        &self,
        work: impl FnOnce(&Database) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        work(&self.db)
    }

    /// Runs a write: on a file it commits with an fsync, so on the blocking pool; in memory
    /// where it is asked (a write transaction waits only for another one, which runs to its
    /// end without yielding).
    async fn writing<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        if self.in_memory {
            return work(&self.db);
        }
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || work(&db))
            .await
            .map_err(|e| StoreError::Other(e.into()))?
    }
}

fn item_key(pk: &str, sk: &str) -> String {
    format!("{pk}{SEP}{sk}")
}

fn index_entry(index: Index, ipk: &str, isk: &str, pk: &str, sk: &str) -> String {
    format!("{}{SEP}{ipk}{SEP}{isk}{SEP}{pk}{SEP}{sk}", index.name())
}

fn other(e: impl Into<anyhow::Error>) -> StoreError {
    StoreError::Other(e.into())
}

fn decode(key: &str, bytes: &[u8]) -> Result<Item, StoreError> {
    let stored: Stored = serde_json::from_slice(bytes).map_err(other)?;
    let (pk, sk) = key
        .split_once(SEP)
        .ok_or_else(|| other(anyhow::anyhow!("bad key {key:?}")))?;
    Ok(Item {
        pk: pk.to_owned(),
        sk: sk.to_owned(),
        version: stored.version,
        indexes: stored
            .indexes
            .into_iter()
            .map(|(i, p, s)| (i, (p, s)))
            .collect(),
        ttl: stored.ttl,
        body: stored.body,
    })
}

fn encode(item: &Item, version: u64) -> Result<Vec<u8>, StoreError> {
    let stored = Stored {
        version,
        indexes: item
            .indexes
            .iter()
            .map(|(i, (p, s))| (*i, p.clone(), s.clone()))
            .collect(),
        ttl: item.ttl,
        body: item.body.clone(),
    };
    serde_json::to_vec(&stored).map_err(other)
}

fn holds(current: Option<u64>, expect: Expect) -> bool {
    match (current, expect) {
        (None, Expect::Absent) => true,
        (Some(v), Expect::Version(want)) => v == want,
        (_, Expect::Any) => true,
        _ => false,
    }
}

/// The bounds of a partition's sort-key range, as keys of a table whose keys are
/// `prefix + sk + suffix` (`suffix` non-empty for index entries).
fn bounds(prefix: &str, range: &SkRange, trailing: bool) -> (Bound<String>, Bound<String>) {
    // Every sort key is followed by SEP in index entries; '\u{1}' sorts right after it.
    let end_of = |sk: &str| {
        if trailing {
            Bound::Excluded(format!("{prefix}{sk}\u{1}"))
        } else {
            Bound::Included(format!("{prefix}{sk}"))
        }
    };
    match range {
        SkRange::All => (
            Bound::Included(prefix.to_owned()),
            Bound::Excluded(format!("{prefix}\u{10FFFF}")),
        ),
        SkRange::Prefix(p) => (
            Bound::Included(format!("{prefix}{p}")),
            Bound::Excluded(format!("{prefix}{p}\u{10FFFF}")),
        ),
        SkRange::Between(lo, hi) => (Bound::Included(format!("{prefix}{lo}")), end_of(hi)),
    }
}

#[async_trait]
impl Store for EmbeddedStore {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        let key = item_key(pk, sk);
        self.reading(move |db| {
            let tx = db.begin_read().map_err(other)?;
            let table = tx.open_table(ITEMS).map_err(other)?;
            let found = table.get(key.as_str()).map_err(other)?;
            found.map(|v| decode(&key, v.value())).transpose()
        })
    }

    async fn get_many(&self, keys: &[(String, String)]) -> Result<Vec<Item>, StoreError> {
        let keys: Vec<String> = keys.iter().map(|(p, s)| item_key(p, s)).collect();
        self.reading(move |db| {
            let tx = db.begin_read().map_err(other)?;
            let table = tx.open_table(ITEMS).map_err(other)?;
            let mut items = Vec::with_capacity(keys.len());
            for key in &keys {
                if let Some(v) = table.get(key.as_str()).map_err(other)? {
                    items.push(decode(key, v.value())?);
                }
            }
            Ok(items)
        })
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        validate_transaction(&writes)?;
        self.writing(move |db| {
            let tx = db.begin_write().map_err(other)?;
            {
                let mut items = tx.open_table(ITEMS).map_err(other)?;
                let mut index = tx.open_table(INDEX).map_err(other)?;
                // Check every condition first; a failed one aborts the whole transaction.
                let mut current: Vec<Option<Item>> = Vec::with_capacity(writes.len());
                let mut failed = Vec::new();
                for (at, write) in writes.iter().enumerate() {
                    let (pk, sk) = write.key();
                    let key = item_key(pk, sk);
                    let old = items
                        .get(key.as_str())
                        .map_err(other)?
                        .map(|v| decode(&key, v.value()))
                        .transpose()?;
                    let held = write
                        .expect()
                        .is_none_or(|e| holds(old.as_ref().map(|i| i.version), e));
                    if !held {
                        failed.push(at);
                    }
                    current.push(old);
                }
                if !failed.is_empty() {
                    return Err(StoreError::Conflict { failed });
                }
                for (write, old) in writes.iter().zip(current) {
                    if matches!(write, Write::Check { .. }) {
                        continue;
                    }
                    let (pk, sk) = write.key();
                    if let Some(old) = &old {
                        for (i, (ipk, isk)) in &old.indexes {
                            index
                                .remove(index_entry(*i, ipk, isk, pk, sk).as_str())
                                .map_err(other)?;
                        }
                    }
                    let key = item_key(pk, sk);
                    match write {
                        Write::Put(item, _) => {
                            let version = old.map_or(1, |o| o.version + 1);
                            items
                                .insert(key.as_str(), encode(item, version)?.as_slice())
                                .map_err(other)?;
                            for (i, (ipk, isk)) in &item.indexes {
                                index
                                    .insert(
                                        index_entry(*i, ipk, isk, pk, sk).as_str(),
                                        key.as_str(),
                                    )
                                    .map_err(other)?;
                            }
                        }
                        Write::Delete { .. } => {
                            items.remove(key.as_str()).map_err(other)?;
                        }
                        Write::Add { by, .. } => {
                            let sum =
                                old.as_ref().map(sum_of).transpose()?.unwrap_or_default() + by;
                            let mut item = Item::new(pk, sk, sum.to_string());
                            item.version = 0;
                            let version = old.map_or(1, |o| o.version + 1);
                            items
                                .insert(key.as_str(), encode(&item, version)?.as_slice())
                                .map_err(other)?;
                        }
                        Write::Check { .. } => {}
                    }
                }
            }
            tx.commit().map_err(other)?;
            Ok(())
        })
        .await
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        self.reading(move |db| {
            let tx = db.begin_read().map_err(other)?;
            let items = tx.open_table(ITEMS).map_err(other)?;
            let limit = query.limit.max(1);
            let mut out = Vec::new();
            let mut last_key = None;
            let mut more = false;
            match query.index {
                None => {
                    let prefix = format!("{}{SEP}", query.pk);
                    let (mut lo, mut hi) = bounds(&prefix, &query.range, false);
                    narrow(&mut lo, &mut hi, query.after, query.forward)?;
                    let range = items
                        .range::<&str>((as_ref(&lo), as_ref(&hi)))
                        .map_err(other)?;
                    let iter: Box<dyn Iterator<Item = _>> = if query.forward {
                        Box::new(range)
                    } else {
                        Box::new(range.rev())
                    };
                    for entry in iter {
                        let (k, v) = entry.map_err(other)?;
                        if out.len() == limit {
                            more = true;
                            break;
                        }
                        out.push(decode(k.value(), v.value())?);
                        last_key = Some(k.value().to_owned());
                    }
                }
                Some(index) => {
                    let entries = tx.open_table(INDEX).map_err(other)?;
                    let prefix = format!("{}{SEP}{}{SEP}", index.name(), query.pk);
                    let (mut lo, mut hi) = bounds(&prefix, &query.range, true);
                    narrow(&mut lo, &mut hi, query.after, query.forward)?;
                    let range = entries
                        .range::<&str>((as_ref(&lo), as_ref(&hi)))
                        .map_err(other)?;
                    let iter: Box<dyn Iterator<Item = _>> = if query.forward {
                        Box::new(range)
                    } else {
                        Box::new(range.rev())
                    };
                    for entry in iter {
                        let (k, v) = entry.map_err(other)?;
                        if out.len() == limit {
                            more = true;
                            break;
                        }
                        let target = v.value().to_owned();
                        if let Some(bytes) = items.get(target.as_str()).map_err(other)? {
                            let mut item = decode(&target, bytes.value())?;
                            if index.keys_only() {
                                // As DynamoDB projects it: the keys, no attributes.
                                item.body.clear();
                                item.ttl = None;
                                item.version = 0;
                                item.indexes.retain(|i, _| *i == index);
                            }
                            out.push(item);
                        }
                        last_key = Some(k.value().to_owned());
                    }
                }
            }
            Ok(page(out, last_key, more))
        })
    }

    async fn scan(
        &self,
        prefix: &str,
        limit: usize,
        cursor: Option<String>,
    ) -> Result<Page, StoreError> {
        let prefix = prefix.to_owned();
        self.reading(move |db| {
            let tx = db.begin_read().map_err(other)?;
            let items = tx.open_table(ITEMS).map_err(other)?;
            let lo = match cursor {
                None => Bound::Included(prefix.clone()),
                Some(after) => {
                    let after = URL_SAFE_NO_PAD
                        .decode(after)
                        .ok()
                        .and_then(|k| String::from_utf8(k).ok())
                        .filter(|k| k.starts_with(&prefix))
                        .ok_or(StoreError::BadCursor)?;
                    Bound::Excluded(after)
                }
            };
            // Every key with the prefix sorts before the prefix followed by the last char.
            let hi = Bound::Excluded(format!("{prefix}{}", char::MAX));
            let range = items
                .range::<&str>((as_ref(&lo), as_ref(&hi)))
                .map_err(other)?;
            let mut out = Vec::new();
            let mut last_key = None;
            let mut more = false;
            for entry in range {
                let (k, v) = entry.map_err(other)?;
                if out.len() == limit.max(1) {
                    more = true;
                    break;
                }
                out.push(decode(k.value(), v.value())?);
                last_key = Some(k.value().to_owned());
            }
            Ok(page(out, last_key, more))
        })
    }

    async fn increment(
        &self,
        pk: &str,
        sk: &str,
        ceiling: u64,
        ttl: Option<i64>,
    ) -> Result<Option<u64>, StoreError> {
        let key = item_key(pk, sk);
        self.writing(move |db| {
            let tx = db.begin_write().map_err(other)?;
            let count = {
                let mut items = tx.open_table(ITEMS).map_err(other)?;
                let old = items
                    .get(key.as_str())
                    .map_err(other)?
                    .map(|v| decode(&key, v.value()))
                    .transpose()?;
                let mut counter = old.unwrap_or_else(|| Item::new("", "", String::new()));
                if counter.version >= ceiling {
                    return Ok(None);
                }
                counter.ttl = ttl;
                let count = counter.version + 1;
                items
                    .insert(key.as_str(), encode(&counter, count)?.as_slice())
                    .map_err(other)?;
                count
            };
            tx.commit().map_err(other)?;
            Ok(Some(count))
        })
        .await
    }

    fn cursor_after(&self, query: &Query, item: &Item) -> Result<String, StoreError> {
        let key = match query.index {
            None => item_key(&item.pk, &item.sk),
            Some(index) => {
                let (ipk, isk) = item.indexes.get(&index).ok_or_else(|| {
                    other(anyhow::anyhow!(
                        "{}/{} is not in {}",
                        item.pk,
                        item.sk,
                        index.name()
                    ))
                })?;
                index_entry(index, ipk, isk, &item.pk, &item.sk)
            }
        };
        Ok(URL_SAFE_NO_PAD.encode(key))
    }
}

/// A page of what was read, with the cursor after its last key when more follows.
fn page(items: Vec<Item>, last_key: Option<String>, more: bool) -> Page {
    Page {
        items,
        next: last_key.filter(|_| more).map(|k| URL_SAFE_NO_PAD.encode(k)),
    }
}

/// Starts the range after the cursor (in the direction of reading). A cursor outside the
/// range is refused rather than read from: it was not made by this query.
fn narrow(
    lo: &mut Bound<String>,
    hi: &mut Bound<String>,
    after: Option<String>,
    forward: bool,
) -> Result<(), StoreError> {
    let Some(after) = after else { return Ok(()) };
    let after = URL_SAFE_NO_PAD
        .decode(after)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or(StoreError::BadCursor)?;
    let above_lo = match &*lo {
        Bound::Included(l) => after >= *l,
        Bound::Excluded(l) => after > *l,
        Bound::Unbounded => true,
    };
    let below_hi = match &*hi {
        Bound::Included(h) => after <= *h,
        Bound::Excluded(h) => after < *h,
        Bound::Unbounded => true,
    };
    if !(above_lo && below_hi) {
        return Err(StoreError::BadCursor);
    }
    if forward {
        *lo = Bound::Excluded(after);
    } else {
        *hi = Bound::Excluded(after);
    }
    Ok(())
}

fn as_ref(b: &Bound<String>) -> Bound<&str> {
    match b {
        Bound::Included(s) => Bound::Included(s.as_str()),
        Bound::Excluded(s) => Bound::Excluded(s.as_str()),
        Bound::Unbounded => Bound::Unbounded,
    }
}
