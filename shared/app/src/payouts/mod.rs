//! S6: a seller's payouts. A request takes the amount out of `available` on the condition
//! that the balance is as read (two payouts racing for the same money: one is refused),
//! records the payout and its journal in one transaction, then sends it at once
//! ([`sending`]); the sweep takes up any payout whose answer did not come back.
mod sending;
mod view;

use crate::balances::Available;
use crate::paging::filtered;
use crate::repo::{self, create, journal_writes, load, payout_item, Versioned};
use crate::retry::{retrying, written};
use crate::store::{Index, Query};
use crate::views::PageView;
use crate::{App, AppResult};
use market_core::error::Problem;
use market_core::ids::{AccountId, PayoutId};
use market_core::ledger;
use market_core::model::Account;
use market_core::money::Money;
use market_core::payout::{self, Payout};

pub use sending::{send, Sent};
pub use view::PayoutView;

/// The id of a payout request: derived from the seller and the request's
/// `Idempotency-Key` when it has one (a retry after the key's record was lost still finds
/// the same payout), else fresh. Minted once per request, never per try, so a write that
/// committed but was reported lost is found by the next try instead of paid again.
fn payout_id(app: &App, seller: &AccountId, idempotency_key: Option<&str>) -> PayoutId {
    match idempotency_key {
        Some(key) => {
            use sha2::{Digest, Sha256};
            let digest = Sha256::digest(format!("{seller}\0{key}").as_bytes());
            let mut bytes = [0u8; 16];
            bytes.copy_from_slice(&digest[..16]);
            PayoutId::mint(ulid::Ulid::from_bytes(bytes))
        }
        None => PayoutId::mint(app.ulid()),
    }
}

/// `POST /me/payouts`: pays `amount` (default: everything available) to the caller's
/// verified settlement account (S4), or, when none is bound, the A1 Alipay binding. Answers the payout as it stands after the first transfer attempt.
pub async fn request(
    app: &App,
    seller: &AccountId,
    amount: Option<Money>,
    idempotency_key: Option<&str>,
) -> AppResult<PayoutView> {
    let id = payout_id(app, seller, idempotency_key);
    let payout = retrying(app, || async {
        let now = app.now();
        if let Some(done) = load::<Payout>(&*app.store, repo::payout_key(&id)).await? {
            // This request's payout exists already (a retry): it is the answer.
            if &done.value.seller == seller {
                return Ok(done.value);
            }
        }
        let account: Option<Versioned<Account>> =
            load(&*app.store, repo::account_key(seller)).await?;
        // S4: a verified settlement account is the payee; without one, the A1 binding.
        let settlement = crate::settlement::of(app, seller).await?;
        let (to, name, kind) = market_core::settlement::payee(
            account.as_ref().map(|a| &a.value),
            settlement.as_ref().map(|s| &s.value),
        )?;
        let available = Available::read(app, seller).await?;
        let amount = payout::payout_amount(amount, available.amount)?;
        let mut payout = payout::new_payout(id.clone(), seller.clone(), amount, (to, name), now);
        payout.payee_kind = kind;
        let mut writes = vec![
            create(payout_item(&payout)),
            available.moved_by(-amount.amount()),
        ];
        writes.extend(journal_writes(&ledger::payout_requested(&payout)));
        written(app.transact(writes).await)?;
        tracing::info!(payout = %payout.id, seller = %seller, amount = %amount, "payout requested");
        Ok(payout)
    })
    .await?;
    let payout = match send(app, &payout.id).await {
        Ok(sent) => sent.payout,
        Err(e) => {
            // Recorded and due: the sweep sends it.
            tracing::warn!(payout = %payout.id, error = %e, "payout not sent yet; the sweep takes it up");
            payout
        }
    };
    Ok(PayoutView::from(&payout))
}

/// `GET /me/payouts/{id}` (the seller's own only; anyone else's is not found).
pub async fn get(app: &App, seller: &AccountId, id: &PayoutId) -> AppResult<PayoutView> {
    load::<Payout>(&*app.store, repo::payout_key(id))
        .await?
        .filter(|p| &p.value.seller == seller)
        .map(|p| PayoutView::from(&p.value))
        .ok_or_else(|| Problem::not_found("payout").into())
}

/// `GET /me/payouts`: the caller's payouts, newest first. The index is eventually
/// consistent: each entry is shown as its item says.
pub async fn list(
    app: &App,
    seller: &AccountId,
    limit: usize,
    cursor: Option<String>,
) -> AppResult<PageView<PayoutView>> {
    let mut query = Query::index(Index::Gsi1, repo::payouts_partition(seller));
    query.forward = false;
    query.after = cursor;
    filtered(app, query, limit, false, |item| {
        let payout: Versioned<Payout> = repo::decode(item)?;
        Ok(Some(PayoutView::from(&payout.value)))
    })
    .await
}
