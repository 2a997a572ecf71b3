//! M3: operator takedowns, the seller's one appeal, and the operator's decision. The
//! takedown's reason is kept with the listing for its seller; public views show only
//! `end_reason: "taken_down"` (see `views::ListingView`). Every write is conditional on the
//! versions read, so a takedown, an appeal and a decision racing each other apply one at a
//! time.
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::holds::check_free_for_trade;
use super::listings::fee_rate;
use super::repo::{self, listing_item, load, put, Versioned};
use super::retry::{retrying, written, Attempt};
use super::views::ListingView;
use super::{App, AppResult};
use crate::store::Write;
use market_core::compliance::{
    self, restore_refused, Appeal, AppealStatus, Decision, Takedown, TAKEN_DOWN,
};
use market_core::error::{Code, Problem};
use market_core::ids::{AccountId, ListingId};
use market_core::listing::check_trader;
use market_core::model::{Account, Domain, Listing, ListingStatus, TradeHold};

/// A takedown as its seller (and operators) see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Takedown)]
pub struct TakedownView {
    /// The operator's reason (M3): the seller's to read, never shown publicly.
    pub reason: String,
    pub taken_down_at: DateTime<Utc>,
    /// The seller's appeal, once filed (one per takedown).
    #[schema(required = true)]
    pub appeal: Option<AppealView>,
}

/// The seller's appeal of a takedown.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Appeal)]
pub struct AppealView {
    pub text: String,
    /// `pending` → `restored` | `confirmed`.
    #[schema(value_type = AppealStatusWord)]
    pub status: AppealStatus,
    pub filed_at: DateTime<Utc>,
    #[schema(required = true)]
    pub decided_at: Option<DateTime<Utc>>,
}

/// The statuses of an appeal.
#[derive(utoipa::ToSchema)]
#[schema(as = AppealStatus, rename_all = "snake_case")]
#[allow(dead_code)]
enum AppealStatusWord {
    Pending,
    Restored,
    Confirmed,
}

impl From<&Takedown> for TakedownView {
    fn from(t: &Takedown) -> TakedownView {
        TakedownView {
            reason: t.reason.clone(),
            taken_down_at: t.at,
            appeal: t.appeal.as_ref().map(|a: &Appeal| AppealView {
                text: a.text.clone(),
                status: a.status,
                filed_at: a.filed_at,
                decided_at: a.decided_at,
            }),
        }
    }
}

async fn load_listing(app: &App, id: &ListingId) -> Result<Versioned<Listing>, Attempt> {
    Ok(load(&*app.store, repo::listing_key(id))
        .await?
        .ok_or_else(|| Problem::not_found("listing"))?)
}

/// The domain of `listing`, if it holds it: the domain's write freeing it (as a takedown
/// ends the trade).
async fn free_domain(app: &App, listing: &Listing) -> Result<Vec<Write>, Attempt> {
    let Some(domain) = load::<Domain>(&*app.store, repo::domain_key(&listing.domain)).await? else {
        return Ok(Vec::new());
    };
    let held = domain
        .value
        .trade
        .as_ref()
        .is_some_and(|t| t.listing() == Some(&listing.id));
    if !held {
        return Ok(Vec::new());
    }
    let mut freed = domain.value.clone();
    freed.trade = None;
    Ok(super::outbox::domain_writes(app, &freed, Some(&domain)))
}

/// `POST /admin/listings/{id}/takedown` (M3, L6): ends an active listing for a content
/// breach and frees its domain. The reason is kept for the seller; the public end reason
/// is `taken_down`. Answers the listing as its seller sees it.
pub async fn take_down(app: &App, id: &ListingId, reason: &str) -> AppResult<ListingView> {
    let listing = retrying(app, || async {
        let now = app.now();
        let listing = load_listing(app, id).await?;
        // The stored status, as every takedown before M3: an operator may still take down a
        // listing past its end that an order awaiting payment holds (L5).
        if listing.value.status != ListingStatus::Active {
            return Err(Problem::new(Code::ListingNotActive, "the listing is not active").into());
        }
        let mut ended = listing.value.clone();
        ended.status = ListingStatus::Ended;
        ended.end_reason = Some(TAKEN_DOWN.into());
        ended.updated_at = now;
        ended.takedown = Some(Takedown {
            reason: reason.to_owned(),
            at: now,
            appeal: None,
        });
        let mut writes = vec![put(listing_item(&ended), Some(&listing))];
        writes.extend(free_domain(app, &ended).await?);
        written(app.transact(writes).await)?;
        Ok(ended)
    })
    .await?;
    tracing::info!(listing = %id, seller = %listing.seller, "listing taken down (M3)");
    seller_view(app, &listing).await
}

