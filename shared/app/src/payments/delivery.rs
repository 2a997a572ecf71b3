//! Delivery of a paid order, domain by domain (O9): ownership, the listing sold, the sale
//! journal and its settlement; a domain that cannot be delivered is refunded alone.
use chrono::{DateTime, Utc};

use crate::repo::{
    self, create, journal_writes, listing_item, load, put, settlement_item, Versioned,
};
use crate::retry::{retrying, written};
use crate::store::{Item, Write};
use crate::{App, AppError, AppResult};
use market_core::delivery::{check_deliverable, Undeliverable};
use market_core::domain_name::DomainName;
use market_core::ids::{AccountId, ListingId, OrderId};
use market_core::ledger::{self};
use market_core::listing::held_for;
use market_core::model::{
    DeliveryKey, Domain, ItemStatus, Listing, ListingStatus, Order, OrderStatus, Payment,
    PendingSettlement,
};
use market_core::order::all_items_settled;
use std::collections::HashMap;

use super::*;

/// Why a paid domain cannot be delivered, if it cannot (O9): its listing must still be held
/// for this order (on its domain, or on a listing held before issue 15), and the domain
/// pass `check_deliverable` under that listing.
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
    if listing.status != ListingStatus::Active || !held_for(listing, domain, &order.id) {
        return Some("the listing is no longer held for this order");
    }
    check_deliverable(domain, seller, listing.id.as_str(), now)
        .err()
        .map(Undeliverable::reason)
}

