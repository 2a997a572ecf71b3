//! A verified result applied once: dispatched to the order or the push it pays, as one
//! conditional transaction with its dedupe records and ledger journal; a late or unwanted
//! payment becomes a refund (E1, S1).

use chrono::{DateTime, Utc};

use crate::order_store;
use crate::payments::door::audit;
use crate::ports::payment::{Notification, TradeStatus};
use crate::repo::{self, journal_writes, load, payment_item, put, Versioned};
use crate::retry::{retrying, written};
use crate::store::{Write, MAX_TRANSACTION_WRITES};
use crate::{App, AppError, AppResult};
use market_core::funding::{credit_fund, credit_refusal};
use market_core::ledger::{self};
use market_core::model::{Order, OrderStatus, Payment, PaymentRef, PaymentStatus, Purchase};

use super::*;

/// Applies a notification whose signature holds (or a provider query's answer, O6).
pub async fn apply_verified(app: &App, n: &Notification, raw: &str) -> AppResult<Applied> {
    let Some(payment) = load::<Payment>(&*app.store, repo::payment_key(&n.out_trade_no)).await?
    else {
        let reason = format!("unknown out_trade_no {}", n.out_trade_no);
        audit(app, raw, &reason).await?;
        return Ok(Applied::Rejected(reason));
    };
    let us = app.provider.merchant().await?;
    if let Some(reason) = mismatch(&us, n, &payment.value) {
        audit(app, raw, &reason).await?;
        return Ok(Applied::Rejected(reason));
    }
    match n.trade_status {
        TradeStatus::Waiting => Ok(Applied::NoChange),
        TradeStatus::Closed => attempt_failed(app, n).await,
        TradeStatus::Paid => match credit_fund(&n.fund_bills) {
            // O8: money from a credit instrument never buys anything.
            Some(credit) => super::credit::refuse_credit(app, n, &credit_refusal(credit)).await,
            None => match &payment.value.purchase {
                Purchase::Order(_) => paid_order(app, n, payment).await,
                Purchase::Push(push_id) => crate::pushes::paid(app, n, push_id).await,
                Purchase::TopUp => crate::partners::balance::paid_top_up(app, n).await,
                Purchase::PartnerOrder(id) => {
                    crate::partners::orders::paid_online(app, n, id).await
                }
                // M1: a deposit, applied once like the others.
                Purchase::Deposit(id) => crate::deposits::paid(app, n, id).await,
            },
        },
    }
}

/// `TRADE_CLOSED`: the attempt failed; the order waits for a new attempt (O5).
pub(super) async fn attempt_failed(app: &App, n: &Notification) -> AppResult<Applied> {
    retrying(app, || async {
        let now = app.now();
        let payment: Versioned<Payment> = load(&*app.store, repo::payment_key(&n.out_trade_no))
            .await?
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("payment vanished")))?;
        if payment.value.status != PaymentStatus::Pending {
            return Ok(Applied::NoChange);
        }
        let mut failed = payment.value.clone();
        failed.status = PaymentStatus::Failed;
        let mut writes = vec![put(payment_item(&failed), Some(&payment))];
        writes.extend(dedupe_records(n, now));
        writes.extend(failed_attempt_writes(app, &payment.value, None, now).await?);
        written(app.transact(writes).await)?;
        Ok(Applied::AttemptFailed)
    })
    .await
}

