//! Double-entry ledger (S1). Every money movement is a journal whose postings sum to zero;
//! a journal's id is derived from what caused it, so a replay cannot write it twice.
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::ids::{AccountId, DepositId, OrderId, PaymentId, PayoutId, PushId};
use super::model::{Order, OrderItem, Payment, Push};
use super::money::Money;
use super::payout::Payout;

/// A ledger account. Users see their `Escrow` and `Seller` accounts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LedgerAccount {
    /// Money at the payment provider: goes negative as buyers pay in.
    Provider,
    /// What a buyer has paid and the platform holds until the trade completes.
    Escrow(AccountId),
    /// A seller's settled proceeds: available to withdraw (S4).
    Seller(AccountId),
    /// A seller's proceeds before the settlement period ends: frozen (S4).
    SellerFrozen(AccountId),
    /// The platform's fee income.
    Fees,
    /// Registry transfer fees collected for the registry (P8).
    Registry,
    /// A seller's payouts on their way to the bound account (S6).
    PayoutPending(AccountId),
    /// L10: a buyer's account balance (topped up, spent by partner orders, refunded to).
    BuyerBalance(AccountId),
    /// L10: what the platform owes a partner for its delivered sales.
    PartnerPayable(String),
    /// L10: offline bank transfers received (goes negative as buyers pay in).
    BankTransfers,
    /// M1: the deposits a seller holds with the platform (returned on exit).
    Deposits(AccountId),
    /// M1: deposits forfeited by an operator's ruling: the platform's.
    DepositsForfeited,
}

