//! What the API shows of each entity (API.md field names). Statuses are shown as of the
//! request's time, so a deadline that passed shows even before the sweeper records it (E1).
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use market_core::model::{Domain, ItemStatus, Listing, ListingStatus, Order, OrderStatus, Payment};
use market_core::money::Money;
use market_core::order::status_at;

/// A listing as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Listing)]
pub struct ListingView {
    pub id: String,
    pub domain: String,
    pub domain_unicode: String,
    pub seller: String,
    #[schema(value_type = crate::schema::MoneySchema)]
    pub price: Money,
    /// The fee rate a sale would pay now, a decimal string (`"0.05"`).
    #[schema(value_type = String, pattern = r"^[0-9]+(\.[0-9]+)?$", example = "0.05")]
    pub fee_rate: Decimal,
    #[schema(value_type = crate::schema::ListingStatusSchema)]
    pub status: ListingStatus,
    /// Why it ended, e.g. `delisted`, `ends_at_passed`, `domain_expired` (shown as soon as
    /// the time passes, before any sweep, E1), a registry event, or `taken_down` (M3: an
    /// operator's takedown; its reason is shown to the seller only, in `takedown`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_reason: Option<String>,
    pub buyable_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The domain's expiry (a trade does not renew it, A3): buyers check it before they
    /// buy. Null for listings published before it was kept.
    #[schema(required = true)]
    pub domain_expires_at: Option<DateTime<Utc>>,
    pub description: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// M3: the operator's takedown, its reason and the appeal: in the seller's own views
    /// (`GET /me/listings`, the appeal) and the operators', never in public ones.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub takedown: Option<crate::compliance::TakedownView>,
    /// L10: `registrar` (a domain registered here, listed by its owner) or `partner` (fed
    /// by a partner platform; ordered with `payment`, delivered by the partner).
    #[schema(value_type = String, example = "registrar")]
    pub source: &'static str,
    /// L10: the partner's name, for partner listings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner: Option<String>,
}

impl ListingView {
    /// The listing at `now` as its seller (or an operator) sees it: with the takedown's
    /// reason and appeal (M3).
    pub fn for_seller(listing: &Listing, fee_rate: Decimal, now: DateTime<Utc>) -> ListingView {
        ListingView {
            takedown: market_core::compliance::takedown_of(listing)
                .map(|t| crate::compliance::TakedownView::from(&t)),
            ..ListingView::new(listing, fee_rate, now)
        }
    }

    /// The listing at `now` as the public sees it, with the fee rate a sale would pay now.
    /// M3: a takedown shows only as `end_reason: "taken_down"`.
    pub fn new(listing: &Listing, fee_rate: Decimal, now: DateTime<Utc>) -> ListingView {
        let (status, end_reason) = listing.status_at(now);
        let end_reason = market_core::compliance::public_end_reason(end_reason);
        ListingView {
            id: listing.id.to_string(),
            domain: listing.domain.to_string(),
            domain_unicode: listing.domain.unicode(),
            seller: listing.seller.to_string(),
            price: listing.price,
            fee_rate,
            status,
            end_reason,
            buyable_at: listing.buyable_at,
            ends_at: listing.ends_at,
            domain_expires_at: listing.domain_expires_at,
            description: listing.description.clone(),
            created_at: listing.created_at,
            updated_at: listing.updated_at,
            takedown: None,
            source: market_core::search::doc::source_of(listing),
            partner: listing.partner.as_ref().map(|p| p.name.clone()),
        }
    }
}

/// One domain of an order.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = OrderItem)]
pub struct OrderItemView {
    pub domain: String,
    pub domain_unicode: String,
    pub listing_id: String,
    pub seller: String,
    #[schema(value_type = crate::schema::MoneySchema)]
    pub price: Money,
    #[schema(value_type = crate::schema::ItemStatusSchema)]
    pub status: ItemStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::schema::MoneySchema>)]
    pub refund: Option<Money>,
}

/// An order as its buyer sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Order)]
pub struct OrderView {
    pub id: String,
    pub buyer: String,
    #[schema(value_type = crate::schema::OrderStatusSchema)]
    pub status: OrderStatus,
    #[schema(value_type = crate::schema::MoneySchema)]
    pub total: Money,
    pub items: Vec<OrderItemView>,
    pub pay_by: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<String>,
    /// Why the current payment attempt failed, when the buyer should know: e.g. it was
    /// paid through a credit instrument and refunded in full (O8); pay again while the
    /// window is open (O5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_failure_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paid_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<DateTime<Utc>>,
}

impl OrderView {
    /// The order at `now`.
    pub fn new(order: &Order, now: DateTime<Utc>) -> OrderView {
        OrderView {
            id: order.id.to_string(),
            buyer: order.buyer.to_string(),
            status: status_at(order, now),
            total: order.total,
            items: order
                .items
                .iter()
                .map(|i| OrderItemView {
                    domain: i.domain.to_string(),
                    domain_unicode: i.domain.unicode(),
                    listing_id: i.listing_id.to_string(),
                    seller: i.seller.to_string(),
                    price: i.price,
                    status: i.status,
                    failure: i.failure.clone(),
                    refund: i.refund,
                })
                .collect(),
            pay_by: order.pay_by,
            created_at: order.created_at,
            payment_id: order.payment.as_ref().map(|p| p.payment_id.to_string()),
            payment_failure_reason: order.payment.as_ref().and_then(|p| p.failure.clone()),
            paid_at: order.paid_at,
            completed_at: order.completed_at,
        }
    }
}

/// A payment attempt as `POST /orders/{id}/pay` answers it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Payment)]
pub struct PaymentView {
    pub payment_id: String,
    pub out_trade_no: String,
    #[schema(value_type = crate::schema::MoneySchema)]
    pub amount: Money,
    pub pay_url: String,
    pub expires_at: DateTime<Utc>,
}

impl PaymentView {
    /// The attempt with the provider's payment page.
    pub fn new(payment: &Payment, pay_url: String) -> PaymentView {
        PaymentView {
            payment_id: payment.id.to_string(),
            out_trade_no: payment.id.to_string(),
            amount: payment.amount,
            pay_url,
            expires_at: payment.expires_at,
        }
    }
}

/// A domain as its owner sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Domain)]
pub struct DomainView {
    pub domain: String,
    pub domain_unicode: String,
    pub owner: String,
    pub registered_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub transfer_lock_until: Option<DateTime<Utc>>,
    pub in_trade: bool,
    /// P9, P11: whether the domain may not be transferred out to another registrar now.
    pub transfer_out_locked: bool,
    /// Why not: `in_trade` or `transfer_locked`; null when it may.
    #[schema(required = true)]
    pub transfer_out_locked_reason: Option<String>,
}

impl DomainView {
    /// The domain at `now`.
    pub fn new(domain: &Domain, now: DateTime<Utc>) -> DomainView {
        let transfer = market_core::transfer::transfer_out(domain, now);
        DomainView {
            domain: domain.name.to_string(),
            domain_unicode: domain.name.unicode(),
            owner: domain.owner.to_string(),
            registered_at: domain.registered_at,
            expires_at: domain.expires_at,
            transfer_lock_until: domain.transfer_lock_until.filter(|t| *t > now),
            in_trade: domain.active_trade(now).is_some(),
            transfer_out_locked: transfer.locked(),
            transfer_out_locked_reason: transfer.reason.map(str::to_owned),
        }
    }
}

/// A page of a list (API.md conventions).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PageView<T> {
    pub items: Vec<T>,
    /// The cursor of the next page; null on the last.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}
