//! The payment path: provider notification → queue → verification → one conditional
//! transaction per state change (with the notification's dedupe records) → delivery per
//! domain (O9) with ledger journals (S1) → refunds through the provider until confirmed,
//! and settlement of proceeds (S4).
//!
//! Every step can run again (a redelivered message, a sweep resuming after a crash) and
//! changes nothing twice: each write is conditioned on the version it read, and each
//! journal, dedupe record, refund and settlement on its key being new.
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::notifications::audit;
use super::repo::{
    self, create, domain_item, journal_writes, listing_item, load, order_item, payment_item, put,
    refund_item, settlement_item, Versioned,
};
use super::retry::{retrying, written};
use super::{App, AppError, AppResult};
use crate::ports::payment::{
    Merchant, Notification, RefundRequest, TradeQuery, TradeStatus, VerifyError,
};
use crate::store::{Item, Write};
use market_core::delivery::{check_deliverable, Undeliverable};
use market_core::ids::{AccountId, OrderId};
use market_core::ledger::{self, Journal};
use market_core::model::{
    Domain, ItemStatus, Listing, ListingStatus, Order, OrderStatus, Payment, PaymentRef,
    PaymentStatus, PendingSettlement, Purchase, Refund, RefundStatus,
};
use market_core::order::all_items_settled;

/// A new payment attempt (O5: each attempt has its own `out_trade_no`, its id).
pub(crate) fn new_attempt(
    app: &App,
    purchase: Purchase,
    buyer: &AccountId,
    amount: market_core::money::Money,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Payment {
    Payment {
        id: market_core::ids::PaymentId::mint(app.ulid()),
        purchase,
        buyer: buyer.clone(),
        amount,
        status: PaymentStatus::Pending,
        created_at: now,
        expires_at,
        trade_no: None,
        settled_at: None,
    }
}

/// A payment attempt with the provider's page to pay it on.
pub(crate) async fn attempt_view(
    app: &App,
    payment: &Payment,
    subject: &str,
    now: DateTime<Utc>,
) -> AppResult<super::views::PaymentView> {
    let url = app
        .provider
        .pay_url(&crate::ports::payment::PayRequest {
            out_trade_no: payment.id.as_str(),
            amount: payment.amount,
            subject,
            expires_at: payment.expires_at,
            now,
        })
        .await?;
    Ok(super::views::PaymentView::new(payment, url))
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

/// Checks a notification against our identity and the payment it names.
fn mismatch(us: &Merchant, n: &Notification, payment: &Payment) -> Option<String> {
    if n.app_id != us.app_id {
        return Some(format!("app_id {} is not ours", n.app_id));
    }
    if !n.seller_id.is_empty() && n.seller_id != us.seller_id {
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
    match app.provider.verify(body).await {
        Ok(n) => apply_verified(app, &n, body).await,
        // No keys to check it with (yet): the queue brings it back later; refusing it would
        // drop a payment that may be genuine (S1).
        Err(VerifyError::Unavailable(why)) => Err(AppError::Internal(anyhow::anyhow!(
            "cannot verify a notification now: {why}"
        ))),
        Err(e) => {
            audit(app, body, &e.to_string()).await?;
            Ok(Applied::Rejected(e.to_string()))
        }
    }
}

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
        TradeStatus::Paid => match &payment.value.purchase {
            Purchase::Order(_) => paid_order(app, n).await,
            Purchase::Push(push_id) => super::pushes::paid(app, n, push_id).await,
        },
    }
}

/// The dedupe records written with the state change a notification causes: by the
/// provider's `notify_id`, and by (`out_trade_no`, outcome), so that a redelivery, or a
/// `TRADE_FINISHED` after a `TRADE_SUCCESS`, finds its change already made.
pub(crate) fn dedupe_records(n: &Notification, now: DateTime<Utc>) -> Vec<Write> {
    let class = match n.trade_status {
        TradeStatus::Paid => "paid",
        TradeStatus::Closed => "closed",
        TradeStatus::Waiting => "waiting",
    };
    let record =
        serde_json::json!({ "out_trade_no": n.out_trade_no, "status": n.raw_status, "at": now })
            .to_string();
    repo::notification_dedupe_keys(&n.notify_id, &n.out_trade_no, class)
        .into_iter()
        .map(|(pk, sk)| create(Item::new(pk, sk, record.clone())))
        .collect()
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
        writes.extend(dedupe_records(n, now));
        if let Purchase::Push(push_id) = &payment.value.purchase {
            writes.extend(
                super::pushes::attempt_failed_writes(app, push_id, &payment.value, now).await?,
            );
        }
        let order = match payment.value.order_id() {
            Some(order_id) => load::<Order>(&*app.store, repo::order_key(order_id)).await?,
            None => None,
        };
        if let Some(order) = order {
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
        written(app.transact(writes).await)?;
        Ok(Applied::AttemptFailed)
    })
    .await
}

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

