//! S4: a seller's settlement account (结算账号, the seed's 托管子户): an enterprise Alipay
//! account or a bank sub-account opened through it, in the name of the seller's verified
//! company, with the seller's authorisation for deductions (a refund after settlement is
//! recovered by it). An operator verifies it; payouts go only to a verified one.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::error::{Code, Problem};
use super::ids::AccountId;
use super::model::Account;
use super::payout::PayeeKind;

/// The two kinds the seed offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettlementKind {
    EnterpriseAlipay,
    BankSubAccount,
}

/// Where a binding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettlementStatus {
    PendingVerification,
    Verified,
}

/// A seller's bound settlement account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementAccount {
    pub owner: AccountId,
    pub kind: SettlementKind,
    /// The enterprise Alipay account (a `2088…` id or a logon id), or the sub-account number.
    pub account: String,
    /// The company the account is in the name of: the owner's verified name.
    pub company_name: String,
    /// S4: the seller authorised deductions from it (clawbacks of refunds after settlement).
    pub deduction_authorised: bool,
    pub status: SettlementStatus,
    pub bound_at: DateTime<Utc>,
    pub verified_at: Option<DateTime<Utc>>,
}

/// What a seller asks to bind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub kind: SettlementKind,
    pub account: String,
    pub company_name: String,
    pub deduction_authorised: bool,
}

/// The longest account or company name kept.
const MAX_FIELD_CHARS: usize = 100;

/// S4: the binding's own shape: an account of its kind, a company name.
pub fn check_shape(binding: &Binding) -> Result<(), Problem> {
    let account = binding.account.trim();
    let valid = match binding.kind {
        // An Alipay user id (2088…), an email or a phone number: no spaces, not blank.
        SettlementKind::EnterpriseAlipay => {
            !account.is_empty() && !account.contains(char::is_whitespace)
        }
        // A bank account number: digits only, as banks issue them (8 to 32).
        SettlementKind::BankSubAccount => {
            (8..=32).contains(&account.len()) && account.chars().all(|c| c.is_ascii_digit())
        }
    };
    if !valid || account.chars().count() > MAX_FIELD_CHARS {
        let what = match binding.kind {
            SettlementKind::EnterpriseAlipay => {
                "an enterprise Alipay account (a 2088… id or a logon id)"
            }
            SettlementKind::BankSubAccount => "a bank sub-account number (8 to 32 digits)",
        };
        return Err(Problem::new(
            Code::InvalidRequest,
            format!("account must be {what}"),
        ));
    }
    let name = binding.company_name.trim();
    if name.is_empty() || name.chars().count() > MAX_FIELD_CHARS {
        return Err(Problem::new(
            Code::InvalidRequest,
            "company_name must name the company (at most 100 characters)",
        ));
    }
    Ok(())
}

/// S4: whether `holder` may settle to an account in `company_name`: a real-name verified
/// enterprise (both kinds are opened through an enterprise Alipay account) whose verified
/// name is the company name. Checked when binding, when verifying and at each payout (the
/// verified name may have changed since).
pub fn check_holder(holder: Option<&Account>, company_name: &str) -> Result<(), Problem> {
    let holder = holder.filter(|a| a.real_name_verified).ok_or_else(|| {
        Problem::new(
            Code::NotVerified,
            "a settlement account needs a real-name verified account (A1, S4)",
        )
    })?;
    if !holder.enterprise {
        return Err(Problem::new(
            Code::NotEnterpriseAccount,
            "a settlement account is an enterprise's: the account is not a verified enterprise (S4)",
        ));
    }
    let verified = holder.real_name.as_deref().map(str::trim).unwrap_or("");
    if verified.is_empty() || verified != company_name.trim() {
        return Err(Problem::new(
            Code::CompanyNameMismatch,
            format!(
                "the settlement account's company name must be the account's verified company name{} (S4)",
                if verified.is_empty() {
                    String::new()
                } else {
                    format!(" \"{verified}\"")
                }
            ),
        ));
    }
    Ok(())
}

/// S4: the account bound by `binding` at `now`, replacing `current`. The same account
/// again keeps its verification (a retried PUT, or a change of the deduction
/// authorisation alone); any other needs the operator's verification again.
pub fn bind(
    owner: &AccountId,
    binding: Binding,
    current: Option<&SettlementAccount>,
    now: DateTime<Utc>,
) -> SettlementAccount {
    let account = binding.account.trim().to_owned();
    let company_name = binding.company_name.trim().to_owned();
    let same = current.filter(|c| {
        c.kind == binding.kind && c.account == account && c.company_name == company_name
    });
    SettlementAccount {
        owner: owner.clone(),
        kind: binding.kind,
        account,
        company_name,
        deduction_authorised: binding.deduction_authorised,
        status: same.map_or(SettlementStatus::PendingVerification, |c| c.status),
        bound_at: same.map_or(now, |c| c.bound_at),
        verified_at: same.and_then(|c| c.verified_at),
    }
}

