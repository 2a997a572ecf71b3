//! Fixed-price listings (L1–L8): publish, change, delist, read, browse.
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::holds::check_free_for_trade;
use super::paging;
use super::repo::{self, create, listing_item, load, put, Versioned};
use super::retry::{retrying, written, Attempt};
use super::views::{ListingView, PageView};
use super::{App, AppResult};
use crate::store::{Index, Query, Write};
use market_core::domain_name::DomainName;
use market_core::error::{Code, Problem};
use market_core::ids::{AccountId, ListingId};
use market_core::listing::{
    check_description, check_editable, check_ends_at, check_price, check_trader, order_hold,
};
use market_core::model::{Account, Domain, FeeKind, Listing, ListingStatus, TradeHold};
use market_core::money::Money;

/// A new listing, parsed.
pub struct NewListing {
    pub domain: DomainName,
    pub price: Money,
    pub ends_at: Option<DateTime<Utc>>,
    pub description: String,
}

/// Changes to a listing, parsed (absent fields stay).
pub struct ListingChange {
    pub price: Option<Money>,
    pub ends_at: Option<DateTime<Utc>>,
    pub description: Option<String>,
}

/// The fixed-price fee rate in force at `now` (L8, S5).
pub async fn fee_rate(app: &App, now: DateTime<Utc>) -> AppResult<Decimal> {
    super::fees::rate_at(app, FeeKind::FixedPrice, now).await
}

/// `POST /listings`: L1 (a price above 0), A1, L2 in order, then the listing and the domain's trade hold are
/// written in one transaction (the domain holds at most one trade, L2.9).
pub async fn publish(app: &App, seller: &AccountId, new: NewListing) -> AppResult<ListingView> {
    check_price(new.price)?;
    check_description(&new.description)?;
    retrying(app, || async {
        let now = app.now();
        let (listing, writes, rate) = publish_writes(app, seller, &new, now).await?;
        written(app.transact(writes).await)?;
        Ok(ListingView::new(&listing, rate, now))
    })
    .await
}

/// The checks of a new listing (A1, L2, M1/M2, its end time) and, when they pass, the
/// listing, the writes that publish it (the listing, the domain's trade hold, the
/// condition on the seller's standing) and the fee rate in force: what `publish` commits,
/// and what a legacy listing's conversion (L11) commits with its own change. Everything
/// it decides on is read in one BatchGetItem (issue 15).
pub(crate) async fn publish_writes(
    app: &App,
    seller: &AccountId,
    new: &NewListing,
    now: DateTime<Utc>,
) -> Result<(Listing, Vec<Write>, Decimal), Attempt> {
    let ends_at = new
        .ends_at
        .unwrap_or(now + app.policy.default_listing_duration);
    check_ends_at(ends_at, now)?;
    let keys = [
        repo::account_key(seller),
        repo::domain_key(&new.domain),
        repo::standing_key(seller),
    ];
    // The operator's settings (categories, fee schedule) from the process's cache.
    let settings_keys = [
        repo::categories_key(),
        crate::fees::schedule_key(FeeKind::FixedPrice),
    ];
    let (found, settings) = futures::join!(
        app.store.get_many(&keys),
        crate::caches::settings(app, &settings_keys)
    );
    let (found, settings) = (found?, settings?);
    let item_of = |n: usize| {
        let (pk, sk) = &keys[n];
        found.iter().find(|i| &i.pk == pk && &i.sk == sk)
    };
    let account: Option<Versioned<Account>> = item_of(0).map(repo::decode).transpose()?;
    check_trader(account.as_ref().map(|a| &a.value))?;
    let domain: Versioned<Domain> = item_of(1).map(repo::decode).transpose()?.ok_or_else(|| {
        Problem::new(
            Code::NotOwner,
            format!("{} is not in your account", new.domain),
        )
    })?;
    check_free_for_trade(
        app,
        &domain.value,
        seller,
        now,
        app.policy.listing_expiry_margin,
    )
    .await?;

    let listing = Listing {
        id: ListingId::mint(app.ulid()),
        domain: new.domain.clone(),
        seller: seller.clone(),
        price: new.price,
        status: ListingStatus::Active,
        end_reason: None,
        buyable_at: now + app.policy.listing_cooldown, // L4
        ends_at,
        description: new.description.clone(),
        created_at: now,
        updated_at: now,
        hold: None,
        sold_to: None,
        domain_expires_at: Some(domain.value.expires_at),
        first_price: Some(new.price),
        takedown: None,
        partner: None,
    };
    let mut held = domain.value.clone();
    held.trade = Some(TradeHold::of_listing(&listing));
    // M1, M2: not exited, the category's deposit held; conditioned on that standing.
    let standing = crate::deposits::may_sell_as_read(
        seller,
        [new.domain.tld()],
        item_of(2),
        settings[0].as_ref(),
    )?;
    let rate = crate::fees::rate_in(app, FeeKind::FixedPrice, settings[1].as_ref(), now)?;
    let mut writes = vec![create(listing_item(&listing)), standing];
    writes.extend(crate::outbox::domain_writes(app, &held, Some(&domain)));
    Ok((listing, writes, rate))
}

