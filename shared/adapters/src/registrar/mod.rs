//! The registrar port's adapters (P9, P11): [`StoreRegistrar`] records the events in the
//! store (the local runner, `GET /dev/registrar/events`), each once by its id;
//! [`EventBridgeRegistrar`] publishes on the registrar bus in the cloud;
//! [`UnwiredRegistrar`] is a function given no bus (`REGISTRAR_BUS_NAME`): it refuses
//! every publish, so the events wait in the outbox (retried with backoff), never lost.
mod eventbridge;
mod store;

pub use eventbridge::EventBridgeRegistrar;
pub use market_app::ports::registrar::{Registrar, RegistrarDetail, RegistrarEvent};
pub use store::StoreRegistrar;

use async_trait::async_trait;

/// No registrar bus configured: every publish fails and stays in the outbox.
pub struct UnwiredRegistrar;

#[async_trait]
impl Registrar for UnwiredRegistrar {
    async fn publish(&self, event: &RegistrarEvent) -> anyhow::Result<()> {
        anyhow::bail!(
            "no registrar bus is configured (REGISTRAR_BUS_NAME); event {} waits in the outbox",
            event.id
        )
    }
}
