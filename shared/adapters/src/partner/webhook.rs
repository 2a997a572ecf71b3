//! Delivery webhooks over HTTPS (reqwest): a POST of the signed JSON body; any 2xx is
//! taken, anything else (or no answer within 10 s) is retried by the outbox.
use std::time::Duration;

use async_trait::async_trait;

use super::keys::PartnerKeys;
use market_app::ports::partner::{Partner, PartnerKey, Webhook};

const CALL_TIMEOUT: Duration = Duration::from_secs(10);

pub struct HttpPartner {
    keys: PartnerKeys,
    http: reqwest::Client,
}

impl HttpPartner {
    pub fn new(keys: PartnerKeys) -> anyhow::Result<HttpPartner> {
        // Without it reqwest panics at build ("No provider set"): the list function's start.
        crate::payment::alipay::install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(CALL_TIMEOUT)
            // A redirect could carry the signed body elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(HttpPartner { keys, http })
    }
}

#[async_trait]
impl Partner for HttpPartner {
    async fn key(&self, partner_id: &str) -> anyhow::Result<Option<PartnerKey>> {
        self.keys.key(partner_id).await
    }

    async fn send(&self, webhook: &Webhook) -> anyhow::Result<()> {
        let mut request = self
            .http
            .post(&webhook.url)
            .header("Content-Type", "application/json")
            .body(webhook.body.clone());
        for (name, value) in &webhook.headers {
            request = request.header(*name, value);
        }
        let answer = request.send().await.map_err(|e| {
            // Not the URL's query or anything signed: the host is enough to act on.
            anyhow::anyhow!("partner webhook unreachable: {}", e.without_url())
        })?;
        let status = answer.status();
        if !status.is_success() {
            anyhow::bail!("partner webhook answered {status}");
        }
        Ok(())
    }
}
