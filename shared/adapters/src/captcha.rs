//! O7: the human check before an order. In the cloud the slider token is verified with the
//! captcha service; locally the sandbox verifier passes exactly the token `pass`.
use async_trait::async_trait;

pub use market_app::ports::captcha::Captcha;

/// `MARKET_CAPTCHA=sandbox`: `pass` passes, anything else fails.
#[derive(Debug, Default)]
pub struct SandboxCaptcha;

#[async_trait]
impl Captcha for SandboxCaptcha {
    async fn verify(&self, token: &str) -> bool {
        token == "pass"
    }
}

/// The cloud's stand-in until the slider service's verifier is built: every token fails
/// (fail closed), so no order can be placed by a program that skipped the check.
#[derive(Debug, Default)]
pub struct ClosedCaptcha;

#[async_trait]
impl Captcha for ClosedCaptcha {
    async fn verify(&self, _token: &str) -> bool {
        false
    }
}
