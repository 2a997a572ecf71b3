//! M1: listing categories and sellers' deposits. A category is an operator-defined set of
//! TLDs with an optional deposit; a seller lists a domain of a category with a deposit only
//! while holding that deposit in full (the seed: 缴纳保证金, one per category, amounts add up
//! over categories; a seller short after a raise must top it up, 须补齐保证金).
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::domain_name::DomainName;
use super::error::{Code, Problem};
use super::ids::{AccountId, DepositId};
use super::model::PaymentRef;
use super::money::Money;

/// The most TLDs one category may name.
pub const MAX_TLDS: usize = 200;
/// The longest forfeit reason.
pub const MAX_REASON_CHARS: usize = 500;

/// A listing category (M1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Category {
    pub name: String,
    /// TLDs in normal form (`cn`, `xn--fiqs8s`), sorted, no duplicates.
    pub tlds: Vec<String>,
    /// The deposit needed to list in it; none: free to list.
    pub deposit: Option<Money>,
    pub updated_at: DateTime<Utc>,
}

/// A category name: 1–64 of `a-z 0-9 _ -` (it sits in paths and keys).
pub fn parse_category_name(text: &str) -> Result<String, Problem> {
    let ok = !text.is_empty()
        && text.len() <= 64
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if ok {
        Ok(text.to_owned())
    } else {
        Err(Problem::new(
            Code::InvalidRequest,
            format!("`{text}` is not a category name (1–64 of a-z, 0-9, _ and -)"),
        ))
    }
}

/// A4 for TLDs: each given in Unicode or punycode (`中国` = `xn--fiqs8s`), with or without
/// the dot, normalised through the same IDNA code as domain names; at least one.
pub fn normalise_tlds(tlds: &[String]) -> Result<Vec<String>, Problem> {
    if tlds.is_empty() || tlds.len() > MAX_TLDS {
        return Err(Problem::new(
            Code::InvalidRequest,
            format!("a category names 1 to {MAX_TLDS} TLDs"),
        ));
    }
    let mut out = Vec::with_capacity(tlds.len());
    for tld in tlds {
        let bare = tld.trim().trim_start_matches('.');
        let invalid = || Problem::new(Code::InvalidRequest, format!("`{tld}` is not a TLD"));
        if bare.is_empty() || bare.contains('.') {
            return Err(invalid());
        }
        let name = DomainName::parse(&format!("x.{bare}")).map_err(|_| invalid())?;
        out.push(name.tld().to_owned());
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// What a seller holds, per category (the sum of their deposits' held amounts).
pub type Held = BTreeMap<String, Decimal>;

/// M1: the deposit still missing in `category` for a seller holding `held`.
pub fn shortfall(category: &Category, held: &Held) -> Decimal {
    let need = category.deposit.map_or(Decimal::ZERO, Money::amount);
    let have = held.get(&category.name).copied().unwrap_or_default();
    let mut missing = (need - have).max(Decimal::ZERO);
    missing.rescale(2);
    missing
}

/// M1: whether a seller holding `held` may list a domain with this TLD: every category
/// naming the TLD that needs a deposit must have it held in full. The refusal names the
/// first category short and the amount missing there.
pub fn check_deposit(categories: &[Category], tld: &str, held: &Held) -> Result<(), Problem> {
    for category in categories
        .iter()
        .filter(|c| c.tlds.iter().any(|t| t == tld))
    {
        let missing = shortfall(category, held);
        if !missing.is_zero() {
            return Err(Problem::new(
                Code::DepositRequired,
                format!(
                    "listing a .{tld} domain needs the `{}` deposit: {missing:.2} more to pay (POST /me/deposits)",
                    category.name
                ),
            )
            .with_amount(missing));
        }
    }
    Ok(())
}

/// A seller's standing as a seller (M1, M2): what they hold per category, the deposit
/// payments open, and whether their exit was processed. One item per seller, written with
/// every change of these, so a listing is conditioned on the standing it was checked
/// against (a forfeit or an exit racing a listing: one of them goes again).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Standing {
    #[serde(default)]
    pub held: Held,
    /// Category → the deposit opened and not paid yet (one at a time per category).
    #[serde(default)]
    pub pending: BTreeMap<String, DepositId>,
    /// M2: set when the exit was processed: the account no longer sells.
    #[serde(default)]
    pub exited_at: Option<DateTime<Utc>>,
    /// M2: set while the sweep checks an exit's blocking reasons: no new listing or push
    /// slips in between the count and the processing (cleared if the exit is blocked).
    #[serde(default)]
    pub closing_since: Option<DateTime<Utc>>,
}

impl Standing {
    /// Moves what is held in `category` by `delta`.
    pub fn add_held(&mut self, category: &str, delta: Decimal) {
        let entry = self.held.entry(category.to_owned()).or_default();
        *entry += delta;
        entry.rescale(2);
        if entry.is_zero() {
            self.held.remove(category);
        }
    }
}

/// M2: an account whose exit was processed no longer sells.
pub fn check_not_exited(standing: &Standing) -> Result<(), Problem> {
    match standing.exited_at {
        Some(at) => Err(Problem::new(
            Code::SellerExited,
            format!(
                "this account left the marketplace at {}: it can no longer sell",
                at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
        )),
        None if standing.closing_since.is_some() => Err(Problem::new(
            Code::SellerExited,
            "this account's exit is being processed: it cannot sell meanwhile",
        )),
        None => Ok(()),
    }
}

/// Where a deposit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DepositStatus {
    /// Opened; its payment has not come in.
    AwaitingPayment,
    /// Paid and held (less any forfeits).
    Held,
    /// Forfeited in full.
    Forfeited,
    /// What was left was returned on exit (M2).
    Refunded,
    /// Not paid within its window; nothing was held.
    Expired,
}

/// One forfeit of a deposit (an operator's ruling).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forfeit {
    pub amount: Money,
    pub reason: String,
    pub at: DateTime<Utc>,
    pub journal_id: String,
}

