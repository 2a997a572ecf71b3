//! The cloud's human check (O7): the "siteverify" protocol that Cloudflare Turnstile,
//! hCaptcha and reCAPTCHA share. A check passes only when, in this order:
//!
//! 1. the secret key is in hand (Secrets Manager, read on first use);
//! 2. the token is claimed in the store (`claim`): a token serves one request, even if the
//!    service would say `success` again;
//! 3. the service answers a `POST` of the form `secret`, `response`, `remoteip`,
//!    `idempotency_key` with `success: true`, for the expected action, on one of our
//!    hostnames (`answer::judge`).
//!
//! Everything else fails closed — the service slow (the whole check is bounded by
//! [`CHECK_TIMEOUT`]) or unreachable, an HTTP error, an answer that is not the expected
//! JSON, the secret or the store unavailable — and every refusal is logged with its reason,
//! never with the token or the secret.
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::ExposeSecret;

use super::answer::{judge, Answer, Refusal};
use super::claim::{claim, ClaimError};
use super::secret::SecretSource;
use super::settings::SiteverifyConfig;
use market_app::ports::captcha::{Captcha, CaptchaAction, HumanCheck};
use market_app::ports::clock::Clock;
use market_app::store::Store;

/// The longest a check may take, all of it (secret, claim, service): past it, it fails.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// The longest token sent to the service (Turnstile's are at most 2,048 characters; the
/// others' are shorter than this bound).
const MAX_TOKEN_LEN: usize = 8 * 1024;

/// The largest answer read from the service.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// The siteverify adapter of the captcha port.
pub struct SiteverifyCaptcha {
    verify_url: String,
    hostnames: Vec<String>,
    secret: SecretSource,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    http: reqwest::Client,
}

/// Why a check failed (what is logged).
enum Failure {
    NoToken,
    MalformedToken,
    Secret(anyhow::Error),
    Reused,
    Store(market_app::store::StoreError),
    Timeout,
    /// The transport's error, its causes included (the URL left out).
    Unreachable(String),
    HttpStatus(u16),
    MalformedAnswer,
    Refused(Refusal),
}

