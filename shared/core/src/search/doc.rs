//! The one index mapping (Q1): what a listing is in the search index, field by field. Both
//! engines build their schema from [`FIELDS`], and both are fed [`SearchDoc`]s; times are
//! milliseconds since the epoch and prices fen, so that both compare the same numbers.
use chrono::{DateTime, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::name::{grams, NameTraits};
use crate::model::{Listing, ListingStatus};
use crate::money::Money;

/// How an engine keeps a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Exact words, one or more a document, filterable and countable.
    Keyword,
    /// A sequence of grams with positions: phrases of consecutive grams are substrings.
    Grams,
    /// A whole number (fen, milliseconds, characters), ranged, sorted and counted.
    Number,
    /// Kept to be handed back, never searched.
    Stored,
}

pub const ID: &str = "id";
pub const DOMAIN: &str = "domain";
pub const NAME: &str = "name";
pub const TLD: &str = "tld";
pub const TOKENS: &str = "tokens";
pub const CHARS: &str = "chars";
pub const GRAMS: &str = "grams";
pub const GRAMS_PUNYCODE: &str = "grams_punycode";
pub const LENGTH: &str = "length";
pub const CLASSES: &str = "classes";
pub const SYLLABLES: &str = "syllables";
pub const PRICE: &str = "price";
pub const CREATED_AT: &str = "created_at";
pub const ENDS_AT: &str = "ends_at";
pub const DOMAIN_EXPIRES_AT: &str = "domain_expires_at";
/// Until when it is on the market: its end or its domain's expiry, whichever is first (E1).
pub const VISIBLE_UNTIL: &str = "visible_until";
pub const SOURCE: &str = "source";
/// The last key of every order, one number a listing (from its id): listings equal in
/// every other key keep one order on both engines, page after page.
pub const TIEBREAK: &str = "tiebreak";
pub const SELLER: &str = "seller";
pub const LISTING: &str = "listing";

/// Every field of the index and how it is kept.
pub const FIELDS: &[(&str, FieldKind)] = &[
    (ID, FieldKind::Keyword),
    (DOMAIN, FieldKind::Keyword),
    (NAME, FieldKind::Keyword),
    (TLD, FieldKind::Keyword),
    (TOKENS, FieldKind::Keyword),
    (CHARS, FieldKind::Keyword),
    (GRAMS, FieldKind::Grams),
    (GRAMS_PUNYCODE, FieldKind::Grams),
    (LENGTH, FieldKind::Number),
    (CLASSES, FieldKind::Keyword),
    (SYLLABLES, FieldKind::Number),
    (PRICE, FieldKind::Number),
    (CREATED_AT, FieldKind::Number),
    (ENDS_AT, FieldKind::Number),
    (DOMAIN_EXPIRES_AT, FieldKind::Number),
    (VISIBLE_UNTIL, FieldKind::Number),
    (SOURCE, FieldKind::Keyword),
    (TIEBREAK, FieldKind::Number),
    (SELLER, FieldKind::Keyword),
    (LISTING, FieldKind::Stored),
];

/// The kind of a field of [`FIELDS`].
pub fn kind_of(field: &str) -> Option<FieldKind> {
    FIELDS.iter().find(|(f, _)| *f == field).map(|(_, k)| *k)
}

/// A value of a document's field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Words(Vec<String>),
    Number(i64),
    Text(String),
}

/// A listing as the index holds it: every field of [`FIELDS`], in that order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchDoc {
    pub id: String,
    /// The version of the listing's item it was made from: an engine keeps the newest it
    /// was given, whatever order changes arrive in.
    pub version: u64,
    pub fields: Vec<(&'static str, Value)>,
}

/// An unknown expiry sorts after every known one and is never "before" a date.
pub const UNKNOWN_EXPIRY: i64 = i64::MAX;

pub fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

pub fn fen(amount: Money) -> i64 {
    (amount.amount() * Decimal::from(100))
        .trunc()
        .to_i64()
        .unwrap_or(i64::MAX)
}

/// A listing's [`TIEBREAK`]: FNV-1a of its id (stable across builds and engines).
pub fn tiebreak(id: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in id.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    // Kept positive: a long on both engines.
    (hash >> 1) as i64
}