/// S4: the payee of a payout of `holder`: the verified settlement account when one is
/// bound (a bound one not yet verified holds payouts back: 422
/// `SETTLEMENT_ACCOUNT_NOT_VERIFIED`), else the A1 Alipay binding (accounts that never bound
/// a settlement account keep being paid there). `(account, name, kind)`.
pub fn payee(
    holder: Option<&Account>,
    settlement: Option<&SettlementAccount>,
) -> Result<(String, Option<String>, PayeeKind), Problem> {
    let Some(s) = settlement else {
        let (account, name) = super::payout::payee(holder)?;
        return Ok((account, name, PayeeKind::Alipay));
    };
    if s.status != SettlementStatus::Verified {
        return Err(Problem::new(
            Code::SettlementAccountNotVerified,
            "the settlement account awaits the operator's verification; payouts go only to a verified one (S4)",
        ));
    }
    check_holder(holder, &s.company_name)?;
    let kind = match s.kind {
        SettlementKind::EnterpriseAlipay => PayeeKind::Alipay,
        SettlementKind::BankSubAccount => PayeeKind::BankAccount,
    };
    Ok((s.account.clone(), Some(s.company_name.clone()), kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-11-26T07:00:00Z".parse().unwrap()
    }

    fn acme() -> Account {
        Account {
            id: AccountId::parse("acme").unwrap(),
            real_name_verified: true,
            real_name: Some("Acme Ltd".into()),
            payout_account: Some("acme@example.com".into()),
            email: None,
            enterprise: true,
            credit_control: false,
            locale: Default::default(),
        }
    }

    fn binding(kind: SettlementKind, account: &str) -> Binding {
        Binding {
            kind,
            account: account.into(),
            company_name: "Acme Ltd".into(),
            deduction_authorised: true,
        }
    }

    #[test]
    fn s4_only_a_verified_enterprise_in_its_own_name() {
        let mut holder = acme();
        assert!(check_holder(Some(&holder), " Acme Ltd ").is_ok());
        assert_eq!(
            check_holder(Some(&holder), "Other Ltd").unwrap_err().code,
            Code::CompanyNameMismatch
        );
        holder.enterprise = false;
        assert_eq!(
            check_holder(Some(&holder), "Acme Ltd").unwrap_err().code,
            Code::NotEnterpriseAccount
        );
        holder.real_name_verified = false;
        assert_eq!(
            check_holder(Some(&holder), "Acme Ltd").unwrap_err().code,
            Code::NotVerified
        );
        assert_eq!(
            check_holder(None, "Acme Ltd").unwrap_err().code,
            Code::NotVerified
        );
    }

    #[test]
    fn s4_account_shapes() {
        use SettlementKind::*;
        assert!(check_shape(&binding(EnterpriseAlipay, "2088123412341234")).is_ok());
        assert!(check_shape(&binding(EnterpriseAlipay, "pay@acme.cn")).is_ok());
        assert!(check_shape(&binding(EnterpriseAlipay, "  ")).is_err());
        assert!(check_shape(&binding(BankSubAccount, "6228480012345678")).is_ok());
        assert!(check_shape(&binding(BankSubAccount, "62284800x")).is_err());
        let mut blank = binding(EnterpriseAlipay, "pay@acme.cn");
        blank.company_name = " ".into();
        assert_eq!(check_shape(&blank).unwrap_err().code, Code::InvalidRequest);
    }

    #[test]
    fn s4_rebinding_the_same_account_keeps_its_verification_another_does_not() {
        let owner = AccountId::parse("acme").unwrap();
        let mut first = bind(
            &owner,
            binding(SettlementKind::EnterpriseAlipay, "pay@acme.cn"),
            None,
            now(),
        );
        assert_eq!(first.status, SettlementStatus::PendingVerification);
        first.status = SettlementStatus::Verified;
        let mut same = binding(SettlementKind::EnterpriseAlipay, "pay@acme.cn");
        same.deduction_authorised = false;
        let again = bind(&owner, same, Some(&first), now());
        assert_eq!(again.status, SettlementStatus::Verified);
        assert!(!again.deduction_authorised);
        let other = bind(
            &owner,
            binding(SettlementKind::EnterpriseAlipay, "other@acme.cn"),
            Some(&first),
            now(),
        );
        assert_eq!(other.status, SettlementStatus::PendingVerification);
    }

    #[test]
    fn s4_payouts_go_only_to_a_verified_settlement_account() {
        let holder = acme();
        let owner = holder.id.clone();
        let mut s = bind(
            &owner,
            binding(SettlementKind::BankSubAccount, "6228480012345678"),
            None,
            now(),
        );
        assert_eq!(
            payee(Some(&holder), Some(&s)).unwrap_err().code,
            Code::SettlementAccountNotVerified
        );
        s.status = SettlementStatus::Verified;
        assert_eq!(
            payee(Some(&holder), Some(&s)).unwrap(),
            (
                "6228480012345678".into(),
                Some("Acme Ltd".into()),
                PayeeKind::BankAccount
            )
        );
        // Without one, the A1 binding is the payee.
        assert_eq!(
            payee(Some(&holder), None).unwrap().0,
            "acme@example.com".to_owned()
        );
        // The verified name changed since: no payout until they match again.
        let mut renamed = holder.clone();
        renamed.real_name = Some("Acme Holdings".into());
        assert_eq!(
            payee(Some(&renamed), Some(&s)).unwrap_err().code,
            Code::CompanyNameMismatch
        );
    }
}