/// How many domains one delivery transaction takes: each is at most 8 actions (listing,
/// domain, journal guard, 4 postings, settlement), plus the order (with the one or two pages
/// of its lines a batch changes, when they are apart: `order_store`), the one outbox
/// message its lock and registrant changes merge into (O9), and one running-sum add per
/// person account posted to (the buyer's escrow and at most one per seller): 95 of
/// DynamoDB's 100. A 500-domain order is delivered in 50 transactions, each writing a small
/// header and a page or two of its lines, never the whole order.
pub(super) const DELIVERY_BATCH: usize = 10;

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
        let (done, refunds) = retrying(app, || async {
            let now = app.now();
            let given = known.lock().expect("known order").take();
            let order = match given {
                Some(order) => order,
                None => match crate::order_store::load(&*app.store, order_id).await? {
                    Some(order) => order,
                    None => return Ok((true, vec![])),
                },
            };
            if order.value.status != OrderStatus::Paid {
                return Ok((true, vec![]));
            }
            let batch = batch_of(&order.value, DELIVERY_BATCH);
            let keys = batch_keys(&order.value, &batch);
            let mut found = match keys.is_empty() {
                true => HashMap::new(),
                false => by_pk(app.store.get_many(&keys).await?),
            };
            let planned = plan_batch(app, &order.value, &batch, &mut found, None, now).await?;
            let writes = [
                crate::order_store::update(&planned.next, &order),
                planned.writes,
            ]
            .concat();
            written(app.transact(writes).await)?;
            Ok((
                planned.next.status == OrderStatus::Completed,
                planned.refunds,
            ))
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

/// The pending items of `order` its next delivery batch takes, at most `max`.
fn batch_of(order: &Order, max: usize) -> Vec<usize> {
    order
        .items
        .iter()
        .enumerate()
        .filter(|(_, i)| i.status == ItemStatus::Pending)
        .map(|(n, _)| n)
        .take(max)
        .collect()
}

/// The listing and domain keys a batch reads.
fn batch_keys(order: &Order, batch: &[usize]) -> Vec<(String, String)> {
    keys_of(
        batch
            .iter()
            .map(|&n| (&order.items[n].listing_id, &order.items[n].domain)),
    )
}

/// The listing and domain keys of each (listing, domain) pair.
fn keys_of<'a>(
    pairs: impl Iterator<Item = (&'a ListingId, &'a DomainName)>,
) -> Vec<(String, String)> {
    pairs
        .flat_map(|(listing, domain)| [repo::listing_key(listing), repo::domain_key(domain)])
        .collect()
}

/// Items by partition key (listings and domains are alone in theirs).
pub(crate) fn by_pk(items: Vec<Item>) -> HashMap<String, Item> {
    items.into_iter().map(|i| (i.pk.clone(), i)).collect()
}

/// The first delivery batch of an order whose payment starts: what its payment records
/// (`Payment::delivers`), so the notification paying it reads them with the order and
/// delivers them in the payment's own transaction (issue 15). One domain fewer than a
/// delivery batch: that transaction also records the payment (dedupe records, journal).
pub(crate) fn first_delivery(order: &Order) -> Vec<DeliveryKey> {
    batch_of(order, DELIVERY_BATCH - 1)
        .into_iter()
        .map(|n| DeliveryKey {
            listing_id: order.items[n].listing_id.clone(),
            domain: order.items[n].domain.clone(),
        })
        .collect()
}

/// A paid order's first batch as its payment named it (item indexes), if the order's
/// pending items still begin with those domains.
pub(crate) fn first_batch_named(order: &Order, named: &[DeliveryKey]) -> Option<Vec<usize>> {
    let batch = batch_of(order, named.len());
    let same = batch.len() == named.len()
        && batch.iter().zip(named).all(|(&n, key)| {
            order.items[n].listing_id == key.listing_id && order.items[n].domain == key.domain
        });
    same.then_some(batch)
}

/// The keys a payment's first batch reads (before its order is read).
pub(crate) fn named_keys(named: &[DeliveryKey]) -> Vec<(String, String)> {
    keys_of(named.iter().map(|k| (&k.listing_id, &k.domain)))
}

/// One delivery batch, planned: the order after it, every write besides the order's own,
/// and the refunds to send once they are written.
pub(crate) struct Planned {
    pub next: Order,
    pub writes: Vec<Write>,
    pub refunds: Vec<market_core::model::Refund>,
}

/// Plans delivering the items `batch` of the paid `order` from `found` (the batch's
/// listing and domain items by partition key; one missing does not exist): each domain
/// delivered (ownership, listing sold, sale journal, settlement, registrant change) or
/// refunded alone; the order completed once every item is settled (N1: its outcome told).
/// `payment` is the order's payment when the caller has it (a refund needs it).
pub(crate) async fn plan_batch(
    app: &App,
    order: &Order,
    batch: &[usize],
    found: &mut HashMap<String, Item>,
    mut payment: Option<Versioned<Payment>>,
    now: DateTime<Utc>,
) -> AppResult<Planned> {
    let order_id = &order.id;
    let mut next = order.clone();
    next.updated_at = now;
    let mut writes = Vec::new();
    let mut refunds = Vec::new();
    for &n in batch {
        let item = next.items[n].clone();
        let listing: Option<Versioned<Listing>> = found
            .remove(&repo::listing_key(&item.listing_id).0)
            .map(|i| repo::decode(&i))
            .transpose()?;
        let domain: Option<Versioned<Domain>> = found
            .remove(&repo::domain_key(&item.domain).0)
            .map(|i| repo::decode(&i))
            .transpose()?;
        let why_not = undeliverable(
            order,
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
                sold.sold_to = Some(order.buyer.clone());
                sold.hold = None;
                sold.updated_at = now;
                let mut moved = domain.value.clone();
                moved.owner = order.buyer.clone(); // A3: the expiry time is kept
                moved.trade = None;
                let settles_at = now + app.policy.settlement_period;
                let journal = ledger::sale(order, &item, now, settles_at);
                let pending = PendingSettlement {
                    sale_journal_id: journal.id.clone(),
                    seller: item.seller.clone(),
                    due_at: settles_at,
                    settled: false,
                    cancelled: false,
                };
                writes.push(put(listing_item(&sold), Some(&listing)));
                writes.extend(crate::outbox::handover_writes(
                    app,
                    &moved,
                    &domain,
                    order.contact.as_ref(),
                    false,
                ));
                writes.extend(journal_writes(&journal));
                writes.push(create(settlement_item(&pending)));
            }
            (why_not, listing, domain) => {
                let why_not = why_not.unwrap_or("undeliverable");
                next.items[n].status = ItemStatus::Failed;
                next.items[n].failure = Some(why_not.to_owned());
                next.items[n].refund = Some(item.price);
                if payment.is_none() {
                    let id = order.payment.as_ref().map(|p| p.payment_id.clone());
                    payment = match id {
                        Some(id) => {
                            load::<Payment>(&*app.store, repo::payment_key(id.as_str())).await?
                        }
                        None => None,
                    };
                }
                let payment = payment.as_ref().ok_or_else(|| {
                    AppError::Internal(anyhow::anyhow!("paid order {order_id} without its payment"))
                })?;
                let journal = ledger::refund(&payment.value, item.domain.ascii(), item.price, now);
                let (record, refund_write) =
                    refund_for(&journal, &payment.value, why_not, now, app.ulid());
                writes.extend(journal_writes(&journal));
                writes.push(refund_write);
                refunds.push(record);
                // The hold for this order is freed (and a listing whose end passed while
                // it was held ends).
                writes.extend(crate::releases::release(
                    app,
                    &order.id,
                    domain.as_ref(),
                    listing.as_ref(),
                    now,
                ));
                tracing::info!(order = %order_id, domain = %item.domain, "domain undeliverable; refunded");
            }
        }
    }
    if all_items_settled(&next) {
        next.status = OrderStatus::Completed;
        next.completed_at = Some(now);
        // N1: the buyer and each seller are told what was delivered and what not.
        writes.extend(crate::notifications::order_outcome(app, &next));
    }
    Ok(Planned {
        next,
        writes,
        refunds,
    })
}
