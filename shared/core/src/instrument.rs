//! S3: the payment instruments of the international site (seed `003`): what an account
//! pays the platform with (deposits, debts after a clawback, registry transfer fees, partner
//! orders) — never a listing or a push, which stay Alipay-only (O8).
//!
//! The rules here are pure: a card is judged on the card processor's metadata (never a card
//! number: the processor holds it), a PayPal account on its registration country, bank
//! transfer on the account's standing; removal on the account's other methods and what it
//! still owes.
use chrono::{DateTime, Datelike, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::error::{Code, Problem};
use super::ids::{AccountId, PaymentMethodId};
use super::model::Account;

/// The card brands S3 accepts, as card processors name them.
pub const ACCEPTED_BRANDS: [&str; 4] = ["visa", "mastercard", "amex", "jcb"];

/// How a card is funded, as the processor reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Funding {
    Credit,
    Debit,
    Prepaid,
    Unknown,
}

/// What the card processor knows of a card (its PaymentMethod), and all S3 judges it on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardFacts {
    /// The brand in the processor's words, lower-case (`visa`, `unionpay`, …).
    pub brand: String,
    pub funding: Funding,
    /// The processor's fingerprint of the card number: the same card, the same value,
    /// whoever tokenised it. A card binds to one account by it.
    pub fingerprint: String,
    pub last4: String,
    pub exp_month: u32,
    pub exp_year: i32,
    /// The issuing country (ISO 3166-1 alpha-2), when known.
    pub country: Option<String>,
    /// Every network the card can be charged through (a co-badged card has several).
    pub networks: Vec<String>,
    /// Issued as a virtual card (where the processor says so).
    #[serde(default)]
    pub virtual_card: bool,
    /// A gift card (where the processor says so; most arrive as `prepaid`).
    #[serde(default)]
    pub gift_card: bool,
}

impl CardFacts {
    /// Charged only through UnionPay: no accepted network beside it.
    fn unionpay_only(&self) -> bool {
        let accepted = |n: &String| ACCEPTED_BRANDS.contains(&n.as_str());
        self.brand == "unionpay" && !self.networks.iter().any(accepted)
    }
}

/// S3: whether a card may be bound at `now`, in this order: its brand (Visa, Mastercard,
/// American Express, JCB; a UnionPay card co-badged with one of them binds through it), its
/// type (not UnionPay-only, prepaid, virtual or gift), and its expiry (not this month or
/// earlier: it would lapse before the first bill).
pub fn check_card(card: &CardFacts, now: DateTime<Utc>) -> Result<(), Problem> {
    if card.unionpay_only() {
        return Err(Problem::new(
            Code::CardTypeNotAccepted,
            "UnionPay-only cards are not accepted (S3)",
        ));
    }
    let brand_accepted = ACCEPTED_BRANDS.contains(&card.brand.as_str())
        || (card.brand == "unionpay"
            && card
                .networks
                .iter()
                .any(|n| ACCEPTED_BRANDS.contains(&n.as_str())));
    if !brand_accepted {
        return Err(Problem::new(
            Code::CardBrandNotAccepted,
            format!(
                "{} cards are not accepted: Visa, Mastercard, American Express or JCB (S3)",
                card.brand
            ),
        ));
    }
    let refused_type = if card.funding == Funding::Prepaid {
        Some("prepaid")
    } else if card.virtual_card {
        Some("virtual")
    } else if card.gift_card {
        Some("gift")
    } else {
        None
    };
    if let Some(kind) = refused_type {
        return Err(Problem::new(
            Code::CardTypeNotAccepted,
            format!("{kind} cards are not accepted (S3)"),
        ));
    }
    let this_month = (now.year(), now.month());
    if (card.exp_year, card.exp_month) <= this_month {
        return Err(Problem::new(
            Code::CardExpiring,
            format!(
                "the card expires {:02}/{}: a card expiring this month or earlier is not accepted (S3)",
                card.exp_month, card.exp_year
            ),
        ));
    }
    Ok(())
}

/// What the PayPal vault knows of a PayPal account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayPalFacts {
    /// PayPal's payer id: one PayPal account, one value. It binds to one account by it.
    pub payer_id: String,
    /// The country the PayPal account is registered in (ISO 3166-1 alpha-2).
    pub country: String,
}

/// S3: a PayPal account registered in mainland China is refused (`CN`; Hong Kong, Macao
/// and Taiwan have codes of their own and are accepted).
pub fn check_paypal(paypal: &PayPalFacts) -> Result<(), Problem> {
    if paypal.country.eq_ignore_ascii_case("CN") {
        return Err(Problem::new(
            Code::PaypalRegionNotAccepted,
            "PayPal accounts registered in mainland China are not accepted (S3)",
        ));
    }
    Ok(())
}

