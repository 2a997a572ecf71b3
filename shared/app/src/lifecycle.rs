//! Registry lifecycle events and operator takedowns of pushes (L6, L7, P10; a listing's
//! takedown is `compliance`, M3): what the registrar
//! core reports about a domain, and what an operator ends by policy. Each event updates the
//! domain and ends the listing or push holding it, with the event as the reason.
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::repo::{self, listing_item, load, put, Versioned};
use super::retry::{retrying, written};
use super::{pushes, App, AppResult};
use market_core::domain_name::DomainName;
use market_core::error::{Code, Problem};
use market_core::ids::{AccountId, PushId};
use market_core::model::{Domain, Listing, ListingStatus, PushStatus, TradeKind};
use market_core::transfer::TransferOut;

/// An event from the registrar core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainEvent {
    Renewed { expires_at: DateTime<Utc> },
    Deleted,
    TransferOutStarted,
    OwnerChanged { owner: AccountId },
    AuthCodeIssued,
    Blacklisted,
    Restricted,
    TransferProhibited,
}

impl DomainEvent {
    /// The event's name on the wire (and the end reason it gives a trade).
    pub fn name(&self) -> &'static str {
        match self {
            DomainEvent::Renewed { .. } => "renewed",
            DomainEvent::Deleted => "deleted",
            DomainEvent::TransferOutStarted => "transfer_out_started",
            DomainEvent::OwnerChanged { .. } => "owner_changed",
            DomainEvent::AuthCodeIssued => "auth_code_issued",
            DomainEvent::Blacklisted => "blacklisted",
            DomainEvent::Restricted => "restricted",
            DomainEvent::TransferProhibited => "transfer_prohibited",
        }
    }

    /// L7: a renewal only moves the expiry; every other event ends the trade (L6, P10).
    fn ends_trade(&self) -> bool {
        !matches!(self, DomainEvent::Renewed { .. })
    }

    fn apply_to(&self, domain: &mut Domain) {
        match self {
            DomainEvent::Renewed { expires_at } => domain.expires_at = *expires_at,
            DomainEvent::Deleted => domain.deleted = true,
            DomainEvent::TransferOutStarted | DomainEvent::AuthCodeIssued => {
                domain.flags.pending_operation = true
            }
            DomainEvent::OwnerChanged { owner } => domain.owner = owner.clone(),
            DomainEvent::Blacklisted => domain.flags.blacklisted = true,
            DomainEvent::Restricted => domain.flags.restricted = true,
            DomainEvent::TransferProhibited => domain.flags.transfer_prohibited = true,
        }
    }

    /// P9: an event that starts a transfer-out, refused for a domain inside its lock.
    fn starts_transfer_out(&self) -> bool {
        matches!(
            self,
            DomainEvent::TransferOutStarted | DomainEvent::AuthCodeIssued
        )
    }
}

/// What an event or takedown ended.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Ended {
    pub listing: Option<String>,
    pub push: Option<String>,
}

/// Ends a listing (and frees its domain) with a reason; false if it was not active.
fn end_listing_writes(
    listing: &Versioned<Listing>,
    reason: &str,
    now: DateTime<Utc>,
) -> Option<crate::store::Write> {
    if listing.value.status != ListingStatus::Active {
        return None;
    }
    let mut ended = listing.value.clone();
    ended.status = ListingStatus::Ended;
    ended.end_reason = Some(reason.to_owned());
    ended.updated_at = now;
    Some(put(listing_item(&ended), Some(listing)))
}

/// `POST /admin/domains/{domain}/events`. P9: a transfer-out (`transfer_out_started`,
/// `auth_code_issued`) of a domain inside its 60-day lock is refused with 409
/// `TRANSFER_LOCKED` and changes nothing (the registrar core must not have let it start);
/// during a trade without a lock it ends the trade as every L6 event does (P10).
pub async fn apply_event(app: &App, name: &DomainName, event: DomainEvent) -> AppResult<Ended> {
    if matches!(event, DomainEvent::Renewed { .. }) {
        expire_domain(app, name).await?;
    }
    let ends = event.ends_trade();
    update_and_end(app, name, event.name(), ends, |domain, now| {
        if event.starts_transfer_out() {
            if let Some(until) = market_core::transfer::inside_transfer_lock(domain, now) {
                return Err(Problem::new(
                    Code::TransferLocked,
                    format!(
                        "{} is inside its 60-day transfer lock until {} (P9)",
                        domain.name,
                        until.to_rfc3339()
                    ),
                ));
            }
        }
        event.apply_to(domain);
        Ok(true)
    })
    .await
}

