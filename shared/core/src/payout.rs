//! S6: a seller's available money paid out to the bound Alipay account, exactly once.
//!
//! A payout moves its amount out of `available` when requested (never below zero: the
//! shell writes it on the condition that the balance it read is unchanged) into the
//! seller's in-flight account; the provider is then asked to transfer it, with the payout
//! id as its `out_biz_no`, so a retry never pays twice. An answer that does not come back
//! (timeout, 5xx, "system busy") is unknown, never a failure: the transfer is looked up
//! before anything else is decided. Only a refusal by the provider, or a lookup that finds
//! no transfer after the last attempt, returns the money to `available`.
use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::error::{Code, Problem};
use super::ids::{AccountId, PayoutId};
use super::model::Account;
use super::money::Money;

/// The smallest payout (Alipay's transfer minimum).
pub const MIN_PAYOUT: Decimal = Decimal::from_parts(10, 0, 0, false, 2);

/// How many transfers are sent for one payout before it may be given up (each found absent
/// by a lookup first: a payout is never given up while a transfer may have happened).
pub const MAX_TRANSFER_ATTEMPTS: u32 = 8;

/// How long after its first transfer a payout the provider never heard of may be given up:
/// long past any transfer still on its way, and past the provider's own retries.
pub const GIVE_UP_AFTER: Duration = Duration::hours(24);

/// Where a payout is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayoutStatus {
    /// The amount left `available`; the transfer is not confirmed yet.
    Pending,
    /// The provider paid it to the bound account.
    Succeeded,
    /// Refused or given up: the amount is back in `available` (`failure_reason` says why).
    Failed,
}

/// What kind of account a payout is paid to (S4): an Alipay account (the A1 binding or an
/// enterprise Alipay settlement account), or a bank sub-account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayeeKind {
    #[default]
    Alipay,
    BankAccount,
}

/// A seller's payout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payout {
    pub id: PayoutId,
    pub seller: AccountId,
    pub amount: Money,
    /// The bound account when it was requested (the payee).
    pub payout_account: String,
    /// The account's verified real name: the provider refuses a payee whose name differs.
    pub payee_name: Option<String>,
    /// S4: the payee's kind (payouts before settlement accounts were all Alipay).
    #[serde(default)]
    pub payee_kind: PayeeKind,
    pub status: PayoutStatus,
    /// Transfers sent so far.
    pub attempts: u32,
    /// A transfer was sent and its outcome never came back: look it up before anything else.
    pub outcome_unknown: bool,
    /// Calls (transfers and lookups) made so far: the backoff of the next try.
    #[serde(default)]
    pub tries: u32,
    /// When the sweep next takes it up (while pending).
    pub next_attempt_at: DateTime<Utc>,
    /// When the first transfer was sent.
    #[serde(default)]
    pub first_sent_at: Option<DateTime<Utc>>,
    /// The provider's id of the transfer, once paid.
    pub provider_ref: Option<String>,
    pub failure_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A1, S6: who can be paid: a verified account with a bound payout account.
pub fn payee(account: Option<&Account>) -> Result<(String, Option<String>), Problem> {
    let account = account.ok_or_else(|| {
        Problem::new(
            Code::NoPayoutAccount,
            "no payout account is bound to this account",
        )
    })?;
    let bound = account
        .payout_account
        .as_deref()
        .filter(|a| !a.trim().is_empty())
        .ok_or_else(|| {
            Problem::new(
                Code::NoPayoutAccount,
                "bind an Alipay account before asking for a payout",
            )
        })?;
    if !account.real_name_verified {
        return Err(Problem::new(
            Code::NotVerified,
            "a payout needs a real-name verified account",
        ));
    }
    let name = account.real_name.clone().filter(|n| !n.trim().is_empty());
    // Alipay pays a logon id (an email, a phone) only with the payee's real name to check.
    if name.is_none() && identity_type(bound) == "ALIPAY_LOGON_ID" {
        return Err(Problem::new(
            Code::NotVerified,
            "a payout to an Alipay logon id names the verified real name, and none is on file",
        ));
    }
    Ok((bound.to_owned(), name))
}

