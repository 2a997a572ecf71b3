//! A deployment without a card processor or PayPal vault configured: binding such a
//! method is answered "try again later" (and logged), nothing else is affected.
use async_trait::async_trait;

use market_app::ports::instruments::{CardProcessor, InstrumentError, PayPal, Preauthorization};
use market_core::instrument::{CardFacts, PayPalFacts};

/// No card processor.
pub struct NoCards;

/// No PayPal vault.
pub struct NoPayPal;

fn unconfigured(what: &str) -> InstrumentError {
    InstrumentError::Unavailable(anyhow::anyhow!("no {what} is configured"))
}

#[async_trait]
impl CardProcessor for NoCards {
    async fn inspect(&self, _token: &str) -> Result<CardFacts, InstrumentError> {
        Err(unconfigured("card processor (STRIPE_SECRET_ARN)"))
    }

    async fn preauthorize(&self, _: &str, _: &str) -> Result<Preauthorization, InstrumentError> {
        Err(unconfigured("card processor (STRIPE_SECRET_ARN)"))
    }

    async fn cancel(&self, _: &Preauthorization, _: &str) -> Result<(), InstrumentError> {
        Err(unconfigured("card processor (STRIPE_SECRET_ARN)"))
    }
}

#[async_trait]
impl PayPal for NoPayPal {
    async fn vault(&self, _token: &str) -> Result<PayPalFacts, InstrumentError> {
        Err(unconfigured("PayPal vault"))
    }
}
