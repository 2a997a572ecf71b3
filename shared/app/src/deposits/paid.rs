//! M1: a deposit's payment applied once, through the same notification path as orders and
//! pushes (dedupe records, journals written once, conditions on what was read); a late or
//! unwanted payment is refunded whole (E1, S1); an unpaid deposit expires with its window.
use chrono::{DateTime, Utc};

use crate::attempts::{dedupe_records, Applied};
use crate::ports::payment::Notification;
use crate::refunds::{refund_for, send_refund_now};
use crate::repo::{self, deposit_item, journal_writes, load, payment_item, put, Versioned};
use crate::retry::{retrying, written};
use crate::store::Write;
use crate::{App, AppError, AppResult};
use market_core::deposit::{Deposit, DepositStatus};
use market_core::ids::DepositId;
use market_core::ledger;
use market_core::model::{Payment, PaymentRef, PaymentStatus};

use super::{standing, standing_write};

/// Money for a deposit. In time for its current attempt of an unpaid deposit of a seller
/// still selling: held (escrow → deposits, the standing credited). Otherwise (late, the
/// deposit expired or paid by another attempt, the seller exited): refunded whole. A
/// duplicate finds the payment settled and changes nothing.
pub(crate) async fn paid(app: &App, n: &Notification, id: &DepositId) -> AppResult<Applied> {
    let (outcome, refund) = retrying(app, || async {
        let now = app.now();
        let payment: Versioned<Payment> = load(&*app.store, repo::payment_key(&n.out_trade_no))
            .await?
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("payment vanished")))?;
        if matches!(
            payment.value.status,
            PaymentStatus::Succeeded | PaymentStatus::Refunded
        ) {
            return Ok((Applied::NoChange, None));
        }
        let deposit: Versioned<Deposit> = load(&*app.store, repo::deposit_key(id))
            .await?
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("payment for a missing deposit")))?;
        let read = standing(app, &deposit.value.account).await?;
        let mut next_standing = read.as_ref().map(|s| s.value.clone()).unwrap_or_default();
        let paid_at = n.paid_at.unwrap_or(now).min(now);
        let current = deposit
            .value
            .payment
            .as_ref()
            .is_some_and(|p| p.payment_id == payment.value.id);
        let in_time = deposit.value.status == DepositStatus::AwaitingPayment
            && current
            && paid_at < deposit.value.pay_by
            && next_standing.exited_at.is_none();
        let mut settled = payment.value.clone();
        settled.trade_no = Some(n.trade_no.clone());
        settled.settled_at = Some(now);
        let mut writes = dedupe_records(n, now);
        writes.extend(journal_writes(&ledger::payment_received(&payment.value, now)));
        if in_time {
            settled.status = PaymentStatus::Succeeded;
            let mut next = deposit.value.clone();
            next.status = DepositStatus::Held;
            next.paid_at = Some(now);
            next.updated_at = now;
            next.payment = Some(PaymentRef {
                payment_id: payment.value.id.clone(),
                status: PaymentStatus::Succeeded,
                failure: None,
            });
            next_standing.add_held(&next.category, next.amount.amount());
            if next_standing.pending.get(&next.category) == Some(&next.id) {
                next_standing.pending.remove(&next.category);
            }
            writes.extend(journal_writes(&ledger::deposit_held(
                &next.id,
                &payment.value,
                now,
            )));
            writes.push(put(payment_item(&settled), Some(&payment)));
            writes.push(put(deposit_item(&next), Some(&deposit)));
            writes.push(standing_write(&next.account, &next_standing, read.as_ref()));
            written(app.transact(writes).await)?;
            tracing::info!(deposit = %next.id, account = %next.account, amount = %next.amount, "deposit held (M1)");
            return Ok((Applied::Paid, None));
        }
        settled.status = PaymentStatus::Refunded;
        let journal = ledger::refund(&payment.value, "all", payment.value.amount, now);
        let reason = "payment arrived after the deposit's window, for a deposit no longer payable, or after the exit";
        let (refund, refund_write) = refund_for(&journal, &payment.value, reason, now, app.ulid());
        writes.push(put(payment_item(&settled), Some(&payment)));
        writes.extend(journal_writes(&journal));
        writes.push(refund_write);
        written(app.transact(writes).await)?;
        tracing::info!(payment = %payment.value.id, deposit = %id, "late or unwanted deposit payment refunded");
        Ok((Applied::Refunded, Some(refund)))
    })
    .await?;
    if let Some(refund) = refund {
        send_refund_now(app, &refund.journal_id).await;
    }
    Ok(outcome)
}

/// A failed attempt of a deposit's payment (`TRADE_CLOSED`, or credit refused, O8): the
/// deposit stays open; `POST /me/deposits` again opens a new attempt inside its window.
pub(crate) async fn attempt_failed_writes(
    app: &App,
    id: &DepositId,
    payment: &Payment,
    failure: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<Vec<Write>> {
    let Some(deposit) = load::<Deposit>(&*app.store, repo::deposit_key(id)).await? else {
        return Ok(vec![]);
    };
    let current = deposit
        .value
        .payment
        .as_ref()
        .is_some_and(|p| p.payment_id == payment.id);
    if !current || deposit.value.status != DepositStatus::AwaitingPayment {
        return Ok(vec![]);
    }
    let mut next = deposit.value.clone();
    if let Some(p) = next.payment.as_mut() {
        p.status = PaymentStatus::Failed;
        p.failure = failure.map(str::to_owned);
    }
    next.updated_at = now;
    Ok(vec![put(deposit_item(&next), Some(&deposit))])
}

/// The sweep: an unpaid deposit past its window expires (its payment attempt, if still
/// pending, was asked about first by the caller, O6) and leaves the standing's open
/// payments. Whether it expired now.
pub(crate) async fn expire_if_due(app: &App, id: &DepositId) -> AppResult<bool> {
    retrying(app, || async {
        let now = app.now();
        let Some(deposit) = load::<Deposit>(&*app.store, repo::deposit_key(id)).await? else {
            return Ok(false);
        };
        if deposit.value.status != DepositStatus::AwaitingPayment || now < deposit.value.pay_by {
            return Ok(false);
        }
        let mut next = deposit.value.clone();
        next.status = DepositStatus::Expired;
        next.updated_at = now;
        let mut writes = vec![put(deposit_item(&next), Some(&deposit))];
        let read = standing(app, &next.account).await?;
        if let Some(read) = read.as_ref() {
            if read.value.pending.get(&next.category) == Some(&next.id) {
                let mut changed = read.value.clone();
                changed.pending.remove(&next.category);
                writes.push(standing_write(&next.account, &changed, Some(read)));
            }
        }
        written(app.transact(writes).await)?;
        tracing::info!(deposit = %id, "unpaid deposit expired (M1)");
        Ok(true)
    })
    .await
}