/// S6: the amount of a payout asked for `requested` (none: everything available) when
/// `available` is what the seller has. Never more than available, never while a debt is
/// open (available below zero after a clawback, S4), never below [`MIN_PAYOUT`].
pub fn payout_amount(requested: Option<Money>, available: Decimal) -> Result<Money, Problem> {
    if available.is_sign_negative() && !available.is_zero() {
        return Err(Problem::new(
            Code::InsufficientFunds,
            format!(
                "a debt of {:.2} is open: nothing can be paid out until it is repaid",
                -available
            ),
        ));
    }
    let amount = match requested {
        Some(amount) => {
            if amount.amount() < MIN_PAYOUT {
                return Err(Problem::new(
                    Code::InvalidAmount,
                    format!("a payout is at least {MIN_PAYOUT}"),
                ));
            }
            amount
        }
        None => Money::parse(&format!("{available:.2}"))
            .map_err(|_| Problem::new(Code::InsufficientFunds, "nothing to pay out"))?,
    };
    if amount.amount() > available {
        return Err(Problem::new(
            Code::InsufficientFunds,
            format!("{amount} is more than the {available:.2} available"),
        ));
    }
    if amount.amount() < MIN_PAYOUT {
        return Err(Problem::new(
            Code::InsufficientFunds,
            format!("{available:.2} is available; a payout is at least {MIN_PAYOUT}"),
        ));
    }
    Ok(amount)
}

/// A new payout, due at once (the sweep sends it if the request's own attempt never does).
pub fn new_payout(
    id: PayoutId,
    seller: AccountId,
    amount: Money,
    payee: (String, Option<String>),
    now: DateTime<Utc>,
) -> Payout {
    Payout {
        id,
        seller,
        amount,
        payout_account: payee.0,
        payee_name: payee.1,
        payee_kind: PayeeKind::Alipay,
        status: PayoutStatus::Pending,
        attempts: 0,
        outcome_unknown: false,
        tries: 0,
        next_attempt_at: now,
        first_sent_at: None,
        provider_ref: None,
        failure_reason: None,
        created_at: now,
        updated_at: now,
    }
}

/// The wait after `attempts` transfers or lookups without an answer: 1, 2, 4 … minutes, at
/// most an hour. Always longer than a call's timeout, so a transfer still on its way is
/// never looked up as absent.
pub fn backoff(attempts: u32) -> Duration {
    Duration::minutes(1i64 << attempts.saturating_sub(1).min(6)).min(Duration::hours(1))
}

/// S6: whether a payout whose transfer the provider says it never received may be given
/// up (its amount returned): only after [`MAX_TRANSFER_ATTEMPTS`] sends and
/// [`GIVE_UP_AFTER`] since the first, so no send can still land.
pub fn may_give_up(payout: &Payout, now: DateTime<Utc>) -> bool {
    payout.attempts >= MAX_TRANSFER_ATTEMPTS
        && payout
            .first_sent_at
            .is_some_and(|first| now - first >= GIVE_UP_AFTER)
}

