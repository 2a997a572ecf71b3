//! S3: the card processor and the PayPal vault that hold an account's payment instruments.
//! The marketplace never sees a card number: a client tokenises the card with the
//! processor (a PaymentMethod id) and hands the token over; the processor reports what S3
//! judges (brand, funding, fingerprint, expiry) and places and releases the binding's
//! pre-authorisation. In the cloud: Stripe's REST API; locally: a sandbox that knows
//! Stripe's documented test PaymentMethod ids.
use async_trait::async_trait;

use market_core::instrument::{CardFacts, PayPalFacts};

/// S3: a binding places this much on the card, then releases it at once.
pub const PREAUTH_AMOUNT_MINOR: u64 = 100;
/// The currency of the pre-authorisation (ISO 4217, lower-case as Stripe writes it).
pub const PREAUTH_CURRENCY: &str = "usd";

/// Why a processor or vault call did not give an answer to use.
#[derive(Debug, thiserror::Error)]
pub enum InstrumentError {
    /// The token is not one the processor or vault knows (or not a card/PayPal one).
    #[error("unknown token")]
    UnknownToken,
    /// The processor declined (a pre-authorisation): the reason as it gives it.
    #[error("declined: {0}")]
    Declined(String),
    /// The processor could not be reached, timed out or answered something unexpected.
    #[error(transparent)]
    Unavailable(#[from] anyhow::Error),
}

/// A placed pre-authorisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preauthorization {
    /// The processor's id of it (a Stripe PaymentIntent id): what is cancelled.
    pub id: String,
}

/// The card processor.
#[async_trait]
pub trait CardProcessor: Send + Sync {
    /// What the processor knows of the card behind `token` (a PaymentMethod id).
    async fn inspect(&self, token: &str) -> Result<CardFacts, InstrumentError>;
    /// Places [`PREAUTH_AMOUNT_MINOR`] [`PREAUTH_CURRENCY`] on the card, authorised but not
    /// captured. `idempotency_key` makes a retried call place one, not two.
    async fn preauthorize(
        &self,
        token: &str,
        idempotency_key: &str,
    ) -> Result<Preauthorization, InstrumentError>;
    /// Releases a pre-authorisation (it is never captured).
    async fn cancel(
        &self,
        preauthorization: &Preauthorization,
        idempotency_key: &str,
    ) -> Result<(), InstrumentError>;
}

/// The PayPal vault.
#[async_trait]
pub trait PayPal: Send + Sync {
    /// The PayPal account behind a vault token.
    async fn vault(&self, token: &str) -> Result<PayPalFacts, InstrumentError>;
}
