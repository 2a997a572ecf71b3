//! The captcha port (O7): the human check before an order or a push acceptance.
use async_trait::async_trait;

/// The captcha port.
#[async_trait]
pub trait Captcha: Send + Sync {
    /// Whether the token proves a human passed the check.
    async fn verify(&self, token: &str) -> bool;
}
