//! The payment path: provider notification → queue → verification → one conditional
//! transaction per state change → delivery per domain (O9) with ledger journals (S1).
//! Every step can run again (a redelivered message, a sweep resuming after a crash) and
//! changes nothing twice: each write is conditioned on the version it read, and each
//! journal on its id being new.
use chrono::{Duration, Utc};
use serde::Serialize;

use super::accounts::{retrying, written};
use super::repo::{
    self, create, domain_item, journal_writes, listing_item, load, order_item, payment_item, put,
    Versioned,
};
use super::{App, AppError, AppResult};
use crate::adapters::payment::{Notification, TradeStatus};
use crate::adapters::queue::Topic;
use crate::core::ids::OrderId;
use crate::core::ledger;
use crate::core::model::{
    Domain, ItemStatus, Listing, ListingStatus, Order, OrderStatus, Payment, PaymentStatus,
};
use crate::core::order::all_items_settled;
use crate::store::Item;

/// `POST /payments/alipay/notify`: queue the raw body; the provider gets `success` only
/// once it is queued.
pub async fn receive(app: &App, body: String) -> AppResult<()> {
    app.queue
        .send(Topic::PaymentNotifications, body, Duration::zero())
        .await
        .map_err(AppError::Internal)
}

/// What applying a notification did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome", content = "detail")]
pub enum Applied {
    /// The order was paid (or its delivery resumed) and delivered.
    Paid,
    /// The money could not buy anything (late, cancelled, already paid): refunded.
    Refunded,
    /// The attempt failed; the buyer may pay again inside the window (O5).
    AttemptFailed,
    /// Nothing new: a duplicate or a status with nothing to apply.
    NoChange,
    /// Not accepted (kept for audit with the reason).
    Rejected(String),
}

/// Keeps a refused notification for audit, with why it was refused.
async fn audit(app: &App, body: &str, reason: &str) -> AppResult<()> {
    let now = app.now();
    let mut item = Item::new(
        format!("AUDIT#{}", now.format("%Y-%m-%d")),
        format!("{}#{}", repo::time_key(now), app.ulid()),
        serde_json::json!({ "reason": reason, "body": body, "at": now }).to_string(),
    );
    item.ttl = Some((now + Duration::days(400)).timestamp());
    app.store.transact(vec![create(item)]).await?;
    tracing::warn!(reason, "payment notification rejected");
    Ok(())
}

/// Checks a notification against our identity and the payment it names.
fn mismatch(app: &App, n: &Notification, payment: &Payment) -> Option<String> {
    if n.app_id != app.provider.app_id() {
        return Some(format!("app_id {} is not ours", n.app_id));
    }
    if !n.seller_id.is_empty() && n.seller_id != app.provider.seller_id() {
        return Some(format!("seller_id {} is not ours", n.seller_id));
    }
    if n.total_amount != payment.amount {
        return Some(format!(
            "total_amount {} differs from {}",
            n.total_amount, payment.amount
        ));
    }
    None
}

/// Applies one queued notification body. Errors mean "try again later" (the queue
/// redelivers); a notification that can never apply is audited and answered `Rejected`.
pub async fn apply(app: &App, body: &str) -> AppResult<Applied> {
    let n = match app.provider.verify(body) {
        Ok(n) => n,
        Err(e) => {
            audit(app, body, &e.to_string()).await?;
            return Ok(Applied::Rejected(e.to_string()));
        }
    };
    let Some(payment) = load::<Payment>(&*app.store, repo::payment_key(&n.out_trade_no)).await?
    else {
        let reason = format!("unknown out_trade_no {}", n.out_trade_no);
        audit(app, body, &reason).await?;
        return Ok(Applied::Rejected(reason));
    };
    if let Some(reason) = mismatch(app, &n, &payment.value) {
        audit(app, body, &reason).await?;
        return Ok(Applied::Rejected(reason));
    }
    match n.trade_status {
        TradeStatus::Waiting => Ok(Applied::NoChange),
        TradeStatus::Closed => attempt_failed(app, &n).await,
        TradeStatus::Paid => paid(app, &n).await,
    }
}

