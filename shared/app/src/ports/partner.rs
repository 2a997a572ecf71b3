//! The partner port (L10): each partner's HMAC key (Secrets Manager in the cloud, config
//! locally) and the webhook that announces a delivery to it. The use cases sign and verify
//! (`crate::partners::signing`); the adapter only holds keys and sends bytes. Webhooks are
//! sent after commit through the outbox (kind `partner`), at least once, each with the
//! order id as its dedupe id.
use async_trait::async_trait;

/// A partner's HMAC key. Never printed: `Debug` redacts it.
#[derive(Clone)]
pub struct PartnerKey(Vec<u8>);

impl PartnerKey {
    pub fn new(bytes: impl Into<Vec<u8>>) -> PartnerKey {
        PartnerKey(bytes.into())
    }

    /// The key's bytes, for the HMAC only.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for PartnerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PartnerKey([redacted])")
    }
}

/// A signed webhook call, ready to send.
#[derive(Debug, Clone)]
pub struct Webhook {
    pub url: String,
    /// `X-Partner-Id`, `X-Timestamp`, `X-Nonce`, `X-Signature` (as partners sign theirs).
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

#[async_trait]
pub trait Partner: Send + Sync {
    /// The HMAC key of `partner_id`; `None` when no key is configured for it (its requests
    /// are refused). An error: the key store could not be read (the request fails, 503).
    async fn key(&self, partner_id: &str) -> anyhow::Result<Option<PartnerKey>>;

    /// Sends one webhook. Ok: the partner answered 2xx; an error is retried by the outbox.
    async fn send(&self, webhook: &Webhook) -> anyhow::Result<()>;
}
