//! The card processor over Stripe's REST API (S3): `GET /v1/payment_methods/{id}` for the
//! card's metadata, `POST /v1/payment_intents` (`capture_method=manual`, `confirm=true`)
//! for the binding's 1.00 USD pre-authorisation and `POST /v1/payment_intents/{id}/cancel`
//! to release it. Bodies are form-encoded as Stripe takes them; every POST carries an
//! `Idempotency-Key`, so a retried call never places two holds; the secret key goes in
//! `Authorization: Bearer` and is never logged (`SecretString`).
//!
//! Settings: `STRIPE_SECRET_ARN` (the cloud: a Secrets Manager secret holding `sk_…`) or
//! `STRIPE_SECRET_KEY` (the local runner, tests), and `STRIPE_API_BASE` (default
//! `https://api.stripe.com`; plain HTTP only to a loopback address, a local fake).
use std::time::Duration;

use async_trait::async_trait;
use secrecy::ExposeSecret;
use serde::Deserialize;

use crate::captcha::secret::{ManagedSecret, SecretSetting, SecretSource};
use market_app::ports::instruments::{
    CardProcessor, InstrumentError, Preauthorization, PREAUTH_AMOUNT_MINOR, PREAUTH_CURRENCY,
};
use market_core::instrument::{CardFacts, Funding};

/// Stripe's API.
pub const STRIPE_API_BASE: &str = "https://api.stripe.com";

/// Every call is bounded: past it, the outcome is unknown (a hold that was placed lapses
/// at Stripe by itself; the idempotency key makes a retry find it).
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// How the adapter reaches Stripe.
#[derive(Clone, Debug)]
pub struct StripeConfig {
    pub api_base: String,
    pub secret: SecretSetting,
}

impl StripeConfig {
    /// Reads `STRIPE_*` through `var`; `None` when no key is configured.
    pub fn from_lookup(var: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Option<Self>> {
        let var = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let secret = match (var("STRIPE_SECRET_ARN"), var("STRIPE_SECRET_KEY")) {
            (None, None) => return Ok(None),
            (Some(arn), None) => SecretSetting::Arn(arn.trim().to_owned()),
            (None, Some(key)) => SecretSetting::Value(key.trim().to_owned().into()),
            (Some(_), Some(_)) => {
                anyhow::bail!("set one of STRIPE_SECRET_ARN and STRIPE_SECRET_KEY, not both")
            }
        };
        let api_base = var("STRIPE_API_BASE")
            .map(|u| u.trim().trim_end_matches('/').to_owned())
            .unwrap_or_else(|| STRIPE_API_BASE.to_owned());
        check_base(&api_base)?;
        Ok(Some(StripeConfig { api_base, secret }))
    }
}

/// The secret key is sent there: HTTPS, or HTTP that never leaves the machine.
fn check_base(url: &str) -> anyhow::Result<()> {
    let parsed =
        reqwest::Url::parse(url).map_err(|e| anyhow::anyhow!("STRIPE_API_BASE={url}: {e}"))?;
    let host = parsed.host_str().unwrap_or_default();
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => anyhow::bail!("STRIPE_API_BASE={url}: the secret key is sent there; use https"),
    }
}

/// The Stripe adapter of the card processor port.
pub struct StripeCards {
    api_base: String,
    secret: SecretSource,
    http: reqwest::Client,
}

impl StripeCards {
    /// The adapter over `config`. Builds the HTTP client; makes no network call.
    pub fn new(config: StripeConfig) -> anyhow::Result<StripeCards> {
        let secret = match config.secret {
            SecretSetting::Arn(arn) => {
                SecretSource::Manager(ManagedSecret::labelled(arn, "Stripe secret key"))
            }
            other => other.source(),
        };
        crate::payment::alipay::install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(CALL_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(StripeCards {
            api_base: config.api_base,
            secret,
            http,
        })
    }

    async fn bearer(&self) -> Result<String, InstrumentError> {
        let key = self.secret.secret().await?;
        Ok(format!("Bearer {}", key.expose_secret()))
    }

    /// Sends a request and reads Stripe's answer: the JSON body on 2xx, its error otherwise.
    async fn call(
        &self,
        request: reqwest::RequestBuilder,
        what: &str,
    ) -> Result<serde_json::Value, InstrumentError> {
        let answer = request
            .header(reqwest::header::AUTHORIZATION, self.bearer().await?)
            .send()
            .await
            .map_err(|e| {
                // Without the URL: it may carry the token.
                anyhow::anyhow!("{what}: Stripe unreachable: {}", e.without_url())
            })?;
        let status = answer.status();
        let body: serde_json::Value = answer
            .json()
            .await
            .map_err(|e| anyhow::anyhow!("{what}: Stripe's answer is not JSON: {e}"))?;
        if status.is_success() {
            return Ok(body);
        }
        let error: StripeError = serde_json::from_value(body["error"].clone()).unwrap_or_default();
        match (status.as_u16(), error.r#type.as_str()) {
            (402, _) | (_, "card_error") => Err(InstrumentError::Declined(error.reason())),
            (404, _) | (_, "invalid_request_error") if error.code == "resource_missing" => {
                Err(InstrumentError::UnknownToken)
            }
            _ => Err(InstrumentError::Unavailable(anyhow::anyhow!(
                "{what}: Stripe answered {status}: {} {}",
                error.r#type,
                error.code
            ))),
        }
    }
}

/// A Stripe error object (what is used of it).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StripeError {
    r#type: String,
    code: String,
    decline_code: String,
}

