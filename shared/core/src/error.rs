//! One refusal type for the whole marketplace, carrying the stable codes of API.md.
//! It is mapped to HTTP status and problem+json in exactly one place (`web::problem`).
use chrono::{DateTime, Utc};
use serde::Serialize;

/// The stable, upper-case error codes of the HTTP contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Code {
    // Request shape
    InvalidRequest,
    InvalidAmount,
    InvalidDomain,
    Unauthenticated,
    Forbidden,
    NotFound,
    IdempotencyKeyReused,
    IdempotencyInProgress,
    /// A query that contradicts itself (`min_price` > `max_price`).
    InvalidQuery,
    /// Contention or throttling outlasted our retries: nothing was written, try again
    /// (503 with `Retry-After`, never a 500).
    Busy,
    /// A body over its route's limit (payment notifications: 16 KB).
    PayloadTooLarge,
    // A1
    NotVerified,
    NoPayoutAccount,
    // L2, in the order RULES.md lists them
    NotOwner,
    TooSoonAfterRegistration,
    NearExpiry,
    DomainExpired,
    TransferProhibited,
    SpecialDomain,
    PendingOperation,
    Restricted,
    AlreadyInTrade,
    // Listings and orders
    ListingNotActive,
    CoolingDown,
    OrderPending,
    SelfPurchase,
    EmptyOrder,
    BatchTooLarge,
    NothingOrderable,
    CaptchaFailed,
    RateLimited,
    // Payment
    PaymentWindowClosed,
    PaymentMethodNotAllowed,
    OrderNotPayable,
    OrderNotCancellable,
    // Pushes
    PushRefused,
    PushNotPending,
    NotRefundable,
    // Payouts (S6)
    InsufficientFunds,
    // The security password (P12)
    /// Missing where the policy requires it (or the account has none and must have one).
    SecurityPasswordRequired,
    /// Wrong: counted towards the lock.
    SecurityCheckFailed,
    /// Five wrong within 15 minutes: refused, even when right, until they slide out
    /// (429 with `Retry-After`).
    SecurityLocked,
    // The registrar (P9, P11)
    /// A transfer-out event for a domain inside its 60-day lock (P9).
    TransferLocked,
    /// O9: the registrant contact asked for is unknown or not verified.
    ContactNotVerified,
    /// M4: the listing already applied for this section's next period.
    PlacementAlreadyApplied,
    // Compliance takedowns (M3)
    /// An appeal of a listing that was not taken down by an operator.
    NotTakenDown,
    /// A listing's takedown is appealed once; this one already was.
    AppealAlreadyFiled,
    /// An operator's decision on a listing with no appeal awaiting one.
    NoPendingAppeal,
    /// A restore the listing no longer allows (the domain left, expired, is in another
    /// trade, the listing's end passed …): `errors` names the reason.
    RestoreNotAllowed,
    // Settlement accounts (S4)
    /// Enterprise Alipay for an account that is not a verified enterprise.
    NotEnterpriseAccount,
    /// The settlement account's name differs from the account's verified name.
    CompanyNameMismatch,
    /// A payout while the bound settlement account awaits the operator's verification.
    SettlementAccountNotVerified,
    // Partner listings (L10)
    /// A partner request with no valid signature: headers missing, unknown partner, or an
    /// HMAC that does not match (forged).
    PartnerSignatureInvalid,
    /// A signed partner request more than 5 minutes from the server's time.
    PartnerRequestStale,
    /// A signed partner request whose nonce was already used (a replay).
    PartnerRequestReplayed,
    /// The domain is registered here, or another partner already lists it.
    PartnerListingConflict,
    /// A cart mixing partner and registrar listings (order them separately).
    MixedCart,
    /// A delivery confirmation for an order that is not awaiting one.
    DeliveryNotPending,
    // Payment instruments (S3)
    /// A card brand other than Visa, Mastercard, American Express and JCB.
    CardBrandNotAccepted,
    /// A UnionPay-only, prepaid, virtual or gift card.
    CardTypeNotAccepted,
    /// A card that expires this month (or has expired).
    CardExpiring,
    /// A PayPal account registered in mainland China.
    PaypalRegionNotAccepted,
    /// Bank transfer for an account that is not an enterprise on credit control.
    BankTransferNotAllowed,
    /// The card or PayPal account is bound to another platform account.
    AlreadyBoundElsewhere,
    /// The 1.00 USD pre-authorisation of a binding was declined.
    PreauthorizationFailed,
    /// The preferred method cannot be removed while there are others.
    PreferredMethod,
    /// The only method cannot be removed while bills are unpaid or deposits held.
    LastMethodInUse,
    /// M1: the domain's category needs a deposit the seller does not hold (`amount`: what
    /// is missing).
    DepositRequired,
    /// M1: the deposit of this category is held in full already.
    DepositAlreadyHeld,
    /// M2: the exit cannot go ahead; `errors` lists every reason.
    ExitBlocked,
    /// M2: the account's exit was processed: it can no longer sell.
    SellerExited,
    /// L11: a legacy listing converted (or imported again) after it was converted.
    AlreadyConverted,
    /// M4: a listing applying for a section of another TLD.
    NotInSection,
}

