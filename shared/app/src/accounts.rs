//! Accounts and domains: the registrar's side (operator seeding) and the owner's views.
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::repo::{self, account_item, load, put, Versioned};
use super::retry::{retrying, written};
use super::views::{DomainView, PageView};
use super::{App, AppResult};
use crate::store::{Index, Query};
use market_core::domain_name::DomainName;
use market_core::error::{Code, Problem};
use market_core::ids::AccountId;
use market_core::ledger::{Balances, Entry, LedgerAccount};
use market_core::model::{Account, Domain, DomainFlags};

/// `PUT /admin/accounts/{id}`: creates or replaces the account's marketplace profile.
pub async fn upsert_account(app: &App, account: Account) -> AppResult<Account> {
    retrying(app, || async {
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
    retrying(app, || async {
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
    let queries = repo::owner_partitions(owner)
        .into_iter()
        .map(|partition| Query::index(Index::Gsi1, partition))
        .collect();
    let now = app.now();
    crate::paging::merged(
        app,
        queries,
        (limit, false, true),
        |item| {
            let domain: Versioned<Domain> = repo::decode(item)?;
            // The index is eventually consistent: trust the item's own owner.
            Ok((&domain.value.owner == owner).then(|| DomainView::new(&domain.value, now)))
        },
        cursor.as_deref(),
    )
    .await
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

/// `GET /me/ledger`: the caller's ledger partitions merged in time order, `limit` entries
/// a page (`paging::merged`: each partition read from its own place, a whole page each, so
/// a page is short only at the end), with the balances from the running sums, all in one
/// wave of requests.
pub async fn my_ledger(
    app: &App,
    account: &AccountId,
    limit: usize,
    cursor: Option<String>,
) -> AppResult<LedgerView> {
    let queries: Vec<Query> = ledger_accounts(account)
        .iter()
        .flat_map(|a| repo::ledger_partitions(&a.key()))
        .map(|partition| {
            let mut query = Query::table(partition);
            query.limit = limit;
            query
        })
        .collect();
    let decode = |item: &crate::store::Item| Ok(Some(repo::decode::<Entry>(item)?.value));
    let (page, balances) = futures::join!(
        crate::paging::merged(
            app,
            queries,
            (limit, false, true),
            decode,
            cursor.as_deref()
        ),
        running_balances(app, account)
    );
    let page = page?;
    Ok(LedgerView {
        items: page.items,
        next_cursor: page.next_cursor,
        balances: balances?,
    })
}

/// S4, S6: a seller's balances from the running sums of their accounts (one request,
/// whatever the history: every journal adds to them in its own transaction).
pub async fn running_balances(app: &App, account: &AccountId) -> AppResult<Balances> {
    let accounts = [
        LedgerAccount::Seller(account.clone()),
        LedgerAccount::SellerFrozen(account.clone()),
        LedgerAccount::PayoutPending(account.clone()),
    ];
    let keys: Vec<(String, String)> = accounts
        .iter()
        .flat_map(|a| repo::ledger_sum_keys(&a.key()))
        .collect();
    let found = app.store.get_many(&keys).await?;
    let sum = |n: usize| -> AppResult<rust_decimal::Decimal> {
        let family = repo::ledger_sum_keys(&accounts[n].key());
        let mut sum = rust_decimal::Decimal::ZERO;
        for item in found
            .iter()
            .filter(|i| family.iter().any(|(pk, _)| *pk == i.pk))
        {
            sum += crate::store::sum_of(item)?;
        }
        sum.rescale(2);
        Ok(sum)
    };
    Ok(Balances {
        available: sum(0)?,
        frozen: sum(1)?,
        paying_out: sum(2)?,
    })
}