/// `TRADE_SUCCESS`/`TRADE_FINISHED` for an order. In time for an unpaid order → the order is paid and delivered;
/// otherwise (late, cancelled, expired, already paid) → refunded (E1, S1). A repeat of an
/// applied success only resumes delivery.
async fn paid_order(app: &App, n: &Notification) -> AppResult<Applied> {
    let (outcome, order_id, refund) = retrying(|| async {
        let now = app.now();
        let payment: Versioned<Payment> = load(&*app.store, repo::payment_key(&n.out_trade_no))
            .await?
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("payment vanished")))?;
        match payment.value.status {
            PaymentStatus::Succeeded => {
                return Ok((Applied::NoChange, payment.value.order_id().cloned(), None))
            }
            PaymentStatus::Refunded => return Ok((Applied::NoChange, None, None)),
            PaymentStatus::Pending | PaymentStatus::Failed => {}
        }
        let order_id = payment
            .value
            .order_id()
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("not an order's payment")))?;
        let order: Versioned<Order> = load(&*app.store, repo::order_key(order_id))
            .await?
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
            });
            writes.push(put(payment_item(&settled), Some(&payment)));
            writes.push(put(order_item(&next), Some(&order)));
            written(app.transact(writes).await)?;
            Ok((Applied::Paid, Some(order.value.id.clone()), None))
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
                });
                next.updated_at = now;
                writes.push(put(order_item(&next), Some(&order)));
            }
            written(app.transact(writes).await)?;
            tracing::info!(payment = %payment.value.id, "late or unwanted payment refunded");
            Ok((Applied::Refunded, None, Some(refund)))
        }
    })
    .await?;
    if let Some(refund) = refund {
        send_refund_now(app, &refund.journal_id).await;
    }
    if let Some(order_id) = order_id {
        deliver(app, &order_id).await?;
    }
    Ok(outcome)
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

/// S4: settles a sale's proceeds once its settlement period has ended (frozen → available).
/// Returns whether this call settled it.
pub async fn settle(app: &App, sale_journal_id: &str) -> AppResult<bool> {
    retrying(|| async {
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
        writes.extend(journal_writes(&ledger::settlement(
            &sale.value,
            &pending.value.seller,
            now,
        )));
        written(app.transact(writes).await)?;
        Ok(true)
    })
    .await
}

/// Why a paid domain cannot be delivered, if it cannot (O9): its listing must still be held
/// for this order, and the domain pass `check_deliverable` under that listing.
fn undeliverable(
    order: &Order,
    listing: Option<&Listing>,
    domain: Option<&Domain>,
    seller: &AccountId,
    now: DateTime<Utc>,
) -> Option<&'static str> {
    let Some(listing) = listing else {
        return Some("the listing or domain no longer exists");
    };
    if listing.status != ListingStatus::Active
        || listing.hold.as_ref().is_none_or(|h| h.order_id != order.id)
    {
        return Some("the listing is no longer held for this order");
    }
    check_deliverable(domain, seller, listing.id.as_str(), now)
        .err()
        .map(Undeliverable::reason)
}

/// How many domains one delivery transaction takes: each is at most 8 actions (listing,
/// domain, journal guard, 4 postings, settlement), plus the order: 89 of DynamoDB's 100. A
/// 500-domain order is delivered in 46 transactions, not 500 rewrites of its order item.
const DELIVERY_BATCH: usize = 11;

