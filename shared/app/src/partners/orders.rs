//! L10: ordering partner listings. No real-name verification or bound Alipay is asked
//! (L10); one order per domain, each paid, delivered or refunded alone. Paid from the
//! balance: at once, in one conditional transaction with the balance (never negative), the
//! listing sold, the escrow journal and the partner's outbox message. By bank transfer:
//! the order awaits the transfer for 3 days holding its listing (L5), with a reference
//! code; an operator confirms the money came, or the sweep expires it and frees the
//! listing. A cart mixing partner and registrar listings is refused whole (`MIXED_CART`):
//! the two are paid differently (Alipay only for registrar listings, O8).
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::feed::current;
use crate::repo::{
    self, create, journal_writes, listing_item, load, partner_order_item, put, Versioned,
};
use crate::retry::{retrying, written};
use crate::{App, AppResult};
use market_core::domain_name::DomainName;
use market_core::error::{Code, DomainRefusal, Problem};
use market_core::ids::{AccountId, OrderId};
use market_core::model::{Listing, ListingStatus, OrderHold};
use market_core::partner::{
    journals, transfer_reference, PartnerOrder, PartnerOrderStatus, PartnerPayment, TRANSFER_WINDOW,
};

/// A partner order as its buyer (or an operator) sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = PartnerOrder)]
pub struct PartnerOrderView {
    pub id: String,
    /// Always `partner`.
    pub source: &'static str,
    pub partner: String,
    pub buyer: String,
    pub domain: String,
    pub listing_id: String,
    #[schema(value_type = crate::schema::MoneySchema)]
    pub price: market_core::money::Money,
    /// `balance` or `bank_transfer`.
    #[schema(value_type = String)]
    pub payment: PartnerPayment,
    /// `awaiting_transfer`, `delivering`, `completed`, `refunded`, `expired`.
    #[schema(value_type = String)]
    pub status: PartnerOrderStatus,
    /// Bank transfer: the code to write on the transfer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Bank transfer: the transfer must be confirmed before this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pay_by: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<&PartnerOrder> for PartnerOrderView {
    fn from(o: &PartnerOrder) -> PartnerOrderView {
        PartnerOrderView {
            id: o.id.to_string(),
            source: "partner",
            partner: o.partner.name.clone(),
            buyer: o.buyer.to_string(),
            domain: o.domain.to_string(),
            listing_id: o.listing_id.to_string(),
            price: o.price,
            payment: o.payment,
            status: o.status,
            reference: o.reference.clone(),
            pay_by: o.pay_by,
            created_at: o.created_at,
        }
    }
}

/// The answer to `POST /orders` for partner listings.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PartnerPlaced {
    pub orders: Vec<PartnerOrderView>,
    #[schema(value_type = Vec<crate::schema::DomainRefusalSchema>)]
    pub rejected: Vec<DomainRefusal>,
}

/// Whether a cart is of partner listings, registrar listings, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CartKind {
    Registrar,
    Partner,
    Mixed,
}

/// Which kind of cart `domains` is: a domain a partner feeds (or fed: its sold or ended
/// listing is then refused with its own code) is a partner one; unparsable names count as
/// registrar ones and are refused there.
pub async fn cart_kind(app: &App, domains: &[String]) -> AppResult<CartKind> {
    let (mut partner, mut registrar) = (0, 0);
    for raw in domains {
        let listed = match DomainName::parse(raw) {
            Ok(name) => current(app, &name).await?.is_some(),
            Err(_) => false,
        };
        if listed {
            partner += 1;
        } else {
            registrar += 1;
        }
    }
    Ok(match (partner, registrar) {
        (0, _) => CartKind::Registrar,
        (_, 0) => CartKind::Partner,
        _ => CartKind::Mixed,
    })
}

/// The refusal of a mixed cart.
pub fn mixed_cart() -> Problem {
    Problem::new(
        Code::MixedCart,
        "partner listings and registrar listings are ordered separately (L10: partner ones are paid by balance or bank transfer, registrar ones by Alipay only)",
    )
}

