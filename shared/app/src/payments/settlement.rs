//! Settlement (S4): a sale's proceeds move from frozen to available once the settlement
//! period has passed.

use crate::repo::{self, load, put, settlement_item, Versioned};
use crate::retry::{retrying, written};
use crate::{App, AppError, AppResult};
use market_core::ledger::{self, Journal};
use market_core::model::PendingSettlement;

/// S4: settles a sale's proceeds once its settlement period has ended (frozen → available).
/// Returns whether this call settled it.
pub async fn settle(app: &App, sale_journal_id: &str) -> AppResult<bool> {
    retrying(app, || async {
        let now = app.now();
        let Some(pending) =
            load::<PendingSettlement>(&*app.store, repo::settlement_key(sale_journal_id)).await?
        else {
            return Ok(false);
        };
        if pending.value.settled || pending.value.due_at > now {
            return Ok(false);
        }
        let sale: Versioned<Journal> = load(&*app.store, repo::journal_key(sale_journal_id))
            .await?
            .ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!(
                    "settlement of a missing sale {sale_journal_id}"
                ))
            })?;
        let mut done = pending.value.clone();
        done.settled = true;
        let mut writes = vec![put(settlement_item(&done), Some(&pending))];
        let settled = ledger::settlement(&sale.value, &pending.value.seller, now);
        writes.extend(crate::balances::posted(app, &settled).await?);
        written(app.transact(writes).await)?;
        Ok(true)
    })
    .await
}
