//! Delivery of a paid order, domain by domain (O9): ownership, the listing sold, the sale
//! journal and its settlement; a domain that cannot be delivered is refunded alone.
use chrono::{DateTime, Utc};

use crate::repo::{
    self, create, journal_writes, listing_item, load, order_item, put, settlement_item, Versioned,
};
use crate::retry::{retrying, written};
use crate::store::Item;
use crate::{App, AppError, AppResult};
use market_core::delivery::{check_deliverable, Undeliverable};
use market_core::ids::{AccountId, OrderId};
use market_core::ledger::{self};
use market_core::model::{
    Domain, ItemStatus, Listing, ListingStatus, Order, OrderStatus, Payment, PendingSettlement,
};
use market_core::order::all_items_settled;

use super::*;

/// Why a paid domain cannot be delivered, if it cannot (O9): its listing must still be held
/// for this order, and the domain pass `check_deliverable` under that listing.
pub(super) fn undeliverable(
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
/// domain, journal guard, 4 postings, settlement), plus the order and the one outbox
/// message its lock and registrant changes merge into (O9): 90 of DynamoDB's 100. A
/// 500-domain order is delivered in 46 transactions, not 500 rewrites of its order item.
pub(super) const DELIVERY_BATCH: usize = 11;

/// Delivers every pending domain of a paid order, a batch of domains per conditional
/// transaction: ownership to the buyer with the expiry kept (A3), listing sold, the sale
/// journal (L8) and its pending settlement (S4); or, for a domain that cannot be delivered,
/// its refund (O9, S1) alone. Then completes the order.
pub async fn deliver(app: &App, order_id: &OrderId) -> AppResult<()> {
    deliver_from(app, order_id, None).await
}

/// [`deliver`] from the order as its caller just wrote it (`known`: its first batch reads
/// no order; issue 15), else as read.
pub(crate) async fn deliver_from(
    app: &App,
    order_id: &OrderId,
    known: Option<Versioned<Order>>,
) -> AppResult<()> {
    let known = std::sync::Mutex::new(known);
    loop {
        let (done, refunds) = retrying(|| async {
            let now = app.now();
            let given = known.lock().expect("known order").take();
            let order = match given {
                Some(order) => order,
                None => match load::<Order>(&*app.store, repo::order_key(order_id)).await? {
                    Some(order) => order,
                    None => return Ok((true, vec![])),
                },
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
                            writes.extend(crate::outbox::domain_writes(
                                app,
                                &moved,
                                Some(&domain),
                            ));
                            // O9: the registrant change with the buyer's chosen contact.
                            writes.push(crate::outbox::registrant_changed(
                                app,
                                &moved,
                                &domain.value.owner,
                                order.value.contact.as_ref(),
                                false,
                            ));
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
                // N1: the buyer and each seller are told what was delivered and what not.
                writes.extend(crate::notifications::order_outcome(app, &next));
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