/// `POST /orders` `{domains, payment}` for partner listings.
pub async fn place(
    app: &App,
    buyer: &AccountId,
    domains: &[String],
    payment: PartnerPayment,
    human: &crate::ports::captcha::HumanCheck,
) -> AppResult<PartnerPlaced> {
    // O7 as for any order; no real-name verification or bound Alipay (L10).
    market_core::limits::check_cart_size(domains.len(), app.policy.max_cart)?;
    crate::rate_limit::count(app, buyer, crate::rate_limit::Counted::OrderAttempt).await?;
    if !app
        .captcha
        .verify(crate::ports::captcha::CaptchaAction::Order, human)
        .await
    {
        return Err(Problem::new(Code::CaptchaFailed, "the human check did not pass (O7)").into());
    }
    let mut orders = Vec::new();
    let mut rejected = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for raw in domains {
        let name = match DomainName::parse(raw) {
            Ok(name) if seen.insert(name.clone()) => name,
            Ok(_) => continue,
            Err(p) => {
                rejected.push(p.for_domain(raw));
                continue;
            }
        };
        match place_one(app, buyer, &name, payment).await {
            Ok(order) => orders.push(PartnerOrderView::from(&order)),
            Err(crate::AppError::Refused(p)) => rejected.push(p.for_domain(name.ascii())),
            Err(e) => return Err(e),
        }
    }
    if orders.is_empty() {
        let problem = match rejected.as_slice() {
            [only] => Problem::new(only.code, only.detail.clone()).with_status(409),
            _ => Problem::new(
                Code::NothingOrderable,
                "no domain of the cart can be ordered",
            ),
        };
        return Err(problem.with_errors(rejected).into());
    }
    Ok(PartnerPlaced { orders, rejected })
}

/// The listing of a partner domain, checked orderable by `buyer` now.
async fn orderable(
    app: &App,
    name: &DomainName,
    now: DateTime<Utc>,
) -> AppResult<Versioned<Listing>> {
    let not_listed = || Problem::new(Code::NotFound, format!("{name} is not listed"));
    let (_, listing) = current(app, name).await?.ok_or_else(not_listed)?;
    let listing = listing.ok_or_else(not_listed)?;
    let l = &listing.value;
    if l.status_at(now).0 != ListingStatus::Active || l.partner.is_none() {
        return Err(Problem::new(Code::ListingNotActive, format!("{name} is not for sale")).into());
    }
    if now < l.buyable_at {
        return Err(Problem::new(
            Code::CoolingDown,
            format!(
                "{name} can be ordered from {} (L4)",
                l.buyable_at.to_rfc3339()
            ),
        )
        .with_buyable_at(l.buyable_at)
        .into());
    }
    if l.live_hold(now).is_some() {
        return Err(Problem::new(
            Code::OrderPending,
            format!("{name} is held by an order awaiting payment"),
        )
        .into());
    }
    Ok(listing)
}

async fn place_one(
    app: &App,
    buyer: &AccountId,
    name: &DomainName,
    payment: PartnerPayment,
) -> AppResult<PartnerOrder> {
    retrying(|| async {
        let now = app.now();
        let listing = orderable(app, name, now).await?;
        let partner = listing.value.partner.clone().expect("checked above");
        let id = OrderId::mint(app.ulid());
        let mut order = PartnerOrder {
            id: id.clone(),
            buyer: buyer.clone(),
            partner,
            listing_id: listing.value.id.clone(),
            domain: name.clone(),
            price: listing.value.price,
            payment,
            status: PartnerOrderStatus::Delivering,
            reference: None,
            pay_by: None,
            created_at: now,
            updated_at: now,
            paid_at: Some(now),
            ended_at: None,
        };
        let mut next = listing.value.clone();
        next.updated_at = now;
        let mut writes = Vec::new();
        match payment {
            PartnerPayment::Balance => {
                next.status = ListingStatus::Sold;
                next.sold_to = Some(buyer.clone());
                next.hold = None;
                writes.extend(super::balance::posted(app, &journals::paid(&order, now)).await?);
                writes.push(super::delivery::announce(app, &order, now));
            }
            PartnerPayment::BankTransfer => {
                let pay_by = now + TRANSFER_WINDOW;
                order.status = PartnerOrderStatus::AwaitingTransfer;
                order.reference = Some(transfer_reference(&id));
                order.pay_by = Some(pay_by);
                order.paid_at = None;
                next.hold = Some(OrderHold {
                    order_id: id.clone(),
                    buyer: buyer.clone(),
                    until: pay_by,
                });
            }
        }
        writes.push(create(partner_order_item(&order)));
        writes.push(put(listing_item(&next), Some(&listing)));
        written(app.transact(writes).await)?;
        tracing::info!(order = %order.id, domain = %name, payment = ?payment, "partner order placed");
        Ok(order)
    })
    .await
}

