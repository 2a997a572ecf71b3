//! The marketplace's entities as plain values. They are stored as JSON bodies of store items
//! (see `app::repo` for the key layout).
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::domain_name::DomainName;
use super::ids::{AccountId, DepositId, ListingId, OrderId, PaymentId, PushId};
use super::money::Money;

/// A registrar account as the marketplace sees it (A1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub id: AccountId,
    pub real_name_verified: bool,
    /// The verified real name: a payout names it, so the provider refuses a payee whose
    /// real name differs (S6).
    #[serde(default)]
    pub real_name: Option<String>,
    /// The bound Alipay account (an email or a 2088… id).
    pub payout_account: Option<String>,
    pub email: Option<String>,
    #[serde(default)]
    pub enterprise: bool,
    /// S3: the operator put the (enterprise) account on credit control: it may pay the
    /// platform by bank transfer.
    #[serde(default)]
    pub credit_control: bool,
    /// The language of the account's notices (N1).
    #[serde(default)]
    pub locale: crate::notice::Locale,
}

/// Registry state flags of a domain (A2, L2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DomainFlags {
    pub transfer_prohibited: bool,
    pub pending_operation: bool,
    pub restricted: bool,
    pub special_product: bool,
    pub blacklisted: bool,
}

/// What kind of trade holds a domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TradeKind {
    Listing,
    Push,
}

/// The trade a domain is held by, with its typed id (stored as `{"kind", "id"}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum TradeRef {
    Listing(ListingId),
    Push(PushId),
}

impl TradeRef {
    /// Listing or push.
    pub fn kind(&self) -> TradeKind {
        match self {
            TradeRef::Listing(_) => TradeKind::Listing,
            TradeRef::Push(_) => TradeKind::Push,
        }
    }

    /// The trade's id as text.
    pub fn id(&self) -> &str {
        match self {
            TradeRef::Listing(id) => id.as_str(),
            TradeRef::Push(id) => id.as_str(),
        }
    }
}

/// The trade holding a domain. A domain belongs to at most one trade; the hold lapses by
/// itself at `until` (a listing's end time), so a late sweep never keeps a domain stuck.
///
/// A listing's hold also carries what an order needs of it (`terms`) and the order awaiting
/// payment for it (`order`, L5), so that a cart reads and holds one item per domain: 500
/// domains are 5 reads and 5 transactions, not twice that (issue 15). Both are written with
/// the listing in one transaction whenever they change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradeHold {
    #[serde(flatten)]
    pub trade: TradeRef,
    pub until: Option<DateTime<Utc>>,
    /// A listing's terms. Absent on a push, and on listings published before they were
    /// kept here (an order then reads the listing, and writes them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terms: Option<ListingTerms>,
    /// L5: the order awaiting payment for the listing. It lapses at its own `until`, and
    /// holds the domain past the listing's end while it lasts (L2.9).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<OrderHold>,
}

/// What an order reads of the listing holding a domain (O1, L4): kept on the domain's
/// trade hold, written with the listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingTerms {
    pub seller: AccountId,
    pub price: Money,
    /// L4: not orderable before this time.
    pub buyable_at: DateTime<Utc>,
}

impl ListingTerms {
    /// The terms of `listing`.
    pub fn of(listing: &Listing) -> ListingTerms {
        ListingTerms {
            seller: listing.seller.clone(),
            price: listing.price,
            buyable_at: listing.buyable_at,
        }
    }
}

impl TradeHold {
    /// An active listing's hold on its domain: until its end time, with its terms and no
    /// order.
    pub fn of_listing(listing: &Listing) -> TradeHold {
        TradeHold {
            trade: TradeRef::Listing(listing.id.clone()),
            until: Some(listing.ends_at),
            terms: Some(ListingTerms::of(listing)),
            order: None,
        }
    }

    /// L5: the order awaiting payment inside its window at `now`, if any.
    pub fn live_order(&self, now: DateTime<Utc>) -> Option<&OrderHold> {
        self.order.as_ref().filter(|h| h.until > now)
    }

    /// Whether the trade holds its domain at `now`: until its own end, and past it while an
    /// order placed in time awaits payment (L2.9, L5).
    pub fn holds_at(&self, now: DateTime<Utc>) -> bool {
        self.until.is_none_or(|until| until > now) || self.live_order(now).is_some()
    }

