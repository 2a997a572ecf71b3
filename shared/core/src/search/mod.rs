//! Search (Q1): what a listing is in the search index, what investors filter names by, and
//! the one query builder both engines run. Pure: the engines are adapters.
pub mod doc;
pub mod name;
pub mod pinyin;
pub mod query;

#[cfg(test)]
pub(crate) mod tests {
    use chrono::{TimeZone, Utc};

    use crate::domain_name::DomainName;
    use crate::ids::{AccountId, ListingId};
    use crate::model::{Listing, ListingStatus};
    use crate::money::Money;

    /// An active listing of `domain` at `price`.
    pub fn listing(domain: &str, price: &str) -> Listing {
        let at = Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap();
        Listing {
            id: ListingId::mint(ulid::Ulid::from_parts(1, 1)),
            domain: DomainName::parse(domain).unwrap(),
            seller: AccountId::parse("alice").unwrap(),
            price: Money::parse(price).unwrap(),
            status: ListingStatus::Active,
            end_reason: None,
            buyable_at: at,
            ends_at: at + chrono::Duration::days(30),
            description: String::new(),
            created_at: at,
            updated_at: at,
            hold: None,
            sold_to: None,
            domain_expires_at: Some(at + chrono::Duration::days(365)),
            first_price: None,
            takedown: None,
            partner: None,
        }
    }
}