/// The provider's kind of payee id: a `2088…` user id, or a logon id (email, phone).
pub fn identity_type(payout_account: &str) -> &'static str {
    let user_id = payout_account.len() == 16
        && payout_account.starts_with("2088")
        && payout_account.chars().all(|c| c.is_ascii_digit());
    if user_id {
        "ALIPAY_USER_ID"
    } else {
        "ALIPAY_LOGON_ID"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(text: &str) -> Money {
        Money::parse(text).unwrap()
    }

    #[test]
    fn s6_a_payout_takes_at_most_what_is_available() {
        let available: Decimal = "100.00".parse().unwrap();
        assert_eq!(payout_amount(None, available).unwrap(), money("100.00"));
        assert_eq!(
            payout_amount(Some(money("60.00")), available).unwrap(),
            money("60.00")
        );
        assert_eq!(
            payout_amount(Some(money("100.01")), available)
                .unwrap_err()
                .code,
            Code::InsufficientFunds
        );
    }

    #[test]
    fn s6_a_payout_is_at_least_ten_fen() {
        let available: Decimal = "5.00".parse().unwrap();
        assert_eq!(
            payout_amount(Some(money("0.09")), available)
                .unwrap_err()
                .code,
            Code::InvalidAmount
        );
        assert_eq!(
            payout_amount(None, "0.09".parse().unwrap())
                .unwrap_err()
                .code,
            Code::InsufficientFunds
        );
        assert_eq!(
            payout_amount(None, Decimal::ZERO).unwrap_err().code,
            Code::InsufficientFunds
        );
        assert!(payout_amount(Some(money("0.10")), available).is_ok());
    }

    #[test]
    fn s4_s6_no_payout_while_a_debt_is_open() {
        let debt: Decimal = "-1.00".parse().unwrap();
        let refused = payout_amount(Some(money("0.10")), debt).unwrap_err();
        assert_eq!(refused.code, Code::InsufficientFunds);
        assert!(refused.detail.contains("debt of 1.00"));
    }

    #[test]
    fn a1_s6_only_a_verified_account_with_a_bound_payee_is_paid() {
        let mut account = Account {
            id: AccountId::parse("alice").unwrap(),
            real_name_verified: true,
            real_name: Some("Alice Li".into()),
            payout_account: None,
            email: None,
            enterprise: false,
            credit_control: false,
            locale: Default::default(),
        };
        assert_eq!(
            payee(Some(&account)).unwrap_err().code,
            Code::NoPayoutAccount
        );
        assert_eq!(payee(None).unwrap_err().code, Code::NoPayoutAccount);
        account.payout_account = Some("alice@example.com".into());
        assert_eq!(
            payee(Some(&account)).unwrap(),
            ("alice@example.com".into(), Some("Alice Li".into()))
        );
        account.real_name = None;
        assert_eq!(
            payee(Some(&account)).unwrap_err().code,
            Code::NotVerified,
            "a logon id is paid only with the name to check"
        );
        account.payout_account = Some("2088123412341234".into());
        assert_eq!(
            payee(Some(&account)).unwrap(),
            ("2088123412341234".into(), None)
        );
        account.real_name_verified = false;
        assert_eq!(payee(Some(&account)).unwrap_err().code, Code::NotVerified);
    }

    #[test]
    fn s6_a_payout_is_given_up_only_after_every_attempt_and_a_day() {
        let now: DateTime<Utc> = "2026-11-26T00:00:00Z".parse().unwrap();
        let mut p = new_payout(
            PayoutId::mint(ulid::Ulid::nil()),
            AccountId::parse("alice").unwrap(),
            money("1.00"),
            ("alice@example.com".into(), Some("Alice".into())),
            now,
        );
        assert!(!may_give_up(&p, now + Duration::days(30)), "never sent");
        p.first_sent_at = Some(now);
        p.attempts = MAX_TRANSFER_ATTEMPTS;
        assert!(!may_give_up(&p, now + Duration::hours(23)));
        assert!(may_give_up(&p, now + GIVE_UP_AFTER));
        p.attempts = MAX_TRANSFER_ATTEMPTS - 1;
        assert!(!may_give_up(&p, now + Duration::days(30)));
    }

    #[test]
    fn payee_ids_are_told_apart() {
        assert_eq!(identity_type("2088123412341234"), "ALIPAY_USER_ID");
        assert_eq!(identity_type("alice@example.com"), "ALIPAY_LOGON_ID");
        assert_eq!(identity_type("13800000000"), "ALIPAY_LOGON_ID");
    }

    #[test]
    fn lookups_wait_longer_than_a_call_can_take() {
        assert_eq!(backoff(1), Duration::minutes(1));
        assert_eq!(backoff(3), Duration::minutes(4));
        assert_eq!(backoff(30), Duration::hours(1));
    }
}
