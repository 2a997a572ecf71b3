//! M1: an operator forfeits part or all of a held deposit, with a reason: one ledger
//! entry each (deposits → the platform's forfeited deposits), the seller's standing
//! lowered in the same transaction (below the category's deposit, they must top it up
//! before listing there again).
use crate::repo::{self, deposit_item, journal_writes, load, put, Versioned};
use crate::retry::{retrying, written};
use crate::{App, AppError, AppResult};
use market_core::deposit::{check_forfeit, Deposit, DepositStatus, Forfeit};
use market_core::error::Problem;
use market_core::ids::DepositId;
use market_core::ledger;
use market_core::model::Payment;
use market_core::money::Money;

use super::{standing, standing_write, DepositView};

/// `POST /admin/deposits/{id}/forfeit {amount, reason}`.
pub async fn forfeit(
    app: &App,
    id: &DepositId,
    amount: Money,
    reason: &str,
) -> AppResult<DepositView> {
    let reason = reason.trim().to_owned();
    retrying(app, || async {
        let now = app.now();
        let deposit: Versioned<Deposit> = load(&*app.store, repo::deposit_key(id))
            .await?
            .ok_or_else(|| Problem::not_found("deposit"))?;
        check_forfeit(&deposit.value, amount, &reason)?;
        let payment_id = deposit
            .value
            .payment
            .as_ref()
            .map(|p| p.payment_id.clone())
            .ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!("held deposit {id} without payment"))
            })?;
        let payment: Versioned<Payment> = load(&*app.store, repo::payment_key(payment_id.as_str()))
            .await?
            .ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!("deposit {id} names a missing payment"))
            })?;
        let n = deposit.value.forfeits.len() + 1;
        let journal =
            ledger::deposit_forfeited(id, n, &payment.value, amount.amount(), &reason, now);
        let mut next = deposit.value.clone();
        next.forfeits.push(Forfeit {
            amount,
            reason: reason.clone(),
            at: now,
            journal_id: journal.id.clone(),
        });
        if next.held().is_zero() {
            next.status = DepositStatus::Forfeited;
        }
        next.updated_at = now;
        let read = standing(app, &next.account).await?;
        let mut changed = read.as_ref().map(|s| s.value.clone()).unwrap_or_default();
        changed.add_held(&next.category, -amount.amount());
        let mut writes = vec![
            put(deposit_item(&next), Some(&deposit)),
            standing_write(&next.account, &changed, read.as_ref()),
        ];
        writes.extend(journal_writes(&journal));
        written(app.transact(writes).await)?;
        tracing::info!(deposit = %id, amount = %amount, reason = %reason, "deposit forfeited (M1)");
        Ok(DepositView::new(&next, None))
    })
    .await
}
