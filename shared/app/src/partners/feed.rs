//! L10: a partner's feed: `PUT /partner/listings/{domain}` publishes or changes its
//! fixed-price listing of a domain not registered here, `DELETE` ends it. The domain's
//! pointer (`PFEED#{domain}`) names the one partner that lists it and its current listing,
//! written in the same transaction as the listing, on conditions: two partners racing for
//! one domain get one listing. No Domain item is written and no L2 rule applies (the
//! domain is not ours); L4's cool-down and L5's hold apply as to any fixed-price listing.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::listings::fee_rate;
use crate::repo::{self, listing_item, load, plain_item, put, Versioned};
use crate::retry::{retrying, written};
use crate::views::ListingView;
use crate::{App, AppResult};
use market_core::domain_name::DomainName;
use market_core::error::{Code, Problem};
use market_core::ids::ListingId;
use market_core::listing::{check_ends_at, check_price};
use market_core::model::{Domain, Listing, ListingStatus};
use market_core::money::Money;
use market_core::partner::{Partner, PartnerId, PartnerRef};

/// Which partner lists a domain, and its current listing.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct FeedPointer {
    pub partner: PartnerId,
    pub listing_id: ListingId,
}

/// The pointer and the listing it names (as read).
pub(crate) async fn current(
    app: &App,
    domain: &DomainName,
) -> AppResult<Option<(Versioned<FeedPointer>, Option<Versioned<Listing>>)>> {
    let Some(pointer) = load::<FeedPointer>(&*app.store, repo::partner_feed_key(domain)).await?
    else {
        return Ok(None);
    };
    let listing =
        load::<Listing>(&*app.store, repo::listing_key(&pointer.value.listing_id)).await?;
    Ok(Some((pointer, listing)))
}

/// The result of a feed PUT: whether a listing was created (201) or changed (200).
pub struct Fed {
    pub created: bool,
    pub listing: ListingView,
}

/// `PUT /partner/listings/{domain}` `{price, ends_at?}`.
pub async fn put_listing(
    app: &App,
    partner: &Partner,
    domain: &DomainName,
    price: Money,
    ends_at: Option<DateTime<Utc>>,
) -> AppResult<Fed> {
    check_price(price)?;
    retrying(app, || async {
        let now = app.now();
        let ends_at = ends_at.unwrap_or(now + app.policy.default_listing_duration);
        check_ends_at(ends_at, now)?;
        // L10: only domains not registered here (A2 keeps those on the registrar's side).
        if load::<Domain>(&*app.store, repo::domain_key(domain)).await?.is_some() {
            return Err(Problem::new(
                Code::PartnerListingConflict,
                format!("{domain} is registered here: only its owner can list it"),
            )
            .into());
        }
        let found = current(app, domain).await?;
        let active = found.as_ref().and_then(|(pointer, listing)| {
            let listing = listing.as_ref()?;
            (listing.value.status_at(now).0 == ListingStatus::Active).then_some((pointer, listing))
        });
        if let Some((pointer, _)) = &found {
            if pointer.value.partner != partner.id && active.is_some() {
                return Err(Problem::new(
                    Code::PartnerListingConflict,
                    format!("{domain} is listed by another partner"),
                )
                .into());
            }
        }
        let (listing, read, created) = match active {
            Some((_, read)) if read.value.partner.as_ref().is_some_and(|p| p.id == partner.id) => {
                // L5: not while an order holds it.
                if read.value.live_hold(now).is_some() {
                    return Err(Problem::new(
                        Code::OrderPending,
                        format!("{domain} is held by an order awaiting payment"),
                    )
                    .into());
                }
                let mut changed = read.value.clone();
                changed.price = price;
                changed.ends_at = ends_at;
                changed.buyable_at = now + app.policy.listing_cooldown; // L4
                changed.updated_at = now;
                changed.partner = Some(partner_ref(partner));
                (changed, Some(read.clone()), false)
            }
            _ => (new_listing(app, partner, domain, price, ends_at, now), None, true),
        };
        let pointer = FeedPointer {
            partner: partner.id.clone(),
            listing_id: listing.id.clone(),
        };
        let mut writes = vec![put(listing_item(&listing), read.as_ref())];
        if created {
            writes.push(put(
                plain_item(repo::partner_feed_key(domain), &pointer),
                found.as_ref().map(|(p, _)| p),
            ));
        }
        written(app.transact(writes).await)?;
        tracing::info!(partner = %partner.id, domain = %domain, listing = %listing.id, created, "partner listing fed");
        Ok(Fed {
            created,
            listing: ListingView::new(&listing, fee_rate(app, now).await?, now),
        })
    })
    .await
}

fn partner_ref(partner: &Partner) -> PartnerRef {
    PartnerRef {
        id: partner.id.clone(),
        name: partner.name.clone(),
    }
}

fn new_listing(
    app: &App,
    partner: &Partner,
    domain: &DomainName,
    price: Money,
    ends_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Listing {
    Listing {
        id: ListingId::mint(app.ulid()),
        domain: domain.clone(),
        seller: partner.id.seller_account(),
        price,
        status: ListingStatus::Active,
        end_reason: None,
        buyable_at: now + app.policy.listing_cooldown,
        ends_at,
        description: String::new(),
        created_at: now,
        updated_at: now,
        hold: None,
        sold_to: None,
        domain_expires_at: None,
        first_price: Some(price),
        takedown: None,
        partner: Some(partner_ref(partner)),
    }
}

/// `DELETE /partner/listings/{domain}`: ends the partner's active listing of the domain.
pub async fn delete_listing(app: &App, partner: &Partner, domain: &DomainName) -> AppResult<()> {
    retrying(app, || async {
        let now = app.now();
        let not_listed = || Problem::new(Code::NotFound, format!("you do not list {domain}"));
        let (pointer, listing) = current(app, domain).await?.ok_or_else(not_listed)?;
        let listing = listing.ok_or_else(not_listed)?;
        if pointer.value.partner != partner.id
            || listing.value.status_at(now).0 != ListingStatus::Active
        {
            return Err(not_listed().into());
        }
        if listing.value.live_hold(now).is_some() {
            return Err(Problem::new(
                Code::OrderPending,
                format!("{domain} is held by an order awaiting payment"),
            )
            .into());
        }
        let mut ended = listing.value.clone();
        ended.status = ListingStatus::Ended;
        ended.end_reason = Some("delisted".into());
        ended.updated_at = now;
        written(
            app.transact(vec![put(listing_item(&ended), Some(&listing))])
                .await,
        )?;
        tracing::info!(partner = %partner.id, domain = %domain, "partner listing ended");
        Ok(())
    })
    .await
}