/// Reads a listing of `seller` for a change: others may see it but not change it (403).
/// With it its domain, when the listing holds it: the domain keeps the listing's terms and
/// the order awaiting payment for it (L5, issue 15), so a change writes both.
async fn load_own(
    app: &App,
    seller: &AccountId,
    id: &ListingId,
) -> Result<(Versioned<Listing>, Option<Versioned<Domain>>), Attempt> {
    let listing: Versioned<Listing> = load(&*app.store, repo::listing_key(id))
        .await?
        .ok_or_else(|| Problem::not_found("listing"))?;
    // L10: a partner's listing changes only through the partner's signed feed.
    if &listing.value.seller != seller || listing.value.partner.is_some() {
        return Err(Problem::new(Code::Forbidden, "only the seller can change a listing").into());
    }
    let domain = held_domain(app, &listing.value).await?;
    Ok((listing, domain))
}

/// The domain of `listing` as read, if the listing holds it.
async fn held_domain(app: &App, listing: &Listing) -> Result<Option<Versioned<Domain>>, Attempt> {
    let domain = load::<Domain>(&*app.store, repo::domain_key(&listing.domain)).await?;
    Ok(domain.filter(|d| {
        d.value
            .trade
            .as_ref()
            .is_some_and(|t| t.listing() == Some(&listing.id))
    }))
}

/// The domain's trade hold following the listing (its terms and end time, L4, issue 15),
/// or released (`None`), as writes for the listing's transaction.
fn domain_follow(
    app: &App,
    domain: Option<&Versioned<Domain>>,
    listing: Option<&Listing>,
) -> Vec<Write> {
    let Some(domain) = domain else {
        return Vec::new();
    };
    let mut changed = domain.value.clone();
    // An order's hold stays: a paid order may still be delivering after its window (O9).
    let order = changed.trade.take().and_then(|t| t.order);
    changed.trade = listing.map(|l| TradeHold {
        order,
        ..TradeHold::of_listing(l)
    });
    crate::outbox::domain_writes(app, &changed, Some(domain))
}

/// L7 (E1): the active listing holding `domain` keeps the domain's expiry; when the
/// registrar moves it (a renewal, an operator's correction), the listing follows, as a
/// write for the same transaction as the domain's. `None` when no active listing holds the
/// domain or its copy is already right.
pub(crate) async fn follow_domain_expiry(app: &App, domain: &Domain) -> AppResult<Option<Write>> {
    let Some(id) = domain.trade.as_ref().and_then(|t| t.listing().cloned()) else {
        return Ok(None);
    };
    let Some(listing) = load::<Listing>(&*app.store, repo::listing_key(&id)).await? else {
        return Ok(None);
    };
    if listing.value.status != ListingStatus::Active
        || listing.value.domain_expires_at == Some(domain.expires_at)
    {
        return Ok(None);
    }
    let mut next = listing.value.clone();
    next.domain_expires_at = Some(domain.expires_at);
    Ok(Some(put(listing_item(&next), Some(&listing))))
}

