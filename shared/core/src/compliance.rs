//! M3: operator takedowns of listings that break content rules. The reason is the seller's
//! to read; the public sees only that the listing ended (`end_reason: "taken_down"`). The
//! seller may appeal once; an operator restores the listing (if it is still allowed to
//! trade) or confirms the takedown.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::error::{Code, DomainRefusal, Problem};
use super::ids::AccountId;
use super::limits::{check_length, MAX_TEXT_CHARS};
use super::model::{Listing, ListingStatus};

/// The public end reason of a listing taken down (M3): never the operator's reason.
pub const TAKEN_DOWN: &str = "taken_down";

/// Where an appeal is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppealStatus {
    /// Filed; awaiting an operator.
    Pending,
    /// The operator restored the listing.
    Restored,
    /// The operator upheld the takedown.
    Confirmed,
}

/// The seller's one request for review of a takedown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appeal {
    pub text: String,
    pub status: AppealStatus,
    pub filed_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

/// An operator's takedown of a listing, kept with it (the seller's record of why).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Takedown {
    /// The operator's reason: shown to the seller only.
    pub reason: String,
    pub at: DateTime<Utc>,
    pub appeal: Option<Appeal>,
}

/// What an operator decides on an appeal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Restore,
    Confirm,
}

/// The end reason as the public may see it: a takedown shows as `taken_down` whatever was
/// stored (listings taken down before M3 kept `taken_down: {reason}`).
pub fn public_end_reason(reason: Option<String>) -> Option<String> {
    reason.map(|r| {
        if r.starts_with(TAKEN_DOWN) {
            TAKEN_DOWN.to_owned()
        } else {
            r
        }
    })
}

/// The reason of a takedown of a listing written before M3 kept it apart (`taken_down:
/// {reason}` in its end reason), so its seller still reads it.
pub fn legacy_reason(listing: &Listing) -> Option<Takedown> {
    let reason = listing
        .end_reason
        .as_deref()?
        .strip_prefix("taken_down: ")?;
    Some(Takedown {
        reason: reason.to_owned(),
        at: listing.updated_at,
        appeal: None,
    })
}

/// The listing's takedown record, from where it is kept.
pub fn takedown_of(listing: &Listing) -> Option<Takedown> {
    listing.takedown.clone().or_else(|| legacy_reason(listing))
}

/// M3: `seller` appeals the takedown of `listing` with `text` (once, only the seller, only
/// a listing still ended by a takedown). Answers the takedown with its appeal filed.
pub fn file_appeal(
    listing: &Listing,
    seller: &AccountId,
    text: &str,
    now: DateTime<Utc>,
) -> Result<Takedown, Problem> {
    check_appeal_text(text)?;
    if &listing.seller != seller {
        return Err(Problem::new(
            Code::Forbidden,
            "only the listing's seller can appeal its takedown (M3)",
        ));
    }
    let takedown = match takedown_of(listing) {
        Some(t) if listing.status == ListingStatus::Ended => t,
        _ => {
            return Err(Problem::new(
                Code::NotTakenDown,
                "only a listing taken down by an operator can be appealed (M3)",
            ))
        }
    };
    if takedown.appeal.is_some() {
        return Err(Problem::new(
            Code::AppealAlreadyFiled,
            "this takedown was already appealed; a takedown is reviewed once (M3)",
        ));
    }
    Ok(Takedown {
        appeal: Some(Appeal {
            text: text.trim().to_owned(),
            status: AppealStatus::Pending,
            filed_at: now,
            decided_at: None,
        }),
        ..takedown
    })
}

/// M3: an appeal's text: not blank, at most 500 characters (API.md "Limits").
pub fn check_appeal_text(text: &str) -> Result<(), Problem> {
    if text.trim().is_empty() {
        return Err(Problem::new(
            Code::InvalidRequest,
            "an appeal needs a text saying why the listing should come back",
        ));
    }
    check_length("text", text, MAX_TEXT_CHARS)
}

/// M3: the takedown whose pending appeal an operator decides, with the decision recorded.
pub fn decide(
    listing: &Listing,
    decision: Decision,
    now: DateTime<Utc>,
) -> Result<Takedown, Problem> {
    let mut takedown = takedown_of(listing)
        .filter(|t| listing.status == ListingStatus::Ended && t.appeal.is_some())
        .ok_or_else(|| Problem::new(Code::NoPendingAppeal, "the listing has no appeal (M3)"))?;
    let appeal = takedown.appeal.as_mut().expect("filtered on it");
    if appeal.status != AppealStatus::Pending {
        return Err(Problem::new(
            Code::NoPendingAppeal,
            "the appeal was already decided (M3)",
        ));
    }
    appeal.status = match decision {
        Decision::Restore => AppealStatus::Restored,
        Decision::Confirm => AppealStatus::Confirmed,
    };
    appeal.decided_at = Some(now);
    Ok(takedown)
}