/// Delivers every pending domain of a paid order, a batch of domains per conditional
/// transaction: ownership to the buyer with the expiry kept (A3), listing sold, the sale
/// journal (L8) and its pending settlement (S4); or, for a domain that cannot be delivered,
/// its refund (O9, S1) alone. Then completes the order.
pub async fn deliver(app: &App, order_id: &OrderId) -> AppResult<()> {
    loop {
        let (done, refunds) = retrying(|| async {
            let now = app.now();
            let Some(order) = load::<Order>(&*app.store, repo::order_key(order_id)).await? else {
                return Ok((true, vec![]));
            };
            if order.value.status != OrderStatus::Paid {
                return Ok((true, vec![]));
            }
            let mut next = order.value.clone();
            next.updated_at = now;
            let batch: Vec<usize> = next
                .items
                .iter()
                .enumerate()
                .filter(|(_, i)| i.status == ItemStatus::Pending)
                .map(|(n, _)| n)
                .take(DELIVERY_BATCH)
                .collect();
            let mut writes = Vec::new();
            let mut refunds = Vec::new();
            if !batch.is_empty() {
                let keys: Vec<(String, String)> = batch
                    .iter()
                    .flat_map(|&n| [repo::listing_key(&next.items[n].listing_id), repo::domain_key(&next.items[n].domain)])
                    .collect();
                let mut found: std::collections::HashMap<String, Item> =
                    app.store.get_many(&keys).await?.into_iter().map(|i| (i.pk.clone(), i)).collect();
                let mut payment: Option<Versioned<Payment>> = None;
                for &n in &batch {
                    let item = next.items[n].clone();
                    let listing: Option<Versioned<Listing>> =
                        found.remove(&repo::listing_key(&item.listing_id).0).map(|i| repo::decode(&i)).transpose()?;
                    let domain: Option<Versioned<Domain>> =
                        found.remove(&repo::domain_key(&item.domain).0).map(|i| repo::decode(&i)).transpose()?;
                    let why_not = undeliverable(
                        &order.value,
                        listing.as_ref().map(|l| &l.value),
                        domain.as_ref().map(|d| &d.value),
                        &item.seller,
                        now,
                    );
                    match (why_not, listing, domain) {
                        (None, Some(listing), Some(domain)) => {
                            next.items[n].status = ItemStatus::Completed;
                            let mut sold = listing.value.clone();
                            sold.status = ListingStatus::Sold;
                            sold.sold_to = Some(order.value.buyer.clone());
                            sold.hold = None;
                            sold.updated_at = now;
                            let mut moved = domain.value.clone();
                            moved.owner = order.value.buyer.clone(); // A3: the expiry time is kept
                            moved.trade = None;
                            let settles_at = now + app.policy.settlement_period;
                            let journal = ledger::sale(&order.value, &item, now, settles_at);
                            let pending = PendingSettlement {
                                sale_journal_id: journal.id.clone(),
                                seller: item.seller.clone(),
                                due_at: settles_at,
                                settled: false,
                                cancelled: false,
                            };
                            writes.push(put(listing_item(&sold), Some(&listing)));
                            writes.push(put(domain_item(&moved), Some(&domain)));
                            writes.extend(journal_writes(&journal));
                            writes.push(create(settlement_item(&pending)));
                        }
                        (why_not, listing, _) => {
                            let why_not = why_not.unwrap_or("undeliverable");
                            next.items[n].status = ItemStatus::Failed;
                            next.items[n].failure = Some(why_not.to_owned());
                            next.items[n].refund = Some(item.price);
                            if payment.is_none() {
                                let id = order.value.payment.as_ref().map(|p| p.payment_id.clone());
                                payment = match id {
                                    Some(id) => load::<Payment>(&*app.store, repo::payment_key(id.as_str())).await?,
                                    None => None,
                                };
                            }
                            let payment = payment.as_ref().ok_or_else(|| {
                                AppError::Internal(anyhow::anyhow!("paid order {order_id} without its payment"))
                            })?;
                            let journal = ledger::refund(&payment.value, item.domain.ascii(), item.price, now);
                            let (record, refund_write) = refund_for(&journal, &payment.value, why_not, now, app.ulid());
                            writes.extend(journal_writes(&journal));
                            writes.push(refund_write);
                            refunds.push(record);
                            let ours = |l: &Versioned<Listing>| {
                                l.value.hold.as_ref().is_some_and(|h| h.order_id == order.value.id)
                            };
                            if let Some(listing) = listing.filter(ours) {
                                let mut freed = listing.value.clone();
                                freed.hold = None;
                                writes.push(put(listing_item(&freed), Some(&listing)));
                            }
                            tracing::info!(order = %order_id, domain = %item.domain, "domain undeliverable; refunded");
                        }
                    }
                }
            }
            if all_items_settled(&next) {
                next.status = OrderStatus::Completed;
                next.completed_at = Some(now);
            }
            writes.insert(0, put(order_item(&next), Some(&order)));
            written(app.transact(writes).await)?;
            Ok((next.status == OrderStatus::Completed, refunds))
        })
        .await?;
        for refund in refunds {
            send_refund_now(app, &refund.journal_id).await;
        }
        if done {
            return Ok(());
        }
    }
}

/// O6: asks the provider about a payment attempt (`trade.query`) and applies its answer. An
/// error means the provider did not answer: the attempt's result is still unknown, and the
/// caller must not act as if it had failed.
pub async fn query_and_apply(app: &App, payment_id: &str) -> AppResult<Applied> {
    let Some(payment) = load::<Payment>(&*app.store, repo::payment_key(payment_id)).await? else {
        return Ok(Applied::NoChange);
    };
    let answer = app
        .provider
        .query(payment_id, app.now())
        .await
        .map_err(|e| {
            AppError::Internal(e.context(format!("trade.query of payment {payment_id}")))
        })?;
    apply_query(app, &payment.value, answer).await
}

/// O6: what the provider says of a payment, applied through the same path as its
/// notifications (the dedupe records make the two meet once).
pub async fn apply_query(app: &App, payment: &Payment, query: TradeQuery) -> AppResult<Applied> {
    let (Some(status), Some(total_amount)) = (query.status, query.total_amount) else {
        return Ok(Applied::NoChange);
    };
    let us = app.provider.merchant().await?;
    let n = Notification {
        notify_id: format!("query:{}:{}", payment.id, query.raw_status),
        out_trade_no: payment.id.to_string(),
        trade_no: query.trade_no,
        trade_status: status,
        raw_status: query.raw_status,
        total_amount,
        app_id: us.app_id,
        seller_id: us.seller_id,
        paid_at: query.paid_at,
    };
    apply_verified(app, &n, "trade.query").await
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