impl SiteverifyCaptcha {
    /// The verifier over `config`, claiming tokens in `store` at `clock`'s time. Builds the
    /// HTTP client; makes no network call.
    pub fn new(
        config: SiteverifyConfig,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<SiteverifyCaptcha> {
        let secret = config.secret.clone().source();
        SiteverifyCaptcha::with_secret(config, secret, store, clock)
    }

    /// The same, with the secret from `secret` instead of `config.secret` (a Secrets Manager
    /// client of the caller's, in tests).
    pub fn with_secret(
        config: SiteverifyConfig,
        secret: SecretSource,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<SiteverifyCaptcha> {
        crate::payment::alipay::install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(CHECK_TIMEOUT)
            // A redirect is an answer we do not trust (and a POST must not become a GET).
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(SiteverifyCaptcha {
            verify_url: config.verify_url,
            hostnames: config.hostnames,
            secret,
            store,
            clock,
            http,
        })
    }

    async fn check(&self, action: CaptchaAction, human: &HumanCheck) -> Result<(), Failure> {
        let token = human.token.as_str();
        if token.is_empty() {
            return Err(Failure::NoToken);
        }
        if token.len() > MAX_TOKEN_LEN {
            return Err(Failure::MalformedToken);
        }
        // The secret first: a secret that cannot be read must not spend the caller's token.
        let secret = self.secret.secret().await.map_err(Failure::Secret)?;
        claim(&*self.store, token, self.clock.now())
            .await
            .map_err(|e| match e {
                ClaimError::Reused => Failure::Reused,
                ClaimError::Store(e) => Failure::Store(e),
            })?;
        let mut form = vec![
            ("secret", secret.expose_secret().to_owned()),
            ("response", token.to_owned()),
            ("idempotency_key", idempotency_key()),
        ];
        if let Some(ip) = human.remote_ip {
            form.push(("remoteip", ip.to_string()));
        }
        let response = self
            .http
            .post(&self.verify_url)
            .form(&form)
            .send()
            .await
            .map_err(http_failure)?;
        let status = response.status();
        if !status.is_success() {
            return Err(Failure::HttpStatus(status.as_u16()));
        }
        let body = response.bytes().await.map_err(http_failure)?;
        if body.len() > MAX_ANSWER_BYTES {
            return Err(Failure::MalformedAnswer);
        }
        let answer: Answer = serde_json::from_slice(&body).map_err(|_| Failure::MalformedAnswer)?;
        judge(&answer, action, &self.hostnames).map_err(Failure::Refused)
    }
}

fn http_failure(e: reqwest::Error) -> Failure {
    if e.is_timeout() {
        return Failure::Timeout;
    }
    let e = e.without_url();
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        text = format!("{text}: {c}");
        cause = c.source();
    }
    Failure::Unreachable(text)
}

/// A fresh UUID (version 4) for the service's `idempotency_key`: a retry of this very
/// request could reuse it; another request never does.
fn idempotency_key() -> String {
    let mut b = [0u8; 16];
    if aws_lc_rs::rand::fill(&mut b).is_err() {
        // Without randomness, a key from the clock and a counter is still unique here.
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        b = (ulid::Ulid::new().0 ^ u128::from(n)).to_be_bytes();
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Logs a refusal: structured, with its reason; never the token or the secret.
fn log_refusal(action: CaptchaAction, failure: &Failure) {
    let action = action.as_str();
    let message = "human check refused (O7)";
    match failure {
        Failure::NoToken => tracing::warn!(action, reason = "no token", "{message}"),
        Failure::MalformedToken => tracing::warn!(action, reason = "malformed token", "{message}"),
        Failure::Secret(e) => {
            tracing::error!(
                action,
                reason = "secret unavailable",
                error = format!("{e:#}"),
                "{message}"
            )
        }
        Failure::Reused => tracing::warn!(action, reason = "reused", "{message}"),
        Failure::Store(e) => {
            tracing::error!(action, reason = "store unavailable", error = %e, "{message}")
        }
        Failure::Timeout => tracing::warn!(
            action,
            reason = "timeout",
            timeout_ms = CHECK_TIMEOUT.as_millis() as u64,
            "{message}"
        ),
        Failure::Unreachable(e) => tracing::warn!(
            action,
            reason = "unreachable",
            error = %e,
            "{message}"
        ),
        Failure::HttpStatus(status) => {
            tracing::warn!(action, reason = "http status", status, "{message}")
        }
        Failure::MalformedAnswer => {
            tracing::warn!(action, reason = "malformed answer", "{message}")
        }
        Failure::Refused(refusal) => match refusal {
            Refusal::ErrorCodes(codes) => tracing::warn!(
                action,
                reason = refusal.reason(),
                error_codes = codes.join(","),
                "{message}"
            ),
            Refusal::WrongAction { got } | Refusal::WrongHostname { got } => tracing::warn!(
                action,
                reason = refusal.reason(),
                got = got.as_deref().unwrap_or(""),
                "{message}"
            ),
        },
    }
}

#[async_trait]
impl Captcha for SiteverifyCaptcha {
    async fn verify(&self, action: CaptchaAction, human: &HumanCheck) -> bool {
        let outcome = match tokio::time::timeout(CHECK_TIMEOUT, self.check(action, human)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(Failure::Timeout),
        };
        match outcome {
            Ok(()) => {
                tracing::debug!(action = action.as_str(), "human check passed (O7)");
                true
            }
            Err(failure) => {
                log_refusal(action, &failure);
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_are_fresh_v4_uuids() {
        let (a, b) = (idempotency_key(), idempotency_key());
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4", "{a}");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"), "{a}");
    }
}