/// Where a listing comes from (L10).
pub fn source_of(listing: &Listing) -> &'static str {
    if listing.partner.is_some() {
        "partner"
    } else {
        "registrar"
    }
}

impl SearchDoc {
    /// The document of a listing the market shows, or `None` when it is not to be found
    /// (sold, ended, delisted, taken down): the feed removes it then.
    pub fn of(listing: &Listing, version: u64) -> Option<SearchDoc> {
        if listing.status != ListingStatus::Active {
            return None;
        }
        let traits = NameTraits::of(&listing.domain);
        let words = |w: Vec<String>| Value::Words(w);
        let one = |w: &str| Value::Words(vec![w.to_owned()]);
        let punycode = if traits.ascii != traits.unicode {
            grams(&traits.ascii)
        } else {
            Vec::new()
        };
        let fields = vec![
            (ID, one(listing.id.as_str())),
            (DOMAIN, one(listing.domain.ascii())),
            (
                NAME,
                words(vec![traits.ascii.clone(), traits.unicode.clone()]),
            ),
            (TLD, one(listing.domain.tld())),
            (TOKENS, words(traits.tokens())),
            (CHARS, words(traits.chars())),
            (GRAMS, words(grams(&traits.unicode))),
            (GRAMS_PUNYCODE, words(punycode)),
            (LENGTH, Value::Number(i64::from(traits.length))),
            (
                CLASSES,
                words(traits.classes().into_iter().map(str::to_owned).collect()),
            ),
            (
                SYLLABLES,
                Value::Number(i64::from(traits.syllables.unwrap_or(0))),
            ),
            (PRICE, Value::Number(fen(listing.price))),
            (CREATED_AT, Value::Number(millis(listing.created_at))),
            (ENDS_AT, Value::Number(millis(listing.ends_at))),
            (
                DOMAIN_EXPIRES_AT,
                Value::Number(listing.domain_expires_at.map_or(UNKNOWN_EXPIRY, millis)),
            ),
            (VISIBLE_UNTIL, Value::Number(millis(listing.lapse().0))),
            (SOURCE, one(source_of(listing))),
            (TIEBREAK, Value::Number(tiebreak(listing.id.as_str()))),
            (SELLER, one(listing.seller.as_str())),
            (
                LISTING,
                Value::Text(serde_json::to_string(listing).unwrap_or_default()),
            ),
        ];
        Some(SearchDoc {
            id: listing.id.to_string(),
            version,
            fields,
        })
    }

    /// The value of one field.
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.fields
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_of_the_mapping_is_in_a_document_in_order() {
        let listing = crate::search::tests::listing("xiaomi.com", "1999.00");
        let doc = SearchDoc::of(&listing, 1).unwrap();
        let names: Vec<&str> = doc.fields.iter().map(|(f, _)| *f).collect();
        let mapped: Vec<&str> = FIELDS.iter().map(|(f, _)| *f).collect();
        assert_eq!(names, mapped);
        assert_eq!(doc.get(PRICE), Some(&Value::Number(199_900)));
        assert_eq!(doc.get(SYLLABLES), Some(&Value::Number(2)));
        assert_eq!(
            doc.get(CLASSES),
            Some(&Value::Words(vec!["letters".into(), "pinyin".into()]))
        );
    }

    #[test]
    fn e1_a_listing_is_visible_until_its_end_or_its_domains_expiry_whichever_is_first() {
        let mut listing = crate::search::tests::listing("abc.com", "10");
        let ends = millis(listing.ends_at);
        assert_eq!(
            SearchDoc::of(&listing, 1).unwrap().get(VISIBLE_UNTIL),
            Some(&Value::Number(ends))
        );
        let expiry = listing.ends_at - chrono::Duration::days(1);
        listing.domain_expires_at = Some(expiry);
        assert_eq!(
            SearchDoc::of(&listing, 1).unwrap().get(VISIBLE_UNTIL),
            Some(&Value::Number(millis(expiry)))
        );
    }

    #[test]
    fn q1_a_listing_that_is_not_active_has_no_document() {
        let mut listing = crate::search::tests::listing("abc.com", "10");
        listing.status = ListingStatus::Sold;
        assert!(SearchDoc::of(&listing, 1).is_none());
    }
}
