//! An operator's refund of a completed domain, clawed back from the seller (S4, M3).

use crate::refunds::{refund_for, send_refund_now};
use crate::repo::{self, load, put, settlement_item, Versioned};
use crate::retry::{retrying, written};
use crate::{App, AppError, AppResult};
use market_core::ids::OrderId;
use market_core::ledger::{self, Journal};
use market_core::model::{ItemStatus, Order, Payment, PendingSettlement};

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
    let (order, refund) = retrying(app, || async {
        let now = app.now();
        let order: Versioned<Order> = crate::order_store::load(&*app.store, order_id)
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
        let mut writes = crate::order_store::update(&next, &order);
        if !pending.value.settled {
            let mut cancelled = pending.value.clone();
            cancelled.settled = true;
            cancelled.cancelled = true;
            writes.push(put(settlement_item(&cancelled), Some(&pending)));
        }
        writes.extend(crate::balances::posted(app, &journal).await?);
        writes.push(refund_write);
        written(app.transact(writes).await)?;
        Ok((next, record))
    })
    .await?;
    send_refund_now(app, &refund.journal_id).await;
    Ok(order)
}
