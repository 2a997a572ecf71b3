//! A domain about to enter a trade (a listing or a push): L2 in full, as both need it. The
//! pure rules decide on the domain alone: a listing whose end time has passed still holds
//! its domain while an order placed in time awaits payment (L2.9, L5), and the domain's
//! trade hold keeps that order. Listings and pushes both come through here, so neither can
//! hand on a domain a buyer has reserved.
use chrono::{DateTime, Duration, Utc};

use super::repo::{self, load};
use super::{App, AppResult};
use market_core::ids::AccountId;
use market_core::listing::{check_lapsed_listing_unheld, check_tradeable};
use market_core::model::{Domain, Listing};

/// L2 (P2 with the push margin), L5: whether `seller` may put `domain` into a new trade at
/// `now`. The rules run in RULES.md's order; an order awaiting payment keeps the domain in
/// its listing's trade past the listing's end (L2.9), on the domain's trade hold. Only a
/// listing held before issue 15 keeps that order on itself: then it is read.
pub(crate) async fn check_free_for_trade(
    app: &App,
    domain: &Domain,
    seller: &AccountId,
    now: DateTime<Utc>,
    expiry_margin: Duration,
) -> AppResult<()> {
    check_tradeable(domain, seller, now, &app.policy, expiry_margin)?;
    if let Some(listing) = legacy_listing(app, domain).await? {
        check_lapsed_listing_unheld(&listing, now)?;
    }
    Ok(())
}

/// The listing the domain's trade hold names, if it is one from before issue 15 (its
/// terms not on the domain).
async fn legacy_listing(app: &App, domain: &Domain) -> AppResult<Option<Listing>> {
    let Some(id) = domain
        .trade
        .as_ref()
        .filter(|t| t.terms.is_none())
        .and_then(|t| t.listing())
    else {
        return Ok(None);
    };
    Ok(load::<Listing>(&*app.store, repo::listing_key(id))
        .await?
        .map(|l| l.value))
}
