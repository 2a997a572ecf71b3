//! S4, S6: a seller's available balance as one item beside the ledger.
//!
//! The ledger's postings are the record; the balance item is what a payout is conditioned
//! on. Every transaction that posts to a seller's available account (settlement, clawback,
//! payout, a payout's return) also writes this item, on the condition that it is as read,
//! so two payouts racing for the same money cannot both take it: one of them reads the
//! balance again and is refused. Its value always equals the sum of the account's postings
//! (tests check it); a seller without the item yet (before the first such posting) starts
//! from that sum.
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::repo::{self, journal_writes, load, put, Versioned};
use crate::store::{Item, Query, Write};
use crate::{App, AppResult};
use market_core::ids::AccountId;
use market_core::ledger::{Entry, Journal, LedgerAccount};

/// What is stored under [`repo::balance_key`].
#[derive(Debug, Clone, Serialize, Deserialize)]
struct AvailableBalance {
    seller: AccountId,
    available: Decimal,
}

/// A seller's available balance as read, ready to be written back changed.
pub(crate) struct Available {
    seller: AccountId,
    pub amount: Decimal,
    read: Option<Versioned<AvailableBalance>>,
}

impl Available {
    /// Reads the balance (or, before its first write, sums the account's postings).
    pub async fn read(app: &App, seller: &AccountId) -> AppResult<Available> {
        let read: Option<Versioned<AvailableBalance>> =
            load(&*app.store, repo::balance_key(seller)).await?;
        let amount = match &read {
            Some(balance) => balance.value.available,
            None => sum_of(app, &LedgerAccount::Seller(seller.clone())).await?,
        };
        Ok(Available {
            seller: seller.clone(),
            amount,
            read,
        })
    }

    /// The write that moves the balance by `delta`, on the condition that it is as read.
    pub fn moved_by(&self, delta: Decimal) -> Write {
        let (pk, sk) = repo::balance_key(&self.seller);
        let mut available = self.amount + delta;
        available.rescale(2);
        let value = AvailableBalance {
            seller: self.seller.clone(),
            available,
        };
        let body = serde_json::to_string(&value).expect("a balance serialises");
        put(Item::new(pk, sk, body), self.read.as_ref())
    }
}

/// Every entry of one ledger account, oldest first.
pub async fn entries_of(app: &App, account: &LedgerAccount) -> AppResult<Vec<Entry>> {
    entries_under(app, &account.key()).await
}

/// Every entry posted under a ledger account's key, oldest first (its partitions read at
/// once, then merged by their time-ordered keys).
pub(crate) async fn entries_under(app: &App, key: &str) -> AppResult<Vec<Entry>> {
    let partitions = repo::ledger_partitions(key);
    let reads = partitions.into_iter().map(|partition| async move {
        let mut items = Vec::new();
        let mut after = None;
        loop {
            let mut query = Query::table(partition.clone());
            query.limit = 500;
            query.after = after;
            let page = app.store.query(query).await?;
            let last = page.items.is_empty();
            items.extend(page.items);
            match page.next {
                Some(next) if !last => after = Some(next),
                _ => return AppResult::Ok(items),
            }
        }
    });
    let mut items: Vec<Item> = futures::future::try_join_all(reads)
        .await?
        .into_iter()
        .flatten()
        .collect();
    items.sort_by(|a, b| a.sk.cmp(&b.sk));
    items
        .iter()
        .map(|item| Ok(repo::decode::<Entry>(item)?.value))
        .collect()
}

/// The sum of one ledger account's postings.
pub async fn sum_of(app: &App, account: &LedgerAccount) -> AppResult<Decimal> {
    let mut sum: Decimal = entries_of(app, account)
        .await?
        .iter()
        .map(|e| e.posting.amount)
        .sum();
    sum.rescale(2);
    Ok(sum)
}

/// The running sum of a person's ledger account (`None` for a platform account, or before
/// its first posting); for the tests that check it against the postings.
pub async fn running_sum(app: &App, account: &LedgerAccount) -> AppResult<Option<Decimal>> {
    let keys = repo::ledger_sum_keys(&account.key());
    let found = app.store.get_many(&keys).await?;
    if found.is_empty() {
        return Ok(None);
    }
    let mut sum = Decimal::ZERO;
    for item in &found {
        sum += crate::store::sum_of(item)?;
    }
    sum.rescale(2);
    Ok(Some(sum))
}

/// The stored available balance of a seller (`None` before its first write); for the
/// tests that check it against the postings.
pub async fn stored_available(app: &App, seller: &AccountId) -> AppResult<Option<Decimal>> {
    Ok(
        load::<AvailableBalance>(&*app.store, repo::balance_key(seller))
            .await?
            .map(|b| b.value.available),
    )
}

/// A journal's writes, with the balance move of every seller whose available account it
/// posts to: the one way a journal that touches `available` is written.
pub(crate) async fn posted(app: &App, journal: &Journal) -> AppResult<Vec<Write>> {
    let mut deltas: Vec<(AccountId, Decimal)> = Vec::new();
    for posting in &journal.postings {
        let Some(seller) = posting.account.strip_prefix("seller:") else {
            continue;
        };
        let seller = AccountId::parse(seller)?;
        match deltas.iter_mut().find(|(s, _)| *s == seller) {
            Some((_, delta)) => *delta += posting.amount,
            None => deltas.push((seller, posting.amount)),
        }
    }
    let mut writes = journal_writes(journal);
    for (seller, delta) in deltas {
        writes.push(Available::read(app, &seller).await?.moved_by(delta));
    }
    Ok(writes)
}