/// `POST /listings/{id}/appeal` (M3): the seller asks, once, for the takedown to be
/// reviewed. Answers the listing as its seller sees it, with the appeal.
pub async fn appeal(
    app: &App,
    seller: &AccountId,
    id: &ListingId,
    text: &str,
) -> AppResult<ListingView> {
    compliance::check_appeal_text(text)?;
    let listing = retrying(app, || async {
        let now = app.now();
        let listing = load_listing(app, id).await?;
        let mut next = listing.value.clone();
        next.takedown = Some(compliance::file_appeal(&listing.value, seller, text, now)?);
        next.updated_at = now;
        written(
            app.transact(vec![put(listing_item(&next), Some(&listing))])
                .await,
        )?;
        Ok(next)
    })
    .await?;
    tracing::info!(listing = %id, seller = %seller, "takedown appealed (M3)");
    seller_view(app, &listing).await
}

/// `POST /admin/listings/{id}/appeal` (M3): an operator restores the listing or confirms
/// the takedown. A restore re-checks that the listing may still trade (A1 for the seller,
/// L2 for the domain, its own end time, no order holding it) and reactivates it with its
/// domain's hold in one conditional transaction; if it may not, 409 `RESTORE_NOT_ALLOWED`
/// naming the rule, and the appeal stays pending (the operator may still confirm).
pub async fn decide(app: &App, id: &ListingId, decision: Decision) -> AppResult<ListingView> {
    let listing = retrying(app, || async {
        let now = app.now();
        let listing = load_listing(app, id).await?;
        let mut next = listing.value.clone();
        next.takedown = Some(compliance::decide(&listing.value, decision, now)?);
        next.updated_at = now;
        let mut writes = vec![];
        if decision == Decision::Restore {
            writes.extend(restore(app, &mut next, now).await?);
        }
        writes.insert(0, put(listing_item(&next), Some(&listing)));
        written(app.transact(writes).await)?;
        Ok(next)
    })
    .await?;
    tracing::info!(listing = %id, decision = ?decision, "takedown appeal decided (M3)");
    seller_view(app, &listing).await
}

/// Reactivates `listing` (a restore) if it may still trade at `now`: the domain's hold as
/// writes for the same transaction.
async fn restore(
    app: &App,
    listing: &mut Listing,
    now: DateTime<Utc>,
) -> Result<Vec<Write>, Attempt> {
    let refused = |why: Problem| -> Attempt { restore_refused(listing, why).into() };
    let account: Option<Versioned<Account>> =
        load(&*app.store, repo::account_key(&listing.seller)).await?;
    check_trader(account.as_ref().map(|a| &a.value)).map_err(refused)?;
    let domain: Versioned<Domain> = load(&*app.store, repo::domain_key(&listing.domain))
        .await?
        .ok_or_else(|| {
            refused(Problem::new(
                Code::NotOwner,
                format!("{} is no longer in the seller's account", listing.domain),
            ))
        })?;
    match check_free_for_trade(
        app,
        &domain.value,
        &listing.seller,
        now,
        app.policy.listing_expiry_margin,
    )
    .await
    {
        Ok(()) => {}
        Err(crate::AppError::Refused(why)) => return Err(refused(why)),
        Err(other) => return Err(other.into()),
    }
    // M1, M2: the seller still sells here (not exited, the category's deposit held); the
    // standing is a condition of the restore as of any listing.
    let standing =
        match crate::deposits::may_sell(app, &listing.seller, [listing.domain.tld()]).await {
            Ok(check) => check,
            Err(crate::AppError::Refused(why)) => return Err(refused(why)),
            Err(other) => return Err(other.into()),
        };
    if listing.ends_at <= now {
        return Err(refused(Problem::new(
            Code::ListingNotActive,
            format!(
                "its end time {} has passed; the seller lists it again",
                listing.ends_at.to_rfc3339()
            ),
        )));
    }
    listing.status = ListingStatus::Active;
    listing.end_reason = None;
    listing.hold = None;
    listing.domain_expires_at = Some(domain.value.expires_at);
    // L4: a listing back on the market cools down as a changed one does.
    listing.buyable_at = now + app.policy.listing_cooldown;
    let mut held = domain.value.clone();
    held.trade = Some(TradeHold::of_listing(&*listing));
    let mut writes = super::outbox::domain_writes(app, &held, Some(&domain));
    writes.push(standing);
    Ok(writes)
}

async fn seller_view(app: &App, listing: &Listing) -> AppResult<ListingView> {
    let now = app.now();
    Ok(ListingView::for_seller(
        listing,
        fee_rate(app, now).await?,
        now,
    ))
}