    /// When the hold ends by time alone, if it does: the later of its end and its order's.
    pub fn lapses_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let order = self.live_order(now).map(|h| h.until);
        self.until
            .map(|until| order.map_or(until, |o| o.max(until)))
    }

    /// Listing or push.
    pub fn kind(&self) -> TradeKind {
        self.trade.kind()
    }

    /// The trade's id as text.
    pub fn id(&self) -> &str {
        self.trade.id()
    }

    /// The listing holding the domain, if a listing does.
    pub fn listing(&self) -> Option<&ListingId> {
        match &self.trade {
            TradeRef::Listing(id) => Some(id),
            TradeRef::Push(_) => None,
        }
    }
}

/// A domain managed by the registrar (A2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Domain {
    pub name: DomainName,
    pub owner: AccountId,
    pub registered_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    #[serde(default)]
    pub flags: DomainFlags,
    #[serde(default)]
    pub trade: Option<TradeHold>,
    /// P9: no transfer-out to another registrar before this time.
    #[serde(default)]
    pub transfer_lock_until: Option<DateTime<Utc>>,
    /// L6: deleted at the registry (kept for history; no longer anyone's to trade).
    #[serde(default)]
    pub deleted: bool,
}

impl Domain {
    /// The trade holding the domain at `now`, if its hold has not lapsed (an order awaiting
    /// payment keeps it, L2.9).
    pub fn active_trade(&self, now: DateTime<Utc>) -> Option<&TradeHold> {
        self.trade.as_ref().filter(|t| t.holds_at(now))
    }
}

/// Lifecycle of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListingStatus {
    Active,
    Sold,
    Ended,
}

/// An order's claim on a listing while it awaits payment. It lapses at `until` by itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderHold {
    pub order_id: OrderId,
    pub buyer: AccountId,
    pub until: DateTime<Utc>,
}

/// A fixed-price listing (L1, L3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Listing {
    pub id: ListingId,
    pub domain: DomainName,
    pub seller: AccountId,
    pub price: Money,
    pub status: ListingStatus,
    pub end_reason: Option<String>,
    /// L4: not orderable before this time.
    pub buyable_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub description: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The order awaiting payment for it, if any (L5).
    pub hold: Option<OrderHold>,
    pub sold_to: Option<AccountId>,
    /// L6, L7 (E1): the domain's expiry, kept with the listing (and moved with it when the
    /// registrar renews the domain), so that the listing's status at any time is known
    /// without reading the domain: past it, the listing has ended even before the sweeper
    /// records it. Absent on listings written before it was kept.
    #[serde(default)]
    pub domain_expires_at: Option<DateTime<Utc>>,
    /// M4 (`deals`): the price it was first published at, so that a price drop can be
    /// measured; absent on listings written before it was kept (then no drop is known).
    #[serde(default)]
    pub first_price: Option<Money>,
    /// M3: an operator's takedown and the seller's appeal, kept for the seller (the public
    /// sees only `end_reason: "taken_down"`). Kept after a restore, as the listing's history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub takedown: Option<super::compliance::Takedown>,
    /// L10: a partner's listing (a domain not registered here; `seller` is the partner's
    /// placeholder account). Absent: the registrar's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner: Option<super::partner::PartnerRef>,
}

impl Listing {
    /// The hold of an order still inside its payment window at `now`.
    pub fn live_hold(&self, now: DateTime<Utc>) -> Option<&OrderHold> {
        self.hold.as_ref().filter(|h| h.until > now)
    }

    /// The status as of `now`: an active listing whose end time (L3) or domain's expiry
    /// (L7) has passed is ended even before the sweeper gets to it (E1); of the two, the
    /// one that came first gives the reason.
    pub fn status_at(&self, now: DateTime<Utc>) -> (ListingStatus, Option<String>) {
        match (self.status, self.lapse()) {
            (ListingStatus::Active, (at, reason)) if at <= now => {
                (ListingStatus::Ended, Some(reason.into()))
            }
            (status, _) => (status, self.end_reason.clone()),
        }
    }

    /// When an active listing leaves the market by time alone, and why: its end time, or
    /// its domain's expiry if that comes first.
    pub fn lapse(&self) -> (DateTime<Utc>, &'static str) {
        match self.domain_expires_at {
            Some(expiry) if expiry < self.ends_at => (expiry, "domain_expired"),
            _ => (self.ends_at, "ends_at_passed"),
        }
    }
}