/// `TRADE_CLOSED`: the attempt failed; the order waits for a new attempt (O5).
async fn attempt_failed(app: &App, n: &Notification) -> AppResult<Applied> {
    retrying(|| async {
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
        if let Some(order) =
            load::<Order>(&*app.store, repo::order_key(&payment.value.order_id)).await?
        {
            let current = order
                .value
                .payment
                .as_ref()
                .is_some_and(|p| p.payment_id == payment.value.id);
            if current && order.value.status == OrderStatus::Processing {
                let mut next = order.value.clone();
                next.status = OrderStatus::AwaitingPayment;
                if let Some(p) = next.payment.as_mut() {
                    p.status = PaymentStatus::Failed;
                }
                next.updated_at = now;
                writes.push(put(order_item(&next), Some(&order)));
            }
        }
        written(app.store.transact(writes).await)?;
        Ok(Applied::AttemptFailed)
    })
    .await
}

/// `TRADE_SUCCESS`/`TRADE_FINISHED`: money arrived. In time for an unpaid order → the order
/// is paid and delivered; otherwise (late, cancelled, expired, already paid) → refunded
/// (E1, S1). A repeat of an applied success only resumes delivery.
async fn paid(app: &App, n: &Notification) -> AppResult<Applied> {
    let outcome = retrying(|| async {
        let now = app.now();
        let payment: Versioned<Payment> = load(&*app.store, repo::payment_key(&n.out_trade_no))
            .await?
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("payment vanished")))?;
        match payment.value.status {
            PaymentStatus::Succeeded => {
                return Ok((Applied::Paid, Some(payment.value.order_id.clone())))
            }
            PaymentStatus::Refunded => return Ok((Applied::NoChange, None)),
            PaymentStatus::Pending | PaymentStatus::Failed => {}
        }
        let order: Versioned<Order> = load(&*app.store, repo::order_key(&payment.value.order_id))
            .await?
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("payment for a missing order")))?;
        let paid_at = n.paid_at.unwrap_or(now).min(now);
        let in_time = order.value.status.is_unpaid() && paid_at < order.value.pay_by;
        let mut settled = payment.value.clone();
        settled.trade_no = Some(n.trade_no.clone());
        settled.settled_at = Some(now);
        let received = ledger::payment_received(&payment.value, now);
        if in_time {
            settled.status = PaymentStatus::Succeeded;
            let mut next = order.value.clone();
            next.status = OrderStatus::Paid;
            next.paid_at = Some(now);
            next.updated_at = now;
            next.payment = Some(crate::core::model::PaymentRef {
                payment_id: payment.value.id.clone(),
                status: PaymentStatus::Succeeded,
            });
            let mut writes = vec![
                put(payment_item(&settled), Some(&payment)),
                put(order_item(&next), Some(&order)),
            ];
            writes.extend(journal_writes(&received));
            written(app.store.transact(writes).await)?;
            Ok((Applied::Paid, Some(order.value.id.clone())))
        } else {
            settled.status = PaymentStatus::Refunded;
            let refund = ledger::refund(&payment.value, "all", payment.value.amount, now);
            let mut writes = vec![put(payment_item(&settled), Some(&payment))];
            writes.extend(journal_writes(&received));
            writes.extend(journal_writes(&refund));
            written(app.store.transact(writes).await)?;
            tracing::info!(payment = %payment.value.id, "late or unwanted payment refunded");
            Ok((Applied::Refunded, None))
        }
    })
    .await?;
    if let (Applied::Paid, Some(order_id)) = &outcome {
        deliver(app, order_id).await?;
    }
    Ok(outcome.0)
}

/// Why a paid domain cannot be delivered, if it cannot (O9).
fn undeliverable(
    order: &Order,
    listing: Option<&Listing>,
    domain: Option<&Domain>,
    seller: &crate::core::ids::AccountId,
    now: chrono::DateTime<Utc>,
) -> Option<&'static str> {
    let (Some(listing), Some(domain)) = (listing, domain) else {
        return Some("the listing or domain no longer exists");
    };
    if listing.status != ListingStatus::Active
        || listing.hold.as_ref().is_none_or(|h| h.order_id != order.id)
    {
        return Some("the listing is no longer held for this order");
    }
    if &domain.owner != seller
        || domain
            .trade
            .as_ref()
            .is_none_or(|t| t.id != listing.id.as_str())
    {
        return Some("the domain left the seller's account or the trade");
    }
    if domain.expires_at <= now {
        return Some("the domain expired");
    }
    let f = domain.flags;
    if f.transfer_prohibited || f.restricted || f.blacklisted || f.pending_operation {
        return Some("the domain can no longer change account");
    }
    None
}