/// A partner order as read.
pub(crate) async fn load_order(
    app: &App,
    id: &OrderId,
) -> AppResult<Option<Versioned<PartnerOrder>>> {
    load(&*app.store, repo::partner_order_key(id)).await
}

/// `GET /orders/{id}` of a partner order: its buyer's only.
pub async fn get(
    app: &App,
    buyer: &AccountId,
    id: &OrderId,
) -> AppResult<Option<PartnerOrderView>> {
    Ok(load_order(app, id)
        .await?
        .filter(|o| &o.value.buyer == buyer)
        .map(|o| PartnerOrderView::from(&o.value)))
}

/// The listing an order holds, with the writes that sell it to (or free it from) the order.
async fn listing_of(app: &App, order: &PartnerOrder) -> AppResult<Option<Versioned<Listing>>> {
    let listing = load::<Listing>(&*app.store, repo::listing_key(&order.listing_id)).await?;
    Ok(listing.filter(|l| {
        l.value
            .hold
            .as_ref()
            .is_some_and(|h| h.order_id == order.id)
    }))
}

/// `POST /admin/orders/{id}/confirm-transfer`: the operator saw the money arrive in time:
/// the order is paid (bank → escrow), its listing sold and the partner told.
pub async fn confirm_transfer(app: &App, id: &OrderId) -> AppResult<PartnerOrderView> {
    retrying(|| async {
        let now = app.now();
        let order = load_order(app, id)
            .await?
            .ok_or_else(|| Problem::not_found("order"))?;
        let o = &order.value;
        let open = o.status == PartnerOrderStatus::AwaitingTransfer
            && o.pay_by.is_some_and(|by| now < by);
        if !open {
            return Err(Problem::new(
                Code::OrderNotPayable,
                "only a partner order awaiting its bank transfer, inside its 3 days, can be confirmed",
            )
            .into());
        }
        let mut paid = o.clone();
        paid.status = PartnerOrderStatus::Delivering;
        paid.paid_at = Some(now);
        paid.updated_at = now;
        let mut writes = vec![put(partner_order_item(&paid), Some(&order))];
        if let Some(listing) = listing_of(app, o).await? {
            let mut sold = listing.value.clone();
            sold.status = ListingStatus::Sold;
            sold.sold_to = Some(o.buyer.clone());
            sold.hold = None;
            sold.updated_at = now;
            writes.push(put(listing_item(&sold), Some(&listing)));
        }
        writes.extend(journal_writes(&journals::paid(&paid, now)));
        writes.push(super::delivery::announce(app, &paid, now));
        written(app.transact(writes).await)?;
        tracing::info!(order = %id, "partner order's bank transfer confirmed");
        Ok(PartnerOrderView::from(&paid))
    })
    .await
}

/// L10 (E1): a bank-transfer order past its 3 days expires and frees its listing. Returns
/// whether this call changed it.
pub async fn expire_transfer(app: &App, id: &OrderId) -> AppResult<bool> {
    retrying(|| async {
        let now = app.now();
        let Some(order) = load_order(app, id).await? else {
            return Ok(false);
        };
        let o = &order.value;
        if o.status != PartnerOrderStatus::AwaitingTransfer || o.pay_by.is_some_and(|by| now < by) {
            return Ok(false);
        }
        let mut expired = o.clone();
        expired.status = PartnerOrderStatus::Expired;
        expired.ended_at = Some(now);
        expired.updated_at = now;
        let mut writes = vec![put(partner_order_item(&expired), Some(&order))];
        if let Some(listing) = listing_of(app, o).await? {
            let mut freed = listing.value.clone();
            freed.hold = None;
            writes.push(put(listing_item(&freed), Some(&listing)));
        }
        written(app.transact(writes).await)?;
        tracing::info!(order = %id, "partner order expired: no bank transfer within 3 days");
        Ok(true)
    })
    .await
}
