//! Pure rules for publishing, changing and ordering fixed-price listings (A1, L2, L4, L5).
use chrono::{DateTime, Duration, Utc};

use super::error::{Code, Problem};
use super::ids::{AccountId, ListingId, OrderId};
use super::model::{Account, Domain, Listing, ListingStatus, ListingTerms, OrderHold};
use super::money::Money;
use super::policy::Policy;

/// L2.2: TLDs that cannot trade within 7×24 h of registration: `.cn`, `.中国`, `.公司`, `.网络`.
pub const CN_REGISTRATION_HOLD_TLDS: [&str; 4] = ["cn", "xn--fiqs8s", "xn--55qx5d", "xn--io0a7i"];

/// L2.6: suffixes that are special products by name (`gov.cn`); the others (微站, 微海报,
/// 诚信通) are flagged by the registrar as `special_product`.
pub const SPECIAL_SUFFIXES: [&str; 1] = ["gov.cn"];

/// A1: a seller or buyer must be real-name verified and have a bound Alipay account.
pub fn check_trader(account: Option<&Account>) -> Result<&Account, Problem> {
    let account = account.ok_or_else(|| {
        Problem::new(
            Code::NotVerified,
            "the account is not known to the marketplace; complete real-name verification first",
        )
    })?;
    if !account.real_name_verified {
        return Err(Problem::new(
            Code::NotVerified,
            "complete real-name verification before trading (A1)",
        ));
    }
    if account.payout_account.as_deref().is_none_or(str::is_empty) {
        return Err(Problem::new(
            Code::NoPayoutAccount,
            "bind an Alipay account before trading (A1)",
        ));
    }
    Ok(account)
}

/// A1 (P1, P7): the named buyer of a push must be able to trade too. The one refused is the
/// seller publishing to them, so the refusal names the buyer.
pub fn check_named_buyer(buyer: &Account) -> Result<(), Problem> {
    check_trader(Some(buyer)).map(|_| ()).map_err(|refusal| {
        let missing = match refusal.code {
            Code::NoPayoutAccount => "has no bound Alipay account",
            _ => "is not real-name verified",
        };
        Problem::new(
            refusal.code,
            format!(
                "the buyer {} {missing}: a push can go only to an account that can trade (A1)",
                buyer.id
            ),
        )
    })
}

/// L1: a fixed price is more than zero: a listing at 0 could not be paid (a push, P1, may
/// be free; it has no such check).
pub fn check_price(price: Money) -> Result<(), Problem> {
    if price == Money::ZERO {
        return Err(Problem::new(
            Code::InvalidAmount,
            "a listing's price is more than 0 (L1)",
        ));
    }
    Ok(())
}

/// L2.9, L5: a listing whose end time has passed still holds its domain while an order
/// placed before the end awaits payment (the buyer reserved it in time). The domain's own
/// hold lapsed with the end time, so [`check_tradeable`] cannot see this; `listing` is the
/// one the domain's hold names.
pub fn check_lapsed_listing_unheld(listing: &Listing, now: DateTime<Utc>) -> Result<(), Problem> {
    match listing.live_hold(now) {
        Some(hold) if listing.status == ListingStatus::Active => Err(Problem::new(
            Code::AlreadyInTrade,
            format!(
                "{} is held by an order of its previous listing until {} (L5)",
                listing.domain,
                hold.until.to_rfc3339()
            ),
        )),
        _ => Ok(()),
    }
}

