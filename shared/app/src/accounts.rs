//! Accounts and domains: the registrar's side (operator seeding) and the owner's views.
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::repo::{self, account_item, load, put, Versioned};
use super::retry::{retrying, written};
use super::views::{DomainView, PageView};
use super::{App, AppError, AppResult};
use crate::store::{Index, Query};
use market_core::domain_name::DomainName;
use market_core::error::{Code, Problem};
use market_core::ids::AccountId;
use market_core::ledger::{Balances, Entry, LedgerAccount};
use market_core::model::{Account, Domain, DomainFlags};

/// `PUT /admin/accounts/{id}`: creates or replaces the account's marketplace profile.
pub async fn upsert_account(app: &App, account: Account) -> AppResult<Account> {
    retrying(|| async {
        let old: Option<Versioned<Account>> =
            load(&*app.store, repo::account_key(&account.id)).await?;
        let mut writes = vec![put(account_item(&account), old.as_ref())];
        if old.is_none() {
            // A new account has no default contact template yet (O9): said by an item an
            // order reads by key (issue 15), unless one is already there.
            let (pk, sk) = repo::default_contact_key(&account.id);
            if app.store.get(&pk, &sk).await?.is_none() {
                writes.push(crate::contacts::default_pointer(&account.id, &None, None));
            }
        }
        written(app.transact(writes).await)?;
        Ok(account.clone())
    })
    .await
}

/// What the registrar says about a domain (`PUT /admin/domains/{domain}`).
pub struct DomainRecord {
    pub name: DomainName,
    pub owner: AccountId,
    pub registered_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub flags: DomainFlags,
}

/// `PUT /admin/domains/{domain}`: creates or updates a domain; a trade holding it and its
/// transfer lock are kept, and a listing holding it follows a new expiry (L7). A trade its
/// old expiry already ended is ended first (E1), as for a renewal.
pub async fn upsert_domain(app: &App, record: DomainRecord) -> AppResult<Domain> {
    if record.expires_at <= record.registered_at {
        return Err(Problem::new(
            Code::InvalidRequest,
            "expires_at must be after registered_at",
        )
        .into());
    }
    let expired = load::<Domain>(&*app.store, repo::domain_key(&record.name))
        .await?
        .is_some_and(|d| d.value.trade.is_some() && d.value.expires_at <= app.now());
    if expired {
        super::lifecycle::expire_domain(app, &record.name).await?;
    }
    retrying(|| async {
        let old: Option<Versioned<Domain>> =
            load(&*app.store, repo::domain_key(&record.name)).await?;
        let domain = Domain {
            name: record.name.clone(),
            owner: record.owner.clone(),
            registered_at: record.registered_at,
            expires_at: record.expires_at,
            flags: record.flags,
            trade: old.as_ref().and_then(|o| o.value.trade.clone()),
            transfer_lock_until: old.as_ref().and_then(|o| o.value.transfer_lock_until),
            // A PUT describes the domain as the registry has it now: registered.
            deleted: false,
        };
        let mut writes = super::outbox::domain_writes(app, &domain, old.as_ref());
        if old
            .as_ref()
            .is_some_and(|o| o.value.expires_at != domain.expires_at)
        {
            writes.extend(super::listings::follow_domain_expiry(app, &domain).await?);
        }
        written(app.transact(writes).await)?;
        Ok(domain)
    })
    .await
}

/// `GET /me/domains`.
pub async fn my_domains(
    app: &App,
    owner: &AccountId,
    limit: usize,
    cursor: Option<String>,
) -> AppResult<PageView<DomainView>> {
    let mut query = Query::index(Index::Gsi1, repo::owner_partition(owner));
    query.limit = limit;
    query.after = cursor;
    let page = app.store.query(query).await?;
    let now = app.now();
    let mut items = Vec::new();
    for item in &page.items {
        let domain: Versioned<Domain> = repo::decode(item)?;
        // The index is eventually consistent: trust the item's own owner.
        if &domain.value.owner == owner {
            items.push(DomainView::new(&domain.value, now));
        }
    }
    Ok(PageView {
        items,
        next_cursor: page.next,
    })
}

/// `GET /me/ledger`: a page of the caller's entries as seller and as buyer, oldest first,
/// and the seller balances.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Ledger)]
pub struct LedgerView {
    /// Ledger entries (API.md "Domains and money of the caller").
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Entry>,
    /// The cursor of the next page; null on the last.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
    /// The seller balances: `available`, `frozen`, `paying_out` (S4, S6).
    #[schema(value_type = Object)]
    pub balances: Balances,
}

pub use crate::balances::entries_of;

