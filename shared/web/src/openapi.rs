//! What every function's OpenAPI paths share: the problem+json schema, the reusable
//! `Busy` and `RateLimited` responses, and the paging parameters. The document itself is
//! put together in `infra::openapi` from every function's `Api`.
use std::borrow::Cow;

use market_core::error::Code;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};

/// The problem+json media type of every refusal.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem document with the stable code (`problem::problem_body`).
#[derive(utoipa::ToSchema)]
#[schema(as = Problem)]
#[allow(dead_code)]
pub struct ProblemSchema {
    /// `https://market.example/problems/{code in kebab case}`.
    #[schema(example = "https://market.example/problems/not-found")]
    pub r#type: String,
    pub title: String,
    /// The HTTP status, repeated.
    pub status: u16,
    pub detail: String,
    #[schema(schema_with = code_schema)]
    pub code: String,
    /// For `COOLING_DOWN`: when the listing opens (L4).
    pub buyable_at: Option<chrono::DateTime<chrono::Utc>>,
    /// For batch refusals: every refused domain and why. For `EXIT_BLOCKED` (M2): every
    /// reason as `{code, detail}` (no `domain`).
    #[schema(value_type = Option<Vec<market_app::schema::ProblemErrorSchema>>)]
    pub errors: Option<Vec<()>>,
    /// For `DEPOSIT_REQUIRED` (M1): the amount still missing, CNY.
    #[schema(example = "5000.00")]
    pub amount: Option<String>,
}

/// Every code of the contract, in `market_core::error::Code`'s order.
pub const CODES: &[Code] = {
    use Code::*;
    &[
        InvalidRequest,
        InvalidAmount,
        InvalidDomain,
        Unauthenticated,
        Forbidden,
        NotFound,
        IdempotencyKeyReused,
        IdempotencyInProgress,
        InvalidQuery,
        Busy,
        PayloadTooLarge,
        NotVerified,
        NoPayoutAccount,
        NotOwner,
        TooSoonAfterRegistration,
        NearExpiry,
        DomainExpired,
        TransferProhibited,
        SpecialDomain,
        PendingOperation,
        Restricted,
        AlreadyInTrade,
        ListingNotActive,
        CoolingDown,
        OrderPending,
        SelfPurchase,
        EmptyOrder,
        BatchTooLarge,
        NothingOrderable,
        CaptchaFailed,
        RateLimited,
        PaymentWindowClosed,
        PaymentMethodNotAllowed,
        OrderNotPayable,
        OrderNotCancellable,
        PushRefused,
        PushNotPending,
        NotRefundable,
        InsufficientFunds,
        SecurityPasswordRequired,
        SecurityCheckFailed,
        SecurityLocked,
        TransferLocked,
        ContactNotVerified,
        PlacementAlreadyApplied,
        NotTakenDown,
        AppealAlreadyFiled,
        NoPendingAppeal,
        RestoreNotAllowed,
        NotEnterpriseAccount,
        CompanyNameMismatch,
        SettlementAccountNotVerified,
        PartnerSignatureInvalid,
        PartnerRequestStale,
        PartnerRequestReplayed,
        PartnerListingConflict,
        MixedCart,
        DeliveryNotPending,
        CardBrandNotAccepted,
        CardTypeNotAccepted,
        CardExpiring,
        PaypalRegionNotAccepted,
        BankTransferNotAllowed,
        AlreadyBoundElsewhere,
        PreauthorizationFailed,
        PreferredMethod,
        LastMethodInUse,
        DepositRequired,
        DepositAlreadyHeld,
        ExitBlocked,
        SellerExited,
        AlreadyConverted,
        NotInSection,
    ]
};