impl Code {
    /// The HTTP status a refusal with this code is answered with.
    pub fn status(self) -> u16 {
        use Code::*;
        match self {
            InvalidRequest
            | InvalidAmount
            | InvalidDomain
            | PaymentMethodNotAllowed
            | EmptyOrder
            | BatchTooLarge
            | CaptchaFailed
            | InvalidQuery => 400,
            Unauthenticated
            | PartnerSignatureInvalid
            | PartnerRequestStale
            | PartnerRequestReplayed => 401,
            Forbidden
            | SecurityPasswordRequired
            | SecurityCheckFailed
            | DepositRequired
            | SellerExited => 403,
            NotFound => 404,
            IdempotencyKeyReused | PushRefused => 422,
            RateLimited | SecurityLocked => 429,
            Busy => 503,
            PayloadTooLarge => 413,
            NotRefundable | InsufficientFunds => 409,
            NotVerified
            | ContactNotVerified
            | NoPayoutAccount
            | NotOwner
            | TooSoonAfterRegistration
            | NearExpiry
            | DomainExpired
            | TransferProhibited
            | SpecialDomain
            | PendingOperation
            | Restricted
            | NotEnterpriseAccount
            | CompanyNameMismatch
            | SettlementAccountNotVerified
            | MixedCart
            | CardBrandNotAccepted
            | CardTypeNotAccepted
            | CardExpiring
            | PaypalRegionNotAccepted
            | BankTransferNotAllowed
            | PreauthorizationFailed
            | NotInSection => 422,
            AlreadyInTrade
            | ListingNotActive
            | CoolingDown
            | OrderPending
            | SelfPurchase
            | NothingOrderable
            | PaymentWindowClosed
            | OrderNotPayable
            | OrderNotCancellable
            | PushNotPending
            | TransferLocked
            | PlacementAlreadyApplied
            | NotTakenDown
            | AppealAlreadyFiled
            | NoPendingAppeal
            | RestoreNotAllowed
            | PartnerListingConflict
            | DeliveryNotPending
            | AlreadyBoundElsewhere
            | PreferredMethod
            | LastMethodInUse
            | DepositAlreadyHeld
            | ExitBlocked
            | AlreadyConverted
            | IdempotencyInProgress => 409,
        }
    }