/// The writes that record a failed attempt on its order or push, while it is their current
/// attempt: the order waits for a new attempt (O5), the push stays accepted; `failure` is
/// what the buyer is told (O8).
pub(super) async fn failed_attempt_writes(
    app: &App,
    payment: &Payment,
    failure: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<Vec<Write>> {
    let order_id = match &payment.purchase {
        Purchase::Push(push_id) => {
            return crate::pushes::attempt_failed_writes(app, push_id, payment, failure, now).await
        }
        Purchase::Deposit(id) => {
            return crate::deposits::attempt_failed_writes(app, id, payment, failure, now).await
        }
        Purchase::Order(order_id) => order_id,
        // L10: a failed top-up changes nothing but its attempt; a partner order waits for
        // its window's end (one attempt per order).
        Purchase::TopUp | Purchase::PartnerOrder(_) => return Ok(vec![]),
    };
    let Some(order) = order_store::load(&*app.store, order_id).await? else {
        return Ok(vec![]);
    };
    let current = order
        .value
        .payment
        .as_ref()
        .is_some_and(|p| p.payment_id == payment.id);
    if !current || order.value.status != OrderStatus::Processing {
        return Ok(vec![]);
    }
    let mut next = order.value.clone();
    next.status = OrderStatus::AwaitingPayment;
    if let Some(p) = next.payment.as_mut() {
        p.status = PaymentStatus::Failed;
        p.failure = failure.map(str::to_owned);
    }
    next.updated_at = now;
    Ok(order_store::update(&next, &order))
}

/// `TRADE_SUCCESS`/`TRADE_FINISHED` for an order. In time for an unpaid order → the order is paid and delivered;
/// otherwise (late, cancelled, expired, already paid) → refunded (E1, S1). A repeat of an
/// applied success only resumes delivery.
pub(super) async fn paid_order(
    app: &App,
    n: &Notification,
    read: Versioned<Payment>,
) -> AppResult<Applied> {
    // The payment as the caller read it serves the first try; a try that lost a race reads
    // it again (issue 15: one request less).
    let first = std::sync::Mutex::new(Some(read));
    let (outcome, paid) = retrying(app, || async {
        let now = app.now();
        let known = first.lock().expect("first read").take();
        let first_try = known.is_some();
        let payment: Versioned<Payment> = match known {
            Some(payment) => payment,
            None => load(&*app.store, repo::payment_key(&n.out_trade_no))
                .await?
                .ok_or_else(|| AppError::Internal(anyhow::anyhow!("payment vanished")))?,
        };
        match payment.value.status {
            PaymentStatus::Succeeded => {
                return Ok((
                    Applied::NoChange,
                    Paid::Deliver(payment.value.order_id().cloned(), None),
                ))
            }
            PaymentStatus::Refunded => return Ok((Applied::NoChange, Paid::Nothing)),
            PaymentStatus::Pending | PaymentStatus::Failed => {}
        }
        let order_id = payment
            .value
            .order_id()
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("not an order's payment")))?;
        // The first try reads the order with the listings and domains of its first delivery
        // batch, which the payment names (issue 15); a retry reads the order alone.
        let order_key = repo::order_key(order_id);
        let mut batch_items = None;
        let order = if first_try && !payment.value.delivers.is_empty() {
            let mut keys = vec![order_key.clone()];
            keys.extend(named_keys(&payment.value.delivers));
            let mut read = by_pk(app.store.get_many(&keys).await?);
            let order = match read.remove(&order_key.0) {
                Some(item) => Some(order_store::whole(&*app.store, &item).await?),
                None => None,
            };
            batch_items = Some(read);
            order
        } else {
            order_store::load(&*app.store, order_id).await?
        };
        let order: Versioned<Order> = order
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("payment for a missing order")))?;
        let paid_at = n.paid_at.unwrap_or(now).min(now);
        let in_time = order.value.status.is_unpaid() && paid_at < order.value.pay_by;
        let mut settled = payment.value.clone();
        settled.trade_no = Some(n.trade_no.clone());
        settled.settled_at = Some(now);
        let received = ledger::payment_received(&payment.value, now);
        let mut writes = dedupe_records(n, now);
        writes.extend(journal_writes(&received));
        if in_time {
            settled.status = PaymentStatus::Succeeded;
            let mut next = order.value.clone();
            next.status = OrderStatus::Paid;
            next.paid_at = Some(now);
            next.updated_at = now;
            next.payment = Some(PaymentRef {
                payment_id: payment.value.id.clone(),
                status: PaymentStatus::Succeeded,
                failure: None,
            });
            writes.push(put(payment_item(&settled), Some(&payment)));
            // The first delivery batch in the payment's own transaction, when it was read
            // with the order and fits (issue 15: one transaction, not two).
            let named = batch_items.as_mut().and_then(|items| {
                Some((first_batch_named(&next, &payment.value.delivers)?, items))
            });
            if let Some((batch, items)) = named {
                let settled_read = Versioned {
                    version: payment.version + 1,
                    value: settled.clone(),
                };
                let planned =
                    plan_batch(app, &next, &batch, items, Some(settled_read), now).await?;
                let mut all = writes.clone();
                all.extend(order_store::update(&planned.next, &order));
                all.extend(planned.writes);
                // Measured as it will be sent: same-kind outbox messages merged.
                crate::outbox::coalesce(&mut all);
                if all.len() <= MAX_TRANSACTION_WRITES {
                    written(app.transact(all).await)?;
                    let delivered = Versioned {
                        version: order.version + 1,
                        value: planned.next,
                    };
                    return Ok((
                        Applied::Paid,
                        Paid::Delivered(Box::new(delivered), planned.refunds),
                    ));
                }
            }
            writes.extend(order_store::update(&next, &order));
            written(app.transact(writes).await)?;
            // Delivery goes on from the order as just written (its version is the next).
            let written_order = Versioned {
                version: order.version + 1,
                value: next,
            };
            Ok((
                Applied::Paid,
                Paid::Deliver(Some(order.value.id.clone()), Some(Box::new(written_order))),
            ))
        } else {
            settled.status = PaymentStatus::Refunded;
            let journal = ledger::refund(&payment.value, "all", payment.value.amount, now);
            let reason =
                "payment arrived after the order's window or for an order no longer payable";
            let (refund, refund_write) =
                refund_for(&journal, &payment.value, reason, now, app.ulid());
            writes.push(put(payment_item(&settled), Some(&payment)));
            writes.extend(journal_writes(&journal));
            writes.push(refund_write);
            // The order's current attempt has its result now: nothing is pending (O6), so
            // the order shows and sweeps as what it is, with no provider to ask.
            let current = order.value.payment.as_ref();
            if current.is_some_and(|p| {
                p.payment_id == payment.value.id && p.status == PaymentStatus::Pending
            }) {
                let mut next = order.value.clone();
                next.payment = Some(PaymentRef {
                    payment_id: payment.value.id.clone(),
                    status: PaymentStatus::Refunded,
                    failure: None,
                });
                next.updated_at = now;
                writes.extend(order_store::update(&next, &order));
            }
            written(app.transact(writes).await)?;
            tracing::info!(payment = %payment.value.id, "late or unwanted payment refunded");
            Ok((Applied::Refunded, Paid::Refund(refund)))
        }
    })
    .await?;
    match paid {
        Paid::Refund(refund) => send_refund_now(app, &refund.journal_id).await,
        Paid::Deliver(Some(order_id), known) => {
            deliver_from(app, &order_id, known.map(|order| *order)).await?
        }
        Paid::Delivered(order, refunds) => {
            for refund in refunds {
                send_refund_now(app, &refund.journal_id).await;
            }
            if order.value.status != OrderStatus::Completed {
                let id = order.value.id.clone();
                deliver_from(app, &id, Some(*order)).await?;
            }
        }
        Paid::Deliver(None, _) | Paid::Nothing => {}
    }
    Ok(outcome)
}

/// What a paid order's notification leaves to do after its transaction.
enum Paid {
    /// Deliver the order (from the order as written, when this try wrote it).
    Deliver(
        Option<market_core::ids::OrderId>,
        Option<Box<Versioned<Order>>>,
    ),
    /// Paid with its first delivery batch: the order as written, the refunds to send; the
    /// rest of the order is delivered next.
    Delivered(Box<Versioned<Order>>, Vec<market_core::model::Refund>),
    /// Send the refund of a late or unwanted payment.
    Refund(market_core::model::Refund),
    Nothing,
}
