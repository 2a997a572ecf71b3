//! The local runner's partner: keys from `MARKET_PARTNER_KEYS`, and every webhook recorded
//! in the store (partition [`WEBHOOK_LOG`], time-ordered) rather than sent, for
//! `GET /dev/partner/webhooks` and the tests, which check the signature as a partner would.
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::keys::PartnerKeys;
use market_app::ports::clock::Clock;
use market_app::ports::partner::{Partner, PartnerKey, Webhook};
use market_app::store::{Expect, Item, Query, Store, Write};

/// Where the recorded webhooks are kept.
pub const WEBHOOK_LOG: &str = "PARTNERHOOK#log";

/// One recorded webhook.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordedWebhook {
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// The body as sent (UTF-8 JSON).
    pub body: String,
}

pub struct StorePartner {
    keys: PartnerKeys,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl StorePartner {
    pub fn new(keys: PartnerKeys, store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> StorePartner {
        StorePartner { keys, store, clock }
    }
}

#[async_trait]
impl Partner for StorePartner {
    async fn key(&self, partner_id: &str) -> anyhow::Result<Option<PartnerKey>> {
        self.keys.key(partner_id).await
    }

    async fn send(&self, webhook: &Webhook) -> anyhow::Result<()> {
        let recorded = RecordedWebhook {
            url: webhook.url.clone(),
            headers: webhook
                .headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), v.clone()))
                .collect(),
            body: String::from_utf8_lossy(&webhook.body).into_owned(),
        };
        let id = ulid::Ulid::from_datetime(self.clock.now().into());
        let item = Item::new(
            WEBHOOK_LOG,
            id.to_string(),
            serde_json::to_string(&recorded)?,
        );
        self.store
            .transact(vec![Write::Put(item, Expect::Absent)])
            .await
            .map_err(|e| anyhow::anyhow!("recording a partner webhook: {e}"))
    }
}

/// Every recorded webhook, oldest first.
pub async fn recorded_webhooks(store: &dyn Store) -> anyhow::Result<Vec<RecordedWebhook>> {
    let mut query = Query::table(WEBHOOK_LOG);
    query.limit = 1000;
    let page = store
        .query(query)
        .await
        .map_err(|e| anyhow::anyhow!("reading the partner webhooks: {e}"))?;
    page.items
        .iter()
        .map(|i| Ok(serde_json::from_str(&i.body)?))
        .collect()
}
