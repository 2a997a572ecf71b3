//! M2: what stands between a seller and the exit, counted from their own partitions (their
//! listings, pushes and orders by the index of each; their ledger accounts; their
//! standing). The cost follows the seller's own history, never the table's size, and it is
//! paid only on an application and at processing.
use chrono::{DateTime, Utc};

use crate::balances::Available;
use crate::repo;
use crate::store::{Index, Item, Query};
use crate::{App, AppResult};
use market_core::deposit::{Deposit, DepositStatus};
use market_core::exit::Obligations;
use market_core::ids::AccountId;
use market_core::model::{Listing, ListingStatus, Order, OrderStatus, Push};

/// Every entry of one index partition, handed to `each`.
async fn walk(
    app: &App,
    index: Index,
    partition: String,
    mut each: impl FnMut(&Item) -> AppResult<()>,
) -> AppResult<()> {
    let mut query = Query::index(index, partition);
    loop {
        let page = app.store.query(query.clone()).await?;
        for item in &page.items {
            each(item)?;
        }
        match page.next {
            Some(next) if !page.items.is_empty() => query.after = Some(next),
            _ => break,
        }
    }
    Ok(())
}

/// Counts what blocks `account`'s exit at `now` (E1: each trade as it stands at `now`,
/// whether or not the sweep has recorded its end).
pub(crate) async fn count(
    app: &App,
    account: &AccountId,
    now: DateTime<Utc>,
) -> AppResult<Obligations> {
    let mut o = Obligations::default();
    for partition in repo::seller_partitions(account) {
        walk(app, Index::Gsi1, partition, |item| {
            let listing: Listing = repo::decode(item)?.value;
            if listing.status_at(now).0 == ListingStatus::Active {
                o.open_listings += 1;
            }
            Ok(())
        })
        .await?;
    }
    for (index, partition) in [
        (Index::Gsi1, repo::sent_partition(account)),
        (Index::Gsi2, repo::received_partition(account)),
    ] {
        walk(app, index, partition, |item| {
            let push: Push = repo::decode(item)?.value;
            if !market_core::push::status_at(&push, now).is_final() {
                o.open_pushes += 1;
            }
            Ok(())
        })
        .await?;
    }
    walk(app, Index::Gsi1, repo::buyer_partition(account), |item| {
        let order: Order = repo::decode(item)?.value;
        let status = market_core::order::status_at(&order, now);
        if status.is_unpaid() || status == OrderStatus::Paid {
            o.open_orders += 1;
        }
        Ok(())
    })
    .await?;
    if let Some(standing) = crate::deposits::standing(app, account).await? {
        for id in standing.value.pending.values() {
            let open = repo::load::<Deposit>(&*app.store, repo::deposit_key(id))
                .await?
                .is_some_and(|d| {
                    d.value.status == DepositStatus::AwaitingPayment && now < d.value.pay_by
                });
            o.deposits_awaiting_payment += usize::from(open);
        }
    }
    let sums = crate::accounts::running_balances(app, account).await?;
    o.frozen = sums.frozen;
    o.paying_out = sums.paying_out;
    o.available = Available::read(app, account).await?.amount;
    Ok(o)
}