/// S3: bank transfer is for an enterprise account on credit control only (`credit_control`
/// is the operator's flag on the account, `PUT /admin/accounts/{id}`).
pub fn check_bank_transfer(holder: Option<&Account>) -> Result<(), Problem> {
    match holder {
        Some(a) if a.enterprise && a.credit_control => Ok(()),
        _ => Err(Problem::new(
            Code::BankTransferNotAllowed,
            "bank transfer is only for an enterprise account on credit control (S3)",
        )),
    }
}

/// The kinds of payment method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MethodKind {
    Card,
    Paypal,
    BankTransfer,
}

impl MethodKind {
    /// The word of the contract (`card`, `paypal`, `bank_transfer`).
    pub fn as_str(self) -> &'static str {
        match self {
            MethodKind::Card => "card",
            MethodKind::Paypal => "paypal",
            MethodKind::BankTransfer => "bank_transfer",
        }
    }
}

/// A bound payment method. Whether it is the preferred one is kept on the account's list
/// of methods (`MethodList`), so that changing it writes one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentMethod {
    pub id: PaymentMethodId,
    pub owner: AccountId,
    pub kind: MethodKind,
    /// Cards: the brand and the last four digits (all that is shown of a card).
    pub brand: Option<String>,
    pub last4: Option<String>,
    pub exp_month: Option<u32>,
    pub exp_year: Option<i32>,
    /// What binds it to one account (the card's fingerprint, the PayPal payer id, the
    /// account's own id for bank transfer): the key of its binding claim.
    pub binding: String,
    pub created_at: DateTime<Utc>,
}

/// The most methods one account may hold.
pub const MAX_METHODS: usize = 20;

/// An account's methods, in binding order, and the preferred one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MethodList {
    pub methods: Vec<String>,
    pub preferred: Option<String>,
}

impl MethodList {
    /// The list with `id` added; the first method is the preferred one.
    pub fn with(&self, id: &str) -> Result<MethodList, Problem> {
        if self.methods.len() >= MAX_METHODS {
            return Err(Problem::new(
                Code::InvalidRequest,
                format!("an account holds at most {MAX_METHODS} payment methods"),
            ));
        }
        let mut next = self.clone();
        next.methods.push(id.to_owned());
        if next.preferred.is_none() {
            next.preferred = Some(id.to_owned());
        }
        Ok(next)
    }

    /// The list with `id` removed (the preferred one only when it was the only one).
    fn without(&self, id: &str) -> MethodList {
        let methods: Vec<String> = self.methods.iter().filter(|m| *m != id).cloned().collect();
        let preferred = self.preferred.clone().filter(|p| p != id);
        MethodList { methods, preferred }
    }
}

/// What an account still owes the platform, or holds with it, that a method pays for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Obligations {
    /// Unpaid bills: a negative available balance (a debt after a clawback, S4).
    pub debt: Decimal,
    /// Deposits held (M1): running resources a method stands behind.
    pub deposits_held: Decimal,
}

impl Obligations {
    fn any(&self) -> bool {
        self.debt > Decimal::ZERO || self.deposits_held > Decimal::ZERO
    }
}

/// S3: whether `id` may be removed from `list`, and the list without it. The preferred
/// method cannot be removed while there are others (choose another first); the only method
/// cannot be removed while the account owes bills or holds deposits.
pub fn remove(list: &MethodList, id: &str, owed: Obligations) -> Result<MethodList, Problem> {
    if !list.methods.iter().any(|m| m == id) {
        return Err(Problem::not_found("payment method"));
    }
    if list.methods.len() == 1 {
        if owed.any() {
            return Err(Problem::new(
                Code::LastMethodInUse,
                format!(
                    "the only payment method cannot be removed while bills are unpaid ({:.2}) or deposits are held ({:.2}) (S3)",
                    owed.debt, owed.deposits_held
                ),
            ));
        }
    } else if list.preferred.as_deref() == Some(id) {
        return Err(Problem::new(
            Code::PreferredMethod,
            "the preferred payment method cannot be removed: prefer another first (S3)",
        ));
    }
    Ok(list.without(id))
}

