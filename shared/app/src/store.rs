//! The storage port (its adapters, the embedded `redb` store and DynamoDB, are in
//! `market-adapters`): a small item store with conditional writes and transactions, shaped
//! after DynamoDB's single-table model so that both adapters mean the same thing.
//!
//! Every write carries an [`Expect`]ation: the item is absent, or it is at the version that
//! was read. That is how "the condition is the rule" (ARCHITECTURE.md): the use cases read,
//! decide with the pure core, then write on the condition that nothing changed meanwhile.
//! A transaction applies all its writes or none; a failed one names the writes whose
//! condition failed, so a batch can tell which of its items lost a race.
use async_trait::async_trait;
use std::collections::BTreeMap;

/// The secondary indexes of the single table. Each is sparse: only items that set its key
/// appear in it. What each one holds is decided in `app::repo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Index {
    Gsi1,
    Gsi2,
    Gsi3,
    Gsi4,
    Gsi5,
}

impl Index {
    /// Every index, in order.
    pub const ALL: [Index; 5] = [
        Index::Gsi1,
        Index::Gsi2,
        Index::Gsi3,
        Index::Gsi4,
        Index::Gsi5,
    ];

    /// The index's name (also the prefix of its key attributes: `gsi1pk`, `gsi1sk`).
    pub fn name(self) -> &'static str {
        match self {
            Index::Gsi1 => "gsi1",
            Index::Gsi2 => "gsi2",
            Index::Gsi3 => "gsi3",
            Index::Gsi4 => "gsi4",
            Index::Gsi5 => "gsi5",
        }
    }

    /// Whether the index holds only the items' keys (and its own), not their bodies: a
    /// query of it answers items whose `body` is empty, to be read from the table where
    /// needed. The due index is: the sweep needs to know what is due, and every write of
    /// a due item would otherwise rewrite the whole item into the index too.
    pub fn keys_only(self) -> bool {
        matches!(self, Index::Gsi5)
    }
}

/// One stored item: its key, its version (bumped by every write), its index keys, an
/// optional expiry time for the store's TTL, and the entity as JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub pk: String,
    pub sk: String,
    pub version: u64,
    pub indexes: BTreeMap<Index, (String, String)>,
    /// Seconds since the epoch after which the item may be deleted (DynamoDB TTL).
    pub ttl: Option<i64>,
    pub body: String,
}

impl Item {
    /// A new item without index keys; the store sets its version on write.
    pub fn new(pk: impl Into<String>, sk: impl Into<String>, body: String) -> Item {
        Item {
            pk: pk.into(),
            sk: sk.into(),
            version: 0,
            indexes: BTreeMap::new(),
            ttl: None,
            body,
        }
    }

    /// The same item, also in `index` under (`pk`, `sk`).
    pub fn indexed(mut self, index: Index, pk: impl Into<String>, sk: impl Into<String>) -> Item {
        self.indexes.insert(index, (pk.into(), sk.into()));
        self
    }
}

/// The condition a write is made on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// No item with this key exists.
    Absent,
    /// The item exists at this version (it has not changed since it was read).
    Version(u64),
    /// Whatever is there: for a part of an entity written in one transaction with its
    /// head's conditional write (an order's lines), which that condition guards. The
    /// stored version of such an item means nothing; nothing may be conditioned on it.
    Any,
}

/// One action of a transaction.
#[derive(Debug, Clone)]
pub enum Write {
    /// Writes the item; its stored version becomes 1 (from absent) or the expected + 1.
    Put(Item, Expect),
    /// Deletes the item at its key.
    Delete {
        pk: String,
        sk: String,
        expect: Expect,
    },
    /// Writes nothing, but the transaction only succeeds if the condition holds.
    Check {
        pk: String,
        sk: String,
        expect: Expect,
    },
    /// Adds `by` to the running sum kept at the key (from zero when absent), on no
    /// condition, so that concurrent adds never lose one another and never retry
    /// (DynamoDB: an `Update` with `ADD`). The item's body is the sum, a decimal string;
    /// its version counts the adds.
    Add {
        pk: String,
        sk: String,
        by: rust_decimal::Decimal,
    },
}

impl Write {
    /// The key the action is on.
    pub fn key(&self) -> (&str, &str) {
        match self {
            Write::Put(item, _) => (&item.pk, &item.sk),
            Write::Delete { pk, sk, .. }
            | Write::Check { pk, sk, .. }
            | Write::Add { pk, sk, .. } => (pk, sk),
        }
    }

    /// The condition the action is made on (`None`: an add, made on none).
    pub fn expect(&self) -> Option<Expect> {
        match self {
            Write::Put(_, e) => Some(*e),
            Write::Delete { expect, .. } | Write::Check { expect, .. } => Some(*expect),
            Write::Add { .. } => None,
        }
    }
}

/// Whether a store sends these writes as a transaction (`TransactWriteItems`, which bills
/// twice the units) rather than as one conditional `PutItem` or `DeleteItem` of the same
/// meaning (a lone condition check has no plain form).
pub fn sent_as_transaction(writes: &[Write]) -> bool {
    writes.len() > 1
        || matches!(
            writes.first(),
            Some(Write::Check { .. } | Write::Add { .. })
        )
}