/// A seller's deposit for one category (M1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deposit {
    pub id: DepositId,
    pub account: AccountId,
    pub category: String,
    pub amount: Money,
    pub status: DepositStatus,
    /// The current payment attempt.
    pub payment: Option<PaymentRef>,
    /// The end of the payment window (like an order's, O3).
    pub pay_by: DateTime<Utc>,
    #[serde(default)]
    pub forfeits: Vec<Forfeit>,
    /// What went back on exit.
    #[serde(default)]
    pub refunded: Option<Money>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
}

impl Deposit {
    /// What the deposit still holds: paid, less forfeits (zero before payment and after
    /// its refund).
    pub fn held(&self) -> Decimal {
        if !matches!(self.status, DepositStatus::Held | DepositStatus::Forfeited) {
            return Decimal::ZERO;
        }
        let forfeited: Decimal = self.forfeits.iter().map(|f| f.amount.amount()).sum();
        let mut held = (self.amount.amount() - forfeited).max(Decimal::ZERO);
        held.rescale(2);
        held
    }
}

/// M1: an operator forfeits `amount` of a deposit with a reason: only of a held deposit,
/// never more than it still holds, never zero, always with a reason.
pub fn check_forfeit(deposit: &Deposit, amount: Money, reason: &str) -> Result<(), Problem> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        return Err(Problem::new(
            Code::InvalidRequest,
            format!("a forfeit needs a reason of 1 to {MAX_REASON_CHARS} characters"),
        ));
    }
    if amount.amount().is_zero() {
        return Err(Problem::new(
            Code::InvalidAmount,
            "a forfeit is more than 0",
        ));
    }
    let held = deposit.held();
    if amount.amount() > held {
        return Err(Problem::new(
            Code::InsufficientFunds,
            format!(
                "the deposit holds {held:.2}: {} cannot be forfeited",
                amount
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> DateTime<Utc> {
        "2026-12-01T00:00:00Z".parse().unwrap()
    }

    fn premium(deposit: &str) -> Category {
        Category {
            name: "cn-premium".into(),
            tlds: normalise_tlds(&["cn".into(), "中国".into(), ".公司".into(), "网络".into()])
                .unwrap(),
            deposit: Some(Money::parse(deposit).unwrap()),
            updated_at: at(),
        }
    }

    #[test]
    fn m1_idn_tlds_are_normalised_like_domain_names() {
        let tlds = normalise_tlds(&["中国".into(), "xn--fiqs8s".into(), "CN".into()]).unwrap();
        assert_eq!(tlds, vec!["cn".to_owned(), "xn--fiqs8s".to_owned()]);
        for bad in ["", "a.b", "-x-", "中国.cn"] {
            assert!(normalise_tlds(&[bad.into()]).is_err(), "{bad}");
        }
        assert!(normalise_tlds(&[]).is_err());
    }

    #[test]
    fn m1_listing_needs_the_whole_deposit_and_says_what_is_missing() {
        let cats = [premium("500.00")];
        let mut held = Held::new();
        let refused = check_deposit(&cats, "xn--fiqs8s", &held).unwrap_err();
        assert_eq!(refused.code, Code::DepositRequired);
        assert_eq!(refused.amount.unwrap().to_string(), "500.00");
        held.insert("cn-premium".into(), "200.00".parse().unwrap());
        let refused = check_deposit(&cats, "cn", &held).unwrap_err();
        assert_eq!(refused.amount.unwrap().to_string(), "300.00");
        held.insert("cn-premium".into(), "500.00".parse().unwrap());
        assert!(check_deposit(&cats, "cn", &held).is_ok());
        // Another TLD, or a category without a deposit, needs nothing.
        assert!(check_deposit(&cats, "com", &Held::new()).is_ok());
        let free = Category {
            deposit: None,
            ..premium("0")
        };
        assert!(check_deposit(&[free], "cn", &Held::new()).is_ok());
    }

    #[test]
    fn m2_no_selling_while_the_exit_is_processed_nor_after() {
        let mut standing = Standing::default();
        assert!(check_not_exited(&standing).is_ok());
        standing.closing_since = Some(at());
        assert_eq!(
            check_not_exited(&standing).unwrap_err().code,
            Code::SellerExited
        );
        standing.closing_since = None;
        standing.exited_at = Some(at());
        assert_eq!(
            check_not_exited(&standing).unwrap_err().code,
            Code::SellerExited
        );
    }

    #[test]
    fn m1_a_forfeit_never_exceeds_what_is_held() {
        let mut deposit = Deposit {
            id: DepositId::mint(ulid::Ulid::nil()),
            account: AccountId::parse("alice").unwrap(),
            category: "cn-premium".into(),
            amount: Money::parse("500.00").unwrap(),
            status: DepositStatus::AwaitingPayment,
            payment: None,
            pay_by: at(),
            forfeits: vec![],
            refunded: None,
            created_at: at(),
            updated_at: at(),
            paid_at: None,
        };
        let m = |s: &str| Money::parse(s).unwrap();
        // Nothing is held before payment.
        assert_eq!(
            check_forfeit(&deposit, m("1.00"), "x").unwrap_err().code,
            Code::InsufficientFunds
        );
        deposit.status = DepositStatus::Held;
        assert!(check_forfeit(&deposit, m("500.00"), "spam listings").is_ok());
        assert_eq!(
            check_forfeit(&deposit, m("100.00"), " ").unwrap_err().code,
            Code::InvalidRequest
        );
        deposit.forfeits.push(Forfeit {
            amount: m("200.00"),
            reason: "r".into(),
            at: at(),
            journal_id: "j".into(),
        });
        assert_eq!(deposit.held().to_string(), "300.00");
        assert_eq!(
            check_forfeit(&deposit, m("300.01"), "r").unwrap_err().code,
            Code::InsufficientFunds
        );
        assert_eq!(
            check_forfeit(&deposit, m("0"), "r").unwrap_err().code,
            Code::InvalidAmount
        );
    }
}
