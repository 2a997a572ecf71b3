//! Double-entry ledger (S1). Every money movement is a journal whose postings sum to zero;
//! a journal's id is derived from what caused it, so a replay cannot write it twice.
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::ids::{AccountId, OrderId, PaymentId};
use super::model::{Order, OrderItem, Payment};
use super::money::Money;

/// A ledger account. Users see their `Escrow` and `Seller` accounts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LedgerAccount {
    /// Money at the payment provider: goes negative as buyers pay in.
    Provider,
    /// What a buyer has paid and the platform holds until the trade completes.
    Escrow(AccountId),
    /// A seller's proceeds (frozen until settlement, S4).
    Seller(AccountId),
    /// The platform's fee income.
    Fees,
}

impl LedgerAccount {
    /// The stable key the account's postings are stored under.
    pub fn key(&self) -> String {
        match self {
            LedgerAccount::Provider => "provider".into(),
            LedgerAccount::Escrow(id) => format!("escrow:{id}"),
            LedgerAccount::Seller(id) => format!("seller:{id}"),
            LedgerAccount::Fees => "fees".into(),
        }
    }
}

/// Why money moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    Payment,
    Purchase,
    Sale,
    Fee,
    Refund,
}

/// One side of a journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Posting {
    pub account: String,
    pub kind: EntryKind,
    /// Signed: positive is money the account holds more of.
    pub amount: Decimal,
    /// S4: proceeds are frozen until this time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settles_at: Option<DateTime<Utc>>,
}

/// A balanced set of postings with an id that names its cause.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Journal {
    pub id: String,
    pub at: DateTime<Utc>,
    pub order_id: Option<OrderId>,
    pub payment_id: Option<PaymentId>,
    pub domain: Option<String>,
    pub postings: Vec<Posting>,
}

/// One posting with the journal it belongs to: what an account's ledger lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub journal_id: String,
    pub at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<OrderId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<PaymentId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(flatten)]
    pub posting: Posting,
}

impl Journal {
    /// The journal's postings as ledger entries.
    pub fn entries(&self) -> Vec<Entry> {
        self.postings
            .iter()
            .map(|posting| Entry {
                journal_id: self.id.clone(),
                at: self.at,
                order_id: self.order_id.clone(),
                payment_id: self.payment_id.clone(),
                domain: self.domain.clone(),
                posting: posting.clone(),
            })
            .collect()
    }

    /// Whether the postings sum to zero (S1). Every constructor below guarantees it.
    pub fn is_balanced(&self) -> bool {
        self.postings
            .iter()
            .map(|p| p.amount)
            .sum::<Decimal>()
            .is_zero()
    }
}

fn posting(account: LedgerAccount, kind: EntryKind, amount: Decimal) -> Posting {
    Posting {
        account: account.key(),
        kind,
        amount,
        settles_at: None,
    }
}

/// S1: the buyer's money arrives at the provider and is held in escrow.
pub fn payment_received(payment: &Payment, at: DateTime<Utc>) -> Journal {
    let amount = payment.amount.amount();
    Journal {
        id: format!("payment:{}", payment.id),
        at,
        order_id: Some(payment.order_id.clone()),
        payment_id: Some(payment.id.clone()),
        domain: None,
        postings: vec![
            posting(LedgerAccount::Provider, EntryKind::Payment, -amount),
            posting(
                LedgerAccount::Escrow(payment.buyer.clone()),
                EntryKind::Payment,
                amount,
            ),
        ],
    }
}

/// L8, S1, S4: one domain delivered: escrow pays the seller the price, the seller pays the
/// fee (rate frozen on the item, rounded half-up), proceeds frozen until `settles_at`.
pub fn sale(
    order: &Order,
    item: &OrderItem,
    at: DateTime<Utc>,
    settles_at: DateTime<Utc>,
) -> Journal {
    let price = item.price.amount();
    let fee = item.price.percent_of(item.fee_rate).amount();
    let seller = LedgerAccount::Seller(item.seller.clone());
    let mut sale = posting(seller.clone(), EntryKind::Sale, price);
    sale.settles_at = Some(settles_at);
    let mut fee_paid = posting(seller, EntryKind::Fee, -fee);
    fee_paid.settles_at = Some(settles_at);
    Journal {
        id: format!("sale:{}:{}", order.id, item.domain),
        at,
        order_id: Some(order.id.clone()),
        payment_id: order.payment.as_ref().map(|p| p.payment_id.clone()),
        domain: Some(item.domain.to_string()),
        postings: vec![
            posting(
                LedgerAccount::Escrow(order.buyer.clone()),
                EntryKind::Purchase,
                -price,
            ),
            sale,
            fee_paid,
            posting(LedgerAccount::Fees, EntryKind::Fee, fee),
        ],
    }
}

/// E1, O9, S1: money in escrow that cannot buy anything goes back to the buyer.
/// `scope` names what is refunded (a domain, or the whole payment).
pub fn refund(payment: &Payment, scope: &str, amount: Money, at: DateTime<Utc>) -> Journal {
    let amount = amount.amount();
    Journal {
        id: format!("refund:{}:{scope}", payment.id),
        at,
        order_id: Some(payment.order_id.clone()),
        payment_id: Some(payment.id.clone()),
        domain: (scope != "all").then(|| scope.to_owned()),
        postings: vec![
            posting(
                LedgerAccount::Escrow(payment.buyer.clone()),
                EntryKind::Refund,
                -amount,
            ),
            posting(LedgerAccount::Provider, EntryKind::Refund, amount),
        ],
    }
}

/// S4: a seller's balances at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Balances {
    pub available: Decimal,
    pub frozen: Decimal,
}

/// S4: proceeds whose settlement time has passed are available, the rest frozen.
pub fn balances<'a>(
    postings: impl IntoIterator<Item = &'a Posting>,
    now: DateTime<Utc>,
) -> Balances {
    let mut b = Balances::default();
    for p in postings {
        match p.settles_at {
            Some(t) if t > now => b.frozen += p.amount,
            _ => b.available += p.amount,
        }
    }
    b.available.rescale(2);
    b.frozen.rescale(2);
    b
}
