//! Refunds through the provider (S1): the record written with the refund journal, the call
//! made at once after commit, and the retries with backoff until the provider confirms.
//! Used by every path that gives money back (late payments, undeliverable domains, failed
//! pushes, an operator's ruling), so it sits below them all.
use chrono::{DateTime, Duration, Utc};

use crate::ports::payment::RefundRequest;
use crate::repo::{self, create, load, put, refund_item};
use crate::store::Write;
use crate::{App, AppResult};
use market_core::ledger::Journal;
use market_core::model::{Payment, Refund, RefundStatus};

/// A refund of a journal's amount: its record and the writes that create it (the refund
/// journal itself is among the caller's writes, in the same transaction).
pub(crate) fn refund_for(
    journal: &Journal,
    payment: &Payment,
    reason: &str,
    now: DateTime<Utc>,
    id: ulid::Ulid,
) -> (Refund, Write) {
    let amount = journal
        .postings
        .iter()
        .filter(|p| p.account.starts_with("provider"))
        .map(|p| p.amount)
        .sum::<rust_decimal::Decimal>();
    let refund = Refund {
        id: format!("rfd_{}", id.to_string().to_lowercase()),
        journal_id: journal.id.clone(),
        payment_id: payment.id.clone(),
        buyer: payment.buyer.clone(),
        amount: market_core::money::Money::parse(&format!("{amount:.2}")).unwrap_or(payment.amount),
        reason: reason.to_owned(),
        status: RefundStatus::Pending,
        attempts: 0,
        next_attempt_at: now,
        created_at: now,
        confirmed_at: None,
    };
    let write = create(refund_item(&refund));
    (refund, write)
}

/// Sends a refund at once, after its record committed; a failure is left to the sweep.
pub(crate) async fn send_refund_now(app: &App, journal_id: &str) {
    if let Err(e) = send_refund(app, journal_id).await {
        tracing::warn!(refund = journal_id, error = ?e, "refund not confirmed yet; the sweep retries it");
    }
}

/// Asks the provider for a pending refund; records the confirmation, or the next attempt
/// (exponential backoff up to an hour). Returns whether the refund is confirmed.
pub async fn send_refund(app: &App, journal_id: &str) -> AppResult<bool> {
    let Some(refund) = load::<Refund>(&*app.store, repo::refund_key(journal_id)).await? else {
        return Ok(false);
    };
    if refund.value.status == RefundStatus::Confirmed {
        return Ok(true);
    }
    let now = app.now();
    if refund.value.next_attempt_at > now {
        return Ok(false);
    }
    let request = RefundRequest {
        out_trade_no: refund.value.payment_id.as_str(),
        refund_id: &refund.value.id,
        amount: refund.value.amount,
        reason: &refund.value.reason,
    };
    let answer = app.provider.refund(&request, now).await;
    let mut next = refund.value.clone();
    next.attempts += 1;
    let confirmed = answer.is_ok();
    match &answer {
        Ok(_) => {
            next.status = RefundStatus::Confirmed;
            next.confirmed_at = Some(now);
        }
        Err(e) => {
            let backoff = Duration::seconds((30i64 << next.attempts.min(7)).min(3600));
            next.next_attempt_at = now + backoff;
            tracing::warn!(refund = %next.id, error = %e, "the provider did not confirm the refund");
        }
    }
    let mut writes = vec![put(refund_item(&next), Some(&refund))];
    if confirmed {
        // N1: the buyer is told, once: only the write that confirms it carries the notice.
        writes.extend(crate::notifications::refund_sent(app, &next));
    }
    // A concurrent sender may have recorded the same outcome: the provider refunds once per
    // refund id, so losing this race is harmless.
    match app.transact(writes).await {
        Ok(()) | Err(crate::store::StoreError::Conflict { .. }) => Ok(confirmed),
        Err(e) => Err(e.into()),
    }
}