/// Lifecycle of an order (API.md Orders).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    AwaitingPayment,
    Processing,
    Paid,
    Completed,
    Failed,
    Expired,
    Cancelled,
}

impl OrderStatus {
    /// Whether the order still waits for its money.
    pub fn is_unpaid(self) -> bool {
        matches!(self, OrderStatus::AwaitingPayment | OrderStatus::Processing)
    }
}

/// Delivery state of one domain of an order (O9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    Pending,
    Completed,
    Failed,
}

/// One domain of an order, with the price and fee rate frozen at order time (S5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderItem {
    pub domain: DomainName,
    pub listing_id: ListingId,
    pub seller: AccountId,
    pub price: Money,
    pub fee_rate: Decimal,
    pub status: ItemStatus,
    pub failure: Option<String>,
    pub refund: Option<Money>,
}

/// The current payment attempt of an order or a push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRef {
    pub payment_id: PaymentId,
    pub status: PaymentStatus,
    /// Why the attempt failed, when the buyer should know (O8: paid by credit, refunded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

/// O9: the registrant details of a contact template: what the registrar core writes on a
/// domain that changes hands to its account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrantContact {
    /// The template's id (unique within its account).
    pub id: String,
    pub name: String,
    pub organisation: Option<String>,
    pub email: String,
    pub phone: String,
    pub address: String,
    pub country: String,
}

/// O9: a contact template of an account, set by operators; only a verified one can be
/// the registrant of a domain bought or pushed to the account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub account: AccountId,
    #[serde(flatten)]
    pub details: RegistrantContact,
    pub verified: bool,
    /// The account's default template (at most one is).
    pub default: bool,
    pub updated_at: DateTime<Utc>,
}

/// One payment group of a cart (O2), paid in one payment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub id: OrderId,
    pub buyer: AccountId,
    pub items: Vec<OrderItem>,
    pub total: Money,
    pub status: OrderStatus,
    /// O3: the end of the payment window.
    pub pay_by: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub payment: Option<PaymentRef>,
    pub paid_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    /// An ended order still to free some of its listings: an order of more listings than
    /// one transaction takes ends first, then frees them in further transactions; the
    /// sweep finishes what a crash interrupted (the holds also lapse by themselves).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub releasing: bool,
    /// O9: the buyer's registrant contact chosen at order time (a template); `None`: the
    /// buyer's verified identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<RegistrantContact>,
}

/// State of one payment attempt at the provider (O6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Created; the provider's result is not back yet.
    Pending,
    Succeeded,
    Failed,
    /// The money came but could not buy anything; it was sent back (E1, S1).
    Refunded,
}

/// A payment attempt. Its id is the `out_trade_no` the provider knows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payment {
    pub id: PaymentId,
    pub purchase: Purchase,
    pub buyer: AccountId,
    pub amount: Money,
    pub status: PaymentStatus,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub trade_no: Option<String>,
    pub settled_at: Option<DateTime<Utc>>,
    /// An order's first delivery batch, known when its payment starts: the notification
    /// that pays it reads these listings and domains with the order in one request
    /// (issue 15). Empty for other purchases and for payments recorded before it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub delivers: Vec<DeliveryKey>,
}

/// A domain of an order and the listing it is bought from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryKey {
    pub listing_id: ListingId,
    pub domain: DomainName,
}

impl Payment {
    /// The order this payment is for, if it is for an order.
    pub fn order_id(&self) -> Option<&OrderId> {
        match &self.purchase {
            Purchase::Order(id) => Some(id),
            Purchase::Push(_)
            | Purchase::TopUp
            | Purchase::Deposit(_)
            | Purchase::PartnerOrder(_) => None,
        }
    }

    /// The push this payment is for, if it is for a push.
    pub fn push_id(&self) -> Option<&PushId> {
        match &self.purchase {
            Purchase::Push(id) => Some(id),
            Purchase::Order(_)
            | Purchase::TopUp
            | Purchase::Deposit(_)
            | Purchase::PartnerOrder(_) => None,
        }
    }
}

/// State of a refund at the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    /// Recorded in the ledger; the provider has not confirmed it yet (retried).
    Pending,
    Confirmed,
}

