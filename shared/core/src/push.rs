//! Priced pushes (P5, P8, P9): the status a push shows at a time, the refusal of a move on
//! a push that is no longer pending, the registry transfer fee, and the 60-day lock. Pure:
//! the use cases in `market-app` read and write, these decide.
use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use crate::domain_name::DomainName;
use crate::error::{Code, Problem};
use crate::model::{Push, PushStatus};
use crate::money::Money;

/// P5, E1: the status at `now`: an open push past its validity is expired even before the
/// sweeper records it.
pub fn status_at(push: &Push, now: DateTime<Utc>) -> PushStatus {
    match push.status {
        PushStatus::Pending | PushStatus::Accepted if now >= push.expires_at => PushStatus::Expired,
        status => status,
    }
}

/// `PUSH_NOT_PENDING` naming what the push is at `now` (P6: no withdrawal once accepted; P5:
/// no acceptance once expired).
pub fn not_pending(push: &Push, now: DateTime<Utc>) -> Problem {
    let status = serde_json::to_value(status_at(push, now))
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    Problem::new(Code::PushNotPending, format!("the push is {status}"))
}

/// P8: the registry transfer fee of these domains, by TLD (domains of a TLD without a fee
/// cost nothing).
pub fn transfer_fee(fees: &BTreeMap<String, Money>, domains: &[DomainName]) -> Money {
    Money::sum(domains.iter().filter_map(|d| fees.get(d.tld()).copied()))
}

/// P9: the end of the transfer-out lock after a forced change of registrant at
/// `forced_at`: always `lock` after the latest forced change, never added to an earlier one.
pub fn transfer_lock_until(forced_at: DateTime<Utc>, lock: Duration) -> DateTime<Utc> {
    forced_at + lock
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{AccountId, PushId};
    use rust_decimal::Decimal;

    fn push(status: PushStatus, expires_at: DateTime<Utc>) -> Push {
        Push {
            id: PushId::mint(ulid::Ulid::nil()),
            seller: AccountId::parse("alice").unwrap(),
            buyer: AccountId::parse("bob").unwrap(),
            domains: vec![DomainName::parse("p.com").unwrap()],
            price: Money::parse("10.00").unwrap(),
            transfer_fee: Money::ZERO,
            lock_60d: false,
            buyer_email: None,
            message: None,
            status,
            end_reason: None,
            expires_at,
            created_at: expires_at - Duration::days(7),
            updated_at: expires_at - Duration::days(7),
            fee_rate: Decimal::ZERO,
            payment: None,
            accepted_at: None,
            paid_at: None,
            confirm_by: None,
            completed_at: None,
            forced_at: None,
            contact: None,
        }
    }

    #[test]
    fn p5_e1_an_open_push_past_its_validity_is_expired_before_any_sweep() {
        let end = Utc::now();
        for open in [PushStatus::Pending, PushStatus::Accepted] {
            let p = push(open, end);
            assert_eq!(status_at(&p, end - Duration::seconds(1)), open);
            assert_eq!(status_at(&p, end), PushStatus::Expired);
        }
        let waiting = push(PushStatus::AwaitingSellerConfirmation, end);
        assert_eq!(
            status_at(&waiting, end + Duration::days(1)),
            PushStatus::AwaitingSellerConfirmation,
            "paid: the money holds it past the validity"
        );
        let refusal = not_pending(&push(PushStatus::Pending, end), end);
        assert_eq!(refusal.code, Code::PushNotPending);
        assert_eq!(refusal.detail, "the push is expired");
    }

    #[test]
    fn p8_the_transfer_fee_is_summed_by_tld() {
        let fees = BTreeMap::from([("cn".to_owned(), Money::parse("30.00").unwrap())]);
        let domains = ["a.cn", "b.cn", "c.com"].map(|d| DomainName::parse(d).unwrap());
        assert_eq!(
            transfer_fee(&fees, &domains),
            Money::parse("60.00").unwrap()
        );
        assert_eq!(transfer_fee(&BTreeMap::new(), &domains), Money::ZERO);
    }

    #[test]
    fn p9_the_lock_runs_from_the_latest_forced_change_and_never_adds_up() {
        let lock = Duration::days(60);
        let first = Utc::now();
        let second = first + Duration::days(10);
        assert_eq!(transfer_lock_until(second, lock), second + lock);
        assert_eq!(
            transfer_lock_until(second, lock) - transfer_lock_until(first, lock),
            Duration::days(10)
        );
    }
}
