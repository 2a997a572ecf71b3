//! Refunds through the provider, retried with backoff until confirmed (S1), and an
//! operator's refund of a completed domain, clawed back from the seller (S4).
use chrono::{DateTime, Duration, Utc};

use crate::ports::payment::RefundRequest;
use crate::repo::{
    self, create, journal_writes, load, order_item, put, refund_item, settlement_item, Versioned,
};
use crate::retry::{retrying, written};
use crate::store::Write;
use crate::{App, AppError, AppResult};
use market_core::ids::OrderId;
use market_core::ledger::{self, Journal};
use market_core::model::{ItemStatus, Order, Payment, PendingSettlement, Refund, RefundStatus};

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
    // A concurrent sender may have recorded the same outcome: the provider refunds once per
    // refund id, so losing this race is harmless.
    match app
        .transact(vec![put(refund_item(&next), Some(&refund))])
        .await
    {
        Ok(()) | Err(crate::store::StoreError::Conflict { .. }) => Ok(confirmed),
        Err(e) => Err(e.into()),
    }
}

/// S4, M3: an operator refunds one completed domain of an order (an arbitration ruling). The
/// buyer gets the price back through the provider; the seller bears it (`ledger::clawback`);
/// a settlement still pending is cancelled in the same transaction. Ownership is the
/// registrar's decision and is not changed here. Once per domain.
pub async fn refund_completed(
    app: &App,
    order_id: &OrderId,
    domain: &market_core::domain_name::DomainName,
    reason: &str,
) -> AppResult<Order> {
    use market_core::error::{Code, Problem};
    let (order, refund) = retrying(|| async {
        let now = app.now();
        let order: Versioned<Order> = load(&*app.store, repo::order_key(order_id))
            .await?
            .ok_or_else(|| Problem::not_found("order"))?;
        let index = order
            .value
            .items
            .iter()
            .position(|i| {
                &i.domain == domain && i.status == ItemStatus::Completed && i.refund.is_none()
            })
            .ok_or_else(|| {
                Problem::new(
                    Code::NotRefundable,
                    format!("{domain} is not a completed, unrefunded domain of this order"),
                )
            })?;
        let item = order.value.items[index].clone();
        let sale_id = format!("sale:{}:{}", order.value.id, item.domain);
        let sale: Versioned<Journal> = load(&*app.store, repo::journal_key(&sale_id))
            .await?
            .ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!(
                    "completed item without its sale journal {sale_id}"
                ))
            })?;
        let pending: Versioned<PendingSettlement> =
            load(&*app.store, repo::settlement_key(&sale_id))
                .await?
                .ok_or_else(|| {
                    AppError::Internal(anyhow::anyhow!(
                        "sale {sale_id} without its settlement record"
                    ))
                })?;
        let payment_id = order.value.payment.as_ref().map(|p| p.payment_id.clone());
        let payment: Versioned<Payment> = match payment_id {
            Some(id) => load(&*app.store, repo::payment_key(id.as_str())).await?,
            None => None,
        }
        .ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!(
                "completed order {order_id} without its payment"
            ))
        })?;
        let journal = ledger::clawback(
            &sale.value,
            &item.seller,
            pending.value.settled,
            item.price,
            now,
        );
        let (record, refund_write) = refund_for(&journal, &payment.value, reason, now, app.ulid());
        let mut next = order.value.clone();
        next.items[index].refund = Some(item.price);
        next.items[index].failure = Some(format!("refunded after completion: {reason}"));
        next.updated_at = now;
        let mut writes = vec![put(order_item(&next), Some(&order))];
        if !pending.value.settled {
            let mut cancelled = pending.value.clone();
            cancelled.settled = true;
            cancelled.cancelled = true;
            writes.push(put(settlement_item(&cancelled), Some(&pending)));
        }
        writes.extend(journal_writes(&journal));
        writes.push(refund_write);
        written(app.transact(writes).await)?;
        Ok((next, record))
    })
    .await?;
    send_refund_now(app, &refund.journal_id).await;
    Ok(order)
}
