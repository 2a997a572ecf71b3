//! The local runner's card processor and PayPal vault (S3). The card processor accepts
//! exactly Stripe's documented test PaymentMethod ids, with the card metadata Stripe gives
//! them (brand, funding, last4, country) and one fingerprint per id, so a client written
//! against Stripe's test mode works unchanged here. `pm_card_chargeDeclined` inspects as a
//! good Visa card but declines its pre-authorisation, as Stripe's does. Every
//! pre-authorisation is recorded with its state, for tests and the curious.
use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use market_app::ports::instruments::{
    CardProcessor, InstrumentError, PayPal, Preauthorization, PREAUTH_AMOUNT_MINOR,
    PREAUTH_CURRENCY,
};
use market_core::instrument::{CardFacts, Funding, PayPalFacts};

/// The test cards' expiry: fixed, so a test can move the clock into that month.
pub const SANDBOX_EXP: (u32, i32) = (12, 2030);

/// The test PaymentMethod that inspects as a good card but is declined when charged.
const DECLINED: &str = "pm_card_chargeDeclined";

/// (token, brand, funding, last4, country)
const CARDS: [(&str, &str, Funding, &str, &str); 8] = [
    ("pm_card_visa", "visa", Funding::Credit, "4242", "US"),
    (
        "pm_card_mastercard",
        "mastercard",
        Funding::Credit,
        "4444",
        "US",
    ),
    ("pm_card_amex", "amex", Funding::Credit, "8431", "US"),
    ("pm_card_jcb", "jcb", Funding::Credit, "0505", "JP"),
    (
        "pm_card_unionpay",
        "unionpay",
        Funding::Credit,
        "0005",
        "CN",
    ),
    (
        "pm_card_mastercard_prepaid",
        "mastercard",
        Funding::Prepaid,
        "5100",
        "US",
    ),
    ("pm_card_visa_debit", "visa", Funding::Debit, "5556", "US"),
    (DECLINED, "visa", Funding::Credit, "0002", "US"),
];

/// A pre-authorisation the sandbox placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxPreauth {
    /// `pi_sandbox_{n}`.
    pub id: String,
    pub payment_method: String,
    pub amount_minor: u64,
    pub currency: String,
    /// Stripe's words: `requires_capture` while held, `canceled` once released.
    pub status: String,
}

/// The sandbox card processor.
#[derive(Default)]
pub struct SandboxCards {
    state: Mutex<Ledger>,
}

#[derive(Default)]
struct Ledger {
    placed: Vec<SandboxPreauth>,
    /// Idempotency keys already answered, and with which pre-authorisation.
    keys: HashMap<String, String>,
}

impl SandboxCards {
    /// A sandbox with no pre-authorisation placed yet.
    pub fn new() -> SandboxCards {
        SandboxCards::default()
    }

    /// Every pre-authorisation placed so far, oldest first.
    pub fn preauthorizations(&self) -> Vec<SandboxPreauth> {
        self.state.lock().expect("sandbox lock").placed.clone()
    }

    fn card(token: &str) -> Option<CardFacts> {
        let (id, brand, funding, last4, country) =
            CARDS.into_iter().find(|(id, ..)| *id == token)?;
        Some(CardFacts {
            brand: brand.into(),
            funding,
            // One per test id, as Stripe's test fingerprints are one per test card.
            fingerprint: format!("sbxfp_{}", id.trim_start_matches("pm_card_")),
            last4: last4.into(),
            exp_month: SANDBOX_EXP.0,
            exp_year: SANDBOX_EXP.1,
            country: Some(country.into()),
            networks: vec![brand.into()],
            virtual_card: false,
            gift_card: false,
        })
    }
}

#[async_trait]
impl CardProcessor for SandboxCards {
    async fn inspect(&self, token: &str) -> Result<CardFacts, InstrumentError> {
        SandboxCards::card(token).ok_or(InstrumentError::UnknownToken)
    }

    async fn preauthorize(
        &self,
        token: &str,
        idempotency_key: &str,
    ) -> Result<Preauthorization, InstrumentError> {
        SandboxCards::card(token).ok_or(InstrumentError::UnknownToken)?;
        if token == DECLINED {
            return Err(InstrumentError::Declined(
                "card_declined (generic_decline)".into(),
            ));
        }
        let mut state = self.state.lock().expect("sandbox lock");
        if let Some(id) = state.keys.get(idempotency_key) {
            return Ok(Preauthorization { id: id.clone() });
        }
        let id = format!("pi_sandbox_{}", state.placed.len() + 1);
        state.placed.push(SandboxPreauth {
            id: id.clone(),
            payment_method: token.to_owned(),
            amount_minor: PREAUTH_AMOUNT_MINOR,
            currency: PREAUTH_CURRENCY.to_owned(),
            status: "requires_capture".into(),
        });
        state.keys.insert(idempotency_key.to_owned(), id.clone());
        Ok(Preauthorization { id })
    }

    async fn cancel(
        &self,
        preauthorization: &Preauthorization,
        _idempotency_key: &str,
    ) -> Result<(), InstrumentError> {
        let mut state = self.state.lock().expect("sandbox lock");
        let placed = state
            .placed
            .iter_mut()
            .find(|p| p.id == preauthorization.id)
            .ok_or(InstrumentError::UnknownToken)?;
        placed.status = "canceled".into();
        Ok(())
    }
}

/// The sandbox PayPal vault: `paypal_sandbox_us` (a US account) and `paypal_sandbox_cn`
/// (registered in mainland China).
#[derive(Default)]
pub struct SandboxPayPal;

#[async_trait]
impl PayPal for SandboxPayPal {
    async fn vault(&self, token: &str) -> Result<PayPalFacts, InstrumentError> {
        let (payer_id, country) = match token {
            "paypal_sandbox_us" => ("SBXPAYERUS0001", "US"),
            "paypal_sandbox_cn" => ("SBXPAYERCN0001", "CN"),
            _ => return Err(InstrumentError::UnknownToken),
        };
        Ok(PayPalFacts {
            payer_id: payer_id.into(),
            country: country.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn s3_the_sandbox_knows_exactly_the_listed_test_ids() {
        let cards = SandboxCards::new();
        let mut fingerprints = std::collections::HashSet::new();
        for (token, ..) in CARDS {
            let card = cards.inspect(token).await.unwrap();
            assert!(fingerprints.insert(card.fingerprint));
        }
        assert!(matches!(
            cards.inspect("pm_card_discover").await,
            Err(InstrumentError::UnknownToken)
        ));
        assert!(matches!(
            cards.preauthorize(DECLINED, "k0").await,
            Err(InstrumentError::Declined(_))
        ));
        let placed = cards.preauthorize("pm_card_visa", "k1").await.unwrap();
        assert_eq!(
            cards.preauthorize("pm_card_visa", "k1").await.unwrap(),
            placed
        );
        cards.cancel(&placed, "k2").await.unwrap();
        let record = cards.preauthorizations();
        assert_eq!(record.len(), 1);
        assert_eq!(
            (
                record[0].amount_minor,
                record[0].currency.as_str(),
                record[0].status.as_str()
            ),
            (100, "usd", "canceled")
        );
    }
}
