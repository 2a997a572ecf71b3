//! O9, P4: whether a paid domain can still change account to its buyer. One rule for every
//! kind of trade: the domain still exists, is still the seller's and still held by this
//! trade, has not expired, and carries no flag that forbids a change of registrant.
use chrono::{DateTime, Utc};

use crate::ids::AccountId;
use crate::model::Domain;

/// Why a paid domain cannot be delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Undeliverable {
    /// The domain is no longer at this registrar (no record).
    Gone,
    /// The registry deleted it.
    Deleted,
    /// It left the seller's account, or the trade that holds it is another one.
    LeftTrade,
    /// It expired.
    Expired,
    /// Transfer prohibited, restricted, blacklisted or an operation pending.
    Locked,
}

impl Undeliverable {
    /// The reason in words, as the buyer's refund shows it.
    pub fn reason(self) -> &'static str {
        match self {
            Undeliverable::Gone => "the domain no longer exists",
            Undeliverable::Deleted => "the domain was deleted",
            Undeliverable::LeftTrade => "the domain left the seller's account or the trade",
            Undeliverable::Expired => "the domain expired",
            Undeliverable::Locked => "the domain can no longer change account",
        }
    }
}

/// O9, P4: `domain` (as read now) can go from `seller` to its buyer under the trade
/// `trade_id` at `now`.
pub fn check_deliverable(
    domain: Option<&Domain>,
    seller: &AccountId,
    trade_id: &str,
    now: DateTime<Utc>,
) -> Result<(), Undeliverable> {
    let Some(domain) = domain else {
        return Err(Undeliverable::Gone);
    };
    if domain.deleted {
        return Err(Undeliverable::Deleted);
    }
    let held_by_trade = domain.trade.as_ref().is_some_and(|t| t.id() == trade_id);
    if &domain.owner != seller || !held_by_trade {
        return Err(Undeliverable::LeftTrade);
    }
    if domain.expires_at <= now {
        return Err(Undeliverable::Expired);
    }
    let f = domain.flags;
    if f.transfer_prohibited || f.restricted || f.blacklisted || f.pending_operation {
        return Err(Undeliverable::Locked);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain_name::DomainName;
    use crate::ids::PushId;
    use crate::model::{DomainFlags, TradeHold, TradeRef};
    use chrono::Duration;

    fn push_1() -> PushId {
        PushId::mint(ulid::Ulid::nil())
    }

    fn push_1_id() -> String {
        push_1().to_string()
    }

    fn held(now: DateTime<Utc>) -> Domain {
        Domain {
            name: DomainName::parse("held.com").unwrap(),
            owner: AccountId::parse("alice").unwrap(),
            registered_at: now - Duration::days(365),
            expires_at: now + Duration::days(365),
            flags: DomainFlags::default(),
            trade: Some(TradeHold {
                trade: TradeRef::Push(push_1()),
                until: None,
                terms: None,
                order: None,
            }),
            transfer_lock_until: None,
            deleted: false,
        }
    }

    #[test]
    fn o9_p4_a_domain_still_held_by_its_trade_can_be_delivered() {
        let now = Utc::now();
        let alice = AccountId::parse("alice").unwrap();
        assert_eq!(
            check_deliverable(Some(&held(now)), &alice, &push_1_id(), now),
            Ok(())
        );
    }

    #[test]
    fn o9_p4_each_reason_a_domain_cannot_be_delivered() {
        let now = Utc::now();
        let alice = AccountId::parse("alice").unwrap();
        let id = push_1_id();
        let check = |d: &Domain| check_deliverable(Some(d), &alice, &id, now);
        assert_eq!(
            check_deliverable(None, &alice, &id, now),
            Err(Undeliverable::Gone)
        );
        let mut d = held(now);
        d.deleted = true;
        assert_eq!(check(&d), Err(Undeliverable::Deleted));
        let mut d = held(now);
        d.owner = AccountId::parse("carol").unwrap();
        assert_eq!(check(&d), Err(Undeliverable::LeftTrade));
        assert_eq!(
            check_deliverable(Some(&held(now)), &alice, "push_2", now),
            Err(Undeliverable::LeftTrade)
        );
        let mut d = held(now);
        d.expires_at = now;
        assert_eq!(check(&d), Err(Undeliverable::Expired));
        for flag in 0..4 {
            let mut d = held(now);
            match flag {
                0 => d.flags.transfer_prohibited = true,
                1 => d.flags.restricted = true,
                2 => d.flags.blacklisted = true,
                _ => d.flags.pending_operation = true,
            }
            assert_eq!(check(&d), Err(Undeliverable::Locked), "flag {flag}");
        }
    }
}