/// `PATCH /listings/{id}`: L1 (a new price above 0), L5 (not while an order awaits
/// payment), L4 (cools down again).
pub async fn change(
    app: &App,
    seller: &AccountId,
    id: &ListingId,
    change: ListingChange,
) -> AppResult<ListingView> {
    if let Some(price) = change.price {
        check_price(price)?;
    }
    if let Some(description) = &change.description {
        check_description(description)?;
    }
    retrying(app, || async {
        let now = app.now();
        let (listing, domain) = load_own(app, seller, id).await?;
        check_editable(&listing.value, domain.as_ref().map(|d| &d.value), now)?;
        let mut next = listing.value.clone();
        if let Some(price) = change.price {
            next.price = price;
        }
        if let Some(ends_at) = change.ends_at {
            check_ends_at(ends_at, now)?;
            next.ends_at = ends_at;
        }
        if let Some(description) = &change.description {
            next.description = description.clone();
        }
        next.buyable_at = now + app.policy.listing_cooldown;
        next.updated_at = now;
        let mut writes = vec![put(listing_item(&next), Some(&listing))];
        writes.extend(domain_follow(app, domain.as_ref(), Some(&next)));
        written(app.transact(writes).await)?;
        Ok(ListingView::new(&next, fee_rate(app, now).await?, now))
    })
    .await
}

/// `DELETE /listings/{id}`: ends the listing (`delisted`) and frees the domain; L5.
pub async fn delist(app: &App, seller: &AccountId, id: &ListingId) -> AppResult<ListingView> {
    retrying(app, || async {
        let now = app.now();
        let (listing, domain) = load_own(app, seller, id).await?;
        check_editable(&listing.value, domain.as_ref().map(|d| &d.value), now)?;
        let mut ended = listing.value.clone();
        ended.status = ListingStatus::Ended;
        ended.end_reason = Some("delisted".into());
        ended.updated_at = now;
        let mut writes = vec![put(listing_item(&ended), Some(&listing))];
        writes.extend(domain_follow(app, domain.as_ref(), None));
        written(app.transact(writes).await)?;
        Ok(ListingView::new(&ended, fee_rate(app, now).await?, now))
    })
    .await
}

/// `GET /listings/{id}`: public.
pub async fn get(app: &App, id: &ListingId) -> AppResult<ListingView> {
    // The listing, eventually consistent (a view decides nothing: an order reads it
    // again), and the fee schedule from the process's cache: no item every view shares.
    let (listing_pk, listing_sk) = repo::listing_key(id);
    let (found, schedule) = futures::join!(
        app.store.get_eventually(&listing_pk, &listing_sk),
        crate::fees::schedule_item(app, FeeKind::FixedPrice)
    );
    let listing: Versioned<Listing> = found?
        .as_ref()
        .map(repo::decode)
        .transpose()?
        .ok_or_else(|| Problem::not_found("listing"))?;
    let now = app.now();
    let rate = crate::fees::rate_in(app, FeeKind::FixedPrice, schedule?.as_ref(), now)?;
    Ok(ListingView::new(&listing.value, rate, now))
}

/// `GET /me/listings`: the caller's listings, all statuses, newest first; a takedown with
/// its reason and appeal (M3: the seller's to read).
pub async fn mine(
    app: &App,
    seller: &AccountId,
    limit: usize,
    cursor: Option<String>,
) -> AppResult<PageView<ListingView>> {
    let queries = repo::seller_partitions(seller)
        .into_iter()
        .map(|partition| Query {
            forward: false,
            ..Query::index(Index::Gsi1, partition)
        })
        .collect();
    let now = app.now();
    let rate = fee_rate(app, now).await?;
    paging::merged(
        app,
        queries,
        (limit, false, true),
        |item| {
            let listing = repo::decode::<Listing>(item)?;
            Ok(Some(ListingView::for_seller(&listing.value, rate, now)))
        },
        cursor.as_deref(),
    )
    .await
}

/// L3, L6 (the sweep's part): an active listing past its end time, with no order awaiting
/// payment, ends and frees its domain. Returns whether it ended it.
pub async fn end_if_due(app: &App, id: &ListingId) -> AppResult<bool> {
    retrying(app, || async {
        let now = app.now();
        let Some(listing) = load::<Listing>(&*app.store, repo::listing_key(id)).await? else {
            return Ok(false);
        };
        let l = &listing.value;
        if l.status != ListingStatus::Active || l.ends_at > now {
            return Ok(false);
        }
        let domain = held_domain(app, l).await?;
        if order_hold(l, domain.as_ref().map(|d| &d.value), now).is_some() {
            return Ok(false);
        }
        let mut ended = l.clone();
        ended.status = ListingStatus::Ended;
        ended.end_reason = Some("ends_at_passed".into());
        ended.updated_at = now;
        let mut writes = vec![put(listing_item(&ended), Some(&listing))];
        writes.extend(domain_follow(app, domain.as_ref(), None));
        written(app.transact(writes).await)?;
        Ok(true)
    })
    .await
}