/// Where [`CODES`] is kept whole: a code added to `Code` does not compile here until it is
/// named below; name it in `CODES` too (the test counts them).
#[allow(dead_code)]
fn listed(code: Code) {
    use Code::*;
    match code {
        InvalidRequest
        | InvalidAmount
        | InvalidDomain
        | Unauthenticated
        | Forbidden
        | NotFound
        | IdempotencyKeyReused
        | IdempotencyInProgress
        | InvalidQuery
        | Busy
        | PayloadTooLarge
        | NotVerified
        | NoPayoutAccount
        | NotOwner
        | TooSoonAfterRegistration
        | NearExpiry
        | DomainExpired
        | TransferProhibited
        | SpecialDomain
        | PendingOperation
        | Restricted
        | AlreadyInTrade
        | ListingNotActive
        | CoolingDown
        | OrderPending
        | SelfPurchase
        | EmptyOrder
        | BatchTooLarge
        | NothingOrderable
        | CaptchaFailed
        | RateLimited
        | PaymentWindowClosed
        | PaymentMethodNotAllowed
        | OrderNotPayable
        | OrderNotCancellable
        | PushRefused
        | PushNotPending
        | NotRefundable
        | InsufficientFunds
        | SecurityPasswordRequired
        | SecurityCheckFailed
        | SecurityLocked
        | TransferLocked
        | ContactNotVerified
        | PlacementAlreadyApplied
        | NotTakenDown
        | AppealAlreadyFiled
        | NoPendingAppeal
        | RestoreNotAllowed
        | NotEnterpriseAccount
        | CompanyNameMismatch
        | SettlementAccountNotVerified
        | PartnerSignatureInvalid
        | PartnerRequestStale
        | PartnerRequestReplayed
        | PartnerListingConflict
        | MixedCart
        | DeliveryNotPending
        | CardBrandNotAccepted
        | CardTypeNotAccepted
        | CardExpiring
        | PaypalRegionNotAccepted
        | BankTransferNotAllowed
        | AlreadyBoundElsewhere
        | PreauthorizationFailed
        | PreferredMethod
        | LastMethodInUse
        | DepositRequired
        | DepositAlreadyHeld
        | ExitBlocked
        | SellerExited
        | AlreadyConverted
        | NotInSection => {}
    }
}

fn code_schema() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(
            "The stable code (API.md \"Errors\"); each route's responses say which it answers.",
        ))
        .enum_values(Some(CODES.iter().map(|c| c.as_str())))
        .into()
}

fn problem_content() -> utoipa::openapi::Content {
    ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("Problem")))
        .build()
}

fn retry_after() -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0)),
        )
        .description(Some("Seconds after which the same request may succeed."))
        .build()
}

/// 503 `BUSY`: contention or throttling outlasted the retries.
pub struct Busy;

impl<'r> utoipa::ToResponse<'r> for Busy {
    fn response() -> (&'r str, RefOr<Response>) {
        (
            "Busy",
            ResponseBuilder::new()
                .description(
                    "Contention or throttling outlasted the retries (code BUSY); nothing was \
                     written. Try again after Retry-After seconds.",
                )
                .header("Retry-After", retry_after())
                .content(PROBLEM_JSON, problem_content())
                .build()
                .into(),
        )
    }
}

/// 413 `PAYLOAD_TOO_LARGE`: a request body over 1 MB (every route that takes a body).
pub struct TooLarge;

impl<'r> utoipa::ToResponse<'r> for TooLarge {
    fn response() -> (&'r str, RefOr<Response>) {
        (
            "TooLarge",
            ResponseBuilder::new()
                .description(
                    "The request body is over 1 MB (code PAYLOAD_TOO_LARGE); nothing was read.",
                )
                .content(PROBLEM_JSON, problem_content())
                .build()
                .into(),
        )
    }
}

/// 401 `UNAUTHENTICATED`: no token, a bad signature or an expired token (every route but
/// the public ones).
pub struct Unauthenticated;