/// The running sum an item written by [`Write::Add`] holds. One that is not a number is an
/// error, never a zero balance.
pub fn sum_of(item: &Item) -> Result<rust_decimal::Decimal, StoreError> {
    item.body.parse().map_err(|e| {
        StoreError::Other(anyhow::anyhow!(
            "the running sum at {}/{} is not a number ({:?}): {e}",
            item.pk,
            item.sk,
            item.body
        ))
    })
}

/// DynamoDB's limit on the actions of one transaction.
pub const MAX_TRANSACTION_WRITES: usize = 100;

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A condition did not hold: `failed` lists the positions of the writes whose condition
    /// failed (empty when the store only knows that the transaction lost a race).
    #[error("condition failed at {failed:?}")]
    Conflict { failed: Vec<usize> },
    /// A query's `after` was not a cursor of that query.
    #[error("invalid cursor")]
    BadCursor,
    /// The store is throttling or the item is being written by another transaction right
    /// now: nothing was written; the same request may succeed a moment later.
    #[error("the store is busy: {0}")]
    Busy(String),
    /// Anything else: the request was invalid or the store could not be reached.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// Which part of a partition a query reads, by sort key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkRange {
    All,
    Prefix(String),
    /// Both ends included.
    Between(String, String),
}

/// A query of one partition of the table or of an index.
#[derive(Debug, Clone)]
pub struct Query {
    pub index: Option<Index>,
    pub pk: String,
    pub range: SkRange,
    pub forward: bool,
    pub limit: usize,
    /// The `next` of the previous page.
    pub after: Option<String>,
}

impl Query {
    /// The first page, in ascending sort-key order, of a table partition.
    pub fn table(pk: impl Into<String>) -> Query {
        Query {
            index: None,
            pk: pk.into(),
            range: SkRange::All,
            forward: true,
            limit: 100,
            after: None,
        }
    }

    /// The first page of an index partition.
    pub fn index(index: Index, pk: impl Into<String>) -> Query {
        Query {
            index: Some(index),
            ..Query::table(pk)
        }
    }
}

/// One page of a query. `next` is opaque; pass it back as `after` to read on.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub items: Vec<Item>,
    pub next: Option<String>,
}

/// The storage port. Reads are strongly consistent on the table, eventually consistent on
/// indexes (as DynamoDB's are): decisions are made on table reads only.
#[async_trait]
pub trait Store: Send + Sync {
    /// The item at a key.
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError>;
    /// The item at a key as read eventually consistently (DynamoDB: half the units, and
    /// possibly a moment old): for what is only shown, never for a decision that a write
    /// follows.
    async fn get_eventually(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        self.get(pk, sk).await
    }
    /// The items at several keys (missing ones left out), in no particular order.
    async fn get_many(&self, keys: &[(String, String)]) -> Result<Vec<Item>, StoreError>;
    /// Applies every write or none (at most [`MAX_TRANSACTION_WRITES`], one per key).
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError>;
    /// One page of a partition.
    async fn query(&self, query: Query) -> Result<Page, StoreError>;
    /// One page of the items whose partition key starts with `prefix`, across the whole
    /// table (DynamoDB: a `Scan` that reads every item it passes, a page at most `limit`
    /// items read, possibly none kept): for rebuilding derived data, never on a request's
    /// path. `cursor` is the `next` of the page before.
    async fn scan(
        &self,
        prefix: &str,
        limit: usize,
        cursor: Option<String>,
    ) -> Result<Page, StoreError>;
    /// Adds one to the counter at a key unless it has reached `ceiling`, in one atomic
    /// request (DynamoDB: `UpdateItem` with `ADD` and a condition), so concurrent callers
    /// never lose a race and never retry. Returns the new count, or `None` at the ceiling
    /// (nothing changed). The count is the item's version; `ttl` is set on every increment.
    async fn increment(
        &self,
        pk: &str,
        sk: &str,
        ceiling: u64,
        ttl: Option<i64>,
    ) -> Result<Option<u64>, StoreError>;
    /// The cursor that continues `query` right after `item`, one of its results: a reader
    /// that stops inside a page (a filtered list that has enough) resumes exactly there.
    fn cursor_after(&self, query: &Query, item: &Item) -> Result<String, StoreError>;
}

/// Refuses transactions DynamoDB would refuse, so both adapters fail alike.
pub fn validate_transaction(writes: &[Write]) -> Result<(), StoreError> {
    if writes.is_empty() || writes.len() > MAX_TRANSACTION_WRITES {
        return Err(anyhow::anyhow!(
            "a transaction takes 1 to {MAX_TRANSACTION_WRITES} writes, not {}",
            writes.len()
        )
        .into());
    }
    let mut keys: Vec<(&str, &str)> = writes.iter().map(Write::key).collect();
    keys.sort_unstable();
    if keys.windows(2).any(|w| w[0] == w[1]) {
        return Err(anyhow::anyhow!("a transaction cannot write one key twice").into());
    }
    Ok(())
}

// An index is stored by its name (the embedded store keeps index entries by name).
impl serde::Serialize for Index {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for Index {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = <String as serde::Deserialize>::deserialize(d)?;
        Index::ALL
            .into_iter()
            .find(|i| i.name() == name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown index {name}")))
    }
}
