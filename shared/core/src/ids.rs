//! Identifiers. Account ids come from the identity provider; the others are minted here
//! from a time and randomness handed in by the shell, so the core stays pure.
use serde::{Deserialize, Serialize};
use std::fmt;

use super::error::{Code, Problem};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Mints a new id from a ULID (time-ordered, random tail).
            pub fn mint(ulid: ulid::Ulid) -> Self {
                Self(format!("{}_{}", $prefix, ulid.to_string().to_lowercase()))
            }

            /// Accepts an id from a path; it only has to look like one of ours.
            pub fn parse(text: &str) -> Result<Self, Problem> {
                let ok = text.len() <= 64
                    && text.starts_with(concat!($prefix, "_"))
                    && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if ok { Ok(Self(text.to_owned())) } else { Err(Problem::not_found(stringify!($name))) }
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = Problem;

            fn from_str(text: &str) -> Result<Self, Problem> {
                Self::parse(text)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// A fixed-price listing.
    ListingId, "lst");
id_type!(
    /// An order: one payment group of a cart (O2).
    OrderId, "ord");
id_type!(
    /// A priced push.
    PushId, "psh");
id_type!(
    /// A bound payment method of an account (S3).
    PaymentMethodId, "mth");
id_type!(
    /// A payment attempt; its `out_trade_no` is what the provider knows it by.
    PaymentId, "pay");
id_type!(
    /// A legacy offline-negotiation listing (L11).
    LegacyListingId, "lgc");
id_type!(
    /// A seller's payout (S6); its `out_biz_no` at the provider, so a retry never pays twice.
    PayoutId, "po");
id_type!(
    /// A seller's deposit for a listing category (M1).
    DepositId, "dep");

/// An account of the registrar (the JWT `sub`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountId(String);

impl AccountId {
    /// Account ids are 1–64 characters of letters, digits, `-`, `_`, `.` and `@`.
    pub fn parse(text: &str) -> Result<AccountId, Problem> {
        let ok = !text.is_empty()
            && text.len() <= 64
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c));
        if ok {
            Ok(AccountId(text.to_owned()))
        } else {
            Err(Problem::new(
                Code::InvalidRequest,
                format!("`{text}` is not an account id"),
            ))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for AccountId {
    type Err = Problem;

    fn from_str(text: &str) -> Result<Self, Problem> {
        AccountId::parse(text)
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for AccountId {
    type Error = Problem;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        AccountId::parse(&value)
    }
}

impl From<AccountId> for String {
    fn from(value: AccountId) -> String {
        value.0
    }
}