impl LedgerAccount {
    /// The stable key the account's postings are stored under.
    pub fn key(&self) -> String {
        match self {
            LedgerAccount::Provider => "provider".into(),
            LedgerAccount::Escrow(id) => format!("escrow:{id}"),
            LedgerAccount::Seller(id) => format!("seller:{id}"),
            LedgerAccount::SellerFrozen(id) => format!("seller_frozen:{id}"),
            LedgerAccount::Fees => "fees".into(),
            LedgerAccount::Registry => "registry".into(),
            LedgerAccount::PayoutPending(id) => format!("payout_pending:{id}"),
            LedgerAccount::BuyerBalance(id) => format!("balance:{id}"),
            LedgerAccount::PartnerPayable(id) => format!("partner:{id}"),
            LedgerAccount::BankTransfers => "bank_transfers".into(),
            LedgerAccount::Deposits(id) => format!("deposits:{id}"),
            LedgerAccount::DepositsForfeited => "deposits_forfeited".into(),
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
    Settlement,
    TransferFee,
    Clawback,
    /// S6: money paid out to the seller's bound account (or on its way there).
    Payout,
    /// S6: a payout that failed, its amount back in available.
    PayoutReturned,
    /// M1: a deposit paid in and held.
    Deposit,
    /// M1: (part of) a deposit forfeited by an operator.
    DepositForfeit,
    /// M1: a deposit returned on exit.
    DepositRefund,
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_id: Option<PushId>,
    pub payment_id: Option<PaymentId>,
    pub domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payout_id: Option<PayoutId>,
    /// Why the money moved, where a person needs to know (a failed payout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub postings: Vec<Posting>,
}

/// One posting with the journal it belongs to: what an account's ledger lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub journal_id: String,
    pub at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<OrderId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_id: Option<PushId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<PaymentId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payout_id: Option<PayoutId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
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
                push_id: self.push_id.clone(),
                payment_id: self.payment_id.clone(),
                domain: self.domain.clone(),
                payout_id: self.payout_id.clone(),
                reason: self.reason.clone(),
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

pub(crate) fn posting(account: LedgerAccount, kind: EntryKind, amount: Decimal) -> Posting {
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
        order_id: payment.order_id().cloned(),
        push_id: payment.push_id().cloned(),
        payment_id: Some(payment.id.clone()),
        domain: None,
        payout_id: None,
        reason: None,
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
/// fee (rate frozen on the item, rounded half-up); the proceeds land frozen and are settled
/// at `settles_at` by [`settlement`].
pub fn sale(
    order: &Order,
    item: &OrderItem,
    at: DateTime<Utc>,
    settles_at: DateTime<Utc>,
) -> Journal {
    let price = item.price.amount();
    let fee = item.price.percent_of(item.fee_rate).amount();
    let frozen = LedgerAccount::SellerFrozen(item.seller.clone());
    let mut sale = posting(frozen.clone(), EntryKind::Sale, price);
    sale.settles_at = Some(settles_at);
    let mut fee_paid = posting(frozen, EntryKind::Fee, -fee);
    fee_paid.settles_at = Some(settles_at);
    Journal {
        id: format!("sale:{}:{}", order.id, item.domain),
        at,
        order_id: Some(order.id.clone()),
        push_id: None,
        payment_id: order.payment.as_ref().map(|p| p.payment_id.clone()),
        domain: Some(item.domain.to_string()),
        payout_id: None,
        reason: None,
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

/// P8, P9, S1: a completed push: escrow pays the seller the price (less the push fee, 0 by
/// default) and the registry its transfer fee; proceeds land frozen until `settles_at`.
pub fn push_sale(push: &Push, at: DateTime<Utc>, settles_at: DateTime<Utc>) -> Journal {
    let price = push.price.amount();
    let fee = push.price.percent_of(push.fee_rate).amount();
    let frozen = LedgerAccount::SellerFrozen(push.seller.clone());
    let mut postings = vec![
        posting(
            LedgerAccount::Escrow(push.buyer.clone()),
            EntryKind::Purchase,
            -push.amount_due().amount(),
        ),
        Posting {
            settles_at: Some(settles_at),
            ..posting(frozen.clone(), EntryKind::Sale, price)
        },
    ];
    if !fee.is_zero() {
        postings.push(Posting {
            settles_at: Some(settles_at),
            ..posting(frozen, EntryKind::Fee, -fee)
        });
        postings.push(posting(LedgerAccount::Fees, EntryKind::Fee, fee));
    }
    if !push.transfer_fee.amount().is_zero() {
        postings.push(posting(
            LedgerAccount::Registry,
            EntryKind::TransferFee,
            push.transfer_fee.amount(),
        ));
    }
    Journal {
        id: format!("sale:{}", push.id),
        at,
        order_id: None,
        push_id: Some(push.id.clone()),
        payment_id: push.payment.as_ref().map(|p| p.payment_id.clone()),
        domain: None,
        payout_id: None,
        reason: None,
        postings,
    }
}

/// The seller's net proceeds of a sale journal (what settlement moves).
pub fn net_proceeds(sale: &Journal) -> Decimal {
    sale.postings
        .iter()
        .filter(|p| p.account.starts_with("seller_frozen:"))
        .map(|p| p.amount)
        .sum()
}

/// S4: once the settlement period of a sale ends, its net proceeds move from frozen to
/// available.
pub fn settlement(sale: &Journal, seller: &AccountId, at: DateTime<Utc>) -> Journal {
    let net = net_proceeds(sale);
    Journal {
        id: format!("settle:{}", sale.id.trim_start_matches("sale:")),
        at,
        order_id: sale.order_id.clone(),
        push_id: sale.push_id.clone(),
        payment_id: sale.payment_id.clone(),
        domain: sale.domain.clone(),
        payout_id: None,
        reason: None,
        postings: vec![
            posting(
                LedgerAccount::SellerFrozen(seller.clone()),
                EntryKind::Settlement,
                -net,
            ),
            posting(
                LedgerAccount::Seller(seller.clone()),
                EntryKind::Settlement,
                net,
            ),
        ],
    }
}

/// S4: a completed sale refunded by an operator's ruling: the buyer gets the price back
/// through the provider and the seller bears all of it, by the authorised deduction: the
/// net proceeds from wherever they sit (frozen, or available once settled), the fee from the
/// available balance (which may go negative: a debt). The platform's fee account is never
/// touched.
pub fn clawback(
    sale: &Journal,
    seller: &AccountId,
    settled: bool,
    price: Money,
    at: DateTime<Utc>,
) -> Journal {
    let net = net_proceeds(sale);
    let fee = price.amount() - net;
    let net_account = if settled {
        LedgerAccount::Seller(seller.clone())
    } else {
        LedgerAccount::SellerFrozen(seller.clone())
    };
    let mut postings = vec![
        posting(net_account, EntryKind::Clawback, -net),
        posting(LedgerAccount::Provider, EntryKind::Refund, price.amount()),
    ];
    if !fee.is_zero() {
        postings.insert(
            1,
            posting(
                LedgerAccount::Seller(seller.clone()),
                EntryKind::Clawback,
                -fee,
            ),
        );
    }
    Journal {
        id: format!("clawback:{}", sale.id.trim_start_matches("sale:")),
        at,
        order_id: sale.order_id.clone(),
        push_id: sale.push_id.clone(),
        payment_id: sale.payment_id.clone(),
        domain: sale.domain.clone(),
        payout_id: None,
        reason: None,
        postings,
    }
}

/// E1, O9, S1: money in escrow that cannot buy anything goes back to the buyer.
/// `scope` names what is refunded (a domain, or the whole payment).
pub fn refund(payment: &Payment, scope: &str, amount: Money, at: DateTime<Utc>) -> Journal {
    let amount = amount.amount();
    Journal {
        id: format!("refund:{}:{scope}", payment.id),
        at,
        order_id: payment.order_id().cloned(),
        push_id: payment.push_id().cloned(),
        payment_id: Some(payment.id.clone()),
        domain: (scope != "all").then(|| scope.to_owned()),
        payout_id: None,
        reason: None,
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

/// S6: a payout leaves `available` when it is requested and waits in the seller's
/// in-flight account until the provider confirms the transfer.
pub fn payout_requested(payout: &Payout) -> Journal {
    payout_journal(
        format!("payout:{}", payout.id),
        payout,
        payout.created_at,
        None,
        [
            posting(
                LedgerAccount::Seller(payout.seller.clone()),
                EntryKind::Payout,
                -payout.amount.amount(),
            ),
            posting(
                LedgerAccount::PayoutPending(payout.seller.clone()),
                EntryKind::Payout,
                payout.amount.amount(),
            ),
        ],
    )
}

/// S6: the provider paid the payout to the bound account: the money leaves the platform.
pub fn payout_paid(payout: &Payout, at: DateTime<Utc>) -> Journal {
    payout_journal(
        format!("payout_paid:{}", payout.id),
        payout,
        at,
        None,
        [
            posting(
                LedgerAccount::PayoutPending(payout.seller.clone()),
                EntryKind::Payout,
                -payout.amount.amount(),
            ),
            posting(
                LedgerAccount::Provider,
                EntryKind::Payout,
                payout.amount.amount(),
            ),
        ],
    )
}

/// S6: a payout refused or given up: the amount goes back to `available`, with the reason.
pub fn payout_returned(payout: &Payout, reason: &str, at: DateTime<Utc>) -> Journal {
    payout_journal(
        format!("payout_returned:{}", payout.id),
        payout,
        at,
        Some(reason.to_owned()),
        [
            posting(
                LedgerAccount::PayoutPending(payout.seller.clone()),
                EntryKind::PayoutReturned,
                -payout.amount.amount(),
            ),
            posting(
                LedgerAccount::Seller(payout.seller.clone()),
                EntryKind::PayoutReturned,
                payout.amount.amount(),
            ),
        ],
    )
}

fn payout_journal(
    id: String,
    payout: &Payout,
    at: DateTime<Utc>,
    reason: Option<String>,
    postings: [Posting; 2],
) -> Journal {
    Journal {
        id,
        at,
        order_id: None,
        push_id: None,
        payment_id: None,
        domain: None,
        payout_id: Some(payout.id.clone()),
        reason,
        postings: postings.into(),
    }
}

/// A journal of a deposit (M1): no order, push or payout.
fn deposit_journal(
    id: String,
    payment: &Payment,
    at: DateTime<Utc>,
    reason: Option<String>,
    postings: Vec<Posting>,
) -> Journal {
    Journal {
        id,
        at,
        order_id: None,
        push_id: None,
        payment_id: Some(payment.id.clone()),
        domain: None,
        payout_id: None,
        reason,
        postings,
    }
}

/// M1: a paid deposit moves from the seller's escrow (where [`payment_received`] put it)
/// into the seller's deposits account. Its id names the deposit: written once.
pub fn deposit_held(deposit: &DepositId, payment: &Payment, at: DateTime<Utc>) -> Journal {
    let amount = payment.amount.amount();
    deposit_journal(
        format!("deposit:{deposit}"),
        payment,
        at,
        None,
        vec![
            posting(
                LedgerAccount::Escrow(payment.buyer.clone()),
                EntryKind::Deposit,
                -amount,
            ),
            posting(
                LedgerAccount::Deposits(payment.buyer.clone()),
                EntryKind::Deposit,
                amount,
            ),
        ],
    )
}

/// M1: the `n`th forfeit of a deposit (an operator's ruling, with its reason): from the
/// seller's deposits to the platform.
pub fn deposit_forfeited(
    deposit: &DepositId,
    n: usize,
    payment: &Payment,
    amount: Decimal,
    reason: &str,
    at: DateTime<Utc>,
) -> Journal {
    deposit_journal(
        format!("deposit_forfeit:{deposit}:{n}"),
        payment,
        at,
        Some(reason.to_owned()),
        vec![
            posting(
                LedgerAccount::Deposits(payment.buyer.clone()),
                EntryKind::DepositForfeit,
                -amount,
            ),
            posting(
                LedgerAccount::DepositsForfeited,
                EntryKind::DepositForfeit,
                amount,
            ),
        ],
    )
}

/// M1, M2: what is left of a deposit goes back through the provider on exit.
pub fn deposit_refunded(
    deposit: &DepositId,
    payment: &Payment,
    amount: Decimal,
    at: DateTime<Utc>,
) -> Journal {
    deposit_journal(
        format!("deposit_refund:{deposit}"),
        payment,
        at,
        None,
        vec![
            posting(
                LedgerAccount::Deposits(payment.buyer.clone()),
                EntryKind::DepositRefund,
                -amount,
            ),
            posting(LedgerAccount::Provider, EntryKind::DepositRefund, amount),
        ],
    )
}

/// S4, S6: a seller's balances: `available` (settled, withdrawable), `frozen` (before the
/// settlement period ends) and `paying_out` (payouts not confirmed yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Balances {
    pub available: Decimal,
    pub frozen: Decimal,
    pub paying_out: Decimal,
}

/// S4, S6: each balance is the sum of its account's postings.
pub fn balances<'a>(postings: impl IntoIterator<Item = &'a Posting>) -> Balances {
    let mut b = Balances::default();
    for p in postings {
        if p.account.starts_with("seller_frozen:") {
            b.frozen += p.amount;
        } else if p.account.starts_with("seller:") {
            b.available += p.amount;
        } else if p.account.starts_with("payout_pending:") {
            b.paying_out += p.amount;
        }
    }
    b.available.rescale(2);
    b.frozen.rescale(2);
    b.paying_out.rescale(2);
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain_name::DomainName;
    use crate::ids::ListingId;
    use crate::model::{ItemStatus, OrderStatus};

    fn order_with(price: &str, rate: &str) -> (Order, OrderItem) {
        let at: DateTime<Utc> = "2026-11-22T07:00:00Z".parse().unwrap();
        let item = OrderItem {
            domain: DomainName::parse("example.com").unwrap(),
            listing_id: ListingId::mint(ulid::Ulid::nil()),
            seller: AccountId::parse("alice").unwrap(),
            price: Money::parse(price).unwrap(),
            fee_rate: rate.parse().unwrap(),
            status: ItemStatus::Pending,
            failure: None,
            refund: None,
        };
        let order = Order {
            id: OrderId::mint(ulid::Ulid::nil()),
            buyer: AccountId::parse("bob").unwrap(),
            items: vec![item.clone()],
            total: item.price,
            status: OrderStatus::Paid,
            pay_by: at,
            created_at: at,
            updated_at: at,
            payment: None,
            paid_at: None,
            completed_at: None,
            releasing: false,
            contact: None,
        };
        (order, item)
    }

    #[test]
    fn s1_l8_a_sale_balances_and_charges_the_fee_half_up() {
        let (order, item) = order_with("12.50", "0.01");
        let at = order.created_at;
        let journal = sale(&order, &item, at, at);
        assert!(journal.is_balanced());
        let b = balances(&journal.postings);
        assert_eq!(
            (b.frozen.to_string(), b.available.to_string()),
            ("12.37".into(), "0.00".into())
        );
        let settled = settlement(&journal, &item.seller, at);
        assert!(settled.is_balanced());
        let all: Vec<Posting> = journal
            .postings
            .iter()
            .chain(&settled.postings)
            .cloned()
            .collect();
        let b = balances(&all);
        assert_eq!(
            (b.frozen.to_string(), b.available.to_string()),
            ("0.00".into(), "12.37".into())
        );
    }

    #[test]
    fn s4_a_clawback_takes_the_whole_price_from_the_seller_never_from_fees() {
        let (order, item) = order_with("100.00", "0.01");
        let at = order.created_at;
        let sale_journal = sale(&order, &item, at, at);
        for settled in [false, true] {
            let back = clawback(&sale_journal, &item.seller, settled, item.price, at);
            assert!(back.is_balanced());
            assert!(back.postings.iter().all(|p| p.account != "fees"));
            let from_seller: Decimal = back
                .postings
                .iter()
                .filter(|p| p.account.contains("alice"))
                .map(|p| p.amount)
                .sum();
            assert_eq!(from_seller.to_string(), "-100.00");
        }
    }

    #[test]
    fn s5_a_waived_fee_leaves_the_whole_price_to_the_seller() {
        let (order, item) = order_with("99.99", "0");
        let journal = sale(&order, &item, order.created_at, order.created_at);
        assert_eq!(net_proceeds(&journal).to_string(), "99.99");
    }
}