/// Money going back to a buyer through the provider (E1, O9, S1). It is written with its
/// refund journal, then sent until the provider confirms it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refund {
    /// Our id at the provider (`out_request_no`): the provider refunds it at most once.
    pub id: String,
    pub journal_id: String,
    pub payment_id: PaymentId,
    pub buyer: AccountId,
    pub amount: Money,
    pub reason: String,
    pub status: RefundStatus,
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
}

/// S4: a sale's proceeds waiting for the end of their settlement period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingSettlement {
    pub sale_journal_id: String,
    pub seller: AccountId,
    pub due_at: DateTime<Utc>,
    pub settled: bool,
    /// Set when the sale was clawed back before it settled: nothing is left to settle.
    #[serde(default)]
    pub cancelled: bool,
}

/// S5: a fee rate for a trade kind, in force from `from` until `until` (open ends allowed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeePeriod {
    pub kind: FeeKind,
    pub rate: Decimal,
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// S5: when the change was announced (its notice runs from here); absent on periods set
    /// before notices were kept.
    #[serde(default)]
    pub announced_at: Option<DateTime<Utc>>,
    /// S5: a pure reduction or waiver, which took effect without notice.
    #[serde(default)]
    pub reduction: bool,
}

/// The trade kinds that carry a fee policy (L8, P8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeeKind {
    FixedPrice,
    Push,
}

impl FeePeriod {
    /// Whether the period covers `at`.
    pub fn covers(&self, at: DateTime<Utc>) -> bool {
        self.from.is_none_or(|f| f <= at) && self.until.is_none_or(|u| at < u)
    }
}

/// S5: the rate in force at `at`: the most recently set period covering it, else `default`.
pub fn fee_rate_at(periods: &[FeePeriod], at: DateTime<Utc>, default: Decimal) -> Decimal {
    periods
        .iter()
        .filter(|p| p.covers(at))
        .max_by_key(|p| p.created_at)
        .map_or(default, |p| p.rate)
}

/// What a payment pays for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purchase {
    Order(OrderId),
    Push(PushId),
    /// L10: money into the buyer's account balance (its id is the payment's).
    TopUp,
    /// L10: a partner order paid online.
    PartnerOrder(OrderId),
    /// M1: a seller's deposit for a listing category.
    Deposit(DepositId),
}

/// Lifecycle of a priced push (API.md Pushes, P1–P10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PushStatus {
    Pending,
    /// Accepted by the buyer; payment open.
    Accepted,
    /// Paid, not locked: waiting for the seller to confirm the change of registrant (P9).
    AwaitingSellerConfirmation,
    Completed,
    Withdrawn,
    Rejected,
    Expired,
    /// A domain could not be delivered at payment: nothing moved, the buyer refunded (P4).
    Failed,
    TakenDown,
}

impl PushStatus {
    /// Whether the push has ended (its domains are free again, or delivered).
    pub fn is_final(self) -> bool {
        !matches!(
            self,
            PushStatus::Pending | PushStatus::Accepted | PushStatus::AwaitingSellerConfirmation
        )
    }
}

/// A priced push: a seller offers domains to one named buyer at one price (P1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Push {
    pub id: PushId,
    pub seller: AccountId,
    pub buyer: AccountId,
    pub domains: Vec<DomainName>,
    pub price: Money,
    /// P8: the registry's transfer fee for these domains, paid by the buyer on top.
    pub transfer_fee: Money,
    pub lock_60d: bool,
    pub buyer_email: Option<String>,
    pub message: Option<String>,
    pub status: PushStatus,
    pub end_reason: Option<String>,
    /// P5: pending until then at most.
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// S5: the push fee rate in force when it was published (0 by default, P8).
    pub fee_rate: Decimal,
    pub payment: Option<PaymentRef>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
    /// P9: when an unconfirmed change is forced.
    pub confirm_by: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    /// P9: set when the change of registrant was forced (the 60-day lock runs from here).
    pub forced_at: Option<DateTime<Utc>>,
    /// O9: the buyer's registrant contact chosen at acceptance (a template); `None`: the
    /// buyer's verified identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<RegistrantContact>,
}

impl Push {
    /// What the buyer pays: the price and the registry's transfer fee.
    pub fn amount_due(&self) -> Money {
        Money::sum([self.price, self.transfer_fee])
    }
}
