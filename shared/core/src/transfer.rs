//! Whether a domain may leave for another registrar (P9, P11): the marketplace decides, and
//! the registrar core asks before it starts a transfer-out. Pure: judged at the `now` it is
//! given (E1), so a lock that has ended is no lock and a trade hold past its `until` is no
//! hold, whether or not a sweep has recorded it.
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::model::Domain;

/// The reason a domain in a trade cannot leave (P11): a listing (with or without an
/// order awaiting payment) or a push holds it.
pub const IN_TRADE: &str = "in_trade";
/// The reason a domain inside its 60-day lock after a forced change cannot leave (P9).
pub const TRANSFER_LOCKED: &str = "transfer_locked";

/// The answer to "may this domain be transferred out now?".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TransferOut {
    pub allowed: bool,
    /// [`IN_TRADE`] or [`TRANSFER_LOCKED`] when refused.
    pub reason: Option<&'static str>,
    /// When the refusal ends by time alone, if it does: the lock's end, or the trade hold's
    /// (the later of the two when both apply); absent when a trade holds it with no end
    /// (a push until it ends).
    pub until: Option<DateTime<Utc>>,
}

impl TransferOut {
    /// Whether the domain is locked against transfer-out.
    pub fn locked(&self) -> bool {
        !self.allowed
    }
}

/// P9, P11: a domain in any trade (a listing, an order's hold on it, a push) or inside its
/// 60-day lock cannot leave; both judged at `now` (E1). A trade is named first: it is what
/// the registrar core must wait for (the lock, if any, is in `until`).
pub fn transfer_out(domain: &Domain, now: DateTime<Utc>) -> TransferOut {
    let lock = domain.transfer_lock_until.filter(|until| *until > now);
    match (domain.active_trade(now), lock) {
        (Some(trade), lock) => TransferOut {
            allowed: false,
            reason: Some(IN_TRADE),
            until: trade
                .lapses_at(now)
                .map(|until| lock.map_or(until, |l| l.max(until))),
        },
        (None, Some(until)) => TransferOut {
            allowed: false,
            reason: Some(TRANSFER_LOCKED),
            until: Some(until),
        },
        (None, None) => TransferOut {
            allowed: true,
            reason: None,
            until: None,
        },
    }
}

/// P9: whether a `transfer_out_started` or `auth_code_issued` event must be refused: the
/// domain is inside its 60-day lock at `now` (the registrar core must not have let it
/// start). A trade alone does not refuse the event: it ends the trade (L6, P10).
pub fn inside_transfer_lock(domain: &Domain, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    domain.transfer_lock_until.filter(|until| *until > now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain_name::DomainName;
    use crate::ids::{AccountId, ListingId, PushId};
    use crate::model::{DomainFlags, TradeHold, TradeRef};
    use chrono::{Duration, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 7, 0, 0).unwrap()
    }

    fn domain() -> Domain {
        Domain {
            name: DomainName::parse("example.com").unwrap(),
            owner: AccountId::parse("alice").unwrap(),
            registered_at: now() - Duration::days(400),
            expires_at: now() + Duration::days(300),
            flags: DomainFlags::default(),
            trade: None,
            transfer_lock_until: None,
            deleted: false,
        }
    }

    fn listing_hold(until: DateTime<Utc>) -> Option<TradeHold> {
        Some(TradeHold {
            trade: TradeRef::Listing(ListingId::parse("lst_01").unwrap()),
            until: Some(until),
            terms: None,
            order: None,
        })
    }

    #[test]
    fn p9_p11_a_free_domain_may_leave() {
        let answer = transfer_out(&domain(), now());
        assert_eq!(
            answer,
            TransferOut {
                allowed: true,
                reason: None,
                until: None
            }
        );
        assert!(!answer.locked());
    }

    #[test]
    fn p11_a_listed_domain_cannot_leave_until_its_hold_ends() {
        let mut d = domain();
        let end = now() + Duration::days(3);
        d.trade = listing_hold(end);
        let answer = transfer_out(&d, now());
        assert!(!answer.allowed);
        assert_eq!(answer.reason, Some(IN_TRADE));
        assert_eq!(answer.until, Some(end));
    }

    #[test]
    fn p11_a_pushed_domain_cannot_leave_and_has_no_end_by_time() {
        let mut d = domain();
        d.trade = Some(TradeHold {
            trade: TradeRef::Push(PushId::parse("psh_01").unwrap()),
            until: None,
            terms: None,
            order: None,
        });
        let answer = transfer_out(&d, now());
        assert_eq!((answer.allowed, answer.reason), (false, Some(IN_TRADE)));
        assert_eq!(answer.until, None);
    }

    #[test]
    fn p9_inside_the_lock_it_cannot_leave_and_after_it_may() {
        let mut d = domain();
        let forced = now();
        d.transfer_lock_until = Some(forced + Duration::days(60));
        let at59 = transfer_out(&d, forced + Duration::days(59));
        assert_eq!((at59.allowed, at59.reason), (false, Some(TRANSFER_LOCKED)));
        assert_eq!(at59.until, Some(forced + Duration::days(60)));
        assert!(inside_transfer_lock(&d, forced + Duration::days(59)).is_some());
        // E1: the lock ends by time, whether or not anything recorded it.
        let at61 = transfer_out(&d, forced + Duration::days(61));
        assert!(at61.allowed);
        assert!(inside_transfer_lock(&d, forced + Duration::days(61)).is_none());
        // The lock's own end is its end: at `until` exactly the domain may leave.
        assert!(transfer_out(&d, forced + Duration::days(60)).allowed);
    }

    #[test]
    fn e1_a_trade_hold_past_its_until_is_no_hold() {
        let mut d = domain();
        d.trade = listing_hold(now() - Duration::seconds(1));
        assert!(transfer_out(&d, now()).allowed);
    }

    #[test]
    fn p9_p11_a_trade_inside_a_lock_names_the_trade_and_the_later_end() {
        let mut d = domain();
        d.transfer_lock_until = Some(now() + Duration::days(30));
        d.trade = listing_hold(now() + Duration::days(3));
        let answer = transfer_out(&d, now());
        assert_eq!(answer.reason, Some(IN_TRADE));
        assert_eq!(answer.until, Some(now() + Duration::days(30)));
        d.trade = listing_hold(now() + Duration::days(40));
        assert_eq!(
            transfer_out(&d, now()).until,
            Some(now() + Duration::days(40))
        );
    }
}
