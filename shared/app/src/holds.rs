//! A domain about to enter a trade (a listing or a push): L2 in full, as both need it. The
//! pure rules decide on the domain alone, except in one case: a listing whose end time has
//! passed still holds its domain while an order placed in time awaits payment (L2.9, L5),
//! and only that listing knows it. Listings and pushes both come through here, so neither
//! can hand on a domain a buyer has reserved.
use chrono::{DateTime, Duration, Utc};

use super::repo::{self, load};
use super::{App, AppResult};
use market_core::ids::AccountId;
use market_core::listing::{check_lapsed_listing_unheld, check_tradeable};
use market_core::model::{Domain, Listing};

/// L2 (P2 with the push margin), L5: whether `seller` may put `domain` into a new trade at
/// `now`. The rules run in RULES.md's order; the lapsed listing's hold is read last, only
/// when a listing is the domain's last trade.
pub(crate) async fn check_free_for_trade(
    app: &App,
    domain: &Domain,
    seller: &AccountId,
    now: DateTime<Utc>,
    expiry_margin: Duration,
) -> AppResult<()> {
    check_tradeable(domain, seller, now, &app.policy, expiry_margin)?;
    if let Some(listing) = last_listing(app, domain).await? {
        check_lapsed_listing_unheld(&listing, now)?;
    }
    Ok(())
}

/// The listing the domain's trade hold names, if a listing's it is.
async fn last_listing(app: &App, domain: &Domain) -> AppResult<Option<Listing>> {
    let Some(id) = domain.trade.as_ref().and_then(|t| t.listing()) else {
        return Ok(None);
    };
    Ok(load::<Listing>(&*app.store, repo::listing_key(id))
        .await?
        .map(|l| l.value))
}
