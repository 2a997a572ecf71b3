//! Freeing an order's holds (O3 expiry, cancel, O9 refund, a cart refused after its holds):
//! the hold on each domain's trade hold that is still this order's, and, for a listing from
//! before issue 15, the hold on the listing itself. A listing whose end time passed while
//! the order held it ends as it is freed (L3, L2.9): its due time in the sweep has passed,
//! so nothing else would end it.
use chrono::{DateTime, Utc};

use super::repo::{self, listing_item, put, Versioned};
use super::{App, AppResult};
use crate::store::{Write, MAX_TRANSACTION_WRITES};
use market_core::ids::{ListingId, OrderId};
use market_core::model::{Domain, Listing, ListingStatus, Order};

/// The writes that free one domain of `order`, as read (`listing`: the listing its trade
/// hold names, when the caller read it; needed when that listing has ended or predates
/// issue 15). Empty when nothing there is this order's.
pub(crate) fn release(
    app: &App,
    order: &OrderId,
    domain: Option<&Versioned<Domain>>,
    listing: Option<&Versioned<Listing>>,
    now: DateTime<Utc>,
) -> Vec<Write> {
    let mut writes = Vec::new();
    let mut next_listing = listing.map(|l| l.value.clone());
    if let Some(l) = next_listing.as_mut() {
        if l.hold.as_ref().is_some_and(|h| &h.order_id == order) {
            l.hold = None;
        }
    }
    if let Some(domain) = domain.filter(|d| holds_for(d, order)) {
        let mut freed = domain.value.clone();
        let lapsed = freed
            .trade
            .as_ref()
            .is_some_and(|t| t.until.is_some_and(|until| until <= now));
        let active = next_listing.as_ref().filter(|l| {
            l.status == ListingStatus::Active
                && freed.trade.as_ref().and_then(|t| t.listing()) == Some(&l.id)
        });
        match (lapsed, active.is_some()) {
            (true, true) => {
                // L3: past its end, the listing ends and frees its domain.
                freed.trade = None;
                if let Some(l) = next_listing.as_mut() {
                    let (_, reason) = l.status_at(now);
                    l.status = ListingStatus::Ended;
                    l.end_reason = Some(reason.unwrap_or_else(|| "ends_at_passed".into()));
                    l.updated_at = now;
                }
            }
            _ => {
                if let Some(trade) = freed.trade.as_mut() {
                    trade.order = None;
                }
            }
        }
        writes.extend(crate::outbox::domain_writes(app, &freed, Some(domain)));
    }
    if let (Some(read), Some(next)) = (listing, next_listing) {
        if next != read.value {
            writes.push(put(listing_item(&next), Some(read)));
        }
    }
    writes
}

/// Whether `domain`'s trade hold keeps a hold for `order`.
pub(crate) fn holds_for(domain: &Versioned<Domain>, order: &OrderId) -> bool {
    domain
        .value
        .trade
        .as_ref()
        .and_then(|t| t.order.as_ref())
        .is_some_and(|h| &h.order_id == order)
}

/// The writes that free every domain `order` still holds, a group per domain: its domains
/// in one batched read, then the listings that must change with them (ended while held, or
/// from before issue 15) in another, only when there are any.
pub(crate) async fn release_groups(app: &App, order: &Order) -> AppResult<Vec<Vec<Write>>> {
    let now = app.now();
    let keys: Vec<(String, String)> = order
        .items
        .iter()
        .map(|i| repo::domain_key(&i.domain))
        .collect();
    let mut domains: Vec<Versioned<Domain>> = Vec::new();
    for item in app.store.get_many(&keys).await? {
        domains.push(repo::decode(&item)?);
    }
    // A listing is read when it ends as it is freed, or keeps its order on itself.
    let listing_needed = |d: &Versioned<Domain>| -> Option<ListingId> {
        let trade = d.value.trade.as_ref()?;
        let id = trade.listing()?;
        let lapsed = trade.until.is_some_and(|until| until <= now);
        ((holds_for(d, &order.id) && lapsed) || trade.terms.is_none()).then(|| id.clone())
    };
    let listing_keys: Vec<(String, String)> = domains
        .iter()
        .filter_map(listing_needed)
        .map(|id| repo::listing_key(&id))
        .collect();
    let mut listings: std::collections::HashMap<String, Versioned<Listing>> = Default::default();
    if !listing_keys.is_empty() {
        for item in app.store.get_many(&listing_keys).await? {
            listings.insert(item.pk.clone(), repo::decode(&item)?);
        }
    }
    Ok(domains
        .iter()
        .map(|d| {
            let listing = listing_needed(d).and_then(|id| listings.get(&repo::listing_key(&id).0));
            release(app, &order.id, Some(d), listing, now)
        })
        .filter(|writes| !writes.is_empty())
        .collect())
}

/// Groups of writes packed whole into transactions of at most 100 actions once their
/// outbox messages are merged (`room` in the first, which shares its transaction), so a
/// message never commits apart from the writes it tells of.
pub(crate) fn pack(groups: Vec<Vec<Write>>, room: usize) -> Vec<Vec<Write>> {
    let mut chunks: Vec<Vec<Write>> = Vec::new();
    let mut current: Vec<Write> = Vec::new();
    let mut limit = room;
    for group in groups {
        let mut joined: Vec<Write> = current.iter().chain(&group).cloned().collect();
        crate::outbox::coalesce(&mut joined);
        if !current.is_empty() && joined.len() > limit {
            chunks.push(std::mem::take(&mut current));
            limit = MAX_TRANSACTION_WRITES;
            current = group;
        } else {
            current = joined;
        }
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    chunks
}