/// L2 (and P2 with the push margin): whether `seller` may put `domain` into a trade at `now`.
/// The checks run in RULES.md's order and the first failure is the answer.
pub fn check_tradeable(
    domain: &Domain,
    seller: &AccountId,
    now: DateTime<Utc>,
    policy: &Policy,
    expiry_margin: Duration,
) -> Result<(), Problem> {
    let name = domain.name.ascii();
    // L2.1 (a deleted domain is no longer in anyone's account)
    if &domain.owner != seller || domain.deleted {
        return Err(Problem::new(
            Code::NotOwner,
            format!("{name} is not in your account"),
        ));
    }
    // L2.2
    let hold = if CN_REGISTRATION_HOLD_TLDS.contains(&domain.name.tld()) {
        policy.registration_hold_cn
    } else {
        policy.registration_hold_other
    };
    if now < domain.registered_at + hold {
        return Err(Problem::new(
            Code::TooSoonAfterRegistration,
            format!(
                "{name} can trade from {}",
                (domain.registered_at + hold).to_rfc3339()
            ),
        ));
    }
    // L2.4 before L2.3: an expired domain is not merely near expiry.
    if domain.expires_at <= now {
        return Err(Problem::new(
            Code::DomainExpired,
            format!("{name} has expired"),
        ));
    }
    // L2.3
    if domain.expires_at - now < expiry_margin {
        return Err(Problem::new(
            Code::NearExpiry,
            format!(
                "{name} expires in less than {} days; renew it first",
                expiry_margin.num_days()
            ),
        ));
    }
    // L2.5
    if domain.flags.transfer_prohibited {
        return Err(Problem::new(
            Code::TransferProhibited,
            format!("{name} cannot change account"),
        ));
    }
    // L2.6
    if domain.flags.special_product || SPECIAL_SUFFIXES.iter().any(|s| domain.name.has_suffix(s)) {
        return Err(Problem::new(
            Code::SpecialDomain,
            format!("{name} is a special product and cannot be traded"),
        ));
    }
    // L2.7
    if domain.flags.pending_operation {
        return Err(Problem::new(
            Code::PendingOperation,
            format!("{name} has an ownership change or transfer in progress"),
        ));
    }
    // L2.8 (a blacklisted domain is restricted too, L6)
    if domain.flags.restricted || domain.flags.blacklisted {
        return Err(Problem::new(
            Code::Restricted,
            format!("{name} is restricted"),
        ));
    }
    // L2.9
    if let Some(trade) = domain.active_trade(now) {
        return Err(Problem::new(
            Code::AlreadyInTrade,
            format!("{name} is already in a trade ({})", trade.id()),
        ));
    }
    Ok(())
}

/// L3: the end time of a listing must lie in the future.
pub fn check_ends_at(ends_at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), Problem> {
    if ends_at <= now {
        return Err(Problem::new(
            Code::InvalidRequest,
            "ends_at must be in the future",
        ));
    }
    Ok(())
}

/// L3: descriptions are short.
pub const MAX_DESCRIPTION_CHARS: usize = 500;

/// L3: a description of at most [`MAX_DESCRIPTION_CHARS`] characters.
pub fn check_description(description: &str) -> Result<(), Problem> {
    super::limits::check_length("description", description, MAX_DESCRIPTION_CHARS)
}

/// L5: the order awaiting payment for `listing` at `now`: on its domain's trade hold (issue
/// 15), or on the listing itself for a listing held before that and for a partner's (L10).
pub fn order_hold<'a>(
    listing: &'a Listing,
    domain: Option<&'a Domain>,
    now: DateTime<Utc>,
) -> Option<&'a OrderHold> {
    domain
        .and_then(|d| d.trade.as_ref())
        .filter(|t| t.listing() == Some(&listing.id))
        .and_then(|t| t.live_order(now))
        .or_else(|| listing.live_hold(now))
}

/// O9: whether `listing` is still held for `order` (at any time: a paid order's hold is
/// not timed out by its delivery), on its domain or, held before issue 15, on itself.
pub fn held_for(listing: &Listing, domain: Option<&Domain>, order: &OrderId) -> bool {
    let on_domain = domain
        .and_then(|d| d.trade.as_ref())
        .filter(|t| t.listing() == Some(&listing.id))
        .and_then(|t| t.order.as_ref());
    on_domain
        .or(listing.hold.as_ref())
        .is_some_and(|h| &h.order_id == order)
}

/// L5: the seller may change, delist or delete a listing only while it is active and no
/// order for it awaits payment (`domain`: the listing's domain, which keeps that order).
pub fn check_editable(
    listing: &Listing,
    domain: Option<&Domain>,
    now: DateTime<Utc>,
) -> Result<(), Problem> {
    if listing.status_at(now).0 != ListingStatus::Active {
        return Err(Problem::new(
            Code::ListingNotActive,
            "the listing is no longer active",
        ));
    }
    if let Some(hold) = order_hold(listing, domain, now) {
        return Err(Problem::new(
            Code::OrderPending,
            format!(
                "an order awaits payment until {} (L5)",
                hold.until.to_rfc3339()
            ),
        ));
    }
    Ok(())
}