impl StripeError {
    fn reason(&self) -> String {
        match (self.code.as_str(), self.decline_code.as_str()) {
            ("", "") => "declined".into(),
            (code, "") => code.into(),
            (code, decline) => format!("{code} ({decline})"),
        }
    }
}

/// A PaymentMethod id as Stripe writes them: it goes into a path.
fn valid_token(token: &str) -> bool {
    token.starts_with("pm_")
        && token.len() <= 255
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Reads the card of a PaymentMethod.
fn card_of(body: &serde_json::Value) -> Result<CardFacts, InstrumentError> {
    if body["type"] != "card" {
        return Err(InstrumentError::UnknownToken);
    }
    let card = &body["card"];
    let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
    let malformed = || anyhow::anyhow!("Stripe's PaymentMethod has no complete card");
    let funding = match card["funding"].as_str() {
        Some("credit") => Funding::Credit,
        Some("debit") => Funding::Debit,
        Some("prepaid") => Funding::Prepaid,
        _ => Funding::Unknown,
    };
    Ok(CardFacts {
        brand: text(&card["brand"]).ok_or_else(malformed)?,
        funding,
        fingerprint: text(&card["fingerprint"]).ok_or_else(malformed)?,
        last4: text(&card["last4"]).ok_or_else(malformed)?,
        exp_month: card["exp_month"]
            .as_u64()
            .and_then(|m| u32::try_from(m).ok())
            .ok_or_else(malformed)?,
        exp_year: card["exp_year"]
            .as_i64()
            .and_then(|y| i32::try_from(y).ok())
            .ok_or_else(malformed)?,
        country: text(&card["country"]),
        networks: card["networks"]["available"]
            .as_array()
            .map(|a| a.iter().filter_map(text).collect())
            .unwrap_or_default(),
        // Stripe's PaymentMethod does not tell virtual or gift cards apart: gift cards
        // arrive as `funding: prepaid`, which is refused.
        virtual_card: false,
        gift_card: false,
    })
}

#[async_trait]
impl CardProcessor for StripeCards {
    async fn inspect(&self, token: &str) -> Result<CardFacts, InstrumentError> {
        if !valid_token(token) {
            return Err(InstrumentError::UnknownToken);
        }
        let url = format!("{}/v1/payment_methods/{token}", self.api_base);
        let body = self
            .call(self.http.get(url), "retrieving the PaymentMethod")
            .await?;
        card_of(&body)
    }

    async fn preauthorize(
        &self,
        token: &str,
        idempotency_key: &str,
    ) -> Result<Preauthorization, InstrumentError> {
        if !valid_token(token) {
            return Err(InstrumentError::UnknownToken);
        }
        let amount = PREAUTH_AMOUNT_MINOR.to_string();
        let form = [
            ("amount", amount.as_str()),
            ("currency", PREAUTH_CURRENCY),
            ("payment_method", token),
            ("payment_method_types[]", "card"),
            ("capture_method", "manual"),
            ("confirm", "true"),
            ("description", "Card check on binding (released at once)"),
        ];
        let request = self
            .http
            .post(format!("{}/v1/payment_intents", self.api_base))
            .header("Idempotency-Key", idempotency_key)
            .form(&form);
        let body = self.call(request, "placing the pre-authorisation").await?;
        let id = body["id"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("Stripe's PaymentIntent has no id"))?
            .to_owned();
        let placed = Preauthorization { id };
        match body["status"].as_str() {
            Some("requires_capture") => Ok(placed),
            // Anything else (3-D Secure asked for, processing …) is not a hold we can use:
            // release it and refuse.
            other => {
                let status = other.unwrap_or("unknown").to_owned();
                if let Err(e) = self
                    .cancel(&placed, &format!("{idempotency_key}-abandon"))
                    .await
                {
                    tracing::error!(preauthorization = %placed.id, error = %e, "releasing an unusable pre-authorisation failed");
                }
                Err(InstrumentError::Declined(format!("status {status}")))
            }
        }
    }

    async fn cancel(
        &self,
        preauthorization: &Preauthorization,
        idempotency_key: &str,
    ) -> Result<(), InstrumentError> {
        let request = self
            .http
            .post(format!(
                "{}/v1/payment_intents/{}/cancel",
                self.api_base, preauthorization.id
            ))
            .header("Idempotency-Key", idempotency_key)
            .form(&[("cancellation_reason", "abandoned")]);
        self.call(request, "releasing the pre-authorisation")
            .await
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> anyhow::Result<Option<StripeConfig>> {
        let vars: std::collections::HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        StripeConfig::from_lookup(&|n| vars.get(n).cloned())
    }

    #[test]
    fn s3_stripe_settings() {
        assert!(config(&[]).unwrap().is_none());
        let c = config(&[("STRIPE_SECRET_KEY", "sk_test_x")])
            .unwrap()
            .unwrap();
        assert_eq!(c.api_base, STRIPE_API_BASE);
        assert!(!format!("{c:?}").contains("sk_test_x"));
        assert!(config(&[("STRIPE_SECRET_KEY", "a"), ("STRIPE_SECRET_ARN", "b")]).is_err());
        assert!(config(&[
            ("STRIPE_SECRET_KEY", "a"),
            ("STRIPE_API_BASE", "http://stripe.example")
        ])
        .is_err());
        let local = config(&[
            ("STRIPE_SECRET_KEY", "a"),
            ("STRIPE_API_BASE", "http://127.0.0.1:9/"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(local.api_base, "http://127.0.0.1:9");
    }

    #[test]
    fn s3_tokens_that_could_leave_the_path_are_refused() {
        assert!(valid_token("pm_card_visa"));
        assert!(!valid_token("pm_../../v1/charges"));
        assert!(!valid_token("tok_visa"));
    }
}