/// Where a ledger page stopped in each of the caller's ledger accounts: the store cursor
/// after the last entry shown, or `done` once an account has nothing more.
#[derive(Debug, Default, Serialize, serde::Deserialize)]
struct LedgerCursor {
    /// One per account of [`ledger_accounts`], in order.
    after: Vec<Option<String>>,
    done: Vec<bool>,
}

/// The ledger accounts a caller sees: proceeds available, proceeds frozen, escrow, and
/// payouts on their way (S6).
fn ledger_accounts(account: &AccountId) -> [LedgerAccount; 4] {
    [
        LedgerAccount::Seller(account.clone()),
        LedgerAccount::SellerFrozen(account.clone()),
        LedgerAccount::Escrow(account.clone()),
        LedgerAccount::PayoutPending(account.clone()),
    ]
}

fn bad_cursor() -> AppError {
    Problem::new(
        Code::InvalidRequest,
        "the cursor is not one this list gave out",
    )
    .into()
}

/// `GET /me/ledger`: the caller's three ledger partitions merged in time order, `limit`
/// entries a page: each partition is read from its own position (one query each, at most
/// `limit` entries), the oldest `limit` of them are shown, and the cursor remembers where
/// each partition stopped.
pub async fn my_ledger(
    app: &App,
    account: &AccountId,
    limit: usize,
    cursor: Option<String>,
) -> AppResult<LedgerView> {
    use base64::Engine;
    let codec = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let accounts = ledger_accounts(account);
    let mut position = match cursor {
        None => LedgerCursor {
            after: vec![None; accounts.len()],
            done: vec![false; accounts.len()],
        },
        Some(text) => codec
            .decode(text)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<LedgerCursor>(&bytes).ok())
            .filter(|c| c.after.len() == accounts.len() && c.done.len() == accounts.len())
            .ok_or_else(bad_cursor)?,
    };
    // (sort key, partition, item) of every candidate entry.
    let mut candidates: Vec<(String, usize, crate::store::Item)> = Vec::new();
    let mut queries = Vec::new();
    let mut exhausted = Vec::new();
    for (n, ledger_account) in accounts.iter().enumerate() {
        let mut query = Query::table(repo::ledger_partition(&ledger_account.key()));
        query.limit = limit;
        query.after = position.after[n].clone();
        queries.push(query);
    }
    // Every partition's page and the balances at once: one wave of requests.
    let pages = queries.iter().enumerate().map(|(n, query)| {
        let read = !position.done[n];
        async move {
            match read {
                true => app.store.query(query.clone()).await.map(Some),
                false => Ok(None),
            }
        }
    });
    let (pages, balances) = futures::join!(
        futures::future::try_join_all(pages),
        running_balances(app, account)
    );
    for (n, page) in pages?.into_iter().enumerate() {
        match page {
            Some(page) => {
                exhausted.push(page.next.is_none());
                candidates.extend(page.items.into_iter().map(|i| (i.sk.clone(), n, i)));
            }
            None => exhausted.push(true),
        }
    }
    candidates.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    let shown = candidates.len().min(limit);
    let mut items = Vec::with_capacity(shown);
    let mut taken = vec![0usize; accounts.len()];
    let mut fetched = vec![0usize; accounts.len()];
    for (_, n, _) in &candidates {
        fetched[*n] += 1;
    }
    for (_, n, item) in &candidates[..shown] {
        items.push(repo::decode::<Entry>(item)?.value);
        position.after[*n] = Some(app.store.cursor_after(&queries[*n], item)?);
        taken[*n] += 1;
    }
    for n in 0..accounts.len() {
        position.done[n] = position.done[n] || (exhausted[n] && taken[n] == fetched[n]);
    }
    let next_cursor = if position.done.iter().all(|d| *d) {
        None
    } else {
        let json = serde_json::to_vec(&position).map_err(|e| AppError::Internal(e.into()))?;
        Some(codec.encode(json))
    };
    Ok(LedgerView {
        items,
        next_cursor,
        balances: balances?,
    })
}

/// S4, S6: a seller's balances from the running sums of their accounts (one request,
/// whatever the history: every journal adds to them in its own transaction).
pub async fn running_balances(app: &App, account: &AccountId) -> AppResult<Balances> {
    let keys: Vec<(String, String)> = [
        LedgerAccount::Seller(account.clone()),
        LedgerAccount::SellerFrozen(account.clone()),
        LedgerAccount::PayoutPending(account.clone()),
    ]
    .iter()
    .filter_map(|a| repo::ledger_sum_key(&a.key()))
    .collect();
    let found = app.store.get_many(&keys).await?;
    let sum = |n: usize| {
        let mut sum = found
            .iter()
            .find(|i| i.pk == keys[n].0)
            .map(crate::store::sum_of)
            .unwrap_or_default();
        sum.rescale(2);
        sum
    };
    Ok(Balances {
        available: sum(0),
        frozen: sum(1),
        paying_out: sum(2),
    })
}