/// M3: a restore refused because the listing may no longer trade: 409
/// `RESTORE_NOT_ALLOWED`, with the rule that refuses it (an L2 or A1 code) in `errors`.
pub fn restore_refused(listing: &Listing, why: Problem) -> Problem {
    let mut refusal = Problem::new(
        Code::RestoreNotAllowed,
        format!(
            "{} cannot be restored: {} ({})",
            listing.domain,
            why.detail,
            why.code.as_str()
        ),
    );
    refusal.errors = vec![DomainRefusal {
        domain: listing.domain.to_string(),
        code: why.code,
        detail: why.detail,
        buyable_at: None,
    }];
    refusal
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain_name::DomainName;
    use crate::money::Money;

    fn now() -> DateTime<Utc> {
        "2026-11-26T07:00:00Z".parse().unwrap()
    }

    fn alice() -> AccountId {
        AccountId::parse("alice").unwrap()
    }

    fn taken_down() -> Listing {
        Listing {
            id: crate::ids::ListingId::parse("lst_01jdxw0000000000000000000a").unwrap(),
            domain: DomainName::parse("example.com").unwrap(),
            seller: alice(),
            price: Money::parse("10.00").unwrap(),
            status: ListingStatus::Ended,
            end_reason: Some(TAKEN_DOWN.into()),
            buyable_at: now(),
            ends_at: now(),
            description: String::new(),
            created_at: now(),
            updated_at: now(),
            hold: None,
            sold_to: None,
            domain_expires_at: None,
            first_price: None,
            takedown: Some(Takedown {
                reason: "counterfeit goods".into(),
                at: now(),
                appeal: None,
            }),
        }
    }

    #[test]
    fn m3_the_public_sees_only_taken_down() {
        assert_eq!(
            public_end_reason(Some("taken_down: counterfeit".into())).as_deref(),
            Some("taken_down")
        );
        assert_eq!(
            public_end_reason(Some("delisted".into())).as_deref(),
            Some("delisted")
        );
    }

    #[test]
    fn m3_an_appeal_is_filed_once_by_the_seller_of_a_takedown() {
        let mut listing = taken_down();
        let bob = AccountId::parse("bob").unwrap();
        assert_eq!(
            file_appeal(&listing, &bob, "mine", now()).unwrap_err().code,
            Code::Forbidden
        );
        assert_eq!(
            file_appeal(&listing, &alice(), "  ", now())
                .unwrap_err()
                .code,
            Code::InvalidRequest
        );
        assert_eq!(
            file_appeal(&listing, &alice(), &"x".repeat(501), now())
                .unwrap_err()
                .code,
            Code::InvalidRequest
        );
        let filed = file_appeal(&listing, &alice(), &"x".repeat(500), now()).unwrap();
        listing.takedown = Some(filed);
        assert_eq!(
            file_appeal(&listing, &alice(), "again", now())
                .unwrap_err()
                .code,
            Code::AppealAlreadyFiled
        );
        let mut delisted = taken_down();
        delisted.takedown = None;
        delisted.end_reason = Some("delisted".into());
        assert_eq!(
            file_appeal(&delisted, &alice(), "why", now())
                .unwrap_err()
                .code,
            Code::NotTakenDown
        );
    }

    #[test]
    fn m3_a_legacy_takedown_keeps_its_reason_for_the_seller() {
        let mut listing = taken_down();
        listing.takedown = None;
        listing.end_reason = Some("taken_down: spam".into());
        assert_eq!(takedown_of(&listing).unwrap().reason, "spam");
        assert!(file_appeal(&listing, &alice(), "no spam", now()).is_ok());
    }

    #[test]
    fn m3_an_appeal_is_decided_once() {
        let mut listing = taken_down();
        assert_eq!(
            decide(&listing, Decision::Confirm, now()).unwrap_err().code,
            Code::NoPendingAppeal
        );
        listing.takedown = Some(file_appeal(&listing, &alice(), "fine", now()).unwrap());
        let decided = decide(&listing, Decision::Confirm, now()).unwrap();
        assert_eq!(
            decided.appeal.as_ref().unwrap().status,
            AppealStatus::Confirmed
        );
        listing.takedown = Some(decided);
        assert_eq!(
            decide(&listing, Decision::Restore, now()).unwrap_err().code,
            Code::NoPendingAppeal
        );
    }

    #[test]
    fn m3_a_refused_restore_names_the_rule() {
        let refusal = restore_refused(
            &taken_down(),
            Problem::new(Code::DomainExpired, "example.com has expired"),
        );
        assert_eq!(refusal.code, Code::RestoreNotAllowed);
        assert_eq!(refusal.errors[0].code, Code::DomainExpired);
    }
}