    /// The code as written on the wire (`"NOT_OWNER"`).
    pub fn as_str(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    /// A short human title for the problem document.
    pub fn title(self) -> &'static str {
        use Code::*;
        match self {
            InvalidRequest => "The request is malformed",
            InvalidAmount => "Invalid amount",
            InvalidDomain => "Invalid domain name",
            Unauthenticated => "Authentication required",
            Forbidden => "Not allowed",
            NotFound => "Not found",
            IdempotencyKeyReused => "Idempotency key reused with another request",
            IdempotencyInProgress => "A request with this idempotency key is in progress",
            InvalidQuery => "The query contradicts itself",
            Busy => "Busy, try again",
            PayloadTooLarge => "Request body too large",
            NotVerified => "Account not real-name verified",
            NoPayoutAccount => "No Alipay account bound",
            NotOwner => "Domain not in your account",
            TooSoonAfterRegistration => "Domain registered too recently",
            NearExpiry => "Domain too close to expiry",
            DomainExpired => "Domain expired",
            TransferProhibited => "Transfer prohibited",
            SpecialDomain => "Special product domain",
            PendingOperation => "Operation pending on the domain",
            Restricted => "Domain restricted",
            AlreadyInTrade => "Domain already in a trade",
            ListingNotActive => "Listing not active",
            CoolingDown => "Listing cooling down",
            OrderPending => "An order is awaiting payment",
            SelfPurchase => "Cannot buy your own listing",
            EmptyOrder => "Empty order",
            BatchTooLarge => "Too many domains in one request",
            NothingOrderable => "Nothing in the cart can be ordered",
            CaptchaFailed => "Human check failed",
            RateLimited => "Too many attempts",
            PaymentWindowClosed => "Payment window closed",
            PaymentMethodNotAllowed => "Payment method not allowed",
            OrderNotPayable => "Order cannot be paid",
            OrderNotCancellable => "Order cannot be cancelled",
            PushRefused => "Push refused",
            PushNotPending => "Push no longer pending",
            NotRefundable => "Nothing to refund",
            InsufficientFunds => "Not enough available money",
            SecurityPasswordRequired => "Security password required",
            SecurityCheckFailed => "Security check failed",
            SecurityLocked => "Security checks locked for a while",
            TransferLocked => "Domain inside its transfer lock",
            ContactNotVerified => "Contact unknown or not verified",
            PlacementAlreadyApplied => "Already applied for this placement period",
            NotTakenDown => "Listing not taken down",
            AppealAlreadyFiled => "Takedown already appealed",
            NoPendingAppeal => "No appeal awaiting a decision",
            RestoreNotAllowed => "Listing cannot be restored",
            NotEnterpriseAccount => "Not an enterprise account",
            CompanyNameMismatch => "Company name differs from the verified name",
            SettlementAccountNotVerified => "Settlement account not verified yet",
            PartnerSignatureInvalid => "Partner signature invalid",
            PartnerRequestStale => "Partner request too old or too far ahead",
            PartnerRequestReplayed => "Partner request replayed",
            PartnerListingConflict => "Domain not available for a partner listing",
            MixedCart => "Partner and registrar listings in one cart",
            DeliveryNotPending => "No delivery awaiting confirmation",
            CardBrandNotAccepted => "Card brand not accepted",
            CardTypeNotAccepted => "Card type not accepted",
            CardExpiring => "Card expires this month",
            PaypalRegionNotAccepted => "PayPal account region not accepted",
            BankTransferNotAllowed => "Bank transfer not allowed for this account",
            AlreadyBoundElsewhere => "Already bound to another account",
            PreauthorizationFailed => "Pre-authorisation failed",
            PreferredMethod => "The preferred method cannot be removed",
            LastMethodInUse => "The only method is in use",
            DepositRequired => "A deposit is required for this category",
            DepositAlreadyHeld => "The category's deposit is held already",
            ExitBlocked => "The exit is blocked",
            SellerExited => "The account has left the marketplace",
            AlreadyConverted => "Legacy listing already converted",
            NotInSection => "The listing's TLD is not the section's",
        }
    }
}

/// A per-domain refusal inside a batch answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DomainRefusal {
    pub domain: String,
    pub code: Code,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buyable_at: Option<DateTime<Utc>>,
}

