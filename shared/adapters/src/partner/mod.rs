//! The partner port's adapters (L10): [`keys`] holds the partners' HMAC keys (a Secrets
//! Manager secret in the cloud, `MARKET_PARTNER_KEYS` locally); [`HttpPartner`] sends the
//! delivery webhooks with reqwest; [`StorePartner`] records them in the store instead (the
//! local runner and the tests: `GET /dev/partner/webhooks`).
pub mod keys;
mod local;
mod webhook;

pub use keys::PartnerKeys;
pub use local::{recorded_webhooks, RecordedWebhook, StorePartner, WEBHOOK_LOG};
pub use market_app::ports::partner::{Partner, PartnerKey, Webhook};
pub use webhook::HttpPartner;