/// Delivers every pending domain of a paid order, one conditional transaction per domain:
/// ownership to the buyer with the expiry kept (A3), listing sold, the sale journal (L8);
/// or, for a domain that cannot be delivered, its refund (O9, S1). Then completes the order.
pub async fn deliver(app: &App, order_id: &OrderId) -> AppResult<()> {
    loop {
        let done = retrying(|| async {
            let now = app.now();
            let Some(order) = load::<Order>(&*app.store, repo::order_key(order_id)).await? else {
                return Ok(true);
            };
            if order.value.status != OrderStatus::Paid {
                return Ok(true);
            }
            let mut next = order.value.clone();
            next.updated_at = now;
            let Some(index) = next.items.iter().position(|i| i.status == ItemStatus::Pending) else {
                next.status = OrderStatus::Completed;
                next.completed_at = Some(now);
                written(app.store.transact(vec![put(order_item(&next), Some(&order))]).await)?;
                return Ok(true);
            };
            let item = next.items[index].clone();
            let listing = load::<Listing>(&*app.store, repo::listing_key(&item.listing_id)).await?;
            let domain = load::<Domain>(&*app.store, repo::domain_key(&item.domain)).await?;
            let why_not = undeliverable(&order.value, listing.as_ref().map(|l| &l.value), domain.as_ref().map(|d| &d.value), &item.seller, now);
            let mut writes = Vec::new();
            match (why_not, listing, domain) {
                (None, Some(listing), Some(domain)) => {
                    next.items[index].status = ItemStatus::Completed;
                    let mut sold = listing.value.clone();
                    sold.status = ListingStatus::Sold;
                    sold.sold_to = Some(order.value.buyer.clone());
                    sold.hold = None;
                    sold.updated_at = now;
                    let mut moved = domain.value.clone();
                    moved.owner = order.value.buyer.clone(); // A3: the expiry time is kept
                    moved.trade = None;
                    let journal = ledger::sale(&order.value, &item, now, now + app.policy.settlement_period);
                    writes.push(put(listing_item(&sold), Some(&listing)));
                    writes.push(put(domain_item(&moved), Some(&domain)));
                    writes.extend(journal_writes(&journal));
                }
                (why_not, listing, _) => {
                    next.items[index].status = ItemStatus::Failed;
                    next.items[index].failure = Some(why_not.unwrap_or("undeliverable").to_owned());
                    next.items[index].refund = Some(item.price);
                    let payment_id = order.value.payment.as_ref().map(|p| p.payment_id.clone());
                    let payment = match payment_id {
                        Some(id) => load::<Payment>(&*app.store, repo::payment_key(id.as_str())).await?,
                        None => None,
                    }
                    .ok_or_else(|| AppError::Internal(anyhow::anyhow!("paid order {order_id} without its payment")))?;
                    writes.extend(journal_writes(&ledger::refund(&payment.value, item.domain.ascii(), item.price, now)));
                    if let Some(listing) = listing.filter(|l| l.value.hold.as_ref().is_some_and(|h| h.order_id == order.value.id)) {
                        let mut freed = listing.value.clone();
                        freed.hold = None;
                        writes.push(put(listing_item(&freed), Some(&listing)));
                    }
                    tracing::info!(order = %order_id, domain = %item.domain, "domain undeliverable; refunded");
                }
            }
            if all_items_settled(&next) {
                next.status = OrderStatus::Completed;
                next.completed_at = Some(now);
            }
            writes.insert(0, put(order_item(&next), Some(&order)));
            written(app.store.transact(writes).await)?;
            Ok(next.status == OrderStatus::Completed)
        })
        .await?;
        if done {
            return Ok(());
        }
    }
}
