//! L10: ordering partner listings. No real-name verification or bound Alipay is asked
//! (L10); one order per domain, each paid, delivered or refunded alone. Paid from the
//! balance: at once, in one conditional transaction with the balance (never negative), the
//! listing sold, the escrow journal and the partner's outbox message. Online (Alipay): a
//! payment attempt with the order, holding the listing for the payment window; the
//! provider's notification applies once (`paid_online`), a late one is refunded. By bank transfer:
//! the order awaits the transfer for 3 days holding its listing (L5), with a reference
//! code; an operator confirms the money came, or the sweep expires it and frees the
//! listing. A cart mixing partner and registrar listings is refused whole (`MIXED_CART`):
//! the two are paid and delivered differently (registrar ones through `/orders/{id}/pay`).
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
    /// `balance`, `alipay` or `bank_transfer`.
    #[schema(value_type = String)]
    pub payment: PartnerPayment,
    /// `awaiting_payment`, `awaiting_transfer`, `delivering`, `completed`, `refunded`,
    /// `expired`.
    #[schema(value_type = String)]
    pub status: PartnerOrderStatus,
    /// Bank transfer: the code to write on the transfer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Bank transfer: the transfer must be confirmed before this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pay_by: Option<DateTime<Utc>>,
    /// Alipay: the payment attempt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub out_trade_no: Option<String>,
    /// Alipay: the provider's page to pay on (in the answer to `POST /orders` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pay_url: Option<String>,
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
            out_trade_no: o.payment_id.as_ref().map(|p| p.to_string()),
            pay_url: None,
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
    // Every domain's feed pointer in one batched read (never one read per domain).
    let keys: Vec<(String, String)> = domains
        .iter()
        .filter_map(|raw| DomainName::parse(raw).ok())
        .map(|name| repo::partner_feed_key(&name))
        .collect();
    let fed: std::collections::HashSet<String> = app
        .store
        .get_many(&keys)
        .await?
        .into_iter()
        .map(|item| item.pk)
        .collect();
    let (mut partner, mut registrar) = (0, 0);
    for raw in domains {
        let listed =
            DomainName::parse(raw).is_ok_and(|name| fed.contains(&repo::partner_feed_key(&name).0));
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
        "partner listings and registrar listings are ordered separately (L10: partner ones are paid at order time and delivered by the partner)",
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
            Ok((order, attempt)) => {
                let mut view = PartnerOrderView::from(&order);
                if let Some(attempt) = attempt {
                    let subject = format!("Partner domain order {}", order.id);
                    let page =
                        crate::attempts::attempt_view(app, &attempt, &subject, app.now()).await?;
                    view.pay_url = Some(page.pay_url);
                }
                orders.push(view);
            }
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
) -> AppResult<(PartnerOrder, Option<market_core::model::Payment>)> {
    retrying(app, || async {
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
            payment_id: None,
        };
        let mut attempt = None;
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
            PartnerPayment::Alipay => {
                let pay_by = now + app.policy.payment_window;
                let page = crate::attempts::new_attempt(
                    app,
                    market_core::model::Purchase::PartnerOrder(id.clone()),
                    buyer,
                    order.price,
                    pay_by,
                    now,
                );
                order.status = PartnerOrderStatus::AwaitingPayment;
                order.pay_by = Some(pay_by);
                order.paid_at = None;
                order.payment_id = Some(page.id.clone());
                next.hold = Some(OrderHold {
                    order_id: id.clone(),
                    buyer: buyer.clone(),
                    until: pay_by,
                });
                writes.push(create(crate::repo::payment_item(&page)));
                attempt = Some(page);
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
        Ok((order, attempt.clone()))
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
    retrying(app, || async {
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

/// L10 (E1): an unpaid order past its window (3 days for a bank transfer, the payment
/// window for Alipay) expires and frees its listing. O6 first: an Alipay attempt whose
/// result is not back is asked about (paid in time → applied); no answer is an error, so
/// the sweep tries again later. Returns whether this call changed it.
pub async fn expire_transfer(app: &App, id: &OrderId) -> AppResult<bool> {
    if let Some(order) = load_order(app, id).await? {
        let o = &order.value;
        let due = o.pay_by.is_some_and(|by| app.now() >= by);
        if let (PartnerOrderStatus::AwaitingPayment, true, Some(payment)) =
            (o.status, due, o.payment_id.as_ref())
        {
            crate::payments::query_and_apply(app, payment.as_str()).await?;
        }
    }
    retrying(app, || async {
        let now = app.now();
        let Some(order) = load_order(app, id).await? else {
            return Ok(false);
        };
        let o = &order.value;
        let unpaid = matches!(
            o.status,
            PartnerOrderStatus::AwaitingTransfer | PartnerOrderStatus::AwaitingPayment
        );
        if !unpaid || o.pay_by.is_none_or(|by| now < by) {
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

/// The provider's success for a partner order (S1, E1), applied once with the
/// notification's dedupe records: in time → the money is in escrow, the order delivering,
/// the listing sold and the partner told; late (or the order no longer awaits it) → the
/// money goes back through the provider.
pub(crate) async fn paid_online(
    app: &App,
    n: &crate::ports::payment::Notification,
    id: &OrderId,
) -> AppResult<crate::attempts::Applied> {
    use crate::attempts::{dedupe_records, Applied};
    use market_core::model::{Payment, PaymentStatus};
    let (outcome, refund) = retrying(app, || async {
        let now = app.now();
        let payment: Versioned<Payment> = load(&*app.store, repo::payment_key(&n.out_trade_no))
            .await?
            .ok_or_else(|| crate::AppError::Internal(anyhow::anyhow!("payment vanished")))?;
        if matches!(
            payment.value.status,
            PaymentStatus::Succeeded | PaymentStatus::Refunded
        ) {
            return Ok((Applied::NoChange, None));
        }
        let order = load_order(app, id).await?.ok_or_else(|| {
            crate::AppError::Internal(anyhow::anyhow!("payment for a missing partner order"))
        })?;
        let paid_at = n.paid_at.unwrap_or(now).min(now);
        let o = &order.value;
        let in_time = o.status == PartnerOrderStatus::AwaitingPayment
            && o.payment_id.as_ref() == Some(&payment.value.id)
            && o.pay_by.is_some_and(|by| paid_at < by);
        let mut settled = payment.value.clone();
        settled.trade_no = Some(n.trade_no.clone());
        settled.settled_at = Some(now);
        let mut writes = dedupe_records(n, now);
        writes.extend(journal_writes(&market_core::ledger::payment_received(
            &payment.value,
            now,
        )));
        if in_time {
            settled.status = PaymentStatus::Succeeded;
            let mut paid = o.clone();
            paid.status = PartnerOrderStatus::Delivering;
            paid.paid_at = Some(now);
            paid.updated_at = now;
            writes.push(put(partner_order_item(&paid), Some(&order)));
            if let Some(listing) = listing_of(app, o).await? {
                let mut sold = listing.value.clone();
                sold.status = ListingStatus::Sold;
                sold.sold_to = Some(o.buyer.clone());
                sold.hold = None;
                sold.updated_at = now;
                writes.push(put(listing_item(&sold), Some(&listing)));
            }
            writes.push(super::delivery::announce(app, &paid, now));
            writes.push(put(crate::repo::payment_item(&settled), Some(&payment)));
            written(app.transact(writes).await)?;
            tracing::info!(order = %id, "partner order paid online");
            return Ok((Applied::Paid, None));
        }
        settled.status = PaymentStatus::Refunded;
        let journal = market_core::ledger::refund(&payment.value, "all", payment.value.amount, now);
        let reason =
            "payment arrived after the partner order's window or for an order no longer payable";
        let (refund, refund_write) =
            crate::refunds::refund_for(&journal, &payment.value, reason, now, app.ulid());
        writes.extend(journal_writes(&journal));
        writes.push(refund_write);
        writes.push(put(crate::repo::payment_item(&settled), Some(&payment)));
        written(app.transact(writes).await)?;
        tracing::info!(order = %id, "late or unwanted partner payment refunded");
        Ok((Applied::Refunded, Some(refund.journal_id)))
    })
    .await?;
    if let Some(journal_id) = refund {
        crate::refunds::send_refund_now(app, &journal_id).await;
    }
    Ok(outcome)
}