/// Makes `id` the preferred method.
pub fn prefer(list: &MethodList, id: &str) -> Result<MethodList, Problem> {
    if !list.methods.iter().any(|m| m == id) {
        return Err(Problem::not_found("payment method"));
    }
    let mut next = list.clone();
    next.preferred = Some(id.to_owned());
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap()
    }

    fn card(brand: &str, funding: Funding) -> CardFacts {
        CardFacts {
            brand: brand.into(),
            funding,
            fingerprint: "fp".into(),
            last4: "4242".into(),
            exp_month: 12,
            exp_year: 2030,
            country: Some("US".into()),
            networks: vec![brand.into()],
            virtual_card: false,
            gift_card: false,
        }
    }

    fn code(r: Result<(), Problem>) -> Option<Code> {
        r.err().map(|p| p.code)
    }

    #[test]
    fn s3_the_four_brands_credit_or_debit_are_accepted() {
        for brand in ACCEPTED_BRANDS {
            for funding in [Funding::Credit, Funding::Debit] {
                assert_eq!(code(check_card(&card(brand, funding), now())), None);
            }
        }
    }

    #[test]
    fn s3_other_brands_are_refused() {
        for brand in ["discover", "diners", "cartes_bancaires", "unknown"] {
            assert_eq!(
                code(check_card(&card(brand, Funding::Credit), now())),
                Some(Code::CardBrandNotAccepted)
            );
        }
    }

    #[test]
    fn s3_unionpay_only_prepaid_virtual_and_gift_are_refused() {
        let refused = |c: CardFacts| code(check_card(&c, now()));
        assert_eq!(
            refused(card("unionpay", Funding::Credit)),
            Some(Code::CardTypeNotAccepted)
        );
        assert_eq!(
            refused(card("mastercard", Funding::Prepaid)),
            Some(Code::CardTypeNotAccepted)
        );
        let mut virtual_card = card("visa", Funding::Credit);
        virtual_card.virtual_card = true;
        assert_eq!(refused(virtual_card), Some(Code::CardTypeNotAccepted));
        let mut gift = card("visa", Funding::Debit);
        gift.gift_card = true;
        assert_eq!(refused(gift), Some(Code::CardTypeNotAccepted));
        // Co-badged with Visa: it binds through Visa.
        let mut cobadged = card("unionpay", Funding::Credit);
        cobadged.networks.push("visa".into());
        assert_eq!(refused(cobadged), None);
    }

    #[test]
    fn s3_a_card_expiring_this_month_or_earlier_is_refused() {
        let at = |m, y| {
            let mut c = card("visa", Funding::Credit);
            (c.exp_month, c.exp_year) = (m, y);
            code(check_card(&c, now()))
        };
        assert_eq!(at(11, 2026), Some(Code::CardExpiring));
        assert_eq!(at(10, 2026), Some(Code::CardExpiring));
        assert_eq!(at(12, 2025), Some(Code::CardExpiring));
        assert_eq!(at(12, 2026), None);
        assert_eq!(at(1, 2027), None);
    }

    #[test]
    fn s3_paypal_registered_in_mainland_china_is_refused() {
        let pp = |country: &str| PayPalFacts {
            payer_id: "P1".into(),
            country: country.into(),
        };
        assert_eq!(
            code(check_paypal(&pp("CN"))),
            Some(Code::PaypalRegionNotAccepted)
        );
        for ok in ["US", "HK", "TW", "MO", "GB"] {
            assert_eq!(code(check_paypal(&pp(ok))), None);
        }
    }

    #[test]
    fn s3_bank_transfer_only_for_an_enterprise_on_credit_control() {
        let account = |enterprise, credit_control| Account {
            id: AccountId::parse("acme").unwrap(),
            real_name_verified: true,
            real_name: None,
            payout_account: None,
            email: None,
            enterprise,
            credit_control,
            locale: Default::default(),
        };
        assert_eq!(code(check_bank_transfer(Some(&account(true, true)))), None);
        for (e, c) in [(true, false), (false, true), (false, false)] {
            assert_eq!(
                code(check_bank_transfer(Some(&account(e, c)))),
                Some(Code::BankTransferNotAllowed)
            );
        }
        assert_eq!(
            code(check_bank_transfer(None)),
            Some(Code::BankTransferNotAllowed)
        );
    }

    #[test]
    fn s3_the_first_method_is_preferred_and_the_list_is_bounded() {
        let mut list = MethodList::default();
        for n in 0..MAX_METHODS {
            list = list.with(&format!("m{n}")).unwrap();
        }
        assert_eq!(list.preferred.as_deref(), Some("m0"));
        assert_eq!(
            list.with("one more").unwrap_err().code,
            Code::InvalidRequest
        );
    }

    #[test]
    fn s3_removal_rules() {
        let none = Obligations::default();
        let debt = Obligations {
            debt: Decimal::ONE,
            ..none
        };
        let deposit = Obligations {
            deposits_held: Decimal::ONE,
            ..none
        };
        let one = MethodList::default().with("a").unwrap();
        assert_eq!(
            remove(&one, "a", debt).unwrap_err().code,
            Code::LastMethodInUse
        );
        assert_eq!(
            remove(&one, "a", deposit).unwrap_err().code,
            Code::LastMethodInUse
        );
        assert_eq!(remove(&one, "a", none).unwrap(), MethodList::default());
        let two = one.with("b").unwrap();
        assert_eq!(
            remove(&two, "a", none).unwrap_err().code,
            Code::PreferredMethod
        );
        let left = remove(&two, "b", debt).unwrap();
        assert_eq!(left.methods, ["a"]);
        assert_eq!(remove(&two, "zz", none).unwrap_err().code, Code::NotFound);
        let switched = prefer(&two, "b").unwrap();
        assert_eq!(remove(&switched, "a", none).unwrap().methods, ["b"]);
    }
}