/// `GET /admin/domains/{domain}/transfer-out` (P9, P11): whether the registrar core may
/// start a transfer-out of the domain now. A listing whose end time has passed still holds
/// it while an order placed in time awaits payment (L5): on the domain's trade hold.
pub async fn transfer_out(app: &App, name: &DomainName) -> AppResult<TransferOut> {
    let now = app.now();
    let domain: Versioned<Domain> = load(&*app.store, repo::domain_key(name))
        .await?
        .ok_or_else(|| Problem::not_found("domain"))?;
    let answer = market_core::transfer::transfer_out(&domain.value, now);
    if !answer.allowed {
        return Ok(answer);
    }
    // A listing held before issue 15 keeps its order's hold on itself.
    let legacy = domain.value.trade.as_ref().filter(|t| t.terms.is_none());
    if let Some(id) = legacy.and_then(|t| t.listing()) {
        if let Some(listing) = load::<Listing>(&*app.store, repo::listing_key(id)).await? {
            if let Some(hold) = listing.value.live_hold(now) {
                return Ok(TransferOut {
                    allowed: false,
                    reason: Some(market_core::transfer::IN_TRADE),
                    until: Some(hold.until),
                });
            }
        }
    }
    Ok(answer)
}

/// L7 (E1): a domain in a trade whose expiry has passed ends that trade: the sweep's part,
/// and the first step of a renewal, so that a trade the old expiry ended stays ended even
/// when the sweep was late (after renewal the seller lists again by hand).
pub async fn expire_domain(app: &App, name: &DomainName) -> AppResult<Ended> {
    update_and_end(app, name, "domain_expired", true, |domain, now| {
        Ok(domain.expires_at <= now)
    })
    .await
}

/// Updates a domain (`change` says whether anything applies at `now`) and, if `ends`, ends
/// the listing or push holding it with `reason`: the domain and the listing in one
/// transaction; a push through its own invalidation (which refunds any money paid).
async fn update_and_end(
    app: &App,
    name: &DomainName,
    reason: &str,
    ends: bool,
    change: impl Fn(&mut Domain, DateTime<Utc>) -> Result<bool, Problem>,
) -> AppResult<Ended> {
    let mut ended = retrying(app, || async {
        let now = app.now();
        let domain: Versioned<Domain> = load(&*app.store, repo::domain_key(name))
            .await?
            .ok_or_else(|| Problem::not_found("domain"))?;
        let mut next = domain.value.clone();
        if !change(&mut next, now)? {
            return Ok(Ended::default());
        }
        let mut writes = Vec::new();
        let mut ended = Ended::default();
        match domain.value.trade.clone() {
            Some(trade) if ends && trade.kind() == TradeKind::Listing => {
                next.trade = None;
                if let Some(id) = trade.listing() {
                    if let Some(listing) =
                        load::<Listing>(&*app.store, repo::listing_key(id)).await?
                    {
                        writes.extend(end_listing_writes(&listing, reason, now));
                        ended.listing = Some(id.to_string());
                    }
                }
            }
            Some(trade) if ends && trade.kind() == TradeKind::Push => {
                ended.push = Some(trade.id().to_owned())
            }
            _ => {}
        }
        if !ends && next.expires_at != domain.value.expires_at {
            writes.extend(super::listings::follow_domain_expiry(app, &next).await?);
        }
        if next != domain.value {
            let mut first = super::outbox::domain_writes(app, &next, Some(&domain));
            first.append(&mut writes);
            writes = first;
        }
        if !writes.is_empty() {
            written(app.transact(writes).await)?;
        }
        Ok(ended)
    })
    .await?;
    if let Some(id) = ended.push.take() {
        let id = PushId::parse(&id)?;
        if pushes::invalidate(app, &id, PushStatus::Failed, reason).await? {
            ended.push = Some(id.to_string());
        }
    }
    Ok(ended)
}

/// `POST /admin/pushes/{id}/takedown` (P10).
pub async fn take_down_push(app: &App, id: &PushId, reason: &str) -> AppResult<()> {
    if load::<market_core::model::Push>(&*app.store, repo::push_key(id))
        .await?
        .is_none()
    {
        return Err(Problem::not_found("push").into());
    }
    if !pushes::invalidate(
        app,
        id,
        PushStatus::TakenDown,
        &format!("taken_down: {reason}"),
    )
    .await?
    {
        return Err(Problem::new(Code::PushNotPending, "the push has already ended").into());
    }
    Ok(())
}
