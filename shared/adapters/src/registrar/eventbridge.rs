//! The cloud adapter of the registrar port (P9, P11): EventBridge `PutEvents` on the
//! registrar bus (`REGISTRAR_BUS_NAME`: a name or an ARN, another account's included), source
//! `market.marketplace`, the event's `type` as its detail-type and the whole event, dedupe id
//! included, as its detail. A refused entry is an error: the outbox publishes it again.
use async_trait::async_trait;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use tokio::sync::OnceCell;

use super::{Registrar, RegistrarEvent};

/// Where the marketplace's events for the registrar core come from.
pub const SOURCE: &str = "market.marketplace";

/// EventBridge, the client built on first use.
pub struct EventBridgeRegistrar {
    bus: String,
    client: OnceCell<aws_sdk_eventbridge::Client>,
}

impl EventBridgeRegistrar {
    /// Publishes on `bus`.
    pub fn new(bus: impl Into<String>) -> EventBridgeRegistrar {
        EventBridgeRegistrar {
            bus: bus.into(),
            client: OnceCell::new(),
        }
    }

    /// Publishes on `bus` with `client` (tests).
    pub fn with_client(bus: impl Into<String>, client: aws_sdk_eventbridge::Client) -> Self {
        EventBridgeRegistrar {
            bus: bus.into(),
            client: OnceCell::new_with(Some(client)),
        }
    }

    /// The entry `event` becomes.
    pub fn entry(&self, event: &RegistrarEvent) -> anyhow::Result<PutEventsRequestEntry> {
        Ok(PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(SOURCE)
            .detail_type(event.kind())
            .detail(serde_json::to_string(event)?)
            .build())
    }
}

#[async_trait]
impl Registrar for EventBridgeRegistrar {
    async fn publish(&self, event: &RegistrarEvent) -> anyhow::Result<()> {
        let client = self
            .client
            .get_or_init(|| async {
                aws_sdk_eventbridge::Client::new(crate::config::lambda_sdk().await)
            })
            .await;
        let out = client
            .put_events()
            .entries(self.entry(event)?)
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "PutEvents of {} on {}: {}",
                    event.id,
                    self.bus,
                    aws_sdk_eventbridge::error::DisplayErrorContext(&e)
                )
            })?;
        if out.failed_entry_count() > 0 {
            let why = out
                .entries()
                .iter()
                .filter_map(|e| e.error_message())
                .collect::<Vec<_>>()
                .join("; ");
            anyhow::bail!("EventBridge refused event {}: {why}", event.id);
        }
        tracing::info!(event = %event.id, kind = event.kind(), bus = %self.bus, "registrar event published");
        Ok(())
    }
}