impl<'r> utoipa::ToResponse<'r> for Unauthenticated {
    fn response() -> (&'r str, RefOr<Response>) {
        (
            "Unauthenticated",
            ResponseBuilder::new()
                .description("UNAUTHENTICATED: no token, a bad signature or an expired token.")
                .content(PROBLEM_JSON, problem_content())
                .build()
                .into(),
        )
    }
}

/// 401 of a partner's route (L10): the request's HMAC signature does not hold, is stale or
/// is a replay.
pub struct PartnerUnsigned;

impl<'r> utoipa::ToResponse<'r> for PartnerUnsigned {
    fn response() -> (&'r str, RefOr<Response>) {
        (
            "PartnerUnsigned",
            ResponseBuilder::new()
                .description(
                    "PARTNER_SIGNATURE_INVALID, PARTNER_REQUEST_STALE, PARTNER_REQUEST_REPLAYED",
                )
                .content(PROBLEM_JSON, problem_content())
                .build()
                .into(),
        )
    }
}

/// 429 `RATE_LIMITED`.
pub struct RateLimited;

impl<'r> utoipa::ToResponse<'r> for RateLimited {
    fn response() -> (&'r str, RefOr<Response>) {
        (
            "RateLimited",
            ResponseBuilder::new()
                .description(
                    "RATE_LIMITED: too many attempts this minute; Retry-After says when the next \
                     minute starts.",
                )
                .header("Retry-After", retry_after())
                .content(PROBLEM_JSON, problem_content())
                .build()
                .into(),
        )
    }
}

/// A 429 answer with `Retry-After` and this description.
fn too_many(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .header("Retry-After", retry_after())
        .content(PROBLEM_JSON, problem_content())
        .build()
        .into()
}

/// 429 `SECURITY_LOCKED` (P12).
pub struct SecurityLocked;

impl<'r> utoipa::ToResponse<'r> for SecurityLocked {
    fn response() -> (&'r str, RefOr<Response>) {
        (
            "SecurityLocked",
            too_many(
                "SECURITY_LOCKED: five wrong security passwords within 15 minutes (P12); every \
                 try, a right one too, is refused until Retry-After seconds have passed.",
            ),
        )
    }
}

/// 429 of `POST /pushes`: `RATE_LIMITED` or `SECURITY_LOCKED` (P12).
pub struct RateLimitedOrSecurityLocked;

impl<'r> utoipa::ToResponse<'r> for RateLimitedOrSecurityLocked {
    fn response() -> (&'r str, RefOr<Response>) {
        (
            "RateLimitedOrSecurityLocked",
            too_many(
                "RATE_LIMITED: too many publications this minute; or SECURITY_LOCKED: five \
                 wrong security passwords within 15 minutes (P12), every try refused meanwhile. \
                 Retry-After says when to try again.",
            ),
        )
    }
}

/// A listing's fixed price, more than 0 (L1).
pub struct ListingPriceSchema;

impl utoipa::PartialSchema for ListingPriceSchema {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "A listing's fixed price, more than 0 (L1); \"0\" or \"0.00\" is 400 \
                 INVALID_AMOUNT. (A push's price may be 0, P1.)",
            ))
            .pattern(Some(r"^(?!0+(\.0{1,2})?$)[0-9]+(\.[0-9]{1,2})?$"))
            .examples(["1999.00"])
            .into()
    }
}

impl utoipa::ToSchema for ListingPriceSchema {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ListingPrice")
    }
}

/// The `Idempotency-Key` header of the creating routes: a retry with the same key and body
/// gets the first answer again; with another body, 422 `IDEMPOTENCY_KEY_REUSED`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct IdempotencyKey {
    /// Any string of the client's choosing, unique per intended operation.
    #[param(rename = "Idempotency-Key", value_type = String, required = false)]
    pub idempotency_key: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_listed_once() {
        let mut seen = std::collections::HashSet::new();
        for code in CODES {
            assert!(seen.insert(code.as_str()), "{code:?} twice");
        }
        // As many as `listed` names.
        assert_eq!(seen.len(), 73);
    }
}
