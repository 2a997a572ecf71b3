//! O8, second line: money that came through a credit instrument (credit card, Huabei), the
//! cashier's refusal notwithstanding, is refunded in full and never buys anything. The
//! attempt fails with the reason, so the buyer may pay again with other funds while the
//! window is open (O5); once it closes, the order or push ends failed or expired as usual.

use crate::ports::payment::Notification;
use crate::repo::{self, journal_writes, load, payment_item, put, Versioned};
use crate::retry::{retrying, written};
use crate::{App, AppError, AppResult};
use market_core::ledger;
use market_core::model::{Payment, PaymentStatus};

use super::*;

/// A paid notification (or a trade query's answer, O6) funded by credit: in one transaction
/// with its dedupe records, the money is received and refunded whole (payment and refund
/// journals, the refund record), the payment is `refunded` and the attempt failed on its
/// order or push with `reason`. Once, whatever the number of duplicates: they find the
/// payment settled. Then the refund goes to the provider (retried by the sweep).
pub(super) async fn refuse_credit(app: &App, n: &Notification, reason: &str) -> AppResult<Applied> {
    let refund = retrying(app, || async {
        let now = app.now();
        let payment: Versioned<Payment> = load(&*app.store, repo::payment_key(&n.out_trade_no))
            .await?
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("payment vanished")))?;
        match payment.value.status {
            PaymentStatus::Refunded => return Ok(None),
            PaymentStatus::Succeeded => {
                // Applied earlier from an answer that did not say how it was funded: the
                // trade has gone ahead; only an operator can undo it now.
                tracing::warn!(payment = %payment.value.id, reason, "a payment already applied reports credit funds (O8)");
                return Ok(None);
            }
            PaymentStatus::Pending | PaymentStatus::Failed => {}
        }
        let mut refused = payment.value.clone();
        refused.status = PaymentStatus::Refunded;
        refused.trade_no = Some(n.trade_no.clone());
        refused.settled_at = Some(now);
        let journal = ledger::refund(&payment.value, "all", payment.value.amount, now);
        let (refund, refund_write) = refund_for(&journal, &payment.value, reason, now, app.ulid());
        let mut writes = dedupe_records(n, now);
        writes.extend(journal_writes(&ledger::payment_received(
            &payment.value,
            now,
        )));
        writes.push(put(payment_item(&refused), Some(&payment)));
        writes.extend(journal_writes(&journal));
        writes.push(refund_write);
        writes.extend(failed_attempt_writes(app, &payment.value, Some(reason), now).await?);
        written(app.transact(writes).await)?;
        tracing::info!(payment = %payment.value.id, reason, "credit-funded payment refunded in full (O8)");
        Ok(Some(refund))
    })
    .await?;
    match refund {
        Some(refund) => {
            send_refund_now(app, &refund.journal_id).await;
            Ok(Applied::Refunded)
        }
        None => Ok(Applied::NoChange),
    }
}
