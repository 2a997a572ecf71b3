//! The OpenAPI schemas of values whose types live in `market-core` (which keeps its short
//! dependency list): money, the statuses and the per-domain refusal. The views refer to
//! them with `#[schema(value_type = ...)]`; a test checks every listed word is one the core
//! type reads and writes.
use std::borrow::Cow;

use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;

/// Money on the wire: a decimal string with at most two places (API.md conventions).
pub const MONEY_PATTERN: &str = r"^[0-9]+(\.[0-9]{1,2})?$";

/// A string schema named `$name`, one of `$words` (or free text with `$pattern`).
macro_rules! string_schema {
    ($ty:ident, $name:literal, $description:literal, [$($word:literal),* $(,)?]) => {
        #[doc = $description]
        pub struct $ty;
        impl $ty {
            /// The words this schema allows.
            pub const WORDS: &'static [&'static str] = &[$($word),*];
        }
        impl utoipa::PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some($description))
                    .enum_values(Some(Self::WORDS.iter().copied()))
                    .into()
            }
        }
        impl utoipa::ToSchema for $ty {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
        }
    };
}

string_schema!(
    ListingStatusSchema,
    "ListingStatus",
    "A listing's status at the request's time.",
    ["active", "sold", "ended"]
);
string_schema!(
    OrderStatusSchema,
    "OrderStatus",
    "An order's status at the request's time (a passed pay_by shows as expired at once, E1).",
    [
        "awaiting_payment",
        "processing",
        "paid",
        "completed",
        "failed",
        "expired",
        "cancelled"
    ]
);
string_schema!(
    ItemStatusSchema,
    "ItemStatus",
    "One domain of an order.",
    ["pending", "completed", "failed"]
);
string_schema!(
    PushStatusSchema,
    "PushStatus",
    "A push's status at the request's time.",
    [
        "pending",
        "accepted",
        "awaiting_seller_confirmation",
        "completed",
        "withdrawn",
        "rejected",
        "expired",
        "failed",
        "taken_down"
    ]
);
string_schema!(
    FeeKindSchema,
    "FeeKind",
    "Which trade a fee period applies to.",
    ["fixed_price", "push"]
);
string_schema!(
    PaymentStatusSchema,
    "PaymentStatus",
    "A payment attempt's status.",
    ["pending", "succeeded", "failed", "refunded"]
);

/// Money: a decimal string with at most two places.
pub struct MoneySchema;

impl utoipa::PartialSchema for MoneySchema {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "An amount in CNY: a decimal string with at most two places.",
            ))
            .pattern(Some(MONEY_PATTERN))
            .examples(["1999.00"])
            .into()
    }
}

impl utoipa::ToSchema for MoneySchema {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Money")
    }
}

/// Why one domain of a batch was refused (`market_core::error::DomainRefusal`).
#[derive(utoipa::ToSchema)]
#[schema(as = DomainRefusal)]
#[allow(dead_code)]
pub struct DomainRefusalSchema {
    pub domain: String,
    /// The stable code (upper snake case), e.g. `COOLING_DOWN`.
    pub code: String,
    pub detail: String,
    /// For `COOLING_DOWN`: when the listing opens (L4).
    pub buyable_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// One reason of `EXIT_BLOCKED` (M2), also kept on a blocked exit.
#[derive(utoipa::ToSchema)]
#[schema(as = Reason)]
#[allow(dead_code)]
pub struct ReasonSchema {
    /// `OPEN_LISTINGS`, `OPEN_PUSHES`, `OPEN_ORDERS`, `DEPOSIT_PAYMENT_OPEN`,
    /// `FROZEN_FUNDS`, `PAYOUT_IN_FLIGHT` or `UNPAID_DEBT`.
    #[schema(example = "OPEN_LISTINGS")]
    pub code: String,
    pub detail: String,
}

/// One entry of a problem's `errors`: a refused domain of a batch (with `domain`), or one
/// reason of `EXIT_BLOCKED` (M2, without).
#[derive(utoipa::ToSchema)]
#[schema(as = ProblemError)]
#[allow(dead_code)]
pub struct ProblemErrorSchema {
    /// The refused domain (batch refusals only).
    pub domain: Option<String>,
    /// The stable code (upper snake case), e.g. `COOLING_DOWN`, `OPEN_LISTINGS`.
    pub code: String,
    pub detail: String,
    /// For `COOLING_DOWN`: when the listing opens (L4).
    pub buyable_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A fee period as `PUT /admin/fees` answers it (`market_core::model::FeePeriod`).
#[derive(utoipa::ToSchema)]
#[schema(as = FeePeriod)]
#[allow(dead_code)]
pub struct FeePeriodSchema {
    #[schema(value_type = FeeKindSchema)]
    pub kind: String,
    /// A decimal string, `"0"` for a waiver.
    pub rate: String,
    #[schema(required = true)]
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    #[schema(required = true)]
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// S5: when the change was announced (its notice runs from here).
    #[schema(required = true)]
    pub announced_at: Option<chrono::DateTime<chrono::Utc>>,
    /// S5: a pure reduction or waiver, in force without notice.
    pub reduction: bool,
}

/// An account as `PUT /admin/accounts/{account_id}` answers it (`market_core::model::Account`).
#[derive(utoipa::ToSchema)]
#[schema(as = Account)]
#[allow(dead_code)]
pub struct AccountSchema {
    pub id: String,
    pub real_name_verified: bool,
    #[schema(required = true)]
    pub real_name: Option<String>,
    #[schema(required = true)]
    pub payout_account: Option<String>,
    #[schema(required = true)]
    pub email: Option<String>,
    pub enterprise: bool,
    /// S3: on credit control (with `enterprise`: may bind bank transfer).
    pub credit_control: bool,
    /// `zh-CN` or `en` (N1).
    pub locale: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use market_core::model::{
        FeeKind, ItemStatus, ListingStatus, OrderStatus, PaymentStatus, PushStatus,
    };
    use serde::de::DeserializeOwned;

    fn all_read<T: DeserializeOwned>(words: &[&str]) {
        for word in words {
            serde_json::from_value::<T>(serde_json::json!(word))
                .unwrap_or_else(|e| panic!("{word}: {e}"));
        }
    }

    #[test]
    fn every_word_of_a_status_schema_is_one_the_core_type_reads() {
        all_read::<ListingStatus>(ListingStatusSchema::WORDS);
        all_read::<OrderStatus>(OrderStatusSchema::WORDS);
        all_read::<ItemStatus>(ItemStatusSchema::WORDS);
        all_read::<PushStatus>(PushStatusSchema::WORDS);
        all_read::<FeeKind>(FeeKindSchema::WORDS);
        all_read::<PaymentStatus>(PaymentStatusSchema::WORDS);
    }
}
