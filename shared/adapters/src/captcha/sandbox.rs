//! The verifiers with a fixed answer (O7): the sandbox's `pass`, and the closed one.
use async_trait::async_trait;

use market_app::ports::captcha::{Captcha, CaptchaAction, HumanCheck};

/// `MARKET_CAPTCHA=sandbox`: `pass` passes, anything else fails, whatever the action.
#[derive(Debug, Default)]
pub struct SandboxCaptcha;

#[async_trait]
impl Captcha for SandboxCaptcha {
    async fn verify(&self, _action: CaptchaAction, check: &HumanCheck) -> bool {
        check.token == "pass"
    }
}

/// `MARKET_CAPTCHA=closed`: every token fails (fail closed), so no order can be placed and
/// no push accepted — a deployment that must take no trades.
#[derive(Debug, Default)]
pub struct ClosedCaptcha;

#[async_trait]
impl Captcha for ClosedCaptcha {
    async fn verify(&self, _action: CaptchaAction, _check: &HumanCheck) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn o7_the_sandbox_passes_pass_and_nothing_else() {
        for action in [CaptchaAction::Order, CaptchaAction::PushAccept] {
            assert!(
                SandboxCaptcha
                    .verify(action, &HumanCheck::new("pass"))
                    .await
            );
            assert!(
                !SandboxCaptcha
                    .verify(action, &HumanCheck::new("robot"))
                    .await
            );
            assert!(!SandboxCaptcha.verify(action, &HumanCheck::new("")).await);
            assert!(!ClosedCaptcha.verify(action, &HumanCheck::new("pass")).await);
        }
    }
}
