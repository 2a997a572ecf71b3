//! L11: the offline-negotiation listings of the old system (淘域名). No new ones can be
//! published: operators import the existing ones, the public sees them, nobody can order
//! them, and their seller converts one into a fixed-price listing in one step (which then
//! obeys every rule of a new listing). A converted one stays converted.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain_name::DomainName;
use crate::error::{Code, Problem};
use crate::ids::{AccountId, LegacyListingId, ListingId};
use crate::money::Money;

/// Where a legacy listing is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegacyStatus {
    /// Visible, negotiated offline, convertible.
    Open,
    /// Turned into the fixed-price listing `listing_id`.
    Converted,
}

/// A legacy offline-negotiation listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacyListing {
    pub id: LegacyListingId,
    pub domain: DomainName,
    pub seller: AccountId,
    /// What the seller asked for offline, if anything (the price is negotiated).
    pub asking_price: Option<Money>,
    pub description: String,
    pub status: LegacyStatus,
    pub listing_id: Option<ListingId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Whether `caller` may convert `legacy` now: only its seller (others are told it exists
/// but is not theirs: 403), and only while open (409 `ALREADY_CONVERTED`).
pub fn check_convertible(legacy: &LegacyListing, caller: &AccountId) -> Result<(), Problem> {
    if &legacy.seller != caller {
        return Err(Problem::new(
            Code::Forbidden,
            "only the seller can convert a legacy listing",
        ));
    }
    match legacy.status {
        LegacyStatus::Open => Ok(()),
        LegacyStatus::Converted => Err(Problem::new(
            Code::AlreadyConverted,
            format!(
                "this legacy listing was converted already (into {})",
                legacy
                    .listing_id
                    .as_ref()
                    .map_or("a listing", ListingId::as_str)
            ),
        )),
    }
}

/// An operator's import of a legacy listing over what is stored for its domain: an open
/// one is updated in place (its id kept), a converted one cannot be reopened (409).
pub fn reimport(
    stored: Option<&LegacyListing>,
    imported: LegacyListing,
) -> Result<LegacyListing, Problem> {
    match stored {
        None => Ok(imported),
        Some(old) if old.status == LegacyStatus::Converted => Err(Problem::new(
            Code::AlreadyConverted,
            "the legacy listing of this domain was converted: it cannot be imported again",
        )),
        Some(old) => Ok(LegacyListing {
            id: old.id.clone(),
            created_at: old.created_at,
            ..imported
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn legacy(status: LegacyStatus) -> LegacyListing {
        let now = DateTime::parse_from_rfc3339("2026-11-26T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        LegacyListing {
            id: LegacyListingId::mint(ulid::Ulid::from_parts(1, 1)),
            domain: DomainName::parse("old.com").unwrap(),
            seller: AccountId::parse("alice").unwrap(),
            asking_price: None,
            description: "negotiable".into(),
            status,
            listing_id: None,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn l11_only_the_seller_converts_and_only_once() {
        let alice = AccountId::parse("alice").unwrap();
        let bob = AccountId::parse("bob").unwrap();
        assert!(check_convertible(&legacy(LegacyStatus::Open), &alice).is_ok());
        assert_eq!(
            check_convertible(&legacy(LegacyStatus::Open), &bob)
                .unwrap_err()
                .code,
            Code::Forbidden
        );
        assert_eq!(
            check_convertible(&legacy(LegacyStatus::Converted), &alice)
                .unwrap_err()
                .code,
            Code::AlreadyConverted
        );
    }

    #[test]
    fn l11_a_reimport_keeps_the_id_and_never_reopens() {
        let old = legacy(LegacyStatus::Open);
        let mut new = legacy(LegacyStatus::Open);
        new.id = LegacyListingId::mint(ulid::Ulid::from_parts(2, 2));
        new.description = "changed".into();
        let merged = reimport(Some(&old), new.clone()).unwrap();
        assert_eq!(merged.id, old.id);
        assert_eq!(merged.description, "changed");
        assert_eq!(reimport(None, new.clone()).unwrap().id, new.id);
        assert_eq!(
            reimport(Some(&legacy(LegacyStatus::Converted)), new)
                .unwrap_err()
                .code,
            Code::AlreadyConverted
        );
    }
}