/// O1, L4, L5: whether `buyer` may order the listing holding `domain` at `now`, judged on
/// the domain alone: its trade hold carries the listing's terms and any order's hold
/// (issue 15). Answers the listing and its terms. A domain no listing holds is not
/// listed (404); one whose listing has ended, or that cannot change hands, is not for sale.
pub fn check_orderable<'a>(
    domain: &'a Domain,
    buyer: &AccountId,
    now: DateTime<Utc>,
) -> Result<(&'a ListingId, &'a ListingTerms), Problem> {
    let name = &domain.name;
    let (trade, id) = domain
        .trade
        .as_ref()
        .and_then(|t| Some((t, t.listing()?)))
        .ok_or_else(|| Problem::new(Code::NotFound, format!("{name} is not listed")))?;
    let not_for_sale = || Problem::new(Code::ListingNotActive, format!("{name} is not for sale"));
    let terms = trade.terms.as_ref().ok_or_else(not_for_sale)?;
    // A listing is active until its end time (the hold's `until`) and while its domain is
    // the seller's, not deleted and not expired (L6, L7: also before any sweep, E1).
    let sellable = trade.until.is_none_or(|until| until > now)
        && domain.owner == terms.seller
        && !domain.deleted
        && domain.expires_at > now;
    if !sellable {
        return Err(not_for_sale());
    }
    if &terms.seller == buyer {
        return Err(Problem::new(
            Code::SelfPurchase,
            "you cannot buy your own listing (O1)",
        ));
    }
    if now < terms.buyable_at {
        return Err(Problem::new(
            Code::CoolingDown,
            format!(
                "{name} can be ordered from {} (L4)",
                terms.buyable_at.to_rfc3339()
            ),
        )
        .with_buyable_at(terms.buyable_at));
    }
    if trade.live_order(now).is_some() {
        return Err(Problem::new(
            Code::OrderPending,
            format!("{name} is held by an order awaiting payment"),
        ));
    }
    Ok((id, terms))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain_name::DomainName;
    use crate::model::{DomainFlags, TradeHold, TradeRef};

    fn alice() -> AccountId {
        AccountId::parse("alice").unwrap()
    }

    fn now() -> DateTime<Utc> {
        "2026-11-22T07:00:00Z".parse().unwrap()
    }

    fn domain(name: &str, age: Duration, left: Duration) -> Domain {
        Domain {
            name: DomainName::parse(name).unwrap(),
            owner: alice(),
            registered_at: now() - age,
            expires_at: now() + left,
            flags: DomainFlags::default(),
            trade: None,
            transfer_lock_until: None,
            deleted: false,
        }
    }

    fn check(d: &Domain) -> Result<(), Code> {
        let policy = Policy::default();
        check_tradeable(d, &alice(), now(), &policy, policy.listing_expiry_margin)
            .map_err(|p| p.code)
    }

    fn ok_domain(name: &str) -> Domain {
        domain(name, Duration::days(365), Duration::days(365))
    }

    #[test]
    fn l2_a_plain_domain_is_listable() {
        assert_eq!(check(&ok_domain("example.com")), Ok(()));
    }

    #[test]
    fn l2_1_not_owner() {
        let mut d = ok_domain("example.com");
        d.owner = AccountId::parse("bob").unwrap();
        assert_eq!(check(&d), Err(Code::NotOwner));
    }

    #[test]
    fn l2_2_cn_family_waits_7_days_others_24_hours() {
        for name in ["a.cn", "例子.中国", "例子.公司", "例子.网络"] {
            assert_eq!(
                check(&domain(name, Duration::days(6), Duration::days(365))),
                Err(Code::TooSoonAfterRegistration),
                "{name}"
            );
            assert_eq!(
                check(&domain(name, Duration::days(7), Duration::days(365))),
                Ok(()),
                "{name}"
            );
        }
        assert_eq!(
            check(&domain("a.com", Duration::hours(23), Duration::days(365))),
            Err(Code::TooSoonAfterRegistration)
        );
        assert_eq!(
            check(&domain("a.com", Duration::hours(24), Duration::days(365))),
            Ok(())
        );
    }

    #[test]
    fn l2_3_and_l2_4_expiry() {
        assert_eq!(
            check(&domain(
                "a.com",
                Duration::days(365),
                Duration::days(7) - Duration::seconds(1)
            )),
            Err(Code::NearExpiry)
        );
        assert_eq!(
            check(&domain("a.com", Duration::days(365), Duration::days(7))),
            Ok(())
        );
        assert_eq!(
            check(&domain("a.com", Duration::days(365), Duration::zero())),
            Err(Code::DomainExpired)
        );
    }

    #[test]
    fn p2_pushes_use_their_own_margin() {
        let policy = Policy::default();
        let d = domain("a.com", Duration::days(365), Duration::days(10));
        assert!(
            check_tradeable(&d, &alice(), now(), &policy, policy.listing_expiry_margin).is_ok()
        );
        let err =
            check_tradeable(&d, &alice(), now(), &policy, policy.push_expiry_margin).unwrap_err();
        assert_eq!(err.code, Code::NearExpiry);
    }

    #[test]
    fn l2_5_to_l2_8_flags() {
        type SetFlag = fn(&mut DomainFlags);
        let cases: [(SetFlag, Code); 5] = [
            (|f| f.transfer_prohibited = true, Code::TransferProhibited),
            (|f| f.special_product = true, Code::SpecialDomain),
            (|f| f.pending_operation = true, Code::PendingOperation),
            (|f| f.restricted = true, Code::Restricted),
            (|f| f.blacklisted = true, Code::Restricted),
        ];
        for (set, code) in cases {
            let mut d = ok_domain("example.com");
            set(&mut d.flags);
            assert_eq!(check(&d), Err(code));
        }
        assert_eq!(check(&ok_domain("city.gov.cn")), Err(Code::SpecialDomain));
    }

    #[test]
    fn l2_9_in_trade_until_the_hold_lapses() {
        let mut d = ok_domain("example.com");
        d.trade = Some(TradeHold {
            trade: TradeRef::Listing(crate::ids::ListingId::parse("lst_x").unwrap()),
            until: Some(now() + Duration::minutes(1)),
            terms: None,
            order: None,
        });
        assert_eq!(check(&d), Err(Code::AlreadyInTrade));
        d.trade.as_mut().unwrap().until = Some(now());
        assert_eq!(check(&d), Ok(()));
    }

    #[test]
    fn l2_checks_run_in_rule_order() {
        // Not the owner and expired and flagged: the first rule answers.
        let mut d = domain("a.cn", Duration::days(1), Duration::zero());
        d.flags.restricted = true;
        d.owner = AccountId::parse("bob").unwrap();
        assert_eq!(check(&d), Err(Code::NotOwner));
        d.owner = alice();
        assert_eq!(check(&d), Err(Code::TooSoonAfterRegistration));
    }

    fn listing(ends_in: Duration) -> Listing {
        Listing {
            id: crate::ids::ListingId::parse("lst_01jdxw0000000000000000000a").unwrap(),
            domain: DomainName::parse("example.com").unwrap(),
            seller: alice(),
            price: Money::parse("10.00").unwrap(),
            status: ListingStatus::Active,
            end_reason: None,
            buyable_at: now(),
            ends_at: now() + ends_in,
            description: String::new(),
            created_at: now(),
            updated_at: now(),
            hold: None,
            sold_to: None,
            domain_expires_at: None,
            first_price: None,
            takedown: None,
            partner: None,
        }
    }

    #[test]
    fn l1_a_listing_price_is_more_than_zero() {
        for zero in ["0", "0.00", "0.0"] {
            let err = check_price(Money::parse(zero).unwrap()).unwrap_err();
            assert_eq!(err.code, Code::InvalidAmount, "{zero}");
        }
        assert!(check_price(Money::parse("0.01").unwrap()).is_ok());
    }

    #[test]
    fn l2_9_l5_a_lapsed_listing_holds_its_domain_while_an_order_awaits_payment() {
        let mut lapsed = listing(-Duration::minutes(1));
        assert!(check_lapsed_listing_unheld(&lapsed, now()).is_ok());
        lapsed.hold = Some(crate::model::OrderHold {
            order_id: crate::ids::OrderId::parse("ord_01jdxw0000000000000000000a").unwrap(),
            buyer: AccountId::parse("bob").unwrap(),
            until: now() + Duration::minutes(2),
        });
        assert_eq!(
            check_lapsed_listing_unheld(&lapsed, now())
                .unwrap_err()
                .code,
            Code::AlreadyInTrade
        );
        // The order's window closes: the hold lapses by itself.
        assert!(check_lapsed_listing_unheld(&lapsed, now() + Duration::minutes(2)).is_ok());
        lapsed.status = ListingStatus::Ended;
        assert!(check_lapsed_listing_unheld(&lapsed, now()).is_ok());
    }

    #[test]
    fn e1_l7_a_listing_ends_at_its_domains_expiry_if_that_comes_first() {
        let mut l = listing(Duration::days(30));
        l.domain_expires_at = Some(now() + Duration::days(10));
        assert_eq!(l.status_at(now()).0, ListingStatus::Active);
        assert_eq!(
            l.status_at(now() + Duration::days(10)),
            (ListingStatus::Ended, Some("domain_expired".into()))
        );
        l.domain_expires_at = Some(now() + Duration::days(40));
        assert_eq!(
            l.status_at(now() + Duration::days(30)),
            (ListingStatus::Ended, Some("ends_at_passed".into()))
        );
        l.domain_expires_at = None;
        assert_eq!(
            l.status_at(now() + Duration::days(30)).1.as_deref(),
            Some("ends_at_passed")
        );
    }

    #[test]
    fn a1_a_push_buyer_is_refused_by_name() {
        let mut bob = Account {
            id: AccountId::parse("bob").unwrap(),
            real_name_verified: false,
            real_name: None,
            payout_account: Some("bob@example.com".into()),
            email: None,
            enterprise: false,
            credit_control: false,
            locale: Default::default(),
        };
        let err = check_named_buyer(&bob).unwrap_err();
        assert_eq!(err.code, Code::NotVerified);
        assert!(err.detail.contains("bob"), "{}", err.detail);
        bob.real_name_verified = true;
        bob.payout_account = Some(String::new());
        assert_eq!(
            check_named_buyer(&bob).unwrap_err().code,
            Code::NoPayoutAccount
        );
        bob.payout_account = Some("bob@example.com".into());
        assert!(check_named_buyer(&bob).is_ok());
    }

    #[test]
    fn a1_traders_need_verification_and_alipay() {
        let mut account = Account {
            id: alice(),
            real_name_verified: false,
            real_name: None,
            payout_account: None,
            email: None,
            enterprise: false,
            credit_control: false,
            locale: Default::default(),
        };
        assert_eq!(check_trader(None).unwrap_err().code, Code::NotVerified);
        assert_eq!(
            check_trader(Some(&account)).unwrap_err().code,
            Code::NotVerified
        );
        account.real_name_verified = true;
        assert_eq!(
            check_trader(Some(&account)).unwrap_err().code,
            Code::NoPayoutAccount
        );
        account.payout_account = Some("alice@example.com".into());
        assert!(check_trader(Some(&account)).is_ok());
    }

    fn listed_domain() -> (Domain, Listing) {
        let listing = listing(Duration::days(30));
        let mut d = ok_domain("example.com");
        d.trade = Some(TradeHold::of_listing(&listing));
        (d, listing)
    }

    fn order_hold(until: DateTime<Utc>) -> crate::model::OrderHold {
        crate::model::OrderHold {
            order_id: crate::ids::OrderId::parse("ord_01").unwrap(),
            buyer: AccountId::parse("carol").unwrap(),
            until,
        }
    }

    fn orderable(d: &Domain, at: DateTime<Utc>) -> Result<String, Code> {
        let bob = AccountId::parse("bob").unwrap();
        check_orderable(d, &bob, at)
            .map(|(_, terms)| terms.price.to_string())
            .map_err(|p| p.code)
    }

    #[test]
    fn o1_l4_l5_an_order_is_judged_on_the_domain_alone() {
        let (d, _) = listed_domain();
        assert_eq!(orderable(&d, now()), Ok("10.00".into()));
        // Not listed: no trade, or a push's.
        let mut free = d.clone();
        free.trade = None;
        assert_eq!(orderable(&free, now()), Err(Code::NotFound));
        let mut pushed = d.clone();
        pushed.trade = Some(TradeHold {
            trade: TradeRef::Push(crate::ids::PushId::parse("psh_01").unwrap()),
            until: None,
            terms: None,
            order: None,
        });
        assert_eq!(orderable(&pushed, now()), Err(Code::NotFound));
        // Past its end, or its domain no longer the seller's, deleted or expired (E1: no
        // sweep needed), or with no terms: not for sale.
        assert_eq!(
            orderable(&d, now() + Duration::days(30)),
            Err(Code::ListingNotActive)
        );
        let mut moved = d.clone();
        moved.owner = AccountId::parse("dave").unwrap();
        assert_eq!(orderable(&moved, now()), Err(Code::ListingNotActive));
        let mut deleted = d.clone();
        deleted.deleted = true;
        assert_eq!(orderable(&deleted, now()), Err(Code::ListingNotActive));
        let mut expired = d.clone();
        expired.expires_at = now();
        assert_eq!(orderable(&expired, now()), Err(Code::ListingNotActive));
        let mut bare = d.clone();
        bare.trade.as_mut().unwrap().terms = None;
        assert_eq!(orderable(&bare, now()), Err(Code::ListingNotActive));
        // O1: not one's own.
        assert_eq!(
            check_orderable(&d, &alice(), now())
                .map_err(|p| p.code)
                .err(),
            Some(Code::SelfPurchase)
        );
        // L4: cooling down until buyable_at.
        let mut cooling = d.clone();
        cooling
            .trade
            .as_mut()
            .unwrap()
            .terms
            .as_mut()
            .unwrap()
            .buyable_at = now() + Duration::hours(1);
        assert_eq!(orderable(&cooling, now()), Err(Code::CoolingDown));
        // L5: held by an order awaiting payment, until its window closes.
        let mut held = d.clone();
        held.trade.as_mut().unwrap().order = Some(order_hold(now() + Duration::minutes(10)));
        assert_eq!(orderable(&held, now()), Err(Code::OrderPending));
        assert_eq!(
            orderable(&held, now() + Duration::minutes(10)),
            Ok("10.00".into())
        );
    }

    #[test]
    fn l2_9_l5_an_order_holds_the_domain_past_its_listings_end() {
        let (mut d, l) = listed_domain();
        let end = l.ends_at;
        d.trade.as_mut().unwrap().order = Some(order_hold(end + Duration::minutes(5)));
        assert!(
            d.active_trade(end).is_some(),
            "still held at the listing's end"
        );
        assert_eq!(check(&d).err(), Some(Code::AlreadyInTrade));
        let mut later = d.clone();
        later.trade.as_mut().unwrap().order = None;
        assert!(
            later.active_trade(end).is_none(),
            "no order: free at its end"
        );
        assert!(
            d.active_trade(end + Duration::minutes(5)).is_none(),
            "the order lapsed"
        );
        // P11: the registrar core is told to wait for the later of the two.
        let answer = crate::transfer::transfer_out(&d, end - Duration::minutes(1));
        assert_eq!(answer.until, Some(end + Duration::minutes(5)));
    }

    #[test]
    fn l5_o9_the_order_hold_is_read_from_the_domain_or_a_listing_from_before() {
        let (mut d, mut l) = listed_domain();
        let ord = crate::ids::OrderId::parse("ord_01").unwrap();
        assert!(super::order_hold(&l, Some(&d), now()).is_none());
        assert!(!held_for(&l, Some(&d), &ord));
        d.trade.as_mut().unwrap().order = Some(order_hold(now() + Duration::minutes(10)));
        assert!(super::order_hold(&l, Some(&d), now()).is_some());
        assert!(held_for(&l, Some(&d), &ord));
        // Paid after its window: still this order's for delivery (O9), not live for L5.
        assert!(super::order_hold(&l, Some(&d), now() + Duration::minutes(11)).is_none());
        assert!(held_for(&l, Some(&d), &ord));
        // A listing held before issue 15 keeps its order on itself.
        d.trade.as_mut().unwrap().order = None;
        l.hold = Some(order_hold(now() + Duration::minutes(10)));
        assert!(super::order_hold(&l, Some(&d), now()).is_some());
        assert!(held_for(&l, None, &ord));
        assert_eq!(
            check_editable(&l, Some(&d), now()).err().map(|p| p.code),
            Some(Code::OrderPending)
        );
    }
}