/// A refusal: a stable code, a human detail, and the extras some codes carry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code:?}: {detail}")]
pub struct Problem {
    pub code: Code,
    pub detail: String,
    /// For `COOLING_DOWN`: when the listing opens (L4).
    pub buyable_at: Option<DateTime<Utc>>,
    /// For batch refusals: every domain and why.
    pub errors: Vec<DomainRefusal>,
    /// A status other than the code's own, where the contract says so (a cart of which
    /// nothing can be ordered is a 409 whatever its one domain's code).
    pub status: Option<u16>,
    /// Seconds after which the same request may succeed (`Retry-After`): for `RATE_LIMITED`,
    /// `SECURITY_LOCKED` (P12) and `BUSY`.
    pub retry_after: Option<u32>,
    /// For `DEPOSIT_REQUIRED`: the amount missing (M1).
    pub amount: Option<rust_decimal::Decimal>,
    /// For `EXIT_BLOCKED`: every reason, each with its own code (M2).
    pub reasons: Vec<Reason>,
}

/// One reason of a refusal that has several (M2: an exit's blockers), as `{code, detail}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Reason {
    pub code: String,
    pub detail: String,
}

impl Problem {
    /// A refusal with a code and a detail.
    pub fn new(code: Code, detail: impl Into<String>) -> Problem {
        Problem {
            code,
            detail: detail.into(),
            buyable_at: None,
            errors: Vec::new(),
            status: None,
            retry_after: None,
            amount: None,
            reasons: Vec::new(),
        }
    }

    /// The same refusal, with the amount it is about (M1).
    pub fn with_amount(mut self, amount: rust_decimal::Decimal) -> Problem {
        self.amount = Some(amount);
        self
    }

    /// The same refusal, with every reason (M2).
    pub fn with_reasons(mut self, reasons: Vec<Reason>) -> Problem {
        self.reasons = reasons;
        self
    }

    /// The same refusal, telling the client when to try again.
    pub fn with_retry_after(mut self, seconds: u32) -> Problem {
        self.retry_after = Some(seconds);
        self
    }

    /// `BUSY`: the store stayed contended or throttled; nothing was written.
    pub fn busy(detail: impl Into<String>) -> Problem {
        Problem::new(Code::Busy, detail).with_retry_after(1)
    }

    /// The HTTP status of this refusal.
    pub fn http_status(&self) -> u16 {
        self.status.unwrap_or(self.code.status())
    }

    /// The same refusal, answered with another status.
    pub fn with_status(mut self, status: u16) -> Problem {
        self.status = Some(status);
        self
    }

    /// The same refusal, with the time the listing opens.
    pub fn with_buyable_at(mut self, at: DateTime<Utc>) -> Problem {
        self.buyable_at = Some(at);
        self
    }

    /// The same refusal, naming every refused domain.
    pub fn with_errors(mut self, errors: Vec<DomainRefusal>) -> Problem {
        self.errors = errors;
        self
    }

    /// This refusal as the refusal of one domain in a batch.
    pub fn for_domain(&self, domain: &str) -> DomainRefusal {
        DomainRefusal {
            domain: domain.to_owned(),
            code: self.code,
            detail: self.detail.clone(),
            buyable_at: self.buyable_at,
        }
    }

    /// `NOT_FOUND` for a thing of a kind.
    pub fn not_found(what: &str) -> Problem {
        Problem::new(Code::NotFound, format!("no such {what}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_upper_snake_case_on_the_wire() {
        assert_eq!(
            Code::TooSoonAfterRegistration.as_str(),
            "TOO_SOON_AFTER_REGISTRATION"
        );
        assert_eq!(Code::CoolingDown.as_str(), "COOLING_DOWN");
    }

    #[test]
    fn p12_the_security_codes_and_their_statuses() {
        for (code, wire, status) in [
            (
                Code::SecurityPasswordRequired,
                "SECURITY_PASSWORD_REQUIRED",
                403,
            ),
            (Code::SecurityCheckFailed, "SECURITY_CHECK_FAILED", 403),
            (Code::SecurityLocked, "SECURITY_LOCKED", 429),
        ] {
            assert_eq!(code.as_str(), wire);
            assert_eq!(code.status(), status);
        }
    }
}
